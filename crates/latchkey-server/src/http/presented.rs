//! What introspection and revocation both start with: a form presenting a token, a tenant, and
//! an authenticated client asking (RFC 7662 §2.1, RFC 7009 §2.1).

use super::{AppState, form_body, header, response};
use crate::registry::{ClientEntry, Snapshot, TenantState};
use axum::body::Body;
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use axum::response::Response;
use latchkey_protocol::client_auth;
use latchkey_protocol::introspection::{self, PresentedToken};
use std::sync::Arc;

/// An authenticated request presenting a token.
pub(crate) struct Presented {
    /// The snapshot the request was decided with.
    pub(crate) snapshot: Arc<Snapshot>,
    /// The tenant answering.
    pub(crate) tenant: Arc<TenantState>,
    /// The presented token.
    pub(crate) request: PresentedToken,
    /// The authenticated client asking.
    pub(crate) requester: Arc<ClientEntry>,
    /// When the request was decided.
    pub(crate) now: i64,
}

/// Reads the form, finds the tenant and authenticates the client; the error is the answer.
pub(crate) async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Presented, Response> {
    let body = form_body(headers, body).await?;
    let snapshot = state.registry.current_full();
    let tenant = snapshot
        .tenant_for_host(header(headers, HOST))
        .cloned()
        .ok_or_else(response::not_found_response)?;
    let request = introspection::parse_request(
        header(headers, CONTENT_TYPE),
        header(headers, AUTHORIZATION),
        &body,
    )
    .map_err(response::token_error)?;
    let now = state.clock.now();
    let entry = snapshot
        .client_entry(&tenant, &request.credentials.client_id)
        .cloned();
    let claimed = entry.as_deref().map(|entry| &entry.client);
    client_auth::authenticate(claimed, &request.credentials, now).map_err(response::token_error)?;
    // `authenticate` succeeds only for a client that exists.
    let requester = entry.ok_or_else(|| response::token_error(request.credentials.rejected()))?;
    Ok(Presented {
        snapshot,
        tenant,
        request,
        requester,
        now,
    })
}
