//! Databases of the machine's PostgreSQL for the tests that run latchkey on it
//! (`LATCHKEY_TEST_POSTGRES`, as for the store's own tests; by default the local server), made
//! and dropped with `psql`, and the CLI run with the master key PostgreSQL needs.

use super::cli::{describe, latchkey_command};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// The maintenance database of the test PostgreSQL, as a URL.
pub(crate) fn server() -> String {
    std::env::var("LATCHKEY_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

pub(crate) fn psql(sql: &str) {
    psql_on(&server(), sql);
}

/// Runs `sql` on the database at `url`.
pub(crate) fn psql_on(url: &str, sql: &str) {
    psql_value(url, sql);
}

/// The single value `sql` selects on the database at `url`, as text (empty for none).
pub(crate) fn psql_value(url: &str, sql: &str) -> String {
    let output = Command::new("psql")
        .args([url, "-qAtc", sql])
        .output()
        .expect("running psql");
    assert!(
        output.status.success(),
        "psql {sql:?}: {}",
        describe(&output)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// A database of this test's own, dropped at the end.
pub(crate) struct PgDatabase {
    name: String,
}

impl PgDatabase {
    pub(crate) fn create() -> PgDatabase {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "latchkey_outage_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        psql(&format!("CREATE DATABASE \"{name}\""));
        PgDatabase { name }
    }

    pub(crate) fn url(&self) -> String {
        let server = server();
        let base = server
            .rsplit_once('/')
            .map_or(server.as_str(), |(base, _)| base);
        format!("{base}/{}", self.name)
    }

    /// Drops the database under the running server (its connections are closed with it).
    pub(crate) fn vanish(&self) {
        psql(&format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        ));
    }
}

/// Runs `latchkey ARGS...` with `env` set; it must succeed. Returns its stdout.
pub(crate) fn cli_ok_with(env: &[(&str, &str)], args: &[&str]) -> String {
    let output = latchkey_command()
        .envs(env.iter().copied())
        .args(args)
        .output()
        .expect("running latchkey");
    assert!(
        output.status.success(),
        "latchkey {args:?}: {}",
        describe(&output)
    );
    String::from_utf8(output.stdout).expect("UTF-8")
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        self.vanish();
    }
}
