//! `latchkey app rotate-secret ID --grace DURATION`: the old secret keeps working beside the new
//! one until the grace period ends, by the server's clock.

use crate::helpers::*;
use latchkey_server::ManualClock;
use reqwest::StatusCode;
use std::sync::Arc;

#[tokio::test]
async fn the_old_secret_stops_working_when_the_grace_period_ends() {
    let clock = Arc::new(ManualClock::new(unix_now()));
    let app = spawn_app_with(Setup::with_clock(Arc::clone(&clock))).await;
    let owner = app.create_app(&["--name", "orders"]).await;
    let (id, old) = (client_id(&owner), client_secret(&owner));
    let rotated = app.cli_json(&["app", "rotate-secret", id, "--grace", "1h", "--json"]);
    let new = rotated["client_secret"].as_str().expect("a new secret");
    let form = |secret| {
        [
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ]
    };
    app.token_until("the new secret to work", &form(new), |reply| {
        reply.status == StatusCode::OK
    })
    .await;
    assert_eq!(app.post_token(&form(old)).await.status, StatusCode::OK);

    // The CLI stamped the grace end by the wall clock, which the test clock started from; the
    // test takes far less than a minute, so these margins hold on a slow machine too.
    clock.advance(3540);
    assert_eq!(app.post_token(&form(old)).await.status, StatusCode::OK);
    clock.advance(120);
    app.post_token(&form(old))
        .await
        .assert_error(401, "invalid_client");
    assert_eq!(app.post_token(&form(new)).await.status, StatusCode::OK);
}
