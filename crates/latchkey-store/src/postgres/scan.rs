//! The snapshot scan on PostgreSQL: every app with its secrets in one statement (so one
//! consistent snapshot), its rows streamed as the server sends them rather than collected.

use super::apps::settings_from_row;
use crate::columns::{ClientColumns, ClientDecoder, SETTINGS_COLUMNS, secret_hash};
use crate::{ScannedClient, StoreResult};
use futures_util::TryStreamExt;
use latchkey_protocol::StoredSecret;
use sqlx::{PgPool, Row};
use std::sync::LazyLock;

/// One row per secret (or one with NULL secret columns for an app without any), an app's rows
/// next to each other (both tables are read in client id order through their indexes).
static SCAN: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT a.client_id, a.tenant, a.enabled, a.tokens_revoked_before, \
         s.secret_hash, s.expires_at, {} \
         FROM apps a LEFT JOIN app_secrets s ON s.client_id = a.client_id \
         ORDER BY a.client_id, s.id",
        SETTINGS_COLUMNS
            .map(|column| format!("a.{column}"))
            .join(", ")
    )
});

pub(super) async fn scan(
    pool: &PgPool,
    visit: &mut (dyn FnMut(ScannedClient) + Send),
) -> StoreResult<()> {
    // A million apps take longer than the statement timeout meant for admin writes.
    let mut tx = pool.begin().await?;
    sqlx::query("SET LOCAL statement_timeout = 0")
        .execute(&mut *tx)
        .await?;
    let mut rows = sqlx::query(&SCAN).fetch(&mut *tx);
    let mut decoder = ClientDecoder::default();
    let mut current: Option<ScannedClient> = None;
    let mut secrets: Vec<StoredSecret> = Vec::new();
    while let Some(row) = rows.try_next().await? {
        let client_id: &str = row.try_get("client_id")?;
        if current
            .as_ref()
            .is_none_or(|scanned| scanned.client.client_id != client_id)
        {
            if let Some(done) = current.take() {
                visit(finish(done, &mut secrets));
            }
            current = Some(decoder.client(&ClientColumns {
                client_id,
                tenant: row.try_get("tenant")?,
                enabled: row.try_get("enabled")?,
                tokens_revoked_before: row.try_get("tokens_revoked_before")?,
                settings: settings_from_row(&row)?,
            })?);
        }
        if let Some(hash) = row.try_get::<Option<&[u8]>, _>("secret_hash")? {
            secrets.push(StoredSecret {
                hash: secret_hash(hash)?,
                expires_at: row.try_get("expires_at")?,
            });
        }
    }
    if let Some(done) = current.take() {
        visit(finish(done, &mut secrets));
    }
    drop(rows);
    tx.commit().await?;
    Ok(())
}

/// Gives a client the secrets read for it, in one allocation of the exact size.
fn finish(mut scanned: ScannedClient, secrets: &mut Vec<StoredSecret>) -> ScannedClient {
    scanned.client.secrets = secrets.as_slice().into();
    secrets.clear();
    scanned
}
