//! The web console's session rules: the cookie that carries an admin access token, and the
//! CSRF token every change must present beside it.
//!
//! The session is the admin token itself, in an `HttpOnly`, `SameSite=Strict` cookie: the
//! console's script never sees it, and it ends when the token does (expiry, or revocation at
//! sign-out). The CSRF token is a digest of that token, so it needs no key and no stored state,
//! holds on every node, and cannot be made by a page that cannot read the cookie.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The cookie holding a console session.
pub const SESSION_COOKIE: &str = "latchkey_console";

/// The header a change made from the console carries its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Binds the digest to this use, so it is not the digest of the token for any other purpose.
const CSRF_CONTEXT: &[u8] = b"latchkey console csrf v1\0";

/// The CSRF token of the session whose cookie holds `session_token`.
pub fn csrf_token(session_token: &str) -> String {
    let digest = Sha256::new()
        .chain_update(CSRF_CONTEXT)
        .chain_update(session_token.as_bytes())
        .finalize();
    URL_SAFE_NO_PAD.encode(digest)
}

/// Whether `presented` is the CSRF token of `session_token`, compared in constant time.
pub fn csrf_matches(session_token: &str, presented: &str) -> bool {
    csrf_token(session_token)
        .as_bytes()
        .ct_eq(presented.as_bytes())
        .into()
}

/// Whether a request with this method changes something, and so must carry the CSRF token
/// when it is authenticated by the cookie (RFC 9110 §9.2.1: only these are safe).
pub fn is_change(method: &str) -> bool {
    !matches!(method, "GET" | "HEAD" | "OPTIONS")
}

/// The `Set-Cookie` value that opens a session holding `token` for `max_age` seconds.
/// `secure` adds `Secure`, for a console reached over HTTPS.
pub fn session_cookie(token: &str, max_age: u64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{SESSION_COOKIE}={token}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn cleared_cookie(secure: bool) -> String {
    session_cookie("", 0, secure)
}

/// The session token among the `Cookie` header values: the first `latchkey_console` pair
/// with a value (RFC 6265 §5.4: pairs separated by `;`).
pub fn session_from_cookies<'a>(headers: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    headers
        .into_iter()
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == SESSION_COOKIE && !value.is_empty())
        .map(|(_, value)| value.trim_matches('"'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csrf_token_is_fixed_by_the_session_and_differs_between_sessions() {
        let one = csrf_token("header.claims.signature");
        assert_eq!(one, csrf_token("header.claims.signature"));
        assert_ne!(one, csrf_token("header.claims.signaturf"));
        // 32 bytes of SHA-256, base64url without padding.
        assert_eq!(one.len(), 43);
        assert!(!one.contains("header"));
    }

    #[test]
    fn only_the_sessions_own_csrf_token_matches() {
        let session = "a.b.c";
        assert!(csrf_matches(session, &csrf_token(session)));
        assert!(!csrf_matches(session, &csrf_token("a.b.d")));
        assert!(!csrf_matches(session, ""));
        assert!(!csrf_matches(session, &csrf_token(session)[..42]));
        assert!(!csrf_matches(session, session));
    }

    #[test]
    fn safe_methods_are_not_changes_and_every_other_method_is() {
        for method in ["GET", "HEAD", "OPTIONS"] {
            assert!(!is_change(method), "{method}");
        }
        for method in ["POST", "PUT", "PATCH", "DELETE", "get", "TRACE"] {
            assert!(is_change(method), "{method}");
        }
    }

    #[test]
    fn the_session_cookie_is_http_only_strict_and_secure_over_tls() {
        assert_eq!(
            session_cookie("t.o.k", 300, false),
            "latchkey_console=t.o.k; Path=/; Max-Age=300; HttpOnly; SameSite=Strict"
        );
        assert_eq!(
            session_cookie("t.o.k", 60, true),
            "latchkey_console=t.o.k; Path=/; Max-Age=60; HttpOnly; SameSite=Strict; Secure"
        );
        assert_eq!(
            cleared_cookie(false),
            "latchkey_console=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"
        );
    }

    #[test]
    fn the_session_is_read_from_any_cookie_header_among_other_cookies() {
        assert_eq!(
            session_from_cookies(["latchkey_console=a.b.c"]),
            Some("a.b.c")
        );
        assert_eq!(
            session_from_cookies(["theme=dark; latchkey_console=a.b.c; lang=en"]),
            Some("a.b.c")
        );
        assert_eq!(
            session_from_cookies(["theme=dark", "latchkey_console=x.y.z"]),
            Some("x.y.z")
        );
        assert_eq!(
            session_from_cookies(["latchkey_console=\"q.r.s\""]),
            Some("q.r.s")
        );
    }

    #[test]
    fn no_cookie_an_empty_one_or_a_lookalike_name_is_no_session() {
        assert_eq!(session_from_cookies([]), None);
        assert_eq!(session_from_cookies(["latchkey_console="]), None);
        assert_eq!(session_from_cookies(["xlatchkey_console=a.b.c"]), None);
        assert_eq!(session_from_cookies(["latchkey_console_old=a.b.c"]), None);
        assert_eq!(session_from_cookies(["latchkey_console"]), None);
    }
}
