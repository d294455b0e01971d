//! The scale-out store: PostgreSQL through sqlx, migrations embedded in the binary and applied
//! under sqlx's advisory lock (so nodes starting together apply each one once). This module
//! owns the pool and how the database is opened; the SQL for each entity lives in its own
//! module, as for SQLite, and what stored values mean in `crate::columns`. Every write runs in
//! a `write::WriteTx`, which keeps the change log's ordering contract.

mod apps;
mod audit;
mod changes;
mod keys;
mod revocations;
mod scan;
mod tenants;
mod write;

use crate::{ScannedClient, StoreError, StoreResult};
use sqlx::postgres::{PgConnectOptions, PgDatabaseError, PgPoolOptions};
use sqlx::{Connection, PgConnection};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Connections per node: admin writes are rare and the token path uses none.
const POOL_SIZE: u32 = 8;

/// How long an operation waits for a connection before the database counts as unreachable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// The PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: write::StorePool,
}

impl PostgresStore {
    /// Connects to the database a `postgres:` or `postgresql:` URL names and migrates it.
    pub async fn open(url: &str) -> StoreResult<PostgresStore> {
        let options = PgConnectOptions::from_str(url).map_err(StoreError::Connect)?;
        // One connection first, on its own: a pool would retry until its timeout and then
        // report only that it timed out, where this names the cause (no such host, connection
        // refused, a wrong password, a missing database).
        PgConnection::connect_with(&options)
            .await
            .map_err(StoreError::Connect)?
            .close()
            .await
            .map_err(StoreError::Connect)?;
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_lazy_with(options);
        MIGRATOR.run(&pool).await.map_err(StoreError::Migrate)?;
        Ok(PostgresStore {
            pool: write::StorePool::new(pool),
        })
    }
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
        "53100" => Some("the disk holding the database is full"),
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
        let guard = TestDatabase { name: name.clone() };
        let mut url = server();
        let cut = url.rfind('/').expect("a database in the URL");
        url.truncate(cut + 1);
        url.push_str(&name);
        let store = PostgresStore::open(&url)
            .await
            .expect("opening the test database");
        (store, guard)
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
        let lost = crate::StoreError::from(sqlx::Error::PoolTimedOut);
        assert!(
            matches!(&lost, crate::StoreError::Unavailable(cause) if cause == "database unreachable"),
            "{lost:?}"
        );
    }
}
