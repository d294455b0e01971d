//! Tenants and their domains on PostgreSQL.

use super::keys;
use super::write::{StorePool, WriteTx};
use crate::columns::{assertion_lifetime, token_profile};
use crate::{AuditEvent, KeyRecord, StoreError, StoreResult, TenantRecord};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};
use std::collections::HashMap;

const TENANT_COLUMNS: &str =
    "name, issuer, token_profile, publish_scopes, max_assertion_lifetime, created_at, updated_at";

fn tenant_from_row(row: &PgRow) -> StoreResult<TenantRecord> {
    Ok(TenantRecord {
        name: row.try_get("name")?,
        domains: Vec::new(),
        issuer: row.try_get("issuer")?,
        token_profile: token_profile(row.try_get("token_profile")?)?,
        publish_scopes: row.try_get("publish_scopes")?,
        max_assertion_lifetime: assertion_lifetime(
            row.try_get::<Option<i32>, _>("max_assertion_lifetime")?
                .map(i64::from),
        )?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(super) async fn all(pool: &PgPool) -> StoreResult<Vec<TenantRecord>> {
    all_on(&mut *pool.acquire().await?).await
}

/// Every tenant with its domains, read on `conn` (also inside an export's read).
pub(super) async fn all_on(conn: &mut PgConnection) -> StoreResult<Vec<TenantRecord>> {
    let rows = sqlx::query(&format!(
        "SELECT {TENANT_COLUMNS} FROM tenants ORDER BY name"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let mut tenants = rows
        .iter()
        .map(tenant_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    let domains =
        sqlx::query("SELECT tenant, domain FROM tenant_domains ORDER BY tenant, position")
            .fetch_all(&mut *conn)
            .await?;
    let mut by_tenant: HashMap<String, Vec<String>> = HashMap::new();
    for row in &domains {
        by_tenant
            .entry(row.try_get("tenant")?)
            .or_default()
            .push(row.try_get("domain")?);
    }
    for tenant in &mut tenants {
        tenant.domains = by_tenant.remove(&tenant.name).unwrap_or_default();
    }
    Ok(tenants)
}

pub(super) async fn one(pool: &PgPool, name: &str) -> StoreResult<Option<TenantRecord>> {
    let row = sqlx::query(&format!(
        "SELECT {TENANT_COLUMNS} FROM tenants WHERE name = $1"
    ))
    .bind(name)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let mut tenant = tenant_from_row(&row)?;
    tenant.domains =
        sqlx::query_scalar("SELECT domain FROM tenant_domains WHERE tenant = $1 ORDER BY position")
            .bind(name)
            .fetch_all(pool)
            .await?;
    Ok(Some(tenant))
}

pub(super) async fn create(
    pool: &StorePool,
    tenant: &TenantRecord,
    first_key: Option<&KeyRecord>,
    audit: Option<&AuditEvent>,
) -> StoreResult<()> {
    let mut tx = WriteTx::begin(pool).await?;
    let inserted = sqlx::query(
        "INSERT INTO tenants (name, issuer, token_profile, publish_scopes, max_assertion_lifetime, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&tenant.name)
    .bind(&tenant.issuer)
    .bind(tenant.token_profile.as_str())
    .bind(tenant.publish_scopes)
    .bind(tenant.max_assertion_lifetime.map(i64::from))
    .bind(tenant.created_at)
    .bind(tenant.updated_at)
    .execute(tx.conn())
    .await;
    match inserted {
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
            return Err(StoreError::Duplicate(format!(
                "a tenant named {:?} already exists",
                tenant.name
            )));
        }
        other => other?,
    };
    insert_domains(tx.conn(), &tenant.name, &tenant.domains).await?;
    if let Some(key) = first_key
        && !keys::insert_row(tx.conn(), key).await?
    {
        return Err(StoreError::ChangedConcurrently(format!(
            "the first key of tenant {:?}",
            tenant.name
        )));
    }
    tx.commit_with(audit).await
}

pub(super) async fn update(
    pool: &StorePool,
    tenant: &TenantRecord,
    audit: Option<&AuditEvent>,
) -> StoreResult<()> {
    let mut tx = WriteTx::begin(pool).await?;
    let updated = sqlx::query(
        "UPDATE tenants SET issuer = $1, token_profile = $2, publish_scopes = $3, \
         max_assertion_lifetime = $4, updated_at = $5 WHERE name = $6",
    )
    .bind(&tenant.issuer)
    .bind(tenant.token_profile.as_str())
    .bind(tenant.publish_scopes)
    .bind(tenant.max_assertion_lifetime.map(i64::from))
    .bind(tenant.updated_at)
    .bind(&tenant.name)
    .execute(tx.conn())
    .await?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("tenant {:?}", tenant.name)));
    }
    sqlx::query("DELETE FROM tenant_domains WHERE tenant = $1")
        .bind(&tenant.name)
        .execute(tx.conn())
        .await?;
    insert_domains(tx.conn(), &tenant.name, &tenant.domains).await?;
    tx.commit_with(audit).await
}

pub(super) async fn delete(
    pool: &StorePool,
    name: &str,
    force: bool,
    audit: Option<&AuditEvent>,
) -> StoreResult<()> {
    let mut tx = WriteTx::begin(pool).await?;
    let apps: i64 = sqlx::query_scalar("SELECT count(*) FROM apps WHERE tenant = $1")
        .bind(name)
        .fetch_one(tx.conn())
        .await?;
    if apps > 0 && !force {
        return Err(StoreError::InUse(format!(
            "tenant {name:?} still has {apps} app(s)"
        )));
    }
    for sql in [
        "DELETE FROM revoked_tokens WHERE tenant = $1",
        "DELETE FROM apps WHERE tenant = $1",
        "DELETE FROM signing_keys WHERE tenant = $1",
    ] {
        sqlx::query(sql).bind(name).execute(tx.conn()).await?;
    }
    let deleted = sqlx::query("DELETE FROM tenants WHERE name = $1")
        .bind(name)
        .execute(tx.conn())
        .await?;
    if deleted.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("tenant {name:?}")));
    }
    tx.commit_with(audit).await
}

/// Inserts a tenant's domains in order, turning a domain another tenant holds into `Duplicate`.
pub(super) async fn insert_domains(
    conn: &mut PgConnection,
    tenant: &str,
    domains: &[String],
) -> StoreResult<()> {
    for (position, domain) in domains.iter().enumerate() {
        let inserted = sqlx::query(
            "INSERT INTO tenant_domains (domain, tenant, position) VALUES ($1, $2, $3)",
        )
        .bind(domain)
        .bind(tenant)
        .bind(position as i64)
        .execute(&mut *conn)
        .await;
        match inserted {
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                return Err(StoreError::Duplicate(format!(
                    "domain {domain:?} is already served by another tenant (or listed twice)"
                )));
            }
            other => other?,
        };
    }
    Ok(())
}
