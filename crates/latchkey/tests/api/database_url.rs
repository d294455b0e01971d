//! What `--database` leads to before any command runs: only the commands that can start a
//! deployment create a database, every other one refuses a path with none, and a URL this
//! build cannot use says so first.

use crate::harness::*;
use std::path::Path;
use std::process::Output;

/// Runs `latchkey ARGS...` in `dir` (so the default `sqlite://latchkey.db` lands there).
fn run_in(dir: &Path, args: &[&str]) -> Output {
    latchkey_command()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("running latchkey")
}

#[test]
fn commands_other_than_the_first_writes_refuse_a_missing_database_and_create_nothing() {
    if skip_unless_sqlite("a path with no SQLite file") {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mistyped = format!("sqlite://{}", dir.path().join("latchkey.bd").display());
    let commands: [&[&str]; 12] = [
        &["app", "list"],
        &["app", "show", "abc"],
        &["app", "update", "abc", "--name", "x"],
        &["app", "rotate-secret", "abc"],
        &["key", "list"],
        &["audit", "list"],
        &["tenant", "list"],
        &["tenant", "show", "default"],
        &["tenant", "delete", "acme"],
        &["token", "revoke", "6f1c0e1a-2b3c-4d5e-8f90-0123456789ab"],
        &["token", "revoke", "--app", "abc"],
        &["master-key", "rotate"],
    ];
    for command in commands {
        for database in [None, Some(mistyped.as_str())] {
            let mut args = Vec::new();
            if let Some(url) = database {
                args.extend(["--database", url]);
            }
            args.extend_from_slice(command);

            let output = run_in(dir.path(), &args);

            assert_eq!(
                output.status.code(),
                Some(1),
                "{args:?}: {}",
                describe(&output)
            );
            let stderr = String::from_utf8_lossy(&output.stderr);
            let path = database.map_or("latchkey.db".to_owned(), |_| {
                dir.path().join("latchkey.bd").display().to_string()
            });
            assert!(
                stderr.contains(&format!("error: there is no database at {path}: "))
                    && stderr.contains("latchkey app create"),
                "{args:?} names the path and how to create one: {stderr}"
            );
            assert!(output.stdout.is_empty(), "{args:?}: {}", describe(&output));
            assert_eq!(files_in(dir.path()), Vec::<String>::new(), "{args:?}");
        }
    }
}

#[test]
fn the_first_write_of_a_new_deployment_creates_its_database() {
    if skip_unless_sqlite("the default SQLite file is created by the first write") {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");

    let output = run_in(
        dir.path(),
        &["tenant", "create", "acme", "--domain", "acme.test"],
    );

    assert!(output.status.success(), "{}", describe(&output));
    assert!(dir.path().join("latchkey.db").exists());
    let listed = run_in(dir.path(), &["tenant", "list", "--json"]);
    assert!(listed.status.success(), "{}", describe(&listed));
}

#[test]
fn a_postgres_url_without_a_master_key_says_how_to_make_one_and_touches_nothing() {
    if skip_unless_postgres("a PostgreSQL URL") {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");

    let output = run_in(
        dir.path(),
        &[
            "--database",
            "postgres://u:pw@127.0.0.1:1/latchkey",
            "app",
            "list",
        ],
    );

    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: a master key is required with this database")
            && stderr.contains("latchkey master-key generate"),
        "{stderr}"
    );
    assert!(!stderr.contains("pw"), "no password: {stderr}");
    assert_eq!(files_in(dir.path()), Vec::<String>::new());
}

#[test]
fn an_unreachable_postgres_names_the_cause_and_never_the_password() {
    if skip_unless_postgres("a PostgreSQL URL") {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let key = dir.path().join("master.key");
    let generated = run_in(dir.path(), &["master-key", "generate"]);
    std::fs::write(&key, &generated.stdout).expect("writing the master key");

    let output = run_in(
        dir.path(),
        &[
            "--database",
            "postgres://u:secretpw@127.0.0.1:1/latchkey",
            "--master-key-file",
            key.to_str().expect("a UTF-8 path"),
            "app",
            "list",
        ],
    );

    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: could not open the database: database unreachable")
            && stderr.contains("refused"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(!stderr.contains("secretpw"), "no password: {stderr}");
}
