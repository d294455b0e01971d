//! How fresh this node's snapshot is: when it last read the store, and whether its last try
//! reached it. The token path reads one atomic here (never the database): a node keeps issuing
//! tokens from memory while the database is away, up to `max_staleness` after it last heard
//! from it, and refuses past that rather than serve what may have been revoked or disabled
//! elsewhere meanwhile.
//!
//! Times are monotonic (since the node started), not the wall clock the tokens carry: a wall
//! clock stepped forward must not make a node refuse tokens, nor one stepped back make it
//! trust old data.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The default `--max-staleness`: ten minutes.
pub const DEFAULT_MAX_STALENESS: Duration = Duration::from_secs(600);

/// A node's contact with its store.
#[derive(Debug)]
pub struct Freshness {
    /// What the other times count from.
    started: Instant,
    /// Milliseconds after `started` of the last successful read of the change log or a load.
    last_contact_ms: AtomicU64,
    /// Whether the last attempt to read the store succeeded.
    reachable: AtomicBool,
    /// Longest time to serve tokens without contact, in milliseconds; `None`: never refuse.
    max_staleness_ms: Option<u64>,
}

/// What `/readyz` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    /// The store answered at the last poll.
    Ready,
    /// Serving from memory: the store did not answer at the last poll.
    Degraded {
        /// Whole seconds since the store last answered.
        age: u64,
    },
    /// Past the maximum staleness: tokens are refused.
    Stale {
        /// Whole seconds since the store last answered.
        age: u64,
    },
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl Freshness {
    /// In contact from now on. A zero `max_staleness` means never refuse.
    pub fn new(max_staleness: Duration) -> Freshness {
        Freshness {
            started: Instant::now(),
            last_contact_ms: AtomicU64::new(0),
            reachable: AtomicBool::new(true),
            max_staleness_ms: (!max_staleness.is_zero()).then(|| millis(max_staleness)),
        }
    }

    /// The store answered just now.
    pub fn contact(&self) {
        self.contact_at(self.started.elapsed());
    }

    /// The store did not answer.
    pub fn lost(&self) {
        self.reachable.store(false, Ordering::Relaxed);
    }

    /// Whether tokens may be issued now: one atomic load on the token path.
    pub fn serves_tokens(&self) -> bool {
        self.serves_tokens_at(self.started.elapsed())
    }

    /// How long since the store last answered (the age of what the snapshot knows).
    pub fn age(&self) -> Duration {
        Duration::from_millis(self.age_ms(self.started.elapsed()))
    }

    /// Whether the last attempt to read the store reached it.
    pub fn reachable(&self) -> bool {
        self.reachable.load(Ordering::Relaxed)
    }

    /// Where the node stands now.
    pub fn readiness(&self) -> Readiness {
        self.readiness_at(self.started.elapsed())
    }

    fn contact_at(&self, since_start: Duration) {
        self.last_contact_ms
            .fetch_max(millis(since_start), Ordering::Relaxed);
        self.reachable.store(true, Ordering::Relaxed);
    }

    fn age_ms(&self, since_start: Duration) -> u64 {
        millis(since_start).saturating_sub(self.last_contact_ms.load(Ordering::Relaxed))
    }

    fn serves_tokens_at(&self, since_start: Duration) -> bool {
        self.max_staleness_ms
            .is_none_or(|max| self.age_ms(since_start) <= max)
    }

    fn readiness_at(&self, since_start: Duration) -> Readiness {
        let age = self.age_ms(since_start) / 1000;
        if !self.serves_tokens_at(since_start) {
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

    fn at(seconds: u64) -> Duration {
        Duration::from_secs(seconds)
    }

    #[test]
    fn a_node_that_lost_its_store_degrades_then_refuses_past_the_limit() {
        let freshness = Freshness::new(Duration::from_secs(60));
        freshness.contact_at(at(100));
        assert_eq!(freshness.readiness_at(at(130)), Readiness::Ready);
        freshness.lost();
        assert_eq!(
            freshness.readiness_at(at(130)),
            Readiness::Degraded { age: 30 }
        );
        assert!(freshness.serves_tokens_at(at(160)));
        assert!(!freshness.serves_tokens_at(at(161)));
        assert_eq!(
            freshness.readiness_at(at(161)),
            Readiness::Stale { age: 61 }
        );
        freshness.contact_at(at(170));
        assert_eq!(freshness.readiness_at(at(171)), Readiness::Ready);
        assert!(freshness.serves_tokens_at(at(171)));
    }

    #[test]
    fn a_zero_limit_never_refuses_and_contact_never_goes_back_in_time() {
        let freshness = Freshness::new(Duration::ZERO);
        freshness.contact_at(at(100));
        freshness.lost();
        assert!(freshness.serves_tokens_at(at(1_000_000)));
        assert_eq!(
            freshness.readiness_at(at(1_000)),
            Readiness::Degraded { age: 900 }
        );
        freshness.contact_at(at(50));
        assert_eq!(freshness.age_ms(at(100)), 0);
    }
}
