//! Write transactions on PostgreSQL, each holding the change log's lock from its first
//! statement to its end, and the line a node's writers wait in for their turn.
//!
//! Every write appends to the change log (by triggers), and the log's ordering contract needs
//! appends serialised with commits (see `migrations/postgres/0001_schema.sql`). A trigger takes
//! the lock only after its row's lock; two writers doing that in different orders could
//! deadlock (one holding a row and waiting for the log lock, the other the reverse). Taking the
//! log lock first, before any row, rules that out: latchkey's writers queue on it in order.
//!
//! Since the database runs them one at a time anyway, a node's writers first wait their turn
//! in the process (`StorePool`), holding no connection: a burst of writes then cannot take every
//! pooled connection and leave the rest timing out on the pool as if the database were gone.
//! A writer in line gives up only when none ahead of it has reached the database for
//! the pool's acquire timeout, so an outage still fails every queued write within that time.

use crate::{AuditEvent, StoreError, StoreResult};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard, watch};

/// The advisory lock key of the change log (the same literal as in the migration).
pub(super) const CHANGE_LOG_LOCK: i64 = 4_120_394_357_286_117_377;

/// The connection pool, and the node's writers in line for their turn. Reads use it as the
/// `PgPool` it dereferences to.
#[derive(Debug, Clone)]
pub(crate) struct StorePool {
    pool: PgPool,
    line: Arc<WriteLine>,
}

#[derive(Debug)]
struct WriteLine {
    /// How long a writer waits for the line to move (the pool's acquire timeout).
    patience: Duration,
    /// Held by the writer whose turn it is; tokio's mutex hands it over in arrival order.
    turn: Arc<Mutex<()>>,
    /// Counts the turns that reached the database (took the change log's lock).
    reached: watch::Sender<u64>,
}

impl StorePool {
    pub(super) fn new(pool: PgPool, patience: Duration) -> StorePool {
        StorePool {
            pool,
            line: Arc::new(WriteLine {
                patience,
                turn: Arc::new(Mutex::new(())),
                reached: watch::channel(0).0,
            }),
        }
    }

    /// Waits for this writer's turn, as long as the writers ahead keep reaching the database.
    async fn turn(&self) -> StoreResult<OwnedMutexGuard<()>> {
        let mut reached = self.line.reached.subscribe();
        let turn = Arc::clone(&self.line.turn).lock_owned();
        tokio::pin!(turn);
        loop {
            tokio::select! {
                guard = &mut turn => return Ok(guard),
                moved = tokio::time::timeout(self.line.patience, reached.changed()) => {
                    if moved.is_err() {
                        return Err(StoreError::Unavailable("database unreachable".to_owned()));
                    }
                }
            }
        }
    }
}

impl Deref for StorePool {
    type Target = PgPool;
    fn deref(&self) -> &PgPool {
        &self.pool
    }
}

/// One write transaction. Dropped without `commit`, it rolls back (sqlx's `Transaction`: on
/// PostgreSQL, a failed statement aborts the transaction on the server too, so the two never
/// disagree about whether one is open).
pub(super) struct WriteTx {
    tx: Transaction<'static, Postgres>,
    /// This node's turn, passed on when the transaction ends (after `tx`, which drops first).
    _turn: OwnedMutexGuard<()>,
}

impl WriteTx {
    /// Waits for this node's turn, begins a transaction and takes the change log's lock.
    pub(super) async fn begin(pool: &StorePool) -> StoreResult<WriteTx> {
        let turn = pool.turn().await?;
        let mut tx = pool.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(CHANGE_LOG_LOCK)
            .execute(&mut *tx)
            .await?;
        pool.line.reached.send_modify(|count| *count += 1);
        Ok(WriteTx { tx, _turn: turn })
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
