//! The admin API's JSON bodies (`latchkey_server::admin::fuzzing`): each body type read from
//! the bytes and checked as its handler checks it.

use latchkey_server::admin::fuzzing::{self, Body};

/// Every body type reads the same bytes: a refusal is a 400 (not a JSON object of that type)
/// or a 422 (a setting breaks a rule), never a server error.
pub fn run(data: &[u8]) {
    let object = serde_json::from_slice::<serde_json::Value>(data)
        .map(|value| value.is_object())
        .unwrap_or(false);
    let blank = data.iter().all(u8::is_ascii_whitespace);
    for body in Body::ALL {
        match fuzzing::check(body, data) {
            Ok(()) => assert!(
                object || blank,
                "{body:?} accepted a body that is no JSON object"
            ),
            Err(refusal) => {
                match (refusal.status, refusal.error) {
                    (400, "invalid_request") => {}
                    (422, "invalid_settings") => assert!(object || blank, "{body:?}: {refusal:?}"),
                    _ => panic!("{body:?} refused with {refusal:?}"),
                }
                assert!(!refusal.description.is_empty());
            }
        }
    }
}
