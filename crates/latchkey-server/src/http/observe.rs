//! The layer every request passes that watches it end: it gives the request its id
//! (`request_id`), writes the request log line, and counts the request in the metrics. What
//! only the handler knows (the tenant, the authenticated client, how a token request ended)
//! it leaves in the answer's extensions as `RequestFacts`; errors carry their `ErrorCode`.
//!
//! A hand-written tower service rather than `axum::middleware::from_fn`, which boxes a future
//! and clones the inner service on every request: this one adds a few words to the request's
//! own future.

use super::request_id::{self, X_REQUEST_ID};
use super::{ErrorCode, paths};
use crate::metrics::{Endpoint, Metrics, TokenOutcome};
use axum::http::{HeaderValue, Method, Request};
use axum::response::{IntoResponse, Response};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;
use tower::{Layer, Service};
use tracing::Level;

/// The target of the request log lines (`LATCHKEY_LOG=latchkey::request=warn` silences them).
pub(crate) const REQUEST_LOG: &str = "latchkey::request";

/// What a handler learned about its request, for the request log and the metrics.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestFacts {
    /// The tenant the request's Host found.
    pub(crate) tenant: Option<Arc<str>>,
    /// The client that authenticated (kept only while the request log is written).
    pub(crate) client_id: Option<Box<str>>,
    /// A token issued or reused (an error answer says its outcome by its `ErrorCode`).
    pub(crate) token: Option<TokenOutcome>,
    /// Whether an introspection answered that its token is active.
    pub(crate) active: Option<bool>,
    /// Whether a revocation request revoked a token.
    pub(crate) revoked: bool,
}

impl RequestFacts {
    /// The request's tenant is `tenant`.
    pub(crate) fn tenant(&mut self, tenant: &Arc<str>) {
        self.tenant = Some(Arc::clone(tenant));
    }

    /// `client_id` authenticated. Copied only when the request log is on: it is the one
    /// allocation these facts would cost.
    pub(crate) fn authenticated(&mut self, client_id: &str) {
        if tracing::enabled!(target: REQUEST_LOG, Level::INFO) {
            self.client_id = Some(client_id.into());
        }
    }

    /// `answer` as a response, with the facts in its extensions for the layer.
    pub(crate) fn attach(self, answer: impl IntoResponse) -> Response {
        let mut answer = answer.into_response();
        answer.extensions_mut().insert(self);
        answer
    }
}

/// The layer; `metrics` is `None` when the node serves no metrics, so nothing is counted.
#[derive(Clone)]
pub(crate) struct ObserveLayer {
    pub(crate) metrics: Option<Arc<Metrics>>,
}

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Observe<S> {
        Observe {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

/// The service `ObserveLayer` wraps around the router.
#[derive(Clone)]
pub(crate) struct Observe<S> {
    inner: S,
    metrics: Option<Arc<Metrics>>,
}

impl<S, B, Body> Service<Request<B>> for Observe<S>
where
    S: Service<Request<B>, Response = axum::http::Response<Body>>,
{
    type Response = axum::http::Response<Body>;
    type Error = S::Error;
    type Future = Observed<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Observed<S::Future> {
        let started = Instant::now();
        let id = request_id::sent(request.headers()).unwrap_or_else(request_id::generate);
        let seen = Seen {
            started,
            id,
            endpoint: endpoint_of(request.uri().path()),
            method: request.method().clone(),
            metrics: self.metrics.clone(),
        };
        Observed {
            inner: self.inner.call(request),
            seen: Some(seen),
        }
    }
}

pin_project_lite::pin_project! {
    /// A request's future, with what the layer saw of it when it arrived.
    pub(crate) struct Observed<F> {
        #[pin]
        inner: F,
        seen: Option<Seen>,
    }
}

/// What the layer knows of a request before its handler runs.
pub(crate) struct Seen {
    started: Instant,
    id: HeaderValue,
    endpoint: Endpoint,
    method: Method,
    metrics: Option<Arc<Metrics>>,
}

impl<F, Body, E> Future for Observed<F>
where
    F: Future<Output = Result<axum::http::Response<Body>, E>>,
{
    type Output = Result<axum::http::Response<Body>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut result = ready!(this.inner.poll(cx));
        if let (Ok(answer), Some(seen)) = (&mut result, this.seen.take()) {
            seen.answered(answer);
        }
        Poll::Ready(result)
    }
}

impl Seen {
    /// Counts and logs the request `answer` answers, and gives the answer its request id.
    fn answered<Body>(self, answer: &mut axum::http::Response<Body>) {
        let elapsed = self.started.elapsed();
        let facts = answer
            .extensions_mut()
            .remove::<RequestFacts>()
            .unwrap_or_default();
        let error = answer.extensions().get::<ErrorCode>().map(|code| code.0);
        if let Some(metrics) = &self.metrics {
            count(metrics, self.endpoint, &facts, error);
            metrics.observe(self.endpoint, elapsed);
        }
        let status = answer.status().as_u16();
        // Every value here is latchkey's own or checked (a kept request id is well-formed, a
        // tenant name and an authenticated client id are latchkey's), so they are written as
        // they are: nothing in them can break a line.
        tracing::info!(
            target: REQUEST_LOG,
            request_id = %self.id.to_str().unwrap_or_default(),
            method = %self.method,
            endpoint = %self.endpoint.as_str(),
            tenant = facts.tenant.as_deref().map(tracing::field::display),
            client_id = facts.client_id.as_deref().map(tracing::field::display),
            status,
            error = error.map(tracing::field::display),
            duration_ms = elapsed.as_secs_f64() * 1000.0,
            "request"
        );
        answer.headers_mut().insert(X_REQUEST_ID, self.id);
    }
}

/// The endpoint a request path belongs to, for its latency histogram and log line.
fn endpoint_of(path: &str) -> Endpoint {
    match path {
        paths::TOKEN => Endpoint::Token,
        paths::INTROSPECT => Endpoint::Introspect,
        paths::REVOKE => Endpoint::Revoke,
        paths::JWKS => Endpoint::Jwks,
        paths::OAUTH_METADATA | paths::OPENID_CONFIGURATION => Endpoint::Discovery,
        paths::HEALTH | paths::READY => Endpoint::Health,
        _ if path == "/admin" || path.starts_with("/admin/") => Endpoint::Admin,
        _ => Endpoint::Other,
    }
}

/// The counters a request moves, once its tenant is known.
fn count(metrics: &Metrics, endpoint: Endpoint, facts: &RequestFacts, error: Option<&str>) {
    let Some(tenant) = &facts.tenant else {
        return;
    };
    match endpoint {
        Endpoint::Token => {
            if let Some(outcome) = facts
                .token
                .or_else(|| error.and_then(TokenOutcome::of_error))
            {
                metrics.token(tenant, outcome);
            }
        }
        Endpoint::Introspect => {
            if let Some(active) = facts.active {
                metrics.introspection(tenant, active);
            }
        }
        Endpoint::Revoke if facts.revoked => metrics.revocation(tenant),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_told_by_their_paths() {
        assert_eq!(endpoint_of("/oauth2/token"), Endpoint::Token);
        assert_eq!(endpoint_of("/oauth2/introspect"), Endpoint::Introspect);
        assert_eq!(endpoint_of("/oauth2/revoke"), Endpoint::Revoke);
        assert_eq!(endpoint_of("/oauth2/jwks"), Endpoint::Jwks);
        assert_eq!(
            endpoint_of("/.well-known/openid-configuration"),
            Endpoint::Discovery
        );
        assert_eq!(endpoint_of("/admin/v1/apps"), Endpoint::Admin);
        assert_eq!(endpoint_of("/administrator"), Endpoint::Other);
        assert_eq!(endpoint_of("/readyz"), Endpoint::Health);
        assert_eq!(endpoint_of("/oauth2/token/"), Endpoint::Other);
    }
}
