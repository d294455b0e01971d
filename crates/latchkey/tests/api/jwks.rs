//! `GET /oauth2/jwks`: the published signing key, and independent verification of access tokens
//! with `jsonwebtoken` using only what the JWKS publishes.

use crate::harness::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::BTreeSet;

async fn token_and_app(app: &TestApp) -> (String, Value) {
    let worker = app.seed_app(new_app("worker").scopes(&["jobs:run"])).await;
    let token = app.token_for(&worker, None).await.access_token();
    (token, worker)
}

#[tokio::test]
async fn jwks_publishes_one_rs256_signing_key_with_a_max_age() {
    let app = spawn_app_with(Setup::default().server_made_key()).await;

    let reply = app.get(JWKS_PATH).await;

    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.header("content-type"), Some(JSON_CONTENT_TYPE));
    let cache = reply
        .header("cache-control")
        .expect("a Cache-Control header");
    assert!(
        cache.contains("max-age"),
        "Cache-Control {cache:?} has no max-age"
    );
    let jwks = reply.json();
    let top: Vec<&String> = jwks.as_object().expect("an object").keys().collect();
    assert_eq!(top, ["keys"]);
    let keys = jwks["keys"].as_array().expect("keys is an array");
    assert_eq!(keys.len(), 1, "{jwks}");
    let key = &keys[0];
    let members: BTreeSet<&str> = key
        .as_object()
        .expect("a JWK object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        members,
        BTreeSet::from(["kid", "kty", "alg", "use", "n", "e"]),
        "{key}"
    );
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["alg"], "RS256");
    assert_eq!(key["use"], "sig");
    assert!(
        is_uuid(key["kid"].as_str().expect("kid is a string")),
        "{key}"
    );
    let n = URL_SAFE_NO_PAD
        .decode(key["n"].as_str().expect("n"))
        .expect("n is base64url without padding");
    let e = URL_SAFE_NO_PAD
        .decode(key["e"].as_str().expect("e"))
        .expect("e is base64url without padding");
    assert_eq!(n.len(), 256, "a 2048-bit modulus without a leading zero");
    assert_eq!(e, [1, 0, 1], "e = 65537");
}

#[tokio::test]
async fn token_kid_is_in_the_jwks() {
    let app = spawn_app().await;
    let (token, _) = token_and_app(&app).await;

    let jwks = app.jwks().await;

    let kid = jwt_kid(&token);
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|key| key["kid"].as_str())
        .collect();
    assert!(kids.contains(&kid.as_str()), "kid {kid} not in {kids:?}");
}

#[tokio::test]
async fn token_signature_verifies_with_jsonwebtoken_against_the_jwks() {
    let app = spawn_app_with(Setup::default().server_made_key()).await;
    let (token, worker) = token_and_app(&app).await;
    let jwks = app.jwks().await;

    let claims = verify_token(&jwks, &token, client_id(&worker), ISSUER)
        .unwrap_or_else(|error| panic!("{error}"));

    assert_eq!(claims, jwt_parts(&token).1);
    assert_eq!(claims["sub"], client_id(&worker));
}

#[tokio::test]
async fn independent_verification_refuses_a_tampered_token_or_the_wrong_audience_or_issuer() {
    let app = spawn_app().await;
    let (token, worker) = token_and_app(&app).await;
    let jwks = app.jwks().await;
    let id = client_id(&worker);

    // Same signature, claims changed: the scope widened.
    let segments: Vec<&str> = token.split('.').collect();
    let mut claims = jwt_parts(&token).1;
    claims["scope"] = serde_json::json!(["jobs:run", "admin"]);
    let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("JSON"));
    let forged = format!("{}.{}.{}", segments[0], forged_payload, segments[2]);

    assert!(
        verify_token(&jwks, &forged, id, ISSUER).is_err(),
        "a tampered token verified"
    );
    assert!(
        verify_token(&jwks, &token, "someone-else", ISSUER).is_err(),
        "wrong audience accepted"
    );
    assert!(
        verify_token(&jwks, &token, id, "http://evil.test").is_err(),
        "wrong issuer accepted"
    );
    assert!(verify_token(&jwks, &token, id, ISSUER).is_ok());
}

#[tokio::test]
async fn jwks_is_the_same_on_every_request_and_for_every_token() {
    let app = spawn_app().await;
    let (first, worker) = token_and_app(&app).await;
    let second = app.token_for(&worker, None).await.access_token();

    assert_eq!(app.jwks().await, app.jwks().await);
    assert_eq!(jwt_kid(&first), jwt_kid(&second));
}
