//! Signing keys in SQLite: their life-cycle moves are conditional single statements (or one
//! transaction for a promotion), so nodes running maintenance at once cannot both apply one.

use super::write::WriteTx;
use crate::columns::key_status;
use crate::{AuditEvent, KeyRecord, StoreError, StoreResult};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, SqlitePool};

const KEY_COLUMNS: &str = "kid, tenant, alg, status, private_key, master_key_id, created_at, \
     activated_at, retire_at, retired_at, activate_at";

fn key_from_row(row: &SqliteRow) -> StoreResult<KeyRecord> {
    Ok(KeyRecord {
        kid: row.try_get("kid")?,
        tenant: row.try_get("tenant")?,
        alg: row.try_get("alg")?,
        status: key_status(&row.try_get::<String, _>("status")?)?,
        private_key: row.try_get("private_key")?,
        master_key_id: row.try_get("master_key_id")?,
        created_at: row.try_get("created_at")?,
        activated_at: row.try_get("activated_at")?,
        retire_at: row.try_get("retire_at")?,
        retired_at: row.try_get("retired_at")?,
        activate_at: row.try_get("activate_at")?,
    })
}

/// Inserts a signing key; false when the tenant already has a key in its status. The partial
/// unique indexes on active and next keys make a concurrent second insert a no-op.
pub(super) async fn insert_row<'c>(
    executor: impl sqlx::Executor<'c, Database = Sqlite>,
    key: &KeyRecord,
) -> StoreResult<bool> {
    let result = sqlx::query(&format!(
        "INSERT INTO signing_keys ({KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
    ))
    .bind(&key.kid)
    .bind(&key.tenant)
    .bind(&key.alg)
    .bind(key.status.as_str())
    .bind(&key.private_key)
    .bind(&key.master_key_id)
    .bind(key.created_at)
    .bind(key.activated_at)
    .bind(key.retire_at)
    .bind(key.retired_at)
    .bind(key.activate_at)
    .execute(executor)
    .await;
    match result {
        Err(sqlx::Error::Database(error)) if error.is_foreign_key_violation() => {
            Err(StoreError::NotFound(format!("tenant {:?}", key.tenant)))
        }
        other => Ok(other?.rows_affected() == 1),
    }
}

pub(super) async fn insert(
    pool: &SqlitePool,
    key: &KeyRecord,
    audit: Option<&AuditEvent>,
) -> StoreResult<bool> {
    let mut tx = WriteTx::begin(pool).await?;
    if !insert_row(tx.conn(), key).await? {
        tx.rollback().await?;
        return Ok(false);
    }
    tx.commit_with(audit).await?;
    Ok(true)
}

pub(super) async fn of_tenant(pool: &SqlitePool, tenant: &str) -> StoreResult<Vec<KeyRecord>> {
    let rows = sqlx::query(&format!(
        "SELECT {KEY_COLUMNS} FROM signing_keys WHERE tenant = ? ORDER BY created_at DESC, rowid DESC"
    ))
    .bind(tenant)
    .fetch_all(pool)
    .await?;
    rows.iter().map(key_from_row).collect()
}

/// `all_on` the pool.
pub(super) async fn all(pool: &sqlx::SqlitePool) -> StoreResult<Vec<KeyRecord>> {
    all_on(pool).await
}

/// Every tenant's keys, by tenant and then in creation order (also inside an export's read).
pub(super) async fn all_on<'c>(
    executor: impl sqlx::Executor<'c, Database = Sqlite>,
) -> StoreResult<Vec<KeyRecord>> {
    let rows = sqlx::query(&format!(
        "SELECT {KEY_COLUMNS} FROM signing_keys ORDER BY tenant, created_at, rowid"
    ))
    .fetch_all(executor)
    .await?;
    rows.iter().map(key_from_row).collect()
}

pub(super) async fn promote(
    pool: &SqlitePool,
    tenant: &str,
    kid: &str,
    now: i64,
    retire_at: i64,
    audit: Option<&AuditEvent>,
) -> StoreResult<bool> {
    let mut tx = WriteTx::begin(pool).await?;
    sqlx::query("UPDATE signing_keys SET status = 'retiring', retire_at = ? WHERE tenant = ? AND status = 'active'")
        .bind(retire_at)
        .bind(tenant)
        .execute(tx.conn())
        .await?;
    let promoted = sqlx::query(
        "UPDATE signing_keys SET status = 'active', activated_at = ? WHERE tenant = ? AND kid = ? AND status = 'next'",
    )
    .bind(now)
    .bind(tenant)
    .bind(kid)
    .execute(tx.conn())
    .await?;
    if promoted.rows_affected() != 1 {
        tx.rollback().await?;
        return Ok(false);
    }
    tx.commit_with(audit).await?;
    Ok(true)
}

pub(super) async fn schedule(
    pool: &SqlitePool,
    tenant: &str,
    kid: &str,
    activate_at: i64,
    audit: Option<&AuditEvent>,
) -> StoreResult<bool> {
    let mut tx = WriteTx::begin(pool).await?;
    let result = sqlx::query(
        "UPDATE signing_keys SET activate_at = ? WHERE tenant = ? AND kid = ? AND status = 'next'",
    )
    .bind(activate_at)
    .bind(tenant)
    .bind(kid)
    .execute(tx.conn())
    .await?;
    if result.rows_affected() != 1 {
        tx.rollback().await?;
        return Ok(false);
    }
    tx.commit_with(audit).await?;
    Ok(true)
}

pub(super) async fn retire(pool: &SqlitePool, kid: &str, now: i64) -> StoreResult<bool> {
    let result = sqlx::query(
        "UPDATE signing_keys SET status = 'retired', retired_at = ? WHERE kid = ? AND status = 'retiring'",
    )
    .bind(now)
    .bind(kid)
    .execute(pool)
    .await?;
    Ok(result.rows_affected() == 1)
}

pub(super) async fn delete(pool: &SqlitePool, kid: &str) -> StoreResult<bool> {
    let result = sqlx::query("DELETE FROM signing_keys WHERE kid = ? AND status != 'active'")
        .bind(kid)
        .execute(pool)
        .await?;
    Ok(result.rows_affected() == 1)
}

pub(super) async fn reseal(
    pool: &SqlitePool,
    kid: &str,
    old_master_key_id: Option<&str>,
    private_key: &[u8],
    master_key_id: &str,
) -> StoreResult<bool> {
    let result = sqlx::query(
        "UPDATE signing_keys SET private_key = ?, master_key_id = ? WHERE kid = ? AND master_key_id IS ?",
    )
    .bind(private_key)
    .bind(master_key_id)
    .bind(kid)
    .bind(old_master_key_id)
    .execute(pool)
    .await?;
    Ok(result.rows_affected() == 1)
}
