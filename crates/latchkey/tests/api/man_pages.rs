//! `latchkey man [--out DIR]`: latchkey.1 on stdout, and with `--out` one page per command,
//! each of which groff reads without a warning (skipped, with the reason, where groff is not
//! installed). The commands expected are read from `--help`, not from the generator, so a
//! command without its page fails here.

use crate::harness::{describe, latchkey_command, skip_unless_sqlite};
use std::path::Path;
use std::process::Command;

/// Runs `latchkey ARGS`, which must succeed, and returns its stdout.
fn latchkey_ok(args: &[&str]) -> String {
    let output = latchkey_command()
        .args(args)
        .output()
        .expect("running latchkey");
    assert!(
        output.status.success(),
        "latchkey {args:?}: {}",
        describe(&output)
    );
    String::from_utf8(output.stdout).expect("latchkey prints UTF-8")
}

/// The subcommands `--help` lists under "Commands:", without clap's `help`.
fn subcommands_in_help(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|line| line.trim() != "Commands:")
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

/// Every command path (`["app", "create"]`), from what each `--help` lists, depth first.
fn command_paths(prefix: &[String], found: &mut Vec<Vec<String>>) {
    let mut args: Vec<&str> = prefix.iter().map(String::as_str).collect();
    args.push("--help");
    for name in subcommands_in_help(&latchkey_ok(&args)) {
        let mut path = prefix.to_vec();
        path.push(name);
        found.push(path.clone());
        command_paths(&path, found);
    }
}

/// Warnings groff gives about a page, all of them turned on; None where groff is not installed.
fn groff_warnings(page: &Path) -> Option<String> {
    let output = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(page)
        .output()
        .ok()?;
    assert!(
        output.status.success(),
        "groff {}: {}",
        page.display(),
        describe(&output)
    );
    Some(String::from_utf8_lossy(&output.stderr).into_owned())
}

fn same_everywhere() -> bool {
    skip_unless_sqlite("the man pages are the same whatever the backend")
}

#[test]
fn man_out_writes_a_page_per_command_that_groff_reads_cleanly() {
    if same_everywhere() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = dir.path().join("man1");
    let printed = latchkey_ok(&["man", "--out", out.to_str().expect("a UTF-8 path")]);
    let mut paths = Vec::new();
    command_paths(&[], &mut paths);
    for wanted in ["serve", "quickstart", "app", "completions", "man"] {
        assert!(
            paths.iter().any(|path| path == &[wanted]),
            "{wanted} in {paths:?}"
        );
    }
    let mut expected: Vec<String> = std::iter::once("latchkey.1".to_owned())
        .chain(
            paths
                .iter()
                .map(|path| format!("latchkey-{}.1", path.join("-"))),
        )
        .collect();
    expected.sort();
    let mut written = crate::harness::files_in(&out);
    written.sort();
    assert_eq!(written, expected);
    // It prints the path of each page it wrote, one a line.
    let mut listed: Vec<String> = printed
        .lines()
        .map(|line| {
            let path = Path::new(line);
            assert_eq!(path.parent(), Some(out.as_path()), "{line}");
            path.file_name()
                .expect("a file")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    listed.sort();
    assert_eq!(listed, expected);

    let create = std::fs::read_to_string(out.join("latchkey-app-create.1")).expect("the page");
    assert!(create.contains(".TH latchkey-app-create 1"), "{create}");
    for flag in ["scope", "rate\\-limit", "database"] {
        assert!(
            create.contains(&format!("\\-\\-{flag}")),
            "--{flag} in {create}"
        );
    }
    // Options with an environment variable name it, as --help does.
    assert!(create.contains("LATCHKEY_DATABASE_URL"), "{create}");

    for name in &expected {
        let Some(warnings) = groff_warnings(&out.join(name)) else {
            eprintln!("skipped: groff is not installed, so the pages are not typeset");
            break;
        };
        assert_eq!(warnings, "", "groff warns about {name}");
    }
}

#[test]
fn man_prints_the_main_page_naming_every_command() {
    if same_everywhere() {
        return;
    }
    let page = latchkey_ok(&["man"]);
    assert!(page.contains(".TH latchkey 1"), "{page}");
    let help = latchkey_ok(&["--help"]);
    let commands = subcommands_in_help(&help);
    assert!(commands.len() >= 10, "{commands:?}");
    for command in &commands {
        let escaped = command.replace('-', "\\-");
        assert!(
            page.contains(&format!("latchkey\\-{escaped}(1)")),
            "the main page names {command} as latchkey-{command}(1): {page}"
        );
    }
    assert!(
        !page.contains("latchkey\\-help"),
        "clap's help is not a command: {page}"
    );
}

#[test]
fn man_out_into_a_file_is_an_error_that_says_what_to_do() {
    if same_everywhere() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("not-a-directory");
    std::fs::write(&file, "").expect("writing a file");
    let output = latchkey_command()
        .args(["man", "--out"])
        .arg(file.join("man1"))
        .output()
        .expect("running latchkey");
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("give --out a directory you can write"),
        "{stderr}"
    );
}
