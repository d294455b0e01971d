//! Workload identity federation: the rules by which an app trusts identity tokens from an
//! external issuer (a Kubernetes cluster, GitHub Actions, a SPIFFE trust domain), and the
//! checks of an app's own public keys (`private_key_jwt`) that need no cryptography. What an
//! app stores is here; checking a presented token against it is `assertion`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Most federation rules one app may have.
pub const MAX_RULES: usize = 20;
/// Most claim conditions one rule may have.
pub const MAX_CLAIM_CONDITIONS: usize = 16;
/// Longest rule name.
pub const MAX_RULE_NAME: usize = 64;
/// Longest issuer, audience or JWKS URI, in bytes.
pub const MAX_URL_BYTES: usize = 2048;
/// Longest subject or claim value, in bytes.
pub const MAX_VALUE_BYTES: usize = 1024;
/// Most keys a JWK Set given to latchkey may hold.
pub const MAX_JWKS_KEYS: usize = 20;
/// Largest JWK Set given to latchkey, as JSON: twenty RSA-4096 keys fit with room to spare.
pub const MAX_JWKS_BYTES: usize = 64 * 1024;

/// Claims latchkey checks itself on every federated token, so a rule cannot name them.
pub const CHECKED_CLAIMS: [&str; 5] = ["iss", "aud", "exp", "nbf", "iat"];

/// One trust: tokens from `issuer` whose subject and claims match are the app's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FederationRule {
    /// The rule's name, unique within the app.
    pub name: String,
    /// The issuer URL: tokens must carry it as `iss`, and its keys are found through its OIDC
    /// discovery document unless `jwks` pins them.
    pub issuer: String,
    /// `sub` exactly, or a prefix of it when it ends in `*`.
    pub subject: String,
    /// The audience the token must hold; `None` means the tenant's issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// Exact-match conditions on other claims, by claim name or JSON Pointer (RFC 6901).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub claims: BTreeMap<String, String>,
    /// The issuer's keys as a JWK Set (compact JSON), for issuers without reachable discovery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<String>,
}

/// Why a federation rule, a JWK Set or a JWKS URI is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FederationError {
    /// A rule name outside the allowed characters or length.
    #[error(
        "federation name {0:?} is invalid: use 1 to {MAX_RULE_NAME} letters, digits, '.', '_' or '-'"
    )]
    BadName(String),
    /// Two rules of one app with one name.
    #[error("the app already has a federation named {0:?}: remove it first or choose another name")]
    DuplicateName(String),
    /// No rule with that name.
    #[error("the app has no federation named {0:?}")]
    UnknownName(String),
    /// More rules than `MAX_RULES`.
    #[error("an app may have at most {MAX_RULES} federations")]
    TooManyRules,
    /// A URL latchkey may not fetch or compare against.
    #[error(
        "{what} {url:?} is invalid: use an https:// URL without a fragment (http:// only for 127.0.0.1, [::1] or localhost; an issuer has no query either), at most {MAX_URL_BYTES} bytes"
    )]
    BadUrl {
        /// Which setting.
        what: &'static str,
        /// The URL given.
        url: String,
    },
    /// An empty or oversized subject, or a `*` that is not last.
    #[error(
        "subject {0:?} is invalid: give the exact sub claim, or a prefix ending in '*' (a '*' only at the end), at most {MAX_VALUE_BYTES} bytes"
    )]
    BadSubject(String),
    /// A rule that would trust every token of its issuer for the audience.
    #[error(
        "a federation must constrain the subject or a claim, never the audience alone: give a --subject other than '*' or a --claim"
    )]
    Unconstrained,
    /// An empty audience.
    #[error("audience {0:?} is invalid: give a non-empty value of at most {MAX_URL_BYTES} bytes")]
    BadAudience(String),
    /// A claim condition that names nothing usable.
    #[error(
        "claim condition {0:?} is invalid: use NAME=VALUE or /json/pointer=VALUE (RFC 6901), with a value of at most {MAX_VALUE_BYTES} bytes"
    )]
    BadClaim(String),
    /// A claim condition on a claim latchkey checks itself.
    #[error(
        "claim {0:?} is checked by latchkey itself (iss, aud, exp, nbf, iat): use --issuer or --audience"
    )]
    CheckedClaim(String),
    /// Two conditions on one claim.
    #[error("claim {0:?} is named twice: a claim has one expected value")]
    RepeatedClaim(String),
    /// More conditions than `MAX_CLAIM_CONDITIONS`.
    #[error("a federation may have at most {MAX_CLAIM_CONDITIONS} claim conditions")]
    TooManyClaims,
    /// Not a JWK Set of public keys within bounds.
    #[error("{0}")]
    BadJwks(JwksShapeError),
}

/// What is wrong with a JWK Set, before any key is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JwksShapeError {
    /// Not a JSON object with a `keys` array.
    #[error(
        "the JWK Set must be a JSON object with a \"keys\" array (RFC 7517 §5), such as {{\"keys\": [{{\"kty\": \"EC\", ...}}]}}"
    )]
    NotASet,
    /// No key at all.
    #[error("the JWK Set holds no key")]
    Empty,
    /// More keys than `MAX_JWKS_KEYS`.
    #[error("a JWK Set may hold at most {MAX_JWKS_KEYS} keys")]
    TooManyKeys,
    /// Larger than `MAX_JWKS_BYTES`.
    #[error("a JWK Set may be at most {MAX_JWKS_BYTES} bytes of JSON")]
    TooLarge,
    /// A key that is not an object with a `kty`.
    #[error("every key of the JWK Set must be a JSON object with a \"kty\"")]
    NotAKey,
    /// A private or symmetric key, which latchkey must never be given.
    #[error(
        "the JWK Set holds a private or symmetric key: give public keys only (no \"d\", \"p\", \"q\" or \"k\" members)"
    )]
    PrivateKey,
}

/// Members only private (or symmetric) JWKs have.
const PRIVATE_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "k"];

/// Checks a JWK Set's shape and returns it as compact JSON: public keys only, within bounds.
/// Whether each key is usable (a known type, valid numbers) is for `latchkey-keys` to say.
pub fn normalize_jwks(text: &str) -> Result<String, JwksShapeError> {
    if text.len() > MAX_JWKS_BYTES {
        return Err(JwksShapeError::TooLarge);
    }
    let Ok(Value::Object(set)) = serde_json::from_str::<Value>(text) else {
        return Err(JwksShapeError::NotASet);
    };
    let Some(Value::Array(keys)) = set.get("keys") else {
        return Err(JwksShapeError::NotASet);
    };
    if keys.is_empty() {
        return Err(JwksShapeError::Empty);
    }
    if keys.len() > MAX_JWKS_KEYS {
        return Err(JwksShapeError::TooManyKeys);
    }
    for key in keys {
        let Value::Object(key) = key else {
            return Err(JwksShapeError::NotAKey);
        };
        if !matches!(key.get("kty"), Some(Value::String(_))) {
            return Err(JwksShapeError::NotAKey);
        }
        if PRIVATE_MEMBERS
            .iter()
            .any(|member| key.contains_key(*member))
        {
            return Err(JwksShapeError::PrivateKey);
        }
    }
    let mut only_keys = Map::new();
    only_keys.insert("keys".to_owned(), Value::Array(keys.clone()));
    Ok(Value::Object(only_keys).to_string())
}

/// Whether latchkey may fetch `url` (a JWKS URI, an issuer's discovery): `https`, or `http` to
/// a loopback host for development and tests; no userinfo or fragment. Nothing else is
/// fetched, so no configuration can point latchkey at a plain-text service elsewhere. A query
/// is allowed: some issuers' JWKS URIs carry one (Azure AD B2C names its policy so).
pub fn is_fetchable_url(url: &str) -> bool {
    if url.len() > MAX_URL_BYTES
        || url.contains('#')
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return false;
    }
    let (secure, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (false, rest)
    } else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') {
        return false;
    }
    secure || is_loopback_authority(authority)
}

/// Whether an authority (`host[:port]`) names a loopback host.
fn is_loopback_authority(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => match bracketed.split_once(']') {
            Some((host, port)) if port.is_empty() || port.starts_with(':') => {
                return host == "::1" && valid_port(port);
            }
            _ => return false,
        },
        None => authority,
    };
    let (host, port) = match host.split_once(':') {
        Some((host, port)) => (host, port),
        None => (host, ""),
    };
    let port = if port.is_empty() {
        String::new()
    } else {
        format!(":{port}")
    };
    (host == "127.0.0.1" || host.eq_ignore_ascii_case("localhost")) && valid_port(&port)
}

/// `""` or `:` followed by a port number.
fn valid_port(port: &str) -> bool {
    port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|digits| digits.parse::<u16>().is_ok())
}

impl FederationRule {
    /// Checks the rule and returns it with its JWK Set made compact.
    pub fn validated(mut self) -> Result<FederationRule, FederationError> {
        let name_ok = (1..=MAX_RULE_NAME).contains(&self.name.len())
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !name_ok {
            return Err(FederationError::BadName(self.name));
        }
        // An issuer identifier has no query (OpenID Connect Discovery §3).
        if !is_fetchable_url(&self.issuer) || self.issuer.contains('?') {
            return Err(FederationError::BadUrl {
                what: "issuer",
                url: self.issuer,
            });
        }
        let star = self.subject.find('*');
        if self.subject.is_empty()
            || self.subject.len() > MAX_VALUE_BYTES
            || star.is_some_and(|at| at + 1 != self.subject.len())
        {
            return Err(FederationError::BadSubject(self.subject));
        }
        if self.subject == "*" && self.claims.is_empty() {
            return Err(FederationError::Unconstrained);
        }
        if let Some(audience) = &self.audience
            && (audience.is_empty() || audience.len() > MAX_URL_BYTES)
        {
            return Err(FederationError::BadAudience(audience.clone()));
        }
        if self.claims.len() > MAX_CLAIM_CONDITIONS {
            return Err(FederationError::TooManyClaims);
        }
        for (claim, value) in &self.claims {
            check_condition(claim, value)?;
        }
        if let Some(jwks) = &self.jwks {
            self.jwks = Some(normalize_jwks(jwks).map_err(FederationError::BadJwks)?);
        }
        Ok(self)
    }

    /// Whether a token's claims satisfy the rule's subject and claim conditions (its issuer,
    /// audience and times are checked apart, in `assertion`).
    pub fn matches(&self, claims: &Map<String, Value>) -> bool {
        let Some(Value::String(subject)) = claims.get("sub") else {
            return false;
        };
        let subject_ok = match self.subject.strip_suffix('*') {
            Some(prefix) => subject.starts_with(prefix),
            None => *subject == self.subject,
        };
        subject_ok
            && self
                .claims
                .iter()
                .all(|(claim, expected)| claim_equals(claims, claim, expected))
    }
}

fn check_condition(claim: &str, value: &str) -> Result<(), FederationError> {
    let bad = || FederationError::BadClaim(format!("{claim}={value}"));
    if claim.is_empty() || claim == "/" || claim.len() > MAX_VALUE_BYTES {
        return Err(bad());
    }
    if value.len() > MAX_VALUE_BYTES {
        return Err(bad());
    }
    // A JSON Pointer's `~` must be `~0` or `~1` (RFC 6901 §3).
    if claim.starts_with('/') {
        let mut chars = claim.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
                return Err(bad());
            }
        }
    }
    let top = top_level_name(claim);
    if CHECKED_CLAIMS.contains(&top.as_str()) {
        return Err(FederationError::CheckedClaim(claim.to_owned()));
    }
    Ok(())
}

/// The top-level claim a condition names: the name itself, or a pointer's first token.
fn top_level_name(claim: &str) -> String {
    match claim.strip_prefix('/') {
        Some(pointer) => unescape_token(pointer.split('/').next().unwrap_or_default()),
        None => claim.to_owned(),
    }
}

fn unescape_token(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// Whether the claim named by `claim` equals `expected`: a string claim as text, any other
/// value by its compact JSON (`true`, `42`), so `--claim email_verified=true` reads naturally.
fn claim_equals(claims: &Map<String, Value>, claim: &str, expected: &str) -> bool {
    let found = match claim.strip_prefix('/') {
        Some(_) => {
            // `Value::pointer` walks from a value; the claims are its object.
            let (first, rest) = claim[1..].split_once('/').unwrap_or((&claim[1..], ""));
            let top = claims.get(&unescape_token(first));
            match (top, rest.is_empty()) {
                (Some(value), true) => Some(value),
                (Some(value), false) => value.pointer(&format!("/{rest}")),
                (None, _) => None,
            }
        }
        None => claims.get(claim),
    };
    match found {
        Some(Value::String(text)) => text == expected,
        Some(Value::Null) | None => false,
        // Not `*other == expected`: a JSON value equals a `str` only when it is that string.
        Some(other) => serde_json::to_string(other).is_ok_and(|json| json == expected),
    }
}

/// Parses a `--claim` argument: `NAME=VALUE` or `/json/pointer=VALUE`, split at the first `=`
/// (claim names and pointers hold no `=` in practice; values may).
pub fn parse_claim_condition(text: &str) -> Result<(String, String), FederationError> {
    match text.split_once('=') {
        Some((claim, value)) if !claim.is_empty() => {
            check_condition(claim, value)?;
            Ok((claim.to_owned(), value.to_owned()))
        }
        _ => Err(FederationError::BadClaim(text.to_owned())),
    }
}

/// Rules as the JSON array they are stored as.
pub fn rules_to_json(rules: &[FederationRule]) -> String {
    // Strings and string maps only: serializing them cannot fail.
    serde_json::to_string(rules).unwrap_or_else(|_| "[]".to_owned())
}

/// Rules from the JSON array they are stored as; `None` when it is not one.
pub fn rules_from_json(text: &str) -> Option<Vec<FederationRule>> {
    serde_json::from_str(text).ok()
}

/// Adds `rule` to `rules`, refusing a repeated name or one rule too many.
pub fn add_rule(
    rules: &mut Vec<FederationRule>,
    rule: FederationRule,
) -> Result<(), FederationError> {
    let rule = rule.validated()?;
    if rules.iter().any(|existing| existing.name == rule.name) {
        return Err(FederationError::DuplicateName(rule.name));
    }
    if rules.len() >= MAX_RULES {
        return Err(FederationError::TooManyRules);
    }
    rules.push(rule);
    Ok(())
}

/// Removes the rule named `name`.
pub fn remove_rule(rules: &mut Vec<FederationRule>, name: &str) -> Result<(), FederationError> {
    let before = rules.len();
    rules.retain(|rule| rule.name != name);
    if rules.len() == before {
        return Err(FederationError::UnknownName(name.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(subject: &str, claims: &[(&str, &str)]) -> FederationRule {
        FederationRule {
            name: "ci".into(),
            issuer: "https://token.actions.githubusercontent.com".into(),
            subject: subject.into(),
            audience: None,
            claims: claims
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            jwks: None,
        }
    }

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!("a literal object"),
        }
    }

    #[test]
    fn only_https_or_loopback_http_urls_are_fetchable() {
        for good in [
            "https://kubernetes.default.svc",
            "https://token.actions.githubusercontent.com/",
            "http://127.0.0.1:8080/jwks",
            "http://localhost/keys",
            "http://[::1]:9/x",
            "https://login.example/keys?p=b2c_1_signin",
        ] {
            assert!(is_fetchable_url(good), "{good}");
        }
        for bad in [
            "http://example.com/jwks",
            "http://127.0.0.1.example.com/jwks",
            "http://localhost.evil:80/",
            "http://[::2]/",
            "https://user@host/",
            "https://host/#f",
            "ftp://host/",
            "https://",
            "file:///etc/passwd",
            "http://127.0.0.1:99999/",
        ] {
            assert!(!is_fetchable_url(bad), "{bad}");
        }
    }

    #[test]
    fn a_subject_matches_exactly_or_as_a_prefix_ending_in_a_star() {
        let claims = object(json!({"sub": "repo:acme/api:ref:refs/heads/main"}));
        assert!(rule("repo:acme/api:ref:refs/heads/main", &[]).matches(&claims));
        assert!(rule("repo:acme/api:ref:refs/heads/*", &[]).matches(&claims));
        assert!(!rule("repo:acme/api:ref:refs/heads/mai", &[]).matches(&claims));
        assert!(!rule("repo:acme/web:*", &[]).matches(&claims));
        assert!(!rule("x", &[]).matches(&object(json!({"sub": 5}))));
    }

    #[test]
    fn claim_conditions_match_bare_names_and_json_pointers_exactly() {
        let claims = object(json!({
            "sub": "system:serviceaccount:payments:api",
            "repository": "acme/api",
            "kubernetes.io": {"namespace": "payments", "pod": {"name": "api-1"}},
            "run_attempt": "1",
            "verified": true,
            "a/b": "slash",
        }));
        let sub = "system:serviceaccount:payments:api";
        assert!(rule(sub, &[("/kubernetes.io/namespace", "payments")]).matches(&claims));
        assert!(rule(sub, &[("/kubernetes.io/pod/name", "api-1")]).matches(&claims));
        assert!(rule(sub, &[("repository", "acme/api"), ("verified", "true")]).matches(&claims));
        assert!(rule(sub, &[("/a~1b", "slash")]).matches(&claims));
        assert!(!rule(sub, &[("/kubernetes.io/namespace", "billing")]).matches(&claims));
        assert!(!rule(sub, &[("kubernetes.io", "payments")]).matches(&claims));
        assert!(!rule(sub, &[("missing", "")]).matches(&claims));
        assert!(!rule(sub, &[("repository", "acme/ap")]).matches(&claims));
    }

    #[test]
    fn a_rule_must_constrain_the_subject_or_a_claim() {
        assert_eq!(
            rule("*", &[]).validated(),
            Err(FederationError::Unconstrained)
        );
        assert!(rule("*", &[("repository", "acme/api")]).validated().is_ok());
        assert!(matches!(
            rule("a*b", &[]).validated(),
            Err(FederationError::BadSubject(_))
        ));
        assert!(matches!(
            rule("x", &[("/aud", "x")]).validated(),
            Err(FederationError::CheckedClaim(_))
        ));
        let mut insecure = rule("x", &[]);
        insecure.issuer = "http://issuer.example".into();
        assert!(matches!(
            insecure.validated(),
            Err(FederationError::BadUrl { .. })
        ));
    }

    #[test]
    fn claim_arguments_split_at_the_first_equals_sign() {
        assert_eq!(
            parse_claim_condition("ref=refs/heads/a=b"),
            Ok(("ref".into(), "refs/heads/a=b".into()))
        );
        assert!(parse_claim_condition("noequals").is_err());
        assert!(parse_claim_condition("=x").is_err());
        assert!(parse_claim_condition("/a~2=x").is_err());
    }

    #[test]
    fn rules_have_unique_names_and_are_removed_by_name() {
        let mut rules = Vec::new();
        add_rule(&mut rules, rule("x", &[])).unwrap();
        assert_eq!(
            add_rule(&mut rules, rule("y", &[])),
            Err(FederationError::DuplicateName("ci".into()))
        );
        assert_eq!(
            remove_rule(&mut rules, "other"),
            Err(FederationError::UnknownName("other".into()))
        );
        remove_rule(&mut rules, "ci").unwrap();
        assert!(rules.is_empty());
    }

    #[test]
    fn a_jwk_set_holds_public_keys_only() {
        let public = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"abc"}],"extra":1}"#;
        let normalized: Value = serde_json::from_str(&normalize_jwks(public).unwrap()).unwrap();
        assert_eq!(
            normalized,
            json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "abc"}]})
        );
        let private = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"abc","d":"s"}]}"#;
        assert_eq!(normalize_jwks(private), Err(JwksShapeError::PrivateKey));
        assert_eq!(
            normalize_jwks(r#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#),
            Err(JwksShapeError::PrivateKey)
        );
        assert_eq!(normalize_jwks(r#"{"keys":[]}"#), Err(JwksShapeError::Empty));
        assert_eq!(normalize_jwks("[]"), Err(JwksShapeError::NotASet));
        assert_eq!(
            normalize_jwks(r#"{"keys":[{"x":1}]}"#),
            Err(JwksShapeError::NotAKey)
        );
    }
}
