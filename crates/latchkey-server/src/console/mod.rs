//! The web console at `/console`: pages for tenants, apps, keys and the audit trail, served
//! from files embedded in the binary (`assets`), and the session that lets them call the admin
//! API (`session`). The pages hold no second path to the data: every read and change is an
//! admin API request, authorized as any other (`admin::auth`).
//!
//! Every console answer carries a strict Content-Security-Policy (scripts and styles from the
//! console's own files only, nothing from elsewhere), and may not be framed or leak its address.

mod assets;
mod session;

use crate::http::AppState;
use axum::http::HeaderValue;
use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::response::Response;
use axum::routing::get;
use axum::{Router, middleware};

/// Where the console is served.
pub const CONSOLE_PATH: &str = "/console";

/// Only the console's own files, and requests to its own origin; no inline script or style,
/// no plugin, no framing, no form posted elsewhere.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The console's routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(CONSOLE_PATH, get(assets::index))
        .route("/console/", get(assets::index))
        .route(
            "/console/session",
            get(session::show)
                .post(session::sign_in)
                .delete(session::sign_out),
        )
        .route("/console/{*file}", get(assets::file))
        .layer(middleware::map_response(protect))
}

/// The headers of every console answer, errors included.
async fn protect(mut answer: Response) -> Response {
    let headers = answer.headers_mut();
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    answer
}
