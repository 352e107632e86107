//! cryptocache for Python: the private native module `cryptocache._native`.
//!
//! This crate converts arguments and results and maps errors; every rule about queries
//! and options lives in the core crate. The public, documented Python API is the
//! pure-Python package `cryptocache` (in `python/cryptocache/`), which wraps these
//! classes.
//!
//! Design:
//! - one tokio multi-thread runtime per process, created lazily and rebuilt in a
//!   child after `fork()` (detected by pid); a `Cache` built before the fork refuses to
//!   run in the child with a clear error;
//! - the GIL is released around every core call (inputs are owned first), so Python
//!   threads calling one cache run in parallel;
//! - every entry point runs under `catch_unwind`: a Rust panic surfaces as
//!   `cryptocache.Error`, never as `PanicException`;
//! - results keep the core's `Arc`-backed columns, which Python reads as read-only numpy
//!   arrays over that memory (no copy) or through the Arrow PyCapsule interface.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, RwLock};

use cryptocache::book::OrderBookQuery;
use cryptocache::time::parse_time as core_parse_time;
use cryptocache::{
    invalidate::Invalidation, Cache, CacheOptions, Candles, Dataset, Error, Exchange, FundingRates, Interval,
    KlineQuery, Market, RangeQuery, Trades, WarmItem, WarmProgress,
};
use pyo3::exceptions::PyRuntimeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyCapsule, PyDict};

mod arrow;
mod pid;
mod views;

/// The process's runtime and the pid it was built in.
struct Runtime {
    pid: u32,
    rt: Arc<tokio::runtime::Runtime>,
}

static RUNTIME: Mutex<Option<Runtime>> = Mutex::new(None);

/// The runtime of this process: built on first use, rebuilt in a forked child (whose
/// copy of the parent's runtime has no worker threads).
fn runtime() -> Result<Arc<tokio::runtime::Runtime>, Error> {
    let pid = pid::current();
    let mut slot = RUNTIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(r) = slot.as_ref() {
        if r.pid == pid {
            return Ok(Arc::clone(&r.rt));
        }
    }
    if let Some(stale) = slot.take() {
        // Inherited through fork(): its threads do not exist here, so dropping it could
        // block forever. Leak it.
        std::mem::forget(stale);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("cryptocache")
        .build()
        .map_err(|e| Error::Config(format!("cannot start the I/O runtime: {e}")))?;
    let rt = Arc::new(rt);
    *slot = Some(Runtime { pid, rt: Arc::clone(&rt) });
    Ok(rt)
}

/// Text of a panic payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Runs `f`, turning a panic into `cryptocache.Error` (never `PanicException`).
fn guarded<T>(py: Python<'_>, f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => Err(internal_error(py, &panic_message(payload.as_ref()))),
    }
}

fn internal_error(py: Python<'_>, message: &str) -> PyErr {
    exception(
        py,
        "Error",
        &format!("internal error in cryptocache (please report it): {message}"),
        |_| Ok(()),
    )
}

/// Builds an instance of `cryptocache.exceptions.<class>` with `message`, then lets
/// `fill` set attributes on it.
fn exception(
    py: Python<'_>,
    class: &str,
    message: &str,
    fill: impl FnOnce(&Bound<'_, PyAny>) -> PyResult<()>,
) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let cls = py.import("cryptocache.exceptions")?.getattr(class)?;
        let instance = cls.call1((message,))?;
        fill(&instance)?;
        Ok(PyErr::from_value(instance))
    };
    match build() {
        Ok(err) => err,
        Err(err) => err,
    }
}

/// Maps a core error to its Python exception, chosen by [`Error::code`].
fn to_py(py: Python<'_>, error: &Error) -> PyErr {
    let class = match error.code() {
        "INVALID_QUERY" => "InvalidQuery",
        "UNKNOWN_SYMBOL" => "UnknownSymbol",
        "UNSUPPORTED" => "Unsupported",
        "RATE_LIMITED" => "RateLimited",
        "EXCHANGE_ERROR" => "ExchangeError",
        "NETWORK_ERROR" => "NetworkError",
        "MALFORMED_RESPONSE" => "MalformedResponse",
        "CACHE_ERROR" => "CacheError",
        "CONFIG_ERROR" => "ConfigError",
        "OUT_OF_RETENTION" => "OutOfRetention",
        "NOT_ARCHIVED" => "NotArchived",
        _ => "Error",
    };
    exception(py, class, &error.to_string(), |e| {
        e.setattr("code", error.code())?;
        match error {
            Error::UnknownSymbol { exchange, symbol } => {
                e.setattr("exchange", exchange)?;
                e.setattr("symbol", symbol)?;
            }
            Error::RateLimited { exchange, retry_after, .. } => {
                e.setattr("exchange", exchange)?;
                e.setattr("retry_after", retry_after.map(|d| d.as_secs_f64()))?;
            }
            Error::OutOfRetention { exchange, symbol, earliest, .. } => {
                e.setattr("exchange", exchange)?;
                e.setattr("symbol", symbol)?;
                e.setattr("earliest", *earliest)?;
            }
            Error::NotArchived { exchange, symbol, start, end, available_from, .. } => {
                e.setattr("exchange", exchange)?;
                e.setattr("symbol", symbol)?;
                e.setattr("start", *start)?;
                e.setattr("end", *end)?;
                e.setattr("available_from", *available_from)?;
            }
            Error::Exchange { exchange, code, status, .. } => {
                e.setattr("exchange", exchange)?;
                e.setattr("exchange_code", *code)?;
                e.setattr("status", *status)?;
            }
            Error::Network { exchange, .. } | Error::MalformedResponse { exchange, .. } => {
                e.setattr("exchange", exchange)?;
            }
            _ => {}
        }
        Ok(())
    })
}

/// Runs a core future on the runtime with the GIL released, catching panics.
///
/// `make` builds the future on the detached thread, so the future itself need not be `Send`.
/// Pending signals are checked every 100 ms, so Ctrl-C interrupts a long call (the
/// core future is dropped, which cancels it) with `KeyboardInterrupt`.
fn run<T, M, F>(py: Python<'_>, make: M) -> PyResult<T>
where
    T: Send,
    M: FnOnce() -> F + Send,
    F: Future<Output = cryptocache::Result<T>>,
{
    let rt = runtime().map_err(|e| to_py(py, &e))?;
    let outcome = py.detach(move || catch_unwind(AssertUnwindSafe(|| rt.block_on(interruptible(make())))));
    match outcome {
        Ok(Ok(Ok(value))) => Ok(value),
        Ok(Ok(Err(error))) => Err(to_py(py, &error)),
        Ok(Err(signal)) => Err(signal),
        Err(payload) => Err(internal_error(py, &panic_message(payload.as_ref()))),
    }
}

/// `future`, or the error of a Python signal handler (e.g. `KeyboardInterrupt`) raised
/// while it runs.
async fn interruptible<T>(
    future: impl Future<Output = cryptocache::Result<T>>,
) -> Result<cryptocache::Result<T>, PyErr> {
    let mut future = std::pin::pin!(future);
    // The first check comes after 100 ms: a call served from memory never touches the
    // timer (a timer costs ~1 ms of resolution).
    let period = std::time::Duration::from_millis(100);
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            result = &mut future => return Ok(result),
            _ = ticks.tick() => Python::attach(|py| py.check_signals())?,
        }
    }
}

fn parse<T: std::str::FromStr<Err = Error>>(py: Python<'_>, text: &str) -> PyResult<T> {
    text.parse().map_err(|e| to_py(py, &e))
}

fn parse_market(py: Python<'_>, market: Option<&str>) -> PyResult<Option<Market>> {
    market.map(|m| parse(py, m)).transpose()
}

/// Parses a time given as text (`1704067200000`, `2024-01-01`, `2024-01-01T12:30:00Z`,
/// offsets allowed) into milliseconds since the epoch; raises `InvalidQuery`.
#[pyfunction]
fn parse_time(py: Python<'_>, text: &str) -> PyResult<i64> {
    guarded(py, || core_parse_time(text).map_err(|e| to_py(py, &e)))
}

/// The cache (memory, disk, Redis tiers in front of the exchanges). Wrapped by
/// `cryptocache.Cache`, which documents the API.
#[pyclass(module = "cryptocache._native", frozen)]
struct NativeCache {
    cache: RwLock<Option<Cache>>,
    pid: u32,
}

impl NativeCache {
    /// The cache, if open and usable in this process.
    fn get(&self, py: Python<'_>) -> PyResult<Cache> {
        if pid::current() != self.pid {
            return Err(exception(
                py,
                "Error",
                "this Cache was created before os.fork(): its connections belong to the parent \
                 process. Create a new cryptocache.Cache in the child (e.g. in the worker initializer), \
                 or use the 'spawn' or 'forkserver' start method",
                |_| Ok(()),
            ));
        }
        let guard = self.cache.read().unwrap_or_else(|p| p.into_inner());
        guard
            .clone()
            .ok_or_else(|| exception(py, "Error", "this Cache is closed", |e| e.setattr("code", "CLOSED")))
    }
}

impl Drop for NativeCache {
    fn drop(&mut self) {
        let cache = self.cache.get_mut().unwrap_or_else(|p| p.into_inner()).take();
        drop_cache(cache, self.pid);
    }
}

/// Drops a cache inside its runtime (its connections may need the reactor); a cache
/// inherited through fork() is leaked instead: its resources belong to the parent.
fn drop_cache(cache: Option<Cache>, pid: u32) {
    let Some(cache) = cache else { return };
    if pid::current() != pid {
        std::mem::forget(cache);
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(move || match runtime() {
        Ok(rt) => {
            let _entered = rt.enter();
            drop(cache);
        }
        Err(_) => std::mem::forget(cache),
    }));
}

/// What `warm` returns: records cached and `(index, exception)` per failed item.
type WarmOutcome = (usize, Vec<(usize, Py<PyAny>)>);

/// One warm item as passed by the Python front: exchange, symbol, dataset, start, end, market.
type WarmTuple = (String, String, String, i64, i64, Option<String>);

#[pymethods]
impl NativeCache {
    /// Builds a cache from the options (see `cryptocache.Cache`).
    #[new]
    #[allow(clippy::too_many_arguments)] // mirrors the Python signature
    #[pyo3(signature = (memory_mb=None, disk_path=None, no_disk=false, redis_url=None, exchange_url=None, exchange_urls=Vec::new(), source=None, settings=Vec::new(), relay_url=None, api_key=None, archives=None))]
    fn new(
        py: Python<'_>,
        memory_mb: Option<u64>,
        disk_path: Option<String>,
        no_disk: bool,
        redis_url: Option<String>,
        exchange_url: Option<String>,
        exchange_urls: Vec<(String, String)>,
        source: Option<String>,
        settings: Vec<(String, f64)>,
        relay_url: Option<String>,
        api_key: Option<String>,
        archives: Option<String>,
    ) -> PyResult<Self> {
        guarded(py, || {
            let mut options = CacheOptions::default();
            options.memory_mb = memory_mb;
            options.disk_path = disk_path.map(Into::into);
            options.no_disk = no_disk;
            options.redis_url = redis_url;
            options.exchange_url = exchange_url;
            options.exchange_urls = exchange_urls;
            options.source = source;
            options.relay_url = relay_url;
            options.api_key = api_key;
            options.archives = archives;
            for (name, value) in &settings {
                options.set(name, *value).map_err(|e| to_py(py, &e))?;
            }
            let cache = run(py, move || async move { options.builder()?.build().await })?;
            Ok(NativeCache { cache: RwLock::new(Some(cache)), pid: pid::current() })
        })
    }

    /// Drops `[start, end)` (ms; `None` = the whole series) of a series from every tier
    /// and every process's memory on the same Redis; refetches it with `refresh`.
    /// Returns `(series, segments, refetched rows or None)`.
    #[pyo3(signature = (exchange, symbol, what, start=None, end=None, market=None, refresh=false))]
    #[allow(clippy::too_many_arguments)] // mirrors the Python signature
    fn invalidate(
        &self,
        py: Python<'_>,
        exchange: &str,
        symbol: String,
        what: &str,
        start: Option<i64>,
        end: Option<i64>,
        market: Option<&str>,
        refresh: bool,
    ) -> PyResult<(String, usize, Option<usize>)> {
        guarded(py, || {
            let invalidation = Invalidation {
                exchange: parse(py, exchange)?,
                market: parse_market(py, market)?,
                symbol,
                dataset: parse::<Dataset>(py, what)?,
                start,
                end,
                refresh,
            };
            let cache = self.get(py)?;
            let report = run(py, move || async move { cache.invalidate(&invalidation).await })?;
            Ok((report.series, report.segments, report.refetched_rows))
        })
    }

    /// Candles of one series in `[start, end)` (ms).
    #[pyo3(signature = (exchange, symbol, interval, start, end, market=None))]
    #[allow(clippy::too_many_arguments)] // mirrors the Python signature
    fn klines(
        &self,
        py: Python<'_>,
        exchange: &str,
        symbol: String,
        interval: &str,
        start: i64,
        end: i64,
        market: Option<&str>,
    ) -> PyResult<NativeTable> {
        guarded(py, || {
            let exchange: Exchange = parse(py, exchange)?;
            let interval: Interval = parse(py, interval)?;
            let query = KlineQuery {
                market: parse_market(py, market)?,
                ..KlineQuery::new(exchange, symbol, interval, start, end)
            };
            let cache = self.get(py)?;
            // A memory hit is answered here, with the GIL held: no thread, no runtime
            // call (inside the runtime's context, so a sequential read can prefetch).
            let rt = runtime().map_err(|e| to_py(py, &e))?;
            let hit = {
                let _context = rt.enter();
                cache.klines_in_memory(&query)
            };
            let candles = match hit {
                Some(candles) => candles,
                None => run(py, move || async move { cache.klines(&query).await })?,
            };
            Ok(NativeTable { data: Data::Candles(candles) })
        })
    }

    /// Public trades in `[start, end)` (ms).
    #[pyo3(signature = (exchange, symbol, start, end, market=None))]
    fn trades(
        &self,
        py: Python<'_>,
        exchange: &str,
        symbol: String,
        start: i64,
        end: i64,
        market: Option<&str>,
    ) -> PyResult<NativeTable> {
        guarded(py, || {
            let query = range_query(py, exchange, symbol, start, end, market)?;
            let cache = self.get(py)?;
            let trades = run(py, move || async move { cache.trades(&query).await })?;
            Ok(NativeTable { data: Data::Trades(trades) })
        })
    }

    /// Funding events in `[start, end)` (ms).
    #[pyo3(signature = (exchange, symbol, start, end, market=None))]
    fn funding_rates(
        &self,
        py: Python<'_>,
        exchange: &str,
        symbol: String,
        start: i64,
        end: i64,
        market: Option<&str>,
    ) -> PyResult<NativeTable> {
        guarded(py, || {
            let query = range_query(py, exchange, symbol, start, end, market)?;
            let cache = self.get(py)?;
            let rates = run(py, move || async move { cache.funding_rates(&query).await })?;
            Ok(NativeTable { data: Data::Funding(rates) })
        })
    }

    /// The order book now: `(time, update_id, bids, asks)`, sides as `(price, quantity)` lists.
    #[pyo3(signature = (exchange, symbol, depth=100, market=None))]
    #[allow(clippy::type_complexity)]
    fn order_book(
        &self,
        py: Python<'_>,
        exchange: &str,
        symbol: String,
        depth: usize,
        market: Option<&str>,
    ) -> PyResult<(i64, Option<i64>, Vec<(f64, f64)>, Vec<(f64, f64)>)> {
        guarded(py, || {
            let exchange: Exchange = parse(py, exchange)?;
            let mut query = OrderBookQuery::new(exchange, symbol, depth);
            query.market = parse_market(py, market)?;
            let cache = self.get(py)?;
            let book = run(py, move || async move { cache.order_book(&query).await })?;
            let side = |levels: &[cryptocache::Level]| levels.iter().map(|l| (l.price, l.quantity)).collect();
            Ok((book.time, book.update_id, side(&book.bids), side(&book.asks)))
        })
    }

    /// Warms the tiers for `items`; returns `(records, [(index, exception), ...])`.
    #[pyo3(signature = (items, concurrency=4, progress=None))]
    fn warm(
        &self,
        py: Python<'_>,
        items: Vec<WarmTuple>,
        concurrency: usize,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<WarmOutcome> {
        guarded(py, || {
            let mut parsed = Vec::with_capacity(items.len());
            for (exchange, symbol, dataset, start, end, market) in items {
                parsed.push(WarmItem {
                    exchange: parse(py, &exchange)?,
                    market: parse_market(py, market.as_deref())?,
                    symbol,
                    dataset: parse::<Dataset>(py, &dataset)?,
                    start,
                    end,
                });
            }
            let cache = self.get(py)?;
            let callback_error: Arc<Mutex<Option<PyErr>>> = Arc::default();
            let seen = Arc::clone(&callback_error);
            let report = run(py, move || async move {
                let notify = move |p: WarmProgress| {
                    let Some(cb) = &progress else { return };
                    Python::attach(|py| {
                        if let Err(e) = cb.call1(py, (p.done, p.total)) {
                            let mut slot = seen.lock().unwrap_or_else(|x| x.into_inner());
                            slot.get_or_insert(e);
                        }
                    });
                };
                Ok(cache.warm(&parsed, concurrency, &notify).await)
            })?;
            if let Some(e) = callback_error.lock().unwrap_or_else(|x| x.into_inner()).take() {
                return Err(e);
            }
            let failures =
                report.failures.iter().map(|(i, e)| (*i, to_py(py, e).into_value(py).into_any())).collect();
            Ok((report.records, failures))
        })
    }

    /// Counters since the cache was built, as JSON text.
    fn stats_json(&self, py: Python<'_>) -> PyResult<String> {
        guarded(py, || {
            let stats = self.get(py)?.stats();
            serde_json::to_string(&stats).map_err(|e| PyRuntimeError::new_err(e.to_string()))
        })
    }

    /// Counters since the cache was built, in Prometheus text format.
    fn stats_prometheus(&self, py: Python<'_>) -> PyResult<String> {
        guarded(py, || Ok(self.get(py)?.stats_prometheus()))
    }

    /// The disk tier's directory, if any.
    fn disk_dir(&self, py: Python<'_>) -> PyResult<Option<String>> {
        guarded(py, || Ok(self.get(py)?.disk_dir().map(|p| p.to_string_lossy().into_owned())))
    }

    /// Whether `close()` was called.
    fn closed(&self) -> bool {
        self.cache.read().unwrap_or_else(|p| p.into_inner()).is_none()
    }

    /// Releases the cache (connections, memory tier). Idempotent; queries then fail.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        guarded(py, || {
            let cache = self.cache.write().unwrap_or_else(|p| p.into_inner()).take();
            let pid = self.pid;
            py.detach(move || drop_cache(cache, pid));
            Ok(())
        })
    }
}

fn range_query(
    py: Python<'_>,
    exchange: &str,
    symbol: String,
    start: i64,
    end: i64,
    market: Option<&str>,
) -> PyResult<RangeQuery> {
    let exchange: Exchange = parse(py, exchange)?;
    Ok(RangeQuery { market: parse_market(py, market)?, ..RangeQuery::new(exchange, symbol, start, end) })
}

/// A query result of any kind.
enum Data {
    Candles(Candles),
    Trades(Trades),
    Funding(FundingRates),
}

/// Columnar result (candles, trades or funding rates), kept in the core's shared
/// columns. Wrapped by `cryptocache.Candles`, `Trades` and `FundingRates`.
#[pyclass(module = "cryptocache._native", frozen)]
struct NativeTable {
    data: Data,
}

/// A new, writeable `bytearray` holding `columns` one after the other, `rows` values
/// each, native endian: one allocation and one copy per column. Unlike
/// `PyByteArray::new_with`, the memory is not zeroed first.
// Writing a new `bytearray` in place, as CPython's own constructors do.
#[allow(unsafe_code)]
fn float_block<'py>(py: Python<'py>, rows: usize, columns: &[&[f64]]) -> PyResult<Bound<'py, PyByteArray>> {
    if columns.iter().any(|c| c.len() != rows) {
        return Err(internal_error(py, "columns of unequal length"));
    }
    let len = columns.len() * rows * 8;
    let size = pyo3::ffi::Py_ssize_t::try_from(len)
        .map_err(|_| PyErr::new::<pyo3::exceptions::PyMemoryError, _>("result too large"))?;
    // SAFETY: a NULL source asks CPython for an uninitialised `bytearray` of `size` bytes;
    // the GIL is held (`py`); a NULL result is turned into the pending Python error.
    let block = unsafe {
        Bound::from_owned_ptr_or_err(py, pyo3::ffi::PyByteArray_FromStringAndSize(std::ptr::null(), size))
    }?;
    // SAFETY: `block` was just created, so nothing else sees it yet; its buffer holds
    // `len` bytes, which the loop below writes exactly once each (every column is `rows`
    // 8-byte values, checked above), copying from memory that does not overlap it.
    unsafe {
        // Bytes, not `f64`s: an empty `bytearray`'s buffer need not be 8-byte aligned.
        let out = pyo3::ffi::PyByteArray_AsString(block.as_ptr()).cast::<u8>();
        for (i, column) in columns.iter().enumerate() {
            std::ptr::copy_nonoverlapping(column.as_ptr().cast::<u8>(), out.add(i * rows * 8), rows * 8);
        }
    }
    Ok(block.cast_into::<PyByteArray>()?)
}

#[pymethods]
impl NativeTable {
    /// Number of rows.
    fn __len__(&self) -> usize {
        match &self.data {
            Data::Candles(c) => c.len(),
            Data::Trades(t) => t.len(),
            Data::Funding(f) => f.len(),
        }
    }

    /// Every column, in order, as a dict of name to a read-only numpy array over the
    /// result's shared columns (no copy; see `views`).
    fn columns<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyDict>> {
        let py = slf.py();
        guarded(py, || {
            let owner = slf.as_any();
            let out = PyDict::new(py);
            match &slf.get().data {
                Data::Candles(c) => {
                    out.set_item(intern!(py, "open_time"), views::view(owner, c.open_time())?)?;
                    for (name, values) in [
                        (intern!(py, "open"), c.open()),
                        (intern!(py, "high"), c.high()),
                        (intern!(py, "low"), c.low()),
                        (intern!(py, "close"), c.close()),
                        (intern!(py, "volume"), c.volume()),
                        (intern!(py, "quote_volume"), c.quote_volume()),
                    ] {
                        out.set_item(name, views::view(owner, values)?)?;
                    }
                    if let Some(trades) = c.trades() {
                        out.set_item(intern!(py, "trades"), views::view(owner, trades)?)?;
                    }
                }
                Data::Trades(t) => {
                    out.set_item(intern!(py, "time"), views::view(owner, t.time())?)?;
                    out.set_item(intern!(py, "id"), views::view(owner, t.id())?)?;
                    out.set_item(intern!(py, "price"), views::view(owner, t.price())?)?;
                    out.set_item(intern!(py, "quantity"), views::view(owner, t.quantity())?)?;
                    out.set_item(intern!(py, "side"), views::side_view(owner, t.side())?)?;
                }
                Data::Funding(f) => {
                    out.set_item(intern!(py, "time"), views::view(owner, f.time())?)?;
                    out.set_item(intern!(py, "rate"), views::view(owner, f.rate())?)?;
                }
            }
            Ok(out)
        })
    }

    /// Candles only: a new, writeable buffer holding the open, high, low, close, volume
    /// and quote volume columns (float64) one after the other, `len` values each: one copy,
    /// which `to_pandas` hands to pandas as one 2-D block.
    fn price_block<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyByteArray>>> {
        guarded(py, || {
            let Data::Candles(c) = &self.data else { return Ok(None) };
            let columns = [c.open(), c.high(), c.low(), c.close(), c.volume(), c.quote_volume()];
            float_block(py, c.len(), &columns).map(Some)
        })
    }

    /// The Arrow PyCapsule stream interface: one record batch whose buffers point into
    /// the cache's shared columns (no copy). `requested_schema` is ignored (allowed).
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        guarded(py, || {
            fn col<T>(name: &'static str, format: &'static str, values: &[T]) -> arrow::Column {
                arrow::Column { name, format, data: values.as_ptr().cast() }
            }
            let batch = match &self.data {
                Data::Candles(c) => {
                    let mut columns = vec![
                        col("open_time", "tsm:UTC", c.open_time()),
                        col("open", "g", c.open()),
                        col("high", "g", c.high()),
                        col("low", "g", c.low()),
                        col("close", "g", c.close()),
                        col("volume", "g", c.volume()),
                        col("quote_volume", "g", c.quote_volume()),
                    ];
                    if let Some(trades) = c.trades() {
                        columns.push(col("trades", "L", trades));
                    }
                    arrow::Batch { len: c.len(), columns, owner: Arc::new(c.clone()) }
                }
                Data::Trades(t) => arrow::Batch {
                    len: t.len(),
                    columns: vec![
                        col("time", "tsm:UTC", t.time()),
                        col("id", "l", t.id()),
                        col("price", "g", t.price()),
                        col("quantity", "g", t.quantity()),
                        // `Side` is `#[repr(i8)]`: the slice is an int8 column.
                        col("side", "c", t.side()),
                    ],
                    owner: Arc::new(t.clone()),
                },
                Data::Funding(f) => arrow::Batch {
                    len: f.len(),
                    columns: vec![col("time", "tsm:UTC", f.time()), col("rate", "g", f.rate())],
                    owner: Arc::new(f.clone()),
                },
            };
            arrow::stream_capsule(py, batch)
        })
    }

    /// Whether some rows were served from an open segment past its expiry
    /// (stale-while-revalidate) while a background refresh replaces it.
    fn stale(&self) -> bool {
        match &self.data {
            Data::Candles(c) => c.is_stale(),
            Data::Trades(t) => t.is_stale(),
            Data::Funding(f) => f.is_stale(),
        }
    }

    /// Candles only: whether the last candle is still open (its values will change).
    fn last_is_open(&self) -> bool {
        matches!(&self.data, Data::Candles(c) if c.last_is_open())
    }

    /// Candles only: `[(start, end), ...]` ranges (ms) where the exchange has no candle.
    fn gaps(&self) -> Vec<(i64, i64)> {
        match &self.data {
            Data::Candles(c) => c.gaps().into_iter().map(|g| (g.start, g.end)).collect(),
            _ => Vec::new(),
        }
    }

    /// Candles only: the interval, e.g. `1m`.
    fn interval(&self) -> Option<String> {
        match &self.data {
            Data::Candles(c) => Some(c.interval().to_string()),
            _ => None,
        }
    }
}

/// The native half of the `cryptocache` package.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    pid::track_forks();
    m.add_class::<NativeCache>()?;
    m.add_class::<NativeTable>()?;
    m.add_function(wrap_pyfunction!(parse_time, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
