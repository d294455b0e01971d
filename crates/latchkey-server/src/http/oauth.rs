//! The OAuth routes (token, introspection, revocation), discovery, the JWKS and health: every
//! route but the admin API's. `serve` puts them behind the layers every request passes.

use super::{AppState, discovery, health, introspect, jwks, paths, response, revoke, token};
use axum::Router;
use axum::routing::{get, post};

/// The OAuth, discovery, JWKS and health routes.
pub fn router() -> Router<AppState> {
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
        .route(paths::READY, get(health::readyz))
}
