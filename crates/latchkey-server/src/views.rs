//! The JSON shapes of latchkey's records, shared by the admin API and the CLI's `--json`
//! output (so the two always agree): views of stored records (never a secret hash or a private
//! key), and the bodies the admin API accepts.

use crate::admin::schema::{
    AlgName, AppName, AppTypeName, GrantTypeName, Seconds, TenantName, TokenReusePercent, TokenTtl,
};
use latchkey_protocol::TokenProfile;
use latchkey_store::{AppRecord, AuditEvent, KeyRecord, KeyStatus, TenantRecord};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

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

/// A field that may be absent (leave unchanged), `null` (clear) or a value (set).
fn double_option<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
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
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// `token_profile` in the OpenAPI document: one of the profiles' names.
fn token_profile_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(TokenProfile::ALL.map(TokenProfile::as_str)))
        .description(Some(
            "The shape of the tenant's access tokens: `seed` (the seed document's, the default) \
             or `rfc9068` (RFC 9068: `typ: at+jwt`, a `client_id` claim, `scope` a \
             space-separated string).",
        ))
        .build()
}

/// `token_profile_schema` where `null` is accepted too: a change body reads it as "unchanged",
/// like every other absent or null field there.
fn token_profile_change_schema() -> utoipa::openapi::Object {
    let mut values: Vec<serde_json::Value> = TokenProfile::ALL
        .map(|profile| profile.as_str().into())
        .into();
    values.push(serde_json::Value::Null);
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            utoipa::openapi::schema::Type::String,
            utoipa::openapi::schema::Type::Null,
        ]))
        .enum_values(Some(values))
        .description(Some(
            "New token profile: `seed` or `rfc9068`; `null` leaves it unchanged.",
        ))
        .build()
}

impl From<&TenantRecord> for TenantView {
    fn from(tenant: &TenantRecord) -> TenantView {
        TenantView {
            name: tenant.name.clone(),
            domains: tenant.domains.clone(),
            issuer: tenant.effective_issuer(),
            token_profile: tenant.token_profile,
            publish_scopes: tenant.publish_scopes,
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

/// A new tenant.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTenantBody {
    /// Unique name: lower-case letters, digits, '-' or '_', starting with a letter or digit.
    #[schema(value_type = TenantName)]
    pub name: String,
    /// Hosts it answers on; the first gives its issuer https://DOMAIN.
    pub domains: Vec<String>,
    /// Its issuer, instead of https://FIRST_DOMAIN.
    #[serde(default)]
    pub issuer: Option<String>,
    /// `seed` (the default) or `rfc9068`.
    #[serde(default)]
    #[schema(schema_with = token_profile_schema)]
    pub token_profile: Option<TokenProfile>,
    /// Whether discovery lists its scopes (default true).
    #[serde(default)]
    pub publish_scopes: Option<bool>,
}

/// Changes to a tenant; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantPatch {
    /// New domains (replacing the list).
    #[serde(default)]
    pub domains: Option<Vec<String>>,
    /// New issuer; `null` goes back to the default.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub issuer: Option<Option<String>>,
    /// New token profile: `seed` or `rfc9068`.
    #[serde(default)]
    #[schema(schema_with = token_profile_change_schema)]
    pub token_profile: Option<TokenProfile>,
    /// Whether discovery lists its scopes.
    #[serde(default)]
    pub publish_scopes: Option<bool>,
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
    /// The secret: only in the answer to creating the app, shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// Only in the answer to creating the app, when there is something to know about the app
    /// just created (such as grant types this server does not serve): one sentence each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl From<&AppRecord> for AppView {
    fn from(app: &AppRecord) -> AppView {
        let strings =
            |items: &[latchkey_protocol::Scope]| items.iter().map(ToString::to_string).collect();
        AppView {
            client_id: app.client_id.clone(),
            name: app.name.clone(),
            app_type: app.app_type.as_str().to_owned(),
            enabled: app.enabled,
            scopes: strings(&app.scopes),
            default_scopes: strings(&app.default_scopes),
            grant_types: app
                .grant_types
                .iter()
                .map(|grant| grant.as_str().to_owned())
                .collect(),
            token_ttl: app.token_ttl,
            introspect: app.can_introspect,
            token_reuse_percent: app.token_reuse_percent,
            audiences: app.audiences.clone(),
            claims: app
                .custom_claims
                .as_deref()
                .and_then(|text| serde_json::from_str(text).ok())
                .unwrap_or_else(|| Value::Object(Default::default())),
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

/// One page of apps.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppPage {
    /// The apps, by name then client id.
    pub apps: Vec<AppView>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A new app.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAppBody {
    /// Display name.
    #[schema(value_type = AppName)]
    pub name: String,
    /// The app type (default m2m).
    #[serde(default, rename = "type")]
    #[schema(value_type = Option<AppTypeName>)]
    pub app_type: Option<String>,
    /// Allowed scopes.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Scopes granted when a request names none.
    #[serde(default)]
    pub default_scopes: Vec<String>,
    /// Allowed grant types (default: the type's).
    #[serde(default)]
    #[schema(value_type = Option<Vec<GrantTypeName>>)]
    pub grant_types: Option<Vec<String>>,
    /// Token lifetime in seconds (default 300).
    #[serde(default)]
    #[schema(value_type = Option<TokenTtl>)]
    pub token_ttl: Option<u32>,
    /// Whether it may introspect other apps' tokens.
    #[serde(default)]
    pub introspect: bool,
    /// Token reuse share in percent; absent or `null`: off.
    #[serde(default)]
    #[schema(value_type = Option<TokenReusePercent>)]
    pub token_reuse_percent: Option<u8>,
    /// Audiences a token request may name with `resource`.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// Static claims added to its tokens.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub claims: Option<serde_json::Map<String, Value>>,
}

/// Changes to an app; absent fields stay as they are, lists replace the old ones.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppPatch {
    /// New display name.
    #[serde(default)]
    #[schema(value_type = Option<AppName>)]
    pub name: Option<String>,
    /// Enable or disable.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// New allowed scopes.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// New default scopes.
    #[serde(default)]
    pub default_scopes: Option<Vec<String>>,
    /// New grant types.
    #[serde(default)]
    #[schema(value_type = Option<Vec<GrantTypeName>>)]
    pub grant_types: Option<Vec<String>>,
    /// New token lifetime in seconds.
    #[serde(default)]
    #[schema(value_type = Option<TokenTtl>)]
    pub token_ttl: Option<u32>,
    /// Grant or withdraw the introspect permission.
    #[serde(default)]
    pub introspect: Option<bool>,
    /// Token reuse share in percent; `null` turns it off.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<TokenReusePercent>)]
    pub token_reuse_percent: Option<Option<u8>>,
    /// New audiences.
    #[serde(default)]
    pub audiences: Option<Vec<String>>,
    /// New static claims; `null` removes them.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Object>)]
    pub claims: Option<Option<serde_json::Map<String, Value>>>,
}

/// Options of a secret rotation.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateSecretBody {
    /// Keep the old secret working this many seconds beside the new one.
    #[serde(default)]
    #[schema(value_type = Option<Seconds>)]
    pub grace_seconds: Option<u32>,
}

/// Options of disabling an app.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisableBody {
    /// Also revoke every token the app holds. Otherwise they are refused only while it is
    /// disabled, and are valid again (until they expire) once it is enabled.
    #[serde(default)]
    pub revoke_tokens: bool,
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

/// Options of a key rotation.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateKeyBody {
    /// Algorithm of the new key; default: the current key's.
    #[serde(default)]
    #[schema(value_type = Option<AlgName>)]
    pub alg: Option<String>,
    /// Publish the new key now and sign with it from this many seconds on (at most a year), on
    /// every server; 0 or absent: sign with it at once. Verifiers that cached the JWKS reject a
    /// key they have not fetched yet: 600 (twice the JWKS max-age) lets every cache see it first.
    #[serde(default)]
    pub in_seconds: Option<u64>,
}

/// What to revoke: one token by `jti`, or every token of an app by `client_id`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevocationBody {
    /// A token's jti: a UUID, as latchkey issues them.
    #[serde(default)]
    pub jti: Option<String>,
    /// An app whose every token issued until now is revoked.
    #[serde(default)]
    pub client_id: Option<String>,
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
    /// Oldest first.
    pub events: Vec<AuditView>,
    /// Pass as `after` to get the next page; `null` on the last page.
    pub next_after: Option<i64>,
}
