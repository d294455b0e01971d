//! Which node runs the periodic maintenance (key rotation steps, purges): the one holding the
//! maintenance lease. On PostgreSQL the lease is a transaction-level advisory lock held by an
//! open transaction, so a node that dies or loses its connection gives it up at once, with
//! nothing to expire; SQLite serves one node, which always holds it.

use sqlx::{Postgres, Transaction};

/// The advisory lock key of the maintenance lease (distinct from the change log's).
pub(crate) const MAINTENANCE_LOCK: i64 = 4_120_394_357_286_117_378;

/// Proof that this process runs maintenance now. `release` (or dropping it) lets another.
#[derive(Debug)]
pub struct MaintenanceLease {
    held: Option<Transaction<'static, Postgres>>,
}

impl MaintenanceLease {
    /// The lease of a backend that serves one node: nothing to hold.
    pub(crate) fn sole() -> MaintenanceLease {
        MaintenanceLease { held: None }
    }

    /// The lease held by `tx`, which holds the advisory lock.
    pub(crate) fn held_by(tx: Transaction<'static, Postgres>) -> MaintenanceLease {
        MaintenanceLease { held: Some(tx) }
    }

    /// Gives the lease up now. (Dropped instead, the transaction still ends, when its connection
    /// next goes back to the pool.)
    pub async fn release(self) {
        if let Some(tx) = self.held {
            // A failure means the connection is gone, and the lock with it.
            let _ = tx.rollback().await;
        }
    }
}
