//! Token endpoint errors as values: one variant per RFC 6749 §5.2 error code, and their wire form.
//!
//! Descriptions are chosen here; the only text a client sent that comes back is a refused scope
//! (`ScopeRefusal`), never a secret.

use crate::client_auth::AuthFailure;
use crate::scope::ScopeRefusal;
use std::borrow::Cow;

/// An error answered by the token endpoint (RFC 6749 §5.2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// RFC 6749 §5.2 `invalid_request`: a missing or repeated parameter, a wrong content type,
    /// or more than one client authentication method.
    #[error("invalid_request: {0}")]
    InvalidRequest(&'static str),
    /// RFC 6749 §5.2 `invalid_client`: unknown, disabled or deleted client, wrong secret, or no
    /// client authentication. `basic` records whether the client used HTTP Basic, which makes
    /// the answer carry `WWW-Authenticate`; `reason` is for the server's log, never the answer.
    #[error("invalid_client")]
    InvalidClient {
        /// The client tried HTTP Basic authentication.
        basic: bool,
        /// Which check failed.
        reason: AuthFailure,
    },
    /// RFC 6749 §5.2 `invalid_grant`: the JWT bearer grant's assertion was refused (RFC 7523
    /// §3.1). As for `invalid_client`, `reason` is for the server's log only.
    #[error("invalid_grant")]
    InvalidGrant {
        /// Which check failed.
        reason: AuthFailure,
    },
    /// RFC 6749 §5.2 `unauthorized_client`: the client may not use this grant type.
    #[error("unauthorized_client: {0}")]
    UnauthorizedClient(&'static str),
    /// RFC 6749 §5.2 `invalid_scope`: a malformed scope or one beyond the client's permissions.
    #[error("invalid_scope: {}", .0.description())]
    InvalidScope(ScopeRefusal),
    /// RFC 8707 §2 `invalid_target`: a `resource` (or `audience`) that is not a valid URI or
    /// not one the client may get tokens for.
    #[error("invalid_target: {0}")]
    InvalidTarget(&'static str),
    /// RFC 6749 §5.2 `unsupported_grant_type`.
    #[error("unsupported_grant_type")]
    UnsupportedGrantType,
    /// RFC 9110 §15.5.14: the request body is larger than the server accepts.
    #[error("request body too large")]
    PayloadTooLarge,
    /// RFC 9110 §15.5.6: the endpoint only answers POST.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// RFC 6585 §4 `too_many_requests` (429): a limit refused the request before it was
    /// decided; the answer carries `Retry-After: retry_after` (seconds, at least 1).
    #[error("too_many_requests")]
    TooManyRequests {
        /// Seconds until a request may succeed again.
        retry_after: u32,
        /// Which limit.
        limit: Limit,
    },
}

/// The limits that answer `too_many_requests`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Too many failed client authentications from one address, or for one client_id from one
    /// address.
    FailedAuthentication,
    /// The app's own token rate limit (`--rate-limit`).
    AppRateLimit,
    /// The app holds as many live self-revocations as it may.
    Revocations,
}

impl TokenError {
    /// The `error` code on the wire.
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::InvalidRequest(_)
            | TokenError::PayloadTooLarge
            | TokenError::MethodNotAllowed => "invalid_request",
            TokenError::InvalidClient { .. } => "invalid_client",
            TokenError::InvalidGrant { .. } => "invalid_grant",
            TokenError::UnauthorizedClient(_) => "unauthorized_client",
            TokenError::InvalidScope(_) => "invalid_scope",
            TokenError::InvalidTarget(_) => "invalid_target",
            TokenError::UnsupportedGrantType => "unsupported_grant_type",
            TokenError::TooManyRequests { .. } => "too_many_requests",
        }
    }

    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        match self {
            TokenError::InvalidClient { .. } => 401,
            TokenError::PayloadTooLarge => 413,
            TokenError::MethodNotAllowed => 405,
            TokenError::TooManyRequests { .. } => 429,
            _ => 400,
        }
    }

    /// The `error_description`, if any. `invalid_client` has none, as in the seed document: the
    /// answer must not tell an unknown client from a wrong secret.
    pub fn description(&self) -> Option<Cow<'static, str>> {
        let text = match self {
            TokenError::InvalidRequest(text)
            | TokenError::UnauthorizedClient(text)
            | TokenError::InvalidTarget(text) => text,
            TokenError::InvalidScope(refusal) => return Some(Cow::Owned(refusal.description())),
            TokenError::InvalidClient { .. } => return None,
            // The same words whichever check failed: an attacker learns nothing from them.
            TokenError::InvalidGrant { .. } => "the assertion was not accepted",
            TokenError::UnsupportedGrantType => {
                "grant_type must be client_credentials or urn:ietf:params:oauth:grant-type:jwt-bearer"
            }
            TokenError::PayloadTooLarge => "request body is larger than 64 KiB",
            TokenError::MethodNotAllowed => "this endpoint only accepts POST",
            TokenError::TooManyRequests { limit, .. } => match limit {
                Limit::FailedAuthentication => {
                    "too many failed client authentications; retry after the time Retry-After gives"
                }
                Limit::AppRateLimit => {
                    "this app has reached its token rate limit; retry after the time Retry-After gives"
                }
                Limit::Revocations => {
                    "this app holds the most live revocations it may; revoke all its tokens instead, or retry once some expire"
                }
            },
        };
        Some(Cow::Borrowed(text))
    }

    /// RFC 6749 §5.2: a 401 after HTTP Basic must carry `WWW-Authenticate` for that scheme.
    pub fn www_authenticate(&self) -> bool {
        matches!(self, TokenError::InvalidClient { basic: true, .. })
    }

    /// The seconds a `Retry-After` header gives, for the answers that carry one.
    pub fn retry_after(&self) -> Option<u32> {
        match self {
            TokenError::TooManyRequests { retry_after, .. } => Some((*retry_after).max(1)),
            _ => None,
        }
    }

    /// The JSON body of the error.
    pub fn to_wire(&self) -> crate::wire::ErrorResponse {
        crate::wire::ErrorResponse {
            error: self.code().to_owned(),
            error_description: self.description().map(Cow::into_owned),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{AuthFailure, Limit, ScopeRefusal, TokenError};

    fn check(error: TokenError, code: &str, status: u16, www_authenticate: bool) {
        assert_eq!(error.code(), code, "{error:?}");
        assert_eq!(error.status(), status, "{error:?}");
        assert_eq!(error.www_authenticate(), www_authenticate, "{error:?}");
    }

    #[test]
    fn too_many_requests_is_429_with_a_retry_after_of_at_least_a_second() {
        for limit in [
            Limit::FailedAuthentication,
            Limit::AppRateLimit,
            Limit::Revocations,
        ] {
            let error = TokenError::TooManyRequests {
                retry_after: 0,
                limit,
            };
            check(error.clone(), "too_many_requests", 429, false);
            assert_eq!(error.retry_after(), Some(1));
            assert!(error.description().is_some());
        }
        assert_eq!(TokenError::UnsupportedGrantType.retry_after(), None);
    }

    #[test]
    fn every_error_maps_to_its_rfc_code_and_status() {
        check(
            TokenError::InvalidRequest("x"),
            "invalid_request",
            400,
            false,
        );
        check(
            TokenError::InvalidClient {
                basic: false,
                reason: AuthFailure::WrongSecret,
            },
            "invalid_client",
            401,
            false,
        );
        check(
            TokenError::InvalidClient {
                basic: true,
                reason: AuthFailure::UnknownClient,
            },
            "invalid_client",
            401,
            true,
        );
        check(
            TokenError::UnauthorizedClient("x"),
            "unauthorized_client",
            400,
            false,
        );
        check(
            TokenError::InvalidScope(ScopeRefusal::Malformed { commas: false }),
            "invalid_scope",
            400,
            false,
        );
        check(TokenError::InvalidTarget("x"), "invalid_target", 400, false);
        check(
            TokenError::InvalidGrant {
                reason: AuthFailure::NoMatchingRule,
            },
            "invalid_grant",
            400,
            false,
        );
        check(
            TokenError::UnsupportedGrantType,
            "unsupported_grant_type",
            400,
            false,
        );
        check(TokenError::PayloadTooLarge, "invalid_request", 413, false);
        check(TokenError::MethodNotAllowed, "invalid_request", 405, false);
    }

    #[test]
    fn invalid_client_has_no_description() {
        let wire = TokenError::InvalidClient {
            basic: true,
            reason: AuthFailure::Disabled,
        }
        .to_wire();
        assert_eq!(
            serde_json::to_string(&wire).unwrap(),
            r#"{"error":"invalid_client"}"#
        );
    }
}
