//! `Dump`: everything a deployment is, as `Store::export` reads it and `Store::import` writes
//! it, so that a deployment can move between backends (`latchkey db copy`). Records only: no
//! change log (a target numbers its own changes) and nothing decrypted (keys stay sealed).

use crate::{
    AppRecord, AuditEvent, AuditQuery, KeyRecord, RevocationRecord, SecretRecord, StoreError,
    StoreResult, TenantRecord,
};
use std::collections::HashSet;

/// A whole deployment, in one canonical order (`Dump::sorted`), so that two exports of the
/// same data compare equal whichever backend they came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dump {
    /// Every tenant with its domains, by name.
    pub tenants: Vec<TenantRecord>,
    /// Every app with its secret hashes (a rotation's grace secret included), by client id.
    pub apps: Vec<AppRecord>,
    /// Every signing key, sealed as stored, with its life-cycle state and times: by tenant,
    /// then in creation order.
    pub keys: Vec<KeyRecord>,
    /// The revocations of tokens not yet expired when the dump was read, by tenant and jti.
    pub revocations: Vec<RevocationRecord>,
    /// The audit trail, oldest first (by id).
    pub audit: Vec<AuditEvent>,
}

impl Dump {
    /// The dump in its canonical order. Names compare byte by byte here rather than in SQL,
    /// where PostgreSQL's order depends on the database's collation. Keys are sorted stably,
    /// so within a tenant they keep the creation order the backend read them in.
    pub(crate) fn sorted(mut self) -> Dump {
        self.tenants.sort_by(|a, b| a.name.cmp(&b.name));
        self.apps.sort_by(|a, b| a.client_id.cmp(&b.client_id));
        self.keys.sort_by(|a, b| a.tenant.cmp(&b.tenant));
        self.revocations
            .sort_by(|a, b| (&a.tenant, &a.jti).cmp(&(&b.tenant, &b.jti)));
        self.audit.sort_by_key(|event| event.id);
        self
    }
}

/// Every audit event, as an export reads the trail.
pub(crate) fn whole_audit_trail() -> AuditQuery {
    AuditQuery {
        limit: u32::MAX,
        ..AuditQuery::default()
    }
}

impl Dump {
    /// `NotFound` for the first record whose tenant is neither in the dump nor among
    /// `existing` (the target's tenants): checked before anything is written, so that a foreign
    /// key never fails halfway through an import.
    pub(crate) fn check_tenants(&self, existing: &[String]) -> StoreResult<()> {
        let known: HashSet<&str> = self
            .tenants
            .iter()
            .map(|tenant| tenant.name.as_str())
            .chain(existing.iter().map(String::as_str))
            .collect();
        let named = self
            .apps
            .iter()
            .map(|app| app.tenant.as_str())
            .chain(self.keys.iter().map(|key| key.tenant.as_str()));
        for tenant in named {
            if !known.contains(tenant) {
                return Err(StoreError::NotFound(format!("tenant {tenant:?}")));
            }
        }
        Ok(())
    }
}

/// A key the target refused: two active or two next keys of one tenant, or one kid twice.
pub(crate) fn conflicting_key(key: &KeyRecord) -> StoreError {
    StoreError::Duplicate(format!(
        "the dump holds signing key {} twice, or a second {} key of tenant {:?}",
        key.kid, key.status, key.tenant
    ))
}

/// A multi-row INSERT's failure: a unique key the dump holds twice becomes `Duplicate`.
pub(crate) fn duplicate_in_dump(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::Database(error) if error.is_unique_violation() => StoreError::Duplicate(
            format!("the dump holds a record twice: {}", error.message()),
        ),
        other => other.into(),
    }
}

/// Hands secrets, read in the order of the apps they belong to, to those apps.
pub(crate) struct SecretsInto<'a> {
    apps: &'a mut [AppRecord],
    next: usize,
}

impl<'a> SecretsInto<'a> {
    /// Over apps as read, in the order the secrets will come in.
    pub(crate) fn new(apps: &'a mut [AppRecord]) -> SecretsInto<'a> {
        SecretsInto { apps, next: 0 }
    }

    /// Gives `secret` to the app `client_id`: the current one, or one further on.
    pub(crate) fn attach(&mut self, client_id: &str, secret: SecretRecord) -> StoreResult<()> {
        while let Some(app) = self.apps.get(self.next) {
            if app.client_id == client_id {
                self.apps[self.next].secrets.push(secret);
                return Ok(());
            }
            self.next += 1;
        }
        Err(StoreError::Corrupt(format!(
            "a secret of app {client_id} read out of order"
        )))
    }
}

/// Reads the whole store on the transaction `$tx` (open, and left open) into a sorted `Dump`,
/// through the entity modules in scope where it is invoked (`tenants::all_on`, `apps`,
/// `keys::all`, `revocations::live`, `audit::events`): each backend's `export` is this same
/// sequence of reads on its own SQL, inside the transaction it opens.
macro_rules! read_whole_store {
    ($tx:ident, $now:expr) => {{
        use futures_util::TryStreamExt;
        let tenants = tenants::all_on(&mut $tx).await?;
        let mut apps = Vec::new();
        let select_apps = format!("SELECT {} FROM apps ORDER BY client_id", *apps::APP_COLUMNS);
        let mut rows = sqlx::query(&select_apps).fetch(&mut *$tx);
        while let Some(row) = rows.try_next().await? {
            apps.push(apps::app_from_row(&row)?);
        }
        drop(rows);
        // Both reads list secrets in the order of their apps, so each app's come together.
        let mut secrets = $crate::dump::SecretsInto::new(&mut apps);
        let mut rows = sqlx::query(
            "SELECT client_id, secret_hash, created_at, expires_at FROM app_secrets \
             ORDER BY client_id, id",
        )
        .fetch(&mut *$tx);
        while let Some(row) = rows.try_next().await? {
            let (client_id, secret) = apps::secret_from_row(&row)?;
            secrets.attach(&client_id, secret)?;
        }
        drop(rows);
        $crate::Dump {
            tenants,
            apps,
            keys: keys::all_on(&mut *$tx).await?,
            revocations: revocations::live_on(&mut *$tx, $now).await?,
            audit: audit::events_on(&mut *$tx, &$crate::dump::whole_audit_trail()).await?,
        }
        .sorted()
    }};
}

pub(crate) use read_whole_store;

/// Checks, on the import's connection `$conn` (in its transaction, before anything is
/// written), that the target holds no app and no signing key (else `NotEmpty`) and that every
/// tenant the dump's records name exists in the dump or the target (else `NotFound`).
macro_rules! check_import_target {
    ($conn:expr, $dump:expr) => {{
        let (apps, keys): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM apps), (SELECT count(*) FROM signing_keys)",
        )
        .fetch_one(&mut *$conn)
        .await?;
        if apps > 0 || keys > 0 {
            return Err($crate::StoreError::NotEmpty(format!(
                "the target database already holds {apps} app(s) and {keys} signing key(s): a \
                 deployment is imported only into a database without any"
            )));
        }
        let existing: Vec<String> = sqlx::query_scalar("SELECT name FROM tenants")
            .fetch_all(&mut *$conn)
            .await?;
        $dump.check_tenants(&existing)?;
    }};
}

pub(crate) use check_import_target;
