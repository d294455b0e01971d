//! The embedded default store: SQLite through sqlx, WAL mode, migrations embedded in the binary.
//! This module owns the pool and how the database is opened; the SQL for each entity lives in
//! its own module (`apps`, `tenants`, `keys`, `revocations`, `audit`, `changes`; `dump` reads
//! and writes them all at once), and what the stored values mean in `crate::columns`. The
//! snapshot scan alone reads the file through rusqlite (`scan`, which says why). `backup` is
//! the SQL of online backups and restores (`crate::backup`).

mod apps;
mod audit;
pub(crate) mod backup;
mod changes;
mod dump;
mod keys;
mod migrate;
mod revocations;
mod scan;
mod tenants;
mod write;

use crate::{Create, ScannedClient, StoreError, StoreResult};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteError, SqliteJournalMode, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// SQLite takes this many bound parameters per statement at most (SQLITE_MAX_VARIABLE_NUMBER is
/// 32766 in the bundled build; stay well under).
const MAX_BINDS: usize = 500;

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// The database as the snapshot scan opens it, on its own connection.
    scan_source: scan::Source,
}

impl SqliteStore {
    /// Opens (creating if missing) and migrates the database at a `sqlite:` URL.
    pub async fn open(url: &str) -> StoreResult<SqliteStore> {
        SqliteStore::open_with(url, Create::IfMissing).await
    }

    /// Opens and migrates the database at a `sqlite:` URL, creating it only if `create` says so.
    pub async fn open_with(url: &str, create: Create) -> StoreResult<SqliteStore> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(StoreError::Connect)?
            .create_if_missing(create == Create::IfMissing);
        // SQLite would refuse to open a missing file anyway (and create no -wal or -shm
        // beside it); checking first names the cause plainly.
        if create == Create::Never && !options.get_filename().exists() {
            return Err(StoreError::Missing(options.get_filename().to_owned()));
        }
        let options = options
            .journal_mode(SqliteJournalMode::Wal)
            // FULL syncs the WAL at every commit, so an acknowledged change also survives a power
            // loss (NORMAL would only survive the process): a revocation that came back after a
            // crash would be a security bug. Writes are rare and off the token path; an fsync
            // each is cheap for them.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // The CLI and a running server share the file; wait for the other's write lock.
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.clone())
            .await
            .map_err(StoreError::Connect)?;
        migrate::run(&pool, &MIGRATOR).await?;
        // SQLite names the main database's file with its full path, or with nothing for an
        // in-memory database (which the scan reaches by its shared-cache name instead).
        let file: String =
            sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
                .fetch_one(&pool)
                .await
                .map_err(StoreError::Connect)?;
        let scan_source = if file.is_empty() {
            scan::Source::SharedMemory(options.get_filename().to_owned())
        } else {
            scan::Source::File(PathBuf::from(file))
        };
        Ok(SqliteStore { pool, scan_source })
    }
}

/// What makes a database refuse work for a while, from SQLite's primary result codes (the low
/// byte of the extended code sqlx reports); `None` for any other error, or another database's.
pub(crate) fn unavailable_cause(error: &sqlx::Error) -> Option<&'static str> {
    let sqlx::Error::Database(database) = error else {
        return None;
    };
    database.try_downcast_ref::<SqliteError>()?;
    let code: i64 = database.code()?.parse().ok()?;
    match code & 0xff {
        5 | 6 => Some("another writer holds the database lock; try again"),
        8 => Some(crate::unavailable::READ_ONLY),
        10 => Some(crate::unavailable::IO_ERROR),
        13 => Some(crate::unavailable::DISK_FULL),
        14 => Some("the database file cannot be opened"),
        _ => None,
    }
}

/// Runs `select` (ending in `IN (`) for every id, a chunk of at most `MAX_BINDS` ids at a time.
async fn rows_in(pool: &SqlitePool, select: &str, ids: &[String]) -> StoreResult<Vec<SqliteRow>> {
    let mut rows = Vec::new();
    for chunk in ids.chunks(MAX_BINDS) {
        let mut query = QueryBuilder::<Sqlite>::new(select);
        let mut list = query.separated(", ");
        for id in chunk {
            list.push_bind(id.as_str());
        }
        query.push(")");
        rows.extend(query.build().fetch_all(pool).await?);
    }
    Ok(rows)
}

impl SqliteStore {
    async fn scan(&self, visit: &mut (dyn FnMut(ScannedClient) + Send)) -> StoreResult<()> {
        scan::scan(&self.scan_source, visit).await
    }

    /// SQLite answers or fails on its own (its busy timeout bounds waiting for the lock).
    async fn bounded<T>(&self, operation: impl Future<Output = StoreResult<T>>) -> StoreResult<T> {
        operation.await
    }

    /// One node serves a SQLite file: it always leads.
    async fn lead_maintenance(&self) -> StoreResult<Option<crate::MaintenanceLease>> {
        Ok(Some(crate::MaintenanceLease::sole()))
    }

    /// SQLite cannot tell a reader of another process's commits: followers poll.
    fn change_notices(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        None
    }
}

crate::delegate::entity_modules_store!(SqliteStore);

#[cfg(test)]
mod tests {
    use crate::StoreError;

    #[tokio::test]
    async fn a_refused_write_is_unavailable_and_other_errors_stay_query_errors() {
        let pool = super::write::tests::pool().await;
        // What SQLite answers for a read-only file, without needing one.
        sqlx::query("PRAGMA query_only = ON")
            .execute(&pool)
            .await
            .unwrap();
        let refused = sqlx::query("INSERT INTO t VALUES (1)")
            .execute(&pool)
            .await
            .unwrap_err();
        assert!(
            matches!(StoreError::from(refused), StoreError::Unavailable(ref cause) if cause == crate::unavailable::READ_ONLY)
        );
        let missing = sqlx::query("SELECT nope FROM t")
            .execute(&pool)
            .await
            .unwrap_err();
        assert!(matches!(StoreError::from(missing), StoreError::Query(_)));
    }
}
