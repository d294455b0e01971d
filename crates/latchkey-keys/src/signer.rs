//! `Signer`: one parsed private key that signs compact JWTs, and key generation.
//!
//! JWT signing is written here rather than taken from a JWT crate because the common crates
//! (jsonwebtoken among them) re-parse the private key DER on every `encode`, which for RSA costs
//! as much again as the signature. A `Signer` parses its key once when the snapshot is built and
//! precomputes its encoded header, so a token costs one serialization, one base64 pass and one
//! signature (docs/benchmarks.md).

use crate::algorithm::Algorithm;
use crate::jwk::Jwk;
use crate::jws::CompactJws;
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, ED25519, EcdsaKeyPair,
    Ed25519KeyPair, KeyPair, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair,
    UnparsedPublicKey, VerificationAlgorithm,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use std::fmt;
use zeroize::Zeroizing;

/// A failure to generate, parse or use key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Key generation failed in the crypto library.
    #[error("generating a {0} key failed")]
    Generate(Algorithm),
    /// Stored key bytes are not a valid PKCS#8 key for the algorithm.
    #[error("the stored {alg} private key {kid} is not a valid PKCS#8 key for its algorithm")]
    Parse {
        /// The key's id.
        kid: String,
        /// Its algorithm.
        alg: Algorithm,
    },
    /// Signing failed in the crypto library.
    #[error("signing with key {0} failed")]
    Sign(String),
    /// The claims could not be serialized.
    #[error("serializing the token claims failed")]
    Claims(#[from] serde_json::Error),
}

/// The JWT header's `typ`: the seed's `JWT`, or RFC 9068's `at+jwt` (§2.1) for access tokens
/// of that profile. Each has its header precomputed, so choosing one costs nothing per token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtType {
    /// `typ: JWT`, the seed's header.
    Jwt,
    /// `typ: at+jwt` (RFC 9068 §2.1).
    AccessToken,
}

impl JwtType {
    /// The header's `typ` value.
    pub fn as_str(self) -> &'static str {
        match self {
            JwtType::Jwt => "JWT",
            JwtType::AccessToken => "at+jwt",
        }
    }
}

/// The parsed private key. It holds no PKCS#8 bytes of its own: the key lives in aws-lc
/// objects, which aws-lc frees with `OPENSSL_free`, cleansing the memory first.
enum KeyPairKind {
    Rsa(RsaKeyPair),
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// A parsed signing key with its id and precomputed JWT header.
pub struct Signer {
    kid: String,
    alg: Algorithm,
    /// `base64url(header) + "."` with `typ: JWT`, the same for every such token this key signs.
    header_prefix: String,
    /// The same with `typ: at+jwt`.
    access_token_header_prefix: String,
    key_pair: KeyPairKind,
    /// The public key in the form aws-lc verifies with (PKCS#1 for RSA, a point for EC, raw
    /// bytes for Ed25519).
    public_key: Vec<u8>,
    rng: SystemRandom,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// Generates a new private key for `alg` (RSA keys are 2048 bits) as PKCS#8 DER, wiped when
/// dropped. (aws-lc-rs wipes its own DER buffers on drop too, and aws-lc cleanses the key
/// objects it frees.)
pub fn generate_private_key(alg: Algorithm) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let failed = |_| KeyError::Generate(alg);
    let der = match alg {
        Algorithm::Rs256 => {
            let key_pair = aws_lc_rs::rsa::KeyPair::generate(KeySize::Rsa2048).map_err(failed)?;
            AsDer::<Pkcs8V1Der>::as_der(&key_pair)
                .map_err(failed)?
                .as_ref()
                .to_vec()
        }
        Algorithm::Es256 => EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .map_err(failed)?
            .to_pkcs8v1()
            .map_err(failed)?
            .as_ref()
            .to_vec(),
        Algorithm::EdDsa => Ed25519KeyPair::generate()
            .map_err(failed)?
            .to_pkcs8v1()
            .map_err(failed)?
            .as_ref()
            .to_vec(),
    };
    Ok(Zeroizing::new(der))
}

#[derive(Serialize)]
struct Header<'a> {
    kid: &'a str,
    typ: &'static str,
    alg: &'static str,
}

impl Signer {
    /// Parses a PKCS#8 private key once.
    pub fn from_pkcs8(kid: &str, alg: Algorithm, pkcs8: &[u8]) -> Result<Signer, KeyError> {
        let rejected = |_| KeyError::Parse {
            kid: kid.to_owned(),
            alg,
        };
        let key_pair = match alg {
            Algorithm::Rs256 => KeyPairKind::Rsa(RsaKeyPair::from_pkcs8(pkcs8).map_err(rejected)?),
            Algorithm::Es256 => KeyPairKind::Ecdsa(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
                    .map_err(rejected)?,
            ),
            Algorithm::EdDsa => {
                KeyPairKind::Ed25519(Ed25519KeyPair::from_pkcs8(pkcs8).map_err(rejected)?)
            }
        };
        // The seed's header, in the seed's order: kid, typ, alg.
        let header_prefix = |typ: JwtType| -> Result<String, KeyError> {
            let header = serde_json::to_vec(&Header {
                kid,
                typ: typ.as_str(),
                alg: alg.as_str(),
            })?;
            let mut prefix = URL_SAFE_NO_PAD.encode(header);
            prefix.push('.');
            Ok(prefix)
        };
        let public_key = match &key_pair {
            KeyPairKind::Rsa(key_pair) => key_pair.public_key().as_ref().to_vec(),
            KeyPairKind::Ecdsa(key_pair) => key_pair.public_key().as_ref().to_vec(),
            KeyPairKind::Ed25519(key_pair) => key_pair.public_key().as_ref().to_vec(),
        };
        Ok(Signer {
            kid: kid.to_owned(),
            alg,
            header_prefix: header_prefix(JwtType::Jwt)?,
            access_token_header_prefix: header_prefix(JwtType::AccessToken)?,
            key_pair,
            public_key,
            rng: SystemRandom::new(),
        })
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm.
    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// Signs `claims` as a compact JWS (RFC 7515 §7.1).
    pub fn sign_jwt<T: Serialize>(&self, claims: &T) -> Result<String, KeyError> {
        let payload = serde_json::to_vec(claims)?;
        self.sign_payload(&payload)
    }

    /// Signs an already serialized JSON claims object as a compact JWT with `typ: JWT`.
    pub fn sign_payload(&self, payload: &[u8]) -> Result<String, KeyError> {
        self.sign_payload_as(JwtType::Jwt, payload)
    }

    /// Signs an already serialized JSON claims object as a compact JWT with this `typ`.
    pub fn sign_payload_as(&self, typ: JwtType, payload: &[u8]) -> Result<String, KeyError> {
        let header_prefix = match typ {
            JwtType::Jwt => &self.header_prefix,
            JwtType::AccessToken => &self.access_token_header_prefix,
        };
        let mut token = String::with_capacity(header_prefix.len() + payload.len() * 4 / 3 + 400);
        token.push_str(header_prefix);
        URL_SAFE_NO_PAD.encode_string(payload, &mut token);
        let signature = self.sign(token.as_bytes())?;
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&signature, &mut token);
        Ok(token)
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let failed = |_| KeyError::Sign(self.kid.clone());
        match &self.key_pair {
            KeyPairKind::Rsa(key_pair) => {
                let mut signature = vec![0; key_pair.public_modulus_len()];
                key_pair
                    .sign(&RSA_PKCS1_SHA256, &self.rng, message, &mut signature)
                    .map_err(failed)?;
                Ok(signature)
            }
            KeyPairKind::Ecdsa(key_pair) => Ok(key_pair
                .sign(&self.rng, message)
                .map_err(failed)?
                .as_ref()
                .to_vec()),
            KeyPairKind::Ed25519(key_pair) => Ok(key_pair.sign(message).as_ref().to_vec()),
        }
    }

    /// Verifies a decoded token against this key. The token's `alg` must be this key's own
    /// algorithm, which shuts out `none` and algorithm confusion (an HMAC keyed with the public
    /// key) before any signature is checked.
    pub fn verify(&self, jws: &CompactJws<'_>) -> bool {
        if jws.header.alg != self.alg.as_str() {
            return false;
        }
        let algorithm: &dyn VerificationAlgorithm = match self.alg {
            Algorithm::Rs256 => &RSA_PKCS1_2048_8192_SHA256,
            Algorithm::Es256 => &ECDSA_P256_SHA256_FIXED,
            Algorithm::EdDsa => &ED25519,
        };
        UnparsedPublicKey::new(algorithm, &self.public_key)
            .verify(jws.signing_input.as_bytes(), &jws.signature)
            .is_ok()
    }

    /// The public key as a JWK.
    pub fn public_jwk(&self) -> Jwk {
        let encode = |bytes: &[u8]| Some(URL_SAFE_NO_PAD.encode(bytes));
        let mut jwk = Jwk {
            kty: String::new(),
            kid: self.kid.clone(),
            use_: "sig".to_owned(),
            alg: self.alg.as_str().to_owned(),
            n: None,
            e: None,
            crv: None,
            x: None,
            y: None,
        };
        match &self.key_pair {
            KeyPairKind::Rsa(key_pair) => {
                let public = key_pair.public_key();
                jwk.kty = "RSA".to_owned();
                jwk.n = encode(public.modulus().big_endian_without_leading_zero());
                jwk.e = encode(public.exponent().big_endian_without_leading_zero());
            }
            KeyPairKind::Ecdsa(key_pair) => {
                // An uncompressed P-256 point: 0x04, then 32 bytes of x and 32 of y.
                let point = key_pair.public_key().as_ref();
                jwk.kty = "EC".to_owned();
                jwk.crv = Some("P-256".to_owned());
                jwk.x = encode(&point[1..33]);
                jwk.y = encode(&point[33..65]);
            }
            KeyPairKind::Ed25519(key_pair) => {
                jwk.kty = "OKP".to_owned();
                jwk.crv = Some("Ed25519".to_owned());
                jwk.x = encode(key_pair.public_key().as_ref());
            }
        }
        jwk
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::RsaPublicKeyComponents;

    fn split(token: &str) -> (String, Vec<u8>, Vec<u8>) {
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        (
            header,
            format!("{}.{}", parts[0], parts[1]).into_bytes(),
            signature,
        )
    }

    fn signer(alg: Algorithm) -> Signer {
        Signer::from_pkcs8("kid-1", alg, &generate_private_key(alg).unwrap()).unwrap()
    }

    #[test]
    fn rs256_token_has_the_seed_header_and_verifies_with_the_jwk() {
        let signer = signer(Algorithm::Rs256);
        let token = signer.sign_jwt(&serde_json::json!({"sub": "a"})).unwrap();
        let (header, message, signature) = split(&token);
        assert_eq!(header, r#"{"kid":"kid-1","typ":"JWT","alg":"RS256"}"#);
        let jwk = signer.public_jwk();
        assert_eq!(
            (jwk.kty.as_str(), jwk.use_.as_str(), jwk.e.as_deref()),
            ("RSA", "sig", Some("AQAB"))
        );
        let n = URL_SAFE_NO_PAD.decode(jwk.n.unwrap()).unwrap();
        assert_eq!(n.len(), 256, "RSA-2048 modulus");
        let e = URL_SAFE_NO_PAD.decode(jwk.e.unwrap()).unwrap();
        RsaPublicKeyComponents { n: &n, e: &e }
            .verify(&RSA_PKCS1_2048_8192_SHA256, &message, &signature)
            .unwrap();
    }

    #[test]
    fn an_access_token_typ_changes_only_the_header_typ_and_still_verifies() {
        use crate::jws::decode;
        let signer = signer(Algorithm::Rs256);
        let token = signer
            .sign_payload_as(JwtType::AccessToken, br#"{"sub":"a"}"#)
            .unwrap();
        let (header, _, _) = split(&token);
        assert_eq!(header, r#"{"kid":"kid-1","typ":"at+jwt","alg":"RS256"}"#);
        assert!(signer.verify(&decode(&token).unwrap()));
    }

    #[test]
    fn es256_token_verifies_with_the_jwk() {
        let signer = signer(Algorithm::Es256);
        let token = signer.sign_jwt(&serde_json::json!({"sub": "a"})).unwrap();
        let (_, message, signature) = split(&token);
        let jwk = signer.public_jwk();
        let mut point = vec![4u8];
        point.extend(URL_SAFE_NO_PAD.decode(jwk.x.unwrap()).unwrap());
        point.extend(URL_SAFE_NO_PAD.decode(jwk.y.unwrap()).unwrap());
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
            .verify(&message, &signature)
            .unwrap();
    }

    #[test]
    fn eddsa_token_verifies_with_the_jwk() {
        let signer = signer(Algorithm::EdDsa);
        let token = signer.sign_jwt(&serde_json::json!({"sub": "a"})).unwrap();
        let (header, message, signature) = split(&token);
        assert!(header.contains(r#""alg":"EdDSA""#));
        let x = URL_SAFE_NO_PAD
            .decode(signer.public_jwk().x.unwrap())
            .unwrap();
        UnparsedPublicKey::new(&ED25519, &x)
            .verify(&message, &signature)
            .unwrap();
    }

    #[test]
    fn verify_accepts_own_tokens_and_refuses_forgeries() {
        use crate::jws::decode;
        for alg in Algorithm::ALL {
            let signer = signer(alg);
            let token = signer.sign_jwt(&serde_json::json!({"sub": "a"})).unwrap();
            assert!(signer.verify(&decode(&token).unwrap()), "{alg}");
            // Another key of the same algorithm did not sign it.
            assert!(!self::signer(alg).verify(&decode(&token).unwrap()), "{alg}");
            // A changed payload breaks the signature.
            let parts: Vec<&str> = token.split('.').collect();
            let forged = format!(
                "{}.{}.{}",
                parts[0],
                URL_SAFE_NO_PAD.encode(r#"{"sub":"b"}"#),
                parts[2]
            );
            assert!(!signer.verify(&decode(&forged).unwrap()), "{alg}");
        }
    }

    #[test]
    fn verify_refuses_alg_none_and_hs256_with_the_public_key() {
        use crate::jws::decode;
        let signer = signer(Algorithm::Rs256);
        let payload = URL_SAFE_NO_PAD.encode(r#"{"sub":"a"}"#);
        let none = format!(
            "{}.{payload}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"kid-1"}"#)
        );
        assert!(!signer.verify(&decode(&none).unwrap()));
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","kid":"kid-1"}"#);
        let input = format!("{header}.{payload}");
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &signer.public_key);
        let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
        let hs256 = format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()));
        assert!(!signer.verify(&decode(&hs256).unwrap()));
    }

    #[test]
    fn garbage_key_bytes_are_a_parse_error_naming_the_key() {
        let error = Signer::from_pkcs8("kid-9", Algorithm::Rs256, b"not a key").unwrap_err();
        assert!(error.to_string().contains("kid-9"));
    }

    #[test]
    fn a_key_of_another_algorithm_is_refused() {
        let ec = generate_private_key(Algorithm::Es256).unwrap();
        assert!(Signer::from_pkcs8("k", Algorithm::Rs256, &ec).is_err());
    }
}
