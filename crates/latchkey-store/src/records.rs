//! The records the store reads and writes.

use latchkey_protocol::client::{self, Client, ClientKeys, ClientType};
use latchkey_protocol::{AppSettings, SecretHash, StoredSecret, TokenProfile};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// The name of the tenant that always exists.
pub const DEFAULT_TENANT: &str = "default";

/// A tenant: a name, the hosts it answers on, and its issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRecord {
    /// Unique name.
    pub name: String,
    /// The hosts it answers on (lower-case, no port), the first one giving its default issuer.
    /// No two tenants share a domain.
    pub domains: Vec<String>,
    /// Its issuer as configured; `None` for the default: `https://FIRST_DOMAIN`, or for the
    /// `default` tenant the `--issuer` of `latchkey serve`.
    pub issuer: Option<String>,
    /// The shape of its access tokens (`seed` unless changed).
    pub token_profile: TokenProfile,
    /// Whether its discovery document lists `scopes_supported`.
    pub publish_scopes: bool,
    /// The longest lifetime, in seconds, it accepts of a `private_key_jwt` client assertion;
    /// `None` means the default (and ceiling) of one hour.
    pub max_assertion_lifetime: Option<u32>,
    /// Creation time.
    pub created_at: i64,
    /// Last update time.
    pub updated_at: i64,
}

impl TenantRecord {
    /// The longest lifetime, in seconds, it accepts of a `private_key_jwt` client assertion:
    /// its own limit, else the default hour.
    pub fn effective_assertion_lifetime(&self) -> i64 {
        self.max_assertion_lifetime.map_or(
            latchkey_protocol::assertion::MAX_ASSERTION_LIFETIME,
            i64::from,
        )
    }

    /// The issuer its tokens carry: the configured one, else `https://FIRST_DOMAIN`. `None`
    /// means the server's `--issuer`: the `default` tenant's unless it was given its own (its
    /// domains never change its issuer).
    pub fn effective_issuer(&self) -> Option<String> {
        if self.name == DEFAULT_TENANT {
            return self.issuer.clone();
        }
        self.issuer.clone().or_else(|| {
            self.domains
                .first()
                .map(|domain| format!("https://{domain}"))
        })
    }
}

/// Which apps of a tenant a listing returns: filters, and the page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppQuery {
    /// Only apps whose name contains this text (case-insensitive).
    pub name_contains: Option<String>,
    /// Only apps of this type.
    pub app_type: Option<ClientType>,
    /// Only enabled (`true`) or disabled (`false`) apps.
    pub enabled: Option<bool>,
    /// Only apps after this `(name, client_id)` in the listing order (the previous page's last).
    pub after: Option<(String, String)>,
    /// At most this many apps.
    pub limit: u32,
}

/// One audit trail entry: who changed what, when, in which tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Sequence number (assigned by the store; 0 before it is recorded).
    pub id: i64,
    /// When, unix seconds.
    pub at: i64,
    /// The tenant the change was made in.
    pub tenant: String,
    /// `cli`, or the client_id of the admin app whose token made the request.
    pub actor: String,
    /// What was done, such as `app.create` or `key.rotate`.
    pub action: String,
    /// What it was done to: a client_id, kid, jti or tenant name.
    pub target: String,
    /// The settings involved, as a JSON object text; never a secret.
    pub details: String,
}

/// Which audit events a listing returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only events at or after this time.
    pub since: Option<i64>,
    /// Only events of this tenant.
    pub tenant: Option<String>,
    /// Only events with an id above this (the previous page's last).
    pub after_id: Option<i64>,
    /// Which `limit` events, in which order.
    pub order: AuditOrder,
    /// Only events of this action, matched exactly (`app.create`).
    pub action: Option<String>,
    /// Only events at or before this time.
    pub until: Option<i64>,
    /// Only events with an id below this (the previous newest-first page's last).
    pub before_id: Option<i64>,
    /// At most this many events.
    pub limit: u32,
}

/// Which events of those passing an `AuditQuery`'s filters it lists, and in which order: the
/// order is always by id, which is the order events were recorded in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AuditOrder {
    /// The oldest `limit`, oldest first.
    #[default]
    Oldest,
    /// The newest `limit`, listed oldest first (the tail of a trail, read as a log).
    Latest,
    /// The newest `limit`, newest first.
    Newest,
}

impl AuditOrder {
    /// Whether the events are picked from the newest.
    pub fn picks_newest(self) -> bool {
        self != AuditOrder::Oldest
    }
}

/// A stored secret hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretRecord {
    /// SHA-256 of the secret.
    pub hash: SecretHash,
    /// When it was created.
    pub created_at: i64,
    /// When it stops being accepted, if ever.
    pub expires_at: Option<i64>,
}

/// An app (a client, in OAuth words) with its secret hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRecord {
    /// The client id.
    pub client_id: String,
    /// Its tenant.
    pub tenant: String,
    /// Display name.
    pub name: String,
    /// Whether it may get tokens.
    pub enabled: bool,
    /// What the operator configured.
    pub settings: AppSettings,
    /// Every token of the app issued at or before this time (unix seconds) is revoked.
    pub tokens_revoked_before: Option<i64>,
    /// Optimistic concurrency counter.
    pub revision: i64,
    /// Creation time.
    pub created_at: i64,
    /// Last update time.
    pub updated_at: i64,
    /// Secret hashes (none for public apps).
    pub secrets: Vec<SecretRecord>,
}

impl AppRecord {
    /// The token endpoint's view of this app, taking the record apart (no copies: a snapshot
    /// load makes a million of these).
    pub fn into_client(self) -> Client {
        let settings = self.settings;
        // `into_boxed_slice` trims the lists' growth slack (room for 4 scopes, 8 grant types
        // while decoding): a snapshot holds them for good.
        Client {
            client_id: self.client_id,
            client_type: settings.app_type,
            enabled: self.enabled,
            grant_types: settings.grant_types.iter().copied().collect(),
            scopes: settings.scopes.into_boxed_slice(),
            default_scopes: settings.default_scopes.into_boxed_slice(),
            token_ttl: settings.token_ttl,
            can_introspect: settings.can_introspect,
            tokens_revoked_before: self.tokens_revoked_before,
            token_reuse_percent: settings.token_reuse_percent,
            audiences: settings.audiences.into_boxed_slice(),
            custom_claims: settings
                .custom_claims
                .as_deref()
                .and_then(client::claims_fragment),
            rate_limit: settings.rate_limit,
            rate_limit_monitor: settings.rate_limit_monitor,
            keys: ClientKeys::boxed(settings.jwks, settings.jwks_uri, settings.federation),
            secrets: self
                .secrets
                .iter()
                .map(|secret| StoredSecret {
                    hash: secret.hash,
                    expires_at: secret.expires_at,
                })
                .collect(),
        }
    }
}

/// An app as a snapshot holds it: the token endpoint's view of it, and its tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedClient {
    /// The tenant's name (one shared copy per tenant within a scan).
    pub tenant: Arc<str>,
    /// The client, secrets included.
    pub client: Client,
}

/// Where a signing key is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyStatus {
    /// Published ahead of use.
    Next,
    /// Signs new tokens.
    Active,
    /// No longer signs; still published until its tokens expire.
    Retiring,
    /// No longer published.
    Retired,
}

impl KeyStatus {
    /// The stored and displayed name.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Next => "next",
            KeyStatus::Active => "active",
            KeyStatus::Retiring => "retiring",
            KeyStatus::Retired => "retired",
        }
    }
}

impl fmt::Display for KeyStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyStatus {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [
            KeyStatus::Next,
            KeyStatus::Active,
            KeyStatus::Retiring,
            KeyStatus::Retired,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
        .ok_or_else(|| format!("unknown key status {text:?}"))
    }
}

/// A signing key with its private part (PKCS#8 DER).
#[derive(Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// Key id (a UUID).
    pub kid: String,
    /// Its tenant.
    pub tenant: String,
    /// JWS algorithm name.
    pub alg: String,
    /// Life-cycle status.
    pub status: KeyStatus,
    /// The private key: PKCS#8 DER sealed by the master key `master_key_id` (plain DER only
    /// when `master_key_id` is `None`, for keys stored before sealing existed).
    pub private_key: Vec<u8>,
    /// Id of the master key that sealed `private_key`.
    pub master_key_id: Option<String>,
    /// Creation time.
    pub created_at: i64,
    /// When it became active.
    pub activated_at: Option<i64>,
    /// When a `next` key of a rotation scheduled ahead starts signing.
    pub activate_at: Option<i64>,
    /// When a retiring key leaves the JWKS.
    pub retire_at: Option<i64>,
    /// When it was retired.
    pub retired_at: Option<i64>,
}

impl fmt::Debug for KeyRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRecord")
            .field("kid", &self.kid)
            .field("tenant", &self.tenant)
            .field("alg", &self.alg)
            .field("status", &self.status)
            .field("private_key", &"[redacted]")
            .finish_non_exhaustive()
    }
}

/// What kind of thing a change log row is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangedEntity {
    /// An app or its secrets (`id` is the client id).
    App,
    /// A signing key (`id` is the kid).
    Key,
    /// A tenant (`id` is its name).
    Tenant,
    /// A revoked token (`id` is its jti).
    Revocation,
}

/// A revoked token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationRecord {
    /// The token's id.
    pub jti: String,
    /// The tenant that issued it.
    pub tenant: String,
    /// The app it was issued to, when known.
    pub client_id: Option<String>,
    /// When the token expires; the record is purged after that.
    pub expires_at: i64,
    /// When it was revoked.
    pub revoked_at: i64,
}

/// One change log row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Strictly increasing sequence number.
    pub seq: i64,
    /// What changed.
    pub entity: ChangedEntity,
    /// The tenant it belongs to.
    pub tenant: String,
    /// Its id.
    pub id: String,
}
