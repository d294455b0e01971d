//! Apps and their secrets in SQLite, as the admin paths read and write them (the snapshot load
//! reads them through `scan` instead).

use super::write::WriteTx;
use super::{MAX_BINDS, rows_in};
use crate::columns::{AppColumns, SETTINGS_COLUMNS, SettingsColumns, secret_hash};
use crate::{AppQuery, AppRecord, AuditEvent, SecretRecord, StoreError, StoreResult};
use latchkey_protocol::AppSettings;
use sqlx::query::Query;
use sqlx::query_builder::Separated;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};
use std::collections::HashMap;
use std::sync::LazyLock;

/// The columns of an app that are not its settings, in the order `app_from_row` and the
/// statements below list them.
const APP_OWN_COLUMNS: &str =
    "client_id, tenant, name, enabled, tokens_revoked_before, revision, created_at, updated_at";

/// Every column of an app, for the SELECTs.
pub(super) static APP_COLUMNS: LazyLock<String> =
    LazyLock::new(|| format!("{APP_OWN_COLUMNS}, {}", SETTINGS_COLUMNS.join(", ")));

static INSERT_APP: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO apps ({APP_OWN_COLUMNS}, {}) VALUES (?, ?, ?, ?, ?, 1, ?, ?, {})",
        SETTINGS_COLUMNS.join(", "),
        ["?"; SETTINGS_COLUMNS.len()].join(", ")
    )
});

static UPDATE_APP: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE apps SET name = ?, enabled = ?, tokens_revoked_before = ?, updated_at = ?, {}, \
         revision = revision + 1 WHERE tenant = ? AND client_id = ? AND revision = ?",
        SETTINGS_COLUMNS
            .map(|column| format!("{column} = ?"))
            .join(", ")
    )
});

/// What an app's values are bound into: a statement's parameters, or one row of a multi-row
/// INSERT (an import's).
pub(super) trait Binds<'q>: Sized {
    fn value<T: 'q + sqlx::Encode<'q, Sqlite> + sqlx::Type<Sqlite>>(self, value: T) -> Self;
}

impl<'q> Binds<'q> for Query<'q, Sqlite, SqliteArguments<'q>> {
    fn value<T: 'q + sqlx::Encode<'q, Sqlite> + sqlx::Type<Sqlite>>(self, value: T) -> Self {
        self.bind(value)
    }
}

impl<'q> Binds<'q> for &mut Separated<'_, 'q, Sqlite, &'static str> {
    fn value<T: 'q + sqlx::Encode<'q, Sqlite> + sqlx::Type<Sqlite>>(self, value: T) -> Self {
        self.push_bind(value)
    }
}

/// Binds an app's settings in `SETTINGS_COLUMNS` order: the one place a write states them.
pub(super) fn bind_settings<'q, B: Binds<'q>>(query: B, settings: &AppSettings) -> B {
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
        .value(app_type)
        .value(scopes)
        .value(default_scopes)
        .value(grant_types)
        .value(token_ttl)
        .value(can_introspect)
        .value(token_reuse_percent)
        .value(audiences)
        .value(custom_claims)
        .value(rate_limit)
        .value(rate_limit_monitor)
        .value(jwks)
        .value(jwks_uri)
        .value(federation)
}

/// Reads an app's settings columns from a row, by name.
fn settings_from_row(row: &SqliteRow) -> StoreResult<SettingsColumns<&str>> {
    Ok(SettingsColumns {
        app_type: row.try_get("app_type")?,
        scopes: row.try_get("scopes")?,
        default_scopes: row.try_get("default_scopes")?,
        grant_types: row.try_get("grant_types")?,
        token_ttl: row.try_get("token_ttl")?,
        can_introspect: row.try_get::<i64, _>("can_introspect")? != 0,
        token_reuse_percent: row.try_get("token_reuse_percent")?,
        audiences: row.try_get("audiences")?,
        custom_claims: row.try_get("custom_claims")?,
        rate_limit: row.try_get("rate_limit")?,
        rate_limit_monitor: row.try_get::<i64, _>("rate_limit_monitor")? != 0,
        jwks: row.try_get("jwks")?,
        jwks_uri: row.try_get("jwks_uri")?,
        federation: row.try_get("federation")?,
    })
}

pub(super) fn app_from_row(row: &SqliteRow) -> StoreResult<AppRecord> {
    AppColumns {
        client_id: row.try_get("client_id")?,
        tenant: row.try_get("tenant")?,
        name: row.try_get("name")?,
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        settings: settings_from_row(row)?,
        tokens_revoked_before: row.try_get("tokens_revoked_before")?,
        revision: row.try_get("revision")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    }
    .into_record()
}

pub(super) fn secret_from_row(row: &SqliteRow) -> StoreResult<(String, SecretRecord)> {
    let hash: Vec<u8> = row.try_get("secret_hash")?;
    Ok((
        row.try_get("client_id")?,
        SecretRecord {
            hash: secret_hash(&hash)?,
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
        },
    ))
}

/// Decodes app rows and adds their secrets.
async fn with_secrets(pool: &SqlitePool, rows: &[SqliteRow]) -> StoreResult<Vec<AppRecord>> {
    let apps = rows
        .iter()
        .map(app_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    load_secrets(pool, apps).await
}

/// Adds their secrets to apps read by an admin path (show, list, changed apps): one more
/// query however many apps. Snapshot loads use `scan_clients`, which streams instead.
async fn load_secrets(pool: &SqlitePool, mut apps: Vec<AppRecord>) -> StoreResult<Vec<AppRecord>> {
    if apps.is_empty() {
        return Ok(apps);
    }
    let mut secrets: HashMap<String, Vec<SecretRecord>> = HashMap::new();
    let rows = if apps.len() > MAX_BINDS {
        sqlx::query(
            "SELECT client_id, secret_hash, created_at, expires_at FROM app_secrets ORDER BY id",
        )
        .fetch_all(pool)
        .await?
    } else {
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT client_id, secret_hash, created_at, expires_at FROM app_secrets WHERE client_id IN (",
        );
        let mut list = query.separated(", ");
        for app in &apps {
            list.push_bind(app.client_id.as_str());
        }
        query.push(") ORDER BY id");
        query.build().fetch_all(pool).await?
    };
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
    pool: &SqlitePool,
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
        insert_secret(&mut tx, &app.client_id, secret).await?;
    }
    tx.commit_with(audit).await
}

async fn insert_secret(
    tx: &mut WriteTx,
    client_id: &str,
    secret: &SecretRecord,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO app_secrets (client_id, secret_hash, created_at, expires_at) VALUES (?, ?, ?, ?)",
    )
    .bind(client_id)
    .bind(secret.hash.as_bytes().as_slice())
    .bind(secret.created_at)
    .bind(secret.expires_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub(super) async fn one(
    pool: &SqlitePool,
    tenant: &str,
    client_id: &str,
) -> StoreResult<Option<AppRecord>> {
    let row = sqlx::query(&format!(
        "SELECT {} FROM apps WHERE tenant = ? AND client_id = ?",
        *APP_COLUMNS
    ))
    .bind(tenant)
    .bind(client_id)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(with_secrets(pool, &[row]).await?.pop())
}

pub(super) async fn of_tenant(pool: &SqlitePool, tenant: &str) -> StoreResult<Vec<AppRecord>> {
    let rows = sqlx::query(&format!(
        "SELECT {} FROM apps WHERE tenant = ? ORDER BY name, client_id",
        *APP_COLUMNS
    ))
    .bind(tenant)
    .fetch_all(pool)
    .await?;
    with_secrets(pool, &rows).await
}

pub(super) async fn list(
    pool: &SqlitePool,
    tenant: &str,
    query: &AppQuery,
) -> StoreResult<Vec<AppRecord>> {
    let mut sql =
        QueryBuilder::<Sqlite>::new(format!("SELECT {} FROM apps WHERE tenant = ", *APP_COLUMNS));
    sql.push_bind(tenant);
    if let Some(text) = &query.name_contains {
        sql.push(" AND instr(lower(name), lower(")
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

pub(super) async fn by_id(pool: &SqlitePool, client_ids: &[String]) -> StoreResult<Vec<AppRecord>> {
    let select = format!("SELECT {} FROM apps WHERE client_id IN (", *APP_COLUMNS);
    let rows = rows_in(pool, &select, client_ids).await?;
    with_secrets(pool, &rows).await
}

pub(super) async fn update(
    pool: &SqlitePool,
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
    tx.rollback().await?;
    match one(pool, &app.tenant, &app.client_id).await? {
        Some(_) => Err(StoreError::ChangedConcurrently(format!(
            "app {}",
            app.client_id
        ))),
        None => Err(StoreError::NotFound(format!("app {}", app.client_id))),
    }
}

pub(super) async fn max_token_ttl(pool: &SqlitePool, tenant: &str) -> StoreResult<Option<u32>> {
    let ttl: Option<i64> =
        sqlx::query_scalar("SELECT max_token_ttl_seen FROM tenants WHERE name = ?")
            .bind(tenant)
            .fetch_optional(pool)
            .await?;
    Ok(ttl
        .filter(|ttl| *ttl > 0)
        .and_then(|ttl| u32::try_from(ttl).ok()))
}

pub(super) async fn delete(
    pool: &SqlitePool,
    tenant: &str,
    client_id: &str,
    audit: Option<&AuditEvent>,
) -> StoreResult<()> {
    let mut tx = WriteTx::begin(pool).await?;
    let result = sqlx::query("DELETE FROM apps WHERE tenant = ? AND client_id = ?")
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
    pool: &SqlitePool,
    tenant: &str,
    client_id: &str,
    now: i64,
    audit: Option<&AuditEvent>,
) -> StoreResult<bool> {
    let mut tx = WriteTx::begin(pool).await?;
    // Touching the app first both finds it and records the change in its revision.
    let touched = sqlx::query(
        "UPDATE apps SET updated_at = ?, revision = revision + 1 WHERE tenant = ? AND client_id = ?",
    )
    .bind(now)
    .bind(tenant)
    .bind(client_id)
    .execute(tx.conn())
    .await?;
    if touched.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM app_secrets WHERE client_id = ?")
        .bind(client_id)
        .execute(tx.conn())
        .await?;
    tx.commit_with(audit).await?;
    Ok(true)
}

pub(super) async fn replace_secret(
    pool: &SqlitePool,
    tenant: &str,
    client_id: &str,
    secret: SecretRecord,
    old_expires_at: Option<i64>,
    audit: Option<&AuditEvent>,
) -> StoreResult<()> {
    let mut tx = WriteTx::begin(pool).await?;
    let exists = sqlx::query("SELECT 1 FROM apps WHERE tenant = ? AND client_id = ?")
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
                "UPDATE app_secrets SET expires_at = ? WHERE client_id = ? AND (expires_at IS NULL OR expires_at > ?)",
            )
            .bind(end)
            .bind(client_id)
            .bind(end)
            .execute(tx.conn())
            .await?;
            sqlx::query("DELETE FROM app_secrets WHERE client_id = ? AND expires_at <= ?")
                .bind(client_id)
                .bind(secret.created_at)
                .execute(tx.conn())
                .await?;
        }
        None => {
            sqlx::query("DELETE FROM app_secrets WHERE client_id = ?")
                .bind(client_id)
                .execute(tx.conn())
                .await?;
        }
    }
    insert_secret(&mut tx, client_id, &secret).await?;
    // Touch the app so that its revision and updated_at record the rotation.
    sqlx::query("UPDATE apps SET updated_at = ?, revision = revision + 1 WHERE client_id = ?")
        .bind(secret.created_at)
        .bind(client_id)
        .execute(tx.conn())
        .await?;
    tx.commit_with(audit).await
}

pub(super) async fn count(pool: &SqlitePool) -> StoreResult<u64> {
    // SQLite counts the cells of the smallest index over `apps` without decoding them:
    // about 10 ms at a million apps.
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM apps")
        .fetch_one(pool)
        .await?;
    Ok(count.unsigned_abs())
}
