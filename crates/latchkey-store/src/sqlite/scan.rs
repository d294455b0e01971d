//! The snapshot scan: every app with its secrets, read straight from the database file.
//!
//! A snapshot load reads every app, a million of them on a large deployment, and is what stands
//! between a restart and a server ready to answer. Through sqlx, each row crosses from sqlx's
//! worker thread to the caller one at a time, and that hand-over cost more than SQLite's own
//! work; packing pages of apps into JSON inside SQLite avoided it but spent as much again
//! building and parsing the JSON. So the scan opens its own read-only connection on a blocking
//! thread and reads the columns in place with rusqlite: one statement (one read transaction,
//! so one consistent view), apps in table order, each app's secrets joined through their index.
//! Decoded clients cross to the caller in batches. At a million apps this halved the time to
//! ready (docs/benchmarks.md).

use crate::columns::{
    ClientColumns, ClientDecoder, SETTINGS_COLUMNS, SettingsColumns, secret_hash,
};
use crate::{ScannedClient, StoreError, StoreResult};
use latchkey_protocol::StoredSecret;
use rusqlite::{Connection, OpenFlags, Row};
use std::path::PathBuf;
use std::sync::LazyLock;
use std::time::Duration;
use tokio::sync::mpsc;

/// One row per secret (or one with NULL secret columns for an app without any), an app's rows
/// next to each other: the join walks `app_secrets_by_client`, whose entries for one client are
/// in id order, so no sort is needed. Columns are read by position, in this order.
static SCAN: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT a.rowid, a.client_id, a.tenant, a.enabled, a.tokens_revoked_before, \
         s.secret_hash, s.expires_at, {} \
         FROM apps a LEFT JOIN app_secrets s ON s.client_id = a.client_id ORDER BY a.rowid, s.id",
        SETTINGS_COLUMNS
            .map(|column| format!("a.{column}"))
            .join(", ")
    )
});

/// Where `SCAN`'s settings columns start.
const SETTINGS_AT: usize = 7;

/// Clients per batch sent to the caller: enough to make the hand-over negligible, few enough to
/// keep memory flat.
const BATCH: usize = 1024;

/// Batches in flight between the reading thread and the caller.
const BATCHES_IN_FLIGHT: usize = 4;

/// The database the scan reads.
#[derive(Debug, Clone)]
pub(super) enum Source {
    /// A database file, by its full path.
    File(PathBuf),
    /// An in-memory database, by the shared-cache name sqlx gave it: every connection of this
    /// process that opens the name in shared-cache mode sees the same database.
    SharedMemory(PathBuf),
}

impl Source {
    fn open(&self) -> rusqlite::Result<Connection> {
        let read_only = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        match self {
            Source::File(path) => Connection::open_with_flags(path, read_only),
            Source::SharedMemory(name) => Connection::open_with_flags(
                name,
                read_only
                    | OpenFlags::SQLITE_OPEN_URI
                    | OpenFlags::SQLITE_OPEN_MEMORY
                    | OpenFlags::SQLITE_OPEN_SHARED_CACHE,
            ),
        }
    }
}

/// Scans the database, handing every client to `visit` on the caller's task.
pub(super) async fn scan(
    source: &Source,
    visit: &mut (dyn FnMut(ScannedClient) + Send),
) -> StoreResult<()> {
    let (sender, mut receiver) = mpsc::channel(BATCHES_IN_FLIGHT);
    let source = source.clone();
    let reader = tokio::task::spawn_blocking(move || read(&source, &sender));
    while let Some(batch) = receiver.recv().await {
        for client in batch {
            visit(client);
        }
    }
    match reader.await {
        Ok(result) => result,
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(_) => Err(StoreError::Scan("the scan was cancelled".into())),
    }
}

fn read(source: &Source, out: &mpsc::Sender<Vec<ScannedClient>>) -> StoreResult<()> {
    let db = source.open()?;
    // A reader never waits for a WAL writer, but may wait for a checkpoint's brief lock.
    db.busy_timeout(Duration::from_secs(10))?;
    let mut statement = db.prepare(&SCAN)?;
    let mut rows = statement.query([])?;
    let mut decoder = ClientDecoder::default();
    let mut batch = Vec::with_capacity(BATCH);
    // The app being read (by rowid) and the secrets seen for it so far.
    let mut current: Option<(i64, ScannedClient)> = None;
    let mut secrets: Vec<StoredSecret> = Vec::new();
    while let Some(row) = rows.next()? {
        let rowid: i64 = row.get(0)?;
        if current.as_ref().is_none_or(|(id, _)| *id != rowid) {
            if let Some((_, done)) = current.take() {
                batch.push(finish(done, &mut secrets));
                if batch.len() == BATCH && !send(out, &mut batch) {
                    return Ok(());
                }
            }
            current = Some((rowid, decoder.client(&columns(row)?)?));
        }
        if let Some(hash) = row.get_ref(5)?.as_blob_or_null()? {
            secrets.push(StoredSecret {
                hash: secret_hash(hash)?,
                expires_at: row.get(6)?,
            });
        }
    }
    if let Some((_, done)) = current.take() {
        batch.push(finish(done, &mut secrets));
    }
    send(out, &mut batch);
    Ok(())
}

/// Gives a client the secrets read for it, in one allocation of the exact size.
fn finish(mut scanned: ScannedClient, secrets: &mut Vec<StoredSecret>) -> ScannedClient {
    scanned.client.secrets = secrets.as_slice().into();
    secrets.clear();
    scanned
}

/// Sends a batch; false when the caller is gone (nothing left to read for).
fn send(out: &mpsc::Sender<Vec<ScannedClient>>, batch: &mut Vec<ScannedClient>) -> bool {
    let full = std::mem::replace(batch, Vec::with_capacity(BATCH));
    full.is_empty() || out.blocking_send(full).is_ok()
}

fn text<'r>(row: &'r Row<'_>, index: usize) -> StoreResult<&'r str> {
    Ok(row.get_ref(index)?.as_str()?)
}

/// An app's columns in place, by their position in `SCAN`.
fn columns<'r>(row: &'r Row<'_>) -> StoreResult<ClientColumns<'r>> {
    Ok(ClientColumns {
        client_id: text(row, 1)?,
        tenant: text(row, 2)?,
        enabled: row.get::<_, i64>(3)? != 0,
        tokens_revoked_before: row.get(4)?,
        settings: settings(row, SETTINGS_AT)?,
    })
}

/// An app's settings in place, the `SETTINGS_COLUMNS` from position `at` on.
fn settings<'r>(row: &'r Row<'_>, at: usize) -> StoreResult<SettingsColumns<&'r str>> {
    Ok(SettingsColumns {
        app_type: text(row, at)?,
        scopes: text(row, at + 1)?,
        default_scopes: text(row, at + 2)?,
        grant_types: text(row, at + 3)?,
        token_ttl: row.get(at + 4)?,
        can_introspect: row.get::<_, i64>(at + 5)? != 0,
        token_reuse_percent: row.get(at + 6)?,
        audiences: text(row, at + 7)?,
        custom_claims: row.get_ref(at + 8)?.as_str_or_null()?,
        rate_limit: row.get_ref(at + 9)?.as_str_or_null()?,
        rate_limit_monitor: row.get::<_, i64>(at + 10)? != 0,
        jwks: row.get_ref(at + 11)?.as_str_or_null()?,
        jwks_uri: row.get_ref(at + 12)?.as_str_or_null()?,
        federation: row.get_ref(at + 13)?.as_str_or_null()?,
    })
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> StoreError {
        StoreError::Scan(error.to_string())
    }
}

impl From<rusqlite::types::FromSqlError> for StoreError {
    fn from(error: rusqlite::types::FromSqlError) -> StoreError {
        // A column of an unexpected type: the row was not written by latchkey.
        StoreError::Corrupt(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use crate::{SqliteStore, Store, StoreError};

    #[tokio::test]
    async fn an_in_memory_database_is_scanned_too() {
        let store = SqliteStore::open("sqlite::memory:").await.unwrap();
        store
            .create_app(&crate::conformance::app("c1", "one"), None)
            .await
            .unwrap();
        let mut seen = Vec::new();
        store
            .scan_clients(&mut |scanned| seen.push(scanned.client.client_id))
            .await
            .unwrap();
        assert_eq!(seen, ["c1"]);
    }

    #[tokio::test]
    async fn a_row_latchkey_did_not_write_is_refused_not_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = SqliteStore::open(&url).await.unwrap();
        // A scope with a space-free but forbidden character (a quote), written behind
        // latchkey's back.
        sqlx::query(
            "INSERT INTO apps (client_id, tenant, name, app_type, scopes, token_ttl, created_at, \
             updated_at) VALUES ('c1', 'default', 'odd', 'm2m', 'read \"x', 300, 1, 1)",
        )
        .execute(&store.pool)
        .await
        .unwrap();
        let result = store.scan_clients(&mut |_| {}).await;
        assert!(
            matches!(&result, Err(StoreError::Corrupt(message)) if message.contains("\"x")),
            "{result:?}"
        );
    }
}
