//! cargo-fuzz target: [`cryptocache_fuzz::archive_files`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cryptocache_fuzz::archive_files(data));
