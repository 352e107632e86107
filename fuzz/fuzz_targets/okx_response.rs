//! cargo-fuzz target: [`cryptocache_fuzz::okx_response`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cryptocache_fuzz::okx_response(data));
