//! `latchkey app rotate-secret ID --grace DURATION`: the old secret keeps working beside the new
//! one until the grace period ends, by the server's clock. (Without `--grace` the old secret
//! stops at once: `live_changes::rotating_a_secret_refuses_the_old_one_and_accepts_the_new_one`.)

use crate::harness::*;
use latchkey_server::ManualClock;
use reqwest::StatusCode;
use std::sync::Arc;

#[tokio::test]
async fn the_old_secret_works_beside_the_new_one_for_an_hour_then_stops() {
    let clock = Arc::new(ManualClock::new(unix_now()));
    let app = spawn_app_with(Setup::with_clock(Arc::clone(&clock))).await;
    let owner = app.seed_app(new_app("orders")).await;
    let (id, old) = (client_id(&owner), client_secret(&owner));

    let started = unix_now();
    let rotated = app.cli_json(&["app", "rotate-secret", id, "--grace", "1h", "--json"]);
    let finished = unix_now();
    let new = client_secret(&rotated);
    assert_ne!(new, old);

    // The CLI stamps the rotation by the wall clock, which the test clock started from and so
    // trails: read when the grace ends, check it is an hour after the rotation, and move the
    // test clock relative to the rotation from there.
    let record = app.stored_app(id).await;
    let ends: Vec<i64> = record
        .secrets
        .iter()
        .filter_map(|secret| secret.expires_at)
        .collect();
    assert_eq!(record.secrets.len(), 2, "old and new secret");
    assert_eq!(ends.len(), 1, "only the old secret ends: {ends:?}");
    let rotated_at = ends[0] - 3600;
    assert!(
        (started..=finished).contains(&rotated_at),
        "the grace ends an hour after the rotation ({started}..={finished}), not at {}",
        ends[0]
    );

    let form = |secret| {
        [
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ]
    };
    let grant = [("grant_type", "client_credentials")];
    app.token_until("the new secret to work", &form(new), |reply| {
        reply.status == StatusCode::OK
    })
    .await;
    let reply = app.post_token(&form(old)).await;
    assert_eq!(reply.status, StatusCode::OK, "old secret, post: {reply:?}");
    let reply = app.post_token_basic(id, old, &grant).await;
    assert_eq!(reply.status, StatusCode::OK, "old secret, basic: {reply:?}");

    advance_to(&clock, rotated_at + 3599);
    let reply = app.post_token(&form(old)).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "a second before the end: {reply:?}"
    );

    advance_to(&clock, rotated_at + 3601);
    app.post_token(&form(old))
        .await
        .assert_error(401, "invalid_client");
    let basic = app.post_token_basic(id, old, &grant).await;
    basic.assert_error(401, "invalid_client");
    assert_eq!(basic.header("www-authenticate"), Some(BASIC_CHALLENGE));
    assert_eq!(app.post_token(&form(new)).await.status, StatusCode::OK);
    let reply = app.post_token_basic(id, new, &grant).await;
    assert_eq!(reply.status, StatusCode::OK, "new secret, basic: {reply:?}");
}

#[tokio::test]
async fn app_show_and_rotate_secret_say_until_when_the_previous_secret_works() {
    let app = spawn_app().await;
    let owner = app.seed_app(new_app("orders")).await;
    let id = client_id(&owner);
    assert_eq!(
        app.cli_json(&["app", "show", id, "--json"])["previous_secret_expires_at"],
        serde_json::Value::Null,
        "no previous secret before a rotation"
    );

    let rotated = app.cli_json(&["app", "rotate-secret", id, "--grace", "1h", "--json"]);

    let until = rotated["previous_secret_expires_at"].clone();
    let record = app.stored_app(id).await;
    let stored = record.secrets.iter().find_map(|secret| secret.expires_at);
    assert_eq!(Some(unix_seconds(&until)), stored, "{rotated}");
    let shown = app.cli_json(&["app", "show", id, "--json"]);
    assert_eq!(shown["previous_secret_expires_at"], until);
    let text = app.cli_ok(&["app", "show", id]);
    let until = until.as_str().expect("an RFC 3339 time");
    assert!(
        text.lines().any(|line| line.starts_with("previous_secret")
            && line.ends_with(&format!("accepted until {until}"))),
        "{text}"
    );

    let at_once = app.cli_json(&["app", "rotate-secret", id, "--json"]);
    assert_eq!(
        at_once["previous_secret_expires_at"],
        serde_json::Value::Null
    );
    assert_eq!(
        app.cli_json(&["app", "show", id, "--json"])["previous_secret_expires_at"],
        serde_json::Value::Null
    );
}
