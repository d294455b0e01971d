//! Apps and their secrets on PostgreSQL, as the admin paths read and write them (the snapshot
//! load reads them through `scan` instead).

use super::write::{StorePool, WriteTx};
use crate::columns::{AppColumns, SETTINGS_COLUMNS, SettingsColumns, secret_hash};
use crate::{AppQuery, AppRecord, AuditEvent, SecretRecord, StoreError, StoreResult};
use latchkey_protocol::AppSettings;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder, Row};
use std::collections::HashMap;
use std::sync::LazyLock;

/// The columns of an app that are not its settings, in the order the statements below bind
/// them.
const APP_OWN_COLUMNS: &str =
    "client_id, tenant, name, enabled, tokens_revoked_before, revision, created_at, updated_at";

/// Every column of an app, for the SELECTs.
pub(super) static APP_COLUMNS: LazyLock<String> =
    LazyLock::new(|| format!("{APP_OWN_COLUMNS}, {}", SETTINGS_COLUMNS.join(", ")));

/// `$from, $from+1, ...`: one placeholder per settings column.
fn settings_placeholders(from: usize) -> Vec<String> {
    (from..from + SETTINGS_COLUMNS.len())
        .map(|n| format!("${n}"))
        .collect()
}

static INSERT_APP: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO apps ({APP_OWN_COLUMNS}, {}) VALUES ($1, $2, $3, $4, $5, 1, $6, $7, {})",
        SETTINGS_COLUMNS.join(", "),
        settings_placeholders(8).join(", ")
    )
});

static UPDATE_APP: LazyLock<String> = LazyLock::new(|| {
    let next = 5 + SETTINGS_COLUMNS.len();
    format!(
        "UPDATE apps SET name = $1, enabled = $2, tokens_revoked_before = $3, updated_at = $4, {}, \
         revision = revision + 1 WHERE tenant = ${} AND client_id = ${} AND revision = ${}",
        SETTINGS_COLUMNS
            .iter()
            .zip(settings_placeholders(5))
            .map(|(column, placeholder)| format!("{column} = {placeholder}"))
            .collect::<Vec<_>>()
            .join(", "),
        next,
        next + 1,
        next + 2
    )
});

/// Binds an app's settings in `SETTINGS_COLUMNS` order: the one place a write states them.
fn bind_settings<'q>(
    query: Query<'q, Postgres, PgArguments>,
    settings: &AppSettings,
) -> Query<'q, Postgres, PgArguments> {
    let SettingsColumns {
        app_type,
        scopes,
        default_scopes,
        grant_types,
        token_ttl,
        can_introspect,
        token_reuse_percent,
        audiences,
        custom_claims,
        rate_limit,
        rate_limit_monitor,
        jwks,
        jwks_uri,
        federation,
    } = SettingsColumns::encode(settings);
    query
        .bind(app_type)
        .bind(scopes)
        .bind(default_scopes)
        .bind(grant_types)
        .bind(token_ttl)
        .bind(can_introspect)
        .bind(token_reuse_percent)
        .bind(audiences)
        .bind(custom_claims)
        .bind(rate_limit)
        .bind(rate_limit_monitor)
        .bind(jwks)
        .bind(jwks_uri)
        .bind(federation)
}

/// Reads an app's settings columns from a row, by name.
pub(super) fn settings_from_row(row: &PgRow) -> StoreResult<SettingsColumns<&str>> {
    Ok(SettingsColumns {
        app_type: row.try_get("app_type")?,
        scopes: row.try_get("scopes")?,
        default_scopes: row.try_get("default_scopes")?,
        grant_types: row.try_get("grant_types")?,
        token_ttl: row.try_get("token_ttl")?,
        can_introspect: row.try_get("can_introspect")?,
        token_reuse_percent: row.try_get("token_reuse_percent")?,
        audiences: row.try_get("audiences")?,
        custom_claims: row.try_get("custom_claims")?,
        rate_limit: row.try_get("rate_limit")?,
        rate_limit_monitor: row.try_get("rate_limit_monitor")?,
        jwks: row.try_get("jwks")?,
        jwks_uri: row.try_get("jwks_uri")?,
        federation: row.try_get("federation")?,
    })
}

pub(super) fn app_from_row(row: &PgRow) -> StoreResult<AppRecord> {
    AppColumns {
        client_id: row.try_get("client_id")?,
        tenant: row.try_get("tenant")?,
        name: row.try_get("name")?,
        enabled: row.try_get("enabled")?,
        settings: settings_from_row(row)?,
        tokens_revoked_before: row.try_get("tokens_revoked_before")?,
        revision: row.try_get("revision")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    }
    .into_record()
}

/// A secret row (`client_id, secret_hash, created_at, expires_at`) and the app it belongs to.
pub(super) fn secret_from_row(row: &PgRow) -> StoreResult<(String, SecretRecord)> {
    Ok((
        row.try_get("client_id")?,
        SecretRecord {
            hash: secret_hash(row.try_get("secret_hash")?)?,
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
        },
    ))
}

/// Decodes app rows and adds their secrets: one more query however many apps.
async fn with_secrets(pool: &PgPool, rows: &[PgRow]) -> StoreResult<Vec<AppRecord>> {
    let mut apps = rows
        .iter()
        .map(app_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    if apps.is_empty() {
        return Ok(apps);
    }
    let ids: Vec<&str> = apps.iter().map(|app| app.client_id.as_str()).collect();
    let rows = sqlx::query(
        "SELECT client_id, secret_hash, created_at, expires_at FROM app_secrets \
         WHERE client_id = ANY($1) ORDER BY id",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    let mut secrets: HashMap<String, Vec<SecretRecord>> = HashMap::new();
    for row in &rows {
        let (client_id, secret) = secret_from_row(row)?;
        secrets.entry(client_id).or_default().push(secret);
    }
    for app in &mut apps {
        app.secrets = secrets.remove(&app.client_id).unwrap_or_default();
    }
    Ok(apps)
}

pub(super) async fn create(
    pool: &StorePool,
    app: &AppRecord,
    audit: Option<&AuditEvent>,
) -> StoreResult<()> {
    let mut tx = WriteTx::begin(pool).await?;
    let inserted = bind_settings(
        sqlx::query(&INSERT_APP)
            .bind(&app.client_id)
            .bind(&app.tenant)
            .bind(&app.name)
            .bind(app.enabled)
            .bind(app.tokens_revoked_before)
            .bind(app.created_at)
            .bind(app.updated_at),
        &app.settings,
    )
    .execute(tx.conn())
    .await;
    match inserted {
        Err(sqlx::Error::Database(error)) if error.is_foreign_key_violation() => {
            return Err(StoreError::NotFound(format!("tenant {:?}", app.tenant)));
        }
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
            return Err(StoreError::AlreadyExists(format!("app {}", app.client_id)));
        }
        other => other?,
    };
    for secret in &app.secrets {
        insert_secret(tx.conn(), &app.client_id, secret).await?;
    }
    tx.commit_with(audit).await
}

async fn insert_secret(
    conn: &mut PgConnection,
    client_id: &str,
    secret: &SecretRecord,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO app_secrets (client_id, secret_hash, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(client_id)
    .bind(secret.hash.as_bytes().as_slice())
    .bind(secret.created_at)
    .bind(secret.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn one(
    pool: &PgPool,
    tenant: &str,
    client_id: &str,
) -> StoreResult<Option<AppRecord>> {
    let row = sqlx::query(&format!(
        "SELECT {} FROM apps WHERE tenant = $1 AND client_id = $2",
        *APP_COLUMNS
    ))
    .bind(tenant)
    .bind(client_id)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(with_secrets(pool, &[row]).await?.pop())
}

pub(super) async fn of_tenant(pool: &PgPool, tenant: &str) -> StoreResult<Vec<AppRecord>> {
    let rows = sqlx::query(&format!(
        "SELECT {} FROM apps WHERE tenant = $1 ORDER BY name, client_id",
        *APP_COLUMNS
    ))
    .bind(tenant)
    .fetch_all(pool)
    .await?;
    with_secrets(pool, &rows).await
}

pub(super) async fn list(
    pool: &PgPool,
    tenant: &str,
    query: &AppQuery,
) -> StoreResult<Vec<AppRecord>> {
    let mut sql =
        QueryBuilder::<Postgres>::new(format!("SELECT {} FROM apps WHERE tenant = ", *APP_COLUMNS));
    sql.push_bind(tenant);
    if let Some(text) = &query.name_contains {
        sql.push(" AND strpos(lower(name), lower(")
            .push_bind(text.as_str())
            .push(")) > 0");
    }
    if let Some(app_type) = query.app_type {
        sql.push(" AND app_type = ").push_bind(app_type.as_str());
    }
    if let Some(enabled) = query.enabled {
        sql.push(" AND enabled = ").push_bind(enabled);
    }
    if let Some((name, client_id)) = &query.after {
        sql.push(" AND (name, client_id) > (")
            .push_bind(name.as_str())
            .push(", ")
            .push_bind(client_id.as_str())
            .push(")");
    }
    sql.push(" ORDER BY name, client_id LIMIT ")
        .push_bind(i64::from(query.limit));
    let rows = sql.build().fetch_all(pool).await?;
    with_secrets(pool, &rows).await
}

pub(super) async fn by_id(pool: &PgPool, client_ids: &[String]) -> StoreResult<Vec<AppRecord>> {
    let rows = sqlx::query(&format!(
        "SELECT {} FROM apps WHERE client_id = ANY($1)",
        *APP_COLUMNS
    ))
    .bind(client_ids)
    .fetch_all(pool)
    .await?;
    with_secrets(pool, &rows).await
}

pub(super) async fn update(
    pool: &StorePool,
    app: &AppRecord,
    audit: Option<&AuditEvent>,
) -> StoreResult<()> {
    let mut tx = WriteTx::begin(pool).await?;
    let result = bind_settings(
        sqlx::query(&UPDATE_APP)
            .bind(&app.name)
            .bind(app.enabled)
            .bind(app.tokens_revoked_before)
            .bind(app.updated_at),
        &app.settings,
    )
    .bind(&app.tenant)
    .bind(&app.client_id)
    .bind(app.revision)
    .execute(tx.conn())
    .await?;
    if result.rows_affected() == 1 {
        return tx.commit_with(audit).await;
    }
    let exists = sqlx::query("SELECT 1 FROM apps WHERE tenant = $1 AND client_id = $2")
        .bind(&app.tenant)
        .bind(&app.client_id)
        .fetch_optional(tx.conn())
        .await?;
    match exists {
        Some(_) => Err(StoreError::ChangedConcurrently(format!(
            "app {}",
            app.client_id
        ))),
        None => Err(StoreError::NotFound(format!("app {}", app.client_id))),
    }
}

pub(super) async fn max_token_ttl(pool: &PgPool, tenant: &str) -> StoreResult<Option<u32>> {
    let ttl: Option<i64> =
        sqlx::query_scalar("SELECT max_token_ttl_seen FROM tenants WHERE name = $1")
            .bind(tenant)
            .fetch_optional(pool)
            .await?;
    Ok(ttl
        .filter(|ttl| *ttl > 0)
        .and_then(|ttl| u32::try_from(ttl).ok()))
}

pub(super) async fn delete(
    pool: &StorePool,
    tenant: &str,
    client_id: &str,
    audit: Option<&AuditEvent>,
) -> StoreResult<()> {
    let mut tx = WriteTx::begin(pool).await?;
    let result = sqlx::query("DELETE FROM apps WHERE tenant = $1 AND client_id = $2")
        .bind(tenant)
        .bind(client_id)
        .execute(tx.conn())
        .await?;
    if result.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("app {client_id}")));
    }
    tx.commit_with(audit).await
}

/// Removes every secret of an app (which then proves itself with keys or federation only);
/// false when the tenant has no such app.
pub(super) async fn remove_secrets(
    pool: &StorePool,
    tenant: &str,
    client_id: &str,
    now: i64,
    audit: Option<&AuditEvent>,
) -> StoreResult<bool> {
    let mut tx = WriteTx::begin(pool).await?;
    // Touching the app first both finds it and records the change in its revision.
    let touched = sqlx::query(
        "UPDATE apps SET updated_at = $1, revision = revision + 1 WHERE tenant = $2 AND client_id = $3",
    )
    .bind(now)
    .bind(tenant)
    .bind(client_id)
    .execute(tx.conn())
    .await?;
    if touched.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM app_secrets WHERE client_id = $1")
        .bind(client_id)
        .execute(tx.conn())
        .await?;
    tx.commit_with(audit).await?;
    Ok(true)
}

pub(super) async fn replace_secret(
    pool: &StorePool,
    tenant: &str,
    client_id: &str,
    secret: SecretRecord,
    old_expires_at: Option<i64>,
    audit: Option<&AuditEvent>,
) -> StoreResult<()> {
    let mut tx = WriteTx::begin(pool).await?;
    let exists = sqlx::query("SELECT 1 FROM apps WHERE tenant = $1 AND client_id = $2")
        .bind(tenant)
        .bind(client_id)
        .fetch_optional(tx.conn())
        .await?;
    if exists.is_none() {
        return Err(StoreError::NotFound(format!("app {client_id}")));
    }
    match old_expires_at {
        // Secrets already in a grace period keep their earlier end.
        Some(end) => {
            sqlx::query(
                "UPDATE app_secrets SET expires_at = $1 WHERE client_id = $2 AND (expires_at IS NULL OR expires_at > $1)",
            )
            .bind(end)
            .bind(client_id)
            .execute(tx.conn())
            .await?;
            sqlx::query("DELETE FROM app_secrets WHERE client_id = $1 AND expires_at <= $2")
                .bind(client_id)
                .bind(secret.created_at)
                .execute(tx.conn())
                .await?;
        }
        None => {
            sqlx::query("DELETE FROM app_secrets WHERE client_id = $1")
                .bind(client_id)
                .execute(tx.conn())
                .await?;
        }
    }
    insert_secret(tx.conn(), client_id, &secret).await?;
    // Touch the app so that its revision and updated_at record the rotation.
    sqlx::query("UPDATE apps SET updated_at = $1, revision = revision + 1 WHERE client_id = $2")
        .bind(secret.created_at)
        .bind(client_id)
        .execute(tx.conn())
        .await?;
    tx.commit_with(audit).await
}

pub(super) async fn count(pool: &PgPool) -> StoreResult<u64> {
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM apps")
        .fetch_one(pool)
        .await?;
    Ok(count.unsigned_abs())
}
