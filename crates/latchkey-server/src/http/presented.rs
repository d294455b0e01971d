//! What introspection and revocation both start with: a form presenting a token, a tenant, and
//! an authenticated client asking (RFC 7662 §2.1, RFC 7009 §2.1).

use super::AppState;
use super::error::OAuthError;
use super::extract::{TenantHost, header};
use super::observe::RequestFacts;
use super::response::Attempt;
use crate::registry::{ClientEntry, Snapshot, TenantState};
use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use latchkey_protocol::client_auth::{self, AuthFailure};
use latchkey_protocol::introspection::{self, PresentedToken};
use std::net::IpAddr;
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

/// Finds the tenant, reads the form and authenticates the client (by its secret or a client
/// assertion), unless `source` failed to too often. `endpoint` names the endpoint in the log line of a failed authentication;
/// `facts` learns the tenant and the client.
pub(crate) async fn authenticate(
    endpoint: &'static str,
    source: IpAddr,
    state: &AppState,
    host: &TenantHost,
    headers: &HeaderMap,
    body: &Bytes,
    facts: &mut RequestFacts,
) -> Result<Presented, OAuthError> {
    let attempt = Attempt {
        endpoint,
        source,
        throttle: &state.throttle,
    };
    let snapshot = state.registry.current_full();
    let tenant = Arc::clone(host.tenant(&snapshot)?);
    facts.tenant(&tenant.name);
    let request = introspection::parse_request(
        header(headers, CONTENT_TYPE),
        header(headers, AUTHORIZATION),
        body,
    )
    .map_err(|error| attempt.refused(&snapshot, &tenant, None, error))?;
    attempt.admit(&request.credentials.client_id)?;
    let now = state.clock.now();
    let entry = snapshot
        .client_entry(&tenant, &request.credentials.client_id)
        .cloned();
    let claimed = entry.as_deref().map(|entry| &entry.client);
    let refused = |error| {
        let client_id = Some(request.credentials.client_id.as_str());
        attempt.refused(&snapshot, &tenant, client_id, error)
    };
    match &request.credentials.assertion {
        Some(assertion) => state
            .assertions
            .authenticate_client(&tenant, entry.as_deref(), assertion, now)
            .await
            .map_err(|reason| refused(request.credentials.rejected(reason)))?,
        None => {
            client_auth::authenticate(claimed, &request.credentials, now).map_err(refused)?;
        }
    }
    // `authenticate` succeeds only for a client that exists.
    let requester =
        entry.ok_or_else(|| refused(request.credentials.rejected(AuthFailure::UnknownClient)))?;
    facts.authenticated(&requester.client.client_id);
    Ok(Presented {
        snapshot,
        tenant,
        request,
        requester,
        now,
    })
}
