//! Token introspection (RFC 7662): requests that present a token (also used by revocation), the
//! claims of a token whose signature has been verified, and the decision whether it is active
//! for the client asking.
//!
//! Signature checks happen before this module (they need key material); everything after the
//! signature is decided here, without IO.

use crate::client::Client;
use crate::client_auth::{self, ClientCredentials};
use crate::error::TokenError;
use crate::form;
use crate::secret::ClientSecret;
use crate::wire::{ActiveToken, Audience, IntrospectionResponse};
use serde::Deserialize;

/// Longest token introspection and revocation accept (`latchkey_keys::jws` refuses longer ones
/// before any crypto runs); app settings are bounded so that every token issued fits
/// (`app_settings::largest_token_bytes`), and with it the whole request fits in a form body.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;
const _: () = assert!(MAX_TOKEN_BYTES + 4096 < form::MAX_BODY_BYTES);

/// Tolerance for `nbf` in the future, for nodes whose clocks differ slightly.
pub const NBF_LEEWAY_SECONDS: i64 = 5;

/// A client-authenticated request that presents a token (RFC 7662 §2.1, RFC 7009 §2.1). Its
/// `Debug` leaves the token out.
#[derive(Clone, PartialEq, Eq)]
pub struct PresentedToken {
    /// The asking client's credentials.
    pub credentials: ClientCredentials,
    /// The token.
    pub token: String,
    /// `token_type_hint`; latchkey issues only access tokens, so the hint changes nothing.
    pub token_type_hint: Option<String>,
}

impl std::fmt::Debug for PresentedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresentedToken")
            .field("credentials", &self.credentials)
            .field("token", &"[redacted]")
            .field("token_type_hint", &self.token_type_hint)
            .finish()
    }
}

/// Parses an introspection or revocation request.
pub fn parse_request(
    content_type: Option<&str>,
    authorization: Option<&str>,
    body: &[u8],
) -> Result<PresentedToken, TokenError> {
    form::check_content_type(content_type)?;
    let [
        token,
        token_type_hint,
        client_id,
        client_secret,
        client_assertion_type,
        client_assertion,
    ] = form::parse(
        body,
        [
            "token",
            "token_type_hint",
            "client_id",
            "client_secret",
            "client_assertion_type",
            "client_assertion",
        ],
    )?;
    let credentials = client_auth::credentials(
        authorization,
        client_auth::AuthForm {
            client_id,
            client_secret: client_secret.map(ClientSecret::new),
            client_assertion_type,
            client_assertion,
        },
    )?;
    let token = token.ok_or(TokenError::InvalidRequest("token is missing"))?;
    Ok(PresentedToken {
        credentials,
        token,
        token_type_hint,
    })
}

/// The claims of a token whose signature verified.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TokenClaims {
    /// The client it was issued to.
    pub sub: String,
    /// The audience.
    pub aud: Audience,
    /// Not before.
    pub nbf: i64,
    /// Issued at.
    pub iat: i64,
    /// Expiry.
    pub exp: i64,
    /// Issuer.
    pub iss: String,
    /// Token id.
    pub jti: String,
    /// Granted scopes: a JSON array in the seed's tokens, a space-separated string in RFC
    /// 9068's (a tenant's tokens of either profile stay valid after it switches).
    #[serde(default, deserialize_with = "scope_list")]
    pub scope: Vec<String>,
    /// RFC 9068 `client_id`; the seed's tokens name the client only in `sub`.
    #[serde(default)]
    pub client_id: Option<String>,
}

fn scope_list<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scopes {
        List(Vec<String>),
        Text(String),
    }
    Ok(match Scopes::deserialize(deserializer)? {
        Scopes::List(list) => list,
        Scopes::Text(text) => text
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

impl TokenClaims {
    /// Reads claims from a JWT payload; `None` when they are not latchkey's claims.
    pub fn parse(payload: &[u8]) -> Option<TokenClaims> {
        serde_json::from_slice(payload).ok()
    }
}

/// What the introspection decision needs besides the claims.
#[derive(Debug, Clone, Copy)]
pub struct IntrospectionContext<'a> {
    /// The issuer of the tenant answering.
    pub issuer: &'a str,
    /// Now, unix seconds.
    pub now: i64,
    /// The authenticated client asking.
    pub requester: &'a Client,
    /// The client named by the token's `sub`, if it exists in this tenant.
    pub owner: Option<&'a Client>,
    /// Whether the token's jti is on the revocation list.
    pub revoked: bool,
}

fn is_active(claims: &TokenClaims, context: &IntrospectionContext<'_>) -> bool {
    let owner_accepts = context.owner.is_some_and(|owner| {
        owner.enabled
            && owner
                .tokens_revoked_before
                .is_none_or(|revoked_before| claims.iat > revoked_before)
    });
    // RFC 7662 §4: a client without the introspect permission learns only about its own tokens.
    let may_see = context.requester.client_id == claims.sub || context.requester.can_introspect;
    claims.iss == context.issuer
        && context.now < claims.exp
        && claims.nbf <= context.now + NBF_LEEWAY_SECONDS
        && !context.revoked
        && owner_accepts
        && may_see
}

/// Decides the introspection answer for a token with verified signature.
pub fn decide(claims: &TokenClaims, context: &IntrospectionContext<'_>) -> IntrospectionResponse {
    if !is_active(claims, context) {
        return IntrospectionResponse::inactive();
    }
    IntrospectionResponse {
        active: true,
        token: Some(ActiveToken {
            scope: claims.scope.join(" "),
            client_id: claims.client_id.as_ref().unwrap_or(&claims.sub).clone(),
            token_type: "Bearer".to_owned(),
            exp: claims.exp,
            iat: claims.iat,
            nbf: claims.nbf,
            sub: claims.sub.clone(),
            aud: claims.aud.clone(),
            iss: claims.iss.clone(),
            jti: claims.jti.clone(),
        }),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn client(id: &str) -> Client {
        Client::m2m(id)
    }

    pub(crate) fn claims() -> TokenClaims {
        TokenClaims {
            sub: "owner".into(),
            aud: Audience::One("owner".into()),
            nbf: 1000,
            iat: 1000,
            exp: 1300,
            iss: "https://issuer".into(),
            jti: "j1".into(),
            scope: vec!["a".into(), "b".into()],
            client_id: None,
        }
    }

    fn active(
        claims: &TokenClaims,
        requester: &Client,
        owner: Option<&Client>,
        now: i64,
        revoked: bool,
    ) -> bool {
        let context = IntrospectionContext {
            issuer: "https://issuer",
            now,
            requester,
            owner,
            revoked,
        };
        decide(claims, &context).active
    }

    #[test]
    fn own_live_token_is_active_with_every_field() {
        let owner = client("owner");
        let context = IntrospectionContext {
            issuer: "https://issuer",
            now: 1100,
            requester: &owner,
            owner: Some(&owner),
            revoked: false,
        };
        let json = serde_json::to_value(decide(&claims(), &context)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"active": true, "scope": "a b", "client_id": "owner", "token_type": "Bearer",
                "exp": 1300, "iat": 1000, "nbf": 1000, "sub": "owner", "aud": "owner",
                "iss": "https://issuer", "jti": "j1"})
        );
    }

    #[test]
    fn inactive_answer_is_only_active_false() {
        let json = serde_json::to_string(&IntrospectionResponse::inactive()).unwrap();
        assert_eq!(json, r#"{"active":false}"#);
    }

    #[test]
    fn expired_token_is_inactive() {
        let owner = client("owner");
        assert!(!active(&claims(), &owner, Some(&owner), 1300, false));
        assert!(active(&claims(), &owner, Some(&owner), 1299, false));
    }

    #[test]
    fn not_yet_valid_token_is_inactive_beyond_the_leeway() {
        let owner = client("owner");
        let future = TokenClaims {
            nbf: 2000,
            ..claims()
        };
        assert!(!active(&future, &owner, Some(&owner), 1100, false));
        let slightly = TokenClaims {
            nbf: 1100 + NBF_LEEWAY_SECONDS,
            ..claims()
        };
        assert!(active(&slightly, &owner, Some(&owner), 1100, false));
    }

    #[test]
    fn revoked_token_is_inactive() {
        let owner = client("owner");
        assert!(!active(&claims(), &owner, Some(&owner), 1100, true));
    }

    #[test]
    fn token_from_another_issuer_is_inactive() {
        let owner = client("owner");
        let foreign = TokenClaims {
            iss: "https://elsewhere".into(),
            ..claims()
        };
        assert!(!active(&foreign, &owner, Some(&owner), 1100, false));
    }

    #[test]
    fn token_of_a_deleted_or_disabled_app_is_inactive() {
        let requester = Client {
            can_introspect: true,
            ..client("rs")
        };
        assert!(!active(&claims(), &requester, None, 1100, false));
        let disabled = Client {
            enabled: false,
            ..client("owner")
        };
        assert!(!active(&claims(), &requester, Some(&disabled), 1100, false));
    }

    #[test]
    fn tokens_issued_before_an_app_wide_revocation_are_inactive() {
        let owner = Client {
            tokens_revoked_before: Some(1000),
            ..client("owner")
        };
        assert!(!active(&claims(), &owner, Some(&owner), 1100, false));
        let later = TokenClaims {
            iat: 1001,
            nbf: 1001,
            ..claims()
        };
        assert!(active(&later, &owner, Some(&owner), 1100, false));
    }

    #[test]
    fn another_apps_token_needs_the_introspect_permission() {
        let owner = client("owner");
        let plain = client("other");
        assert!(!active(&claims(), &plain, Some(&owner), 1100, false));
        let resource_server = Client {
            can_introspect: true,
            ..client("other")
        };
        assert!(active(
            &claims(),
            &resource_server,
            Some(&owner),
            1100,
            false
        ));
    }

    #[test]
    fn request_needs_a_token_and_one_auth_method() {
        let form = Some("application/x-www-form-urlencoded");
        assert_eq!(
            parse_request(form, None, b"client_id=a&client_secret=b").unwrap_err(),
            TokenError::InvalidRequest("token is missing")
        );
        assert_eq!(
            parse_request(form, None, b"token=t").unwrap_err().code(),
            "invalid_client"
        );
        let request = parse_request(
            form,
            None,
            b"token=t&token_type_hint=access_token&client_id=a&client_secret=b",
        )
        .unwrap();
        assert_eq!(
            (request.token.as_str(), request.token_type_hint.as_deref()),
            ("t", Some("access_token"))
        );
    }

    #[test]
    fn debug_never_shows_the_presented_token_or_secret() {
        let form = Some("application/x-www-form-urlencoded");
        let request = parse_request(
            form,
            None,
            b"token=eyJ.secret-token&client_id=a&client_secret=s3cr3t",
        )
        .unwrap();
        let debug = format!("{request:?}");
        assert!(
            !debug.contains("secret-token") && !debug.contains("s3cr3t"),
            "{debug}"
        );
    }

    #[test]
    fn rfc9068_claims_parse_to_the_same_scopes_and_client() {
        let seed = br#"{"sub":"a","aud":"a","nbf":1,"scope":["x","y"],"iss":"i","exp":2,"iat":1,"jti":"j"}"#;
        let rfc9068 = br#"{"iss":"i","exp":2,"aud":"a","sub":"a","client_id":"a","iat":1,"jti":"j","nbf":1,"scope":"x y"}"#;
        let seed = TokenClaims::parse(seed).unwrap();
        let rfc9068 = TokenClaims::parse(rfc9068).unwrap();
        assert_eq!(rfc9068.scope, seed.scope);
        assert_eq!(rfc9068.client_id.as_deref(), Some("a"));
        let no_scope =
            br#"{"iss":"i","exp":2,"aud":"a","sub":"a","client_id":"a","iat":1,"jti":"j","nbf":1}"#;
        assert!(TokenClaims::parse(no_scope).unwrap().scope.is_empty());
    }

    #[test]
    fn claims_that_are_not_latchkeys_do_not_parse() {
        assert!(TokenClaims::parse(br#"{"sub":"a"}"#).is_none());
        assert!(TokenClaims::parse(b"not json").is_none());
        let aud_list = br#"{"sub":"a","aud":["x","y"],"nbf":1,"iat":1,"exp":2,"iss":"i","jti":"j","scope":[]}"#;
        assert_eq!(
            TokenClaims::parse(aud_list).unwrap().aud,
            Audience::Many(vec!["x".into(), "y".into()])
        );
    }
}
