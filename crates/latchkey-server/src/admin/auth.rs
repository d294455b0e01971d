//! The admin API's authentication: a bearer token latchkey issued itself, or the same token
//! in the console's session cookie, whose changes must also carry the session's CSRF token
//! (`latchkey_protocol::console`). The token finds its tenant by the key that signed it (any
//! Host works), and the protocol core decides the rest.

use super::error::AdminError;
use crate::http::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use latchkey_manage::audit::Actor;
use latchkey_protocol::admin::{self, AdminDenied, AdminReach};
use latchkey_protocol::console;
use latchkey_protocol::introspection::IntrospectionContext;
use latchkey_store::DEFAULT_TENANT;
use std::sync::Arc;

/// An authenticated administrator: the admin app and how far it reaches.
#[derive(Debug, Clone)]
pub(crate) struct Admin {
    /// The admin app's client_id (the audit trail's actor).
    pub(crate) client_id: String,
    /// The admin app's tenant.
    pub(crate) tenant: Arc<str>,
    /// Whether it manages every tenant or only its own.
    pub(crate) reach: AdminReach,
    /// The access token's id (what signing out of the console revokes).
    pub(crate) jti: String,
    /// When the access token expires (unix seconds).
    pub(crate) expires_at: i64,
}

impl Admin {
    /// Allows the request only if it is about a tenant this admin manages.
    pub(crate) fn may_manage(&self, tenant: &str) -> Result<(), AdminError> {
        match self.reach {
            AdminReach::AllTenants => Ok(()),
            AdminReach::OwnTenant if *self.tenant == *tenant => Ok(()),
            AdminReach::OwnTenant => Err(AdminError::OtherTenant),
        }
    }

    /// Allows the request only for admins of the `default` tenant (creating, changing and
    /// deleting tenants decides which hosts reach whom: that belongs to the operator).
    pub(crate) fn require_all_tenants(&self) -> Result<(), AdminError> {
        match self.reach {
            AdminReach::AllTenants => Ok(()),
            AdminReach::OwnTenant => Err(AdminError::AllTenantsOnly),
        }
    }

    /// The audit trail's name for this admin.
    pub(crate) fn actor(&self) -> Actor<'_> {
        Actor(&self.client_id)
    }
}

fn inactive() -> AdminError {
    AdminError::InvalidToken("the access token is not active")
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("Bearer") && !token.is_empty()).then_some(token)
}

/// The console session's token, when the request carries the session cookie.
pub(crate) fn session_token(parts: &Parts) -> Option<&str> {
    let cookies = parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok());
    console::session_from_cookies(cookies)
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Admin, AdminError> {
        // An Authorization header is sent on purpose, so it wins over an ambient cookie and
        // needs no CSRF token.
        if let Some(token) = bearer(parts) {
            return admin_for_token(state, token);
        }
        let token = session_token(parts).ok_or(AdminError::InvalidToken(
            "send an access token of an app granted latchkey:admin as Authorization: Bearer TOKEN",
        ))?;
        let admin = admin_for_token(state, token)?;
        if console::is_change(parts.method.as_str()) {
            check_csrf(parts, token)?;
        }
        Ok(admin)
    }
}

/// Refuses a request that does not carry the CSRF token of the session `token`.
pub(crate) fn check_csrf(parts: &Parts, token: &str) -> Result<(), AdminError> {
    let presented = parts
        .headers
        .get(console::CSRF_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if console::csrf_matches(token, presented) {
        Ok(())
    } else {
        Err(AdminError::CsrfRefused)
    }
}

/// The administrator an access token makes, if it is an active admin token of this deployment.
pub(crate) fn admin_for_token(state: &AppState, token: &str) -> Result<Admin, AdminError> {
    let snapshot = state.registry.current();
    // Kids are unique across tenants: the token's kid names the one tenant that can
    // verify it (found without verifying against every tenant).
    let kid = latchkey_keys::jws::decode(token)
        .and_then(|jws| jws.header.kid)
        .ok_or_else(inactive)?;
    let tenant = snapshot
        .tenants()
        .find(|tenant| tenant.keys.published(&kid).is_some())
        .ok_or_else(inactive)?;
    let claims = tenant.verify(token).ok_or_else(inactive)?;
    let owner = snapshot.client(tenant, &claims.sub).ok_or_else(inactive)?;
    let context = IntrospectionContext {
        issuer: &tenant.issuer,
        now: state.clock.now(),
        requester: owner,
        owner: Some(owner),
        revoked: snapshot.is_revoked(&tenant.name, &claims.jti),
    };
    match admin::authorize(&claims, &context, *tenant.name == *DEFAULT_TENANT) {
        Ok(reach) => Ok(Admin {
            client_id: claims.sub,
            tenant: Arc::clone(&tenant.name),
            reach,
            jti: claims.jti,
            expires_at: claims.exp,
        }),
        Err(AdminDenied::InactiveToken) => Err(inactive()),
        Err(AdminDenied::InsufficientScope) => Err(AdminError::InsufficientScope),
    }
}

#[cfg(test)]
mod tests {
    use super::bearer;
    use axum::http::Request;
    use axum::http::header::AUTHORIZATION;

    fn check(authorization: Option<&str>, expected: Option<&str>) {
        let mut request = Request::builder();
        if let Some(value) = authorization {
            request = request.header(AUTHORIZATION, value);
        }
        let (parts, ()) = request.body(()).unwrap().into_parts();
        assert_eq!(bearer(&parts), expected, "{authorization:?}");
    }

    #[test]
    fn a_bearer_token_is_read_whatever_the_schemes_case() {
        check(Some("Bearer abc.def.ghi"), Some("abc.def.ghi"));
        check(Some("bearer abc"), Some("abc"));
        check(Some("BEARER abc"), Some("abc"));
        check(Some("Bearer  abc "), Some("abc"));
    }

    #[test]
    fn anything_but_a_bearer_token_is_none() {
        check(None, None);
        check(Some("Basic YWRtaW46c2VjcmV0"), None);
        check(Some("Bearer"), None);
        check(Some("Bearer "), None);
        check(Some("Bearer    "), None);
        check(Some("Bearerabc"), None);
    }
}
