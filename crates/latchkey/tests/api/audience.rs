//! Per-app audiences (RFC 8707 `resource`, or `audience`) and static custom claims.

use crate::harness::*;
use serde_json::{Value, json};

const API: &str = "https://api.example.test";
const ORDERS: &str = "urn:example:orders";

/// A token request with the app's credentials in the body and extra parameters.
async fn token_with(app: &TestApp, client: &Value, extra: &[(&str, &str)]) -> Reply {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_id", client_id(client)),
        ("client_secret", client_secret(client)),
    ];
    form.extend_from_slice(extra);
    app.post_token(&form).await
}

#[tokio::test]
async fn resource_names_the_tokens_aud_verified_against_the_jwks() {
    let app = spawn_app().await;
    let client = app.seed_app(new_app("svc").audiences(&[API, ORDERS])).await;

    let reply = token_with(&app, &client, &[("resource", API)]).await;

    assert_eq!(reply.status.as_u16(), 200, "{reply:?}");
    let jwks = app.jwks().await;
    let claims = verify_token(&jwks, &reply.access_token(), API, ISSUER).unwrap();
    assert_eq!(claims["aud"], API);
    assert_eq!(claims["sub"], client_id(&client));
}

#[tokio::test]
async fn the_audience_parameter_works_like_resource() {
    let app = spawn_app().await;
    let client = app.seed_app(new_app("svc").audiences(&[ORDERS])).await;

    let reply = token_with(&app, &client, &[("audience", ORDERS)]).await;

    let (_, claims) = jwt_parts(&reply.access_token());
    assert_eq!(claims["aud"], ORDERS);
}

#[tokio::test]
async fn without_a_resource_aud_stays_the_client_id() {
    let app = spawn_app().await;
    let client = app.seed_app(new_app("svc").audiences(&[API])).await;

    let reply = token_with(&app, &client, &[]).await;

    let (_, claims) = jwt_parts(&reply.access_token());
    assert_eq!(claims["aud"], client_id(&client));
}

#[tokio::test]
async fn a_resource_the_app_is_not_allowed_is_invalid_target() {
    let app = spawn_app().await;
    let client = app.seed_app(new_app("svc").audiences(&[API])).await;
    let without = app.seed_app(new_app("plain")).await;

    token_with(&app, &client, &[("resource", "https://other.test")])
        .await
        .assert_error(400, "invalid_target");
    token_with(&app, &without, &[("resource", API)])
        .await
        .assert_error(400, "invalid_target");
}

#[tokio::test]
async fn a_resource_that_is_not_an_absolute_uri_is_invalid_target() {
    let app = spawn_app().await;
    let client = app.seed_app(new_app("svc").audiences(&[API])).await;

    for bad in ["api.example.test", "https://api.example.test#part"] {
        token_with(&app, &client, &[("resource", bad)])
            .await
            .assert_error(400, "invalid_target");
    }
}

#[tokio::test]
async fn resource_and_audience_naming_different_audiences_is_invalid_request() {
    let app = spawn_app().await;
    let client = app.seed_app(new_app("svc").audiences(&[API, ORDERS])).await;

    token_with(&app, &client, &[("resource", API), ("audience", ORDERS)])
        .await
        .assert_error(400, "invalid_request");
}

#[tokio::test]
async fn a_wrong_secret_with_a_resource_is_invalid_client_not_invalid_target() {
    let app = spawn_app().await;
    let client = app.seed_app(new_app("svc").audiences(&[API])).await;

    let reply = app
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id(&client)),
            ("client_secret", "wrong"),
            ("resource", "https://not-allowed.test"),
        ])
        .await;

    reply.assert_error(401, "invalid_client");
}

#[tokio::test]
async fn custom_claims_of_every_json_type_follow_the_standard_claims() {
    let app = spawn_app().await;
    let client = app
        .seed_app(new_app("svc").claims(json!({"tier": "gold", "level": 3, "beta": true, "roles": ["reader","writer"], "org": {"id":7}})))
        .await;

    let token = token_with(&app, &client, &[]).await.access_token();

    let jwks = app.jwks().await;
    let claims = verify_token(&jwks, &token, client_id(&client), ISSUER).unwrap();
    assert_eq!(claims["tier"], "gold");
    assert_eq!(claims["level"], 3);
    assert_eq!(claims["beta"], true);
    assert_eq!(claims["roles"], json!(["reader", "writer"]));
    assert_eq!(claims["org"], json!({"id": 7}));
    // The seed's claims come first, in the seed's order, unchanged.
    let payload = token.split('.').nth(1).unwrap();
    let text = String::from_utf8(
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload).unwrap(),
    )
    .unwrap();
    let order: Vec<usize> = [
        "\"sub\"",
        "\"aud\"",
        "\"nbf\"",
        "\"scope\"",
        "\"iss\"",
        "\"exp\"",
        "\"iat\"",
        "\"jti\"",
        "\"beta\"",
    ]
    .iter()
    .map(|name| {
        text.find(name)
            .unwrap_or_else(|| panic!("{name} in {text}"))
    })
    .collect();
    assert!(order.windows(2).all(|pair| pair[0] < pair[1]), "{text}");
    assert_eq!(claims["sub"], client_id(&client));
}

#[tokio::test]
async fn registered_claim_names_are_refused_by_the_cli() {
    let app = spawn_app().await;
    for name in [
        "sub",
        "aud",
        "iss",
        "exp",
        "nbf",
        "iat",
        "jti",
        "scope",
        "client_id",
    ] {
        let claim = format!("{name}=x");
        let output = app.cli(&["app", "create", "--name", "svc", "--claim", &claim]);
        assert!(!output.status.success(), "{name}: {}", describe(&output));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("cannot be overridden"), "{name}: {stderr}");
    }
    let listed = app.cli_json(&["app", "list", "--json"]);
    assert_eq!(listed, json!([]), "nothing was created");
}

#[tokio::test]
async fn a_bad_audience_is_refused_by_the_cli_and_the_app_keeps_its_settings() {
    let app = spawn_app().await;
    let client = app.seed_app(new_app("svc").audiences(&[API])).await;

    let output = app.cli(&[
        "app",
        "update",
        client_id(&client),
        "--audience",
        "not a uri",
    ]);

    assert!(!output.status.success(), "{}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("absolute URI"));
    let shown = app.cli_json(&["app", "show", client_id(&client), "--json"]);
    assert_eq!(shown["audiences"], json!([API]));
}

#[tokio::test]
async fn app_update_of_audiences_and_claims_reaches_the_running_server() {
    let app = spawn_app().await;
    let client = app
        .seed_app(new_app("svc").claims(json!({"tier": "gold"})))
        .await;
    let id = client_id(&client).to_owned();

    app.cli_ok(&[
        "app",
        "update",
        &id,
        "--audience",
        ORDERS,
        "--claim",
        "tier=silver",
    ]);
    let token = eventually("the new audience and claim to be served", async || {
        let reply = token_with(&app, &client, &[("resource", ORDERS)]).await;
        if reply.status.as_u16() != 200 {
            return Err(format!("{reply:?}"));
        }
        let (_, claims) = jwt_parts(&reply.access_token());
        if claims["tier"] == "silver" {
            Ok(claims)
        } else {
            Err(format!("{claims}"))
        }
    })
    .await;
    assert_eq!(token["aud"], ORDERS);

    app.cli_ok(&["app", "update", &id, "--no-audiences", "--no-claims"]);
    eventually("audiences and claims to be removed", async || {
        let reply = token_with(&app, &client, &[("resource", ORDERS)]).await;
        if reply.status.as_u16() == 400 && reply.error() == "invalid_target" {
            Ok(())
        } else {
            Err(format!("{reply:?}"))
        }
    })
    .await;
    let (_, claims) = jwt_parts(&token_with(&app, &client, &[]).await.access_token());
    assert!(claims.get("tier").is_none(), "{claims}");
    let shown = app.cli_json(&["app", "show", &id, "--json"]);
    assert_eq!(
        (&shown["audiences"], &shown["claims"]),
        (&json!([]), &json!({}))
    );
}

#[tokio::test]
async fn token_reuse_never_hands_a_token_for_one_audience_to_another() {
    let app = spawn_app().await;
    let client = app
        .seed_app(new_app("svc").audiences(&[API, ORDERS]).token_reuse(80))
        .await;

    let for_api = token_with(&app, &client, &[("resource", API)])
        .await
        .access_token();
    let again = token_with(&app, &client, &[("resource", API)])
        .await
        .access_token();
    let for_orders = token_with(&app, &client, &[("resource", ORDERS)])
        .await
        .access_token();
    let for_none = token_with(&app, &client, &[]).await.access_token();

    assert_eq!(for_api, again, "an identical request reuses the token");
    assert_ne!(for_api, for_orders);
    assert_ne!(for_api, for_none);
    assert_eq!(jwt_parts(&for_orders).1["aud"], ORDERS);
    assert_eq!(jwt_parts(&for_none).1["aud"], client_id(&client));
}

#[tokio::test]
async fn a_token_for_a_resource_introspects_active_with_that_aud() {
    let app = spawn_app().await;
    let client = app.seed_app(new_app("svc").audiences(&[API])).await;
    let resource_server = app.seed_app(new_app("rs").introspect()).await;

    let token = token_with(&app, &client, &[("resource", API)])
        .await
        .access_token();

    let answer = app.introspect(&resource_server, &token).await;
    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(answer["aud"], API);
    assert_eq!(answer["client_id"], client_id(&client));
}
