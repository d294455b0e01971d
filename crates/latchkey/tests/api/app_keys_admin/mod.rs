//! Apps without secrets, managed: public keys given with `--jwks` or `--jwks-uri` (an app
//! created so has no client secret), replaced and removed; the secret removed with
//! `--no-secret` only when something else can authenticate the app; JWK Sets latchkey could not
//! use refused when they are given. Federations are in `federations`.

mod federations;

use crate::harness::*;
use latchkey_keys::{Algorithm, Signer, generate_private_key};
use reqwest::Method;
use serde_json::{Value, json};
use tempfile::TempDir;

/// A JWK Set of new ES256 public keys with these key ids.
fn public_jwks(kids: &[&str]) -> Value {
    let keys: Vec<Value> = kids
        .iter()
        .map(|kid| {
            let pkcs8 = generate_private_key(Algorithm::Es256).expect("a new key");
            let signer = Signer::from_pkcs8(kid, Algorithm::Es256, &pkcs8).expect("a signer");
            serde_json::to_value(signer.public_jwk()).expect("a JWK as JSON")
        })
        .collect();
    json!({ "keys": keys })
}

/// Files a test hands the CLI.
struct Files(TempDir);

impl Files {
    fn new() -> Files {
        Files(tempfile::tempdir().expect("a temporary directory"))
    }

    /// Writes `text` to the file `name` and returns its path.
    fn write(&self, name: &str, text: &str) -> String {
        let path = self.0.path().join(name);
        std::fs::write(&path, text).expect("writing a file");
        path.to_str().expect("a UTF-8 path").to_owned()
    }
}

/// The key ids of a JWK Set as the API shows it.
fn kids(set: &Value) -> Vec<&str> {
    set["keys"]
        .as_array()
        .unwrap_or_else(|| panic!("not a JWK Set: {set}"))
        .iter()
        .map(|key| key["kid"].as_str().unwrap())
        .collect()
}

/// The `error_description` of an admin API error.
fn description(reply: &Reply) -> String {
    reply.json()["error_description"]
        .as_str()
        .unwrap_or_else(|| panic!("no error_description: {reply:?}"))
        .to_owned()
}

/// The audit events of `action`, oldest first.
fn audited(app: &TestApp, action: &str) -> Vec<Value> {
    let events = app.cli_json(&["audit", "list", "--json"]);
    events
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["action"] == action)
        .cloned()
        .collect()
}

#[tokio::test]
async fn an_app_created_with_a_jwks_file_has_no_secret_and_shows_its_keys() {
    let app = spawn_app().await;
    let files = Files::new();
    let jwks = files.write("keys.json", &public_jwks(&["k1", "k2"]).to_string());

    let created = app.cli_json(&[
        "app", "create", "--name", "keyed", "--jwks", &jwks, "--json",
    ]);

    assert!(created["client_secret"].is_null(), "{created}");
    assert!(created.get("client_secret").is_some(), "{created}");
    assert_eq!(created["has_secret"], false);
    let id = client_id(&created);
    let shown = app.cli_json(&["app", "show", id, "--json"]);
    assert_eq!(kids(&shown["jwks"]), ["k1", "k2"]);
    assert!(shown["jwks_uri"].is_null(), "{shown}");
    assert_eq!(shown["has_secret"], false);
    assert_eq!(shown["federations"], json!([]));
    assert!(shown.get("client_secret").is_none(), "{shown}");
    let text = app.cli_ok(&["app", "show", id]);
    assert!(text.contains("k1 k2"), "{text}");
    // Keys from stdin, as `-`.
    let piped = latchkey_on(&app.db_url)
        .args(["app", "create", "--name", "piped", "--jwks", "-", "--json"])
        .stdin(std::fs::File::open(&jwks).unwrap())
        .output()
        .expect("running latchkey");
    assert!(piped.status.success(), "{}", describe(&piped));
    let piped: Value = serde_json::from_slice(&piped.stdout).unwrap();
    assert_eq!(kids(&piped["jwks"]), ["k1", "k2"]);
}

#[tokio::test]
async fn an_app_created_with_a_jwks_uri_has_no_secret_and_only_fetchable_uris_are_taken() {
    let app = spawn_app().await;
    let uri = "https://keys.example.com/jwks.json";

    let created = app.cli_json(&[
        "app",
        "create",
        "--name",
        "remote",
        "--jwks-uri",
        uri,
        "--json",
    ]);

    assert!(created["client_secret"].is_null(), "{created}");
    let shown = app.cli_json(&["app", "show", client_id(&created), "--json"]);
    assert_eq!(shown["jwks_uri"], uri);
    assert!(shown["jwks"].is_null(), "{shown}");
    let text = app.cli_ok(&["app", "show", client_id(&created)]);
    assert!(text.contains(uri), "{text}");
    let local = "http://127.0.0.1:9/jwks";
    let dev = app.cli_json(&[
        "app",
        "create",
        "--name",
        "dev",
        "--jwks-uri",
        local,
        "--json",
    ]);
    assert_eq!(dev["jwks_uri"], local);
    for bad in [
        "http://keys.example.com/jwks",
        "https://keys.example.com/jwks#keys",
        "ftp://a",
    ] {
        assert_cli_refuses(
            &app,
            &["app", "create", "--name", "bad", "--jwks-uri", bad],
            &["JWKS URI", "https://"],
        );
    }
    assert_cli_refuses(
        &app,
        &[
            "app",
            "create",
            "--name",
            "both",
            "--jwks",
            "k.json",
            "--jwks-uri",
            uri,
        ],
        &["cannot be used with"],
    );
}

#[tokio::test]
async fn jwks_replaces_a_uri_a_uri_replaces_a_jwks_and_no_jwks_removes_either() {
    let app = spawn_app().await;
    let files = Files::new();
    let jwks = files.write("keys.json", &public_jwks(&["new"]).to_string());
    let uri = "https://keys.example.com/jwks.json";
    let created = app.cli_json(&["app", "create", "--name", "a", "--jwks-uri", uri, "--json"]);
    let id = client_id(&created);

    let keyed = app.cli_json(&["app", "update", id, "--jwks", &jwks, "--json"]);
    assert_eq!(kids(&keyed["jwks"]), ["new"]);
    assert!(keyed["jwks_uri"].is_null(), "{keyed}");

    let fetched = app.cli_json(&["app", "update", id, "--jwks-uri", uri, "--json"]);
    assert_eq!(fetched["jwks_uri"], uri);
    assert!(fetched["jwks"].is_null(), "{fetched}");

    let bare = app.cli_json(&["app", "update", id, "--no-jwks", "--json"]);
    assert!(
        bare["jwks"].is_null() && bare["jwks_uri"].is_null(),
        "{bare}"
    );
    assert_cli_refuses(
        &app,
        &["app", "update", id, "--jwks", &jwks, "--no-jwks"],
        &["cannot be used with"],
    );
}

#[tokio::test]
async fn no_secret_is_refused_until_the_app_has_keys_and_then_the_old_secret_stops_working() {
    let app = spawn_app().await;
    let files = Files::new();
    let client = app.seed_app(new_app("moving").scopes(&["read"])).await;
    let id = client_id(&client);
    app.wait_until_known(&client).await;

    assert_cli_refuses(
        &app,
        &["app", "update", id, "--no-secret"],
        &[
            "no way to authenticate",
            "--jwks",
            "--jwks-uri",
            "federation",
        ],
    );
    let still = app.cli_json(&["app", "show", id, "--json"]);
    assert_eq!(still["has_secret"], true);
    assert_eq!(app.token_for(&client, None).await.status.as_u16(), 200);

    // The key and the removal in one command: the key is written first.
    let jwks = files.write("keys.json", &public_jwks(&["k1"]).to_string());
    let moved = app.cli_json(&[
        "app",
        "update",
        id,
        "--jwks",
        &jwks,
        "--no-secret",
        "--json",
    ]);
    assert_eq!(moved["has_secret"], false);
    assert_eq!(kids(&moved["jwks"]), ["k1"]);
    app.wait_until_refused(&client, "the removed secret to be refused")
        .await;
    let removals = audited(&app, "app.secret.remove");
    assert_eq!(removals.len(), 1, "{removals:?}");
    assert_eq!(removals[0]["target"], id);
    assert_eq!(removals[0]["actor"], "cli");

    // A public app has no secret to remove.
    let spa = app.cli_json(&["app", "create", "--name", "ui", "--type", "spa", "--json"]);
    assert_cli_refuses(
        &app,
        &["app", "update", client_id(&spa), "--no-secret"],
        &["public client"],
    );
}

#[tokio::test]
async fn jwk_sets_latchkey_cannot_use_are_refused_with_a_message_naming_the_problem() {
    let app = spawn_app().await;
    let files = Files::new();
    let mut private = public_jwks(&["k"]);
    private["keys"][0]["d"] = json!("c2VjcmV0");
    let cases = [
        ("private.json", private.to_string(), "private or symmetric key"),
        ("array.json", json!([{"kty": "EC"}]).to_string(), "\"keys\" array"),
        ("bare.json", public_jwks(&["k"])["keys"][0].to_string(), "\"keys\" array"),
        ("empty.json", json!({"keys": []}).to_string(), "holds no key"),
        ("text.json", "not json".to_owned(), "\"keys\" array"),
        (
            "curve.json",
            json!({"keys": [{"kty": "EC", "crv": "P-999", "x": "AAAA", "y": "AAAA"}]}).to_string(),
            "no usable signing key",
        ),
        (
            "point.json",
            json!({"keys": [{"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA", "kid": "odd"}]})
                .to_string(),
            "(kid \"odd\") is not a valid EC P-256 public key",
        ),
    ];
    let client = app.seed_app(new_app("target")).await;
    let app_count = || {
        app.cli_json(&["app", "list", "--json"])
            .as_array()
            .unwrap()
            .len()
    };
    let before = app_count();
    for (name, text, mention) in cases {
        let path = files.write(name, &text);
        assert_cli_refuses(
            &app,
            &["app", "create", "--name", "bad", "--jwks", &path],
            &[mention],
        );
        assert_cli_refuses(
            &app,
            &["app", "update", client_id(&client), "--jwks", &path],
            &[mention],
        );
        assert_cli_refuses(
            &app,
            &[
                "app",
                "federation",
                "add",
                client_id(&client),
                "--name",
                "pinned",
                "--issuer",
                "https://issuer.example",
                "--subject",
                "s",
                "--jwks",
                &path,
            ],
            &[mention],
        );
    }
    assert_cli_refuses(
        &app,
        &[
            "app",
            "create",
            "--name",
            "missing",
            "--jwks",
            "/no/such/file.json",
        ],
        &["could not read the JWK Set file /no/such/file.json"],
    );
    // Nothing of it was stored.
    let shown = app.cli_json(&["app", "show", client_id(&client), "--json"]);
    assert!(
        shown["jwks"].is_null() && shown["federations"] == json!([]),
        "{shown}"
    );
    assert_eq!(app_count(), before);
}

#[tokio::test]
async fn the_admin_api_creates_apps_with_keys_changes_them_and_removes_secrets() {
    let admins = admins().await;
    let apps = "/admin/v1/tenants/default/apps";
    let jwks = public_jwks(&["api-key"]);

    let created = ok_json(
        &admins
            .as_root(
                Method::POST,
                apps,
                Some(&json!({"name": "keyed", "jwks": jwks})),
            )
            .await,
        201,
    );
    assert!(created["client_secret"].is_null(), "{created}");
    assert!(created.get("client_secret").is_some(), "{created}");
    assert_eq!(created["has_secret"], false);
    assert_eq!(kids(&created["jwks"]), ["api-key"]);
    let path = format!("{apps}/{}", client_id(&created));
    let uri = "https://keys.example.com/jwks.json";
    let patched = ok_json(
        &admins
            .as_root(Method::PATCH, &path, Some(&json!({"jwks_uri": uri})))
            .await,
        200,
    );
    assert_eq!(patched["jwks_uri"], uri);
    assert!(patched["jwks"].is_null(), "{patched}");
    let cleared = ok_json(
        &admins
            .as_root(Method::PATCH, &path, Some(&json!({"jwks_uri": null})))
            .await,
        200,
    );
    assert!(cleared["jwks_uri"].is_null(), "{cleared}");
    admins
        .root_fails(
            Method::PATCH,
            &path,
            Some(&json!({"jwks": jwks, "jwks_uri": uri})),
            422,
            "invalid_settings",
        )
        .await;
    admins
        .root_fails(
            Method::POST,
            apps,
            Some(&json!({"name": "both", "jwks": jwks, "jwks_uri": uri})),
            422,
            "invalid_settings",
        )
        .await;
    let mut private = jwks.clone();
    private["keys"][0]["d"] = json!("c2VjcmV0");
    let refused = admins
        .as_root(
            Method::POST,
            apps,
            Some(&json!({"name": "p", "jwks": private})),
        )
        .await;
    assert_admin_error(&refused, 422, "invalid_settings");
    assert!(description(&refused).contains("private"), "{refused:?}");
    admins
        .root_fails(
            Method::POST,
            apps,
            Some(&json!({"name": "n", "jwks": [1]})),
            400,
            "invalid_request",
        )
        .await;

    // A secret goes only once something else authenticates the app.
    let client = admins.app.seed_app(new_app("moving")).await;
    let secret = format!("{apps}/{}/secret", client_id(&client));
    let refused = admins.as_root(Method::DELETE, &secret, None).await;
    assert_admin_error(&refused, 409, "conflict");
    assert!(
        description(&refused).contains("no way to authenticate"),
        "{refused:?}"
    );
    let moving = format!("{apps}/{}", client_id(&client));
    ok_json(
        &admins
            .as_root(Method::PATCH, &moving, Some(&json!({"jwks": jwks})))
            .await,
        200,
    );
    let removed = ok_json(&admins.as_root(Method::DELETE, &secret, None).await, 200);
    assert_eq!(removed["has_secret"], false);
    admins
        .app
        .wait_until_refused(&client, "the removed secret to be refused")
        .await;
    let removals = audited(&admins.app, "app.secret.remove");
    assert_eq!(removals.len(), 1, "{removals:?}");
    assert_eq!(removals[0]["actor"], client_id(&admins.ops));
    admins
        .root_fails(
            Method::DELETE,
            &format!("{apps}/nope/secret"),
            None,
            404,
            "not_found",
        )
        .await;
}
