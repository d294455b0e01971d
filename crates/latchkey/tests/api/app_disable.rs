//! Disabling an app: its tokens are refused while it is disabled and valid again once it is
//! enabled, unless it was disabled with `--revoke-tokens` (admin API: `revoke_tokens`), which
//! revokes them for good while new tokens work after enabling.

use crate::harness::*;
use latchkey_manage::clock::{Clock, ManualClock};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;

/// A server on a test clock, the app under test with a token it holds (`old`), and a resource
/// server that may introspect its tokens (the app itself cannot authenticate while disabled).
struct Scene {
    clock: Arc<ManualClock>,
    admins: Admins,
    owner: Value,
    resource: Value,
    old: String,
}

async fn scene() -> Scene {
    let clock = Arc::new(ManualClock::new(unix_now()));
    let admins = admins_with(Setup::with_clock(Arc::clone(&clock))).await;
    let owner = admins.app.seed_app(new_app("owner")).await;
    let resource = admins.app.seed_app(new_app("resource").introspect()).await;
    let old = admins.app.token_for(&owner, None).await.access_token();
    Scene {
        clock,
        admins,
        owner,
        resource,
        old,
    }
}

impl Scene {
    /// Once the app is enabled again after its tokens were revoked up to `revoked_before`: a
    /// token of a later second is active, the old one is not.
    async fn only_new_tokens_are_active(&self, revoked_before: i64) {
        let app = &self.admins.app;
        // Revocation covers the whole second it names.
        advance_to(&self.clock, revoked_before + 1);
        let new = token_once_enabled(app, &self.owner).await;
        assert_eq!(app.introspect(&self.resource, &new).await["active"], true);
        assert_eq!(
            app.introspect(&self.resource, &self.old).await,
            json!({ "active": false })
        );
    }
}

/// Polls until the app's own credentials get a token again (it was enabled), and returns it.
async fn token_once_enabled(app: &TestApp, owner: &Value) -> String {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id(owner)),
        ("client_secret", client_secret(owner)),
    ];
    app.token_until("the enabled app to get a token", &form, |reply| {
        reply.status.is_success()
    })
    .await
    .access_token()
}

#[tokio::test]
async fn a_plain_disable_then_enable_makes_the_old_token_active_again() {
    let Scene {
        admins,
        owner,
        resource,
        old,
        ..
    } = scene().await;
    let app = &admins.app;

    let disabled = app.cli_json(&["app", "disable", client_id(&owner), "--json"]);
    assert_eq!(disabled["enabled"], false);
    assert_eq!(disabled["tokens_revoked_before"], Value::Null);
    app.wait_for_active(&resource, &old, false).await;

    app.cli_ok(&["app", "enable", client_id(&owner)]);
    // The documented behaviour: the token it held before is valid again.
    app.wait_for_active(&resource, &old, true).await;
}

#[tokio::test]
async fn disable_with_revoke_tokens_keeps_old_tokens_inactive_after_enable_and_new_ones_work() {
    let scene = scene().await;
    let Scene {
        admins,
        owner,
        resource,
        old,
        ..
    } = &scene;
    let app = &admins.app;

    let disabled = app.cli_json(&[
        "app",
        "disable",
        client_id(owner),
        "--revoke-tokens",
        "--json",
    ]);
    assert_eq!(disabled["enabled"], false);
    let revoked_before = unix_seconds(&disabled["tokens_revoked_before"]);
    app.wait_for_active(resource, old, false).await;

    app.cli_ok(&["app", "enable", client_id(owner)]);
    scene.only_new_tokens_are_active(revoked_before).await;

    // One audited change path: a disable, then the same revocation as `token revoke --app`.
    let audit = app.cli_json(&["audit", "list", "--json"]);
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["target"] == client_id(owner))
        .map(|event| event["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "app.create",
            "app.disable",
            "token.revoke_all",
            "app.enable"
        ]
    );
}

#[tokio::test]
async fn the_admin_api_disables_with_revoke_tokens_and_without() {
    let scene = scene().await;
    let Scene {
        admins,
        owner,
        resource,
        old,
        ..
    } = &scene;
    let app = &admins.app;
    let one = format!("/admin/v1/tenants/default/apps/{}", client_id(owner));

    // Without a body, or with revoke_tokens false: a plain disable.
    for body in [None, Some(json!({"revoke_tokens": false}))] {
        let disabled = admins
            .as_root(Method::POST, &format!("{one}/disable"), body.as_ref())
            .await;
        assert_eq!(disabled.status, 200, "{disabled:?}");
        assert_eq!(disabled.json()["enabled"], false);
        assert_eq!(disabled.json()["tokens_revoked_before"], Value::Null);
        app.wait_for_active(resource, old, false).await;
        let enabled = admins
            .as_root(Method::POST, &format!("{one}/enable"), None)
            .await;
        assert_eq!(enabled.status, 200, "{enabled:?}");
        app.wait_for_active(resource, old, true).await;
    }

    let disabled = admins
        .as_root(
            Method::POST,
            &format!("{one}/disable"),
            Some(&json!({"revoke_tokens": true})),
        )
        .await;
    assert_eq!(disabled.status, 200, "{disabled:?}");
    let disabled = disabled.json();
    assert_eq!(disabled["enabled"], false);
    let revoked_before = unix_seconds(&disabled["tokens_revoked_before"]);
    assert_eq!(revoked_before, scene.clock.now());
    app.wait_for_active(resource, old, false).await;
    admins
        .as_root(Method::POST, &format!("{one}/enable"), None)
        .await;
    scene.only_new_tokens_are_active(revoked_before).await;
}
