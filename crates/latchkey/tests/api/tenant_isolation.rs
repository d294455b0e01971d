//! Tenants kept apart in both directions: tokens carry their tenant's issuer and verify only
//! with its JWKS, and an app's credentials, introspection and revocation at another tenant's
//! host get nothing.

use crate::harness::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A server with tenant `acme` and a resource server in it and in `default`, seeded before it
/// started, and a token of each resource server.
struct Scene {
    app: TestApp,
    acme_api: Value,
    default_api: Value,
    acme_token: String,
    default_token: String,
}

async fn scene() -> Scene {
    let (app, (acme_api, default_api)) = spawn_seeded(Setup::default(), async |seed| {
        seed.tenant(new_tenant("acme", &[ACME_HOST])).await;
        let acme_api = seed
            .app(new_app("api").tenant("acme", ACME_HOST).introspect())
            .await;
        (acme_api, seed.app(new_app("api").introspect()).await)
    })
    .await;
    let acme_token = app
        .at(ACME_HOST)
        .token_for(&acme_api, None)
        .await
        .access_token();
    let default_token = app
        .at(UNCLAIMED_HOST)
        .token_for(&default_api, None)
        .await
        .access_token();
    Scene {
        app,
        acme_api,
        default_api,
        acme_token,
        default_token,
    }
}

#[tokio::test]
async fn tokens_carry_their_tenants_issuer_and_verify_only_with_their_tenants_jwks() {
    let Scene {
        app,
        acme_api: acme_app,
        default_api: default_app,
        acme_token,
        default_token,
    } = scene().await;
    let acme_jwks = app.at(ACME_HOST).jwks().await;
    let default_jwks = app.at(UNCLAIMED_HOST).jwks().await;

    let claims = verify_token(&acme_jwks, &acme_token, client_id(&acme_app), ACME_ISSUER)
        .expect("acme's token verifies with acme's JWKS");
    assert_eq!(claims["iss"], ACME_ISSUER);
    let claims = verify_token(
        &default_jwks,
        &default_token,
        client_id(&default_app),
        ISSUER,
    )
    .expect("default's token verifies with default's JWKS");
    assert_eq!(claims["iss"], ISSUER);

    let acme_kid = jwt_kid(&acme_token);
    let default_kid = jwt_kid(&default_token);
    assert_ne!(acme_kid, default_kid);
    let crossed = verify_token(
        &default_jwks,
        &acme_token,
        client_id(&acme_app),
        ACME_ISSUER,
    );
    assert!(
        crossed.is_err_and(|error| error.contains("not in the JWKS")),
        "acme's kid {acme_kid} is not in default's JWKS"
    );
    let crossed = verify_token(&acme_jwks, &default_token, client_id(&default_app), ISSUER);
    assert!(
        crossed.is_err_and(|error| error.contains("not in the JWKS")),
        "default's kid {default_kid} is not in acme's JWKS"
    );
}

#[tokio::test]
async fn an_app_presenting_its_credentials_at_another_tenants_host_is_an_invalid_client() {
    let app = spawn_app().await;
    acme(&app).await;
    let acme_app = app.seed_app(new_app("a").tenant("acme", ACME_HOST)).await;
    let default_app = app.seed_app(new_app("d")).await;

    for (host, stranger) in [(UNCLAIMED_HOST, &acme_app), (ACME_HOST, &default_app)] {
        app.at(host)
            .token_for(stranger, None)
            .await
            .assert_error(401, "invalid_client");
        let basic = app
            .send(
                app.at(host)
                    .request(Method::POST, TOKEN_PATH)
                    .header(
                        "authorization",
                        basic_header(client_id(stranger), client_secret(stranger)),
                    )
                    .form(&[("grant_type", "client_credentials")]),
            )
            .await;
        basic.assert_error(401, "invalid_client");
    }
    // Each app still gets tokens at its own tenant's host.
    assert_eq!(
        app.at(ACME_HOST).token_for(&acme_app, None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.at(UNCLAIMED_HOST)
            .token_for(&default_app, None)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_app_cannot_introspect_at_another_tenants_host() {
    let Scene {
        app,
        acme_api,
        acme_token: token,
        ..
    } = scene().await;

    let reply = app
        .send(
            app.at(UNCLAIMED_HOST)
                .request(Method::POST, "/oauth2/introspect")
                .basic_auth(client_id(&acme_api), Some(client_secret(&acme_api)))
                .form(&[("token", token.as_str())]),
        )
        .await;

    reply.assert_error(401, "invalid_client");
}

#[tokio::test]
async fn a_token_of_one_tenant_introspects_inactive_at_the_other() {
    let Scene {
        app,
        acme_api,
        default_api,
        acme_token,
        default_token,
    } = scene().await;

    // Each is active where it was issued...
    assert_eq!(
        app.at(ACME_HOST).introspect(&acme_api, &acme_token).await["active"],
        true
    );
    assert_eq!(
        app.at(UNCLAIMED_HOST)
            .introspect(&default_api, &default_token)
            .await["active"],
        true
    );
    // ...and nothing more than inactive at the other tenant.
    assert_eq!(
        app.at(UNCLAIMED_HOST)
            .introspect(&default_api, &acme_token)
            .await,
        json!({ "active": false })
    );
    assert_eq!(
        app.at(ACME_HOST)
            .introspect(&acme_api, &default_token)
            .await,
        json!({ "active": false })
    );
}

#[tokio::test]
async fn revoking_a_token_at_another_tenants_host_does_not_revoke_it() {
    let Scene {
        app,
        acme_api,
        default_api,
        acme_token,
        default_token,
    } = scene().await;

    // RFC 7009: 200 whether or not anything was revoked.
    let wrong = app
        .at(UNCLAIMED_HOST)
        .revoke(&default_api, &acme_token)
        .await;
    assert_eq!(wrong.status, StatusCode::OK, "{wrong:?}");
    let wrong = app.at(ACME_HOST).revoke(&acme_api, &default_token).await;
    assert_eq!(wrong.status, StatusCode::OK, "{wrong:?}");

    // A node applies its own revocations at once, so a wrong one would show here already.
    assert_eq!(
        app.at(ACME_HOST).introspect(&acme_api, &acme_token).await["active"],
        true,
        "acme's token survives a revocation at default's host"
    );
    assert_eq!(
        app.at(UNCLAIMED_HOST)
            .introspect(&default_api, &default_token)
            .await["active"],
        true,
        "default's token survives a revocation at acme's host"
    );

    let right = app.at(ACME_HOST).revoke(&acme_api, &acme_token).await;
    assert_eq!(right.status, StatusCode::OK, "{right:?}");
    assert_eq!(
        app.at(ACME_HOST).introspect(&acme_api, &acme_token).await["active"],
        false,
        "revoked at its own tenant"
    );
}
