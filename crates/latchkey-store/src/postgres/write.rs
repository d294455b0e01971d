//! Write transactions on PostgreSQL, each holding the change log's lock from its first
//! statement to its end.
//!
//! Every write appends to the change log (by triggers), and the log's ordering contract needs
//! appends serialised with commits (see `migrations/postgres/0001_schema.sql`). A trigger takes
//! the lock only after its row's lock; two writers doing that in different orders could
//! deadlock (one holding a row and waiting for the log lock, the other the reverse). Taking the
//! log lock first, before any row, rules that out: latchkey's writers queue on it in order.

use crate::{AuditEvent, StoreResult};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

/// The advisory lock key of the change log (the same literal as in the migration).
pub(super) const CHANGE_LOG_LOCK: i64 = 4_120_394_357_286_117_377;

/// One write transaction. Dropped without `commit`, it rolls back (sqlx's `Transaction`: on
/// PostgreSQL, a failed statement aborts the transaction on the server too, so the two never
/// disagree about whether one is open).
pub(super) struct WriteTx {
    tx: Transaction<'static, Postgres>,
}

impl WriteTx {
    /// Begins a transaction and takes the change log's lock.
    pub(super) async fn begin(pool: &PgPool) -> StoreResult<WriteTx> {
        let mut tx = pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(CHANGE_LOG_LOCK)
            .execute(&mut *tx)
            .await?;
        Ok(WriteTx { tx })
    }

    /// The connection, for the transaction's statements.
    pub(super) fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    /// Records `audit` (when given) in this transaction, then commits: the change and its audit
    /// event are stored together or not at all.
    pub(super) async fn commit_with(mut self, audit: Option<&AuditEvent>) -> StoreResult<()> {
        if let Some(event) = audit {
            super::audit::insert(self.conn(), event).await?;
        }
        self.commit().await
    }

    /// Commits.
    pub(super) async fn commit(self) -> StoreResult<()> {
        self.tx.commit().await?;
        Ok(())
    }
}
