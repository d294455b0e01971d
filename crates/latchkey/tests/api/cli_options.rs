//! How the CLI takes its options and writes its output: durations for `--token-ttl`, short
//! help for the global options below the top level, and a reader that goes away early.

use crate::harness::*;
use std::process::Stdio;

#[tokio::test]
async fn token_ttl_takes_durations_as_well_as_seconds() {
    let app = spawn_app().await;

    for (given, seconds) in [("5m", 300), ("1h", 3600), ("90", 90), ("2m 30s", 150)] {
        let created = app.cli_json(&[
            "app",
            "create",
            "--name",
            "x",
            "--token-ttl",
            given,
            "--json",
        ]);
        assert_eq!(created["token_ttl"], seconds, "create --token-ttl {given}");
        let updated = app.cli_json(&[
            "app",
            "update",
            client_id(&created),
            "--token-ttl",
            "10m",
            "--json",
        ]);
        assert_eq!(updated["token_ttl"], 600, "update --token-ttl 10m");
    }
    let bad = app.cli(&["app", "create", "--name", "x", "--token-ttl", "5 parsecs"]);
    assert_eq!(bad.status.code(), Some(2), "{}", describe(&bad));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("use a duration such as 90s, 15m, 1h"),
        "{}",
        describe(&bad)
    );
}

/// Text only the long description of `--master-key-file` has.
const LONG_MASTER_KEY_HELP: &str = "LATCHKEY_MASTER_KEY holds the keys themselves";

#[test]
fn global_options_have_a_short_line_on_subcommand_help_and_their_long_text_on_the_top_one() {
    for page in [
        &["app", "list", "--help"][..],
        &["app", "--help"],
        &["serve", "--help"],
        &["token", "revoke", "--help"],
    ] {
        let output = latchkey_command()
            .args(page)
            .output()
            .expect("running latchkey");
        assert!(output.status.success(), "{page:?}: {}", describe(&output));
        let help = String::from_utf8_lossy(&output.stdout);
        assert!(
            help.contains("--database") && help.contains("--master-key-file"),
            "{page:?} lists the global options: {help}"
        );
        assert!(!help.contains(LONG_MASTER_KEY_HELP), "{page:?}: {help}");
    }
    let top = latchkey_command()
        .arg("--help")
        .output()
        .expect("running latchkey");
    assert!(top.status.success(), "{}", describe(&top));
    assert!(
        String::from_utf8_lossy(&top.stdout).contains(LONG_MASTER_KEY_HELP),
        "{}",
        describe(&top)
    );
}

#[tokio::test]
async fn a_closed_output_pipe_ends_every_command_quietly() {
    let app = spawn_app().await;
    app.seed_app(new_app("orders")).await;
    let commands: [&[&str]; 6] = [
        &["app", "list", "--json"],
        &["app", "list"],
        &["key", "list"],
        &["tenant", "list", "--json"],
        &["audit", "list"],
        &["master-key", "generate"],
    ];
    for command in commands {
        // The reading end is closed before the command starts, so its first write meets a
        // pipe without a reader, as after `| head -c 10` has read its fill.
        let (reader, writer) = std::io::pipe().expect("making a pipe");
        drop(reader);
        let output = latchkey_on(&app.db_url)
            .args(command)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .expect("running latchkey");

        assert_eq!(
            output.status.code(),
            Some(0),
            "{command:?}: {}",
            describe(&output)
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.is_empty(), "{command:?} stays quiet: {stderr}");
    }
}
