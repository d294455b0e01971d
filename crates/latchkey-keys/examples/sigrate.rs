//! The signature ceiling for the benchmark (bench/run.sh): how many signatures per second one
//! thread of this machine makes with aws-lc, per algorithm, both raw (the signature alone) and
//! as whole JWTs through `Signer::sign_jwt` (claims serialization, base64 and signature: all a
//! token costs besides HTTP). Prints one JSON object.
//!
//! Run: `cargo run --release -p latchkey-keys --example sigrate [seconds-per-algorithm] [ALG]`
//! (with ALG, only that algorithm: the benchmark measures it again next to each load run, because
//! a shared VM's speed drifts over minutes).

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use latchkey_keys::{Algorithm, Signer, generate_private_key};
use std::time::{Duration, Instant};

/// Calls `work` until `budget` has passed (checking the clock every 64 calls); returns calls/s.
fn rate(budget: Duration, mut work: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut calls: u64 = 0;
    while start.elapsed() < budget {
        for _ in 0..64 {
            work();
        }
        calls += 64;
    }
    calls as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let seconds: f64 = std::env::args()
        .nth(1)
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(2.0);
    let budget = Duration::from_secs_f64(seconds);
    let only: Option<Algorithm> = std::env::args().nth(2).map(|alg| {
        alg.parse().unwrap_or_else(|error| {
            eprintln!("sigrate: {error}");
            std::process::exit(2)
        })
    });
    let message = [0x5au8; 320];
    let claims = serde_json::json!({
        "sub": "0123456789abcdef0123456789abcdef", "aud": "0123456789abcdef0123456789abcdef",
        "nbf": 1_640_588_828, "scope": ["identity_proofing"], "iss": "http://localhost:8080",
        "exp": 1_640_589_128, "iat": 1_640_588_828, "jti": "9939bc3f-5edf-46c3-8f5c-2b1dc1acfa90",
    });
    let rng = SystemRandom::new();
    let mut results = serde_json::Map::new();
    for alg in Algorithm::ALL
        .into_iter()
        .filter(|alg| only.is_none_or(|only| only == *alg))
    {
        let pkcs8 = generate_private_key(alg).expect("key generation");
        let raw = match alg {
            Algorithm::Rs256 => {
                let key = RsaKeyPair::from_pkcs8(&pkcs8).expect("an RSA key");
                let mut signature = vec![0; key.public_modulus_len()];
                rate(budget, || {
                    key.sign(&RSA_PKCS1_SHA256, &rng, &message, &mut signature)
                        .expect("signing")
                })
            }
            Algorithm::Es256 => {
                let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8)
                    .expect("an EC key");
                rate(budget, || {
                    std::hint::black_box(key.sign(&rng, &message).expect("signing"));
                })
            }
            Algorithm::EdDsa => {
                let key = Ed25519KeyPair::from_pkcs8(&pkcs8).expect("an Ed25519 key");
                rate(budget, || {
                    std::hint::black_box(key.sign(&message));
                })
            }
        };
        let signer = Signer::from_pkcs8("kid", alg, &pkcs8).expect("a signer");
        let jwt = rate(budget, || {
            std::hint::black_box(signer.sign_jwt(&claims).expect("signing"));
        });
        results.insert(
            alg.as_str().to_owned(),
            serde_json::json!({ "raw_signatures_per_second": raw.round(), "jwts_per_second": jwt.round() }),
        );
    }
    println!("{}", serde_json::Value::Object(results));
}
