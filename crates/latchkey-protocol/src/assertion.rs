//! JWT assertions (RFC 7523): the claims checks of a client assertion (`private_key_jwt`,
//! §2.2) and of an external identity token (workload identity federation, as a client
//! assertion or as the JWT bearer grant of §2.1). The signature is checked elsewhere
//! (`latchkey-keys`); these are the rules after it, without IO, with `now` a parameter.

use crate::client_auth::AuthFailure;
use crate::federation::FederationRule;
use serde_json::{Map, Value};

pub use crate::client_auth::{CLIENT_ASSERTION_TYPE, peek_issuer};
/// `grant_type` of the JWT bearer grant (RFC 7523 §2.1).
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Longest a client assertion may live, in seconds: authlib's default assertion lives
/// exactly this long, and a replay cache must remember each `jti` for that long.
pub const MAX_ASSERTION_LIFETIME: i64 = 3600;
/// Longest an external identity token may live, in seconds: platform tokens live minutes to
/// hours; a longer one is a credential in all but name.
pub const MAX_FEDERATED_LIFETIME: i64 = 86_400;
/// Clock difference tolerated between latchkey and whoever made a token, in seconds.
pub const LEEWAY: i64 = 60;

/// A token's claims, decoded but not yet trusted.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims(Map<String, Value>);

impl Claims {
    /// The claims of a JWS payload; `None` unless it is a JSON object.
    pub fn parse(payload: &[u8]) -> Option<Claims> {
        match serde_json::from_slice(payload) {
            Ok(Value::Object(claims)) => Some(Claims(claims)),
            _ => None,
        }
    }

    /// Every claim, for rule matching.
    pub fn all(&self) -> &Map<String, Value> {
        &self.0
    }

    fn text(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(Value::as_str)
    }

    /// A NumericDate claim (RFC 7519 §2), in whole seconds; `None` when absent or not a number.
    fn time(&self, name: &str) -> Option<i64> {
        let value = self.0.get(name)?;
        value
            .as_i64()
            .or_else(|| value.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
    }

    /// `iss`.
    pub fn issuer(&self) -> Option<&str> {
        self.text("iss")
    }

    /// Whether `aud` is `audience` or an array holding it.
    fn has_audience(&self, audience: &str) -> bool {
        match self.0.get("aud") {
            Some(Value::String(aud)) => aud == audience,
            Some(Value::Array(auds)) => auds.iter().any(|aud| aud.as_str() == Some(audience)),
            _ => false,
        }
    }

    /// The single audience of a client assertion: a string, or an array of one string
    /// (draft-ietf-oauth-rfc7523bis accepts both).
    fn single_audience(&self) -> Option<&str> {
        match self.0.get("aud") {
            Some(Value::String(aud)) => Some(aud),
            Some(Value::Array(auds)) if auds.len() == 1 => auds[0].as_str(),
            _ => None,
        }
    }

    /// Checks `exp`, `nbf` and `iat` against `now` and the lifetime a token may have; returns
    /// `exp`.
    fn check_times(&self, now: i64, max_lifetime: i64) -> Result<i64, AuthFailure> {
        let exp = self.time("exp").ok_or(AuthFailure::AssertionExpired)?;
        if exp <= now - LEEWAY {
            return Err(AuthFailure::AssertionExpired);
        }
        if self.time("nbf").is_some_and(|nbf| nbf > now + LEEWAY) {
            return Err(AuthFailure::AssertionNotYetValid);
        }
        let iat = self.time("iat");
        if iat.is_some_and(|iat| iat > now + LEEWAY) {
            return Err(AuthFailure::AssertionNotYetValid);
        }
        // From when it was made, or, if it does not say, from now.
        let lifetime = exp.saturating_sub(iat.unwrap_or(now));
        if lifetime > max_lifetime {
            return Err(AuthFailure::AssertionTooLongLived);
        }
        Ok(exp)
    }
}

/// Whether a client assertion's `typ` header may be this: none, `JWT`, or rfc7523bis's
/// `client-authentication+jwt`, with or without the `application/` prefix (RFC 7515 §4.1.9).
/// Any other (an access token's `at+jwt`, say) is a token made for something else.
pub fn client_assertion_type_allowed(typ: Option<&str>) -> bool {
    let Some(typ) = typ else { return true };
    let bare = match typ.get(..12) {
        Some(prefix) if prefix.eq_ignore_ascii_case("application/") => &typ[12..],
        _ => typ,
    };
    bare.eq_ignore_ascii_case("JWT") || bare.eq_ignore_ascii_case("client-authentication+jwt")
}

/// What a replay cache must remember of an accepted client assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    /// Its `jti`.
    pub jti: String,
    /// Until when it could be presented again (its `exp` plus the leeway).
    pub until: i64,
}

/// Checks a `private_key_jwt` client assertion's claims (RFC 7523 §3): `iss` and `sub` are the
/// client id, `aud` the tenant's `issuer` or its token endpoint (`issuer` + `token_path`),
/// `exp` within `max_lifetime`, and a `jti`. The signature must already have been verified.
/// The token endpoint is matched in two parts, so no request builds its URL.
pub fn check_client_assertion(
    claims: &Claims,
    client_id: &str,
    (issuer, token_path): (&str, &str),
    max_lifetime: i64,
    now: i64,
) -> Result<Replay, AuthFailure> {
    if claims.text("iss") != Some(client_id) || claims.text("sub") != Some(client_id) {
        return Err(AuthFailure::AssertionSubject);
    }
    let audience_ok = claims
        .single_audience()
        .is_some_and(|aud| aud == issuer || aud.strip_prefix(issuer) == Some(token_path));
    if !audience_ok {
        return Err(AuthFailure::AssertionAudience);
    }
    let exp = claims.check_times(now, max_lifetime)?;
    let jti = match claims.text("jti") {
        Some(jti) if !jti.is_empty() && jti.len() <= 256 => jti.to_owned(),
        _ => return Err(AuthFailure::AssertionJti),
    };
    Ok(Replay {
        jti,
        until: exp + LEEWAY,
    })
}

/// Checks an external identity token against a federation rule: its issuer, its audience
/// (the rule's, else `default_audience`), its times (at most `MAX_FEDERATED_LIFETIME`), and
/// the rule's subject and claim conditions. The signature must already have been verified
/// with the issuer's keys. No `jti` is asked for: platform tokens are meant to be presented
/// again while they live, and SPIFFE JWT-SVIDs carry none.
pub fn check_federated(
    claims: &Claims,
    rule: &FederationRule,
    default_audience: &str,
    now: i64,
) -> Result<(), AuthFailure> {
    if claims.issuer() != Some(rule.issuer.as_str()) {
        return Err(AuthFailure::UntrustedIssuer);
    }
    let audience = rule.audience.as_deref().unwrap_or(default_audience);
    if !claims.has_audience(audience) {
        return Err(AuthFailure::AssertionAudience);
    }
    claims.check_times(now, MAX_FEDERATED_LIFETIME)?;
    if !rule.matches(claims.all()) {
        return Err(AuthFailure::NoMatchingRule);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_000_000;
    const ISSUER: &str = "https://auth.test";
    const TOKEN_URL: &str = "https://auth.test/oauth2/token";

    fn claims(value: Value) -> Claims {
        Claims::parse(value.to_string().as_bytes()).unwrap()
    }

    fn assertion(overrides: Value) -> Claims {
        let mut base = json!({
            "iss": "app", "sub": "app", "aud": ISSUER,
            "iat": NOW, "exp": NOW + 300, "jti": "j1"
        });
        for (key, value) in overrides.as_object().unwrap() {
            if value.is_null() {
                base.as_object_mut().unwrap().remove(key);
            } else {
                base[key] = value.clone();
            }
        }
        claims(base)
    }

    fn check(claims: &Claims) -> Result<Replay, AuthFailure> {
        check_client_assertion(claims, "app", (ISSUER, "/oauth2/token"), 3600, NOW)
    }

    #[test]
    fn a_well_formed_assertion_is_accepted_with_its_jti_remembered_past_its_expiry() {
        assert_eq!(
            check(&assertion(json!({}))),
            Ok(Replay {
                jti: "j1".into(),
                until: NOW + 300 + LEEWAY
            })
        );
        for aud in [json!(TOKEN_URL), json!([ISSUER]), json!([TOKEN_URL])] {
            assert!(check(&assertion(json!({ "aud": aud }))).is_ok());
        }
        // Exactly an hour, as authlib makes them; and without iat, an hour from now.
        assert!(check(&assertion(json!({"exp": NOW + 3600}))).is_ok());
        assert!(check(&assertion(json!({"iat": null, "exp": NOW + 3600}))).is_ok());
    }

    #[test]
    fn each_broken_rule_is_refused_with_its_own_reason() {
        let cases = [
            (json!({"iss": "other"}), AuthFailure::AssertionSubject),
            (json!({"sub": "other"}), AuthFailure::AssertionSubject),
            (json!({"sub": null}), AuthFailure::AssertionSubject),
            (
                json!({"aud": "https://elsewhere.test"}),
                AuthFailure::AssertionAudience,
            ),
            (
                json!({"aud": [ISSUER, TOKEN_URL]}),
                AuthFailure::AssertionAudience,
            ),
            (json!({"aud": null}), AuthFailure::AssertionAudience),
            (json!({"exp": null}), AuthFailure::AssertionExpired),
            (json!({"exp": NOW - LEEWAY}), AuthFailure::AssertionExpired),
            (
                json!({"exp": NOW + 3601}),
                AuthFailure::AssertionTooLongLived,
            ),
            (
                json!({"iat": null, "exp": NOW + 3601}),
                AuthFailure::AssertionTooLongLived,
            ),
            (json!({"iat": NOW + 120}), AuthFailure::AssertionNotYetValid),
            (json!({"nbf": NOW + 120}), AuthFailure::AssertionNotYetValid),
            (json!({"jti": null}), AuthFailure::AssertionJti),
            (json!({"jti": ""}), AuthFailure::AssertionJti),
        ];
        for (overrides, reason) in cases {
            assert_eq!(
                check(&assertion(overrides.clone())),
                Err(reason),
                "{overrides}"
            );
        }
    }

    #[test]
    fn the_typ_header_may_be_absent_jwt_or_client_authentication_jwt_only() {
        for typ in [
            None,
            Some("JWT"),
            Some("jwt"),
            Some("client-authentication+jwt"),
            Some("application/client-authentication+jwt"),
        ] {
            assert!(client_assertion_type_allowed(typ), "{typ:?}");
        }
        for typ in ["at+jwt", "application/at+jwt", "JOSE", ""] {
            assert!(!client_assertion_type_allowed(Some(typ)), "{typ}");
        }
    }

    #[test]
    fn the_issuer_is_read_from_an_unverified_assertion_only_when_it_is_a_string() {
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let encode = |value: Value| URL_SAFE_NO_PAD.encode(value.to_string());
        let token = format!(
            "{}.{}.sig",
            encode(json!({"alg": "ES256"})),
            encode(json!({"iss": "app"}))
        );
        assert_eq!(peek_issuer(&token).as_deref(), Some("app"));
        let numeric = format!("h.{}.s", encode(json!({"iss": 5})));
        assert_eq!(peek_issuer(&numeric), None);
        assert_eq!(peek_issuer("not a jwt"), None);
    }

    fn rule(audience: Option<&str>) -> FederationRule {
        FederationRule {
            name: "k8s".into(),
            issuer: "https://kubernetes.default.svc".into(),
            subject: "system:serviceaccount:payments:api".into(),
            audience: audience.map(str::to_owned),
            claims: [("/kubernetes.io/namespace".to_owned(), "payments".to_owned())].into(),
            jwks: None,
        }
    }

    fn workload(overrides: Value) -> Claims {
        let mut base = json!({
            "iss": "https://kubernetes.default.svc",
            "sub": "system:serviceaccount:payments:api",
            "aud": ["https://auth.test"],
            "iat": NOW, "nbf": NOW, "exp": NOW + 3600,
            "kubernetes.io": {"namespace": "payments"}
        });
        for (key, value) in overrides.as_object().unwrap() {
            base[key] = value.clone();
        }
        claims(base)
    }

    #[test]
    fn a_federated_token_must_come_from_the_rules_issuer_for_the_audience_and_match() {
        assert_eq!(
            check_federated(&workload(json!({})), &rule(None), ISSUER, NOW),
            Ok(())
        );
        let cases = [
            (
                json!({"iss": "https://other.test"}),
                AuthFailure::UntrustedIssuer,
            ),
            (
                json!({"aud": "https://other.test"}),
                AuthFailure::AssertionAudience,
            ),
            (json!({"exp": NOW - 61}), AuthFailure::AssertionExpired),
            (
                json!({"exp": NOW + 86_401}),
                AuthFailure::AssertionTooLongLived,
            ),
            (
                json!({"sub": "system:serviceaccount:payments:web"}),
                AuthFailure::NoMatchingRule,
            ),
            (
                json!({"kubernetes.io": {"namespace": "billing"}}),
                AuthFailure::NoMatchingRule,
            ),
        ];
        for (overrides, reason) in cases {
            assert_eq!(
                check_federated(&workload(overrides.clone()), &rule(None), ISSUER, NOW),
                Err(reason),
                "{overrides}"
            );
        }
        let custom = rule(Some("sts.example"));
        assert_eq!(
            check_federated(&workload(json!({})), &custom, ISSUER, NOW),
            Err(AuthFailure::AssertionAudience)
        );
        let for_custom = workload(json!({"aud": "sts.example"}));
        assert_eq!(check_federated(&for_custom, &custom, ISSUER, NOW), Ok(()));
    }
}
