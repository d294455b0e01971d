//! `POST /oauth2/introspect`: token introspection (RFC 7662). Off the database like the token
//! endpoint: keys, clients and the revocation list are all in the snapshot.

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
use latchkey_protocol::introspection::{self, IntrospectionContext};
use latchkey_protocol::wire::IntrospectionResponse;
use std::net::IpAddr;

pub(crate) async fn introspect(
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
        snapshot,
        tenant,
        request,
        requester,
        now,
    } = presented::authenticate(paths::INTROSPECT, source, state, host, headers, body, facts)
        .await?;
    let answer = match tenant.verify(&request.token) {
        None => IntrospectionResponse::inactive(),
        Some(claims) => introspection::decide(
            &claims,
            &IntrospectionContext {
                issuer: &tenant.issuer,
                now,
                requester: &requester.client,
                owner: snapshot.client(&tenant, &claims.sub),
                revoked: snapshot.is_revoked(&tenant.name, &claims.jti),
            },
        ),
    };
    facts.active = Some(answer.active);
    Ok(response::no_store(response::json_value(
        StatusCode::OK,
        &answer,
    )))
}
