//! A whole PostgreSQL store read in one repeatable, read-only transaction (`export`) and
//! written in one (`import`): each table's rows go in as one array per column, a batch at a
//! time, through `INSERT ... SELECT FROM UNNEST(...)`, one statement per batch however many
//! rows.

use super::write::WriteTx;
use super::{apps, audit, keys, revocations, tenants};
use crate::columns::SettingsColumns;
use crate::{AppRecord, Dump, StoreResult};
use sqlx::{PgConnection, PgPool};
use std::sync::LazyLock;

/// Rows per INSERT: large enough that a million apps take a hundred statements, small enough
/// that a batch's arrays stay a few megabytes.
const BATCH: usize = 10_000;

pub(super) async fn export(pool: &PgPool, now: i64) -> StoreResult<Dump> {
    let mut tx = pool.begin().await?;
    // Every statement below reads the snapshot the first one takes, whatever commits meanwhile.
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    // A whole deployment takes longer than the statement timeout meant for admin writes.
    sqlx::query("SET LOCAL statement_timeout = 0")
        .execute(&mut *tx)
        .await?;
    let dump = crate::dump::read_whole_store!(tx, now);
    tx.rollback().await?;
    Ok(dump)
}

/// The triggers that announce each app and secret row: silent during an import, which
/// announces each tenant once instead (see `Store::import`).
const ROW_TRIGGERS: [(&str, &str); 2] = [
    ("apps", "apps_changed"),
    ("app_secrets", "app_secrets_changed"),
];

pub(super) async fn import(pool: &super::write::StorePool, dump: &Dump) -> StoreResult<()> {
    // The change log's lock first, as every write takes it: no other writer runs until this
    // transaction ends, so the emptiness checked here still holds at the commit.
    let mut tx = WriteTx::begin(pool).await?;
    sqlx::query("SET LOCAL statement_timeout = 0")
        .execute(tx.conn())
        .await?;
    crate::dump::check_import_target!(tx.conn(), dump);
    // Transactional, like all DDL here: a failed import leaves the triggers enabled. The
    // tables are latchkey's own (it created them), which ALTER TABLE requires.
    for (table, trigger) in ROW_TRIGGERS {
        sqlx::query(&format!("ALTER TABLE {table} DISABLE TRIGGER {trigger}"))
            .execute(tx.conn())
            .await?;
    }
    let names: Vec<&str> = dump.tenants.iter().map(|t| t.name.as_str()).collect();
    // Their domains go with them (ON DELETE CASCADE); they have no apps or keys to hold them.
    sqlx::query("DELETE FROM tenants WHERE name = ANY($1)")
        .bind(&names)
        .execute(tx.conn())
        .await?;
    sqlx::query(
        "INSERT INTO tenants \
             (name, issuer, token_profile, publish_scopes, max_assertion_lifetime, created_at, updated_at) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bool[], $5::int8[], $6::int8[], $7::int8[])",
    )
    .bind(&names)
    .bind(dump.tenants.iter().map(|t| t.issuer.as_deref()).collect::<Vec<_>>())
    .bind(dump.tenants.iter().map(|t| t.token_profile.as_str()).collect::<Vec<_>>())
    .bind(dump.tenants.iter().map(|t| t.publish_scopes).collect::<Vec<_>>())
    .bind(
        dump.tenants
            .iter()
            .map(|t| t.max_assertion_lifetime.map(i64::from))
            .collect::<Vec<_>>(),
    )
    .bind(dump.tenants.iter().map(|t| t.created_at).collect::<Vec<_>>())
    .bind(dump.tenants.iter().map(|t| t.updated_at).collect::<Vec<_>>())
    .execute(tx.conn())
    .await?;
    for tenant in &dump.tenants {
        tenants::insert_domains(tx.conn(), &tenant.name, &tenant.domains).await?;
    }
    for chunk in dump.apps.chunks(BATCH) {
        insert_apps(tx.conn(), chunk).await?;
        insert_secrets(tx.conn(), chunk).await?;
    }
    for key in &dump.keys {
        if !keys::insert_row(tx.conn(), key).await? {
            return Err(crate::dump::conflicting_key(key));
        }
    }
    for chunk in dump.revocations.chunks(BATCH) {
        sqlx::query(
            "INSERT INTO revoked_tokens (jti, tenant, client_id, expires_at, revoked_at) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[]) \
             ON CONFLICT (tenant, jti) DO NOTHING",
        )
        .bind(chunk.iter().map(|r| r.jti.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|r| r.tenant.as_str()).collect::<Vec<_>>())
        .bind(
            chunk
                .iter()
                .map(|r| r.client_id.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(chunk.iter().map(|r| r.expires_at).collect::<Vec<_>>())
        .bind(chunk.iter().map(|r| r.revoked_at).collect::<Vec<_>>())
        .execute(tx.conn())
        .await?;
    }
    // Events follow the store's own, if it has any: ids stay unique and in order.
    let offset: i64 = sqlx::query_scalar("SELECT coalesce(max(id), 0)::int8 FROM audit_events")
        .fetch_one(tx.conn())
        .await?;
    for chunk in dump.audit.chunks(BATCH) {
        sqlx::query(
            "INSERT INTO audit_events (id, at, tenant, actor, action, target, details) \
             SELECT * FROM UNNEST($1::int8[], $2::int8[], $3::text[], $4::text[], $5::text[], \
             $6::text[], $7::text[])",
        )
        .bind(chunk.iter().map(|e| e.id + offset).collect::<Vec<_>>())
        .bind(chunk.iter().map(|e| e.at).collect::<Vec<_>>())
        .bind(chunk.iter().map(|e| e.tenant.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|e| e.actor.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|e| e.action.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|e| e.target.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|e| e.details.as_str()).collect::<Vec<_>>())
        .execute(tx.conn())
        .await
        .map_err(crate::dump::duplicate_in_dump)?;
    }
    for sql in [
        // Ids given explicitly leave the sequence behind: the next event must come after them.
        "SELECT setval(pg_get_serial_sequence('audit_events', 'id'), max(id)) FROM audit_events \
         HAVING max(id) IS NOT NULL",
        // What the silenced app trigger would have kept, once per tenant.
        "UPDATE tenants t SET max_token_ttl_seen = m.ttl \
         FROM (SELECT tenant, max(token_ttl) AS ttl FROM apps GROUP BY tenant) m \
         WHERE m.tenant = t.name AND m.ttl > t.max_token_ttl_seen",
        // One change per tenant stands for its apps, through the function every change goes
        // through, so that it is announced as any other.
        "SELECT latchkey_append_change('tenant', name, name) FROM tenants",
    ] {
        sqlx::query(sql).execute(tx.conn()).await?;
    }
    for (table, trigger) in ROW_TRIGGERS {
        sqlx::query(&format!("ALTER TABLE {table} ENABLE TRIGGER {trigger}"))
            .execute(tx.conn())
            .await?;
    }
    tx.commit().await
}

/// One batch of apps (their settings encoded as stored), in the order of `APP_COLUMNS`.
async fn insert_apps(conn: &mut PgConnection, batch: &[AppRecord]) -> StoreResult<()> {
    static INSERT: LazyLock<String> = LazyLock::new(|| {
        format!(
            "INSERT INTO apps ({}) SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], \
             $4::bool[], $5::int8[], $6::int8[], $7::int8[], $8::int8[], $9::text[], $10::text[], \
             $11::text[], $12::text[], $13::int8[], $14::bool[], $15::int8[], $16::text[], \
             $17::text[], $18::text[], $19::bool[], $20::text[], $21::text[], $22::text[])",
            *apps::APP_COLUMNS
        )
    });
    let settings: Vec<SettingsColumns<String>> = batch
        .iter()
        .map(|app| SettingsColumns::encode(&app.settings))
        .collect();
    let column = |text: fn(&SettingsColumns<String>) -> &str| -> Vec<&str> {
        settings.iter().map(text).collect()
    };
    sqlx::query(&INSERT)
        .bind(
            batch
                .iter()
                .map(|a| a.client_id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(batch.iter().map(|a| a.tenant.as_str()).collect::<Vec<_>>())
        .bind(batch.iter().map(|a| a.name.as_str()).collect::<Vec<_>>())
        .bind(batch.iter().map(|a| a.enabled).collect::<Vec<_>>())
        .bind(
            batch
                .iter()
                .map(|a| a.tokens_revoked_before)
                .collect::<Vec<_>>(),
        )
        .bind(batch.iter().map(|a| a.revision).collect::<Vec<_>>())
        .bind(batch.iter().map(|a| a.created_at).collect::<Vec<_>>())
        .bind(batch.iter().map(|a| a.updated_at).collect::<Vec<_>>())
        .bind(column(|s| &s.app_type))
        .bind(column(|s| &s.scopes))
        .bind(column(|s| &s.default_scopes))
        .bind(column(|s| &s.grant_types))
        .bind(settings.iter().map(|s| s.token_ttl).collect::<Vec<_>>())
        .bind(
            settings
                .iter()
                .map(|s| s.can_introspect)
                .collect::<Vec<_>>(),
        )
        .bind(
            settings
                .iter()
                .map(|s| s.token_reuse_percent)
                .collect::<Vec<_>>(),
        )
        .bind(column(|s| &s.audiences))
        .bind(
            settings
                .iter()
                .map(|s| s.custom_claims.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(
            settings
                .iter()
                .map(|s| s.rate_limit.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(
            settings
                .iter()
                .map(|s| s.rate_limit_monitor)
                .collect::<Vec<_>>(),
        )
        .bind(
            settings
                .iter()
                .map(|s| s.jwks.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(
            settings
                .iter()
                .map(|s| s.jwks_uri.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(
            settings
                .iter()
                .map(|s| s.federation.as_deref())
                .collect::<Vec<_>>(),
        )
        .execute(conn)
        .await
        .map_err(crate::dump::duplicate_in_dump)?;
    Ok(())
}

/// The secrets of a batch of apps, each app's in its order (their ids follow it, and an app's
/// secrets are read back by id).
async fn insert_secrets(conn: &mut PgConnection, batch: &[AppRecord]) -> StoreResult<()> {
    let secrets: Vec<_> = batch
        .iter()
        .flat_map(|app| app.secrets.iter().map(move |s| (app.client_id.as_str(), s)))
        .collect();
    if secrets.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO app_secrets (client_id, secret_hash, created_at, expires_at) \
         SELECT s.client_id, s.secret_hash, s.created_at, s.expires_at \
         FROM UNNEST($1::text[], $2::bytea[], $3::int8[], $4::int8[]) WITH ORDINALITY AS s (client_id, secret_hash, created_at, expires_at, n) ORDER BY n",
    )
    .bind(secrets.iter().map(|(id, _)| *id).collect::<Vec<_>>())
    .bind(
        secrets
            .iter()
            .map(|(_, s)| s.hash.as_bytes().as_slice())
            .collect::<Vec<_>>(),
    )
    .bind(secrets.iter().map(|(_, s)| s.created_at).collect::<Vec<_>>())
    .bind(secrets.iter().map(|(_, s)| s.expires_at).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    Ok(())
}
