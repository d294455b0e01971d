//! The admin REST API under `/admin/v1/`: authentication by latchkey's own tokens, every
//! endpoint with and without the right scope, tenant admins kept to their tenant, the effects
//! of each operation on a running server, error statuses, the audit trail and the OpenAPI
//! document.

use crate::harness::*;
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn every_endpoint_refuses_a_missing_or_garbage_token_with_401_and_a_token_without_the_scope_with_403()
 {
    let admins = admins().await;
    for (method, path, body) in every_operation() {
        let what = format!("{method} {path}");
        let missing = admins
            .app
            .admin_call(method.clone(), path, None, body.as_ref())
            .await;
        assert_admin_error(&missing, 401, "invalid_token");
        assert!(
            missing
                .header("www-authenticate")
                .is_some_and(|value| value.starts_with("Bearer")),
            "{what}: {missing:?}"
        );
        let garbage = admins
            .app
            .admin_call(method.clone(), path, Some("not.a.token"), body.as_ref())
            .await;
        assert_admin_error(&garbage, 401, "invalid_token");
        let unscoped = admins
            .app
            .admin_call(method.clone(), path, Some(&admins.plain), body.as_ref())
            .await;
        assert_admin_error(&unscoped, 403, "insufficient_scope");
    }
}

#[tokio::test]
async fn a_default_tenant_admin_reaches_every_endpoint_without_a_server_error() {
    let admins = admins().await;
    for (method, path, body) in every_operation() {
        let reply = admins.as_root(method.clone(), path, body.as_ref()).await;
        let status = reply.status.as_u16();
        assert!(
            status < 500 && status != 401 && status != 403,
            "{method} {path}: {reply:?}"
        );
    }
}

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
    eventually("the disabled app to be refused", async || {
        let reply = app.token_for(&client, None).await;
        reply
            .is_invalid_client()
            .then_some(())
            .ok_or(format!("{reply:?}"))
    })
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
    eventually("the old secret to be refused", async || {
        let reply = app.token_for(&client, None).await;
        reply
            .is_invalid_client()
            .then_some(())
            .ok_or(format!("{reply:?}"))
    })
    .await;

    let deleted = admins.as_root(Method::DELETE, &path, None).await;
    assert_eq!(deleted.status.as_u16(), 204, "{deleted:?}");
    eventually("the deleted app to be refused", async || {
        let reply = app.token_for(&fresh, None).await;
        reply
            .is_invalid_client()
            .then_some(())
            .ok_or(format!("{reply:?}"))
    })
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
    for (name, kind) in [
        ("e-batch", "m2m"),
        ("a-billing", "m2m"),
        ("g-web", "web"),
        ("c-billing-eu", "m2m"),
        ("f-spa", "spa"),
        ("b-search", "m2m"),
        ("d-native", "native"),
    ] {
        admins.app.cli_ok(&[
            "app", "create", "--tenant", "globex", "--name", name, "--type", kind,
        ]);
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
    admins.app.cli_ok(&["app", "list", "--tenant", "globex"]);
    let search = admins
        .app
        .cli_json(&["app", "list", "--tenant", "globex", "--json"]);
    let search_id = search
        .as_array()
        .unwrap()
        .iter()
        .find(|app| app["name"] == "b-search")
        .unwrap()["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    admins
        .app
        .cli_ok(&["app", "disable", "--tenant", "globex", &search_id]);
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

#[tokio::test]
async fn tenants_are_created_changed_and_deleted_by_a_default_tenant_admin() {
    let admins = admins().await;
    let app = &admins.app;
    let created = ok_json(
        &admins
            .as_root(
                Method::POST,
                "/admin/v1/tenants",
                Some(&json!({"name": "initech", "domains": ["Auth.Initech.test"]})),
            )
            .await,
        201,
    );
    assert_eq!(created["domains"], json!(["auth.initech.test"]));
    assert_eq!(created["issuer"], "https://auth.initech.test");
    app.at("auth.initech.test")
        .wait_for_issuer("https://auth.initech.test")
        .await;

    let changed = ok_json(
        &admins
            .as_root(
                Method::PATCH,
                "/admin/v1/tenants/initech",
                Some(&json!({"domains": ["initech.test"], "issuer": "https://id.initech.test"})),
            )
            .await,
        200,
    );
    assert_eq!(changed["issuer"], "https://id.initech.test");
    app.at("initech.test")
        .wait_for_issuer("https://id.initech.test")
        .await;

    let listed = ok_json(
        &admins.as_root(Method::GET, "/admin/v1/tenants", None).await,
        200,
    );
    assert_eq!(
        names(&listed["tenants"]),
        ["acme", "default", "globex", "initech"]
    );

    app.cli_ok(&["app", "create", "--tenant", "initech", "--name", "x"]);
    admins
        .root_fails(
            Method::DELETE,
            "/admin/v1/tenants/initech",
            None,
            409,
            "conflict",
        )
        .await;
    let forced = admins
        .as_root(Method::DELETE, "/admin/v1/tenants/initech?force=true", None)
        .await;
    assert_eq!(forced.status.as_u16(), 204, "{forced:?}");
    admins
        .root_fails(
            Method::GET,
            "/admin/v1/tenants/initech",
            None,
            404,
            "not_found",
        )
        .await;
}

#[tokio::test]
async fn a_tenant_admin_manages_its_own_tenant_only() {
    let admins = admins().await;
    let created = ok_json(
        &admins
            .as_acme(
                Method::POST,
                "/admin/v1/tenants/acme/apps",
                Some(&json!({"name": "acme-svc"})),
            )
            .await,
        201,
    );
    assert_eq!(created["tenant"], "acme");
    ok_json(
        &admins
            .as_acme(Method::GET, "/admin/v1/tenants/acme/apps", None)
            .await,
        200,
    );
    ok_json(
        &admins
            .as_acme(Method::GET, "/admin/v1/tenants/acme/keys", None)
            .await,
        200,
    );
    ok_json(
        &admins
            .as_acme(Method::GET, "/admin/v1/tenants/acme", None)
            .await,
        200,
    );

    for other in ["default", "globex", "no-such-tenant"] {
        for (method, path, body) in [
            (Method::GET, format!("/admin/v1/tenants/{other}"), None),
            (Method::GET, format!("/admin/v1/tenants/{other}/apps"), None),
            (
                Method::POST,
                format!("/admin/v1/tenants/{other}/apps"),
                Some(json!({"name": "intruder"})),
            ),
            (Method::GET, format!("/admin/v1/tenants/{other}/keys"), None),
            (
                Method::POST,
                format!("/admin/v1/tenants/{other}/keys/rotate"),
                None,
            ),
            (
                Method::POST,
                format!("/admin/v1/tenants/{other}/revocations"),
                Some(json!({"jti": "x"})),
            ),
            (Method::GET, format!("/admin/v1/audit?tenant={other}"), None),
        ] {
            let reply = admins.as_acme(method, &path, body.as_ref()).await;
            assert_admin_error(&reply, 403, "access_denied");
        }
    }
    let ops_path = format!("/admin/v1/tenants/default/apps/{}", client_id(&admins.ops));
    admins
        .acme_fails(Method::DELETE, &ops_path, None, 403, "access_denied")
        .await;

    for (method, path, body) in [
        (
            Method::POST,
            "/admin/v1/tenants",
            Some(json!({"name": "mine", "domains": ["mine.test"]})),
        ),
        (
            Method::PATCH,
            "/admin/v1/tenants/acme",
            Some(json!({"domains": ["globex.test"]})),
        ),
        (Method::DELETE, "/admin/v1/tenants/acme", None),
    ] {
        let reply = admins.as_acme(method, path, body.as_ref()).await;
        assert_admin_error(&reply, 403, "access_denied");
    }

    let listed = ok_json(
        &admins.as_acme(Method::GET, "/admin/v1/tenants", None).await,
        200,
    );
    assert_eq!(listed["tenants"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["tenants"][0]["name"], "acme");

    let events = ok_json(
        &admins.as_acme(Method::GET, "/admin/v1/audit", None).await,
        200,
    );
    let events = events["events"].as_array().unwrap();
    assert!(!events.is_empty());
    assert!(
        events.iter().all(|event| event["tenant"] == "acme"),
        "{events:?}"
    );
    // The default tenant's app still exists: the refused delete did nothing.
    ok_json(&admins.as_root(Method::GET, &ops_path, None).await, 200);
}

#[tokio::test]
async fn key_rotation_through_the_api_signs_new_tokens_with_the_new_key() {
    let admins = admins().await;
    let app = &admins.app;
    let client = app.seed_app(new_app("svc")).await;
    let before = jwt_kid(&app.token_for(&client, None).await.access_token());

    let rotated = ok_json(
        &admins
            .as_root(
                Method::POST,
                "/admin/v1/tenants/default/keys/rotate",
                Some(&json!({"alg": "ES256"})),
            )
            .await,
        200,
    );
    assert_eq!(
        (rotated["alg"].as_str(), rotated["status"].as_str()),
        (Some("ES256"), Some("active"))
    );
    let kid = rotated["kid"].as_str().unwrap().to_owned();
    assert_ne!(kid, before);
    eventually("new tokens to be signed with the new key", async || {
        let token = app.token_for(&client, None).await.access_token();
        (jwt_kid(&token) == kid)
            .then_some(())
            .ok_or(jwt_kid(&token))
    })
    .await;

    let listed = ok_json(
        &admins
            .as_root(Method::GET, "/admin/v1/tenants/default/keys", None)
            .await,
        200,
    );
    let statuses: Vec<(&str, &str)> = listed["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| {
            (
                key["kid"].as_str().unwrap(),
                key["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(statuses.contains(&(kid.as_str(), "active")), "{statuses:?}");
    assert!(
        statuses.contains(&(before.as_str(), "retiring")),
        "{statuses:?}"
    );
    // acme's keys did not move.
    assert!(
        app.stored_keys_of("acme")
            .await
            .iter()
            .all(|key| key.kid != kid)
    );

    admins
        .root_fails(
            Method::POST,
            "/admin/v1/tenants/default/keys/rotate",
            Some(&json!({"alg": "HS256"})),
            422,
            "invalid_settings",
        )
        .await;
}

#[tokio::test]
async fn revocations_through_the_api_make_tokens_inactive() {
    let admins = admins().await;
    let app = &admins.app;
    let client = app.seed_app(new_app("svc")).await;
    let server = app.seed_app(new_app("rs").introspect()).await;
    let first = app.token_for(&client, None).await.access_token();
    let second = app.token_for(&client, None).await.access_token();
    let jti = jwt_parts(&first).1["jti"].as_str().unwrap().to_owned();

    let revoked = ok_json(
        &admins
            .as_root(
                Method::POST,
                "/admin/v1/tenants/default/revocations",
                Some(&json!({"jti": jti})),
            )
            .await,
        200,
    );
    assert_eq!(
        (&revoked["jti"], &revoked["revoked"]),
        (&json!(jti), &json!(true))
    );
    app.wait_for_active(&server, &first, false).await;
    assert_eq!(app.introspect(&server, &second).await["active"], true);

    ok_json(
        &admins
            .as_root(
                Method::POST,
                "/admin/v1/tenants/default/revocations",
                Some(&json!({"client_id": client_id(&client)})),
            )
            .await,
        200,
    );
    app.wait_for_active(&server, &second, false).await;

    for body in [
        json!({}),
        json!({"jti": "a", "client_id": "b"}),
        json!({"jti": ""}),
    ] {
        admins
            .root_fails(
                Method::POST,
                "/admin/v1/tenants/default/revocations",
                Some(&body),
                422,
                "invalid_settings",
            )
            .await;
    }
}

#[tokio::test]
async fn withdrawing_the_admin_scope_disabling_or_revoking_ends_admin_access_on_the_running_server()
{
    let admins = admins().await;
    let app = &admins.app;
    let id = client_id(&admins.ops).to_owned();
    let list = "/admin/v1/tenants";

    app.cli_ok(&["app", "update", &id, "--scope", "read"]);
    eventually("the withdrawn scope to be refused", async || {
        let reply = admins.as_root(Method::GET, list, None).await;
        (reply.status.as_u16() == 403)
            .then_some(())
            .ok_or(format!("{reply:?}"))
    })
    .await;
    admins
        .root_fails(Method::GET, list, None, 403, "insufficient_scope")
        .await;

    app.cli_ok(&["app", "update", &id, "--scope", "latchkey:admin"]);
    eventually("the scope to be given back", async || {
        let reply = admins.as_root(Method::GET, list, None).await;
        (reply.status.as_u16() == 200)
            .then_some(())
            .ok_or(format!("{reply:?}"))
    })
    .await;

    app.cli_ok(&["app", "disable", &id]);
    eventually("the disabled admin to be refused", async || {
        let reply = admins.as_root(Method::GET, list, None).await;
        (reply.status.as_u16() == 401)
            .then_some(())
            .ok_or(format!("{reply:?}"))
    })
    .await;
    app.cli_ok(&["app", "enable", &id]);
    eventually("the admin to be enabled", async || {
        let reply = admins.as_root(Method::GET, list, None).await;
        (reply.status.as_u16() == 200)
            .then_some(())
            .ok_or(format!("{reply:?}"))
    })
    .await;

    let jti = jwt_parts(&admins.root).1["jti"]
        .as_str()
        .unwrap()
        .to_owned();
    app.cli_ok(&["token", "revoke", &jti]);
    eventually("the revoked token to be refused", async || {
        let reply = admins.as_root(Method::GET, list, None).await;
        (reply.status.as_u16() == 401)
            .then_some(())
            .ok_or(format!("{reply:?}"))
    })
    .await;
}

#[tokio::test]
async fn errors_have_their_status_and_code() {
    let admins = admins().await;
    let app = &admins.app;
    let apps = "/admin/v1/tenants/default/apps";

    let malformed = app
        .send(
            app.client
                .post(app.url(apps))
                .bearer_auth(&admins.root)
                .header("content-type", "application/json")
                .body("{\"name\": "),
        )
        .await;
    assert_admin_error(&malformed, 400, "invalid_request");
    admins
        .root_fails(
            Method::POST,
            apps,
            Some(&json!({"name": "x", "scope": ["typo"]})),
            400,
            "invalid_request",
        )
        .await;
    admins
        .root_fails(Method::GET, &format!("{apps}/nope"), None, 404, "not_found")
        .await;
    admins
        .root_fails(
            Method::GET,
            "/admin/v1/tenants/nope/apps",
            None,
            404,
            "not_found",
        )
        .await;
    admins
        .root_fails(
            Method::POST,
            "/admin/v1/tenants",
            Some(&json!({"name": "acme", "domains": ["new.test"]})),
            409,
            "conflict",
        )
        .await;
    admins
        .root_fails(
            Method::POST,
            "/admin/v1/tenants",
            Some(&json!({"name": "other", "domains": [GLOBEX]})),
            409,
            "conflict",
        )
        .await;
    admins
        .root_fails(
            Method::DELETE,
            "/admin/v1/tenants/default",
            None,
            409,
            "conflict",
        )
        .await;
    let public = app.cli_json(&["app", "create", "--name", "spa", "--type", "spa", "--json"]);
    admins
        .root_fails(
            Method::POST,
            &format!("{apps}/{}/rotate-secret", client_id(&public)),
            None,
            409,
            "conflict",
        )
        .await;
    for body in [
        json!({"name": "x", "scopes": ["bad scope"]}),
        json!({"name": "x", "type": "robot"}),
        json!({"name": ""}),
        json!({"name": "x", "token_ttl": 0}),
        json!({"name": "x", "claims": {"sub": "me"}}),
        json!({"name": "x", "audiences": ["not a uri"]}),
    ] {
        admins
            .root_fails(Method::POST, apps, Some(&body), 422, "invalid_settings")
            .await;
    }
    admins
        .root_fails(
            Method::POST,
            "/admin/v1/tenants",
            Some(&json!({"name": "x", "domains": ["x.test:8443"]})),
            422,
            "invalid_settings",
        )
        .await;
}

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

#[tokio::test]
async fn the_openapi_document_is_served_without_auth_and_matches_the_checked_in_copy() {
    let app = spawn_app().await;

    let reply = app.get("/admin/v1/openapi.json").await;

    assert_eq!(reply.status.as_u16(), 200, "{reply:?}");
    let served = reply.json();
    assert_eq!(served["openapi"], "3.1.0");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/admin-openapi.json");
    let checked_in: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(served, checked_in);
    for (method, path, _) in every_operation() {
        let template = path
            .replace("/acme", "/{tenant}")
            .replace("/globex", "/{tenant}")
            .replace("/default", "/{tenant}")
            .replace("/00000000000000000000000000000000", "/{client_id}")
            .replace("/x/", "/{client_id}/");
        let operation = &served["paths"][&template][method.as_str().to_lowercase()];
        assert!(
            operation.is_object(),
            "{method} {template} is not documented"
        );
    }
}

#[tokio::test]
async fn tenant_token_profile_and_scope_publishing_are_read_and_changed_through_the_admin_api() {
    let admins = admins().await;
    let (app, root) = (&admins.app, Some(admins.root.as_str()));

    let shown = app
        .admin_call(Method::GET, "/admin/v1/tenants/acme", root, None)
        .await;
    let patch = json!({"token_profile": "rfc9068", "publish_scopes": false});
    let changed = app
        .admin_call(Method::PATCH, "/admin/v1/tenants/acme", root, Some(&patch))
        .await;
    let unknown = json!({"token_profile": "jwt"});
    let refused = app
        .admin_call(
            Method::PATCH,
            "/admin/v1/tenants/acme",
            root,
            Some(&unknown),
        )
        .await;
    let new = json!({"name": "initech", "domains": ["initech.test"], "token_profile": "rfc9068"});
    let created = app
        .admin_call(Method::POST, "/admin/v1/tenants", root, Some(&new))
        .await;

    assert_eq!(shown.status.as_u16(), 200, "{shown:?}");
    assert_eq!(
        (
            &shown.json()["token_profile"],
            &shown.json()["publish_scopes"]
        ),
        (&json!("seed"), &json!(true))
    );
    assert_eq!(changed.status.as_u16(), 200, "{changed:?}");
    assert_eq!(
        (
            &changed.json()["token_profile"],
            &changed.json()["publish_scopes"]
        ),
        (&json!("rfc9068"), &json!(false))
    );
    refused.assert_error(400, "invalid_request");
    assert_eq!(created.status.as_u16(), 201, "{created:?}");
    assert_eq!(
        (
            &created.json()["token_profile"],
            &created.json()["publish_scopes"]
        ),
        (&json!("rfc9068"), &json!(true))
    );
}

#[tokio::test]
async fn an_admin_token_of_the_rfc9068_profile_opens_the_admin_api() {
    let admins = admins().await;
    let app = &admins.app;
    app.cli_ok(&["tenant", "update", "default", "--token-profile", "rfc9068"]);

    let token = app
        .token_with_typ(&admins.ops, Some("latchkey:admin"), "at+jwt")
        .await;
    let reply = app
        .admin_call(Method::GET, "/admin/v1/tenants/default", Some(&token), None)
        .await;
    let seed_token = app
        .admin_call(
            Method::GET,
            "/admin/v1/tenants/default",
            Some(&admins.root),
            None,
        )
        .await;

    assert_eq!(reply.status.as_u16(), 200, "{reply:?}");
    assert_eq!(reply.json()["token_profile"], "rfc9068");
    assert_eq!(
        seed_token.status.as_u16(),
        200,
        "a token issued before the switch still opens it: {seed_token:?}"
    );
}
