//! Workload identity federation: an app trusts identity tokens of an external issuer, matched by
//! rules (`latchkey app federation add`). The issuers here are `TestIssuer`s on 127.0.0.1 that
//! serve OIDC discovery and a JWK Set, minting tokens shaped like a Kubernetes projected service
//! account token and a GitHub Actions OIDC token; each is presented as client authentication
//! (RFC 7523 §2.2, refused with 401 `invalid_client`) and as the JWT bearer grant (§2.1,
//! refused with 400 `invalid_grant`).

use crate::harness::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The audience a GitHub workflow asks its token for in these tests.
const GITHUB_AUDIENCE: &str = "https://github.com/acme";

/// The `payments/api` service account's trust: an app with a rule for its tokens from
/// `issuer` (audience: the tenant's issuer, by default).
fn payments_app(app: &TestApp, issuer: &TestIssuer) -> Value {
    let created = app.cli_json(&[
        "app",
        "create",
        "--name",
        "payments",
        "--scope",
        "ledger:write",
        "--json",
    ]);
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
fn trust_payments_api(app: &TestApp, client_id: &str, issuer: &str, extra: &[&str]) {
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
struct Payments {
    app: TestApp,
    issuer: TestIssuer,
    id: String,
    token: String,
    /// The server's first answer to `token`.
    reply: Reply,
}

async fn payments() -> Payments {
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
fn payments_token_claims(issuer: &TestIssuer) -> Value {
    kubernetes_claims(issuer.url(), "payments", "api", ISSUER, unix_now())
}

/// Polls client authentication with `token` as `client_id` until it gets a token.
async fn accepted_as_client(app: &Http, token: &str, client_id: &str) -> Reply {
    app.reply_until(
        "the federated token to be accepted as client authentication",
        async || app.token_by_assertion(token, Some(client_id)).await,
        |reply| reply.status == StatusCode::OK,
    )
    .await
}

/// Presents each token both ways for `client_id`; returns the cases not refused as they must be.
async fn refusals(app: &Http, client_id: &str, cases: &[(&str, String)]) -> Vec<String> {
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
async fn a_kubernetes_service_account_token_gets_a_token_both_ways_and_again() {
    let Payments {
        app,
        issuer,
        id,
        token,
        reply,
    } = payments().await;
    let id = id.as_str();
    assert_eq!(jwt_parts(&reply.access_token()).1["sub"], id, "{reply:?}");
    assert!(issuer.discovery_served() >= 1, "discovery was read");
    assert!(issuer.jwks_served() >= 1, "the key set was read");

    // A platform token is meant to be presented again while it lives.
    let again = app.token_by_assertion(&token, Some(id)).await;
    again.granted("the same token again");
    let granted = app.jwt_bearer_grant(&token, Some(id), None).await;
    granted.granted("as the grant");
    assert_eq!(jwt_parts(&granted.access_token()).1["sub"], id);
    let without_id = app.jwt_bearer_grant(&token, None, None).await;
    without_id.granted("the grant without client_id");
    assert_eq!(jwt_parts(&without_id.access_token()).1["sub"], id);
}

#[tokio::test]
async fn a_kubernetes_token_is_refused_when_anything_does_not_match() {
    let Payments {
        app, issuer, id, ..
    } = payments().await;
    let id = id.as_str();

    let other_issuer = TestIssuer::start().await;
    let untrusted = TestKey::rsa();
    let now = unix_now();
    let changed = |change: &dyn Fn(&mut Value)| {
        let mut claims = payments_token_claims(&issuer);
        change(&mut claims);
        issuer.sign(&claims)
    };
    let cases = vec![
        (
            "another service account",
            issuer.sign(&kubernetes_claims(
                issuer.url(),
                "payments",
                "batch",
                ISSUER,
                now,
            )),
        ),
        (
            "the namespace claim differs",
            changed(&|claims| claims["kubernetes.io"]["namespace"] = json!("billing")),
        ),
        (
            "the namespace claim is missing",
            changed(&|claims| {
                claims["kubernetes.io"]
                    .as_object_mut()
                    .map(|object| object.remove("namespace"));
            }),
        ),
        (
            "another audience",
            changed(&|claims| claims["aud"] = json!(["https://kubernetes.default.svc"])),
        ),
        (
            "no audience",
            changed(&|claims| {
                claims.as_object_mut().map(|object| object.remove("aud"));
            }),
        ),
        (
            "from another issuer, with its own key",
            other_issuer.sign(&kubernetes_claims(
                other_issuer.url(),
                "payments",
                "api",
                ISSUER,
                now,
            )),
        ),
        (
            "naming the trusted issuer, signed by another issuer's key",
            other_issuer.sign(&payments_token_claims(&issuer)),
        ),
        (
            "signed by an untrusted key",
            untrusted.sign(&payments_token_claims(&issuer)),
        ),
        (
            "expired",
            changed(&|claims| {
                claims["iat"] = json!(now - 7200);
                claims["nbf"] = json!(now - 7200);
                claims["exp"] = json!(now - 3600);
            }),
        ),
        (
            "not valid before an hour from now",
            changed(&|claims| claims["nbf"] = json!(now + 3600)),
        ),
        (
            "living longer than a day",
            changed(&|claims| claims["exp"] = json!(now + 2 * 86_400)),
        ),
        (
            "alg none",
            unsigned_jwt(issuer.key.kid(), &payments_token_claims(&issuer)),
        ),
        (
            "HS256 keyed with the issuer's public key",
            issuer
                .key
                .sign_hs256_with_public_key(&payments_token_claims(&issuer)),
        ),
    ];
    let wrong = refusals(&app, id, &cases).await;
    assert!(wrong.is_empty(), "not refused:\n{}", wrong.join("\n"));
}

/// An app trusting workflows of `acme/api` on `main` from `issuer`, with GitHub's claims.
fn deploy_app(app: &TestApp, issuer: &TestIssuer) -> Value {
    let created = app.cli_json(&["app", "create", "--name", "deploy", "--json"]);
    app.add_federation(
        client_id(&created),
        "acme-api-main",
        &[
            "--issuer",
            issuer.url(),
            "--subject",
            "repo:acme/api:ref:refs/heads/*",
            "--audience",
            GITHUB_AUDIENCE,
            "--claim",
            "repository=acme/api",
            "--claim",
            "ref=refs/heads/main",
        ],
    );
    created
}

fn run<'a>(repository: &'a str, branch: &'a str) -> GithubRun<'a> {
    GithubRun {
        repository,
        branch,
        environment: None,
    }
}

#[tokio::test]
async fn a_github_actions_token_matching_repository_and_ref_gets_a_token() {
    let app = spawn_app().await;
    let issuer = TestIssuer::start().await;
    let deploy = deploy_app(&app, &issuer);
    let id = client_id(&deploy);
    let main = issuer.sign(&github_claims(
        issuer.url(),
        &run("acme/api", "main"),
        GITHUB_AUDIENCE,
        unix_now(),
    ));

    accepted_as_client(&app, &main, id).await;
    let granted = app.jwt_bearer_grant(&main, None, None).await;
    assert_eq!(granted.status, StatusCode::OK, "{granted:?}");

    let now = unix_now();
    let sign = |run: &GithubRun<'_>, audience: &str| {
        issuer.sign(&github_claims(issuer.url(), run, audience, now))
    };
    let cases = vec![
        // The prefix subject matches, the ref condition does not.
        (
            "a feature branch",
            sign(&run("acme/api", "feature"), GITHUB_AUDIENCE),
        ),
        (
            "another repository",
            sign(&run("acme/web", "main"), GITHUB_AUDIENCE),
        ),
        (
            "a repository whose name starts alike",
            sign(&run("acme/api-fork", "main"), GITHUB_AUDIENCE),
        ),
        (
            "a job with an environment (its sub names the environment)",
            sign(
                &GithubRun {
                    environment: Some("prod"),
                    ..run("acme/api", "main")
                },
                GITHUB_AUDIENCE,
            ),
        ),
        (
            "the default audience instead of the rule's",
            sign(&run("acme/api", "main"), ISSUER),
        ),
        ("a token living 25 hours", {
            let mut claims =
                github_claims(issuer.url(), &run("acme/api", "main"), GITHUB_AUDIENCE, now);
            claims["exp"] = json!(now + 25 * 3600);
            issuer.sign(&claims)
        }),
    ];
    let wrong = refusals(&app, id, &cases).await;
    assert!(wrong.is_empty(), "not refused:\n{}", wrong.join("\n"));
}

#[tokio::test]
async fn a_prefix_subject_rule_accepts_every_branch_of_its_repository() {
    let app = spawn_app().await;
    let issuer = TestIssuer::start().await;
    let created = app.cli_json(&["app", "create", "--name", "ci", "--json"]);
    let id = client_id(&created);
    app.add_federation(
        id,
        "any-branch",
        &[
            "--issuer",
            issuer.url(),
            "--subject",
            "repo:acme/api:ref:refs/heads/*",
            "--audience",
            GITHUB_AUDIENCE,
        ],
    );
    let now = unix_now();
    let sign = |repository, branch| {
        issuer.sign(&github_claims(
            issuer.url(),
            &run(repository, branch),
            GITHUB_AUDIENCE,
            now,
        ))
    };

    accepted_as_client(&app, &sign("acme/api", "main"), id).await;
    let feature = app
        .token_by_assertion(&sign("acme/api", "feature/x"), Some(id))
        .await;
    feature.granted("a feature branch");
    let wrong = refusals(
        &app,
        id,
        &[
            ("another repository", sign("acme/web", "main")),
            (
                "a repository whose name starts alike",
                sign("acme/api2", "main"),
            ),
        ],
    )
    .await;
    assert!(wrong.is_empty(), "not refused:\n{}", wrong.join("\n"));
}

#[tokio::test]
async fn the_jwt_bearer_grant_without_client_id_needs_exactly_one_matching_app() {
    let app = spawn_app().await;
    let issuer = TestIssuer::start().await;
    let rule = |id: &str| {
        trust_payments_api(&app, id, issuer.url(), &[]);
    };
    let first = app.cli_json(&["app", "create", "--name", "ledger", "--json"]);
    let second = app.cli_json(&["app", "create", "--name", "reports", "--json"]);
    let unrelated = app.cli_json(&["app", "create", "--name", "unrelated", "--json"]);
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
async fn cached_keys_keep_working_while_the_issuer_is_away() {
    let Payments {
        app,
        mut issuer,
        id,
        ..
    } = payments().await;
    let id = id.as_str();

    issuer.stop().await;
    let fresh = issuer.sign(&payments_token_claims(&issuer));
    let reply = app.token_by_assertion(&fresh, Some(id)).await;
    reply.granted("a new token, its key cached");
    let reply = app.jwt_bearer_grant(&fresh, Some(id), None).await;
    reply.granted("as the grant");
    // A key the server never saw cannot be fetched while the issuer is away.
    let unknown = TestKey::rsa();
    app.token_by_assertion(&unknown.sign(&payments_token_claims(&issuer)), Some(id))
        .await
        .assert_error(401, "invalid_client");

    issuer.restart().await;
    let reply = app
        .token_by_assertion(&issuer.sign(&payments_token_claims(&issuer)), Some(id))
        .await;
    reply.granted("after the issuer came back");
}

#[tokio::test]
async fn an_issuer_pinned_with_jwks_works_with_no_discovery() {
    let app = spawn_app().await;
    // An air-gapped cluster's API server: nothing answers at its URL.
    let cluster = "https://kubernetes.default.svc.cluster.local";
    let key = TestKey::rsa();
    let jwks = JsonFile::new(&jwks_of(&[&key]));
    let created = app.cli_json(&["app", "create", "--name", "payments", "--json"]);
    let id = client_id(&created);
    app.add_federation(
        id,
        "in-cluster",
        &[
            "--issuer",
            cluster,
            "--subject",
            "system:serviceaccount:payments:api",
            "--jwks",
            jwks.path(),
        ],
    );
    let token = key.sign(&kubernetes_claims(
        cluster,
        "payments",
        "api",
        ISSUER,
        unix_now(),
    ));

    accepted_as_client(&app, &token, id).await;
    let untrusted = TestKey::rsa().sign(&kubernetes_claims(
        cluster,
        "payments",
        "api",
        ISSUER,
        unix_now(),
    ));
    let wrong = refusals(&app, id, &[("signed by a key not pinned", untrusted)]).await;
    assert!(wrong.is_empty(), "not refused:\n{}", wrong.join("\n"));
}

#[tokio::test]
async fn keys_without_alg_and_tokens_without_jti_are_accepted_as_spiffe_publishes_them() {
    let app = spawn_app().await;
    let trust_domain = "https://spiffe.acme.test";
    let key = TestKey::ec();
    let bundle = JsonFile::new(&json!({"keys": [key.bare_jwk()]}));
    let created = app.cli_json(&["app", "create", "--name", "mesh", "--json"]);
    let id = client_id(&created);
    let subject = "spiffe://acme.test/ns/payments/sa/api";
    app.add_federation(
        id,
        "mesh",
        &[
            "--issuer",
            trust_domain,
            "--subject",
            subject,
            "--audience",
            "latchkey",
            "--jwks",
            bundle.path(),
        ],
    );
    let now = unix_now();
    // A JWT-SVID: sub, aud, exp, iat; no jti.
    let svid = key.sign(&json!({"iss": trust_domain, "sub": subject, "aud": ["latchkey"], "iat": now, "exp": now + 300}));

    accepted_as_client(&app, &svid, id).await;
    let again = app.token_by_assertion(&svid, Some(id)).await;
    again.granted("the same SVID again");
}

#[tokio::test]
async fn a_federated_token_gets_the_apps_scopes_and_ttl() {
    let app = spawn_app().await;
    let issuer = TestIssuer::start().await;
    let created = app.cli_json(&[
        "app",
        "create",
        "--name",
        "payments",
        "--scope",
        "ledger:read",
        "--scope",
        "ledger:write",
        "--default-scope",
        "ledger:read",
        "--token-ttl",
        "2m",
        "--json",
    ]);
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
    let created = app.cli_json(&["app", "create", "--name", "careless", "--json"]);
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
