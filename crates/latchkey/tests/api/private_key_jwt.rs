//! `private_key_jwt` (RFC 7523 §2.2, OpenID Connect Core §9): an app holding public keys
//! (`--jwks FILE` or `--jwks-uri URL`) instead of a secret gets tokens with assertions signed by
//! its private key, made here with real RSA, P-256 and Ed25519 keys; every bad assertion is a
//! 401 `invalid_client`, and the same assertion authenticates introspection and revocation.

use crate::harness::*;
use latchkey_server::{Clock, ManualClock};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

/// The token endpoint URL of the default tenant, the other audience an assertion may name.
fn token_endpoint() -> String {
    format!("{ISSUER}{TOKEN_PATH}")
}

/// An app holding `key` inline, known to the server: its object and a first token's answer.
async fn app_with_key(app: &TestApp, name: &str, key: &TestKey) -> (Value, Reply) {
    let created = app.create_app_with_jwks(name, &jwks_of(&[key]), &[]);
    let id = client_id(&created).to_owned();
    let reply = app
        .token_once_known(&format!("{name}'s key to be accepted"), Some(&id), || {
            key.sign(&assertion_claims(&id, ISSUER, unix_now()))
        })
        .await;
    (created, reply)
}

#[tokio::test]
async fn rsa_ec_and_ed25519_keys_each_get_a_token() {
    let app = spawn_app().await;
    for key in [TestKey::rsa(), TestKey::ec(), TestKey::ed25519()] {
        let (created, reply) = app_with_key(&app, key.default_alg(), &key).await;
        let (_, claims) = jwt_parts(&reply.access_token());
        assert_eq!(claims["sub"], client_id(&created), "{key:?}");
        assert_eq!(reply.json()["token_type"], "Bearer", "{key:?}");
    }
}

#[tokio::test]
async fn ps256_signed_with_an_rsa_key_published_without_alg_gets_a_token() {
    let app = spawn_app().await;
    let key = TestKey::rsa();
    let created = app.create_app_with_jwks("pss", &json!({"keys": [key.bare_jwk()]}), &[]);
    let id = client_id(&created).to_owned();
    let header = json!({"alg": "PS256", "kid": key.kid(), "typ": "JWT"});

    app.token_once_known("a PS256 assertion to be accepted", Some(&id), || {
        key.sign_with_header(&header, &assertion_claims(&id, ISSUER, unix_now()))
    })
    .await;
}

#[tokio::test]
async fn an_app_created_with_keys_has_no_secret_and_shows_them() {
    let app = spawn_app().await;
    let key = TestKey::ec();
    let jwks = jwks_of(&[&key]);

    let inline = app.create_app_with_jwks("inline", &jwks, &[]);
    assert_eq!(inline["client_secret"], Value::Null, "{inline}");
    let shown = app.cli_json(&["app", "show", client_id(&inline), "--json"]);
    assert_eq!(shown["jwks"], jwks, "{shown}");

    let publisher = TestIssuer::start_with(TestKey::ec()).await;
    let uri = publisher.jwks_uri();
    let by_uri = app.create_app_with_jwks_uri("by-uri", &uri, &[]);
    assert_eq!(by_uri["client_secret"], Value::Null, "{by_uri}");
    let shown = app.cli_json(&["app", "show", client_id(&by_uri), "--json"]);
    assert_eq!(shown["jwks_uri"], uri, "{shown}");
}

#[tokio::test]
async fn a_jwks_uri_that_is_not_https_nor_loopback_is_refused() {
    let app = spawn_app().await;
    assert_cli_refuses(
        &app,
        &[
            "app",
            "create",
            "--name",
            "plain-http",
            "--jwks-uri",
            "http://keys.example.test/jwks",
        ],
        &["https"],
    );
}

#[tokio::test]
async fn assertions_may_name_the_issuer_or_the_token_endpoint_and_omit_client_id() {
    let app = spawn_app().await;
    let key = TestKey::rsa();
    let (created, _) = app_with_key(&app, "worker", &key).await;
    let id = client_id(&created);
    let now = unix_now();

    let mut accepted = Vec::new();
    for (case, audience) in [
        ("aud = the token endpoint", json!(token_endpoint())),
        ("aud = [the issuer]", json!([ISSUER])),
        ("aud = [the token endpoint]", json!([token_endpoint()])),
    ] {
        let mut claims = assertion_claims(id, ISSUER, now);
        claims["aud"] = audience;
        accepted.push((case, key.sign(&claims), Some(id)));
    }
    let without_id = key.sign(&assertion_claims(id, ISSUER, now));
    accepted.push(("no client_id (it is the assertion's iss)", without_id, None));
    for typ in [Some("client-authentication+jwt"), None] {
        let mut header = json!({"alg": "RS256", "kid": key.kid()});
        if let Some(typ) = typ {
            header["typ"] = json!(typ);
        }
        let signed = key.sign_with_header(&header, &assertion_claims(id, ISSUER, now));
        accepted.push(("typ client-authentication+jwt or none", signed, Some(id)));
    }
    // A key set of one key may match an assertion whose header names no kid.
    let no_kid = key.sign_with_header(&json!({"alg": "RS256"}), &assertion_claims(id, ISSUER, now));
    accepted.push(("no kid, a key set of one key", no_kid, Some(id)));

    let mut refused = Vec::new();
    for (case, assertion, client) in &accepted {
        let reply = app.token_by_assertion(assertion, *client).await;
        if reply.status != StatusCode::OK {
            refused.push(format!("{case}: {reply:?}"));
        }
    }
    assert!(refused.is_empty(), "refused:\n{}", refused.join("\n"));
}

#[tokio::test]
async fn every_bad_assertion_is_401_invalid_client() {
    let app = spawn_app().await;
    let key = TestKey::rsa();
    let (created, _) = app_with_key(&app, "worker", &key).await;
    let other_key = TestKey::rsa();
    let (other, _) = app_with_key(&app, "other", &other_key).await;
    let id = client_id(&created);
    let now = unix_now();
    let good = || assertion_claims(id, ISSUER, now);
    let with = |member: &str, value: Value| {
        let mut claims = good();
        claims[member] = value;
        claims
    };
    let without = |member: &str| {
        let mut claims = good();
        claims.as_object_mut().map(|claims| claims.remove(member));
        claims
    };

    let replayed = key.sign(&good());
    let first = app.token_by_assertion(&replayed, Some(id)).await;
    first.granted("the first use");

    let unknown_kid_header = json!({"alg": "RS256", "kid": "no-such-kid", "typ": "JWT"});
    let tampered = {
        let signed = key.sign(&good());
        let parts: Vec<&str> = signed.split('.').collect();
        let forged = base64_url(&with("sub", json!(client_id(&other))).to_string());
        format!("{}.{forged}.{}", parts[0], parts[2])
    };
    let cases: Vec<(&str, String, Option<&str>)> = vec![
        (
            "aud another server",
            key.sign(&with("aud", json!("https://elsewhere.test"))),
            Some(id),
        ),
        (
            "aud another server's token endpoint",
            key.sign(&with("aud", json!("https://elsewhere.test/oauth2/token"))),
            Some(id),
        ),
        (
            "aud the client id",
            key.sign(&with("aud", json!(id))),
            Some(id),
        ),
        (
            "expired",
            key.sign(
                &json!({"iss": id, "sub": id, "aud": ISSUER, "iat": now - 900,
                "exp": now - 300, "jti": fresh_jti()}),
            ),
            Some(id),
        ),
        ("exp missing", key.sign(&without("exp")), Some(id)),
        (
            "lives two hours",
            key.sign(&with("exp", json!(now + 7200))),
            Some(id),
        ),
        (
            "lives more than an hour without iat",
            key.sign(&{
                let mut claims = with("exp", json!(now + 3900));
                claims.as_object_mut().map(|claims| claims.remove("iat"));
                claims
            }),
            Some(id),
        ),
        ("jti missing", key.sign(&without("jti")), Some(id)),
        ("replayed jti", replayed.clone(), Some(id)),
        (
            "iss another app",
            key.sign(&with("iss", json!(client_id(&other)))),
            Some(id),
        ),
        (
            "sub another app",
            key.sign(&with("sub", json!(client_id(&other)))),
            Some(id),
        ),
        (
            "client_id another app",
            key.sign(&good()),
            Some(client_id(&other)),
        ),
        ("alg none", unsigned_jwt(key.kid(), &good()), Some(id)),
        (
            "alg none, no client_id",
            unsigned_jwt(key.kid(), &good()),
            None,
        ),
        (
            "HS256 keyed with the public key",
            key.sign_hs256_with_public_key(&good()),
            Some(id),
        ),
        ("another app's key", other_key.sign(&good()), Some(id)),
        (
            "another app's key, no client_id",
            other_key.sign(&good()),
            None,
        ),
        (
            "a kid the app does not hold",
            key.sign_with_header(&unknown_kid_header, &good()),
            Some(id),
        ),
        ("claims changed after signing", tampered, Some(id)),
        ("not a JWT", "not-a-jwt".to_owned(), Some(id)),
    ];

    let mut wrong = Vec::new();
    for (case, assertion, client) in &cases {
        let reply = app.token_by_assertion(assertion, *client).await;
        if !reply.is_error(401, "invalid_client") {
            wrong.push(format!("{case}: {reply:?}"));
        } else if reply.body.contains(assertion.as_str()) {
            wrong.push(format!(
                "{case}: the answer repeats the assertion: {}",
                reply.body
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "not 401 invalid_client:\n{}",
        wrong.join("\n")
    );
}

fn base64_url(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

#[tokio::test]
async fn an_assertion_for_another_tenants_issuer_is_refused() {
    let app = spawn_app().await;
    acme(&app).await;
    let key = TestKey::ec();
    let created = app.create_app_with_jwks("acme-worker", &jwks_of(&[&key]), &["--tenant", "acme"]);
    let id = client_id(&created).to_owned();
    let acme = app.at(ACME_HOST);
    acme.token_once_known("acme's app to be accepted at its issuer", Some(&id), || {
        key.sign(&assertion_claims(&id, ACME_ISSUER, unix_now()))
    })
    .await;

    let wrong_tenant = key.sign(&assertion_claims(&id, ISSUER, unix_now()));
    acme.token_by_assertion(&wrong_tenant, Some(&id))
        .await
        .assert_error(401, "invalid_client");
}

#[tokio::test]
async fn a_removed_key_is_refused() {
    let app = spawn_app().await;
    // An app with a secret beside its keys, so that removing every key leaves it a way in.
    let owner = app.seed_app(new_app("orders")).await;
    let id = client_id(&owner).to_owned();
    let old = TestKey::rsa();
    app.update_jwks(&id, &jwks_of(&[&old]), &[]);
    app.token_once_known("the first key to be accepted", Some(&id), || {
        old.sign(&assertion_claims(&id, ISSUER, unix_now()))
    })
    .await;

    let new = TestKey::ec();
    app.update_jwks(&id, &jwks_of(&[&new]), &[]);
    app.token_once_known("the new key to be accepted", Some(&id), || {
        new.sign(&assertion_claims(&id, ISSUER, unix_now()))
    })
    .await;
    let replaced = old.sign(&assertion_claims(&id, ISSUER, unix_now()));
    app.token_by_assertion(&replaced, Some(&id))
        .await
        .assert_error(401, "invalid_client");

    app.cli_ok(&["app", "update", &id, "--no-jwks"]);
    app.reply_until(
        "the removed key set to be refused",
        async || {
            let assertion = new.sign(&assertion_claims(&id, ISSUER, unix_now()));
            app.token_by_assertion(&assertion, Some(&id)).await
        },
        Reply::is_invalid_client,
    )
    .await
    .assert_error(401, "invalid_client");
    let shown = app.cli_json(&["app", "show", &id, "--json"]);
    assert_eq!(shown["jwks"], Value::Null, "{shown}");
    app.token_for(&owner, None)
        .await
        .granted("the secret after --no-jwks");
}

#[tokio::test]
async fn a_secret_and_an_assertion_in_one_request_are_invalid_request() {
    let app = spawn_app().await;
    let owner = app.seed_app(new_app("orders")).await;
    let (id, secret) = (client_id(&owner), client_secret(&owner));
    let key = TestKey::ed25519();
    app.update_jwks(id, &jwks_of(&[&key]), &[]);
    app.token_once_known("the added key to be accepted", Some(id), || {
        key.sign(&assertion_claims(id, ISSUER, unix_now()))
    })
    .await;

    let assertion = key.sign(&assertion_claims(id, ISSUER, unix_now()));
    let mut form = assertion_form(&assertion, Some(id));
    form.push(("client_secret", secret));
    app.post_token(&form)
        .await
        .assert_error(400, "invalid_request");

    let assertion = key.sign(&assertion_claims(id, ISSUER, unix_now()));
    app.post_token_basic(id, secret, &assertion_form(&assertion, None))
        .await
        .assert_error(400, "invalid_request");
}

#[tokio::test]
async fn no_secret_then_the_old_secret_fails_and_the_key_keeps_working() {
    let app = spawn_app().await;
    let owner = app.seed_app(new_app("orders")).await;
    let id = client_id(&owner);
    let key = TestKey::rsa();

    // Add the key, switch the client, remove the secret: no moment without a way in.
    app.update_jwks(id, &jwks_of(&[&key]), &[]);
    app.token_once_known("the added key to be accepted", Some(id), || {
        key.sign(&assertion_claims(id, ISSUER, unix_now()))
    })
    .await;
    assert_eq!(
        app.token_for(&owner, None).await.status,
        StatusCode::OK,
        "the secret still works"
    );

    app.cli_ok(&["app", "update", id, "--no-secret"]);
    app.wait_until_refused(&owner, "the removed secret to be refused")
        .await;
    let reply = app
        .token_by_assertion(
            &key.sign(&assertion_claims(id, ISSUER, unix_now())),
            Some(id),
        )
        .await;
    reply.granted("the key after --no-secret");
}

#[tokio::test]
async fn introspection_and_revocation_accept_an_assertion() {
    let app = spawn_app().await;
    let key = TestKey::ec();
    let (created, reply) = app_with_key(&app, "worker", &key).await;
    let id = client_id(&created).to_owned();
    let token = reply.access_token();
    let assertion = || key.sign(&assertion_claims(&id, ISSUER, unix_now()));

    let introspected = app
        .post_with_assertion("/oauth2/introspect", &assertion(), &token)
        .await;
    assert_eq!(
        introspected.json_of(200)["active"],
        true,
        "{introspected:?}"
    );

    let bad = unsigned_jwt(key.kid(), &assertion_claims(&id, ISSUER, unix_now()));
    app.post_with_assertion("/oauth2/introspect", &bad, &token)
        .await
        .assert_error(401, "invalid_client");
    app.post_with_assertion("/oauth2/revoke", &bad, &token)
        .await
        .assert_error(401, "invalid_client");

    let revoked = app
        .post_with_assertion("/oauth2/revoke", &assertion(), &token)
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{revoked:?}");
    app.reply_until(
        "the revoked token to introspect inactive",
        async || {
            app.post_with_assertion("/oauth2/introspect", &assertion(), &token)
                .await
        },
        |reply| reply.status == StatusCode::OK && reply.json()["active"] == false,
    )
    .await;
}

#[tokio::test]
async fn discovery_lists_private_key_jwt_and_its_algorithms() {
    let app = spawn_app().await;
    let methods = app
        .metadata_list("token_endpoint_auth_methods_supported")
        .await;
    assert!(
        methods.iter().any(|method| method == "private_key_jwt"),
        "{methods:?}"
    );
    let mut algs = app
        .metadata_list("token_endpoint_auth_signing_alg_values_supported")
        .await;
    algs.sort_unstable();
    assert_eq!(algs, ["ES256", "EdDSA", "PS256", "RS256"]);
}

#[tokio::test]
async fn a_jwks_uri_is_fetched_and_a_key_rotated_there_is_followed() {
    let clock = Arc::new(ManualClock::new(unix_now()));
    let app = spawn_app_with(Setup::with_clock(Arc::clone(&clock))).await;
    let first = TestKey::rsa();
    let publisher = TestIssuer::start_with(TestKey::rsa()).await;
    publisher.publish_keys(&[&first]);
    let created = app.create_app_with_jwks_uri("worker", &publisher.jwks_uri(), &[]);
    let id = client_id(&created).to_owned();
    app.token_once_known("the key at the URI to be accepted", Some(&id), || {
        first.sign(&assertion_claims(&id, ISSUER, clock.now()))
    })
    .await;
    assert!(publisher.jwks_served() >= 1, "the key set was fetched");

    let present = async |key: &TestKey| {
        app.token_by_assertion(
            &key.sign(&assertion_claims(&id, ISSUER, clock.now())),
            Some(&id),
        )
        .await
    };

    // A known kid is served from the cache.
    let fetched = publisher.jwks_served();
    for _ in 0..3 {
        present(&first).await.granted("the cached key");
    }
    assert_eq!(
        publisher.jwks_served(),
        fetched,
        "a known kid caused a fetch"
    );

    // The client rotates: the URI now holds only the new key. An unknown kid may cause one
    // fetch a minute, so within the minute at most one more; past it the new key works.
    let second = TestKey::ec();
    publisher.publish_keys(&[&second]);
    for _ in 0..3 {
        let _ = present(&second).await;
    }
    assert!(
        publisher.jwks_served() <= fetched + 1,
        "unknown kids within a minute fetched {} times",
        publisher.jwks_served() - fetched
    );
    clock.advance(61);
    app.token_once_known("the rotated key to be accepted", Some(&id), || {
        second.sign(&assertion_claims(&id, ISSUER, clock.now()))
    })
    .await;
    present(&first).await.assert_error(401, "invalid_client");
}
