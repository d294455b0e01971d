//! Many nodes, one truth: several servers on one PostgreSQL database, a change made through any
//! node's admin API or by the CLI in force on every other node, and the periodic maintenance done
//! once per interval whichever node does it. The nodes poll the change log only every minute
//! here (`--refresh-ms 60000`), far past the tests' patience: what reaches them within it came
//! through the store's change notices.

use crate::harness::*;
use latchkey_keys::lifecycle::RotationPolicy;
use reqwest::Method;
use serde_json::json;

/// The nodes' arguments after `serve --listen ... --issuer ...`.
const NOTICES_ONLY: [&str; 2] = ["--refresh-ms", "60000"];

#[tokio::test]
async fn a_change_through_any_node_or_the_cli_is_in_force_on_every_node() {
    if skip_unless_postgres("several nodes share one PostgreSQL database") {
        return;
    }
    let database = PgDatabase::create();
    let cluster = Cluster::start(&database.url(), 3, &NOTICES_ONLY);
    let [a, b, c] = [cluster.node(0), cluster.node(1), cluster.node(2)];
    let every = [&a, &b, &c];

    // Made by the CLI while the nodes run.
    let root = cluster.admin_token(&a).await;
    let resource = cluster.cli_json(&["app", "create", "--name", "rs", "--introspect", "--json"]);
    for node in every {
        node.wait_until_known(&resource).await;
    }

    // Created on B: served by A and C.
    let svc = create_app_through(&b, &root, "svc").await;
    let svc_path = format!("/admin/v1/tenants/default/apps/{}", client_id(&svc));
    a.wait_until_known(&svc).await;
    c.wait_until_known(&svc).await;

    // A token revoked on A introspects inactive on B and C.
    let token = c.token_for(&svc, None).await.access_token();
    assert_eq!(a.revoke(&svc, &token).await.status, 200);
    b.wait_for_active(&resource, &token, false).await;
    c.wait_for_active(&resource, &token, false).await;

    // Every token of the app revoked on B: inactive on A.
    let token = a.token_for(&svc, None).await.access_token();
    b.admin_ok(
        Method::POST,
        "/admin/v1/tenants/default/revocations",
        &root,
        Some(&json!({"client_id": client_id(&svc)})),
        200,
    )
    .await;
    a.wait_for_active(&resource, &token, false).await;

    // Disabled on C: refused on A and B; enabled by the CLI: served again everywhere.
    c.admin_ok(
        Method::POST,
        &format!("{svc_path}/disable"),
        &root,
        None,
        200,
    )
    .await;
    a.wait_until_refused(&svc, "the disabled app to be refused on A")
        .await;
    b.wait_until_refused(&svc, "the disabled app to be refused on B")
        .await;
    cluster.cli_ok(&["app", "enable", client_id(&svc)]);
    for node in every {
        node.wait_until_known(&svc).await;
    }

    // Changed on A (a scope granted): B issues it.
    a.admin_ok(
        Method::PATCH,
        &svc_path,
        &root,
        Some(&json!({"scopes": ["orders:read"]})),
        200,
    )
    .await;
    b.token_until(
        "the new scope to be granted on B",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", client_id(&svc)),
            ("client_secret", client_secret(&svc)),
            ("scope", "orders:read"),
        ],
        |reply| reply.status == 200,
    )
    .await;

    // Secret rotated on A without grace: the old one is refused on C, the new one accepted.
    let rotated = a
        .admin_ok(
            Method::POST,
            &format!("{svc_path}/rotate-secret"),
            &root,
            None,
            200,
        )
        .await;
    c.wait_until_refused(&svc, "the replaced secret to be refused on C")
        .await;
    let renewed = json!({"client_id": client_id(&svc), "client_secret": rotated["client_secret"]});
    assert_eq!(c.token_for(&renewed, None).await.status, 200);

    // Key rotated on B: every node publishes the same keys and signs with the new one.
    let key = b
        .admin_ok(
            Method::POST,
            "/admin/v1/tenants/default/keys/rotate",
            &root,
            None,
            200,
        )
        .await;
    let kid = key["kid"].as_str().expect("a kid").to_owned();
    for node in every {
        node.wait_for_published(&kid, true).await;
    }
    let published: Vec<_> = [
        a.jwks_kids().await,
        b.jwks_kids().await,
        c.jwks_kids().await,
    ]
    .into_iter()
    .map(|kids| {
        kid_set(&kids)
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    })
    .collect();
    assert!(
        published.windows(2).all(|pair| pair[0] == pair[1]),
        "{published:?}"
    );
    eventually("C to sign with the rotated key", async || {
        let token = c.token_for(&renewed, None).await.access_token();
        (jwt_kid(&token) == kid)
            .then_some(())
            .ok_or(jwt_kid(&token))
    })
    .await;

    // A tenant created on C answers on its domain on A, and changed by the CLI, on B.
    c.admin_ok(
        Method::POST,
        "/admin/v1/tenants",
        &root,
        Some(&json!({"name": "initech", "domains": ["initech.test"]})),
        201,
    )
    .await;
    a.at("initech.test")
        .wait_for_issuer("https://initech.test")
        .await;
    cluster.cli_ok(&[
        "tenant",
        "update",
        "initech",
        "--issuer",
        "https://id.initech.test",
    ]);
    b.at("initech.test")
        .wait_for_issuer("https://id.initech.test")
        .await;
}

/// Three nodes follow one key life cycle, shortened to a rotation every few seconds: whichever
/// node holds the maintenance lease at a step takes it, so each interval adds exactly one key
/// (never two next keys from nodes stepping at once), and the nodes publish the same keys.
#[tokio::test]
async fn three_nodes_rotate_keys_once_per_interval_and_publish_the_same_keys() {
    if skip_unless_postgres("several nodes share one PostgreSQL database") {
        return;
    }
    const INTERVAL: i64 = 4;
    const PUBLISH_AHEAD: i64 = 2;
    let database = PgDatabase::create();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let master_key_file = dir.path().join("master.key");
    std::fs::write(
        &master_key_file,
        cli_ok_with(&[], &["master-key", "generate"]),
    )
    .expect("writing the master key");
    let setup = Setup {
        key_rotation: RotationPolicy {
            interval: Some(INTERVAL),
            publish_ahead: PUBLISH_AHEAD,
            clock_skew: 1,
            removal_delay: 3600,
        },
        maintenance_interval: std::time::Duration::from_millis(50),
        first_key: None,
        ..Setup::default()
    };
    let mut nodes = Vec::new();
    for _ in 0..3 {
        nodes.push(Node::start(&database.url(), &master_key_file, &setup).await);
    }
    let store = latchkey_store::open(&database.url())
        .await
        .expect("opening the database");
    let keys = async || store.all_signing_keys().await.expect("listing the keys");
    // Three rotations, whatever the machine's speed.
    let created = eventually_within(
        std::time::Duration::from_secs(60),
        "three rotations",
        async || {
            let keys = keys().await;
            if keys.len() >= 4 {
                Ok(keys)
            } else {
                Err(format!("{} keys", keys.len()))
            }
        },
    )
    .await;
    let mut created_at: Vec<i64> = created.iter().map(|key| key.created_at).collect();
    created_at.sort_unstable();
    // A key is made `PUBLISH_AHEAD` before the active one is due, and the active one is due an
    // interval after it started signing: so the second key comes `INTERVAL - PUBLISH_AHEAD`
    // after the first, and each later one an interval after the one before (less a second of
    // rounding). Two keys closer than that were made twice for one interval.
    let gaps: Vec<i64> = created_at
        .windows(2)
        .map(|pair| pair[1] - pair[0])
        .collect();
    assert!(
        gaps[0] >= INTERVAL - PUBLISH_AHEAD - 1 && gaps[1..].iter().all(|gap| *gap >= INTERVAL - 1),
        "keys created at {created_at:?}"
    );
    let next = created
        .iter()
        .filter(|key| key.status == latchkey_store::KeyStatus::Next)
        .count();
    assert!(next <= 1, "at most one next key: {created:?}");
    eventually("every node to publish the same keys", async || {
        let mut sets = Vec::new();
        for node in &nodes {
            sets.push(
                kid_set(&node.http().jwks_kids().await)
                    .into_iter()
                    .map(str::to_owned)
                    .collect::<Vec<_>>(),
            );
        }
        sets.windows(2)
            .all(|pair| pair[0] == pair[1])
            .then_some(())
            .ok_or(format!("{sets:?}"))
    })
    .await;
    for node in nodes {
        node.stop().await.expect("a graceful stop");
    }
}
