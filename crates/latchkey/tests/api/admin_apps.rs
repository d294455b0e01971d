//! Apps through the admin API: created with their secret shown once, updated, disabled,
//! enabled, given a new secret (with or without grace) and deleted, each taking effect on the
//! running server; and listed page by page in name order with filters.

use crate::harness::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn an_app_created_through_the_api_gets_tokens_at_once_and_its_secret_is_shown_once() {
    let admins = admins().await;
    let created = ok_json(
        &admins
            .as_root(
                Method::POST,
                "/admin/v1/tenants/default/apps",
                Some(&json!({"name": "orders", "scopes": ["orders:read"], "token_ttl": 600})),
            )
            .await,
        201,
    );
    assert_eq!(created["type"], "m2m");
    assert_eq!(created["scopes"], json!(["orders:read"]));
    assert_eq!(created["token_ttl"], 600);
    assert_eq!(created["tenant"], "default");
    assert!(
        created["client_secret"]
            .as_str()
            .is_some_and(|s| s.len() >= 40)
    );

    let token = eventually("the new app to get a token", async || {
        let reply = admins.app.token_for(&created, None).await;
        if reply.status.as_u16() == 200 {
            Ok(reply)
        } else {
            Err(format!("{reply:?}"))
        }
    })
    .await;
    assert_eq!(token.json()["scope"], "orders:read");

    let path = format!("/admin/v1/tenants/default/apps/{}", client_id(&created));
    let shown = ok_json(&admins.as_root(Method::GET, &path, None).await, 200);
    assert!(shown.get("client_secret").is_none(), "{shown}");
    assert_eq!(shown["client_id"], created["client_id"]);
}

#[tokio::test]
async fn app_update_enable_disable_rotate_and_delete_take_effect_on_the_running_server() {
    let admins = admins().await;
    let app = &admins.app;
    let client = app.seed_app(new_app("svc").scopes(&["read"])).await;
    let path = format!("/admin/v1/tenants/default/apps/{}", client_id(&client));

    let updated = ok_json(
        &admins
            .as_root(
                Method::PATCH,
                &path,
                Some(&json!({"scopes": ["read", "write"], "name": "svc2"})),
            )
            .await,
        200,
    );
    assert_eq!(updated["name"], "svc2");
    eventually("the new scope to be granted", async || {
        let reply = app.token_for(&client, Some("write")).await;
        (reply.status.as_u16() == 200)
            .then_some(())
            .ok_or(format!("{reply:?}"))
    })
    .await;

    let disabled = ok_json(
        &admins
            .as_root(Method::POST, &format!("{path}/disable"), None)
            .await,
        200,
    );
    assert_eq!(disabled["enabled"], false);
    app.wait_until_refused(&client, "the disabled app to be refused")
        .await;

    let enabled = ok_json(
        &admins
            .as_root(Method::POST, &format!("{path}/enable"), None)
            .await,
        200,
    );
    assert_eq!(enabled["enabled"], true);
    app.wait_until_known(&client).await;

    let rotated = ok_json(
        &admins
            .as_root(Method::POST, &format!("{path}/rotate-secret"), None)
            .await,
        200,
    );
    assert_eq!(rotated["client_id"], client["client_id"]);
    let mut fresh = client.clone();
    fresh["client_secret"] = rotated["client_secret"].clone();
    app.wait_until_known(&fresh).await;
    app.wait_until_refused(&client, "the old secret to be refused")
        .await;

    let deleted = admins.as_root(Method::DELETE, &path, None).await;
    assert_eq!(deleted.status.as_u16(), 204, "{deleted:?}");
    app.wait_until_refused(&fresh, "the deleted app to be refused")
        .await;
    admins
        .root_fails(Method::GET, &path, None, 404, "not_found")
        .await;
}

#[tokio::test]
async fn rotate_secret_with_grace_keeps_the_old_secret_working() {
    let admins = admins().await;
    let client = admins.app.seed_app(new_app("svc")).await;
    let path = format!(
        "/admin/v1/tenants/default/apps/{}/rotate-secret",
        client_id(&client)
    );

    let rotated = ok_json(
        &admins
            .as_root(Method::POST, &path, Some(&json!({"grace_seconds": 3600})))
            .await,
        200,
    );
    // The answer and the app itself say until when the old secret works, as the CLI does.
    let until = &rotated["previous_secret_expires_at"];
    assert!(until.is_string(), "{rotated}");
    let app_path = format!("/admin/v1/tenants/default/apps/{}", client_id(&client));
    let shown = ok_json(&admins.as_root(Method::GET, &app_path, None).await, 200);
    assert_eq!(&shown["previous_secret_expires_at"], until);
    let cli = admins
        .app
        .cli_json(&["app", "show", client_id(&client), "--json"]);
    assert_eq!(&cli["previous_secret_expires_at"], until);

    let mut fresh = client.clone();
    fresh["client_secret"] = rotated["client_secret"].clone();
    admins.app.wait_until_known(&fresh).await;
    assert_eq!(
        admins.app.token_for(&client, None).await.status.as_u16(),
        200
    );
}

#[tokio::test]
async fn app_listing_pages_through_every_app_in_name_order_and_filters() {
    let admins = admins().await;
    let mut created = Vec::new();
    for (name, kind) in [
        ("e-batch", "m2m"),
        ("a-billing", "m2m"),
        ("g-web", "web"),
        ("c-billing-eu", "m2m"),
        ("f-spa", "spa"),
        ("b-search", "m2m"),
        ("d-native", "native"),
    ] {
        let spec = new_app(name).tenant("globex", GLOBEX).kind(kind);
        created.push(admins.app.seed_app(spec).await);
    }
    let base = "/admin/v1/tenants/globex/apps";

    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let path = match &cursor {
            Some(cursor) => format!("{base}?limit=3&cursor={cursor}"),
            None => format!("{base}?limit=3"),
        };
        let page = ok_json(&admins.as_root(Method::GET, &path, None).await, 200);
        let apps = page["apps"].as_array().unwrap();
        assert!(apps.len() <= 3, "{page}");
        names.extend(
            apps.iter()
                .map(|app| app["name"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        names,
        [
            "a-billing",
            "b-search",
            "c-billing-eu",
            "d-native",
            "e-batch",
            "f-spa",
            "g-web"
        ]
    );

    let filtered = |query: &'static str| {
        let admins = &admins;
        async move {
            let page = ok_json(
                &admins
                    .as_root(Method::GET, &format!("{base}?{query}"), None)
                    .await,
                200,
            );
            page["apps"]
                .as_array()
                .unwrap()
                .iter()
                .map(|app| app["name"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        filtered("name=BILLING").await,
        ["a-billing", "c-billing-eu"]
    );
    assert_eq!(filtered("type=spa").await, ["f-spa"]);
    let search = created
        .iter()
        .find(|app| app["name"] == "b-search")
        .expect("b-search was created");
    let disable = format!("{base}/{}/disable", client_id(search));
    ok_json(&admins.as_root(Method::POST, &disable, None).await, 200);
    assert_eq!(filtered("enabled=false").await, ["b-search"]);

    for (bad, status, code) in [
        ("limit=0", 400, "invalid_request"),
        ("limit=1001", 400, "invalid_request"),
        ("cursor=garbage", 400, "invalid_request"),
        ("bogus=1", 400, "invalid_request"),
        ("type=robot", 400, "invalid_request"),
    ] {
        let reply = admins
            .as_root(Method::GET, &format!("{base}?{bad}"), None)
            .await;
        assert_admin_error(&reply, status, code);
    }
}
