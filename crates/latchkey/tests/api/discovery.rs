//! Discovery (RFC 8414 metadata at both well-known paths) and the health check.

use crate::harness::*;
use reqwest::StatusCode;
use serde_json::Value;

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

fn assert_metadata(metadata: &Value) {
    assert_eq!(metadata["issuer"], ISSUER, "{metadata}");
    assert_eq!(
        metadata["token_endpoint"],
        format!("{ISSUER}/oauth2/token"),
        "{metadata}"
    );
    assert_eq!(
        metadata["jwks_uri"],
        format!("{ISSUER}/oauth2/jwks"),
        "{metadata}"
    );
    assert!(
        strings(&metadata["grant_types_supported"]).contains(&"client_credentials"),
        "{metadata}"
    );
    let methods = strings(&metadata["token_endpoint_auth_methods_supported"]);
    assert!(methods.contains(&"client_secret_basic"), "{metadata}");
    assert!(methods.contains(&"client_secret_post"), "{metadata}");
    assert!(
        metadata["response_types_supported"].is_array(),
        "{metadata}"
    );
    assert!(metadata["scopes_supported"].is_array(), "{metadata}");
}

#[tokio::test]
async fn authorization_server_metadata_describes_the_token_endpoint_and_jwks() {
    let app = spawn_app().await;

    let reply = app.get(OAUTH_METADATA).await;

    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.header("content-type"), Some(JSON_CONTENT_TYPE));
    assert_metadata(&reply.json());
}

#[tokio::test]
async fn openid_configuration_serves_the_same_metadata() {
    let app = spawn_app().await;
    app.seed_app(new_app("worker").scopes(&["jobs:run"])).await;

    let openid = app.get(OPENID_CONFIGURATION).await;
    let oauth = app.get(OAUTH_METADATA).await;

    assert_eq!(openid.status, StatusCode::OK, "{openid:?}");
    assert_metadata(&openid.json());
    assert_eq!(openid.json(), oauth.json());
}

#[tokio::test]
async fn scopes_supported_lists_the_scopes_of_created_apps() {
    let app = spawn_app().await;
    app.seed_app(new_app("billing").scopes(&["invoices:read", "invoices:write"]))
        .await;
    app.seed_app(new_app("reports").scopes(&["reports:read", "invoices:read"]))
        .await;

    for path in [OAUTH_METADATA, OPENID_CONFIGURATION] {
        let metadata = app.get(path).await.json();
        let scopes = strings(&metadata["scopes_supported"]);
        for scope in ["invoices:read", "invoices:write", "reports:read"] {
            assert!(
                scopes.contains(&scope),
                "{path}: {scope} missing from {scopes:?}"
            );
        }
    }
}

#[tokio::test]
async fn healthz_answers_200() {
    let app = spawn_app().await;

    let reply = app.get("/healthz").await;

    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
}

#[tokio::test]
async fn token_iss_and_metadata_issuer_agree_even_when_the_issuer_has_a_trailing_slash() {
    let app = spawn_app_with_issuer("https://auth.example.test/tenant/").await;
    let worker = app.seed_app(new_app("worker")).await;

    let metadata = app.get(OAUTH_METADATA).await.json();
    let token = app.token_for(&worker, None).await.access_token();

    let issuer = metadata["issuer"].as_str().expect("issuer is a string");
    assert!(
        issuer.starts_with("https://auth.example.test/tenant"),
        "{metadata}"
    );
    assert_eq!(
        jwt_parts(&token).1["iss"],
        issuer,
        "the token's iss is the advertised issuer"
    );
    // One slash between the issuer and the endpoint path, whatever the configured issuer ends with.
    let base = issuer.trim_end_matches('/');
    assert_eq!(
        metadata["token_endpoint"],
        format!("{base}/oauth2/token"),
        "{metadata}"
    );
    assert_eq!(
        metadata["jwks_uri"],
        format!("{base}/oauth2/jwks"),
        "{metadata}"
    );
    let jwks = app.jwks().await;
    verify_token(&jwks, &token, client_id(&worker), issuer)
        .unwrap_or_else(|error| panic!("{error}"));
}

#[tokio::test]
async fn scopes_supported_never_lists_the_admin_scope() {
    let app = spawn_app().await;
    app.seed_app(new_app("ops").scopes(&["latchkey:admin", "reports:read"]))
        .await;

    let metadata = app.get(OAUTH_METADATA).await.json();

    assert_eq!(
        strings(&metadata["scopes_supported"]),
        ["reports:read"],
        "{metadata}"
    );
}

#[tokio::test]
async fn a_tenant_that_does_not_publish_scopes_leaves_scopes_supported_out_until_it_does_again() {
    let app = spawn_app().await;
    app.seed_app(new_app("billing").scopes(&["invoices:read"]))
        .await;

    let hidden = app.cli_json(&[
        "tenant",
        "update",
        "default",
        "--no-publish-scopes",
        "--json",
    ]);
    let without = eventually("discovery to leave scopes_supported out", async || {
        let metadata = app.get(OAUTH_METADATA).await.json();
        match metadata.get("scopes_supported") {
            None => Ok(metadata),
            Some(scopes) => Err(scopes.to_string()),
        }
    })
    .await;
    app.cli_ok(&["tenant", "update", "default", "--publish-scopes"]);
    eventually("discovery to list the scopes again", async || {
        let metadata = app.get(OPENID_CONFIGURATION).await.json();
        if metadata["scopes_supported"] == serde_json::json!(["invoices:read"]) {
            Ok(())
        } else {
            Err(metadata.to_string())
        }
    })
    .await;

    assert_eq!(hidden["publish_scopes"], false, "{hidden}");
    assert_eq!(
        without["issuer"], ISSUER,
        "the rest of the document stays: {without}"
    );
}
