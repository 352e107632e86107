//! cargo-fuzz target: [`cryptocache_fuzz::time_parse`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cryptocache_fuzz::time_parse(data));
