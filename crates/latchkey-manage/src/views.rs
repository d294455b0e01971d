//! The JSON shapes of latchkey's records, shared by the admin API and the CLI's `--json`
//! output, so a record (an app, a tenant, a key, an audit event, a new secret) reads the same
//! from both: views of stored records, never a secret hash or a private key. Answers that are
//! not a record (a deletion, a revocation, `key rotate --json`) are shaped by each caller. The
//! bodies the admin API accepts are the admin API's own (`latchkey-server`'s `admin::bodies`).

use crate::schema::{
    AlgName, AppTypeName, AssertionLifetime, FederationName, FetchableUrl, GrantTypeName,
    RateLimitText, TokenTtl, token_profile_schema,
};
use latchkey_protocol::TokenProfile;
use latchkey_protocol::federation::FederationRule;
use latchkey_store::{AppRecord, AuditEvent, KeyRecord, KeyStatus, TenantRecord};
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

/// The largest page a list answers with.
pub const MAX_PAGE: u32 = 1000;

/// Unix seconds as RFC 3339 (UTC).
pub fn timestamp(seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|time| time.format(&Rfc3339).ok())
        .unwrap_or_else(|| seconds.to_string())
}

/// The inverse of `timestamp`: unix seconds, or an RFC 3339 time, as unix seconds.
pub fn parse_time(text: &str) -> Option<i64> {
    text.parse::<i64>().ok().or_else(|| {
        OffsetDateTime::parse(text, &Rfc3339)
            .ok()
            .map(OffsetDateTime::unix_timestamp)
    })
}

/// A tenant.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantView {
    /// Unique name.
    pub name: String,
    /// Hosts it answers on (lower-case).
    pub domains: Vec<String>,
    /// The issuer of its tokens; `null` for the `default` tenant when it uses the server's
    /// configured issuer.
    pub issuer: Option<String>,
    /// The shape of its access tokens: `seed` (the seed document's, the default) or `rfc9068`
    /// (RFC 9068: `typ: at+jwt`, a `client_id` claim, `scope` a space-separated string).
    #[schema(schema_with = token_profile_schema)]
    pub token_profile: TokenProfile,
    /// Whether its discovery document lists `scopes_supported`.
    pub publish_scopes: bool,
    /// The longest lifetime, in seconds, it accepts of a `private_key_jwt` client assertion
    /// (`exp` - `iat`, or `exp` - now): its own limit, else 3600, the default and the most.
    #[schema(value_type = AssertionLifetime)]
    pub max_assertion_lifetime: i64,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

impl From<&TenantRecord> for TenantView {
    fn from(tenant: &TenantRecord) -> TenantView {
        TenantView {
            name: tenant.name.clone(),
            domains: tenant.domains.clone(),
            issuer: tenant.effective_issuer(),
            token_profile: tenant.token_profile,
            publish_scopes: tenant.publish_scopes,
            max_assertion_lifetime: tenant.effective_assertion_lifetime(),
            created_at: timestamp(tenant.created_at),
            updated_at: timestamp(tenant.updated_at),
        }
    }
}

/// A list of tenants.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantList {
    /// The tenants, by name.
    pub tenants: Vec<TenantView>,
}

/// An app (never its secret, except `client_secret` in the answers that mint one).
#[derive(Debug, Serialize, ToSchema)]
pub struct AppView {
    /// The client id.
    pub client_id: String,
    /// Display name.
    pub name: String,
    /// The app type.
    #[serde(rename = "type")]
    #[schema(value_type = AppTypeName)]
    pub app_type: String,
    /// Whether it may get tokens.
    pub enabled: bool,
    /// Allowed scopes.
    pub scopes: Vec<String>,
    /// Scopes granted when a request names none.
    pub default_scopes: Vec<String>,
    /// Allowed grant types.
    #[schema(value_type = Vec<GrantTypeName>)]
    pub grant_types: Vec<String>,
    /// Token lifetime in seconds.
    #[schema(value_type = TokenTtl)]
    pub token_ttl: u32,
    /// Whether it may introspect other apps' tokens.
    pub introspect: bool,
    /// Token reuse share in percent; `null` when off.
    pub token_reuse_percent: Option<u8>,
    /// Audiences a token request may name with `resource`.
    pub audiences: Vec<String>,
    /// Static claims added to its tokens.
    #[schema(value_type = Object)]
    pub claims: Value,
    /// Its token quota per node, `N/PERIOD` (such as `600/min`); `null` when unlimited.
    #[schema(value_type = Option<RateLimitText>)]
    pub rate_limit: Option<String>,
    /// Whether the quota only counts and logs what it would refuse.
    pub rate_limit_monitor: bool,
    /// Whether it holds a client secret; an app without one authenticates with its keys
    /// (`private_key_jwt`) or a federation.
    pub has_secret: bool,
    /// Its public keys for `private_key_jwt`, as a JWK Set; `null` when it has none (or
    /// publishes them at `jwks_uri`).
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<Value>,
    /// Where latchkey fetches its public keys for `private_key_jwt`; `null` when none.
    #[schema(value_type = Option<FetchableUrl>)]
    pub jwks_uri: Option<String>,
    /// The external issuers whose identity tokens it accepts (workload identity federation).
    pub federations: Vec<FederationView>,
    /// Every token issued at or before this time is revoked (RFC 3339).
    pub tokens_revoked_before: Option<String>,
    /// Its tenant.
    pub tenant: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
    /// Until when the previous secret still works beside the current one, after a rotation
    /// with a grace period (RFC 3339; a past time once it has stopped); `null` when no
    /// previous secret was kept.
    pub previous_secret_expires_at: Option<String>,
    /// The secret: only in the answer to creating the app, shown once; `null` there when the
    /// app has none (a public app, or one created with a JWK Set or a JWKS URI).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub client_secret: Option<Option<String>>,
    /// Only in the answer to creating the app, when there is something to know about the app
    /// just created (such as grant types this server does not serve): one sentence each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl From<&AppRecord> for AppView {
    fn from(app: &AppRecord) -> AppView {
        let settings = &app.settings;
        let strings =
            |items: &[latchkey_protocol::Scope]| items.iter().map(ToString::to_string).collect();
        AppView {
            client_id: app.client_id.clone(),
            name: app.name.clone(),
            app_type: settings.app_type.as_str().to_owned(),
            enabled: app.enabled,
            scopes: strings(&settings.scopes),
            default_scopes: strings(&settings.default_scopes),
            grant_types: settings
                .grant_types
                .iter()
                .map(|grant| grant.as_str().to_owned())
                .collect(),
            token_ttl: settings.token_ttl,
            introspect: settings.can_introspect,
            token_reuse_percent: settings.token_reuse_percent,
            audiences: settings.audiences.clone(),
            claims: settings
                .custom_claims
                .as_deref()
                .and_then(|text| serde_json::from_str(text).ok())
                .unwrap_or_else(|| Value::Object(Default::default())),
            rate_limit: settings.rate_limit.map(|limit| limit.to_string()),
            rate_limit_monitor: settings.rate_limit_monitor,
            // A secret kept for a grace period has an expiry; the current one has none.
            has_secret: app.secrets.iter().any(|secret| secret.expires_at.is_none()),
            jwks: settings.jwks.as_deref().map(json_object),
            jwks_uri: settings.jwks_uri.clone(),
            federations: settings
                .federation
                .iter()
                .map(FederationView::from)
                .collect(),
            tokens_revoked_before: app.tokens_revoked_before.map(timestamp),
            tenant: app.tenant.clone(),
            created_at: timestamp(app.created_at),
            updated_at: timestamp(app.updated_at),
            // Only a secret kept for a grace period has an expiry; the current one has none.
            previous_secret_expires_at: app
                .secrets
                .iter()
                .filter_map(|secret| secret.expires_at)
                .max()
                .map(timestamp),
            client_secret: None,
            warnings: Vec::new(),
        }
    }
}

/// Stored compact JSON as a value (`null` if it were ever unreadable, which validation on
/// every write rules out).
fn json_object(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// One of an app's federations: tokens from `issuer` whose subject and claims match are the
/// app's.
#[derive(Debug, Serialize, ToSchema)]
pub struct FederationView {
    /// The rule's name, unique within the app.
    #[schema(value_type = FederationName)]
    pub name: String,
    /// The issuer: tokens must carry it as `iss`; its keys come from its OIDC discovery
    /// document unless `jwks` pins them.
    #[schema(value_type = FetchableUrl)]
    pub issuer: String,
    /// The `sub` claim exactly, or a prefix of it when it ends in `*`.
    pub subject: String,
    /// The audience the token must hold; `null` means the tenant's issuer.
    pub audience: Option<String>,
    /// Exact-match conditions on other claims: a claim name, or a JSON Pointer (RFC 6901)
    /// for a nested claim, to the expected value.
    pub claims: std::collections::BTreeMap<String, String>,
    /// The issuer's keys pinned as a JWK Set; `null` when they come from its discovery.
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<Value>,
}

impl From<&FederationRule> for FederationView {
    fn from(rule: &FederationRule) -> FederationView {
        FederationView {
            name: rule.name.clone(),
            issuer: rule.issuer.clone(),
            subject: rule.subject.clone(),
            audience: rule.audience.clone(),
            claims: rule.claims.clone(),
            jwks: rule.jwks.as_deref().map(json_object),
        }
    }
}

/// An app's federations.
#[derive(Debug, Serialize, ToSchema)]
pub struct FederationList {
    /// The app.
    pub client_id: String,
    /// Its federations, in the order they were added.
    pub federations: Vec<FederationView>,
}

impl From<&AppRecord> for FederationList {
    fn from(app: &AppRecord) -> FederationList {
        FederationList {
            client_id: app.client_id.clone(),
            federations: app
                .settings
                .federation
                .iter()
                .map(FederationView::from)
                .collect(),
        }
    }
}

/// One page of apps.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppPage {
    /// The apps, by name then client id.
    pub apps: Vec<AppView>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A freshly minted secret, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecretView {
    /// The app.
    pub client_id: String,
    /// The new secret.
    pub client_secret: String,
    /// Until when the previous secret still works (RFC 3339); `null` when it stopped at once.
    pub previous_secret_expires_at: Option<String>,
}

impl SecretView {
    /// The answer to rotating `client_id`'s secret.
    pub fn new(client_id: String, rotated: &crate::apps::RotatedSecret) -> SecretView {
        SecretView {
            client_id,
            client_secret: rotated.secret.expose().to_owned(),
            previous_secret_expires_at: rotated.previous_expires_at.map(timestamp),
        }
    }
}

/// A signing key (never its private part).
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
    /// Key id.
    pub kid: String,
    /// Its algorithm.
    #[schema(value_type = AlgName)]
    pub alg: String,
    /// next, active, retiring or retired.
    pub status: String,
    /// Its tenant.
    pub tenant: String,
    /// RFC 3339.
    pub created_at: String,
    /// When it became active (RFC 3339).
    pub activated_at: Option<String>,
    /// When a `next` key of a scheduled rotation starts signing (RFC 3339); `null` for a key
    /// that waits for the automatic schedule.
    pub activate_at: Option<String>,
    /// When a retiring key leaves the JWKS (RFC 3339).
    pub retire_at: Option<String>,
    /// When it was retired (RFC 3339).
    pub retired_at: Option<String>,
}

impl From<&KeyRecord> for KeyView {
    fn from(key: &KeyRecord) -> KeyView {
        KeyView {
            kid: key.kid.clone(),
            alg: key.alg.clone(),
            status: key.status.as_str().to_owned(),
            tenant: key.tenant.clone(),
            created_at: timestamp(key.created_at),
            activated_at: key.activated_at.map(timestamp),
            // Only a key still waiting has an activation ahead; once active, `activated_at` says.
            activate_at: key
                .activate_at
                .filter(|_| key.status == KeyStatus::Next)
                .map(timestamp),
            retire_at: key.retire_at.map(timestamp),
            retired_at: key.retired_at.map(timestamp),
        }
    }
}

/// A tenant's signing keys.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyList {
    /// Newest first.
    pub keys: Vec<KeyView>,
}

/// A revocation made.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevocationView {
    /// The revoked token's jti, when one token was revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// The app whose tokens were revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// For an app: every token issued at or before this time is revoked (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens_revoked_before: Option<String>,
    /// Always true.
    pub revoked: bool,
}

/// An audit event.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    /// Sequence number.
    pub id: i64,
    /// When (RFC 3339).
    pub at: String,
    /// The tenant the change was made in.
    pub tenant: String,
    /// `cli`, or the client_id of the admin app that made the change.
    pub actor: String,
    /// What was done, such as app.create.
    pub action: String,
    /// What it was done to.
    pub target: String,
    /// The settings involved.
    #[schema(value_type = Object)]
    pub details: Value,
}

impl From<&AuditEvent> for AuditView {
    fn from(event: &AuditEvent) -> AuditView {
        AuditView {
            id: event.id,
            at: timestamp(event.at),
            tenant: event.tenant.clone(),
            actor: event.actor.clone(),
            action: event.action.clone(),
            target: event.target.clone(),
            details: serde_json::from_str(&event.details).unwrap_or(Value::Null),
        }
    }
}

/// One page of audit events.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// Oldest first, or newest first when asked with `order=newest`.
    pub events: Vec<AuditView>,
    /// Pass as `after` to get the next page of an oldest-first listing; `null` on the last
    /// page and when listing newest first.
    pub next_after: Option<i64>,
    /// Pass as `before` (with `order=newest`) to get the next page of a newest-first listing;
    /// `null` on the last page and when listing oldest first.
    pub next_before: Option<i64>,
}
