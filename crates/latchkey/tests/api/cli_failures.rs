//! How the `latchkey` command line fails: on stderr with a non-zero exit and a message that says
//! what to do, for unknown ids, bad scopes and settings, apps that cannot be made and an
//! unreachable database.

use crate::harness::*;
use serde_json::json;

#[tokio::test]
async fn spa_with_the_client_credentials_grant_is_refused_by_the_cli() {
    let app = spawn_app().await;

    for kind in ["spa", "native"] {
        let output = app.cli(&[
            "app",
            "create",
            "--name",
            "x",
            "--type",
            kind,
            "--grant-type",
            "client_credentials",
            "--json",
        ]);
        assert!(!output.status.success(), "{kind}: {}", describe(&output));
        assert!(
            output.stdout.is_empty(),
            "{kind}: nothing on stdout: {}",
            describe(&output)
        );
        let message = stderr(&output);
        assert!(
            message.contains("client_credentials"),
            "{kind}: the message names the problem: {message}"
        );
    }
    assert_eq!(
        app.cli_json(&["app", "list", "--json"]),
        json!([]),
        "nothing was created"
    );
}

#[tokio::test]
async fn rotate_secret_of_a_public_app_fails_with_a_message() {
    let app = spawn_app().await;
    let spa = app.cli_json(&[
        "app", "create", "--name", "frontend", "--type", "spa", "--json",
    ]);

    let output = app.cli(&["app", "rotate-secret", client_id(&spa), "--json"]);

    assert!(!output.status.success(), "{}", describe(&output));
    assert!(output.stdout.is_empty(), "{}", describe(&output));
    assert!(stderr(&output).contains("public"), "{}", describe(&output));
}

#[tokio::test]
async fn app_show_of_an_unknown_id_fails_with_a_message_on_stderr() {
    let app = spawn_app().await;

    let output = app.cli(&["app", "show", "nope"]);

    assert!(!output.status.success(), "{}", describe(&output));
    assert!(output.stdout.is_empty(), "{}", describe(&output));
    let message = stderr(&output);
    assert!(
        message.contains("nope"),
        "the message names the id: {message}"
    );
    assert!(
        message.contains("app list"),
        "the message says where to look: {message}"
    );
}

#[tokio::test]
async fn other_commands_on_an_unknown_id_fail() {
    let app = spawn_app().await;

    for command in [
        vec!["app", "disable", "nope"],
        vec!["app", "enable", "nope"],
        vec!["app", "delete", "nope"],
        vec!["app", "rotate-secret", "nope"],
        vec!["app", "update", "nope", "--name", "x"],
    ] {
        assert_cli_fails(&app, &command, &["nope"]);
    }
}

#[tokio::test]
async fn bad_scope_syntax_is_refused_with_a_message() {
    let app = spawn_app().await;

    for scope in ["a\"b", "a\\b", "a b", ""] {
        let output = app.cli(&["app", "create", "--name", "x", "--scope", scope, "--json"]);
        assert!(
            !output.status.success(),
            "--scope {scope:?}: {}",
            describe(&output)
        );
        assert!(
            output.stdout.is_empty(),
            "--scope {scope:?}: {}",
            describe(&output)
        );
        assert!(
            stderr(&output).contains("scope"),
            "--scope {scope:?}: {}",
            describe(&output)
        );
    }
    assert_eq!(
        app.cli_json(&["app", "list", "--json"]),
        json!([]),
        "nothing was created"
    );

    let created = app.cli_json(&["app", "create", "--name", "x", "--scope", "ok", "--json"]);
    let update = app.cli(&["app", "update", client_id(&created), "--scope", "a\"b"]);
    assert!(!update.status.success(), "{}", describe(&update));
    assert!(stderr(&update).contains("scope"), "{}", describe(&update));
}

#[tokio::test]
async fn unreachable_database_fails_with_a_helpful_message() {
    if skip_unless_sqlite("an SQLite file in a folder that does not exist") {
        return;
    }
    let output = latchkey_command()
        .args([
            "--database",
            "sqlite:///nonexistent-dir/x.db",
            "app",
            "list",
        ])
        .output()
        .expect("running the latchkey binary");

    assert!(!output.status.success(), "{}", describe(&output));
    assert!(output.stdout.is_empty(), "{}", describe(&output));
    let message = stderr(&output);
    assert!(
        message.contains("nonexistent-dir/x.db"),
        "the message names the database: {message}"
    );
    assert!(
        message.contains("--database"),
        "the message says how to fix it: {message}"
    );
}

#[tokio::test]
async fn invalid_app_settings_are_refused_with_a_message() {
    let app = spawn_app().await;

    for (args, hint) in [
        (
            vec!["--scope", "a", "--default-scope", "b"],
            "default scope",
        ),
        (vec!["--token-ttl", "0"], "TTL"),
        (vec!["--type", "daemon"], "type"),
        (vec!["--grant-type", "password"], "grant type"),
        (vec!["--name", ""], "name"),
    ] {
        let mut command = vec!["app", "create"];
        if !args.contains(&"--name") {
            command.extend(["--name", "x"]);
        }
        command.extend(args.iter().copied());
        assert_cli_fails(&app, &command, &[hint]);
    }
}
