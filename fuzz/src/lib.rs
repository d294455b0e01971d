//! The bodies of the fuzz targets, as plain functions: each `fuzz_targets/*.rs` calls one, and
//! `tests/replay.rs` feeds the kept corpus and regressions through the same functions on stable.

pub mod admin_json;
pub mod basic_header;
pub mod form;
pub mod jws;
pub mod scope;
