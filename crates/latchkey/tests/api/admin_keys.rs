//! Signing keys and revocations through the admin API: a rotation signs new tokens with the new
//! key, and revocations make tokens inactive.

use crate::harness::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn key_rotation_through_the_api_signs_new_tokens_with_the_new_key() {
    let admins = admins().await;
    let app = &admins.app;
    let client = app.seed_app(new_app("svc")).await;
    let before = jwt_kid(&app.token_for(&client, None).await.access_token());

    let rotated = ok_json(
        &admins
            .as_root(
                Method::POST,
                "/admin/v1/tenants/default/keys/rotate",
                Some(&json!({"alg": "ES256"})),
            )
            .await,
        200,
    );
    assert_eq!(
        (rotated["alg"].as_str(), rotated["status"].as_str()),
        (Some("ES256"), Some("active"))
    );
    let kid = rotated["kid"].as_str().unwrap().to_owned();
    assert_ne!(kid, before);
    eventually("new tokens to be signed with the new key", async || {
        let token = app.token_for(&client, None).await.access_token();
        (jwt_kid(&token) == kid)
            .then_some(())
            .ok_or(jwt_kid(&token))
    })
    .await;

    let listed = ok_json(
        &admins
            .as_root(Method::GET, "/admin/v1/tenants/default/keys", None)
            .await,
        200,
    );
    let statuses: Vec<(&str, &str)> = listed["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| {
            (
                key["kid"].as_str().unwrap(),
                key["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(statuses.contains(&(kid.as_str(), "active")), "{statuses:?}");
    assert!(
        statuses.contains(&(before.as_str(), "retiring")),
        "{statuses:?}"
    );
    // acme's keys did not move.
    assert!(
        app.stored_keys_of("acme")
            .await
            .iter()
            .all(|key| key.kid != kid)
    );

    admins
        .root_fails(
            Method::POST,
            "/admin/v1/tenants/default/keys/rotate",
            Some(&json!({"alg": "HS256"})),
            422,
            "invalid_settings",
        )
        .await;
}

#[tokio::test]
async fn revocations_through_the_api_make_tokens_inactive() {
    let admins = admins().await;
    let app = &admins.app;
    let client = app.seed_app(new_app("svc")).await;
    let server = app.seed_app(new_app("rs").introspect()).await;
    let first = app.token_for(&client, None).await.access_token();
    let second = app.token_for(&client, None).await.access_token();
    let jti = jwt_parts(&first).1["jti"].as_str().unwrap().to_owned();

    let revoked = ok_json(
        &admins
            .as_root(
                Method::POST,
                "/admin/v1/tenants/default/revocations",
                Some(&json!({"jti": jti})),
            )
            .await,
        200,
    );
    assert_eq!(
        (&revoked["jti"], &revoked["revoked"]),
        (&json!(jti), &json!(true))
    );
    app.wait_for_active(&server, &first, false).await;
    assert_eq!(app.introspect(&server, &second).await["active"], true);

    ok_json(
        &admins
            .as_root(
                Method::POST,
                "/admin/v1/tenants/default/revocations",
                Some(&json!({"client_id": client_id(&client)})),
            )
            .await,
        200,
    );
    app.wait_for_active(&server, &second, false).await;

    for body in [
        json!({}),
        json!({"jti": "a", "client_id": "b"}),
        json!({"jti": ""}),
    ] {
        admins
            .root_fails(
                Method::POST,
                "/admin/v1/tenants/default/revocations",
                Some(&body),
                422,
                "invalid_settings",
            )
            .await;
    }
}
