//! Which backend the suite runs on, and a test's own database there.
//!
//! `LATCHKEY_TEST_BACKEND=sqlite|postgres` selects it. Unset, the test target decides: the suite
//! is built twice from the same files, as `api` (SQLite) and `api_postgres` (PostgreSQL, on
//! `LATCHKEY_TEST_POSTGRES`), so that `cargo test --workspace` runs it on both. A test that is
//! about one backend only says so with `skip_unless_sqlite` or `skip_unless_postgres`, and its
//! reason; every other test runs on both, unchanged.
//!
//! PostgreSQL has no file beside the database to keep a master key in: each test database gets
//! one in a file of its own, named after the database (`master_key_file_of`), and every command
//! the harness runs on that database gets it in `LATCHKEY_MASTER_KEY_FILE`, as the server and the
//! seeder do, so that a test reads the same on both backends.

use super::cli::latchkey_command;
use super::postgres::{PgDatabase, database_name, psql_value};
use latchkey_store::Store;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use tempfile::TempDir;

/// A backend the suite can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

/// The backend this run tests: `LATCHKEY_TEST_BACKEND`, else the test target's own.
pub(crate) fn backend() -> Backend {
    static SELECTED: OnceLock<Backend> = OnceLock::new();
    *SELECTED.get_or_init(|| match std::env::var("LATCHKEY_TEST_BACKEND").as_deref() {
        Ok("sqlite") => Backend::Sqlite,
        Ok("postgres") => Backend::Postgres,
        Ok(other) => panic!("LATCHKEY_TEST_BACKEND={other:?}: use sqlite or postgres"),
        Err(_) if env!("CARGO_CRATE_NAME") == "api_postgres" => Backend::Postgres,
        Err(_) => Backend::Sqlite,
    })
}

/// Whether a test that is only about SQLite must stop here (it says why on stderr).
pub(crate) fn skip_unless_sqlite(reason: &str) -> bool {
    skip_unless(Backend::Sqlite, reason)
}

/// Whether a test that is only about PostgreSQL must stop here (it says why on stderr).
pub(crate) fn skip_unless_postgres(reason: &str) -> bool {
    skip_unless(Backend::Postgres, reason)
}

fn skip_unless(wanted: Backend, reason: &str) -> bool {
    let skip = backend() != wanted;
    if skip {
        let name = match wanted {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        };
        eprintln!("skipped: runs on {name} only: {reason}");
    }
    skip
}

/// The master key file the harness gives every command on a PostgreSQL test database.
fn master_key_file_of(database: &str) -> PathBuf {
    std::env::temp_dir().join(format!("{database}.master-key"))
}

/// `latchkey --database URL` with the master key the database needs given, as every command
/// of a deployment on PostgreSQL is; on SQLite the CLI finds the file beside the database.
pub(crate) fn latchkey_on(db_url: &str) -> Command {
    let mut command = latchkey_command();
    command.arg("--database").arg(db_url);
    if let Some(file) = given_master_key(db_url) {
        command.env("LATCHKEY_MASTER_KEY_FILE", file);
    }
    command
}

/// The master key file of a PostgreSQL test database, if the harness made it one.
pub(crate) fn given_master_key(db_url: &str) -> Option<PathBuf> {
    let file = master_key_file_of(database_name(db_url)?);
    file.exists().then_some(file)
}

/// A test's own database on the selected backend, with a temporary folder for what the test
/// keeps beside it (logs, key files). Dropped (the folder removed, the PostgreSQL database
/// dropped) with this value.
pub(crate) struct TestDatabase {
    url: String,
    master_key_file: PathBuf,
    postgres: Option<PgDatabase>,
    dir: TempDir,
}

impl TestDatabase {
    /// The database of a new deployment, before any command ran on it: on SQLite a path with
    /// no file yet (nor a master key beside it), on PostgreSQL a database without tables and
    /// the master key every command is given.
    pub(crate) fn empty() -> TestDatabase {
        let dir = tempfile::tempdir().expect("creating a temporary directory");
        match backend() {
            Backend::Sqlite => TestDatabase::sqlite(dir),
            Backend::Postgres => TestDatabase::postgres(dir, PgDatabase::create()),
        }
    }

    /// A database that holds latchkey's schema, and its master key, in `dir` on SQLite (a
    /// folder on a file system of the test's choosing).
    pub(crate) async fn migrated_in(dir: TempDir) -> (TestDatabase, Arc<dyn Store>) {
        let database = match backend() {
            Backend::Sqlite => TestDatabase::sqlite(dir),
            Backend::Postgres => TestDatabase::postgres(dir, PgDatabase::migrated()),
        };
        if !database.master_key_file.exists() {
            write_master_key(&database.master_key_file);
        }
        let store = latchkey_store::open(&database.url)
            .await
            .expect("opening the test database");
        (database, store)
    }

    fn sqlite(dir: TempDir) -> TestDatabase {
        let path = dir.path().join("latchkey.db");
        TestDatabase {
            url: format!("sqlite://{}", path.display()),
            master_key_file: dir.path().join("latchkey.db.master-key"),
            postgres: None,
            dir,
        }
    }

    fn postgres(dir: TempDir, database: PgDatabase) -> TestDatabase {
        let master_key_file = master_key_file_of(database.name());
        write_master_key(&master_key_file);
        TestDatabase {
            url: database.url(),
            master_key_file,
            postgres: Some(database),
            dir,
        }
    }

    /// The database URL.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// The temporary folder that lives as long as the database.
    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Where the master key of this database is: beside the SQLite file (where the CLI makes
    /// it when there is none yet), or the file given with every command on PostgreSQL.
    pub(crate) fn master_key_file(&self) -> &Path {
        &self.master_key_file
    }

    /// Whether nothing has been written to the database yet: no SQLite file, or no table in
    /// the PostgreSQL database.
    pub(crate) fn is_untouched(&self) -> bool {
        match &self.postgres {
            None => !self.dir.path().join("latchkey.db").exists(),
            Some(_) => {
                psql_value(
                    &self.url,
                    "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
                ) == "0"
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.postgres.is_some() {
            let _ = std::fs::remove_file(&self.master_key_file);
        }
    }
}

fn write_master_key(file: &Path) {
    std::fs::write(file, latchkey_keys::master_key::generate_text())
        .expect("writing the master key");
}
