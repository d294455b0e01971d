//! Fuzzes the scope parser and the scope decision: the body is `latchkey_fuzz::scope::run`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| latchkey_fuzz::scope::run(data));
