//! Master keys: signing keys are stored sealed with AES-256-GCM under a master key that is not
//! in the database, so a database dump alone can never sign tokens.
//!
//! A `Keyring` holds one or more master keys. The first seals; every one can open, which is
//! what lets a master key be rotated without downtime: put the new key first, keep the old one
//! after it until `latchkey master-key rotate` has re-sealed every signing key.
//!
//! Key bytes in Rust buffers (a decoded master key, an unsealed private key) are wiped when
//! dropped (`Zeroizing`). The AES keys themselves live in aws-lc objects, which aws-lc frees
//! with `OPENSSL_free`, and that cleanses the memory first.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use std::fmt;
use zeroize::Zeroizing;

/// Bytes in a master key.
pub const MASTER_KEY_BYTES: usize = 32;

/// A master key problem. Messages name key ids, never key material.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MasterKeyError {
    /// The keyring text holds no key.
    #[error(
        "no master key given: a master key is 32 random bytes in base64 (make one with `latchkey master-key generate`)"
    )]
    Empty,
    /// A key is not base64 of 32 bytes.
    #[error(
        "master key number {0} is not base64 of 32 bytes (make one with `latchkey master-key generate`)"
    )]
    Malformed(usize),
    /// A signing key was sealed by a master key that is not in the keyring.
    #[error(
        "signing key {kid} is sealed by master key {master_key_id}, which is not configured: add it to the master keys"
    )]
    Unknown {
        /// The signing key.
        kid: String,
        /// The missing master key's id.
        master_key_id: String,
    },
    /// Authentication of the sealed key failed: wrong master key or tampered data.
    #[error(
        "signing key {0} could not be unsealed: the data was altered or sealed for another key"
    )]
    Open(String),
    /// Sealing failed in the crypto library.
    #[error("sealing a signing key failed")]
    Seal,
}

struct MasterKey {
    id: String,
    key: LessSafeKey,
}

/// The configured master keys; the first seals.
pub struct Keyring {
    keys: Vec<MasterKey>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring").field("ids", &self.ids()).finish()
    }
}

/// Text for a new random master key (base64 of 32 bytes). The raw bytes are wiped here; the
/// text is the key too, which the caller wipes (`Zeroizing`) once it is written or shown.
pub fn generate_text() -> String {
    let mut bytes = Zeroizing::new([0u8; MASTER_KEY_BYTES]);
    SystemRandom::new()
        .fill(bytes.as_mut())
        .expect("the OS random source failed");
    STANDARD.encode(bytes.as_ref())
}

impl Keyring {
    /// Reads master keys from text: base64 keys separated by newlines or commas, first one
    /// current; blank lines and `#` comments are skipped.
    pub fn parse(text: &str) -> Result<Keyring, MasterKeyError> {
        let mut keys = Vec::new();
        let items = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .flat_map(|line| line.split(','))
            .map(str::trim)
            .filter(|item| !item.is_empty());
        for (index, item) in items.enumerate() {
            let bytes = Zeroizing::new(
                STANDARD
                    .decode(item)
                    .or_else(|_| URL_SAFE_NO_PAD.decode(item))
                    .map_err(|_| MasterKeyError::Malformed(index + 1))?,
            );
            if bytes.len() != MASTER_KEY_BYTES {
                return Err(MasterKeyError::Malformed(index + 1));
            }
            let id = hex_prefix(digest(&SHA256, &bytes).as_ref());
            let unbound = UnboundKey::new(&AES_256_GCM, &bytes)
                .map_err(|_| MasterKeyError::Malformed(index + 1))?;
            keys.push(MasterKey {
                id,
                key: LessSafeKey::new(unbound),
            });
        }
        if keys.is_empty() {
            return Err(MasterKeyError::Empty);
        }
        Ok(Keyring { keys })
    }

    /// The ids of the keys, current first. An id is the first 8 bytes of the key's SHA-256, so
    /// it names a key without revealing it.
    pub fn ids(&self) -> Vec<&str> {
        self.keys.iter().map(|key| key.id.as_str()).collect()
    }

    /// The id of the key that seals.
    pub fn current_id(&self) -> &str {
        &self.keys[0].id
    }

    /// Seals a private key for signing key `kid` (the kid is bound as associated data, so a
    /// sealed key copied onto another row does not open). Returns the master key id and
    /// `nonce || ciphertext || tag`.
    pub fn seal(&self, kid: &str, plaintext: &[u8]) -> Result<(String, Vec<u8>), MasterKeyError> {
        let current = &self.keys[0];
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| MasterKeyError::Seal)?;
        // Sealed in place: the copy holds the plaintext until then, or for good if sealing fails.
        let mut sealed = Zeroizing::new(plaintext.to_vec());
        current
            .key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(kid.as_bytes()),
                &mut *sealed,
            )
            .map_err(|_| MasterKeyError::Seal)?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok((current.id.clone(), out))
    }

    /// Opens a sealed private key; the plaintext is wiped when dropped.
    pub fn open(
        &self,
        master_key_id: &str,
        kid: &str,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, MasterKeyError> {
        let key = self
            .keys
            .iter()
            .find(|key| key.id == master_key_id)
            .ok_or_else(|| MasterKeyError::Unknown {
                kid: kid.to_owned(),
                master_key_id: master_key_id.to_owned(),
            })?;
        if sealed.len() < NONCE_LEN {
            return Err(MasterKeyError::Open(kid.to_owned()));
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| MasterKeyError::Open(kid.to_owned()))?;
        let mut buffer = Zeroizing::new(ciphertext.to_vec());
        let length = key
            .key
            .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut buffer)
            .map_err(|_| MasterKeyError::Open(kid.to_owned()))?
            .len();
        // The plaintext is the buffer's head (the tag follows it): no second copy.
        buffer.truncate(length);
        Ok(buffer)
    }
}

fn hex_prefix(bytes: &[u8]) -> String {
    bytes
        .iter()
        .take(8)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_key_opens_with_the_same_keyring_and_kid_only() {
        let keyring = Keyring::parse(&generate_text()).unwrap();
        let (id, sealed) = keyring.seal("kid-1", b"private").unwrap();
        assert_eq!(id, keyring.current_id());
        assert!(
            !sealed.windows(7).any(|w| w == b"private"),
            "ciphertext must not contain the plaintext"
        );
        assert_eq!(
            keyring.open(&id, "kid-1", &sealed).unwrap().as_slice(),
            b"private"
        );
        assert_eq!(
            keyring.open(&id, "kid-2", &sealed).unwrap_err(),
            MasterKeyError::Open("kid-2".into())
        );
    }

    #[test]
    fn tampered_ciphertext_does_not_open() {
        let keyring = Keyring::parse(&generate_text()).unwrap();
        let (id, mut sealed) = keyring.seal("k", b"private").unwrap();
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(keyring.open(&id, "k", &sealed).is_err());
        assert!(keyring.open(&id, "k", &sealed[..3]).is_err());
    }

    #[test]
    fn old_keys_open_and_the_first_seals() {
        let (old_text, new_text) = (generate_text(), generate_text());
        let old = Keyring::parse(&old_text).unwrap();
        let (old_id, sealed) = old.seal("k", b"x").unwrap();
        let both = Keyring::parse(&format!("# rotated\n{new_text}\n{old_text}\n")).unwrap();
        assert_ne!(both.current_id(), old_id);
        assert_eq!(both.open(&old_id, "k", &sealed).unwrap().as_slice(), b"x");
        let comma = Keyring::parse(&format!("{new_text},{old_text}")).unwrap();
        assert_eq!(comma.ids(), both.ids());
    }

    #[test]
    fn missing_master_key_is_named_by_id() {
        let keyring = Keyring::parse(&generate_text()).unwrap();
        let other = Keyring::parse(&generate_text()).unwrap();
        let (id, sealed) = other.seal("k", b"x").unwrap();
        assert!(matches!(
            keyring.open(&id, "k", &sealed),
            Err(MasterKeyError::Unknown { .. })
        ));
    }

    #[test]
    fn malformed_keyrings_are_refused() {
        assert_eq!(
            Keyring::parse("# nothing\n").unwrap_err(),
            MasterKeyError::Empty
        );
        assert_eq!(
            Keyring::parse("c2hvcnQ=").unwrap_err(),
            MasterKeyError::Malformed(1)
        );
        assert_eq!(
            Keyring::parse(&format!("{},???", generate_text())).unwrap_err(),
            MasterKeyError::Malformed(2)
        );
    }

    /// Unsealed key bytes are of a type that wipes itself on drop.
    const _: () = {
        const fn wipes_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        wipes_on_drop::<Zeroizing<Vec<u8>>>();
    };

    #[test]
    fn an_opened_key_is_exactly_the_plaintext() {
        let keyring = Keyring::parse(&generate_text()).unwrap();
        let (id, sealed) = keyring.seal("k", &[7u8; 100]).unwrap();
        let opened: Zeroizing<Vec<u8>> = keyring.open(&id, "k", &sealed).unwrap();
        assert_eq!(opened.as_slice(), &[7u8; 100]);
    }

    #[test]
    fn debug_shows_ids_not_keys() {
        let text = generate_text();
        let keyring = Keyring::parse(&text).unwrap();
        let debug = format!("{keyring:?}");
        assert!(debug.contains(keyring.current_id()) && !debug.contains(&text));
    }
}
