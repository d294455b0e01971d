//! The embedded default store: SQLite through sqlx, WAL mode, migrations embedded in the binary.
//! This module owns the pool and how the database is opened; the SQL for each entity lives in
//! its own module (`apps`, `tenants`, `keys`, `revocations`, `audit`, `changes`), and what the
//! stored values mean in `crate::columns`. The snapshot scan alone reads the file through
//! rusqlite (`scan`, which says why).

mod apps;
mod audit;
mod changes;
mod keys;
mod migrate;
mod revocations;
mod scan;
mod tenants;
mod write;

use crate::{
    AppQuery, AppRecord, AuditEvent, AuditQuery, Change, Create, KeyRecord, RevocationRecord,
    ScannedClient, SecretRecord, Store, StoreError, StoreResult, TenantRecord,
};
use async_trait::async_trait;
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
            // WAL with synchronous=NORMAL is durable across application crashes and loses at most
            // the last transactions on power loss; admin writes are rare and retried by people.
            .synchronous(SqliteSynchronous::Normal)
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
        8 => Some("the database file is read-only"),
        10 => Some("an I/O error on the database file (is the disk full or failing?)"),
        13 => Some("the disk holding the database is full"),
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

// One delegation per operation: the trait's documentation is the contract, each entity's
// module the SQL that keeps it.
#[async_trait]
impl Store for SqliteStore {
    async fn tenants(&self) -> StoreResult<Vec<TenantRecord>> {
        tenants::all(&self.pool).await
    }

    async fn tenant(&self, name: &str) -> StoreResult<Option<TenantRecord>> {
        tenants::one(&self.pool, name).await
    }

    async fn create_tenant(
        &self,
        tenant: &TenantRecord,
        first_key: Option<&KeyRecord>,
    ) -> StoreResult<()> {
        tenants::create(&self.pool, tenant, first_key).await
    }

    async fn update_tenant(&self, tenant: &TenantRecord) -> StoreResult<()> {
        tenants::update(&self.pool, tenant).await
    }

    async fn delete_tenant(&self, name: &str, force: bool) -> StoreResult<()> {
        tenants::delete(&self.pool, name, force).await
    }

    async fn create_app(&self, app: &AppRecord) -> StoreResult<()> {
        apps::create(&self.pool, app).await
    }

    async fn app(&self, tenant: &str, client_id: &str) -> StoreResult<Option<AppRecord>> {
        apps::one(&self.pool, tenant, client_id).await
    }

    async fn apps(&self, tenant: &str) -> StoreResult<Vec<AppRecord>> {
        apps::of_tenant(&self.pool, tenant).await
    }

    async fn list_apps(&self, tenant: &str, query: &AppQuery) -> StoreResult<Vec<AppRecord>> {
        apps::list(&self.pool, tenant, query).await
    }

    async fn update_app(&self, app: &AppRecord) -> StoreResult<()> {
        apps::update(&self.pool, app).await
    }

    async fn max_token_ttl(&self, tenant: &str) -> StoreResult<Option<u32>> {
        apps::max_token_ttl(&self.pool, tenant).await
    }

    async fn delete_app(&self, tenant: &str, client_id: &str) -> StoreResult<()> {
        apps::delete(&self.pool, tenant, client_id).await
    }

    async fn replace_secret(
        &self,
        tenant: &str,
        client_id: &str,
        secret: SecretRecord,
        old_expires_at: Option<i64>,
    ) -> StoreResult<()> {
        apps::replace_secret(&self.pool, tenant, client_id, secret, old_expires_at).await
    }

    async fn signing_keys(&self, tenant: &str) -> StoreResult<Vec<KeyRecord>> {
        keys::of_tenant(&self.pool, tenant).await
    }

    async fn all_signing_keys(&self) -> StoreResult<Vec<KeyRecord>> {
        keys::all(&self.pool).await
    }

    async fn insert_key(&self, key: &KeyRecord) -> StoreResult<bool> {
        keys::insert_row(&self.pool, key).await
    }

    async fn promote_key(
        &self,
        tenant: &str,
        kid: &str,
        now: i64,
        retire_at: i64,
    ) -> StoreResult<bool> {
        keys::promote(&self.pool, tenant, kid, now, retire_at).await
    }

    async fn schedule_key(&self, tenant: &str, kid: &str, activate_at: i64) -> StoreResult<bool> {
        keys::schedule(&self.pool, tenant, kid, activate_at).await
    }

    async fn retire_key(&self, kid: &str, now: i64) -> StoreResult<bool> {
        keys::retire(&self.pool, kid, now).await
    }

    async fn delete_key(&self, kid: &str) -> StoreResult<bool> {
        keys::delete(&self.pool, kid).await
    }

    async fn reseal_key(
        &self,
        kid: &str,
        old_master_key_id: Option<&str>,
        private_key: &[u8],
        master_key_id: &str,
    ) -> StoreResult<bool> {
        keys::reseal(
            &self.pool,
            kid,
            old_master_key_id,
            private_key,
            master_key_id,
        )
        .await
    }

    async fn revoke_token(&self, record: &RevocationRecord) -> StoreResult<()> {
        revocations::revoke(&self.pool, record).await
    }

    async fn revocations(&self, jtis: &[String]) -> StoreResult<Vec<RevocationRecord>> {
        revocations::of_tokens(&self.pool, jtis).await
    }

    async fn live_revocations(&self, now: i64) -> StoreResult<Vec<RevocationRecord>> {
        revocations::live(&self.pool, now).await
    }

    async fn purge_revocations(&self, before: i64) -> StoreResult<u64> {
        revocations::purge(&self.pool, before).await
    }

    async fn record_audit(&self, event: &AuditEvent) -> StoreResult<i64> {
        audit::record(&self.pool, event).await
    }

    async fn audit_events(&self, query: &AuditQuery) -> StoreResult<Vec<AuditEvent>> {
        audit::events(&self.pool, query).await
    }

    async fn scan_clients(&self, visit: &mut (dyn FnMut(ScannedClient) + Send)) -> StoreResult<()> {
        scan::scan(&self.scan_source, visit).await
    }

    async fn app_count(&self) -> StoreResult<u64> {
        apps::count(&self.pool).await
    }

    async fn apps_by_id(&self, client_ids: &[String]) -> StoreResult<Vec<AppRecord>> {
        apps::by_id(&self.pool, client_ids).await
    }

    async fn latest_change(&self) -> StoreResult<i64> {
        changes::latest(&self.pool).await
    }

    async fn changes_since(&self, seq: i64, limit: u32) -> StoreResult<Vec<Change>> {
        changes::since(&self.pool, seq, limit).await
    }

    async fn purge_changes(&self, before: i64) -> StoreResult<u64> {
        changes::purge(&self.pool, before).await
    }
}

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
            matches!(StoreError::from(refused), StoreError::Unavailable(ref cause) if cause == "the database file is read-only")
        );
        let missing = sqlx::query("SELECT nope FROM t")
            .execute(&pool)
            .await
            .unwrap_err();
        assert!(matches!(StoreError::from(missing), StoreError::Query(_)));
    }
}
