//! What the `latchkey app` and `key` commands print, run as the built binary on the test
//! database: every field of an app, lists as JSON and as a table, and secrets only where they are
//! minted.

use crate::harness::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The stored forms a secret could leak as: its SHA-256 in hex (either case) and in base64.
fn secret_hash_forms(secret: &str) -> Vec<String> {
    use base64::Engine;
    let hash = latchkey_protocol::SecretHash::of(secret);
    let hex: String = hash
        .as_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    vec![
        hex.clone(),
        hex.to_uppercase(),
        base64::engine::general_purpose::STANDARD.encode(hash.as_bytes()),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hash.as_bytes()),
    ]
}

fn assert_no_secret_material(output: &str, secret: &str, what: &str) {
    assert!(
        !output.contains(secret),
        "{what} shows the client secret: {output}"
    );
    for form in secret_hash_forms(secret) {
        assert!(
            !output.contains(&form),
            "{what} shows the secret's hash: {output}"
        );
    }
}

#[tokio::test]
async fn app_create_json_prints_every_field_with_m2m_defaults() {
    let app = spawn_app().await;

    let created = app.cli_json(&[
        "app",
        "create",
        "--name",
        "billing",
        "--scope",
        "invoices:read",
        "--json",
    ]);

    for field in [
        "client_id",
        "client_secret",
        "name",
        "type",
        "scopes",
        "default_scopes",
        "grant_types",
        "enabled",
        "token_ttl",
        "tenant",
    ] {
        assert!(
            created.get(field).is_some(),
            "{field} missing from {created}"
        );
    }
    assert!(client_id(&created).len() >= 16, "{created}");
    assert!(
        client_secret(&created).len() >= 32,
        "a 256-bit secret: {created}"
    );
    assert_eq!(created["name"], "billing");
    assert_eq!(created["type"], "m2m");
    assert_eq!(created["scopes"], json!(["invoices:read"]));
    assert_eq!(created["default_scopes"], json!([]));
    assert_eq!(created["grant_types"], json!(["client_credentials"]));
    assert_eq!(created["enabled"], true);
    assert_eq!(created["token_ttl"], 300);
    assert_eq!(created["tenant"], "default");
}

#[tokio::test]
async fn app_create_json_reflects_every_flag() {
    let app = spawn_app().await;

    let created = app.cli_json(&[
        "app",
        "create",
        "--name",
        "portal",
        "--type",
        "web",
        "--scope",
        "a",
        "--scope",
        "b",
        "--default-scope",
        "b",
        "--grant-type",
        "client_credentials",
        "--grant-type",
        "authorization_code",
        "--token-ttl",
        "60",
        "--json",
    ]);

    assert_eq!(created["type"], "web");
    assert!(
        created["client_secret"].is_string(),
        "web apps are confidential: {created}"
    );
    assert_eq!(created["scopes"], json!(["a", "b"]));
    assert_eq!(created["default_scopes"], json!(["b"]));
    assert_eq!(
        created["grant_types"],
        json!(["client_credentials", "authorization_code"])
    );
    assert_eq!(created["token_ttl"], 60);
}

#[tokio::test]
async fn spa_and_native_apps_are_created_without_a_secret() {
    let app = spawn_app().await;

    for kind in ["spa", "native"] {
        let created = app.cli_json(&["app", "create", "--name", kind, "--type", kind, "--json"]);
        assert!(
            created.get("client_secret").is_some_and(Value::is_null),
            "{kind}: {created}"
        );
        assert_eq!(created["type"], kind);
        let grants = created["grant_types"]
            .as_array()
            .expect("grant_types is an array");
        assert!(
            !grants.contains(&json!("client_credentials")),
            "{kind}: {created}"
        );
    }
}

#[tokio::test]
async fn app_list_json_is_an_array_of_the_apps_without_secrets() {
    let app = spawn_app().await;
    assert_eq!(app.cli_json(&["app", "list", "--json"]), json!([]));
    let billing = app.cli_json(&[
        "app",
        "create",
        "--name",
        "billing",
        "--scope",
        "invoices:read",
        "--json",
    ]);
    let web = app.cli_json(&[
        "app", "create", "--name", "portal", "--type", "web", "--json",
    ]);

    let stdout = app.cli_ok(&["app", "list", "--json"]);

    let list: Value = serde_json::from_str(&stdout).expect("JSON");
    let apps = list.as_array().expect("an array");
    assert_eq!(apps.len(), 2, "{list}");
    let ids: BTreeSet<&str> = apps.iter().map(client_id).collect();
    assert_eq!(ids, BTreeSet::from([client_id(&billing), client_id(&web)]));
    let listed_billing = apps
        .iter()
        .find(|item| item["client_id"] == client_id(&billing))
        .expect("billing listed");
    assert_eq!(listed_billing["name"], "billing");
    assert_eq!(listed_billing["scopes"], json!(["invoices:read"]));
    for item in apps {
        assert!(item.get("client_secret").is_none(), "{item}");
    }
    assert_no_secret_material(&stdout, client_secret(&billing), "app list --json");
    assert_no_secret_material(&stdout, client_secret(&web), "app list --json");
}

#[tokio::test]
async fn app_list_for_people_is_a_table_with_a_header_row() {
    let app = spawn_app().await;
    let billing = app.cli_json(&[
        "app",
        "create",
        "--name",
        "billing",
        "--scope",
        "invoices:read",
        "--json",
    ]);
    let reports = app.cli_json(&["app", "create", "--name", "reports", "--json"]);

    let stdout = app.cli_ok(&["app", "list"]);

    let lines: Vec<&str> = stdout
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    assert!(lines.len() >= 3, "a header and two rows: {stdout}");
    let header = lines[0];
    for column in ["CLIENT_ID", "NAME"] {
        assert!(
            header.to_uppercase().contains(column),
            "header {header:?} lacks {column}"
        );
    }
    assert!(
        !header.contains(client_id(&billing)),
        "the first line is a header: {stdout}"
    );
    for (created, name) in [(&billing, "billing"), (&reports, "reports")] {
        let row = lines
            .iter()
            .find(|line| line.contains(client_id(created)))
            .unwrap_or_else(|| panic!("no row for {name}: {stdout}"));
        assert!(row.contains(name), "{row}");
    }
    assert_no_secret_material(&stdout, client_secret(&billing), "app list");
}

#[tokio::test]
async fn app_show_never_prints_the_secret_or_its_hash() {
    let app = spawn_app().await;
    let billing = app.cli_json(&[
        "app",
        "create",
        "--name",
        "billing",
        "--scope",
        "invoices:read",
        "--json",
    ]);
    let id = client_id(&billing);

    let json_out = app.cli_ok(&["app", "show", id, "--json"]);
    let shown: Value = serde_json::from_str(&json_out).expect("JSON");
    assert_eq!(shown["client_id"], id);
    assert_eq!(shown["name"], "billing");
    assert_eq!(shown["scopes"], json!(["invoices:read"]));
    // `previous_secret_expires_at` (a time) and `has_secret` (a yes or no) are the fields about
    // secrets that may be shown.
    for key in keys_of(&shown) {
        assert!(
            key == "previous_secret_expires_at"
                || key == "has_secret"
                || (!key.contains("secret") && !key.contains("hash")),
            "app show --json has {key:?}: {shown}"
        );
    }
    assert_no_secret_material(&json_out, client_secret(&billing), "app show --json");

    let human = app.cli_ok(&["app", "show", id]);
    assert!(human.contains(id), "{human}");
    assert_no_secret_material(&human, client_secret(&billing), "app show");
}

#[tokio::test]
async fn app_update_replaces_the_lists_it_is_given_and_keeps_the_rest() {
    let app = spawn_app().await;
    let created = app.cli_json(&[
        "app",
        "create",
        "--name",
        "billing",
        "--scope",
        "a",
        "--scope",
        "b",
        "--default-scope",
        "a",
        "--json",
    ]);
    let id = client_id(&created);

    app.cli_ok(&[
        "app",
        "update",
        id,
        "--scope",
        "c",
        "--scope",
        "d",
        "--default-scope",
        "d",
    ]);
    let shown = app.cli_json(&["app", "show", id, "--json"]);
    assert_eq!(
        shown["scopes"],
        json!(["c", "d"]),
        "the new list replaces the old one"
    );
    assert_eq!(shown["default_scopes"], json!(["d"]));
    assert_eq!(shown["name"], "billing", "not given, so unchanged");
    assert_eq!(shown["token_ttl"], 300);
    assert_eq!(shown["grant_types"], json!(["client_credentials"]));

    app.cli_ok(&[
        "app",
        "update",
        id,
        "--name",
        "invoicing",
        "--token-ttl",
        "120",
    ]);
    let shown = app.cli_json(&["app", "show", id, "--json"]);
    assert_eq!(shown["name"], "invoicing");
    assert_eq!(shown["token_ttl"], 120);
    assert_eq!(
        shown["scopes"],
        json!(["c", "d"]),
        "not given, so unchanged"
    );
    assert_eq!(shown["default_scopes"], json!(["d"]));

    app.cli_ok(&["app", "update", id, "--grant-type", "authorization_code"]);
    let shown = app.cli_json(&["app", "show", id, "--json"]);
    assert_eq!(shown["grant_types"], json!(["authorization_code"]));
}

#[tokio::test]
async fn app_disable_and_enable_flip_enabled() {
    let app = spawn_app().await;
    let created = app.cli_json(&["app", "create", "--name", "billing", "--json"]);
    let id = client_id(&created);

    app.cli_ok(&["app", "disable", id]);
    assert_eq!(
        app.cli_json(&["app", "show", id, "--json"])["enabled"],
        false
    );

    app.cli_ok(&["app", "enable", id]);
    assert_eq!(
        app.cli_json(&["app", "show", id, "--json"])["enabled"],
        true
    );
}

#[tokio::test]
async fn app_delete_removes_the_app() {
    let app = spawn_app().await;
    let created = app.cli_json(&["app", "create", "--name", "billing", "--json"]);
    let kept = app.cli_json(&["app", "create", "--name", "kept", "--json"]);
    let id = client_id(&created);

    app.cli_ok(&["app", "delete", id]);

    let show = app.cli(&["app", "show", id]);
    assert!(!show.status.success(), "{}", describe(&show));
    let list = app.cli_json(&["app", "list", "--json"]);
    let ids: Vec<&str> = list
        .as_array()
        .expect("an array")
        .iter()
        .map(client_id)
        .collect();
    assert_eq!(ids, [client_id(&kept)]);
    let again = app.cli(&["app", "delete", id]);
    assert!(
        !again.status.success(),
        "deleting twice fails: {}",
        describe(&again)
    );
}

#[tokio::test]
async fn app_rotate_secret_json_prints_the_client_id_and_a_new_secret() {
    let app = spawn_app().await;
    let created = app.cli_json(&["app", "create", "--name", "billing", "--json"]);
    let id = client_id(&created);

    let rotated = app.cli_json(&["app", "rotate-secret", id, "--json"]);

    assert_eq!(rotated["client_id"], id);
    let secret = client_secret(&rotated);
    assert!(secret.len() >= 32, "{rotated}");
    assert_ne!(secret, client_secret(&created));
    let shown = app.cli_ok(&["app", "show", id, "--json"]);
    assert_no_secret_material(&shown, secret, "app show after rotation");
}

#[tokio::test]
async fn key_list_json_shows_the_active_signing_key_of_the_jwks() {
    let app = spawn_app_with(Setup::default().server_made_key()).await;

    let keys = app.cli_json(&["key", "list", "--json"]);

    let keys = keys.as_array().expect("an array");
    assert_eq!(keys.len(), 1, "{keys:?}");
    let key = &keys[0];
    for field in ["kid", "alg", "status", "created_at"] {
        assert!(
            key.get(field).is_some_and(|value| !value.is_null()),
            "{field} missing from {key}"
        );
    }
    assert_eq!(key["alg"], "RS256");
    assert_eq!(key["status"], "active");
    let jwks = app.jwks().await;
    assert_eq!(
        key["kid"], jwks["keys"][0]["kid"],
        "the CLI and the JWKS name the same key"
    );
    let text = key.to_string();
    assert!(
        !text.contains("private") && !text.contains("BEGIN"),
        "no private key material: {text}"
    );
}
