//! Reading compact JWS tokens (RFC 7515 §7.1) for verification: strict about shape, so that
//! anything but a well-formed token of latchkey's own making is refused before any crypto runs.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

/// Longest token accepted for verification; latchkey's tokens are well under 2 KiB, and app
/// settings are bounded so that none is longer.
pub const MAX_TOKEN_BYTES: usize = latchkey_protocol::introspection::MAX_TOKEN_BYTES;

/// The protected header fields latchkey looks at.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct JwsHeader {
    /// The algorithm the token claims; it must equal the key's own algorithm.
    pub alg: String,
    /// The key id.
    #[serde(default)]
    pub kid: Option<String>,
    /// The token's media type (RFC 7515 §4.1.9): client assertions are checked for it.
    #[serde(default)]
    pub typ: Option<String>,
    /// Critical extensions; latchkey understands none, so any makes the token invalid (RFC 7515
    /// §4.1.11).
    #[serde(default)]
    pub crit: Option<serde_json::Value>,
}

/// A decoded compact JWS, not yet verified. Its `Debug` shows the header only: the rest would
/// put the token into a log.
#[derive(Clone)]
pub struct CompactJws<'a> {
    /// The protected header.
    pub header: JwsHeader,
    /// The decoded payload.
    pub payload: Vec<u8>,
    pub(crate) signing_input: &'a str,
    pub(crate) signature: Vec<u8>,
}

impl std::fmt::Debug for CompactJws<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompactJws")
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}

/// Splits and decodes a compact JWS. `None` for anything malformed: not three base64url parts,
/// padding, a header that is not JSON, a `crit` header, or an oversized token.
pub fn decode(token: &str) -> Option<CompactJws<'_>> {
    if token.len() > MAX_TOKEN_BYTES {
        return None;
    }
    let (signing_input, signature) = token.rsplit_once('.')?;
    let (header, payload) = signing_input.split_once('.')?;
    if payload.contains('.') {
        return None;
    }
    let header: JwsHeader = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    if header.crit.is_some() {
        return None;
    }
    Some(CompactJws {
        header,
        payload: URL_SAFE_NO_PAD.decode(payload).ok()?,
        signing_input,
        signature: URL_SAFE_NO_PAD.decode(signature).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    #[test]
    fn well_formed_token_decodes() {
        let token = format!(
            "{}.{}.{}",
            part(r#"{"alg":"RS256","kid":"k"}"#),
            part("{}"),
            part("sig")
        );
        let jws = decode(&token).unwrap();
        assert_eq!(
            (jws.header.alg.as_str(), jws.header.kid.as_deref()),
            ("RS256", Some("k"))
        );
        assert_eq!(jws.payload, b"{}");
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let header = part(r#"{"alg":"RS256"}"#);
        for token in [
            "not-a-jwt".to_string(),
            format!("{header}.{}", part("{}")),
            format!("{header}.{}.{}.x", part("{}"), part("s")),
            format!("{}.{}.{}", part("not json"), part("{}"), part("s")),
            format!("{header}.e30=.{}", part("s")),
            format!(
                "{}.{}.{}",
                part(r#"{"alg":"RS256","crit":["exp"]}"#),
                part("{}"),
                part("s")
            ),
            "a".repeat(MAX_TOKEN_BYTES + 1),
        ] {
            assert!(decode(&token).is_none(), "{token}");
        }
    }
}
