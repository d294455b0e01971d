//! Fuzzes the HTTP Basic header parser: the body is `latchkey_fuzz::basic_header::run`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| latchkey_fuzz::basic_header::run(data));
