//! `POST /oauth2/token` granting a token by the client credentials grant (`client_secret_post`;
//! HTTP Basic is `client_auth`): the exact answer and headers, and the token's header and claims.

use crate::harness::*;
use reqwest::StatusCode;
use serde_json::json;
use std::collections::BTreeSet;

#[tokio::test]
async fn client_secret_post_gets_a_bearer_token_with_exact_json_and_no_store_headers() {
    let app = spawn_app().await;
    let billing = billing(&app).await;

    let reply = app.token_for(&billing, None).await;

    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.header("content-type"), Some(JSON_CONTENT_TYPE));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("pragma"), Some("no-cache"));
    let body = reply.json();
    assert_eq!(
        keys_of(&body),
        BTreeSet::from(["access_token", "scope", "token_type", "expires_in"])
    );
    assert!(body.get("refresh_token").is_none());
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], READ);
    assert_eq!(body["expires_in"], 300);
    assert!(
        body["access_token"]
            .as_str()
            .is_some_and(|token| token.split('.').count() == 3)
    );
}

#[tokio::test]
async fn access_token_header_is_exactly_kid_typ_alg_in_that_order() {
    let app = spawn_app_with(Setup::default().server_made_key()).await;
    let billing = billing(&app).await;

    let token = app.token_for(&billing, None).await.access_token();

    let (header, _) = jwt_parts(&token);
    let kid = jwt_kid(&token);
    assert!(is_uuid(&kid), "kid {kid:?} is not a UUID");
    assert_eq!(
        header,
        format!(r#"{{"kid":"{kid}","typ":"JWT","alg":"RS256"}}"#)
    );
}

#[tokio::test]
async fn access_token_claims_name_the_client_issuer_lifetime_and_scopes() {
    let app = spawn_app().await;
    let billing = billing(&app).await;
    let id = client_id(&billing);

    let before = unix_now();
    let reply = app.token_for(&billing, None).await;
    let after = unix_now();

    let body = reply.json();
    let (_, claims) = jwt_parts(&reply.access_token());
    assert_eq!(
        keys_of(&claims),
        BTreeSet::from(["sub", "aud", "iss", "nbf", "iat", "exp", "jti", "scope"])
    );
    assert_eq!(claims["sub"], id);
    assert_eq!(claims["aud"], id);
    assert_eq!(claims["iss"], ISSUER);
    let iat = claims["iat"].as_i64().expect("iat is an integer");
    // The server and the test read the same system clock; allow for a second boundary.
    assert!(
        (before - 1..=after + 1).contains(&iat),
        "iat {iat} is not between {before} and {after}"
    );
    assert_eq!(claims["nbf"].as_i64(), Some(iat));
    let exp = claims["exp"].as_i64().expect("exp is an integer");
    assert_eq!(exp, iat + 300, "the default TTL is 300 s");
    assert_eq!(body["expires_in"].as_i64(), Some(exp - iat));
    let jti = claims["jti"].as_str().expect("jti is a string");
    assert!(is_uuid(jti), "jti {jti:?} is not a UUID");
    assert_eq!(claims["scope"], json!([READ]));
}

#[tokio::test]
async fn custom_token_ttl_sets_exp_and_expires_in() {
    let app = spawn_app().await;
    let short = app
        .seed_app(new_app("short").scopes(&[READ]).token_ttl(60))
        .await;

    let reply = app.token_for(&short, None).await;

    let (_, claims) = jwt_parts(&reply.access_token());
    let iat = claims["iat"].as_i64().expect("iat");
    assert_eq!(claims["exp"].as_i64(), Some(iat + 60));
    assert_eq!(reply.json()["expires_in"], 60);
}

#[tokio::test]
async fn every_token_has_its_own_jti() {
    let app = spawn_app().await;
    let billing = billing(&app).await;

    let first = jwt_parts(&app.token_for(&billing, None).await.access_token()).1;
    let second = jwt_parts(&app.token_for(&billing, None).await.access_token()).1;

    let (first, second) = (
        first["jti"].as_str().expect("jti"),
        second["jti"].as_str().expect("jti"),
    );
    assert!(is_uuid(first) && is_uuid(second), "{first} / {second}");
    assert_ne!(first, second);
}
