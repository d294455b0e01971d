//! Fuzzes the admin API's JSON bodies and their checks: the body is `latchkey_fuzz::admin_json::run`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| latchkey_fuzz::admin_json::run(data));
