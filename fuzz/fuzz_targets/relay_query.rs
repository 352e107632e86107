//! cargo-fuzz target: [`cryptocache_fuzz::relay_query`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cryptocache_fuzz::relay_query(data));
