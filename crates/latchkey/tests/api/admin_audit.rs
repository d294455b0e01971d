//! The audit trail of admin API changes: each change with the admin app as its actor and never a
//! secret, read page by page and filtered by time.

use crate::harness::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn api_changes_are_audited_with_the_admin_app_as_actor_and_never_a_secret() {
    let admins = admins().await;
    let created = ok_json(
        &admins
            .as_root(
                Method::POST,
                "/admin/v1/tenants/globex/apps",
                Some(&json!({"name": "audited"})),
            )
            .await,
        201,
    );
    let id = client_id(&created).to_owned();
    let rotated = ok_json(
        &admins
            .as_root(
                Method::POST,
                &format!("/admin/v1/tenants/globex/apps/{id}/rotate-secret"),
                None,
            )
            .await,
        200,
    );

    let reply = admins
        .as_root(Method::GET, "/admin/v1/audit?tenant=globex", None)
        .await;
    assert!(!reply.body.contains(client_secret(&created)));
    assert!(
        !reply
            .body
            .contains(rotated["client_secret"].as_str().unwrap())
    );
    let events = ok_json(&reply, 200)["events"].clone();
    let api_events: Vec<(&str, &str, &str)> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["actor"] != "cli")
        .map(|event| {
            (
                event["actor"].as_str().unwrap(),
                event["action"].as_str().unwrap(),
                event["target"].as_str().unwrap(),
            )
        })
        .collect();
    let ops = client_id(&admins.ops);
    assert_eq!(
        api_events,
        [
            (ops, "app.create", id.as_str()),
            (ops, "app.rotate_secret", id.as_str())
        ]
    );
    // The CLI reads the same trail.
    let cli = admins
        .app
        .cli_ok(&["audit", "list", "--tenant", "globex", "--json"]);
    assert!(cli.contains(ops));
}

#[tokio::test]
async fn the_audit_trail_pages_and_filters_by_time() {
    let admins = admins().await;
    let page = ok_json(
        &admins
            .as_root(Method::GET, "/admin/v1/audit?limit=2", None)
            .await,
        200,
    );
    let first = page["events"].as_array().unwrap().clone();
    assert_eq!(first.len(), 2);
    let after = page["next_after"].as_i64().expect("more events follow");
    let next = ok_json(
        &admins
            .as_root(Method::GET, &format!("/admin/v1/audit?after={after}"), None)
            .await,
        200,
    );
    let rest = next["events"].as_array().unwrap();
    assert!(
        rest.iter()
            .all(|event| event["id"].as_i64().unwrap() > after)
    );
    assert!(next["next_after"].is_null());

    let future = ok_json(
        &admins
            .as_root(Method::GET, "/admin/v1/audit?since=4102444800", None)
            .await,
        200,
    );
    assert_eq!(future["events"], json!([]));
    admins
        .root_fails(
            Method::GET,
            "/admin/v1/audit?since=yesterday",
            None,
            400,
            "invalid_request",
        )
        .await;
}
