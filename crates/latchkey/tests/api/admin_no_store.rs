//! Every admin API answer says `Cache-Control: no-store`: the ones carrying a new
//! `client_secret`, every other success, every error, and paths under `/admin/` that do not exist.

use crate::harness::*;
use reqwest::Method;
use serde_json::json;

fn assert_no_store(reply: &Reply, what: &str) {
    assert_eq!(
        reply.header("cache-control"),
        Some("no-store"),
        "{what}: {reply:?}"
    );
}

#[tokio::test]
async fn every_admin_answer_of_every_status_class_is_no_store() {
    let admins = admins().await;
    let app = &admins.app;
    let apps = "/admin/v1/tenants/default/apps";

    let created = admins
        .as_root(Method::POST, apps, Some(&json!({"name": "fresh"})))
        .await;
    assert_eq!(created.status, 201, "{created:?}");
    assert!(created.json()["client_secret"].is_string());
    assert_no_store(&created, "create app (with its client_secret)");
    let id = created.json()["client_id"].as_str().unwrap().to_owned();
    let one = format!("{apps}/{id}");

    let rotated = admins
        .as_root(Method::POST, &format!("{one}/rotate-secret"), None)
        .await;
    assert_eq!(rotated.status, 200, "{rotated:?}");
    assert!(rotated.json()["client_secret"].is_string());
    assert_no_store(&rotated, "rotate-secret");

    let mut samples = vec![
        (
            "list tenants",
            200,
            admins.as_root(Method::GET, "/admin/v1/tenants", None).await,
        ),
        (
            "show app",
            200,
            admins.as_root(Method::GET, &one, None).await,
        ),
        (
            "openapi document",
            200,
            app.get("/admin/v1/openapi.json").await,
        ),
        (
            "malformed body",
            400,
            admins
                .as_root(Method::POST, apps, Some(&json!(["x"])))
                .await,
        ),
        (
            "no token",
            401,
            app.admin_call(Method::GET, "/admin/v1/tenants", None, None)
                .await,
        ),
        (
            "token without the admin scope",
            403,
            app.admin_call(Method::GET, "/admin/v1/tenants", Some(&admins.plain), None)
                .await,
        ),
        (
            "another tenant",
            403,
            admins.as_acme(Method::GET, apps, None).await,
        ),
        (
            "unknown app",
            404,
            admins
                .as_root(Method::GET, &format!("{apps}/nope"), None)
                .await,
        ),
        (
            "tenant name taken",
            409,
            admins
                .as_root(
                    Method::POST,
                    "/admin/v1/tenants",
                    Some(&json!({"name": "acme", "domains": ["other.test"]})),
                )
                .await,
        ),
        (
            "setting breaks a rule",
            422,
            admins
                .as_root(Method::PATCH, &one, Some(&json!({"token_ttl": 0})))
                .await,
        ),
    ];
    samples.push((
        "delete app",
        204,
        admins.as_root(Method::DELETE, &one, None).await,
    ));
    for (what, status, reply) in &samples {
        assert_eq!(reply.status.as_u16(), *status, "{what}: {reply:?}");
        assert_no_store(reply, what);
    }
}

#[tokio::test]
async fn unknown_paths_under_admin_are_404_not_found_in_the_admin_shape_and_no_store() {
    let admins = admins().await;
    for path in [
        "/admin",
        "/admin/",
        "/admin/v1",
        "/admin/v2/tenants",
        "/admin/v1/nope",
        "/admin/v1/tenants/acme/bogus",
        "/admin/v1/tenants/default/apps/x/y/z",
    ] {
        for method in [Method::GET, Method::POST] {
            let reply = admins.as_root(method.clone(), path, None).await;
            assert_admin_error(&reply, 404, "not_found");
            assert_no_store(&reply, &format!("{method} {path}"));
        }
    }
    // Paths outside /admin/ keep the server's own 404.
    let outside = admins.app.get("/administrator").await;
    assert_eq!(outside.status, 404);
    assert_eq!(outside.header("cache-control"), None, "{outside:?}");
}
