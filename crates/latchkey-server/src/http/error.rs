//! `OAuthError`, what the OAuth endpoints' handlers return with `?`: its `IntoResponse` is the
//! one place a failure becomes its status, headers and body. It decides nothing (the protocol
//! core does) and logs nothing (the constructors in `response` log server-side causes once).
//!
//! Every error answer, the admin API's included, carries its `ErrorCode` in the response
//! extensions, so that a layer can count and log errors without reading bodies.

use super::response::{json, json_value, no_store};
use axum::http::header::{ALLOW, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use latchkey_protocol::TokenError;
use latchkey_protocol::wire::ErrorResponse;

/// The `error` code of an error answer (`invalid_client`, `not_found`, `server_error`, ...),
/// as sent in its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorCode(pub &'static str);

/// Why an OAuth, discovery or JWKS request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OAuthError {
    /// A refusal of the protocol core (RFC 6749 §5.2), or the 405 and 413 it also names.
    Token(TokenError),
    /// 404: no such endpoint, or a Host no tenant serves (with strict hosts).
    NotFound,
    /// 503: the tenant has no usable signing key yet.
    NoSigningKey,
    /// 503: this node has not heard from its database for longer than its maximum staleness.
    Stale,
    /// 503: the database cannot take the write for now; the text says why (full, read-only,
    /// locked), which tells the operator what to fix and the client nothing secret.
    StoreUnavailable(String),
    /// 500: the cause was logged where the error was made (`response::server_error`) and is
    /// never sent.
    Server,
}

impl From<TokenError> for OAuthError {
    fn from(error: TokenError) -> OAuthError {
        OAuthError::Token(error)
    }
}

impl OAuthError {
    /// The `error` code the answer carries.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            OAuthError::Token(error) => error.code(),
            OAuthError::NotFound => "not_found",
            OAuthError::NoSigningKey | OAuthError::Stale | OAuthError::StoreUnavailable(_) => {
                "temporarily_unavailable"
            }
            OAuthError::Server => "server_error",
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let code = self.code();
        let mut answer = match self {
            OAuthError::Token(error) => token_error(&error),
            OAuthError::NotFound => json_value(
                StatusCode::NOT_FOUND,
                &ErrorResponse {
                    error: code.into(),
                    error_description: Some("no such endpoint".into()),
                },
            ),
            OAuthError::NoSigningKey => unavailable(
                code,
                "the server has no signing key yet; retry shortly".into(),
            ),
            OAuthError::Stale => unavailable(
                code,
                "this server has not reached its database for too long to vouch for its data; retry shortly or on another server".into(),
            ),
            OAuthError::StoreUnavailable(cause) => {
                unavailable(code, format!("the database is unavailable: {cause}"))
            }
            OAuthError::Server => {
                let body = ErrorResponse {
                    error: code.into(),
                    error_description: None,
                };
                // Not `json_value`: its own failure would come back here.
                no_store(json(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    serde_json::to_vec(&body).unwrap_or_default(),
                ))
            }
        };
        answer.extensions_mut().insert(ErrorCode(code));
        answer
    }
}

/// The answer to a refusal of the protocol core.
fn token_error(error: &TokenError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut answer = no_store(json_value(status, &error.to_wire()));
    if error.www_authenticate() {
        answer.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"latchkey\""),
        );
    }
    if let Some(seconds) = error.retry_after() {
        answer
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    if *error == TokenError::MethodNotAllowed {
        answer
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
    }
    answer
}

fn unavailable(code: &'static str, description: String) -> Response {
    let body = ErrorResponse {
        error: code.into(),
        error_description: Some(description),
    };
    no_store(json_value(StatusCode::SERVICE_UNAVAILABLE, &body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::response;
    use latchkey_protocol::client_auth::AuthFailure;

    const JSON: (&str, &str) = ("content-type", "application/json;charset=UTF-8");
    const NO_STORE: [(&str, &str); 2] = [("cache-control", "no-store"), ("pragma", "no-cache")];

    /// Checks an answer as the wire sees it (status, headers in order, body) and the code its
    /// extensions carry.
    fn check(error: impl Into<OAuthError>, status: u16, headers: &[(&str, &str)], body: &str) {
        let error = error.into();
        let label = format!("{error:?}");
        let code = error.code();
        let answer = error.into_response();
        assert_eq!(answer.status().as_u16(), status, "{label}");
        let sent: Vec<(&str, &str)> = answer
            .headers()
            .iter()
            .map(|(name, value)| (name.as_str(), value.to_str().unwrap()))
            .collect();
        assert_eq!(sent, headers, "{label}");
        assert_eq!(
            answer.extensions().get::<ErrorCode>(),
            Some(&ErrorCode(code))
        );
        assert_eq!(response::body_text(answer), body, "{label}");
    }

    /// An answer that must not be cached: the JSON type, then `no-store` and `no-cache`.
    fn uncached(more: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        [JSON, NO_STORE[0], NO_STORE[1]]
            .iter()
            .chain(more)
            .copied()
            .collect()
    }

    #[test]
    fn a_refusal_is_its_rfc_code_with_no_store() {
        check(
            TokenError::UnsupportedGrantType,
            400,
            &uncached(&[]),
            r#"{"error":"unsupported_grant_type","error_description":"grant_type must be client_credentials or urn:ietf:params:oauth:grant-type:jwt-bearer"}"#,
        );
    }

    #[test]
    fn invalid_client_after_basic_carries_www_authenticate_and_no_description() {
        for (basic, challenge) in [
            (
                true,
                &[("www-authenticate", "Basic realm=\"latchkey\"")][..],
            ),
            (false, &[]),
        ] {
            let error = TokenError::InvalidClient {
                basic,
                reason: AuthFailure::WrongSecret,
            };
            check(
                error,
                401,
                &uncached(challenge),
                r#"{"error":"invalid_client"}"#,
            );
        }
    }

    #[test]
    fn method_not_allowed_is_405_with_allow_post() {
        check(
            TokenError::MethodNotAllowed,
            405,
            &uncached(&[("allow", "POST")]),
            r#"{"error":"invalid_request","error_description":"this endpoint only accepts POST"}"#,
        );
    }

    #[test]
    fn too_many_requests_is_429_with_retry_after() {
        check(
            TokenError::TooManyRequests {
                retry_after: 7,
                limit: latchkey_protocol::Limit::FailedAuthentication,
            },
            429,
            &uncached(&[("retry-after", "7")]),
            r#"{"error":"too_many_requests","error_description":"too many failed client authentications; retry after the time Retry-After gives"}"#,
        );
    }

    #[test]
    fn payload_too_large_is_413() {
        check(
            TokenError::PayloadTooLarge,
            413,
            &uncached(&[]),
            r#"{"error":"invalid_request","error_description":"request body is larger than 64 KiB"}"#,
        );
    }

    #[test]
    fn not_found_may_be_cached() {
        check(
            OAuthError::NotFound,
            404,
            &[JSON],
            r#"{"error":"not_found","error_description":"no such endpoint"}"#,
        );
    }

    #[test]
    fn unavailable_answers_are_503_saying_why() {
        check(
            OAuthError::NoSigningKey,
            503,
            &uncached(&[]),
            r#"{"error":"temporarily_unavailable","error_description":"the server has no signing key yet; retry shortly"}"#,
        );
        check(
            OAuthError::StoreUnavailable("the disk is full".into()),
            503,
            &uncached(&[]),
            r#"{"error":"temporarily_unavailable","error_description":"the database is unavailable: the disk is full"}"#,
        );
    }

    #[test]
    fn a_server_error_says_nothing_of_its_cause() {
        check(
            OAuthError::Server,
            500,
            &uncached(&[]),
            r#"{"error":"server_error"}"#,
        );
    }
}
