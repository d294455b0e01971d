//! The configuration file (`--config FILE`, `LATCHKEY_CONFIG`) through the real binary: `serve`
//! and the other commands take their settings from it under flags and the environment, a
//! mistake names its key and line, secrets stay masked, and `config check` shows each value's
//! source. `latchkey.example.toml` is checked against the flags `serve` really has.

use crate::harness::*;
use std::path::{Path, PathBuf};
use std::process::Output;

/// Writes `text` to `NAME` in `dir` and returns its path.
fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("writing the configuration file");
    path
}

/// `latchkey ARGS...` with no `--database`, in `dir` (so that the default database would be
/// a new file there), with `envs` set.
fn latchkey_in(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = latchkey_command();
    command.current_dir(dir).args(args);
    for (name, value) in envs {
        command.env(name, value);
    }
    command.output().expect("running latchkey")
}

/// `config check --json` (which must succeed): each key's (value, source).
fn checked(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> serde_json::Value {
    let mut all = vec!["config", "check", "--json"];
    all.extend_from_slice(args);
    let output = latchkey_in(dir, &all, envs);
    assert!(output.status.success(), "{}", describe(&output));
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

/// The value and source `config check --json` gave `key`.
fn setting(checked: &serde_json::Value, key: &str) -> (serde_json::Value, String) {
    let found = checked["settings"]
        .as_array()
        .expect("a settings array")
        .iter()
        .find(|setting| setting["key"] == key)
        .unwrap_or_else(|| panic!("no {key} in {checked}"));
    (
        found["value"].clone(),
        found["source"].as_str().expect("a source").to_owned(),
    )
}

/// Asserts the command failed with exit code 1 and every one of `mentions` on stderr, no panic.
fn assert_fails_with(output: &Output, mentions: &[&str]) -> String {
    assert_eq!(output.status.code(), Some(1), "{}", describe(output));
    let message = stderr(output);
    for mention in mentions {
        assert!(
            message.contains(mention),
            "{mention:?}: {}",
            describe(output)
        );
    }
    assert!(!message.contains("panicked"), "{message}");
    message
}

#[tokio::test]
async fn serve_listens_issues_and_rotates_keys_as_its_file_says() {
    const DAY: i64 = 86_400;
    // The default tenant's key is ten days old: due with a 7-day rotation, not with the
    // default 30 days.
    let folder = tempfile::tempdir().expect("a temporary directory");
    let (dir, store) = TestDatabase::migrated_in(folder).await;
    Seeder::on(store, dir.master_key_file())
        .first_key_made_at(unix_now() - 10 * DAY)
        .await;
    let db_url = dir.url().to_owned();
    let file = write_file(
        dir.path(),
        "latchkey.toml",
        "listen = \"127.0.0.1:0\"\nissuer = \"https://auth.file.test\"\nkey_rotation_days = 7\n\
         maintenance_ms = 50\n",
    );
    let log = dir.path().join("serve.log");
    let file_arg = file.to_str().expect("a UTF-8 path");
    let (served, _lines) =
        Launched::new(&db_url, log, &["serve", "--config", file_arg]).ready(Some(dir));

    assert!(
        !served.base_url().ends_with(":8080"),
        "a port of the system's choice, as listen = 127.0.0.1:0 asks: {}",
        served.first_line
    );
    let http = served.http();
    assert_eq!(http.issuer().await, Ok("https://auth.file.test".to_owned()));
    eventually("the 7-day rotation to publish the next key", async || {
        let kids = http.jwks_kids().await;
        if kids.len() == 2 {
            Ok(())
        } else {
            Err(format!("{kids:?}"))
        }
    })
    .await;
}

#[test]
fn a_flag_beats_the_environment_which_beats_the_file_which_beats_the_default() {
    let (database, db_url) = database();
    let dir = database.path();
    for tenant in ["file-t", "env-t", "flag-t"] {
        let domain = format!("{tenant}.test");
        cli_json_on(
            &db_url,
            &["tenant", "create", tenant, "--domain", &domain, "--json"],
        );
        cli_json_on(
            &db_url,
            &[
                "app",
                "create",
                "--tenant",
                tenant,
                "--name",
                &format!("in-{tenant}"),
                "--json",
            ],
        );
    }
    let mut text = format!("database = \"{db_url}\"\ntenant = \"file-t\"\n");
    text.push_str(
        "listen = \"127.0.0.1:7001\"\nissuer = \"https://file.test\"\nrefresh_ms = 100\n",
    );
    if let Some(key_file) = given_master_key(&db_url) {
        text.push_str(&format!("master_key_file = \"{}\"\n", key_file.display()));
    }
    let file = write_file(dir, "latchkey.toml", &text);
    let config = file.to_str().expect("a UTF-8 path");

    // Where each value came from, as `config check` tells it.
    let env = [
        ("LATCHKEY_ISSUER", "https://env.test"),
        ("LATCHKEY_REFRESH_MS", "200"),
    ];
    let shown = checked(dir, &["--config", config, "--database", &db_url], &env);
    assert_eq!(setting(&shown, "database").1, "flag");
    assert_eq!(setting(&shown, "refresh_ms"), ("200".into(), "env".into()));
    assert_eq!(
        setting(&shown, "issuer"),
        ("https://env.test".into(), "env".into())
    );
    assert_eq!(
        setting(&shown, "listen"),
        ("127.0.0.1:7001".into(), "file".into())
    );
    assert_eq!(
        setting(&shown, "key_rotation_days"),
        ("30".into(), "default".into())
    );
    assert_eq!(setting(&shown, "config"), (config.into(), "flag".into()));

    // The same order, shown by what a command does: the tenant `app list` lists.
    let listed = |args: &[&str], envs: &[(&str, &str)]| -> Vec<String> {
        let mut all = vec!["app", "list", "--json", "--config", config];
        all.extend_from_slice(args);
        let output = latchkey_in(dir, &all, envs);
        assert!(output.status.success(), "{}", describe(&output));
        let apps: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        apps.as_array()
            .expect("an array of apps")
            .iter()
            .map(|app| app["name"].as_str().expect("a name").to_owned())
            .collect()
    };
    assert_eq!(listed(&[], &[]), ["in-file-t"]);
    assert_eq!(listed(&[], &[("LATCHKEY_TENANT", "env-t")]), ["in-env-t"]);
    assert_eq!(
        listed(&["--tenant", "flag-t"], &[("LATCHKEY_TENANT", "env-t")]),
        ["in-flag-t"]
    );
}

#[test]
fn an_unknown_key_is_refused_naming_the_key_its_line_and_the_closest_key() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = write_file(
        dir.path(),
        "latchkey.toml",
        "# the server\nissuer = \"https://auth.example.com\"\nlistne = \"0.0.0.0:8080\"\n",
    );
    let config = file.to_str().expect("a UTF-8 path");
    let expected = "line 3: unknown key \"listne\" (did you mean \"listen\"?)";
    for args in [
        &["config", "check", "--config", config][..],
        &["serve", "--config", config],
        &["app", "list", "--config", config],
    ] {
        assert_fails_with(&latchkey_in(dir.path(), args, &[]), &[expected]);
    }
    assert!(
        !dir.path().join("latchkey.db").exists(),
        "a refused file opens no database"
    );
}

#[test]
fn a_wrong_type_or_a_value_the_flag_refuses_names_the_key_and_its_line() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (text, mentions) in [
        (
            "listen = \"127.0.0.1:0\"\nkey_rotation_days = \"thirty\"\n",
            &[
                "line 2:",
                "key \"key_rotation_days\" takes an integer, not a string",
            ][..],
        ),
        (
            "strict_hosts = \"yes\"\n",
            &["line 1:", "key \"strict_hosts\" takes true or false"],
        ),
        (
            "trusted_proxy = \"10.0.0.0/8\"\n",
            &["line 1:", "key \"trusted_proxy\" takes an array"],
        ),
        (
            "\n\nmax_header_bytes = 10\n",
            &["line 3:", "key \"max_header_bytes\"", "8192"],
        ),
        (
            "header_timeout = \"soon\"\n",
            &[
                "line 1:",
                "key \"header_timeout\"",
                "use a duration such as 90s",
            ],
        ),
        ("listen = [\n", &["line 1:", "not valid TOML"]),
    ] {
        let file = write_file(dir.path(), "latchkey.toml", text);
        let config = file.to_str().expect("a UTF-8 path");
        let output = latchkey_in(dir.path(), &["config", "check", "--config", config], &[]);
        assert_fails_with(&output, mentions);
        let output = latchkey_in(dir.path(), &["serve", "--config", config], &[]);
        assert_fails_with(&output, mentions);
    }
}

#[test]
fn a_database_password_and_a_master_key_in_the_file_are_never_printed() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let master_key = latchkey_in(dir.path(), &["master-key", "generate"], &[]);
    assert!(master_key.status.success(), "{}", describe(&master_key));
    let master_key = String::from_utf8(master_key.stdout).expect("UTF-8");
    let master_key = master_key.trim();
    const PASSWORD: &str = "s3cret-Pa55word";
    // Nothing listens on port 1 of the loopback: the connection is refused at once.
    let good = format!(
        "database = \"postgres://admin:{PASSWORD}@127.0.0.1:1/latchkey\"\nmaster_key = \"{master_key}\"\n"
    );
    let file = write_file(dir.path(), "good.toml", &good);
    let config = file.to_str().expect("a UTF-8 path");
    let assert_secrets_hidden = |output: &Output| {
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            stderr(output)
        );
        assert!(!printed.contains(PASSWORD), "{}", describe(output));
        assert!(!printed.contains(master_key), "{}", describe(output));
    };

    let text = latchkey_in(dir.path(), &["config", "check", "--config", config], &[]);
    assert!(text.status.success(), "{}", describe(&text));
    assert_secrets_hidden(&text);
    assert!(
        String::from_utf8_lossy(&text.stdout).contains("postgres://admin:***@127.0.0.1:1/latchkey"),
        "{}",
        describe(&text)
    );
    let shown = checked(dir.path(), &["--config", config], &[]);
    assert_eq!(setting(&shown, "master_key"), ("***".into(), "file".into()));
    assert_eq!(
        setting(&shown, "database").0,
        "postgres://admin:***@127.0.0.1:1/latchkey"
    );
    assert_secrets_hidden(&latchkey_in(
        dir.path(),
        &["config", "check", "--json", "--config", config],
        &[],
    ));

    // Failing commands and refused files say why without the secrets.
    let refused = latchkey_in(dir.path(), &["app", "list", "--config", config], &[]);
    assert_eq!(refused.status.code(), Some(1), "{}", describe(&refused));
    assert_secrets_hidden(&refused);
    for broken in [
        format!("{good}listne = 1\n"),
        format!("{good}max_header_bytes = 10\n"),
        good.replace(master_key, &format!("{PASSWORD}{master_key}")),
        format!(
            "database = \"postgres://admin:{PASSWORD}@127.0.0.1:1/latchkey\nmaster_key = \"{master_key}\"\n"
        ),
    ] {
        let file = write_file(dir.path(), "broken.toml", &broken);
        let config = file.to_str().expect("a UTF-8 path");
        let output = latchkey_in(dir.path(), &["config", "check", "--config", config], &[]);
        assert_fails_with(&output, &["broken.toml"]);
        assert_secrets_hidden(&output);
        // `app list` takes no serve setting: it fails on the database, still masked.
        let output = latchkey_in(dir.path(), &["app", "list", "--config", config], &[]);
        assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
        assert_secrets_hidden(&output);
    }
}

/// The example file at the root of the repository.
fn example_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../latchkey.example.toml")
}

#[test]
fn the_example_file_passes_config_check_and_holds_every_key_serve_takes() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let example = example_file();
    let config = example.to_str().expect("a UTF-8 path");
    let shown = checked(dir.path(), &["--config", config], &[]);
    assert_eq!(setting(&shown, "issuer").1, "file", "{shown}");

    let text = std::fs::read_to_string(&example).expect("reading latchkey.example.toml");
    let lines: Vec<&str> = text.lines().collect();
    // `config check` lists every flag of `serve` and every global option from clap's own
    // definitions, so a new flag is asked for here without this test changing.
    for listed in shown["settings"].as_array().expect("settings") {
        let key = listed["key"].as_str().expect("a key");
        if key == "config" {
            continue; // The file's own name is not a setting of the file.
        }
        let at = lines.iter().position(|line| {
            let line = line.trim_start_matches('#').trim_start();
            line.starts_with(&format!("{key} ="))
        });
        let Some(at) = at else {
            panic!("latchkey.example.toml has no `{key} =` line (commented or not)");
        };
        assert!(
            at > 0 && lines[at - 1].starts_with("# ") && !lines[at - 1].contains(" = "),
            "`{key}` in latchkey.example.toml has a one-line comment above it"
        );
    }
}

#[test]
fn latchkey_config_in_the_environment_names_the_file() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = write_file(dir.path(), "from-env.toml", "listen = \"127.0.0.1:7002\"\n");
    let config = file.to_str().expect("a UTF-8 path");
    let shown = checked(dir.path(), &[], &[("LATCHKEY_CONFIG", config)]);
    assert_eq!(shown["file"], config);
    assert_eq!(setting(&shown, "config"), (config.into(), "env".into()));
    assert_eq!(
        setting(&shown, "listen"),
        ("127.0.0.1:7002".into(), "file".into())
    );

    let output = latchkey_in(
        dir.path(),
        &["config", "check"],
        &[("LATCHKEY_CONFIG", "/nonexistent/latchkey.toml")],
    );
    assert_fails_with(
        &output,
        &[
            "/nonexistent/latchkey.toml",
            "check --config (or LATCHKEY_CONFIG)",
        ],
    );
}

#[test]
fn app_list_works_on_the_database_the_file_names() {
    let (database, db_url) = database();
    let created = cli_json_on(
        &db_url,
        &["app", "create", "--name", "from-the-file", "--json"],
    );
    let mut text = format!("database = \"{db_url}\"\n");
    if let Some(key_file) = given_master_key(&db_url) {
        text.push_str(&format!("master_key_file = \"{}\"\n", key_file.display()));
    }
    let elsewhere = tempfile::tempdir().expect("a temporary directory");
    let file = write_file(elsewhere.path(), "latchkey.toml", &text);
    let config = file.to_str().expect("a UTF-8 path");

    let output = latchkey_in(
        elsewhere.path(),
        &["app", "list", "--json", "--config", config],
        &[],
    );
    assert!(output.status.success(), "{}", describe(&output));
    let apps: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(apps[0]["client_id"], created["client_id"], "{apps}");
    assert!(!elsewhere.path().join("latchkey.db").exists());
    drop(database);
}
