//! The JWS decoder (`latchkey_keys::jws::decode`) and the verification a tenant runs on a
//! presented token (`TenantKeys::verify`), with one key of each algorithm made once.

use latchkey_keys::jws;
use latchkey_keys::{Algorithm, Signer, TenantKeys, generate_private_key};
use latchkey_protocol::introspection::TokenClaims;
use std::sync::{Arc, OnceLock};

fn keys() -> &'static TenantKeys {
    static KEYS: OnceLock<TenantKeys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let published = Algorithm::ALL
            .iter()
            .map(|alg| {
                let pkcs8 = generate_private_key(*alg).expect("a key is generated");
                Arc::new(Signer::from_pkcs8(alg.as_str(), *alg, &pkcs8).expect("the key parses"))
            })
            .collect::<Vec<_>>();
        TenantKeys {
            active: published.first().cloned(),
            published,
            pending: None,
            lives: Vec::new(),
        }
    })
}

/// The first byte picks a mode: a token as given; a payload signed by one of the keys, which
/// must verify to exactly its claims; or such a token with one byte changed, which must not.
pub fn run(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let keys = keys();
    match mode % 3 {
        0 => {
            let Ok(token) = std::str::from_utf8(rest) else {
                return;
            };
            let decoded = jws::decode(token);
            if let Some(decoded) = &decoded {
                assert!(token.len() <= jws::MAX_TOKEN_BYTES);
                assert_eq!(token.matches('.').count(), 2);
                assert!(decoded.header.crit.is_none());
            }
            if let Some(claims) = keys.verify(token) {
                let decoded = decoded.expect("a verified token decodes");
                assert_eq!(TokenClaims::parse(&decoded.payload), Some(claims));
            }
        }
        mode => {
            let Some((&pick, payload)) = rest.split_first() else {
                return;
            };
            let signer = &keys.published[usize::from(pick) % keys.published.len()];
            let token = signer.sign_payload(payload).expect("a payload is signed");
            let decoded = jws::decode(&token);
            if token.len() > jws::MAX_TOKEN_BYTES {
                assert!(decoded.is_none());
                assert_eq!(keys.verify(&token), None);
                return;
            }
            let decoded = decoded.expect("a token latchkey signed decodes");
            assert_eq!(decoded.payload, payload);
            assert_eq!(decoded.header.kid.as_deref(), Some(signer.kid()));
            assert!(signer.verify(&decoded));
            assert_eq!(keys.verify(&token), TokenClaims::parse(payload));
            if mode == 2 {
                let mut tampered = token.clone().into_bytes();
                let at = usize::from(pick) * 7 % tampered.len();
                tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
                let tampered = String::from_utf8(tampered).expect("still ASCII");
                if tampered != token {
                    assert_eq!(keys.verify(&tampered), None, "a changed token verified");
                }
            }
        }
    }
}
