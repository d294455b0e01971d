//! The real `latchkey serve` process: it announces its address as the first line on stdout,
//! binds port 0 when asked, serves tokens for apps the CLI created, and exits 0 on SIGTERM.

use crate::harness::*;
use reqwest::StatusCode;
use serde_json::Value;
use std::process::Stdio;
use std::time::Instant;

fn http() -> reqwest::Client {
    http_client_builder()
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

    let jwks = get_json(&format!("{url}/oauth2/jwks")).await;
    let claims = verify_token(&jwks, token, client_id(&worker), SERVE_ISSUER)
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(claims["iss"], SERVE_ISSUER, "--issuer sets iss");
    let metadata = get_json(&format!("{url}/.well-known/oauth-authorization-server")).await;
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

/// `GET url` as JSON.
async fn get_json(url: &str) -> Value {
    http()
        .get(url)
        .send()
        .await
        .unwrap_or_else(|error| panic!("GET {url}: {error}"))
        .json()
        .await
        .unwrap_or_else(|error| panic!("GET {url} answered no JSON: {error}"))
}

/// The kids in the JWKS of a server at `url`.
async fn jwks_kids(url: &str) -> Vec<String> {
    let jwks = get_json(&format!("{url}/oauth2/jwks")).await;
    jwks["keys"]
        .as_array()
        .expect("a keys array")
        .iter()
        .map(|key| key["kid"].as_str().expect("a kid").to_owned())
        .collect()
}

#[tokio::test]
async fn servers_started_together_on_a_fresh_deployment_share_one_master_key_and_signing_key() {
    let (dir, db_url) = database();
    // The database exists, with no master key or signing key yet: what the servers race for is
    // the master key file and the first signing key.
    cli_json_on(&db_url, &["app", "create", "--name", "first", "--json"]);
    let launched: Vec<Launched> = (0..3)
        .map(|index| {
            let log = dir.path().join(format!("serve-{index}.log"));
            Launched::new(&db_url, log, &SERVE_ARGS)
        })
        .collect();
    let served: Vec<Served> = launched
        .into_iter()
        .map(|launched| launched.ready(None).0)
        .collect();

    let master_key =
        std::fs::read_to_string(dir.master_key_file()).expect("reading the master key file");
    assert_eq!(master_key.lines().count(), 1, "one master key");
    let leftovers: Vec<String> = files_in(dir.path())
        .into_iter()
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let first = jwks_kids(&served[0].base_url()).await;
    assert_eq!(first.len(), 1, "one signing key: {first:?}");
    for server in &served {
        assert_eq!(
            jwks_kids(&server.base_url()).await,
            first,
            "every server signs with the same key; log:\n{}",
            server.log()
        );
    }
}

#[tokio::test]
async fn quickstart_serves_discovery_whose_issuer_is_the_url_it_prints_and_names_the_console() {
    let (dir, db_url) = database();
    let log = dir.path().join("quickstart.log");
    let args = ["quickstart", "--listen", "127.0.0.1:0"];
    let (served, lines) = Launched::new(&db_url, log, &args).ready(Some(dir));
    let base = served.base_url();
    let curl = loop {
        let line = lines
            .recv_timeout(START_WAIT)
            .expect("quickstart prints a curl command");
        if let Some(command) = line.trim().strip_prefix("curl -s -X POST ") {
            break command.to_owned();
        }
    };
    assert!(curl.starts_with(&format!("{base}/oauth2/token")), "{curl}");

    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let metadata = get_json(&format!("{base}{path}")).await;
        assert_eq!(metadata["issuer"], base.as_str(), "{path}");
        assert_eq!(metadata["token_endpoint"], format!("{base}/oauth2/token"));
    }
    // The banner names the console, and the page is there.
    let console = loop {
        let line = lines
            .recv_timeout(START_WAIT)
            .expect("quickstart names the console");
        if let Some(rest) = line.trim().strip_prefix("The console is at ") {
            break rest.split(':').take(3).collect::<Vec<_>>().join(":");
        }
    };
    assert_eq!(console, format!("{base}/console"));
    let page = reqwest::get(&console).await.expect("the console page");
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
}

#[test]
fn serve_refuses_an_issuer_without_a_scheme_as_tenant_create_does() {
    let (dir, db_url) = database();
    let expected =
        "issuer \"auth.example.com\" is invalid: use an https:// (or http://) URL with a host";

    // Spawned, not run to its end: a server that took the issuer would never exit.
    let mut child = latchkey_on(&db_url)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(["--issuer", "auth.example.com"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting latchkey serve");
    let deadline = Instant::now() + WAIT;
    while child
        .try_wait()
        .expect("waiting for latchkey serve")
        .is_none()
    {
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("latchkey serve accepted the issuer and kept running");
        }
        std::thread::sleep(POLL_EVERY);
    }
    let serve = child.wait_with_output().expect("reading its output");

    assert_eq!(serve.status.code(), Some(2), "{}", describe(&serve));
    assert!(
        String::from_utf8_lossy(&serve.stderr).contains(expected),
        "{}",
        describe(&serve)
    );
    assert!(dir.is_untouched(), "refused before any database");
    let tenant = latchkey_on(&db_url)
        .args(["tenant", "create", "acme"])
        .args(["--domain", "acme.test", "--issuer", "auth.example.com"])
        .output()
        .expect("running latchkey tenant create");
    assert_eq!(tenant.status.code(), Some(1), "{}", describe(&tenant));
    assert!(
        String::from_utf8_lossy(&tenant.stderr).contains(expected),
        "{}",
        describe(&tenant)
    );
}

#[test]
fn serve_on_a_port_in_use_names_the_address_and_the_cause_once() {
    let (_dir, db_url) = database();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("binding a port");
    let address = taken.local_addr().expect("its address").to_string();

    let output = latchkey_on(&db_url)
        .args(["serve", "--listen", &address])
        .output()
        .expect("running latchkey serve");

    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let error = stderr
        .lines()
        .find(|line| line.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line: {stderr}"));
    assert!(
        error.starts_with(&format!("error: could not listen on {address}: ")),
        "{error}"
    );
    assert_eq!(error.matches("in use").count(), 1, "{error}");
}

/// `systemctl reload` sends SIGHUP (packaging/latchkey.service's ExecReload). Without TLS
/// there is nothing to reload, and the signal must not do what it does by default: end the
/// process.
#[tokio::test]
async fn sighup_without_tls_is_logged_and_the_server_keeps_serving() {
    let (dir, db_url) = database();
    let mut served = Served::start_logging(dir, db_url, "info");
    let url = served.base_url();
    let pid = served.child.id().to_string();
    let signalled = std::process::Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .expect("running kill");
    assert!(signalled.success(), "kill -HUP {pid} failed");

    eventually("the server to log the SIGHUP", async || {
        match served.log().contains("SIGHUP: nothing to reload") {
            true => Ok(()),
            false => Err(served.log()),
        }
    })
    .await;
    assert!(
        served
            .child
            .try_wait()
            .expect("checking on the server")
            .is_none(),
        "SIGHUP ended the server; log:\n{}",
        served.log()
    );
    let health = http()
        .get(format!("{url}/healthz"))
        .send()
        .await
        .expect("GET /healthz after SIGHUP");
    assert_eq!(health.status(), StatusCode::OK);

    let status = served.terminate();
    assert_eq!(status.code(), Some(0), "log:\n{}", served.log());
}
