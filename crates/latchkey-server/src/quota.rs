//! `Quota`: an app's token rate limit as this node counts it, held by the app's snapshot entry
//! and handed on to the entry that replaces it (`registry::Snapshot::add_client`), so that an
//! app change or a reload does not refill it. The rule is `RateLimit::admit` (pure, in the
//! protocol crate); here is only its state, one atomic updated by compare-exchange: no lock and
//! no allocation on the token path. Each node counts alone, so with N nodes an app may get up
//! to N times its limit.

use latchkey_protocol::{Client, Limit, RateLimit, TokenError};
use std::sync::atomic::{AtomicU64, Ordering};

/// One app's token quota on this node.
#[derive(Debug)]
pub struct Quota {
    limit: RateLimit,
    /// The GCRA's theoretical arrival time, in the clock's monotonic microseconds.
    tat: AtomicU64,
    /// In monitor mode: the period (counted from the clock's origin, plus one) of the last
    /// log line, so that an app over its limit logs once per period, not once per request.
    logged_period: AtomicU64,
    /// In monitor mode: requests the limit would have refused since the last log line.
    would_refuse: AtomicU64,
}

impl Quota {
    /// A full quota for `limit`.
    pub fn new(limit: RateLimit) -> Quota {
        Quota {
            limit,
            tat: AtomicU64::new(0),
            logged_period: AtomicU64::new(0),
            would_refuse: AtomicU64::new(0),
        }
    }

    /// The limit it counts.
    pub fn limit(&self) -> RateLimit {
        self.limit
    }

    /// Takes one token at `now` (monotonic microseconds), or answers the whole seconds until
    /// one may be taken. A refusal takes nothing.
    pub fn take(&self, now: u64) -> Result<(), u32> {
        let mut tat = self.tat.load(Ordering::Relaxed);
        loop {
            let next = self.limit.admit(tat, now)?;
            // Relaxed: the quota orders nothing else, and a lost race only retries.
            match self
                .tat
                .compare_exchange_weak(tat, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return Ok(()),
                Err(actual) => tat = actual,
            }
        }
    }

    /// Whether `client` may have one more newly signed token at `now`: 429 past its limit,
    /// unless it is in monitor mode, where a request over the limit is counted and logged
    /// (once per period) and served.
    pub(crate) fn admit(&self, client: &Client, now: u64) -> Result<(), TokenError> {
        let Err(retry_after) = self.take(now) else {
            return Ok(());
        };
        if !client.rate_limit_monitor {
            return Err(TokenError::TooManyRequests {
                retry_after,
                limit: Limit::AppRateLimit,
            });
        }
        if let Some(would_refuse) = self.count_would_refuse(now) {
            tracing::warn!(
                client_id = %client.client_id,
                rate_limit = %self.limit,
                would_refuse,
                "the app is over its token rate limit; monitor mode refused none of these requests"
            );
        }
        Ok(())
    }

    /// Counts a request the limit would have refused, in monitor mode. Returns how many were
    /// counted since the last time it returned `Some`, when this is the first such request of
    /// its period: the caller logs then, and only then.
    pub fn count_would_refuse(&self, now: u64) -> Option<u64> {
        self.would_refuse.fetch_add(1, Ordering::Relaxed);
        let period = now / (self.limit.period().seconds() * 1_000_000) + 1;
        let logged = self.logged_period.load(Ordering::Relaxed);
        (logged < period
            && self
                .logged_period
                .compare_exchange(logged, period, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok())
        .then(|| self.would_refuse.swap(0, Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::Quota;

    const SECOND: u64 = 1_000_000;

    #[test]
    fn the_quota_admits_its_burst_then_refuses_with_the_wait() {
        let quota = Quota::new("3/min".parse().unwrap());
        let now = 100 * SECOND;
        for _ in 0..3 {
            assert_eq!(quota.take(now), Ok(()));
        }
        assert_eq!(quota.take(now), Err(20));
        assert_eq!(quota.take(now + 20 * SECOND), Ok(()));
    }

    #[test]
    fn threads_together_get_exactly_the_burst() {
        let quota = Quota::new("100/h".parse().unwrap());
        let admitted: usize = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| (0..50).filter(|_| quota.take(SECOND).is_ok()).count()))
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).sum()
        });
        assert_eq!(admitted, 100);
    }

    #[test]
    fn monitor_mode_logs_once_per_period_with_the_count_since_the_last_log() {
        let quota = Quota::new("1/min".parse().unwrap());
        let now = 600 * SECOND;
        assert_eq!(quota.count_would_refuse(now), Some(1));
        assert_eq!(quota.count_would_refuse(now + SECOND), None);
        assert_eq!(quota.count_would_refuse(now + 2 * SECOND), None);
        assert_eq!(quota.count_would_refuse(now + 60 * SECOND), Some(3));
    }
}
