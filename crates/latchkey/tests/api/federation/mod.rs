//! Workload identity federation: an app trusts identity tokens of an external issuer, matched by
//! rules (`latchkey app federation add`). The issuers here are `TestIssuer`s on 127.0.0.1 that
//! serve OIDC discovery and a JWK Set, minting tokens shaped like a Kubernetes projected service
//! account token and a GitHub Actions OIDC token; each is presented as client authentication
//! (RFC 7523 §2.2, refused with 401 `invalid_client`) and as the JWT bearer grant (§2.1,
//! refused with 400 `invalid_grant`). This file has what the others share and the rules
//! themselves: how the CLI keeps them, and what a matching token gets.

mod audit;
mod github;
mod issuer_keys;
mod kubernetes;

use crate::harness::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The audience a GitHub workflow asks its token for in these tests.
pub(super) const GITHUB_AUDIENCE: &str = "https://github.com/acme";

/// The `payments/api` service account's trust: an app with a rule for its tokens from
/// `issuer` (audience: the tenant's issuer, by default).
pub(super) fn payments_app(app: &TestApp, issuer: &TestIssuer) -> Value {
    let created = app.create_app("payments", &["--scope", "ledger:write"]);
    trust_payments_api(
        app,
        client_id(&created),
        issuer.url(),
        &["--claim", "/kubernetes.io/namespace=payments"],
    );
    created
}

/// `app federation add ID --name payments-api --issuer ISSUER --subject
/// system:serviceaccount:payments:api EXTRA...`.
pub(super) fn trust_payments_api(app: &TestApp, client_id: &str, issuer: &str, extra: &[&str]) {
    let mut args = vec![
        "--issuer",
        issuer,
        "--subject",
        "system:serviceaccount:payments:api",
    ];
    args.extend_from_slice(extra);
    app.add_federation(client_id, "payments-api", &args);
}

/// A server, an issuer, and the `payments` app trusting that issuer's `payments/api` tokens;
/// with the app's id and a token of `payments/api`, once the server accepts that token.
pub(super) struct Payments {
    pub(super) app: TestApp,
    pub(super) issuer: TestIssuer,
    pub(super) id: String,
    pub(super) token: String,
    /// The server's first answer to `token`.
    pub(super) reply: Reply,
}

pub(super) async fn payments() -> Payments {
    let app = spawn_app().await;
    let issuer = TestIssuer::start().await;
    let id = client_id(&payments_app(&app, &issuer)).to_owned();
    let token = issuer.sign(&payments_token_claims(&issuer));
    let reply = accepted_as_client(&app, &token, &id).await;
    Payments {
        app,
        issuer,
        id,
        token,
        reply,
    }
}

/// A token of `payments/api` from `issuer`, for the tenant's issuer, issued now.
pub(super) fn payments_token_claims(issuer: &TestIssuer) -> Value {
    kubernetes_claims(issuer.url(), "payments", "api", ISSUER, unix_now())
}

/// Polls client authentication with `token` as `client_id` until it gets a token.
pub(super) async fn accepted_as_client(app: &Http, token: &str, client_id: &str) -> Reply {
    app.reply_until(
        "the federated token to be accepted as client authentication",
        async || app.token_by_assertion(token, Some(client_id)).await,
        |reply| reply.status == StatusCode::OK,
    )
    .await
}

/// Presents each token both ways for `client_id`; returns the cases not refused as they must be.
pub(super) async fn refusals(app: &Http, client_id: &str, cases: &[(&str, String)]) -> Vec<String> {
    let mut wrong = Vec::new();
    for (case, token) in cases {
        let reply = app.token_by_assertion(token, Some(client_id)).await;
        if !reply.is_error(401, "invalid_client") {
            wrong.push(format!("{case}, as client authentication: {reply:?}"));
        }
        let reply = app.jwt_bearer_grant(token, Some(client_id), None).await;
        if !reply.is_error(400, "invalid_grant") {
            wrong.push(format!("{case}, as the JWT bearer grant: {reply:?}"));
        }
    }
    wrong
}

#[tokio::test]
async fn the_jwt_bearer_grant_without_client_id_needs_exactly_one_matching_app() {
    let app = spawn_app().await;
    let issuer = TestIssuer::start().await;
    let rule = |id: &str| {
        trust_payments_api(&app, id, issuer.url(), &[]);
    };
    let first = app.create_app("ledger", &[]);
    let second = app.create_app("reports", &[]);
    let unrelated = app.create_app("unrelated", &[]);
    rule(client_id(&first));
    rule(client_id(&second));
    let token = issuer.sign(&payments_token_claims(&issuer));
    accepted_as_client(&app, &token, client_id(&first)).await;
    accepted_as_client(&app, &token, client_id(&second)).await;

    app.jwt_bearer_grant(&token, None, None)
        .await
        .assert_error(400, "invalid_grant");
    for acting in [&first, &second] {
        let reply = app
            .jwt_bearer_grant(&token, Some(client_id(acting)), None)
            .await;
        assert_eq!(
            jwt_parts(&reply.access_token()).1["sub"],
            client_id(acting),
            "{reply:?}"
        );
    }
    app.jwt_bearer_grant(&token, Some(client_id(&unrelated)), None)
        .await
        .assert_error(400, "invalid_grant");
    app.token_by_assertion(&token, Some(client_id(&unrelated)))
        .await
        .assert_error(401, "invalid_client");
    // Client authentication names its app: without client_id a platform token is refused.
    app.token_by_assertion(&token, None)
        .await
        .assert_error(401, "invalid_client");

    let stranger = issuer.sign(&kubernetes_claims(
        issuer.url(),
        "payments",
        "batch",
        ISSUER,
        unix_now(),
    ));
    app.jwt_bearer_grant(&stranger, None, None)
        .await
        .assert_error(400, "invalid_grant");
}

#[tokio::test]
async fn a_federated_token_gets_the_apps_scopes_and_ttl() {
    let app = spawn_app().await;
    let issuer = TestIssuer::start().await;
    let created = app.create_app(
        "payments",
        &[
            "--scope",
            "ledger:read",
            "--scope",
            "ledger:write",
            "--default-scope",
            "ledger:read",
            "--token-ttl",
            "2m",
        ],
    );
    let id = client_id(&created);
    trust_payments_api(&app, id, issuer.url(), &[]);
    let token = issuer.sign(&payments_token_claims(&issuer));

    let reply = accepted_as_client(&app, &token, id).await;
    assert_eq!(reply.json()["scope"], "ledger:read", "{reply:?}");
    assert_eq!(reply.json()["expires_in"], 120, "{reply:?}");
    let (_, claims) = jwt_parts(&reply.access_token());
    assert_eq!(
        claims["exp"]
            .as_i64()
            .zip(claims["iat"].as_i64())
            .map(|(exp, iat)| exp - iat),
        Some(120)
    );

    let granted = app
        .jwt_bearer_grant(&token, Some(id), Some("ledger:write"))
        .await;
    assert_eq!(granted.json_of(200)["scope"], "ledger:write", "{granted:?}");
    app.jwt_bearer_grant(&token, Some(id), Some("ledger:admin"))
        .await
        .assert_error(400, "invalid_scope");
}

#[tokio::test]
async fn federation_rules_are_listed_and_removed_and_a_removed_rule_is_refused() {
    let Payments {
        app,
        issuer,
        id,
        token,
        ..
    } = payments().await;
    let id = id.as_str();

    let listed = app.cli_json(&["app", "federation", "list", id, "--json"]);
    let rules = listed["federations"]
        .as_array()
        .unwrap_or_else(|| panic!("no federations array: {listed}"));
    assert_eq!(rules.len(), 1, "{listed}");
    let rule = &rules[0];
    assert_eq!(rule["name"], "payments-api", "{listed}");
    assert_eq!(rule["issuer"], issuer.url(), "{listed}");
    assert_eq!(
        rule["subject"], "system:serviceaccount:payments:api",
        "{listed}"
    );
    // The default audience may be listed as the tenant's issuer or as null (not given).
    assert!(
        rule["audience"] == ISSUER || rule["audience"].is_null(),
        "the default audience: {listed}"
    );
    assert_eq!(
        rule["claims"],
        json!({"/kubernetes.io/namespace": "payments"}),
        "{listed}"
    );
    assert_eq!(rule["jwks"], Value::Null, "{listed}");

    app.cli_ok(&["app", "federation", "remove", id, "payments-api"]);
    let listed = app.cli_json(&["app", "federation", "list", id, "--json"]);
    assert_eq!(listed["federations"], json!([]), "{listed}");
    app.reply_until(
        "the removed rule to be refused",
        async || app.token_by_assertion(&token, Some(id)).await,
        Reply::is_invalid_client,
    )
    .await;
}

#[tokio::test]
async fn a_rule_on_any_subject_with_no_claim_is_refused_by_the_cli() {
    let app = spawn_app().await;
    let created = app.create_app("careless", &[]);
    let id = client_id(&created);
    assert_cli_refuses(
        &app,
        &[
            "app",
            "federation",
            "add",
            id,
            "--name",
            "anyone",
            "--issuer",
            "https://token.actions.githubusercontent.com",
            "--subject",
            "*",
            "--audience",
            GITHUB_AUDIENCE,
        ],
        &[],
    );
    let listed = app.cli_json(&["app", "federation", "list", id, "--json"]);
    assert_eq!(listed["federations"], json!([]), "{listed}");
}

#[tokio::test]
async fn discovery_lists_the_jwt_bearer_grant() {
    let app = spawn_app().await;
    let grants = app.metadata_list("grant_types_supported").await;
    assert!(
        grants.iter().any(|grant| grant == JWT_BEARER_GRANT),
        "{grants:?}"
    );
    assert!(
        grants.iter().any(|grant| grant == "client_credentials"),
        "{grants:?}"
    );
}
