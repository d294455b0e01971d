//! `PublicKeySet`: public keys latchkey does not own (an app's keys for `private_key_jwt`, an
//! external issuer's keys for federation), parsed once from a JWK Set and then used to verify
//! compact JWS signatures with no parse per request.
//!
//! Only asymmetric algorithms are accepted: RS256, PS256, ES256 and EdDSA. A JWK names its
//! algorithm with `alg`, or, as SPIFFE bundles and many issuers publish them, only its type:
//! an RSA key then verifies RS256 and PS256, a P-256 key ES256, an Ed25519 key EdDSA. `none`
//! and HMAC are never accepted, whatever a token's header says, since no key of the set can
//! verify them: a key is picked by the token's `alg` among the set's own algorithms.

use crate::jws::CompactJws;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ED25519, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256,
    RSA_PSS_2048_8192_SHA256, VerificationAlgorithm,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use std::fmt;

/// The JWS algorithms an assertion or a federated token may be signed with.
pub const ASSERTION_ALGORITHMS: [VerifyAlg; 4] = [
    VerifyAlg::Rs256,
    VerifyAlg::Ps256,
    VerifyAlg::Es256,
    VerifyAlg::EdDsa,
];

/// An algorithm a `PublicKeySet` verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// RSASSA-PSS with SHA-256.
    Ps256,
    /// ECDSA P-256 with SHA-256.
    Es256,
    /// Ed25519.
    EdDsa,
}

impl VerifyAlg {
    /// The JWS `alg` name.
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyAlg::Rs256 => "RS256",
            VerifyAlg::Ps256 => "PS256",
            VerifyAlg::Es256 => "ES256",
            VerifyAlg::EdDsa => "EdDSA",
        }
    }

    fn from_name(name: &str) -> Option<VerifyAlg> {
        ASSERTION_ALGORITHMS
            .into_iter()
            .find(|alg| alg.as_str() == name)
    }

    fn verification(self) -> &'static dyn VerificationAlgorithm {
        match self {
            VerifyAlg::Rs256 => &RSA_PKCS1_2048_8192_SHA256,
            VerifyAlg::Ps256 => &RSA_PSS_2048_8192_SHA256,
            VerifyAlg::Es256 => &ECDSA_P256_SHA256_FIXED,
            VerifyAlg::EdDsa => &ED25519,
        }
    }
}

/// Why a JWK Set cannot be used. The messages are for the operator who gave it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwksError {
    /// Not a JWK Set of the accepted shape.
    #[error("{0}")]
    Shape(#[from] latchkey_protocol::federation::JwksShapeError),
    /// A key that claims a supported type but whose numbers do not make a valid key.
    #[error("key {index} of the JWK Set{kid} is not a valid {kind} public key: {problem}")]
    BadKey {
        /// Its place in the set, from 0.
        index: usize,
        /// ` (kid "…")` or nothing.
        kid: String,
        /// What it claims to be.
        kind: &'static str,
        /// What is wrong.
        problem: &'static str,
    },
    /// No key of the set can verify any accepted algorithm.
    #[error(
        "the JWK Set holds no usable signing key: give RSA (2048 bits or more), EC P-256 or Ed25519 public keys for RS256, PS256, ES256 or EdDSA"
    )]
    NoUsableKey,
    /// Two keys with one `kid`.
    #[error("the JWK Set holds two keys with kid {0:?}: every kid must be unique")]
    RepeatedKid(String),
}

/// One public key, parsed for each algorithm it may verify.
struct PublicKey {
    kid: Option<Box<str>>,
    verifiers: Vec<(VerifyAlg, ParsedPublicKey)>,
}

/// A set of parsed public keys.
pub struct PublicKeySet {
    keys: Vec<PublicKey>,
}

impl fmt::Debug for PublicKeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.keys.iter().map(|key| key.kid.as_deref()))
            .finish()
    }
}

impl PublicKeySet {
    /// Parses a JWK Set. Keys of types latchkey does not verify with (encryption keys, other
    /// curves) are skipped, as RFC 7517 §5 asks of unknown members; a key of a supported type
    /// with bad numbers is an error, as is a set with no usable key.
    pub fn parse(json: &str) -> Result<PublicKeySet, JwksError> {
        let normalized = latchkey_protocol::federation::normalize_jwks(json)?;
        let set: Value = serde_json::from_str(&normalized)
            .map_err(|_| latchkey_protocol::federation::JwksShapeError::NotASet)?;
        let keys = set["keys"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        let mut parsed: Vec<PublicKey> = Vec::with_capacity(keys.len());
        for (index, key) in keys.iter().enumerate() {
            let Some(key) = key.as_object() else { continue };
            if let Some(key) = parse_key(index, key)? {
                if let Some(kid) = &key.kid
                    && parsed.iter().any(|other| other.kid.as_ref() == Some(kid))
                {
                    return Err(JwksError::RepeatedKid(kid.to_string()));
                }
                parsed.push(key);
            }
        }
        if parsed.is_empty() {
            return Err(JwksError::NoUsableKey);
        }
        Ok(PublicKeySet { keys: parsed })
    }

    /// Whether a key of the set has this `kid`.
    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|key| key.kid.as_deref() == Some(kid))
    }

    /// How many usable keys the set holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set holds no key (never true of a parsed set).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key ids of the set, in order (keys without one are left out).
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().filter_map(|key| key.kid.as_deref())
    }

    /// Whether a key of the set signed `jws` with the algorithm its header names. With a `kid`
    /// in the header only that key is tried; without one, every key (a set of one key is the
    /// common case; RFC 7515 makes `kid` optional).
    pub fn verify(&self, jws: &CompactJws<'_>) -> bool {
        let Some(alg) = VerifyAlg::from_name(&jws.header.alg) else {
            return false;
        };
        let kid = jws.header.kid.as_deref();
        self.keys
            .iter()
            .filter(|key| kid.is_none() || key.kid.as_deref() == kid)
            .flat_map(|key| key.verifiers.iter())
            .filter(|(key_alg, _)| *key_alg == alg)
            .any(|(_, key)| {
                key.verify_sig(jws.signing_input.as_bytes(), &jws.signature)
                    .is_ok()
            })
    }
}

/// Parses one JWK; `None` for a key latchkey does not verify with.
fn parse_key(index: usize, key: &Map<String, Value>) -> Result<Option<PublicKey>, JwksError> {
    let text = |name: &str| key.get(name).and_then(Value::as_str);
    // A key meant for encryption is not a signing key (RFC 7517 §4.2); a SPIFFE trust bundle
    // marks the keys that sign JWT-SVIDs `jwt-svid` and those of X.509-SVIDs `x509-svid`.
    if text("use").is_some_and(|use_| use_ != "sig" && use_ != "jwt-svid") {
        return Ok(None);
    }
    if let Some(Value::Array(ops)) = key.get("key_ops")
        && !ops.iter().any(|op| op.as_str() == Some("verify"))
    {
        return Ok(None);
    }
    let kid = text("kid").map(Box::from);
    let bad = |kind: &'static str, problem: &'static str| JwksError::BadKey {
        index,
        kid: text("kid").map_or_else(String::new, |kid| format!(" (kid {kid:?})")),
        kind,
        problem,
    };
    let bytes = |name: &str, kind: &'static str| -> Result<Vec<u8>, JwksError> {
        let encoded = text(name).ok_or_else(|| bad(kind, "a member is missing"))?;
        URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| bad(kind, "a member is not base64url without padding"))
    };
    let named = text("alg");
    let (kind, algs, public): (&'static str, Vec<VerifyAlg>, Vec<u8>) =
        match (text("kty"), text("crv")) {
            (Some("RSA"), _) => {
                let algs = match named {
                    None => vec![VerifyAlg::Rs256, VerifyAlg::Ps256],
                    Some("RS256") => vec![VerifyAlg::Rs256],
                    Some("PS256") => vec![VerifyAlg::Ps256],
                    Some(_) => return Ok(None),
                };
                let n = bytes("n", "RSA")?;
                let e = bytes("e", "RSA")?;
                // aws-lc-rs checks the modulus size only when verifying; refusing a small key
                // here makes it an error for the operator, not a failed login.
                let bits = n.iter().skip_while(|b| **b == 0).count() * 8;
                if !(2048..=8192).contains(&bits) {
                    return Err(bad(
                        "RSA",
                        "the modulus must be 2048 to 8192 bits with a valid exponent",
                    ));
                }
                ("RSA", algs, rsa_public_key_der(&n, &e))
            }
            (Some("EC"), Some("P-256")) => {
                if named.is_some_and(|alg| alg != "ES256") {
                    return Ok(None);
                }
                let x = bytes("x", "EC P-256")?;
                let y = bytes("y", "EC P-256")?;
                if x.len() != 32 || y.len() != 32 {
                    return Err(bad("EC P-256", "x and y must be 32 bytes each"));
                }
                // An uncompressed point: 0x04, then x, then y (SEC 1 §2.3.3).
                let mut point = Vec::with_capacity(65);
                point.push(0x04);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                ("EC P-256", vec![VerifyAlg::Es256], point)
            }
            (Some("OKP"), Some("Ed25519")) => {
                if named.is_some_and(|alg| alg != "EdDSA" && alg != "Ed25519") {
                    return Ok(None);
                }
                let x = bytes("x", "Ed25519")?;
                if x.len() != 32 {
                    return Err(bad("Ed25519", "x must be 32 bytes"));
                }
                ("Ed25519", vec![VerifyAlg::EdDsa], x)
            }
            _ => return Ok(None),
        };
    let mut verifiers = Vec::with_capacity(algs.len());
    for alg in algs {
        let parsed = ParsedPublicKey::new(alg.verification(), &public).map_err(|_| {
            bad(
                kind,
                if kind == "RSA" {
                    "the modulus must be 2048 to 8192 bits with a valid exponent"
                } else {
                    "the point is not on the curve"
                },
            )
        })?;
        verifiers.push((alg, parsed));
    }
    Ok(Some(PublicKey { kid, verifiers }))
}

/// An RSA public key as the DER `RSAPublicKey` (RFC 8017 §A.1.1) that aws-lc-rs parses: a
/// SEQUENCE of two INTEGERs, each a positive big-endian number.
fn rsa_public_key_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    fn integer(bytes: &[u8]) -> Vec<u8> {
        let trimmed = {
            let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
            &bytes[start..]
        };
        let mut content = Vec::with_capacity(trimmed.len() + 1);
        // A leading zero keeps a number whose top bit is set positive.
        if trimmed.first().is_none_or(|b| b & 0x80 != 0) {
            content.push(0);
        }
        content.extend_from_slice(trimmed);
        let mut out = vec![0x02];
        out.extend(length(content.len()));
        out.extend(content);
        out
    }
    fn length(len: usize) -> Vec<u8> {
        if len < 0x80 {
            return vec![len as u8];
        }
        let bytes = len.to_be_bytes();
        let start = bytes
            .iter()
            .position(|b| *b != 0)
            .unwrap_or(bytes.len() - 1);
        let mut out = vec![0x80 | (bytes.len() - start) as u8];
        out.extend_from_slice(&bytes[start..]);
        out
    }
    let mut body = integer(n);
    body.extend(integer(e));
    let mut out = vec![0x30];
    out.extend(length(body.len()));
    out.extend(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jws;
    use crate::{Algorithm, Signer, generate_private_key};
    use serde_json::json;

    fn signer(alg: Algorithm, kid: &str) -> Signer {
        let der = generate_private_key(alg).unwrap();
        Signer::from_pkcs8(kid, alg, &der).unwrap()
    }

    fn set_of(jwks: Value) -> PublicKeySet {
        PublicKeySet::parse(&jwks.to_string()).unwrap()
    }

    fn jwk_of(signer: &Signer) -> Value {
        serde_json::to_value(signer.public_jwk()).unwrap()
    }

    fn token(signer: &Signer) -> String {
        signer
            .sign_payload_as(crate::JwtType::Jwt, b"{\"sub\":\"x\"}")
            .unwrap()
    }

    #[test]
    fn each_key_type_verifies_its_own_tokens_and_not_another_keys() {
        for alg in Algorithm::ALL {
            let own = signer(alg, "own");
            let other = signer(alg, "own");
            let set = set_of(json!({"keys": [jwk_of(&own)]}));
            let mine = token(&own);
            let theirs = token(&other);
            assert!(set.verify(&jws::decode(&mine).unwrap()), "{alg}");
            assert!(!set.verify(&jws::decode(&theirs).unwrap()), "{alg}");
        }
    }

    #[test]
    fn keys_without_alg_verify_by_their_type_and_kid_picks_the_key() {
        let ec = signer(Algorithm::Es256, "ec");
        let ed = signer(Algorithm::EdDsa, "ed");
        let mut ec_jwk = jwk_of(&ec);
        ec_jwk.as_object_mut().unwrap().remove("alg");
        let mut ed_jwk = jwk_of(&ed);
        ed_jwk.as_object_mut().unwrap().remove("alg");
        let set = set_of(json!({"keys": [ec_jwk, ed_jwk]}));
        assert!(set.has_kid("ec") && set.has_kid("ed") && !set.has_kid("x"));
        assert!(set.verify(&jws::decode(&token(&ec)).unwrap()));
        assert!(set.verify(&jws::decode(&token(&ed)).unwrap()));
    }

    #[test]
    fn a_token_whose_alg_is_none_or_hmac_never_verifies() {
        let ed = signer(Algorithm::EdDsa, "ed");
        let set = set_of(json!({"keys": [jwk_of(&ed)]}));
        let valid = token(&ed);
        let (_, rest) = valid.split_once('.').unwrap();
        for alg in ["none", "HS256", "RS256"] {
            let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}","kid":"ed"}}"#));
            let forged = format!("{header}.{rest}");
            assert!(!set.verify(&jws::decode(&forged).unwrap()), "{alg}");
        }
    }

    #[test]
    fn unusable_sets_and_keys_are_refused_with_what_is_wrong() {
        assert_eq!(
            PublicKeySet::parse(r#"{"keys":[{"kty":"oct","kid":"a"}]}"#).unwrap_err(),
            JwksError::NoUsableKey
        );
        let short = json!({"keys": [{"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}]});
        assert!(matches!(
            PublicKeySet::parse(&short.to_string()),
            Err(JwksError::BadKey { .. })
        ));
        let off_curve = json!({"keys": [{"kty": "EC", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode([1u8; 32]), "y": URL_SAFE_NO_PAD.encode([1u8; 32])}]});
        assert!(matches!(
            PublicKeySet::parse(&off_curve.to_string()),
            Err(JwksError::BadKey { .. })
        ));
        let small_rsa = json!({"keys": [{"kty": "RSA", "n": URL_SAFE_NO_PAD.encode([0xc1u8; 64]), "e": "AQAB"}]});
        assert!(matches!(
            PublicKeySet::parse(&small_rsa.to_string()),
            Err(JwksError::BadKey { .. })
        ));
        let ed = jwk_of(&signer(Algorithm::EdDsa, "same"));
        let twice = json!({"keys": [ed.clone(), ed]});
        assert_eq!(
            PublicKeySet::parse(&twice.to_string()).unwrap_err(),
            JwksError::RepeatedKid("same".into())
        );
    }

    #[test]
    fn encryption_and_x509_svid_keys_are_skipped_and_jwt_svid_keys_used() {
        let ed = signer(Algorithm::EdDsa, "sig");
        let mut enc = jwk_of(&signer(Algorithm::EdDsa, "enc"));
        enc["use"] = json!("enc");
        let mut x509 = jwk_of(&signer(Algorithm::Es256, "x509"));
        x509["use"] = json!("x509-svid");
        let spiffe = signer(Algorithm::Es256, "svid");
        let mut svid = jwk_of(&spiffe);
        svid["use"] = json!("jwt-svid");
        svid.as_object_mut().unwrap().remove("alg");
        let set = set_of(json!({"keys": [enc, x509, svid, jwk_of(&ed)]}));
        assert_eq!(set.len(), 2);
        assert!(set.has_kid("sig") && set.has_kid("svid"));
        assert!(!set.has_kid("enc") && !set.has_kid("x509"));
        assert!(set.verify(&jws::decode(&token(&spiffe)).unwrap()));
    }
}
