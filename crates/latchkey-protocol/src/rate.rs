//! Rate limits as arithmetic: the generic cell rate algorithm (GCRA), which keeps a limit of
//! `count` events per `period` as one number per key, its theoretical arrival time (TAT).
//!
//! One number is what lets a caller hold a limit in a single atomic and update it with one
//! compare-exchange, and it can be read without being consumed: the failed-login throttle must
//! refuse a request before authenticating it, yet count only the ones that then fail. Times are
//! ticks of any clock that does not go back, in a unit the caller chooses: a limit is exact
//! while its period holds at least one tick per event (milliseconds for a few events a minute,
//! microseconds for thousands a second).

/// A limit of `count` events per `period`, allowing all `count` at once (a full bucket).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// The time one event uses up.
    interval: u64,
    /// The period: how far ahead of now the TAT may run.
    window: u64,
}

impl Rate {
    /// A limit that allows nothing, for a caller that must hold a `Rate` whatever it is given.
    pub const NEVER: Rate = Rate {
        interval: u64::MAX,
        window: 0,
    };

    /// `count` events per `period` ticks; `None` for a count or period of zero (no limit).
    pub fn per(count: u32, period: u64) -> Option<Rate> {
        if count == 0 || period == 0 {
            return None;
        }
        // At least a tick per event, so that a count beyond the ticks still limits something.
        let interval = (period / u64::from(count)).max(1);
        Some(Rate {
            interval,
            window: interval.saturating_mul(u64::from(count)),
        })
    }

    /// The time before which a key with theoretical arrival time `tat` refuses one more event.
    pub fn refused_until(&self, tat: u64) -> u64 {
        tat.saturating_add(self.interval)
            .saturating_sub(self.window)
    }

    /// Whether one more event at `now` fits: `Ok(the new TAT)` or `Err(ticks until it would)`.
    pub fn take(&self, tat: u64, now: u64) -> Result<u64, u64> {
        let until = self.refused_until(tat);
        if now < until {
            Err(until - now)
        } else {
            Ok(self.after_one(tat, now))
        }
    }

    /// The TAT after one more event at `now`, whether or not it fitted: how failures are counted
    /// once they have happened.
    pub fn after_one(&self, tat: u64, now: u64) -> u64 {
        tat.max(now).saturating_add(self.interval)
    }

    /// The period, in ticks.
    pub fn window(&self) -> u64 {
        self.window
    }
}

/// Whole seconds a `Retry-After` header gives for a wait of `ticks`, `ticks_per_second` to a
/// second: rounded up, at least 1.
pub fn retry_after_seconds(ticks: u64, ticks_per_second: u64) -> u32 {
    let seconds = ticks.div_ceil(ticks_per_second.max(1)).max(1);
    u32::try_from(seconds).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: u64 = 60_000;

    /// Takes events at `now` until one is refused; returns how many fitted and the wait.
    fn burst(rate: Rate, tat: &mut u64, now: u64) -> (u32, u64) {
        let mut taken = 0;
        loop {
            match rate.take(*tat, now) {
                Ok(next) => {
                    *tat = next;
                    taken += 1;
                }
                Err(wait) => return (taken, wait),
            }
        }
    }

    #[test]
    fn a_full_bucket_allows_count_events_at_once_then_one_per_interval() {
        let rate = Rate::per(10, MINUTE).unwrap();
        let mut tat = 0;
        assert_eq!(burst(rate, &mut tat, 1_000), (10, 6_000));
        // Six seconds later one more fits, and no second one.
        assert_eq!(burst(rate, &mut tat, 7_000), (1, 6_000));
        // A quiet period refills the bucket, never beyond `count`.
        assert_eq!(burst(rate, &mut tat, 10 * MINUTE), (10, 6_000));
    }

    #[test]
    fn reading_a_limit_does_not_consume_it() {
        let rate = Rate::per(2, 1_000).unwrap();
        let tat = rate.after_one(0, 0);
        for _ in 0..5 {
            assert_eq!(rate.refused_until(tat), 0, "one more still fits");
        }
        let tat = rate.after_one(tat, 0);
        assert_eq!(rate.refused_until(tat), 500);
    }

    #[test]
    fn failures_are_counted_even_past_the_limit() {
        let rate = Rate::per(1, 1_000).unwrap();
        let tat = rate.after_one(rate.after_one(0, 0), 0);
        assert_eq!(rate.take(tat, 0), Err(2_000));
    }

    #[test]
    fn zero_is_no_limit_and_huge_counts_still_limit() {
        assert_eq!(Rate::per(0, MINUTE), None);
        assert_eq!(Rate::per(5, 0), None);
        let rate = Rate::per(u32::MAX, 1_000).unwrap();
        assert_eq!(rate.take(0, 0), Ok(1));
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_seconds(0, 1_000), 1);
        assert_eq!(retry_after_seconds(1, 1_000), 1);
        assert_eq!(retry_after_seconds(1_000, 1_000), 1);
        assert_eq!(retry_after_seconds(1_001, 1_000), 2);
        assert_eq!(retry_after_seconds(2_000_001, 1_000_000), 3);
        assert_eq!(retry_after_seconds(u64::MAX, 1), u32::MAX);
    }
}
