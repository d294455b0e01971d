//! `GET /oauth2/jwks`: the tenant's published public keys (RFC 7517 §5).

use super::error::OAuthError;
use super::extract::TenantHost;
use super::{AppState, response};
use axum::extract::State;
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use latchkey_keys::lifecycle::JWKS_MAX_AGE_SECONDS;

pub(crate) async fn jwks(
    State(state): State<AppState>,
    host: TenantHost,
) -> Result<Response, OAuthError> {
    let snapshot = state.registry.current();
    let tenant = host.tenant(&snapshot)?;
    let mut response = response::json(StatusCode::OK, tenant.jwks_body.to_vec());
    let cache = format!("public, max-age={JWKS_MAX_AGE_SECONDS}");
    if let Ok(value) = HeaderValue::from_str(&cache) {
        response.headers_mut().insert(CACHE_CONTROL, value);
    }
    Ok(response)
}
