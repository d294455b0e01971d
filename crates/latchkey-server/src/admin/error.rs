//! Admin API errors: `{"error", "error_description"}` bodies with the status each failure
//! deserves, each answer carrying its `ErrorCode` in the response extensions as the OAuth
//! endpoints' do. Server-side causes are logged here and never sent.

use crate::http::{ErrorCode, response};
use axum::http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use latchkey_manage::apps::AppError;
use latchkey_manage::keys::SigningKeyError;
use latchkey_manage::revocations::RevokeError;
use latchkey_manage::tenants::TenantError;
use latchkey_protocol::federation::FederationError;
use latchkey_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every admin API error.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ErrorBody {
    /// A stable code: invalid_request, invalid_token, insufficient_scope, access_denied,
    /// invalid_csrf_token, not_found, conflict, invalid_settings, temporarily_unavailable or
    /// server_error.
    pub(crate) error: &'static str,
    /// What went wrong, for people.
    pub(crate) error_description: String,
}

/// Why an admin request failed.
#[derive(Debug)]
pub(crate) enum AdminError {
    /// 400: the request is malformed (JSON, query, cursor).
    BadRequest(String),
    /// 401: no bearer token, or one that is not an active latchkey token.
    InvalidToken(&'static str),
    /// 403: the token does not carry `latchkey:admin`.
    InsufficientScope,
    /// 403: the admin app's tenant is not the one the request is about.
    OtherTenant,
    /// 403: only administrators of the `default` tenant may do this.
    AllTenantsOnly,
    /// 403: a change authenticated by the console's session cookie without the session's
    /// CSRF token (a page of another site making the browser send it).
    CsrfRefused,
    /// 404.
    NotFound(String),
    /// 409: the request conflicts with what is stored.
    Conflict(String),
    /// 422: the settings break a rule.
    Invalid(String),
    /// 503: the database cannot take the request now (full, read-only, locked, failing); the
    /// text says which, and the same request may succeed later.
    Unavailable(String),
    /// 500: logged, never detailed.
    Server,
}

/// Seconds a client is asked to wait before retrying a 503: long enough not to hammer a
/// database that is out of space, short enough that a lock held past the busy timeout is gone.
const RETRY_AFTER_SECONDS: &str = "5";

impl AdminError {
    pub(crate) fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            AdminError::BadRequest(why) => {
                (StatusCode::BAD_REQUEST, "invalid_request", why.clone())
            }
            AdminError::InvalidToken(why) => {
                (StatusCode::UNAUTHORIZED, "invalid_token", (*why).to_owned())
            }
            AdminError::InsufficientScope => (
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                "the token must be granted the latchkey:admin scope".to_owned(),
            ),
            AdminError::OtherTenant => (
                StatusCode::FORBIDDEN,
                "access_denied",
                "an admin app manages only its own tenant".to_owned(),
            ),
            AdminError::AllTenantsOnly => (
                StatusCode::FORBIDDEN,
                "access_denied",
                "only admin apps of the default tenant may do this".to_owned(),
            ),
            AdminError::CsrfRefused => (
                StatusCode::FORBIDDEN,
                "invalid_csrf_token",
                "a change made with the console's session must carry its X-CSRF-Token header"
                    .to_owned(),
            ),
            AdminError::NotFound(what) => (StatusCode::NOT_FOUND, "not_found", what.clone()),
            AdminError::Conflict(why) => (StatusCode::CONFLICT, "conflict", why.clone()),
            AdminError::Invalid(why) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_settings",
                why.clone(),
            ),
            AdminError::Unavailable(why) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                format!("the database is unavailable: {why}"),
            ),
            AdminError::Server => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "the server could not complete the request".to_owned(),
            ),
        }
    }

    fn server(doing: &str, cause: &dyn std::error::Error) -> AdminError {
        tracing::error!(error = %cause, "admin API: {doing} failed");
        AdminError::Server
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let (status, error, error_description) = self.parts();
        let mut answer = response::json_value(
            status,
            &ErrorBody {
                error,
                error_description,
            },
        );
        if status == StatusCode::SERVICE_UNAVAILABLE {
            answer
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECONDS));
        } else if status == StatusCode::UNAUTHORIZED {
            answer.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static(
                    "Bearer realm=\"latchkey-admin\", error=\"invalid_token\"",
                ),
            );
        } else if error == "insufficient_scope" {
            answer.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static(
                    "Bearer realm=\"latchkey-admin\", error=\"insufficient_scope\", scope=\"latchkey:admin\"",
                ),
            );
        }
        answer.extensions_mut().insert(ErrorCode(error));
        answer
    }
}

impl From<StoreError> for AdminError {
    fn from(error: StoreError) -> AdminError {
        match error {
            StoreError::NotFound(what) => AdminError::NotFound(format!("{what} not found")),
            StoreError::Duplicate(why) | StoreError::InUse(why) => AdminError::Conflict(why),
            StoreError::AlreadyExists(what) | StoreError::ChangedConcurrently(what) => {
                AdminError::Conflict(format!("{what} was changed concurrently; try again"))
            }
            // The cause says nothing secret (which of full, read-only, locked, failing), and
            // tells the operator what to fix.
            StoreError::Unavailable(why) => {
                tracing::error!(error = %why, "admin API: the database is unavailable");
                AdminError::Unavailable(why)
            }
            other => AdminError::server("a store operation", &other),
        }
    }
}

/// `error`'s neutral message with the admin API's words for what to do, if it has any.
fn with_hint(error: &dyn std::error::Error, hint: Option<&str>) -> String {
    match hint {
        Some(hint) => format!("{error}: {hint}"),
        None => error.to_string(),
    }
}

/// What an admin API caller does about a refused tenant change.
fn tenant_hint(error: &TenantError) -> Option<&'static str> {
    match error {
        TenantError::HasApps(_) => Some("delete them first, or delete the tenant with force=true"),
        _ => None,
    }
}

impl From<AppError> for AdminError {
    fn from(error: AppError) -> AdminError {
        match error {
            AppError::Invalid(_) | AppError::BadName => AdminError::Invalid(error.to_string()),
            AppError::NotFound(..) | AppError::TenantNotFound(_) => {
                AdminError::NotFound(error.to_string())
            }
            AppError::PublicClient(..) | AppError::NothingToAuthenticateWith(_) => {
                AdminError::Conflict(error.to_string())
            }
            AppError::UnusableKeys(_) => AdminError::Invalid(error.to_string()),
            AppError::Federation(FederationError::DuplicateName(_)) => {
                AdminError::Conflict(error.to_string())
            }
            AppError::Federation(FederationError::UnknownName(_)) => {
                AdminError::NotFound(error.to_string())
            }
            AppError::Federation(_) => AdminError::Invalid(error.to_string()),
            AppError::Store(store) => store.into(),
        }
    }
}

impl From<TenantError> for AdminError {
    fn from(error: TenantError) -> AdminError {
        match error {
            TenantError::BadName(_)
            | TenantError::BadDomain(_)
            | TenantError::BadIssuer(_)
            | TenantError::NoDomains(_)
            | TenantError::TooManyDomains
            | TenantError::BadAssertionLifetime(_) => AdminError::Invalid(error.to_string()),
            TenantError::NotFound(_) => AdminError::NotFound(error.to_string()),
            TenantError::DefaultIsPermanent
            | TenantError::Duplicate(_)
            | TenantError::HasApps(_) => {
                AdminError::Conflict(with_hint(&error, tenant_hint(&error)))
            }
            TenantError::Store(store) => store.into(),
            TenantError::Key(key) => key.into(),
        }
    }
}

impl From<SigningKeyError> for AdminError {
    fn from(error: SigningKeyError) -> AdminError {
        match error {
            SigningKeyError::Concurrent(_) => AdminError::Conflict(error.to_string()),
            SigningKeyError::TooFarAhead => AdminError::Invalid(error.to_string()),
            SigningKeyError::Store(store) => store.into(),
            other => AdminError::server("a key rotation", &other),
        }
    }
}

impl From<RevokeError> for AdminError {
    fn from(error: RevokeError) -> AdminError {
        match error {
            RevokeError::NotAJti | RevokeError::NotVerified => {
                AdminError::Invalid(error.to_string())
            }
            RevokeError::Store(store) => store.into(),
            RevokeError::Keys(keys) => keys.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    /// Checks the answer's status, its body, and that its extensions carry the body's code;
    /// returns its headers.
    fn check(error: AdminError, status: u16, body: &str) -> HeaderMap {
        let label = format!("{error:?}");
        let answer = error.into_response();
        assert_eq!(answer.status().as_u16(), status, "{label}");
        let sent: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(
            answer.extensions().get::<ErrorCode>().map(|code| code.0),
            sent["error"].as_str(),
            "{label}"
        );
        let headers = answer.headers().clone();
        assert_eq!(response::body_text(answer), body, "{label}");
        headers
    }

    #[test]
    fn a_missing_or_inactive_token_is_401_with_a_bearer_challenge() {
        let headers = check(
            AdminError::InvalidToken("the access token is not active"),
            401,
            r#"{"error":"invalid_token","error_description":"the access token is not active"}"#,
        );
        assert_eq!(
            headers[WWW_AUTHENTICATE],
            "Bearer realm=\"latchkey-admin\", error=\"invalid_token\""
        );
    }

    #[test]
    fn a_token_without_the_admin_scope_is_403_naming_the_scope() {
        let headers = check(
            AdminError::InsufficientScope,
            403,
            r#"{"error":"insufficient_scope","error_description":"the token must be granted the latchkey:admin scope"}"#,
        );
        assert_eq!(
            headers[WWW_AUTHENTICATE],
            "Bearer realm=\"latchkey-admin\", error=\"insufficient_scope\", scope=\"latchkey:admin\""
        );
    }

    #[test]
    fn an_unavailable_database_is_503_with_retry_after() {
        let headers = check(
            AdminError::Unavailable("the disk is full".into()),
            503,
            r#"{"error":"temporarily_unavailable","error_description":"the database is unavailable: the disk is full"}"#,
        );
        assert_eq!(headers[RETRY_AFTER], "5");
        assert_eq!(headers.get(WWW_AUTHENTICATE), None);
    }

    #[test]
    fn other_failures_are_their_status_and_code_alone() {
        for (error, status, body) in [
            (
                AdminError::BadRequest("limit must be 1 to 1000".into()),
                400,
                r#"{"error":"invalid_request","error_description":"limit must be 1 to 1000"}"#,
            ),
            (
                AdminError::OtherTenant,
                403,
                r#"{"error":"access_denied","error_description":"an admin app manages only its own tenant"}"#,
            ),
            (
                AdminError::AllTenantsOnly,
                403,
                r#"{"error":"access_denied","error_description":"only admin apps of the default tenant may do this"}"#,
            ),
            (
                AdminError::NotFound("app x not found".into()),
                404,
                r#"{"error":"not_found","error_description":"app x not found"}"#,
            ),
            (
                AdminError::Conflict("the name is taken".into()),
                409,
                r#"{"error":"conflict","error_description":"the name is taken"}"#,
            ),
            (
                AdminError::Invalid("scopes must not be empty".into()),
                422,
                r#"{"error":"invalid_settings","error_description":"scopes must not be empty"}"#,
            ),
            // The cause was logged; the answer says nothing of it.
            (
                AdminError::Server,
                500,
                r#"{"error":"server_error","error_description":"the server could not complete the request"}"#,
            ),
        ] {
            let headers = check(error, status, body);
            assert_eq!(headers.get(WWW_AUTHENTICATE), None, "{body}");
            assert_eq!(headers.get(RETRY_AFTER), None, "{body}");
        }
    }
}
