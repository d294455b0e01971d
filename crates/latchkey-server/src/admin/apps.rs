//! `/admin/v1/tenants/{tenant}/apps`: app management, the same operations as `latchkey app`.

use super::auth::Admin;
use super::bodies::{AppPatch, DisableBody, NewAppBody, RotateSecretBody};
use super::error::{AdminError, ErrorBody};
use super::extract::{JsonBody, QueryParams, parsed};
use super::page_size;
use crate::http::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use latchkey_manage::apps::{self, AppChanges};
use latchkey_manage::schema::{AppTypeName, PageLimit};
use latchkey_manage::tenants;
use latchkey_manage::views::{AppPage, AppView, SecretView};
use latchkey_protocol::client::ClientType;
use latchkey_store::AppQuery;
use serde::Deserialize;
use utoipa::IntoParams;

/// Filters and paging of an app listing.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    /// Only apps whose name contains this text (case-insensitive).
    name: Option<String>,
    /// Only apps of this type.
    #[serde(default, rename = "type", deserialize_with = "parsed")]
    #[param(rename = "type", value_type = Option<AppTypeName>, inline)]
    app_type: Option<ClientType>,
    /// Only enabled (true) or disabled (false) apps.
    enabled: Option<bool>,
    /// At most this many apps (default 100).
    #[param(value_type = Option<PageLimit>, inline)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

fn encode_cursor(name: &str, client_id: &str) -> String {
    let json = serde_json::json!([name, client_id]).to_string();
    URL_SAFE_NO_PAD.encode(json)
}

fn decode_cursor(cursor: &str) -> Result<(String, String), AdminError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|json| serde_json::from_slice::<(String, String)>(&json).ok())
        .ok_or_else(|| {
            AdminError::BadRequest("cursor is not a next_cursor this API returned".into())
        })
}

/// Lists a tenant's apps, a page at a time.
#[utoipa::path(operation_id = "list_apps", get, path = "/admin/v1/tenants/{tenant}/apps", tag = "apps",
    params(("tenant" = String, Path, description = "tenant name"), ListQuery),
    responses(
        (status = 200, body = AppPage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub(crate) async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Path(tenant): Path<String>,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<AppPage>, AdminError> {
    admin.may_manage(&tenant)?;
    let store = state.registry.store().as_ref();
    // A listing of a missing tenant is a 404, not an empty list.
    tenants::show(store, &tenant).await?;
    let limit = page_size(query.limit)?;
    let app_query = AppQuery {
        name_contains: query.name,
        app_type: query.app_type,
        enabled: query.enabled,
        after: query.cursor.as_deref().map(decode_cursor).transpose()?,
        // One more than asked tells whether another page follows.
        limit: limit + 1,
    };
    let mut apps = store.list_apps(&tenant, &app_query).await?;
    let more = apps.len() > limit as usize;
    apps.truncate(limit as usize);
    let next_cursor = more
        .then(|| {
            apps.last()
                .map(|app| encode_cursor(&app.name, &app.client_id))
        })
        .flatten();
    Ok(Json(AppPage {
        apps: apps.iter().map(AppView::from).collect(),
        next_cursor,
    }))
}

/// Creates an app. The answer holds its `client_secret`: the only time it is shown (`null` for
/// an app given `jwks` or `jwks_uri`, which authenticates with its keys). An app this server
/// cannot serve (grant types other than client_credentials) is created all the
/// same, and the answer's `warnings` say so.
#[utoipa::path(operation_id = "create_app", post, path = "/admin/v1/tenants/{tenant}/apps", tag = "apps", request_body = NewAppBody,
    params(("tenant" = String, Path, description = "tenant name")),
    responses(
        (status = 201, body = AppView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub(crate) async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Path(tenant): Path<String>,
    JsonBody(body): JsonBody<NewAppBody>,
) -> Result<(StatusCode, Json<AppView>), AdminError> {
    admin.may_manage(&tenant)?;
    let new = body.into_new_app(tenant)?;
    let (app, secret) = apps::create(
        state.registry.store().as_ref(),
        new,
        admin.actor(),
        state.clock.now(),
    )
    .await?;
    state.serve_own_write().await;
    let mut view = AppView::from(&app);
    view.client_secret = Some(secret.map(|secret| secret.expose().to_owned()));
    view.warnings = apps::warnings(&app);
    Ok((StatusCode::CREATED, Json(view)))
}

/// Reads one app.
#[utoipa::path(operation_id = "show_app", get, path = "/admin/v1/tenants/{tenant}/apps/{client_id}", tag = "apps",
    params(("tenant" = String, Path, description = "tenant name"), ("client_id" = String, Path, description = "the app's client id")),
    responses(
        (status = 200, body = AppView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
pub(crate) async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Path((tenant, client_id)): Path<(String, String)>,
) -> Result<Json<AppView>, AdminError> {
    admin.may_manage(&tenant)?;
    let app = apps::show(state.registry.store().as_ref(), &tenant, &client_id).await?;
    Ok(Json(AppView::from(&app)))
}

/// Changes an app's settings; lists given replace the old ones.
#[utoipa::path(operation_id = "update_app", patch, path = "/admin/v1/tenants/{tenant}/apps/{client_id}", tag = "apps", request_body = AppPatch,
    params(("tenant" = String, Path, description = "tenant name"), ("client_id" = String, Path, description = "the app's client id")),
    responses(
        (status = 200, body = AppView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub(crate) async fn update(
    State(state): State<AppState>,
    admin: Admin,
    Path((tenant, client_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<AppPatch>,
) -> Result<Json<AppView>, AdminError> {
    admin.may_manage(&tenant)?;
    let changes = body.into_changes()?;
    change(&state, &admin, &tenant, &client_id, &changes).await
}

async fn change(
    state: &AppState,
    admin: &Admin,
    tenant: &str,
    client_id: &str,
    changes: &AppChanges,
) -> Result<Json<AppView>, AdminError> {
    let app = apps::update(
        state.registry.store().as_ref(),
        tenant,
        client_id,
        changes,
        admin.actor(),
        state.clock.now(),
    )
    .await?;
    state.serve_own_write().await;
    Ok(Json(AppView::from(&app)))
}

/// Lets a disabled app get tokens again.
#[utoipa::path(operation_id = "enable_app", post, path = "/admin/v1/tenants/{tenant}/apps/{client_id}/enable", tag = "apps",
    params(("tenant" = String, Path, description = "tenant name"), ("client_id" = String, Path, description = "the app's client id")),
    responses(
        (status = 200, body = AppView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
pub(crate) async fn enable(
    State(state): State<AppState>,
    admin: Admin,
    Path((tenant, client_id)): Path<(String, String)>,
) -> Result<Json<AppView>, AdminError> {
    admin.may_manage(&tenant)?;
    let changes = AppChanges {
        enabled: Some(true),
        ..AppChanges::default()
    };
    change(&state, &admin, &tenant, &client_id, &changes).await
}

/// Stops an app from getting tokens (its requests get invalid_client). The tokens it holds are
/// refused while it is disabled and valid again once it is enabled, unless `revoke_tokens`.
#[utoipa::path(operation_id = "disable_app", post, path = "/admin/v1/tenants/{tenant}/apps/{client_id}/disable", tag = "apps",
    request_body(content = DisableBody, description = "optional"),
    params(("tenant" = String, Path, description = "tenant name"), ("client_id" = String, Path, description = "the app's client id")),
    responses(
        (status = 200, body = AppView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub(crate) async fn disable(
    State(state): State<AppState>,
    admin: Admin,
    Path((tenant, client_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<DisableBody>,
) -> Result<Json<AppView>, AdminError> {
    admin.may_manage(&tenant)?;
    let app = apps::disable(
        state.registry.store().as_ref(),
        &tenant,
        &client_id,
        body.revoke_tokens,
        admin.actor(),
        state.clock.now(),
    )
    .await?;
    state.serve_own_write().await;
    Ok(Json(AppView::from(&app)))
}

/// Deletes an app and its secrets. Its tokens stay valid until they expire.
#[utoipa::path(operation_id = "delete_app", delete, path = "/admin/v1/tenants/{tenant}/apps/{client_id}", tag = "apps",
    params(("tenant" = String, Path, description = "tenant name"), ("client_id" = String, Path, description = "the app's client id")),
    responses(
        (status = 204, description = "deleted"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path((tenant, client_id)): Path<(String, String)>,
) -> Result<StatusCode, AdminError> {
    admin.may_manage(&tenant)?;
    apps::delete(
        state.registry.store().as_ref(),
        &tenant,
        &client_id,
        admin.actor(),
        state.clock.now(),
    )
    .await?;
    state.serve_own_write().await;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes every secret of an app, which then authenticates only with its keys or a federation:
/// refused (409) when it has neither.
#[utoipa::path(operation_id = "remove_app_secret", delete, path = "/admin/v1/tenants/{tenant}/apps/{client_id}/secret", tag = "apps",
    params(("tenant" = String, Path, description = "tenant name"), ("client_id" = String, Path, description = "the app's client id")),
    responses(
        (status = 200, body = AppView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "the app would have no way to authenticate, or is a public app", body = ErrorBody),
    ))]
pub(crate) async fn remove_secret(
    State(state): State<AppState>,
    admin: Admin,
    Path((tenant, client_id)): Path<(String, String)>,
) -> Result<Json<AppView>, AdminError> {
    admin.may_manage(&tenant)?;
    let changes = AppChanges {
        remove_secret: true,
        ..AppChanges::default()
    };
    change(&state, &admin, &tenant, &client_id, &changes).await
}

/// Gives an app a new secret; the old one stops working at once, or after `grace_seconds`.
#[utoipa::path(operation_id = "rotate_app_secret", post, path = "/admin/v1/tenants/{tenant}/apps/{client_id}/rotate-secret", tag = "apps",
    request_body(content = RotateSecretBody, description = "optional"),
    params(("tenant" = String, Path, description = "tenant name"), ("client_id" = String, Path, description = "the app's client id")),
    responses(
        (status = 200, body = SecretView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "a public app has no secret", body = ErrorBody),
    ))]
pub(crate) async fn rotate_secret(
    State(state): State<AppState>,
    admin: Admin,
    Path((tenant, client_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<RotateSecretBody>,
) -> Result<Json<SecretView>, AdminError> {
    admin.may_manage(&tenant)?;
    let rotated = apps::rotate_secret(
        state.registry.store().as_ref(),
        &tenant,
        &client_id,
        body.grace_seconds,
        admin.actor(),
        state.clock.now(),
    )
    .await?;
    state.serve_own_write().await;
    Ok(Json(SecretView::new(client_id, &rotated)))
}

#[cfg(test)]
mod tests {
    use super::{AdminError, decode_cursor, encode_cursor};

    fn round_trip(name: &str, client_id: &str) {
        let cursor = encode_cursor(name, client_id);
        // Cursors travel in a query string as they are.
        assert!(
            cursor
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'),
            "{cursor}"
        );
        let decoded = decode_cursor(&cursor).unwrap();
        assert_eq!(decoded, (name.to_owned(), client_id.to_owned()));
    }

    fn refused(cursor: &str) {
        match decode_cursor(cursor) {
            Err(AdminError::BadRequest(why)) => {
                assert_eq!(why, "cursor is not a next_cursor this API returned");
            }
            other => panic!("{cursor:?} gave {other:?}"),
        }
    }

    #[test]
    fn a_cursor_is_the_unpadded_base64url_of_the_last_name_and_client_id() {
        assert_eq!(encode_cursor("a", "b"), "WyJhIiwiYiJd");
        assert_eq!(
            decode_cursor("WyJhIiwiYiJd").unwrap(),
            ("a".into(), "b".into())
        );
    }

    #[test]
    fn every_name_survives_the_round_trip() {
        round_trip("billing", "c1a2b3");
        round_trip("", "");
        round_trip("quotes \" and \\ backslashes", "id");
        round_trip("commas, [brackets] and ünïcödé ✓", "id");
        round_trip("line\nbreak", "id");
    }

    #[test]
    fn text_that_is_not_base64url_is_refused() {
        refused("!!!");
        refused("WyJhIiwiYiJd=");
        refused("WyJhIiwiYiJd+/");
        refused("not a cursor");
    }

    #[test]
    fn base64url_of_anything_but_two_strings_is_refused() {
        refused("");
        refused("e30");
        refused("WyJhIl0");
        refused("WyJhIiwxXQ");
        refused("WyJhIiwiYiIsImMiXQ");
        // A cursor the API returned, but padded.
        refused("WyJiaWxsaW5nIFwic3ZjXCIiLCJpZC0xIl0=");
    }
}
