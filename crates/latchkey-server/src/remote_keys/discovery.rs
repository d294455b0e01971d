//! An issuer's OpenID Connect discovery document, read for the one thing latchkey needs from
//! it: the `jwks_uri`, after checking the document is the configured issuer's own. Pure.

use super::{RemoteKeyError, uri};
use reqwest::Url;
use serde::Deserialize;

/// The members read; the rest of the document is ignored.
#[derive(Deserialize)]
struct Document {
    issuer: String,
    jwks_uri: String,
}

/// The key set URL the discovery document `body` names for `issuer`. OpenID Connect Discovery
/// 1.0 §4.3: the document's `issuer` must be identical to the issuer it was fetched for, else a
/// server could make latchkey trust keys in another issuer's name. The `jwks_uri` passes the
/// same rule as a configured URL, so a document cannot send latchkey to plain HTTP elsewhere.
pub(super) fn jwks_uri(body: &[u8], issuer: &str) -> Result<Url, RemoteKeyError> {
    let document: Document =
        serde_json::from_slice(body).map_err(|_| RemoteKeyError::BadDiscovery)?;
    if document.issuer != issuer {
        return Err(RemoteKeyError::BadDiscovery);
    }
    uri::allowed(&document.jwks_uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://issuer.example";

    fn check(body: &str, expected: Result<&str, RemoteKeyError>) {
        let found = jwks_uri(body.as_bytes(), ISSUER).map(|url| url.to_string());
        assert_eq!(found.as_deref().map_err(Clone::clone), expected, "{body}");
    }

    #[test]
    fn the_jwks_uri_of_the_configured_issuer_is_read() {
        check(
            r#"{"issuer":"https://issuer.example","jwks_uri":"https://keys.example/jwks","response_types_supported":["id_token"]}"#,
            Ok("https://keys.example/jwks"),
        );
    }

    #[test]
    fn another_issuer_is_refused() {
        check(
            r#"{"issuer":"https://other.example","jwks_uri":"https://keys.example/jwks"}"#,
            Err(RemoteKeyError::BadDiscovery),
        );
        check(
            r#"{"issuer":"https://issuer.example/","jwks_uri":"https://keys.example/jwks"}"#,
            Err(RemoteKeyError::BadDiscovery),
        );
    }

    #[test]
    fn a_jwks_uri_over_plain_http_elsewhere_is_refused() {
        check(
            r#"{"issuer":"https://issuer.example","jwks_uri":"http://keys.example/jwks"}"#,
            Err(RemoteKeyError::NotAllowed),
        );
    }

    #[test]
    fn a_document_without_its_members_is_refused() {
        check(
            r#"{"issuer":"https://issuer.example"}"#,
            Err(RemoteKeyError::BadDiscovery),
        );
        check(
            r#"{"jwks_uri":"https://keys.example/jwks"}"#,
            Err(RemoteKeyError::BadDiscovery),
        );
        check("<html>", Err(RemoteKeyError::BadDiscovery));
        check(
            r#"{"issuer":1,"jwks_uri":"https://keys.example/jwks"}"#,
            Err(RemoteKeyError::BadDiscovery),
        );
    }
}
