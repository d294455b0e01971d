//! `/admin/v1/tenants/{tenant}/apps/{client_id}/federations`: the external issuers an app
//! trusts (workload identity federation), the same operations as `latchkey app federation`.

use super::auth::Admin;
use super::bodies::NewFederationBody;
use super::error::{AdminError, ErrorBody};
use super::extract::JsonBody;
use crate::http::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use latchkey_manage::apps;
use latchkey_manage::federations;
use latchkey_manage::views::FederationList;

/// Lists an app's federations.
#[utoipa::path(operation_id = "list_app_federations", get, path = "/admin/v1/tenants/{tenant}/apps/{client_id}/federations", tag = "apps",
    params(("tenant" = String, Path, description = "tenant name"), ("client_id" = String, Path, description = "the app's client id")),
    responses(
        (status = 200, body = FederationList),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
pub(crate) async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Path((tenant, client_id)): Path<(String, String)>,
) -> Result<Json<FederationList>, AdminError> {
    admin.may_manage(&tenant)?;
    let app = apps::show(state.registry.store().as_ref(), &tenant, &client_id).await?;
    Ok(Json(FederationList::from(&app)))
}

/// Adds a federation to an app: identity tokens from `issuer` whose subject and claims match
/// are the app's from then on. The answer lists the app's federations.
#[utoipa::path(operation_id = "add_app_federation", post, path = "/admin/v1/tenants/{tenant}/apps/{client_id}/federations", tag = "apps", request_body = NewFederationBody,
    params(("tenant" = String, Path, description = "tenant name"), ("client_id" = String, Path, description = "the app's client id")),
    responses(
        (status = 201, body = FederationList),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "the app already has a federation of that name", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub(crate) async fn add(
    State(state): State<AppState>,
    admin: Admin,
    Path((tenant, client_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<NewFederationBody>,
) -> Result<(StatusCode, Json<FederationList>), AdminError> {
    admin.may_manage(&tenant)?;
    let app = federations::add(
        state.registry.store().as_ref(),
        &tenant,
        &client_id,
        body.into_rule(),
        admin.actor(),
        state.clock.now(),
    )
    .await?;
    state.serve_own_write().await;
    Ok((StatusCode::CREATED, Json(FederationList::from(&app))))
}

/// Removes one of an app's federations: its issuer's tokens are no longer accepted.
#[utoipa::path(operation_id = "remove_app_federation", delete, path = "/admin/v1/tenants/{tenant}/apps/{client_id}/federations/{name}", tag = "apps",
    params(
        ("tenant" = String, Path, description = "tenant name"),
        ("client_id" = String, Path, description = "the app's client id"),
        ("name" = String, Path, description = "the federation's name"),
    ),
    responses(
        (status = 204, description = "removed"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
pub(crate) async fn remove(
    State(state): State<AppState>,
    admin: Admin,
    Path((tenant, client_id, name)): Path<(String, String, String)>,
) -> Result<StatusCode, AdminError> {
    admin.may_manage(&tenant)?;
    federations::remove(
        state.registry.store().as_ref(),
        &tenant,
        &client_id,
        &name,
        admin.actor(),
        state.clock.now(),
    )
    .await?;
    state.serve_own_write().await;
    Ok(StatusCode::NO_CONTENT)
}
