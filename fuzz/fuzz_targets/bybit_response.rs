//! cargo-fuzz target: [`cryptocache_fuzz::bybit_response`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cryptocache_fuzz::bybit_response(data));
