//! The `latchkey tenant` commands: what create, list, show, update and delete print and what
//! they refuse, and `--tenant` on the app, key and token commands reaching only that tenant.

use crate::harness::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn tenant_names(app: &TestApp) -> Vec<String> {
    app.cli_json(&["tenant", "list", "--json"])
        .as_array()
        .expect("a list of tenants")
        .iter()
        .map(|tenant| tenant["name"].as_str().expect("a name").to_owned())
        .collect()
}

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
async fn a_tenants_max_assertion_lifetime_is_set_shown_and_reset_by_the_cli() {
    let app = spawn_app().await;

    let created = app.cli_json(&[
        "tenant",
        "create",
        "acme",
        "--domain",
        ACME_HOST,
        "--max-assertion-lifetime",
        "10m",
        "--json",
    ]);
    let default = app.cli_json(&["tenant", "show", "default", "--json"]);
    let shorter = app.cli_json(&[
        "tenant",
        "update",
        "acme",
        "--max-assertion-lifetime",
        "300s",
        "--json",
    ]);
    let shown = app.cli_ok(&["tenant", "show", "acme"]);
    let untouched = app.cli_json(&["tenant", "update", "acme", "--no-publish-scopes", "--json"]);
    let reset = app.cli_json(&[
        "tenant",
        "update",
        "acme",
        "--default-assertion-lifetime",
        "--json",
    ]);
    let shown_reset = app.cli_ok(&["tenant", "show", "acme"]);

    assert_eq!(created["max_assertion_lifetime"], 600, "{created}");
    assert_eq!(
        default["max_assertion_lifetime"], 3600,
        "a tenant that sets none has the default hour: {default}"
    );
    assert_eq!(shorter["max_assertion_lifetime"], 300, "{shorter}");
    assert!(shown.contains("assertions at most 5m\n"), "{shown}");
    assert_eq!(
        untouched["max_assertion_lifetime"], 300,
        "another change keeps the limit: {untouched}"
    );
    assert_eq!(reset["max_assertion_lifetime"], 3600, "{reset}");
    assert!(
        shown_reset.contains("assertions at most 1h (the default)"),
        "{shown_reset}"
    );
}

#[tokio::test]
async fn the_cli_refuses_a_max_assertion_lifetime_over_an_hour_or_not_in_whole_seconds() {
    let app = spawn_app().await;
    app.cli_ok(&[
        "tenant",
        "create",
        "acme",
        "--domain",
        ACME_HOST,
        "--max-assertion-lifetime",
        "10m",
    ]);

    assert_cli_refuses(
        &app,
        &[
            "tenant",
            "create",
            "globex",
            "--domain",
            "auth.globex.test",
            "--max-assertion-lifetime",
            "2h",
        ],
        &["the most is 1h"],
    );
    for (limit, mention) in [
        ("3601s", "the most is 1h"),
        ("0s", "1s to 1h"),
        ("1500ms", "whole number of seconds"),
        ("soon", "duration"),
    ] {
        assert_cli_refuses(
            &app,
            &[
                "tenant",
                "update",
                "acme",
                "--max-assertion-lifetime",
                limit,
            ],
            &[mention],
        );
    }
    assert_cli_refuses(
        &app,
        &[
            "tenant",
            "update",
            "acme",
            "--max-assertion-lifetime",
            "5m",
            "--default-assertion-lifetime",
        ],
        &["--default-assertion-lifetime"],
    );

    assert_eq!(
        tenant_names(&app),
        ["acme", "default"],
        "globex was not created"
    );
    assert_eq!(
        app.cli_json(&["tenant", "show", "acme", "--json"])["max_assertion_lifetime"],
        600,
        "a refused update changes nothing"
    );
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

#[tokio::test]
async fn key_rotate_with_tenant_rotates_only_that_tenants_keys() {
    let app = spawn_app().await;
    acme(&app).await;
    let acme_app = app.seed_app(new_app("a").tenant("acme", ACME_HOST)).await;
    let default_before = app.at(UNCLAIMED_HOST).jwks().await;
    let default_listed_before = app.listed_kids("default");
    let acme_before = app.listed_kids("acme");

    let rotated = app.cli_json(&["key", "rotate", "--tenant", "acme", "--json"]);
    let new_kid = rotated["kid"].as_str().expect("the new kid").to_owned();

    assert!(!acme_before.contains(&new_kid), "a new key: {rotated}");
    assert!(
        app.listed_kids("acme").contains(&new_kid),
        "key list --tenant acme shows the new key"
    );
    assert!(
        !app.listed_kids("default").contains(&new_kid),
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
    assert_eq!(app.listed_kids("default"), default_listed_before);
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
