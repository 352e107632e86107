//! cargo-fuzz target: [`cryptocache_fuzz::deribit_response`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cryptocache_fuzz::deribit_response(data));
