//! `POST /oauth2/revoke` (RFC 7009) and `latchkey token revoke`: what may be revoked, how fast
//! every server learns of it, and that the list is purged once tokens expire.

use crate::harness::*;
use latchkey_server::ManualClock;
use reqwest::StatusCode;
use serde_json::json;
use std::sync::Arc;

fn jti(token: &str) -> String {
    jwt_parts(token).1["jti"]
        .as_str()
        .expect("a jti")
        .to_owned()
}

#[tokio::test]
async fn revoking_an_own_token_makes_it_inactive_also_after_a_restart() {
    let mut app = spawn_app().await;
    let owner = owner(&app).await;
    let token = app.token_for(&owner, None).await.access_token();
    let other_token = app.token_for(&owner, None).await.access_token();

    let reply = app
        .post_revoke(client_id(&owner), client_secret(&owner), &token)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    // The node that took the revocation applies it before answering.
    assert_eq!(
        app.introspect(&owner, &token).await,
        json!({ "active": false })
    );
    assert_eq!(app.introspect(&owner, &other_token).await["active"], true);

    app.restart().await;
    assert_eq!(
        app.introspect(&owner, &token).await,
        json!({ "active": false })
    );
    assert_eq!(app.introspect(&owner, &other_token).await["active"], true);
}

#[tokio::test]
async fn revoking_unknown_malformed_or_expired_tokens_answers_200() {
    let clock = Arc::new(ManualClock::new(unix_now()));
    let app = spawn_app_with(Setup::with_clock(Arc::clone(&clock))).await;
    let owner = app.seed_app(new_app("short").token_ttl(30)).await;
    let expired = app.token_for(&owner, None).await.access_token();
    clock.advance(31);
    for token in ["not-a-token", "a.b.c", expired.as_str()] {
        let reply = app
            .post_revoke(client_id(&owner), client_secret(&owner), token)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{token}: {reply:?}");
    }
}

#[tokio::test]
async fn revocation_needs_client_authentication() {
    let app = spawn_app().await;
    let owner = owner(&app).await;
    let token = app.token_for(&owner, None).await.access_token();
    let reply = app.post_revoke(client_id(&owner), "wrong", &token).await;
    reply.assert_error(401, "invalid_client");
    assert_eq!(app.introspect(&owner, &token).await["active"], true);
}

#[tokio::test]
async fn an_app_cannot_revoke_another_apps_token() {
    let app = spawn_app().await;
    let owner = owner(&app).await;
    let other = app.seed_app(new_app("other").introspect()).await;
    let token = app.token_for(&owner, None).await.access_token();

    let reply = app
        .post_revoke(client_id(&other), client_secret(&other), &token)
        .await;

    reply.assert_error(400, "unauthorized_client");
    assert_eq!(app.introspect(&owner, &token).await["active"], true);
}

#[tokio::test]
async fn a_revocation_reaches_another_server_on_the_same_database() {
    let app = spawn_app().await;
    let owner = owner(&app).await;
    let token = app.token_for(&owner, None).await.access_token();
    let second = app.start_peer().await;
    let introspect_on_second = async || second.http().introspect(&owner, &token).await;
    assert_eq!(introspect_on_second().await["active"], true);

    let reply = app
        .post_revoke(client_id(&owner), client_secret(&owner), &token)
        .await;
    assert_eq!(reply.status, StatusCode::OK);

    eventually("the second server to see the revocation", async || {
        let answer = introspect_on_second().await;
        if answer == json!({ "active": false }) {
            Ok(())
        } else {
            Err(answer.to_string())
        }
    })
    .await;
    second.stop().await.expect("stopping the second server");
}

#[tokio::test]
async fn cli_revocation_by_jti_reaches_the_running_server() {
    let app = spawn_app().await;
    let owner = owner(&app).await;
    let token = app.token_for(&owner, None).await.access_token();
    let output = app.cli_json(&["token", "revoke", &jti(&token), "--json"]);
    assert_eq!(output["revoked"], true);
    app.wait_for_active(&owner, &token, false).await;
}

#[tokio::test]
async fn cli_revocation_by_app_revokes_every_token_issued_until_then_only() {
    let clock = Arc::new(ManualClock::new(unix_now()));
    let app = spawn_app_with(Setup::with_clock(Arc::clone(&clock))).await;
    let owner = owner(&app).await;
    let bystander = app.seed_app(new_app("bystander")).await;
    let first = app.token_for(&owner, None).await.access_token();
    let second = app.token_for(&owner, None).await.access_token();
    let unrelated = app.token_for(&bystander, None).await.access_token();

    let revoked = app.cli_json(&["token", "revoke", "--app", client_id(&owner), "--json"]);
    assert_eq!(revoked["client_id"], client_id(&owner));
    app.wait_for_active(&owner, &first, false).await;
    app.wait_for_active(&owner, &second, false).await;
    assert_eq!(app.introspect(&bystander, &unrelated).await["active"], true);

    // The revocation covers every token issued up to and including the second it names (the
    // CLI's wall clock, which the test clock started from, so it lies ahead of the test clock).
    let until = unix_seconds(&revoked["tokens_revoked_before"]);
    advance_to(&clock, until);
    let same_second = app.token_for(&owner, None).await.access_token();
    assert_eq!(jwt_parts(&same_second).1["iat"], until);
    assert_eq!(
        app.introspect(&owner, &same_second).await,
        json!({ "active": false })
    );
    clock.advance(1);
    let later = app.token_for(&owner, None).await.access_token();
    assert_eq!(app.introspect(&owner, &later).await["active"], true);
}

#[tokio::test]
async fn revoking_a_token_twice_answers_200_both_times() {
    let app = spawn_app().await;
    let owner = owner(&app).await;
    let token = app.token_for(&owner, None).await.access_token();
    for _ in 0..2 {
        let reply = app
            .post_revoke(client_id(&owner), client_secret(&owner), &token)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    }
    assert_eq!(
        app.introspect(&owner, &token).await,
        json!({ "active": false })
    );
}

#[tokio::test]
async fn revocation_without_a_token_is_invalid_request() {
    let app = spawn_app().await;
    let owner = owner(&app).await;
    let form = [
        ("token_type_hint", "access_token"),
        ("client_id", client_id(&owner)),
        ("client_secret", client_secret(&owner)),
    ];
    let reply = app
        .send(app.client.post(app.url("/oauth2/revoke")).form(&form))
        .await;
    reply.assert_error(400, "invalid_request");
}

#[tokio::test]
async fn revocations_are_purged_once_their_token_has_expired() {
    let clock = Arc::new(ManualClock::new(unix_now()));
    let app = spawn_app_with(Setup::with_clock(Arc::clone(&clock))).await;
    let owner = app.seed_app(new_app("short").token_ttl(60)).await;
    let token = app.token_for(&owner, None).await.access_token();
    let jti = jti(&token);
    let reply = app
        .post_revoke(client_id(&owner), client_secret(&owner), &token)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let store = latchkey_store::open(&app.db_url)
        .await
        .expect("opening the database");
    assert_eq!(
        store
            .revocations(std::slice::from_ref(&jti))
            .await
            .expect("reading")
            .len(),
        1
    );

    // (That a live token's record survives a purge is the store conformance suite's
    // `revocations_are_kept_until_their_token_expires`.)
    clock.advance(61);
    eventually("the expired token's revocation to be purged", async || {
        let left = store
            .revocations(std::slice::from_ref(&jti))
            .await
            .map_err(|e| e.to_string())?;
        if left.is_empty() {
            Ok(())
        } else {
            Err(format!("{left:?}"))
        }
    })
    .await;
}

#[tokio::test]
async fn cli_revocation_of_a_whole_token_finds_its_tenant_and_lasts_as_long_as_the_token() {
    let app = spawn_app().await;
    let host = "auth.acme.test";
    app.seed_tenant(new_tenant("acme", &[host])).await;
    let owner = app.seed_app(new_app("orders").tenant("acme", host)).await;
    let token = app.at(host).token_for(&owner, None).await.access_token();
    let claims = jwt_parts(&token).1;

    // No --tenant: the token's signature says it is acme's.
    let revoked = app.cli_json(&["token", "revoke", "--token", &token, "--json"]);

    assert_eq!(revoked["jti"], claims["jti"]);
    assert_eq!(revoked["tenant"], "acme");
    assert_eq!(revoked["client_id"], client_id(&owner));
    assert_eq!(unix_seconds(&revoked["expires_at"]), claims["exp"]);
    let store = latchkey_store::open(&app.db_url)
        .await
        .expect("opening the database");
    let stored = store
        .revocations(&[jti(&token)])
        .await
        .expect("reading revocations");
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(
        (stored[0].tenant.as_str(), stored[0].expires_at),
        ("acme", claims["exp"].as_i64().expect("a numeric exp"))
    );
    eventually("the revoked token to introspect inactive", async || {
        let answer = app.at(host).introspect(&owner, &token).await;
        if answer["active"] == false {
            Ok(())
        } else {
            Err(answer.to_string())
        }
    })
    .await;
}

#[tokio::test]
async fn cli_revocation_refuses_a_jti_that_is_not_a_uuid_without_repeating_it() {
    let app = spawn_app().await;
    let owner = owner(&app).await;
    let token = app.token_for(&owner, None).await.access_token();

    // A token pasted where its jti belongs is refused too, and never printed back.
    for garbage in ["not-a-jti", token.as_str()] {
        let output = app.cli(&["token", "revoke", garbage]);

        assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("not a UUID") && stderr.contains("--token"),
            "the message says what a jti is and what to do: {stderr}"
        );
        assert!(!stderr.contains(garbage), "{stderr}");
        assert!(output.stdout.is_empty(), "{}", describe(&output));
    }
    let store = latchkey_store::open(&app.db_url)
        .await
        .expect("opening the database");
    let stored = store
        .revocations(&["not-a-jti".to_owned(), jti(&token)])
        .await
        .expect("reading revocations");
    assert!(stored.is_empty(), "nothing was revoked: {stored:?}");
    assert_eq!(app.introspect(&owner, &token).await["active"], true);
}

#[tokio::test]
async fn cli_revocation_by_bare_jti_says_what_latchkey_can_know() {
    let app = spawn_app().await;
    let jti = "6f1c0e1a-2b3c-4d5e-8f90-0123456789ab";

    let said = app.cli_ok(&["token", "revoke", jti]);

    assert!(
        said.contains(&format!(
            "Tenant default now refuses a token with jti {jti}"
        )) && said.contains("keeps no list of the tokens it issued"),
        "{said}"
    );
}

#[tokio::test]
async fn cli_revocation_refuses_a_token_that_no_tenant_key_verifies() {
    let app = spawn_app().await;
    let owner = owner(&app).await;
    let token = app.token_for(&owner, None).await.access_token();
    // The same header and signature over other claims: a longer life, say.
    let mut claims = jwt_parts(&token).1;
    claims["exp"] = json!(claims["exp"].as_i64().expect("a numeric exp") + 86_400);
    let segments: Vec<&str> = token.split('.').collect();
    let payload = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        claims.to_string(),
    );
    let tampered = format!("{}.{payload}.{}", segments[0], segments[2]);

    let output = app.cli(&["token", "revoke", "--token", &tampered]);

    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("does not verify against the published signing keys of any tenant"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(&tampered),
        "the token is never printed: {stderr}"
    );
    assert_eq!(app.introspect(&owner, &token).await["active"], true);
}
