//! cargo-fuzz target: [`cryptocache_fuzz::c_api_strings`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cryptocache_fuzz::c_api_strings(data));
