//! Who reaches the admin REST API under `/admin/v1/`: latchkey's own tokens with the
//! `latchkey:admin` scope, of either token profile, at every endpoint; no token, a garbage one or
//! one without the scope is refused; and access ends on the running server when the scope is
//! withdrawn or the admin app disabled or revoked.

use crate::harness::*;
use reqwest::Method;

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
