//! The replay cache of client assertions: each `jti` an app used, until its assertion could
//! no longer be accepted anyway. Per node: an assertion replayed against another node of a
//! cluster within its lifetime is accepted there once (README, "Apps without secrets"); a
//! shared cache would put a database write on every login, which is what latchkey avoids.

use latchkey_protocol::assertion::Replay;
use papaya::{Compute, Operation};
use std::sync::atomic::{AtomicU64, Ordering};

/// Most assertions remembered at once. Only assertions whose signature verified reach the
/// cache, so this bounds what the apps themselves send: a million logins an hour per node.
const MAX_ENTRIES: usize = 1_000_000;
/// A sweep of expired entries runs every this many insertions.
const SWEEP_EVERY: u64 = 4096;

/// The `jti`s seen, each until when it could still be presented (unix seconds).
#[derive(Default)]
pub(crate) struct ReplayCache {
    seen: papaya::HashMap<Box<str>, i64, foldhash::fast::RandomState>,
    inserted: AtomicU64,
}

impl ReplayCache {
    /// Records the first use of an assertion of `client_id` in `tenant`; false when it was
    /// used before (or when the cache is full, failing closed).
    pub(crate) fn first_use(
        &self,
        tenant: &str,
        client_id: &str,
        replay: &Replay,
        now: i64,
    ) -> bool {
        if self.inserted.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1
            || self.seen.len() >= MAX_ENTRIES
        {
            self.sweep(now);
        }
        if self.seen.len() >= MAX_ENTRIES {
            tracing::warn!(
                entries = MAX_ENTRIES,
                "the client assertion replay cache is full: assertions are refused until entries expire"
            );
            return false;
        }
        // Tenant and client id bound the jti, so two apps' ids never collide; neither holds a
        // newline (client ids are checked; tenant names are words).
        let key: Box<str> = format!("{tenant}\n{client_id}\n{}", replay.jti).into();
        let seen = self.seen.pin();
        let outcome = seen.compute(key, |existing| match existing {
            // A jti may come back once its first assertion could no longer be accepted.
            Some((_, until)) if *until >= now => Operation::Abort(()),
            _ => Operation::Insert(replay.until),
        });
        !matches!(outcome, Compute::Aborted(()))
    }

    fn sweep(&self, now: i64) {
        self.seen.pin().retain(|_, until| *until >= now);
    }

    /// How many assertions are remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.seen.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replay(jti: &str, until: i64) -> Replay {
        Replay {
            jti: jti.into(),
            until,
        }
    }

    #[test]
    fn a_jti_is_accepted_once_per_app_until_its_assertion_expires() {
        let cache = ReplayCache::default();
        assert!(cache.first_use("t", "app", &replay("j1", 200), 100));
        assert!(!cache.first_use("t", "app", &replay("j1", 200), 150));
        assert!(cache.first_use("t", "other", &replay("j1", 200), 150));
        assert!(cache.first_use("u", "app", &replay("j1", 200), 150));
        assert!(cache.first_use("t", "app", &replay("j1", 400), 201));
    }

    #[test]
    fn expired_entries_are_swept() {
        let cache = ReplayCache::default();
        for n in 0..SWEEP_EVERY {
            assert!(cache.first_use("t", "app", &replay(&n.to_string(), 10), 0));
        }
        assert!(cache.len() <= SWEEP_EVERY as usize);
        assert!(cache.first_use("t", "app", &replay("late", 100), 50));
        assert!(cache.first_use("t", "app", &replay("later", 100), 50));
        // The sweep at the 4096th insertion ran at time 0 and kept everything; run one at 50.
        cache.sweep(50);
        assert_eq!(cache.len(), 2);
    }
}
