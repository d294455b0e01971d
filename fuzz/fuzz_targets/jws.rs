//! Fuzzes the JWS decoder and a tenant's token verification: the body is `latchkey_fuzz::jws::run`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| latchkey_fuzz::jws::run(data));
