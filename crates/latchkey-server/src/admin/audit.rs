//! `/admin/v1/audit`: the audit trail, the same events as `latchkey audit list`, oldest first or
//! newest first, each order paged by its own cursor.

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
use latchkey_store::{AuditOrder, AuditQuery};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// Filters and paging of the audit trail.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditListQuery {
    /// Only events at or after this time: RFC 3339 or unix seconds.
    since: Option<String>,
    /// Only events at or before this time: RFC 3339 or unix seconds, not before `since`.
    until: Option<String>,
    /// Only events of this tenant (an admin of another tenant than `default` sees only its own).
    #[param(value_type = Option<TenantName>, inline)]
    tenant: Option<String>,
    /// Only events of this action, matched exactly: such as `app.create`, `app.update`,
    /// `app.rotate_secret`, `app.federated_login`, `tenant.create`, `key.rotate`,
    /// `token.revoke` or `token.revoke_all` (the `action` of the events listed).
    action: Option<String>,
    /// `oldest` (the default) lists oldest first and pages with `after`; `newest` lists newest
    /// first and pages with `before`.
    #[param(inline)]
    order: Option<ListOrder>,
    /// The `next_after` of the previous page (oldest first only).
    after: Option<i64>,
    /// The `next_before` of the previous page (with `order=newest` only).
    before: Option<i64>,
    /// At most this many events (default 100).
    #[param(value_type = Option<PageLimit>, inline)]
    limit: Option<u32>,
}

/// The order of an audit listing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum ListOrder {
    /// Oldest first.
    #[default]
    Oldest,
    /// Newest first.
    Newest,
}

fn parse_moment(name: &str, text: &str) -> Result<i64, AdminError> {
    parse_time(text).ok_or_else(|| {
        AdminError::BadRequest(format!("{name} must be an RFC 3339 time or unix seconds"))
    })
}

/// The store query of a listing of `tenant`'s events (every tenant's for `None`), asking one
/// event more than a page to learn whether another page follows; refuses a range that ends
/// before it starts and a cursor of the other order.
fn store_query(
    query: AuditListQuery,
    tenant: Option<String>,
    limit: u32,
) -> Result<AuditQuery, AdminError> {
    let since = query
        .since
        .as_deref()
        .map(|text| parse_moment("since", text))
        .transpose()?;
    let until = query
        .until
        .as_deref()
        .map(|text| parse_moment("until", text))
        .transpose()?;
    if let (Some(since), Some(until)) = (since, until)
        && until < since
    {
        return Err(AdminError::BadRequest(
            "until is before since: the range must end at or after its start".into(),
        ));
    }
    let order = match query.order.unwrap_or_default() {
        ListOrder::Oldest => AuditOrder::Oldest,
        ListOrder::Newest => AuditOrder::Newest,
    };
    let newest_first = order == AuditOrder::Newest;
    if newest_first && query.after.is_some() {
        return Err(AdminError::BadRequest(
            "after pages oldest first: with order=newest, pass the previous page's next_before as before".into(),
        ));
    }
    if !newest_first && query.before.is_some() {
        return Err(AdminError::BadRequest(
            "before pages newest first: add order=newest, or pass the previous page's next_after as after".into(),
        ));
    }
    Ok(AuditQuery {
        since,
        tenant,
        after_id: query.after,
        order,
        limit: limit + 1,
        action: query.action,
        until,
        before_id: query.before,
    })
}

/// Lists audit events, oldest first unless `order=newest`.
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
    let tenant = match (admin.reach, query.tenant.clone()) {
        (AdminReach::AllTenants, tenant) => tenant,
        (AdminReach::OwnTenant, Some(tenant)) => {
            admin.may_manage(&tenant)?;
            Some(tenant)
        }
        (AdminReach::OwnTenant, None) => Some(admin.tenant.to_string()),
    };
    let limit = page_size(query.limit)?;
    let audit_query = store_query(query, tenant, limit)?;
    let mut events = state.registry.store().audit_events(&audit_query).await?;
    let more = events.len() > limit as usize;
    events.truncate(limit as usize);
    // The last event listed is the cursor of the next page, in the order's own parameter.
    let next = more.then(|| events.last().map(|event| event.id)).flatten();
    let (next_after, next_before) = if audit_query.order == AuditOrder::Newest {
        (None, next)
    } else {
        (next, None)
    };
    Ok(Json(AuditPage {
        next_after,
        next_before,
        events: events.iter().map(AuditView::from).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The query parameters of `text`, read as the handler reads them.
    fn query(text: &str) -> AuditListQuery {
        let uri = format!("/admin/v1/audit?{text}").parse().unwrap();
        axum::extract::Query::try_from_uri(&uri).unwrap().0
    }

    /// The store query of `text` for every tenant, a page of 10.
    fn check(text: &str) -> Result<AuditQuery, String> {
        store_query(query(text), None, 10).map_err(|error| match error {
            AdminError::BadRequest(why) => why,
            other => panic!("{text}: {other:?}"),
        })
    }

    #[test]
    fn no_parameter_asks_the_oldest_page_and_one_event_more() {
        assert_eq!(
            check("").unwrap(),
            AuditQuery {
                limit: 11,
                ..AuditQuery::default()
            }
        );
    }

    #[test]
    fn order_newest_with_before_asks_newest_first_below_the_cursor() {
        let asked = check("order=newest&before=42&action=app.create").unwrap();
        assert_eq!(asked.order, AuditOrder::Newest);
        assert_eq!(asked.before_id, Some(42));
        assert_eq!(asked.after_id, None);
        assert_eq!(asked.action.as_deref(), Some("app.create"));
    }

    #[test]
    fn an_order_other_than_oldest_or_newest_is_not_read() {
        let uri = "/admin/v1/audit?order=latest".parse().unwrap();
        assert!(axum::extract::Query::<AuditListQuery>::try_from_uri(&uri).is_err());
    }

    #[test]
    fn order_oldest_is_the_default_order() {
        assert_eq!(check("order=oldest&after=7"), check("after=7"));
        assert_eq!(check("order=oldest").unwrap().order, AuditOrder::Oldest);
    }

    #[test]
    fn until_and_since_read_rfc_3339_or_unix_seconds() {
        let asked = check("since=1700000000&until=2023-11-14T22:13:21Z").unwrap();
        assert_eq!(
            (asked.since, asked.until),
            (Some(1_700_000_000), Some(1_700_000_001))
        );
        assert_eq!(check("since=5&until=5").unwrap().until, Some(5));
    }

    #[test]
    fn until_before_since_is_refused() {
        assert_eq!(
            check("since=200&until=199").unwrap_err(),
            "until is before since: the range must end at or after its start"
        );
    }

    #[test]
    fn until_that_is_not_a_time_is_refused_by_its_name() {
        assert_eq!(
            check("until=tomorrow").unwrap_err(),
            "until must be an RFC 3339 time or unix seconds"
        );
    }

    #[test]
    fn after_with_order_newest_is_refused_naming_before() {
        let why = check("order=newest&after=3").unwrap_err();
        assert!(why.contains("next_before as before"), "{why}");
    }

    #[test]
    fn before_without_order_newest_is_refused_naming_both_ways() {
        for text in ["before=3", "order=oldest&before=3"] {
            let why = check(text).unwrap_err();
            assert!(
                why.contains("order=newest") && why.contains("next_after as after"),
                "{text}: {why}"
            );
        }
    }
}
