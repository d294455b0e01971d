//! Token revocation (RFC 7009): which presented tokens a client may revoke.
//!
//! The request has the same shape as introspection (`introspection::parse_request`).

use crate::client::Client;
use crate::error::TokenError;
use crate::introspection::TokenClaims;

/// Most live tokens (not yet expired) an app may have revoked itself: past it the app gets
/// 429, so that a client cannot grow the revocation list every node holds without bound. Every
/// token of the app can still be revoked at once (`tokens_revoked_before`), which adds no row.
pub const MAX_SELF_REVOCATIONS: usize = 1_000;

/// What a revocation request leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    /// Record this token id as revoked until the token's expiry.
    Revoke {
        /// The token id.
        jti: String,
        /// When the token expires (the record can be purged after).
        expires_at: i64,
    },
    /// Nothing to do: not a token of this issuer, or already expired. RFC 7009 §2.2 answers 200.
    Nothing,
}

/// Decides a revocation. `claims` is `None` when the token is not a JWT signed by one of the
/// tenant's keys.
pub fn decide(
    claims: Option<&TokenClaims>,
    requester: &Client,
    issuer: &str,
    now: i64,
) -> Result<Revocation, TokenError> {
    let Some(claims) = claims.filter(|claims| claims.iss == issuer && now < claims.exp) else {
        return Ok(Revocation::Nothing);
    };
    // RFC 7009 §2.1: the server verifies the token was issued to the client asking.
    if claims.sub != requester.client_id {
        return Err(TokenError::UnauthorizedClient(
            "the token was issued to another client",
        ));
    }
    Ok(Revocation::Revoke {
        jti: claims.jti.clone(),
        expires_at: claims.exp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::introspection::tests::{claims, client};

    #[test]
    fn own_live_token_is_revoked_until_its_expiry() {
        assert_eq!(
            decide(Some(&claims()), &client("owner"), "https://issuer", 1100),
            Ok(Revocation::Revoke {
                jti: "j1".into(),
                expires_at: 1300
            })
        );
    }

    #[test]
    fn unknown_expired_or_foreign_issuer_tokens_need_nothing() {
        let owner = client("owner");
        assert_eq!(
            decide(None, &owner, "https://issuer", 1100),
            Ok(Revocation::Nothing)
        );
        assert_eq!(
            decide(Some(&claims()), &owner, "https://issuer", 1300),
            Ok(Revocation::Nothing)
        );
        assert_eq!(
            decide(Some(&claims()), &owner, "https://other", 1100),
            Ok(Revocation::Nothing)
        );
    }

    #[test]
    fn another_clients_token_is_refused() {
        assert_eq!(
            decide(Some(&claims()), &client("other"), "https://issuer", 1100)
                .unwrap_err()
                .code(),
            "unauthorized_client"
        );
    }
}
