//! `latchkey completions bash|zsh|fish`: each script names the commands and flags, passes its
//! shell's syntax check, and (in bash and fish, which can be asked from a script) completes a
//! command word and a flag. A shell that is not installed is skipped, with the reason.

use crate::harness::{describe, latchkey_command, skip_unless_sqlite};
use std::process::Command;

/// The completion script `latchkey completions SHELL` prints.
fn script(shell: &str) -> String {
    let output = latchkey_command()
        .args(["completions", shell])
        .output()
        .expect("running latchkey completions");
    assert!(output.status.success(), "{}", describe(&output));
    String::from_utf8(output.stdout).expect("a completion script is UTF-8")
}

/// Whether `shell` can be run here; says so on stderr when it cannot.
fn installed(shell: &str) -> bool {
    let found = Command::new(shell)
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !found {
        eprintln!("skipped: {shell} is not installed, so its completion script is not run");
    }
    found
}

/// Runs `shell ARGS` with `script` saved as `completion` in its working directory and returns
/// its stdout; the shell must exit 0.
fn run_with_script(shell: &str, script: &str, args: &[&str]) -> String {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("completion"), script).expect("writing the script");
    let output = Command::new(shell)
        .args(args)
        .current_dir(dir.path())
        // fish keeps its history and settings under HOME: not the user's.
        .env("HOME", dir.path())
        .output()
        .unwrap_or_else(|error| panic!("running {shell}: {error}"));
    assert!(
        output.status.success(),
        "{shell} {args:?}: {}",
        describe(&output)
    );
    String::from_utf8(output.stdout).expect("shell output is UTF-8")
}

fn same_everywhere() -> bool {
    skip_unless_sqlite("the completion scripts are the same whatever the backend")
}

#[test]
fn every_script_names_serve_and_the_database_flag() {
    if same_everywhere() {
        return;
    }
    // How each shell spells a long option in its script.
    for (shell, database_flag) in [
        ("bash", "--database"),
        ("zsh", "--database"),
        ("fish", "-l database"),
    ] {
        let script = script(shell);
        assert!(script.contains("serve"), "{shell}: no serve in {script}");
        assert!(
            script.contains(database_flag),
            "{shell}: no {database_flag} in {script}"
        );
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error_naming_the_shells() {
    if same_everywhere() {
        return;
    }
    let output = latchkey_command()
        .args(["completions", "tcsh"])
        .output()
        .expect("running latchkey completions");
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bash, zsh, fish"), "{stderr}");
}

#[test]
fn bash_accepts_the_script_and_completes_commands_and_flags() {
    if same_everywhere() || !installed("bash") {
        return;
    }
    let script = script("bash");
    run_with_script("bash", &script, &["-n", "completion"]);
    // What bash's programmable completion does on Tab: call the function with the words so far.
    let complete = |words: &str, current: usize, word: &str, previous: &str| {
        let program = format!(
            "source ./completion; COMP_WORDS=({words}); COMP_CWORD={current}; \
             _latchkey latchkey {word} {previous}; printf '%s\\n' \"${{COMPREPLY[@]}}\""
        );
        run_with_script("bash", &script, &["-c", &program])
    };
    let commands = complete("latchkey se", 1, "se", "latchkey");
    assert_eq!(
        commands.lines().collect::<Vec<_>>(),
        ["serve"],
        "{commands}"
    );
    let flags = complete("latchkey serve --data", 2, "--data", "serve");
    assert_eq!(flags.lines().collect::<Vec<_>>(), ["--database"], "{flags}");
}

#[test]
fn zsh_accepts_the_script() {
    if same_everywhere() || !installed("zsh") {
        return;
    }
    let script = script("zsh");
    assert!(script.starts_with("#compdef latchkey"), "{script}");
    run_with_script("zsh", &script, &["-n", "completion"]);
}

#[test]
fn fish_accepts_the_script_and_completes_commands_and_flags() {
    if same_everywhere() || !installed("fish") {
        return;
    }
    let script = script("fish");
    run_with_script("fish", &script, &["--no-execute", "completion"]);
    let completions = run_with_script(
        "fish",
        &script,
        &[
            "-c",
            "source ./completion; complete -C'latchkey se'; complete -C'latchkey serve --data'",
        ],
    );
    let words: Vec<&str> = completions
        .lines()
        .map(|line| line.split('\t').next().unwrap_or_default())
        .collect();
    assert_eq!(words, ["serve", "--database"], "{completions}");
}
