//! `/admin/v1/tenants`: tenants. Listing and reading reach the admin's own tenant (or all, for
//! admins of `default`); creating, changing and deleting tenants is for admins of `default`.

use super::auth::Admin;
use super::bodies::{NewTenantBody, TenantPatch};
use super::error::{AdminError, ErrorBody};
use super::extract::{JsonBody, QueryParams};
use crate::http::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use latchkey_manage::tenants::{self, NewTenant, TenantChanges};
use latchkey_manage::views::{TenantList, TenantView};
use serde::Deserialize;
use utoipa::IntoParams;

/// Options of a tenant deletion.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeleteQuery {
    /// Delete the tenant's apps, signing keys and revocations too (otherwise a tenant with
    /// apps is refused with 409).
    #[serde(default)]
    force: bool,
}

/// Lists the tenants this admin manages.
#[utoipa::path(operation_id = "list_tenants", get, path = "/admin/v1/tenants", tag = "tenants",
    responses(
        (status = 200, body = TenantList),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ))]
pub(crate) async fn list(
    State(state): State<AppState>,
    admin: Admin,
) -> Result<Json<TenantList>, AdminError> {
    let tenants = state.registry.store().tenants().await?;
    let tenants = tenants
        .iter()
        .filter(|tenant| admin.may_manage(&tenant.name).is_ok())
        .map(TenantView::from)
        .collect();
    Ok(Json(TenantList { tenants }))
}

/// Creates a tenant (admins of `default` only), with its first signing key. The server that
/// answers serves its domains from the next request on, other servers within a second.
#[utoipa::path(operation_id = "create_tenant", post, path = "/admin/v1/tenants", tag = "tenants", request_body = NewTenantBody,
    responses(
        (status = 201, body = TenantView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "the name or a domain is taken", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub(crate) async fn create(
    State(state): State<AppState>,
    admin: Admin,
    JsonBody(body): JsonBody<NewTenantBody>,
) -> Result<(StatusCode, Json<TenantView>), AdminError> {
    admin.require_all_tenants()?;
    let new = NewTenant {
        name: body.name,
        domains: body.domains,
        issuer: body.issuer,
        token_profile: body.token_profile,
        publish_scopes: body.publish_scopes,
        max_assertion_lifetime: body.max_assertion_lifetime,
    };
    let tenant = tenants::create(
        state.registry.store().as_ref(),
        state.registry.master_keys(),
        new,
        admin.actor(),
        state.clock.now(),
    )
    .await?;
    state.serve_own_write().await;
    Ok((StatusCode::CREATED, Json(TenantView::from(&tenant))))
}

/// Reads one tenant.
#[utoipa::path(operation_id = "show_tenant", get, path = "/admin/v1/tenants/{tenant}", tag = "tenants",
    params(("tenant" = String, Path, description = "tenant name")),
    responses(
        (status = 200, body = TenantView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
pub(crate) async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Path(tenant): Path<String>,
) -> Result<Json<TenantView>, AdminError> {
    admin.may_manage(&tenant)?;
    let tenant = tenants::show(state.registry.store().as_ref(), &tenant).await?;
    Ok(Json(TenantView::from(&tenant)))
}

/// Changes a tenant's domains, issuer or settings (admins of `default` only).
#[utoipa::path(operation_id = "update_tenant", patch, path = "/admin/v1/tenants/{tenant}", tag = "tenants", request_body = TenantPatch,
    params(("tenant" = String, Path, description = "tenant name")),
    responses(
        (status = 200, body = TenantView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub(crate) async fn update(
    State(state): State<AppState>,
    admin: Admin,
    Path(tenant): Path<String>,
    JsonBody(body): JsonBody<TenantPatch>,
) -> Result<Json<TenantView>, AdminError> {
    admin.require_all_tenants()?;
    let changes = TenantChanges {
        domains: body.domains,
        issuer: body.issuer,
        token_profile: body.token_profile,
        publish_scopes: body.publish_scopes,
        max_assertion_lifetime: body.max_assertion_lifetime,
    };
    let tenant = tenants::update(
        state.registry.store().as_ref(),
        &tenant,
        &changes,
        admin.actor(),
        state.clock.now(),
    )
    .await?;
    state.serve_own_write().await;
    Ok(Json(TenantView::from(&tenant)))
}

/// Deletes a tenant (admins of `default` only); refused while it has apps unless `force`.
#[utoipa::path(operation_id = "delete_tenant", delete, path = "/admin/v1/tenants/{tenant}", tag = "tenants",
    params(("tenant" = String, Path, description = "tenant name"), DeleteQuery),
    responses(
        (status = 204, description = "deleted"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "the tenant has apps, or is `default`", body = ErrorBody),
    ))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path(tenant): Path<String>,
    QueryParams(query): QueryParams<DeleteQuery>,
) -> Result<StatusCode, AdminError> {
    admin.require_all_tenants()?;
    tenants::delete(
        state.registry.store().as_ref(),
        &tenant,
        query.force,
        admin.actor(),
        state.clock.now(),
    )
    .await?;
    state.serve_own_write().await;
    Ok(StatusCode::NO_CONTENT)
}
