//! Admin API errors: `{"error", "error_description"}` bodies with the status each failure
//! deserves. Server-side causes are logged here and never sent.

use crate::http::response;
use axum::http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use latchkey_manage::apps::AppError;
use latchkey_manage::keys::SigningKeyError;
use latchkey_manage::revocations::RevokeError;
use latchkey_manage::tenants::TenantError;
use latchkey_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every admin API error.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ErrorBody {
    /// A stable code: invalid_request, invalid_token, insufficient_scope, access_denied,
    /// not_found, conflict, invalid_settings, temporarily_unavailable or server_error.
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
    fn parts(&self) -> (StatusCode, &'static str, String) {
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
            AppError::PublicClient(..) => AdminError::Conflict(error.to_string()),
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
            | TenantError::TooManyDomains => AdminError::Invalid(error.to_string()),
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
