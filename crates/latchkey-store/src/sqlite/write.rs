//! Write transactions that can never leave a pooled connection inside a transaction.
//!
//! sqlx's own `Transaction` tracks its depth on the Rust side. When a statement fails with
//! SQLITE_FULL or SQLITE_IOERR, SQLite rolls the transaction back by itself, the two disagree,
//! and the connection goes back to the pool believing it is outside a transaction while the
//! next `BEGIN` turns into a savepoint: later writes on it are acknowledged and never settled.
//! `WriteTx` issues `BEGIN IMMEDIATE` and `COMMIT` itself, so SQLite's own answer decides (a
//! `COMMIT` outside a transaction is an error), and a connection whose transaction did not
//! commit for certain is closed instead of returned: closing rolls back whatever is left.
//!
//! A connection SQLite opened while the file could not be written is read-only for good (SQLite
//! falls back to read-only without a word), so once the file is writable again the pool may
//! still hold such connections. `begin` finds them by a write that changes nothing, closes them
//! and takes another, so writes resume by themselves; when fresh connections are read-only too,
//! the file is, and the error says so.

use crate::{AuditEvent, StoreError, StoreResult};
use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqliteConnection, SqlitePool};

/// One write transaction on one pooled connection, holding SQLite's write lock from its start.
pub(super) struct WriteTx {
    conn: PoolConnection<Sqlite>,
    settled: bool,
}

impl WriteTx {
    /// Takes a connection and the write lock. `IMMEDIATE` makes a transaction that reads and then
    /// writes wait out the busy timeout for the lock at its start; a deferred one upgrades its
    /// read lock later and fails at once with SQLITE_BUSY when another writer got there first.
    pub(super) async fn begin(pool: &SqlitePool) -> StoreResult<WriteTx> {
        // Each read-only connection found is closed, so this ends: at most the pool's worth of
        // stale ones, then one opened now.
        let mut stale = 0;
        loop {
            match WriteTx::lock_writable(pool).await {
                Err(StoreError::Unavailable(cause))
                    if cause == crate::unavailable::READ_ONLY
                        && stale < pool.options().get_max_connections() =>
                {
                    stale += 1;
                }
                other => return other,
            }
        }
    }

    /// `lock`, then a write that changes nothing, to find a read-only connection: under the
    /// write lock already, so it waits for no one, and a DELETE compiles to a write
    /// transaction even when it matches nothing. A failure drops (closes) the connection.
    async fn lock_writable(pool: &SqlitePool) -> StoreResult<WriteTx> {
        let mut tx = WriteTx::lock(pool).await?;
        sqlx::query("DELETE FROM changes WHERE 0")
            .execute(tx.conn())
            .await?;
        Ok(tx)
    }

    /// `begin` without the read-only probe, for the migrations: they run at every open, before
    /// the probed table exists on a new file, and must let a read-only file be opened for
    /// reading when there is nothing to apply.
    pub(super) async fn lock(pool: &SqlitePool) -> StoreResult<WriteTx> {
        let conn = pool.acquire().await?;
        // Built before BEGIN so that a failed BEGIN also closes the connection (its state is
        // then uncertain too).
        let mut tx = WriteTx {
            conn,
            settled: false,
        };
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut *tx.conn)
            .await?;
        Ok(tx)
    }

    /// The connection, for the transaction's statements.
    pub(super) fn conn(&mut self) -> &mut SqliteConnection {
        &mut self.conn
    }

    /// Records `audit` (when given) in this transaction, then commits: the change and its audit
    /// event are stored together or not at all.
    pub(super) async fn commit_with(mut self, audit: Option<&AuditEvent>) -> StoreResult<()> {
        if let Some(event) = audit {
            super::audit::insert(self.conn(), event).await?;
        }
        self.commit().await
    }

    /// Commits. `Ok` means SQLite settled: a transaction SQLite had already rolled back makes
    /// `COMMIT` fail ("no transaction is active"), which is returned as the error it is.
    pub(super) async fn commit(mut self) -> StoreResult<()> {
        sqlx::query("COMMIT").execute(&mut *self.conn).await?;
        self.settled = true;
        Ok(())
    }

    /// Rolls back on purpose (a conditional write that found nothing to do); the connection
    /// goes back to the pool only if SQLite confirms.
    pub(super) async fn rollback(mut self) -> StoreResult<()> {
        sqlx::query("ROLLBACK").execute(&mut *self.conn).await?;
        self.settled = true;
        Ok(())
    }
}

impl Drop for WriteTx {
    /// Anything but a confirmed commit or rollback (an error, an early return, a cancelled future) closes the
    /// connection, which rolls back; an explicit ROLLBACK could itself fail and leave the
    /// question open.
    fn drop(&mut self) {
        if !self.settled {
            self.conn.close_on_drop();
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use sqlx::sqlite::SqlitePoolOptions;

    /// An in-memory database with one table `t`, on one connection, so that the next acquire
    /// gets the same one back if it was returned (and pool-wide pragmas reach every statement).
    pub(in crate::sqlite) async fn pool() -> SqlitePool {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        // `changes` for the probe `begin` makes.
        sqlx::query("CREATE TABLE t (x INTEGER); CREATE TABLE changes (seq INTEGER)")
            .execute(&pool)
            .await
            .unwrap();
        pool
    }

    async fn insert(tx: &mut WriteTx) {
        sqlx::query("INSERT INTO t VALUES (1)")
            .execute(tx.conn())
            .await
            .unwrap();
    }

    async fn rows(pool: &SqlitePool) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM t")
            .fetch_one(pool)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_commit_after_sqlite_rolled_back_by_itself_is_an_error_not_an_acknowledgement() {
        let pool = pool().await;
        let mut tx = WriteTx::begin(&pool).await.unwrap();
        insert(&mut tx).await;
        // What SQLite does by itself after SQLITE_FULL or SQLITE_IOERR in a statement.
        sqlx::query("ROLLBACK").execute(tx.conn()).await.unwrap();
        assert!(tx.commit().await.is_err());
    }

    #[tokio::test]
    async fn a_transaction_dropped_without_commit_writes_nothing_and_its_connection_is_not_reused()
    {
        let pool = pool().await;
        let mut tx = WriteTx::begin(&pool).await.unwrap();
        insert(&mut tx).await;
        drop(tx);
        // An in-memory database lives and dies with its one connection: finding the table
        // gone shows the connection was closed (which rolled back), not handed out again
        // mid-transaction.
        let found: Result<i64, _> = sqlx::query_scalar("SELECT count(*) FROM t")
            .fetch_one(&pool)
            .await;
        assert!(
            found.is_err(),
            "the dropped transaction's connection came back: {found:?}"
        );
    }

    #[tokio::test]
    async fn a_committed_transaction_is_stored_and_its_connection_returns_to_the_pool() {
        let pool = pool().await;
        let mut tx = WriteTx::begin(&pool).await.unwrap();
        insert(&mut tx).await;
        tx.commit().await.unwrap();
        assert_eq!(rows(&pool).await, 1);
        // The same connection again, outside any transaction: BEGIN would fail inside one.
        let tx = WriteTx::begin(&pool).await.unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(rows(&pool).await, 1);
    }

    /// A pool of one connection to a file holding `t` and `changes`, opened read-only or not.
    async fn file_pool(dir: &tempfile::TempDir, read_only: bool) -> SqlitePool {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(dir.path().join("write.db"))
            .create_if_missing(true);
        let setup = SqlitePoolOptions::new()
            .connect_with(options.clone())
            .await
            .unwrap();
        sqlx::query("CREATE TABLE IF NOT EXISTS t (x INTEGER); CREATE TABLE IF NOT EXISTS changes (seq INTEGER)")
            .execute(&setup)
            .await
            .unwrap();
        setup.close().await;
        SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.read_only(read_only))
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_read_only_connection_left_in_the_pool_is_replaced_and_the_write_goes_through() {
        let dir = tempfile::tempdir().unwrap();
        let pool = file_pool(&dir, false).await;
        // What a connection opened while the file was read-only answers to every write.
        sqlx::query("PRAGMA query_only = ON")
            .execute(&pool)
            .await
            .unwrap();
        let mut tx = WriteTx::begin(&pool).await.unwrap();
        insert(&mut tx).await;
        tx.commit().await.unwrap();
        assert_eq!(rows(&pool).await, 1);
    }

    #[tokio::test]
    async fn a_read_only_file_refuses_the_write_as_read_only() {
        let dir = tempfile::tempdir().unwrap();
        let pool = file_pool(&dir, true).await;
        let refused = WriteTx::begin(&pool).await.err();
        assert!(
            matches!(&refused, Some(StoreError::Unavailable(cause)) if cause == crate::unavailable::READ_ONLY),
            "{refused:?}"
        );
    }
}
