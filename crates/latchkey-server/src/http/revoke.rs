//! `POST /oauth2/revoke`: token revocation (RFC 7009). A client revokes its own tokens; the
//! revocation is stored (so it survives restarts and reaches other nodes through the change log)
//! and applied to this node's snapshot at once.

use super::presented::{self, Presented};
use super::{AppState, response};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use latchkey_protocol::revocation::{self, Revocation};
use latchkey_store::RevocationRecord;

pub(crate) async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Presented {
        tenant,
        request,
        requester,
        now,
        ..
    } = match presented::authenticate(&state, &headers, body).await {
        Ok(presented) => presented,
        Err(response) => return response,
    };
    let claims = tenant.verify(&request.token);
    match revocation::decide(claims.as_ref(), &requester.client, &tenant.issuer, now) {
        Err(error) => return response::token_error(error),
        Ok(Revocation::Nothing) => {}
        Ok(Revocation::Revoke { jti, expires_at }) => {
            let record = RevocationRecord {
                jti,
                tenant: tenant.name.to_string(),
                client_id: Some(requester.client.client_id.clone()),
                expires_at,
                revoked_at: now,
            };
            if let Err(error) = state.registry.store().revoke_token(&record).await {
                return response::store_error("storing a revocation", &error);
            }
            state
                .registry
                .note_revocation(&record.tenant, &record.jti, record.expires_at);
            tracing::info!(jti = %record.jti, "revoked a token");
        }
    }
    // RFC 7009 §2.2: 200 whether or not there was anything to revoke.
    response::no_store(response::json(StatusCode::OK, Vec::new()))
}
