//! `POST /oauth2/revoke`: token revocation (RFC 7009). A client revokes its own tokens; the
//! revocation is stored (so it survives restarts and reaches other nodes through the change log)
//! and applied to this node's snapshot at once.

use super::{AppState, form_body, header, response};
use axum::body::Body;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use latchkey_protocol::revocation::{self, Revocation};
use latchkey_protocol::{client_auth, introspection};
use latchkey_store::RevocationRecord;

pub(crate) async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let body = match form_body(&headers, body).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let now = state.clock.now();
    // Decide with the snapshot, then let go of it before writing to the store.
    let record = {
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
        let claimed = snapshot.client(tenant, &request.credentials.client_id);
        let requester = match client_auth::authenticate(claimed, &request.credentials, now) {
            Ok(requester) => requester,
            Err(error) => return response::token_error(error),
        };
        let claims = tenant.verify(&request.token);
        match revocation::decide(claims.as_ref(), requester, &tenant.issuer, now) {
            Err(error) => return response::token_error(error),
            Ok(Revocation::Nothing) => None,
            Ok(Revocation::Revoke { jti, expires_at }) => Some(RevocationRecord {
                jti,
                tenant: tenant.name.clone(),
                client_id: Some(requester.client_id.clone()),
                expires_at,
                revoked_at: now,
            }),
        }
    };
    if let Some(record) = record {
        if let Err(error) = state.registry.store().revoke_token(&record).await {
            return response::server_error("storing a revocation", &error);
        }
        state
            .registry
            .note_revocation(&record.jti, record.expires_at);
        tracing::info!(jti = %record.jti, "revoked a token");
    }
    // RFC 7009 §2.2: 200 whether or not there was anything to revoke.
    response::no_store(response::json(StatusCode::OK, Vec::new()))
}
