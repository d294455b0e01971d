//! A whole SQLite store read in one transaction (`export`) and written in one (`import`), with
//! multi-row INSERTs of as many rows as `IMPORT_BINDS` parameters allow.

use super::write::WriteTx;
use super::{apps, audit, keys, revocations, tenants};
use crate::{AppRecord, Dump, StoreResult};
use sqlx::query_builder::Separated;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};
use std::sync::LazyLock;

pub(super) async fn export(pool: &SqlitePool, now: i64) -> StoreResult<Dump> {
    // A deferred transaction that only reads: in WAL mode its first SELECT fixes the snapshot
    // every later one reads, whatever commits meanwhile.
    let mut tx = pool.begin().await?;
    let dump = crate::dump::read_whole_store!(tx, now);
    tx.rollback().await?;
    Ok(dump)
}

pub(super) async fn import(pool: &SqlitePool, dump: &Dump) -> StoreResult<()> {
    let mut tx = WriteTx::begin(pool).await?;
    crate::dump::check_import_target!(tx.conn(), dump);
    // Silences the app and secret triggers until the marker goes, in this same transaction.
    sqlx::query("INSERT INTO bulk_import (started_at) VALUES (unixepoch())")
        .execute(tx.conn())
        .await?;
    for tenant in &dump.tenants {
        // Its domains go with it (ON DELETE CASCADE); it has no apps or keys to hold it back.
        sqlx::query("DELETE FROM tenants WHERE name = ?")
            .bind(&tenant.name)
            .execute(tx.conn())
            .await?;
    }
    insert_rows(tx.conn(), TENANTS, &dump.tenants, |row, tenant| {
        row.push_bind(tenant.name.clone())
            .push_bind(tenant.issuer.clone())
            .push_bind(tenant.token_profile.as_str())
            .push_bind(tenant.publish_scopes)
            .push_bind(tenant.max_assertion_lifetime)
            .push_bind(tenant.created_at)
            .push_bind(tenant.updated_at);
    })
    .await?;
    for tenant in &dump.tenants {
        tenants::insert_domains(tx.conn(), &tenant.name, &tenant.domains).await?;
    }
    insert_apps(tx.conn(), &dump.apps).await?;
    let secrets: Vec<_> = dump
        .apps
        .iter()
        .flat_map(|app| {
            app.secrets
                .iter()
                .map(move |secret| (&app.client_id, secret))
        })
        .collect();
    insert_rows(tx.conn(), SECRETS, &secrets, |row, (client_id, secret)| {
        row.push_bind((*client_id).clone())
            .push_bind(secret.hash.as_bytes().to_vec())
            .push_bind(secret.created_at)
            .push_bind(secret.expires_at);
    })
    .await?;
    for key in &dump.keys {
        if !keys::insert_row(tx.conn(), key).await? {
            return Err(crate::dump::conflicting_key(key));
        }
    }
    insert_rows(
        tx.conn(),
        REVOCATIONS,
        &dump.revocations,
        |row, revocation| {
            row.push_bind(revocation.jti.clone())
                .push_bind(revocation.tenant.clone())
                .push_bind(revocation.client_id.clone())
                .push_bind(revocation.expires_at)
                .push_bind(revocation.revoked_at);
        },
    )
    .await?;
    // Events follow the store's own, if it has any: ids stay unique and in order.
    let offset: i64 = sqlx::query_scalar("SELECT coalesce(max(id), 0) FROM audit_events")
        .fetch_one(tx.conn())
        .await?;
    insert_rows(tx.conn(), AUDIT, &dump.audit, |row, event| {
        row.push_bind(event.id + offset)
            .push_bind(event.at)
            .push_bind(event.tenant.clone())
            .push_bind(event.actor.clone())
            .push_bind(event.action.clone())
            .push_bind(event.target.clone())
            .push_bind(event.details.clone());
    })
    .await?;
    for sql in [
        // What the silenced TTL trigger would have kept, once per tenant.
        "UPDATE tenants SET max_token_ttl_seen = \
             (SELECT max(token_ttl) FROM apps WHERE apps.tenant = tenants.name) \
         WHERE (SELECT max(token_ttl) FROM apps WHERE apps.tenant = tenants.name) > max_token_ttl_seen",
        // One change per tenant stands for its apps (see `Store::import`).
        "INSERT INTO changes (entity, tenant, entity_id, at) \
         SELECT 'tenant', name, name, unixepoch() FROM tenants",
        "DELETE FROM bulk_import",
    ] {
        sqlx::query(sql).execute(tx.conn()).await?;
    }
    tx.commit().await
}

/// Bound parameters per INSERT of an import: half the bundled SQLite's limit (32766), far
/// above the `MAX_BINDS` the admin reads' IN lists keep to. Fewer, larger statements halve an
/// import's time: 100,000 apps took 9.2 s at 500 parameters and 4.6 s at 16,000 (debug build).
const IMPORT_BINDS: usize = 16_000;

/// The start of a multi-row INSERT: `INSERT ... INTO table (column, ...) `.
struct Insert {
    head: &'static str,
}

impl Insert {
    /// How many values each row binds: the columns the head lists.
    fn columns(&self) -> usize {
        self.head.matches(',').count() + 1
    }
}

const TENANTS: Insert = Insert {
    head: "INSERT INTO tenants \
           (name, issuer, token_profile, publish_scopes, max_assertion_lifetime, created_at, updated_at) ",
};
const SECRETS: Insert = Insert {
    head: "INSERT INTO app_secrets (client_id, secret_hash, created_at, expires_at) ",
};
const REVOCATIONS: Insert = Insert {
    head: "INSERT OR IGNORE INTO revoked_tokens (jti, tenant, client_id, expires_at, revoked_at) ",
};
const AUDIT: Insert = Insert {
    head: "INSERT INTO audit_events (id, at, tenant, actor, action, target, details) ",
};

/// Inserts `items` a statement of as many rows as `IMPORT_BINDS` allows at a time, `push` binding
/// one item's values in the order of `insert.head`.
async fn insert_rows<T>(
    conn: &mut SqliteConnection,
    insert: Insert,
    items: &[T],
    push: impl Fn(&mut Separated<'_, '_, Sqlite, &'static str>, &T),
) -> StoreResult<()> {
    for chunk in items.chunks(IMPORT_BINDS / insert.columns()) {
        let mut query = QueryBuilder::<Sqlite>::new(insert.head);
        query.push_values(chunk, |mut row, item| push(&mut row, item));
        query
            .build()
            .execute(&mut *conn)
            .await
            .map_err(crate::dump::duplicate_in_dump)?;
    }
    Ok(())
}

async fn insert_apps(conn: &mut SqliteConnection, records: &[AppRecord]) -> StoreResult<()> {
    static HEAD: LazyLock<String> =
        LazyLock::new(|| format!("INSERT INTO apps ({}) ", *apps::APP_COLUMNS));
    let insert = Insert {
        head: HEAD.as_str(),
    };
    insert_rows(conn, insert, records, |row, app| {
        // The order of `APP_COLUMNS`: the app's own columns, then its settings.
        row.push_bind(app.client_id.clone())
            .push_bind(app.tenant.clone())
            .push_bind(app.name.clone())
            .push_bind(app.enabled)
            .push_bind(app.tokens_revoked_before)
            .push_bind(app.revision)
            .push_bind(app.created_at)
            .push_bind(app.updated_at);
        apps::bind_settings(row, &app.settings);
    })
    .await
}
