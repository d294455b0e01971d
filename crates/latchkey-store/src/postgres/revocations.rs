//! Revoked tokens on PostgreSQL.

use super::write::{StorePool, WriteTx};
use crate::{AuditEvent, RevocationRecord, StoreResult};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};

const REVOCATION_COLUMNS: &str = "jti, tenant, client_id, expires_at, revoked_at";

fn revocation_from_row(row: &PgRow) -> StoreResult<RevocationRecord> {
    Ok(RevocationRecord {
        jti: row.try_get("jti")?,
        tenant: row.try_get("tenant")?,
        client_id: row.try_get("client_id")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

pub(super) async fn revoke(
    pool: &StorePool,
    record: &RevocationRecord,
    audit: Option<&AuditEvent>,
) -> StoreResult<()> {
    let mut tx = WriteTx::begin(pool).await?;
    sqlx::query(&format!(
        "INSERT INTO revoked_tokens ({REVOCATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (tenant, jti) DO NOTHING"
    ))
    .bind(&record.jti)
    .bind(&record.tenant)
    .bind(&record.client_id)
    .bind(record.expires_at)
    .bind(record.revoked_at)
    .execute(tx.conn())
    .await?;
    tx.commit_with(audit).await
}

pub(super) async fn of_tokens(
    pool: &PgPool,
    jtis: &[String],
) -> StoreResult<Vec<RevocationRecord>> {
    let rows = sqlx::query(&format!(
        "SELECT {REVOCATION_COLUMNS} FROM revoked_tokens WHERE jti = ANY($1)"
    ))
    .bind(jtis)
    .fetch_all(pool)
    .await?;
    rows.iter().map(revocation_from_row).collect()
}

/// `live_on` the pool.
pub(super) async fn live(pool: &sqlx::PgPool, now: i64) -> StoreResult<Vec<RevocationRecord>> {
    live_on(pool, now).await
}

pub(super) async fn live_on<'c>(
    executor: impl sqlx::Executor<'c, Database = sqlx::Postgres>,
    now: i64,
) -> StoreResult<Vec<RevocationRecord>> {
    let rows = sqlx::query(&format!(
        "SELECT {REVOCATION_COLUMNS} FROM revoked_tokens WHERE expires_at >= $1"
    ))
    .bind(now)
    .fetch_all(executor)
    .await?;
    rows.iter().map(revocation_from_row).collect()
}

pub(super) async fn purge(pool: &PgPool, before: i64) -> StoreResult<u64> {
    let result = sqlx::query("DELETE FROM revoked_tokens WHERE expires_at < $1")
        .bind(before)
        .execute(pool)
        .await?;
    Ok(result.rows_affected())
}
