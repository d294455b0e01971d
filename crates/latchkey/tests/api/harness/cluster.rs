//! Several `latchkey serve` processes on one PostgreSQL database, as a deployment behind a load
//! balancer runs them, and the CLI on the same database: for the tests that make a change
//! through one node and watch for it on the others.

use super::{Http, Launched, SERVE_ARGS, Served, cli_ok_with, latchkey_command};
use serde_json::Value;
use tempfile::TempDir;

/// Nodes on one database, with the master key they all seal with.
pub(crate) struct Cluster {
    pub(crate) db_url: String,
    master_key: String,
    nodes: Vec<Served>,
    dir: TempDir,
}

impl Cluster {
    /// `count` nodes on `db_url`, each `serve`d with `SERVE_ARGS` but its `--refresh-ms`, and
    /// then `args`.
    pub(crate) fn start(db_url: &str, count: usize, args: &[&str]) -> Cluster {
        let master_key = cli_ok_with(&[], &["master-key", "generate"])
            .trim()
            .to_owned();
        let mut cluster = Cluster {
            db_url: db_url.to_owned(),
            master_key,
            nodes: Vec::new(),
            dir: tempfile::tempdir().expect("a temporary directory"),
        };
        for _ in 0..count {
            cluster.add_node(db_url, args);
        }
        cluster
    }

    /// Starts one more node, on `db_url` (which may reach the cluster's database another way,
    /// through a proxy say).
    pub(crate) fn add_node(&mut self, db_url: &str, args: &[&str]) -> usize {
        let index = self.nodes.len();
        let mut command = latchkey_command();
        command.env("LATCHKEY_MASTER_KEY", &self.master_key);
        let log = self.dir.path().join(format!("node-{index}.log"));
        let (served, _lines) =
            Launched::with(command, db_url, log, &[&SERVE_ARGS[..5], args].concat()).ready(None);
        self.nodes.push(served);
        index
    }

    /// Requests to node `index`.
    pub(crate) fn node(&self, index: usize) -> Http {
        self.nodes[index].http()
    }

    /// Node `index`'s log so far.
    pub(crate) fn log(&self, index: usize) -> String {
        self.nodes[index].log()
    }

    /// `latchkey --database DB ARGS...` with the cluster's master key; it must succeed.
    pub(crate) fn cli_ok(&self, args: &[&str]) -> String {
        self.cli_ok_on(&self.db_url, args)
    }

    /// `cli_ok` on another database (a copy, a promoted standby).
    pub(crate) fn cli_ok_on(&self, db_url: &str, args: &[&str]) -> String {
        cli_ok_with(
            &[("LATCHKEY_MASTER_KEY", &self.master_key)],
            &[&["--database", db_url][..], args].concat(),
        )
    }

    /// Creates an admin app (`latchkey:admin`) by the CLI and returns a token of it from
    /// `node`, once the app has reached it.
    pub(crate) async fn admin_token(&self, node: &Http) -> String {
        let ops = self.cli_json(&[
            "app",
            "create",
            "--name",
            "ops",
            "--scope",
            "latchkey:admin",
            "--json",
        ]);
        node.wait_until_known(&ops).await;
        node.token_for(&ops, Some("latchkey:admin"))
            .await
            .access_token()
    }

    /// `cli_ok`, parsed as JSON.
    pub(crate) fn cli_json(&self, args: &[&str]) -> Value {
        self.cli_json_on(&self.db_url, args)
    }

    /// `cli_ok_on`, parsed as JSON.
    pub(crate) fn cli_json_on(&self, db_url: &str, args: &[&str]) -> Value {
        serde_json::from_str(&self.cli_ok_on(db_url, args)).expect("JSON on stdout")
    }
}

/// Creates an app named `name` through `node`'s admin API with the admin token `root`.
pub(crate) async fn create_app_through(node: &Http, root: &str, name: &str) -> Value {
    node.admin_ok(
        reqwest::Method::POST,
        "/admin/v1/tenants/default/apps",
        root,
        Some(&serde_json::json!({ "name": name })),
        201,
    )
    .await
}
