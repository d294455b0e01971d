//! `POST /oauth2/introspect` (RFC 7662): who may see what, and every token that must answer
//! exactly `{"active": false}`.

use crate::harness::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use latchkey_keys::{Algorithm, Signer, generate_private_key};
use latchkey_server::{Clock, ManualClock};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

fn inactive() -> Value {
    json!({ "active": false })
}

async fn read_write_owner(app: &TestApp) -> Value {
    app.seed_app(new_app("orders").scopes(&["read", "write"]))
        .await
}

async fn introspecting_api(app: &TestApp) -> Value {
    app.seed_app(new_app("api").introspect()).await
}

fn b64(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(text)
}

#[tokio::test]
async fn own_token_introspects_active_with_every_claim() {
    let app = spawn_app().await;
    let owner = read_write_owner(&app).await;
    let token = app
        .token_for(&owner, Some("write read"))
        .await
        .access_token();
    let (_, claims) = jwt_parts(&token);

    let answer = app.introspect(&owner, &token).await;

    let id = client_id(&owner);
    assert_eq!(
        answer,
        json!({
            "active": true, "scope": "write read", "client_id": id, "token_type": "Bearer",
            "exp": claims["exp"], "iat": claims["iat"], "nbf": claims["nbf"], "sub": id,
            "aud": id, "iss": ISSUER, "jti": claims["jti"],
        })
    );
}

#[tokio::test]
async fn introspection_accepts_client_secret_post_too() {
    let app = spawn_app().await;
    let owner = read_write_owner(&app).await;
    let token = app.token_for(&owner, None).await.access_token();
    let form = [
        ("token", token.as_str()),
        ("token_type_hint", "access_token"),
        ("client_id", client_id(&owner)),
        ("client_secret", client_secret(&owner)),
    ];
    let reply = app
        .send(app.client.post(app.url("/oauth2/introspect")).form(&form))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.json()["active"], true);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn introspection_without_valid_client_credentials_is_401_invalid_client() {
    let app = spawn_app().await;
    let owner = read_write_owner(&app).await;
    let token = app.token_for(&owner, None).await.access_token();

    let anonymous = app
        .send(
            app.client
                .post(app.url("/oauth2/introspect"))
                .form(&[("token", token.as_str())]),
        )
        .await;
    anonymous.assert_error(401, "invalid_client");

    let wrong = app
        .post_introspect(client_id(&owner), "wrong-secret", &token)
        .await;
    wrong.assert_error(401, "invalid_client");
    assert!(
        !wrong.body.contains(&token),
        "the token never comes back in an error"
    );
}

#[tokio::test]
async fn introspection_without_a_token_is_invalid_request() {
    let app = spawn_app().await;
    let owner = read_write_owner(&app).await;
    // An empty parameter counts as absent.
    for form in [
        &[("token_type_hint", "access_token")][..],
        &[("token", ""), ("token_type_hint", "access_token")][..],
    ] {
        let reply = app
            .send(
                app.client
                    .post(app.url("/oauth2/introspect"))
                    .basic_auth(client_id(&owner), Some(client_secret(&owner)))
                    .form(form),
            )
            .await;
        reply.assert_error(400, "invalid_request");
    }
}

#[tokio::test]
async fn another_apps_token_needs_the_introspect_permission() {
    let app = spawn_app().await;
    let owner = read_write_owner(&app).await;
    let other = app.seed_app(new_app("other")).await;
    let api = introspecting_api(&app).await;
    assert_eq!(api["introspect"], true);
    let token = app.token_for(&owner, None).await.access_token();

    assert_eq!(app.introspect(&other, &token).await, inactive());
    assert_eq!(app.introspect(&api, &token).await["active"], true);

    app.cli_ok(&["app", "update", client_id(&other), "--introspect"]);
    app.wait_for_active(&other, &token, true).await;
    app.cli_ok(&["app", "update", client_id(&api), "--no-introspect"]);
    let answer = app.wait_for_active(&api, &token, false).await;
    assert_eq!(answer, inactive());
}

#[tokio::test]
async fn forged_and_malformed_tokens_introspect_exactly_inactive() {
    let app = spawn_app_with(Setup::default().server_made_key()).await;
    let owner = read_write_owner(&app).await;
    let api = introspecting_api(&app).await;
    let real = app.token_for(&owner, None).await.access_token();
    let kid = jwt_kid(&real);
    let segments: Vec<&str> = real.split('.').collect();
    let (header, payload) = (segments[0], segments[1]);
    let now = unix_now();
    let claims = claims_for(client_id(&owner), ISSUER, now, now + 300);

    let none = format!(
        "{}.{payload}.",
        b64(&format!(r#"{{"kid":"{kid}","typ":"JWT","alg":"none"}}"#))
    );
    // Algorithm confusion: HS256 keyed with what a verifier knows of the RSA public key.
    let jwk = app.jwks().await["keys"][0].clone();
    let modulus_text = jwk["n"].as_str().expect("an RSA modulus").to_owned();
    let modulus = URL_SAFE_NO_PAD
        .decode(&modulus_text)
        .expect("the modulus is base64url");
    let hs256 = |key: &[u8]| {
        let input = format!(
            "{}.{payload}",
            b64(&format!(r#"{{"kid":"{kid}","typ":"JWT","alg":"HS256"}}"#))
        );
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
        let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    };
    let stranger = |kid: &str| {
        let pkcs8 = generate_private_key(Algorithm::Rs256).expect("a key");
        let signer = Signer::from_pkcs8(kid, Algorithm::Rs256, &pkcs8).expect("a signer");
        signer.sign_jwt(&claims).expect("signing")
    };
    let tampered = {
        let mut changed: Value = jwt_parts(&real).1;
        changed["scope"] = json!(["admin"]);
        format!("{header}.{}.{}", b64(&changed.to_string()), segments[2])
    };
    let mut other_issuer = claims.clone();
    other_issuer["iss"] = json!("https://evil.example");
    let mut not_yet_valid = claims.clone();
    not_yet_valid["nbf"] = json!(now + 3600);
    not_yet_valid["iat"] = json!(now + 3600);

    let cases: Vec<(&str, String)> = vec![
        ("alg none with the real kid", none),
        (
            "HS256 keyed with the JWK's JSON text",
            hs256(jwk.to_string().as_bytes()),
        ),
        ("HS256 keyed with the modulus bytes", hs256(&modulus)),
        (
            "HS256 keyed with the modulus text",
            hs256(modulus_text.as_bytes()),
        ),
        (
            "a stranger's key with an unknown kid",
            stranger("unknown-kid"),
        ),
        ("a stranger's key with the real kid", stranger(&kid)),
        ("a real token with a changed payload", tampered),
        (
            "another issuer, real key",
            app.forge_with_stored_key(&kid, &other_issuer).await,
        ),
        (
            "not yet valid, real key",
            app.forge_with_stored_key(&kid, &not_yet_valid).await,
        ),
        ("not a JWT", "abc".to_owned()),
        ("three garbage parts", "a.b.c".to_owned()),
        ("two parts", format!("{header}.{payload}")),
        ("four parts", format!("{real}.x")),
        ("a single space", " ".to_owned()),
        ("a dot", ".".to_owned()),
        ("two dots", "..".to_owned()),
        ("three dots", "...".to_owned()),
    ];
    // The forging helpers themselves work: the same claims with the real key are active.
    let genuine = app.forge_with_stored_key(&kid, &claims).await;
    assert_eq!(app.introspect(&api, &genuine).await["active"], true);
    for (case, token) in cases {
        assert_eq!(app.introspect(&api, &token).await, inactive(), "{case}");
    }
}

#[tokio::test]
async fn expired_token_is_inactive() {
    let clock = Arc::new(ManualClock::new(unix_now()));
    let app = spawn_app_with(Setup::with_clock(Arc::clone(&clock))).await;
    let owner = app.seed_app(new_app("short").token_ttl(60)).await;
    let token = app.token_for(&owner, None).await.access_token();
    clock.advance(59);
    assert_eq!(app.introspect(&owner, &token).await["active"], true);
    clock.advance(1);
    assert_eq!(app.introspect(&owner, &token).await, inactive());
}

#[tokio::test]
async fn tokens_of_disabled_and_deleted_apps_are_inactive() {
    let app = spawn_app().await;
    let owner = read_write_owner(&app).await;
    let api = introspecting_api(&app).await;
    let token = app.token_for(&owner, None).await.access_token();

    app.cli_ok(&["app", "disable", client_id(&owner)]);
    assert_eq!(app.wait_for_active(&api, &token, false).await, inactive());
    app.cli_ok(&["app", "enable", client_id(&owner)]);
    app.wait_for_active(&api, &token, true).await;
    app.cli_ok(&["app", "delete", client_id(&owner)]);
    assert_eq!(app.wait_for_active(&api, &token, false).await, inactive());
}

#[tokio::test]
async fn token_signed_by_a_retired_key_is_inactive() {
    let clock = Arc::new(ManualClock::new(unix_now()));
    let app = spawn_app_with(Setup::with_clock(Arc::clone(&clock))).await;
    let owner = read_write_owner(&app).await;
    let api = introspecting_api(&app).await;
    let old_kid = jwt_kid(&app.token_for(&owner, None).await.access_token());
    let fresh = |clock: &ManualClock| {
        let now = clock.now();
        claims_for(client_id(&owner), ISSUER, now, now + 300)
    };

    app.cli_ok(&["key", "rotate"]);
    let retiring = app.listed_key(&old_kid).await;
    assert_eq!(retiring["status"], "retiring", "{retiring}");
    // While it retires, the old key still vouches for a token it signs.
    let forged = app.forge_with_stored_key(&old_kid, &fresh(&clock)).await;
    assert_eq!(app.introspect(&api, &forged).await["active"], true);

    advance_to(&clock, unix_seconds(&retiring["retire_at"]) + 1);
    app.wait_for_published(&old_kid, false).await;
    let forged = app.forge_with_stored_key(&old_kid, &fresh(&clock)).await;
    assert_eq!(app.introspect(&api, &forged).await, inactive());
}
