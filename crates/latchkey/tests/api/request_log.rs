//! The request log of the real `latchkey serve`: one `info` line per request with its id,
//! method, endpoint, tenant, the authenticated client, status, OAuth error code and duration;
//! `--log-format json` writes each as one JSON object with those keys; `X-Request-Id` is kept
//! when well-formed, else made, and returned on the answer.

use crate::harness::*;
use serde_json::Value;
use std::sync::mpsc;

/// `latchkey serve` on a database with one app, logging at `info` in `format`.
fn serve(database: TestDatabase, db_url: &str, format: &str) -> (Served, mpsc::Receiver<String>) {
    let log = database.path().join("serve.log");
    let mut command = latchkey_command();
    command.env("LATCHKEY_LOG", "info");
    let mut args = SERVE_ARGS.to_vec();
    args.extend(["--log-format", format, "--metrics-listen", "127.0.0.1:0"]);
    Launched::with(command, db_url, log, &args).ready(Some(database))
}

/// The request lines of a JSON log, parsed.
fn request_lines(log: &str) -> Vec<Value> {
    log.lines()
        .map(|line| {
            serde_json::from_str::<Value>(line)
                .unwrap_or_else(|error| panic!("a log line that is not JSON ({error}): {line}"))
        })
        .filter(|line| line["message"] == "request")
        .collect()
}

/// Waits (bounded) until the log holds a request line with this id, and returns it.
async fn line_with_id(served: &Served, id: &str) -> Value {
    eventually("the request's log line", async || {
        request_lines(&served.log())
            .into_iter()
            .find(|line| line["request_id"] == id)
            .ok_or_else(|| format!("no line with request_id {id} yet"))
    })
    .await
}

#[tokio::test]
async fn each_request_is_one_json_line_with_its_id_outcome_and_duration() {
    let (database, db_url, app) =
        seeded_database(async |seed| seed.app(new_app("logged")).await).await;
    let (served, _lines) = serve(database, &db_url, "json");
    let http = served.http();

    let sent = "trace-4bf92f35:77b3/4da6";
    let issued = http
        .send(
            http.request(reqwest::Method::POST, TOKEN_PATH)
                .header("x-request-id", sent)
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id(&app)),
                    ("client_secret", client_secret(&app)),
                ]),
        )
        .await;
    issued.access_token();
    assert_eq!(issued.header("x-request-id"), Some(sent));
    let line = line_with_id(&served, sent).await;
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["method"], "POST");
    assert_eq!(line["endpoint"], "token");
    assert_eq!(line["tenant"], "default");
    assert_eq!(line["client_id"], client_id(&app));
    assert_eq!(line["status"], 200);
    assert!(line.get("error").is_none(), "{line}");
    let duration = line["duration_ms"]
        .as_f64()
        .expect("duration_ms is a number");
    assert!(duration >= 0.0, "{line}");

    let refused = http
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id(&app)),
            ("client_secret", "not-the-secret"),
        ])
        .await;
    refused.assert_error(401, "invalid_client");
    let made = refused
        .header("x-request-id")
        .expect("a request id")
        .to_owned();
    assert_eq!(made.len(), 32, "{made}");
    assert!(made.bytes().all(|byte| byte.is_ascii_hexdigit()), "{made}");
    let line = line_with_id(&served, &made).await;
    assert_eq!(line["status"], 401);
    assert_eq!(line["error"], "invalid_client");
    assert_eq!(line["tenant"], "default");
    assert!(
        line.get("client_id").is_none(),
        "a client that failed to authenticate is not named as one: {line}"
    );

    let jwks = http.get(JWKS_PATH).await;
    let made = jwks
        .header("x-request-id")
        .expect("a request id")
        .to_owned();
    let line = line_with_id(&served, &made).await;
    assert_eq!(
        (line["endpoint"].clone(), line["status"].clone()),
        ("jwks".into(), 200.into())
    );
    assert!(!served.log().contains("not-the-secret"));
    assert!(!served.log().contains(client_secret(&app)));
}

#[tokio::test]
async fn a_request_id_that_is_not_well_formed_is_replaced() {
    let (database, db_url, _) = seeded_database(async |_| ()).await;
    let (served, _lines) = serve(database, &db_url, "json");
    let http = served.http();
    for bad in ["two words", "quote\"d", &"x".repeat(200)] {
        let reply = http
            .send(
                http.request(reqwest::Method::GET, JWKS_PATH)
                    .header("x-request-id", bad),
            )
            .await;
        let made = reply
            .header("x-request-id")
            .expect("a request id")
            .to_owned();
        assert_ne!(made, bad);
        assert_eq!(made.len(), 32, "{made}");
        line_with_id(&served, &made).await;
    }
    assert!(!served.log().contains("two words"));
}

#[tokio::test]
async fn the_text_format_names_the_same_fields() {
    let (database, db_url, app) =
        seeded_database(async |seed| seed.app(new_app("logged")).await).await;
    let (served, _lines) = serve(database, &db_url, "text");
    let http = served.http();
    let reply = http.token_for(&app, None).await;
    reply.access_token();
    let id = reply
        .header("x-request-id")
        .expect("a request id")
        .to_owned();
    let line = eventually("the request's log line", async || {
        served
            .log()
            .lines()
            .find(|line| line.contains(&format!("request_id={id}")))
            .map(str::to_owned)
            .ok_or_else(|| format!("no line with request_id={id} yet"))
    })
    .await;
    for field in [
        " INFO ",
        "method=POST",
        "endpoint=token",
        "tenant=default",
        &format!("client_id={}", client_id(&app)),
        "status=200",
        "duration_ms=",
    ] {
        assert!(line.contains(field), "{field} in {line}");
    }
    assert!(
        serde_json::from_str::<Value>(&line).is_err(),
        "text, not JSON: {line}"
    );
}

#[tokio::test]
async fn serve_prints_where_its_metrics_are_and_serves_them_there() {
    let (database, db_url, app) =
        seeded_database(async |seed| seed.app(new_app("scraped")).await).await;
    let (served, lines) = serve(database, &db_url, "json");
    let second = lines.recv_timeout(WAIT).expect("a second line on stdout");
    let url = second
        .strip_prefix("latchkey metrics on ")
        .unwrap_or_else(|| panic!("unexpected second line {second:?}"));
    served.http().token_for(&app, None).await.access_token();
    let text = http_client()
        .get(url)
        .send()
        .await
        .expect("scraping")
        .text()
        .await
        .expect("the metrics text");
    assert!(
        text.lines()
            .any(|line| line
                == "latchkey_token_requests_total{tenant=\"default\",outcome=\"issued\"} 1"),
        "{text}"
    );
}

#[tokio::test]
async fn the_log_format_and_the_metrics_listener_can_come_from_the_configuration_file() {
    let (database, db_url, app) =
        seeded_database(async |seed| seed.app(new_app("configured")).await).await;
    let config = database.path().join("latchkey.toml");
    std::fs::write(
        &config,
        "log_format = \"json\"\nmetrics_listen = \"127.0.0.1:0\"\n",
    )
    .expect("writing the configuration file");
    let log = database.path().join("serve.log");
    let mut command = latchkey_command();
    command.env("LATCHKEY_LOG", "info");
    let mut args = SERVE_ARGS.to_vec();
    let config = config.to_str().expect("a UTF-8 path").to_owned();
    args.extend(["--config", &config]);
    let (served, lines) = Launched::with(command, &db_url, log, &args).ready(Some(database));
    let second = lines.recv_timeout(WAIT).expect("a second line on stdout");
    assert!(
        second.starts_with("latchkey metrics on http://127.0.0.1:"),
        "{second}"
    );
    let reply = served.http().token_for(&app, None).await;
    reply.access_token();
    let id = reply
        .header("x-request-id")
        .expect("a request id")
        .to_owned();
    let line = line_with_id(&served, &id).await;
    assert_eq!(line["client_id"], client_id(&app));
}
