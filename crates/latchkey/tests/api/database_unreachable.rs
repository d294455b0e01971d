//! A node whose PostgreSQL stops answering, first refusing connections and then black-holed (the
//! network holds every packet, so connections hang), keeps issuing tokens from memory without a
//! single failure, answers what needs a write with 503 quickly instead of hanging, and, once the
//! database is back, catches up by itself. The database is the test's own server (`PgInstance`)
//! behind a proxy the test controls; a second node reaches it directly.

use crate::harness::*;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// How long each outage phase lasts.
const REFUSING_FOR: Duration = Duration::from_secs(10);
const BLACK_HOLE_FOR: Duration = Duration::from_secs(20);

#[tokio::test]
async fn tokens_flow_while_the_database_refuses_then_hangs_and_changes_arrive_once_it_returns() {
    if skip_unless_postgres("puts a proxy between nodes and a PostgreSQL server of its own") {
        return;
    }
    let postgres = PgInstance::start();
    let proxy = Proxy::start(([127, 0, 0, 1], postgres.port()).into());
    let direct = postgres.url("latchkey");
    let proxied = format!("postgres://postgres@127.0.0.1:{}/latchkey", proxy.port());
    // Node 0 reaches the database through the proxy, node 1 directly.
    let mut cluster = Cluster::start(&direct, 0, &[]);
    cluster.add_node(&proxied, &["--refresh-ms", "100"]);
    cluster.add_node(&direct, &["--refresh-ms", "100"]);
    let (node, other) = (cluster.node(0), cluster.node(1));

    let root = cluster.admin_token(&node).await;
    let svc = cluster.cli_json(&["app", "create", "--name", "svc", "--json"]);
    node.wait_until_known(&svc).await;
    let load = TokenLoad::start(&node, &svc);

    for (link, lasting) in [
        (Link::Refusing, REFUSING_FOR),
        (Link::BlackHole, BLACK_HOLE_FOR),
    ] {
        proxy.set(link);
        let started = Instant::now();
        eventually(
            &format!("/readyz to report degraded ({link:?})"),
            async || {
                let reply = node.get("/readyz").await;
                let body = reply.json();
                (reply.status == 200 && body["status"] == "degraded")
                    .then_some(())
                    .ok_or(format!("{reply:?}"))
            },
        )
        .await;
        let (status, body, took) = admin_write(&node, &root).await;
        eprintln!("{link:?}: an admin write answered {status} in {took:?}");
        assert_eq!(status, 503, "{link:?}: {body}\n{}", cluster.log(0));
        assert_eq!(body["error"], "temporarily_unavailable", "{link:?}: {body}");
        assert!(
            took < Duration::from_secs(10),
            "{link:?}: it hung for {took:?}"
        );
        let token = node.token_for(&svc, None).await.access_token();
        let revoked = node.revoke(&svc, &token).await;
        assert_eq!(
            revoked.status, 503,
            "{link:?}: a revocation not stored is not acknowledged"
        );
        assert_eq!(revoked.json()["error"], "temporarily_unavailable");
        assert_eq!(node.jwks().await["keys"].as_array().map(Vec::len), Some(1));
        tokio::time::sleep(lasting.saturating_sub(started.elapsed())).await;
    }

    proxy.set(Link::Up);
    eventually("/readyz to report ready again", async || {
        let reply = node.get("/readyz").await;
        (reply.status == 200 && reply.json() == json!({"status": "ready"}))
            .then_some(())
            .ok_or(format!("{reply:?}"))
    })
    .await;
    // A change made through the other node reaches this one.
    let later = create_app_through(&other, &root, "later").await;
    node.wait_until_known(&later).await;
    let (status, body, _) = admin_write(&node, &root).await;
    assert_eq!(status, 201, "writes work again: {body}");

    let tally = load.finish().await;
    assert!(tally.issued > 0, "tokens were requested");
    assert_eq!(
        tally.failed,
        0,
        "no token request failed during the outage: {tally:?}\n{}",
        cluster.log(0)
    );
}

/// Creates an app through `node`'s admin API: its status, body and how long it took.
async fn admin_write(node: &Http, root: &str) -> (u16, Value, Duration) {
    let started = Instant::now();
    let reply = node
        .admin_call(
            Method::POST,
            "/admin/v1/tenants/default/apps",
            Some(root),
            Some(&json!({"name": "during"})),
        )
        .await;
    (reply.status.as_u16(), reply.json(), started.elapsed())
}
