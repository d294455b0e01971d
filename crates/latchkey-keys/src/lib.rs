//! Key material for latchkey: generating signing keys, a `Signer` that parses its key once and
//! signs JWTs, the public JWK/JWKS forms, and the random identifiers and secrets latchkey mints.
//!
//! It also holds the pure rules of the key life cycle (`lifecycle`) and a tenant's parsed key
//! set (`tenant_keys`).
//!
//! This crate does no IO and reads no clock: it reads stored key records but never a database,
//! and private keys enter and leave only as PKCS#8 DER bytes (sealed by a `Keyring`); the
//! management layer stores them.

pub mod algorithm;
pub mod jwk;
pub mod jws;
pub mod lifecycle;
pub mod master_key;
pub mod public_keys;
pub mod random;
pub mod signer;
pub mod tenant_keys;

pub use algorithm::Algorithm;
pub use jwk::{Jwk, JwkSet};
pub use master_key::{Keyring, MasterKeyError};
pub use public_keys::{JwksError, PublicKeySet, VerifyAlg};
pub use signer::{JwtType, KeyError, Signer, generate_private_key};
pub use tenant_keys::{KeyLife, PendingKey, TenantKeys};
