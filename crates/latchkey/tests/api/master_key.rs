//! Signing keys are sealed at rest by a master key that is not in the database: a dump alone
//! cannot sign. The master key comes from a file, the environment, or a private file latchkey
//! creates beside an SQLite database; it can be rotated while servers run.

use crate::harness::*;
use latchkey_keys::master_key::generate_text;
use latchkey_keys::{Algorithm, Keyring, Signer};
use serde_json::Value;
use std::process::Output;

#[tokio::test]
async fn stored_private_keys_are_sealed_and_useless_without_the_master_key() {
    let app = spawn_app().await;
    app.cli_ok(&["key", "rotate", "--alg", "ES256"]);
    let stranger = Keyring::parse(&generate_text()).expect("a keyring");
    let keys = app.stored_keys().await;
    assert_eq!(keys.len(), 2);
    for key in keys {
        let master_key_id = key
            .master_key_id
            .clone()
            .expect("every key names its master key");
        let alg: Algorithm = key.alg.parse().expect("a known algorithm");
        assert!(
            Signer::from_pkcs8(&key.kid, alg, &key.private_key).is_err(),
            "{} is not plain PKCS#8",
            key.kid
        );
        assert!(
            stranger
                .open(&master_key_id, &key.kid, &key.private_key)
                .is_err()
        );
    }
}

#[tokio::test]
async fn master_key_rotation_reseals_every_key_while_the_server_keeps_working() {
    let mut app = spawn_app().await;
    let owner = app.seed_app(new_app("orders")).await;
    let before = app.token_for(&owner, None).await.access_token();
    let original = std::fs::read_to_string(&app.master_key_file).expect("the master key file");
    let old_ids: Vec<String> = app
        .stored_keys()
        .await
        .into_iter()
        .filter_map(|k| k.master_key_id)
        .collect();

    app.cli_ok(&["master-key", "rotate", "--generate"]);

    let file = std::fs::read_to_string(&app.master_key_file).expect("the master key file");
    let lines: Vec<&str> = file
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 2, "new key first, old kept");
    assert_eq!(
        lines[1],
        original.trim(),
        "the old key is kept after the new one"
    );
    let new_id = Keyring::parse(&file)
        .expect("a keyring")
        .current_id()
        .to_owned();
    assert!(!old_ids.contains(&new_id));
    for key in app.stored_keys().await {
        assert_eq!(key.master_key_id.as_deref(), Some(new_id.as_str()));
    }
    // The server keeps issuing and introspecting with the re-sealed key.
    let resealed = app.token_for(&owner, None).await.access_token();
    assert_eq!(jwt_kid(&resealed), jwt_kid(&before));
    assert_eq!(app.introspect(&owner, &before).await["active"], true);
    assert_eq!(app.introspect(&owner, &resealed).await["active"], true);
    // The running server re-reads the file when it meets the new master key id.
    let rotated = app.cli_json(&["key", "rotate", "--json"]);
    let new_kid = rotated["kid"].as_str().expect("the new kid").to_owned();
    let after = eventually(
        "a token signed with the key sealed by the new master key",
        async || {
            let token = app.token_for(&owner, None).await.access_token();
            if jwt_kid(&token) == new_kid {
                Ok(token)
            } else {
                Err(jwt_kid(&token))
            }
        },
    )
    .await;
    assert_eq!(app.introspect(&owner, &before).await["active"], true);
    assert_eq!(app.introspect(&owner, &after).await["active"], true);

    // A restart reads the rotated file and opens every key.
    app.restart().await;
    assert_eq!(
        jwt_kid(&app.token_for(&owner, None).await.access_token()),
        new_kid
    );
    assert_eq!(app.introspect(&owner, &before).await["active"], true);
    assert_eq!(app.introspect(&owner, &after).await["active"], true);
}

fn run_in(dir: &std::path::Path, env: Option<(&str, &str)>, args: &[&str]) -> Output {
    run_on(
        &format!("sqlite://{}", dir.join("x.db").display()),
        env,
        args,
    )
}

/// Runs `latchkey --database DB_URL ARGS...` with the master key `env` gives, if any, and none
/// of the harness's.
fn run_on(db_url: &str, env: Option<(&str, &str)>, args: &[&str]) -> Output {
    let mut command = latchkey_command();
    command.arg("--database").arg(db_url);
    command.args(args);
    if let Some((name, value)) = env {
        command.env(name, value);
    }
    command.output().expect("running latchkey")
}

#[test]
fn without_a_master_key_the_cli_creates_a_private_file_beside_the_database_and_warns() {
    if skip_unless_sqlite("the master key file beside the SQLite database") {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output = run_in(dir.path(), None, &["key", "rotate"]);
    assert!(output.status.success(), "{}", describe(&output));
    let file = dir.path().join("x.db.master-key");
    assert!(file.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr
            .to_lowercase()
            .contains("production deployments should keep the master key elsewhere"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(std::fs::read_to_string(&file).unwrap().trim()),
        "the key is never logged"
    );
}

#[test]
fn the_master_key_can_come_from_the_environment_and_a_malformed_one_is_refused() {
    if skip_unless_sqlite(
        "with no master key given, the CLI falls back to the file beside the SQLite database",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let key = generate_text();
    let output = run_in(
        dir.path(),
        Some(("LATCHKEY_MASTER_KEY", &key)),
        &["key", "rotate", "--json"],
    );
    assert!(output.status.success(), "{}", describe(&output));
    assert!(
        !dir.path().join("x.db.master-key").exists(),
        "no file when the environment holds the key"
    );
    let listed: Value =
        serde_json::from_slice(&run_in(dir.path(), None, &["key", "list", "--json"]).stdout)
            .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);

    let bad = run_in(
        dir.path(),
        Some(("LATCHKEY_MASTER_KEY", "not-a-key")),
        &["key", "rotate"],
    );
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("LATCHKEY_MASTER_KEY") && stderr.contains("master-key generate"),
        "{stderr}"
    );
}

/// README: with `LATCHKEY_MASTER_KEY`, put a new key first, keep the old one after a comma, run
/// `latchkey master-key rotate`; then the old key can go.
#[tokio::test]
async fn master_keys_in_the_environment_rotate_by_listing_the_new_key_first() {
    let (database, db_url) = database();
    let (old, new) = (generate_text(), generate_text());
    let output = run_on(
        &db_url,
        Some(("LATCHKEY_MASTER_KEY", &old)),
        &["key", "rotate"],
    );
    assert!(output.status.success(), "{}", describe(&output));

    let both = format!("{new},{old}");
    let output = run_on(
        &db_url,
        Some(("LATCHKEY_MASTER_KEY", &both)),
        &["master-key", "rotate"],
    );
    assert!(output.status.success(), "{}", describe(&output));

    let new_keyring = Keyring::parse(&new).expect("a keyring");
    let store = latchkey_store::open(&db_url)
        .await
        .expect("opening the database");
    let keys = store
        .signing_keys(latchkey_store::DEFAULT_TENANT)
        .await
        .expect("reading the keys");
    assert!(!keys.is_empty());
    for key in &keys {
        let master_key_id = key.master_key_id.as_deref().expect("sealed");
        assert_eq!(master_key_id, new_keyring.current_id());
        let pkcs8 = new_keyring
            .open(master_key_id, &key.kid, &key.private_key)
            .expect("the new master key alone opens every key");
        let alg: Algorithm = key.alg.parse().expect("a known algorithm");
        Signer::from_pkcs8(&key.kid, alg, &pkcs8).expect("a usable private key");
    }
    if backend() == Backend::Sqlite {
        assert!(
            !database.master_key_file().exists(),
            "no file beside the database when the environment holds the key"
        );
    }

    // The old key alone no longer opens them: re-sealing with it fails with a message.
    let output = run_on(
        &db_url,
        Some(("LATCHKEY_MASTER_KEY", &old)),
        &["master-key", "rotate"],
    );
    assert!(!output.status.success(), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(new_keyring.current_id()) && stderr.contains("not configured"),
        "names the missing master key: {stderr}"
    );
}

#[tokio::test]
async fn a_database_copied_without_its_master_key_is_refused_with_the_id_of_the_key_it_needs() {
    if skip_unless_sqlite("copies the SQLite files without the master key file beside them") {
        return;
    }
    let original = tempfile::tempdir().expect("a temporary directory");
    let made = run_in(original.path(), None, &["key", "rotate"]);
    assert!(made.status.success(), "{}", describe(&made));
    let copy = tempfile::tempdir().expect("a temporary directory");
    for name in ["x.db", "x.db-wal", "x.db-shm"] {
        let from = original.path().join(name);
        if from.exists() {
            std::fs::copy(&from, copy.path().join(name)).expect("copying the database");
        }
    }
    let store = latchkey_store::open(&format!("sqlite://{}", copy.path().join("x.db").display()))
        .await
        .expect("opening the copy");
    let needed = store.all_signing_keys().await.expect("reading the keys")[0]
        .master_key_id
        .clone()
        .expect("the key is sealed");
    drop(store);

    for command in [
        &["key", "rotate"][..],
        &["serve", "--listen", "127.0.0.1:0"],
    ] {
        let output = run_in(copy.path(), None, command);

        assert_eq!(
            output.status.code(),
            Some(1),
            "{command:?}: {}",
            describe(&output)
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!("sealed by master key {needed}"))
                && stderr.contains("--master-key-file"),
            "{command:?} says which master key is needed: {stderr}"
        );
        assert!(
            !copy.path().join("x.db.master-key").exists(),
            "{command:?} created no master key"
        );
    }
    let keys = latchkey_store::open(&format!("sqlite://{}", copy.path().join("x.db").display()))
        .await
        .expect("opening the copy")
        .all_signing_keys()
        .await
        .expect("reading the keys");
    assert_eq!(keys.len(), 1, "no key was added: {keys:?}");
}
