//! The admin API's error answers: each failure with its status and `error` code.

use crate::harness::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn errors_have_their_status_and_code() {
    let admins = admins().await;
    let app = &admins.app;
    let apps = "/admin/v1/tenants/default/apps";

    let malformed = app
        .send(
            app.client
                .post(app.url(apps))
                .bearer_auth(&admins.root)
                .header("content-type", "application/json")
                .body("{\"name\": "),
        )
        .await;
    assert_admin_error(&malformed, 400, "invalid_request");
    admins
        .root_fails(
            Method::POST,
            apps,
            Some(&json!({"name": "x", "scope": ["typo"]})),
            400,
            "invalid_request",
        )
        .await;
    admins
        .root_fails(Method::GET, &format!("{apps}/nope"), None, 404, "not_found")
        .await;
    admins
        .root_fails(
            Method::GET,
            "/admin/v1/tenants/nope/apps",
            None,
            404,
            "not_found",
        )
        .await;
    admins
        .root_fails(
            Method::POST,
            "/admin/v1/tenants",
            Some(&json!({"name": "acme", "domains": ["new.test"]})),
            409,
            "conflict",
        )
        .await;
    admins
        .root_fails(
            Method::POST,
            "/admin/v1/tenants",
            Some(&json!({"name": "other", "domains": [GLOBEX]})),
            409,
            "conflict",
        )
        .await;
    admins
        .root_fails(
            Method::DELETE,
            "/admin/v1/tenants/default",
            None,
            409,
            "conflict",
        )
        .await;
    let public = app.cli_json(&["app", "create", "--name", "spa", "--type", "spa", "--json"]);
    admins
        .root_fails(
            Method::POST,
            &format!("{apps}/{}/rotate-secret", client_id(&public)),
            None,
            409,
            "conflict",
        )
        .await;
    for body in [
        json!({"name": "x", "scopes": ["bad scope"]}),
        json!({"name": "x", "type": "robot"}),
        json!({"name": ""}),
        json!({"name": "x", "token_ttl": 0}),
        json!({"name": "x", "claims": {"sub": "me"}}),
        json!({"name": "x", "audiences": ["not a uri"]}),
    ] {
        admins
            .root_fails(Method::POST, apps, Some(&body), 422, "invalid_settings")
            .await;
    }
    admins
        .root_fails(
            Method::POST,
            "/admin/v1/tenants",
            Some(&json!({"name": "x", "domains": ["x.test:8443"]})),
            422,
            "invalid_settings",
        )
        .await;
}
