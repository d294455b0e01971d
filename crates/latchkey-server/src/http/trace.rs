//! The request span: every request is handled inside a `request` span naming its method and
//! path, so that whatever a handler logs can be told apart by request. Never the query, the
//! headers or the body, which can carry credentials.
//!
//! The span and the request's start and end events are at `debug`: the default `info` log
//! prints exactly what it printed without them, and a disabled span costs a branch.

use axum::http::Request;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::{DefaultOnRequest, DefaultOnResponse, MakeSpan, TraceLayer};
use tracing::{Level, Span};

/// The layer that runs each request in its span.
pub(crate) type RequestSpanLayer = TraceLayer<
    SharedClassifier<ServerErrorsAsFailures>,
    RequestSpan,
    DefaultOnRequest,
    DefaultOnResponse,
    (),
    (),
    (),
>;

/// The request span layer. Failures are not logged here: a server-side failure is logged once,
/// with its cause, where it happens (`response::server_error`).
pub(crate) fn layer() -> RequestSpanLayer {
    TraceLayer::new_for_http()
        .make_span_with(RequestSpan)
        .on_request(DefaultOnRequest::new().level(Level::DEBUG))
        .on_response(DefaultOnResponse::new().level(Level::DEBUG))
        .on_body_chunk(())
        .on_eos(())
        .on_failure(())
}

/// Makes a request's span from its method and path.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestSpan;

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, request: &Request<B>) -> Span {
        tracing::debug_span!(
            "request",
            method = %request.method(),
            path = request.uri().path(),
        )
    }
}
