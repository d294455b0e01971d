//! The scope parser (`Scope::parse`) and the scope decision (`scope::decide`).

use latchkey_protocol::scope::{self, ScopeError};
use latchkey_protocol::{Scope, TokenError};

fn is_scope_char(byte: u8) -> bool {
    matches!(byte, 0x21 | 0x23..=0x5B | 0x5D..=0x7E)
}

/// RFC 6749 §5.2: the characters an `error_description` may hold.
fn is_description_char(byte: u8) -> bool {
    matches!(byte, 0x20 | 0x21 | 0x23..=0x5B | 0x5D..=0x7E)
}

/// The input reads as `allowed NUL default NUL requested`: space-separated scope lists for the
/// client, and the raw `scope` parameter.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Scope::parse(text) {
        Ok(scope) => {
            assert_eq!(scope.as_str(), text);
            assert!(text.bytes().all(is_scope_char));
        }
        Err(ScopeError::Empty) => assert!(text.is_empty()),
        Err(ScopeError::BadCharacter(shown)) => {
            assert_eq!(shown, text);
            assert!(!text.bytes().all(is_scope_char));
        }
    }

    let mut parts = text.splitn(3, '\0');
    let list = |part: Option<&str>| -> Vec<Scope> {
        let mut scopes: Vec<Scope> = Vec::new();
        for item in part.unwrap_or_default().split(' ') {
            if let Ok(scope) = Scope::parse(item)
                && !scopes.contains(&scope)
            {
                scopes.push(scope);
            }
        }
        scopes
    };
    let allowed = list(parts.next());
    // Default scopes are among the allowed ones, as validation keeps them.
    let default: Vec<Scope> = list(parts.next())
        .into_iter()
        .filter(|scope| allowed.contains(scope))
        .collect();
    let requested = parts.next().filter(|requested| !requested.is_empty());
    match scope::decide(requested, &allowed, &default) {
        Ok(granted) => {
            for (index, scope) in granted.iter().enumerate() {
                assert!(allowed.iter().any(|allowed| allowed.as_str() == *scope));
                assert!(!granted[..index].contains(scope), "{scope} granted twice");
                if let Some(requested) = requested
                    && requested.split(' ').any(|item| !item.is_empty())
                {
                    assert!(requested.split(' ').any(|item| item == *scope));
                }
            }
        }
        Err(TokenError::InvalidScope(refusal)) => {
            assert!(requested.is_some(), "no scope asked for, yet refused");
            let description = refusal.description();
            assert!(
                description.bytes().all(is_description_char),
                "{description:?}"
            );
            assert!(description.len() < 256, "{description:?}");
        }
        Err(error) => panic!("scope decision refused with {error:?}"),
    }
}
