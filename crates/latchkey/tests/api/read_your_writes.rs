//! The server that acknowledges a change serves it on the very next request: every admin API
//! write and `/oauth2/revoke` apply the change to the answering node's snapshot before the
//! 2xx. The server here never polls the change log during a test, so nothing but that can
//! make the next request see the change, and no request waits or retries.

use crate::harness::*;
use reqwest::Method;
use serde_json::{Value, json};

const ACME: &str = "acme.test";

/// A server that does not poll, and a token of an admin of every tenant.
struct Node {
    app: TestApp,
    root: String,
}

async fn node() -> Node {
    let (app, root) = spawn_unpolled_app_with_admin().await;
    Node { app, root }
}

impl Node {
    async fn admin(&self, method: Method, path: &str, body: Option<&Value>, status: u16) -> Value {
        self.app
            .admin_ok(method, path, &self.root, body, status)
            .await
    }

    async fn new_app(&self, name: &str) -> Value {
        let body = json!({"name": name, "scopes": ["read"]});
        self.admin(
            Method::POST,
            "/admin/v1/tenants/default/apps",
            Some(&body),
            201,
        )
        .await
    }
}

fn app_path(app: &Value) -> String {
    format!("/admin/v1/tenants/default/apps/{}", client_id(app))
}

#[tokio::test]
async fn an_app_created_through_the_admin_api_gets_a_token_on_the_very_next_request() {
    let node = node().await;
    for name in ["first", "second", "third"] {
        let created = node.new_app(name).await;
        node.app.token_for(&created, None).await.access_token();
    }
}

#[tokio::test]
async fn an_app_change_through_the_admin_api_holds_on_the_very_next_request() {
    let node = node().await;
    let created = node.new_app("svc").await;
    let path = app_path(&created);

    let patch = json!({"scopes": ["read", "write"]});
    node.admin(Method::PATCH, &path, Some(&patch), 200).await;
    node.app
        .token_for(&created, Some("write"))
        .await
        .access_token();

    node.admin(Method::POST, &format!("{path}/disable"), None, 200)
        .await;
    node.app
        .token_for(&created, None)
        .await
        .assert_error(401, "invalid_client");

    node.admin(Method::POST, &format!("{path}/enable"), None, 200)
        .await;
    node.app.token_for(&created, None).await.access_token();

    node.admin(Method::DELETE, &path, None, 204).await;
    node.app
        .token_for(&created, None)
        .await
        .assert_error(401, "invalid_client");
}

#[tokio::test]
async fn a_secret_rotated_through_the_admin_api_works_and_the_old_one_fails_on_the_very_next_request()
 {
    let node = node().await;
    let created = node.new_app("svc").await;
    let rotated = node
        .admin(
            Method::POST,
            &format!("{}/rotate-secret", app_path(&created)),
            None,
            200,
        )
        .await;

    node.app.token_for(&rotated, None).await.access_token();
    node.app
        .token_for(&created, None)
        .await
        .assert_error(401, "invalid_client");
}

#[tokio::test]
async fn a_token_revoked_through_the_admin_api_or_oauth2_revoke_introspects_inactive_on_the_very_next_request()
 {
    let node = node().await;
    let created = node.new_app("svc").await;
    let revocations = "/admin/v1/tenants/default/revocations";

    // Revoked by the app itself (first: the app-wide revocation below covers every token).
    let own = node.app.token_for(&created, None).await.access_token();
    assert_eq!(node.app.introspect(&created, &own).await["active"], true);
    let reply = node
        .app
        .post_revoke(client_id(&created), client_secret(&created), &own)
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{reply:?}");
    assert_eq!(
        node.app.introspect(&created, &own).await,
        json!({"active": false})
    );

    let by_jti = node.app.token_for(&created, None).await.access_token();
    let (_, claims) = jwt_parts(&by_jti);
    assert_eq!(node.app.introspect(&created, &by_jti).await["active"], true);
    let body = json!({"jti": claims["jti"]});
    node.admin(Method::POST, revocations, Some(&body), 200)
        .await;
    assert_eq!(
        node.app.introspect(&created, &by_jti).await,
        json!({"active": false})
    );

    let by_app = node.app.token_for(&created, None).await.access_token();
    let body = json!({"client_id": client_id(&created)});
    node.admin(Method::POST, revocations, Some(&body), 200)
        .await;
    assert_eq!(
        node.app.introspect(&created, &by_app).await,
        json!({"active": false})
    );
}

#[tokio::test]
async fn a_tenant_created_changed_or_deleted_through_the_admin_api_is_served_so_on_the_very_next_request()
 {
    let node = node().await;
    let body = json!({"name": "acme", "domains": [ACME]});
    node.admin(Method::POST, "/admin/v1/tenants", Some(&body), 201)
        .await;
    assert_eq!(
        node.app.at(ACME).issuer().await,
        Ok(format!("https://{ACME}"))
    );
    let body = json!({"name": "svc", "scopes": ["read"]});
    let acme_app = node
        .admin(
            Method::POST,
            "/admin/v1/tenants/acme/apps",
            Some(&body),
            201,
        )
        .await;
    node.app
        .at(ACME)
        .token_for(&acme_app, None)
        .await
        .access_token();

    let patch = json!({"issuer": "https://login.acme.test"});
    node.admin(Method::PATCH, "/admin/v1/tenants/acme", Some(&patch), 200)
        .await;
    assert_eq!(
        node.app.at(ACME).issuer().await,
        Ok("https://login.acme.test".to_owned())
    );

    node.admin(
        Method::DELETE,
        "/admin/v1/tenants/acme?force=true",
        None,
        204,
    )
    .await;
    assert_eq!(node.app.at(ACME).issuer().await, Ok(ISSUER.to_owned()));
}

#[tokio::test]
async fn a_key_rotated_through_the_admin_api_signs_the_very_next_token() {
    let node = node().await;
    let created = node.new_app("svc").await;
    let before = node.app.token_for(&created, None).await.access_token();
    let key = node
        .admin(
            Method::POST,
            "/admin/v1/tenants/default/keys/rotate",
            None,
            200,
        )
        .await;
    assert_ne!(key["kid"].as_str(), Some(jwt_kid(&before).as_str()));

    let after = node.app.token_for(&created, None).await.access_token();
    assert_eq!(key["kid"].as_str(), Some(jwt_kid(&after).as_str()));
}

#[tokio::test]
async fn a_rotation_scheduled_through_the_admin_api_publishes_its_key_on_the_very_next_request() {
    let node = node().await;
    let created = node.new_app("svc").await;
    let before = jwt_kid(&node.app.token_for(&created, None).await.access_token());
    let rotate = "/admin/v1/tenants/default/keys/rotate";

    let body = json!({"in_seconds": 600});
    let key = node.admin(Method::POST, rotate, Some(&body), 200).await;
    assert_eq!(key["status"], "next");
    let at = unix_seconds(&key["activate_at"]);
    assert!((at - unix_now() - 600).abs() <= 2, "{key}");
    let kid = key["kid"].as_str().expect("a kid").to_owned();

    assert!(node.app.jwks_kids().await.contains(&kid));
    let after = jwt_kid(&node.app.token_for(&created, None).await.access_token());
    assert_eq!(
        after, before,
        "the scheduled key does not sign before its instant"
    );

    let too_far = json!({"in_seconds": 366 * 86_400});
    let reply = node
        .app
        .admin_call(Method::POST, rotate, Some(&node.root), Some(&too_far))
        .await;
    assert_eq!(reply.status.as_u16(), 422, "{reply:?}");
}
