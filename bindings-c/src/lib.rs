//! # cryptocache for C and C++
//!
//! A C ABI over the `cryptocache` core crate, in the rustls-ffi style: opaque handles,
//! `cc_*_new` / `cc_*_free` (freeing `NULL` is a no-op), inputs first and outputs last,
//! outputs written only on success, a buffer always followed by its length, every entry
//! point guarded against panics, and a thread-local message for the last failure.
//!
//! The header `include/cryptocache.h` is generated from this file by cbindgen (see
//! `tests/header.rs`; `UPDATE_HEADER=1 cargo test -p cryptocache-c --test header`
//! rewrites it), so the doc comments below are the C documentation.
//!
//! Threading: the crate owns one process-wide tokio runtime, created on first use. Each
//! call blocks the calling thread only (the work runs on the caller's thread via
//! `block_on`, I/O on the runtime's workers). Any thread may call; many threads may use
//! one `cc_cache` at once. Do not call from inside a tokio runtime (that is a
//! `CC_PANIC`), and do not use the library in a child after `fork()` if the parent had
//! already used it (`CC_FORKED`).

// FFI needs raw pointers and `#[no_mangle]`: this crate is the one place in the
// workspace where `unsafe` is allowed. Every dereference is guarded by a NULL check and
// documented with the caller's obligations.
#![allow(unsafe_code)]
#![warn(clippy::undocumented_unsafe_blocks)]
// C names (`cc_cache`, `cc_status`...) are the API: they appear as is in the header.
#![allow(non_camel_case_types)]

use std::cell::RefCell;
use std::ffi::{c_char, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use cryptocache::{
    invalidate::Invalidation, Cache, CacheOptions, Candles, Dataset, Error, Exchange, FundingRates, Interval,
    KlineQuery, Market, OrderBook, OrderBookQuery, RangeQuery, Trades, WarmItem, WarmProgress, WarmReport,
};

/// Status of every call. `CC_STATUS_OK` (0) is success; every other value is an error whose
/// details are in `cc_last_error_message()`. Values are never reused: a new kind of
/// error gets a new number.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum cc_status {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL, or a string was not UTF-8.
    InvalidArgument = 1,
    /// A Rust panic was caught (a bug in cryptocache, or a call from inside a tokio runtime).
    Panic = 2,
    /// The library was used in a child process after `fork()`; build it in the child only.
    Forked = 3,
    /// The query is wrong (bad exchange, market, interval, range...); nothing was sent upstream.
    InvalidQuery = 100,
    /// The exchange does not know the symbol (for this market).
    UnknownSymbol = 101,
    /// The exchange (or this build) does not offer what was asked.
    Unsupported = 102,
    /// The exchange throttled us and the retry budget ran out.
    RateLimited = 103,
    /// The exchange answered with an error that retries could not fix.
    ExchangeError = 104,
    /// The exchange could not be reached (connect, timeout, TLS) after retries.
    NetworkError = 105,
    /// The exchange answered 200 with a body that could not be parsed.
    MalformedResponse = 106,
    /// A cache tier failed in a way that could not be degraded around.
    CacheError = 107,
    /// The cache was configured wrongly (e.g. an unknown exchange name, Redis unreachable).
    ConfigError = 108,
    /// The range reaches further back than the exchange serves (e.g. OKX trades and funding:
    /// about three months); the message names the earliest available time. Nothing was cached.
    OutOfRetention = 109,
    /// The exchange's bulk archive cannot serve the range (with `archives = "only"`): a file
    /// is not published yet, failed its checksum, or lacks rows. Nothing was cached.
    NotArchived = 110,
    /// An error kind newer than this binding (the message says what it is).
    UnknownError = 199,
}

const ALL_STATUSES: [cc_status; 17] = [
    cc_status::Ok,
    cc_status::InvalidArgument,
    cc_status::Panic,
    cc_status::Forked,
    cc_status::InvalidQuery,
    cc_status::UnknownSymbol,
    cc_status::Unsupported,
    cc_status::RateLimited,
    cc_status::ExchangeError,
    cc_status::NetworkError,
    cc_status::MalformedResponse,
    cc_status::CacheError,
    cc_status::ConfigError,
    cc_status::OutOfRetention,
    cc_status::NotArchived,
    cc_status::UnknownError,
    cc_status::UnknownError,
];

impl cc_status {
    /// The status for a core error, through the core's stable code.
    fn of(error: &Error) -> cc_status {
        match error.code() {
            "INVALID_QUERY" => cc_status::InvalidQuery,
            "UNKNOWN_SYMBOL" => cc_status::UnknownSymbol,
            "UNSUPPORTED" => cc_status::Unsupported,
            "RATE_LIMITED" => cc_status::RateLimited,
            "EXCHANGE_ERROR" => cc_status::ExchangeError,
            "NETWORK_ERROR" => cc_status::NetworkError,
            "MALFORMED_RESPONSE" => cc_status::MalformedResponse,
            "CACHE_ERROR" => cc_status::CacheError,
            "CONFIG_ERROR" => cc_status::ConfigError,
            "OUT_OF_RETENTION" => cc_status::OutOfRetention,
            "NOT_ARCHIVED" => cc_status::NotArchived,
            _ => cc_status::UnknownError,
        }
    }

    fn name(self) -> &'static CStr {
        match self {
            cc_status::Ok => c"CC_STATUS_OK",
            cc_status::InvalidArgument => c"CC_STATUS_INVALID_ARGUMENT",
            cc_status::Panic => c"CC_STATUS_PANIC",
            cc_status::Forked => c"CC_STATUS_FORKED",
            cc_status::InvalidQuery => c"CC_STATUS_INVALID_QUERY",
            cc_status::UnknownSymbol => c"CC_STATUS_UNKNOWN_SYMBOL",
            cc_status::Unsupported => c"CC_STATUS_UNSUPPORTED",
            cc_status::RateLimited => c"CC_STATUS_RATE_LIMITED",
            cc_status::ExchangeError => c"CC_STATUS_EXCHANGE_ERROR",
            cc_status::NetworkError => c"CC_STATUS_NETWORK_ERROR",
            cc_status::MalformedResponse => c"CC_STATUS_MALFORMED_RESPONSE",
            cc_status::CacheError => c"CC_STATUS_CACHE_ERROR",
            cc_status::ConfigError => c"CC_STATUS_CONFIG_ERROR",
            cc_status::OutOfRetention => c"CC_STATUS_OUT_OF_RETENTION",
            cc_status::NotArchived => c"CC_STATUS_NOT_ARCHIVED",
            cc_status::UnknownError => c"CC_STATUS_UNKNOWN_ERROR",
        }
    }
}

/// A failure inside the binding: a status and its message.
struct Failure(cc_status, String);

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure(cc_status::of(&e), e.to_string())
    }
}

type Res<T> = Result<T, Failure>;

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(message: &str) {
    let text = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = text);
}

/// Runs `f`, turning an error or a panic into a status and the thread's last message.
fn guard(f: impl FnOnce() -> Res<()>) -> cc_status {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => cc_status::Ok,
        Ok(Err(Failure(status, message))) => {
            set_last_error(&message);
            status
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            set_last_error(&format!("panic in cryptocache: {what}"));
            cc_status::Panic
        }
    }
}

/// Runs `f` for a function without a status: a panic yields `fallback`.
fn quiet<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

fn null(what: &str) -> Failure {
    Failure(cc_status::InvalidArgument, format!("{what} must not be NULL"))
}

/// The process-wide runtime and the process that built it.
struct Runtime {
    rt: tokio::runtime::Runtime,
    pid: u32,
}

static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();

fn runtime() -> Res<&'static tokio::runtime::Runtime> {
    let built = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("cryptocache")
            .build()
            .map(|rt| Runtime { rt, pid: std::process::id() })
            .map_err(|e| format!("cannot start the I/O runtime: {e}"))
    });
    match built {
        Ok(r) if r.pid == std::process::id() => Ok(&r.rt),
        Ok(_) => Err(Failure(
            cc_status::Forked,
            "cryptocache was used before fork(): its runtime does not survive into the child; use it only after forking".into(),
        )),
        Err(e) => Err(Failure(cc_status::ConfigError, e.clone())),
    }
}

fn block_on<T>(fut: impl std::future::Future<Output = Result<T, Error>>) -> Res<T> {
    Ok(runtime()?.block_on(fut)?)
}

/// Reads an optional C string (`NULL` → `None`).
///
/// # Safety
/// `p` is NULL or a NUL-terminated string valid for the call.
unsafe fn opt_str<'a>(p: *const c_char, what: &str) -> Res<Option<&'a str>> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: non-NULL, NUL-terminated and alive for the call (the caller's obligation).
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str()
        .map(Some)
        .map_err(|_| Failure(cc_status::InvalidArgument, format!("{what} is not valid UTF-8")))
}

/// Reads a required C string.
///
/// # Safety
/// As [`opt_str`].
unsafe fn req_str<'a>(p: *const c_char, what: &str) -> Res<&'a str> {
    // SAFETY: forwarded caller obligation.
    unsafe { opt_str(p, what) }?.ok_or_else(|| null(what))
}

/// Borrows a required input struct.
///
/// # Safety
/// `p` is NULL or points to a valid `T` for the call.
unsafe fn req<'a, T>(p: *const T, what: &str) -> Res<&'a T> {
    // SAFETY: NULL or a valid `T` (the caller's obligation).
    unsafe { p.as_ref() }.ok_or_else(|| null(what))
}

/// Checks an output pointer.
fn out_ptr<T>(p: *mut T, what: &str) -> Res<*mut T> {
    if p.is_null() {
        Err(null(what))
    } else {
        Ok(p)
    }
}

fn box_out<T>(out: *mut *mut T, value: T) {
    // SAFETY: `out` was checked non-NULL and points to writable storage (caller's obligation).
    unsafe { *out = Box::into_raw(Box::new(value)) };
}

fn market(text: Option<&str>) -> Res<Option<Market>> {
    Ok(match text.map(str::trim) {
        None | Some("") => None,
        Some(m) => Some(m.parse()?),
    })
}

/// Frees a boxed handle; NULL is a no-op.
///
/// # Safety
/// `p` is NULL or came from `Box::into_raw` in this crate and is not used afterwards.
unsafe fn free_box<T>(p: *mut T) {
    if !p.is_null() {
        // SAFETY: the caller's obligation above.
        drop(unsafe { Box::from_raw(p) });
    }
}

// ---------------------------------------------------------------------------------------
// Version and errors
// ---------------------------------------------------------------------------------------

/// The library version, e.g. `"0.1.0"` (static string; compare with the header's
/// `CRYPTOCACHE_VERSION` to detect a header/library mismatch).
#[unsafe(no_mangle)]
pub extern "C" fn cc_version() -> *const c_char {
    static VERSION: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(v) => v,
            Err(_) => c"unknown",
        };
    VERSION.as_ptr()
}

/// The message of the last failed call on this thread (empty if none failed yet). The
/// pointer stays valid until the next failing call on the same thread; copy it to keep it.
/// Never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn cc_last_error_message() -> *const c_char {
    quiet(c"".as_ptr(), || LAST_ERROR.with(|e| e.borrow().as_ptr()))
}

/// The name of a status as a static string, e.g. `"CC_STATUS_INVALID_QUERY"`
/// (`"CC_STATUS_UNKNOWN_ERROR"` for values this library does not know). Never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn cc_status_name(status: i32) -> *const c_char {
    quiet(c"CC_STATUS_UNKNOWN_ERROR".as_ptr(), || {
        ALL_STATUSES
            .iter()
            .find(|s| **s as i32 == status)
            .map_or(c"CC_STATUS_UNKNOWN_ERROR", |s| s.name())
            .as_ptr()
    })
}

/// Always returns `CC_STATUS_PANIC` after panicking inside Rust: lets tests check that a
/// panic becomes a status and a message instead of aborting the process.
#[unsafe(no_mangle)]
pub extern "C" fn cc_test_panic() -> cc_status {
    guard(|| panic!("cc_test_panic was called"))
}

// ---------------------------------------------------------------------------------------
// The cache
// ---------------------------------------------------------------------------------------

/// Options for `cc_cache_new`. Start from `cc_config_default()` and set what you need;
/// strings are copied, so they only need to live for the call.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct cc_config {
    /// Memory tier size in MiB; 0 = no memory tier; negative = the default (256).
    pub memory_mb: i64,
    /// Disk tier directory; NULL = the default (`$CRYPTOCACHE_DIR`, else `~/.cache/cryptocache`).
    pub disk_path: *const c_char,
    /// No disk tier at all (wins over `disk_path`).
    pub no_disk: bool,
    /// Redis URL (`redis://`, `rediss://`, `redis+cluster://`, `redis+sentinel://`); NULL = no
    /// Redis tier.
    pub redis_url: *const c_char,
    /// One base URL for every exchange (e.g. the simulator); NULL = the live endpoints.
    pub exchange_url: *const c_char,
    /// Retries of a failed upstream request after the first attempt; negative = the default (5).
    pub max_retries: i32,
    /// Background prefetches at once for sequential kline reads (a backtest walking
    /// forward); 0 = off; negative = the default (2).
    pub prefetch: i32,
    /// Segment fetches one query runs at once (1-64); negative = the default (4).
    pub upstream_concurrency: i32,
    /// Seconds after a segment's end before it is final; negative = the default (120).
    pub settle_secs: f64,
    /// Largest random delay (s) added to an open segment's expiry; negative = the default (2).
    pub open_jitter_secs: f64,
    /// Lifetime (s) of a closed segment the exchange answered empty for; negative = forever.
    pub empty_ttl_secs: f64,
    /// How long (s) an instruments list's answer about a symbol is trusted; negative = 3600.
    pub instruments_ttl_secs: f64,
    /// Lifetime (s) of an order-book snapshot; negative = the default (1).
    pub order_book_ttl_secs: f64,
    /// Longest any wait may last (s), else RATE_LIMITED at once; negative = the default (60).
    pub max_wait_secs: f64,
    /// The namespace cached values are stored under (`a-z 0-9 . _ -`); NULL = `live` for the
    /// exchanges' own endpoints, one derived from the URL for any other (so simulator or
    /// testnet data is never served as live data).
    pub source: *const c_char,
    /// Serve an open segment up to this long (s) past its expiry at once, marked `stale`,
    /// while one background refresh replaces it; 0 or negative = off (the default).
    pub stale_while_revalidate_secs: f64,
    /// Size bound of the disk tier in MiB (least recently used files go first);
    /// negative = unbounded (the default).
    pub disk_max_mb: f64,
    /// TTL (s) of closed segments in Redis; negative = none (the default).
    pub redis_ttl_secs: f64,
    /// Share (0.01-1) of each exchange budget spent while the shared budget in Redis is
    /// unreachable; negative = the default (0.25).
    pub offline_budget_share: f64,
    /// A cryptocache relay (`cryptocache serve`) to fetch through instead of the exchanges
    /// (no exchange is then contacted from this process); NULL = none.
    pub relay_url: *const c_char,
    /// The relay's API key; NULL = none. Never logged.
    pub api_key: *const c_char,
    /// `"auto"` (NULL: the default), `"off"` or `"only"`: closed history from the
    /// exchanges' bulk archives (docs/archives.md).
    pub archives: *const c_char,
}

/// The default options: 256 MiB memory, the default disk directory, no Redis, the live
/// exchanges, 5 retries, prefetch 2.
#[unsafe(no_mangle)]
pub extern "C" fn cc_config_default() -> cc_config {
    cc_config {
        memory_mb: -1,
        disk_path: std::ptr::null(),
        no_disk: false,
        redis_url: std::ptr::null(),
        exchange_url: std::ptr::null(),
        max_retries: -1,
        prefetch: -1,
        upstream_concurrency: -1,
        settle_secs: -1.0,
        open_jitter_secs: -1.0,
        empty_ttl_secs: -1.0,
        instruments_ttl_secs: -1.0,
        order_book_ttl_secs: -1.0,
        max_wait_secs: -1.0,
        source: std::ptr::null(),
        stale_while_revalidate_secs: -1.0,
        disk_max_mb: -1.0,
        redis_ttl_secs: -1.0,
        offline_budget_share: -1.0,
        relay_url: std::ptr::null(),
        api_key: std::ptr::null(),
        archives: std::ptr::null(),
    }
}

/// A cache handle. Create with `cc_cache_new`, release with `cc_cache_free`. One handle
/// may be used by many threads at once.
pub struct cc_cache {
    cache: Cache,
}

fn handle<'a>(cache: *const cc_cache) -> Res<&'a Cache> {
    // SAFETY: NULL or a live handle from `cc_cache_new` (the caller's obligation).
    unsafe { cache.as_ref() }.map(|c| &c.cache).ok_or_else(|| null("cache"))
}

/// Builds a cache (opens the disk tier, connects to Redis) and writes it to `*out`.
/// `config` and `out` must not be NULL; `*out` is written only on success.
///
/// # Safety
/// `config` points to a valid `cc_config` whose strings are NULL or NUL-terminated;
/// `out` points to writable storage for one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cc_cache_new(config: *const cc_config, out: *mut *mut cc_cache) -> cc_status {
    guard(|| {
        // SAFETY: the caller's obligations above.
        let config = unsafe { req(config, "config") }?;
        let out = out_ptr(out, "out")?;
        let mut options = CacheOptions::default();
        options.memory_mb = u64::try_from(config.memory_mb).ok();
        // SAFETY: the caller's obligations above (strings NULL or NUL-terminated).
        options.disk_path = unsafe { opt_str(config.disk_path, "config.disk_path") }?.map(PathBuf::from);
        options.no_disk = config.no_disk;
        // SAFETY: as above.
        options.redis_url = unsafe { opt_str(config.redis_url, "config.redis_url") }?.map(String::from);
        // SAFETY: as above.
        options.exchange_url =
            unsafe { opt_str(config.exchange_url, "config.exchange_url") }?.map(String::from);
        // SAFETY: as above.
        options.source = unsafe { opt_str(config.source, "config.source") }?.map(String::from);
        // SAFETY: as above.
        options.relay_url = unsafe { opt_str(config.relay_url, "config.relay_url") }?.map(String::from);
        // SAFETY: as above.
        options.api_key = unsafe { opt_str(config.api_key, "config.api_key") }?.map(String::from);
        // SAFETY: as above.
        options.archives = unsafe { opt_str(config.archives, "config.archives") }?.map(String::from);
        // Negative = the default; everything else is checked by the core.
        for (name, value) in [
            ("max_retries", f64::from(config.max_retries)),
            ("prefetch", f64::from(config.prefetch)),
            ("upstream_concurrency", f64::from(config.upstream_concurrency)),
            ("settle_secs", config.settle_secs),
            ("open_jitter_secs", config.open_jitter_secs),
            ("empty_ttl_secs", config.empty_ttl_secs),
            ("instruments_ttl_secs", config.instruments_ttl_secs),
            ("order_book_ttl_secs", config.order_book_ttl_secs),
            ("max_wait_secs", config.max_wait_secs),
            ("stale_while_revalidate_secs", config.stale_while_revalidate_secs),
            ("disk_max_mb", config.disk_max_mb),
            ("redis_ttl_secs", config.redis_ttl_secs),
            ("offline_budget_share", config.offline_budget_share),
        ] {
            if value >= 0.0 || value.is_nan() {
                options.set(name, value)?;
            }
        }
        let cache = block_on(options.builder()?.build())?;
        box_out(out, cc_cache { cache });
        Ok(())
    })
}

/// Releases a cache. NULL is a no-op. No call on it may be running or follow.
///
/// # Safety
/// `cache` is NULL or a handle from `cc_cache_new` not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cc_cache_free(cache: *mut cc_cache) {
    quiet((), || {
        // Tier and connection teardown may spawn onto the runtime: give it the context.
        let _enter = runtime().ok().map(|rt| rt.enter());
        // SAFETY: the caller's obligation above.
        unsafe { free_box(cache) }
    })
}

// ---------------------------------------------------------------------------------------
// Queries
// ---------------------------------------------------------------------------------------

/// A query for candles, trades or funding rates over `[start_ms, end_ms)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct cc_query {
    /// Exchange: `"binance"`, `"bybit"`, `"okx"` or `"deribit"`. Required.
    pub exchange: *const c_char,
    /// Market: `"spot"`, `"linear"`, `"inverse"`, `"option"`; NULL or `""` = from the
    /// symbol's spelling, else spot.
    pub market: *const c_char,
    /// Exchange symbol, e.g. `"BTCUSDT"`. Required.
    pub symbol: *const c_char,
    /// Candle interval like Binance writes it (`"1m"`, `"1h"`, `"1d"`, `"1M"`...): required
    /// for `cc_klines`, ignored by the others.
    pub interval: *const c_char,
    /// Inclusive start, ms since the epoch (UTC).
    pub start_ms: i64,
    /// Exclusive end, ms since the epoch (UTC).
    pub end_ms: i64,
}

struct Query<'a> {
    exchange: Exchange,
    market: Option<Market>,
    symbol: &'a str,
    interval: Option<&'a str>,
    start: i64,
    end: i64,
}

fn query<'a>(q: *const cc_query) -> Res<Query<'a>> {
    // SAFETY: NULL or a valid `cc_query` with NULL or NUL-terminated strings (the
    // obligation of every public function taking one).
    let q = unsafe { req(q, "query") }?;
    // SAFETY: as above.
    let exchange = unsafe { req_str(q.exchange, "query.exchange") }?.parse()?;
    // SAFETY: as above.
    let market = market(unsafe { opt_str(q.market, "query.market") }?)?;
    // SAFETY: as above.
    let symbol = unsafe { req_str(q.symbol, "query.symbol") }?;
    // SAFETY: as above.
    let interval = unsafe { opt_str(q.interval, "query.interval") }?;
    Ok(Query { exchange, market, symbol, interval, start: q.start_ms, end: q.end_ms })
}

impl Query<'_> {
    fn range(&self) -> RangeQuery {
        RangeQuery {
            market: self.market,
            ..RangeQuery::new(self.exchange, self.symbol, self.start, self.end)
        }
    }
}

/// Candles: a result of `cc_klines`. Read it with `cc_candles_len`/`cc_candles_columns`/
/// `cc_candles_get`; release it with `cc_candles_free`.
pub struct cc_candles {
    candles: Candles,
}

/// Column pointers into a `cc_candles` (all of `len` rows, ascending by open time). Valid
/// until the `cc_candles` is freed.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct cc_candle_columns {
    /// Number of rows in every column.
    pub len: usize,
    /// Open times, ms.
    pub open_time: *const i64,
    /// Open prices.
    pub open: *const f64,
    /// High prices.
    pub high: *const f64,
    /// Low prices.
    pub low: *const f64,
    /// Close prices.
    pub close: *const f64,
    /// Base-asset volumes.
    pub volume: *const f64,
    /// Quote-asset volumes.
    pub quote_volume: *const f64,
    /// Trade counts; NULL when the exchange does not report them.
    pub trades: *const u64,
    /// Whether the last candle is still open (its values will change).
    pub last_is_open: bool,
    /// Whether the candles were served from an open segment past its expiry
    /// (`stale_while_revalidate_secs`) while a background refresh replaces it.
    pub stale: bool,
}

/// One candle as a plain struct.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct cc_candle {
    /// Open time, ms.
    pub open_time: i64,
    /// Open price.
    pub open: f64,
    /// High price.
    pub high: f64,
    /// Low price.
    pub low: f64,
    /// Close price.
    pub close: f64,
    /// Base-asset volume.
    pub volume: f64,
    /// Quote-asset volume.
    pub quote_volume: f64,
    /// Number of trades; 0 when the exchange does not report it (see `has_trades`).
    pub trades: u64,
    /// Whether `trades` was reported by the exchange.
    pub has_trades: bool,
}

/// Candles with open time in `[query->start_ms, query->end_ms)`, ascending, written to
/// `*out` on success (free with `cc_candles_free`). Closed candles are fetched from the
/// exchange once and served from the cache afterwards.
///
/// # Safety
/// `cache` is a live handle; `query` points to a valid `cc_query`; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cc_klines(
    cache: *const cc_cache,
    query: *const cc_query,
    out: *mut *mut cc_candles,
) -> cc_status {
    guard(|| {
        let cache = handle(cache)?;
        let q = self::query(query)?;
        let out = out_ptr(out, "out")?;
        let interval: Interval = q.interval.ok_or_else(|| null("query.interval"))?.parse()?;
        let kq = KlineQuery {
            market: q.market,
            ..KlineQuery::new(q.exchange, q.symbol, interval, q.start, q.end)
        };
        // A memory hit is answered on the calling thread, without entering the runtime's
        // scheduler (inside its context, so a sequential read can start a prefetch).
        let rt = runtime()?;
        let hit = {
            let _context = rt.enter();
            cache.klines_in_memory(&kq)
        };
        let candles = match hit {
            Some(candles) => candles,
            None => rt.block_on(cache.klines(&kq))?,
        };
        box_out(out, cc_candles { candles });
        Ok(())
    })
}

/// Number of candles; 0 for NULL.
///
/// # Safety
/// `candles` is NULL or a live result.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cc_candles_len(candles: *const cc_candles) -> usize {
    // SAFETY: the caller's obligation above.
    quiet(0, || unsafe { candles.as_ref() }.map_or(0, |c| c.candles.len()))
}

/// Writes the column pointers of `candles` to `*out`.
///
/// # Safety
/// `candles` is a live result; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cc_candles_columns(
    candles: *const cc_candles,
    out: *mut cc_candle_columns,
) -> cc_status {
    guard(|| {
        // SAFETY: the caller's obligation above.
        let c = &unsafe { req(candles, "candles") }?.candles;
        let out = out_ptr(out, "out")?;
        let columns = cc_candle_columns {
            len: c.len(),
            open_time: c.open_time().as_ptr(),
            open: c.open().as_ptr(),
            high: c.high().as_ptr(),
            low: c.low().as_ptr(),
            close: c.close().as_ptr(),
            volume: c.volume().as_ptr(),
            quote_volume: c.quote_volume().as_ptr(),
            trades: c.trades().map_or(std::ptr::null(), <[u64]>::as_ptr),
            last_is_open: c.last_is_open(),
            stale: c.is_stale(),
        };
        // SAFETY: checked non-NULL and writable (the caller's obligation).
        unsafe { *out = columns };
        Ok(())
    })
}

/// Copies candle `index` to `*out`; `CC_STATUS_INVALID_ARGUMENT` when `index >= len`.
///
/// # Safety
/// `candles` is a live result; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cc_candles_get(
    candles: *const cc_candles,
    index: usize,
    out: *mut cc_candle,
) -> cc_status {
    guard(|| {
        // SAFETY: the caller's obligation above.
        let c = &unsafe { req(candles, "candles") }?.candles;
        let out = out_ptr(out, "out")?;
        let row = c.get(index).ok_or_else(|| {
            Failure(cc_status::InvalidArgument, format!("index {index} out of range (len {})", c.len()))
        })?;
        let candle = cc_candle {
            open_time: row.open_time,
            open: row.open,
            high: row.high,
            low: row.low,
            close: row.close,
            volume: row.volume,
            quote_volume: row.quote_volume,
            trades: row.trades.unwrap_or(0),
            has_trades: row.trades.is_some(),
        };
        // SAFETY: checked non-NULL and writable.
        unsafe { *out = candle };
        Ok(())
    })
}

/// Releases a `cc_klines` result. NULL is a no-op.
///
/// # Safety
/// `candles` is NULL or a result not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cc_candles_free(candles: *mut cc_candles) {
    // SAFETY: the caller's obligation above.
    quiet((), || unsafe { free_box(candles) })
}

/// A trade list: a result of `cc_trades`; release with `cc_trade_list_free`.
pub struct cc_trade_list {
    trades: Trades,
}

/// Drops `[query->start_ms, query->end_ms)` of a series from every tier, and from the
/// memory of every process sharing the Redis (at once, through pub/sub); the next query
/// refetches it, or, with `refresh`, this call does. `query->interval` names what: an
/// interval (`"1h"`), `"trades"` or `"funding"`. A negative `start_ms` means "from the
/// series' first segment", a negative `end_ms` "up to now" (both: the whole series).
/// Writes the number of segments dropped to `*out_segments` (if not NULL).
///
/// # Safety
/// `cache` is a live handle; `query` points to a valid `cc_query`; `out_segments` is
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cc_invalidate(
    cache: *const cc_cache,
    query: *const cc_query,
    refresh: bool,
    out_segments: *mut u64,
) -> cc_status {
    guard(|| {
        let cache = handle(cache)?;
        let q = self::query(query)?;
        let what = q.interval.ok_or_else(|| null("query.interval (what: an interval, trades or funding)"))?;
        let invalidation = Invalidation {
            exchange: q.exchange,
            market: q.market,
            symbol: q.symbol.to_string(),
            dataset: what.parse()?,
            start: (q.start >= 0).then_some(q.start),
            end: (q.end >= 0).then_some(q.end),
            refresh,
        };
        let report = block_on(cache.invalidate(&invalidation))?;
        if !out_segments.is_null() {
            // SAFETY: not NULL, and writable (the caller's obligation above).
            unsafe { *out_segments = report.segments as u64 };
        }
        Ok(())
    })
}

/// Column pointers into a `cc_trade_list` (ascending by time, then id). Valid until freed.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct cc_trade_columns {
    /// Number of rows in every column.
    pub len: usize,
    /// Exchange times, ms.
    pub time: *const i64,
    /// Exchange trade ids.
    pub id: *const i64,
    /// Prices.
    pub price: *const f64,
    /// Quantities (the exchange's unit for the market).
    pub quantity: *const f64,
    /// Taker sides: 1 = buy, -1 = sell.
    pub side: *const i8,
}

/// Every public trade with time in `[query->start_ms, query->end_ms)`, ascending by
/// (time, id), written to `*out` (free with `cc_trade_list_free`). `query->interval` is ignored.
///
/// # Safety
/// `cache` is a live handle; `query` points to a valid `cc_query`; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cc_trades(
    cache: *const cc_cache,
    query: *const cc_query,
    out: *mut *mut cc_trade_list,
) -> cc_status {
    guard(|| {
        let cache = handle(cache)?;
        let q = self::query(query)?;
        let out = out_ptr(out, "out")?;
        let trades = block_on(cache.trades(&q.range()))?;
        box_out(out, cc_trade_list { trades });
        Ok(())
    })
}

/// Writes the column pointers of `trades` to `*out`.
///
/// # Safety
/// `trades` is a live result; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cc_trade_list_columns(
    trades: *const cc_trade_list,
    out: *mut cc_trade_columns,
) -> cc_status {
    guard(|| {
        // SAFETY: the caller's obligation above.
        let t = &unsafe { req(trades, "trades") }?.trades;
        let out = out_ptr(out, "out")?;
        let columns = cc_trade_columns {
            len: t.len(),
            time: t.time().as_ptr(),
            id: t.id().as_ptr(),
            price: t.price().as_ptr(),
            quantity: t.quantity().as_ptr(),
            // `Side` is `#[repr(i8)]` with Buy = 1 and Sell = -1.
            side: t.side().as_ptr().cast::<i8>(),
        };
        // SAFETY: checked non-NULL and writable.
        unsafe { *out = columns };
        Ok(())
    })
}

/// Releases a `cc_trades` result (a `cc_trade_list`). NULL is a no-op.
///
/// # Safety
/// `trades` is NULL or a result not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cc_trade_list_free(trades: *mut cc_trade_list) {
    // SAFETY: the caller's obligation above.
    quiet((), || unsafe { free_box(trades) })
}

/// Funding rates: a result of `cc_funding_rates`; release with `cc_funding_free`.
pub struct cc_funding {
    funding: FundingRates,
}

/// Column pointers into a `cc_funding` (ascending by time). Valid until freed.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct cc_funding_rate_columns {
    /// Number of rows in every column.
    pub len: usize,
    /// Funding times, ms.
    pub time: *const i64,
    /// Settled rates, as fractions (0.0001 = 0.01 %).
    pub rate: *const f64,
}

/// Funding events of a perpetual with time in `[query->start_ms, query->end_ms)`,
/// ascending, written to `*out` (free with `cc_funding_free`). `query->interval` is ignored.
///
/// # Safety
/// `cache` is a live handle; `query` points to a valid `cc_query`; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cc_funding_rates(
    cache: *const cc_cache,
    query: *const cc_query,
    out: *mut *mut cc_funding,
) -> cc_status {
    guard(|| {
        let cache = handle(cache)?;
        let q = self::query(query)?;
        let out = out_ptr(out, "out")?;
        let funding = block_on(cache.funding_rates(&q.range()))?;
        box_out(out, cc_funding { funding });
        Ok(())
    })
}

/// Writes the column pointers of `funding` to `*out`.
///
/// # Safety
/// `funding` is a live result; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cc_funding_columns(
    funding: *const cc_funding,
    out: *mut cc_funding_rate_columns,
) -> cc_status {
    guard(|| {
        // SAFETY: the caller's obligation above.
        let f = &unsafe { req(funding, "funding") }?.funding;
        let out = out_ptr(out, "out")?;
        let columns =
            cc_funding_rate_columns { len: f.len(), time: f.time().as_ptr(), rate: f.rate().as_ptr() };
        // SAFETY: checked non-NULL and writable.
        unsafe { *out = columns };
        Ok(())
    })
}

/// Releases a `cc_funding` result. NULL is a no-op.
///
/// # Safety
/// `funding` is NULL or a result not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cc_funding_free(funding: *mut cc_funding) {
    // SAFETY: the caller's obligation above.
    quiet((), || unsafe { free_box(funding) })
}

// ---------------------------------------------------------------------------------------
// Order books
// ---------------------------------------------------------------------------------------

/// Which order book, how deep.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct cc_book_query {
    /// Exchange name (as in `cc_query`). Required.
    pub exchange: *const c_char,
    /// Market (as in `cc_query`); NULL or `""` = from the symbol, else spot.
    pub market: *const c_char,
    /// Exchange symbol. Required.
    pub symbol: *const c_char,
    /// Levels per side.
    pub depth: usize,
}

/// One price level.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct cc_level {
    /// Price.
    pub price: f64,
    /// Quantity at that price.
    pub quantity: f64,
}

/// An order-book snapshot: a result of `cc_order_book`; release with `cc_book_free`.
pub struct cc_book {
    time: i64,
    update_id: Option<i64>,
    bids: Vec<cc_level>,
    asks: Vec<cc_level>,
}

/// A view of a `cc_book`. Valid until the book is freed.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct cc_book_view {
    /// Exchange time of the snapshot (or when it was received), ms.
    pub time: i64,
    /// The exchange's update id or sequence (see `has_update_id`).
    pub update_id: i64,
    /// Whether the exchange sent an update id.
    pub has_update_id: bool,
    /// Bids, best (highest) first.
    pub bids: *const cc_level,
    /// Number of bids.
    pub bids_len: usize,
    /// Asks, best (lowest) first.
    pub asks: *const cc_level,
    /// Number of asks.
    pub asks_len: usize,
}

/// The order book now (a snapshot younger than the cache's TTL is served from memory),
/// written to `*out` (free with `cc_book_free`).
///
/// # Safety
/// `cache` is a live handle; `query` points to a valid `cc_book_query`; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cc_order_book(
    cache: *const cc_cache,
    query: *const cc_book_query,
    out: *mut *mut cc_book,
) -> cc_status {
    guard(|| {
        let cache = handle(cache)?;
        // SAFETY: the caller's obligation above.
        let q = unsafe { req(query, "query") }?;
        // SAFETY: as above.
        let exchange: Exchange = unsafe { req_str(q.exchange, "query.exchange") }?.parse()?;
        // SAFETY: as above.
        let market = market(unsafe { opt_str(q.market, "query.market") }?)?;
        // SAFETY: as above.
        let symbol = unsafe { req_str(q.symbol, "query.symbol") }?;
        let out = out_ptr(out, "out")?;
        let bq = OrderBookQuery { market, ..OrderBookQuery::new(exchange, symbol, q.depth) };
        let book: Arc<OrderBook> = block_on(cache.order_book(&bq))?;
        let levels = |side: &[cryptocache::Level]| {
            side.iter().map(|l| cc_level { price: l.price, quantity: l.quantity }).collect()
        };
        box_out(
            out,
            cc_book {
                time: book.time,
                update_id: book.update_id,
                bids: levels(&book.bids),
                asks: levels(&book.asks),
            },
        );
        Ok(())
    })
}

/// Writes a view of `book` to `*out`.
///
/// # Safety
/// `book` is a live result; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cc_book_get(book: *const cc_book, out: *mut cc_book_view) -> cc_status {
    guard(|| {
        // SAFETY: the caller's obligation above.
        let b = unsafe { req(book, "book") }?;
        let out = out_ptr(out, "out")?;
        let view = cc_book_view {
            time: b.time,
            update_id: b.update_id.unwrap_or(0),
            has_update_id: b.update_id.is_some(),
            bids: b.bids.as_ptr(),
            bids_len: b.bids.len(),
            asks: b.asks.as_ptr(),
            asks_len: b.asks.len(),
        };
        // SAFETY: checked non-NULL and writable.
        unsafe { *out = view };
        Ok(())
    })
}

/// Releases a `cc_order_book` result. NULL is a no-op.
///
/// # Safety
/// `book` is NULL or a result not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cc_book_free(book: *mut cc_book) {
    // SAFETY: the caller's obligation above.
    quiet((), || unsafe { free_box(book) })
}

// ---------------------------------------------------------------------------------------
// Warming
// ---------------------------------------------------------------------------------------

/// One entry of a watchlist for `cc_warm`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct cc_warm_item {
    /// Exchange name. Required.
    pub exchange: *const c_char,
    /// Market; NULL or `""` = from the symbol, else spot.
    pub market: *const c_char,
    /// Exchange symbol. Required.
    pub symbol: *const c_char,
    /// What to cache: an interval (`"1m"`, `"1h"`...) for candles, `"trades"` or `"funding"`. Required.
    pub dataset: *const c_char,
    /// Inclusive start, ms.
    pub start_ms: i64,
    /// Exclusive end, ms.
    pub end_ms: i64,
}

/// Called after each warm step with the steps done and the steps in all, on the thread
/// that called `cc_warm`. `user_data` is passed through untouched. It must not call
/// cryptocache functions that fetch (that would be `CC_STATUS_PANIC`) and must not unwind.
pub type cc_warm_progress = Option<unsafe extern "C" fn(user_data: *mut c_void, done: usize, total: usize)>;

/// What `cc_warm` did; release with `cc_warm_report_free`.
pub struct cc_warm_report {
    records: usize,
    failures: Vec<(usize, cc_status, CString)>,
}

/// Fills every tier for `items[0..items_len]`, `concurrency` items at a time (0 = 1),
/// calling `progress` (may be NULL) after each step. Items that fail are listed in the
/// report (the call itself still returns `CC_STATUS_OK`); the others are cached. A bad
/// item (unknown exchange, interval...) fails the whole call before anything is fetched.
///
/// # Safety
/// `cache` is a live handle; `items` points to `items_len` valid items; `out` is
/// writable; `progress`, if set, is safe to call with `user_data`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cc_warm(
    cache: *const cc_cache,
    items: *const cc_warm_item,
    items_len: usize,
    concurrency: usize,
    progress: cc_warm_progress,
    user_data: *mut c_void,
    out: *mut *mut cc_warm_report,
) -> cc_status {
    guard(|| {
        let cache = handle(cache)?;
        if items.is_null() && items_len > 0 {
            return Err(null("items"));
        }
        let out = out_ptr(out, "out")?;
        let raw: &[cc_warm_item] = if items_len == 0 {
            &[]
        } else {
            // SAFETY: non-NULL and `items_len` valid items (the caller's obligation).
            unsafe { std::slice::from_raw_parts(items, items_len) }
        };
        let mut list = Vec::with_capacity(raw.len());
        for (i, item) in raw.iter().enumerate() {
            let at = |field: &str| format!("items[{i}].{field}");
            // SAFETY: the caller's obligation above (strings NULL or NUL-terminated).
            let exchange: Exchange = unsafe { req_str(item.exchange, &at("exchange")) }?.parse()?;
            // SAFETY: as above.
            let market = market(unsafe { opt_str(item.market, &at("market")) }?)?;
            // SAFETY: as above.
            let symbol = unsafe { req_str(item.symbol, &at("symbol")) }?.to_string();
            // SAFETY: as above.
            let dataset: Dataset = unsafe { req_str(item.dataset, &at("dataset")) }?.parse()?;
            list.push(WarmItem { exchange, market, symbol, dataset, start: item.start_ms, end: item.end_ms });
        }
        // The pointer is only used on this thread, inside `block_on` below.
        let user = user_data as usize;
        let report_progress = move |p: WarmProgress| {
            if let Some(f) = progress {
                // SAFETY: the caller promised `progress` is safe to call with `user_data`.
                unsafe { f(user as *mut c_void, p.done, p.total) };
            }
        };
        let report: WarmReport = runtime()?.block_on(cache.warm(&list, concurrency.max(1), &report_progress));
        let failures = report
            .failures
            .iter()
            .map(|(i, e)| {
                (*i, cc_status::of(e), CString::new(e.to_string().replace('\0', "\\0")).unwrap_or_default())
            })
            .collect();
        box_out(out, cc_warm_report { records: report.records, failures });
        Ok(())
    })
}

/// Records now cached, over all items; 0 for NULL.
///
/// # Safety
/// `report` is NULL or a live report.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cc_warm_report_records(report: *const cc_warm_report) -> usize {
    // SAFETY: the caller's obligation above.
    quiet(0, || unsafe { report.as_ref() }.map_or(0, |r| r.records))
}

/// Number of items that failed; 0 for NULL.
///
/// # Safety
/// `report` is NULL or a live report.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cc_warm_report_failures_len(report: *const cc_warm_report) -> usize {
    // SAFETY: the caller's obligation above.
    quiet(0, || unsafe { report.as_ref() }.map_or(0, |r| r.failures.len()))
}

/// Failure number `index` (0-based, `< cc_warm_report_failures_len`): which item
/// (`*item_index`), its status (`*status`) and message (`*message`, valid until the
/// report is freed). Any of the three outputs may be NULL if not wanted.
///
/// # Safety
/// `report` is a live report; the non-NULL outputs are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cc_warm_report_failure(
    report: *const cc_warm_report,
    index: usize,
    item_index: *mut usize,
    status: *mut cc_status,
    message: *mut *const c_char,
) -> cc_status {
    guard(|| {
        // SAFETY: the caller's obligation above.
        let r = unsafe { req(report, "report") }?;
        let (i, s, m) = r.failures.get(index).ok_or_else(|| {
            Failure(
                cc_status::InvalidArgument,
                format!("index {index} out of range (len {})", r.failures.len()),
            )
        })?;
        // SAFETY: each output is NULL (skipped) or writable (the caller's obligation).
        unsafe {
            if let Some(p) = item_index.as_mut() {
                *p = *i;
            }
            if let Some(p) = status.as_mut() {
                *p = *s;
            }
            if let Some(p) = message.as_mut() {
                *p = m.as_ptr();
            }
        }
        Ok(())
    })
}

/// Releases a warm report. NULL is a no-op.
///
/// # Safety
/// `report` is NULL or a report not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cc_warm_report_free(report: *mut cc_warm_report) {
    // SAFETY: the caller's obligation above.
    quiet((), || unsafe { free_box(report) })
}

// ---------------------------------------------------------------------------------------
// Stats
// ---------------------------------------------------------------------------------------

/// The cache's counters since it was built, as a JSON object written to `*out` (free
/// with `cc_string_free`): `{"queries":N,"tiers":[{"name":"memory","hits":N,...}],
/// "upstream":{"requests":N,...},"prefetches":N}`.
///
/// # Safety
/// `cache` is a live handle; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cc_stats_json(cache: *const cc_cache, out: *mut *mut c_char) -> cc_status {
    guard(|| {
        let cache = handle(cache)?;
        let out = out_ptr(out, "out")?;
        let json = serde_json::to_string(&cache.stats())
            .map_err(|e| Failure(cc_status::UnknownError, format!("cannot serialise stats: {e}")))?;
        give_string(out, json)
    })
}

/// The cache's counters in Prometheus text format (`cryptocache_requests_total{tier,result}`,
/// `cryptocache_upstream_requests_total{exchange,status}`, latency histograms, ...), written
/// to `*out` (free with `cc_string_free`), for an exporter's `/metrics`.
///
/// # Safety
/// `cache` is a live handle; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cc_stats_prometheus(cache: *const cc_cache, out: *mut *mut c_char) -> cc_status {
    guard(|| {
        let cache = handle(cache)?;
        let out = out_ptr(out, "out")?;
        give_string(out, cache.stats_prometheus())
    })
}

/// Hands `text` to the caller through `out`, checked non-NULL and writable (released
/// with `cc_string_free`).
fn give_string(out: *mut *mut c_char, text: String) -> Res<()> {
    let text = CString::new(text).map_err(|e| Failure(cc_status::UnknownError, e.to_string()))?;
    // SAFETY: `out` came from `out_ptr`: non-NULL, and writable (the caller's obligation).
    unsafe { *out = text.into_raw() };
    Ok(())
}

/// Releases a string returned by this library (`cc_stats_json`, `cc_stats_prometheus`).
/// NULL is a no-op.
///
/// # Safety
/// `s` is NULL or a string from this library not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cc_string_free(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: the caller's obligation above: it came from `CString::into_raw`.
        quiet((), || drop(unsafe { CString::from_raw(s) }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_a_distinct_name() {
        let mut names: Vec<_> = ALL_STATUSES.iter().map(|s| s.name()).collect();
        names.dedup();
        assert_eq!(names.len(), 16);
        // SAFETY: static NUL-terminated strings.
        let name = |s: i32| unsafe { CStr::from_ptr(cc_status_name(s)) }.to_str().unwrap().to_string();
        assert_eq!(name(100), "CC_STATUS_INVALID_QUERY");
        assert_eq!(name(12345), "CC_STATUS_UNKNOWN_ERROR");
    }

    /// The unsafe edges every call crosses (strings in and out, NULL checks, the panic
    /// guard, the thread-local last error), without a runtime, so Miri can run them
    /// (`scripts/miri.sh`): it checks every pointer read and that nothing leaks.
    #[test]
    fn strings_cross_the_boundary_safely() {
        // SAFETY: the library's own static or thread-local NUL-terminated strings.
        let text = |p: *const c_char| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
        assert_eq!(text(cc_version()), env!("CARGO_PKG_VERSION"));
        assert_eq!(cc_test_panic(), cc_status::Panic);
        assert!(text(cc_last_error_message()).contains("panic"), "{}", text(cc_last_error_message()));
        // NULL where a handle is required: a status and a message, no dereference.
        let mut out = std::ptr::null_mut();
        // SAFETY: NULL handle and query are what is being tested; `out` is writable.
        let status = unsafe { cc_klines(std::ptr::null(), std::ptr::null(), &mut out) };
        assert_eq!(status, cc_status::InvalidArgument);
        assert!(out.is_null());
        assert!(text(cc_last_error_message()).contains("NULL"), "{}", text(cc_last_error_message()));
        // Strings in: absent, valid, not UTF-8.
        // SAFETY: NULL or NUL-terminated literals.
        unsafe {
            assert_eq!(opt_str(std::ptr::null(), "s").ok().flatten(), None);
            assert_eq!(opt_str(c"BTCUSDT".as_ptr(), "s").ok().flatten(), Some("BTCUSDT"));
            assert!(opt_str(c"\xff\xfe".as_ptr(), "symbol").is_err());
            assert!(req_str(std::ptr::null(), "symbol").is_err());
        }
        // Strings out: handed over, then released by the caller.
        let mut given: *mut c_char = std::ptr::null_mut();
        assert!(give_string(&mut given, "{\"hits\":1}".into()).is_ok());
        assert_eq!(text(given), "{\"hits\":1}");
        // SAFETY: a string from this library, freed once; NULL is a no-op.
        unsafe {
            cc_string_free(given);
            cc_string_free(std::ptr::null_mut());
            cc_candles_free(std::ptr::null_mut());
        }
    }

    /// `CACHE_ERROR` only comes from a failing Redis tier that cannot be degraded around,
    /// which the C tests cannot provoke cheaply: check the mapping here.
    #[test]
    fn every_core_code_maps_to_its_own_status() {
        let errors = [
            (Error::InvalidQuery("q".into()), cc_status::InvalidQuery),
            (Error::UnknownSymbol { exchange: "e".into(), symbol: "s".into() }, cc_status::UnknownSymbol),
            (Error::Unsupported("u".into()), cc_status::Unsupported),
            (
                Error::RateLimited { exchange: "e".into(), retry_after: None, message: "m".into() },
                cc_status::RateLimited,
            ),
            (
                Error::Exchange { exchange: "e".into(), code: None, status: None, message: "m".into() },
                cc_status::ExchangeError,
            ),
            (Error::Network { exchange: "e".into(), message: "m".into() }, cc_status::NetworkError),
            (
                Error::MalformedResponse { exchange: "e".into(), message: "m".into() },
                cc_status::MalformedResponse,
            ),
            (Error::Cache("c".into()), cc_status::CacheError),
            (Error::Config("c".into()), cc_status::ConfigError),
            (
                Error::NotArchived {
                    exchange: "e".into(),
                    symbol: "s".into(),
                    start: 0,
                    end: 1,
                    reason: "r".into(),
                    available_from: None,
                },
                cc_status::NotArchived,
            ),
        ];
        for (error, status) in errors {
            let Failure(got, message) = Failure::from(error);
            assert_eq!(got, status);
            assert!(!message.is_empty());
        }
    }
}
