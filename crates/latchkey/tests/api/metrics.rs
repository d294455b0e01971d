//! `GET /metrics` on the metrics listener: the pinned metric names, counters that move by
//! exactly what requests did, gauges read from the snapshot, text that `promtool check
//! metrics` accepts, nothing on the public port, and a Grafana dashboard
//! (`docs/grafana-dashboard.json`) whose queries are valid PromQL over what is served.

use crate::harness::*;
use std::collections::HashMap;
use std::process::{Command, Stdio};

/// One scrape: every sample, by its series (`name{labels}` as written).
struct Scraped {
    text: String,
    samples: HashMap<String, f64>,
}

impl Scraped {
    fn value(&self, series: &str) -> f64 {
        *self
            .samples
            .get(series)
            .unwrap_or_else(|| panic!("no series {series} in:\n{}", self.text))
    }

    /// Series of metric `name` whose labels contain `labels`.
    fn matching(&self, name: &str, labels: &str) -> Vec<(&str, f64)> {
        self.samples
            .iter()
            .filter(|(series, _)| {
                series.starts_with(&format!("{name}{{")) && series.contains(labels)
            })
            .map(|(series, value)| (series.as_str(), *value))
            .collect()
    }
}

async fn scrape(app: &TestApp) -> Scraped {
    let reply = http_client()
        .get(app.metrics_url())
        .send()
        .await
        .expect("scraping /metrics");
    assert_eq!(reply.status().as_u16(), 200);
    assert_eq!(
        reply
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok()),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = reply.text().await.expect("the metrics text");
    let samples = text
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("a sample is SERIES VALUE");
            let value = value
                .parse()
                .unwrap_or_else(|_| panic!("a number in {line}"));
            (series.to_owned(), value)
        })
        .collect();
    Scraped { text, samples }
}

fn tokens(tenant: &str, outcome: &str) -> String {
    format!("latchkey_token_requests_total{{tenant=\"{tenant}\",outcome=\"{outcome}\"}}")
}

#[tokio::test]
async fn counters_move_by_exactly_what_the_requests_did() {
    let app = spawn_app().await;
    let client = app.seed_app(new_app("counted").introspect()).await;
    let before = scrape(&app).await;

    let mut issued = Vec::new();
    for _ in 0..3 {
        issued.push(app.token_for(&client, None).await.access_token());
    }
    for _ in 0..2 {
        app.post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id(&client)),
            ("client_secret", "not-the-secret"),
        ])
        .await
        .assert_error(401, "invalid_client");
    }
    app.post_token(&[("grant_type", "password")])
        .await
        .assert_error(400, "unsupported_grant_type");
    assert_eq!(app.introspect(&client, &issued[0]).await["active"], true);
    app.revoke(&client, &issued[1]).await;
    assert_eq!(app.introspect(&client, &issued[1]).await["active"], false);

    let after = scrape(&app).await;
    let moved = |series: &str| after.value(series) - before.value(series);
    assert_eq!(moved(&tokens("default", "issued")), 3.0);
    assert_eq!(moved(&tokens("default", "invalid_client")), 2.0);
    assert_eq!(moved(&tokens("default", "unsupported_grant_type")), 1.0);
    assert_eq!(moved(&tokens("default", "reused")), 0.0);
    assert_eq!(moved(&tokens("default", "invalid_scope")), 0.0);
    assert_eq!(
        moved("latchkey_introspections_total{tenant=\"default\",active=\"true\"}"),
        1.0
    );
    assert_eq!(
        moved("latchkey_introspections_total{tenant=\"default\",active=\"false\"}"),
        1.0
    );
    assert_eq!(moved("latchkey_revocations_total{tenant=\"default\"}"), 1.0);
    assert_eq!(
        moved("latchkey_http_request_duration_seconds_count{endpoint=\"token\"}"),
        6.0
    );
    assert_eq!(
        moved("latchkey_http_request_duration_seconds_count{endpoint=\"introspect\"}"),
        2.0
    );
    assert_eq!(
        moved("latchkey_http_request_duration_seconds_bucket{endpoint=\"revoke\",le=\"+Inf\"}"),
        1.0
    );
}

#[tokio::test]
async fn reused_tokens_and_refusals_past_a_quota_are_counted_by_outcome() {
    let app = spawn_app().await;
    let reusing = app.seed_app(new_app("reusing").token_reuse(80)).await;
    // Seeding waits for the app with one token request, which takes one of the two.
    let limited = app.seed_app(new_app("limited").rate_limit("2/h")).await;
    let before = scrape(&app).await;
    app.token_for(&reusing, None).await.access_token();
    app.token_for(&reusing, None).await.access_token();
    app.token_for(&limited, None).await.access_token();
    app.token_for(&limited, None)
        .await
        .assert_error(429, "too_many_requests");
    let after = scrape(&app).await;
    let moved = |series: &str| after.value(series) - before.value(series);
    // The reusing app's token came from the wait for it: both requests get it again.
    assert_eq!(moved(&tokens("default", "issued")), 1.0);
    assert_eq!(moved(&tokens("default", "reused")), 2.0);
    assert_eq!(moved(&tokens("default", "too_many_requests")), 1.0);
}

#[tokio::test]
async fn each_tenant_is_counted_apart_and_its_apps_and_keys_are_gauged() {
    let app = spawn_app().await;
    app.seed_tenant(new_tenant("acme", &["acme.test"])).await;
    let acme = app.seed_app(new_app("a").tenant("acme", "acme.test")).await;
    app.seed_app(new_app("b").tenant("acme", "acme.test")).await;
    app.seed_app(new_app("c")).await;
    app.at("acme.test").wait_until_known(&acme).await;
    let before = scrape(&app).await;
    app.at("acme.test")
        .token_for(&acme, None)
        .await
        .access_token();
    let after = scrape(&app).await;
    assert_eq!(
        after.value(&tokens("acme", "issued")) - before.value(&tokens("acme", "issued")),
        1.0
    );
    assert_eq!(
        after.value(&tokens("default", "issued")),
        before.value(&tokens("default", "issued"))
    );
    assert_eq!(after.value("latchkey_apps{tenant=\"acme\"}"), 2.0);
    assert_eq!(after.value("latchkey_apps{tenant=\"default\"}"), 1.0);
    let kids = app.at("acme.test").jwks_kids().await;
    let active = after.matching("latchkey_signing_key_age_seconds", "tenant=\"acme\",kid=");
    assert_eq!(active.len(), kids.len(), "{}", after.text);
    for kid in &kids {
        let series = after.matching(
            "latchkey_signing_key_age_seconds",
            &format!("kid=\"{kid}\""),
        );
        assert_eq!(series.len(), 1, "{kid}: {}", after.text);
        let (labels, age) = series[0];
        assert!(labels.contains("status=\"active\""), "{labels}");
        assert!((0.0..3600.0).contains(&age), "a key made just now: {age}");
    }
    assert_eq!(after.value("latchkey_database_up"), 1.0);
    let age = after.value("latchkey_snapshot_age_seconds");
    assert!((0.0..60.0).contains(&age), "snapshot age {age}");
    for process in [
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "process_open_fds",
        "process_start_time_seconds",
    ] {
        assert!(after.value(process) > 0.0, "{process}");
    }
}

#[tokio::test]
async fn no_label_has_a_value_per_app_or_per_token() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for name in ["one", "two", "three"] {
        let client = app.seed_app(new_app(name)).await;
        let token = app.token_for(&client, None).await.access_token();
        ids.push(client_id(&client).to_owned());
        ids.push(token);
    }
    let scraped = scrape(&app).await;
    for id in &ids {
        assert!(
            !scraped.text.contains(id.as_str()),
            "{id} is in:\n{}",
            scraped.text
        );
    }
}

#[tokio::test]
async fn metrics_are_not_served_on_the_public_port() {
    let app = spawn_app().await;
    app.get("/metrics").await.assert_error(404, "not_found");
    let other = http_client()
        .get(app.metrics_url().replace("/metrics", "/oauth2/jwks"))
        .send()
        .await
        .expect("a request to the metrics listener");
    assert_eq!(other.status().as_u16(), 404);
}

#[tokio::test]
async fn promtool_accepts_the_exposition() {
    let app = spawn_app().await;
    let client = app.seed_app(new_app("scraped")).await;
    app.token_for(&client, None).await.access_token();
    let text = scrape(&app).await.text;
    let Some(promtool) = promtool() else {
        return;
    };
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running promtool");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("promtool's stdin");
        stdin
            .write_all(text.as_bytes())
            .expect("writing to promtool");
    }
    let output = child.wait_with_output().expect("promtool's answer");
    assert!(
        output.status.success(),
        "promtool check metrics failed: {}{}\n{text}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // promtool prints lint findings (a counter without _total, a missing HELP) and still
    // exits 0 for some of them: none is expected.
    let findings = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(findings.trim(), "", "promtool's findings");
}

/// Debian's `prometheus` package puts promtool on the PATH; CI installs it (`.ci/run`), so a
/// missing promtool fails the test there and skips it with a note elsewhere.
fn promtool() -> Option<&'static str> {
    let found = Command::new("promtool")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if found {
        return Some("promtool");
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "promtool is missing under CI (.ci/run installs Debian's prometheus package)"
    );
    eprintln!("skipped: promtool is not installed (apt-get install prometheus)");
    None
}

/// The dashboard's queries with Grafana's variables replaced by what they stand for.
fn dashboard_queries() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/grafana-dashboard.json"
    );
    let text = std::fs::read_to_string(path).expect("reading docs/grafana-dashboard.json");
    let dashboard: serde_json::Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    assert_eq!(dashboard["title"], "latchkey");
    assert!(
        dashboard["schemaVersion"]
            .as_u64()
            .is_some_and(|version| version >= 36)
    );
    let panels = dashboard["panels"].as_array().expect("panels");
    let mut ids: Vec<u64> = panels
        .iter()
        .map(|panel| panel["id"].as_u64().expect("an id"))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), panels.len(), "panel ids are unique");
    let mut queries = Vec::new();
    for panel in panels {
        assert!(panel["gridPos"]["w"].as_u64().is_some(), "{panel}");
        assert!(
            panel["title"]
                .as_str()
                .is_some_and(|title| !title.is_empty())
        );
        let targets = panel["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{panel}");
        for target in targets {
            let expr = target["expr"].as_str().expect("a PromQL expression");
            queries.push(
                expr.replace("$__rate_interval", "5m")
                    .replace("$tenant", ".*")
                    .replace("$instance", ".*")
                    .replace("$job", ".*"),
            );
        }
    }
    queries
}

#[tokio::test]
async fn the_grafana_dashboard_queries_only_metrics_the_server_serves() {
    let queries = dashboard_queries();
    let app = spawn_app().await;
    let served: std::collections::HashSet<String> = scrape(&app)
        .await
        .samples
        .keys()
        .map(|series| series.split('{').next().unwrap_or(series).to_owned())
        .collect();
    for query in &queries {
        let names = query
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|word| word.starts_with("latchkey_") || word.starts_with("process_"));
        for name in names {
            assert!(served.contains(name), "{name} (in {query}) is not served");
        }
    }
    // What the dashboard is for: tokens by outcome, latency quantiles, key ages, snapshot age.
    for shown in [
        "by (outcome) (rate(latchkey_token_requests_total",
        "histogram_quantile(0.99",
        "latchkey_signing_key_age_seconds",
        "latchkey_snapshot_age_seconds",
    ] {
        assert!(
            queries.iter().any(|query| query.contains(shown)),
            "the dashboard shows {shown}"
        );
    }
    let Some(promtool) = promtool() else {
        return;
    };
    // promtool checks PromQL in rule files: each query becomes a recording rule.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let rules = dir.path().join("dashboard.rules.yml");
    let mut text = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (index, query) in queries.iter().enumerate() {
        let quoted = serde_json::to_string(query).expect("a JSON string is a YAML string");
        text.push_str(&format!(
            "      - record: dashboard:query_{index}\n        expr: {quoted}\n"
        ));
    }
    std::fs::write(&rules, text).expect("writing the rules");
    let output = Command::new(promtool)
        .args(["check", "rules"])
        .arg(&rules)
        .output()
        .expect("running promtool");
    assert!(
        output.status.success(),
        "promtool check rules: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
