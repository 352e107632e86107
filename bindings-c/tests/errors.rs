//! Every error status is reachable through the C API and comes with a message; NULL
//! arguments are errors, never crashes. Calls the exported functions directly (the crate
//! is also an rlib), against an in-process simulator with injected faults.
#![allow(unsafe_code)]

use std::ffi::{c_char, CStr, CString};
use std::ptr;
use std::sync::OnceLock;

use cryptocache_c::*;
use cryptocache_sim::{Fault, Sim, SimConfig};

fn start_sim() -> Sim {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    let rt = RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
    });
    rt.block_on(Sim::start(SimConfig { now_ms: Some(1_717_245_000_000), ..SimConfig::default() })).unwrap()
}

fn message() -> String {
    // SAFETY: never NULL, NUL-terminated, valid until the next failing call on this thread.
    unsafe { CStr::from_ptr(cc_last_error_message()) }.to_string_lossy().into_owned()
}

/// A cache on the simulator's REST path (`archives = "off"`: these tests count REST
/// requests and inject REST faults).
fn new_cache(url: &str, retries: i32) -> *mut cc_cache {
    new_cache_with(url, retries, c"off")
}

fn new_cache_with(url: &str, retries: i32, archives: &CStr) -> *mut cc_cache {
    let url = CString::new(url).unwrap();
    let config = cc_config {
        exchange_url: url.as_ptr(),
        no_disk: true,
        max_retries: retries,
        prefetch: 0,
        archives: archives.as_ptr(),
        ..cc_config_default()
    };
    let mut cache = ptr::null_mut();
    // SAFETY: valid config and out pointer.
    let status = unsafe { cc_cache_new(&config, &mut cache) };
    assert_eq!(status, cc_status::Ok, "{}", message());
    cache
}

/// `cc_klines` for 1h candles of `exchange`/`market`/`symbol` over a day; the status.
fn klines(cache: *const cc_cache, exchange: &str, market: &str, symbol: &str, interval: &str) -> cc_status {
    let (e, m, s, i) = (
        CString::new(exchange).unwrap(),
        CString::new(market).unwrap(),
        CString::new(symbol).unwrap(),
        CString::new(interval).unwrap(),
    );
    let q = cc_query {
        exchange: e.as_ptr(),
        market: m.as_ptr(),
        symbol: s.as_ptr(),
        interval: i.as_ptr(),
        start_ms: 1_717_027_200_000,
        end_ms: 1_717_113_600_000,
    };
    let mut out = ptr::null_mut();
    // SAFETY: valid handle, query and out pointer.
    let status = unsafe { cc_klines(cache, &q, &mut out) };
    assert_eq!(status == cc_status::Ok, !out.is_null(), "out is written only on success");
    // SAFETY: NULL or a result of cc_klines.
    unsafe { cc_candles_free(out) };
    status
}

fn expect(status: cc_status, want: cc_status) {
    let msg = message();
    assert_eq!(status, want, "message: {msg}");
    assert!(!msg.is_empty(), "{want:?} has a message");
    // SAFETY: static NUL-terminated string.
    let name = unsafe { CStr::from_ptr(cc_status_name(status as i32)) }.to_str().unwrap();
    assert_ne!(name, "CC_STATUS_UNKNOWN_ERROR");
    println!("{name}: {msg}");
}

fn free(cache: *mut cc_cache) {
    // SAFETY: a handle from cc_cache_new.
    unsafe { cc_cache_free(cache) };
}

#[test]
fn query_and_upstream_errors_have_their_own_status() {
    let sim = start_sim();
    let cache = new_cache(&sim.url(), 0);
    expect(klines(cache, "binance", "spot", "BTCUSDT", "2x"), cc_status::InvalidQuery);
    expect(klines(cache, "binance", "moon", "BTCUSDT", "1h"), cc_status::InvalidQuery);
    expect(klines(cache, "binance", "spot", "NOSUCHCOIN", "1h"), cc_status::UnknownSymbol);
    expect(klines(cache, "bybit", "option", "BTCUSDT", "1h"), cc_status::Unsupported);

    // Enough faults for every request of the query (the symbol check, retries), then reset.
    sim.push_faults(vec![Fault::Malformed; 8]);
    expect(klines(cache, "binance", "spot", "ETHUSDT", "1h"), cc_status::MalformedResponse);
    sim.reset();
    sim.push_faults(vec![Fault::Status { status: 400, retry_after_secs: None }; 8]);
    expect(klines(cache, "binance", "spot", "BNBUSDT", "1h"), cc_status::ExchangeError);
    sim.reset();
    assert_eq!(klines(cache, "binance", "spot", "BTCUSDT", "1h"), cc_status::Ok, "{}", message());

    // OKX serves about three months of trades: a year back is OUT_OF_RETENTION, with the
    // earliest available time in the message, and nothing is asked.
    let (ex, symbol) = (CString::new("okx").unwrap(), CString::new("BTC-USDT-SWAP").unwrap());
    let q = cc_query {
        exchange: ex.as_ptr(),
        market: ptr::null(),
        symbol: symbol.as_ptr(),
        interval: ptr::null(),
        start_ms: 1_685_577_600_000,
        end_ms: 1_685_581_200_000,
    };
    let (mut out, before) = (ptr::null_mut(), sim.stats().total);
    // SAFETY: valid handle, query and out pointer.
    expect(unsafe { cc_trades(cache, &q, &mut out) }, cc_status::OutOfRetention);
    assert!(message().contains("only from") && message().contains("2023-06-01T00:00:00Z"), "{}", message());
    assert!(out.is_null());
    assert_eq!(sim.stats().total, before);
    free(cache);

    // A ban longer than the cache accepts to wait fails at once (and the cache then
    // honours the ban: a fresh cache for it).
    let cache = new_cache(&sim.url(), 0);
    sim.push_faults(vec![Fault::Status { status: 429, retry_after_secs: Some(3600) }]);
    expect(klines(cache, "binance", "spot", "BTCUSDT", "1h"), cc_status::RateLimited);
    free(cache);
}

#[test]
fn network_config_panic_and_null_errors() {
    // Nothing listens on port 1.
    let cache = new_cache("http://127.0.0.1:1", 0);
    expect(klines(cache, "binance", "spot", "BTCUSDT", "1h"), cc_status::NetworkError);
    free(cache);

    let bad_dir = CString::new("/dev/null/cryptocache").unwrap();
    let config = cc_config { disk_path: bad_dir.as_ptr(), ..cc_config_default() };
    let mut cache: *mut cc_cache = std::ptr::dangling_mut::<cc_cache>();
    // SAFETY: valid config and out pointer.
    expect(unsafe { cc_cache_new(&config, &mut cache) }, cc_status::ConfigError);
    assert_eq!(cache, std::ptr::dangling_mut::<cc_cache>(), "out untouched on failure");
    // SAFETY: NULL config is checked.
    expect(unsafe { cc_cache_new(ptr::null(), &mut cache) }, cc_status::InvalidArgument);
    // Settings are checked by the core (negative = default; out of range = CONFIG_ERROR).
    for config in [
        cc_config { no_disk: true, upstream_concurrency: 0, ..cc_config_default() },
        cc_config { no_disk: true, settle_secs: f64::NAN, ..cc_config_default() },
        cc_config { no_disk: true, max_retries: 99, ..cc_config_default() },
        cc_config { no_disk: true, disk_max_mb: 0.5, ..cc_config_default() },
        cc_config { no_disk: true, redis_ttl_secs: 0.0, ..cc_config_default() },
        cc_config { no_disk: true, offline_budget_share: 2.0, ..cc_config_default() },
        cc_config { no_disk: true, stale_while_revalidate_secs: f64::INFINITY, ..cc_config_default() },
        cc_config { no_disk: true, archives: c"sometimes".as_ptr(), ..cc_config_default() },
    ] {
        // SAFETY: valid config and out pointer.
        expect(unsafe { cc_cache_new(&config, &mut cache) }, cc_status::ConfigError);
        assert!(message().contains("must be"), "{}", message());
    }

    expect(cc_test_panic(), cc_status::Panic);
    assert!(message().contains("cc_test_panic"));

    // Not UTF-8.
    let sim = start_sim();
    let cache = new_cache(&sim.url(), 0);
    let latin1 = [b'B', 0xff, 0];
    let ex = CString::new("binance").unwrap();
    let q = cc_query {
        exchange: ex.as_ptr(),
        market: ptr::null(),
        symbol: latin1.as_ptr().cast::<c_char>(),
        interval: ptr::null(),
        start_ms: 0,
        end_ms: 1,
    };
    let mut out = ptr::null_mut();
    // SAFETY: valid pointers; the symbol is NUL-terminated.
    expect(unsafe { cc_trades(cache, &q, &mut out) }, cc_status::InvalidArgument);
    assert!(message().contains("UTF-8"));
    // SAFETY: NULL handle is checked.
    expect(unsafe { cc_trades(ptr::null(), &q, &mut out) }, cc_status::InvalidArgument);
    assert!(out.is_null());
    free(cache);
}

#[test]
fn archives_only_reads_files_and_says_not_archived_for_the_rest() {
    let sim = start_sim();
    let cache = new_cache_with(&sim.url(), 0, c"only");
    // 2024-05-30 is in the archive (its segment of 1h candles ends with May).
    assert_eq!(klines(cache, "binance", "spot", "BTCUSDT", "1h"), cc_status::Ok, "{}", message());
    // The simulator's "now" is 2024-06-01 12:30: it has not published that day's file.
    let q = cc_query {
        exchange: c"binance".as_ptr(),
        market: ptr::null(),
        symbol: c"BTCUSDT".as_ptr(),
        interval: c"1m".as_ptr(),
        start_ms: 1_717_200_000_000,
        end_ms: 1_717_210_800_000,
    };
    let mut out = ptr::null_mut();
    // SAFETY: valid handle, query and out pointer.
    let status = unsafe { cc_klines(cache, &q, &mut out) };
    assert_eq!(status, cc_status::NotArchived, "{}", message());
    assert!(out.is_null());
    // The cache's clock is the machine's (past 2024): to it, the file is due and missing.
    assert!(message().contains("BTCUSDT-1m-2024-06-01.zip is missing"), "{}", message());
    assert_eq!(sim.stats().endpoints.get("/api/v3/klines"), None, "no REST call");
    free(cache);
}

#[test]
fn many_rust_threads_share_one_handle() {
    let sim = start_sim();
    let cache = new_cache(&sim.url(), 2) as usize;
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..20 {
                    assert_eq!(
                        klines(cache as *const cc_cache, "binance", "spot", "BTCUSDT", "1h"),
                        cc_status::Ok
                    );
                }
            });
        }
    });
    free(cache as *mut cc_cache);
    // Exactly one fetch of the day's segment, however many threads asked at once.
    assert_eq!(sim.stats().endpoints.get("/api/v3/klines").copied(), Some(1));
}

#[test]
fn invalidate_drops_a_range_and_the_next_call_refetches_it() {
    let sim = start_sim();
    let cache = new_cache(&sim.url(), 0);
    assert_eq!(klines(cache, "binance", "spot", "BTCUSDT", "1h"), cc_status::Ok, "{}", message());
    let (ex, sym, what) =
        (CString::new("binance").unwrap(), CString::new("BTCUSDT").unwrap(), CString::new("1h").unwrap());
    let q = cc_query {
        exchange: ex.as_ptr(),
        market: ptr::null(),
        symbol: sym.as_ptr(),
        interval: what.as_ptr(),
        start_ms: 1_717_027_200_000,
        end_ms: 1_717_113_600_000,
    };
    let klines_served = || sim.stats().endpoints.get("/api/v3/klines").copied().unwrap_or(0);
    let before = klines_served();
    let mut segments = 0u64;
    // SAFETY: valid handle, query and out pointer.
    assert_eq!(unsafe { cc_invalidate(cache, &q, false, &mut segments) }, cc_status::Ok, "{}", message());
    assert_eq!(segments, 1);
    assert_eq!(klines(cache, "binance", "spot", "BTCUSDT", "1h"), cc_status::Ok, "{}", message());
    assert_eq!(klines_served() - before, 1, "the invalidated segment was refetched");
    // With `refresh`, the call itself refetches.
    // SAFETY: valid handle, query and out pointer.
    assert_eq!(unsafe { cc_invalidate(cache, &q, true, &mut segments) }, cc_status::Ok, "{}", message());
    assert_eq!((segments, klines_served() - before), (1, 2), "refresh refetched the segment at once");
    // Negative bounds: the whole series (here its one cached segment).
    let whole = cc_query { start_ms: -1, end_ms: -1, ..q };
    // SAFETY: as above.
    assert_eq!(unsafe { cc_invalidate(cache, &whole, false, &mut segments) }, cc_status::Ok, "{}", message());
    assert!(segments > 1, "the whole series: every segment from its first to now ({segments})");
    assert_eq!(klines(cache, "binance", "spot", "BTCUSDT", "1h"), cc_status::Ok, "{}", message());
    assert_eq!(klines_served() - before, 3, "refetched after the whole series was dropped");
    // What must be named; a bad one is INVALID_QUERY.
    let bad = CString::new("7x").unwrap();
    let q = cc_query { interval: bad.as_ptr(), ..q };
    // SAFETY: as above; NULL out_segments is allowed.
    expect(unsafe { cc_invalidate(cache, &q, false, ptr::null_mut()) }, cc_status::InvalidQuery);
    let q = cc_query { interval: ptr::null(), ..q };
    // SAFETY: as above.
    expect(unsafe { cc_invalidate(cache, &q, false, ptr::null_mut()) }, cc_status::InvalidArgument);
    // The counters in Prometheus text.
    let mut text = ptr::null_mut();
    // SAFETY: valid handle and out pointer.
    assert_eq!(unsafe { cc_stats_prometheus(cache, &mut text) }, cc_status::Ok);
    // SAFETY: a NUL-terminated string from the library, freed right after.
    let prometheus = unsafe { CStr::from_ptr(text) }.to_string_lossy().into_owned();
    // SAFETY: returned by cc_stats_prometheus.
    unsafe { cc_string_free(text) };
    assert!(
        prometheus.contains("cryptocache_requests_total{tier=\"memory\",result=\"hit\"}"),
        "{prometheus}"
    );
    free(cache);
}
