//! The real `latchkey serve` process: it announces its address as the first line on stdout,
//! binds port 0 when asked, serves tokens for apps the CLI created, and exits 0 on SIGTERM.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}

#[tokio::test]
async fn serve_prints_its_address_as_the_first_stdout_line_and_answers_there() {
    let (dir, db_url) = database();
    let served = Served::start(dir, db_url);

    let url = served.base_url();
    let address = url
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("not an http URL: {url}"));
    let address: std::net::SocketAddr = address
        .parse()
        .unwrap_or_else(|error| panic!("{address}: {error}"));
    assert!(address.ip().is_loopback(), "{address}");
    assert_ne!(address.port(), 0, "the real port, not 0");

    let health = http()
        .get(format!("{url}/healthz"))
        .send()
        .await
        .expect("GET /healthz");
    assert_eq!(health.status(), StatusCode::OK);
}

#[tokio::test]
async fn serve_issues_tokens_that_verify_against_its_own_jwks() {
    let (dir, db_url) = database();
    let worker = cli_json_on(
        &db_url,
        &[
            "app", "create", "--name", "worker", "--scope", "jobs:run", "--json",
        ],
    );
    let served = Served::start(dir, db_url);
    let url = served.base_url();
    let client = http();

    let reply = client
        .post(format!("{url}/oauth2/token"))
        .basic_auth(client_id(&worker), Some(client_secret(&worker)))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("POST /oauth2/token");
    assert_eq!(reply.status(), StatusCode::OK);
    let body: Value = reply.json().await.expect("JSON");
    let token = body["access_token"].as_str().expect("access_token");

    let jwks: Value = client
        .get(format!("{url}/oauth2/jwks"))
        .send()
        .await
        .expect("GET jwks")
        .json()
        .await
        .expect("JSON");
    let claims = verify_token(&jwks, token, client_id(&worker), SERVE_ISSUER)
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(claims["iss"], SERVE_ISSUER, "--issuer sets iss");
    let metadata: Value = client
        .get(format!("{url}/.well-known/oauth-authorization-server"))
        .send()
        .await
        .expect("GET metadata")
        .json()
        .await
        .expect("JSON");
    assert_eq!(metadata["issuer"], SERVE_ISSUER);
    assert_eq!(
        metadata["token_endpoint"],
        format!("{SERVE_ISSUER}/oauth2/token")
    );
}

#[tokio::test]
async fn serve_follows_apps_the_cli_creates_while_it_runs() {
    let (dir, db_url) = database();
    let served = Served::start(dir, db_url);
    let url = served.base_url();
    let client = http();

    let late = cli_json_on(
        &served.db_url,
        &["app", "create", "--name", "late", "--json"],
    );
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id(&late)),
        ("client_secret", client_secret(&late)),
    ];
    eventually("the running server to know the new app", async || {
        let reply = client
            .post(format!("{url}/oauth2/token"))
            .form(&form)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if reply.status() == StatusCode::OK {
            Ok(())
        } else {
            Err(format!("status {}", reply.status()))
        }
    })
    .await;
}

#[tokio::test]
async fn serve_exits_with_code_0_on_sigterm() {
    let (dir, db_url) = database();
    let mut served = Served::start(dir, db_url);
    let url = served.base_url();
    let health = http()
        .get(format!("{url}/healthz"))
        .send()
        .await
        .expect("GET /healthz");
    assert_eq!(health.status(), StatusCode::OK);

    let status = served.terminate();

    assert_eq!(
        status.code(),
        Some(0),
        "exit status {status:?}; log:\n{}",
        served.log()
    );
    let after = http().get(format!("{url}/healthz")).send().await;
    assert!(after.is_err(), "nothing listens after the exit: {after:?}");
}

#[tokio::test]
async fn serve_exits_with_code_0_on_sigterm_while_a_client_holds_an_idle_connection() {
    let (dir, db_url) = database();
    let mut served = Served::start(dir, db_url);
    let url = served.base_url();
    // This client keeps its keep-alive connection open across the signal.
    let client = http();
    let health = client
        .get(format!("{url}/healthz"))
        .send()
        .await
        .expect("GET /healthz");
    assert_eq!(health.status(), StatusCode::OK);
    health.bytes().await.expect("reading the body");

    let status = served.terminate();

    assert_eq!(
        status.code(),
        Some(0),
        "exit status {status:?}; log:\n{}",
        served.log()
    );
    drop(client);
}
