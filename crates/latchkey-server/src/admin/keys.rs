//! `/admin/v1/tenants/{tenant}/keys` and `/revocations`: signing keys and token revocation,
//! the same operations as `latchkey key` and `latchkey token revoke`.

use super::auth::Admin;
use super::bodies::{RevocationBody, RevocationTarget, RotateKeyBody};
use super::error::{AdminError, ErrorBody};
use super::extract::JsonBody;
use crate::http::AppState;
use axum::Json;
use axum::extract::{Path, State};
use latchkey_manage::keys;
use latchkey_manage::views::{KeyList, KeyView, RevocationView, timestamp};
use latchkey_manage::{revocations, tenants};

/// Lists a tenant's signing keys, newest first.
#[utoipa::path(operation_id = "list_keys", get, path = "/admin/v1/tenants/{tenant}/keys", tag = "keys",
    params(("tenant" = String, Path, description = "tenant name")),
    responses(
        (status = 200, body = KeyList),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
pub(crate) async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Path(tenant): Path<String>,
) -> Result<Json<KeyList>, AdminError> {
    admin.may_manage(&tenant)?;
    let store = state.registry.store().as_ref();
    tenants::show(store, &tenant).await?;
    let keys = store.signing_keys(&tenant).await?;
    Ok(Json(KeyList {
        keys: keys.iter().map(KeyView::from).collect(),
    }))
}

/// Signs new tokens with a new key, from now on or, with `in_seconds`, from that many seconds on
/// (the key is published at once, so caches of the JWKS hold it before it signs); the old key
/// stays published until every token it signed has expired.
#[utoipa::path(operation_id = "rotate_key", post, path = "/admin/v1/tenants/{tenant}/keys/rotate", tag = "keys",
    request_body(content = RotateKeyBody, description = "optional"),
    params(("tenant" = String, Path, description = "tenant name")),
    responses(
        (status = 200, description = "the new key: active, or next with its activate_at", body = KeyView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub(crate) async fn rotate(
    State(state): State<AppState>,
    admin: Admin,
    Path(tenant): Path<String>,
    JsonBody(body): JsonBody<RotateKeyBody>,
) -> Result<Json<KeyView>, AdminError> {
    admin.may_manage(&tenant)?;
    let alg = body.algorithm()?;
    let store = state.registry.store().as_ref();
    tenants::show(store, &tenant).await?;
    let kid = keys::rotate(
        store,
        state.registry.master_keys(),
        &tenant,
        alg,
        body.in_seconds.unwrap_or(0),
        admin.actor(),
        state.clock.now(),
    )
    .await?;
    state.serve_own_write().await;
    let key = store
        .signing_keys(&tenant)
        .await?
        .into_iter()
        .find(|key| key.kid == kid)
        .ok_or_else(|| {
            AdminError::Conflict("the new key was replaced at once by another rotation".into())
        })?;
    Ok(Json(KeyView::from(&key)))
}

/// Revokes one token by its `jti`, or every token an app holds by `client_id`. The server that
/// answers refuses the tokens from the next request on, other servers within a poll interval.
#[utoipa::path(operation_id = "revoke_tokens", post, path = "/admin/v1/tenants/{tenant}/revocations", tag = "tokens",
    request_body = RevocationBody,
    params(("tenant" = String, Path, description = "tenant name")),
    responses(
        (status = 200, body = RevocationView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    admin: Admin,
    Path(tenant): Path<String>,
    JsonBody(body): JsonBody<RevocationBody>,
) -> Result<Json<RevocationView>, AdminError> {
    admin.may_manage(&tenant)?;
    let store = state.registry.store().as_ref();
    let now = state.clock.now();
    tenants::show(store, &tenant).await?;
    match body.target()? {
        RevocationTarget::Jti(jti) => {
            let jti = revocations::revoke_jti(store, &tenant, &jti, admin.actor(), now).await?;
            state.serve_own_write().await;
            Ok(Json(RevocationView {
                jti: Some(jti),
                client_id: None,
                tokens_revoked_before: None,
                revoked: true,
            }))
        }
        RevocationTarget::App(client_id) => {
            let app =
                revocations::revoke_app(store, &tenant, &client_id, admin.actor(), now).await?;
            state.serve_own_write().await;
            Ok(Json(RevocationView {
                jti: None,
                client_id: Some(app.client_id),
                tokens_revoked_before: Some(timestamp(now)),
                revoked: true,
            }))
        }
    }
}
