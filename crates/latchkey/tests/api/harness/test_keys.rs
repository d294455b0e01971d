//! Key pairs a test holds in place of a client or a platform (RSA 2048, P-256, Ed25519), their
//! public JWKs, and compact JWTs signed with any header and claims, well-made or deliberately
//! not (`alg: none`, HS256 keyed with a public key's bytes): what a client sends as a
//! `private_key_jwt` assertion, or what a workload's platform signs.

use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RSA_PKCS1_SHA256,
    RSA_PSS_SHA256, RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use latchkey_keys::Algorithm;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};

/// The assertion type of RFC 7523 §2.2.
pub(crate) const JWT_BEARER_ASSERTION: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The grant type of RFC 7523 §2.1.
pub(crate) const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// A private key of the test's, with the `kid` its public JWK carries.
pub(crate) struct TestKey {
    kid: String,
    pair: Pair,
    /// The private key as PKCS#8 DER, for a client library that reads a PEM file.
    pkcs8: Vec<u8>,
    /// The public JWK, as latchkey's own key code writes one (`kty`, `kid`, `use`, `alg`, ...).
    jwk: Value,
}

impl std::fmt::Debug for TestKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "TestKey({}, {})", self.kid, self.default_alg())
    }
}

/// A kid no other key of this process has.
fn fresh_kid(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

impl TestKey {
    /// A new RSA 2048 key.
    pub(crate) fn rsa() -> TestKey {
        TestKey::generate(Algorithm::Rs256, "rsa")
    }

    /// A new P-256 key.
    pub(crate) fn ec() -> TestKey {
        TestKey::generate(Algorithm::Es256, "ec")
    }

    /// A new Ed25519 key.
    pub(crate) fn ed25519() -> TestKey {
        TestKey::generate(Algorithm::EdDsa, "ed")
    }

    fn generate(alg: Algorithm, prefix: &str) -> TestKey {
        let kid = fresh_kid(prefix);
        let pkcs8 = latchkey_keys::generate_private_key(alg).expect("generating a test key");
        let signer =
            latchkey_keys::Signer::from_pkcs8(&kid, alg, &pkcs8).expect("parsing the test key");
        let jwk = serde_json::to_value(signer.public_jwk()).expect("a JWK as JSON");
        let pair = match alg {
            Algorithm::Rs256 => Pair::Rsa(RsaKeyPair::from_pkcs8(&pkcs8).expect("an RSA key")),
            Algorithm::Es256 => Pair::Ec(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8)
                    .expect("a P-256 key"),
            ),
            Algorithm::EdDsa => {
                Pair::Ed(Ed25519KeyPair::from_pkcs8(&pkcs8).expect("an Ed25519 key"))
            }
        };
        TestKey {
            kid,
            pair,
            pkcs8: pkcs8.to_vec(),
            jwk,
        }
    }

    /// The key's id.
    pub(crate) fn kid(&self) -> &str {
        &self.kid
    }

    /// The `alg` this key signs with by default (RS256 for RSA; PS256 on request).
    pub(crate) fn default_alg(&self) -> &'static str {
        match self.pair {
            Pair::Rsa(_) => "RS256",
            Pair::Ec(_) => "ES256",
            Pair::Ed(_) => "EdDSA",
        }
    }

    /// The public JWK.
    pub(crate) fn jwk(&self) -> Value {
        self.jwk.clone()
    }

    /// The public JWK without `alg` (and `use`), as SPIFFE bundles and many platforms publish
    /// keys: the key's type and curve say what it is.
    pub(crate) fn bare_jwk(&self) -> Value {
        let mut jwk = self.jwk.clone();
        if let Some(members) = jwk.as_object_mut() {
            members.remove("alg");
            members.remove("use");
        }
        jwk
    }

    /// The private key as a PEM `PRIVATE KEY` (PKCS#8), as `openssl genpkey` writes one.
    pub(crate) fn private_pem(&self) -> String {
        pem("PRIVATE KEY", &self.pkcs8)
    }

    /// The public key as a PEM `PUBLIC KEY` (X.509 SubjectPublicKeyInfo): the bytes a confused
    /// verifier would take as an HMAC secret.
    pub(crate) fn public_pem(&self) -> String {
        let der = |der: PublicKeyX509Der<'static>| der.as_ref().to_vec();
        let der = match &self.pair {
            Pair::Rsa(pair) => pair.public_key().as_der().map(der),
            Pair::Ec(pair) => pair.public_key().as_der().map(der),
            Pair::Ed(pair) => pair.public_key().as_der().map(der),
        }
        .expect("encoding the public key");
        pem("PUBLIC KEY", &der)
    }

    /// `{"alg": default, "kid": kid, "typ": "JWT"}`.
    pub(crate) fn header(&self) -> Value {
        json!({"alg": self.default_alg(), "kid": self.kid, "typ": "JWT"})
    }

    /// Signs `claims` under the usual header.
    pub(crate) fn sign(&self, claims: &Value) -> String {
        self.sign_with_header(&self.header(), claims)
    }

    /// Signs `claims` under `header`, whose `alg` says how: RS256 or PS256 for an RSA key,
    /// ES256 for P-256, EdDSA for Ed25519. Any other `alg` (or a mismatch) is a test's mistake.
    pub(crate) fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        let input = signing_input(header, claims);
        let alg = header["alg"].as_str().unwrap_or_default();
        let rng = SystemRandom::new();
        let signature = match (&self.pair, alg) {
            (Pair::Rsa(pair), "RS256" | "PS256") => {
                let padding = if alg == "RS256" {
                    &RSA_PKCS1_SHA256
                } else {
                    &RSA_PSS_SHA256
                };
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(padding, &rng, input.as_bytes(), &mut signature)
                    .expect("signing with RSA");
                signature
            }
            (Pair::Ec(pair), "ES256") => pair
                .sign(&rng, input.as_bytes())
                .expect("signing with P-256")
                .as_ref()
                .to_vec(),
            (Pair::Ed(pair), "EdDSA") => pair.sign(input.as_bytes()).as_ref().to_vec(),
            (_, other) => panic!("{self:?} cannot sign alg {other:?}"),
        };
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// `claims` under HS256 with this key's public PEM as the HMAC secret (the RS256/HS256
    /// confusion attack), with this key's kid.
    pub(crate) fn sign_hs256_with_public_key(&self, claims: &Value) -> String {
        let header = json!({"alg": "HS256", "kid": self.kid, "typ": "JWT"});
        let input = signing_input(&header, claims);
        let secret =
            aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, self.public_pem().as_bytes());
        let tag = aws_lc_rs::hmac::sign(&secret, input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }
}

/// DER bytes as a PEM block with this label, in 64-character lines.
fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|chunk| std::str::from_utf8(chunk).expect("base64 is ASCII"))
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// `base64url(header).base64url(claims)`.
fn signing_input(header: &Value, claims: &Value) -> String {
    let encode = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
    format!("{}.{}", encode(header), encode(claims))
}

/// An unsecured JWT (`alg: none`, RFC 7519 §6) naming `kid`: header, claims, empty signature.
pub(crate) fn unsigned_jwt(kid: &str, claims: &Value) -> String {
    let header = json!({"alg": "none", "kid": kid, "typ": "JWT"});
    format!("{}.", signing_input(&header, claims))
}

/// A JWK Set of these keys' public JWKs.
pub(crate) fn jwks_of(keys: &[&TestKey]) -> Value {
    json!({"keys": keys.iter().map(|key| key.jwk()).collect::<Vec<_>>()})
}

/// A `jti` no other assertion of this process has.
pub(crate) fn fresh_jti() -> String {
    fresh_kid("jti")
}

/// The claims of a `private_key_jwt` assertion for `client_id` at `audience`, issued at `now`,
/// living five minutes, with a fresh `jti`.
pub(crate) fn assertion_claims(client_id: &str, audience: &str, now: i64) -> Value {
    json!({
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": now,
        "exp": now + 300,
        "jti": fresh_jti(),
    })
}

/// The form of a client credentials request authenticated by `assertion` (and `client_id`
/// when given).
pub(crate) fn assertion_form<'a>(
    assertion: &'a str,
    client_id: Option<&'a str>,
) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_assertion_type", JWT_BEARER_ASSERTION),
        ("client_assertion", assertion),
    ];
    if let Some(id) = client_id {
        form.push(("client_id", id));
    }
    form
}
