//! The embedded default store: SQLite through sqlx, WAL mode, migrations embedded in the binary.
//! The snapshot scan alone reads the file through rusqlite (`scan`, which says why).

mod migrate;
mod scan;
mod write;

use crate::{
    AppQuery, AppRecord, AuditEvent, AuditQuery, Change, ChangedEntity, Create, KeyRecord,
    RevocationRecord, ScannedClient, SecretRecord, Store, StoreError, StoreResult, TenantRecord,
};
use async_trait::async_trait;
use latchkey_protocol::client::ClientType;
use latchkey_protocol::{Scope, SecretHash, TokenProfile};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool};
use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;
use write::WriteTx;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// SQLite takes this many bound parameters per statement at most (SQLITE_MAX_VARIABLE_NUMBER is
/// 32766 in the bundled build; stay well under).
const MAX_BINDS: usize = 500;

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// The database as the snapshot scan opens it, on its own connection.
    scan_source: scan::Source,
}

impl SqliteStore {
    /// Opens (creating if missing) and migrates the database at a `sqlite:` URL.
    pub async fn open(url: &str) -> StoreResult<SqliteStore> {
        SqliteStore::open_with(url, Create::IfMissing).await
    }

    /// Opens and migrates the database at a `sqlite:` URL, creating it only if `create` says so.
    pub async fn open_with(url: &str, create: Create) -> StoreResult<SqliteStore> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(StoreError::Connect)?
            .create_if_missing(create == Create::IfMissing);
        // SQLite would refuse to open a missing file anyway (and create no -wal or -shm
        // beside it); checking first names the cause plainly.
        if create == Create::Never && !options.get_filename().exists() {
            return Err(StoreError::Missing(options.get_filename().to_owned()));
        }
        let options = options
            .journal_mode(SqliteJournalMode::Wal)
            // WAL with synchronous=NORMAL is durable across application crashes and loses at most
            // the last transactions on power loss; admin writes are rare and retried by people.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            // The CLI and a running server share the file; wait for the other's write lock.
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.clone())
            .await
            .map_err(StoreError::Connect)?;
        migrate::run(&pool, &MIGRATOR).await?;
        // SQLite names the main database's file with its full path, or with nothing for an
        // in-memory database (which the scan reaches by its shared-cache name instead).
        let file: String =
            sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
                .fetch_one(&pool)
                .await
                .map_err(StoreError::Connect)?;
        let scan_source = if file.is_empty() {
            scan::Source::SharedMemory(options.get_filename().to_owned())
        } else {
            scan::Source::File(PathBuf::from(file))
        };
        Ok(SqliteStore { pool, scan_source })
    }
}

fn join<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The space-separated items of a list column, parsed.
fn items<'t, T: FromStr>(
    text: &'t str,
    what: &'static str,
) -> impl Iterator<Item = StoreResult<T>> + 't {
    text.split(' ')
        .filter(|item| !item.is_empty())
        .map(move |item| {
            item.parse()
                .map_err(|_| StoreError::Corrupt(format!("{what} {item:?}")))
        })
}

fn split<T: FromStr>(text: &str, what: &'static str) -> StoreResult<Vec<T>> {
    items(text, what).collect()
}

fn app_type(text: &str) -> StoreResult<ClientType> {
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("app type {text:?}")))
}

fn token_ttl(ttl: i64) -> StoreResult<u32> {
    u32::try_from(ttl).map_err(|_| StoreError::Corrupt(format!("token ttl {ttl}")))
}

fn reuse_percent(percent: Option<i64>) -> StoreResult<Option<u8>> {
    percent
        .map(|p| u8::try_from(p).map_err(|_| StoreError::Corrupt(format!("token reuse {p}"))))
        .transpose()
}

fn scope(item: &str) -> StoreResult<Scope> {
    Scope::parse(item).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn scopes(text: &str) -> StoreResult<Vec<Scope>> {
    text.split(' ')
        .filter(|item| !item.is_empty())
        .map(scope)
        .collect()
}

const APP_COLUMNS: &str = "client_id, tenant, name, app_type, enabled, scopes, default_scopes, \
     grant_types, token_ttl, can_introspect, tokens_revoked_before, token_reuse_percent, audiences, \
     custom_claims, revision, created_at, updated_at";

const KEY_COLUMNS: &str = "kid, tenant, alg, status, private_key, master_key_id, created_at, \
     activated_at, retire_at, retired_at, activate_at";

const REVOCATION_COLUMNS: &str = "jti, tenant, client_id, expires_at, revoked_at";

fn app_from_row(row: &SqliteRow) -> StoreResult<AppRecord> {
    AppColumns {
        client_id: row.try_get("client_id")?,
        tenant: row.try_get("tenant")?,
        name: row.try_get("name")?,
        app_type: row.try_get("app_type")?,
        enabled: row.try_get("enabled")?,
        scopes: row.try_get("scopes")?,
        default_scopes: row.try_get("default_scopes")?,
        grant_types: row.try_get("grant_types")?,
        token_ttl: row.try_get("token_ttl")?,
        can_introspect: row.try_get("can_introspect")?,
        tokens_revoked_before: row.try_get("tokens_revoked_before")?,
        token_reuse_percent: row.try_get("token_reuse_percent")?,
        audiences: row.try_get("audiences")?,
        custom_claims: row.try_get("custom_claims")?,
        revision: row.try_get("revision")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    }
    .into_record()
}

/// An app's columns as stored, checked into an `AppRecord` by `into_record`.
struct AppColumns {
    client_id: String,
    tenant: String,
    name: String,
    app_type: String,
    enabled: i64,
    scopes: String,
    default_scopes: String,
    grant_types: String,
    token_ttl: i64,
    can_introspect: i64,
    tokens_revoked_before: Option<i64>,
    token_reuse_percent: Option<i64>,
    audiences: String,
    custom_claims: Option<String>,
    revision: i64,
    created_at: i64,
    updated_at: i64,
}

impl AppColumns {
    fn into_record(self) -> StoreResult<AppRecord> {
        Ok(AppRecord {
            app_type: app_type(&self.app_type)?,
            enabled: self.enabled != 0,
            scopes: scopes(&self.scopes)?,
            default_scopes: scopes(&self.default_scopes)?,
            grant_types: split(&self.grant_types, "grant type")?,
            token_ttl: token_ttl(self.token_ttl)?,
            can_introspect: self.can_introspect != 0,
            tokens_revoked_before: self.tokens_revoked_before,
            token_reuse_percent: reuse_percent(self.token_reuse_percent)?,
            audiences: split(&self.audiences, "audience")?,
            custom_claims: self.custom_claims,
            revision: self.revision,
            created_at: self.created_at,
            updated_at: self.updated_at,
            client_id: self.client_id,
            tenant: self.tenant,
            name: self.name,
            secrets: Vec::new(),
        })
    }
}

const TENANT_COLUMNS: &str = "name, issuer, token_profile, publish_scopes, created_at, updated_at";

fn tenant_from_row(row: &SqliteRow) -> StoreResult<TenantRecord> {
    let profile: String = row.try_get("token_profile")?;
    Ok(TenantRecord {
        name: row.try_get("name")?,
        domains: Vec::new(),
        issuer: row.try_get("issuer")?,
        token_profile: TokenProfile::parse(&profile)
            .ok_or_else(|| StoreError::Corrupt(format!("token profile {profile:?}")))?,
        publish_scopes: row.try_get("publish_scopes")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Inserts a tenant's domains in order, turning a domain another tenant holds into `Duplicate`.
async fn insert_domains(
    conn: &mut SqliteConnection,
    tenant: &str,
    domains: &[String],
) -> StoreResult<()> {
    for (position, domain) in domains.iter().enumerate() {
        let inserted =
            sqlx::query("INSERT INTO tenant_domains (domain, tenant, position) VALUES (?, ?, ?)")
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

/// Inserts a signing key; false when the tenant already has a key in its status. The partial
/// unique indexes on active and next keys make a concurrent second insert a no-op.
async fn insert_key_row<'c>(
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

fn secret_from_row(row: &SqliteRow) -> StoreResult<(String, SecretRecord)> {
    let hash: Vec<u8> = row.try_get("secret_hash")?;
    let hash = SecretHash::from_bytes(&hash)
        .ok_or_else(|| StoreError::Corrupt("secret hash length".into()))?;
    Ok((
        row.try_get("client_id")?,
        SecretRecord {
            hash,
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
        },
    ))
}

fn key_from_row(row: &SqliteRow) -> StoreResult<KeyRecord> {
    let status: String = row.try_get("status")?;
    Ok(KeyRecord {
        kid: row.try_get("kid")?,
        tenant: row.try_get("tenant")?,
        alg: row.try_get("alg")?,
        status: status.parse().map_err(StoreError::Corrupt)?,
        private_key: row.try_get("private_key")?,
        master_key_id: row.try_get("master_key_id")?,
        created_at: row.try_get("created_at")?,
        activated_at: row.try_get("activated_at")?,
        retire_at: row.try_get("retire_at")?,
        retired_at: row.try_get("retired_at")?,
        activate_at: row.try_get("activate_at")?,
    })
}

fn revocation_from_row(row: &SqliteRow) -> StoreResult<RevocationRecord> {
    Ok(RevocationRecord {
        jti: row.try_get("jti")?,
        tenant: row.try_get("tenant")?,
        client_id: row.try_get("client_id")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

impl SqliteStore {
    /// Runs `select` (ending in `IN (`) for every id, a chunk of at most `MAX_BINDS` ids at a time.
    async fn rows_in(&self, select: &str, ids: &[String]) -> StoreResult<Vec<SqliteRow>> {
        let mut rows = Vec::new();
        for chunk in ids.chunks(MAX_BINDS) {
            let mut query = QueryBuilder::<Sqlite>::new(select);
            let mut list = query.separated(", ");
            for id in chunk {
                list.push_bind(id.as_str());
            }
            query.push(")");
            rows.extend(query.build().fetch_all(&self.pool).await?);
        }
        Ok(rows)
    }

    /// Adds their secrets to apps read by an admin path (show, list, changed apps): one more
    /// query however many apps. Snapshot loads use `scan_clients`, which streams instead.
    async fn load_apps(&self, apps: Vec<AppRecord>) -> StoreResult<Vec<AppRecord>> {
        let mut apps = apps;
        if apps.is_empty() {
            return Ok(apps);
        }
        let mut secrets: HashMap<String, Vec<SecretRecord>> = HashMap::new();
        let rows = if apps.len() > MAX_BINDS {
            sqlx::query("SELECT client_id, secret_hash, created_at, expires_at FROM app_secrets ORDER BY id")
                .fetch_all(&self.pool)
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
            query.build().fetch_all(&self.pool).await?
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
}

#[async_trait]
impl Store for SqliteStore {
    async fn tenants(&self) -> StoreResult<Vec<TenantRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {TENANT_COLUMNS} FROM tenants ORDER BY name"
        ))
        .fetch_all(&self.pool)
        .await?;
        let mut tenants = rows
            .iter()
            .map(tenant_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let domains =
            sqlx::query("SELECT tenant, domain FROM tenant_domains ORDER BY tenant, position")
                .fetch_all(&self.pool)
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

    async fn tenant(&self, name: &str) -> StoreResult<Option<TenantRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {TENANT_COLUMNS} FROM tenants WHERE name = ?"
        ))
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut tenant = tenant_from_row(&row)?;
        tenant.domains = sqlx::query_scalar(
            "SELECT domain FROM tenant_domains WHERE tenant = ? ORDER BY position",
        )
        .bind(name)
        .fetch_all(&self.pool)
        .await?;
        Ok(Some(tenant))
    }

    async fn create_tenant(
        &self,
        tenant: &TenantRecord,
        first_key: Option<&KeyRecord>,
    ) -> StoreResult<()> {
        let mut tx = WriteTx::begin(&self.pool).await?;
        let inserted = sqlx::query(
            "INSERT INTO tenants (name, issuer, token_profile, publish_scopes, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&tenant.name)
        .bind(&tenant.issuer)
        .bind(tenant.token_profile.as_str())
        .bind(tenant.publish_scopes)
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
            && !insert_key_row(tx.conn(), key).await?
        {
            return Err(StoreError::Conflict(format!(
                "the first key of tenant {:?}",
                tenant.name
            )));
        }
        tx.commit().await?;
        Ok(())
    }

    async fn update_tenant(&self, tenant: &TenantRecord) -> StoreResult<()> {
        let mut tx = WriteTx::begin(&self.pool).await?;
        let updated = sqlx::query(
            "UPDATE tenants SET issuer = ?, token_profile = ?, publish_scopes = ?, updated_at = ? \
             WHERE name = ?",
        )
        .bind(&tenant.issuer)
        .bind(tenant.token_profile.as_str())
        .bind(tenant.publish_scopes)
        .bind(tenant.updated_at)
        .bind(&tenant.name)
        .execute(tx.conn())
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("tenant {:?}", tenant.name)));
        }
        sqlx::query("DELETE FROM tenant_domains WHERE tenant = ?")
            .bind(&tenant.name)
            .execute(tx.conn())
            .await?;
        insert_domains(tx.conn(), &tenant.name, &tenant.domains).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_tenant(&self, name: &str, force: bool) -> StoreResult<()> {
        let mut tx = WriteTx::begin(&self.pool).await?;
        let apps: i64 = sqlx::query_scalar("SELECT count(*) FROM apps WHERE tenant = ?")
            .bind(name)
            .fetch_one(tx.conn())
            .await?;
        if apps > 0 && !force {
            return Err(StoreError::InUse(format!(
                "tenant {name:?} still has {apps} app(s)"
            )));
        }
        for sql in [
            "DELETE FROM revoked_tokens WHERE tenant = ?",
            "DELETE FROM apps WHERE tenant = ?",
            "DELETE FROM signing_keys WHERE tenant = ?",
        ] {
            sqlx::query(sql).bind(name).execute(tx.conn()).await?;
        }
        let deleted = sqlx::query("DELETE FROM tenants WHERE name = ?")
            .bind(name)
            .execute(tx.conn())
            .await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("tenant {name:?}")));
        }
        tx.commit().await?;
        Ok(())
    }

    async fn list_apps(&self, tenant: &str, query: &AppQuery) -> StoreResult<Vec<AppRecord>> {
        let mut sql =
            QueryBuilder::<Sqlite>::new(format!("SELECT {APP_COLUMNS} FROM apps WHERE tenant = "));
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
        let rows = sql.build().fetch_all(&self.pool).await?;
        let apps = rows
            .iter()
            .map(app_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        self.load_apps(apps).await
    }

    async fn record_audit(&self, event: &AuditEvent) -> StoreResult<i64> {
        let id = sqlx::query_scalar(
            "INSERT INTO audit_events (at, tenant, actor, action, target, details) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(event.at)
        .bind(&event.tenant)
        .bind(&event.actor)
        .bind(&event.action)
        .bind(&event.target)
        .bind(&event.details)
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    async fn audit_events(&self, query: &AuditQuery) -> StoreResult<Vec<AuditEvent>> {
        let mut sql = QueryBuilder::<Sqlite>::new(
            "SELECT id, at, tenant, actor, action, target, details FROM audit_events WHERE 1 = 1",
        );
        if let Some(since) = query.since {
            sql.push(" AND at >= ").push_bind(since);
        }
        if let Some(tenant) = &query.tenant {
            sql.push(" AND tenant = ").push_bind(tenant.as_str());
        }
        if let Some(after) = query.after_id {
            sql.push(" AND id > ").push_bind(after);
        }
        // The latest events are the last `limit` by id, still handed back oldest first.
        let order = if query.latest {
            " ORDER BY id DESC LIMIT "
        } else {
            " ORDER BY id LIMIT "
        };
        sql.push(order).push_bind(i64::from(query.limit));
        let mut rows = sql.build().fetch_all(&self.pool).await?;
        if query.latest {
            rows.reverse();
        }
        rows.iter()
            .map(|row| {
                Ok(AuditEvent {
                    id: row.try_get("id")?,
                    at: row.try_get("at")?,
                    tenant: row.try_get("tenant")?,
                    actor: row.try_get("actor")?,
                    action: row.try_get("action")?,
                    target: row.try_get("target")?,
                    details: row.try_get("details")?,
                })
            })
            .collect()
    }

    async fn create_app(&self, app: &AppRecord) -> StoreResult<()> {
        let mut tx = WriteTx::begin(&self.pool).await?;
        let inserted = sqlx::query(
            "INSERT INTO apps (client_id, tenant, name, app_type, enabled, scopes, default_scopes, \
             grant_types, token_ttl, can_introspect, tokens_revoked_before, token_reuse_percent, audiences, \
             custom_claims, revision, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
        )
        .bind(&app.client_id)
        .bind(&app.tenant)
        .bind(&app.name)
        .bind(app.app_type.as_str())
        .bind(app.enabled)
        .bind(join(&app.scopes))
        .bind(join(&app.default_scopes))
        .bind(join(&app.grant_types))
        .bind(i64::from(app.token_ttl))
        .bind(app.can_introspect)
        .bind(app.tokens_revoked_before)
        .bind(app.token_reuse_percent.map(i64::from))
        .bind(join(&app.audiences))
        .bind(&app.custom_claims)
        .bind(app.created_at)
        .bind(app.updated_at)
        .execute(tx.conn())
        .await;
        match inserted {
            Err(sqlx::Error::Database(error)) if error.is_foreign_key_violation() => {
                return Err(StoreError::NotFound(format!("tenant {:?}", app.tenant)));
            }
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                return Err(StoreError::Conflict(format!("app {}", app.client_id)));
            }
            other => other?,
        };
        for secret in &app.secrets {
            sqlx::query("INSERT INTO app_secrets (client_id, secret_hash, created_at, expires_at) VALUES (?, ?, ?, ?)")
                .bind(&app.client_id)
                .bind(secret.hash.as_bytes().as_slice())
                .bind(secret.created_at)
                .bind(secret.expires_at)
                .execute(tx.conn())
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn app(&self, tenant: &str, client_id: &str) -> StoreResult<Option<AppRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {APP_COLUMNS} FROM apps WHERE tenant = ? AND client_id = ?"
        ))
        .bind(tenant)
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(self.load_apps(vec![app_from_row(&row)?]).await?.pop())
    }

    async fn apps(&self, tenant: &str) -> StoreResult<Vec<AppRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {APP_COLUMNS} FROM apps WHERE tenant = ? ORDER BY name, client_id"
        ))
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        let apps = rows
            .iter()
            .map(app_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        self.load_apps(apps).await
    }

    async fn update_app(&self, app: &AppRecord) -> StoreResult<()> {
        let result = sqlx::query(
            "UPDATE apps SET name = ?, enabled = ?, scopes = ?, default_scopes = ?, grant_types = ?, \
             token_ttl = ?, can_introspect = ?, tokens_revoked_before = ?, token_reuse_percent = ?, audiences = ?, \
             custom_claims = ?, updated_at = ?, \
             revision = revision + 1 WHERE tenant = ? AND client_id = ? AND revision = ?",
        )
        .bind(&app.name)
        .bind(app.enabled)
        .bind(join(&app.scopes))
        .bind(join(&app.default_scopes))
        .bind(join(&app.grant_types))
        .bind(i64::from(app.token_ttl))
        .bind(app.can_introspect)
        .bind(app.tokens_revoked_before)
        .bind(app.token_reuse_percent.map(i64::from))
        .bind(join(&app.audiences))
        .bind(&app.custom_claims)
        .bind(app.updated_at)
        .bind(&app.tenant)
        .bind(&app.client_id)
        .bind(app.revision)
        .execute(&self.pool)
        .await?;
        if result.rows_affected() == 1 {
            return Ok(());
        }
        match self.app(&app.tenant, &app.client_id).await? {
            Some(_) => Err(StoreError::Conflict(format!("app {}", app.client_id))),
            None => Err(StoreError::NotFound(format!("app {}", app.client_id))),
        }
    }

    async fn max_token_ttl(&self, tenant: &str) -> StoreResult<Option<u32>> {
        let ttl: Option<i64> =
            sqlx::query_scalar("SELECT max_token_ttl_seen FROM tenants WHERE name = ?")
                .bind(tenant)
                .fetch_optional(&self.pool)
                .await?;
        Ok(ttl
            .filter(|ttl| *ttl > 0)
            .and_then(|ttl| u32::try_from(ttl).ok()))
    }

    async fn delete_app(&self, tenant: &str, client_id: &str) -> StoreResult<()> {
        let result = sqlx::query("DELETE FROM apps WHERE tenant = ? AND client_id = ?")
            .bind(tenant)
            .bind(client_id)
            .execute(&self.pool)
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("app {client_id}")));
        }
        Ok(())
    }

    async fn replace_secret(
        &self,
        tenant: &str,
        client_id: &str,
        secret: SecretRecord,
        old_expires_at: Option<i64>,
    ) -> StoreResult<()> {
        let mut tx = WriteTx::begin(&self.pool).await?;
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
        sqlx::query("INSERT INTO app_secrets (client_id, secret_hash, created_at, expires_at) VALUES (?, ?, ?, ?)")
            .bind(client_id)
            .bind(secret.hash.as_bytes().as_slice())
            .bind(secret.created_at)
            .bind(secret.expires_at)
            .execute(tx.conn())
            .await?;
        // Touch the app so that its revision and updated_at record the rotation.
        sqlx::query("UPDATE apps SET updated_at = ?, revision = revision + 1 WHERE client_id = ?")
            .bind(secret.created_at)
            .bind(client_id)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn signing_keys(&self, tenant: &str) -> StoreResult<Vec<KeyRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {KEY_COLUMNS} FROM signing_keys WHERE tenant = ? ORDER BY created_at DESC, rowid DESC"
        ))
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(key_from_row).collect()
    }

    async fn all_signing_keys(&self) -> StoreResult<Vec<KeyRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {KEY_COLUMNS} FROM signing_keys ORDER BY tenant, created_at, rowid"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(key_from_row).collect()
    }

    async fn insert_key(&self, key: &KeyRecord) -> StoreResult<bool> {
        insert_key_row(&self.pool, key).await
    }

    async fn promote_key(
        &self,
        tenant: &str,
        kid: &str,
        now: i64,
        retire_at: i64,
    ) -> StoreResult<bool> {
        let mut tx = WriteTx::begin(&self.pool).await?;
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
        tx.commit().await?;
        Ok(true)
    }

    async fn schedule_key(&self, tenant: &str, kid: &str, activate_at: i64) -> StoreResult<bool> {
        let result = sqlx::query(
            "UPDATE signing_keys SET activate_at = ? WHERE tenant = ? AND kid = ? AND status = 'next'",
        )
        .bind(activate_at)
        .bind(tenant)
        .bind(kid)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn retire_key(&self, kid: &str, now: i64) -> StoreResult<bool> {
        let result = sqlx::query(
            "UPDATE signing_keys SET status = 'retired', retired_at = ? WHERE kid = ? AND status = 'retiring'",
        )
        .bind(now)
        .bind(kid)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn delete_key(&self, kid: &str) -> StoreResult<bool> {
        let result = sqlx::query("DELETE FROM signing_keys WHERE kid = ? AND status != 'active'")
            .bind(kid)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn reseal_key(
        &self,
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
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn revoke_token(&self, record: &RevocationRecord) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO revoked_tokens ({REVOCATION_COLUMNS}) VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant, jti) DO NOTHING"
        ))
        .bind(&record.jti)
        .bind(&record.tenant)
        .bind(&record.client_id)
        .bind(record.expires_at)
        .bind(record.revoked_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn revocations(&self, jtis: &[String]) -> StoreResult<Vec<RevocationRecord>> {
        let select = format!("SELECT {REVOCATION_COLUMNS} FROM revoked_tokens WHERE jti IN (");
        let rows = self.rows_in(&select, jtis).await?;
        rows.iter().map(revocation_from_row).collect()
    }

    async fn live_revocations(&self, now: i64) -> StoreResult<Vec<RevocationRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {REVOCATION_COLUMNS} FROM revoked_tokens WHERE expires_at >= ?"
        ))
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(revocation_from_row).collect()
    }

    async fn purge_revocations(&self, before: i64) -> StoreResult<u64> {
        let result = sqlx::query("DELETE FROM revoked_tokens WHERE expires_at < ?")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected())
    }

    async fn scan_clients(&self, visit: &mut (dyn FnMut(ScannedClient) + Send)) -> StoreResult<()> {
        scan::scan(&self.scan_source, visit).await
    }

    async fn app_count(&self) -> StoreResult<u64> {
        // SQLite counts the cells of the smallest index over `apps` without decoding them:
        // about 10 ms at a million apps.
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM apps")
            .fetch_one(&self.pool)
            .await?;
        Ok(count.unsigned_abs())
    }

    async fn apps_by_id(&self, client_ids: &[String]) -> StoreResult<Vec<AppRecord>> {
        let select = format!("SELECT {APP_COLUMNS} FROM apps WHERE client_id IN (");
        let rows = self.rows_in(&select, client_ids).await?;
        let apps = rows
            .iter()
            .map(app_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        self.load_apps(apps).await
    }

    async fn latest_change(&self) -> StoreResult<i64> {
        let seq: Option<i64> = sqlx::query_scalar("SELECT max(seq) FROM changes")
            .fetch_one(&self.pool)
            .await?;
        Ok(seq.unwrap_or(0))
    }

    async fn changes_since(&self, seq: i64, limit: u32) -> StoreResult<Vec<Change>> {
        let rows = sqlx::query(
            "SELECT seq, entity, tenant, entity_id FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(seq)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let entity: String = row.try_get("entity")?;
                let entity = match entity.as_str() {
                    "app" => ChangedEntity::App,
                    "key" => ChangedEntity::Key,
                    "tenant" => ChangedEntity::Tenant,
                    "revocation" => ChangedEntity::Revocation,
                    other => return Err(StoreError::Corrupt(format!("change entity {other:?}"))),
                };
                Ok(Change {
                    seq: row.try_get("seq")?,
                    entity,
                    tenant: row.try_get("tenant")?,
                    id: row.try_get("entity_id")?,
                })
            })
            .collect()
    }

    async fn purge_changes(&self, before: i64) -> StoreResult<u64> {
        let result = sqlx::query("DELETE FROM changes WHERE at < ?")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected())
    }
}
