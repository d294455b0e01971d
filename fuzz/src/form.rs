//! The form parser (`latchkey_protocol::form`) and the token request parser
//! (`latchkey_protocol::token::parse`).

use latchkey_protocol::TokenError;
use latchkey_protocol::form;
use latchkey_protocol::token::{self, GrantKind, TokenForm};

/// Splits the input into a content type, an `Authorization` value and a body (at the first two
/// NUL bytes), so that one input drives all three parameters of `token::parse`.
fn split(data: &[u8]) -> (Option<&str>, Option<&str>, &[u8]) {
    let mut parts = data.splitn(3, |byte| *byte == 0);
    let first = parts.next().unwrap_or_default();
    let (Some(second), Some(body)) = (parts.next(), parts.next()) else {
        return (Some(form::FORM_CONTENT_TYPE), None, data);
    };
    let text = |bytes| {
        std::str::from_utf8(bytes)
            .ok()
            .filter(|text: &&str| !text.is_empty())
    };
    (text(first), text(second), body)
}

pub fn run(data: &[u8]) {
    // The generic parser: every value it returns is one the body holds, and a repeat is the
    // only error it has.
    match form::parse(data, ["grant_type", "client_id", "scope"]) {
        Ok(values) => {
            for value in values.iter().flatten() {
                assert!(!value.is_empty(), "an empty value is absent");
            }
        }
        Err(error) => assert!(matches!(error, TokenError::InvalidRequest(_)), "{error:?}"),
    }
    if let Ok(parsed) = TokenForm::parse(data) {
        // Re-encoding what was read and parsing it again gives the same form.
        let mut encoder = form_urlencoded::Serializer::new(String::new());
        let secret = parsed.client_secret.as_ref().map(|secret| secret.expose());
        for (name, value) in [
            ("grant_type", parsed.grant_type.as_deref()),
            ("client_id", parsed.client_id.as_deref()),
            ("client_secret", secret),
            ("scope", parsed.scope.as_deref()),
            ("resource", parsed.resource.as_deref()),
            ("audience", parsed.audience.as_deref()),
            (
                "client_assertion_type",
                parsed.client_assertion_type.as_deref(),
            ),
            ("client_assertion", parsed.client_assertion.as_deref()),
            ("assertion", parsed.assertion.as_deref()),
        ] {
            if let Some(value) = value {
                encoder.append_pair(name, value);
            }
        }
        let again =
            TokenForm::parse(encoder.finish().as_bytes()).expect("a re-encoded form parses");
        assert_eq!(again, parsed);
    }

    let (content_type, authorization, body) = split(data);
    match token::parse(content_type, authorization, body) {
        Ok(request) => {
            // Only the JWT bearer grant may name no client: its assertion says which app.
            assert!(
                !request.credentials.client_id.is_empty()
                    || matches!(request.grant, GrantKind::JwtBearer(_))
            );
            assert!(form::check_content_type(content_type).is_ok());
        }
        Err(error) => assert!(
            matches!(
                error,
                TokenError::InvalidRequest(_)
                    | TokenError::InvalidClient { .. }
                    | TokenError::UnsupportedGrantType
            ),
            "{error:?}"
        ),
    }
}
