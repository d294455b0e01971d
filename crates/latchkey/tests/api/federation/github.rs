//! GitHub Actions OIDC tokens: a prefix subject rule for a repository's branches, pinned
//! by `repository` and `ref` claims.

use super::*;
use crate::harness::*;
use reqwest::StatusCode;
use serde_json::json;

/// An app named `name` trusting `issuer`'s tokens for `GITHUB_AUDIENCE` whose `sub` names a
/// branch of `acme/api`, and meeting the `extra` conditions.
fn acme_api_app(app: &TestApp, issuer: &TestIssuer, name: &str, extra: &[&str]) -> Value {
    let created = app.create_app(name, &[]);
    let mut args = vec![
        "--issuer",
        issuer.url(),
        "--subject",
        "repo:acme/api:ref:refs/heads/*",
        "--audience",
        GITHUB_AUDIENCE,
    ];
    args.extend_from_slice(extra);
    app.add_federation(client_id(&created), name, &args);
    created
}

/// An app trusting workflows of `acme/api` on `main` from `issuer`, with GitHub's claims.
fn deploy_app(app: &TestApp, issuer: &TestIssuer) -> Value {
    let conditions = [
        "--claim",
        "repository=acme/api",
        "--claim",
        "ref=refs/heads/main",
    ];
    acme_api_app(app, issuer, "deploy", &conditions)
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
    let created = acme_api_app(&app, &issuer, "any-branch", &[]);
    let id = client_id(&created);
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
