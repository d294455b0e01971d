//! Response building: the exact JSON content type of the seed, OAuth error bodies, and the one
//! place server-side failures are logged.

use axum::body::Body;
use axum::http::header::{ALLOW, CACHE_CONTROL, CONTENT_TYPE, PRAGMA, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use latchkey_protocol::TokenError;
use latchkey_protocol::wire::ErrorResponse;
use latchkey_store::StoreError;
use serde::Serialize;

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
        Err(error) => server_error("serializing a response", &error),
    }
}

/// Marks a response as never to be cached (RFC 6749 §5.1 for token responses).
pub(crate) fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// An OAuth error response for a token endpoint error.
pub(crate) fn token_error(error: TokenError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = no_store(json_value(status, &error.to_wire()));
    if error.www_authenticate() {
        response.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"latchkey\""),
        );
    }
    if error == TokenError::MethodNotAllowed {
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
    }
    response
}

/// A 500 `server_error`. The cause is logged here, once, and never sent to the client.
pub(crate) fn server_error(doing: &str, cause: &dyn std::error::Error) -> Response {
    tracing::error!(error = %cause, "{doing} failed");
    let body = ErrorResponse {
        error: "server_error".into(),
        error_description: None,
    };
    no_store(json(
        StatusCode::INTERNAL_SERVER_ERROR,
        serde_json::to_vec(&body).unwrap_or_default(),
    ))
}

/// A store failure: 503 `temporarily_unavailable` saying what is wrong when the database cannot
/// take the write for now (its disk full, read-only, locked), else a 500 `server_error`.
pub(crate) fn store_error(doing: &str, error: &StoreError) -> Response {
    let StoreError::Unavailable(cause) = error else {
        return server_error(doing, error);
    };
    tracing::error!(error = %error, "{doing} failed");
    let body = ErrorResponse {
        error: "temporarily_unavailable".into(),
        error_description: Some(format!("the database is unavailable: {cause}")),
    };
    no_store(json_value(StatusCode::SERVICE_UNAVAILABLE, &body))
}

/// 503 while the tenant cannot sign (no usable key).
pub(crate) fn temporarily_unavailable() -> Response {
    let body = ErrorResponse {
        error: "temporarily_unavailable".into(),
        error_description: Some("the server has no signing key yet; retry shortly".into()),
    };
    no_store(json_value(StatusCode::SERVICE_UNAVAILABLE, &body))
}

/// 405 for the token endpoint, which only accepts POST.
pub(crate) async fn method_not_allowed_post() -> Response {
    token_error(TokenError::MethodNotAllowed)
}

/// 404 for any other path.
pub(crate) async fn not_found() -> Response {
    not_found_response()
}

/// The 404 answer: no such endpoint, or (with tenants) a host no tenant serves.
pub(crate) fn not_found_response() -> Response {
    let body = ErrorResponse {
        error: "not_found".into(),
        error_description: Some("no such endpoint".into()),
    };
    json_value(StatusCode::NOT_FOUND, &body)
}
