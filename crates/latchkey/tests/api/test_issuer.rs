//! The suite's own key publisher and JWT minting (`harness::test_keys`, `harness::issuer`),
//! checked against an independent verifier (`jsonwebtoken`) and a plain HTTP client, so that a
//! failure of the private_key_jwt and federation tests is the server's and not theirs.

use crate::harness::*;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The claims `token` carries once `jsonwebtoken` verified it with `key` by `alg`.
fn verified(token: &str, key: &DecodingKey, alg: Algorithm) -> Result<Value, String> {
    let mut validation = Validation::new(alg);
    validation.set_audience(&["https://audience.test"]);
    validation.set_required_spec_claims(&["exp", "aud"]);
    jsonwebtoken::decode::<Value>(token, key, &validation)
        .map(|data| data.claims)
        .map_err(|error| error.to_string())
}

/// `key`'s public JWK as a `jsonwebtoken` decoding key.
fn decoding_key(key: &TestKey) -> DecodingKey {
    let jwk = key.jwk();
    let member = |name: &str| {
        jwk[name]
            .as_str()
            .unwrap_or_else(|| panic!("no {name} in {jwk}"))
    };
    match jwk["kty"].as_str() {
        Some("RSA") => DecodingKey::from_rsa_components(member("n"), member("e")),
        Some("EC") => DecodingKey::from_ec_components(member("x"), member("y")),
        Some("OKP") => DecodingKey::from_ed_components(member("x")),
        other => panic!("unknown kty {other:?}"),
    }
    .expect("a decoding key from the JWK")
}

fn claims() -> Value {
    let now = unix_now();
    json!({"sub": "me", "aud": "https://audience.test", "iat": now, "exp": now + 60})
}

#[test]
fn test_keys_sign_what_an_independent_verifier_accepts() {
    let rsa = TestKey::rsa();
    let cases = [
        (&rsa, rsa.header(), Algorithm::RS256),
        (
            &rsa,
            json!({"alg": "PS256", "kid": rsa.kid()}),
            Algorithm::PS256,
        ),
    ];
    for (key, header, alg) in cases {
        let token = key.sign_with_header(&header, &claims());
        verified(&token, &decoding_key(key), alg)
            .unwrap_or_else(|error| panic!("{alg:?}: {error}"));
    }
    for (key, alg) in [
        (TestKey::ec(), Algorithm::ES256),
        (TestKey::ed25519(), Algorithm::EdDSA),
    ] {
        let token = key.sign(&claims());
        let header = jsonwebtoken::decode_header(&token).expect("a header");
        assert_eq!(header.kid.as_deref(), Some(key.kid()));
        verified(&token, &decoding_key(&key), alg)
            .unwrap_or_else(|error| panic!("{alg:?}: {error}"));
    }
}

#[test]
fn the_forged_tokens_are_what_a_confused_verifier_would_accept() {
    let key = TestKey::rsa();
    // HS256 keyed with the public key's PEM verifies for a verifier that takes that PEM as a
    // secret: the attack is real, so refusing it proves something.
    let forged = key.sign_hs256_with_public_key(&claims());
    let secret = DecodingKey::from_secret(key.public_pem().as_bytes());
    verified(&forged, &secret, Algorithm::HS256).expect("the HS256 forgery verifies by the PEM");
    assert!(verified(&forged, &decoding_key(&key), Algorithm::RS256).is_err());

    let unsigned = unsigned_jwt(key.kid(), &claims());
    assert!(unsigned.ends_with('.'), "{unsigned}");
    let (header, body) = jwt_parts(&format!("{unsigned}x"));
    assert_eq!(
        serde_json::from_str::<Value>(&header).expect("JSON")["alg"],
        "none"
    );
    assert_eq!(body["sub"], "me");
}

#[test]
fn jwks_without_alg_keep_type_and_curve() {
    let key = TestKey::ec();
    let bare = key.bare_jwk();
    assert_eq!(bare["kty"], "EC");
    assert_eq!(bare["crv"], "P-256");
    assert_eq!(bare["kid"], key.kid());
    assert!(bare.get("alg").is_none(), "{bare}");
}

#[tokio::test]
async fn the_test_issuer_serves_discovery_and_keys_and_goes_away_and_back() {
    let mut issuer = TestIssuer::start().await;
    let client = http_client();
    let get = async |url: String| {
        let response = client
            .get(&url)
            .send()
            .await
            .map_err(|error| error.to_string())?;
        let status = response.status();
        let cache_control = response
            .headers()
            .get("cache-control")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let body: Value = response.json().await.map_err(|error| error.to_string())?;
        Ok::<_, String>((status, cache_control, body))
    };

    let discovery_url = format!("{}/.well-known/openid-configuration", issuer.url());
    let (status, _, discovery) = get(discovery_url.clone()).await.expect("discovery");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(discovery["issuer"], issuer.url());
    assert_eq!(discovery["jwks_uri"], issuer.jwks_uri());
    assert!(
        issuer.url().starts_with("http://127.0.0.1:"),
        "{}",
        issuer.url()
    );

    let (status, cache_control, jwks) = get(issuer.jwks_uri()).await.expect("the JWKS");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cache_control.as_deref(), Some(JWKS_CACHE_CONTROL));
    assert_eq!(jwks, jwks_of(&[&issuer.key]));
    let other = TestKey::ed25519();
    issuer.publish_keys(&[&issuer.key, &other]);
    let (_, _, jwks) = get(issuer.jwks_uri()).await.expect("the JWKS");
    assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(2), "{jwks}");
    assert_eq!((issuer.discovery_served(), issuer.jwks_served()), (1, 2));

    issuer.stop().await;
    assert!(
        get(issuer.jwks_uri()).await.is_err(),
        "a stopped issuer answered"
    );
    issuer.restart().await;
    let (status, _, again) = get(issuer.jwks_uri())
        .await
        .expect("the JWKS after a restart");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, jwks);
}

#[test]
fn platform_tokens_have_their_platforms_claim_sets() {
    let now = unix_now();
    let kubernetes = kubernetes_claims("https://k8s.test", "payments", "api", "latchkey", now);
    assert_eq!(kubernetes["sub"], "system:serviceaccount:payments:api");
    assert_eq!(kubernetes["aud"], json!(["latchkey"]));
    assert_eq!(kubernetes["kubernetes.io"]["namespace"], "payments");
    assert_eq!(kubernetes["kubernetes.io"]["serviceaccount"]["name"], "api");
    for member in ["iss", "exp", "iat", "nbf"] {
        assert!(kubernetes.get(member).is_some(), "{member}: {kubernetes}");
    }
    assert!(
        kubernetes["kubernetes.io"]["pod"]["uid"].is_string(),
        "{kubernetes}"
    );

    let run = GithubRun {
        repository: "acme/api",
        branch: "main",
        environment: None,
    };
    let github = github_claims("https://gh.test", &run, "https://github.com/acme", now);
    assert_eq!(github["sub"], "repo:acme/api:ref:refs/heads/main");
    assert_eq!(github["ref"], "refs/heads/main");
    assert_eq!(github["repository_owner"], "acme");
    for member in [
        "jti",
        "sha",
        "repository_id",
        "run_id",
        "run_number",
        "run_attempt",
        "actor",
        "workflow",
        "job_workflow_ref",
        "event_name",
        "ref_type",
        "nbf",
        "exp",
        "iat",
    ] {
        assert!(github.get(member).is_some(), "{member}: {github}");
    }
    assert!(github.get("environment").is_none(), "{github}");
    let deployed = github_claims(
        "https://gh.test",
        &GithubRun {
            environment: Some("prod"),
            ..run
        },
        "https://github.com/acme",
        now,
    );
    assert_eq!(deployed["sub"], "repo:acme/api:environment:prod");
    assert_eq!(deployed["environment"], "prod");
}
