//! cryptocache for Node: the native half of the `cryptocache` npm package.
//!
//! This crate only converts between JavaScript values and the core crate's types and
//! maps errors; the rules (option defaults, validation, caching) live in `cryptocache`.
//! The public JavaScript API is `index.js` (a thin wrapper that turns `Date`s into
//! milliseconds and native errors into `Error`s with a stable `code`), typed by
//! `index.d.ts`.
//!
//! Every query method is an `async fn`: it runs on napi's Tokio runtime, so the
//! JavaScript event loop never waits for I/O or decoding. The one exception is
//! `klinesInMemory`, tried first by `index.js`: a memory-tier hit answered on the
//! JavaScript thread at once (no thread hop). Candle results come back as one
//! `Float64Array` block that `index.js` slices into columns. Panics are caught and turned
//! into rejected Promises or thrown errors.

#![warn(clippy::unwrap_used)]

use std::collections::HashMap;
use std::fmt::Display;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use cryptocache as cc;
use futures_util::FutureExt;
use napi::bindgen_prelude::{ArrayBuffer, Either, Float64Array, FromNapiValue, Int8Array};
use napi::Env;
use napi::Status;
use napi_derive::napi;
use tokio::sync::OnceCell;

/// The error a JavaScript caller sees: the message is prefixed with `[CODE] `, which
/// `index.js` moves into `error.code` (napi's own `code` is its status name).
fn coded(code: &str, message: impl Display) -> napi::Error {
    napi::Error::new(Status::GenericFailure, format!("[{code}] {message}"))
}

fn core_error(e: &cc::Error) -> napi::Error {
    coded(e.code(), e)
}

fn invalid(message: impl Display) -> napi::Error {
    coded("INVALID_QUERY", message)
}

/// A caught panic as the error a JavaScript caller sees.
fn panic_error(panic: Box<dyn std::any::Any + Send>) -> napi::Error {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    coded("CACHE_ERROR", format!("internal error (panic in cryptocache): {what}"))
}

/// Runs `fut`, turning a panic into a rejected Promise instead of a crashed process.
async fn guarded<T>(fut: impl Future<Output = napi::Result<T>>) -> napi::Result<T> {
    AssertUnwindSafe(fut).catch_unwind().await.unwrap_or_else(|panic| Err(panic_error(panic)))
}

/// Runs `f` on the JavaScript thread, turning a panic into a thrown error.
fn guarded_now<T>(f: impl FnOnce() -> napi::Result<T>) -> napi::Result<T> {
    std::panic::catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| Err(panic_error(panic)))
}

/// Options of `new Cache(options)`; every field is optional. (No `Debug`: it holds the
/// relay's API key.)
#[napi(object)]
#[derive(Default)]
pub struct CacheOptions {
    /// Memory tier size in MiB (default 256); `0` turns the memory tier off.
    pub memory_mb: Option<f64>,
    /// Disk tier directory (default: `$CRYPTOCACHE_DIR`, else `~/.cache/cryptocache`).
    pub disk_path: Option<String>,
    /// `true` turns the disk tier off (`index.js` sets it for `diskPath: false`).
    pub no_disk: Option<bool>,
    /// Redis URL (`redis://`, `rediss://`, `redis+cluster://`, `redis+sentinel://`): a tier shared by every
    /// process (Node, Python, the CLI) that points at it.
    pub redis_url: Option<String>,
    /// One base URL for every exchange (e.g. the simulator's).
    pub exchange_url: Option<String>,
    /// Base URL per exchange name (`binance`, `bybit`, `okx`, `deribit`), applied after
    /// `exchangeUrl`.
    pub exchange_urls: Option<HashMap<String, String>>,
    /// The namespace cached values are stored under (`a-z 0-9 . _ -`); default `live` for
    /// the exchanges' own endpoints, derived from the URL for any other.
    pub source: Option<String>,
    /// A cryptocache relay to fetch through instead of the exchanges (no exchange is
    /// then contacted from this process).
    pub relay_url: Option<String>,
    /// The relay's API key (`index.js` defaults it to `$CRYPTOCACHE_API_KEY`). Never logged.
    pub api_key: Option<String>,
    /// `auto` (default), `off` or `only`: closed history from the exchanges' bulk
    /// archives (docs/archives.md).
    pub archives: Option<String>,
    /// Seconds after a segment's end before it is final (default 120).
    pub settle_secs: Option<f64>,
    /// Largest random delay (s) added to an open segment's expiry (default 2).
    pub open_jitter_secs: Option<f64>,
    /// Lifetime (s) of a closed segment the exchange answered empty for (default: forever).
    pub empty_ttl_secs: Option<f64>,
    /// How long (s) an instruments list's answer about a symbol is trusted (default 3600).
    pub instruments_ttl_secs: Option<f64>,
    /// Lifetime (s) of an order-book snapshot (default 1).
    pub order_book_ttl_secs: Option<f64>,
    /// Background prefetches at once for sequential kline reads; 0 = off (default 2).
    pub prefetch: Option<f64>,
    /// Segment fetches one query runs at once (default 4).
    pub upstream_concurrency: Option<f64>,
    /// Longest any wait may last (s), else `RATE_LIMITED` at once (default 60).
    pub max_wait_secs: Option<f64>,
    /// Retries of a failed upstream request (default 5).
    pub max_retries: Option<f64>,
    /// Serve an open segment up to this long (s) past its expiry at once, marked
    /// `stale`, while one background refresh replaces it (default 0 = off).
    pub stale_while_revalidate_secs: Option<f64>,
    /// Size bound of the disk tier in MiB; least recently used files go first (default: none).
    pub disk_max_mb: Option<f64>,
    /// TTL (s) of closed segments in Redis (default: none).
    pub redis_ttl_secs: Option<f64>,
    /// Share of each exchange budget spent while Redis's shared budget is unreachable (default 0.25).
    pub offline_budget_share: Option<f64>,
}

impl CacheOptions {
    /// The core's options; invalid values are `CONFIG_ERROR`s.
    fn to_core(&self) -> napi::Result<cc::CacheOptions> {
        let memory_mb = match self.memory_mb {
            None => None,
            Some(mb) if mb.is_finite() && mb >= 0.0 && mb.fract() == 0.0 => Some(mb as u64),
            Some(mb) => {
                return Err(coded("CONFIG_ERROR", format!("memoryMb must be a whole number >= 0, not {mb}")))
            }
        };
        let mut exchange_urls: Vec<(String, String)> =
            self.exchange_urls.iter().flatten().map(|(k, v)| (k.clone(), v.clone())).collect();
        exchange_urls.sort();
        let mut options = cc::CacheOptions::default();
        options.memory_mb = memory_mb;
        options.disk_path = self.disk_path.as_ref().map(PathBuf::from);
        options.no_disk = self.no_disk.unwrap_or(false);
        options.redis_url = self.redis_url.clone();
        options.exchange_url = self.exchange_url.clone();
        options.exchange_urls = exchange_urls;
        options.source = self.source.clone();
        options.relay_url = self.relay_url.clone();
        options.api_key = self.api_key.clone();
        options.archives = self.archives.clone();
        for (name, value) in [
            ("settle_secs", self.settle_secs),
            ("open_jitter_secs", self.open_jitter_secs),
            ("empty_ttl_secs", self.empty_ttl_secs),
            ("instruments_ttl_secs", self.instruments_ttl_secs),
            ("order_book_ttl_secs", self.order_book_ttl_secs),
            ("prefetch", self.prefetch),
            ("upstream_concurrency", self.upstream_concurrency),
            ("max_wait_secs", self.max_wait_secs),
            ("max_retries", self.max_retries),
            ("stale_while_revalidate_secs", self.stale_while_revalidate_secs),
            ("disk_max_mb", self.disk_max_mb),
            ("redis_ttl_secs", self.redis_ttl_secs),
            ("offline_budget_share", self.offline_budget_share),
        ] {
            if let Some(value) = value {
                options.set(name, value).map_err(|e| core_error(&e))?;
            }
        }
        Ok(options)
    }
}

/// A time as JavaScript gives it: milliseconds since 1970 or an ISO-8601 string
/// (`index.js` turns `Date`s into milliseconds).
type TimeArg = Either<f64, String>;

fn time_of(name: &str, value: Option<&TimeArg>) -> napi::Result<i64> {
    match value {
        None => Err(invalid(format!("{name} is required (milliseconds, Date or ISO string)"))),
        Some(Either::A(ms)) if ms.is_finite() && ms.fract() == 0.0 && ms.abs() < 9.0e15 => Ok(*ms as i64),
        Some(Either::A(ms)) => {
            Err(invalid(format!("{name} must be a whole number of milliseconds since 1970, not {ms}")))
        }
        Some(Either::B(text)) => cc::time::parse_time(text).map_err(|e| core_error(&e)),
    }
}

fn required<'a>(name: &str, value: &'a Option<String>) -> napi::Result<&'a str> {
    value.as_deref().ok_or_else(|| invalid(format!("{name} is required")))
}

fn exchange_of(value: &Option<String>) -> napi::Result<cc::Exchange> {
    required("exchange", value)?.parse().map_err(|e| core_error(&e))
}

fn market_of(value: &Option<String>) -> napi::Result<Option<cc::Market>> {
    value.as_deref().map(str::parse).transpose().map_err(|e| core_error(&e))
}

/// A candle query: `klines({ exchange, symbol, interval, start, end, market })`.
#[napi(object)]
pub struct KlinesQuery {
    /// `binance`, `bybit`, `okx` or `deribit`.
    pub exchange: Option<String>,
    /// Exchange symbol, e.g. `BTCUSDT`.
    pub symbol: Option<String>,
    /// Interval like Binance writes it: `1s 1m 5m 15m 1h 4h 1d 1w 1M`.
    pub interval: Option<String>,
    /// Inclusive start: ms, `Date` or ISO string.
    #[napi(ts_type = "number | string")]
    pub start: Option<TimeArg>,
    /// Exclusive end: ms, `Date` or ISO string.
    #[napi(ts_type = "number | string")]
    pub end: Option<TimeArg>,
    /// `spot` (default unless the symbol names a market), `linear`, `inverse`, `option`.
    pub market: Option<String>,
}

impl KlinesQuery {
    fn to_core(&self) -> napi::Result<cc::KlineQuery> {
        let interval: cc::Interval =
            required("interval", &self.interval)?.parse().map_err(|e| core_error(&e))?;
        Ok(cc::KlineQuery {
            exchange: exchange_of(&self.exchange)?,
            market: market_of(&self.market)?,
            symbol: required("symbol", &self.symbol)?.to_string(),
            interval,
            start: time_of("start", self.start.as_ref())?,
            end: time_of("end", self.end.as_ref())?,
        })
    }
}

/// A trades or funding-rates query: `{ exchange, symbol, start, end, market }`.
#[napi(object)]
pub struct RangeQuery {
    /// `binance`, `bybit`, `okx` or `deribit`.
    pub exchange: Option<String>,
    /// Exchange symbol.
    pub symbol: Option<String>,
    /// Inclusive start: ms, `Date` or ISO string.
    #[napi(ts_type = "number | string")]
    pub start: Option<TimeArg>,
    /// Exclusive end: ms, `Date` or ISO string.
    #[napi(ts_type = "number | string")]
    pub end: Option<TimeArg>,
    /// Market (see `KlinesQuery.market`).
    pub market: Option<String>,
}

impl RangeQuery {
    fn to_core(&self) -> napi::Result<cc::RangeQuery> {
        Ok(cc::RangeQuery {
            exchange: exchange_of(&self.exchange)?,
            market: market_of(&self.market)?,
            symbol: required("symbol", &self.symbol)?.to_string(),
            start: time_of("start", self.start.as_ref())?,
            end: time_of("end", self.end.as_ref())?,
        })
    }
}

/// An order-book query: `{ exchange, symbol, depth, market }`.
#[napi(object)]
pub struct OrderBookQuery {
    /// `binance`, `bybit`, `okx` or `deribit`.
    pub exchange: Option<String>,
    /// Exchange symbol.
    pub symbol: Option<String>,
    /// Levels per side (default 100).
    pub depth: Option<f64>,
    /// Market (see `KlinesQuery.market`).
    pub market: Option<String>,
}

impl OrderBookQuery {
    fn to_core(&self) -> napi::Result<cc::OrderBookQuery> {
        let depth = match self.depth {
            None => 100,
            Some(d) if d.is_finite() && d >= 1.0 && d.fract() == 0.0 && d <= 1.0e6 => d as usize,
            Some(d) => return Err(invalid(format!("depth must be a whole number >= 1, not {d}"))),
        };
        Ok(cc::OrderBookQuery {
            exchange: exchange_of(&self.exchange)?,
            market: market_of(&self.market)?,
            symbol: required("symbol", &self.symbol)?.to_string(),
            depth,
        })
    }
}

/// A time range `[start, end)` in ms.
#[napi(object)]
pub struct TimeRange {
    /// Inclusive start, ms.
    pub start: f64,
    /// Exclusive end, ms.
    pub end: f64,
}

fn ms_column(values: &[i64]) -> Float64Array {
    Float64Array::new(values.iter().map(|&v| v as f64).collect())
}

/// Slots before the columns in a [`CandleBlock`]: rows, flags, range start, range end,
/// known until.
const BLOCK_HEADER: usize = 5;
/// Flag: the block holds a trade-count column.
const HAS_TRADES: u8 = 1;
/// Flag: the last candle is still open (its values will change).
const LAST_IS_OPEN: u8 = 2;
/// Flag: served from an open segment past its expiry (stale-while-revalidate).
const STALE: u8 = 4;

/// A `klines` result as one `Float64Array` (`index.js` slices it into `Candles`): a
/// header `[rows, flags, rangeStart, rangeEnd, knownUntil]`, then the columns open time
/// (ms), open, high, low, close, volume, quote volume and, with flag 1, trade counts,
/// `rows` values each. One buffer, because each ArrayBuffer costs V8 more than copying
/// a column into a shared one (measured: eight buffers, external or not, 21–55 µs per
/// 1000-candle hit); and a private copy cannot corrupt the cache's memory when a caller
/// writes to it (JavaScript has no read-only typed arrays).
#[napi(object)]
pub struct CandleBlock {
    /// Header, then columns (see above).
    pub columns: Float64Array,
    /// The interval, e.g. `1h`.
    pub interval: String,
}

/// A [`CandleBlock`] written on the JavaScript thread into a buffer V8 owns.
#[napi(object)]
pub struct CandleBlockNow<'env> {
    /// Header, then columns (see [`CandleBlock`]), as doubles.
    pub columns: ArrayBuffer<'env>,
    /// The interval, e.g. `1h`.
    pub interval: String,
}

/// The length of `c`'s [`CandleBlock`].
fn block_len(c: &cc::Candles) -> usize {
    BLOCK_HEADER + (7 + usize::from(c.trades().is_some())) * c.len()
}

/// Writes `c` in the [`CandleBlock`] layout into `block`, [`block_len`] values long.
fn fill_block(c: &cc::Candles, block: &mut [f64]) {
    let rows = c.len();
    let trades = c.trades();
    let mut flags = 0;
    for (set, flag) in
        [(trades.is_some(), HAS_TRADES), (c.last_is_open(), LAST_IS_OPEN), (c.is_stale(), STALE)]
    {
        if set {
            flags |= flag;
        }
    }
    let range = c.range();
    let (header, mut rest) = block.split_at_mut(BLOCK_HEADER);
    header.copy_from_slice(&[
        rows as f64,
        f64::from(flags),
        range.start as f64,
        range.end as f64,
        c.known_until() as f64,
    ]);
    let mut next = || {
        let (column, tail) = std::mem::take(&mut rest).split_at_mut(rows);
        rest = tail;
        column
    };
    next().iter_mut().zip(c.open_time()).for_each(|(out, &t)| *out = t as f64);
    for column in [c.open(), c.high(), c.low(), c.close(), c.volume(), c.quote_volume()] {
        next().copy_from_slice(column);
    }
    if let Some(trades) = trades {
        next().iter_mut().zip(trades).for_each(|(out, &n)| *out = n as f64);
    }
}

/// A new ArrayBuffer that V8 owns, `len` doubles long, filled by `fill` before any
/// JavaScript sees it: one allocation and one write per result (napi's safe
/// constructors would add a Rust allocation, or a copy, per call).
// One of the crate's two `unsafe` blocks: napi-rs has no safe way to fill a new
// engine-owned buffer in place.
#[allow(unsafe_code)]
fn js_doubles<'env>(
    env: &'env Env,
    len: usize,
    fill: impl FnOnce(&mut [f64]),
) -> napi::Result<ArrayBuffer<'env>> {
    let bytes = len
        .checked_mul(8)
        .ok_or_else(|| coded("CACHE_ERROR", format!("a buffer of {len} doubles is too large")))?;
    let mut data = std::ptr::null_mut();
    let mut buffer = std::ptr::null_mut();
    // SAFETY: plain N-API call with valid out-pointers, on the JavaScript thread (`env`).
    let status = unsafe { napi::sys::napi_create_arraybuffer(env.raw(), bytes, &mut data, &mut buffer) };
    if status != napi::sys::Status::napi_ok || (data.is_null() && len > 0) {
        return Err(coded(
            "CACHE_ERROR",
            format!("cannot allocate a buffer of {len} doubles (N-API status {status})"),
        ));
    }
    if len > 0 && data.align_offset(std::mem::align_of::<f64>()) != 0 {
        return Err(coded("CACHE_ERROR", "the engine allocated a buffer not aligned for doubles"));
    }
    if len > 0 {
        // SAFETY: V8 just allocated `len * 8` zeroed bytes at `data`, aligned for f64
        // (checked above), and nothing else refers to them yet.
        fill(unsafe { std::slice::from_raw_parts_mut(data.cast::<f64>(), len) });
    }
    // SAFETY: `buffer` is the ArrayBuffer just created in `env`.
    unsafe { ArrayBuffer::from_napi_value(env.raw(), buffer) }
}

impl<'env> CandleBlockNow<'env> {
    /// The block of `c`, written straight into a buffer V8 owns.
    fn new(env: &'env Env, c: &cc::Candles) -> napi::Result<Self> {
        let columns = js_doubles(env, block_len(c), |block| fill_block(c, block))?;
        Ok(CandleBlockNow { columns, interval: c.interval().to_string() })
    }
}

impl CandleBlock {
    /// The block of `c` in a buffer of its own, built on any thread.
    fn new(c: &cc::Candles) -> Self {
        let mut block = vec![0.0; block_len(c)];
        fill_block(c, &mut block);
        CandleBlock { columns: Float64Array::new(block), interval: c.interval().to_string() }
    }
}

/// The gaps of a `klines` result (`Candles.gaps` in `index.js`, computed when first read):
/// ranges inside the query where the exchange has no candle although it could. Reads
/// the result's `openTime` as it is when first asked.
#[napi]
pub fn candle_gaps(
    interval: String,
    range_start: f64,
    range_end: f64,
    known_until: f64,
    open_time: Float64Array,
) -> napi::Result<Vec<TimeRange>> {
    guarded_now(|| {
        let interval: cc::Interval = interval.parse().map_err(|e| core_error(&e))?;
        let open_time: Vec<i64> = open_time.iter().map(|&t| t as i64).collect();
        let range = cc::TimeRange::new(range_start as i64, range_end as i64);
        Ok(cc::gaps_between(&open_time, interval, range, known_until as i64)
            .into_iter()
            .map(|g| TimeRange { start: g.start as f64, end: g.end as f64 })
            .collect())
    })
}

/// Trade columns, ascending by (time, id) (`index.js` wraps them in `Trades`).
#[napi(object)]
pub struct TradeColumns {
    /// Times, ms since 1970.
    pub time: Float64Array,
    /// Exchange trade ids (exact below 2^53).
    pub id: Float64Array,
    /// Prices.
    pub price: Float64Array,
    /// Quantities.
    pub quantity: Float64Array,
    /// Taker side: `1` buy, `-1` sell.
    pub side: Int8Array,
}

impl TradeColumns {
    fn from_core(t: &cc::Trades) -> Self {
        TradeColumns {
            time: ms_column(t.time()),
            id: ms_column(t.id()),
            price: Float64Array::new(t.price().to_vec()),
            quantity: Float64Array::new(t.quantity().to_vec()),
            side: Int8Array::new(t.side().iter().map(|&s| s as i8).collect()),
        }
    }
}

/// Funding columns, ascending by time (`index.js` wraps them in `FundingRates`).
#[napi(object)]
pub struct FundingColumns {
    /// Funding times, ms since 1970.
    pub time: Float64Array,
    /// Rates (fractions: 0.0001 = 0.01 %).
    pub rate: Float64Array,
}

/// One side of an order book, best level first.
#[napi(object)]
pub struct BookSide {
    /// Prices.
    pub price: Float64Array,
    /// Quantities.
    pub quantity: Float64Array,
}

impl BookSide {
    fn from_levels(levels: &[cc::Level]) -> Self {
        BookSide {
            price: Float64Array::new(levels.iter().map(|l| l.price).collect()),
            quantity: Float64Array::new(levels.iter().map(|l| l.quantity).collect()),
        }
    }
}

/// An order-book snapshot.
#[napi(object)]
pub struct OrderBook {
    /// Snapshot time, ms.
    pub time: f64,
    /// The exchange's update id or sequence, when it sends one.
    pub update_id: Option<f64>,
    /// Bids, best (highest) first.
    pub bids: BookSide,
    /// Asks, best (lowest) first.
    pub asks: BookSide,
}

/// One watchlist entry of `warm()`.
#[napi(object)]
pub struct WarmItem {
    /// `binance`, `bybit`, `okx` or `deribit`.
    pub exchange: Option<String>,
    /// Symbol.
    pub symbol: Option<String>,
    /// What to cache: an interval (`1h`), `trades` or `funding`.
    pub dataset: Option<String>,
    /// Inclusive start: ms, `Date` or ISO string.
    #[napi(ts_type = "number | string")]
    pub start: Option<TimeArg>,
    /// Exclusive end: ms, `Date` or ISO string.
    #[napi(ts_type = "number | string")]
    pub end: Option<TimeArg>,
    /// Market (see `KlinesQuery.market`).
    pub market: Option<String>,
}

impl WarmItem {
    fn to_core(&self) -> napi::Result<cc::WarmItem> {
        let dataset: cc::Dataset = required("dataset", &self.dataset)?.parse().map_err(|e| core_error(&e))?;
        let start = time_of("start", self.start.as_ref())?;
        let end = time_of("end", self.end.as_ref())?;
        if start >= end {
            return Err(invalid(format!("start must be before end (start {start} >= end {end})")));
        }
        Ok(cc::WarmItem {
            exchange: exchange_of(&self.exchange)?,
            market: market_of(&self.market)?,
            symbol: required("symbol", &self.symbol)?.to_string(),
            dataset,
            start,
            end,
        })
    }
}

/// What `invalidate()` drops: `{ exchange, symbol, what, start?, end?, market?, refresh? }`.
#[napi(object)]
pub struct InvalidateQuery {
    /// `binance`, `bybit`, `okx` or `deribit`.
    pub exchange: Option<String>,
    /// Symbol.
    pub symbol: Option<String>,
    /// An interval (`1h`), `trades` or `funding`.
    pub what: Option<String>,
    /// Inclusive start: ms, `Date` or ISO string; omitted with `end`: the whole series.
    #[napi(ts_type = "number | string")]
    pub start: Option<TimeArg>,
    /// Exclusive end: ms, `Date` or ISO string; omitted: up to now.
    #[napi(ts_type = "number | string")]
    pub end: Option<TimeArg>,
    /// Market (see `KlinesQuery.market`).
    pub market: Option<String>,
    /// Refetch the range right away.
    pub refresh: Option<bool>,
}

impl InvalidateQuery {
    fn to_core(&self) -> napi::Result<cc::invalidate::Invalidation> {
        let time = |name: &str, v: Option<&TimeArg>| v.map(|t| time_of(name, Some(t))).transpose();
        Ok(cc::invalidate::Invalidation {
            exchange: exchange_of(&self.exchange)?,
            market: market_of(&self.market)?,
            symbol: required("symbol", &self.symbol)?.to_string(),
            dataset: required("what", &self.what)?.parse().map_err(|e| core_error(&e))?,
            start: time("start", self.start.as_ref())?,
            end: time("end", self.end.as_ref())?,
            refresh: self.refresh.unwrap_or(false),
        })
    }
}

/// What `invalidate()` did.
#[napi(object)]
pub struct InvalidateReport {
    /// The series (`source:exchange:market:kind:grid:symbol`).
    pub series: String,
    /// Segments dropped from every tier.
    pub segments: u32,
    /// With `refresh`: the records the range holds now, refetched.
    pub refetched_rows: Option<f64>,
}

/// An item `warm()` could not cache.
#[napi(object)]
pub struct WarmFailure {
    /// Index of the item in the list given to `warm()`.
    pub index: u32,
    /// Stable error code, e.g. `UNKNOWN_SYMBOL`.
    pub code: String,
    /// What went wrong.
    pub message: String,
}

/// What `warm()` did.
#[napi(object)]
pub struct WarmReport {
    /// Records now cached, over all items.
    pub records: f64,
    /// Items that failed (the others were cached).
    pub failures: Vec<WarmFailure>,
}

/// Counters of one tier.
#[napi(object)]
pub struct TierStats {
    /// `memory`, `disk` or `redis`.
    pub name: String,
    /// Segments served.
    pub hits: f64,
    /// Segments asked for and not there.
    pub misses: f64,
    /// Values that failed their checks (refetched).
    pub corrupt: f64,
    /// Operations that failed (the query went on without this tier).
    pub errors: f64,
    /// Segments written.
    pub writes: f64,
    /// Bytes read on hits.
    pub bytes_read: f64,
    /// Bytes written.
    pub bytes_written: f64,
}

/// Exchange traffic counters.
#[napi(object)]
pub struct UpstreamStats {
    /// HTTP requests sent (including retries).
    pub requests: f64,
    /// Requests that were retries.
    pub retries: f64,
    /// Throttling answers received.
    pub rate_limited: f64,
    /// Requests that failed.
    pub errors: f64,
    /// Request weight spent.
    pub weight: f64,
    /// Response bytes received.
    pub bytes: f64,
    /// Segments fetched from the exchange.
    pub segments_fetched: f64,
    /// Times the local rate limiter made a request wait.
    pub throttle_waits: f64,
    /// Archive rows REST contradicted (REST's kept; docs/archives.md).
    pub archive_disagreements: f64,
}

/// Counters since the cache was built.
#[napi(object)]
pub struct Stats {
    /// Queries answered.
    pub queries: f64,
    /// One entry per tier, in lookup order.
    pub tiers: Vec<TierStats>,
    /// Exchange traffic.
    pub upstream: UpstreamStats,
    /// Background prefetches started.
    pub prefetches: f64,
    /// Stale segments served while a background refresh replaced them.
    pub revalidations: f64,
}

impl Stats {
    fn from_core(s: &cc::Stats) -> Self {
        let n = |v: u64| v as f64;
        Stats {
            queries: n(s.queries),
            tiers: s
                .tiers
                .iter()
                .map(|t| TierStats {
                    name: t.name.clone(),
                    hits: n(t.hits),
                    misses: n(t.misses),
                    corrupt: n(t.corrupt),
                    errors: n(t.errors),
                    writes: n(t.writes),
                    bytes_read: n(t.bytes_read),
                    bytes_written: n(t.bytes_written),
                })
                .collect(),
            upstream: UpstreamStats {
                requests: n(s.upstream.requests),
                retries: n(s.upstream.retries),
                rate_limited: n(s.upstream.rate_limited),
                errors: n(s.upstream.errors),
                weight: n(s.upstream.weight),
                bytes: n(s.upstream.bytes),
                segments_fetched: n(s.upstream.segments_fetched),
                throttle_waits: n(s.upstream.throttle_waits),
                archive_disagreements: n(s.upstream.archive_disagreements),
            },
            prefetches: n(s.prefetches),
            revalidations: n(s.revalidations),
        }
    }
}

/// The built cache (lazily: building connects to Redis, which is I/O) and how to build it.
struct Inner {
    builder: cc::CacheBuilder,
    cache: OnceCell<cc::Cache>,
}

impl Inner {
    async fn cache(&self) -> napi::Result<&cc::Cache> {
        self.cache.get_or_try_init(|| self.builder.clone().build()).await.map_err(|e| core_error(&e))
    }
}

/// The native cache behind `index.js`'s `Cache`. Use `Cache` from `index.js`.
#[napi]
pub struct NativeCache {
    inner: Mutex<Option<Arc<Inner>>>,
}

#[napi]
impl NativeCache {
    /// Checks the options (a `CONFIG_ERROR` if they are wrong); the cache itself is built
    /// (disk opened, Redis connected) on first use or by `ready()`.
    #[napi(constructor)]
    pub fn new(options: Option<CacheOptions>) -> napi::Result<Self> {
        let options = options.unwrap_or_default().to_core()?;
        let builder = options.builder().map_err(|e| core_error(&e))?;
        Ok(NativeCache { inner: Mutex::new(Some(Arc::new(Inner { builder, cache: OnceCell::new() }))) })
    }

    fn inner(&self) -> napi::Result<Arc<Inner>> {
        let guard = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        guard.clone().ok_or_else(|| coded("CACHE_ERROR", "this Cache was closed"))
    }

    /// Builds the cache now: opens the disk tier, connects to Redis.
    #[napi]
    pub async fn ready(&self) -> napi::Result<()> {
        let inner = self.inner()?;
        guarded(async move { inner.cache().await.map(|_| ()) }).await
    }

    /// Candles with open time in `[start, end)`, ascending.
    #[napi]
    pub async fn klines(&self, query: KlinesQuery) -> napi::Result<CandleBlock> {
        let inner = self.inner()?;
        guarded(async move {
            let q = query.to_core()?;
            let candles = inner.cache().await?.klines(&q).await.map_err(|e| core_error(&e))?;
            Ok(CandleBlock::new(&candles))
        })
        .await
    }

    /// The candles of `klines(query)` at once, on the calling thread, when the memory
    /// tier holds every segment of the query fresh; `null` otherwise (then `klines`
    /// answers). No thread hop, no Promise: what makes a memory hit cost microseconds.
    #[napi]
    pub fn klines_in_memory<'env>(
        &self,
        env: &'env Env,
        query: KlinesQuery,
    ) -> napi::Result<Option<CandleBlockNow<'env>>> {
        let inner = self.inner()?;
        let Some(cache) = inner.cache.get() else { return Ok(None) };
        guarded_now(|| {
            let q = query.to_core()?;
            // Inside the runtime's context, so a sequential read can start its prefetch.
            let candles = napi::bindgen_prelude::within_runtime_if_available(|| cache.klines_in_memory(&q));
            candles.as_ref().map(|c| CandleBlockNow::new(env, c)).transpose()
        })
    }

    /// Public trades with time in `[start, end)`, ascending by (time, id).
    #[napi]
    pub async fn trades(&self, query: RangeQuery) -> napi::Result<TradeColumns> {
        let inner = self.inner()?;
        guarded(async move {
            let q = query.to_core()?;
            let trades = inner.cache().await?.trades(&q).await.map_err(|e| core_error(&e))?;
            Ok(TradeColumns::from_core(&trades))
        })
        .await
    }

    /// Funding events with time in `[start, end)`, ascending.
    #[napi]
    pub async fn funding_rates(&self, query: RangeQuery) -> napi::Result<FundingColumns> {
        let inner = self.inner()?;
        guarded(async move {
            let q = query.to_core()?;
            let f = inner.cache().await?.funding_rates(&q).await.map_err(|e| core_error(&e))?;
            Ok(FundingColumns { time: ms_column(f.time()), rate: Float64Array::new(f.rate().to_vec()) })
        })
        .await
    }

    /// The order book now (a snapshot younger than the policy's TTL comes from memory).
    #[napi]
    pub async fn order_book(&self, query: OrderBookQuery) -> napi::Result<OrderBook> {
        let inner = self.inner()?;
        guarded(async move {
            let q = query.to_core()?;
            let book = inner.cache().await?.order_book(&q).await.map_err(|e| core_error(&e))?;
            Ok(OrderBook {
                time: book.time as f64,
                update_id: book.update_id.map(|u| u as f64),
                bids: BookSide::from_levels(&book.bids),
                asks: BookSide::from_levels(&book.asks),
            })
        })
        .await
    }

    /// Drops a range (or a whole series) from every tier and from the memory of every
    /// process sharing the Redis; the next query refetches it (`refresh`: at once).
    #[napi]
    pub async fn invalidate(&self, query: InvalidateQuery) -> napi::Result<InvalidateReport> {
        let inner = self.inner()?;
        guarded(async move {
            let q = query.to_core()?;
            let report = inner.cache().await?.invalidate(&q).await.map_err(|e| core_error(&e))?;
            Ok(InvalidateReport {
                series: report.series,
                segments: u32::try_from(report.segments).unwrap_or(u32::MAX),
                refetched_rows: report.refetched_rows.map(|n| n as f64),
            })
        })
        .await
    }

    /// Fills every tier for a watchlist, `concurrency` items at a time (default 4).
    /// Failed items are reported; the others are cached.
    #[napi]
    pub async fn warm(&self, items: Vec<WarmItem>, concurrency: Option<u32>) -> napi::Result<WarmReport> {
        let inner = self.inner()?;
        guarded(async move {
            let items = items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    item.to_core().map_err(|e| napi::Error::new(e.status, format!("{} (item {i})", e.reason)))
                })
                .collect::<napi::Result<Vec<_>>>()?;
            let concurrency = concurrency.unwrap_or(4).max(1) as usize;
            let cache = inner.cache().await?.clone();
            // `Cache::warm`'s future is not provably `Send` (a higher-ranked closure in
            // core's stream), so it runs on a blocking-pool thread of the same runtime.
            let handle = tokio::runtime::Handle::current();
            let report = tokio::task::spawn_blocking(move || {
                handle.block_on(async move { cache.warm(&items, concurrency, &|_| {}).await })
            })
            .await
            .map_err(|e| coded("CACHE_ERROR", format!("warm failed: {e}")))?;
            Ok(WarmReport {
                records: report.records as f64,
                failures: report
                    .failures
                    .iter()
                    .map(|(i, e)| WarmFailure {
                        index: *i as u32,
                        code: e.code().to_string(),
                        message: e.to_string(),
                    })
                    .collect(),
            })
        })
        .await
    }

    /// Counters since the cache was built (builds it first if needed).
    #[napi]
    pub async fn stats(&self) -> napi::Result<Stats> {
        let inner = self.inner()?;
        guarded(async move { Ok(Stats::from_core(&inner.cache().await?.stats())) }).await
    }

    /// Counters since the cache was built, in Prometheus text format.
    #[napi]
    pub async fn stats_prometheus(&self) -> napi::Result<String> {
        let inner = self.inner()?;
        guarded(async move { Ok(inner.cache().await?.stats_prometheus()) }).await
    }

    /// Releases the cache (connections, disk handles) once the calls in flight finish;
    /// later calls reject with `CACHE_ERROR`. Closing twice is fine.
    #[napi]
    pub async fn close(&self) -> napi::Result<()> {
        let taken = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        // Dropped here, on the runtime, not on the JavaScript thread.
        drop(taken);
        Ok(())
    }
}
