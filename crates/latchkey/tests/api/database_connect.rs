//! Reaching a PostgreSQL as a managed one is reached: TLS verified against the operator's root
//! certificate, a password, and one-line errors naming what is wrong (a certificate that does
//! not verify, a server without TLS, a wrong password, a missing database), never the password.
//! The servers are the test's own (`PgInstance`): one that takes only TLS and passwords, one
//! without TLS.

use crate::harness::*;
use std::process::Output;

const PASSWORD: &str = "s3cret-pw";

/// `latchkey --database URL app create --name svc --json` with a master key.
fn create_app(url: &str) -> Output {
    latchkey_command()
        .env("LATCHKEY_MASTER_KEY", master_key())
        .args([
            "--database",
            url,
            "app",
            "create",
            "--name",
            "svc",
            "--json",
        ])
        .output()
        .expect("running latchkey")
}

fn master_key() -> String {
    cli_ok_with(&[], &["master-key", "generate"])
        .trim()
        .to_owned()
}

/// The command failed with one line on stderr that mentions every word of `naming` and never
/// the password; returns the line.
fn fails_naming(output: &Output, naming: &[&str]) -> String {
    assert!(!output.status.success(), "{}", describe(output));
    let stderr = stderr(output);
    let line = stderr.trim();
    assert_eq!(line.lines().count(), 1, "one line: {line}");
    for word in naming {
        assert!(line.contains(word), "names {word:?}: {line}");
    }
    assert!(!line.contains(PASSWORD), "never the password: {line}");
    line.to_owned()
}

#[tokio::test]
async fn tls_is_verified_against_the_given_root_certificate_and_a_bad_one_is_named() {
    if skip_unless_postgres("PostgreSQL connection settings") {
        return;
    }
    let secured = PgInstance::start_secured(PASSWORD);
    let port = secured.port();
    let root = secured.root_certificate();
    let root = root.to_str().expect("a UTF-8 path");
    let verified = format!(
        "postgres://postgres:{PASSWORD}@127.0.0.1:{port}/latchkey?sslmode=verify-full&sslrootcert={root}"
    );
    // The server takes TCP connections over TLS only: this one worked over TLS.
    let output = create_app(&verified);
    assert!(output.status.success(), "{}", describe(&output));

    // Without the operator's root, the test authority is unknown.
    let unverified =
        format!("postgres://postgres:{PASSWORD}@127.0.0.1:{port}/latchkey?sslmode=verify-full");
    fails_naming(&create_app(&unverified), &["certificate"]);
    // Without TLS, the server refuses (its rules accept TLS connections only).
    let plain = format!("postgres://postgres:{PASSWORD}@127.0.0.1:{port}/latchkey?sslmode=disable");
    fails_naming(&create_app(&plain), &["could not open the database"]);

    let wrong = format!(
        "postgres://postgres:not-{PASSWORD}@127.0.0.1:{port}/latchkey?sslmode=verify-full&sslrootcert={root}"
    );
    fails_naming(&create_app(&wrong), &["password"]);
    let missing = format!(
        "postgres://postgres:{PASSWORD}@127.0.0.1:{port}/nowhere?sslmode=verify-full&sslrootcert={root}"
    );
    fails_naming(&create_app(&missing), &["\"nowhere\" does not exist"]);

    // A server without TLS, where TLS is required.
    let without_tls = PgInstance::start();
    let required = format!(
        "postgres://postgres@127.0.0.1:{}/latchkey?sslmode=require",
        without_tls.port()
    );
    fails_naming(&create_app(&required), &["TLS"]);
}

#[tokio::test]
async fn pool_and_timeout_parameters_are_taken_and_bad_ones_are_named() {
    if skip_unless_postgres("PostgreSQL connection settings") {
        return;
    }
    let database = PgDatabase::create();
    let tuned = format!(
        "{}?pool_size=2&connect_timeout=3&statement_timeout=5000&acquire_timeout=1000&application_name=latchkey-test",
        database.url()
    );
    let output = create_app(&tuned);
    assert!(output.status.success(), "{}", describe(&output));
    let bad = format!("{}?pool_size=zero", database.url());
    fails_naming(&create_app(&bad), &["pool_size", "1 to 1000"]);
}
