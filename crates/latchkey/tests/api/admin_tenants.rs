//! Tenants through the admin API: created, changed and deleted by an admin of the default
//! tenant, their token profile, scope publishing and assertion lifetime limit, and a tenant's
//! own admin kept to its tenant.

use crate::harness::*;
use reqwest::Method;
use serde_json::json;

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

    app.seed_app(new_app("x").tenant("initech", "initech.test"))
        .await;
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
async fn a_tenants_max_assertion_lifetime_is_set_shown_reset_and_bounded_through_the_admin_api() {
    let admins = admins().await;
    let acme = "/admin/v1/tenants/acme";
    let patch =
        async |body: serde_json::Value| admins.as_root(Method::PATCH, acme, Some(&body)).await;

    let shown = ok_json(&admins.as_root(Method::GET, acme, None).await, 200);
    let shorter = ok_json(&patch(json!({"max_assertion_lifetime": 300})).await, 200);
    let untouched = ok_json(&patch(json!({"publish_scopes": false})).await, 200);
    let too_long = patch(json!({"max_assertion_lifetime": 3601})).await;
    let zero = patch(json!({"max_assertion_lifetime": 0})).await;
    let kept = ok_json(&admins.as_root(Method::GET, acme, None).await, 200);
    let reset = ok_json(&patch(json!({"max_assertion_lifetime": null})).await, 200);
    let new =
        json!({"name": "initech", "domains": ["initech.test"], "max_assertion_lifetime": 600});
    let created = ok_json(
        &admins
            .as_root(Method::POST, "/admin/v1/tenants", Some(&new))
            .await,
        201,
    );
    let over = json!({"name": "hooli", "domains": ["hooli.test"], "max_assertion_lifetime": 7200});
    let refused = admins
        .as_root(Method::POST, "/admin/v1/tenants", Some(&over))
        .await;
    let hooli = admins
        .as_root(Method::GET, "/admin/v1/tenants/hooli", None)
        .await;

    assert_eq!(
        shown["max_assertion_lifetime"], 3600,
        "unset is the default hour: {shown}"
    );
    assert_eq!(shorter["max_assertion_lifetime"], 300, "{shorter}");
    assert_eq!(
        untouched["max_assertion_lifetime"], 300,
        "an absent field leaves it: {untouched}"
    );
    too_long.assert_error(422, "invalid_settings");
    assert!(too_long.body.contains("the most is 1h"), "{too_long:?}");
    zero.assert_error(422, "invalid_settings");
    assert_eq!(
        kept["max_assertion_lifetime"], 300,
        "refusals change nothing"
    );
    assert_eq!(
        reset["max_assertion_lifetime"], 3600,
        "null goes back to the default: {reset}"
    );
    assert_eq!(created["max_assertion_lifetime"], 600, "{created}");
    refused.assert_error(422, "invalid_settings");
    assert_eq!(
        hooli.status.as_u16(),
        404,
        "hooli was not created: {hooli:?}"
    );
}
