//! `POST /oauth2/token`: the client credentials grant (RFC 6749 §4.4), the seed's endpoint.

use super::AppState;
use super::response;
use axum::body::Body;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HOST};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use latchkey_keys::random;
use latchkey_protocol::TokenError;
use latchkey_protocol::token::{self, MAX_BODY_BYTES};

/// Issues a token. Reads the snapshot (no lock, no database), decides with the protocol core,
/// and signs once.
pub(crate) async fn token(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let declared_too_large = headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<usize>().ok())
        .is_some_and(|length| length > MAX_BODY_BYTES);
    if declared_too_large {
        return response::token_error(TokenError::PayloadTooLarge);
    }
    // A body that fails to arrive in full is either over the limit or cut off by the client;
    // both end the request without reaching the token logic.
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return response::token_error(TokenError::PayloadTooLarge);
    };
    let header = |name| headers.get(name).and_then(|value| value.to_str().ok());

    let snapshot = state.registry.current();
    let Some(tenant) = snapshot.tenant_for_host(header(HOST)) else {
        return response::not_found().await;
    };
    let request = match token::parse(header(CONTENT_TYPE), header(AUTHORIZATION), &body) {
        Ok(request) => request,
        Err(error) => return response::token_error(error),
    };
    let client = snapshot.client(tenant, &request.credentials.client_id);
    let grant = match token::decide(client, &request, state.clock.now()) {
        Ok(grant) => grant,
        Err(error) => return response::token_error(error),
    };
    let Some(signer) = &tenant.keys.active else {
        return response::temporarily_unavailable();
    };
    let jti = random::uuid_v4();
    let jwt = match signer.sign_jwt(&grant.claims(&tenant.issuer, &jti)) {
        Ok(jwt) => jwt,
        Err(error) => return response::server_error("signing a token", &error),
    };
    tracing::debug!(client_id = %grant.client.client_id, jti, "issued a token");
    response::no_store(response::json_value(StatusCode::OK, &grant.response(jwt)))
}
