//! Time as a dependency: the server and the CLI read the current time only through a `Clock`,
//! so tests can control it; the management functions take `now` as a parameter.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A source of the current time in unix seconds.
pub trait Clock: Send + Sync + 'static {
    /// Seconds since the unix epoch.
    fn now(&self) -> i64;

    /// Microseconds on a monotonic clock of this process (its origin is arbitrary): what rate
    /// limits measure with, so a wall clock step does not refill or drain a quota.
    fn monotonic_micros(&self) -> u64;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        // A clock before 1970 is a broken host; count it as the epoch rather than fail requests.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }

    fn monotonic_micros(&self) -> u64 {
        static ORIGIN: OnceLock<Instant> = OnceLock::new();
        // Reading the clock's origin the first time gives 0; later readings count from it.
        let elapsed = ORIGIN.get_or_init(Instant::now).elapsed();
        u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX)
    }
}

/// A clock that moves only when told to: for tests of expiry, rotation and purging that must
/// not wait for real time to pass.
#[derive(Debug, Default)]
pub struct ManualClock {
    now: AtomicI64,
}

impl ManualClock {
    /// A clock reading `now`.
    pub fn new(now: i64) -> ManualClock {
        ManualClock {
            now: AtomicI64::new(now),
        }
    }

    /// Moves the clock forward by `seconds`.
    pub fn advance(&self, seconds: i64) {
        self.now.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }

    /// Moves with `now`, in whole seconds.
    fn monotonic_micros(&self) -> u64 {
        u64::try_from(self.now()).unwrap_or(0) * 1_000_000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_monotonic_reading_never_goes_back() {
        let clock = SystemClock;
        let first = clock.monotonic_micros();
        assert!(clock.monotonic_micros() >= first);
    }

    #[test]
    fn a_manual_clock_reads_its_seconds_in_microseconds() {
        let clock = ManualClock::new(10);
        clock.advance(5);
        assert_eq!(clock.monotonic_micros(), 15_000_000);
    }
}
