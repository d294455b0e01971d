//! Random identifiers and secrets, all drawn from aws-lc's CSPRNG (seeded by the OS).

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Bytes of entropy in a client secret: 256 bits.
pub const SECRET_BYTES: usize = 32;

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // SystemRandom fails only if the OS entropy source is broken; nothing sane can go on then.
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the OS random source failed");
    bytes
}

/// A random 64-bit number, for identifiers that need to be unique but not secret (the
/// per-thread prefix of request ids).
pub fn number() -> u64 {
    u64::from_le_bytes(random_bytes::<8>())
}

/// A new client id: 128 random bits as 32 lowercase hex characters. URL-safe, and never starts
/// with `-`, so it is safe to pass as a command-line argument.
pub fn client_id() -> String {
    hex_lower(&random_bytes::<16>())
}

/// A new client secret: 256 random bits as 43 URL-safe base64 characters. The random bytes are
/// wiped here; the caller wraps the text in a `ClientSecret`, which wipes it when dropped.
pub fn client_secret() -> String {
    let bytes = zeroize::Zeroizing::new(random_bytes::<SECRET_BYTES>());
    URL_SAFE_NO_PAD.encode(bytes.as_ref())
}

/// A random (version 4) UUID in its hyphenated form, for `kid` and `jti` values.
pub fn uuid_v4() -> String {
    uuid::Builder::from_random_bytes(random_bytes::<16>())
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// `text` as the lower-case hyphenated UUID `uuid_v4` would write, if it is a hyphenated UUID
/// (the form of every `kid` and `jti` latchkey makes).
pub fn canonical_uuid(text: &str) -> Option<String> {
    if text.len() != 36 {
        return None;
    }
    let uuid = uuid::Uuid::try_parse(text).ok()?;
    Some(uuid.hyphenated().to_string())
}

fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(DIGITS[usize::from(byte >> 4)] as char);
        text.push(DIGITS[usize::from(byte & 0xf)] as char);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_hex_and_distinct() {
        let (a, b) = (client_id(), client_id());
        assert_eq!(a.len(), 32);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, b);
    }

    #[test]
    fn secrets_carry_256_bits_url_safe() {
        let secret = client_secret();
        assert_eq!(URL_SAFE_NO_PAD.decode(&secret).unwrap().len(), 32);
        assert!(
            secret
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
    }

    #[test]
    fn uuids_are_version_4() {
        let id = uuid::Uuid::parse_str(&uuid_v4()).unwrap();
        assert_eq!(id.get_version_num(), 4);
    }

    #[test]
    fn only_hyphenated_uuids_are_canonical_uuids() {
        let id = uuid_v4();
        assert_eq!(canonical_uuid(&id).as_deref(), Some(id.as_str()));
        assert_eq!(
            canonical_uuid("6F1C0E1A-2B3C-4D5E-8F90-0123456789AB").as_deref(),
            Some("6f1c0e1a-2b3c-4d5e-8f90-0123456789ab")
        );
        for bad in [
            "not-a-jti",
            "",
            "6f1c0e1a2b3c4d5e8f900123456789ab",
            "{6f1c0e1a-2b3c-4d5e-8f90-0123456789ab}",
            "6f1c0e1a-2b3c-4d5e-8f90-0123456789ag",
        ] {
            assert_eq!(canonical_uuid(bad), None, "{bad:?}");
        }
    }
}
