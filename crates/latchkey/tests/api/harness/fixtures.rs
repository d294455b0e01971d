//! The apps and the tenant many tests share: `billing` and `orders` in the default tenant, and
//! `acme`, a tenant on its own domain.

use super::{TestApp, new_app, new_tenant};
use serde_json::Value;
use std::collections::BTreeSet;

/// The scope `billing` gets when it names none.
pub(crate) const READ: &str = "invoices:read";
/// `billing`'s other scope.
pub(crate) const WRITE: &str = "invoices:write";

/// An m2m app allowed `invoices:read` and `invoices:write`, with `invoices:read` as its default.
pub(crate) async fn billing(app: &TestApp) -> Value {
    app.seed_app(
        new_app("billing")
            .scopes(&[READ, WRITE])
            .default_scopes(&[READ]),
    )
    .await
}

/// An m2m app `orders` allowed `read`: the owner of the tokens a test is about.
pub(crate) async fn owner(app: &TestApp) -> Value {
    app.seed_app(new_app("orders").scopes(&["read"])).await
}

/// The domain of the `acme` tenant.
pub(crate) const ACME_HOST: &str = "auth.acme.test";
/// Its issuer: https:// and its first domain.
pub(crate) const ACME_ISSUER: &str = "https://auth.acme.test";
/// A host no tenant claims.
pub(crate) const UNCLAIMED_HOST: &str = "unclaimed.test";

/// Creates tenant `acme` on `ACME_HOST` and waits until the server routes that host to it.
pub(crate) async fn acme(app: &TestApp) -> Value {
    app.seed_tenant(new_tenant("acme", &[ACME_HOST])).await
}

/// An m2m app in `tenant`, reachable at `host`, allowed to introspect.
pub(crate) async fn resource_server(app: &TestApp, tenant: &str, host: &str) -> Value {
    app.seed_app(new_app("api").tenant(tenant, host).introspect())
        .await
}

/// The kids as a set.
pub(crate) fn kid_set(kids: &[String]) -> BTreeSet<&str> {
    kids.iter().map(String::as_str).collect()
}

impl TestApp {
    /// The kids `latchkey key list --tenant TENANT --json` prints, each checked to be of that
    /// tenant.
    pub(crate) fn listed_kids(&self, tenant: &str) -> Vec<String> {
        self.cli_json(&["key", "list", "--tenant", tenant, "--json"])
            .as_array()
            .expect("a list of keys")
            .iter()
            .map(|key| {
                assert_eq!(key["tenant"], tenant, "key list --tenant {tenant}: {key}");
                key["kid"].as_str().expect("a kid").to_owned()
            })
            .collect()
    }
}
