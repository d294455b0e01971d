//! Signing keys on PostgreSQL.

use super::write::{StorePool, WriteTx};
use crate::columns::key_status;
use crate::{AuditEvent, KeyRecord, StoreError, StoreResult};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};

const KEY_COLUMNS: &str = "kid, tenant, alg, status, private_key, master_key_id, created_at, \
     activated_at, retire_at, retired_at, activate_at";

fn key_from_row(row: &PgRow) -> StoreResult<KeyRecord> {
    Ok(KeyRecord {
        kid: row.try_get("kid")?,
        tenant: row.try_get("tenant")?,
        alg: row.try_get("alg")?,
        status: key_status(row.try_get("status")?)?,
        private_key: row.try_get("private_key")?,
        master_key_id: row.try_get("master_key_id")?,
        created_at: row.try_get("created_at")?,
        activated_at: row.try_get("activated_at")?,
        retire_at: row.try_get("retire_at")?,
        retired_at: row.try_get("retired_at")?,
        activate_at: row.try_get("activate_at")?,
    })
}

/// Inserts a key inside a write transaction; false when the tenant already has a key in its
/// status.
pub(super) async fn insert_row(conn: &mut PgConnection, key: &KeyRecord) -> StoreResult<bool> {
    let result = sqlx::query(&format!(
        "INSERT INTO signing_keys ({KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT DO NOTHING"
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
    .execute(conn)
    .await;
    match result {
        Err(sqlx::Error::Database(error)) if error.is_foreign_key_violation() => {
            Err(StoreError::NotFound(format!("tenant {:?}", key.tenant)))
        }
        other => Ok(other?.rows_affected() == 1),
    }
}

pub(super) async fn insert(
    pool: &StorePool,
    key: &KeyRecord,
    audit: Option<&AuditEvent>,
) -> StoreResult<bool> {
    let mut tx = WriteTx::begin(pool).await?;
    if !insert_row(tx.conn(), key).await? {
        return Ok(false);
    }
    tx.commit_with(audit).await?;
    Ok(true)
}

pub(super) async fn of_tenant(pool: &PgPool, tenant: &str) -> StoreResult<Vec<KeyRecord>> {
    let rows = sqlx::query(&format!(
        "SELECT {KEY_COLUMNS} FROM signing_keys WHERE tenant = $1 ORDER BY created_at DESC, position DESC"
    ))
    .bind(tenant)
    .fetch_all(pool)
    .await?;
    rows.iter().map(key_from_row).collect()
}

/// `all_on` the pool.
pub(super) async fn all(pool: &sqlx::PgPool) -> StoreResult<Vec<KeyRecord>> {
    all_on(pool).await
}

/// Every tenant's keys, by tenant and then in creation order (also inside an export's read).
pub(super) async fn all_on<'c>(
    executor: impl sqlx::Executor<'c, Database = sqlx::Postgres>,
) -> StoreResult<Vec<KeyRecord>> {
    let rows = sqlx::query(&format!(
        "SELECT {KEY_COLUMNS} FROM signing_keys ORDER BY tenant, created_at, position"
    ))
    .fetch_all(executor)
    .await?;
    rows.iter().map(key_from_row).collect()
}

pub(super) async fn promote(
    pool: &StorePool,
    tenant: &str,
    kid: &str,
    now: i64,
    retire_at: i64,
    audit: Option<&AuditEvent>,
) -> StoreResult<bool> {
    let mut tx = WriteTx::begin(pool).await?;
    // The active key steps aside first: one tenant has one active key (a unique index).
    sqlx::query(
        "UPDATE signing_keys SET status = 'retiring', retire_at = $1 WHERE tenant = $2 AND status = 'active'",
    )
    .bind(retire_at)
    .bind(tenant)
    .execute(tx.conn())
    .await?;
    let promoted = sqlx::query(
        "UPDATE signing_keys SET status = 'active', activated_at = $1 \
         WHERE tenant = $2 AND kid = $3 AND status = 'next'",
    )
    .bind(now)
    .bind(tenant)
    .bind(kid)
    .execute(tx.conn())
    .await?;
    if promoted.rows_affected() != 1 {
        // Dropping the transaction rolls the retirement back.
        return Ok(false);
    }
    tx.commit_with(audit).await?;
    Ok(true)
}

/// Runs one conditional statement on one key in a write transaction, recording `audit` with it
/// when it changed the key; true when it did.
async fn change_one(
    pool: &StorePool,
    query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
    audit: Option<&AuditEvent>,
) -> StoreResult<bool> {
    let mut tx = WriteTx::begin(pool).await?;
    if query.execute(tx.conn()).await?.rows_affected() != 1 {
        return Ok(false);
    }
    tx.commit_with(audit).await?;
    Ok(true)
}

pub(super) async fn schedule(
    pool: &StorePool,
    tenant: &str,
    kid: &str,
    activate_at: i64,
    audit: Option<&AuditEvent>,
) -> StoreResult<bool> {
    change_one(
        pool,
        sqlx::query(
            "UPDATE signing_keys SET activate_at = $1 WHERE tenant = $2 AND kid = $3 AND status = 'next'",
        )
        .bind(activate_at)
        .bind(tenant)
        .bind(kid),
        audit
    )
    .await
}

pub(super) async fn retire(pool: &StorePool, kid: &str, now: i64) -> StoreResult<bool> {
    change_one(
        pool,
        sqlx::query(
            "UPDATE signing_keys SET status = 'retired', retired_at = $1 WHERE kid = $2 AND status = 'retiring'",
        )
        .bind(now)
        .bind(kid),
        None
    )
    .await
}

pub(super) async fn delete(pool: &StorePool, kid: &str) -> StoreResult<bool> {
    change_one(
        pool,
        sqlx::query("DELETE FROM signing_keys WHERE kid = $1 AND status <> 'active'").bind(kid),
        None,
    )
    .await
}

pub(super) async fn reseal(
    pool: &StorePool,
    kid: &str,
    old_master_key_id: Option<&str>,
    private_key: &[u8],
    master_key_id: &str,
) -> StoreResult<bool> {
    change_one(
        pool,
        sqlx::query(
            "UPDATE signing_keys SET private_key = $1, master_key_id = $2 \
             WHERE kid = $3 AND master_key_id IS NOT DISTINCT FROM $4",
        )
        .bind(private_key)
        .bind(master_key_id)
        .bind(kid)
        .bind(old_master_key_id),
        None,
    )
    .await
}
