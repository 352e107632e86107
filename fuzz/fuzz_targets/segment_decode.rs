//! cargo-fuzz target: [`cryptocache_fuzz::segment_decode`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cryptocache_fuzz::segment_decode(data));
