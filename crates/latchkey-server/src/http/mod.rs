//! The HTTP layer: routes, and turning protocol results into responses. Handlers gather inputs,
//! call the protocol core and write the answer; they make no decisions of their own.

mod discovery;
mod health;
mod jwks;
mod response;
mod token;

use crate::clock::Clock;
use crate::registry::Registry;
use axum::Router;
use axum::routing::{get, post};
use std::sync::Arc;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The registry snapshot holder.
    pub registry: Arc<Registry>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
}

/// The OAuth endpoint paths.
pub mod paths {
    /// RFC 6749 token endpoint.
    pub const TOKEN: &str = "/oauth2/token";
    /// RFC 7517 JWK Set.
    pub const JWKS: &str = "/oauth2/jwks";
    /// RFC 8414 metadata.
    pub const OAUTH_METADATA: &str = "/.well-known/oauth-authorization-server";
    /// OpenID Connect discovery path, serving the same metadata.
    pub const OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";
    /// Readiness.
    pub const HEALTH: &str = "/healthz";
}

/// The whole router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route(paths::TOKEN, post(token::token).fallback(response::method_not_allowed_post))
        .route(paths::JWKS, get(jwks::jwks))
        .route(paths::OAUTH_METADATA, get(discovery::metadata))
        .route(paths::OPENID_CONFIGURATION, get(discovery::metadata))
        .route(paths::HEALTH, get(health::healthz))
        .fallback(response::not_found)
        .with_state(state)
}
