//! Accepting connections and holding them to their limits: at most `max_connections` served at
//! once (past it, new ones wait in the listen backlog), TLS when configured, HTTP/1.1 and
//! HTTP/2, a deadline for a request's head (`activity`) and for its body (`body`), idle
//! keep-alive connections closed, and a graceful shutdown bounded by `shutdown_timeout`.
//! Every request has its host checked (`http::strict_host`) and carries its socket peer as
//! `ConnectInfo<SocketAddr>`; every answer carries `X-Content-Type-Options: nosniff`, and over
//! TLS `Strict-Transport-Security`.

mod activity;
mod body;

use crate::http::error::OAuthError;
use crate::http::source::ArrivedOverTls;
use crate::http::strict_host;
use activity::{Activity, Watched};
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::header::{CONNECTION, HOST, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderValue, Request, Response, StatusCode};
use axum::response::IntoResponse;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use latchkey_protocol::TokenError;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// `X-Content-Type-Options` on every response.
const NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");

/// One year, the answer of every response served over TLS.
const HSTS: HeaderValue = HeaderValue::from_static("max-age=31536000");

/// The smallest head buffer hyper accepts.
pub const MIN_HEADER_BYTES: usize = 8192;

/// How long misbehaving or idle connections may hold a server's resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// A request's head (request line and headers) must arrive within this, from its first
    /// byte or from the connection's start; a TLS handshake too.
    pub header_timeout: Duration,
    /// A request's body must arrive within this, from its head: 408 past it.
    pub body_timeout: Duration,
    /// A connection with no request in flight is closed after this long without one.
    pub idle_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// The largest request head, in bytes (at least `MIN_HEADER_BYTES`): 431 past it.
    pub max_header_bytes: usize,
    /// How long a stop waits for in-flight requests before closing their connections.
    pub shutdown_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> ConnectionLimits {
        ConnectionLimits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 10_000,
            max_header_bytes: 16 * 1024,
            shutdown_timeout: Duration::from_secs(30),
        }
    }
}

/// Serves `app` on `listener` until `shutdown`, then lets in-flight requests finish for at most
/// `limits.shutdown_timeout` (idle connections are closed at once) and closes what is left.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<TlsAcceptor>,
    limits: ConnectionLimits,
    mut shutdown: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let server = Arc::new(Server {
        app,
        tls,
        limits,
        http: http_builder(&limits),
    });
    let mut connections = JoinSet::new();
    loop {
        // Finished connections are reaped as new ones come, so the set stays as large as the
        // connections open.
        while connections.try_join_next().is_some() {}
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            _ = shutdown.wait_for(|stopped| *stopped) => break,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.wait_for(|stopped| *stopped) => break,
        };
        match accepted {
            Ok((stream, peer)) => {
                connections.spawn(Arc::clone(&server).connection(
                    stream,
                    peer,
                    permit,
                    shutdown.clone(),
                ));
            }
            // Out of file descriptors, or a connection reset before it was accepted: pausing
            // keeps a full table from becoming a busy loop.
            Err(error) => {
                tracing::warn!(%error, "could not accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    drop(listener);
    let drained = tokio::time::timeout(limits.shutdown_timeout, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = connections.len(),
            "shutdown timeout reached: closing the connections still serving"
        );
    }
    connections.shutdown().await;
}

fn http_builder(limits: &ConnectionLimits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // The head deadline is `activity`'s, which also tells a slow head from an idle connection
    // (hyper's own starts with the wait for the next request, closing idle ones as soon).
    builder
        .http1()
        .header_read_timeout(None)
        .max_buf_size(limits.max_header_bytes.max(MIN_HEADER_BYTES));
    builder
        .http2()
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX));
    builder
}

/// What every connection of one server shares.
struct Server {
    app: Router,
    tls: Option<TlsAcceptor>,
    limits: ConnectionLimits,
    http: auto::Builder<TokioExecutor>,
}

impl Server {
    async fn connection(
        self: Arc<Server>,
        stream: TcpStream,
        peer: SocketAddr,
        _permit: OwnedSemaphorePermit,
        mut shutdown: watch::Receiver<bool>,
    ) {
        // Token requests are small: Nagle's delay would only add latency.
        let _ = stream.set_nodelay(true);
        let activity = Arc::new(Activity::default());
        let stream = Watched::new(stream, Arc::clone(&activity), &self.limits);
        match &self.tls {
            None => self.http(stream, peer, activity, false, shutdown).await,
            Some(acceptor) => {
                let handshake = tokio::select! {
                    handshake = acceptor.accept(stream) => handshake,
                    _ = shutdown.wait_for(|stopped| *stopped) => return,
                };
                match handshake {
                    Ok(stream) => self.http(stream, peer, activity, true, shutdown).await,
                    Err(error) => tracing::debug!(%peer, %error, "TLS handshake failed"),
                }
            }
        }
    }

    async fn http<S>(
        &self,
        stream: S,
        peer: SocketAddr,
        activity: Arc<Activity>,
        tls: bool,
        mut shutdown: watch::Receiver<bool>,
    ) where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let app = self.app.clone();
        let body_timeout = self.limits.body_timeout;
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let serving = activity.serving();
            let app = app.clone();
            async move {
                let response = respond(app, request, peer, body_timeout, tls).await;
                drop(serving);
                Ok::<_, Infallible>(response)
            }
        });
        let connection = self.http.serve_connection(TokioIo::new(stream), service);
        tokio::pin!(connection);
        tokio::select! {
            served = connection.as_mut() => {
                if let Err(error) = served {
                    tracing::debug!(%peer, %error, "connection closed with an error");
                }
                return;
            }
            _ = shutdown.wait_for(|stopped| *stopped) => {}
        }
        // Closes the connection when idle, or after the requests in flight are answered.
        connection.as_mut().graceful_shutdown();
        let _ = connection.await;
    }
}

/// Hands a request to the router, with its host checked, its peer, and its body under the body
/// deadline.
async fn respond(
    app: Router,
    request: Request<Incoming>,
    peer: SocketAddr,
    body_timeout: Duration,
    tls: bool,
) -> Response<Body> {
    let (mut parts, incoming) = request.into_parts();
    let mut response = match strict_host::check(parts.version, &parts.uri, &parts.headers) {
        Err(refusal) => OAuthError::from(TokenError::InvalidRequest(refusal)).into_response(),
        Ok(host) => {
            if let Some(host) = host {
                parts.headers.insert(HOST, host);
            }
            parts.extensions.insert(ConnectInfo(peer));
            if tls {
                parts.extensions.insert(ArrivedOverTls);
            }
            let (incoming, expired) = body::Deadline::new(incoming, body_timeout);
            let request = Request::from_parts(parts, Body::new(incoming));
            let response = match app.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            if expired.is_set() {
                body_too_slow()
            } else {
                response
            }
        }
    };
    // Every answer, the router's or not: a browser must not read JSON as something else.
    response
        .headers_mut()
        .insert(X_CONTENT_TYPE_OPTIONS, NOSNIFF);
    if tls {
        response
            .headers_mut()
            .insert(STRICT_TRANSPORT_SECURITY, HSTS);
    }
    response
}

/// 408, whatever the handler made of a body that stopped arriving; the connection is closed,
/// since the rest of that body would otherwise be read as the next request.
fn body_too_slow() -> Response<Body> {
    let refusal = TokenError::InvalidRequest("the request body did not arrive in time");
    let mut response = OAuthError::from(refusal).into_response();
    *response.status_mut() = StatusCode::REQUEST_TIMEOUT;
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    response
}
