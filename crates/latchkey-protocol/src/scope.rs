//! Scope syntax (RFC 6749 §3.3) and the scope decision for a token request.

use crate::error::TokenError;
use std::fmt;
use std::sync::Arc;

/// One scope token, valid by construction: `1*( %x21 / %x23-5B / %x5D-7E )` (RFC 6749 §3.3).
/// Shared text: a snapshot of a million apps holds each distinct scope once (see
/// `Scope::share`), and cloning one is a reference count.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope(Arc<str>);

/// Why a scope text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    /// The scope is empty.
    #[error("a scope must not be empty")]
    Empty,
    /// The scope holds a character RFC 6749 §3.3 does not allow.
    #[error(
        "scope {0:?} has a character RFC 6749 allows in no scope (space, quote, backslash, control or non-ASCII)"
    )]
    BadCharacter(String),
}

fn is_scope_char(byte: u8) -> bool {
    matches!(byte, 0x21 | 0x23..=0x5B | 0x5D..=0x7E)
}

impl Scope {
    /// Checks one scope token.
    pub fn parse(text: &str) -> Result<Scope, ScopeError> {
        if text.is_empty() {
            return Err(ScopeError::Empty);
        }
        if !text.bytes().all(is_scope_char) {
            return Err(ScopeError::BadCharacter(text.to_owned()));
        }
        Ok(Scope(Arc::from(text)))
    }

    /// Makes this scope share `same`'s text (equal text, one allocation instead of two).
    pub fn share(&mut self, same: &Scope) {
        debug_assert_eq!(self, same);
        self.0 = Arc::clone(&same.0);
    }

    /// The scope as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Scope {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a `scope` parameter was refused, for `invalid_scope`'s `error_description`.
///
/// Naming the refused scope reveals nothing: the client sent it. A comma is a legal scope
/// character, so `read,write` is one scope the client does not have; the description then says
/// how scopes are separated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeRefusal {
    /// A scope with a character RFC 6749 §3.3 allows in no scope. It is not echoed: RFC 6749
    /// §5.2 allows in `error_description` only the characters such a scope lacks.
    Malformed {
        /// The parameter holds a comma.
        commas: bool,
    },
    /// A well-formed scope the client may not have (so it holds only characters an
    /// `error_description` may carry).
    NotAllowed {
        /// The first refused scope, as sent.
        scope: Box<str>,
        /// The parameter holds a comma.
        commas: bool,
    },
}

/// How much of a refused scope a description repeats: enough to recognize it, not a 64 KiB echo.
const ECHOED_SCOPE_BYTES: usize = 64;

impl ScopeRefusal {
    /// The `error_description`.
    pub fn description(&self) -> String {
        let (mut text, commas) = match self {
            ScopeRefusal::Malformed { commas } => (
                "the scope parameter is malformed: a scope is printable ASCII without quote or backslash"
                    .to_owned(),
                *commas,
            ),
            ScopeRefusal::NotAllowed { scope, commas } => {
                // A well-formed scope is ASCII, so any byte index is a character boundary.
                let shown = scope.get(..ECHOED_SCOPE_BYTES).unwrap_or(scope);
                let ellipsis = if shown.len() < scope.len() { "..." } else { "" };
                (
                    format!("scope '{shown}{ellipsis}' is not allowed for this client"),
                    *commas,
                )
            }
        };
        if commas {
            text.push_str("; scopes are space-separated, not comma-separated");
        }
        text
    }
}

/// Decides the scopes of a token.
///
/// `requested` is the raw `scope` parameter (already `None` when absent or empty). Without one,
/// the client gets its default scopes, or all of its allowed scopes when it has no defaults.
/// Requested scopes are space-separated; duplicates collapse, keeping the first position. The
/// returned scopes borrow from `allowed`, so they outlive the request.
pub fn decide<'a>(
    requested: Option<&str>,
    allowed: &'a [Scope],
    default: &'a [Scope],
) -> Result<Vec<&'a str>, TokenError> {
    let Some(requested) = requested else {
        let granted = if default.is_empty() { allowed } else { default };
        return Ok(granted.iter().map(Scope::as_str).collect());
    };
    let mut granted: Vec<&'a str> = Vec::new();
    // RFC 6749 §3.3 separates scopes by single spaces; extra spaces are tolerated as empty items.
    for item in requested.split(' ').filter(|item| !item.is_empty()) {
        if !item.bytes().all(is_scope_char) {
            return Err(TokenError::InvalidScope(ScopeRefusal::Malformed {
                commas: requested.contains(','),
            }));
        }
        let Some(scope) = allowed.iter().find(|scope| scope.as_str() == item) else {
            return Err(TokenError::InvalidScope(ScopeRefusal::NotAllowed {
                scope: item.into(),
                commas: requested.contains(','),
            }));
        };
        if !granted.contains(&scope.as_str()) {
            granted.push(scope.as_str());
        }
    }
    if granted.is_empty() {
        // Only spaces: treat as no scope asked for, like an empty parameter (RFC 6749 §3.1).
        return decide(None, allowed, default);
    }
    Ok(granted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(list: &[&str]) -> Vec<Scope> {
        list.iter().map(|s| Scope::parse(s).unwrap()).collect()
    }

    fn check(
        requested: Option<&str>,
        allowed: &[&str],
        default: &[&str],
        expected: Result<&[&str], &str>,
    ) {
        let allowed = scopes(allowed);
        let default = scopes(default);
        let got = decide(requested, &allowed, &default).map_err(|e| e.code());
        match expected {
            Ok(list) => assert_eq!(got, Ok(list.to_vec()), "{requested:?}"),
            Err(code) => assert_eq!(got, Err(code), "{requested:?}"),
        }
    }

    #[test]
    fn no_scope_gives_default_scopes() {
        check(None, &["a", "b", "c"], &["b"], Ok(&["b"]));
    }

    #[test]
    fn no_scope_and_no_defaults_gives_all_allowed() {
        check(None, &["a", "b"], &[], Ok(&["a", "b"]));
    }

    #[test]
    fn only_spaces_counts_as_no_scope() {
        check(Some("   "), &["a", "b"], &["a"], Ok(&["a"]));
    }

    #[test]
    fn requested_subset_is_granted_in_request_order() {
        check(Some("c a"), &["a", "b", "c"], &["b"], Ok(&["c", "a"]));
    }

    #[test]
    fn duplicates_collapse() {
        check(Some("a a b a"), &["a", "b"], &[], Ok(&["a", "b"]));
    }

    #[test]
    fn extra_spaces_are_tolerated() {
        check(Some(" a  b "), &["a", "b"], &[], Ok(&["a", "b"]));
    }

    #[test]
    fn scope_beyond_allowed_is_invalid_scope() {
        check(Some("a x"), &["a"], &[], Err("invalid_scope"));
    }

    #[test]
    fn scope_with_quote_is_invalid_scope() {
        check(Some("a\"b"), &["a"], &[], Err("invalid_scope"));
    }

    #[test]
    fn scope_with_tab_or_non_ascii_is_invalid_scope() {
        check(Some("a\tb"), &["a"], &[], Err("invalid_scope"));
        check(Some("é"), &["a"], &[], Err("invalid_scope"));
    }

    #[test]
    fn scope_with_a_backslash_is_invalid_scope() {
        check(Some("a\\b"), &["a"], &[], Err("invalid_scope"));
        check(Some("a \\"), &["a"], &[], Err("invalid_scope"));
    }

    #[test]
    fn scopes_are_compared_case_sensitively() {
        check(Some("A"), &["a"], &[], Err("invalid_scope"));
    }

    fn refusal(requested: &str, allowed: &[&str]) -> String {
        match decide(Some(requested), &scopes(allowed), &[]) {
            Err(TokenError::InvalidScope(refusal)) => refusal.description(),
            other => panic!("{requested:?}: {other:?}"),
        }
    }

    #[test]
    fn a_refused_scope_is_named() {
        assert_eq!(
            refusal("read admin", &["read"]),
            "scope 'admin' is not allowed for this client"
        );
    }

    #[test]
    fn a_comma_separated_request_is_told_scopes_are_space_separated() {
        assert_eq!(
            refusal("read,write", &["read", "write"]),
            "scope 'read,write' is not allowed for this client; scopes are space-separated, not comma-separated"
        );
        assert!(refusal("read, write", &["read", "write"]).ends_with("not comma-separated"));
    }

    #[test]
    fn a_malformed_scope_is_not_echoed() {
        let text = refusal("a\"b,c", &["a"]);
        assert!(
            text.starts_with("the scope parameter is malformed"),
            "{text}"
        );
        assert!(text.ends_with("not comma-separated"), "{text}");
        assert!(!text.contains('"'), "{text}");
    }

    #[test]
    fn a_long_refused_scope_is_shortened() {
        let long = "x".repeat(1000);
        let text = refusal(&long, &["a"]);
        assert_eq!(
            text,
            format!(
                "scope '{}...' is not allowed for this client",
                "x".repeat(64)
            )
        );
    }

    #[test]
    fn every_description_keeps_to_the_characters_rfc_6749_allows() {
        // RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E.
        for (requested, allowed) in [("a\"b", &["a"][..]), ("x,y", &["a"]), ("é", &["a"])] {
            let text = refusal(requested, allowed);
            assert!(
                text.bytes()
                    .all(|byte| matches!(byte, 0x20 | 0x21 | 0x23..=0x5B | 0x5D..=0x7E)),
                "{text:?}"
            );
        }
    }

    #[test]
    fn scope_parse_accepts_rfc_characters_and_refuses_others() {
        assert!(Scope::parse("read:orders/v1!#[]~").is_ok());
        assert_eq!(Scope::parse(""), Err(ScopeError::Empty));
        assert!(Scope::parse("a b").is_err());
        assert!(Scope::parse("a\\b").is_err());
        assert!(Scope::parse("a\"b").is_err());
    }
}
