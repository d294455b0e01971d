//! A database whose disk fills up: every write is either stored or refused (503
//! `temporarily_unavailable`), never acknowledged and then lost, and writes succeed again by
//! themselves once there is space. The reproduction is the one that lost data: a 2 MB tmpfs
//! holding the database, filled with dd, apps created through the admin API with a large scope,
//! the filler removed, more apps created, then a restart. While the disk is full, tokens keep
//! being served and the CLI's refusal says what to do.

use crate::harness::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Scopes large enough that each app needs pages of its own.
fn large_scopes() -> Vec<String> {
    (0..24)
        .map(|i| format!("{}-{i}", "s".repeat(180)))
        .collect()
}

async fn create_through_api(app: &TestApp, admin: &str, name: &str) -> Reply {
    let body = json!({ "name": name, "scopes": large_scopes() });
    app.send(
        app.client
            .request(Method::POST, app.url("/admin/v1/tenants/default/apps"))
            .bearer_auth(admin)
            .json(&body),
    )
    .await
}

/// A refusal says why: the database is unavailable, try again.
fn assert_refused_for_now(reply: &Reply) {
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "a write the full disk refused: {reply:?}"
    );
    assert_eq!(
        reply.json()["error"],
        "temporarily_unavailable",
        "{reply:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_never_acknowledges_a_write_it_did_not_store_and_writes_resume_when_space_returns()
 {
    if skip_unless_sqlite("fills the disk under the SQLite file") {
        return;
    }
    let Some(mut disk) = Tmpfs::mount("2m") else {
        return;
    };
    let mut app = spawn_app_in(disk.folder(), Setup::default()).await;
    let (_, admin) = app.admin_token().await;
    let holder = app.seed_app(new_app("holder").scopes(&["read"])).await;
    let mut tokens = Vec::new();
    for _ in 0..6 {
        tokens.push(app.token_for(&holder, None).await.access_token());
    }

    disk.fill("filler");
    let mut stored: Vec<Value> = Vec::new();
    let mut refused = 0;
    // Bounded: the disk refuses within a few apps; 60 make sure a refusal is followed by more
    // writes on the same pool (the ones that used to be acknowledged and lost).
    for i in 0..60 {
        let reply = create_through_api(&app, &admin, &format!("full-{i}")).await;
        if reply.status == StatusCode::CREATED {
            stored.push(reply.json());
        } else {
            assert_refused_for_now(&reply);
            refused += 1;
        }
    }
    assert!(refused > 0, "the full disk refused no write");
    // The disk is still full: tokens keep coming from memory, and the CLI says what to do.
    app.assert_tokens_keep_coming(&holder, 3, "on a full disk")
        .await;
    assert_cli_refuses(
        &app,
        &["app", "create", "--name", "full-cli"],
        &["full", "space"],
    );
    let mut revoked = Vec::new();
    for token in &tokens[..3] {
        let reply = app
            .post_revoke(client_id(&holder), client_secret(&holder), token)
            .await;
        if reply.status == StatusCode::OK {
            revoked.push(token.clone());
        } else {
            assert_refused_for_now(&reply);
        }
    }

    std::fs::remove_file(disk.path("filler")).expect("removing the filler");
    for i in 0..5 {
        let reply = create_through_api(&app, &admin, &format!("after-{i}")).await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "a write once space returned: {reply:?}"
        );
        stored.push(reply.json());
    }
    for token in &tokens[3..] {
        let reply = app
            .post_revoke(client_id(&holder), client_secret(&holder), token)
            .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "a revocation once space returned: {reply:?}"
        );
        revoked.push(token.clone());
    }

    // A restart reads only what was committed.
    app.restart().await;
    let listed = app.cli_json(&["app", "list", "--json"]);
    let listed: Vec<&str> = listed
        .as_array()
        .expect("app list --json is an array")
        .iter()
        .map(client_id)
        .collect();
    for acknowledged in &stored {
        assert!(
            listed.contains(&client_id(acknowledged)),
            "app {} was acknowledged with 201 but is not stored",
            acknowledged["name"]
        );
        let reply = app.token_for(acknowledged, None).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "a token for {}: {reply:?}",
            acknowledged["name"]
        );
    }
    for token in &revoked {
        let answer = app.introspect(&holder, token).await;
        assert_eq!(
            answer["active"], false,
            "a revocation answered 200 did not survive the restart"
        );
    }
}
