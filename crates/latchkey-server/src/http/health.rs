//! `GET /healthz`: answers 200 once the server is serving (the snapshot is loaded before the
//! listener accepts anything).

use super::AppState;
use super::response;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

pub(crate) async fn healthz(State(_state): State<AppState>) -> Response {
    response::json_value(StatusCode::OK, &serde_json::json!({ "status": "ok" }))
}
