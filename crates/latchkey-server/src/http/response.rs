//! Response building: the exact JSON content type of the seed, and the one place server-side
//! failures and refused client authentications are logged (each becoming an `OAuthError`),
//! and failed ones counted against their source.

use super::error::OAuthError;
use crate::registry::{Snapshot, TenantState};
use crate::throttle::Throttle;
use axum::body::Body;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, PRAGMA};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use latchkey_protocol::TokenError;
use latchkey_protocol::client_auth::AuthFailure;
use latchkey_store::StoreError;
use serde::Serialize;
use std::net::IpAddr;

/// The seed document's content type, byte for byte.
pub(crate) const JSON: HeaderValue = HeaderValue::from_static("application/json;charset=UTF-8");

/// A JSON response with the seed's content type.
pub(crate) fn json(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, JSON);
    response
}

/// Serializes `value` as a JSON response.
pub(crate) fn json_value<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => json(status, body),
        Err(error) => server_error("serializing a response", &error).into_response(),
    }
}

/// Marks a response as never to be cached (RFC 6749 §5.1 for token responses).
pub(crate) fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// The longest client id a log line repeats: ids are attacker-chosen text of up to 64 KiB.
const LOGGED_CLIENT_ID_BYTES: usize = 128;

/// One request's client authentication: the endpoint, where the request came from, and the
/// throttle that counts its failures.
pub(crate) struct Attempt<'a> {
    pub(crate) endpoint: &'static str,
    pub(crate) source: IpAddr,
    pub(crate) throttle: &'a Throttle,
}

impl Attempt<'_> {
    /// Before any secret is hashed or compared: 429 when this source, or this client_id from
    /// it, has failed too often.
    pub(crate) fn admit(&self, client_id: &str) -> Result<(), OAuthError> {
        self.throttle
            .admit(self.endpoint, self.source, client_id)
            .map_err(OAuthError::Token)
    }

    /// The answer to a refused request. A failed client authentication is counted against
    /// its source and logged first, once, at `info`: the client learns only `invalid_client`,
    /// so this line is how an operator finds out which check failed. The secret is never
    /// logged; the client id is bounded and logged with `Debug`, which escapes control
    /// characters, so it cannot forge log lines.
    pub(crate) fn refused(
        &self,
        snapshot: &Snapshot,
        tenant: &TenantState,
        client_id: Option<&str>,
        error: TokenError,
    ) -> OAuthError {
        // A refused JWT bearer grant is a failed login as much as a wrong secret is.
        if let TokenError::InvalidClient { reason, .. } | TokenError::InvalidGrant { reason } =
            error
        {
            self.throttle.failed(self.source, client_id);
            let reason = match client_id {
                Some(id)
                    if reason == AuthFailure::UnknownClient
                        && snapshot.client_in_other_tenant(tenant, id) =>
                {
                    AuthFailure::WrongTenantHost
                }
                _ => reason,
            };
            let client_id = client_id.map(loggable_client_id).unwrap_or_default();
            tracing::info!(
                target: "latchkey_server::client_auth",
                endpoint = %self.endpoint,
                tenant = %tenant.name,
                address = %self.source,
                client_id = ?client_id,
                reason = %reason,
                "client authentication failed"
            );
        }
        OAuthError::Token(error)
    }
}

/// What a log line may repeat of a presented client id: at most `LOGGED_CLIENT_ID_BYTES` of
/// it, and nothing of one shaped like a token (a JWT) or a client secret (43 URL-safe base64
/// characters), which a confused client may have sent in its place.
pub(crate) fn loggable_client_id(text: &str) -> &str {
    let secret_shaped = text.len() == 43
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    if text.starts_with("eyJ") || secret_shaped {
        return "[not logged: shaped like a token or a secret]";
    }
    bounded(text)
}

/// At most `LOGGED_CLIENT_ID_BYTES` of `text`, cut at a character boundary.
pub(crate) fn bounded(text: &str) -> &str {
    let mut end = text.len().min(LOGGED_CLIENT_ID_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A 500 `server_error`. The cause is logged here, once, and never sent to the client.
pub(crate) fn server_error(doing: &str, cause: &dyn std::error::Error) -> OAuthError {
    tracing::error!(error = %cause, "{doing} failed");
    OAuthError::Server
}

/// A store failure: 503 `temporarily_unavailable` saying what is wrong when the database cannot
/// take the write for now (its disk full, read-only, locked), else a 500 `server_error`.
pub(crate) fn store_error(doing: &str, error: &StoreError) -> OAuthError {
    let StoreError::Unavailable(cause) = error else {
        return server_error(doing, error);
    };
    tracing::error!(error = %error, "{doing} failed");
    OAuthError::StoreUnavailable(cause.clone())
}

/// 405 for the token endpoint, which only accepts POST.
pub(crate) async fn method_not_allowed_post() -> OAuthError {
    OAuthError::Token(TokenError::MethodNotAllowed)
}

/// 404 for any other path.
pub(crate) async fn not_found() -> OAuthError {
    OAuthError::NotFound
}

/// A response's body as text, for the unit tests of answers.
#[cfg(test)]
pub(crate) fn body_text(answer: Response) -> String {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime for reading a body");
    let bytes = runtime
        .block_on(axum::body::to_bytes(answer.into_body(), usize::MAX))
        .expect("a body in memory");
    String::from_utf8(bytes.to_vec()).expect("a UTF-8 body")
}

#[cfg(test)]
mod tests {
    use super::{bounded, loggable_client_id};

    #[test]
    fn a_client_id_shaped_like_a_token_or_a_secret_is_not_logged() {
        let token = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";
        let secret = "q3Jf0-x_2kQmZ7bV9sT1uW4yA6cE8gI0kM2oQ4sU6wY";
        for presented in [token, secret] {
            assert!(!loggable_client_id(presented).contains(&presented[..10]));
        }
        let id = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
        assert_eq!(loggable_client_id(id), id);
        assert_eq!(loggable_client_id(&"x".repeat(500)).len(), 128);
    }

    #[test]
    fn a_logged_client_id_is_cut_at_a_character_boundary() {
        assert_eq!(bounded("short"), "short");
        let long = format!("{}é", "x".repeat(127));
        assert_eq!(bounded(&long), "x".repeat(127));
        assert_eq!(bounded(&"y".repeat(500)).len(), 128);
    }
}
