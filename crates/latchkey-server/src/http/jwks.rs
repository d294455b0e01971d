//! `GET /oauth2/jwks`: the tenant's published public keys (RFC 7517 §5).

use super::AppState;
use super::response;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, HOST};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use latchkey_keys::lifecycle::JWKS_MAX_AGE_SECONDS;

pub(crate) async fn jwks(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let snapshot = state.registry.current();
    let host = headers.get(HOST).and_then(|value| value.to_str().ok());
    let Some(tenant) = snapshot.tenant_for_host(host) else {
        return response::not_found().await;
    };
    let mut response = response::json(StatusCode::OK, tenant.jwks_body.to_vec());
    let cache = format!("public, max-age={JWKS_MAX_AGE_SECONDS}");
    if let Ok(value) = HeaderValue::from_str(&cache) {
        response.headers_mut().insert(CACHE_CONTROL, value);
    }
    response
}
