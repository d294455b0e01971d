//! `POST /oauth2/revoke`: token revocation (RFC 7009). A client revokes its own tokens; the
//! revocation is stored (so it survives restarts and reaches other nodes through the change log)
//! and applied to this node's snapshot at once. An app holds at most `MAX_SELF_REVOCATIONS` live
//! ones, counted from this node's snapshot: across nodes the bound is approximate (each node
//! counts what it has applied), and revoking every token of an app (`tokens_revoked_before`)
//! stays open past it.

use super::error::OAuthError;
use super::extract::{FormBody, TenantHost};
use super::observe::RequestFacts;
use super::presented::{self, Presented};
use super::source::Source;
use super::{AppState, paths, response};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use latchkey_protocol::revocation::{self, MAX_SELF_REVOCATIONS, Revocation};
use latchkey_protocol::{Limit, TokenError};
use latchkey_store::RevocationRecord;
use std::net::IpAddr;

pub(crate) async fn revoke(
    State(state): State<AppState>,
    Source(source): Source,
    host: TenantHost,
    headers: HeaderMap,
    FormBody(body): FormBody,
) -> Response {
    let mut facts = RequestFacts::default();
    let answer = answer(&state, source, &host, &headers, &body, &mut facts).await;
    facts.attach(answer)
}

async fn answer(
    state: &AppState,
    source: IpAddr,
    host: &TenantHost,
    headers: &HeaderMap,
    body: &Bytes,
    facts: &mut RequestFacts,
) -> Result<Response, OAuthError> {
    let Presented {
        tenant,
        request,
        requester,
        now,
        ..
    } = presented::authenticate(paths::REVOKE, source, state, host, headers, body, facts).await?;
    let claims = tenant.verify(&request.token);
    match revocation::decide(claims.as_ref(), &requester.client, &tenant.issuer, now)? {
        Revocation::Nothing => {}
        Revocation::Revoke { jti, expires_at } => {
            check_room(state, &tenant.name, &requester.client.client_id, &jti, now)?;
            let record = RevocationRecord {
                jti,
                tenant: tenant.name.to_string(),
                client_id: Some(requester.client.client_id.clone()),
                expires_at,
                revoked_at: now,
            };
            state
                .registry
                .store()
                .revoke_token(&record, None)
                .await
                .map_err(|error| response::store_error("storing a revocation", &error))?;
            state.registry.note_revocation(
                &record.tenant,
                &record.jti,
                record.expires_at,
                record.client_id.as_deref(),
            );
            facts.revoked = true;
            tracing::info!(jti = %record.jti, "revoked a token");
        }
    }
    // RFC 7009 §2.2: 200 whether or not there was anything to revoke.
    Ok(response::no_store(response::json(
        StatusCode::OK,
        Vec::new(),
    )))
}

/// Refuses a new self-revocation past `MAX_SELF_REVOCATIONS` live ones of the app. Revoking a
/// token already revoked adds nothing, so it is never refused.
fn check_room(
    state: &AppState,
    tenant: &str,
    client_id: &str,
    jti: &str,
    now: i64,
) -> Result<(), OAuthError> {
    let snapshot = state.registry.current();
    if snapshot.is_revoked(tenant, jti) {
        return Ok(());
    }
    let (live, retry_after) = snapshot.live_self_revocations(tenant, client_id, now);
    if live >= MAX_SELF_REVOCATIONS {
        return Err(OAuthError::Token(TokenError::TooManyRequests {
            retry_after,
            limit: Limit::Revocations,
        }));
    }
    Ok(())
}
