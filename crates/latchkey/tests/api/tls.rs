//! HTTPS on the real `latchkey serve` process, with a CA made by the test: tokens over HTTP/1.1
//! and HTTP/2 (rustls) and through curl, HSTS on every answer, an `https` default issuer, a
//! replaced certificate served to new connections while open ones keep theirs, a broken
//! replacement refused (logged, naming the file) with the old pair kept, and a broken pair
//! refused at start.

use crate::harness::*;
use reqwest::Version;
use serde_json::Value;
use std::path::Path;

/// `serve` on port 0 with TLS from `cert.pem` and `key.pem` in the database's folder, logging
/// at `info`, without `--issuer` (so that the default issuer is the one in use).
fn serve_tls(database: TestDatabase, db_url: String, pair: &ServerPair) -> Served {
    let (cert, key) = pair.write(database.path());
    let log = database.path().join("serve.log");
    let mut command = latchkey_command();
    command.env("LATCHKEY_LOG", "info");
    let args = [
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--refresh-ms",
        "50",
        "--tls-cert",
        cert.to_str().expect("a UTF-8 path"),
        "--tls-key",
        key.to_str().expect("a UTF-8 path"),
    ];
    Launched::with(command, &db_url, log, &args)
        .ready(Some(database))
        .0
}

/// A token request from `client`; the answer's HTTP version, headers and body.
async fn token(
    client: &reqwest::Client,
    url: &str,
    app: &Value,
) -> Result<(Version, reqwest::header::HeaderMap, Value), reqwest::Error> {
    let response = client
        .post(format!("{url}{TOKEN_PATH}"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id(app)),
            ("client_secret", client_secret(app)),
        ])
        .send()
        .await?;
    let version = response.version();
    let headers = response.headers().clone();
    assert_eq!(response.status(), 200, "a token over HTTPS");
    Ok((version, headers, response.json().await?))
}

fn curl_token(url: &str, ca: &Path, app: &Value) -> Value {
    let output = std::process::Command::new("curl")
        .args(["-sS", "--max-time", "10", "--cacert"])
        .arg(ca)
        .arg(format!("{url}{TOKEN_PATH}"))
        .args(["-d", "grant_type=client_credentials"])
        .args(["-d", &format!("client_id={}", client_id(app))])
        .args(["-d", &format!("client_secret={}", client_secret(app))])
        .output()
        .expect("running curl");
    assert!(
        output.status.success(),
        "curl failed: {}",
        describe(&output)
    );
    serde_json::from_slice(&output.stdout).expect("a JSON answer to curl")
}

#[tokio::test]
async fn tokens_are_served_over_https_with_http_1_1_http_2_and_curl_with_hsts() {
    let (database, db_url, app) = seeded_database(async |seed| seed.app(new_app("w")).await).await;
    let ca = TestCa::new("latchkey test CA");
    let ca_file = ca.write(database.path());
    let served = serve_tls(database, db_url, &ca.server_pair());
    let url = served.base_url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    for (alpn, version) in [
        (b"http/1.1".as_slice(), Version::HTTP_11),
        (b"h2".as_slice(), Version::HTTP_2),
    ] {
        let (served_version, headers, body) = token(&ca.client(&[alpn]), &url, &app)
            .await
            .expect("a token over HTTPS");
        assert_eq!(served_version, version);
        assert!(body["access_token"].is_string(), "{body}");
        assert_eq!(
            headers["strict-transport-security"], "max-age=31536000",
            "{version:?}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff");
    }

    let body = curl_token(&url, &ca_file, &app);
    assert!(body["access_token"].is_string(), "{body}");

    // Without --issuer, the default tenant's issuer is an https URL.
    let metadata: Value = ca
        .client(&[b"h2"])
        .get(format!("{url}{OAUTH_METADATA}"))
        .send()
        .await
        .expect("the metadata over HTTPS")
        .json()
        .await
        .expect("JSON metadata");
    assert_eq!(metadata["issuer"], "https://localhost:8080");
}

#[tokio::test]
async fn a_replaced_certificate_is_served_to_new_connections_while_open_ones_keep_working() {
    let (database, db_url, app) = seeded_database(async |seed| seed.app(new_app("w")).await).await;
    let dir = database.path().to_path_buf();
    let first = TestCa::new("first CA");
    let served = serve_tls(database, db_url, &first.server_pair());
    let url = served.base_url();
    // One connection, kept open by the client's pool.
    let open = first.client(&[b"http/1.1"]);
    token(&open, &url, &app)
        .await
        .expect("a token with the first certificate");

    let second = TestCa::new("second CA");
    second.server_pair().write(&dir);
    eventually("the second certificate on a new connection", async || {
        token(&second.client(&[b"http/1.1"]), &url, &app)
            .await
            .map(drop)
            .map_err(|error| format!("{error:#}"))
    })
    .await;

    // A client trusting only the first CA cannot open a new connection any more, but the one
    // it opened before keeps working.
    let fresh = first.client(&[b"http/1.1"]);
    assert!(token(&fresh, &url, &app).await.is_err());
    token(&open, &url, &app)
        .await
        .expect("a token on the connection opened before the change");
    assert!(served.log().contains("TLS certificate reloaded"));
}

#[tokio::test]
async fn a_broken_replacement_is_refused_and_logged_and_the_old_certificate_kept() {
    let (database, db_url, app) = seeded_database(async |seed| seed.app(new_app("w")).await).await;
    let dir = database.path().to_path_buf();
    let ca = TestCa::new("latchkey test CA");
    let served = serve_tls(database, db_url, &ca.server_pair());
    let url = served.base_url();

    // A key that is not the certificate's.
    let other = ca.server_pair();
    std::fs::write(dir.join("key.pem"), &other.key).unwrap();
    eventually("the mismatched key refused in the log", async || {
        let log = served.log();
        log.lines()
            .find(|line| line.contains("TLS certificate not reloaded") && line.contains("key.pem"))
            .map(drop)
            .ok_or(log)
    })
    .await;
    // A certificate file that is not PEM.
    std::fs::write(dir.join("cert.pem"), "not a certificate").unwrap();
    eventually(
        "the unreadable certificate refused in the log",
        async || {
            let log = served.log();
            log.lines()
                .find(|line| line.contains("cert.pem holds no PEM certificate"))
                .map(drop)
                .ok_or(log)
        },
    )
    .await;

    token(&ca.client(&[b"http/1.1"]), &url, &app)
        .await
        .expect("the first certificate, still served");
    let log = served.log();
    assert!(
        !log.contains("PRIVATE KEY"),
        "key material in the log: {log}"
    );
    assert!(!log.contains("TLS certificate reloaded"), "{log}");
}

#[tokio::test]
async fn a_broken_pair_at_start_is_a_clear_error_and_half_a_pair_a_usage_error() {
    let (database, db_url) = database();
    let ca = TestCa::new("latchkey test CA");
    let (cert, _) = ca.server_pair().write(database.path());
    let missing = database.path().join("missing-key.pem");
    let mut command = latchkey_command();
    if let Some(file) = given_master_key(&db_url) {
        command.env("LATCHKEY_MASTER_KEY_FILE", file);
    }
    let output = command
        .args(["--database", &db_url, "serve", "--listen", "127.0.0.1:0"])
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&missing)
        .output()
        .expect("running latchkey serve");
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let message = stderr(&output);
    assert!(message.contains("missing-key.pem"), "{message}");

    let output = latchkey_command()
        .args(["--database", &db_url, "serve", "--listen", "127.0.0.1:0"])
        .arg("--tls-cert")
        .arg(&cert)
        .output()
        .expect("running latchkey serve");
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    assert!(
        stderr(&output).contains("--tls-key"),
        "{}",
        describe(&output)
    );
}

#[tokio::test]
async fn the_console_session_cookie_is_secure_over_https() {
    let (database, db_url, admin) =
        seeded_database(async |seed| seed.app(new_app("ops").scopes(&["latchkey:admin"])).await)
            .await;
    let ca = TestCa::new("latchkey test CA");
    let served = serve_tls(database, db_url, &ca.server_pair());
    let response = ca
        .client(&[b"h2"])
        .post(format!("{}/console/session", served.base_url()))
        .json(&serde_json::json!({
            "client_id": client_id(&admin),
            "client_secret": client_secret(&admin),
        }))
        .send()
        .await
        .expect("signing in to the console over HTTPS");
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Secure"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
}
