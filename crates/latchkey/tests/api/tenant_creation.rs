//! Creating tenants: a tenant is stored with its first signing key, so no server sees it
//! without one and following changes makes no keys; a tenant's host never answers as the
//! `default` tenant once the server knows the tenant, not even while many are created at once;
//! and a tenant that is visible without a usable key answers 503, never as another tenant.

use crate::harness::*;
use latchkey_store::{DEFAULT_TENANT, TenantRecord};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;

/// How many tenants the concurrent test creates, half through the CLI, half through the API.
const AT_ONCE: usize = 40;
/// How many rounds of requests each new host gets once it is created.
const ROUNDS: usize = 5;

/// Creates tenant `t{index}` (through the admin API for even indexes, the CLI for odd ones),
/// then checks its host again and again: its own issuer, `default`'s app refused, and for
/// tenants made through the API, from the 201 on (the answering node serves its own write).
async fn create_and_probe(app: Arc<TestApp>, root: String, outsider: Value, index: usize) {
    let name = format!("t{index}");
    let host = format!("t{index}.test");
    let issuer = format!("https://{host}");
    if index.is_multiple_of(2) {
        let body = json!({"name": name, "domains": [host]});
        app.admin_ok(Method::POST, "/admin/v1/tenants", &root, Some(&body), 201)
            .await;
    } else {
        let db_url = app.db_url.clone();
        let args = ["tenant", "create", &name, "--domain", &host, "--json"].map(str::to_owned);
        let output = tokio::task::spawn_blocking(move || {
            latchkey_on(&db_url)
                .args(args)
                .output()
                .expect("running the latchkey binary")
        })
        .await
        .expect("the CLI ran");
        assert!(output.status.success(), "{}", describe(&output));
        // This server learns of a tenant the CLI made at its next poll: until then the host is
        // one no tenant claims.
        app.at(&host).wait_for_issuer(&issuer).await;
    }
    for round in 0..ROUNDS {
        assert_eq!(
            app.at(&host).issuer().await,
            Ok(issuer.clone()),
            "round {round} at {host}"
        );
        let reply = app.at(&host).token_for(&outsider, None).await;
        assert!(
            reply.is_invalid_client(),
            "round {round}: default's app at {host} got {reply:?}"
        );
    }
}

#[tokio::test]
async fn tenants_created_at_once_through_the_cli_and_the_admin_api_never_answer_as_the_default_tenant()
 {
    let app = spawn_app().await;
    let (outsider, root) = app.admin_token().await;
    let app = Arc::new(app);
    // One thread, like the test's runtime: the tasks interleave at every request.
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let mut creations = tokio::task::JoinSet::new();
            for index in 0..AT_ONCE {
                creations.spawn_local(create_and_probe(
                    Arc::clone(&app),
                    root.clone(),
                    outsider.clone(),
                    index,
                ));
            }
            while let Some(done) = creations.join_next().await {
                if let Err(failure) = done {
                    std::panic::resume_unwind(failure.into_panic());
                }
            }
        })
        .await;
    // Every tenant signs with its own key under its own issuer.
    for index in 0..AT_ONCE {
        let name = format!("t{index}");
        let host = format!("t{index}.test");
        let body = json!({"name": "svc", "scopes": ["read"]});
        let path = format!("/admin/v1/tenants/{name}/apps");
        let own = app
            .admin_ok(Method::POST, &path, &root, Some(&body), 201)
            .await;
        let token = app.at(&host).token_for(&own, None).await.access_token();
        let (_, claims) = jwt_parts(&token);
        assert_eq!(claims["iss"], format!("https://{host}"));
        assert!(app.at(&host).jwks_kids().await.contains(&jwt_kid(&token)));
        assert!(!app.jwks_kids().await.contains(&jwt_kid(&token)));
    }
}

#[tokio::test]
async fn a_tenant_created_through_the_cli_holds_its_signing_key_before_any_server_sees_it() {
    // This server never polls: whatever key the tenant has, the CLI made.
    let (app, _) = spawn_unpolled_app_with_admin().await;
    app.cli_json(&[
        "tenant",
        "create",
        "acme",
        "--domain",
        "acme.test",
        "--json",
    ]);
    let keys = app.stored_keys_of("acme").await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(keys[0].status, latchkey_store::KeyStatus::Active);
}

/// Stores a tenant without any signing key, as a version that left key making to the servers
/// did.
async fn store_keyless_tenant(app: &TestApp, name: &str, domain: &str) {
    let tenant = TenantRecord {
        name: name.to_owned(),
        domains: vec![domain.to_owned()],
        issuer: None,
        token_profile: latchkey_protocol::TokenProfile::default(),
        publish_scopes: true,
        max_assertion_lifetime: None,
        created_at: unix_now(),
        updated_at: unix_now(),
    };
    app.store()
        .await
        .create_tenant(&tenant, None, None)
        .await
        .expect("storing a tenant");
}

#[tokio::test]
async fn a_visible_tenant_without_a_signing_key_answers_503_and_never_as_the_default_tenant() {
    let (app, root) = spawn_unpolled_app_with_admin().await;
    store_keyless_tenant(&app, "legacy", "legacy.test").await;
    let own = app.cli_json(&[
        "app", "create", "--tenant", "legacy", "--name", "svc", "--json",
    ]);
    // Any write through the admin API makes this node apply the log, the tenant included.
    let body = json!({"name": "outsider", "scopes": ["read"]});
    let path = format!("/admin/v1/tenants/{DEFAULT_TENANT}/apps");
    let outsider = app
        .admin_ok(Method::POST, &path, &root, Some(&body), 201)
        .await;

    assert_eq!(
        app.at("legacy.test").issuer().await,
        Ok("https://legacy.test".to_owned())
    );
    app.at("legacy.test")
        .token_for(&own, None)
        .await
        .assert_error(503, "temporarily_unavailable");
    app.at("legacy.test")
        .token_for(&outsider, None)
        .await
        .assert_error(401, "invalid_client");
    assert!(app.stored_keys_of("legacy").await.is_empty());
}

#[tokio::test]
async fn a_following_server_gets_a_key_made_for_a_tenant_stored_without_one() {
    let app = spawn_app().await;
    store_keyless_tenant(&app, "legacy", "legacy.test").await;
    let own = app.cli_json(&[
        "app", "create", "--tenant", "legacy", "--name", "svc", "--json",
    ]);
    let token = eventually("the tenant to get a signing key", async || {
        let reply = app.at("legacy.test").token_for(&own, None).await;
        match reply.status.as_u16() {
            200 => Ok(reply.access_token()),
            _ => Err(format!("{reply:?}")),
        }
    })
    .await;
    let (_, claims) = jwt_parts(&token);
    assert_eq!(claims["iss"], "https://legacy.test");
    assert_eq!(app.stored_keys_of("legacy").await.len(), 1);
}
