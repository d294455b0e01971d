//! The admin API's callers: a server with two tenants and their admins, seeded before it
//! starts, and what the admin tests assert of every answer.

use super::{Reply, Setup, TestApp, new_app, new_tenant, spawn_seeded_in};
use reqwest::Method;
use serde_json::{Value, json};
use tempfile::TempDir;

/// The domain of tenant `acme`.
pub(crate) const ACME: &str = "acme.test";
/// The domain of tenant `globex`.
pub(crate) const GLOBEX: &str = "globex.test";

/// A server with tenants acme and globex, an admin of every tenant (`root`, an app of
/// `default`), an admin of acme, and an app of `default` without the admin scope.
pub(crate) struct Admins {
    pub(crate) app: TestApp,
    pub(crate) ops: Value,
    /// acme's admin app.
    pub(crate) acme_ops: Value,
    /// The app of `default` without the admin scope.
    pub(crate) plain_app: Value,
    pub(crate) root: String,
    pub(crate) acme: String,
    pub(crate) plain: String,
}

/// `admins_with` the default setup.
pub(crate) async fn admins() -> Admins {
    admins_with(Setup::default()).await
}

/// `Admins` on a server with this setup.
pub(crate) async fn admins_with(setup: Setup) -> Admins {
    let dir = tempfile::tempdir().expect("creating a temporary directory");
    admins_in(dir, setup).await
}

/// `Admins` on a server with this setup whose database is in `dir`.
pub(crate) async fn admins_in(dir: TempDir, setup: Setup) -> Admins {
    let (app, (ops, acme_ops, plain_app)) = spawn_seeded_in(dir, setup, async |seed| {
        seed.tenant(new_tenant("acme", &[ACME])).await;
        seed.tenant(new_tenant("globex", &[GLOBEX])).await;
        let ops = seed
            .app(new_app("ops").scopes(&["latchkey:admin", "read"]))
            .await;
        let acme_ops = seed
            .app(
                new_app("acme-ops")
                    .tenant("acme", ACME)
                    .scopes(&["latchkey:admin"]),
            )
            .await;
        let plain = seed.app(new_app("plain").scopes(&["read"])).await;
        (ops, acme_ops, plain)
    })
    .await;
    let root = app
        .token_for(&ops, Some("latchkey:admin"))
        .await
        .access_token();
    let acme = app
        .at(ACME)
        .token_for(&acme_ops, Some("latchkey:admin"))
        .await
        .access_token();
    let plain = app.token_for(&plain_app, None).await.access_token();
    Admins {
        app,
        ops,
        acme_ops,
        plain_app,
        root,
        acme,
        plain,
    }
}

impl Admins {
    pub(crate) async fn as_root(&self, method: Method, path: &str, body: Option<&Value>) -> Reply {
        self.app
            .admin_call(method, path, Some(&self.root), body)
            .await
    }

    pub(crate) async fn as_acme(&self, method: Method, path: &str, body: Option<&Value>) -> Reply {
        self.app
            .admin_call(method, path, Some(&self.acme), body)
            .await
    }

    /// Asserts that the default tenant's admin gets this error.
    pub(crate) async fn root_fails(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        status: u16,
        code: &str,
    ) {
        assert_admin_error(&self.as_root(method, path, body).await, status, code);
    }

    /// Asserts that acme's admin gets this error.
    pub(crate) async fn acme_fails(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        status: u16,
        code: &str,
    ) {
        assert_admin_error(&self.as_acme(method, path, body).await, status, code);
    }
}

/// Asserts an admin API error: status, `error` code, a description, JSON.
pub(crate) fn assert_admin_error(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status.as_u16(), status, "{reply:?}");
    assert!(
        reply
            .header("content-type")
            .is_some_and(|value| value.starts_with("application/json")),
        "{reply:?}"
    );
    let body = reply.json();
    assert_eq!(body["error"], code, "{reply:?}");
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|text| !text.is_empty()),
        "{reply:?}"
    );
}

/// The `name` of every item of a listed array (apps, tenants), in order.
pub(crate) fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|item| item["name"].as_str().unwrap())
        .collect()
}

/// The JSON body of an answer that must have `status`.
pub(crate) fn ok_json(reply: &Reply, status: u16) -> Value {
    assert_eq!(reply.status.as_u16(), status, "{reply:?}");
    reply.json()
}

/// Every operation of the API, with a body it accepts.
pub(crate) fn every_operation() -> Vec<(Method, &'static str, Option<Value>)> {
    let app = "/admin/v1/tenants/default/apps/00000000000000000000000000000000";
    vec![
        (Method::GET, "/admin/v1/tenants", None),
        (
            Method::POST,
            "/admin/v1/tenants",
            Some(json!({"name": "t1", "domains": ["t1.test"]})),
        ),
        (Method::GET, "/admin/v1/tenants/acme", None),
        (Method::PATCH, "/admin/v1/tenants/acme", Some(json!({}))),
        (Method::DELETE, "/admin/v1/tenants/globex", None),
        (Method::GET, "/admin/v1/tenants/default/apps", None),
        (
            Method::POST,
            "/admin/v1/tenants/default/apps",
            Some(json!({"name": "x"})),
        ),
        (Method::GET, app, None),
        (Method::PATCH, app, Some(json!({"name": "y"}))),
        (Method::DELETE, app, None),
        (
            Method::POST,
            "/admin/v1/tenants/default/apps/x/enable",
            None,
        ),
        (
            Method::POST,
            "/admin/v1/tenants/default/apps/x/disable",
            None,
        ),
        (
            Method::POST,
            "/admin/v1/tenants/default/apps/x/rotate-secret",
            None,
        ),
        (
            Method::DELETE,
            "/admin/v1/tenants/default/apps/x/secret",
            None,
        ),
        (
            Method::GET,
            "/admin/v1/tenants/default/apps/x/federations",
            None,
        ),
        (
            Method::POST,
            "/admin/v1/tenants/default/apps/x/federations",
            Some(json!({"name": "r", "issuer": "https://issuer.example", "subject": "s"})),
        ),
        (
            Method::DELETE,
            "/admin/v1/tenants/default/apps/x/federations/r",
            None,
        ),
        (Method::GET, "/admin/v1/tenants/default/keys", None),
        (Method::POST, "/admin/v1/tenants/default/keys/rotate", None),
        (
            Method::POST,
            "/admin/v1/tenants/default/revocations",
            Some(json!({"jti": "x"})),
        ),
        (Method::GET, "/admin/v1/audit", None),
    ]
}
