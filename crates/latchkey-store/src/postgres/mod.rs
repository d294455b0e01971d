//! The scale-out store: PostgreSQL through sqlx, migrations embedded in the binary and applied
//! under sqlx's advisory lock (so nodes starting together apply each one once). This module
//! owns the pool and how the database is opened; the SQL for each entity lives in its own
//! module, as for SQLite (`dump` reads and writes them all at once), and what stored values
//! mean in `crate::columns`. Every write runs in a `write::WriteTx`, which keeps the change
//! log's ordering contract.

mod apps;
mod audit;
mod changes;
mod dump;
mod keys;
mod notices;
mod options;
mod revocations;
mod scan;
mod tenants;
mod write;

use crate::{MaintenanceLease, ScannedClient, StoreError, StoreResult};
use sqlx::postgres::{PgConnectOptions, PgDatabaseError, PgPoolOptions};
use sqlx::{Connection, PgConnection};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

pub use notices::retry_backoff;
pub(crate) use options::tool_url;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: write::StorePool,
    /// The bound on one admin-path operation: its wait for a connection and its statements.
    operation_timeout: Duration,
    /// `None` when the URL said `listen=off`.
    notices: Option<Arc<notices::Notices>>,
}

impl PostgresStore {
    /// Connects to the database a `postgres:` or `postgresql:` URL names and migrates it.
    pub async fn open(url: &str) -> StoreResult<PostgresStore> {
        let (driver_url, settings) = options::split(url)?;
        let options = PgConnectOptions::from_str(&driver_url).map_err(StoreError::Connect)?;
        // One connection first, on its own: a pool would retry until its timeout and then
        // report only that it timed out, where this names the cause (no such host, connection
        // refused, a wrong password, a missing database).
        let first = tokio::time::timeout(
            settings.connect_timeout,
            PgConnection::connect_with(&options),
        )
        .await
        .map_err(|_| {
            StoreError::Connect(sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "no answer within {}s (connect_timeout)",
                    settings.connect_timeout.as_secs()
                ),
            )))
        })?
        .map_err(StoreError::Connect)?;
        first.close().await.map_err(StoreError::Connect)?;
        // Migrations run without the statement timeout (nodes starting together wait on each
        // other's), on a pool of their own: sqlx's migrator on a bare connection makes a
        // future the compiler cannot prove `Send`.
        let migrating = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(settings.connect_timeout)
            .connect_lazy_with(options.clone());
        MIGRATOR
            .run(&migrating)
            .await
            .map_err(StoreError::Migrate)?;
        migrating.close().await;
        let timeout_ms = settings.statement_timeout.as_millis().to_string();
        let pool = PgPoolOptions::new()
            .max_connections(settings.size)
            .acquire_timeout(settings.acquire_timeout)
            .connect_lazy_with(options.options([("statement_timeout", timeout_ms.as_str())]));
        Ok(PostgresStore {
            pool: write::StorePool::new(pool, settings.acquire_timeout),
            operation_timeout: settings.statement_timeout + settings.acquire_timeout,
            notices: settings.listen.then(Arc::default),
        })
    }

    /// Runs one admin-path operation within the operation timeout: past it (a database that
    /// stopped answering, with the connection left hanging), the operation is abandoned and
    /// the database counts as unavailable.
    async fn bounded<T>(&self, operation: impl Future<Output = StoreResult<T>>) -> StoreResult<T> {
        let result = tokio::time::timeout(self.operation_timeout, operation)
            .await
            .unwrap_or_else(|_| {
                Err(StoreError::Unavailable(
                    "the database did not answer in time".to_owned(),
                ))
            });
        if let (Err(StoreError::Unavailable(_)), Some(notices)) = (&result, &self.notices) {
            notices.reconnect();
        }
        result
    }

    /// Takes the maintenance lease: a transaction holding an advisory lock, which PostgreSQL
    /// releases when the transaction ends or its connection dies.
    async fn lead_maintenance(&self) -> StoreResult<Option<MaintenanceLease>> {
        self.bounded(try_lease(&self.pool)).await
    }

    /// Ticks when another writer commits (LISTEN/NOTIFY).
    fn change_notices(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        self.notices.as_ref()?.subscribe(&self.pool)
    }
}

async fn try_lease(pool: &sqlx::PgPool) -> StoreResult<Option<MaintenanceLease>> {
    let mut tx = pool.begin().await?;
    // The lease is held for as long as the maintenance takes, idle in between.
    sqlx::query("SET LOCAL idle_in_transaction_session_timeout = 0")
        .execute(&mut *tx)
        .await?;
    let held: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(crate::lease::MAINTENANCE_LOCK)
        .fetch_one(&mut *tx)
        .await?;
    Ok(held.then(|| MaintenanceLease::held_by(tx)))
}

/// What makes PostgreSQL refuse work for a while, by SQLSTATE; `None` for any other error, or
/// another database's.
pub(crate) fn unavailable_cause(error: &sqlx::Error) -> Option<&'static str> {
    let sqlx::Error::Database(database) = error else {
        return None;
    };
    let code = database.try_downcast_ref::<PgDatabaseError>()?.code();
    match code {
        "40001" | "40P01" => Some("a concurrent write got in the way; try again"),
        "25006" => Some("the database is read-only (a standby?)"),
        "53100" => Some(crate::unavailable::DISK_FULL),
        "53300" => Some("the database has no connection left"),
        "57014" => Some("the statement timed out"),
        "57P01" | "57P02" | "57P03" => Some("the database is shutting down or starting up"),
        _ if code.starts_with("08") => Some("the connection to the database failed"),
        _ => None,
    }
}

impl PostgresStore {
    async fn scan(&self, visit: &mut (dyn FnMut(ScannedClient) + Send)) -> StoreResult<()> {
        scan::scan(&self.pool, visit).await
    }
}

crate::delegate::entity_modules_store!(PostgresStore);

#[cfg(test)]
pub(crate) mod testing {
    //! A fresh database per test on the PostgreSQL the tests are given
    //! (`LATCHKEY_TEST_POSTGRES`, by default the local server), dropped when the test ends.

    use super::PostgresStore;
    use sqlx::{Connection, PgConnection};

    /// The server tests create their databases on, as a URL of its maintenance database.
    fn server() -> String {
        std::env::var("LATCHKEY_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
    }

    /// A database that is dropped with this value.
    pub(crate) struct TestDatabase {
        name: String,
        url: String,
    }

    impl TestDatabase {
        /// The database's URL, for a second store on it.
        pub(crate) fn url(&self) -> &str {
            &self.url
        }
    }

    impl Drop for TestDatabase {
        fn drop(&mut self) {
            let name = self.name.clone();
            // Drop runs outside async; a thread of its own runs the statement to completion.
            let dropped = std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime")
                    .block_on(async {
                        let mut admin = PgConnection::connect(&server()).await?;
                        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                            .execute(&mut admin)
                            .await
                            .map(|_| ())
                    })
            })
            .join();
            if !matches!(dropped, Ok(Ok(()))) {
                eprintln!("could not drop test database {}", self.name);
            }
        }
    }

    /// A new, migrated store on a database of its own.
    pub(crate) async fn store() -> (PostgresStore, TestDatabase) {
        let database = empty_database().await;
        let store = PostgresStore::open(database.url())
            .await
            .expect("opening the test database");
        (store, database)
    }

    /// A new database without latchkey's tables.
    pub(crate) async fn empty_database() -> TestDatabase {
        let name = format!(
            "latchkey_test_{}_{}",
            std::process::id(),
            latchkey_random_suffix()
        );
        let mut admin = PgConnection::connect(&server())
            .await
            .unwrap_or_else(|error| panic!("the test PostgreSQL at {}: {error}", server()));
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await
            .expect("creating a test database");
        let mut url = server();
        let cut = url.rfind('/').expect("a database in the URL");
        url.truncate(cut + 1);
        url.push_str(&name);
        TestDatabase { name, url }
    }

    /// A number no other test of this process has used.
    fn latchkey_random_suffix() -> u64 {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        NEXT.fetch_add(1, Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::testing;
    use crate::Store;
    use sqlx::{Acquire, PgPool};
    use std::time::Duration;

    const INSERT_APP: &str = "INSERT INTO apps (client_id, tenant, name, app_type, token_ttl, \
         created_at, updated_at) VALUES ($1, 'default', $1, 'm2m', 300, 1, 1)";

    /// The race the ordering contract rules out: a transaction that appends a change and
    /// commits late must not leave a reader, who saw a later-drawn number first, behind it. Here
    /// the first writer holds its transaction open; the second (writing through the trigger
    /// alone, without taking the lock first as latchkey's writers do) cannot draw its number
    /// until the first has committed, so the numbers come out in commit order.
    #[tokio::test]
    async fn a_change_committed_late_is_never_numbered_below_one_already_visible() {
        let (store, _database) = testing::store().await;
        let mut first = store.pool.acquire().await.unwrap();
        let mut first = first.begin().await.unwrap();
        sqlx::query(INSERT_APP)
            .bind("first")
            .execute(&mut *first)
            .await
            .unwrap();
        let pool = PgPool::clone(&store.pool);
        let second = tokio::spawn(async move {
            sqlx::query(INSERT_APP)
                .bind("second")
                .execute(&pool)
                .await
                .unwrap();
        });
        // Whatever the second writer does meanwhile, nothing of it may be visible yet.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            !second.is_finished(),
            "the second writer waits for the first"
        );
        assert_eq!(store.latest_change().await.unwrap(), 0);
        first.commit().await.unwrap();
        second.await.unwrap();
        let changes = store.changes_since(0, 10).await.unwrap();
        let ids: Vec<&str> = changes.iter().map(|change| change.id.as_str()).collect();
        assert_eq!(ids, ["first", "second"]);
        assert!(changes[0].seq < changes[1].seq);
    }

    /// Five nodes starting at once on a new database: every one opens it, and each migration
    /// is applied once.
    #[tokio::test]
    async fn nodes_starting_together_apply_each_migration_once() {
        let database = testing::empty_database().await;
        let opening = (0..5).map(|_| super::PostgresStore::open(database.url()));
        let stores = futures_util::future::join_all(opening).await;
        assert!(stores.iter().all(Result::is_ok), "{stores:?}");
        let store = stores.into_iter().next().unwrap().unwrap();
        let applied: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT version, count(*) FROM _sqlx_migrations GROUP BY version ORDER BY version",
        )
        .fetch_all(&*store.pool)
        .await
        .unwrap();
        let expected: Vec<(i64, i64)> = super::MIGRATOR
            .iter()
            .map(|migration| (migration.version, 1))
            .collect();
        assert_eq!(applied, expected);
    }

    /// Two nodes on one database: while one holds the maintenance lease the other is told no,
    /// and once it is released (or its holder's connection gone) the other gets it.
    #[tokio::test]
    async fn one_node_at_a_time_holds_the_maintenance_lease() {
        let (first, database) = testing::store().await;
        let second = super::PostgresStore::open(database.url()).await.unwrap();
        let lease = first
            .lead_maintenance()
            .await
            .unwrap()
            .expect("free at first");
        assert!(second.lead_maintenance().await.unwrap().is_none());
        assert!(
            first.lead_maintenance().await.unwrap().is_none(),
            "not reentrant"
        );
        lease.release().await;
        let lease = second
            .lead_maintenance()
            .await
            .unwrap()
            .expect("free once released");
        assert!(first.lead_maintenance().await.unwrap().is_none());
        drop(lease);
        second.pool.close().await;
        assert!(
            first.lead_maintenance().await.unwrap().is_some(),
            "free once its holder is gone"
        );
    }

    /// A commit by one node wakes the change notices of another.
    #[tokio::test]
    async fn a_commit_elsewhere_ticks_the_change_notices() {
        let (writer, database) = testing::store().await;
        let follower = super::PostgresStore::open(database.url()).await.unwrap();
        let mut notices = follower.change_notices().expect("PostgreSQL gives notices");
        // The listener ticks once when it has connected; from then on, every commit ticks.
        tokio::time::timeout(Duration::from_secs(10), notices.changed())
            .await
            .expect("the listener connects")
            .unwrap();
        notices.mark_unchanged();
        sqlx::query(INSERT_APP)
            .bind("woken")
            .execute(&*writer.pool)
            .await
            .unwrap();
        tokio::time::timeout(Duration::from_secs(10), notices.changed())
            .await
            .expect("a notice within the wait")
            .unwrap();
    }

    #[tokio::test]
    async fn an_unreachable_database_is_unavailable_not_a_query_error() {
        let refused = super::PostgresStore::open("postgres://latchkey@127.0.0.1:1/latchkey").await;
        let message = refused
            .err()
            .map(|error| error.to_string())
            .unwrap_or_default();
        assert!(
            message.starts_with("could not open the database: "),
            "{message}"
        );
        assert!(message.contains("refused"), "names the cause: {message}");
        for lost in [
            sqlx::Error::PoolTimedOut,
            sqlx::Error::Protocol("unexpected response from SSLRequest: 0x00".to_owned()),
        ] {
            let lost = crate::StoreError::from(lost);
            assert!(
                matches!(&lost, crate::StoreError::Unavailable(cause) if cause == "database unreachable"),
                "{lost:?}"
            );
        }
    }
}
