//! `GET /healthz`: answers 200 once the server is serving (the snapshot is loaded before the
//! listener accepts anything). `GET /readyz`: whether this node serves tokens, and from how
//! fresh a snapshot: a load balancer keeps a node that serves from memory while the database
//! is away (every node would be pulled at once otherwise), and drops one past its maximum
//! staleness.

use super::AppState;
use super::response;
use crate::freshness::Readiness;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

pub(crate) async fn healthz(State(_state): State<AppState>) -> Response {
    response::json_value(StatusCode::OK, &json!({ "status": "ok" }))
}

pub(crate) async fn readyz(State(state): State<AppState>) -> Response {
    let answer = match state.freshness.readiness() {
        Readiness::Ready => (StatusCode::OK, json!({ "status": "ready" })),
        Readiness::Degraded { age } => (
            StatusCode::OK,
            json!({
                "status": "degraded",
                "reason": "the database did not answer; serving tokens from memory",
                "snapshot_age_seconds": age,
            }),
        ),
        Readiness::Stale { age } => (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({
                "status": "unavailable",
                "reason": "the database has not answered for longer than --max-staleness; not serving tokens",
                "snapshot_age_seconds": age,
            }),
        ),
    };
    response::no_store(response::json_value(answer.0, &answer.1))
}
