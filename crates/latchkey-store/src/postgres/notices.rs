//! Wakes the followers of the change log when another writer commits: the change log's trigger
//! function sends a `NOTIFY` (delivered at commit), and one listening connection per store turns
//! each into a tick of a counter. The change log stays the truth: a follower that wakes reads it,
//! and one that misses a notice (a dropped connection) still polls.

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// The channel the migration's `latchkey_append_change` notifies.
const CHANNEL: &str = "latchkey_changes";

/// The longest wait between two attempts to listen again.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The notices of one store: started by the first follower that asks.
#[derive(Debug, Default)]
pub(super) struct Notices {
    ticks: std::sync::Mutex<Option<watch::Receiver<u64>>>,
    /// Told when an operation found the database unreachable: a listening connection that a
    /// black-holed network left hanging would otherwise wait for its notices forever.
    trouble: Arc<Notify>,
}

impl Notices {
    /// A receiver of the ticks, starting the listener on first use; `None` outside a runtime.
    pub(super) fn subscribe(&self, pool: &PgPool) -> Option<watch::Receiver<u64>> {
        let mut ticks = self
            .ticks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(receiver) = ticks.as_ref() {
            return Some(receiver.clone());
        }
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        let (sender, receiver) = watch::channel(0);
        runtime.spawn(listen(pool.clone(), sender, Arc::clone(&self.trouble)));
        *ticks = Some(receiver.clone());
        Some(receiver)
    }

    /// Makes the listener connect again (after an operation timed out or lost its connection).
    pub(super) fn reconnect(&self) {
        self.trouble.notify_one();
    }
}

/// Listens until no one holds a receiver, connecting again with backoff and jitter when the
/// connection fails. Each (re)connection ticks too: notices sent while it was away are lost.
async fn listen(pool: PgPool, ticks: watch::Sender<u64>, trouble: Arc<Notify>) {
    let tick = || ticks.send_modify(|count| *count = count.wrapping_add(1));
    let mut failures = 0u32;
    loop {
        let mut listener = match connect(&pool).await {
            Ok(listener) => listener,
            Err(_) => {
                failures = failures.saturating_add(1);
                tokio::select! {
                    _ = tokio::time::sleep(retry_backoff(failures)) => continue,
                    _ = ticks.closed() => return,
                }
            }
        };
        failures = 0;
        tick();
        loop {
            tokio::select! {
                received = listener.try_recv() => match received {
                    Ok(Some(_)) => tick(),
                    // The connection dropped; the listener connects again on the next call.
                    Ok(None) => tick(),
                    Err(_) => break,
                },
                _ = trouble.notified() => break,
                _ = ticks.closed() => return,
            }
        }
    }
}

async fn connect(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Doubling from 100 ms up to `MAX_BACKOFF`, each wait drawn between half and all of it, so
/// that nodes which lost the database together do not come back in step.
pub fn retry_backoff(failures: u32) -> Duration {
    let ceiling = Duration::from_millis(100)
        .saturating_mul(1 << failures.min(16))
        .min(MAX_BACKOFF);
    // A process-random hasher's output is random enough for jitter and needs no dependency.
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let fraction = 0.5 + (random % 1000) as f64 / 2000.0;
    ceiling.mul_f64(fraction)
}

#[cfg(test)]
mod tests {
    use super::{MAX_BACKOFF, retry_backoff};
    use std::time::Duration;

    #[test]
    fn backoff_doubles_up_to_its_ceiling_and_is_never_less_than_half() {
        for failures in 1..30 {
            let ceiling = Duration::from_millis(100 << failures.min(16)).min(MAX_BACKOFF);
            let wait = retry_backoff(failures);
            assert!(
                wait <= ceiling && wait >= ceiling / 2,
                "{failures}: {wait:?}"
            );
        }
    }
}
