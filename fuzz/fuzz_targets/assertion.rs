//! Fuzzes the assertion claims rules and federation rule matching: the body is
//! `latchkey_fuzz::assertion::run`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| latchkey_fuzz::assertion::run(data));
