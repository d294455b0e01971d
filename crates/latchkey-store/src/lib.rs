//! Persistence for latchkey: the `Store` trait, the records it reads and writes, and its two
//! implementations, SQLite (embedded, the default) and PostgreSQL (for many nodes on one
//! database). Only this crate knows SQL.
//!
//! The store serves admin paths (CLI, admin API) and snapshot loads; nothing on the token path
//! calls it. Every write also appends to a change log (by database triggers), which running
//! servers follow to apply only what changed.

pub mod backup;
mod columns;
mod delegate;
mod dump;
mod lease;
mod postgres;
mod records;
mod sqlite;

#[cfg(test)]
mod conformance;

pub use dump::Dump;

/// Causes `StoreError::Unavailable` gives that a caller has advice for (the CLI's hints).
pub mod unavailable {
    /// SQLite cannot write the file (its permissions, an immutable file, a read-only mount).
    pub const READ_ONLY: &str = "the database file is read-only";
    /// No space left for the database.
    pub const DISK_FULL: &str = "the disk holding the database is full";
    /// SQLite's write failed in the operating system (which may also be a full disk, or a file
    /// made read-only under an open connection).
    pub const IO_ERROR: &str =
        "an I/O error on the database file (is the disk full or failing, or the file read-only?)";
}
pub use lease::MaintenanceLease;
pub use postgres::{PostgresStore, retry_backoff};
pub use records::*;
pub use sqlite::SqliteStore;

use async_trait::async_trait;
use std::sync::Arc;

/// A failure of a store operation. Messages never carry secret material: bound values (hashes,
/// private keys) are not part of any error.
///
/// A variant wrapping a library error carries it in its message and not as its `source`: the
/// server logs errors by their message, and a chain printed whole (`{:#}`) would otherwise name
/// the cause twice.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL has a scheme no store handles (the scheme is given).
    #[error(
        "database URLs starting with {0:?} are not supported: use sqlite://PATH (for example \
         sqlite://latchkey.db) or postgres://USER@HOST/DATABASE"
    )]
    UnsupportedUrl(String),
    /// The database URL says something latchkey cannot use; the message says what (and never
    /// repeats the URL, which may hold a password).
    #[error("{0}")]
    BadUrl(String),
    /// `open` was told not to create a database, and there is none at this path.
    #[error("there is no database at {}", .0.display())]
    Missing(std::path::PathBuf),
    /// The database could not be opened or reached.
    #[error("could not open the database: {}", connect_cause(.0))]
    Connect(sqlx::Error),
    /// Applying the schema migrations failed.
    #[error("could not apply database migrations: {0}")]
    Migrate(sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("database query failed: {0}")]
    Query(sqlx::Error),
    /// The database cannot take the operation now (its disk is full, it is read-only, an I/O
    /// error, or another writer held the lock past the busy timeout); nothing was changed, and
    /// the same request may succeed once the cause is gone. The message says which.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// No such app, key or tenant.
    #[error("{0} not found")]
    NotFound(String),
    /// A name or domain that must be unique is already taken; the message says which.
    #[error("{0}")]
    Duplicate(String),
    /// The operation would break something that depends on the row; the message says what.
    #[error("{0}")]
    InUse(String),
    /// A record with this id already exists (the message names it). The message is kept from
    /// when this and `ChangedConcurrently` were one variant.
    #[error("{0} was changed concurrently; try again")]
    AlreadyExists(String),
    /// Another writer changed the row between this writer's read and its write; nothing was
    /// written and the caller may read again and retry.
    #[error("{0} was changed concurrently; try again")]
    ChangedConcurrently(String),
    /// A stored value does not parse (a row written by something else than latchkey).
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// Reading every app for a snapshot failed.
    #[error("could not read the apps: {0}")]
    Scan(String),
    /// An import was refused because the database already holds apps or signing keys; the
    /// message says how many. Nothing was written.
    #[error("{0}")]
    NotEmpty(String),
}

/// What kept a connection from opening: for a network failure (refused, no route, timed out),
/// "database unreachable" first, the words every command's failure starts with.
fn connect_cause(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Io(io) => format!("database unreachable ({io})"),
        other => other.to_string(),
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> StoreError {
        // Which database errors mean "not now" is each backend's to say, by its own codes.
        let cause = match &error {
            // A connection cut while it opens (or its TLS handshake) reads as garbage
            // (`Protocol`, `Tls`), not as an I/O error.
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed => Some("database unreachable"),
            _ => sqlite::unavailable_cause(&error).or_else(|| postgres::unavailable_cause(&error)),
        };
        match cause {
            Some(cause) => StoreError::Unavailable(cause.to_owned()),
            None => StoreError::Query(error),
        }
    }
}

/// Shorthand for store results.
pub type StoreResult<T> = Result<T, StoreError>;

/// Everything latchkey persists. Implementations: `SqliteStore` (embedded default) and
/// `PostgresStore`.
///
/// A write that takes `audit` records the event in the same transaction as the change: a change
/// without its audit event, or an event of a change that rolled back, cannot exist. Writes that
/// report false or an error record nothing.
///
/// # The change log's ordering contract
///
/// Running servers follow the change log by remembering one number: the `seq` of the last
/// change they applied. That is only sound if every backend keeps these promises:
///
/// 1. Every write that commits appends its changes in the same transaction: a reader sees a
///    write's changes exactly when it can see the write.
/// 2. Sequence numbers are unique and never reused, also after `purge_changes`, and
///    `changes_since` returns changes in strictly increasing `seq`.
/// 3. Sequence order is commit order: once a change with seq N is visible, every change with
///    a lower seq that will ever exist is visible too. So a reader that has applied up to N
///    and asks for changes after N never later finds a change with seq <= N appear; it misses
///    nothing by remembering N alone.
/// 4. Every change up to the seq `latest_change` returns is visible by the time it returns,
///    so state read afterwards includes all of them (a snapshot load reads the seq first,
///    then the state, then catches up from the seq).
///
/// Not promised: that sequence numbers are contiguous (a rolled-back write or a purge leaves
/// gaps), or any relation between seq and the `at` time of a row.
///
/// SQLite keeps promise 3 by having one writer at a time: a write holds the database's write
/// lock from its first write to its commit, and triggers take the next `AUTOINCREMENT` seq
/// inside it, so numbers are handed out in commit order. A backend with concurrent writers must do
/// something on purpose, because a plain sequence is not enough: a transaction that drew 7 may
/// commit after one that drew 8, and a reader that saw 8 would skip 7 for good. `PostgresStore`
/// serialises the drawing with the commit: every writing transaction takes the same
/// transaction-level advisory lock before its first write, and holds it until it commits or
/// rolls back (PostgreSQL releases it only after the commit is visible). The conformance suite checks the contract with concurrent writers and a reader
/// polling while they write (`conformance::changes`).
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// All tenants, by name, with their domains.
    async fn tenants(&self) -> StoreResult<Vec<TenantRecord>>;
    /// One tenant.
    async fn tenant(&self, name: &str) -> StoreResult<Option<TenantRecord>>;
    /// Inserts a tenant, its domains and, in the same transaction, its first signing key (so no
    /// server ever sees the tenant without it). `Duplicate` when the name or a domain is taken.
    async fn create_tenant(
        &self,
        tenant: &TenantRecord,
        first_key: Option<&KeyRecord>,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<()>;
    /// Replaces a tenant's domains, issuer and settings. `NotFound`, or `Duplicate` when a domain belongs
    /// to another tenant.
    async fn update_tenant(
        &self,
        tenant: &TenantRecord,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<()>;
    /// Deletes a tenant. With `force`, its apps, signing keys and revocations go with it;
    /// without, a tenant that still has apps is refused with `InUse`. Audit events stay.
    async fn delete_tenant(
        &self,
        name: &str,
        force: bool,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<()>;

    /// Inserts an app and, for confidential apps, its first secret hash. `NotFound` when the
    /// tenant does not exist, `AlreadyExists` when the client id is taken.
    async fn create_app(&self, app: &AppRecord, audit: Option<&AuditEvent>) -> StoreResult<()>;
    /// One app of a tenant, with its secret hashes.
    async fn app(&self, tenant: &str, client_id: &str) -> StoreResult<Option<AppRecord>>;
    /// The apps of a tenant, ordered by name then client id, with their secret hashes.
    async fn apps(&self, tenant: &str) -> StoreResult<Vec<AppRecord>>;
    /// One page of a tenant's apps that pass the query's filters, in the order of `apps`.
    async fn list_apps(&self, tenant: &str, query: &AppQuery) -> StoreResult<Vec<AppRecord>>;
    /// Writes an app's settings if its revision is still `app.revision`, and bumps the revision.
    /// Secrets are not touched. `ChangedConcurrently` when another writer got there first,
    /// `NotFound` when the app is gone.
    async fn update_app(&self, app: &AppRecord, audit: Option<&AuditEvent>) -> StoreResult<()>;
    /// The longest token TTL any app of the tenant has ever had (a TTL lowered later still
    /// counts: tokens issued before live that long); `None` before the tenant's first app.
    async fn max_token_ttl(&self, tenant: &str) -> StoreResult<Option<u32>>;
    /// Deletes an app and its secrets. `NotFound` when there is no such app.
    async fn delete_app(
        &self,
        tenant: &str,
        client_id: &str,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<()>;
    /// Removes every secret of an app, at `now`; false when the tenant has no such app.
    async fn remove_secrets(
        &self,
        tenant: &str,
        client_id: &str,
        now: i64,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<bool>;

    /// Replaces an app's secrets with `secret`. Old secrets are dropped, or kept until
    /// `old_expires_at` when it is given (a rotation grace period).
    async fn replace_secret(
        &self,
        tenant: &str,
        client_id: &str,
        secret: SecretRecord,
        old_expires_at: Option<i64>,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<()>;

    /// The signing keys of a tenant, newest first (in creation order within a second), private
    /// keys included.
    async fn signing_keys(&self, tenant: &str) -> StoreResult<Vec<KeyRecord>>;
    /// Every tenant's signing keys (for re-sealing under a new master key).
    async fn all_signing_keys(&self) -> StoreResult<Vec<KeyRecord>>;
    /// Inserts a key with status `active` or `next`. Returns false, inserting nothing, when the
    /// tenant already has a key in that status (so concurrent nodes cannot both add one).
    async fn insert_key(&self, key: &KeyRecord, audit: Option<&AuditEvent>) -> StoreResult<bool>;
    /// Makes the tenant's `next` key `kid` active and its active key retiring until
    /// `retire_at`, in one transaction. False when `kid` is not the tenant's next key.
    async fn promote_key(
        &self,
        tenant: &str,
        kid: &str,
        now: i64,
        retire_at: i64,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<bool>;
    /// Sets when the tenant's `next` key `kid` starts signing. False when it is not the
    /// tenant's next key.
    async fn schedule_key(
        &self,
        tenant: &str,
        kid: &str,
        activate_at: i64,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<bool>;
    /// Moves a retiring key to retired (it leaves the JWKS). False when it is not retiring.
    async fn retire_key(&self, kid: &str, now: i64) -> StoreResult<bool>;
    /// Deletes a key that is not active. False when there is no such key or it is active.
    async fn delete_key(&self, kid: &str) -> StoreResult<bool>;
    /// Replaces a key's sealed private key, if it is still sealed by `old_master_key_id`.
    async fn reseal_key(
        &self,
        kid: &str,
        old_master_key_id: Option<&str>,
        private_key: &[u8],
        master_key_id: &str,
    ) -> StoreResult<bool>;

    /// Records a revoked token; revoking one already revoked in the same tenant changes nothing.
    /// The same jti revoked in another tenant is another revocation.
    async fn revoke_token(
        &self,
        record: &RevocationRecord,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<()>;
    /// The revocations of these token ids (those that exist), in every tenant.
    async fn revocations(&self, jtis: &[String]) -> StoreResult<Vec<RevocationRecord>>;
    /// Revocations of tokens that have not expired at `now`.
    async fn live_revocations(&self, now: i64) -> StoreResult<Vec<RevocationRecord>>;
    /// Deletes revocations of tokens that expired before `before`; returns how many.
    async fn purge_revocations(&self, before: i64) -> StoreResult<u64>;

    /// Tries to take the maintenance lease: `Some` when this process now runs maintenance (key
    /// rotation steps, purges) until it releases the lease, `None` while another holds it. With
    /// several nodes on one database, each interval's work is then done once, by one node.
    async fn lead_maintenance(&self) -> StoreResult<Option<MaintenanceLease>>;
    /// A counter that grows when another writer may have committed changes, for followers of
    /// the change log to wait on between polls; `None` when the backend cannot tell
    /// (followers then just poll). It may also grow without a change (after a reconnect, when
    /// some notices may have been missed): it wakes a follower, never tells it what changed.
    fn change_notices(&self) -> Option<tokio::sync::watch::Receiver<u64>>;

    /// Audit events passing the query, in its `order`.
    async fn audit_events(&self, query: &AuditQuery) -> StoreResult<Vec<AuditEvent>>;
    /// Appends an event that records no change of its own (a federated login, say).
    async fn record_audit(&self, event: &AuditEvent) -> StoreResult<()>;

    /// Every app of every tenant as the token endpoint sees it, secrets included, handed to
    /// `visit` one at a time from one consistent read, in no particular order: what a snapshot
    /// load needs, and nothing more. Streams: memory stays constant however many apps there
    /// are (collecting a million decoded rows first is what a snapshot load must not do).
    async fn scan_clients(&self, visit: &mut (dyn FnMut(ScannedClient) + Send)) -> StoreResult<()>;
    /// How many apps there are, in every tenant: what a snapshot load sizes its client map
    /// by before the scan, so the map is built once instead of grown and rehashed.
    async fn app_count(&self) -> StoreResult<u64>;
    /// The apps with these client ids (those that still exist).
    async fn apps_by_id(&self, client_ids: &[String]) -> StoreResult<Vec<AppRecord>>;
    /// The newest change's sequence number (0 when the log is empty), under the ordering
    /// contract above.
    async fn latest_change(&self) -> StoreResult<i64>;
    /// Changes after `seq`, oldest first (strictly increasing seq), at most `limit`; under the
    /// ordering contract above, a reader that asks again from the last seq it got misses none.
    async fn changes_since(&self, seq: i64, limit: u32) -> StoreResult<Vec<Change>>;
    /// Deletes change log rows older than `before` (unix seconds), except the newest change,
    /// so that `latest_change` never goes back; returns how many.
    async fn purge_changes(&self, before: i64) -> StoreResult<u64>;

    /// Everything the store holds, in one consistent read (one transaction; read-only and
    /// repeatable on PostgreSQL), in `Dump`'s canonical order: tenants with their domains, apps
    /// with every secret hash, signing keys sealed as stored, the revocations still live at
    /// `now`, and the audit trail. Not the change log.
    async fn export(&self, now: i64) -> StoreResult<Dump>;
    /// Writes a dump into this store in one transaction, all of it or nothing.
    ///
    /// Refused with `NotEmpty`, writing nothing, when the store holds any app or any signing
    /// key: an import adds a deployment to an empty store, it does not merge two. Tenants the
    /// store already has under a name the dump uses (a new store has `default`) are replaced
    /// by the dump's; other tenants stay. Every record keeps its times, revision and state; audit
    /// events keep their ids when the store has none (else they follow its own, in order),
    /// and counters continue past what was imported, so later writes go on as on the source.
    /// Each tenant's high-water mark of token TTLs is its imported apps' longest TTL at least
    /// (a dump does not carry the source's mark, which a TTL lowered earlier may exceed).
    ///
    /// The change log gets one change per tenant, per signing key and per revocation, each
    /// tenant announced whether or not the dump holds it, but none per app or secret, so a
    /// million apps import without a million log rows. No node can have loaded the apps'
    /// absence: a node gives every tenant a signing key before it loads (`NotEmpty` then
    /// refuses the import), and one that starts during the import waits for its write lock
    /// (or gives up starting) and loads after it. A node following the log reloads every
    /// tenant and its keys from the tenant and key changes.
    /// `NotFound` when an app or key names a tenant neither the dump nor the store has;
    /// `Duplicate` when a domain is another tenant's or the dump holds a record twice.
    async fn import(&self, dump: &Dump) -> StoreResult<()>;
}

/// Opens the store a database URL names, creating and migrating it as needed.
pub async fn open(url: &str) -> StoreResult<Arc<dyn Store>> {
    open_with(url, Create::IfMissing).await
}

/// Whether opening a database may create it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Create {
    /// Create the database when it does not exist yet.
    IfMissing,
    /// Refuse with `StoreError::Missing` when it does not exist.
    Never,
}

/// Opens the store a database URL names, migrating it as needed; with `Create::Never`, a
/// database that does not exist is `Missing` and nothing is created.
pub async fn open_with(url: &str, create: Create) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        return Ok(Arc::new(SqliteStore::open_with(url, create).await?));
    }
    // A PostgreSQL database is the operator's to create; `create` is about SQLite's file.
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        return Ok(Arc::new(PostgresStore::open(url).await?));
    }
    let scheme = url.split_once(':').map_or(url, |(scheme, _)| scheme);
    Err(StoreError::UnsupportedUrl(format!("{scheme}:")))
}

#[cfg(test)]
mod tests {
    use super::{Create, StoreError, open_with};

    #[tokio::test]
    async fn opening_without_create_refuses_a_missing_database_and_leaves_no_file() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("latchkey.db");
        let url = format!("sqlite://{}", path.display());

        let refused = open_with(&url, Create::Never).await;

        assert!(
            matches!(&refused, Err(StoreError::Missing(missing)) if *missing == path),
            "{:?}",
            refused.err()
        );
        assert_eq!(std::fs::read_dir(dir.path()).expect("listing").count(), 0);
        open_with(&url, Create::IfMissing)
            .await
            .expect("creating the database");
        open_with(&url, Create::Never)
            .await
            .expect("opening the database that now exists");
    }

    #[tokio::test]
    async fn a_url_of_another_scheme_names_its_scheme() {
        let refused = open_with("mysql://u:pw@db/latchkey", Create::IfMissing).await;
        let message = refused.err().map(|error| error.to_string());
        assert_eq!(
            message.as_deref(),
            Some(
                "database URLs starting with \"mysql:\" are not supported: use sqlite://PATH \
                 (for example sqlite://latchkey.db) or postgres://USER@HOST/DATABASE"
            )
        );
    }
}
