//! A node whose PostgreSQL goes away keeps issuing tokens from its snapshot, says so on
//! `/readyz`, and refuses tokens once `--max-staleness` has passed since it last heard from the
//! database. The database here is one the test creates on the machine's PostgreSQL
//! (`LATCHKEY_TEST_POSTGRES`, as for the store's own tests) and drops mid-test, which every
//! later read of the node meets as an error.

use crate::harness::*;
use serde_json::Value;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// The maintenance database of the test PostgreSQL, as a URL.
fn server() -> String {
    std::env::var("LATCHKEY_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn psql(sql: &str) {
    let output = Command::new("psql")
        .args([server().as_str(), "-qAtc", sql])
        .output()
        .expect("running psql");
    assert!(
        output.status.success(),
        "psql {sql:?}: {}",
        describe(&output)
    );
}

/// A database of this test's own, dropped at the end.
struct PgDatabase {
    name: String,
}

impl PgDatabase {
    fn create() -> PgDatabase {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "latchkey_outage_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        psql(&format!("CREATE DATABASE \"{name}\""));
        PgDatabase { name }
    }

    fn url(&self) -> String {
        let server = server();
        let base = server
            .rsplit_once('/')
            .map_or(server.as_str(), |(base, _)| base);
        format!("{base}/{}", self.name)
    }

    /// Drops the database under the running server (its connections are closed with it).
    fn vanish(&self) {
        psql(&format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        ));
    }
}

/// Runs `latchkey ARGS...` with `env` set; it must succeed. Returns its stdout.
fn cli_ok_with(env: &[(&str, &str)], args: &[&str]) -> String {
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

#[tokio::test]
async fn tokens_flow_from_memory_while_the_database_is_gone_until_the_staleness_limit() {
    let database = PgDatabase::create();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let master_key = cli_ok_with(&[], &["master-key", "generate"]);
    let env = [("LATCHKEY_MASTER_KEY", master_key.trim())];
    let app: Value = serde_json::from_str(&cli_ok_with(
        &env,
        &[
            "--database",
            &database.url(),
            "app",
            "create",
            "--name",
            "svc",
            "--json",
        ],
    ))
    .expect("JSON");
    let mut command = latchkey_command();
    command.envs(env.iter().copied());
    let (served, _lines) = Launched::with(
        command,
        &database.url(),
        dir.path().join("serve.log"),
        &[&SERVE_ARGS[..], &["--max-staleness", "3s"]].concat(),
    )
    .ready(None);
    let base = served.base_url();
    let http = reqwest::Client::new();
    let token = async || {
        http.post(format!("{base}/oauth2/token"))
            .basic_auth(client_id(&app), Some(client_secret(&app)))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .expect("POST /oauth2/token")
    };
    let readyz = async || {
        let reply = http
            .get(format!("{base}/readyz"))
            .send()
            .await
            .expect("GET /readyz");
        let status = reply.status().as_u16();
        (status, reply.json::<Value>().await.expect("JSON"))
    };
    assert_eq!(token().await.status(), 200);
    assert_eq!(
        readyz().await,
        (200, serde_json::json!({ "status": "ready" }))
    );

    database.vanish();

    let degraded = eventually("/readyz to report the database gone", async || {
        let (status, body) = readyz().await;
        (status == 200 && body["status"] == "degraded")
            .then_some(body.clone())
            .ok_or(format!("{status} {body}"))
    })
    .await;
    assert!(degraded["snapshot_age_seconds"].is_u64(), "{degraded}");
    assert_eq!(token().await.status(), 200, "tokens still flow from memory");

    let refused = eventually("tokens to be refused past --max-staleness", async || {
        let reply = token().await;
        let status = reply.status().as_u16();
        let body: Value = reply.json().await.expect("JSON");
        (status == 503)
            .then_some(body.clone())
            .ok_or(format!("{status} {body}"))
    })
    .await;
    assert_eq!(refused["error"], "temporarily_unavailable");
    let (status, body) = readyz().await;
    assert_eq!(
        (status, &body["status"]),
        (503, &Value::from("unavailable")),
        "{body}"
    );
}
