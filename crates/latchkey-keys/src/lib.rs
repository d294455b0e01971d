//! Key material for latchkey: generating signing keys, a `Signer` that parses its key once and
//! signs JWTs, the public JWK/JWKS forms, and the random identifiers and secrets latchkey mints.
//!
//! This crate knows no database, no HTTP and no clock. Private keys enter and leave only as
//! PKCS#8 DER bytes; what stores them (and, later, encrypts them) is the caller's business.

pub mod algorithm;
pub mod jwk;
pub mod jws;
pub mod master_key;
pub mod random;
pub mod signer;

pub use algorithm::Algorithm;
pub use jwk::{Jwk, JwkSet};
pub use master_key::{Keyring, MasterKeyError};
pub use signer::{JwtType, KeyError, Signer, generate_private_key};
