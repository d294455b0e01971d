//! An app's token quota (`--rate-limit N/PERIOD`) and the rule that enforces it: a GCRA
//! ("generic cell rate algorithm", the theoretical arrival time), whose whole state is one
//! number per app, so the server can keep it in one atomic and update it with one
//! compare-exchange. Time comes in as a parameter, in microseconds of any monotonic clock.

use crate::rate::{Rate, retry_after_seconds};
use std::fmt;
use std::str::FromStr;

/// The period a rate limit counts over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    /// One second (`s`).
    Second,
    /// One minute (`min`).
    Minute,
    /// One hour (`h`).
    Hour,
    /// One day (`d`).
    Day,
}

impl Period {
    /// Every period, shortest first.
    pub const ALL: [Period; 4] = [Period::Second, Period::Minute, Period::Hour, Period::Day];

    /// Its unit as written in `N/PERIOD`.
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Second => "s",
            Period::Minute => "min",
            Period::Hour => "h",
            Period::Day => "d",
        }
    }

    /// Its length in seconds.
    pub fn seconds(self) -> u64 {
        match self {
            Period::Second => 1,
            Period::Minute => 60,
            Period::Hour => 3_600,
            Period::Day => 86_400,
        }
    }
}

/// Most tokens a rate limit may allow per period: with a one-second period, one token per
/// microsecond, the resolution of the rule.
pub const MAX_RATE_COUNT: u32 = 1_000_000;

/// A token quota: at most `count` newly signed tokens per `period`, per node, with bursts of up
/// to `count` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateLimit {
    count: u32,
    period: Period,
}

/// A rate limit that is not `N/PERIOD`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "rate limit {0:?} is invalid: use N/PERIOD, N a whole number from 1 to {MAX_RATE_COUNT} and PERIOD one of s, min, h, d (such as 600/min)"
)]
pub struct BadRateLimit(pub String);

const MICROS: u64 = 1_000_000;

impl RateLimit {
    /// A limit of `count` per `period`; `None` outside 1..=`MAX_RATE_COUNT`.
    pub fn new(count: u32, period: Period) -> Option<RateLimit> {
        (1..=MAX_RATE_COUNT)
            .contains(&count)
            .then_some(RateLimit { count, period })
    }

    /// Tokens allowed per period.
    pub fn count(self) -> u32 {
        self.count
    }

    /// The period.
    pub fn period(self) -> Period {
        self.period
    }

    /// The rule it is: `count` tokens per period, in microseconds.
    fn rate(self) -> Rate {
        // `count` is at least 1 and the period at least a second: never "no limit".
        Rate::per(self.count, self.period.seconds() * MICROS).unwrap_or(Rate::NEVER)
    }

    /// The GCRA step. `tat` is the theoretical arrival time the last admitted token left (0 at
    /// first), `now` the current time, both in microseconds. `Ok` with the new `tat` when one
    /// more token is within the limit; `Err` with the whole seconds (at least 1) until one
    /// would be, leaving `tat` as it was.
    pub fn admit(self, tat: u64, now: u64) -> Result<u64, u32> {
        self.rate()
            .take(tat, now)
            .map_err(|wait| retry_after_seconds(wait, MICROS))
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.count, self.period.as_str())
    }
}

impl FromStr for RateLimit {
    type Err = BadRateLimit;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || BadRateLimit(text.to_owned());
        let (count, unit) = text.split_once('/').ok_or_else(bad)?;
        // Digits only: `u32::from_str` also takes a leading `+`.
        if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let count: u32 = count.parse().map_err(|_| bad())?;
        let period = Period::ALL
            .into_iter()
            .find(|period| period.as_str() == unit)
            .ok_or_else(bad)?;
        RateLimit::new(count, period).ok_or_else(bad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: u64 = MICROS;

    fn limit(text: &str) -> RateLimit {
        text.parse().unwrap()
    }

    #[test]
    fn limits_parse_and_print_as_n_per_period() {
        for text in ["600/min", "1/s", "10/h", "1000000/d", "3/min"] {
            assert_eq!(limit(text).to_string(), text);
        }
        assert_eq!(limit("600/min").count(), 600);
        assert_eq!(limit("600/min").period(), Period::Minute);
    }

    #[test]
    fn anything_but_n_per_known_period_is_refused() {
        for bad in [
            "0/min",
            "10/week",
            "abc",
            "",
            "/min",
            "10/",
            "10",
            "-1/s",
            "+5/s",
            "1.5/s",
            "5 /s",
            "5/S",
            "1000001/s",
            "99999999999/s",
        ] {
            assert_eq!(
                bad.parse::<RateLimit>(),
                Err(BadRateLimit(bad.into())),
                "{bad}"
            );
        }
        assert!(BadRateLimit("x".into()).to_string().contains("N/PERIOD"));
    }

    #[test]
    fn a_burst_of_count_is_admitted_then_the_next_waits_one_interval() {
        let three = limit("3/min");
        let now = 1_000 * SECOND;
        let mut tat = 0;
        for _ in 0..3 {
            tat = three.admit(tat, now).unwrap();
        }
        assert_eq!(three.admit(tat, now), Err(20));
        // Half way through the interval: still 10 s to wait, and the refusal leaves `tat`.
        assert_eq!(three.admit(tat, now + 10 * SECOND), Err(10));
        assert!(three.admit(tat, now + 20 * SECOND).is_ok());
    }

    #[test]
    fn the_wait_rounds_up_to_whole_seconds_and_is_at_least_one() {
        let fast = limit("2/s");
        let mut tat = 0;
        tat = fast.admit(tat, SECOND).unwrap();
        tat = fast.admit(tat, SECOND).unwrap();
        assert_eq!(fast.admit(tat, SECOND), Err(1));
        assert_eq!(fast.admit(tat, SECOND + SECOND / 2 - 1), Err(1));
        assert!(fast.admit(tat, SECOND + SECOND / 2).is_ok());
    }

    #[test]
    fn a_steady_rate_at_the_limit_is_always_admitted() {
        let per_second = limit("10/s");
        let mut tat = 0;
        for step in 0..1_000 {
            tat = per_second
                .admit(tat, 5 * SECOND + step * SECOND / 10)
                .unwrap();
        }
    }

    #[test]
    fn an_idle_app_gets_its_whole_burst_back_and_no_more() {
        let five = limit("5/h");
        let mut tat = 0;
        for _ in 0..5 {
            tat = five.admit(tat, SECOND).unwrap();
        }
        let later = SECOND + 10 * 3_600 * SECOND;
        for _ in 0..5 {
            tat = five.admit(tat, later).unwrap();
        }
        assert_eq!(five.admit(tat, later), Err(720));
    }
}
