//! Many writers at once on one database: processes opening a new database together apply its
//! migrations exactly once, and write transactions wait for each other instead of failing (on
//! SQLite with "database is locked").

use crate::harness::*;
use reqwest::{Method, StatusCode};
use std::process::{Child, Stdio};

/// Starts `latchkey --database URL ARGS...` without waiting for it.
fn start_cli(db_url: &str, args: &[&str]) -> Child {
    latchkey_on(db_url)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting the latchkey binary")
}

#[test]
fn processes_creating_apps_at_once_on_a_new_database_all_succeed_and_migrate_it_once() {
    for round in 0..3 {
        let (_database, db_url) = database();
        let children: Vec<Child> = (0..6)
            .map(|i| start_cli(&db_url, &["app", "create", "--name", &format!("app-{i}")]))
            .collect();
        for child in children {
            let output = child.wait_with_output().expect("waiting for the CLI");
            assert!(
                output.status.success(),
                "round {round}: a concurrent `app create` on a new database failed: {}",
                describe(&output)
            );
        }
        let output = latchkey_on(&db_url)
            .args(["app", "list", "--json"])
            .output()
            .expect("running the latchkey binary");
        assert!(output.status.success(), "{}", describe(&output));
        let apps: serde_json::Value =
            serde_json::from_slice(&output.stdout).expect("app list --json prints JSON");
        assert_eq!(
            apps.as_array().map(Vec::len),
            Some(6),
            "round {round}: {apps}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_secret_rotations_through_the_api_all_succeed() {
    let app = spawn_app().await;
    let (_, admin) = app.admin_token().await;
    let target = app.seed_app(new_app("rotated")).await;
    let path = format!(
        "/admin/v1/tenants/default/apps/{}/rotate-secret",
        client_id(&target)
    );
    let mut rotations = tokio::task::JoinSet::new();
    for _ in 0..160 {
        let request = app
            .client
            .request(Method::POST, app.url(&path))
            .bearer_auth(&admin);
        rotations.spawn(async move {
            let reply = request.send().await.expect("sending a rotation");
            (reply.status(), reply.text().await.unwrap_or_default())
        });
    }
    let replies = rotations.join_all().await;
    let failed: Vec<&(StatusCode, String)> = replies
        .iter()
        .filter(|(status, _)| *status != StatusCode::OK)
        .collect();
    assert!(
        failed.is_empty(),
        "{} of 160 concurrent rotations failed, the first: {:?}",
        failed.len(),
        failed.first()
    );
}

#[test]
fn concurrent_secret_rotations_through_the_cli_all_succeed() {
    let (_database, db_url) = database();
    let created = latchkey_on(&db_url)
        .args(["app", "create", "--name", "rotated", "--json"])
        .output()
        .expect("running the latchkey binary");
    assert!(created.status.success(), "{}", describe(&created));
    let created: serde_json::Value =
        serde_json::from_slice(&created.stdout).expect("app create --json prints JSON");
    let id = client_id(&created).to_owned();
    // In waves, so that 80 processes are not all starting on two cores at once; each wave still
    // races for the write lock.
    let mut failures = Vec::new();
    for _wave in 0..4 {
        let children: Vec<Child> = (0..20)
            .map(|_| start_cli(&db_url, &["app", "rotate-secret", &id]))
            .collect();
        for child in children {
            let output = child.wait_with_output().expect("waiting for the CLI");
            if !output.status.success() {
                failures.push(describe(&output));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 80 parallel `app rotate-secret` failed, the first: {}",
        failures.len(),
        failures[0]
    );
}
