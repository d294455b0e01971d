//! Misbehaving clients, on raw sockets: a request head sent one byte a second is cut off at
//! the header timeout, a body that stops arriving gets 408 (the token form and the admin API's
//! JSON alike), an oversized head gets 431, thousands of idle connections do not keep a fresh
//! client from a token, and past `max_connections` a new connection waits its turn.

use crate::harness::*;
use latchkey_server::ConnectionLimits;
use reqwest::Method;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the server closes the connection (end of stream or a reset).
async fn until_closed(stream: &mut (impl AsyncRead + Unpin)) {
    let mut buf = [0; 4096];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => continue,
        }
    }
}

fn with_limits(limits: ConnectionLimits) -> Setup {
    Setup {
        limits,
        ..Setup::default()
    }
}

#[tokio::test]
async fn a_head_sent_one_byte_a_second_is_closed_at_the_header_timeout() {
    let app = spawn_app_with(with_limits(ConnectionLimits {
        header_timeout: Duration::from_secs(2),
        ..ConnectionLimits::default()
    }))
    .await;
    let stream = TcpStream::connect(app.address).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let started = Instant::now();
    let trickle = async move {
        let head =
            b"POST /oauth2/token HTTP/1.1\r\nHost: issuer.test\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa";
        let mut every_second = tokio::time::interval(Duration::from_secs(1));
        for byte in head {
            every_second.tick().await;
            if writer.write_all(&[*byte]).await.is_err() {
                break;
            }
        }
        // Holds the socket open until the reader below is done.
        std::future::pending::<()>().await
    };
    let closed = until_closed(&mut reader);
    // The default limit is 10 s: closing well before it proves the setting is the one in use.
    let closed = tokio::time::timeout(Duration::from_secs(8), async {
        tokio::select! {
            () = closed => {}
            () = trickle => {}
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "still open after {:?} of one byte a second",
        started.elapsed()
    );
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[tokio::test]
async fn a_kept_alive_connection_without_a_request_is_closed_at_the_idle_timeout() {
    let app = spawn_app_with(with_limits(ConnectionLimits {
        idle_timeout: Duration::from_secs(2),
        ..ConnectionLimits::default()
    }))
    .await;
    let mut stream = TcpStream::connect(app.address).await.unwrap();
    get_jwks_on(&mut stream).await;
    let started = Instant::now();
    // Closed before the header timeout (10 s) could have done it: the idle limit did.
    let closed = tokio::time::timeout(Duration::from_secs(8), until_closed(&mut stream)).await;
    assert!(
        closed.is_ok(),
        "still open after {:?} idle",
        started.elapsed()
    );
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[tokio::test]
async fn a_body_that_stops_arriving_is_408_at_the_token_and_admin_endpoints() {
    let setup = with_limits(ConnectionLimits {
        body_timeout: Duration::from_secs(2),
        ..ConnectionLimits::default()
    });
    let (app, ops) = spawn_seeded(setup, async |seed| {
        seed.app(new_app("ops").scopes(&["latchkey:admin"])).await
    })
    .await;
    let admin = app
        .token_for(&ops, Some("latchkey:admin"))
        .await
        .access_token();
    let form = "grant_type=client_credentials&client_id=x";
    let token_head = format!(
        "POST {TOKEN_PATH} HTTP/1.1\r\nHost: issuer.test\r\nContent-Type: {FORM}\r\n\
         Content-Length: 200\r\n\r\n{form}"
    );
    let admin_head = format!(
        "POST /admin/v1/tenants HTTP/1.1\r\nHost: issuer.test\r\nAuthorization: Bearer {admin}\r\n\
         Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{{\"name\":"
    );
    for head in [token_head, admin_head] {
        let started = Instant::now();
        let reply = app.raw_reply(head.into_bytes()).await;
        reply.assert_error(408, "invalid_request");
        assert!(started.elapsed() < Duration::from_secs(8));
        assert_eq!(reply.header("connection"), Some("close"));
    }
}

#[tokio::test]
async fn a_head_over_the_limit_is_431_and_one_under_it_is_served() {
    let (app, worker) =
        spawn_seeded(Setup::default(), async |seed| seed.app(new_app("w")).await).await;
    let big = "a".repeat(20 * 1024);
    let request = format!(
        "GET {JWKS_PATH} HTTP/1.1\r\nHost: issuer.test\r\nConnection: close\r\nX-Big: {big}\r\n\r\n"
    );
    assert_eq!(app.raw_http(request.into_bytes(), false).await, Some(431));

    let within = "a".repeat(12 * 1024);
    let reply = app
        .send(
            app.request(Method::POST, TOKEN_PATH)
                .header("x-padding", within)
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id(&worker)),
                    ("client_secret", client_secret(&worker)),
                ]),
        )
        .await;
    reply.access_token();
}

/// The open-file limit of this process, from /proc (none where it cannot be read).
fn open_file_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

#[tokio::test]
async fn two_thousand_idle_connections_do_not_keep_a_fresh_client_from_a_token() {
    const IDLE: usize = 2000;
    // Each idle connection is two descriptors here: the test's end and the server's.
    match open_file_limit() {
        Some(limit) if limit >= (IDLE as u64) * 2 + 500 => {}
        limit => {
            eprintln!(
                "skipped: {IDLE} idle connections need about {} open files, and the limit is \
                 {limit:?} (raise it with `ulimit -n`)",
                IDLE * 2 + 500
            );
            return;
        }
    }
    let (app, worker) =
        spawn_seeded(Setup::default(), async |seed| seed.app(new_app("w")).await).await;
    let mut idle = Vec::with_capacity(IDLE);
    for _ in 0..IDLE {
        idle.push(TcpStream::connect(app.address).await.unwrap());
    }
    app.token_for(&worker, None).await.access_token();
    // They were idle, not closed: the last one still gets an answer.
    get_jwks_on(idle.last_mut().unwrap()).await;
}

#[tokio::test]
async fn past_max_connections_a_new_connection_waits_until_one_closes() {
    let (app, worker) = spawn_seeded(
        with_limits(ConnectionLimits {
            max_connections: 2,
            ..ConnectionLimits::default()
        }),
        async |seed| seed.app(new_app("w")).await,
    )
    .await;
    let first = TcpStream::connect(app.address).await.unwrap();
    let _second = TcpStream::connect(app.address).await.unwrap();
    // Both slots are taken: a third client waits in the listen backlog.
    let waiting = tokio::spawn({
        let http = Http::clone(&app);
        async move { http.token_for(&worker, None).await }
    });
    // What must not happen can only be watched for a while.
    let answered = tokio::time::timeout(Duration::from_millis(1500), async {
        while !waiting.is_finished() {
            tokio::time::sleep(POLL_EVERY).await;
        }
    })
    .await;
    assert!(answered.is_err(), "answered with every slot taken");
    drop(first);
    let reply = tokio::time::timeout(WAIT, waiting)
        .await
        .expect("answered once a slot was free")
        .unwrap();
    reply.access_token();
}
