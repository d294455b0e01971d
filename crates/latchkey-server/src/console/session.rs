//! `/console/session`: signing in to the console with an admin app's client_id and secret,
//! reading the session back (after a reload), and signing out.
//!
//! Signing in asks the token endpoint's own code for a `latchkey:admin` token, so a sign-in is
//! throttled, refused and logged exactly as a client login is; the token goes into the session
//! cookie (`latchkey_protocol::console`) and lives as long as it does. Signing out revokes it,
//! on every node, as any revoked token. Both are in the audit trail (`console.sign_in`, and
//! the revocation).

use crate::admin::auth::{self, Admin};
use crate::admin::error::AdminError;
use crate::admin::extract::read_json;
use crate::http::error::OAuthError;
use crate::http::source::{ArrivedOverTls, Source};
use crate::http::{AppState, response, token};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::header::{CONTENT_TYPE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use latchkey_manage::audit;
use latchkey_protocol::TokenError;
use latchkey_protocol::admin::AdminReach;
use latchkey_protocol::console;
use latchkey_store::DEFAULT_TENANT;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

/// The audit trail's action of a console sign-in.
pub(crate) const SIGN_IN_ACTION: &str = "console.sign_in";

/// The sign-in form.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SignIn {
    client_id: String,
    client_secret: String,
    /// The admin app's tenant; `default` when left out.
    #[serde(default)]
    tenant: Option<String>,
}

/// What the console's script knows of its session (never the token itself).
#[derive(Serialize)]
struct SessionView {
    client_id: String,
    tenant: String,
    /// `all_tenants` for an admin of `default`, else `own_tenant`.
    reach: &'static str,
    /// What every change must carry as `X-CSRF-Token`.
    csrf_token: String,
    /// When the session ends (unix seconds).
    expires_at: i64,
    /// Seconds until then.
    expires_in: i64,
}

impl SessionView {
    fn of(admin: &Admin, token: &str, now: i64) -> SessionView {
        SessionView {
            client_id: admin.client_id.clone(),
            tenant: admin.tenant.to_string(),
            reach: match admin.reach {
                AdminReach::AllTenants => "all_tenants",
                AdminReach::OwnTenant => "own_tenant",
            },
            csrf_token: console::csrf_token(token),
            expires_at: admin.expires_at,
            expires_in: (admin.expires_at - now).max(0),
        }
    }
}

/// Whether the browser reached the console over HTTPS: on a TLS connection, or through a
/// trusted proxy that says so. Then the cookie is `Secure`.
pub(super) struct Https(bool);

impl FromRequestParts<AppState> for Https {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Https, Infallible> {
        if parts.extensions.get::<ArrivedOverTls>().is_some() {
            return Ok(Https(true));
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip());
        let forwarded_https =
            peer.is_some_and(|peer| state.throttle.proxies.forwarded_https(peer, &parts.headers));
        Ok(Https(forwarded_https))
    }
}

/// `POST /console/session`: signs in. Only a JSON body is taken, which a page of another site
/// cannot send without the browser asking first (and being refused), so no site can sign a
/// visitor in to a session of its choosing.
pub(super) async fn sign_in(
    State(state): State<AppState>,
    Source(source): Source,
    Https(https): Https,
    parts: Parts,
    body: Bytes,
) -> Response {
    let is_json = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|kind| kind.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return AdminError::BadRequest("send the sign-in form as application/json".into())
            .into_response();
    }
    let form: SignIn = match read_json(&body) {
        Ok(form) => form,
        Err(error) => return error.into_response(),
    };
    let tenant = form.tenant.as_deref().unwrap_or(DEFAULT_TENANT);
    let issued =
        token::issue_for_console(&state, source, tenant, &form.client_id, &form.client_secret);
    let token = match issued {
        Ok(token) => token,
        Err(OAuthError::Token(TokenError::InvalidScope(_) | TokenError::UnauthorizedClient(_))) => {
            return not_an_admin_app();
        }
        Err(error) => return error.into_response(),
    };
    let access_token = token.access_token;
    let admin = match auth::admin_for_token(&state, &access_token) {
        Ok(admin) => admin,
        Err(error) => return error.into_response(),
    };
    let now = state.clock.now();
    if let Err(error) = record_sign_in(&state, &admin, source, now).await {
        return error.into_response();
    }
    let view = SessionView::of(&admin, &access_token, now);
    let cookie = console::session_cookie(&access_token, token.expires_in, https);
    with_cookie(response::json_value(StatusCode::OK, &view), &cookie)
}

/// Adds the sign-in to the audit trail: who opened a console session, from where. A session
/// the trail cannot record is not opened (the console could change nothing then anyway: every
/// change is a write).
async fn record_sign_in(
    state: &AppState,
    admin: &Admin,
    source: IpAddr,
    now: i64,
) -> Result<(), AdminError> {
    let event = audit::event(
        admin.actor(),
        &admin.tenant,
        SIGN_IN_ACTION,
        &admin.client_id,
        json!({ "source": source.to_string() }),
        now,
    );
    Ok(state.registry.store().record_audit(&event).await?)
}

/// The app exists and its secret is right, but it may not administer.
fn not_an_admin_app() -> Response {
    let mut answer = AdminError::InsufficientScope.into_response();
    answer
        .headers_mut()
        .remove(axum::http::header::WWW_AUTHENTICATE);
    answer
}

/// `GET /console/session`: the live session of the cookie, or 401.
pub(super) async fn show(State(state): State<AppState>, parts: Parts) -> Response {
    let Some(token) = auth::session_token(&parts) else {
        return no_session().into_response();
    };
    match auth::admin_for_token(&state, token) {
        Ok(admin) => {
            let view = SessionView::of(&admin, token, state.clock.now());
            response::no_store(response::json_value(StatusCode::OK, &view))
        }
        Err(error) => error.into_response(),
    }
}

/// `DELETE /console/session`: signs out, revoking the session's token so that it works
/// nowhere any more, and clears the cookie. Signing out of a session that already ended only
/// clears the cookie.
pub(super) async fn sign_out(
    State(state): State<AppState>,
    Https(https): Https,
    parts: Parts,
) -> Response {
    let cleared = console::cleared_cookie(https);
    let Some(token) = auth::session_token(&parts) else {
        return with_cookie(StatusCode::NO_CONTENT.into_response(), &cleared);
    };
    let Ok(admin) = auth::admin_for_token(&state, token) else {
        return with_cookie(StatusCode::NO_CONTENT.into_response(), &cleared);
    };
    if let Err(error) = auth::check_csrf(&parts, token) {
        return error.into_response();
    }
    let store = state.registry.store().as_ref();
    let now = state.clock.now();
    let revoked = latchkey_manage::revocations::revoke_jti(
        store,
        &admin.tenant,
        &admin.jti,
        admin.actor(),
        now,
    )
    .await;
    if let Err(error) = revoked {
        return AdminError::from(error).into_response();
    }
    state.serve_own_write().await;
    with_cookie(StatusCode::NO_CONTENT.into_response(), &cleared)
}

fn no_session() -> AdminError {
    AdminError::InvalidToken("no console session: sign in")
}

fn with_cookie(mut answer: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        answer.headers_mut().insert(SET_COOKIE, value);
    }
    response::no_store(answer)
}
