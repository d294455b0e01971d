//! An app's settings (what an operator configures about a client) as one type, and the rules
//! that keep them consistent. The store, the management layer, the CLI and the admin API all
//! carry this type, so a new setting is declared here once; the token endpoint's compact view
//! of an app is `client::Client`.

use crate::client::{ClientType, GrantType};
use crate::federation::{self, FederationError, FederationRule, JwksShapeError};
use crate::introspection::MAX_TOKEN_BYTES;
use crate::rate_limit::RateLimit;
use crate::scope::Scope;
use serde_json::{Map, Value};

/// The settings of an app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSettings {
    /// App type; fixed when the app is created.
    pub app_type: ClientType,
    /// Allowed scopes.
    pub scopes: Vec<Scope>,
    /// Scopes granted when a request names none.
    pub default_scopes: Vec<Scope>,
    /// Allowed grant types.
    pub grant_types: Vec<GrantType>,
    /// Token lifetime in seconds.
    pub token_ttl: u32,
    /// Whether the app may introspect other apps' tokens.
    pub can_introspect: bool,
    /// Token reuse share in percent; `None` when off.
    pub token_reuse_percent: Option<u8>,
    /// Audiences a token request may name (RFC 8707 `resource`); the token's `aud` is the
    /// client id when it names none.
    pub audiences: Vec<String>,
    /// Static claims added to the app's tokens, as compact JSON object text; `None` for none.
    pub custom_claims: Option<String>,
    /// Token quota per node; `None` when unlimited.
    pub rate_limit: Option<RateLimit>,
    /// Whether the quota only counts and logs what it would refuse, refusing nothing.
    pub rate_limit_monitor: bool,
    /// The app's public keys for `private_key_jwt`, as a compact JWK Set; `None` for none.
    pub jwks: Option<String>,
    /// Where the app publishes its public keys for `private_key_jwt` (fetched and cached);
    /// never set together with `jwks`.
    pub jwks_uri: Option<String>,
    /// The external issuers whose tokens the app accepts as its identity.
    pub federation: Vec<FederationRule>,
}

/// Changes to an app's settings: each field given replaces the old value (lists as a whole).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppSettingsPatch {
    /// New allowed scopes.
    pub scopes: Option<Vec<Scope>>,
    /// New default scopes.
    pub default_scopes: Option<Vec<Scope>>,
    /// New grant types.
    pub grant_types: Option<Vec<GrantType>>,
    /// New token lifetime.
    pub token_ttl: Option<u32>,
    /// Grant or withdraw the introspect permission.
    pub can_introspect: Option<bool>,
    /// Turn token reuse on with this share (`Some(Some(percent))`) or off (`Some(None)`).
    pub token_reuse_percent: Option<Option<u8>>,
    /// New allowed audiences.
    pub audiences: Option<Vec<String>>,
    /// New static claims; an empty object removes them.
    pub custom_claims: Option<Map<String, Value>>,
    /// Set the quota (`Some(Some(limit))`) or remove it (`Some(None)`).
    pub rate_limit: Option<Option<RateLimit>>,
    /// Turn monitor mode on or off.
    pub rate_limit_monitor: Option<bool>,
    /// Set the app's JWK Set (`Some(Some(compact JSON))`, which drops a JWKS URI) or remove it.
    pub jwks: Option<Option<String>>,
    /// Set the app's JWKS URI (which drops an inline JWK Set) or remove it.
    pub jwks_uri: Option<Option<String>>,
    /// New federation rules, as a whole.
    pub federation: Option<Vec<FederationRule>>,
}

impl AppSettings {
    /// The settings of a new app of `app_type` before any is given: its type's grant types,
    /// tokens of `DEFAULT_TOKEN_TTL`, nothing else.
    pub fn new(app_type: ClientType) -> AppSettings {
        AppSettings {
            app_type,
            scopes: Vec::new(),
            default_scopes: Vec::new(),
            grant_types: app_type.default_grant_types(),
            token_ttl: DEFAULT_TOKEN_TTL,
            can_introspect: false,
            token_reuse_percent: None,
            audiences: Vec::new(),
            custom_claims: None,
            rate_limit: None,
            rate_limit_monitor: false,
            jwks: None,
            jwks_uri: None,
            federation: Vec::new(),
        }
    }

    /// These settings with `patch` applied: lists lose repeated items, claims become compact
    /// JSON. The result is not validated (see `validate`).
    pub fn patched(mut self, patch: AppSettingsPatch) -> AppSettings {
        // Destructured so that a new setting cannot be left out here.
        let AppSettingsPatch {
            scopes,
            default_scopes,
            grant_types,
            token_ttl,
            can_introspect,
            token_reuse_percent,
            audiences,
            custom_claims,
            rate_limit,
            rate_limit_monitor,
            jwks,
            jwks_uri,
            federation,
        } = patch;
        if let Some(scopes) = scopes {
            self.scopes = dedup(scopes);
        }
        if let Some(default_scopes) = default_scopes {
            self.default_scopes = dedup(default_scopes);
        }
        if let Some(grant_types) = grant_types {
            self.grant_types = dedup(grant_types);
        }
        if let Some(token_ttl) = token_ttl {
            self.token_ttl = token_ttl;
        }
        if let Some(can_introspect) = can_introspect {
            self.can_introspect = can_introspect;
        }
        if let Some(token_reuse_percent) = token_reuse_percent {
            self.token_reuse_percent = token_reuse_percent;
        }
        if let Some(audiences) = audiences {
            self.audiences = dedup(audiences);
        }
        if let Some(claims) = custom_claims {
            self.custom_claims = (!claims.is_empty()).then(|| Value::Object(claims).to_string());
        }
        if let Some(rate_limit) = rate_limit {
            self.rate_limit = rate_limit;
        }
        if let Some(monitor) = rate_limit_monitor {
            self.rate_limit_monitor = monitor;
        }
        // An app publishes its keys one way (OpenID Connect Dynamic Client Registration §2:
        // `jwks` and `jwks_uri` must not both be given), so setting one drops the other.
        if let Some(jwks) = jwks {
            if jwks.is_some() {
                self.jwks_uri = None;
            }
            self.jwks = jwks;
        }
        if let Some(jwks_uri) = jwks_uri {
            if jwks_uri.is_some() {
                self.jwks = None;
            }
            self.jwks_uri = jwks_uri;
        }
        if let Some(federation) = federation {
            self.federation = federation;
        }
        self
    }
}

impl AppSettingsPatch {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == AppSettingsPatch::default()
    }
}

/// The items in their first order, each once.
fn dedup<T: PartialEq>(items: Vec<T>) -> Vec<T> {
    let mut unique: Vec<T> = Vec::with_capacity(items.len());
    for item in items {
        if !unique.contains(&item) {
            unique.push(item);
        }
    }
    unique
}

/// Checks that an app's settings are within their limits and agree with each other. The
/// messages name the rule, not a command or a field of one interface: the CLI and the admin
/// API add their own hints.
pub fn validate(settings: &AppSettings) -> Result<(), ClientConfigError> {
    check_audiences(&settings.audiences)?;
    if let Some(claims) = &settings.custom_claims {
        normalize_custom_claims(claims)?;
    }
    if settings.scopes.len() > MAX_SCOPES {
        return Err(ClientConfigError::TooManyScopes);
    }
    let largest = largest_token_bytes(settings);
    if largest > MAX_TOKEN_BYTES {
        return Err(ClientConfigError::TokenTooLarge(largest));
    }
    if settings
        .token_reuse_percent
        .is_some_and(|percent| !TOKEN_REUSE_PERCENT.contains(&percent))
    {
        return Err(ClientConfigError::TokenReuse);
    }
    if !settings.app_type.is_confidential()
        && settings.grant_types.contains(&GrantType::ClientCredentials)
    {
        return Err(ClientConfigError::PublicClientCredentials(
            settings.app_type,
        ));
    }
    if let Some(extra) = settings
        .default_scopes
        .iter()
        .find(|scope| !settings.scopes.contains(scope))
    {
        return Err(ClientConfigError::DefaultNotAllowed(extra.to_string()));
    }
    if !(MIN_TOKEN_TTL..=MAX_TOKEN_TTL).contains(&settings.token_ttl) {
        return Err(ClientConfigError::TokenTtl);
    }
    check_keys(settings)
}

/// Checks how an app proves itself without a secret: its JWK Set or JWKS URI, and its
/// federation rules.
fn check_keys(settings: &AppSettings) -> Result<(), ClientConfigError> {
    let keyless =
        settings.jwks.is_none() && settings.jwks_uri.is_none() && settings.federation.is_empty();
    if !keyless && !settings.app_type.is_confidential() {
        return Err(ClientConfigError::KeysForPublicClient(settings.app_type));
    }
    if settings.jwks.is_some() && settings.jwks_uri.is_some() {
        return Err(ClientConfigError::JwksAndUri);
    }
    if let Some(jwks) = &settings.jwks {
        federation::normalize_jwks(jwks).map_err(ClientConfigError::Jwks)?;
    }
    if let Some(uri) = &settings.jwks_uri
        && !federation::is_fetchable_url(uri)
    {
        return Err(ClientConfigError::Federation(FederationError::BadUrl {
            what: "JWKS URI",
            url: uri.clone(),
        }));
    }
    if settings.federation.len() > federation::MAX_RULES {
        return Err(ClientConfigError::Federation(FederationError::TooManyRules));
    }
    for (at, rule) in settings.federation.iter().enumerate() {
        rule.clone()
            .validated()
            .map_err(ClientConfigError::Federation)?;
        if settings.federation[..at]
            .iter()
            .any(|earlier| earlier.name == rule.name)
        {
            return Err(ClientConfigError::Federation(
                FederationError::DuplicateName(rule.name.clone()),
            ));
        }
    }
    Ok(())
}

/// Why a set of app settings is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientConfigError {
    /// Not one of m2m, web, spa, native.
    #[error("unknown app type {0:?}: use one of m2m, web, spa, native")]
    UnknownType(String),
    /// Not a known grant type.
    #[error(
        "unknown grant type {0:?}: use client_credentials, authorization_code, refresh_token or urn:ietf:params:oauth:grant-type:device_code"
    )]
    UnknownGrantType(String),
    /// A public client asked for client_credentials.
    #[error(
        "a {0} app is a public client and cannot use client_credentials (m2m and web apps can)"
    )]
    PublicClientCredentials(ClientType),
    /// A default scope that is not an allowed scope.
    #[error("default scope {0:?} is not one of the app's scopes")]
    DefaultNotAllowed(String),
    /// A token reuse share outside 1..=100 percent.
    #[error("token reuse must be a percentage from 1% to 100% of the token's life")]
    TokenReuse,
    /// An audience that is not an absolute URI.
    #[error(
        "audience {0:?} is invalid: use an absolute URI (such as https://api.example.com or urn:example:orders) without a fragment, spaces or control characters, at most 2048 bytes"
    )]
    BadAudience(String),
    /// More audiences than `MAX_AUDIENCES`.
    #[error("an app may have at most {MAX_AUDIENCES} audiences")]
    TooManyAudiences,
    /// Custom claims that are not a JSON object.
    #[error("custom claims must be a JSON object, such as {{\"tier\": \"gold\"}}")]
    ClaimsNotObject,
    /// A custom claim with a name latchkey sets itself.
    #[error(
        "claim {0:?} is set by latchkey and cannot be overridden: choose another name (registered names: iss, sub, aud, exp, nbf, iat, jti, scope, client_id)"
    )]
    RegisteredClaim(String),
    /// Custom claims larger than `MAX_CLAIMS_BYTES`.
    #[error("custom claims are at most {MAX_CLAIMS_BYTES} bytes of JSON")]
    ClaimsTooLarge,
    /// A token lifetime outside the accepted range.
    #[error("token TTL must be between {min} and {max} seconds", min = MIN_TOKEN_TTL, max = MAX_TOKEN_TTL)]
    TokenTtl,
    /// More scopes than `MAX_SCOPES`.
    #[error("an app may have at most {MAX_SCOPES} scopes")]
    TooManyScopes,
    /// Settings whose largest token would be longer than introspection accepts.
    #[error(
        "the largest token these settings allow would be about {0} bytes, over the {MAX_TOKEN_BYTES} bytes introspection accepts: use fewer or shorter scopes, shorter audiences or smaller custom claims"
    )]
    TokenTooLarge(usize),
    /// A JWK Set of the wrong shape.
    #[error("{0}")]
    Jwks(JwksShapeError),
    /// Both a JWK Set and a JWKS URI.
    #[error("an app has either a JWK Set or a JWKS URI, not both")]
    JwksAndUri,
    /// A federation rule or JWKS URI that is refused.
    #[error("{0}")]
    Federation(FederationError),
    /// Keys or federation on a public client.
    #[error(
        "a {0} app is a public client and cannot authenticate with keys or federation (m2m and web apps can)"
    )]
    KeysForPublicClient(ClientType),
}

/// Shortest accepted token lifetime, in seconds.
pub const MIN_TOKEN_TTL: u32 = 1;
/// Longest accepted token lifetime, in seconds (one day).
pub const MAX_TOKEN_TTL: u32 = 86_400;
/// Token lifetime when none is given, as in the seed document.
pub const DEFAULT_TOKEN_TTL: u32 = 300;

/// The token reuse shares an app may have, in percent of a token's life.
pub const TOKEN_REUSE_PERCENT: std::ops::RangeInclusive<u8> = 1..=100;
/// Most audiences one app may have.
pub const MAX_AUDIENCES: usize = 100;
/// Longest accepted audience, in bytes.
pub const MAX_AUDIENCE_BYTES: usize = 2048;
/// Largest accepted custom claims object, serialized.
pub const MAX_CLAIMS_BYTES: usize = 8 * 1024;
/// Most scopes one app may have.
pub const MAX_SCOPES: usize = 200;
/// Room the largest-token bound keeps for the tenant's issuer (a tenant's issuer is at most
/// this long), so an app's settings alone decide whether its tokens fit.
pub const ISSUER_ALLOWANCE_BYTES: usize = 2048;
/// Room kept for a client id (generated ones are 32 characters).
pub const CLIENT_ID_ALLOWANCE_BYTES: usize = 64;
/// Room kept for the JWT header (`kid`, `typ`, `alg`), before base64url.
const HEADER_ALLOWANCE_BYTES: usize = 128;
/// Room kept for the signature, before base64url: an RSA-8192 signature, the largest key
/// latchkey signs with.
const SIGNATURE_ALLOWANCE_BYTES: usize = 1024;
/// Room kept for the claims' names, punctuation, three timestamps and the `jti` (a UUID).
const FIXED_CLAIMS_BYTES: usize = 256;

/// An upper bound of the length of the longest token an app with these settings can be
/// issued, in either token profile, as a compact JWS. A token request names one audience at
/// most, and may ask for every scope. The token's characters (base64url and `.`) need no
/// escaping in a form, so the same length is what it adds to an introspection request.
pub fn largest_token_bytes(settings: &AppSettings) -> usize {
    // JSON-escaped lengths, with quotes.
    let escaped =
        |text: &str| serde_json::to_string(text).map_or(text.len() * 6, |json| json.len());
    // As a JSON array (the seed profile), the longer of the two forms: each scope quoted, with
    // a comma.
    let scopes: usize = 2 + settings
        .scopes
        .iter()
        .map(|scope| scope.as_str().len() + 3)
        .sum::<usize>();
    let audience = settings
        .audiences
        .iter()
        .map(|audience| escaped(audience))
        .max()
        .unwrap_or(0)
        .max(CLIENT_ID_ALLOWANCE_BYTES + 2);
    let claims = settings.custom_claims.as_deref().map_or(0, |c| c.len() + 1);
    // `sub` and `client_id` hold the client id as well as, possibly, `aud`.
    let payload = FIXED_CLAIMS_BYTES
        + ISSUER_ALLOWANCE_BYTES
        + 2 * (CLIENT_ID_ALLOWANCE_BYTES + 2)
        + audience
        + scopes
        + claims;
    let base64 = |bytes: usize| (bytes * 4).div_ceil(3);
    base64(HEADER_ALLOWANCE_BYTES) + 1 + base64(payload) + 1 + base64(SIGNATURE_ALLOWANCE_BYTES)
}

/// Claims latchkey sets itself; custom claims may not use these names.
pub const REGISTERED_CLAIMS: [&str; 9] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "scope",
    "client_id",
];

/// Whether `text` is an absolute URI (RFC 3986 §4.3: a scheme, then `:`, no fragment) without
/// spaces or control characters. RFC 8707 requires this of a `resource`.
pub fn is_absolute_uri(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    scheme_ok
        && !rest.is_empty()
        && !text.contains('#')
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Checks an app's allowed audiences.
pub fn check_audiences(audiences: &[String]) -> Result<(), ClientConfigError> {
    if audiences.len() > MAX_AUDIENCES {
        return Err(ClientConfigError::TooManyAudiences);
    }
    match audiences
        .iter()
        .find(|audience| audience.len() > MAX_AUDIENCE_BYTES || !is_absolute_uri(audience))
    {
        Some(bad) => Err(ClientConfigError::BadAudience(bad.clone())),
        None => Ok(()),
    }
}

/// Checks custom claims given as JSON text and returns them normalized (compact JSON), or
/// `None` for an empty object.
pub fn normalize_custom_claims(text: &str) -> Result<Option<String>, ClientConfigError> {
    let Ok(serde_json::Value::Object(claims)) = serde_json::from_str(text) else {
        return Err(ClientConfigError::ClaimsNotObject);
    };
    if let Some(name) = claims
        .keys()
        .find(|name| REGISTERED_CLAIMS.contains(&name.as_str()))
    {
        return Err(ClientConfigError::RegisteredClaim(name.clone()));
    }
    if claims.is_empty() {
        return Ok(None);
    }
    let normalized = serde_json::Value::Object(claims).to_string();
    if normalized.len() > MAX_CLAIMS_BYTES {
        return Err(ClientConfigError::ClaimsTooLarge);
    }
    Ok(Some(normalized))
}

#[cfg(test)]
mod tests;
