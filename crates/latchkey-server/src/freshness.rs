//! How fresh this node's snapshot is: when it last read the store, and whether its last try
//! reached it. The token path reads one atomic here (never the database): a node keeps issuing
//! tokens from memory while the database is away, up to `max_staleness` after it last heard
//! from it, and refuses past that rather than serve what may have been revoked or disabled
//! elsewhere meanwhile.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

/// The default `--max-staleness`: ten minutes.
pub const DEFAULT_MAX_STALENESS: Duration = Duration::from_secs(600);

/// A node's contact with its store.
#[derive(Debug)]
pub struct Freshness {
    /// Unix seconds of the last successful read of the change log or a full load.
    last_contact: AtomicI64,
    /// Whether the last attempt to read the store succeeded.
    reachable: AtomicBool,
    /// Longest time to serve tokens without contact; `None`: never refuse.
    max_staleness: Option<i64>,
}

/// What `/readyz` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    /// The store answered at the last poll.
    Ready,
    /// Serving from memory: the store did not answer at the last poll; `age` seconds since it last did.
    Degraded {
        /// Seconds since the last contact.
        age: i64,
    },
    /// Past the maximum staleness: tokens are refused.
    Stale {
        /// Seconds since the last contact.
        age: i64,
    },
}

impl Freshness {
    /// In contact as of `now`. `max_staleness` zero means never refuse.
    pub fn new(now: i64, max_staleness: Duration) -> Freshness {
        Freshness {
            last_contact: AtomicI64::new(now),
            reachable: AtomicBool::new(true),
            max_staleness: (!max_staleness.is_zero())
                .then(|| i64::try_from(max_staleness.as_secs()).unwrap_or(i64::MAX)),
        }
    }

    /// The store answered at `now`.
    pub fn contact(&self, now: i64) {
        self.last_contact.fetch_max(now, Ordering::Relaxed);
        self.reachable.store(true, Ordering::Relaxed);
    }

    /// The store did not answer.
    pub fn lost(&self) {
        self.reachable.store(false, Ordering::Relaxed);
    }

    /// Seconds since the last contact.
    pub fn age(&self, now: i64) -> i64 {
        (now - self.last_contact.load(Ordering::Relaxed)).max(0)
    }

    /// Whether tokens may be issued at `now`: one atomic load on the token path.
    pub fn serves_tokens(&self, now: i64) -> bool {
        self.max_staleness
            .is_none_or(|max| now - self.last_contact.load(Ordering::Relaxed) <= max)
    }

    /// Where the node stands at `now`.
    pub fn readiness(&self, now: i64) -> Readiness {
        let age = self.age(now);
        if !self.serves_tokens(now) {
            Readiness::Stale { age }
        } else if self.reachable.load(Ordering::Relaxed) {
            Readiness::Ready
        } else {
            Readiness::Degraded { age }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_that_lost_its_store_degrades_then_refuses_past_the_limit() {
        let freshness = Freshness::new(100, Duration::from_secs(60));
        assert_eq!(freshness.readiness(130), Readiness::Ready);
        freshness.lost();
        assert_eq!(freshness.readiness(130), Readiness::Degraded { age: 30 });
        assert!(freshness.serves_tokens(160));
        assert!(!freshness.serves_tokens(161));
        assert_eq!(freshness.readiness(161), Readiness::Stale { age: 61 });
        freshness.contact(170);
        assert_eq!(freshness.readiness(171), Readiness::Ready);
        assert!(freshness.serves_tokens(171));
    }

    #[test]
    fn a_zero_limit_never_refuses_and_contact_never_goes_back_in_time() {
        let freshness = Freshness::new(100, Duration::ZERO);
        freshness.lost();
        assert!(freshness.serves_tokens(1_000_000));
        assert_eq!(freshness.readiness(1_000), Readiness::Degraded { age: 900 });
        freshness.contact(50);
        assert_eq!(freshness.age(100), 0);
    }
}
