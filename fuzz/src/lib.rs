//! The bodies of the fuzz targets, as plain functions: each `fuzz_targets/*.rs` calls one, and
//! the workspace's `crates/latchkey/tests/fuzz_replay.rs` feeds the kept corpus and regressions
//! through the same functions on stable.

#[cfg(feature = "admin")]
pub mod admin_json;
pub mod assertion;
pub mod basic_header;
pub mod form;
#[cfg(feature = "jws")]
pub mod jws;
pub mod scope;
