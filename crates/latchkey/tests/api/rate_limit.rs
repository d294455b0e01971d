//! Per-app token quotas (`--rate-limit N/PERIOD`): set, shown and removed through the CLI and
//! the admin API; past the limit an app's token requests get 429 with Retry-After while other
//! apps are untouched; a reused token costs nothing; monitor mode refuses nothing and logs once
//! per period; and a change to the app does not refill its quota.

use crate::harness::*;
use reqwest::Method;
use serde_json::{Value, json};

fn assert_limited(reply: &Reply) {
    reply.assert_error(429, "too_many_requests");
    let retry_after: u32 = reply
        .header("retry-after")
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("a Retry-After in seconds: {reply:?}"));
    // 3/min: one token every 20 s.
    assert!((1..=20).contains(&retry_after), "{reply:?}");
}

#[tokio::test]
async fn the_cli_sets_shows_and_removes_a_rate_limit_and_its_monitor_mode() {
    let app = spawn_app().await;
    let created = app.cli_json(&[
        "app",
        "create",
        "--name",
        "busy",
        "--rate-limit",
        "600/min",
        "--json",
    ]);
    assert_eq!(
        (&created["rate_limit"], &created["rate_limit_monitor"]),
        (&json!("600/min"), &json!(false))
    );
    let id = client_id(&created).to_owned();
    let monitored = app.cli_json(&["app", "update", &id, "--rate-limit-monitor", "--json"]);
    assert_eq!(monitored["rate_limit"], "600/min");
    assert_eq!(monitored["rate_limit_monitor"], true);
    let shown = app.cli_ok(&["app", "show", &id]);
    assert!(
        shown.contains("600/min per server, monitor only"),
        "{shown}"
    );
    let removed = app.cli_json(&[
        "app",
        "update",
        &id,
        "--no-rate-limit",
        "--rate-limit-enforce",
        "--json",
    ]);
    assert_eq!(
        (&removed["rate_limit"], &removed["rate_limit_monitor"]),
        (&Value::Null, &json!(false))
    );
    assert!(
        app.cli_ok(&["app", "show", &id])
            .contains("rate_limit      off")
    );
}

#[tokio::test]
async fn a_rate_limit_not_of_the_form_n_per_period_is_refused_by_the_cli() {
    let app = spawn_app().await;
    for bad in ["0/min", "10/week", "abc"] {
        assert_cli_fails(
            &app,
            &["app", "create", "--name", "x", "--rate-limit", bad],
            &["N/PERIOD", "600/min"],
        );
    }
    assert_cli_fails(
        &app,
        &[
            "app",
            "update",
            "x",
            "--rate-limit",
            "5/min",
            "--no-rate-limit",
        ],
        &["--no-rate-limit"],
    );
}

#[tokio::test]
async fn the_admin_api_sets_shows_and_removes_a_rate_limit() {
    let admins = admins().await;
    let apps = "/admin/v1/tenants/default/apps";
    let created = ok_json(
        &admins
            .as_root(
                Method::POST,
                apps,
                Some(&json!({"name": "busy", "rate_limit": "10/s", "rate_limit_monitor": true})),
            )
            .await,
        201,
    );
    assert_eq!(created["rate_limit"], "10/s");
    assert_eq!(created["rate_limit_monitor"], true);
    let path = format!("{apps}/{}", client_id(&created));
    let shown = ok_json(&admins.as_root(Method::GET, &path, None).await, 200);
    assert_eq!(
        (&shown["rate_limit"], &shown["rate_limit_monitor"]),
        (&json!("10/s"), &json!(true))
    );
    let patched = ok_json(
        &admins
            .as_root(
                Method::PATCH,
                &path,
                Some(&json!({"rate_limit": "2/h", "rate_limit_monitor": false})),
            )
            .await,
        200,
    );
    assert_eq!(
        (&patched["rate_limit"], &patched["rate_limit_monitor"]),
        (&json!("2/h"), &json!(false))
    );
    let removed = ok_json(
        &admins
            .as_root(Method::PATCH, &path, Some(&json!({"rate_limit": null})))
            .await,
        200,
    );
    assert_eq!(removed["rate_limit"], Value::Null);
    for bad in ["0/min", "10/week", "abc"] {
        let reply = admins
            .as_root(Method::PATCH, &path, Some(&json!({ "rate_limit": bad })))
            .await;
        assert!(
            matches!(reply.status.as_u16(), 400 | 422),
            "{bad}: {reply:?}"
        );
        assert!(reply.json().to_string().contains("N/PERIOD"), "{reply:?}");
    }
}

#[tokio::test]
async fn past_its_limit_an_app_gets_429_with_retry_after_and_another_app_does_not() {
    let app = spawn_app().await;
    // Seeding waits for the app's first token: one of its three.
    let limited = app.seed_app(new_app("limited").rate_limit("3/min")).await;
    let other = app.seed_app(new_app("other").rate_limit("3/min")).await;
    for _ in 0..2 {
        app.token_for(&limited, None).await.access_token();
    }
    assert_limited(&app.token_for(&limited, None).await);
    assert_limited(&app.token_for(&limited, None).await);
    for _ in 0..2 {
        app.token_for(&other, None).await.access_token();
    }
}

#[tokio::test]
async fn a_reused_token_does_not_count_against_the_quota() {
    let app = spawn_app().await;
    let reusing = app
        .seed_app(new_app("reusing").rate_limit("3/min").token_reuse(80))
        .await;
    let first = app.token_for(&reusing, None).await.access_token();
    for _ in 0..10 {
        assert_eq!(app.token_for(&reusing, None).await.access_token(), first);
    }
    let plain = app.seed_app(new_app("plain").rate_limit("3/min")).await;
    for _ in 0..2 {
        app.token_for(&plain, None).await.access_token();
    }
    assert_limited(&app.token_for(&plain, None).await);
}

#[tokio::test]
async fn monitor_mode_refuses_nothing_and_logs_once_per_period_without_a_secret() {
    let (dir, db_url, watched) = seeded_database(async |seed| {
        seed.app(new_app("watched").rate_limit("1/h").rate_limit_monitor())
            .await
    })
    .await;
    let served = Served::start_logging(dir, db_url, "info");
    let http = served.http();
    let mut tokens = Vec::new();
    for _ in 0..5 {
        tokens.push(http.token_for(&watched, None).await.access_token());
    }
    const LINE: &str = "over its token rate limit";
    let log = eventually("the monitor line in the log", async || {
        let log = served.log();
        if log.contains(LINE) {
            Ok(log)
        } else {
            Err(log)
        }
    })
    .await;
    let lines: Vec<&str> = log.lines().filter(|line| line.contains(LINE)).collect();
    assert_eq!(lines.len(), 1, "{log}");
    assert!(lines[0].contains(client_id(&watched)), "{log}");
    assert!(lines[0].contains("rate_limit=1/h"), "{log}");
    assert!(!log.contains(client_secret(&watched)), "{log}");
    for token in &tokens {
        assert!(!log.contains(token.as_str()), "a token reached the log");
    }
}

#[tokio::test]
async fn a_change_to_the_app_does_not_refill_its_quota() {
    let app = spawn_app().await;
    let limited = app
        .seed_app(new_app("limited").scopes(&["a"]).rate_limit("2/min"))
        .await;
    // Seeding took the first of its two tokens.
    app.token_for(&limited, None).await.access_token();
    let id = client_id(&limited).to_owned();
    app.cli_ok(&["app", "update", &id, "--scope", "a", "--scope", "b"]);
    // Scope b is refused until the server has the change; then the quota is still spent.
    let reply = eventually("the new scope to reach the server", async || {
        let reply = app.token_for(&limited, Some("b")).await;
        if reply.status.as_u16() == 400 {
            Err(format!("{reply:?}"))
        } else {
            Ok(reply)
        }
    })
    .await;
    reply.assert_error(429, "too_many_requests");
}
