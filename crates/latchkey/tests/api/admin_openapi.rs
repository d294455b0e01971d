//! The admin API's OpenAPI document: served without authentication, the same as the checked-in
//! copy, and documenting every operation.

use crate::harness::*;
use serde_json::Value;

#[tokio::test]
async fn the_openapi_document_is_served_without_auth_and_matches_the_checked_in_copy() {
    let app = spawn_app().await;

    let reply = app.get("/admin/v1/openapi.json").await;

    assert_eq!(reply.status.as_u16(), 200, "{reply:?}");
    let served = reply.json();
    assert_eq!(served["openapi"], "3.1.0");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/admin-openapi.json");
    let checked_in: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(served, checked_in);
    for (method, path, _) in every_operation() {
        let template = path
            .replace("/acme", "/{tenant}")
            .replace("/globex", "/{tenant}")
            .replace("/default", "/{tenant}")
            .replace("/00000000000000000000000000000000", "/{client_id}")
            .replace("/x/", "/{client_id}/")
            .replace("/federations/r", "/federations/{name}");
        let operation = &served["paths"][&template][method.as_str().to_lowercase()];
        assert!(
            operation.is_object(),
            "{method} {template} is not documented"
        );
    }
}
