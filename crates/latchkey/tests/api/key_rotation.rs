//! Signing key life cycle: `latchkey key rotate`, other algorithms, and automatic rotation that
//! publishes the next key ahead of use, rotates once per interval and survives restarts.

use crate::helpers::*;
use latchkey_server::ManualClock;
use serde_json::Value;
use std::sync::Arc;

const DAY: i64 = 86_400;
/// `RotationPolicy::every_days(30)` publishes the next key this long before it is due.
const PUBLISH_AHEAD: i64 = 600;

async fn owner(app: &TestApp) -> Value {
    app.create_app(&["--name", "orders", "--scope", "read"])
        .await
}

fn keys(app: &TestApp) -> Vec<Value> {
    app.cli_json(&["key", "list", "--json"])
        .as_array()
        .expect("a list of keys")
        .clone()
}

fn status_of(keys: &[Value], kid: &str) -> String {
    keys.iter()
        .find(|key| key["kid"] == kid)
        .and_then(|key| key["status"].as_str())
        .unwrap_or("absent")
        .to_owned()
}

async fn jwks_kids(app: &TestApp) -> Vec<String> {
    app.get_jwks().await["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|key| key["kid"].as_str().expect("a kid").to_owned())
        .collect()
}

/// Polls the token endpoint until tokens carry `kid`.
async fn wait_for_signing_kid(app: &TestApp, owner: &Value, kid: &str) -> String {
    app.eventually(&format!("tokens signed by {kid}"), async || {
        let token = app.token_for(owner, None).await.access_token();
        if jwt_kid(&token) == kid {
            Ok(token)
        } else {
            Err(jwt_kid(&token))
        }
    })
    .await
}

#[tokio::test]
async fn manual_rotation_signs_new_tokens_with_a_new_key_and_old_tokens_keep_verifying() {
    let app = spawn_app().await;
    let owner = owner(&app).await;
    let before = app.token_for(&owner, None).await.access_token();
    let old_kid = jwt_kid(&before);

    let rotated = app.cli_json(&["key", "rotate", "--json"]);
    let new_kid = rotated["kid"].as_str().expect("the new kid").to_owned();
    assert_ne!(new_kid, old_kid);
    assert_eq!(rotated["status"], "active");
    let after = wait_for_signing_kid(&app, &owner, &new_kid).await;

    let keys = keys(&app);
    assert_eq!(status_of(&keys, &old_kid), "retiring");
    assert_eq!(status_of(&keys, &new_kid), "active");
    let jwks = app.get_jwks().await;
    for token in [&before, &after] {
        verify_token(&jwks, token, client_id(&owner), ISSUER).expect("verifies against the JWKS");
        assert_eq!(app.introspect(&owner, token).await["active"], true);
    }
}

#[tokio::test]
async fn rotation_to_es256_and_eddsa_issues_tokens_that_verify_against_the_jwks() {
    let app = spawn_app().await;
    let owner = owner(&app).await;
    for alg in ["ES256", "EdDSA"] {
        let kid = app.cli_json(&["key", "rotate", "--alg", alg, "--json"])["kid"]
            .as_str()
            .expect("a kid")
            .to_owned();
        let token = wait_for_signing_kid(&app, &owner, &kid).await;
        let (header, _) = jwt_parts(&token);
        let header: Value = serde_json::from_str(&header).expect("a JSON header");
        assert_eq!(header["alg"], alg);
        let jwks = app.get_jwks().await;
        verify_token(&jwks, &token, client_id(&owner), ISSUER)
            .unwrap_or_else(|error| panic!("{alg}: {error}"));
        let metadata = app
            .get("/.well-known/oauth-authorization-server")
            .await
            .json();
        let algs = metadata["token_signing_alg_values_supported"]
            .as_array()
            .expect("a list")
            .clone();
        assert_eq!(algs[0], alg, "the active algorithm comes first: {algs:?}");
        assert!(
            algs.contains(&Value::from("RS256")),
            "the retiring RS256 key is still in use: {algs:?}"
        );
    }
}

#[tokio::test]
async fn an_unknown_algorithm_is_refused_with_a_message() {
    let app = spawn_app().await;
    let output = app.cli(&["key", "rotate", "--alg", "HS256"]);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("RS256, ES256 or EdDSA"),
        "{}",
        describe(&output)
    );
}

#[tokio::test]
async fn automatic_rotation_publishes_ahead_then_rotates_once_per_interval() {
    let clock = Arc::new(ManualClock::new(unix_now()));
    let app = spawn_app_with(Setup::with_clock(Arc::clone(&clock))).await;
    let owner = owner(&app).await;
    let first_kid = jwt_kid(&app.token_for(&owner, None).await.access_token());

    // Ten minutes before the rotation is due, the next key is published but signs nothing.
    clock.advance(30 * DAY - PUBLISH_AHEAD);
    let next_kid = app
        .eventually("the next key in the JWKS", async || {
            let kids = jwks_kids(&app).await;
            kids.iter()
                .find(|kid| **kid != first_kid)
                .cloned()
                .ok_or(format!("{kids:?}"))
        })
        .await;
    assert_eq!(status_of(&keys(&app), &next_kid), "next");
    assert_eq!(
        jwt_kid(&app.token_for(&owner, None).await.access_token()),
        first_kid
    );

    // Once due (and published at least ten minutes), the next key signs.
    clock.advance(PUBLISH_AHEAD);
    wait_for_signing_kid(&app, &owner, &next_kid).await;
    let keys_after = keys(&app);
    assert_eq!(status_of(&keys_after, &first_kid), "retiring");
    assert_eq!(status_of(&keys_after, &next_kid), "active");

    // A day later nothing has rotated again: one rotation per interval.
    clock.advance(DAY);
    let active: Vec<Value> = app
        .eventually("the first key to retire", async || {
            let keys = keys(&app);
            if status_of(&keys, &first_kid) == "retired" {
                Ok(keys)
            } else {
                Err(format!("{keys:?}"))
            }
        })
        .await;
    let active: Vec<&Value> = active
        .iter()
        .filter(|key| key["status"] == "active" || key["status"] == "next")
        .collect();
    assert_eq!(active.len(), 1, "{active:?}");
    assert_eq!(active[0]["kid"], next_kid.as_str());
    assert_eq!(
        jwt_kid(&app.token_for(&owner, None).await.access_token()),
        next_kid
    );
}

#[tokio::test]
async fn a_restart_in_the_middle_of_a_rotation_neither_repeats_nor_loses_it() {
    let clock = Arc::new(ManualClock::new(unix_now()));
    let mut app = spawn_app_with(Setup::with_clock(Arc::clone(&clock))).await;
    let owner = owner(&app).await;
    let first_kid = jwt_kid(&app.token_for(&owner, None).await.access_token());
    clock.advance(30 * DAY - PUBLISH_AHEAD);
    let next_kid = app
        .eventually("the next key in the JWKS", async || {
            let kids = jwks_kids(&app).await;
            kids.iter()
                .find(|kid| **kid != first_kid)
                .cloned()
                .ok_or(format!("{kids:?}"))
        })
        .await;

    app.restart().await;
    // The restarted server publishes the same next key and makes no other.
    assert_eq!(keys(&app).len(), 2);
    let kids = jwks_kids(&app).await;
    assert!(
        kids.contains(&next_kid) && kids.contains(&first_kid),
        "{kids:?}"
    );

    clock.advance(PUBLISH_AHEAD);
    wait_for_signing_kid(&app, &owner, &next_kid).await;
    app.restart().await;
    assert_eq!(
        jwt_kid(&app.token_for(&owner, None).await.access_token()),
        next_kid
    );
    let keys = keys(&app);
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert_eq!(status_of(&keys, &first_kid), "retiring");
}
