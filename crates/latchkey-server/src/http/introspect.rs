//! `POST /oauth2/introspect`: token introspection (RFC 7662). Off the database like the token
//! endpoint: keys, clients and the revocation list are all in the snapshot.

use super::{AppState, form_body, header, response};
use axum::body::Body;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use latchkey_protocol::client_auth;
use latchkey_protocol::introspection::{self, IntrospectionContext};
use latchkey_protocol::wire::IntrospectionResponse;

pub(crate) async fn introspect(
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
    let request = match introspection::parse_request(
        header(&headers, CONTENT_TYPE),
        header(&headers, AUTHORIZATION),
        &body,
    ) {
        Ok(request) => request,
        Err(error) => return response::token_error(error),
    };
    let now = state.clock.now();
    let claimed = snapshot.client(tenant, &request.credentials.client_id);
    let requester = match client_auth::authenticate(claimed, &request.credentials, now) {
        Ok(requester) => requester,
        Err(error) => return response::token_error(error),
    };
    let answer = match tenant.verify(&request.token) {
        None => IntrospectionResponse::inactive(),
        Some(claims) => introspection::decide(
            &claims,
            &IntrospectionContext {
                issuer: &tenant.issuer,
                now,
                requester,
                owner: snapshot.client(tenant, &claims.sub),
                revoked: snapshot.is_revoked(&claims.jti),
            },
        ),
    };
    response::no_store(response::json_value(StatusCode::OK, &answer))
}
