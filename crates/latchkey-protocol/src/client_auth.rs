//! Client authentication at the token endpoint: `client_secret_basic` and `client_secret_post`
//! (RFC 6749 §2.3.1), `private_key_jwt` (RFC 7523 §2.2: how it is presented; its checks are
//! `assertion`), and the constant-time secret check.

use crate::client::Client;
use crate::error::TokenError;
use crate::secret::{ClientSecret, SecretHash};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use zeroize::Zeroizing;

/// How the client presented its credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// HTTP Basic with the form-urlencoded id and secret (RFC 6749 §2.3.1).
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
    /// A JWT client assertion (RFC 7523 §2.2): signed with one of the app's keys, or an
    /// external identity token one of its federation rules trusts.
    PrivateKeyJwt,
    /// Only a `client_id`, no secret: enough to identify a public client, never to authenticate.
    None,
}

impl AuthMethod {
    /// The registered name (RFC 8414 `token_endpoint_auth_methods_supported`).
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
            AuthMethod::None => "none",
        }
    }
}

/// The client authentication methods the token endpoint accepts, for discovery.
pub const SUPPORTED_AUTH_METHODS: [AuthMethod; 3] = [
    AuthMethod::ClientSecretBasic,
    AuthMethod::ClientSecretPost,
    AuthMethod::PrivateKeyJwt,
];

/// `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The `iss` of an assertion, read without checking anything: which client an assertion
/// says it is from when the request names no `client_id` (rfc7523bis). `None` for anything
/// that is not a compact JWS with a string `iss`.
pub fn peek_issuer(assertion: &str) -> Option<String> {
    let mut parts = assertion.split('.');
    let (_header, payload) = (parts.next()?, parts.next()?);
    let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
    match serde_json::from_slice::<serde_json::Value>(&payload)
        .ok()?
        .get("iss")?
    {
        serde_json::Value::String(iss) => Some(iss.clone()),
        _ => None,
    }
}

/// A presented JWT: a client assertion, or the JWT bearer grant's assertion. Its `Debug`
/// hides it, as a secret's does: it is a credential for as long as it lives.
#[derive(Clone, PartialEq, Eq)]
pub struct Assertion(String);

impl Assertion {
    /// Wraps a presented assertion.
    pub fn new(text: String) -> Assertion {
        Assertion(text)
    }

    /// The compact JWS.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Assertion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Assertion([redacted])")
    }
}

/// The client authentication parameters of a form body, as received.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AuthForm {
    /// `client_id`.
    pub client_id: Option<String>,
    /// `client_secret`.
    pub client_secret: Option<ClientSecret>,
    /// `client_assertion_type`.
    pub client_assertion_type: Option<String>,
    /// `client_assertion`.
    pub client_assertion: Option<String>,
}

/// Who the client says it is, and how it proves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    /// The claimed client id.
    pub client_id: String,
    /// The presented secret, if any.
    pub secret: Option<ClientSecret>,
    /// The presented client assertion, for `private_key_jwt`.
    pub assertion: Option<Assertion>,
    /// How the credentials arrived.
    pub method: AuthMethod,
}

impl ClientCredentials {
    /// The error for a failed authentication with these credentials.
    pub fn rejected(&self, reason: AuthFailure) -> TokenError {
        TokenError::InvalidClient {
            basic: self.method == AuthMethod::ClientSecretBasic,
            reason,
        }
    }
}

/// Which check refused a client's credentials. The client is told only `invalid_client`, so
/// that it cannot tell an unknown id from a wrong secret; the server logs this for operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No client authentication at all.
    NoCredentials,
    /// An `Authorization: Basic` header that does not decode to an id and a secret.
    MalformedBasic,
    /// No client has this id.
    UnknownClient,
    /// The client exists in another tenant than the one the Host names. `authenticate` sees
    /// only the Host's tenant, so it says `UnknownClient`; the server, which sees every
    /// tenant, tells the two apart.
    WrongTenantHost,
    /// A client id without a secret.
    MissingSecret,
    /// The secret matches none of the client's.
    WrongSecret,
    /// The secret was the client's until a rotation's grace period ended.
    ExpiredSecret,
    /// The secret is right, but the client is disabled.
    Disabled,
    /// A client assertion that is not a compact JWS with a JSON object of claims.
    MalformedAssertion,
    /// An assertion whose header's `typ` says it is some other kind of token.
    AssertionType,
    /// The app has no keys to check an assertion with (no JWK Set, JWKS URI or federation).
    NoKeys,
    /// The keys at the app's JWKS URI or its issuer could not be fetched, and none are cached.
    KeysUnavailable,
    /// No key of the app (or of the trusted issuer) verifies the signature.
    BadSignature,
    /// A client assertion whose `iss` or `sub` is not the client id.
    AssertionSubject,
    /// An assertion for another audience.
    AssertionAudience,
    /// An assertion without `exp`, or past it.
    AssertionExpired,
    /// An assertion whose `nbf` or `iat` is in the future.
    AssertionNotYetValid,
    /// An assertion that lives longer than it may.
    AssertionTooLongLived,
    /// A client assertion without a `jti`.
    AssertionJti,
    /// A client assertion whose `jti` was seen before on this node.
    ReplayedAssertion,
    /// An external token from an issuer no federation rule of the app names.
    UntrustedIssuer,
    /// An external token that matches no federation rule's subject and claims.
    NoMatchingRule,
    /// A JWT bearer grant without client_id whose token more than one app trusts.
    AmbiguousApp,
}

impl AuthFailure {
    /// The name logged for it.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthFailure::NoCredentials => "no_credentials",
            AuthFailure::MalformedBasic => "malformed_basic",
            AuthFailure::UnknownClient => "unknown_client",
            AuthFailure::WrongTenantHost => "wrong_tenant_host",
            AuthFailure::MissingSecret => "missing_secret",
            AuthFailure::WrongSecret => "wrong_secret",
            AuthFailure::ExpiredSecret => "expired_secret",
            AuthFailure::Disabled => "disabled",
            AuthFailure::MalformedAssertion => "malformed_assertion",
            AuthFailure::AssertionType => "assertion_type",
            AuthFailure::NoKeys => "no_keys",
            AuthFailure::KeysUnavailable => "keys_unavailable",
            AuthFailure::BadSignature => "bad_signature",
            AuthFailure::AssertionSubject => "assertion_subject",
            AuthFailure::AssertionAudience => "assertion_audience",
            AuthFailure::AssertionExpired => "assertion_expired",
            AuthFailure::AssertionNotYetValid => "assertion_not_yet_valid",
            AuthFailure::AssertionTooLongLived => "assertion_too_long_lived",
            AuthFailure::AssertionJti => "assertion_jti",
            AuthFailure::ReplayedAssertion => "replayed_assertion",
            AuthFailure::UntrustedIssuer => "untrusted_issuer",
            AuthFailure::NoMatchingRule => "no_matching_rule",
            AuthFailure::AmbiguousApp => "ambiguous_app",
        }
    }
}

impl std::fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reads an `Authorization` header. `Ok(None)` when there is none or it uses another scheme
/// (a Bearer token, say), which the token endpoint ignores.
pub fn parse_basic(
    authorization: Option<&str>,
) -> Result<Option<(String, ClientSecret)>, TokenError> {
    let Some(value) = authorization else {
        return Ok(None);
    };
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let malformed = || TokenError::InvalidClient {
        basic: true,
        reason: AuthFailure::MalformedBasic,
    };
    // `id:secret` in clear: wiped when this function returns, on every path.
    let decoded = Zeroizing::new(STANDARD.decode(rest.trim()).map_err(|_| malformed())?);
    let decoded = std::str::from_utf8(&decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    // RFC 6749 §2.3.1: both parts are encoded with application/x-www-form-urlencoded first.
    let id = form_decode(id).ok_or_else(malformed)?;
    let secret = form_decode(secret).ok_or_else(malformed)?;
    if id.is_empty() {
        return Err(malformed());
    }
    Ok(Some((id, ClientSecret::new(secret))))
}

/// Works out the client's credentials from the `Authorization` header and the body's
/// `client_id`, `client_secret` and client assertion (RFC 6749 §2.3.1, RFC 7523 §2.2),
/// refusing more than one method.
pub fn credentials(
    authorization: Option<&str>,
    form: AuthForm,
) -> Result<ClientCredentials, TokenError> {
    let basic = parse_basic(authorization)?;
    let AuthForm {
        client_id: form_client_id,
        client_secret: form_client_secret,
        client_assertion_type,
        client_assertion,
    } = form;
    match (client_assertion_type, client_assertion) {
        (None, None) => {}
        (Some(kind), Some(assertion)) => {
            if kind != CLIENT_ASSERTION_TYPE {
                return Err(TokenError::InvalidRequest(
                    "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ));
            }
            if basic.is_some() || form_client_secret.is_some() {
                return Err(TokenError::InvalidRequest(
                    "use one client authentication method: a client assertion or a client secret, not both",
                ));
            }
            // Without client_id, the assertion's own `iss` says which client it is from
            // (rfc7523bis); it is checked with the rest once its signature is.
            let client_id = match form_client_id {
                Some(client_id) => client_id,
                None => peek_issuer(&assertion).ok_or(TokenError::InvalidClient {
                    basic: false,
                    reason: AuthFailure::MalformedAssertion,
                })?,
            };
            return Ok(ClientCredentials {
                client_id,
                secret: None,
                assertion: Some(Assertion::new(assertion)),
                method: AuthMethod::PrivateKeyJwt,
            });
        }
        (Some(_), None) => {
            return Err(TokenError::InvalidRequest(
                "client_assertion_type was sent without client_assertion",
            ));
        }
        (None, Some(_)) => {
            return Err(TokenError::InvalidRequest(
                "client_assertion was sent without client_assertion_type",
            ));
        }
    }
    match (basic, form_client_id, form_client_secret) {
        // RFC 6749 §2.3: a client must not use more than one authentication method.
        (Some(_), _, Some(_)) => Err(TokenError::InvalidRequest(
            "use one client authentication method: HTTP Basic or client_secret in the body, not both",
        )),
        (Some((basic_id, _)), Some(form_id), None) if form_id != basic_id => {
            Err(TokenError::InvalidRequest(
                "client_id in the body differs from the HTTP Basic client id",
            ))
        }
        (Some((client_id, secret)), _, None) => Ok(ClientCredentials {
            client_id,
            secret: Some(secret),
            assertion: None,
            method: AuthMethod::ClientSecretBasic,
        }),
        (None, Some(client_id), secret) => {
            let method = if secret.is_some() {
                AuthMethod::ClientSecretPost
            } else {
                AuthMethod::None
            };
            Ok(ClientCredentials {
                client_id,
                secret,
                assertion: None,
                method,
            })
        }
        (None, None, Some(_)) => Err(TokenError::InvalidRequest(
            "client_secret was sent without client_id",
        )),
        // RFC 6749 §5.2: no client authentication at all is invalid_client.
        (None, None, None) => Err(TokenError::InvalidClient {
            basic: false,
            reason: AuthFailure::NoCredentials,
        }),
    }
}

fn form_decode(text: &str) -> Option<String> {
    // A copy of the secret for the Basic case: wiped once decoded.
    let plus_as_space = Zeroizing::new(text.replace('+', " "));
    percent_encoding::percent_decode_str(&plus_as_space)
        .decode_utf8()
        .ok()
        .map(|text| text.into_owned())
}

/// A hash no secret matches, compared against when the client is unknown so that an unknown
/// client id costs the same work as a wrong secret (no client enumeration by timing).
fn decoy_hash() -> SecretHash {
    SecretHash::from_bytes(&[0x5a; 32]).expect("32 bytes is a SHA-256 digest")
}

/// Authenticates a confidential client. `client` is the entry found for the claimed id, if any.
///
/// Every path hashes the presented secret once and compares it, in constant time, against every
/// stored hash (or the decoy), so unknown, disabled and wrong-secret clients take the same time.
/// The refusal says which check failed (`AuthFailure`), for the server's log.
pub fn authenticate<'c>(
    client: Option<&'c Client>,
    credentials: &ClientCredentials,
    now: i64,
) -> Result<&'c Client, TokenError> {
    let presented = credentials.secret.as_ref().map(ClientSecret::hash);
    let candidate = presented.unwrap_or_else(|| SecretHash::of(""));
    let mut matched = false;
    let mut matched_expired = false;
    match client {
        Some(client) => {
            for stored in &client.secrets {
                // Evaluate every comparison; `&` keeps the loop free of an early exit.
                let same = stored.hash.matches(&candidate);
                let live = stored.is_live(now);
                matched |= same & live;
                matched_expired |= same & !live;
            }
        }
        None => {
            let _ = decoy_hash().matches(&candidate);
        }
    }
    let reason = match client {
        None => AuthFailure::UnknownClient,
        Some(_) if presented.is_none() => AuthFailure::MissingSecret,
        Some(client) if matched && client.enabled => return Ok(client),
        Some(_) if matched => AuthFailure::Disabled,
        Some(_) if matched_expired => AuthFailure::ExpiredSecret,
        Some(_) => AuthFailure::WrongSecret,
    };
    Err(credentials.rejected(reason))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::StoredSecret;

    fn basic(id_and_secret: &str) -> String {
        format!("Basic {}", STANDARD.encode(id_and_secret))
    }

    fn client(secret: &str) -> Client {
        Client {
            secrets: vec![StoredSecret {
                hash: SecretHash::of(secret),
                expires_at: None,
            }]
            .into(),
            ..Client::m2m("app")
        }
    }

    fn post(id: &str, secret: Option<&str>) -> ClientCredentials {
        ClientCredentials {
            client_id: id.into(),
            secret: secret.map(ClientSecret::new),
            assertion: None,
            method: AuthMethod::ClientSecretPost,
        }
    }

    fn assertion_form(client_id: Option<&str>, assertion: &str) -> AuthForm {
        AuthForm {
            client_id: client_id.map(str::to_owned),
            client_assertion_type: Some(CLIENT_ASSERTION_TYPE.into()),
            client_assertion: Some(assertion.into()),
            ..AuthForm::default()
        }
    }

    #[test]
    fn a_client_assertion_names_its_client_by_client_id_or_by_its_issuer() {
        let payload = URL_SAFE_NO_PAD.encode(r#"{"iss":"app"}"#);
        let jwt = format!("e30.{payload}.c2ln");
        let named = credentials(None, assertion_form(Some("other"), &jwt)).unwrap();
        assert_eq!(
            (named.client_id.as_str(), named.method),
            ("other", AuthMethod::PrivateKeyJwt)
        );
        let unnamed = credentials(None, assertion_form(None, &jwt)).unwrap();
        assert_eq!(unnamed.client_id, "app");
        assert_eq!(
            format!("{:?}", unnamed.assertion),
            "Some(Assertion([redacted]))"
        );
        assert!(matches!(
            credentials(None, assertion_form(None, "garbage")),
            Err(TokenError::InvalidClient {
                reason: AuthFailure::MalformedAssertion,
                ..
            })
        ));
    }

    #[test]
    fn a_client_assertion_with_a_secret_or_of_another_type_is_invalid_request() {
        let with_secret = AuthForm {
            client_secret: Some(ClientSecret::new("s")),
            ..assertion_form(Some("app"), "a.b.c")
        };
        assert!(matches!(
            credentials(None, with_secret),
            Err(TokenError::InvalidRequest(_))
        ));
        assert!(matches!(
            credentials(Some(&basic("app:s")), assertion_form(Some("app"), "a.b.c")),
            Err(TokenError::InvalidRequest(_))
        ));
        let saml = AuthForm {
            client_assertion_type: Some(
                "urn:ietf:params:oauth:client-assertion-type:saml2-bearer".into(),
            ),
            ..assertion_form(Some("app"), "a.b.c")
        };
        assert!(matches!(
            credentials(None, saml),
            Err(TokenError::InvalidRequest(_))
        ));
        let half = AuthForm {
            client_assertion: None,
            ..assertion_form(Some("app"), "a.b.c")
        };
        assert!(matches!(
            credentials(None, half),
            Err(TokenError::InvalidRequest(_))
        ));
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let (id, secret) = parse_basic(Some(&basic("my%20app:p%2Bw+d%3A%25")))
            .unwrap()
            .unwrap();
        assert_eq!(id, "my app");
        assert_eq!(secret.expose(), "p+w d:%");
    }

    #[test]
    fn basic_scheme_is_case_insensitive() {
        let header = basic("a:b").replacen("Basic", "bAsIc", 1);
        assert!(parse_basic(Some(&header)).unwrap().is_some());
    }

    #[test]
    fn other_schemes_are_ignored() {
        assert_eq!(parse_basic(Some("Bearer abc")).unwrap(), None);
        assert_eq!(parse_basic(None).unwrap(), None);
    }

    fn refused(result: Result<&Client, TokenError>) -> Option<AuthFailure> {
        match result {
            Err(TokenError::InvalidClient { reason, .. }) => Some(reason),
            _ => None,
        }
    }

    #[test]
    fn malformed_basic_is_invalid_client_with_challenge() {
        let expected = Err(TokenError::InvalidClient {
            basic: true,
            reason: AuthFailure::MalformedBasic,
        });
        assert_eq!(parse_basic(Some("Basic !!!")), expected);
        assert_eq!(parse_basic(Some(&basic("no-colon"))), expected);
        assert_eq!(parse_basic(Some(&basic(":secret"))), expected);
        assert_eq!(parse_basic(Some(&basic("a:%ff"))), expected);
    }

    #[test]
    fn right_secret_authenticates() {
        let app = client("s");
        assert!(authenticate(Some(&app), &post("app", Some("s")), 0).is_ok());
    }

    #[test]
    fn wrong_secret_missing_secret_and_unknown_client_are_invalid_client_each_with_its_reason() {
        let app = client("s");
        let invalid = |reason| {
            Err(TokenError::InvalidClient {
                basic: false,
                reason,
            })
        };
        assert_eq!(
            authenticate(Some(&app), &post("app", Some("x")), 0),
            invalid(AuthFailure::WrongSecret)
        );
        assert_eq!(
            authenticate(Some(&app), &post("app", None), 0),
            invalid(AuthFailure::MissingSecret)
        );
        assert_eq!(
            authenticate(None, &post("nobody", Some("s")), 0),
            invalid(AuthFailure::UnknownClient)
        );
    }

    #[test]
    fn disabled_client_is_invalid_client_even_with_right_secret() {
        let app = Client {
            enabled: false,
            ..client("s")
        };
        assert_eq!(
            refused(authenticate(Some(&app), &post("app", Some("s")), 0)),
            Some(AuthFailure::Disabled)
        );
        assert_eq!(
            refused(authenticate(Some(&app), &post("app", Some("x")), 0)),
            Some(AuthFailure::WrongSecret),
            "a wrong secret is the check that failed first"
        );
    }

    #[test]
    fn no_credentials_is_its_own_reason() {
        assert_eq!(
            credentials(None, AuthForm::default()),
            Err(TokenError::InvalidClient {
                basic: false,
                reason: AuthFailure::NoCredentials
            })
        );
    }

    #[test]
    fn expired_grace_secret_is_refused_and_live_one_accepted() {
        let mut app = client("new");
        let mut secrets = app.secrets.to_vec();
        secrets.push(StoredSecret {
            hash: SecretHash::of("old"),
            expires_at: Some(100),
        });
        app.secrets = secrets.into();
        assert!(authenticate(Some(&app), &post("app", Some("old")), 99).is_ok());
        assert_eq!(
            refused(authenticate(Some(&app), &post("app", Some("old")), 100)),
            Some(AuthFailure::ExpiredSecret)
        );
        assert!(authenticate(Some(&app), &post("app", Some("new")), 100).is_ok());
    }

    #[test]
    fn basic_failure_carries_the_challenge_flag() {
        let app = client("s");
        let credentials = ClientCredentials {
            method: AuthMethod::ClientSecretBasic,
            ..post("app", Some("x"))
        };
        assert_eq!(
            authenticate(Some(&app), &credentials, 0),
            Err(TokenError::InvalidClient {
                basic: true,
                reason: AuthFailure::WrongSecret
            })
        );
    }
}
