//! A stop stops accepting at once, closes idle keep-alive connections at once, lets a request
//! in flight finish (its body may still be arriving), and gives up on one that does not finish
//! within the shutdown timeout.

use crate::harness::*;
use latchkey_server::ConnectionLimits;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn with_limits(limits: ConnectionLimits) -> Setup {
    Setup {
        limits,
        ..Setup::default()
    }
}

/// Waits (bounded) until the server refuses new connections: the stop is under way.
async fn until_refusing(address: std::net::SocketAddr) {
    eventually(
        "the server to stop accepting",
        async || match TcpStream::connect(address).await {
            Ok(_) => Err("a new connection was accepted".to_owned()),
            Err(_) => Ok(()),
        },
    )
    .await;
}

async fn read_all(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(WAIT, stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_request_in_flight_finishes_after_stop_and_idle_connections_close_at_once() {
    let (mut app, worker) =
        spawn_seeded(Setup::default(), async |seed| seed.app(new_app("w")).await).await;
    let address = app.address;
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        client_id(&worker),
        client_secret(&worker)
    );
    let mut in_flight = TcpStream::connect(address).await.unwrap();
    in_flight
        .write_all(
            format!(
                "POST {TOKEN_PATH} HTTP/1.1\r\nHost: issuer.test\r\nContent-Type: {FORM}\r\n\
                 Content-Length: {}\r\nExpect: 100-continue\r\n\r\n",
                form.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    // `100 Continue` is sent once the handler reads the body: the request is in flight.
    let mut continue_head = [0; 25];
    in_flight.read_exact(&mut continue_head).await.unwrap();
    assert_eq!(&continue_head, b"HTTP/1.1 100 Continue\r\n\r\n");
    // A kept-alive connection with no request in flight.
    let mut idle = TcpStream::connect(address).await.unwrap();
    get_jwks_on(&mut idle).await;

    let started = Instant::now();
    let stopping = tokio::spawn(async move { app.stop().await });
    until_refusing(address).await;
    // The idle connection is closed without waiting for the shutdown timeout (30 s).
    let rest = read_all(&mut idle).await;
    assert!(
        !rest.contains("HTTP/1.1"),
        "another answer on the idle connection: {rest}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));

    in_flight.write_all(form.as_bytes()).await.unwrap();
    let answer = read_all(&mut in_flight).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("access_token"), "{answer}");
    // Answered, the request's connection closes, and with it the stop ends.
    tokio::time::timeout(WAIT, stopping)
        .await
        .expect("the stop ended once the request was answered")
        .unwrap()
        .expect("a clean stop");
}

#[tokio::test]
async fn a_request_that_does_not_finish_is_given_up_at_the_shutdown_timeout() {
    let mut app = spawn_app_with(with_limits(ConnectionLimits {
        shutdown_timeout: Duration::from_secs(1),
        body_timeout: Duration::from_secs(60),
        ..ConnectionLimits::default()
    }))
    .await;
    let mut stalled = TcpStream::connect(app.address).await.unwrap();
    stalled
        .write_all(
            format!(
                "POST {TOKEN_PATH} HTTP/1.1\r\nHost: issuer.test\r\nContent-Type: {FORM}\r\n\
                 Content-Length: 100\r\n\r\ngrant_type="
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    // The request is in the router (waiting for its body) once a token request on another
    // connection is answered after it: the server reads connections concurrently, so this only
    // makes it likely; the stop must end in time either way.
    app.get(JWKS_PATH).await;
    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(20), app.stop())
        .await
        .expect("the stop ended")
        .expect("a clean stop");
    // Well before the body timeout (60 s): the shutdown timeout ended it.
    assert!(started.elapsed() < Duration::from_secs(15));
    let rest = read_all(&mut stalled).await;
    assert!(!rest.contains("200"), "{rest}");
}
