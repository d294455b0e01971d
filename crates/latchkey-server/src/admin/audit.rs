//! `/admin/v1/audit`: the audit trail, the same events as `latchkey audit list`.

use super::auth::Admin;
use super::error::{AdminError, ErrorBody};
use super::extract::QueryParams;
use super::page_size;
use crate::http::AppState;
use axum::Json;
use axum::extract::State;
use latchkey_manage::schema::{PageLimit, TenantName};
use latchkey_manage::tenants;
use latchkey_manage::views::{AuditPage, AuditView, parse_time};
use latchkey_protocol::admin::AdminReach;
use latchkey_store::AuditQuery;
use serde::Deserialize;
use utoipa::IntoParams;

/// Filters and paging of the audit trail.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditListQuery {
    /// Only events at or after this time: RFC 3339 or unix seconds.
    since: Option<String>,
    /// Only events of this tenant (an admin of another tenant than `default` sees only its own).
    #[param(value_type = Option<TenantName>, inline)]
    tenant: Option<String>,
    /// The `next_after` of the previous page.
    after: Option<i64>,
    /// At most this many events (default 100).
    #[param(value_type = Option<PageLimit>, inline)]
    limit: Option<u32>,
}

fn parse_since(text: &str) -> Result<i64, AdminError> {
    parse_time(text).ok_or_else(|| {
        AdminError::BadRequest("since must be an RFC 3339 time or unix seconds".into())
    })
}

/// Lists audit events, oldest first.
#[utoipa::path(operation_id = "list_audit_events", get, path = "/admin/v1/audit", tag = "audit",
    params(AuditListQuery),
    responses(
        (status = 200, body = AuditPage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ))]
pub(crate) async fn list(
    State(state): State<AppState>,
    admin: Admin,
    QueryParams(query): QueryParams<AuditListQuery>,
) -> Result<Json<AuditPage>, AdminError> {
    if let Some(tenant) = &query.tenant {
        tenants::check_name(tenant).map_err(|error| AdminError::BadRequest(error.to_string()))?;
    }
    let tenant = match (admin.reach, query.tenant) {
        (AdminReach::AllTenants, tenant) => tenant,
        (AdminReach::OwnTenant, Some(tenant)) => {
            admin.may_manage(&tenant)?;
            Some(tenant)
        }
        (AdminReach::OwnTenant, None) => Some(admin.tenant.to_string()),
    };
    let limit = page_size(query.limit)?;
    let audit_query = AuditQuery {
        since: query.since.as_deref().map(parse_since).transpose()?,
        tenant,
        after_id: query.after,
        latest: false,
        limit: limit + 1,
        ..AuditQuery::default()
    };
    let mut events = state.registry.store().audit_events(&audit_query).await?;
    let more = events.len() > limit as usize;
    events.truncate(limit as usize);
    Ok(Json(AuditPage {
        next_after: more.then(|| events.last().map(|event| event.id)).flatten(),
        events: events.iter().map(AuditView::from).collect(),
    }))
}
