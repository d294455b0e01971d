//! Client authentication at the token endpoint: `client_secret_basic` (with RFC 6749 §2.3.1's
//! form-urlencoding of id and secret inside the Basic credentials) and `client_secret_post`, and
//! what happens when they are mixed or malformed.

use crate::harness::*;
use reqwest::StatusCode;
use serde_json::Value;

const GRANT: [(&str, &str); 1] = [("grant_type", "client_credentials")];

async fn m2m(app: &TestApp) -> Value {
    app.seed_app(new_app("worker").scopes(&["jobs:run"])).await
}

#[tokio::test]
async fn client_secret_basic_gets_a_token() {
    let app = spawn_app().await;
    let worker = m2m(&app).await;

    let reply = app
        .post_token_basic(client_id(&worker), client_secret(&worker), &GRANT)
        .await;

    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.header("content-type"), Some(JSON_CONTENT_TYPE));
    let (_, claims) = jwt_parts(&reply.access_token());
    assert_eq!(claims["sub"], client_id(&worker));
    assert_eq!(reply.json()["scope"], "jobs:run");
}

#[tokio::test]
async fn client_secret_post_gets_a_token() {
    let app = spawn_app().await;
    let worker = m2m(&app).await;

    let reply = app
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id(&worker)),
            ("client_secret", client_secret(&worker)),
        ])
        .await;

    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(
        jwt_parts(&reply.access_token()).1["sub"],
        client_id(&worker)
    );
}

#[tokio::test]
async fn basic_credentials_are_form_urlencoded_before_base64() {
    let app = spawn_app().await;
    let worker = m2m(&app).await;

    // Every byte of both parts percent-encoded is still the same id and secret once decoded.
    let header = basic_header_raw(
        &percent_encode_all(client_id(&worker)),
        &percent_encode_all(client_secret(&worker)),
    );
    let reply = app.post_token_authorization(&header, &GRANT).await;

    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(
        jwt_parts(&reply.access_token()).1["sub"],
        client_id(&worker)
    );
}

/// Rotates the app's secret until it holds a `-` (a URL-safe base64 secret has one about half
/// the time), waits until the server accepts it, and returns it.
async fn secret_with_a_dash(app: &TestApp, id: &str) -> String {
    for _ in 0..64 {
        let rotated = app.cli_json(&["app", "rotate-secret", id, "--json"]);
        let secret = client_secret(&rotated).to_owned();
        if secret.contains('-') {
            let form = [
                ("grant_type", "client_credentials"),
                ("client_id", id),
                ("client_secret", secret.as_str()),
            ];
            app.token_until("the rotated secret to be accepted", &form, |reply| {
                reply.status == StatusCode::OK
            })
            .await;
            return secret;
        }
    }
    panic!("64 rotated secrets in a row had no '-'");
}

#[tokio::test]
async fn percent_encoded_dash_in_a_real_secret_authenticates_through_basic() {
    let app = spawn_app().await;
    let worker = m2m(&app).await;
    let id = client_id(&worker);
    let secret = secret_with_a_dash(&app, id).await;

    let encoded = secret.replace('-', "%2D");
    assert_ne!(encoded, secret);
    let reply = app
        .post_token_authorization(&basic_header_raw(id, &encoded), &GRANT)
        .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "secret with %2D for '-': {reply:?}"
    );

    let lowercase = secret.replace('-', "%2d");
    let reply = app
        .post_token_authorization(&basic_header_raw(id, &lowercase), &GRANT)
        .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "secret with %2d for '-': {reply:?}"
    );

    let plain = app
        .post_token_authorization(&basic_header_raw(id, &secret), &GRANT)
        .await;
    assert_eq!(
        plain.status,
        StatusCode::OK,
        "the unencoded secret: {plain:?}"
    );
}

#[tokio::test]
async fn plus_and_percent_20_in_basic_credentials_decode_to_space_and_fail_cleanly() {
    let app = spawn_app().await;
    let worker = m2m(&app).await;
    let (id, secret) = (client_id(&worker), client_secret(&worker));

    let wrong_secrets = [
        format!("{secret}+"),
        format!("+{secret}"),
        format!("{secret}%20"),
        format!("{secret}+%20+"),
        "+".to_owned(),
    ];
    for wrong in &wrong_secrets {
        let reply = app
            .post_token_authorization(&basic_header_raw(id, wrong), &GRANT)
            .await;
        reply.assert_error(401, "invalid_client");
        assert_eq!(
            reply.header("www-authenticate"),
            Some(BASIC_CHALLENGE),
            "secret {wrong:?}"
        );
    }
    for wrong_id in [
        format!("{id}+"),
        format!("{id}%20"),
        "+".to_owned(),
        "%20".to_owned(),
    ] {
        let reply = app
            .post_token_authorization(&basic_header_raw(&wrong_id, secret), &GRANT)
            .await;
        reply.assert_error(401, "invalid_client");
        assert_eq!(
            reply.header("www-authenticate"),
            Some(BASIC_CHALLENGE),
            "id {wrong_id:?}"
        );
    }

    // The server is unharmed.
    let reply = app.post_token_basic(id, secret, &GRANT).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
}

#[tokio::test]
async fn wrong_basic_secret_is_401_with_challenge() {
    let app = spawn_app().await;
    let worker = m2m(&app).await;
    let wrong = "Wr0ng-basic-secret-marker-51d2";

    let reply = app
        .post_token_basic(client_id(&worker), wrong, &GRANT)
        .await;

    reply.assert_error(401, "invalid_client");
    assert_eq!(reply.header("www-authenticate"), Some(BASIC_CHALLENGE));
    assert!(
        !reply.body.contains(wrong),
        "the body echoes the secret: {}",
        reply.body
    );
}

#[tokio::test]
async fn unknown_client_through_basic_is_401_with_challenge() {
    let app = spawn_app().await;

    let reply = app
        .post_token_basic("0123456789abcdef0123456789abcdef", "whatever", &GRANT)
        .await;

    reply.assert_error(401, "invalid_client");
    assert_eq!(reply.header("www-authenticate"), Some(BASIC_CHALLENGE));
}

#[tokio::test]
async fn malformed_basic_credentials_are_401_with_challenge() {
    let app = spawn_app().await;

    for header in [
        "Basic !!!",
        "Basic",
        "Basic bm9jb2xvbg==",
        "Basic OnNlY3JldA==",
        "Basic YTolZmY=",
    ] {
        let reply = app.post_token_authorization(header, &GRANT).await;
        reply.assert_error(401, "invalid_client");
        assert_eq!(
            reply.header("www-authenticate"),
            Some(BASIC_CHALLENGE),
            "{header}"
        );
    }
}

#[tokio::test]
async fn failed_body_authentication_carries_no_challenge() {
    let app = spawn_app().await;
    let worker = m2m(&app).await;

    let reply = app
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id(&worker)),
            ("client_secret", "nope"),
        ])
        .await;

    reply.assert_error(401, "invalid_client");
    assert_eq!(reply.header("www-authenticate"), None);
}

#[tokio::test]
async fn basic_and_body_credentials_together_are_invalid_request() {
    let app = spawn_app().await;
    let worker = m2m(&app).await;
    let (id, secret) = (client_id(&worker), client_secret(&worker));

    let both = app
        .post_token_basic(
            id,
            secret,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", id),
                ("client_secret", secret),
            ],
        )
        .await;
    both.assert_error(400, "invalid_request");

    let secret_in_body = app
        .post_token_basic(
            id,
            secret,
            &[
                ("grant_type", "client_credentials"),
                ("client_secret", secret),
            ],
        )
        .await;
    secret_in_body.assert_error(400, "invalid_request");
}

#[tokio::test]
async fn basic_with_the_same_client_id_in_the_body_is_accepted() {
    let app = spawn_app().await;
    let worker = m2m(&app).await;
    let (id, secret) = (client_id(&worker), client_secret(&worker));

    let reply = app
        .post_token_basic(
            id,
            secret,
            &[("grant_type", "client_credentials"), ("client_id", id)],
        )
        .await;

    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
}

#[tokio::test]
async fn basic_with_another_client_id_in_the_body_is_invalid_request() {
    let app = spawn_app().await;
    let worker = m2m(&app).await;
    let other = app.seed_app(new_app("other")).await;

    let reply = app
        .post_token_basic(
            client_id(&worker),
            client_secret(&worker),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", client_id(&other)),
            ],
        )
        .await;

    // Two different client ids in one request is a malformed request.
    reply.assert_error(400, "invalid_request");
}

#[tokio::test]
async fn basic_scheme_name_is_case_insensitive() {
    let app = spawn_app().await;
    let worker = m2m(&app).await;
    let header =
        basic_header(client_id(&worker), client_secret(&worker)).replacen("Basic", "bAsIc", 1);

    let reply = app.post_token_authorization(&header, &GRANT).await;

    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
}
