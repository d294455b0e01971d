//! `GET /metrics` on the metrics listener (`--metrics-listen`), never on the public one: the
//! Prometheus text of this node's counters and gauges (`metrics::exposition`).

use super::AppState;
use super::response;
use crate::metrics::exposition::{CONTENT_TYPE, Scrape};
use axum::Router;
use axum::extract::State;
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// The path Prometheus scrapes.
pub(crate) const METRICS: &str = "/metrics";

/// The metrics listener's one route; anything else is a 404.
pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route(METRICS, get(metrics))
        .fallback(response::not_found)
        .with_state(state)
}

async fn metrics(State(state): State<AppState>) -> Response {
    let Some(metrics) = &state.metrics else {
        return response::not_found().await.into_response();
    };
    let snapshot = state.registry.current();
    let text = Scrape {
        metrics,
        snapshot: &snapshot,
        freshness: &state.freshness,
        now: state.clock.now(),
    }
    .render();
    let mut answer = (StatusCode::OK, text).into_response();
    let headers = answer.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    answer
}
