//! A failover to a standby that lagged: the node's database comes back as another server whose
//! change log is behind what the node has applied. The node notices, reloads in full, and serves
//! what the promoted server holds, while tokens keep flowing. The test builds the pair
//! (`pg_basebackup`, streaming replication) and moves the node's address, a proxy, from the
//! primary to the promoted standby, as a managed database's endpoint moves.

use crate::harness::*;

#[tokio::test]
async fn after_failover_to_a_lagging_standby_a_node_reloads_and_serves_what_it_holds() {
    if skip_unless_postgres("fails a PostgreSQL primary over to its standby") {
        return;
    }
    let primary = PgInstance::start();
    let proxy = Proxy::start(([127, 0, 0, 1], primary.port()).into());
    let proxied = format!("postgres://postgres@127.0.0.1:{}/latchkey", proxy.port());
    let mut cluster = Cluster::start(&primary.url("latchkey"), 0, &[]);
    cluster.add_node(&proxied, &["--refresh-ms", "100"]);
    let node = cluster.node(0);
    let kept = cluster.cli_json(&["app", "create", "--name", "kept", "--json"]);
    node.wait_until_known(&kept).await;
    let load = TokenLoad::start(&node, &kept);

    let standby = PgInstance::standby_of(&primary);
    let on_standby = standby.url("latchkey");
    eventually("the standby to replay the first app", async || {
        let apps = psql_value(&on_standby, "SELECT count(*) FROM apps");
        (apps == "1").then_some(()).ok_or(apps)
    })
    .await;
    // The standby falls behind: what the primary takes from now on never reaches it.
    standby.stop();
    let lost = cluster.cli_json(&["app", "create", "--name", "lost", "--json"]);
    node.wait_until_known(&lost).await;

    primary.stop();
    standby.start_again();
    standby.promote();
    proxy.redirect(([127, 0, 0, 1], standby.port()).into());

    node.wait_until_refused(
        &lost,
        "the node to drop what the promoted standby never had",
    )
    .await;
    assert_eq!(
        node.token_for(&kept, None).await.status,
        200,
        "what it had stays served"
    );
    let after = cluster.cli_json_on(&on_standby, &["app", "create", "--name", "after", "--json"]);
    node.wait_until_known(&after).await;
    assert!(
        cluster.log(0).contains("behind"),
        "the reload is logged with its reason:\n{}",
        cluster.log(0)
    );
    let tally = load.finish().await;
    assert!(tally.issued > 0, "tokens were requested");
    assert_eq!(
        tally.failed, 0,
        "tokens flowed through the failover: {tally:?}"
    );
}

/// The log comes back without the newest changes the node applied and with its numbers run
/// ahead (as a promoted standby's sequence does, which skips the values its primary had
/// reserved): a later change numbered above the node's cursor must not hide the gap.
#[tokio::test]
async fn a_change_log_that_lost_the_newest_changes_and_numbers_on_makes_a_node_reload() {
    if skip_unless_postgres("rewrites a PostgreSQL change log under a running node") {
        return;
    }
    let database = PgDatabase::create();
    let cluster = Cluster::start(&database.url(), 1, &["--refresh-ms", "100"]);
    let node = cluster.node(0);
    let kept = cluster.cli_json(&["app", "create", "--name", "kept", "--json"]);
    let lost = cluster.cli_json(&["app", "create", "--name", "lost", "--json"]);
    node.wait_until_known(&lost).await;
    // What the other server never had: the second app, and its change; its numbers ahead.
    psql_on(
        &database.url(),
        &format!(
            "ALTER TABLE apps DISABLE TRIGGER apps_changed; \
             ALTER TABLE app_secrets DISABLE TRIGGER app_secrets_changed; \
             DELETE FROM app_secrets WHERE client_id = '{id}'; \
             DELETE FROM apps WHERE client_id = '{id}'; \
             ALTER TABLE apps ENABLE TRIGGER apps_changed; \
             ALTER TABLE app_secrets ENABLE TRIGGER app_secrets_changed; \
             DELETE FROM changes WHERE entity_id = '{id}'; \
             SELECT setval('changes_seq_seq', (SELECT max(seq) FROM changes) + 32)",
            id = client_id(&lost)
        ),
    );
    let after = cluster.cli_json(&["app", "create", "--name", "after", "--json"]);
    node.wait_until_known(&after).await;
    node.wait_until_refused(&lost, "the node to drop what the log no longer holds")
        .await;
    assert_eq!(node.token_for(&kept, None).await.status, 200);
    assert!(
        cluster.log(0).contains("behind or apart"),
        "{}",
        cluster.log(0)
    );
}
