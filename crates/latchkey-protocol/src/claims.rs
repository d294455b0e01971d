//! The access token's claims, in the seed document's order.

use serde::Serialize;

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

#[cfg(test)]
mod tests {
    use super::*;

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
