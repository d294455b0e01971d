//! The real `latchkey serve` process: it announces its address as the first line on stdout,
//! binds port 0 when asked, serves tokens for apps the CLI created, and exits 0 on SIGTERM.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tempfile::TempDir;

const SERVE_ISSUER: &str = "https://auth.serve.test";
/// How long the process may take to print its first line (it may generate its first RSA key).
const START_WAIT: Duration = Duration::from_secs(60);

/// A `latchkey serve` child process on its own database. Killed on drop if still running.
struct Served {
    child: Child,
    first_line: String,
    db_url: String,
    log: PathBuf,
    _dir: TempDir,
}

fn database() -> (TempDir, String) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db_url = format!("sqlite://{}", dir.path().join("latchkey.db").display());
    (dir, db_url)
}

fn cli_json(db_url: &str, args: &[&str]) -> Value {
    let output = latchkey_command()
        .arg("--database")
        .arg(db_url)
        .args(args)
        .output()
        .expect("running latchkey");
    assert!(
        output.status.success(),
        "latchkey {args:?}: {}",
        describe(&output)
    );
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

impl Served {
    /// Starts `latchkey serve --listen 127.0.0.1:0` on the database and waits (bounded) for its
    /// first line on stdout.
    fn start(dir: TempDir, db_url: String) -> Served {
        let log = dir.path().join("serve.log");
        let stderr = std::fs::File::create(&log).expect("creating the log file");
        let mut child = latchkey_command()
            .args([
                "--database",
                &db_url,
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--issuer",
                SERVE_ISSUER,
            ])
            .args(["--refresh-ms", "50"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("starting latchkey serve");
        let stdout = child.stdout.take().expect("piped stdout");
        let (lines_tx, lines_rx) = mpsc::channel();
        // Reads every line so that the child never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // After the first line nobody listens any more; keep draining regardless.
                let _ = lines_tx.send(line);
            }
        });
        let first_line = match lines_rx.recv_timeout(START_WAIT) {
            Ok(line) => line,
            Err(error) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "latchkey serve printed no line within {START_WAIT:?} ({error}); its log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
        };
        Served {
            child,
            first_line,
            db_url,
            log,
            _dir: dir,
        }
    }

    /// The address from the first line, `latchkey listening on http://ADDR`.
    fn base_url(&self) -> String {
        let url = self
            .first_line
            .strip_prefix("latchkey listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {:?}", self.first_line));
        url.to_owned()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGTERM to this child (by its own pid) and waits, bounded, for it to exit.
    fn terminate(&mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("running kill");
        assert!(status.success(), "kill -TERM {pid} failed");
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().expect("waiting for latchkey serve") {
                return status;
            }
            if Instant::now() >= deadline {
                panic!(
                    "latchkey serve did not exit within {WAIT:?} of SIGTERM; its log:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(POLL_EVERY);
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

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
    let worker = cli_json(
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

    let late = cli_json(
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
