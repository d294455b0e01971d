//! What the admin API refuses before it acts: request bodies that are not JSON objects (serde
//! would read a struct from an array), and query parameters with a value they cannot take.

use crate::harness::*;
use reqwest::Method;
use serde_json::{Value, json};

/// Every operation that reads a body, on targets that exist (so that a body read as valid
/// would succeed): `app` is a client id of `default`.
fn body_operations(app: &str) -> Vec<(Method, String)> {
    let app_path = format!("/admin/v1/tenants/default/apps/{app}");
    vec![
        (Method::POST, "/admin/v1/tenants".into()),
        (Method::PATCH, "/admin/v1/tenants/acme".into()),
        (Method::POST, "/admin/v1/tenants/default/apps".into()),
        (Method::PATCH, app_path.clone()),
        (Method::POST, format!("{app_path}/disable")),
        (Method::POST, format!("{app_path}/rotate-secret")),
        (Method::POST, "/admin/v1/tenants/acme/keys/rotate".into()),
        (Method::POST, "/admin/v1/tenants/default/revocations".into()),
    ]
}

#[tokio::test]
async fn every_body_that_is_not_a_json_object_is_400_invalid_request_at_every_endpoint() {
    let admins = admins().await;
    let target = admins.app.seed_app(new_app("target")).await;
    let not_objects = [
        json!(["array-app"]),
        json!(["arraytenant", ["array-tenant.test"]]),
        json!([]),
        json!("text"),
        json!(3),
        json!(null),
        json!(true),
    ];
    for (method, path) in body_operations(client_id(&target)) {
        for body in &not_objects {
            let reply = admins.as_root(method.clone(), &path, Some(body)).await;
            assert_admin_error(&reply, 400, "invalid_request");
            assert!(
                reply.json()["error_description"]
                    .as_str()
                    .is_some_and(|text| text.contains("JSON object")),
                "{method} {path} {body}: {reply:?}"
            );
        }
    }
    // Nothing was created, changed or revoked by any of them.
    let apps = admins
        .as_root(Method::GET, "/admin/v1/tenants/default/apps", None)
        .await
        .json();
    assert_eq!(names(&apps["apps"]), ["ops", "plain", "target"]);
    let target_now = admins
        .app
        .cli_json(&["app", "show", client_id(&target), "--json"]);
    assert_eq!(target_now["enabled"], true);
    assert_eq!(target_now["tokens_revoked_before"], Value::Null);
    let tenants = admins
        .as_root(Method::GET, "/admin/v1/tenants/arraytenant", None)
        .await;
    assert_admin_error(&tenants, 404, "not_found");
    assert!(
        admins
            .app
            .token_for(&target, None)
            .await
            .status
            .is_success()
    );
}

#[tokio::test]
async fn an_object_body_and_an_empty_optional_body_are_still_read() {
    let admins = admins().await;
    let target = admins.app.seed_app(new_app("target")).await;
    let rotate = format!(
        "/admin/v1/tenants/default/apps/{}/rotate-secret",
        client_id(&target)
    );
    let reply = admins
        .app
        .send(
            admins
                .app
                .client
                .post(admins.app.url(&rotate))
                .bearer_auth(&admins.root)
                .header("content-type", "application/json")
                .body(" \n"),
        )
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let reply = admins
        .as_root(
            Method::POST,
            "/admin/v1/tenants/default/apps",
            Some(&json!({"name": "object-app"})),
        )
        .await;
    assert_eq!(reply.status, 201, "{reply:?}");
}

/// Asserts that the default tenant's admin gets 400 `invalid_request` for `path`.
async fn bad_query(admins: &Admins, method: Method, path: &str) {
    let reply = admins.as_root(method.clone(), path, None).await;
    assert_eq!(reply.status, 400, "{method} {path}: {reply:?}");
    assert_admin_error(&reply, 400, "invalid_request");
}

#[tokio::test]
async fn a_bad_value_of_any_query_parameter_is_400_invalid_request() {
    let admins = admins().await;
    let apps = "/admin/v1/tenants/default/apps";
    for query in [
        "type=bogus",
        "type=",
        "type=M2M",
        "enabled=maybe",
        "limit=0",
        "limit=1001",
        "limit=-1",
        "limit=ten",
        "cursor=not-a-cursor",
        "unknown=1",
    ] {
        bad_query(&admins, Method::GET, &format!("{apps}?{query}")).await;
    }
    for query in [
        "since=yesterday",
        "after=first",
        "limit=0",
        "limit=1001",
        "tenant=Not_A_Tenant",
        "tenant=",
        "unknown=1",
    ] {
        bad_query(&admins, Method::GET, &format!("/admin/v1/audit?{query}")).await;
    }
    for query in ["force=maybe", "force=", "unknown=1"] {
        bad_query(
            &admins,
            Method::DELETE,
            &format!("/admin/v1/tenants/globex?{query}"),
        )
        .await;
    }
    // Good values of the same parameters are read.
    for path in [
        format!("{apps}?type=m2m&enabled=true&limit=1000&name=op"),
        "/admin/v1/audit?tenant=acme&limit=1&since=0".to_owned(),
    ] {
        let reply = admins.as_root(Method::GET, &path, None).await;
        assert_eq!(reply.status, 200, "{path}: {reply:?}");
    }
    let listed = admins
        .as_root(Method::GET, &format!("{apps}?type=m2m&name=op"), None)
        .await
        .json();
    assert_eq!(listed["apps"][0]["client_id"], client_id(&admins.ops));
}
