//! Fuzzes the form parser and the token request parser: the body is `latchkey_fuzz::form::run`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| latchkey_fuzz::form::run(data));
