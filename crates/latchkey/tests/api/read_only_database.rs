//! A database file that turns read-only while the server runs: every write is refused with a
//! clear error (503 `temporarily_unavailable` from the admin API; a CLI message that says the
//! database is read-only and what to do), tokens keep flowing from memory, nothing stored is
//! damaged, and writes succeed again by themselves, without a restart, once the file is
//! writable again.

use crate::harness::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::path::PathBuf;

async fn create_through_api(app: &TestApp, admin: &str, name: &str) -> Reply {
    app.send(
        app.request(Method::POST, "/admin/v1/tenants/default/apps")
            .bearer_auth(admin)
            .json(&json!({ "name": name })),
    )
    .await
}

fn names(listed: &Value) -> Vec<&str> {
    listed
        .as_array()
        .expect("app list --json is an array")
        .iter()
        .map(|app| app["name"].as_str().expect("a name"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_database_refuses_writes_clearly_serves_tokens_and_recovers_by_itself() {
    if skip_unless_sqlite("makes the SQLite file read-only") {
        return;
    }
    let app = spawn_app().await;
    let (_, admin) = app.admin_token().await;
    let holder = app.seed_app(new_app("holder").scopes(&["read"])).await;
    let stored = app.cli_json(&["app", "list", "--json"]);
    let database = PathBuf::from(app.db_url.strip_prefix("sqlite://").expect("a file URL"));
    let wal = PathBuf::from(format!("{}-wal", database.display()));
    let Some(read_only) = ReadOnly::make(&[database.clone(), wal]) else {
        return;
    };

    // More refusals than the pool has connections: each one, old or new, refuses alike.
    for i in 0..6 {
        let reply = create_through_api(&app, &admin, &format!("refused-{i}")).await;
        assert_eq!(
            reply.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "a write to a read-only database: {reply:?}"
        );
        assert_eq!(
            reply.json()["error"],
            "temporarily_unavailable",
            "{reply:?}"
        );
    }
    assert_cli_refuses(
        &app,
        &["app", "create", "--name", "refused-cli"],
        &["read-only", "writable"],
    );
    app.assert_tokens_keep_coming(&holder, 5, "while the database is read-only")
        .await;
    assert_eq!(
        names(&app.cli_json(&["app", "list", "--json"])),
        names(&stored),
        "what is stored reads back while the file is read-only"
    );

    read_only.undo();
    let created = eventually("the admin API to write again", async || {
        let reply = create_through_api(&app, &admin, "after").await;
        if reply.status == StatusCode::CREATED {
            Ok(reply.json())
        } else {
            Err(format!("{reply:?}"))
        }
    })
    .await;
    let by_cli = app.cli_json(&["app", "create", "--name", "after-cli", "--json"]);
    for new in [&created, &by_cli] {
        app.wait_until_known(new).await;
        let reply = app.token_for(new, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    }
    let listed = app.cli_json(&["app", "list", "--json"]);
    let mut expected = names(&stored);
    expected.extend(["after", "after-cli"]);
    let mut listed = names(&listed);
    expected.sort_unstable();
    listed.sort_unstable();
    assert_eq!(
        listed, expected,
        "no refused write was stored, every later one was"
    );
    let integrity: String = rusqlite::Connection::open(&database)
        .expect("opening the database")
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .expect("PRAGMA integrity_check");
    assert_eq!(integrity, "ok");
}
