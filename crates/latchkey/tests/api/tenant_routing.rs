//! Routing by the Host header: each tenant's host whatever its case and port, hosts no tenant
//! claims (the default tenant, or 404 with strict hosts), and each tenant's own discovery
//! document and JWKS.

use crate::harness::*;
use reqwest::{Method, StatusCode};
use serde_json::Value;

#[tokio::test]
async fn host_header_reaches_its_tenant_whatever_its_case_and_port() {
    let app = spawn_app().await;
    acme(&app).await;
    let worker = app
        .seed_app(new_app("worker").tenant("acme", ACME_HOST))
        .await;

    let host = "AUTH.Acme.Test:8443";
    assert_eq!(app.at(host).issuer().await, Ok(ACME_ISSUER.to_owned()));
    let token = app.at(host).token_for(&worker, None).await.access_token();
    assert_eq!(jwt_parts(&token).1["iss"], ACME_ISSUER);
    assert_eq!(
        app.at("auth.acme.test.").issuer().await,
        Ok(ACME_ISSUER.to_owned()),
        "a fully qualified name with its trailing dot is the same host"
    );
}

#[tokio::test]
async fn a_host_no_tenant_claims_reaches_the_default_tenant() {
    let app = spawn_app().await;
    acme(&app).await;
    let worker = app.seed_app(new_app("worker")).await;

    for host in [UNCLAIMED_HOST, "acme.test", "x.auth.acme.test"] {
        assert_eq!(app.at(host).issuer().await, Ok(ISSUER.to_owned()), "{host}");
    }
    let token = app
        .at(UNCLAIMED_HOST)
        .token_for(&worker, None)
        .await
        .access_token();
    assert_eq!(jwt_parts(&token).1["iss"], ISSUER);
}

#[tokio::test]
async fn with_strict_hosts_an_unclaimed_host_gets_404_on_token_jwks_and_discovery() {
    let app = spawn_app_with(Setup {
        strict_hosts: true,
        ..Setup::default()
    })
    .await;
    acme(&app).await;
    let worker = app
        .seed_app(new_app("worker").tenant("acme", ACME_HOST))
        .await;

    for host in [UNCLAIMED_HOST, "Unclaimed.test:8080"] {
        for path in [JWKS_PATH, OAUTH_METADATA, OPENID_CONFIGURATION] {
            let reply = app.at(host).get(path).await;
            assert_eq!(
                reply.status,
                StatusCode::NOT_FOUND,
                "{host}{path}: {reply:?}"
            );
        }
        let token = app.at(host).token_for(&worker, None).await;
        assert_eq!(
            token.status,
            StatusCode::NOT_FOUND,
            "{host} token: {token:?}"
        );
    }

    assert_eq!(app.at(ACME_HOST).issuer().await, Ok(ACME_ISSUER.to_owned()));
    assert!(!app.at(ACME_HOST).jwks_kids().await.is_empty());
    let token = app
        .at(ACME_HOST)
        .token_for(&worker, None)
        .await
        .access_token();
    assert_eq!(jwt_parts(&token).1["iss"], ACME_ISSUER);
}

#[tokio::test]
async fn with_strict_hosts_introspection_and_revocation_at_an_unclaimed_host_get_404() {
    let app = spawn_app_with(Setup {
        strict_hosts: true,
        ..Setup::default()
    })
    .await;
    acme(&app).await;
    let api = resource_server(&app, "acme", ACME_HOST).await;
    let token = app.at(ACME_HOST).token_for(&api, None).await.access_token();

    for path in ["/oauth2/introspect", "/oauth2/revoke"] {
        let reply = app
            .send(
                app.at(UNCLAIMED_HOST)
                    .request(Method::POST, path)
                    .basic_auth(client_id(&api), Some(client_secret(&api)))
                    .form(&[("token", token.as_str())]),
            )
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}: {reply:?}");
    }
    assert_eq!(
        app.at(ACME_HOST).introspect(&api, &token).await["active"],
        true
    );
}

#[tokio::test]
async fn each_tenant_has_its_own_discovery_issuer_and_endpoint_urls() {
    let app = spawn_app().await;
    acme(&app).await;
    app.seed_tenant(
        new_tenant("globex", &["login.globex.test"]).issuer("https://id.globex.example/tenant"),
    )
    .await;

    for (host, issuer) in [
        (ACME_HOST, ACME_ISSUER),
        ("login.globex.test", "https://id.globex.example/tenant"),
        (UNCLAIMED_HOST, ISSUER),
    ] {
        for path in [OAUTH_METADATA, OPENID_CONFIGURATION] {
            let reply = app.at(host).get(path).await;
            assert_eq!(reply.status, StatusCode::OK, "{host}{path}: {reply:?}");
            let metadata = reply.json();
            assert_eq!(metadata["issuer"], issuer, "{host}{path}: {metadata}");
            for (member, endpoint) in [
                ("token_endpoint", "/oauth2/token"),
                ("jwks_uri", "/oauth2/jwks"),
                ("introspection_endpoint", "/oauth2/introspect"),
                ("revocation_endpoint", "/oauth2/revoke"),
            ] {
                assert_eq!(
                    metadata[member],
                    format!("{issuer}{endpoint}"),
                    "{host}{path}: {metadata}"
                );
            }
        }
    }
}

#[tokio::test]
async fn discovery_lists_only_the_scopes_of_its_own_tenants_apps() {
    let app = spawn_app().await;
    acme(&app).await;
    app.seed_app(
        new_app("a")
            .tenant("acme", ACME_HOST)
            .scopes(&["acme:read"]),
    )
    .await;
    app.seed_app(new_app("d").scopes(&["default:read"])).await;

    let scopes = |metadata: Value| -> Vec<String> {
        metadata["scopes_supported"]
            .as_array()
            .expect("scopes_supported")
            .iter()
            .map(|scope| scope.as_str().expect("a scope").to_owned())
            .collect()
    };
    let acme = scopes(app.at(ACME_HOST).get(OAUTH_METADATA).await.json());
    let default = scopes(app.at(UNCLAIMED_HOST).get(OAUTH_METADATA).await.json());

    assert_eq!(acme, ["acme:read"]);
    assert_eq!(default, ["default:read"]);
}

#[tokio::test]
async fn each_tenant_publishes_its_own_jwks_with_kids_of_its_own() {
    let app = spawn_app().await;
    acme(&app).await;

    let acme_kids = app.at(ACME_HOST).jwks_kids().await;
    let default_kids = app.at(UNCLAIMED_HOST).jwks_kids().await;

    assert!(!acme_kids.is_empty(), "acme publishes a key");
    assert!(!default_kids.is_empty(), "default publishes a key");
    assert!(
        kid_set(&acme_kids).is_disjoint(&kid_set(&default_kids)),
        "acme {acme_kids:?} and default {default_kids:?} share a key"
    );
    assert_eq!(
        kid_set(&app.listed_kids("acme")),
        kid_set(&acme_kids),
        "key list --tenant acme lists acme's published keys"
    );
}
