//! The HTTP Basic header parser (`latchkey_protocol::client_auth::parse_basic`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use latchkey_protocol::TokenError;
use latchkey_protocol::client_auth::{self, AuthFailure};

/// The id and secret as a client encodes them (RFC 6749 §2.3.1: form-encoded, then Basic).
fn header(id: &str, secret: &str) -> String {
    let encode = |text: &str| form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", encode(id), encode(secret)))
    )
}

pub fn run(data: &[u8]) {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    match client_auth::parse_basic(Some(value)) {
        Ok(None) => {
            let scheme = value.trim().split(' ').next().unwrap_or_default();
            assert!(
                !scheme.eq_ignore_ascii_case("basic"),
                "a Basic header was ignored"
            );
        }
        Ok(Some((id, secret))) => {
            assert!(!id.is_empty(), "a Basic header gave an empty client id");
            // What a client encodes from the parsed id and secret parses back to them.
            let again = client_auth::parse_basic(Some(&header(&id, secret.expose())))
                .expect("a client's Basic header parses")
                .expect("a client's Basic header is Basic");
            assert_eq!(again.0, id);
            assert_eq!(again.1.expose(), secret.expose());
        }
        Err(error) => assert_eq!(
            error,
            TokenError::InvalidClient {
                basic: true,
                reason: AuthFailure::MalformedBasic
            }
        ),
    }
    // The whole credentials decision with a Basic header and nothing in the body.
    match client_auth::credentials(Some(value), client_auth::AuthForm::default()) {
        Ok(credentials) => assert!(!credentials.client_id.is_empty()),
        Err(error) => assert!(
            matches!(error, TokenError::InvalidClient { .. }),
            "{error:?}"
        ),
    }
}
