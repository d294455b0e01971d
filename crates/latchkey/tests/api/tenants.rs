//! Tenants on their own domains: the `latchkey tenant` commands, routing by the Host header,
//! each tenant's own discovery document, JWKS, tokens and apps, isolation between tenants in
//! both directions, and changes reaching a running server without a restart.

use crate::harness::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The domain of the `acme` tenant most tests create.
const ACME_HOST: &str = "auth.acme.test";
/// Its issuer: https:// and its first domain.
const ACME_ISSUER: &str = "https://auth.acme.test";
/// A host no tenant claims.
const UNCLAIMED_HOST: &str = "unclaimed.test";
const OAUTH_METADATA: &str = "/.well-known/oauth-authorization-server";
const OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";

/// Creates tenant `acme` on `ACME_HOST` and waits until the server routes that host to it.
async fn acme(app: &TestApp) -> Value {
    app.seed_tenant(new_tenant("acme", &[ACME_HOST])).await
}

/// An m2m app in `tenant`, reachable at `host`, allowed to introspect.
async fn resource_server(app: &TestApp, tenant: &str, host: &str) -> Value {
    app.seed_app(new_app("api").tenant(tenant, host).introspect())
        .await
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs the CLI, asserts it failed with a message on stderr containing every one of `mentions`,
/// and returns that message.
fn assert_cli_fails(app: &TestApp, args: &[&str], mentions: &[&str]) -> String {
    let output = app.cli(args);
    assert!(
        !output.status.success(),
        "`latchkey {}` should fail: {}",
        args.join(" "),
        describe(&output)
    );
    let message = stderr(&output);
    for mention in mentions {
        assert!(
            message.contains(mention),
            "`latchkey {}` should mention {mention:?}: {}",
            args.join(" "),
            describe(&output)
        );
    }
    message
}

fn tenant_names(app: &TestApp) -> Vec<String> {
    app.cli_json(&["tenant", "list", "--json"])
        .as_array()
        .expect("a list of tenants")
        .iter()
        .map(|tenant| tenant["name"].as_str().expect("a name").to_owned())
        .collect()
}

fn kid_set(kids: &[String]) -> BTreeSet<&str> {
    kids.iter().map(String::as_str).collect()
}

fn listed_kids(app: &TestApp, tenant: &str) -> Vec<String> {
    app.cli_json(&["key", "list", "--tenant", tenant, "--json"])
        .as_array()
        .expect("a list of keys")
        .iter()
        .map(|key| {
            assert_eq!(key["tenant"], tenant, "key list --tenant {tenant}: {key}");
            key["kid"].as_str().expect("a kid").to_owned()
        })
        .collect()
}

// --- the tenant commands ---------------------------------------------------------------------

#[tokio::test]
async fn tenant_create_json_prints_lower_case_domains_and_an_https_issuer_from_the_first() {
    let app = spawn_app().await;

    let created = app.cli_json(&[
        "tenant",
        "create",
        "acme",
        "--domain",
        "Auth.ACME.test",
        "--domain",
        "API.acme.test",
        "--json",
    ]);

    assert_eq!(created["name"], "acme", "{created}");
    assert_eq!(
        created["domains"],
        json!(["auth.acme.test", "api.acme.test"]),
        "{created}"
    );
    assert_eq!(created["issuer"], ACME_ISSUER, "{created}");
    unix_seconds(&created["created_at"]);
    unix_seconds(&created["updated_at"]);
}

#[tokio::test]
async fn tenant_create_with_issuer_keeps_the_given_issuer() {
    let app = spawn_app().await;

    let created = app.cli_json(&[
        "tenant",
        "create",
        "acme",
        "--domain",
        ACME_HOST,
        "--issuer",
        "https://id.acme.example/oauth",
        "--json",
    ]);

    assert_eq!(
        created["issuer"], "https://id.acme.example/oauth",
        "{created}"
    );
    let shown = app.cli_json(&["tenant", "show", "acme", "--json"]);
    assert_eq!(shown["issuer"], "https://id.acme.example/oauth", "{shown}");
}

#[tokio::test]
async fn tenant_list_json_shows_default_with_a_null_issuer_and_every_created_tenant() {
    let app = spawn_app().await;
    app.cli_ok(&["tenant", "create", "acme", "--domain", ACME_HOST]);
    app.cli_ok(&[
        "tenant",
        "create",
        "globex",
        "--domain",
        "Login.Globex.test",
    ]);

    let list = app.cli_json(&["tenant", "list", "--json"]);

    let list = list.as_array().expect("a list");
    let by_name = |name: &str| {
        list.iter()
            .find(|tenant| tenant["name"] == name)
            .unwrap_or_else(|| panic!("{name} is not listed: {list:?}"))
            .clone()
    };
    assert_eq!(list.len(), 3, "{list:?}");
    let default = by_name("default");
    assert_eq!(default["issuer"], Value::Null, "{default}");
    assert_eq!(default["domains"], json!([]), "{default}");
    assert_eq!(by_name("acme")["domains"], json!([ACME_HOST]));
    assert_eq!(by_name("acme")["issuer"], ACME_ISSUER);
    assert_eq!(by_name("globex")["domains"], json!(["login.globex.test"]));
    assert_eq!(by_name("globex")["issuer"], "https://login.globex.test");
}

#[tokio::test]
async fn tenant_show_json_prints_what_create_printed() {
    let app = spawn_app().await;
    let created = app.cli_json(&["tenant", "create", "acme", "--domain", ACME_HOST, "--json"]);

    let shown = app.cli_json(&["tenant", "show", "acme", "--json"]);
    let default = app.cli_json(&["tenant", "show", "default", "--json"]);

    assert_eq!(shown, created);
    assert_eq!(default["name"], "default", "{default}");
    assert_eq!(default["issuer"], Value::Null, "{default}");
}

#[tokio::test]
async fn tenant_update_replaces_domains_and_sets_or_resets_the_issuer() {
    let app = spawn_app().await;
    app.cli_ok(&["tenant", "create", "acme", "--domain", ACME_HOST]);

    let moved = app.cli_json(&[
        "tenant",
        "update",
        "acme",
        "--domain",
        "ID.acme.test",
        "--domain",
        "sso.acme.test",
        "--json",
    ]);
    assert_eq!(
        moved["domains"],
        json!(["id.acme.test", "sso.acme.test"]),
        "the list is replaced: {moved}"
    );
    assert_eq!(
        moved["issuer"], "https://id.acme.test",
        "the default issuer follows the first domain: {moved}"
    );

    let pinned = app.cli_json(&[
        "tenant",
        "update",
        "acme",
        "--issuer",
        "https://issuer.acme.example",
        "--json",
    ]);
    assert_eq!(pinned["issuer"], "https://issuer.acme.example", "{pinned}");
    assert_eq!(
        pinned["domains"], moved["domains"],
        "domains are kept when not given: {pinned}"
    );

    let reset = app.cli_json(&["tenant", "update", "acme", "--default-issuer", "--json"]);
    assert_eq!(reset["issuer"], "https://id.acme.test", "{reset}");
    assert_eq!(
        app.cli_json(&["tenant", "show", "acme", "--json"]),
        reset,
        "show prints the updated tenant"
    );
}

#[tokio::test]
async fn tenant_delete_removes_an_empty_tenant() {
    let app = spawn_app().await;
    app.cli_ok(&["tenant", "create", "acme", "--domain", ACME_HOST]);

    let deleted = app.cli_json(&["tenant", "delete", "acme", "--json"]);

    assert_eq!(deleted, json!({ "name": "acme", "deleted": true }));
    assert_eq!(tenant_names(&app), ["default"]);
    assert_cli_fails(&app, &["tenant", "show", "acme"], &["acme"]);
}

#[tokio::test]
async fn tenant_create_refuses_a_bad_name() {
    let app = spawn_app().await;

    for name in ["Acme", "acme corp", "-acme", "a/b"] {
        assert_cli_fails(
            &app,
            // `--` so that a name starting with '-' reaches the command rather than the parser.
            &["tenant", "create", "--domain", ACME_HOST, "--", name],
            &["tenant name", name],
        );
    }
    assert_eq!(tenant_names(&app), ["default"], "nothing was created");
}

#[tokio::test]
async fn tenant_create_refuses_a_domain_with_a_port_or_a_scheme() {
    let app = spawn_app().await;

    assert_cli_fails(
        &app,
        &[
            "tenant",
            "create",
            "acme",
            "--domain",
            "auth.acme.test:8443",
        ],
        &["auth.acme.test:8443", "port"],
    );
    assert_cli_fails(
        &app,
        &[
            "tenant",
            "create",
            "acme",
            "--domain",
            "https://auth.acme.test",
        ],
        &["https://auth.acme.test", "scheme"],
    );
    app.cli_ok(&["tenant", "create", "acme", "--domain", ACME_HOST]);
    assert_cli_fails(
        &app,
        &["tenant", "update", "acme", "--domain", "auth.acme.test:443"],
        &["port"],
    );
    assert_eq!(
        app.cli_json(&["tenant", "show", "acme", "--json"])["domains"],
        json!([ACME_HOST]),
        "a refused update changes nothing"
    );
}

#[tokio::test]
async fn tenant_create_and_update_refuse_a_domain_another_tenant_holds() {
    let app = spawn_app().await;
    app.cli_ok(&["tenant", "create", "acme", "--domain", ACME_HOST]);
    app.cli_ok(&["tenant", "create", "globex", "--domain", "auth.globex.test"]);

    assert_cli_fails(
        &app,
        &["tenant", "create", "initech", "--domain", "AUTH.acme.test"],
        &["auth.acme.test"],
    );
    assert_cli_fails(
        &app,
        &["tenant", "update", "globex", "--domain", ACME_HOST],
        &["auth.acme.test"],
    );
    assert_eq!(tenant_names(&app).len(), 3, "initech was not created");
    assert_eq!(
        app.cli_json(&["tenant", "show", "globex", "--json"])["domains"],
        json!(["auth.globex.test"])
    );
}

#[tokio::test]
async fn tenant_create_refuses_a_name_in_use() {
    let app = spawn_app().await;
    app.cli_ok(&["tenant", "create", "acme", "--domain", ACME_HOST]);

    assert_cli_fails(
        &app,
        &["tenant", "create", "acme", "--domain", "other.acme.test"],
        &["acme", "exists"],
    );
}

#[tokio::test]
async fn tenant_delete_refuses_a_tenant_with_apps_unless_forced() {
    let app = spawn_app().await;
    app.cli_ok(&["tenant", "create", "acme", "--domain", ACME_HOST]);
    app.cli_ok(&["app", "create", "--tenant", "acme", "--name", "worker"]);

    assert_cli_fails(&app, &["tenant", "delete", "acme"], &["--force"]);
    assert!(tenant_names(&app).contains(&"acme".to_owned()));
    assert_eq!(
        app.cli_json(&["app", "list", "--tenant", "acme", "--json"])
            .as_array()
            .map(Vec::len),
        Some(1),
        "the app is still there"
    );

    app.cli_ok(&["tenant", "delete", "acme", "--force"]);
    assert_eq!(tenant_names(&app), ["default"]);
}

#[tokio::test]
async fn tenant_delete_refuses_the_default_tenant() {
    let app = spawn_app().await;

    assert_cli_fails(&app, &["tenant", "delete", "default"], &["default"]);
    assert_cli_fails(
        &app,
        &["tenant", "delete", "default", "--force"],
        &["default"],
    );
    assert_eq!(tenant_names(&app), ["default"]);
}

#[tokio::test]
async fn tenant_flag_naming_an_unknown_tenant_fails_for_app_key_and_token_commands() {
    let app = spawn_app().await;
    let worker = app.cli_json(&["app", "create", "--name", "worker", "--json"]);
    let id = client_id(&worker);

    for args in [
        vec!["app", "list", "--tenant", "nope"],
        vec!["app", "create", "--tenant", "nope", "--name", "x"],
        vec!["app", "show", "--tenant", "nope", id],
        vec!["app", "disable", "--tenant", "nope", id],
        vec!["key", "list", "--tenant", "nope"],
        vec!["key", "rotate", "--tenant", "nope"],
        vec!["token", "revoke", "--tenant", "nope", "--app", id],
    ] {
        assert_cli_fails(&app, &args, &["nope", "tenant list"]);
    }
    assert_eq!(
        app.cli_json(&["app", "show", id, "--json"])["enabled"],
        true,
        "nothing happened to the default tenant's app"
    );
    assert_eq!(
        app.cli_json(&["app", "list", "--json"])
            .as_array()
            .map(Vec::len),
        Some(1),
        "no app was created anywhere"
    );
}

#[tokio::test]
async fn app_commands_with_tenant_see_only_that_tenants_apps() {
    let app = spawn_app().await;
    app.cli_ok(&["tenant", "create", "acme", "--domain", ACME_HOST]);
    let ours = app.cli_json(&[
        "app", "create", "--tenant", "acme", "--name", "ours", "--json",
    ]);
    let theirs = app.cli_json(&["app", "create", "--name", "theirs", "--json"]);
    assert_eq!(ours["tenant"], "acme", "{ours}");
    assert_eq!(theirs["tenant"], "default", "{theirs}");

    let acme_ids: Vec<Value> = app
        .cli_json(&["app", "list", "--tenant", "acme", "--json"])
        .as_array()
        .expect("a list")
        .iter()
        .map(|listed| listed["client_id"].clone())
        .collect();
    let default_ids: Vec<Value> = app
        .cli_json(&["app", "list", "--json"])
        .as_array()
        .expect("a list")
        .iter()
        .map(|listed| listed["client_id"].clone())
        .collect();

    assert_eq!(acme_ids, [ours["client_id"].clone()]);
    assert_eq!(default_ids, [theirs["client_id"].clone()]);
    assert_cli_fails(
        &app,
        &["app", "show", "--tenant", "acme", client_id(&theirs)],
        &[],
    );
    assert_cli_fails(&app, &["app", "delete", client_id(&ours)], &[]);
    assert_eq!(
        app.cli_json(&[
            "app",
            "show",
            "--tenant",
            "acme",
            client_id(&ours),
            "--json"
        ])["name"],
        "ours",
        "deleting from the wrong tenant left it alone"
    );
}

// --- routing ---------------------------------------------------------------------------------

#[tokio::test]
async fn host_header_reaches_its_tenant_whatever_its_case_and_port() {
    let app = spawn_app().await;
    acme(&app).await;
    let worker = app
        .seed_app(new_app("worker").tenant("acme", ACME_HOST))
        .await;

    let host = "AUTH.Acme.Test:8443";
    assert_eq!(app.at(host).issuer().await, Ok(ACME_ISSUER.to_owned()));
    let token = app.at(host).token_for(&worker, None).await.access_token();
    assert_eq!(jwt_parts(&token).1["iss"], ACME_ISSUER);
    assert_eq!(
        app.at("auth.acme.test.").issuer().await,
        Ok(ACME_ISSUER.to_owned()),
        "a fully qualified name with its trailing dot is the same host"
    );
}

#[tokio::test]
async fn a_host_no_tenant_claims_reaches_the_default_tenant() {
    let app = spawn_app().await;
    acme(&app).await;
    let worker = app.seed_app(new_app("worker")).await;

    for host in [UNCLAIMED_HOST, "acme.test", "x.auth.acme.test"] {
        assert_eq!(app.at(host).issuer().await, Ok(ISSUER.to_owned()), "{host}");
    }
    let token = app
        .at(UNCLAIMED_HOST)
        .token_for(&worker, None)
        .await
        .access_token();
    assert_eq!(jwt_parts(&token).1["iss"], ISSUER);
}

#[tokio::test]
async fn with_strict_hosts_an_unclaimed_host_gets_404_on_token_jwks_and_discovery() {
    let app = spawn_app_with(Setup {
        strict_hosts: true,
        ..Setup::default()
    })
    .await;
    acme(&app).await;
    let worker = app
        .seed_app(new_app("worker").tenant("acme", ACME_HOST))
        .await;

    for host in [UNCLAIMED_HOST, "Unclaimed.test:8080"] {
        for path in [JWKS_PATH, OAUTH_METADATA, OPENID_CONFIGURATION] {
            let reply = app.at(host).get(path).await;
            assert_eq!(
                reply.status,
                StatusCode::NOT_FOUND,
                "{host}{path}: {reply:?}"
            );
        }
        let token = app.at(host).token_for(&worker, None).await;
        assert_eq!(
            token.status,
            StatusCode::NOT_FOUND,
            "{host} token: {token:?}"
        );
    }

    assert_eq!(app.at(ACME_HOST).issuer().await, Ok(ACME_ISSUER.to_owned()));
    assert!(!app.at(ACME_HOST).jwks_kids().await.is_empty());
    let token = app
        .at(ACME_HOST)
        .token_for(&worker, None)
        .await
        .access_token();
    assert_eq!(jwt_parts(&token).1["iss"], ACME_ISSUER);
}

#[tokio::test]
async fn with_strict_hosts_introspection_and_revocation_at_an_unclaimed_host_get_404() {
    let app = spawn_app_with(Setup {
        strict_hosts: true,
        ..Setup::default()
    })
    .await;
    acme(&app).await;
    let api = resource_server(&app, "acme", ACME_HOST).await;
    let token = app.at(ACME_HOST).token_for(&api, None).await.access_token();

    for path in ["/oauth2/introspect", "/oauth2/revoke"] {
        let reply = app
            .send(
                app.at(UNCLAIMED_HOST)
                    .request(Method::POST, path)
                    .basic_auth(client_id(&api), Some(client_secret(&api)))
                    .form(&[("token", token.as_str())]),
            )
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}: {reply:?}");
    }
    assert_eq!(
        app.at(ACME_HOST).introspect(&api, &token).await["active"],
        true
    );
}

// --- each tenant its own discovery, keys and tokens ------------------------------------------

#[tokio::test]
async fn each_tenant_has_its_own_discovery_issuer_and_endpoint_urls() {
    let app = spawn_app().await;
    acme(&app).await;
    app.seed_tenant(
        new_tenant("globex", &["login.globex.test"]).issuer("https://id.globex.example/tenant"),
    )
    .await;

    for (host, issuer) in [
        (ACME_HOST, ACME_ISSUER),
        ("login.globex.test", "https://id.globex.example/tenant"),
        (UNCLAIMED_HOST, ISSUER),
    ] {
        for path in [OAUTH_METADATA, OPENID_CONFIGURATION] {
            let reply = app.at(host).get(path).await;
            assert_eq!(reply.status, StatusCode::OK, "{host}{path}: {reply:?}");
            let metadata = reply.json();
            assert_eq!(metadata["issuer"], issuer, "{host}{path}: {metadata}");
            for (member, endpoint) in [
                ("token_endpoint", "/oauth2/token"),
                ("jwks_uri", "/oauth2/jwks"),
                ("introspection_endpoint", "/oauth2/introspect"),
                ("revocation_endpoint", "/oauth2/revoke"),
            ] {
                assert_eq!(
                    metadata[member],
                    format!("{issuer}{endpoint}"),
                    "{host}{path}: {metadata}"
                );
            }
        }
    }
}

#[tokio::test]
async fn discovery_lists_only_the_scopes_of_its_own_tenants_apps() {
    let app = spawn_app().await;
    acme(&app).await;
    app.seed_app(
        new_app("a")
            .tenant("acme", ACME_HOST)
            .scopes(&["acme:read"]),
    )
    .await;
    app.seed_app(new_app("d").scopes(&["default:read"])).await;

    let scopes = |metadata: Value| -> Vec<String> {
        metadata["scopes_supported"]
            .as_array()
            .expect("scopes_supported")
            .iter()
            .map(|scope| scope.as_str().expect("a scope").to_owned())
            .collect()
    };
    let acme = scopes(app.at(ACME_HOST).get(OAUTH_METADATA).await.json());
    let default = scopes(app.at(UNCLAIMED_HOST).get(OAUTH_METADATA).await.json());

    assert_eq!(acme, ["acme:read"]);
    assert_eq!(default, ["default:read"]);
}

#[tokio::test]
async fn each_tenant_publishes_its_own_jwks_with_kids_of_its_own() {
    let app = spawn_app().await;
    acme(&app).await;

    let acme_kids = app.at(ACME_HOST).jwks_kids().await;
    let default_kids = app.at(UNCLAIMED_HOST).jwks_kids().await;

    assert!(!acme_kids.is_empty(), "acme publishes a key");
    assert!(!default_kids.is_empty(), "default publishes a key");
    assert!(
        kid_set(&acme_kids).is_disjoint(&kid_set(&default_kids)),
        "acme {acme_kids:?} and default {default_kids:?} share a key"
    );
    assert_eq!(
        kid_set(&listed_kids(&app, "acme")),
        kid_set(&acme_kids),
        "key list --tenant acme lists acme's published keys"
    );
}

#[tokio::test]
async fn tokens_carry_their_tenants_issuer_and_verify_only_with_their_tenants_jwks() {
    let app = spawn_app().await;
    acme(&app).await;
    let acme_app = app.seed_app(new_app("a").tenant("acme", ACME_HOST)).await;
    let default_app = app.seed_app(new_app("d")).await;
    let acme_jwks = app.at(ACME_HOST).jwks().await;
    let default_jwks = app.at(UNCLAIMED_HOST).jwks().await;

    let acme_token = app
        .at(ACME_HOST)
        .token_for(&acme_app, None)
        .await
        .access_token();
    let default_token = app
        .at(UNCLAIMED_HOST)
        .token_for(&default_app, None)
        .await
        .access_token();

    let claims = verify_token(&acme_jwks, &acme_token, client_id(&acme_app), ACME_ISSUER)
        .expect("acme's token verifies with acme's JWKS");
    assert_eq!(claims["iss"], ACME_ISSUER);
    let claims = verify_token(
        &default_jwks,
        &default_token,
        client_id(&default_app),
        ISSUER,
    )
    .expect("default's token verifies with default's JWKS");
    assert_eq!(claims["iss"], ISSUER);

    let acme_kid = jwt_kid(&acme_token);
    let default_kid = jwt_kid(&default_token);
    assert_ne!(acme_kid, default_kid);
    let crossed = verify_token(
        &default_jwks,
        &acme_token,
        client_id(&acme_app),
        ACME_ISSUER,
    );
    assert!(
        crossed.is_err_and(|error| error.contains("not in the JWKS")),
        "acme's kid {acme_kid} is not in default's JWKS"
    );
    let crossed = verify_token(&acme_jwks, &default_token, client_id(&default_app), ISSUER);
    assert!(
        crossed.is_err_and(|error| error.contains("not in the JWKS")),
        "default's kid {default_kid} is not in acme's JWKS"
    );
}

// --- isolation -------------------------------------------------------------------------------

#[tokio::test]
async fn an_app_presenting_its_credentials_at_another_tenants_host_is_an_invalid_client() {
    let app = spawn_app().await;
    acme(&app).await;
    let acme_app = app.seed_app(new_app("a").tenant("acme", ACME_HOST)).await;
    let default_app = app.seed_app(new_app("d")).await;

    for (host, stranger) in [(UNCLAIMED_HOST, &acme_app), (ACME_HOST, &default_app)] {
        app.at(host)
            .token_for(stranger, None)
            .await
            .assert_error(401, "invalid_client");
        let basic = app
            .send(
                app.at(host)
                    .request(Method::POST, TOKEN_PATH)
                    .header(
                        "authorization",
                        basic_header(client_id(stranger), client_secret(stranger)),
                    )
                    .form(&[("grant_type", "client_credentials")]),
            )
            .await;
        basic.assert_error(401, "invalid_client");
    }
    // Each app still gets tokens at its own tenant's host.
    assert_eq!(
        app.at(ACME_HOST).token_for(&acme_app, None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.at(UNCLAIMED_HOST)
            .token_for(&default_app, None)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_app_cannot_introspect_at_another_tenants_host() {
    let app = spawn_app().await;
    acme(&app).await;
    let acme_api = resource_server(&app, "acme", ACME_HOST).await;
    let token = app
        .at(ACME_HOST)
        .token_for(&acme_api, None)
        .await
        .access_token();

    let reply = app
        .send(
            app.at(UNCLAIMED_HOST)
                .request(Method::POST, "/oauth2/introspect")
                .basic_auth(client_id(&acme_api), Some(client_secret(&acme_api)))
                .form(&[("token", token.as_str())]),
        )
        .await;

    reply.assert_error(401, "invalid_client");
}

#[tokio::test]
async fn a_token_of_one_tenant_introspects_inactive_at_the_other() {
    let app = spawn_app().await;
    acme(&app).await;
    let acme_api = resource_server(&app, "acme", ACME_HOST).await;
    let default_api = resource_server(&app, "default", UNCLAIMED_HOST).await;
    let acme_token = app
        .at(ACME_HOST)
        .token_for(&acme_api, None)
        .await
        .access_token();
    let default_token = app
        .at(UNCLAIMED_HOST)
        .token_for(&default_api, None)
        .await
        .access_token();

    // Each is active where it was issued...
    assert_eq!(
        app.at(ACME_HOST).introspect(&acme_api, &acme_token).await["active"],
        true
    );
    assert_eq!(
        app.at(UNCLAIMED_HOST)
            .introspect(&default_api, &default_token)
            .await["active"],
        true
    );
    // ...and nothing more than inactive at the other tenant.
    assert_eq!(
        app.at(UNCLAIMED_HOST)
            .introspect(&default_api, &acme_token)
            .await,
        json!({ "active": false })
    );
    assert_eq!(
        app.at(ACME_HOST)
            .introspect(&acme_api, &default_token)
            .await,
        json!({ "active": false })
    );
}

#[tokio::test]
async fn revoking_a_token_at_another_tenants_host_does_not_revoke_it() {
    let app = spawn_app().await;
    acme(&app).await;
    let acme_api = resource_server(&app, "acme", ACME_HOST).await;
    let default_api = resource_server(&app, "default", UNCLAIMED_HOST).await;
    let acme_token = app
        .at(ACME_HOST)
        .token_for(&acme_api, None)
        .await
        .access_token();
    let default_token = app
        .at(UNCLAIMED_HOST)
        .token_for(&default_api, None)
        .await
        .access_token();

    // RFC 7009: 200 whether or not anything was revoked.
    let wrong = app
        .at(UNCLAIMED_HOST)
        .revoke(&default_api, &acme_token)
        .await;
    assert_eq!(wrong.status, StatusCode::OK, "{wrong:?}");
    let wrong = app.at(ACME_HOST).revoke(&acme_api, &default_token).await;
    assert_eq!(wrong.status, StatusCode::OK, "{wrong:?}");

    // A node applies its own revocations at once, so a wrong one would show here already.
    assert_eq!(
        app.at(ACME_HOST).introspect(&acme_api, &acme_token).await["active"],
        true,
        "acme's token survives a revocation at default's host"
    );
    assert_eq!(
        app.at(UNCLAIMED_HOST)
            .introspect(&default_api, &default_token)
            .await["active"],
        true,
        "default's token survives a revocation at acme's host"
    );

    let right = app.at(ACME_HOST).revoke(&acme_api, &acme_token).await;
    assert_eq!(right.status, StatusCode::OK, "{right:?}");
    assert_eq!(
        app.at(ACME_HOST).introspect(&acme_api, &acme_token).await["active"],
        false,
        "revoked at its own tenant"
    );
}

#[tokio::test]
async fn token_revoke_with_another_tenant_does_not_revoke_the_token() {
    let app = spawn_app().await;
    acme(&app).await;
    let default_api = resource_server(&app, "default", UNCLAIMED_HOST).await;
    let token = app
        .at(UNCLAIMED_HOST)
        .token_for(&default_api, None)
        .await
        .access_token();
    let jti = jwt_parts(&token).1["jti"]
        .as_str()
        .expect("a jti")
        .to_owned();

    app.cli_ok(&["token", "revoke", "--tenant", "acme", &jti]);
    // Then a change the server surely applies after that one: it has seen the revocation.
    let marker = app.seed_app(new_app("marker")).await;
    assert_eq!(app.token_for(&marker, None).await.status, StatusCode::OK);

    assert_eq!(
        app.at(UNCLAIMED_HOST)
            .introspect(&default_api, &token)
            .await["active"],
        true,
        "a revocation in acme does not reach default's token"
    );
    app.cli_ok(&["token", "revoke", &jti]);
    app.wait_for_active(&default_api, &token, false).await;
}

// --- keys per tenant -------------------------------------------------------------------------

#[tokio::test]
async fn key_rotate_with_tenant_rotates_only_that_tenants_keys() {
    let app = spawn_app().await;
    acme(&app).await;
    let acme_app = app.seed_app(new_app("a").tenant("acme", ACME_HOST)).await;
    let default_before = app.at(UNCLAIMED_HOST).jwks().await;
    let default_listed_before = listed_kids(&app, "default");
    let acme_before = listed_kids(&app, "acme");

    let rotated = app.cli_json(&["key", "rotate", "--tenant", "acme", "--json"]);
    let new_kid = rotated["kid"].as_str().expect("the new kid").to_owned();

    assert!(!acme_before.contains(&new_kid), "a new key: {rotated}");
    assert!(
        listed_kids(&app, "acme").contains(&new_kid),
        "key list --tenant acme shows the new key"
    );
    assert!(
        !listed_kids(&app, "default").contains(&new_kid),
        "key list (default) does not"
    );
    eventually("acme's tokens to be signed by the new key", async || {
        let token = app
            .at(ACME_HOST)
            .token_for(&acme_app, None)
            .await
            .access_token();
        let kid = jwt_kid(&token);
        if kid == new_kid { Ok(()) } else { Err(kid) }
    })
    .await;
    assert!(app.at(ACME_HOST).jwks_kids().await.contains(&new_kid));
    assert_eq!(
        app.at(UNCLAIMED_HOST).jwks().await,
        default_before,
        "default's JWKS is unchanged"
    );
    assert_eq!(listed_kids(&app, "default"), default_listed_before);
}

// --- deletion --------------------------------------------------------------------------------

#[tokio::test]
async fn tenant_delete_force_removes_its_apps_and_keys_and_its_host_falls_to_default() {
    let app = spawn_app().await;
    acme(&app).await;
    let acme_app = app.seed_app(new_app("a").tenant("acme", ACME_HOST)).await;
    let default_app = app.seed_app(new_app("d")).await;
    assert!(!app.stored_keys_of("acme").await.is_empty());

    app.cli_ok(&["tenant", "delete", "acme", "--force"]);

    let store = app.store().await;
    assert!(
        store.apps("acme").await.expect("listing apps").is_empty(),
        "acme's apps are deleted"
    );
    assert!(
        app.stored_keys_of("acme").await.is_empty(),
        "acme's keys are deleted"
    );
    app.at(ACME_HOST).wait_for_issuer(ISSUER).await;
    app.at(ACME_HOST)
        .token_for(&acme_app, None)
        .await
        .assert_error(401, "invalid_client");
    let token = app
        .at(ACME_HOST)
        .token_for(&default_app, None)
        .await
        .access_token();
    assert_eq!(
        jwt_parts(&token).1["iss"],
        ISSUER,
        "acme's host now serves the default tenant"
    );
}

#[tokio::test]
async fn with_strict_hosts_a_deleted_tenants_host_answers_404() {
    let app = spawn_app_with(Setup {
        strict_hosts: true,
        ..Setup::default()
    })
    .await;
    acme(&app).await;
    let acme_app = app.seed_app(new_app("a").tenant("acme", ACME_HOST)).await;

    app.cli_ok(&["tenant", "delete", "acme", "--force"]);

    eventually("acme's host to answer 404", async || {
        let reply = app.at(ACME_HOST).get(JWKS_PATH).await;
        if reply.status == StatusCode::NOT_FOUND {
            Ok(())
        } else {
            Err(format!("{reply:?}"))
        }
    })
    .await;
    let token = app.at(ACME_HOST).token_for(&acme_app, None).await;
    assert_eq!(token.status, StatusCode::NOT_FOUND, "{token:?}");
    let discovery = app.at(ACME_HOST).get(OAUTH_METADATA).await;
    assert_eq!(discovery.status, StatusCode::NOT_FOUND, "{discovery:?}");
}

#[tokio::test]
async fn a_tenant_recreated_under_a_deleted_name_does_not_get_the_old_apps_back() {
    let app = spawn_app().await;
    acme(&app).await;
    let old = app.seed_app(new_app("old").tenant("acme", ACME_HOST)).await;
    let old_kids = app.at(ACME_HOST).jwks_kids().await;
    app.cli_ok(&["tenant", "delete", "acme", "--force"]);
    app.at(ACME_HOST).wait_for_issuer(ISSUER).await;

    acme(&app).await;

    app.at(ACME_HOST)
        .token_for(&old, None)
        .await
        .assert_error(401, "invalid_client");
    assert_eq!(
        app.cli_json(&["app", "list", "--tenant", "acme", "--json"]),
        json!([])
    );
    let new_kids = app.at(ACME_HOST).jwks_kids().await;
    assert!(
        kid_set(&new_kids).is_disjoint(&kid_set(&old_kids)),
        "new keys {new_kids:?}, not the old {old_kids:?}"
    );
}

// --- changes reach a running server without a restart -------------------------------------

#[tokio::test]
async fn a_tenant_created_while_serving_answers_its_host_without_a_restart() {
    let app = spawn_app().await;
    assert_eq!(app.at(ACME_HOST).issuer().await, Ok(ISSUER.to_owned()));

    app.cli_ok(&["tenant", "create", "acme", "--domain", ACME_HOST]);

    app.at(ACME_HOST).wait_for_issuer(ACME_ISSUER).await;
    assert!(!app.at(ACME_HOST).jwks_kids().await.is_empty());
}

#[tokio::test]
async fn a_domain_added_or_removed_while_serving_is_routed_without_a_restart() {
    let app = spawn_app().await;
    acme(&app).await;
    let worker = app.seed_app(new_app("w").tenant("acme", ACME_HOST)).await;

    app.cli_ok(&[
        "tenant",
        "update",
        "acme",
        "--domain",
        ACME_HOST,
        "--domain",
        "api.acme.test",
    ]);
    app.at("api.acme.test").wait_for_issuer(ACME_ISSUER).await;
    let token = app
        .at("api.acme.test")
        .token_for(&worker, None)
        .await
        .access_token();
    assert_eq!(jwt_parts(&token).1["iss"], ACME_ISSUER);

    app.cli_ok(&["tenant", "update", "acme", "--domain", "api.acme.test"]);
    // The issuer follows the new first domain, and the dropped domain falls to default.
    app.at("api.acme.test")
        .wait_for_issuer("https://api.acme.test")
        .await;
    app.at(ACME_HOST).wait_for_issuer(ISSUER).await;
    app.at(ACME_HOST)
        .token_for(&worker, None)
        .await
        .assert_error(401, "invalid_client");
}

#[tokio::test]
async fn an_issuer_changed_while_serving_is_in_new_tokens_without_a_restart() {
    let app = spawn_app().await;
    acme(&app).await;
    let worker = app.seed_app(new_app("w").tenant("acme", ACME_HOST)).await;

    app.cli_ok(&[
        "tenant",
        "update",
        "acme",
        "--issuer",
        "https://id.acme.example",
    ]);

    app.at(ACME_HOST)
        .wait_for_issuer("https://id.acme.example")
        .await;
    let token = app
        .at(ACME_HOST)
        .token_for(&worker, None)
        .await
        .access_token();
    let jwks = app.at(ACME_HOST).jwks().await;
    verify_token(&jwks, &token, client_id(&worker), "https://id.acme.example")
        .expect("the token carries the new issuer");
}

#[tokio::test]
async fn a_tenant_deleted_while_serving_stops_answering_its_host_without_a_restart() {
    let app = spawn_app().await;
    acme(&app).await;

    app.cli_ok(&["tenant", "delete", "acme"]);

    app.at(ACME_HOST).wait_for_issuer(ISSUER).await;
}

#[tokio::test]
async fn the_default_tenant_can_claim_a_domain_and_take_its_own_issuer() {
    let app = spawn_app_with(Setup {
        strict_hosts: true,
        ..Setup::default()
    })
    .await;
    assert_eq!(
        app.at("auth.default.test").get(JWKS_PATH).await.status,
        StatusCode::NOT_FOUND
    );

    let claimed = app.cli_json(&[
        "tenant",
        "update",
        "default",
        "--domain",
        "auth.default.test",
        "--json",
    ]);
    assert_eq!(
        claimed["issuer"],
        Value::Null,
        "default keeps serve's issuer: {claimed}"
    );
    app.at("auth.default.test").wait_for_issuer(ISSUER).await;

    app.cli_ok(&[
        "tenant",
        "update",
        "default",
        "--issuer",
        "https://id.default.example",
    ]);
    app.at("auth.default.test")
        .wait_for_issuer("https://id.default.example")
        .await;
    app.cli_ok(&["tenant", "update", "default", "--default-issuer"]);
    app.at("auth.default.test").wait_for_issuer(ISSUER).await;
}

#[tokio::test]
async fn a_reused_token_never_carries_an_issuer_the_tenant_has_left() {
    let app = spawn_app().await;
    acme(&app).await;
    let worker = app
        .seed_app(new_app("w").tenant("acme", ACME_HOST).token_reuse(80))
        .await;
    let first = app
        .at(ACME_HOST)
        .token_for(&worker, None)
        .await
        .access_token();
    assert_eq!(
        app.at(ACME_HOST)
            .token_for(&worker, None)
            .await
            .access_token(),
        first,
        "reuse is on"
    );

    app.cli_ok(&[
        "tenant",
        "update",
        "acme",
        "--issuer",
        "https://id.acme.example",
    ]);
    app.at(ACME_HOST)
        .wait_for_issuer("https://id.acme.example")
        .await;

    let after = app
        .at(ACME_HOST)
        .token_for(&worker, None)
        .await
        .access_token();
    assert_eq!(jwt_parts(&after).1["iss"], "https://id.acme.example");
}

#[tokio::test]
async fn tenant_update_without_a_change_is_refused_and_records_nothing() {
    let app = spawn_app().await;
    app.cli_ok(&["tenant", "create", "acme", "--domain", "acme.test"]);
    let before = app.cli_ok(&["audit", "list", "--json"]);

    let output = app.cli(&["tenant", "update", "acme"]);

    assert!(!output.status.success(), "{}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("nothing to change"));
    assert_eq!(app.cli_ok(&["audit", "list", "--json"]), before);
}
