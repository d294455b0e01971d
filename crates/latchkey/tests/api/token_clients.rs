//! Which clients the token endpoint refuses and how: unknown, wrong or missing credentials,
//! disabled and deleted apps, and app types without the client credentials grant.

use crate::harness::*;
use reqwest::StatusCode;

#[tokio::test]
async fn unknown_client_is_401_invalid_client_without_challenge() {
    let app = spawn_app().await;
    billing(&app).await;

    let reply = app
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", "0123456789abcdef0123456789abcdef"),
            ("client_secret", "some-secret"),
        ])
        .await;

    reply.assert_error(401, "invalid_client");
    assert_eq!(reply.header("www-authenticate"), None);
}

#[tokio::test]
async fn wrong_secret_is_401_invalid_client_and_the_answer_never_contains_it() {
    let app = spawn_app().await;
    let billing = billing(&app).await;
    let wrong = "Wr0ngSecret-unmistakable-marker-7f3a9c";

    let reply = app
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id(&billing)),
            ("client_secret", wrong),
        ])
        .await;

    reply.assert_error(401, "invalid_client");
    assert_eq!(
        reply.header("www-authenticate"),
        None,
        "no challenge without Basic"
    );
    assert!(
        !reply.body.contains(wrong),
        "the body echoes the secret: {}",
        reply.body
    );
    assert!(
        !reply.body.contains(client_secret(&billing)),
        "the body leaks the real secret"
    );
    for (name, value) in &reply.headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        assert!(!value.contains(wrong), "header {name} echoes the secret");
    }
}

#[tokio::test]
async fn missing_secret_is_401_invalid_client() {
    let app = spawn_app().await;
    let billing = billing(&app).await;

    let reply = app
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id(&billing)),
        ])
        .await;
    reply.assert_error(401, "invalid_client");
    assert_eq!(reply.header("www-authenticate"), None);

    let empty = app
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id(&billing)),
            ("client_secret", ""),
        ])
        .await;
    empty.assert_error(401, "invalid_client");
}

#[tokio::test]
async fn no_client_authentication_at_all_is_401_invalid_client_without_challenge() {
    let app = spawn_app().await;

    let reply = app
        .post_token(&[("grant_type", "client_credentials"), ("scope", READ)])
        .await;

    reply.assert_error(401, "invalid_client");
    assert_eq!(reply.header("www-authenticate"), None);
}

#[tokio::test]
async fn client_secret_without_client_id_is_invalid_request() {
    let app = spawn_app().await;
    let billing = billing(&app).await;

    let reply = app
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_secret", client_secret(&billing)),
        ])
        .await;

    // A missing parameter (README: "missing or repeated parameter"), not a failed login.
    reply.assert_error(400, "invalid_request");
}

#[tokio::test]
async fn disabled_and_deleted_apps_are_401_invalid_client() {
    let app = spawn_app().await;
    for (command, refused) in [("disable", "disabled"), ("delete", "deleted")] {
        let client = app.seed_app(new_app(&format!("{refused}-app"))).await;
        let (id, secret) = (client_id(&client), client_secret(&client));
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ];

        app.cli_ok(&["app", command, id]);

        let reply = app
            .token_until(
                &format!("the {refused} app to be refused"),
                &form,
                Reply::is_invalid_client,
            )
            .await;
        reply.assert_error(401, "invalid_client");
        assert_eq!(reply.header("www-authenticate"), None, "{refused}");
        let basic = app
            .post_token_basic(id, secret, &[("grant_type", "client_credentials")])
            .await;
        basic.assert_error(401, "invalid_client");
        assert_eq!(
            basic.header("www-authenticate"),
            Some(BASIC_CHALLENGE),
            "{refused}"
        );
    }
}

#[tokio::test]
async fn web_app_without_client_credentials_is_unauthorized_client() {
    let app = spawn_app().await;
    let web = app
        .seed_app(new_app("portal").scopes(&[READ]).kind("web"))
        .await;
    assert!(
        web["client_secret"].is_string(),
        "a web app is confidential: {web}"
    );

    app.token_for(&web, None)
        .await
        .assert_error(400, "unauthorized_client");
    app.post_token_basic(
        client_id(&web),
        client_secret(&web),
        &[("grant_type", "client_credentials")],
    )
    .await
    .assert_error(400, "unauthorized_client");
}

#[tokio::test]
async fn web_app_created_with_the_client_credentials_grant_gets_a_token() {
    let app = spawn_app().await;
    let web = app
        .seed_app(
            new_app("portal")
                .scopes(&[READ])
                .grant_types(&["client_credentials"])
                .kind("web"),
        )
        .await;

    let reply = app.token_for(&web, None).await;

    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(jwt_parts(&reply.access_token()).1["sub"], client_id(&web));
}

#[tokio::test]
async fn spa_and_native_apps_presenting_their_client_id_are_unauthorized_client() {
    let app = spawn_app().await;
    for kind in ["spa", "native"] {
        let public = app
            .seed_app(
                new_app(&format!("public-{kind}"))
                    .scopes(&[READ])
                    .kind(kind),
            )
            .await;
        assert!(
            public["client_secret"].is_null(),
            "a {kind} app has no secret: {public}"
        );

        app.post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id(&public)),
        ])
        .await
        .assert_error(400, "unauthorized_client");
        app.post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id(&public)),
            ("scope", READ),
        ])
        .await
        .assert_error(400, "unauthorized_client");
    }
}
