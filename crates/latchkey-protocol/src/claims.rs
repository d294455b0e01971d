//! The access token's claims: the seed document's shape (the default) and RFC 9068's, chosen
//! per tenant by its `TokenProfile`.

use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// The shape of a tenant's access tokens, decided once per tenant (never per request).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenProfile {
    /// The seed document's tokens, byte for byte: header `typ: JWT`, `scope` a JSON array, no
    /// `client_id` claim.
    #[default]
    Seed,
    /// RFC 9068 JWT access tokens: header `typ: at+jwt`, a `client_id` claim and `scope` a
    /// space-separated string (§2.2), for verifiers that insist on them.
    Rfc9068,
}

impl TokenProfile {
    /// Every profile, the default first.
    pub const ALL: [TokenProfile; 2] = [TokenProfile::Seed, TokenProfile::Rfc9068];

    /// Its name in the CLI, the admin API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenProfile::Seed => "seed",
            TokenProfile::Rfc9068 => "rfc9068",
        }
    }

    /// The profile with this name.
    pub fn parse(name: &str) -> Option<TokenProfile> {
        TokenProfile::ALL
            .into_iter()
            .find(|profile| profile.as_str() == name)
    }
}

impl fmt::Display for TokenProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The claims of an access token (RFC 9068 names, the seed's shape): `sub` and `aud` are the
/// client id, `scope` is a JSON array. Field order follows the seed's sample token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessTokenClaims<'a> {
    /// The client the token was issued to.
    pub sub: &'a str,
    /// The audience: the client id unless a resource was named.
    pub aud: &'a str,
    /// Not before, unix seconds.
    pub nbf: i64,
    /// Granted scopes.
    pub scope: &'a [&'a str],
    /// The issuer.
    pub iss: &'a str,
    /// Expiry, unix seconds.
    pub exp: i64,
    /// Issued at, unix seconds.
    pub iat: i64,
    /// Unique token id (a UUID).
    pub jti: &'a str,
}

/// The claims of an RFC 9068 access token (§2.2): `iss`, `exp`, `aud`, `sub`, `client_id`,
/// `iat` and `jti` in the RFC's order, then `nbf` (as in the seed's tokens) and `scope` as a
/// space-separated string (§2.2.3), left out when no scope was granted. For client credentials
/// the subject is the client itself, so `sub` and `client_id` are the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rfc9068Claims<'a> {
    /// The issuer.
    pub iss: &'a str,
    /// Expiry, unix seconds.
    pub exp: i64,
    /// The audience: the client id unless a resource was named.
    pub aud: &'a str,
    /// The subject: the client.
    pub sub: &'a str,
    /// The client the token was issued to.
    pub client_id: &'a str,
    /// Issued at, unix seconds.
    pub iat: i64,
    /// Unique token id (a UUID).
    pub jti: &'a str,
    /// Not before, unix seconds.
    pub nbf: i64,
    /// Granted scopes.
    #[serde(skip_serializing_if = "SpaceSeparated::is_empty")]
    pub scope: SpaceSeparated<'a>,
}

/// Scopes serialized as one space-separated string, written straight into the output (no
/// joined copy per token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpaceSeparated<'a>(pub &'a [&'a str]);

impl SpaceSeparated<'_> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for SpaceSeparated<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, scope) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str(" ")?;
            }
            f.write_str(scope)?;
        }
        Ok(())
    }
}

impl Serialize for SpaceSeparated<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_are_named_and_parsed_back() {
        for profile in TokenProfile::ALL {
            assert_eq!(TokenProfile::parse(profile.as_str()), Some(profile));
        }
        assert_eq!(TokenProfile::default(), TokenProfile::Seed);
        assert_eq!(TokenProfile::parse("RFC9068"), None);
        for profile in TokenProfile::ALL {
            let json = serde_json::to_string(&profile).unwrap();
            assert_eq!(json, format!("\"{}\"", profile.as_str()));
        }
    }

    #[test]
    fn rfc9068_claims_carry_client_id_and_a_space_separated_scope() {
        let scope = ["orders:read", "orders:write"];
        let claims = Rfc9068Claims {
            iss: "https://issuer",
            exp: 1300,
            aud: "app",
            sub: "app",
            client_id: "app",
            iat: 1000,
            jti: "j1",
            nbf: 1000,
            scope: SpaceSeparated(&scope),
        };
        assert_eq!(
            serde_json::to_string(&claims).unwrap(),
            r#"{"iss":"https://issuer","exp":1300,"aud":"app","sub":"app","client_id":"app","iat":1000,"jti":"j1","nbf":1000,"scope":"orders:read orders:write"}"#
        );
        let none = Rfc9068Claims {
            scope: SpaceSeparated(&[]),
            ..claims
        };
        assert!(!serde_json::to_string(&none).unwrap().contains("scope"));
    }

    #[test]
    fn claims_serialize_in_the_seed_order() {
        let scope = ["identity_proofing"];
        let claims = AccessTokenClaims {
            sub: "TENANT_CLIENT_ID",
            aud: "TENANT_CLIENT_ID",
            nbf: 1640588828,
            scope: &scope,
            iss: "https://sample.portal.tencentciam.com",
            exp: 1640589128,
            iat: 1640588828,
            jti: "9939bc3f-5edf-46c3-8f5c-2b1dc1acfa90",
        };
        assert_eq!(
            serde_json::to_string(&claims).unwrap(),
            r#"{"sub":"TENANT_CLIENT_ID","aud":"TENANT_CLIENT_ID","nbf":1640588828,"scope":["identity_proofing"],"iss":"https://sample.portal.tencentciam.com","exp":1640589128,"iat":1640588828,"jti":"9939bc3f-5edf-46c3-8f5c-2b1dc1acfa90"}"#
        );
    }
}
