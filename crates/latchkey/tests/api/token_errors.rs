//! Every error of the token endpoint (`TokenError`) reaches the wire with its status, its
//! headers and its body. The rules that decide which error a request gets are the protocol
//! crate's unit tests; this table proves that each decision leaves the server as it should.

use crate::harness::*;
use latchkey_protocol::client_auth::AuthFailure;
use latchkey_protocol::scope::ScopeRefusal;
use latchkey_protocol::{Limit, TokenError};
use reqwest::Method;
use serde_json::Value;

const API: &str = "https://api.example.test";

/// Which variant an error is, so that the table must name every one.
fn variant(error: &TokenError) -> usize {
    match error {
        TokenError::InvalidRequest(_) => 0,
        TokenError::InvalidClient { .. } => 1,
        TokenError::UnauthorizedClient(_) => 2,
        TokenError::InvalidScope(_) => 3,
        TokenError::InvalidTarget(_) => 4,
        TokenError::UnsupportedGrantType => 5,
        TokenError::PayloadTooLarge => 6,
        TokenError::MethodNotAllowed => 7,
        TokenError::TooManyRequests { .. } => 8,
        TokenError::InvalidGrant { .. } => 9,
    }
}
const VARIANTS: usize = 10;

#[tokio::test]
async fn every_token_error_reaches_the_wire_with_its_status_headers_and_body() {
    let app = spawn_app_with(Setup::default().with_login_throttling()).await;
    let m2m = app
        .seed_app(new_app("billing").scopes(&["read"]).audiences(&[API]))
        .await;
    let web = app.seed_app(new_app("portal").kind("web")).await;
    let spa = app.seed_app(new_app("browser").kind("spa")).await;
    let (id, secret) = (client_id(&m2m), client_secret(&m2m));
    let credentials = |extra: &[(&'static str, &'static str)]| {
        let mut form = vec![("client_id", id), ("client_secret", secret)];
        form.extend_from_slice(extra);
        form
    };
    let cc = ("grant_type", "client_credentials");

    let cases: Vec<(TokenError, Reply)> = vec![
        (
            TokenError::InvalidRequest("grant_type is missing"),
            app.post_token(&credentials(&[])).await,
        ),
        (
            TokenError::InvalidClient {
                basic: false,
                reason: AuthFailure::UnknownClient,
            },
            app.post_token(&[cc, ("client_id", "nobody"), ("client_secret", "x")])
                .await,
        ),
        (
            TokenError::InvalidClient {
                basic: true,
                reason: AuthFailure::WrongSecret,
            },
            app.post_token_basic(id, "not-the-secret", &[cc]).await,
        ),
        (
            TokenError::UnauthorizedClient("this app is not allowed the client_credentials grant"),
            app.token_for(&web, None).await,
        ),
        (
            TokenError::UnauthorizedClient(
                "public clients (spa, native) cannot use the client_credentials grant",
            ),
            app.post_token(&[cc, ("client_id", client_id(&spa))]).await,
        ),
        (
            TokenError::InvalidScope(ScopeRefusal::NotAllowed {
                scope: "admin".into(),
                commas: false,
            }),
            app.token_for(&m2m, Some("read admin")).await,
        ),
        (
            TokenError::InvalidScope(ScopeRefusal::Malformed { commas: false }),
            app.token_for(&m2m, Some("read\"")).await,
        ),
        (
            TokenError::InvalidTarget("this app may not get tokens for this resource"),
            app.post_token(&credentials(&[cc, ("resource", "https://other.test")]))
                .await,
        ),
        (
            TokenError::InvalidTarget("resource must be an absolute URI without a fragment"),
            app.post_token(&credentials(&[cc, ("resource", "api.example.test")]))
                .await,
        ),
        (
            TokenError::InvalidGrant {
                reason: AuthFailure::MalformedAssertion,
            },
            app.post_token(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", "not-a-jwt"),
            ])
            .await,
        ),
        (
            TokenError::UnsupportedGrantType,
            app.post_token(&credentials(&[("grant_type", "password")]))
                .await,
        ),
        (
            TokenError::PayloadTooLarge,
            app.raw_reply(app.declared_length_request(64 * 1024 + 1))
                .await,
        ),
        (
            TokenError::MethodNotAllowed,
            app.call(Method::GET, TOKEN_PATH).await,
        ),
        (
            TokenError::TooManyRequests {
                retry_after: 6,
                limit: Limit::FailedAuthentication,
            },
            {
                // From an address of its own, so that the rows above are not counted.
                let attacker = app.connecting_from([127, 0, 0, 20].into());
                for _ in 0..10 {
                    attacker.post_token_basic(id, "not-the-secret", &[cc]).await;
                }
                attacker.post_token_basic(id, "not-the-secret", &[cc]).await
            },
        ),
    ];

    let mut seen = [false; VARIANTS];
    for (error, reply) in &cases {
        seen[variant(error)] = true;
        assert_eq!(
            reply.status.as_u16(),
            error.status(),
            "{error:?}: {reply:?}"
        );
        assert_eq!(
            reply.header("content-type"),
            Some(JSON_CONTENT_TYPE),
            "{error:?}: {reply:?}"
        );
        assert_eq!(reply.header("cache-control"), Some("no-store"), "{error:?}");
        assert_eq!(reply.header("pragma"), Some("no-cache"), "{error:?}");
        let challenge = error.www_authenticate().then_some(BASIC_CHALLENGE);
        assert_eq!(
            reply.header("www-authenticate"),
            challenge,
            "{error:?}: {reply:?}"
        );
        assert_eq!(
            reply.header("retry-after").is_some(),
            error.retry_after().is_some(),
            "{error:?}: {reply:?}"
        );
        let allow = matches!(error, TokenError::MethodNotAllowed).then_some("POST");
        assert_eq!(reply.header("allow"), allow, "{error:?}: {reply:?}");
        // The exact bytes: `error` first, then the description, and nothing else.
        let expected = serde_json::to_string(&error.to_wire()).expect("an error body serializes");
        assert_eq!(reply.body, expected, "{error:?}");
        let body: Value = reply.json();
        assert_eq!(body["error"], error.code(), "{error:?}");
    }
    assert!(
        seen.iter().all(|&covered| covered),
        "every TokenError variant has a row: {seen:?}"
    );
}
