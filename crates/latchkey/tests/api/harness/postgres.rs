//! Databases of the machine's PostgreSQL for the tests that run latchkey on it
//! (`LATCHKEY_TEST_POSTGRES`, as for the store's own tests; by default the local server), made
//! and dropped with `psql`, and the CLI run with the master key PostgreSQL needs.
//!
//! A test's database is new and its own (`latchkey_api_<pid>_<n>`), dropped with `WITH (FORCE)`
//! when the test ends. One whose schema the test is not about is copied from a template that
//! holds the migrated schema (`CREATE DATABASE ... TEMPLATE`), which takes half the time of
//! migrating each one. The template is named after the migrations it holds
//! (`latchkey_api_template_<hash>`), so later runs with the same migrations reuse it, and a
//! change to them makes a new one instead of handing out a stale schema.

use super::cli::{describe, latchkey_command};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
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

/// Runs `sql` on the database at `url` and returns what it printed (unaligned, tuples only).
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

/// The URL of database `name` on the test server.
fn url_of(name: &str) -> String {
    let server = server();
    let base = server
        .rsplit_once('/')
        .map_or(server.as_str(), |(base, _)| base);
    format!("{base}/{name}")
}

/// The database an URL of the test server names, if it names one there.
pub(crate) fn database_name(url: &str) -> Option<&str> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return None;
    }
    let (_, path) = url.rsplit_once('/')?;
    path.split('?').next().filter(|name| !name.is_empty())
}

/// A name no other database of this process has had.
fn fresh_name(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A database of this test's own, dropped at the end.
pub(crate) struct PgDatabase {
    name: String,
}

impl PgDatabase {
    /// A new database with nothing in it: a deployment's before latchkey first opens it.
    pub(crate) fn create() -> PgDatabase {
        let name = fresh_name("latchkey_api");
        psql(&format!("CREATE DATABASE \"{name}\""));
        PgDatabase { name }
    }

    /// A new database holding latchkey's schema and nothing written through it yet.
    pub(crate) fn migrated() -> PgDatabase {
        let name = fresh_name("latchkey_api");
        psql(&format!(
            "CREATE DATABASE \"{name}\" TEMPLATE \"{}\"",
            template()
        ));
        PgDatabase { name }
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn url(&self) -> String {
        url_of(&self.name)
    }

    /// Drops the database under the running server (its connections are closed with it).
    pub(crate) fn vanish(&self) {
        psql(&format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        ));
    }
}

impl Drop for PgDatabase {
    /// Drops the database without waiting: PostgreSQL checkpoints for every dropped database,
    /// which takes seconds while other tests write, and nothing after the test depends on it.
    /// `psql` finishes the drop by itself, also when this process has exited first.
    fn drop(&mut self) {
        let dropping = Command::new("psql")
            .arg(server())
            .arg("-qAtc")
            .arg(format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        match dropping {
            // Waited for on a thread of its own, so that it leaves no zombie behind.
            Ok(mut child) => drop(std::thread::spawn(move || child.wait())),
            Err(error) => eprintln!("could not drop test database {}: {error}", self.name),
        }
    }
}

/// The template holding the migrated schema, made by the first test of the process that needs
/// it unless an earlier run with the same migrations left it.
fn template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = format!("latchkey_api_template_{}", migrations_hash());
        let exists = psql_value(
            &server(),
            &format!("SELECT count(*) FROM pg_database WHERE datname = '{name}'"),
        );
        if exists != "1" {
            build_template(&name);
        }
        name
    })
}

/// Migrates a database of this process's own, then renames it to `name`: the template appears
/// whole or not at all, and a process that lost the race to another uses the winner's.
fn build_template(name: &str) {
    let building = fresh_name("latchkey_api_building");
    psql(&format!("CREATE DATABASE \"{building}\""));
    let url = url_of(&building);
    // A runtime of its own, dropped before the rename: it takes the pool's connections with it,
    // and a database with connections can be neither renamed nor copied.
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(latchkey_store::open(&url))
            .map(drop)
            .expect("migrating the template database");
    })
    .join()
    .expect("the template's migration");
    // No connection may change the template once copies are made from it.
    psql(&format!(
        "ALTER DATABASE \"{building}\" WITH ALLOW_CONNECTIONS false"
    ));
    psql(&format!(
        "DO $$ BEGIN ALTER DATABASE \"{building}\" RENAME TO \"{name}\"; \
         EXCEPTION WHEN duplicate_database THEN NULL; END $$"
    ));
    psql(&format!("DROP DATABASE IF EXISTS \"{building}\""));
}

/// A digest of the PostgreSQL migrations, which are all a template holds.
fn migrations_hash() -> String {
    let folder = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../latchkey-store/migrations/postgres"
    );
    let mut files: Vec<_> = std::fs::read_dir(folder)
        .expect("listing the PostgreSQL migrations")
        .map(|entry| entry.expect("a migration").path())
        .collect();
    files.sort();
    let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for file in files {
        context.update(file.file_name().unwrap_or_default().as_encoded_bytes());
        context.update(&std::fs::read(&file).expect("reading a migration"));
    }
    context
        .finish()
        .as_ref()
        .iter()
        .take(8)
        .map(|byte| format!("{byte:02x}"))
        .collect()
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
