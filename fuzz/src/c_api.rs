//! The C API driven with fuzzed strings, through the same `extern "C"` functions a C
//! program calls. A caught panic would come back as `CC_PANIC`: the target fails on it.

#![allow(unsafe_code)] // calling the C API is what this module tests

use std::ffi::c_char;
use std::ptr;
use std::sync::OnceLock;

use cryptocache_c::*;

/// The NUL-terminated fields of one input.
pub(crate) struct Strings {
    pub exchange: Vec<u8>,
    pub market: Vec<u8>,
    pub symbol: Vec<u8>,
    pub interval: Vec<u8>,
    pub dataset: Vec<u8>,
    pub source: Vec<u8>,
    pub archives: Vec<u8>,
}

/// A C string pointer to a NUL-terminated field.
fn c(field: &[u8]) -> *const c_char {
    field.as_ptr().cast()
}

/// The handle shared by every input: memory only, no retries, its exchange a closed
/// loopback port (a query that passes validation fails fast with NETWORK_ERROR).
struct Handle(*mut cc_cache);
// SAFETY: a `cc_cache` may be used from any thread (documented in the C header).
unsafe impl Send for Handle {}
// SAFETY: as above; every C API call on it takes `*const cc_cache`.
unsafe impl Sync for Handle {}

fn offline_config() -> cc_config {
    let mut config = cc_config_default();
    config.memory_mb = 8;
    config.no_disk = true;
    config.exchange_url = c"http://127.0.0.1:9".as_ptr();
    config.max_retries = 0;
    config.prefetch = 0;
    config.max_wait_secs = 1.0;
    config.archives = c"off".as_ptr();
    config
}

fn shared() -> *const cc_cache {
    static HANDLE: OnceLock<Handle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let mut cache = ptr::null_mut();
            // SAFETY: a valid config whose strings are static; `cache` is writable.
            let status = unsafe { cc_cache_new(&offline_config(), &mut cache) };
            assert_eq!(status, cc_status::Ok, "the offline cache builds");
            Handle(cache)
        })
        .0
}

fn not_a_panic(status: cc_status, call: &str) {
    assert_ne!(status, cc_status::Panic, "{call} panicked");
    assert_ne!(status, cc_status::UnknownError, "{call}: an error without a code");
}

/// Runs each string-taking call once with the fuzzed strings.
pub(crate) fn run(s: &Strings) {
    let cache = shared();
    // A new cache with a fuzzed source namespace and archives setting.
    let mut config = offline_config();
    config.source = c(&s.source);
    config.archives = c(&s.archives);
    let mut other = ptr::null_mut();
    // SAFETY: the config's strings are NUL-terminated and outlive the call.
    let status = unsafe { cc_cache_new(&config, &mut other) };
    not_a_panic(status, "cc_cache_new");
    if status == cc_status::Ok {
        // SAFETY: a live handle, freed once.
        unsafe { cc_cache_free(other) };
    }

    let query = cc_query {
        exchange: c(&s.exchange),
        market: c(&s.market),
        symbol: c(&s.symbol),
        interval: c(&s.interval),
        start_ms: 1_704_067_200_000,
        end_ms: 1_704_070_800_000,
    };
    // SAFETY (every call below): `cache` is live, the query's strings are NUL-terminated
    // and outlive the calls, outputs are writable, and results are freed once.
    unsafe {
        let mut candles = ptr::null_mut();
        not_a_panic(cc_klines(cache, &query, &mut candles), "cc_klines");
        cc_candles_free(candles);
        let mut trades = ptr::null_mut();
        not_a_panic(cc_trades(cache, &query, &mut trades), "cc_trades");
        cc_trade_list_free(trades);
        let mut funding = ptr::null_mut();
        not_a_panic(cc_funding_rates(cache, &query, &mut funding), "cc_funding_rates");
        cc_funding_free(funding);
        let mut dropped = 0u64;
        not_a_panic(cc_invalidate(cache, &query, false, &mut dropped), "cc_invalidate");
        let book_query =
            cc_book_query { exchange: query.exchange, market: query.market, symbol: query.symbol, depth: 5 };
        let mut book = ptr::null_mut();
        not_a_panic(cc_order_book(cache, &book_query, &mut book), "cc_order_book");
        cc_book_free(book);
        let item = cc_warm_item {
            exchange: query.exchange,
            market: query.market,
            symbol: query.symbol,
            dataset: c(&s.dataset),
            start_ms: query.start_ms,
            end_ms: query.end_ms,
        };
        let mut report = ptr::null_mut();
        not_a_panic(cc_warm(cache, &item, 1, 1, None, ptr::null_mut(), &mut report), "cc_warm");
        cc_warm_report_free(report);
    }
}
