//! `POST /oauth2/token`: the client credentials grant (RFC 6749 §4.4), the seed's endpoint.

use super::{AppState, form_body, header, paths, response};
use crate::reuse;
use axum::body::Body;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use latchkey_keys::random;
use latchkey_protocol::token;
use std::sync::Arc;

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
        Err(error) => {
            return response::client_refused(paths::TOKEN, &snapshot, tenant, None, error);
        }
    };
    let entry = snapshot.client_entry(tenant, &request.credentials.client_id);
    let now = state.clock.now();
    let grant = match token::decide(entry.map(|entry| &entry.client), &request, now) {
        Ok(grant) => grant,
        Err(error) => {
            let client_id = Some(request.credentials.client_id.as_str());
            return response::client_refused(paths::TOKEN, &snapshot, tenant, client_id, error);
        }
    };
    let Some(signer) = &tenant.keys.active else {
        return response::temporarily_unavailable();
    };
    // Token reuse, for apps that opted in: only after authentication and the scope decision,
    // so a reused token is exactly what a new one would grant.
    let reuse = grant
        .client
        .token_reuse_percent
        .zip(entry)
        .map(|(percent, entry)| {
            let key = reuse::key(&grant.client.client_id, &grant.scopes, grant.audience);
            let cached = state.reuse.get(&key, entry, signer, percent, now, |jti| {
                snapshot.is_revoked(&tenant.name, jti)
            });
            (key, entry, cached)
        });
    if let Some((_, _, Some(cached))) = &reuse {
        let body = grant.reused_response(cached.token.to_string(), cached.expires_at);
        return response::no_store(response::json_value(StatusCode::OK, &body));
    }
    let jti = random::uuid_v4();
    let payload = match grant.payload(tenant.token_profile, &tenant.issuer, &jti) {
        Ok(payload) => payload,
        Err(error) => return response::server_error("serializing token claims", &error),
    };
    let jwt = match signer.sign_payload_as(tenant.jwt_type(), &payload) {
        Ok(jwt) => jwt,
        Err(error) => return response::server_error("signing a token", &error),
    };
    tracing::debug!(client_id = %grant.client.client_id, jti, "issued a token");
    if let Some((key, entry, None)) = reuse {
        let token: Arc<str> = Arc::from(jwt.as_str());
        let (issued_at, expires_at) = (grant.issued_at, grant.expires_at);
        state.reuse.insert(
            key,
            token,
            jti.into(),
            issued_at,
            expires_at,
            Arc::clone(entry),
            Arc::clone(signer),
        );
    }
    response::no_store(response::json_value(StatusCode::OK, &grant.response(jwt)))
}
