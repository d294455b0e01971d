//! Federations managed: added, listed and removed with the CLI and the admin API, each change
//! audited; a federation pinning its issuer's keys; a tenant's admin kept to its own tenant's
//! apps.

use super::{Files, audited, kids, public_jwks};
use crate::harness::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn federations_are_added_listed_and_removed_with_the_cli_and_each_change_is_audited() {
    let app = spawn_app().await;
    let client = app.seed_app(new_app("ci").scopes(&["deploy"])).await;
    let id = client_id(&client);
    let issuer = "https://token.actions.githubusercontent.com";

    let added = app.cli_json(&[
        "app",
        "federation",
        "add",
        id,
        "--name",
        "github",
        "--issuer",
        issuer,
        "--subject",
        "repo:acme/api:ref:refs/heads/*",
        "--claim",
        "repository=acme/api",
        "--claim",
        "ref=refs/heads/main",
        "--json",
    ]);
    assert_eq!(added["federations"][0]["name"], "github");
    app.cli_ok(&[
        "app",
        "federation",
        "add",
        id,
        "--name",
        "k8s",
        "--issuer",
        "https://kubernetes.default.svc",
        "--subject",
        "system:serviceaccount:payments:api",
        "--audience",
        "https://latchkey.example",
        "--claim",
        "/kubernetes.io/namespace=payments",
    ]);

    let listed = app.cli_json(&["app", "federation", "list", id, "--json"]);
    assert_eq!(names(&listed["federations"]), ["github", "k8s"]);
    let github = &listed["federations"][0];
    assert_eq!(github["issuer"], issuer);
    assert_eq!(github["subject"], "repo:acme/api:ref:refs/heads/*");
    assert!(github["audience"].is_null(), "{github}");
    assert_eq!(
        github["claims"],
        json!({"ref": "refs/heads/main", "repository": "acme/api"})
    );
    assert!(github["jwks"].is_null(), "{github}");
    assert_eq!(
        listed["federations"][1]["claims"],
        json!({"/kubernetes.io/namespace": "payments"})
    );
    let shown = app.cli_json(&["app", "show", id, "--json"]);
    assert_eq!(shown["federations"], listed["federations"]);
    let table = app.cli_ok(&["app", "federation", "list", id]);
    for cell in [
        "NAME",
        "AUDIENCE",
        "github",
        issuer,
        "(tenant issuer)",
        "repository=acme/api",
    ] {
        assert!(table.contains(cell), "{cell:?} in {table}");
    }
    let text = app.cli_ok(&["app", "show", id]);
    assert!(text.contains("github k8s"), "{text}");

    let adds = audited(&app, "app.federation.add");
    assert_eq!(adds.len(), 2, "{adds:?}");
    assert_eq!(adds[0]["target"], id);
    assert_eq!(
        adds[0]["details"],
        json!({"name": "github", "issuer": issuer, "subject": "repo:acme/api:ref:refs/heads/*"})
    );

    let again = [
        "app",
        "federation",
        "add",
        id,
        "--name",
        "github",
        "--issuer",
        issuer,
        "--subject",
        "x",
    ];
    assert_cli_refuses(&app, &again, &["already has a federation named \"github\""]);
    assert_cli_refuses(
        &app,
        &[
            "app",
            "federation",
            "add",
            id,
            "--name",
            "twice",
            "--issuer",
            issuer,
            "--subject",
            "x",
            "--claim",
            "ref=a",
            "--claim",
            "ref=b",
        ],
        &["\"ref\" is named twice"],
    );
    assert_cli_refuses(
        &app,
        &[
            "app",
            "federation",
            "add",
            id,
            "--name",
            "open",
            "--issuer",
            issuer,
            "--subject",
            "*",
        ],
        &["never the audience alone"],
    );
    assert_cli_refuses(
        &app,
        &[
            "app",
            "federation",
            "add",
            id,
            "--name",
            "plain",
            "--issuer",
            "http://ci.example",
            "--subject",
            "x",
        ],
        &["issuer", "https://"],
    );

    let removed = app.cli_json(&["app", "federation", "remove", id, "github", "--json"]);
    assert_eq!(names(&removed["federations"]), ["k8s"]);
    assert_cli_refuses(
        &app,
        &["app", "federation", "remove", id, "github"],
        &[
            "no federation named \"github\"",
            "latchkey app federation list",
        ],
    );
    let removals = audited(&app, "app.federation.remove");
    assert_eq!(removals.len(), 1, "{removals:?}");
    assert_eq!(removals[0]["details"]["name"], "github");
    assert_eq!(removals[0]["details"]["issuer"], issuer);
    assert_cli_refuses(
        &app,
        &["app", "federation", "list", "no-such-app"],
        &["no app with client id", "latchkey app list"],
    );
}

#[tokio::test]
async fn a_federation_can_pin_its_issuers_keys_and_then_lets_the_secret_go() {
    let app = spawn_app().await;
    let files = Files::new();
    let client = app.seed_app(new_app("cluster")).await;
    let id = client_id(&client);
    let jwks = files.write("cluster.json", &public_jwks(&["sa-key"]).to_string());

    let added = app.cli_json(&[
        "app",
        "federation",
        "add",
        id,
        "--name",
        "airgapped",
        "--issuer",
        "https://kubernetes.default.svc",
        "--subject",
        "system:serviceaccount:jobs:runner",
        "--jwks",
        &jwks,
        "--json",
    ]);

    assert_eq!(kids(&added["federations"][0]["jwks"]), ["sa-key"]);
    let moved = app.cli_json(&["app", "update", id, "--no-secret", "--json"]);
    assert_eq!(moved["has_secret"], false);
}

#[tokio::test]
async fn the_admin_api_adds_lists_and_removes_federations() {
    let admins = admins().await;
    let client = admins.app.seed_app(new_app("ci")).await;
    let federations = format!(
        "/admin/v1/tenants/default/apps/{}/federations",
        client_id(&client)
    );
    let rule = json!({
        "name": "github",
        "issuer": "https://token.actions.githubusercontent.com",
        "subject": "repo:acme/api:environment:production",
        "claims": {"repository": "acme/api"},
        "jwks": public_jwks(&["gh"]),
    });

    let added = ok_json(
        &admins
            .as_root(Method::POST, &federations, Some(&rule))
            .await,
        201,
    );
    assert_eq!(names(&added["federations"]), ["github"]);
    assert_eq!(kids(&added["federations"][0]["jwks"]), ["gh"]);
    let listed = ok_json(&admins.as_root(Method::GET, &federations, None).await, 200);
    assert_eq!(listed["federations"], added["federations"]);
    let cli = admins
        .app
        .cli_json(&["app", "federation", "list", client_id(&client), "--json"]);
    assert_eq!(cli["federations"], listed["federations"]);

    admins
        .root_fails(Method::POST, &federations, Some(&rule), 409, "conflict")
        .await;
    let mut unconstrained = rule.clone();
    unconstrained["name"] = json!("open");
    unconstrained["subject"] = json!("*");
    unconstrained["claims"] = json!({});
    admins
        .root_fails(
            Method::POST,
            &federations,
            Some(&unconstrained),
            422,
            "invalid_settings",
        )
        .await;
    for malformed in [
        json!({"name": "x", "issuer": "https://a.example"}),
        json!({"name": "x", "issuer": "https://a.example", "subject": "s", "claims": {"n": 1}}),
        json!({"name": "x", "issuer": "https://a.example", "subject": "s", "extra": true}),
    ] {
        admins
            .root_fails(
                Method::POST,
                &federations,
                Some(&malformed),
                400,
                "invalid_request",
            )
            .await;
    }
    admins
        .root_fails(
            Method::POST,
            "/admin/v1/tenants/default/apps/nope/federations",
            Some(&rule),
            404,
            "not_found",
        )
        .await;

    let gone = admins
        .as_root(Method::DELETE, &format!("{federations}/github"), None)
        .await;
    assert_eq!(gone.status.as_u16(), 204, "{gone:?}");
    admins
        .root_fails(
            Method::DELETE,
            &format!("{federations}/github"),
            None,
            404,
            "not_found",
        )
        .await;
    let listed = ok_json(&admins.as_root(Method::GET, &federations, None).await, 200);
    assert_eq!(listed["federations"], json!([]));
    let adds = audited(&admins.app, "app.federation.add");
    let removes = audited(&admins.app, "app.federation.remove");
    assert_eq!((adds.len(), removes.len()), (1, 1), "{adds:?} {removes:?}");
    assert_eq!(removes[0]["actor"], client_id(&admins.ops));
    assert_eq!(
        removes[0]["details"]["subject"],
        "repo:acme/api:environment:production"
    );
}

#[tokio::test]
async fn a_tenant_admin_cannot_touch_another_tenants_federations_or_secrets() {
    let admins = admins().await;
    let theirs = admins.app.seed_app(new_app("root-app")).await;
    let base = format!("/admin/v1/tenants/default/apps/{}", client_id(&theirs));
    let rule = json!({"name": "r", "issuer": "https://issuer.example", "subject": "s"});
    let federations = format!("{base}/federations");

    admins
        .acme_fails(Method::GET, &federations, None, 403, "access_denied")
        .await;
    admins
        .acme_fails(
            Method::POST,
            &federations,
            Some(&rule),
            403,
            "access_denied",
        )
        .await;
    admins
        .acme_fails(
            Method::DELETE,
            &format!("{federations}/r"),
            None,
            403,
            "access_denied",
        )
        .await;
    admins
        .acme_fails(
            Method::DELETE,
            &format!("{base}/secret"),
            None,
            403,
            "access_denied",
        )
        .await;
    let untouched = admins
        .app
        .cli_json(&["app", "show", client_id(&theirs), "--json"]);
    assert_eq!(untouched["federations"], json!([]));
    assert_eq!(untouched["has_secret"], true);

    // Its own tenant's apps it manages.
    let own = admins
        .app
        .seed_app(new_app("acme-app").tenant("acme", ACME))
        .await;
    let own = format!(
        "/admin/v1/tenants/acme/apps/{}/federations",
        client_id(&own)
    );
    ok_json(&admins.as_acme(Method::POST, &own, Some(&rule)).await, 201);
}
