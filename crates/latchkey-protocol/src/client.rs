//! What the token endpoint knows of a client (an "app" in the product's words), and the rules
//! that keep an app's settings consistent.

use crate::scope::Scope;
use crate::secret::StoredSecret;
use std::fmt;
use std::str::FromStr;

/// The kind of application. `m2m` and `web` are confidential clients (they hold a secret);
/// `spa` and `native` are public clients and can never use the client credentials grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientType {
    /// A machine-to-machine service.
    M2m,
    /// A server-side web application.
    Web,
    /// A single-page application (public client).
    Spa,
    /// A native or mobile application (public client).
    Native,
}

impl ClientType {
    /// All types, in the order the CLI documents them.
    pub const ALL: [ClientType; 4] = [
        ClientType::M2m,
        ClientType::Web,
        ClientType::Spa,
        ClientType::Native,
    ];

    /// The product name of the type.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientType::M2m => "m2m",
            ClientType::Web => "web",
            ClientType::Spa => "spa",
            ClientType::Native => "native",
        }
    }

    /// RFC 6749 §2.1: confidential clients can keep a secret; public ones cannot.
    pub fn is_confidential(self) -> bool {
        matches!(self, ClientType::M2m | ClientType::Web)
    }

    /// The grant types an app of this type gets when none are given.
    pub fn default_grant_types(self) -> Vec<GrantType> {
        match self {
            ClientType::M2m => vec![GrantType::ClientCredentials],
            ClientType::Web => vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            ClientType::Spa | ClientType::Native => vec![GrantType::AuthorizationCode],
        }
    }
}

impl fmt::Display for ClientType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ClientType {
    type Err = ClientConfigError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ClientType::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or_else(|| ClientConfigError::UnknownType(text.to_owned()))
    }
}

/// An OAuth grant type an app may be allowed. Only `client_credentials` is served today; the
/// others are recorded so that apps can be configured ahead of the endpoints that use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GrantType {
    /// RFC 6749 §4.4.
    ClientCredentials,
    /// RFC 6749 §4.1.
    AuthorizationCode,
    /// RFC 6749 §6.
    RefreshToken,
    /// RFC 8628.
    DeviceCode,
}

impl GrantType {
    /// All known grant types.
    pub const ALL: [GrantType; 4] = [
        GrantType::ClientCredentials,
        GrantType::AuthorizationCode,
        GrantType::RefreshToken,
        GrantType::DeviceCode,
    ];

    /// The registered name of the grant type.
    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::ClientCredentials => "client_credentials",
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
            GrantType::DeviceCode => "urn:ietf:params:oauth:grant-type:device_code",
        }
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for GrantType {
    type Err = ClientConfigError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        GrantType::ALL
            .into_iter()
            .find(|grant| grant.as_str() == text)
            .ok_or_else(|| ClientConfigError::UnknownGrantType(text.to_owned()))
    }
}

/// A set of grant types, one bit each: what the token endpoint needs of an app's grant types,
/// in one byte instead of a list (a snapshot holds a million of these).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GrantTypes(u8);

impl GrantTypes {
    /// An exhaustive match, so a new grant type cannot be left without a bit of its own (a
    /// lookup in `GrantType::ALL` would fall back to some other grant's bit).
    fn bit(grant: GrantType) -> u8 {
        match grant {
            GrantType::ClientCredentials => 1,
            GrantType::AuthorizationCode => 1 << 1,
            GrantType::RefreshToken => 1 << 2,
            GrantType::DeviceCode => 1 << 3,
        }
    }

    /// Whether the set holds `grant`.
    pub fn contains(self, grant: GrantType) -> bool {
        self.0 & Self::bit(grant) != 0
    }
}

impl FromIterator<GrantType> for GrantTypes {
    fn from_iter<I: IntoIterator<Item = GrantType>>(grants: I) -> GrantTypes {
        GrantTypes(
            grants
                .into_iter()
                .fold(0, |bits, grant| bits | Self::bit(grant)),
        )
    }
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

/// The members of a normalized claims object without its braces (`"tier":"gold","n":3`), ready
/// to be spliced into a token payload.
pub fn claims_fragment(normalized: &str) -> Option<Box<str>> {
    normalized
        .strip_prefix('{')
        .and_then(|inner| inner.strip_suffix('}'))
        .filter(|inner| !inner.is_empty())
        .map(Box::from)
}

/// Checks that an app's settings agree with each other.
pub fn validate_settings(
    client_type: ClientType,
    grant_types: &[GrantType],
    scopes: &[Scope],
    default_scopes: &[Scope],
    token_ttl: u32,
    token_reuse_percent: Option<u8>,
) -> Result<(), ClientConfigError> {
    if token_reuse_percent.is_some_and(|percent| !TOKEN_REUSE_PERCENT.contains(&percent)) {
        return Err(ClientConfigError::TokenReuse);
    }
    if !client_type.is_confidential() && grant_types.contains(&GrantType::ClientCredentials) {
        return Err(ClientConfigError::PublicClientCredentials(client_type));
    }
    if let Some(extra) = default_scopes.iter().find(|scope| !scopes.contains(scope)) {
        return Err(ClientConfigError::DefaultNotAllowed(extra.to_string()));
    }
    if !(MIN_TOKEN_TTL..=MAX_TOKEN_TTL).contains(&token_ttl) {
        return Err(ClientConfigError::TokenTtl);
    }
    Ok(())
}

/// A client as the token endpoint sees it: everything needed to authenticate it and decide its
/// token, held in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// The client id.
    pub client_id: String,
    /// The app type.
    pub client_type: ClientType,
    /// Disabled clients are refused as `invalid_client`.
    pub enabled: bool,
    /// Grant types the client may use.
    pub grant_types: GrantTypes,
    /// Scopes the client may be granted. (Boxed slices rather than `Vec`s here: no spare
    /// capacity, and 8 bytes less per list, per app, in a snapshot of a million.)
    pub scopes: Box<[Scope]>,
    /// Scopes granted when the request names none.
    pub default_scopes: Box<[Scope]>,
    /// Token lifetime in seconds.
    pub token_ttl: u32,
    /// Whether the client may introspect other clients' tokens (a resource server).
    pub can_introspect: bool,
    /// Every token of this client issued at or before this time (unix seconds) is revoked.
    pub tokens_revoked_before: Option<i64>,
    /// Token reuse: the percentage of a token's life that must remain for an identical request
    /// to get the same token again; `None` when off.
    pub token_reuse_percent: Option<u8>,
    /// Audiences a token request may name with `resource` (or `audience`).
    pub audiences: Box<[String]>,
    /// Static claims added to every token, as object members without the braces
    /// (`"tier":"gold"`), so signing splices them in without re-serializing.
    pub custom_claims: Option<Box<str>>,
    /// Hashes of the secrets currently accepted (more than one during a rotation grace period).
    pub secrets: Box<[StoredSecret]>,
}

impl Client {
    /// An enabled m2m client allowed `client_credentials`, with 300 s tokens and nothing else
    /// set (no scopes, audiences, claims or secrets): the base the other settings are added to.
    pub fn m2m(client_id: impl Into<String>) -> Client {
        Client {
            client_id: client_id.into(),
            client_type: ClientType::M2m,
            enabled: true,
            grant_types: [GrantType::ClientCredentials].into_iter().collect(),
            scopes: Box::default(),
            default_scopes: Box::default(),
            token_ttl: 300,
            can_introspect: false,
            tokens_revoked_before: None,
            token_reuse_percent: None,
            audiences: Box::default(),
            custom_claims: None,
            secrets: Box::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(list: &[&str]) -> Vec<Scope> {
        list.iter().map(|s| Scope::parse(s).unwrap()).collect()
    }

    #[test]
    fn every_grant_type_has_a_bit_of_its_own() {
        for grant in GrantType::ALL {
            let only: GrantTypes = [grant].into_iter().collect();
            for other in GrantType::ALL {
                assert_eq!(
                    only.contains(other),
                    other == grant,
                    "{grant:?} vs {other:?}"
                );
            }
        }
    }
    #[test]
    fn m2m_defaults_to_client_credentials_and_web_does_not() {
        assert_eq!(
            ClientType::M2m.default_grant_types(),
            vec![GrantType::ClientCredentials]
        );
        assert!(
            !ClientType::Web
                .default_grant_types()
                .contains(&GrantType::ClientCredentials)
        );
    }

    #[test]
    fn public_clients_cannot_have_client_credentials() {
        for kind in [ClientType::Spa, ClientType::Native] {
            let got = validate_settings(kind, &[GrantType::ClientCredentials], &[], &[], 300, None);
            assert_eq!(got, Err(ClientConfigError::PublicClientCredentials(kind)));
        }
        assert!(
            validate_settings(
                ClientType::Web,
                &[GrantType::ClientCredentials],
                &[],
                &[],
                300,
                None
            )
            .is_ok()
        );
    }

    #[test]
    fn default_scopes_must_be_allowed() {
        let got = validate_settings(
            ClientType::M2m,
            &[],
            &scopes(&["a"]),
            &scopes(&["b"]),
            300,
            None,
        );
        assert_eq!(got, Err(ClientConfigError::DefaultNotAllowed("b".into())));
    }

    #[test]
    fn ttl_must_be_in_range() {
        assert_eq!(
            validate_settings(ClientType::M2m, &[], &[], &[], 0, None),
            Err(ClientConfigError::TokenTtl)
        );
        assert_eq!(
            validate_settings(ClientType::M2m, &[], &[], &[], MAX_TOKEN_TTL + 1, None),
            Err(ClientConfigError::TokenTtl)
        );
    }

    #[test]
    fn token_reuse_share_must_be_a_percentage() {
        assert_eq!(
            validate_settings(ClientType::M2m, &[], &[], &[], 300, Some(0)),
            Err(ClientConfigError::TokenReuse)
        );
        assert_eq!(
            validate_settings(ClientType::M2m, &[], &[], &[], 300, Some(101)),
            Err(ClientConfigError::TokenReuse)
        );
        assert!(validate_settings(ClientType::M2m, &[], &[], &[], 300, Some(80)).is_ok());
    }

    #[test]
    fn names_round_trip() {
        for kind in ClientType::ALL {
            assert_eq!(kind.as_str().parse::<ClientType>(), Ok(kind));
        }
        for grant in GrantType::ALL {
            assert_eq!(grant.as_str().parse::<GrantType>(), Ok(grant));
        }
        assert!("password".parse::<GrantType>().is_err());
        assert!("daemon".parse::<ClientType>().is_err());
    }

    #[test]
    fn audiences_are_absolute_uris_without_fragments() {
        let list = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(check_audiences(&list(&["https://api.test/v1", "urn:example:orders"])).is_ok());
        for bad in [
            "api.test",
            "https://a#frag",
            "https://a b",
            ":x",
            "1http://a",
            "https:",
        ] {
            assert!(
                matches!(
                    check_audiences(&list(&[bad])),
                    Err(ClientConfigError::BadAudience(_))
                ),
                "{bad:?}"
            );
        }
        let long = format!("https://a/{}", "x".repeat(MAX_AUDIENCE_BYTES));
        assert!(check_audiences(&[long]).is_err());
        let many: Vec<String> = (0..=MAX_AUDIENCES).map(|i| format!("urn:a:{i}")).collect();
        assert_eq!(
            check_audiences(&many),
            Err(ClientConfigError::TooManyAudiences)
        );
    }

    #[test]
    fn custom_claims_are_an_object_without_registered_names() {
        assert_eq!(
            normalize_custom_claims(r#"{ "tier" : "gold", "n": [1, 2] }"#)
                .unwrap()
                .as_deref(),
            Some(r#"{"n":[1,2],"tier":"gold"}"#)
        );
        assert_eq!(normalize_custom_claims("{}"), Ok(None));
        for bad in ["[]", "3", "\"x\"", "not json"] {
            assert_eq!(
                normalize_custom_claims(bad),
                Err(ClientConfigError::ClaimsNotObject),
                "{bad}"
            );
        }
        for name in REGISTERED_CLAIMS {
            assert_eq!(
                normalize_custom_claims(&format!(r#"{{"{name}": 1}}"#)),
                Err(ClientConfigError::RegisteredClaim(name.to_owned()))
            );
        }
        let big = format!(r#"{{"x": "{}"}}"#, "y".repeat(MAX_CLAIMS_BYTES));
        assert_eq!(
            normalize_custom_claims(&big),
            Err(ClientConfigError::ClaimsTooLarge)
        );
    }

    #[test]
    fn the_claims_fragment_is_the_object_without_braces() {
        assert_eq!(claims_fragment(r#"{"a":1}"#).as_deref(), Some(r#""a":1"#));
        assert_eq!(claims_fragment("{}"), None);
    }

    #[test]
    fn a_grant_type_set_holds_what_it_was_built_from() {
        let set: GrantTypes = [GrantType::ClientCredentials, GrantType::DeviceCode]
            .into_iter()
            .collect();
        assert!(set.contains(GrantType::ClientCredentials));
        assert!(set.contains(GrantType::DeviceCode));
        assert!(!set.contains(GrantType::RefreshToken));
        assert!(!GrantTypes::default().contains(GrantType::ClientCredentials));
    }
}
