//! `POST /oauth2/token`: the client credentials grant (RFC 6749 §4.4), the seed's endpoint.

use super::{AppState, form_body, header, response};
use axum::body::Body;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use latchkey_keys::random;
use latchkey_protocol::token;

/// Issues a token. Reads the snapshot (no lock, no database), decides with the protocol core,
/// and signs once.
pub(crate) async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let body = match form_body(&headers, body).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let snapshot = state.registry.current();
    let Some(tenant) = snapshot.tenant_for_host(header(&headers, HOST)) else {
        return response::not_found().await;
    };
    let request = match token::parse(
        header(&headers, CONTENT_TYPE),
        header(&headers, AUTHORIZATION),
        &body,
    ) {
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
