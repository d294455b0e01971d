//! A restart (graceful stop, new process state on the same database) keeps apps, secrets and the
//! signing key: tokens issued before it still verify against the JWKS served after it.

use crate::harness::*;
use reqwest::StatusCode;

#[tokio::test]
async fn restart_keeps_the_signing_key_so_old_tokens_still_verify() {
    let mut app = spawn_app().await;
    let worker = app.seed_app(new_app("worker").scopes(&["jobs:run"])).await;
    let old_token = app.token_for(&worker, None).await.access_token();
    let old_jwks = app.jwks().await;

    app.restart().await;

    let new_jwks = app.jwks().await;
    assert_eq!(new_jwks, old_jwks, "the same keys are published");
    let kids: Vec<&str> = new_jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|key| key["kid"].as_str())
        .collect();
    assert!(kids.contains(&jwt_kid(&old_token).as_str()), "{kids:?}");
    verify_token(&new_jwks, &old_token, client_id(&worker), ISSUER)
        .unwrap_or_else(|error| panic!("{error}"));
}

#[tokio::test]
async fn restart_keeps_apps_and_their_secrets() {
    let mut app = spawn_app().await;
    let worker = app
        .seed_app(new_app("worker").scopes(&["jobs:run"]).token_ttl(90))
        .await;
    let old_token = app.token_for(&worker, None).await.access_token();

    app.restart().await;

    // The snapshot is loaded before the new server accepts requests: no waiting.
    let reply = app.token_for(&worker, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.json()["expires_in"], 90);
    let basic = app
        .post_token_basic(
            client_id(&worker),
            client_secret(&worker),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(basic.status, StatusCode::OK, "{basic:?}");
    let new_token = reply.access_token();
    assert_eq!(
        jwt_kid(&new_token),
        jwt_kid(&old_token),
        "the new process signs with the same key"
    );
    let jwks = app.jwks().await;
    verify_token(&jwks, &new_token, client_id(&worker), ISSUER)
        .unwrap_or_else(|error| panic!("{error}"));
}

#[tokio::test]
async fn restart_keeps_a_disabled_app_disabled() {
    let mut app = spawn_app().await;
    let worker = app.seed_app(new_app("worker")).await;
    app.cli_ok(&["app", "disable", client_id(&worker)]);

    app.restart().await;

    app.token_for(&worker, None)
        .await
        .assert_error(401, "invalid_client");
}

#[tokio::test]
async fn restart_does_not_add_a_signing_key() {
    // The first key is the one the server made at its first start.
    let mut app = spawn_app_with(Setup::default().server_made_key()).await;
    let before = app.key_list().await;

    app.restart().await;
    app.restart().await;

    let after = app.key_list().await;
    assert_eq!(after, before);
    assert_eq!(after.len(), 1, "{after:?}");
}
