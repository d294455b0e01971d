//! The claims rules of assertions (`latchkey_protocol::assertion`) and the federation rules
//! they are matched against (`latchkey_protocol::federation`), on claims and rules an
//! attacker or a confused operator could write: nothing panics, and whatever is accepted
//! holds what the rules promise.

use latchkey_protocol::assertion::{self, Claims};
use latchkey_protocol::federation::{self, FederationRule};
use serde_json::Value;

const ISSUER: &str = "https://auth.test";
const NOW: i64 = 1_800_000_000;

/// The input reads as `claims NUL rules`: a JWT's claims as JSON, then federation rules as
/// the JSON array they are stored as (or `--claim` arguments, one per line).
pub fn run(data: &[u8]) {
    let (claims_part, rules_part) = match data.iter().position(|byte| *byte == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    if let Ok(text) = std::str::from_utf8(claims_part) {
        let _ = federation::normalize_jwks(text);
        let _ = assertion::peek_issuer(text);
        let _ = federation::is_fetchable_url(text);
    }
    let Some(claims) = Claims::parse(claims_part) else {
        return;
    };
    let text = |name: &str| claims.all().get(name).and_then(Value::as_str);
    if let Ok(replay) =
        assertion::check_client_assertion(&claims, "app", (ISSUER, "/oauth2/token"), 3600, NOW)
    {
        assert_eq!((text("iss"), text("sub")), (Some("app"), Some("app")));
        assert!(!replay.jti.is_empty());
        assert!(replay.until > NOW - assertion::LEEWAY);
    }
    let Ok(rules_text) = std::str::from_utf8(rules_part) else {
        return;
    };
    let rules: Vec<FederationRule> = federation::rules_from_json(rules_text).unwrap_or_default();
    for line in rules_text.lines() {
        let _ = federation::parse_claim_condition(line);
    }
    for rule in rules {
        let validated = rule.clone().validated();
        if assertion::check_federated(&claims, &rule, ISSUER, NOW).is_ok() {
            assert_eq!(claims.issuer(), Some(rule.issuer.as_str()));
            assert!(rule.matches(claims.all()));
            let subject = text("sub").expect("a matching token has a string sub");
            match rule.subject.strip_suffix('*') {
                Some(prefix) => assert!(subject.starts_with(prefix)),
                None => assert_eq!(subject, rule.subject),
            }
        }
        if let Ok(rule) = validated {
            // A valid rule constrains something besides the audience.
            assert!(rule.subject != "*" || !rule.claims.is_empty());
            assert!(federation::is_fetchable_url(&rule.issuer));
        }
    }
}
