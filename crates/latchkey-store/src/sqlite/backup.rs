//! The SQL of `crate::backup`: the online copy (`VACUUM INTO`), the checks a file passes
//! before it is restored (an SQLite file, whole, with latchkey's schema no newer than this
//! latchkey's), the migrations a restored file gets, and the check that no process has a
//! database open before it is replaced.

use super::MIGRATOR;
use crate::backup::{BackupError, Contents};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{ConnectOptions, Connection, SqliteConnection, SqlitePool};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// The first 16 bytes of every SQLite database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// How long the copy waits for a writer's lock: a read in WAL mode waits for no one, but
/// opening may need to recover a WAL left by a crash.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The file an `sqlite:` URL names.
pub(crate) fn file_of(database_url: &str) -> Result<PathBuf, BackupError> {
    let options =
        SqliteConnectOptions::from_str(database_url).map_err(crate::StoreError::Connect)?;
    let file = options.get_filename();
    if file.as_os_str().is_empty() || file.to_string_lossy().contains(":memory:") {
        return Err(BackupError::NotAFile(
            "an in-memory database has no file to back up or restore: use sqlite://PATH".to_owned(),
        ));
    }
    Ok(file.to_owned())
}

/// The database file and the two SQLite keeps beside it in WAL mode.
pub(crate) fn companions(database: &Path) -> [PathBuf; 3] {
    let with = |suffix: &str| {
        let mut name = database.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    [database.to_owned(), with("-wal"), with("-shm")]
}

/// Whether the file starts as every SQLite database does.
pub(crate) fn has_sqlite_header(file: &Path) -> std::io::Result<bool> {
    let mut header = [0u8; 16];
    let mut reader = std::fs::File::open(file)?;
    match reader.read_exact(&mut header) {
        Ok(()) => Ok(&header == SQLITE_HEADER),
        Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(error) => Err(error),
    }
}

/// Copies the database into `partial` (an empty file) in one read transaction, then checks
/// and counts the copy.
pub(crate) async fn copy(database: &Path, partial: &Path) -> Result<Contents, BackupError> {
    // Read-only: a backup writes nothing to the database it copies (no migration either).
    let mut source = SqliteConnectOptions::new()
        .filename(database)
        .read_only(true)
        .busy_timeout(BUSY_TIMEOUT)
        .connect()
        .await
        .map_err(|error| damaged(database, error))?;
    schema_version(&mut source, database).await?;
    let target = partial.to_str().ok_or_else(|| {
        BackupError::NotAFile(format!("{} is not a UTF-8 path", partial.display()))
    })?;
    sqlx::query("VACUUM INTO ?")
        .bind(target)
        .execute(&mut source)
        .await?;
    source.close().await?;
    // Nothing else knows the partial file: immutable spares the locks and any -shm.
    let mut copy = SqliteConnectOptions::new()
        .filename(partial)
        .read_only(true)
        .immutable(true)
        .connect()
        .await?;
    check_whole(&mut copy, partial).await?;
    let contents = contents(&mut copy, partial).await?;
    copy.close().await?;
    Ok(contents)
}

/// A file checked and migrated for a restore.
pub(crate) struct Prepared {
    pub(crate) contents: Contents,
    pub(crate) backup_schema_version: i64,
}

/// Checks the copy of a backup at `partial` (`file` is its name for messages), applies the
/// migrations it lacks, and leaves it in WAL mode with no `-wal` beside it, as latchkey keeps
/// its database.
pub(crate) async fn prepare(partial: &Path, file: &Path) -> Result<Prepared, BackupError> {
    let options = SqliteConnectOptions::new()
        .filename(partial)
        // The copy's own rollback journal while it is checked and migrated, so that no -wal
        // of it is ever left to lose.
        .journal_mode(SqliteJournalMode::Delete)
        .synchronous(sqlx::sqlite::SqliteSynchronous::Full)
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .map_err(|error| damaged(file, error))?;
    let prepared = check_and_migrate(&pool, file).await;
    let switched = match &prepared {
        Ok(_) => {
            sqlx::query_scalar::<_, String>("PRAGMA journal_mode = WAL")
                .fetch_one(&pool)
                .await
        }
        Err(_) => Ok(String::new()),
    };
    // Closing the last connection checkpoints and removes the copy's -wal and -shm.
    pool.close().await;
    let prepared = prepared?;
    if switched? != "wal" {
        return Err(BackupError::Damaged {
            path: file.to_owned(),
            report: "SQLite could not put it in WAL mode".to_owned(),
        });
    }
    if companions(partial)[1].exists() {
        return Err(BackupError::Damaged {
            path: file.to_owned(),
            report: "SQLite left a write-ahead log beside its copy".to_owned(),
        });
    }
    Ok(prepared)
}

async fn check_and_migrate(pool: &SqlitePool, file: &Path) -> Result<Prepared, BackupError> {
    let mut conn = pool.acquire().await?;
    check_whole(&mut conn, file).await?;
    let backup_schema_version = schema_version(&mut conn, file).await?;
    let known = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
    if backup_schema_version > known {
        return Err(BackupError::Newer {
            path: file.to_owned(),
            version: backup_schema_version,
            known,
        });
    }
    drop(conn);
    super::migrate::run(pool, &MIGRATOR).await?;
    let mut conn = pool.acquire().await?;
    let contents = contents(&mut conn, file).await?;
    Ok(Prepared {
        contents,
        backup_schema_version,
    })
}

/// Fails with `Damaged` unless SQLite's `integrity_check` finds the file whole.
async fn check_whole(conn: &mut SqliteConnection, file: &Path) -> Result<(), BackupError> {
    let report: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut *conn)
        .await
        .map_err(|error| damaged(file, error))?;
    if report != ["ok"] {
        return Err(BackupError::Damaged {
            path: file.to_owned(),
            report: format!("integrity_check says {}", report.join("; ")),
        });
    }
    Ok(())
}

/// The newest migration applied, after checking the file has latchkey's schema: sqlx's
/// bookkeeping table, holding latchkey's first migration with its checksum.
async fn schema_version(conn: &mut SqliteConnection, file: &Path) -> Result<i64, BackupError> {
    let has_table: bool = sqlx::query_scalar(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(|error| damaged(file, error))?;
    let first = MIGRATOR.iter().next().expect("latchkey has migrations");
    let first_checksum: Option<Vec<u8>> = if has_table {
        sqlx::query_scalar("SELECT checksum FROM _sqlx_migrations WHERE version = ? AND success")
            .bind(first.version)
            .fetch_optional(&mut *conn)
            .await?
    } else {
        None
    };
    if first_checksum.as_deref() != Some(&*first.checksum) {
        return Err(BackupError::NotLatchkey(file.to_owned()));
    }
    Ok(
        sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(&mut *conn)
            .await?,
    )
}

/// Counts what the database holds.
async fn contents(conn: &mut SqliteConnection, file: &Path) -> Result<Contents, BackupError> {
    let count = |table: &'static str| format!("SELECT count(*) FROM {table}");
    let mut counts = [0i64; 3];
    for (slot, table) in counts.iter_mut().zip(["tenants", "apps", "signing_keys"]) {
        *slot = sqlx::query_scalar(&count(table))
            .fetch_one(&mut *conn)
            .await?;
    }
    let master_key_ids = sqlx::query_scalar(
        "SELECT DISTINCT master_key_id FROM signing_keys WHERE master_key_id IS NOT NULL \
         ORDER BY master_key_id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let [tenants, apps, signing_keys] = counts.map(|n| u64::try_from(n).unwrap_or(0));
    Ok(Contents {
        tenants,
        apps,
        signing_keys,
        master_key_ids,
        schema_version: schema_version(conn, file).await?,
    })
}

/// A connection holding the exclusive lock of a database that no other process has open.
pub(crate) struct Hold {
    _conn: SqliteConnection,
}

/// Takes the database for this process alone, or fails with `InUse` when another process has
/// it open. Leaving WAL mode needs every other connection closed (SQLite then keeps the old
/// mode and says so), and every latchkey process keeps its connections open while it runs;
/// the exclusive lock taken next keeps a process that opens the file now waiting until the
/// file is replaced. A database SQLite cannot read is not one a server can run on: it is
/// replaced without this check.
pub(crate) async fn hold_unused(database: &Path) -> Result<Option<Hold>, BackupError> {
    let opened = SqliteConnectOptions::new()
        .filename(database)
        .busy_timeout(Duration::ZERO)
        .pragma("locking_mode", "EXCLUSIVE")
        .connect()
        .await;
    let mut conn = match opened {
        Ok(conn) => conn,
        Err(error) if is_busy(&error) => return Err(BackupError::InUse(database.to_owned())),
        Err(_) => return Ok(None),
    };
    let mode = match sqlx::query_scalar::<_, String>("PRAGMA journal_mode = DELETE")
        .fetch_one(&mut conn)
        .await
    {
        Ok(mode) => mode,
        Err(error) if is_busy(&error) => return Err(BackupError::InUse(database.to_owned())),
        Err(_) => return Ok(None),
    };
    if mode != "delete" {
        return Err(BackupError::InUse(database.to_owned()));
    }
    match sqlx::query("BEGIN EXCLUSIVE").execute(&mut conn).await {
        Ok(_) => Ok(Some(Hold { _conn: conn })),
        Err(error) if is_busy(&error) => Err(BackupError::InUse(database.to_owned())),
        Err(_) => Ok(None),
    }
}

/// SQLITE_BUSY or SQLITE_LOCKED: another connection holds a lock.
fn is_busy(error: &sqlx::Error) -> bool {
    matches!(primary_code(error), Some(5 | 6))
}

/// An error reading a file as a database: `Damaged` when SQLite says the file is corrupt
/// (SQLITE_CORRUPT) or not a database (SQLITE_NOTADB).
fn damaged(file: &Path, error: sqlx::Error) -> BackupError {
    match (primary_code(&error), &error) {
        (Some(11 | 26), sqlx::Error::Database(database)) => BackupError::Damaged {
            path: file.to_owned(),
            report: database.message().to_owned(),
        },
        _ => error.into(),
    }
}

/// SQLite's primary result code (the low byte of the extended code sqlx reports).
fn primary_code(error: &sqlx::Error) -> Option<i64> {
    let sqlx::Error::Database(database) = error else {
        return None;
    };
    let code: i64 = database.code()?.parse().ok()?;
    Some(code & 0xff)
}

#[cfg(test)]
mod tests {
    use crate::backup::{BackupError, Replace, backup, restore};
    use crate::{SqliteStore, Store};

    #[tokio::test]
    async fn a_backup_restores_as_a_store_and_never_over_one_that_is_open() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = |name: &str| format!("sqlite://{}", dir.path().join(name).display());
        let source = SqliteStore::open(&url("source.db")).await.expect("a store");
        let file = dir.path().join("backup.db");

        let contents = backup(&url("source.db"), &file, Replace::Never)
            .await
            .expect("a backup of an open store");
        assert_eq!((contents.tenants, contents.apps), (1, 0), "{contents:?}");
        let again = backup(&url("source.db"), &file, Replace::Never).await;
        assert!(matches!(again, Err(BackupError::Exists(_))), "{again:?}");

        let refused = restore(&file, &url("source.db"), Replace::Existing).await;
        assert!(matches!(refused, Err(BackupError::InUse(_))), "{refused:?}");
        assert_eq!(source.tenants().await.expect("still readable").len(), 1);
        source.pool.close().await;
        let restored = restore(&file, &url("source.db"), Replace::Existing)
            .await
            .expect("a restore once no connection is open");
        assert_eq!(restored.contents, contents);
        let reopened = SqliteStore::open(&url("source.db")).await.expect("a store");
        assert_eq!(
            reopened.tenants().await.expect("tenants")[0].name,
            "default"
        );
        let partial_left = std::fs::read_dir(dir.path())
            .expect("listing")
            .any(|entry| {
                entry
                    .expect("an entry")
                    .file_name()
                    .to_string_lossy()
                    .contains(".partial")
            });
        assert!(!partial_left, "no partial file is left");
    }

    #[tokio::test]
    async fn a_backup_of_an_older_schema_is_migrated_as_it_is_restored() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut migrations: Vec<_> =
            std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
                .expect("the migrations")
                .map(|entry| entry.expect("an entry").path())
                .collect();
        migrations.sort();
        migrations.pop();
        let older = dir.path().join("older-migrations");
        std::fs::create_dir(&older).expect("a folder");
        for migration in &migrations {
            std::fs::copy(
                migration,
                older.join(migration.file_name().expect("a name")),
            )
            .expect("copying a migration");
        }
        let older = sqlx::migrate::Migrator::new(older.as_path())
            .await
            .expect("the older migrations");
        let old_file = dir.path().join("old.db");
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&old_file)
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options)
            .await
            .expect("a pool");
        super::super::migrate::run(&pool, &older)
            .await
            .expect("the older schema");
        pool.close().await;

        let target = dir.path().join("restored.db");
        let url = format!("sqlite://{}", target.display());
        let restored = restore(&old_file, &url, Replace::Never)
            .await
            .expect("a restore of an older backup");
        let versions: Vec<i64> = super::MIGRATOR.iter().map(|m| m.version).collect();
        assert_eq!(
            (
                restored.backup_schema_version,
                restored.contents.schema_version
            ),
            (versions[versions.len() - 2], versions[versions.len() - 1])
        );
        SqliteStore::open_with(&url, crate::Create::Never)
            .await
            .expect("the restored database opens with nothing left to migrate");
    }
}
