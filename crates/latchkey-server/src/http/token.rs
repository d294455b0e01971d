//! `POST /oauth2/token`: the client credentials grant (RFC 6749 §4.4), the seed's endpoint.

use super::error::OAuthError;
use super::extract::{FormBody, TenantHost, header};
use super::observe::RequestFacts;
use super::response::Attempt;
use super::source::Source;
use super::{AppState, paths, response};
use crate::metrics::TokenOutcome;
use crate::reuse::Lookup;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use latchkey_keys::random;
use latchkey_protocol::token;
use std::net::IpAddr;

/// Issues a token. Reads the snapshot (no lock, no database), refuses a source that failed to
/// authenticate too often, decides with the protocol core, and signs once.
pub(crate) async fn token(
    State(state): State<AppState>,
    Source(source): Source,
    host: TenantHost,
    headers: HeaderMap,
    FormBody(body): FormBody,
) -> Response {
    let mut facts = RequestFacts::default();
    let answer = issue(&state, source, &host, &headers, &body, &mut facts);
    facts.attach(answer)
}

/// The token endpoint's work, noting in `facts` what the request log and metrics report.
fn issue(
    state: &AppState,
    source: IpAddr,
    host: &TenantHost,
    headers: &HeaderMap,
    body: &Bytes,
    facts: &mut RequestFacts,
) -> Result<Response, OAuthError> {
    let snapshot = state.registry.current();
    let tenant = host.tenant(&snapshot)?;
    facts.tenant(&tenant.name);
    if !state.freshness.serves_tokens() {
        return Err(OAuthError::Stale);
    }
    let attempt = Attempt {
        endpoint: paths::TOKEN,
        source,
        throttle: &state.throttle,
    };
    let refused = |client_id, error| attempt.refused(&snapshot, tenant, client_id, error);
    let request = token::parse(
        header(headers, CONTENT_TYPE),
        header(headers, AUTHORIZATION),
        body,
    )
    .map_err(|error| refused(None, error))?;
    let client_id = request.credentials.client_id.as_str();
    attempt.admit(client_id)?;
    let entry = snapshot.client_entry(tenant, client_id);
    let grant = token::decide(
        entry.map(|entry| &entry.client),
        &request,
        state.clock.now(),
    )
    .map_err(|error| refused(Some(client_id), error))?;
    facts.authenticated(client_id);
    let signer = tenant
        .keys
        .active
        .as_ref()
        .ok_or(OAuthError::NoSigningKey)?;
    // Token reuse, for apps that opted in: only after authentication and the scope decision,
    // so a reused token is exactly what a new one would grant.
    let is_revoked = |jti: &str| snapshot.is_revoked(&tenant.name, jti);
    let slot = match state.reuse.lookup(&grant, entry, signer, is_revoked) {
        Lookup::Hit(reused) => {
            let answer = grant.reused_response(reused.token.to_string(), reused.expires_at);
            facts.token = Some(TokenOutcome::REUSED);
            return Ok(answer_with(&answer));
        }
        Lookup::Miss(slot) => slot,
    };
    // The quota counts only newly signed tokens: a reused one costs no signature, so token
    // reuse is the remedy for a client that asks for a token per call.
    if let Some(quota) = entry.and_then(|entry| entry.quota.as_deref()) {
        quota.admit(grant.client, state.clock.monotonic_micros())?;
    }
    let jti = random::uuid_v4();
    let payload = grant
        .payload(tenant.token_profile, &tenant.issuer, &jti)
        .map_err(|error| response::server_error("serializing token claims", &error))?;
    let jwt = signer
        .sign_payload_as(tenant.jwt_type(), &payload)
        .map_err(|error| response::server_error("signing a token", &error))?;
    tracing::debug!(client_id = %grant.client.client_id, jti, "issued a token");
    slot.fill(&jwt, &jti);
    facts.token = Some(TokenOutcome::ISSUED);
    Ok(answer_with(&grant.response(jwt)))
}

/// RFC 6749 §5.1: a token answer is never cached.
fn answer_with(token: &latchkey_protocol::wire::TokenResponse) -> Response {
    response::no_store(response::json_value(StatusCode::OK, token))
}
