//! What the token endpoint knows of a client (an "app" in the product's words), in the compact
//! form a snapshot of a million apps holds; the settings an operator gives an app, and their
//! rules, are `app_settings`.

use crate::app_settings::ClientConfigError;
use crate::federation::FederationRule;
use crate::rate_limit::RateLimit;
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

/// The members of a normalized claims object without its braces (`"tier":"gold","n":3`), ready
/// to be spliced into a token payload.
pub fn claims_fragment(normalized: &str) -> Option<Box<str>> {
    normalized
        .strip_prefix('{')
        .and_then(|inner| inner.strip_suffix('}'))
        .filter(|inner| !inner.is_empty())
        .map(Box::from)
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
    /// Token quota per node; `None` when unlimited.
    pub rate_limit: Option<RateLimit>,
    /// Whether the quota only counts and logs, refusing nothing.
    pub rate_limit_monitor: bool,
    /// How the client proves itself without a secret, if it can: boxed, since most apps hold a
    /// secret and this costs them one pointer.
    pub keys: Option<Box<ClientKeys>>,
}

/// An app's public keys (`private_key_jwt`) and federation rules, as stored: the server parses
/// them once into the keys it verifies with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKeys {
    /// The app's JWK Set, compact JSON.
    pub jwks: Option<String>,
    /// Where the app publishes its JWK Set.
    pub jwks_uri: Option<String>,
    /// The external issuers whose tokens are the app's identity.
    pub federation: Vec<FederationRule>,
}

impl ClientKeys {
    /// The keys, boxed, or `None` when there are none.
    pub fn boxed(
        jwks: Option<String>,
        jwks_uri: Option<String>,
        federation: Vec<FederationRule>,
    ) -> Option<Box<ClientKeys>> {
        (jwks.is_some() || jwks_uri.is_some() || !federation.is_empty()).then(|| {
            Box::new(ClientKeys {
                jwks,
                jwks_uri,
                federation,
            })
        })
    }
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
            rate_limit: None,
            rate_limit_monitor: false,
            keys: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
