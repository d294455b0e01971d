//! Token reuse (opt-in per app): an identical request gets the token the app already holds
//! while enough of its life remains; anything that changes what the token was issued under ends
//! reuse at once.

use crate::harness::*;
use latchkey_server::ManualClock;
use reqwest::StatusCode;
use serde_json::Value;
use std::sync::Arc;

async fn clocked_app() -> (TestApp, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(unix_now()));
    (
        spawn_app_with(Setup::with_clock(Arc::clone(&clock))).await,
        clock,
    )
}

async fn reusing_app(app: &TestApp) -> Value {
    app.seed_app(new_app("chatty").scopes(&["a", "b"]).token_reuse(80))
        .await
}

async fn token(app: &TestApp, client: &Value, scope: Option<&str>) -> (String, i64) {
    let reply = app.token_for(client, scope).await;
    let body = reply.json();
    (
        reply.access_token(),
        body["expires_in"].as_i64().expect("expires_in is a number"),
    )
}

#[tokio::test]
async fn without_token_reuse_every_request_gets_a_new_token() {
    let app = spawn_app().await;
    let client = app.seed_app(new_app("plain").scopes(&["a"])).await;
    let (first, _) = token(&app, &client, None).await;
    let (second, _) = token(&app, &client, None).await;
    assert_ne!(first, second);
}

#[tokio::test]
async fn identical_requests_get_the_same_token_with_expires_in_counting_down() {
    let (app, clock) = clocked_app().await;
    let client = reusing_app(&app).await;
    assert_eq!(client["token_reuse_percent"], 80);
    let (first, expires_in) = token(&app, &client, Some("a")).await;
    assert_eq!(expires_in, 300);
    clock.advance(10);
    let (second, expires_in) = token(&app, &client, Some("a")).await;
    assert_eq!(second, first);
    assert_eq!(expires_in, 290);
}

#[tokio::test]
async fn a_token_is_not_reused_once_less_than_the_share_of_its_life_remains() {
    let (app, clock) = clocked_app().await;
    let client = reusing_app(&app).await;
    let (first, _) = token(&app, &client, Some("a")).await;
    // 80 % of 300 s must remain: the token is reusable for its first 60 s only.
    clock.advance(60);
    assert_eq!(token(&app, &client, Some("a")).await.0, first);
    clock.advance(1);
    let (second, expires_in) = token(&app, &client, Some("a")).await;
    assert_ne!(second, first);
    assert_eq!(expires_in, 300);
}

#[tokio::test]
async fn different_scopes_get_different_tokens() {
    let app = spawn_app().await;
    let client = reusing_app(&app).await;
    let (only_a, _) = token(&app, &client, Some("a")).await;
    let (a_and_b, _) = token(&app, &client, Some("a b")).await;
    assert_ne!(only_a, a_and_b);
    assert_eq!(token(&app, &client, Some("a")).await.0, only_a);
}

#[tokio::test]
async fn revoking_the_token_ends_its_reuse_at_once() {
    let app = spawn_app().await;
    let client = reusing_app(&app).await;
    let (first, _) = token(&app, &client, None).await;
    let revoked = app
        .send(
            app.client
                .post(app.url("/oauth2/revoke"))
                .basic_auth(client_id(&client), Some(client_secret(&client)))
                .form(&[("token", first.as_str())]),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{revoked:?}");
    let (second, _) = token(&app, &client, None).await;
    assert_ne!(second, first);
}

#[tokio::test]
async fn rotating_the_secret_ends_reuse() {
    let app = spawn_app().await;
    let client = reusing_app(&app).await;
    let (first, _) = token(&app, &client, None).await;
    let rotated = app.cli_json(&["app", "rotate-secret", client_id(&client), "--json"]);
    let new_secret = rotated["client_secret"].as_str().expect("a new secret");
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id(&client)),
        ("client_secret", new_secret),
    ];
    let reply = app
        .token_until("the new secret to work", &form, |reply| {
            reply.status == StatusCode::OK
        })
        .await;
    assert_ne!(reply.access_token(), first);
}

#[tokio::test]
async fn disabling_the_app_ends_reuse() {
    let app = spawn_app().await;
    let client = reusing_app(&app).await;
    token(&app, &client, None).await;
    app.cli_ok(&["app", "disable", client_id(&client)]);
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id(&client)),
        ("client_secret", client_secret(&client)),
    ];
    app.token_until(
        "the disabled app to be refused",
        &form,
        Reply::is_invalid_client,
    )
    .await;
}

#[tokio::test]
async fn rotating_the_signing_key_ends_reuse() {
    let app = spawn_app().await;
    let client = reusing_app(&app).await;
    let (first, _) = token(&app, &client, None).await;
    let new_kid = app.cli_json(&["key", "rotate", "--json"])["kid"]
        .as_str()
        .expect("a kid")
        .to_owned();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id(&client)),
        ("client_secret", client_secret(&client)),
    ];
    let reply = app
        .token_until("a token signed by the new key", &form, |reply| {
            reply.status == StatusCode::OK && jwt_kid(&reply.access_token()) == new_kid
        })
        .await;
    assert_ne!(reply.access_token(), first);
}

#[tokio::test]
async fn turning_token_reuse_off_gives_a_new_token_per_request() {
    let app = spawn_app().await;
    let client = reusing_app(&app).await;
    let (first, _) = token(&app, &client, None).await;
    let updated = app.cli_json(&[
        "app",
        "update",
        client_id(&client),
        "--no-token-reuse",
        "--json",
    ]);
    assert_eq!(updated["token_reuse_percent"], Value::Null);
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id(&client)),
        ("client_secret", client_secret(&client)),
    ];
    let second = app
        .token_until("a new token once reuse is off", &form, |reply| {
            reply.status == StatusCode::OK && reply.access_token() != first
        })
        .await
        .access_token();
    assert_ne!(token(&app, &client, None).await.0, second);
}

#[tokio::test]
async fn token_reuse_outside_1_to_100_percent_is_refused_by_the_cli() {
    let app = spawn_app().await;
    for bad in ["0%", "101%", "eighty"] {
        let output = app.cli(&["app", "create", "--name", "x", "--token-reuse", bad]);
        assert!(!output.status.success(), "{bad}: {}", describe(&output));
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("percentage"),
            "{bad}: {}",
            describe(&output)
        );
    }
}
