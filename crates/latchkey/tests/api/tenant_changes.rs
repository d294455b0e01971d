//! Tenant changes reaching a running server without a restart: tenants created, given other
//! domains or another issuer, and deleted (with their apps and keys); the default tenant
//! claiming a domain; and reused tokens never carrying an issuer the tenant has left.

use crate::harness::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn tenant_delete_force_removes_its_apps_and_keys_and_its_host_falls_to_default() {
    let app = spawn_app().await;
    acme(&app).await;
    let acme_app = app.seed_app(new_app("a").tenant("acme", ACME_HOST)).await;
    let default_app = app.seed_app(new_app("d")).await;
    assert!(!app.stored_keys_of("acme").await.is_empty());

    app.cli_ok(&["tenant", "delete", "acme", "--force"]);

    let store = app.store().await;
    assert!(
        store.apps("acme").await.expect("listing apps").is_empty(),
        "acme's apps are deleted"
    );
    assert!(
        app.stored_keys_of("acme").await.is_empty(),
        "acme's keys are deleted"
    );
    app.at(ACME_HOST).wait_for_issuer(ISSUER).await;
    app.at(ACME_HOST)
        .token_for(&acme_app, None)
        .await
        .assert_error(401, "invalid_client");
    let token = app
        .at(ACME_HOST)
        .token_for(&default_app, None)
        .await
        .access_token();
    assert_eq!(
        jwt_parts(&token).1["iss"],
        ISSUER,
        "acme's host now serves the default tenant"
    );
}

#[tokio::test]
async fn with_strict_hosts_a_deleted_tenants_host_answers_404() {
    let app = spawn_app_with(Setup {
        strict_hosts: true,
        ..Setup::default()
    })
    .await;
    acme(&app).await;
    let acme_app = app.seed_app(new_app("a").tenant("acme", ACME_HOST)).await;

    app.cli_ok(&["tenant", "delete", "acme", "--force"]);

    eventually("acme's host to answer 404", async || {
        let reply = app.at(ACME_HOST).get(JWKS_PATH).await;
        if reply.status == StatusCode::NOT_FOUND {
            Ok(())
        } else {
            Err(format!("{reply:?}"))
        }
    })
    .await;
    let token = app.at(ACME_HOST).token_for(&acme_app, None).await;
    assert_eq!(token.status, StatusCode::NOT_FOUND, "{token:?}");
    let discovery = app.at(ACME_HOST).get(OAUTH_METADATA).await;
    assert_eq!(discovery.status, StatusCode::NOT_FOUND, "{discovery:?}");
}

#[tokio::test]
async fn a_tenant_recreated_under_a_deleted_name_does_not_get_the_old_apps_back() {
    let app = spawn_app().await;
    acme(&app).await;
    let old = app.seed_app(new_app("old").tenant("acme", ACME_HOST)).await;
    let old_kids = app.at(ACME_HOST).jwks_kids().await;
    app.cli_ok(&["tenant", "delete", "acme", "--force"]);
    app.at(ACME_HOST).wait_for_issuer(ISSUER).await;

    acme(&app).await;

    app.at(ACME_HOST)
        .token_for(&old, None)
        .await
        .assert_error(401, "invalid_client");
    assert_eq!(
        app.cli_json(&["app", "list", "--tenant", "acme", "--json"]),
        json!([])
    );
    let new_kids = app.at(ACME_HOST).jwks_kids().await;
    assert!(
        kid_set(&new_kids).is_disjoint(&kid_set(&old_kids)),
        "new keys {new_kids:?}, not the old {old_kids:?}"
    );
}

#[tokio::test]
async fn a_tenant_created_while_serving_answers_its_host_without_a_restart() {
    let app = spawn_app().await;
    assert_eq!(app.at(ACME_HOST).issuer().await, Ok(ISSUER.to_owned()));

    app.cli_ok(&["tenant", "create", "acme", "--domain", ACME_HOST]);

    app.at(ACME_HOST).wait_for_issuer(ACME_ISSUER).await;
    assert!(!app.at(ACME_HOST).jwks_kids().await.is_empty());
}

#[tokio::test]
async fn a_domain_added_or_removed_while_serving_is_routed_without_a_restart() {
    let app = spawn_app().await;
    acme(&app).await;
    let worker = app.seed_app(new_app("w").tenant("acme", ACME_HOST)).await;

    app.cli_ok(&[
        "tenant",
        "update",
        "acme",
        "--domain",
        ACME_HOST,
        "--domain",
        "api.acme.test",
    ]);
    app.at("api.acme.test").wait_for_issuer(ACME_ISSUER).await;
    let token = app
        .at("api.acme.test")
        .token_for(&worker, None)
        .await
        .access_token();
    assert_eq!(jwt_parts(&token).1["iss"], ACME_ISSUER);

    app.cli_ok(&["tenant", "update", "acme", "--domain", "api.acme.test"]);
    // The issuer follows the new first domain, and the dropped domain falls to default.
    app.at("api.acme.test")
        .wait_for_issuer("https://api.acme.test")
        .await;
    app.at(ACME_HOST).wait_for_issuer(ISSUER).await;
    app.at(ACME_HOST)
        .token_for(&worker, None)
        .await
        .assert_error(401, "invalid_client");
}

#[tokio::test]
async fn an_issuer_changed_while_serving_is_in_new_tokens_without_a_restart() {
    let app = spawn_app().await;
    acme(&app).await;
    let worker = app.seed_app(new_app("w").tenant("acme", ACME_HOST)).await;

    app.cli_ok(&[
        "tenant",
        "update",
        "acme",
        "--issuer",
        "https://id.acme.example",
    ]);

    app.at(ACME_HOST)
        .wait_for_issuer("https://id.acme.example")
        .await;
    let token = app
        .at(ACME_HOST)
        .token_for(&worker, None)
        .await
        .access_token();
    let jwks = app.at(ACME_HOST).jwks().await;
    verify_token(&jwks, &token, client_id(&worker), "https://id.acme.example")
        .expect("the token carries the new issuer");
}

#[tokio::test]
async fn a_tenant_deleted_while_serving_stops_answering_its_host_without_a_restart() {
    let app = spawn_app().await;
    acme(&app).await;

    app.cli_ok(&["tenant", "delete", "acme"]);

    app.at(ACME_HOST).wait_for_issuer(ISSUER).await;
}

#[tokio::test]
async fn the_default_tenant_can_claim_a_domain_and_take_its_own_issuer() {
    let app = spawn_app_with(Setup {
        strict_hosts: true,
        ..Setup::default()
    })
    .await;
    assert_eq!(
        app.at("auth.default.test").get(JWKS_PATH).await.status,
        StatusCode::NOT_FOUND
    );

    let claimed = app.cli_json(&[
        "tenant",
        "update",
        "default",
        "--domain",
        "auth.default.test",
        "--json",
    ]);
    assert_eq!(
        claimed["issuer"],
        Value::Null,
        "default keeps serve's issuer: {claimed}"
    );
    app.at("auth.default.test").wait_for_issuer(ISSUER).await;

    app.cli_ok(&[
        "tenant",
        "update",
        "default",
        "--issuer",
        "https://id.default.example",
    ]);
    app.at("auth.default.test")
        .wait_for_issuer("https://id.default.example")
        .await;
    app.cli_ok(&["tenant", "update", "default", "--default-issuer"]);
    app.at("auth.default.test").wait_for_issuer(ISSUER).await;
}

#[tokio::test]
async fn a_reused_token_never_carries_an_issuer_the_tenant_has_left() {
    let app = spawn_app().await;
    acme(&app).await;
    let worker = app
        .seed_app(new_app("w").tenant("acme", ACME_HOST).token_reuse(80))
        .await;
    let first = app
        .at(ACME_HOST)
        .token_for(&worker, None)
        .await
        .access_token();
    assert_eq!(
        app.at(ACME_HOST)
            .token_for(&worker, None)
            .await
            .access_token(),
        first,
        "reuse is on"
    );

    app.cli_ok(&[
        "tenant",
        "update",
        "acme",
        "--issuer",
        "https://id.acme.example",
    ]);
    app.at(ACME_HOST)
        .wait_for_issuer("https://id.acme.example")
        .await;

    let after = app
        .at(ACME_HOST)
        .token_for(&worker, None)
        .await
        .access_token();
    assert_eq!(jwt_parts(&after).1["iss"], "https://id.acme.example");
}
