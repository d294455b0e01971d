//! A node whose PostgreSQL goes away keeps issuing tokens from its snapshot, says so on
//! `/readyz`, and refuses tokens once `--max-staleness` has passed since it last heard from the
//! database; a node whose database comes back behind it (an older backup restored) reloads
//! instead of waiting for numbers it has passed. Each test has a database of its own
//! (`PgDatabase`), which the first test drops mid-test.

use crate::harness::*;
use serde_json::Value;

#[tokio::test]
async fn tokens_flow_from_memory_while_the_database_is_gone_until_the_staleness_limit() {
    if skip_unless_postgres("drops a PostgreSQL database under a running node") {
        return;
    }
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
    let http = http_client();
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

#[tokio::test]
async fn a_node_whose_database_returns_behind_it_reloads_and_serves_what_was_written_since() {
    if skip_unless_postgres("rewinds a PostgreSQL change log sequence under a running node") {
        return;
    }
    let database = PgDatabase::create();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let master_key = cli_ok_with(&[], &["master-key", "generate"]);
    let env = [("LATCHKEY_MASTER_KEY", master_key.trim())];
    let url = database.url();
    let create = |name: &str| -> Value {
        let text = cli_ok_with(
            &env,
            &[
                "--database",
                &url,
                "app",
                "create",
                "--name",
                name,
                "--json",
            ],
        );
        serde_json::from_str(&text).expect("JSON")
    };
    for name in ["one", "two", "three"] {
        create(name);
    }
    let mut command = latchkey_command();
    command.envs(env.iter().copied());
    let (served, _lines) =
        Launched::with(command, &url, dir.path().join("serve.log"), &SERVE_ARGS).ready(None);
    let base = served.base_url();
    // The database comes back as an older copy would: its change log numbers from the start
    // again, below what the server has applied.
    psql_on(
        &url,
        "DELETE FROM changes; ALTER SEQUENCE changes_seq_seq RESTART WITH 1",
    );
    let later = create("later");
    let http = http_client();
    eventually(
        "the app written after the restore to get a token",
        async || {
            let reply = http
                .post(format!("{base}/oauth2/token"))
                .basic_auth(client_id(&later), Some(client_secret(&later)))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .expect("POST /oauth2/token");
            let status = reply.status().as_u16();
            (status == 200).then_some(()).ok_or(format!("{status}"))
        },
    )
    .await;
    assert!(
        served.log().contains("the change log is behind or apart"),
        "{}",
        served.log()
    );
}
