//! The bodies the admin API accepts. Each names the constrained schema of its fields (from
//! `latchkey_manage::schema`), so the OpenAPI document states what the server enforces, and
//! converts into what the management layer takes in one place.

use super::error::AdminError;
use latchkey_keys::Algorithm;
use latchkey_manage::apps::{AppChanges, NewApp};
use latchkey_manage::schema::{
    AlgName, AppName, AppTypeName, AssertionLifetime, FederationName, FetchableUrl, GrantTypeName,
    RateLimitText, Seconds, TenantName, TokenReusePercent, TokenTtl, token_profile_change_schema,
    token_profile_schema,
};
use latchkey_protocol::app_settings::ClientConfigError;
use latchkey_protocol::client::{ClientType, GrantType};
use latchkey_protocol::federation::FederationRule;
use latchkey_protocol::{AppSettingsPatch, RateLimit, Scope, TokenProfile};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A field that may be absent (leave unchanged), `null` (clear) or a value (set).
fn double_option<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A new tenant.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewTenantBody {
    /// Unique name: lower-case letters, digits, '-' or '_', starting with a letter or digit.
    #[schema(value_type = TenantName)]
    pub(crate) name: String,
    /// Hosts it answers on; the first gives its issuer https://DOMAIN.
    pub(crate) domains: Vec<String>,
    /// Its issuer, instead of https://FIRST_DOMAIN.
    #[serde(default)]
    pub(crate) issuer: Option<String>,
    /// `seed` (the default) or `rfc9068`.
    #[serde(default)]
    #[schema(schema_with = token_profile_schema)]
    pub(crate) token_profile: Option<TokenProfile>,
    /// Whether discovery lists its scopes (default true).
    #[serde(default)]
    pub(crate) publish_scopes: Option<bool>,
    /// The longest lifetime of a client assertion it accepts, in seconds (default and most:
    /// 3600).
    #[serde(default)]
    #[schema(value_type = Option<AssertionLifetime>)]
    pub(crate) max_assertion_lifetime: Option<u64>,
}

/// Changes to a tenant; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TenantPatch {
    /// New domains (replacing the list).
    #[serde(default)]
    pub(crate) domains: Option<Vec<String>>,
    /// New issuer; `null` goes back to the default.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub(crate) issuer: Option<Option<String>>,
    /// New token profile: `seed` or `rfc9068`.
    #[serde(default)]
    #[schema(schema_with = token_profile_change_schema)]
    pub(crate) token_profile: Option<TokenProfile>,
    /// Whether discovery lists its scopes.
    #[serde(default)]
    pub(crate) publish_scopes: Option<bool>,
    /// New longest lifetime of a client assertion, in seconds; `null` goes back to the
    /// default (3600).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<AssertionLifetime>)]
    pub(crate) max_assertion_lifetime: Option<Option<u64>>,
}

/// A new app.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewAppBody {
    /// Display name.
    #[schema(value_type = AppName)]
    pub(crate) name: String,
    /// The app type (default m2m).
    #[serde(default, rename = "type")]
    #[schema(value_type = Option<AppTypeName>)]
    pub(crate) app_type: Option<String>,
    /// Allowed scopes.
    #[serde(default)]
    pub(crate) scopes: Vec<String>,
    /// Scopes granted when a request names none.
    #[serde(default)]
    pub(crate) default_scopes: Vec<String>,
    /// Allowed grant types (default: the type's).
    #[serde(default)]
    #[schema(value_type = Option<Vec<GrantTypeName>>)]
    pub(crate) grant_types: Option<Vec<String>>,
    /// Token lifetime in seconds (default 300).
    #[serde(default)]
    #[schema(value_type = Option<TokenTtl>)]
    pub(crate) token_ttl: Option<u32>,
    /// Whether it may introspect other apps' tokens.
    #[serde(default)]
    pub(crate) introspect: bool,
    /// Token reuse share in percent; absent or `null`: off.
    #[serde(default)]
    #[schema(value_type = Option<TokenReusePercent>)]
    pub(crate) token_reuse_percent: Option<u8>,
    /// Audiences a token request may name with `resource`.
    #[serde(default)]
    pub(crate) audiences: Vec<String>,
    /// Static claims added to its tokens.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub(crate) claims: Option<serde_json::Map<String, Value>>,
    /// Token quota per node, `N/PERIOD` (such as `600/min`); absent or `null`: unlimited.
    #[serde(default)]
    #[schema(value_type = Option<RateLimitText>)]
    pub(crate) rate_limit: Option<String>,
    /// Only count and log what the quota would refuse, refusing nothing.
    #[serde(default)]
    pub(crate) rate_limit_monitor: bool,
    /// The app's public keys for `private_key_jwt`, a JWK Set (RFC 7517 §5) of public keys:
    /// the app then gets no client secret. Not with `jwks_uri`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub(crate) jwks: Option<Map<String, Value>>,
    /// Where the app publishes its JWK Set, fetched and cached: the app then gets no client
    /// secret. Not with `jwks`.
    #[serde(default)]
    #[schema(value_type = Option<FetchableUrl>)]
    pub(crate) jwks_uri: Option<String>,
}

/// Changes to an app; absent fields stay as they are, lists replace the old ones.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppPatch {
    /// New display name.
    #[serde(default)]
    #[schema(value_type = Option<AppName>)]
    pub(crate) name: Option<String>,
    /// Enable or disable.
    #[serde(default)]
    pub(crate) enabled: Option<bool>,
    /// New allowed scopes.
    #[serde(default)]
    pub(crate) scopes: Option<Vec<String>>,
    /// New default scopes.
    #[serde(default)]
    pub(crate) default_scopes: Option<Vec<String>>,
    /// New grant types.
    #[serde(default)]
    #[schema(value_type = Option<Vec<GrantTypeName>>)]
    pub(crate) grant_types: Option<Vec<String>>,
    /// New token lifetime in seconds.
    #[serde(default)]
    #[schema(value_type = Option<TokenTtl>)]
    pub(crate) token_ttl: Option<u32>,
    /// Grant or withdraw the introspect permission.
    #[serde(default)]
    pub(crate) introspect: Option<bool>,
    /// Token reuse share in percent; `null` turns it off.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<TokenReusePercent>)]
    pub(crate) token_reuse_percent: Option<Option<u8>>,
    /// New audiences.
    #[serde(default)]
    pub(crate) audiences: Option<Vec<String>>,
    /// New static claims; `null` removes them.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Object>)]
    pub(crate) claims: Option<Option<serde_json::Map<String, Value>>>,
    /// New token quota, `N/PERIOD`; `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<RateLimitText>)]
    pub(crate) rate_limit: Option<Option<String>>,
    /// Turn monitor mode on (`true`: count and log, refuse nothing) or off (`false`: enforce).
    #[serde(default)]
    pub(crate) rate_limit_monitor: Option<bool>,
    /// New public keys for `private_key_jwt`, a JWK Set (which drops a `jwks_uri`); `null`
    /// removes them.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Object>)]
    pub(crate) jwks: Option<Option<Map<String, Value>>>,
    /// Where latchkey fetches the app's public keys from now on (which drops a `jwks`);
    /// `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<FetchableUrl>)]
    pub(crate) jwks_uri: Option<Option<String>>,
}

/// A JWK Set object as the text the management layer checks.
fn jwks_text(set: Map<String, Value>) -> String {
    Value::Object(set).to_string()
}

/// An app publishes its keys one way: a body giving both is refused rather than one winning.
fn one_key_source(jwks: bool, jwks_uri: bool) -> Result<(), AdminError> {
    if jwks && jwks_uri {
        return Err(AdminError::Invalid(
            ClientConfigError::JwksAndUri.to_string(),
        ));
    }
    Ok(())
}

impl NewAppBody {
    /// The app this body asks for, in `tenant`.
    pub(crate) fn into_new_app(self, tenant: String) -> Result<NewApp, AdminError> {
        one_key_source(self.jwks.is_some(), self.jwks_uri.is_some())?;
        Ok(NewApp {
            tenant,
            name: self.name,
            app_type: self
                .app_type
                .as_deref()
                .map(app_type)
                .transpose()?
                .unwrap_or(ClientType::M2m),
            settings: AppSettingsPatch {
                scopes: Some(scopes(self.scopes)?),
                default_scopes: Some(scopes(self.default_scopes)?),
                grant_types: self.grant_types.map(grant_types).transpose()?,
                token_ttl: self.token_ttl,
                can_introspect: Some(self.introspect),
                token_reuse_percent: Some(self.token_reuse_percent),
                audiences: Some(self.audiences),
                custom_claims: self.claims,
                rate_limit: Some(self.rate_limit.as_deref().map(rate_limit).transpose()?),
                rate_limit_monitor: Some(self.rate_limit_monitor),
                jwks: self.jwks.map(|set| Some(jwks_text(set))),
                jwks_uri: self.jwks_uri.map(Some),
                federation: None,
            },
        })
    }
}

impl AppPatch {
    /// The changes this body asks for.
    pub(crate) fn into_changes(self) -> Result<AppChanges, AdminError> {
        one_key_source(
            matches!(self.jwks, Some(Some(_))),
            matches!(self.jwks_uri, Some(Some(_))),
        )?;
        Ok(AppChanges {
            name: self.name,
            enabled: self.enabled,
            tokens_revoked_before: None,
            settings: AppSettingsPatch {
                scopes: self.scopes.map(scopes).transpose()?,
                default_scopes: self.default_scopes.map(scopes).transpose()?,
                grant_types: self.grant_types.map(grant_types).transpose()?,
                token_ttl: self.token_ttl,
                can_introspect: self.introspect,
                token_reuse_percent: self.token_reuse_percent,
                audiences: self.audiences,
                // `null` and `{}` both leave the app without custom claims.
                custom_claims: self.claims.map(Option::unwrap_or_default),
                rate_limit: self
                    .rate_limit
                    .map(|limit| limit.as_deref().map(rate_limit).transpose())
                    .transpose()?,
                rate_limit_monitor: self.rate_limit_monitor,
                jwks: self.jwks.map(|set| set.map(jwks_text)),
                jwks_uri: self.jwks_uri,
                federation: None,
            },
            remove_secret: false,
        })
    }
}

fn scopes(list: Vec<String>) -> Result<Vec<Scope>, AdminError> {
    list.iter()
        .map(|scope| Scope::parse(scope).map_err(|error| AdminError::Invalid(error.to_string())))
        .collect()
}

fn grant_types(list: Vec<String>) -> Result<Vec<GrantType>, AdminError> {
    list.iter()
        .map(|grant| {
            grant
                .parse()
                .map_err(|error: ClientConfigError| AdminError::Invalid(error.to_string()))
        })
        .collect()
}

fn rate_limit(text: &str) -> Result<RateLimit, AdminError> {
    text.parse()
        .map_err(|error: latchkey_protocol::rate_limit::BadRateLimit| {
            AdminError::Invalid(error.to_string())
        })
}

fn app_type(text: &str) -> Result<ClientType, AdminError> {
    text.parse()
        .map_err(|error: ClientConfigError| AdminError::Invalid(error.to_string()))
}

/// A federation to add to an app: tokens from `issuer` whose subject and claims match are the
/// app's.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewFederationBody {
    /// A name unique within the app.
    #[schema(value_type = FederationName)]
    pub(crate) name: String,
    /// The external issuer: its tokens' `iss`, and where its OIDC discovery document is found
    /// (unless `jwks` pins its keys).
    #[schema(value_type = FetchableUrl)]
    pub(crate) issuer: String,
    /// The tokens' `sub` exactly, or a prefix of it ending in `*`.
    pub(crate) subject: String,
    /// The audience the tokens must hold; absent or `null`: the tenant's issuer.
    #[serde(default)]
    pub(crate) audience: Option<String>,
    /// Exact-match conditions on other claims: a claim name (`repository`) or a JSON Pointer
    /// for a nested claim (`/kubernetes.io/namespace`), to the expected value.
    #[serde(default)]
    pub(crate) claims: BTreeMap<String, String>,
    /// The issuer's public keys as a JWK Set, for an issuer whose discovery latchkey cannot
    /// reach.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub(crate) jwks: Option<Map<String, Value>>,
}

impl NewFederationBody {
    /// The rule this body asks for (checked when it is added).
    pub(crate) fn into_rule(self) -> FederationRule {
        FederationRule {
            name: self.name,
            issuer: self.issuer,
            subject: self.subject,
            audience: self.audience,
            claims: self.claims,
            jwks: self.jwks.map(jwks_text),
        }
    }
}

/// Options of a secret rotation.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RotateSecretBody {
    /// Keep the old secret working this many seconds beside the new one.
    #[serde(default)]
    #[schema(value_type = Option<Seconds>)]
    pub(crate) grace_seconds: Option<u32>,
}

/// Options of disabling an app.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DisableBody {
    /// Also revoke every token the app holds. Otherwise they are refused only while it is
    /// disabled, and are valid again (until they expire) once it is enabled.
    #[serde(default)]
    pub(crate) revoke_tokens: bool,
}

/// Options of a key rotation.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RotateKeyBody {
    /// Algorithm of the new key; default: the current key's.
    #[serde(default)]
    #[schema(value_type = Option<AlgName>)]
    pub(crate) alg: Option<String>,
    /// Publish the new key now and sign with it from this many seconds on (at most a year), on
    /// every server; 0 or absent: sign with it at once. Verifiers that cached the JWKS reject a
    /// key they have not fetched yet: 600 (twice the JWKS max-age) lets every cache see it first.
    #[serde(default)]
    pub(crate) in_seconds: Option<u64>,
}

impl RotateKeyBody {
    /// The algorithm asked for, if any.
    pub(crate) fn algorithm(&self) -> Result<Option<Algorithm>, AdminError> {
        self.alg
            .as_deref()
            .map(|alg| {
                alg.parse::<Algorithm>()
                    .map_err(|error| AdminError::Invalid(error.to_string()))
            })
            .transpose()
    }
}

/// What to revoke: one token by `jti`, or every token of an app by `client_id`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RevocationBody {
    /// A token's jti: a UUID, as latchkey issues them.
    #[serde(default)]
    pub(crate) jti: Option<String>,
    /// An app whose every token issued until now is revoked.
    #[serde(default)]
    pub(crate) client_id: Option<String>,
}

/// What a `RevocationBody` names.
pub(crate) enum RevocationTarget {
    /// One token, by its jti (as given: `revocations::revoke_jti` checks it).
    Jti(String),
    /// Every token of an app, by its client id.
    App(String),
}

impl RevocationBody {
    /// The one thing to revoke.
    pub(crate) fn target(self) -> Result<RevocationTarget, AdminError> {
        match (self.jti, self.client_id) {
            (Some(jti), None) => Ok(RevocationTarget::Jti(jti)),
            (None, Some(client_id)) => Ok(RevocationTarget::App(client_id)),
            _ => Err(AdminError::Invalid(
                "give exactly one of jti (a UUID) or client_id".into(),
            )),
        }
    }
}
