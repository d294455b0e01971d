//! Failed client authentications are throttled per source address and per (address,
//! client_id), at every endpoint that authenticates clients: past a limit the answer is 429
//! `too_many_requests` with `Retry-After`, before the secret is checked (the right secret is
//! refused too), without blocking other client ids of a shared address or the same app
//! elsewhere; and a forged `X-Forwarded-For` changes nothing unless a trusted proxy sent it.
//! Separate source addresses are real: the client binds 127.0.0.2, 127.0.0.3, ... (all
//! loopback on Linux) and connects to the server on 127.0.0.1.

use crate::harness::*;
use serde_json::Value;
use std::net::IpAddr;

const WRONG: &str = "not-the-secret-5c1e";

fn source(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

async fn wrong_secret(http: &Http, id: &str) -> Reply {
    http.post_token(&[
        ("grant_type", "client_credentials"),
        ("client_id", id),
        ("client_secret", WRONG),
    ])
    .await
}

async fn right_secret(http: &Http, app: &Value) -> Reply {
    http.post_token(&[
        ("grant_type", "client_credentials"),
        ("client_id", client_id(app)),
        ("client_secret", client_secret(app)),
    ])
    .await
}

/// A 429 as the issue of this limit answers it: `too_many_requests`, a description, and a
/// `Retry-After` of whole seconds within the window.
fn assert_throttled(reply: &Reply) {
    assert_eq!(reply.status, 429, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["error"], "too_many_requests", "{body}");
    assert!(body["error_description"].is_string(), "{body}");
    let retry_after: u64 = reply
        .header("retry-after")
        .expect("a Retry-After header")
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
}

fn limits(per_client: u32, per_address: u32) -> Setup {
    Setup {
        failed_logins: FailedLoginLimits {
            per_client,
            per_address,
        },
        ..Setup::default()
    }
}

#[tokio::test]
async fn ten_wrong_secrets_a_minute_then_even_the_right_one_gets_429_from_that_address() {
    let (app, billing) = spawn_seeded(Setup::default().with_login_throttling(), async |seed| {
        seed.app(new_app("billing")).await
    })
    .await;
    let attacker = app.connecting_from(source(2));
    for attempt in 1..=10 {
        let reply = wrong_secret(&attacker, client_id(&billing)).await;
        assert_eq!(reply.status, 401, "attempt {attempt}: {}", reply.body);
    }
    assert_throttled(&wrong_secret(&attacker, client_id(&billing)).await);
    // The right secret is refused as well: the limit answers before any secret is compared.
    assert_throttled(&right_secret(&attacker, &billing).await);
    // The same app from another address gets its token.
    right_secret(&app.connecting_from(source(3)), &billing)
        .await
        .access_token();
}

#[tokio::test]
async fn a_throttled_client_id_leaves_its_address_to_others_until_the_address_limit() {
    let (app, (billing, reports)) = spawn_seeded(limits(3, 8), async |seed| {
        (
            seed.app(new_app("billing")).await,
            seed.app(new_app("reports")).await,
        )
    })
    .await;
    let nat = app.connecting_from(source(4));
    for _ in 0..3 {
        assert_eq!(wrong_secret(&nat, client_id(&billing)).await.status, 401);
    }
    assert_throttled(&wrong_secret(&nat, client_id(&billing)).await);
    // Another service behind the same address is served.
    right_secret(&nat, &reports).await.access_token();
    // Until the address as a whole has failed 8 times.
    for guess in 0..5 {
        let reply = wrong_secret(&nat, &format!("guess-{guess}")).await;
        assert_eq!(reply.status, 401, "{}", reply.body);
    }
    assert_throttled(&right_secret(&nat, &reports).await);
    right_secret(&app.connecting_from(source(5)), &reports)
        .await
        .access_token();
}

#[tokio::test]
async fn successful_requests_are_not_counted() {
    let (app, billing) = spawn_seeded(limits(3, 100), async |seed| {
        seed.app(new_app("billing")).await
    })
    .await;
    let client = app.connecting_from(source(6));
    for _ in 0..20 {
        right_secret(&client, &billing).await.access_token();
    }
    for _ in 0..2 {
        assert_eq!(wrong_secret(&client, client_id(&billing)).await.status, 401);
    }
    for _ in 0..20 {
        right_secret(&client, &billing).await.access_token();
    }
    // Two failures, not forty-two requests: one more failure is still a 401.
    assert_eq!(wrong_secret(&client, client_id(&billing)).await.status, 401);
}

#[tokio::test]
async fn introspection_and_revocation_share_the_limit_with_the_token_endpoint() {
    let (app, (billing, api)) = spawn_seeded(limits(4, 100), async |seed| {
        let billing = seed.app(new_app("billing")).await;
        let api = seed.app(new_app("api").introspect()).await;
        (billing, api)
    })
    .await;
    let token = app.token_for(&billing, None).await.access_token();
    let attacker = app.connecting_from(source(7));
    let id = client_id(&api);
    let failures = [
        attacker.post_introspect(id, WRONG, &token).await,
        attacker.post_introspect(id, WRONG, &token).await,
        attacker.post_revoke(id, WRONG, &token).await,
        wrong_secret(&attacker, id).await,
    ];
    for reply in &failures {
        assert_eq!(reply.status, 401, "{}", reply.body);
    }
    assert_throttled(
        &attacker
            .post_introspect(client_id(&api), client_secret(&api), &token)
            .await,
    );
    assert_throttled(
        &attacker
            .post_revoke(client_id(&api), client_secret(&api), &token)
            .await,
    );
    // From elsewhere, the resource server still introspects.
    let answer = app.introspect(&api, &token).await;
    assert_eq!(answer["active"], true, "{answer}");
}

#[tokio::test]
async fn a_forged_x_forwarded_for_changes_nothing_without_a_trusted_proxy() {
    // A trusted network that is not where the attacker connects from.
    let setup = Setup {
        trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
        ..limits(5, 100)
    };
    let (app, billing) = spawn_seeded(setup, async |seed| seed.app(new_app("billing")).await).await;
    let attacker = app.connecting_from(source(8));
    let forged = |n: u32| {
        attacker
            .request(reqwest::Method::POST, "/oauth2/token")
            .header("x-forwarded-for", format!("198.51.100.{n}"))
            .header("forwarded", format!("for=203.0.113.{n}"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client_id(&billing)),
                ("client_secret", WRONG),
            ])
    };
    for n in 0..5 {
        assert_eq!(attacker.send(forged(n)).await.status, 401);
    }
    assert_throttled(&attacker.send(forged(99)).await);
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_address_it_forwarded_is_counted() {
    let setup = Setup {
        trusted_proxies: vec!["127.0.0.9/32".parse().unwrap()],
        ..limits(3, 100)
    };
    let (app, billing) = spawn_seeded(setup, async |seed| seed.app(new_app("billing")).await).await;
    let proxy = app.connecting_from(source(9));
    // What a proxy sends on: whatever the client wrote, then the address it saw.
    let through_proxy = |client_wrote: &str, seen: &str, secret: &str| {
        proxy
            .request(reqwest::Method::POST, "/oauth2/token")
            .header("x-forwarded-for", format!("{client_wrote}, {seen}"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client_id(&billing)),
                ("client_secret", secret),
            ])
    };
    for n in 0..3 {
        let forged = format!("198.51.100.{n}");
        let reply = proxy
            .send(through_proxy(&forged, "203.0.113.5", WRONG))
            .await;
        assert_eq!(reply.status, 401, "{}", reply.body);
    }
    // Rotating the part the client controls does not buy it a new bucket.
    assert_throttled(
        &proxy
            .send(through_proxy("198.51.100.77", "203.0.113.5", WRONG))
            .await,
    );
    // Another client behind the same proxy is served.
    proxy
        .send(through_proxy(
            "198.51.100.77",
            "203.0.113.6",
            client_secret(&billing),
        ))
        .await
        .access_token();
}

#[tokio::test]
async fn a_throttled_source_is_logged_once_a_window_with_its_address_and_never_the_secret() {
    let (dir, db_url, billing) =
        seeded_database(async |seed| seed.app(new_app("billing")).await).await;
    let mut command = latchkey_command();
    command.env("LATCHKEY_LOG", "info");
    let log = dir.path().join("serve.log");
    let mut args = SERVE_ARGS.to_vec();
    args.extend(["--auth-failures-per-client", "2"]);
    let (served, _) = Launched::with(command, &db_url, log, &args).ready(Some(dir));
    let http = served.http();
    for _ in 0..2 {
        assert_eq!(wrong_secret(&http, client_id(&billing)).await.status, 401);
    }
    for _ in 0..5 {
        assert_throttled(&wrong_secret(&http, client_id(&billing)).await);
    }
    let log = served.log();
    let lines: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("throttling failed client authentications"))
        .collect();
    assert_eq!(lines.len(), 1, "one line per window:\n{log}");
    assert!(lines[0].contains("127.0.0.1"), "{}", lines[0]);
    assert!(lines[0].contains(client_id(&billing)), "{}", lines[0]);
    assert!(
        !log.contains(WRONG),
        "a presented secret was logged:\n{log}"
    );
}
