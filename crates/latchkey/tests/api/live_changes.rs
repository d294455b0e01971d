//! Changes made by the CLI on the database reach a running server without a restart. The server
//! follows a change log, so every wait here polls with a bounded deadline.

use crate::harness::*;
use reqwest::StatusCode;
use serde_json::Value;

fn is_ok(reply: &Reply) -> bool {
    reply.status == StatusCode::OK
}

fn post_form<'a>(id: &'a str, secret: &'a str) -> [(&'a str, &'a str); 3] {
    [
        ("grant_type", "client_credentials"),
        ("client_id", id),
        ("client_secret", secret),
    ]
}

async fn worker(app: &TestApp) -> Value {
    app.seed_app(new_app("worker").scopes(&["jobs:run"])).await
}

#[tokio::test]
async fn disabling_an_app_refuses_its_tokens_and_enabling_it_restores_them() {
    let app = spawn_app().await;
    let worker = worker(&app).await;
    let (id, secret) = (client_id(&worker), client_secret(&worker));
    let form = post_form(id, secret);
    assert_eq!(app.post_token(&form).await.status, StatusCode::OK);

    app.cli_ok(&["app", "disable", id]);
    let refused = app
        .token_until(
            "the disabled app to get invalid_client",
            &form,
            Reply::is_invalid_client,
        )
        .await;
    refused.assert_error(401, "invalid_client");

    app.cli_ok(&["app", "enable", id]);
    let restored = app
        .token_until("the re-enabled app to get a token", &form, is_ok)
        .await;
    assert_eq!(jwt_parts(&restored.access_token()).1["sub"], id);
}

#[tokio::test]
async fn deleting_an_app_refuses_its_tokens() {
    let app = spawn_app().await;
    let worker = worker(&app).await;
    let other = app.seed_app(new_app("other")).await;
    let form = post_form(client_id(&worker), client_secret(&worker));

    app.cli_ok(&["app", "delete", client_id(&worker)]);

    let refused = app
        .token_until(
            "the deleted app to get invalid_client",
            &form,
            Reply::is_invalid_client,
        )
        .await;
    refused.assert_error(401, "invalid_client");
    let basic = app
        .post_token_basic(
            client_id(&worker),
            client_secret(&worker),
            &[("grant_type", "client_credentials")],
        )
        .await;
    basic.assert_error(401, "invalid_client");
    assert_eq!(
        app.token_for(&other, None).await.status,
        StatusCode::OK,
        "other apps are untouched"
    );
}

#[tokio::test]
async fn rotating_a_secret_refuses_the_old_one_and_accepts_the_new_one() {
    let app = spawn_app().await;
    let worker = worker(&app).await;
    let id = client_id(&worker);
    let old = client_secret(&worker);

    let rotated = app.cli_json(&["app", "rotate-secret", id, "--json"]);
    let new = client_secret(&rotated);

    app.token_until("the new secret to get a token", &post_form(id, new), is_ok)
        .await;
    app.token_until(
        "the old secret to get invalid_client",
        &post_form(id, old),
        Reply::is_invalid_client,
    )
    .await;
    // Once the server has the rotation, the old secret stays refused and the new one keeps working.
    app.post_token(&post_form(id, old))
        .await
        .assert_error(401, "invalid_client");
    let basic = app
        .post_token_basic(id, old, &[("grant_type", "client_credentials")])
        .await;
    basic.assert_error(401, "invalid_client");
    assert_eq!(basic.header("www-authenticate"), Some(BASIC_CHALLENGE));
    assert_eq!(
        app.post_token_basic(id, new, &[("grant_type", "client_credentials")])
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn updated_scopes_become_grantable_and_removed_ones_do_not() {
    let app = spawn_app().await;
    let worker = worker(&app).await;
    let (id, secret) = (client_id(&worker), client_secret(&worker));
    let with_scope = |scope| {
        [
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
            ("scope", scope),
        ]
    };
    app.post_token(&with_scope("jobs:admin"))
        .await
        .assert_error(400, "invalid_scope");

    app.cli_ok(&[
        "app",
        "update",
        id,
        "--scope",
        "jobs:admin",
        "--scope",
        "jobs:read",
    ]);

    let granted = app
        .token_until(
            "jobs:admin to be grantable",
            &with_scope("jobs:admin"),
            is_ok,
        )
        .await;
    assert_eq!(granted.json()["scope"], "jobs:admin");
    assert_eq!(
        jwt_parts(&granted.access_token()).1["scope"],
        serde_json::json!(["jobs:admin"])
    );
    app.post_token(&with_scope("jobs:run"))
        .await
        .assert_error(400, "invalid_scope");
    let body = app.post_token(&post_form(id, secret)).await.json();
    let mut scopes: Vec<&str> = body["scope"].as_str().expect("scope").split(' ').collect();
    scopes.sort_unstable();
    assert_eq!(
        scopes,
        ["jobs:admin", "jobs:read"],
        "without defaults, every allowed scope"
    );
}

#[tokio::test]
async fn updated_token_ttl_applies_to_new_tokens() {
    let app = spawn_app().await;
    let worker = worker(&app).await;
    let form = post_form(client_id(&worker), client_secret(&worker));

    app.cli_ok(&["app", "update", client_id(&worker), "--token-ttl", "42"]);

    let reply = app
        .token_until("the new TTL to apply", &form, |reply| {
            reply.body.contains("\"expires_in\":42")
        })
        .await;
    let (_, claims) = jwt_parts(&reply.access_token());
    assert_eq!(
        claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat"),
        42
    );
}

#[tokio::test]
async fn a_new_app_gets_tokens_without_a_restart() {
    let app = spawn_app().await;
    // Serving before the app exists.
    assert_eq!(app.get("/healthz").await.status, StatusCode::OK);

    let created = app.cli_json(&[
        "app",
        "create",
        "--name",
        "late",
        "--scope",
        "late:work",
        "--json",
    ]);

    let form = post_form(client_id(&created), client_secret(&created));
    let reply = app
        .token_until("the new app to get a token", &form, is_ok)
        .await;
    assert_eq!(reply.json()["scope"], "late:work");
    let jwks = app.jwks().await;
    verify_token(&jwks, &reply.access_token(), client_id(&created), ISSUER)
        .unwrap_or_else(|error| panic!("{error}"));
}

#[tokio::test]
async fn granting_client_credentials_to_a_web_app_lets_it_get_tokens() {
    let app = spawn_app().await;
    let web = app.seed_app(new_app("portal").kind("web")).await;
    app.token_for(&web, None)
        .await
        .assert_error(400, "unauthorized_client");

    app.cli_ok(&[
        "app",
        "update",
        client_id(&web),
        "--grant-type",
        "client_credentials",
    ]);

    let form = post_form(client_id(&web), client_secret(&web));
    app.token_until("the web app to get a token", &form, is_ok)
        .await;
}

#[tokio::test]
async fn rotating_with_a_grace_period_keeps_the_old_secret_working_beside_the_new_one() {
    let app = spawn_app().await;
    let worker = worker(&app).await;
    let id = client_id(&worker);
    let old = client_secret(&worker);

    let rotated = app.cli_json(&["app", "rotate-secret", id, "--grace", "1h", "--json"]);
    let new = client_secret(&rotated);

    app.token_until("the new secret to get a token", &post_form(id, new), is_ok)
        .await;
    let reply = app.post_token(&post_form(id, old)).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "the old secret within its grace period: {reply:?}"
    );
}
