//! Identity tokens shaped as workload platforms issue them, with their real claim sets: a
//! Kubernetes projected service account token and a GitHub Actions OIDC token. A test signs
//! them with a `TestIssuer`'s key after changing what it is about.

use super::test_keys::fresh_jti;
use serde_json::{Value, json};

/// The claims of a Kubernetes projected service account token (a `serviceAccountToken`
/// volume source with `audience` and the default `expirationSeconds` of 3600) for the pod
/// `NAMESPACE/SA-0` of service account `SA`, issued at `now` by `issuer`.
pub(crate) fn kubernetes_claims(
    issuer: &str,
    namespace: &str,
    service_account: &str,
    audience: &str,
    now: i64,
) -> Value {
    json!({
        "aud": [audience],
        "exp": now + 3600,
        "iat": now,
        "iss": issuer,
        "jti": fresh_jti(),
        "kubernetes.io": {
            "namespace": namespace,
            "node": {
                "name": "node-a",
                "uid": "1b6c8a0e-8d1f-4c55-9b3f-6a1f0c2d7e01"
            },
            "pod": {
                "name": format!("{service_account}-7c9f8d6b5-x2k4q"),
                "uid": "5f0d2c7a-3e4b-4a8e-9c1d-2b7e6f8a9c03"
            },
            "serviceaccount": {
                "name": service_account,
                "uid": "0e8a5f3b-7d2c-4b1a-8e6f-9c3d2a1b0f47"
            }
        },
        "nbf": now,
        "sub": format!("system:serviceaccount:{namespace}:{service_account}"),
    })
}

/// A GitHub Actions workflow run, as its OIDC token describes it.
pub(crate) struct GithubRun<'a> {
    /// `OWNER/REPO`.
    pub(crate) repository: &'a str,
    /// The branch the run is on.
    pub(crate) branch: &'a str,
    /// The deployment environment of the job, if any (it changes the `sub`).
    pub(crate) environment: Option<&'a str>,
}

/// The claims of a GitHub Actions OIDC token for `run` (a push to its branch), requested with
/// `audience` and issued at `now` by `issuer`: GitHub's claim set, with its `sub` of
/// `repo:OWNER/REPO:ref:refs/heads/BRANCH`, or `repo:OWNER/REPO:environment:NAME` for a job
/// with an environment. GitHub's tokens live five minutes.
pub(crate) fn github_claims(issuer: &str, run: &GithubRun<'_>, audience: &str, now: i64) -> Value {
    let owner = run
        .repository
        .split_once('/')
        .map_or(run.repository, |(owner, _)| owner);
    let git_ref = format!("refs/heads/{}", run.branch);
    let sub = match run.environment {
        Some(environment) => format!("repo:{}:environment:{environment}", run.repository),
        None => format!("repo:{}:ref:{git_ref}", run.repository),
    };
    let mut claims = json!({
        "jti": fresh_jti(),
        "sub": sub,
        "aud": audience,
        "ref": git_ref,
        "sha": "9f2c4e1b7a3d5f60812c4e9b7a1d3f5e2c4b6a80",
        "repository": run.repository,
        "repository_owner": owner,
        "repository_owner_id": "65",
        "repository_visibility": "private",
        "repository_id": "74",
        "run_id": "6242810297",
        "run_number": "10",
        "run_attempt": "1",
        "runner_environment": "github-hosted",
        "actor_id": "12",
        "actor": "octocat",
        "workflow": "deploy",
        "workflow_ref": format!("{}/.github/workflows/deploy.yml@{git_ref}", run.repository),
        "workflow_sha": "9f2c4e1b7a3d5f60812c4e9b7a1d3f5e2c4b6a80",
        "head_ref": "",
        "base_ref": "",
        "event_name": "push",
        "ref_protected": "true",
        "ref_type": "branch",
        "job_workflow_ref": format!("{}/.github/workflows/deploy.yml@{git_ref}", run.repository),
        "job_workflow_sha": "9f2c4e1b7a3d5f60812c4e9b7a1d3f5e2c4b6a80",
        "iss": issuer,
        "nbf": now - 5,
        "exp": now + 300,
        "iat": now,
    });
    if let Some(environment) = run.environment {
        claims["environment"] = json!(environment);
    }
    claims
}
