//! `POST /oauth2/token`: the client credentials grant (RFC 6749 §4.4), the seed's endpoint,
//! with a secret or a client assertion (RFC 7523 §2.2), and the JWT bearer grant (RFC 7523
//! §2.1) for workload identity federation.

use super::error::OAuthError;
use super::extract::{FormBody, TenantHost, header};
use super::observe::RequestFacts;
use super::response::Attempt;
use super::source::Source;
use super::{AppState, paths, response};
use crate::metrics::TokenOutcome;
use crate::registry::{ClientEntry, Snapshot, TenantState};
use crate::reuse::Lookup;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use latchkey_keys::random;
use latchkey_protocol::TokenError;
use latchkey_protocol::token::{self, Grant, GrantKind, TokenRequest};
use latchkey_protocol::wire::TokenResponse;
use std::net::IpAddr;
use std::sync::Arc;

/// Issues a token. A secret is checked on the snapshot alone (no lock, no database, no
/// await); an assertion may wait for its keys (`assertions`), so it is decided apart.
pub(crate) async fn token(
    State(state): State<AppState>,
    Source(source): Source,
    host: TenantHost,
    headers: HeaderMap,
    FormBody(body): FormBody,
) -> Response {
    let mut facts = RequestFacts::default();
    let answer = match issue(&state, source, &host, &headers, &body, &mut facts) {
        Ok(Decided::Answer(answer)) => Ok(answer),
        Ok(Decided::ByAssertion(request)) => {
            issue_by_assertion(&state, source, &host, *request, &mut facts).await
        }
        Err(error) => Err(error),
    };
    facts.attach(answer.map(|token| answer_with(&token)))
}

/// A token for the console's sign-in: the token endpoint's own path for a `client_secret_post`
/// request of scope `latchkey:admin` to `tenant`, so it is throttled, refused and logged as a
/// client login is, and the console cannot sign in an app the token endpoint would refuse.
pub(crate) fn issue_for_console(
    state: &AppState,
    source: IpAddr,
    tenant: &str,
    client_id: &str,
    client_secret: &str,
) -> Result<TokenResponse, OAuthError> {
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "client_credentials")
        .append_pair("client_id", client_id)
        .append_pair("client_secret", client_secret)
        .append_pair("scope", latchkey_protocol::admin::ADMIN_SCOPE)
        .finish();
    let snapshot = state.registry.current();
    let tenant = snapshot
        .tenant(tenant)
        .ok_or(OAuthError::Token(TokenError::InvalidClient {
            basic: false,
            reason: latchkey_protocol::client_auth::AuthFailure::UnknownClient,
        }))?;
    let mut facts = RequestFacts::default();
    let form = "application/x-www-form-urlencoded";
    match issue_in(
        state,
        source,
        &snapshot,
        tenant,
        Some(form),
        None,
        body.as_bytes(),
        &mut facts,
    )? {
        Decided::Answer(token) => Ok(token),
        // The body above carries a secret, never an assertion.
        Decided::ByAssertion(_) => Err(OAuthError::Token(TokenError::InvalidRequest(
            "the console signs in with a client secret",
        ))),
    }
}

/// What the synchronous part decided.
enum Decided {
    /// The answer.
    Answer(TokenResponse),
    /// A request that an assertion authenticates, for `issue_by_assertion`.
    ByAssertion(Box<TokenRequest>),
}

/// The token endpoint's work for a secret, noting in `facts` what the request log and
/// metrics report.
fn issue(
    state: &AppState,
    source: IpAddr,
    host: &TenantHost,
    headers: &HeaderMap,
    body: &Bytes,
    facts: &mut RequestFacts,
) -> Result<Decided, OAuthError> {
    let snapshot = state.registry.current();
    let tenant = host.tenant(&snapshot)?;
    issue_in(
        state,
        source,
        &snapshot,
        tenant,
        header(headers, CONTENT_TYPE),
        header(headers, AUTHORIZATION),
        body,
        facts,
    )
}

/// `issue` once the tenant is known.
#[allow(clippy::too_many_arguments)]
fn issue_in(
    state: &AppState,
    source: IpAddr,
    snapshot: &Snapshot,
    tenant: &Arc<TenantState>,
    content_type: Option<&str>,
    authorization: Option<&str>,
    body: &[u8],
    facts: &mut RequestFacts,
) -> Result<Decided, OAuthError> {
    facts.tenant(&tenant.name);
    if !state.freshness.serves_tokens() {
        return Err(OAuthError::Stale);
    }
    let attempt = attempt(state, source);
    let request = token::parse(content_type, authorization, body)
        .map_err(|error| attempt.refused(snapshot, tenant, None, error))?;
    if request.credentials.assertion.is_some() || matches!(request.grant, GrantKind::JwtBearer(_)) {
        return Ok(Decided::ByAssertion(Box::new(request)));
    }
    let client_id = request.credentials.client_id.as_str();
    attempt.admit(client_id)?;
    let entry = snapshot.client_entry(tenant, client_id);
    let grant = token::decide(
        entry.map(|entry| &entry.client),
        &request,
        state.clock.now(),
    )
    .map_err(|error| attempt.refused(snapshot, tenant, Some(client_id), error))?;
    facts.authenticated(client_id);
    sign(state, snapshot, tenant, entry, &grant, facts).map(Decided::Answer)
}

/// The token endpoint's work for a client assertion or the JWT bearer grant.
async fn issue_by_assertion(
    state: &AppState,
    source: IpAddr,
    host: &TenantHost,
    request: TokenRequest,
    facts: &mut RequestFacts,
) -> Result<TokenResponse, OAuthError> {
    // Owned, as the keys of an assertion may be awaited.
    let snapshot: Arc<Snapshot> = state.registry.current_full();
    let tenant = host.tenant(&snapshot)?;
    let attempt = attempt(state, source);
    let client_id = request.credentials.client_id.as_str();
    attempt.admit(client_id)?;
    let now = state.clock.now();
    let entry = match &request.grant {
        GrantKind::JwtBearer(assertion) => {
            let named = (!client_id.is_empty()).then_some(client_id);
            state
                .assertions
                .authenticate_grant(&snapshot, tenant, named, assertion, now)
                .await
                .map_err(|reason| {
                    let error = TokenError::InvalidGrant { reason };
                    attempt.refused(&snapshot, tenant, named, error)
                })?
        }
        GrantKind::ClientCredentials => {
            let entry = snapshot.client_entry(tenant, client_id);
            let assertion = request.credentials.assertion.as_ref();
            let checked = match assertion {
                Some(assertion) => {
                    state
                        .assertions
                        .authenticate_client(tenant, entry.map(Arc::as_ref), assertion, now)
                        .await
                }
                None => Err(latchkey_protocol::client_auth::AuthFailure::NoCredentials),
            };
            checked.map_err(|reason| {
                attempt.refused(
                    &snapshot,
                    tenant,
                    Some(client_id),
                    request.credentials.rejected(reason),
                )
            })?;
            // `authenticate_client` succeeds only for a client that exists.
            entry.ok_or(OAuthError::Token(TokenError::InvalidClient {
                basic: false,
                reason: latchkey_protocol::client_auth::AuthFailure::UnknownClient,
            }))?
        }
    };
    let grant = token::decide_authenticated(&entry.client, &request, now)
        .map_err(|error| attempt.refused(&snapshot, tenant, Some(client_id), error))?;
    facts.authenticated(&entry.client.client_id);
    sign(state, &snapshot, tenant, Some(entry), &grant, facts)
}

fn attempt(state: &AppState, source: IpAddr) -> Attempt<'_> {
    Attempt {
        endpoint: paths::TOKEN,
        source,
        throttle: &state.throttle,
    }
}

/// The token of a granted request: one reused, or one newly signed.
fn sign(
    state: &AppState,
    snapshot: &Snapshot,
    tenant: &TenantState,
    entry: Option<&Arc<ClientEntry>>,
    grant: &Grant<'_>,
    facts: &mut RequestFacts,
) -> Result<TokenResponse, OAuthError> {
    let signer = tenant
        .keys
        .active
        .as_ref()
        .ok_or(OAuthError::NoSigningKey)?;
    // Token reuse, for apps that opted in: only after authentication and the scope decision,
    // so a reused token is exactly what a new one would grant.
    let is_revoked = |jti: &str| snapshot.is_revoked(&tenant.name, jti);
    let slot = match state.reuse.lookup(grant, entry, signer, is_revoked) {
        Lookup::Hit(reused) => {
            let answer = grant.reused_response(reused.token.to_string(), reused.expires_at);
            facts.token = Some(TokenOutcome::REUSED);
            return Ok(answer);
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
    Ok(grant.response(jwt))
}

/// RFC 6749 §5.1: a token answer is never cached.
fn answer_with(token: &TokenResponse) -> Response {
    response::no_store(response::json_value(StatusCode::OK, token))
}
