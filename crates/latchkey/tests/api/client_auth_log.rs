//! A failed client authentication leaves one `info` line in the log of the real `latchkey
//! serve` process, at the token, introspection and revocation endpoints: the client id
//! (bounded, control characters escaped) and which check failed, never the presented secret,
//! while the client still gets only `invalid_client`.

use crate::harness::*;
use serde_json::Value;

const LINE: &str = "client authentication failed";

/// Presented secrets, each of which must appear nowhere in the log.
const WRONG_SECRET: &str = "wrong-secret-9f1c0d2e";
const UNKNOWN_SECRET: &str = "unknown-client-secret-77ab31";

fn lines_with<'a>(log: &'a str, needle: &str) -> Vec<&'a str> {
    log.lines()
        .filter(|line| line.contains(LINE) && line.contains(needle))
        .collect()
}

#[tokio::test]
async fn each_failed_client_authentication_is_logged_once_with_its_reason_and_never_the_secret() {
    let (dir, db_url, (worker, disabled, acme)) = seeded_database(async |seed| {
        seed.tenant(new_tenant("acme", &["acme.test"])).await;
        let worker = seed.app(new_app("worker")).await;
        let disabled = seed.app(new_app("off")).await;
        seed.disable(&disabled).await;
        let acme = seed.app(new_app("a").tenant("acme", "acme.test")).await;
        (worker, disabled, acme)
    })
    .await;
    let served = Served::start_logging(dir, db_url, "info");
    let url = served.base_url();
    let http = http_client();
    let forged = "nobody\n2026-01-01T00:00:00Z  INFO forged line";
    let long = "x".repeat(5000);
    let post = async |path: &str, id: &str, secret: &str, extra: (&str, &str)| {
        let reply = http
            .post(format!("{url}{path}"))
            .form(&[
                ("client_id", id),
                ("client_secret", secret),
                ("grant_type", "client_credentials"),
                extra,
            ])
            .send()
            .await
            .expect("a request to latchkey serve");
        let status = reply.status().as_u16();
        let body: Value = reply.json().await.expect("a JSON answer");
        assert_eq!(
            (status, body),
            (401, serde_json::json!({"error": "invalid_client"})),
            "{path} {id:?}"
        );
    };
    let none = ("token_type_hint", "access_token");

    post("/oauth2/token", client_id(&worker), WRONG_SECRET, none).await;
    post("/oauth2/token", forged, UNKNOWN_SECRET, none).await;
    post("/oauth2/token", &long, UNKNOWN_SECRET, none).await;
    post(
        "/oauth2/token",
        client_id(&disabled),
        client_secret(&disabled),
        none,
    )
    .await;
    post(
        "/oauth2/token",
        client_id(&acme),
        client_secret(&acme),
        none,
    )
    .await;
    post(
        "/oauth2/introspect",
        client_id(&worker),
        WRONG_SECRET,
        ("token", "t"),
    )
    .await;
    post(
        "/oauth2/revoke",
        client_id(&worker),
        WRONG_SECRET,
        ("token", "t"),
    )
    .await;

    let log = eventually("seven failure lines in the log", async || {
        let log = served.log();
        match log.lines().filter(|line| line.contains(LINE)).count() {
            7 => Ok(log),
            _ => Err(log),
        }
    })
    .await;
    let worker_id = format!("client_id=\"{}\"", client_id(&worker));
    let wrong = lines_with(&log, &worker_id);
    assert_eq!(wrong.len(), 3, "{log}");
    for (line, endpoint) in
        wrong
            .iter()
            .zip(["/oauth2/token", "/oauth2/introspect", "/oauth2/revoke"])
    {
        assert!(line.contains(" INFO "), "{line}");
        assert!(line.contains("reason=wrong_secret"), "{line}");
        assert!(line.contains(&format!("endpoint={endpoint}")), "{line}");
    }
    let unknown = lines_with(&log, "reason=unknown_client");
    assert_eq!(unknown.len(), 2, "{log}");
    assert!(
        unknown[0].contains(r#"client_id="nobody\n2026-01-01T00:00:00Z  INFO forged line""#),
        "a control character is escaped, so the id cannot forge a line: {log}"
    );
    assert!(
        !log.lines()
            .any(|line| line.starts_with("2026-01-01T00:00:00Z")),
        "{log}"
    );
    assert!(
        unknown[1].contains(&format!("client_id=\"{}\"", "x".repeat(128))),
        "{log}"
    );
    assert!(!log.contains(&"x".repeat(129)), "the id is bounded: {log}");
    let off = lines_with(&log, "reason=disabled");
    assert_eq!(off.len(), 1, "{log}");
    assert!(off[0].contains(client_id(&disabled)), "{log}");
    let elsewhere = lines_with(&log, "reason=wrong_tenant_host");
    assert_eq!(elsewhere.len(), 1, "{log}");
    assert!(elsewhere[0].contains(client_id(&acme)), "{log}");
    for secret in [
        WRONG_SECRET,
        UNKNOWN_SECRET,
        client_secret(&disabled),
        client_secret(&acme),
        client_secret(&worker),
    ] {
        assert!(!log.contains(secret), "a secret reached the log: {log}");
    }
}
