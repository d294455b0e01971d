//! The `oauth2` crate (v5) as a real client of the token endpoint, with both of its client
//! authentication types: `BasicAuth` (client_secret_basic) and `RequestBody` (client_secret_post).

use crate::harness::*;
use oauth2::basic::{BasicClient, BasicErrorResponseType, BasicTokenType};
use oauth2::{AuthType, ClientId, ClientSecret, RequestTokenError, Scope, TokenResponse, TokenUrl};
use std::time::Duration;

const AUTH_TYPES: [AuthType; 2] = [AuthType::BasicAuth, AuthType::RequestBody];

fn http_client() -> oauth2::reqwest::Client {
    http_client_builder()
        .redirect(oauth2::reqwest::redirect::Policy::none())
        .build()
        .expect("building the oauth2 HTTP client")
}

async fn request_token(
    app: &TestApp,
    id: &str,
    secret: &str,
    auth_type: AuthType,
    scopes: &[&str],
) -> Result<
    oauth2::basic::BasicTokenResponse,
    RequestTokenError<
        oauth2::HttpClientError<oauth2::reqwest::Error>,
        oauth2::basic::BasicErrorResponse,
    >,
> {
    let client = BasicClient::new(ClientId::new(id.to_owned()))
        .set_client_secret(ClientSecret::new(secret.to_owned()))
        .set_token_uri(TokenUrl::new(app.token_url()).expect("a valid token URL"))
        .set_auth_type(auth_type);
    let request = client
        .exchange_client_credentials()
        .add_scopes(scopes.iter().map(|scope| Scope::new((*scope).to_owned())));
    request.request_async(&http_client()).await
}

#[tokio::test]
async fn oauth2_crate_gets_a_bearer_token_that_verifies_with_both_auth_types() {
    let app = spawn_app().await;
    let billing = billing(&app).await;
    let jwks = app.jwks().await;

    for auth_type in AUTH_TYPES {
        let token = request_token(
            &app,
            client_id(&billing),
            client_secret(&billing),
            auth_type.clone(),
            &[],
        )
        .await
        .unwrap_or_else(|error| panic!("{auth_type:?}: {error:?}"));

        assert_eq!(token.token_type(), &BasicTokenType::Bearer, "{auth_type:?}");
        assert_eq!(
            token.expires_in(),
            Some(Duration::from_secs(300)),
            "{auth_type:?}"
        );
        assert!(token.refresh_token().is_none(), "{auth_type:?}");
        let scopes: Vec<&str> = token
            .scopes()
            .expect("a scope in the answer")
            .iter()
            .map(|scope| scope.as_str())
            .collect();
        assert_eq!(scopes, ["invoices:read"], "{auth_type:?}");
        let claims = verify_token(
            &jwks,
            token.access_token().secret(),
            client_id(&billing),
            ISSUER,
        )
        .unwrap_or_else(|error| panic!("{auth_type:?}: {error}"));
        assert_eq!(claims["sub"], client_id(&billing));
    }
}

#[tokio::test]
async fn oauth2_crate_requests_several_scopes_with_both_auth_types() {
    let app = spawn_app().await;
    let billing = billing(&app).await;

    for auth_type in AUTH_TYPES {
        let token = request_token(
            &app,
            client_id(&billing),
            client_secret(&billing),
            auth_type.clone(),
            &["invoices:read", "invoices:write"],
        )
        .await
        .unwrap_or_else(|error| panic!("{auth_type:?}: {error:?}"));

        let mut scopes: Vec<&str> = token
            .scopes()
            .expect("scopes")
            .iter()
            .map(|scope| scope.as_str())
            .collect();
        scopes.sort_unstable();
        assert_eq!(scopes, ["invoices:read", "invoices:write"], "{auth_type:?}");
        let (_, claims) = jwt_parts(token.access_token().secret());
        assert_eq!(
            claims["scope"],
            serde_json::json!(["invoices:read", "invoices:write"]),
            "{auth_type:?}"
        );
    }
}

fn server_error_code(
    error: RequestTokenError<
        oauth2::HttpClientError<oauth2::reqwest::Error>,
        oauth2::basic::BasicErrorResponse,
    >,
) -> BasicErrorResponseType {
    match error {
        RequestTokenError::ServerResponse(response) => response.error().clone(),
        other => panic!("expected an OAuth error response, got {other:?}"),
    }
}

#[tokio::test]
async fn oauth2_crate_sees_invalid_client_for_a_wrong_secret_with_both_auth_types() {
    let app = spawn_app().await;
    let billing = billing(&app).await;

    for auth_type in AUTH_TYPES {
        let error = request_token(
            &app,
            client_id(&billing),
            "not-the-secret",
            auth_type.clone(),
            &[],
        )
        .await
        .expect_err("a wrong secret gets no token");
        assert_eq!(
            server_error_code(error),
            BasicErrorResponseType::InvalidClient,
            "{auth_type:?}"
        );
    }
}

#[tokio::test]
async fn oauth2_crate_sees_invalid_scope_with_both_auth_types() {
    let app = spawn_app().await;
    let billing = billing(&app).await;

    for auth_type in AUTH_TYPES {
        let error = request_token(
            &app,
            client_id(&billing),
            client_secret(&billing),
            auth_type.clone(),
            &["admin"],
        )
        .await
        .expect_err("a scope beyond the app's gets no token");
        assert_eq!(
            server_error_code(error),
            BasicErrorResponseType::InvalidScope,
            "{auth_type:?}"
        );
    }
}

#[tokio::test]
async fn oauth2_crate_sees_unauthorized_client_for_a_web_app_without_the_grant() {
    let app = spawn_app().await;
    let web = app.seed_app(new_app("portal").kind("web")).await;

    for auth_type in AUTH_TYPES {
        let error = request_token(
            &app,
            client_id(&web),
            client_secret(&web),
            auth_type.clone(),
            &[],
        )
        .await
        .expect_err("a web app without client_credentials gets no token");
        assert_eq!(
            server_error_code(error),
            BasicErrorResponseType::UnauthorizedClient,
            "{auth_type:?}"
        );
    }
}
