//! Unit tests of the token request rules: parsing, the decision, the grant and its claims.

use super::*;
use crate::client::ClientType;
use crate::client_auth::AuthMethod;
use crate::scope::Scope;
use crate::secret::{SecretHash, StoredSecret};
use base64::Engine;

const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

fn parse_body(body: &str) -> Result<TokenRequest, TokenError> {
    parse(FORM, None, body.as_bytes())
}

fn basic(id: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

fn app(client_type: ClientType, grants: &[GrantType]) -> Client {
    Client {
        client_type,
        enabled: true,
        grant_types: grants.iter().copied().collect(),
        scopes: ["read", "write"]
            .iter()
            .map(|s| Scope::parse(s).unwrap())
            .collect(),
        default_scopes: vec![Scope::parse("read").unwrap()].into(),
        secrets: vec![StoredSecret {
            hash: SecretHash::of("s"),
            expires_at: None,
        }]
        .into(),
        ..Client::m2m("app")
    }
}

fn m2m() -> Client {
    app(ClientType::M2m, &[GrantType::ClientCredentials])
}

fn decide_body(client: &Client, body: &str) -> Result<Vec<String>, &'static str> {
    let request = parse_body(body).map_err(|e| e.code())?;
    decide(Some(client), &request, 1000)
        .map(|grant| grant.scopes.iter().map(|s| s.to_string()).collect())
        .map_err(|e| e.code())
}

#[test]
fn the_seed_request_parses_as_client_secret_post() {
    let request = parse_body(
        "grant_type=client_credentials&client_id=TENANT_CLIENT_ID&client_secret=TENANT_CLIENT_SECRET&scope=identity_proofing",
    )
    .unwrap();
    assert_eq!(request.credentials.client_id, "TENANT_CLIENT_ID");
    assert_eq!(request.credentials.method, AuthMethod::ClientSecretPost);
    assert_eq!(
        request.credentials.secret.unwrap().expose(),
        "TENANT_CLIENT_SECRET"
    );
    assert_eq!(request.scope.as_deref(), Some("identity_proofing"));
}

#[test]
fn wrong_or_missing_content_type_is_invalid_request() {
    let body = b"grant_type=client_credentials&client_id=a&client_secret=b";
    assert_eq!(
        parse(None, None, body).unwrap_err().code(),
        "invalid_request"
    );
    assert_eq!(
        parse(Some("application/json"), None, body)
            .unwrap_err()
            .code(),
        "invalid_request"
    );
    assert!(
        parse(
            Some("Application/X-WWW-Form-Urlencoded; charset=UTF-8"),
            None,
            body
        )
        .is_ok()
    );
}

#[test]
fn missing_grant_type_is_invalid_request() {
    assert_eq!(
        parse_body("client_id=a&client_secret=b")
            .unwrap_err()
            .code(),
        "invalid_request"
    );
    assert_eq!(
        parse_body("grant_type=&client_id=a").unwrap_err().code(),
        "invalid_request"
    );
}

#[test]
fn other_grant_type_is_unsupported() {
    // Grant type names are case-sensitive (RFC 6749 §3.1.2's ABNF names them exactly).
    for grant in [
        "password",
        "authorization_code",
        "refresh_token",
        "CLIENT_CREDENTIALS",
    ] {
        assert_eq!(
            parse_body(&format!(
                "grant_type={grant}&client_id=a&client_secret=b&username=u&password=p"
            ))
            .unwrap_err(),
            TokenError::UnsupportedGrantType,
            "{grant}"
        );
    }
}

#[test]
fn repeated_parameter_is_invalid_request() {
    for body in [
        "grant_type=client_credentials&grant_type=client_credentials&client_id=a&client_secret=b",
        "grant_type=client_credentials&client_id=a&client_id=a&client_secret=b",
        "grant_type=client_credentials&client_id=a&client_secret=b&client_secret=b",
        "grant_type=client_credentials&client_id=a&client_secret=b&scope=x&scope=",
    ] {
        assert_eq!(
            parse_body(body).unwrap_err().code(),
            "invalid_request",
            "{body}"
        );
    }
}

#[test]
fn unknown_parameters_are_ignored() {
    assert!(
        parse_body("grant_type=client_credentials&client_id=a&client_secret=b&foo=1&foo=2").is_ok()
    );
}

#[test]
fn no_client_authentication_is_invalid_client() {
    assert_eq!(
        parse_body("grant_type=client_credentials").unwrap_err(),
        TokenError::InvalidClient {
            basic: false,
            reason: client_auth::AuthFailure::NoCredentials
        }
    );
}

#[test]
fn secret_without_id_is_invalid_request() {
    assert_eq!(
        parse_body("grant_type=client_credentials&client_secret=b")
            .unwrap_err()
            .code(),
        "invalid_request"
    );
}

#[test]
fn basic_and_post_together_is_invalid_request() {
    let header = basic("a", "b");
    let got = parse(
        FORM,
        Some(&header),
        b"grant_type=client_credentials&client_id=a&client_secret=b",
    );
    assert_eq!(got.unwrap_err().code(), "invalid_request");
}

#[test]
fn basic_with_matching_body_client_id_is_accepted() {
    let header = basic("a", "b");
    let got = parse(
        FORM,
        Some(&header),
        b"grant_type=client_credentials&client_id=a",
    )
    .unwrap();
    assert_eq!(got.credentials.method, AuthMethod::ClientSecretBasic);
    let mismatch = parse(
        FORM,
        Some(&header),
        b"grant_type=client_credentials&client_id=z",
    );
    assert_eq!(mismatch.unwrap_err().code(), "invalid_request");
}

#[test]
fn empty_scope_parameter_counts_as_absent() {
    let request =
        parse_body("grant_type=client_credentials&client_id=a&client_secret=b&scope=").unwrap();
    assert_eq!(request.scope, None);
}

#[test]
fn right_secret_gets_default_scopes() {
    assert_eq!(
        decide_body(
            &m2m(),
            "grant_type=client_credentials&client_id=app&client_secret=s"
        ),
        Ok(vec!["read".to_string()])
    );
}

#[test]
fn wrong_secret_is_invalid_client_before_scope_is_looked_at() {
    assert_eq!(
        decide_body(
            &m2m(),
            "grant_type=client_credentials&client_id=app&client_secret=x&scope=%22bad"
        ),
        Err("invalid_client")
    );
}

#[test]
fn web_app_without_the_grant_is_unauthorized_client() {
    let web = app(ClientType::Web, &[GrantType::AuthorizationCode]);
    assert_eq!(
        decide_body(
            &web,
            "grant_type=client_credentials&client_id=app&client_secret=s"
        ),
        Err("unauthorized_client")
    );
    let allowed = app(ClientType::Web, &[GrantType::ClientCredentials]);
    assert!(
        decide_body(
            &allowed,
            "grant_type=client_credentials&client_id=app&client_secret=s"
        )
        .is_ok()
    );
}

#[test]
fn public_app_is_unauthorized_client() {
    let spa = Client {
        secrets: Box::default(),
        ..app(ClientType::Spa, &[GrantType::AuthorizationCode])
    };
    assert_eq!(
        decide_body(&spa, "grant_type=client_credentials&client_id=app"),
        Err("unauthorized_client")
    );
}

#[test]
fn disabled_public_app_is_invalid_client() {
    let spa = Client {
        enabled: false,
        ..app(ClientType::Native, &[])
    };
    assert_eq!(
        decide_body(&spa, "grant_type=client_credentials&client_id=app"),
        Err("invalid_client")
    );
}

#[test]
fn unknown_client_is_invalid_client() {
    let request = parse_body("grant_type=client_credentials&client_id=x&client_secret=s").unwrap();
    assert_eq!(
        decide(None, &request, 0).unwrap_err().code(),
        "invalid_client"
    );
}

#[test]
fn scope_beyond_permissions_is_invalid_scope() {
    assert_eq!(
        decide_body(
            &m2m(),
            "grant_type=client_credentials&client_id=app&client_secret=s&scope=read+admin"
        ),
        Err("invalid_scope")
    );
}

#[test]
fn token_is_reusable_while_its_share_of_life_remains() {
    // 300 s token, 80 %: reusable for the first 60 s.
    assert!(reusable(1000, 1300, 80, 1000));
    assert!(reusable(1000, 1300, 80, 1060));
    assert!(!reusable(1000, 1300, 80, 1061));
    assert!(
        !reusable(1000, 1300, 1, 1300),
        "an expired token is never handed out"
    );
    assert!(
        !reusable(1000, 1000, 50, 1000),
        "a token with no life is never handed out"
    );
}

#[test]
fn reused_response_counts_expires_in_down() {
    let client = m2m();
    let request =
        parse_body("grant_type=client_credentials&client_id=app&client_secret=s").unwrap();
    let grant = decide(Some(&client), &request, 1030).unwrap();
    assert_eq!(grant.reused_response("jwt".into(), 1300).expires_in, 270);
}

#[test]
fn grant_claims_and_response_follow_the_seed() {
    let client = m2m();
    let request = parse_body(
        "grant_type=client_credentials&client_id=app&client_secret=s&scope=write+read+write",
    )
    .unwrap();
    let grant = decide(Some(&client), &request, 1_640_588_828).unwrap();
    let claims = grant.claims("https://issuer.example", "jti-1");
    assert_eq!((claims.sub, claims.aud), ("app", "app"));
    assert_eq!(
        (claims.iat, claims.nbf, claims.exp),
        (1_640_588_828, 1_640_588_828, 1_640_589_128)
    );
    assert_eq!(claims.scope, ["write", "read"]);
    let response = grant.response("jwt".into());
    assert_eq!(response.scope, "write read");
    assert_eq!(response.token_type, "Bearer");
    assert_eq!(response.expires_in, 300);
}

fn with_audience(audience: &str) -> Client {
    let mut client = m2m();
    client.audiences = vec![audience.to_owned()].into();
    client
}

fn granted_audience(client: &Client, body: &str) -> Result<Option<String>, &'static str> {
    let request = parse_body(body).map_err(|e| e.code())?;
    decide(Some(client), &request, 1000)
        .map(|grant| grant.audience.map(str::to_owned))
        .map_err(|e| e.code())
}

const AUTH: &str = "grant_type=client_credentials&client_id=app&client_secret=s";

#[test]
fn resource_or_audience_names_an_allowed_audience() {
    let client = with_audience("https://api.test");
    for parameter in ["resource", "audience"] {
        assert_eq!(
            granted_audience(
                &client,
                &format!("{AUTH}&{parameter}=https%3A%2F%2Fapi.test")
            ),
            Ok(Some("https://api.test".to_owned()))
        );
    }
    assert_eq!(granted_audience(&client, AUTH), Ok(None));
}

#[test]
fn an_audience_not_allowed_or_not_a_uri_is_invalid_target() {
    let client = with_audience("https://api.test");
    for audience in ["https://other.test", "api.test", "https://api.test#x", ""] {
        let body = format!("{AUTH}&resource={audience}");
        let expected = if audience.is_empty() {
            Ok(None)
        } else {
            Err("invalid_target")
        };
        assert_eq!(granted_audience(&client, &body), expected, "{audience:?}");
    }
}

#[test]
fn resource_and_audience_must_agree() {
    let client = with_audience("urn:a");
    assert_eq!(
        granted_audience(&client, &format!("{AUTH}&resource=urn:a&audience=urn:b")),
        Err("invalid_request")
    );
    assert_eq!(
        granted_audience(&client, &format!("{AUTH}&resource=urn:a&audience=urn:a")),
        Ok(Some("urn:a".to_owned()))
    );
}

#[test]
fn a_wrong_secret_with_a_resource_is_invalid_client_not_invalid_target() {
    let client = with_audience("urn:a");
    let body = "grant_type=client_credentials&client_id=app&client_secret=bad&resource=urn:zzz";
    assert_eq!(granted_audience(&client, body), Err("invalid_client"));
}

fn payload_of(client: &Client, body: &str) -> String {
    profile_payload(TokenProfile::Seed, client, body)
}

fn profile_payload(profile: TokenProfile, client: &Client, body: &str) -> String {
    let request = parse_body(body).unwrap();
    let grant = decide(Some(client), &request, 1000).unwrap();
    String::from_utf8(grant.payload(profile, "https://issuer", "jti-1").unwrap()).unwrap()
}

#[test]
fn the_rfc9068_payload_has_client_id_a_scope_string_and_the_custom_claims() {
    let mut client = with_audience("urn:a");
    client.custom_claims = Some(r#""tier":"gold""#.into());
    assert_eq!(
        profile_payload(
            TokenProfile::Rfc9068,
            &client,
            &format!("{AUTH}&resource=urn:a&scope=write+read")
        ),
        r#"{"iss":"https://issuer","exp":1300,"aud":"urn:a","sub":"app","client_id":"app","iat":1000,"jti":"jti-1","nbf":1000,"scope":"write read","tier":"gold"}"#
    );
}

#[test]
fn the_audience_becomes_aud_and_custom_claims_follow_the_seed_claims() {
    let mut client = with_audience("urn:a");
    client.custom_claims = Some(r#""tier":"gold","n":3"#.into());
    assert_eq!(
        payload_of(&client, &format!("{AUTH}&resource=urn:a")),
        r#"{"sub":"app","aud":"urn:a","nbf":1000,"scope":["read"],"iss":"https://issuer","exp":1300,"iat":1000,"jti":"jti-1","tier":"gold","n":3}"#
    );
}

#[test]
fn without_audience_or_claims_the_payload_is_the_seeds() {
    assert_eq!(
        payload_of(&m2m(), AUTH),
        r#"{"sub":"app","aud":"app","nbf":1000,"scope":["read"],"iss":"https://issuer","exp":1300,"iat":1000,"jti":"jti-1"}"#
    );
}
