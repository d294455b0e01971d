//! The HTTP layer: routes, and turning protocol results into responses. Handlers gather inputs,
//! call the protocol core and write the answer; they make no decisions of their own.

mod discovery;
mod health;
mod introspect;
mod jwks;
mod presented;
pub(crate) mod response;
mod revoke;
mod token;

use crate::registry::Registry;
use crate::reuse::TokenCache;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::header::CONTENT_LENGTH;
use axum::http::{HeaderMap, HeaderName};
use axum::response::Response;
use axum::routing::{get, post};
use latchkey_manage::clock::Clock;
use latchkey_protocol::TokenError;
use latchkey_protocol::form::MAX_BODY_BYTES;
use std::sync::Arc;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The registry snapshot holder.
    pub registry: Arc<Registry>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Tokens that apps with token reuse may get again.
    pub reuse: Arc<TokenCache>,
}

impl AppState {
    /// Applies a change this node just stored (and whatever the log holds before it) to its
    /// snapshot, so that the request after the answer is served with it; other nodes follow
    /// through the change log. Called by every write before it answers.
    pub(crate) async fn serve_own_write(&self) {
        if let Err(error) = self.registry.catch_up(self.clock.now()).await {
            // The write happened: answering with an error would invite a retry that changes
            // things twice. The refresh task applies it at its next poll.
            tracing::warn!(error = %error, "a stored change could not be applied at once; the next poll applies it");
        }
    }
}

/// The OAuth endpoint paths.
pub mod paths {
    /// RFC 6749 token endpoint.
    pub const TOKEN: &str = "/oauth2/token";
    /// RFC 7662 token introspection.
    pub const INTROSPECT: &str = "/oauth2/introspect";
    /// RFC 7009 token revocation.
    pub const REVOKE: &str = "/oauth2/revoke";
    /// RFC 7517 JWK Set.
    pub const JWKS: &str = "/oauth2/jwks";
    /// RFC 8414 metadata.
    pub const OAUTH_METADATA: &str = "/.well-known/oauth-authorization-server";
    /// OpenID Connect discovery path, serving the same metadata.
    pub const OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";
    /// Readiness.
    pub const HEALTH: &str = "/healthz";
}

/// Reads a form body of at most `MAX_BODY_BYTES`, answering 413 past that.
pub(crate) async fn form_body(headers: &HeaderMap, body: Body) -> Result<Bytes, Response> {
    let declared_too_large = headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<usize>().ok())
        .is_some_and(|length| length > MAX_BODY_BYTES);
    if declared_too_large {
        return Err(response::token_error(TokenError::PayloadTooLarge));
    }
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|error| {
            let over_limit =
                std::iter::successors(Some(&error as &dyn std::error::Error), |e| e.source())
                    .any(|cause| cause.is::<http_body_util::LengthLimitError>());
            if over_limit {
                response::token_error(TokenError::PayloadTooLarge)
            } else {
                // Cut off mid-body (a broken chunk, fewer bytes than Content-Length).
                response::token_error(TokenError::InvalidRequest(
                    "the request body could not be read in full",
                ))
            }
        })
}

/// A header's value as text, if present and visible ASCII.
pub(crate) fn header(headers: &HeaderMap, name: HeaderName) -> Option<&str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// The whole router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            paths::TOKEN,
            post(token::token).fallback(response::method_not_allowed_post),
        )
        .route(
            paths::INTROSPECT,
            post(introspect::introspect).fallback(response::method_not_allowed_post),
        )
        .route(
            paths::REVOKE,
            post(revoke::revoke).fallback(response::method_not_allowed_post),
        )
        .route(paths::JWKS, get(jwks::jwks))
        .route(paths::OAUTH_METADATA, get(discovery::metadata))
        .route(paths::OPENID_CONFIGURATION, get(discovery::metadata))
        .route(paths::HEALTH, get(health::healthz))
        .merge(crate::admin::router())
        .fallback(response::not_found)
        .with_state(state)
}
