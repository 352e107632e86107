//! cryptocache for WebAssembly: the one core (its read path, memory tier, single flight,
//! policy, exchange adapters and relay client) behind wasm-bindgen. This crate only
//! converts: options go through the core's `CacheOptions`, times through
//! `time::parse_time`, error codes come from `Error::code()`. The JavaScript front
//! (`js/index.mjs`) gives it the Node addon's shape.

use std::sync::Arc;

use cryptocache::options::CacheOptions;
use cryptocache::{Cache, Error, KlineQuery, RangeQuery};
use js_sys::{Float64Array, Object, Reflect};
use wasm_bindgen::prelude::*;

/// A JavaScript `Error` with the core's stable `code` (`INVALID_QUERY`, `RATE_LIMITED`, ...).
fn js_error(e: &Error) -> JsValue {
    coded(e.code(), &e.to_string())
}

fn coded(code: &str, message: &str) -> JsValue {
    let error = js_sys::Error::new(message);
    let _ = Reflect::set(&error, &"code".into(), &code.into());
    let _ = Reflect::set(&error, &"name".into(), &"CryptocacheError".into());
    error.into()
}

/// A property of an options or query object, if present (not `undefined`/`null`).
fn field(object: &JsValue, name: &str) -> Option<JsValue> {
    Reflect::get(object, &name.into()).ok().filter(|v| !v.is_undefined() && !v.is_null())
}

fn text(object: &JsValue, name: &str) -> Result<Option<String>, JsValue> {
    match field(object, name) {
        None => Ok(None),
        Some(v) => {
            v.as_string().map(Some).ok_or_else(|| coded("INVALID_QUERY", &format!("{name} must be a string")))
        }
    }
}

fn required(object: &JsValue, name: &str) -> Result<String, JsValue> {
    text(object, name)?.ok_or_else(|| coded("INVALID_QUERY", &format!("{name} is required")))
}

/// A time: ms since 1970 (a number) or an ISO 8601 / `YYYY-MM-DD` string.
fn time(object: &JsValue, name: &str) -> Result<i64, JsValue> {
    let value = field(object, name).ok_or_else(|| coded("INVALID_QUERY", &format!("{name} is required")))?;
    if let Some(ms) = value.as_f64() {
        if ms.fract() == 0.0 && ms.abs() < 9.0e15 {
            return Ok(ms as i64);
        }
        return Err(coded("INVALID_QUERY", &format!("{name} must be whole milliseconds, not {ms}")));
    }
    let text =
        value.as_string().ok_or_else(|| coded("INVALID_QUERY", &format!("{name} must be ms or a date")))?;
    cryptocache::time::parse_time(&text).map_err(|e| js_error(&e))
}

/// The core's options from `{ relayUrl, apiKey, exchangeUrl, memoryMb, source }` (no disk
/// or Redis here).
fn options(o: &JsValue) -> Result<CacheOptions, JsValue> {
    let mut options = CacheOptions::default();
    options.no_disk = true;
    options.relay_url = text(o, "relayUrl")?;
    options.api_key = text(o, "apiKey")?;
    options.exchange_url = text(o, "exchangeUrl")?;
    options.source = text(o, "source")?;
    if let Some(mb) = field(o, "memoryMb") {
        let mb = mb.as_f64().filter(|mb| *mb >= 0.0 && mb.fract() == 0.0).ok_or_else(|| {
            coded("CONFIG_ERROR", "configuration error: memoryMb must be a whole number >= 0")
        })?;
        options.memory_mb = Some(mb as u64);
    }
    if field(o, "prefetch").is_none() {
        // Reads run on the page's one thread: no background prefetch unless asked for.
        options.set("prefetch", 0.0).map_err(|e| js_error(&e))?;
    }
    for (js, name) in
        [("maxWaitSecs", "max_wait_secs"), ("maxRetries", "max_retries"), ("prefetch", "prefetch")]
    {
        if let Some(v) = field(o, js).and_then(|v| v.as_f64()) {
            options.set(name, v).map_err(|e| js_error(&e))?;
        }
    }
    Ok(options)
}

/// A cache in this WebAssembly instance (built with [`open`]).
#[wasm_bindgen]
pub struct NativeCache {
    cache: Arc<Cache>,
}

/// The Cache Storage name of `persistent` (`true`: `cryptocache`; a string: that name).
fn storage_name(o: &JsValue) -> Result<Option<String>, JsValue> {
    match field(o, "persistent") {
        None => Ok(None),
        Some(v) if v.as_bool() == Some(false) => Ok(None),
        Some(v) if v.as_bool() == Some(true) => Ok(Some("cryptocache".into())),
        Some(v) => v.as_string().filter(|s| !s.is_empty()).map(Some).ok_or_else(|| {
            coded("CONFIG_ERROR", "configuration error: persistent must be true, false or a cache name")
        }),
    }
}

/// Builds a cache from the options (asking the relay for its source namespaces when
/// `relayUrl` is set).
#[wasm_bindgen]
pub async fn open(options_object: JsValue) -> Result<NativeCache, JsValue> {
    let options = options(&options_object)?;
    let storage = storage_name(&options_object)?;
    #[allow(unused_mut)] // the storage tier exists only in the wasm build
    let mut builder = options.builder().map_err(|e| js_error(&e))?;
    #[cfg(target_arch = "wasm32")]
    if let Some(name) = storage {
        builder = builder.browser_storage(name);
    }
    #[cfg(not(target_arch = "wasm32"))]
    if storage.is_some() {
        return Err(coded("UNSUPPORTED", "unsupported: a persistent tier needs the WebAssembly build"));
    }
    let cache = builder.build().await.map_err(|e| js_error(&e))?;
    Ok(NativeCache { cache: Arc::new(cache) })
}

/// `{name: Float64Array}` columns plus the given flags, as a plain object.
fn columns(pairs: &[(&str, &[f64])], flags: &[(&str, JsValue)]) -> JsValue {
    let out = Object::new();
    for (name, values) in pairs {
        let _ = Reflect::set(&out, &(*name).into(), &Float64Array::from(*values).into());
    }
    for (name, value) in flags {
        let _ = Reflect::set(&out, &(*name).into(), value);
    }
    out.into()
}

fn as_f64(values: &[i64]) -> Vec<f64> {
    values.iter().map(|&v| v as f64).collect()
}

fn market(q: &JsValue) -> Result<Option<cryptocache::Market>, JsValue> {
    text(q, "market")?.map(|m| m.parse().map_err(|e| js_error(&e))).transpose()
}

fn range_query(q: &JsValue) -> Result<RangeQuery, JsValue> {
    let exchange = required(q, "exchange")?.parse().map_err(|e| js_error(&e))?;
    let query = RangeQuery::new(exchange, required(q, "symbol")?, time(q, "start")?, time(q, "end")?);
    Ok(RangeQuery { market: market(q)?, ..query })
}

#[wasm_bindgen]
impl NativeCache {
    /// Candles `{ exchange, symbol, interval, start, end, market }` → columns
    /// (`openTime`, `open`, `high`, `low`, `close`, `volume`, `quoteVolume`, `trades`)
    /// and `lastIsOpen`, `stale`, `final`.
    pub async fn klines(&self, q: JsValue) -> Result<JsValue, JsValue> {
        let exchange = required(&q, "exchange")?.parse().map_err(|e| js_error(&e))?;
        let interval = required(&q, "interval")?.parse().map_err(|e| js_error(&e))?;
        let query = KlineQuery {
            market: market(&q)?,
            ..KlineQuery::new(
                exchange,
                required(&q, "symbol")?,
                interval,
                time(&q, "start")?,
                time(&q, "end")?,
            )
        };
        let c = self.cache.klines(&query).await.map_err(|e| js_error(&e))?;
        let trades: Vec<f64> = c.trades().map(|t| t.iter().map(|&n| n as f64).collect()).unwrap_or_default();
        let open_time = as_f64(c.open_time());
        let mut pairs: Vec<(&str, &[f64])> = vec![
            ("openTime", &open_time),
            ("open", c.open()),
            ("high", c.high()),
            ("low", c.low()),
            ("close", c.close()),
            ("volume", c.volume()),
            ("quoteVolume", c.quote_volume()),
        ];
        if c.trades().is_some() {
            pairs.push(("trades", &trades));
        }
        Ok(columns(
            &pairs,
            &[
                ("lastIsOpen", c.last_is_open().into()),
                ("stale", c.is_stale().into()),
                ("final", c.is_final().into()),
                ("interval", c.interval().to_string().into()),
            ],
        ))
    }

    /// Public trades `{ exchange, symbol, start, end, market }` → columns (`time`, `id`,
    /// `price`, `quantity`) and `side` (an `Int8Array`: 1 = the taker bought, -1 = sold).
    pub async fn trades(&self, q: JsValue) -> Result<JsValue, JsValue> {
        let t = self.cache.trades(&range_query(&q)?).await.map_err(|e| js_error(&e))?;
        let sides: Vec<i8> = t.slice(|c| &c.side).iter().map(|&s| s as i8).collect();
        let (time, id) = (as_f64(t.slice(|c| &c.time)), as_f64(t.slice(|c| &c.id)));
        Ok(columns(
            &[
                ("time", &time),
                ("id", &id),
                ("price", t.slice(|c| &c.price)),
                ("quantity", t.slice(|c| &c.quantity)),
            ],
            &[("side", js_sys::Int8Array::from(&sides[..]).into()), ("stale", t.is_stale().into())],
        ))
    }

    /// Funding rates `{ exchange, symbol, start, end, market }` → columns `time`, `rate`.
    #[wasm_bindgen(js_name = fundingRates)]
    pub async fn funding_rates(&self, q: JsValue) -> Result<JsValue, JsValue> {
        let f = self.cache.funding_rates(&range_query(&q)?).await.map_err(|e| js_error(&e))?;
        let time = as_f64(f.slice(|c| &c.time));
        Ok(columns(&[("time", &time), ("rate", f.slice(|c| &c.rate))], &[("stale", f.is_stale().into())]))
    }

    /// Counters since the cache was built (the core's `Stats`, as JSON text).
    #[wasm_bindgen(js_name = statsJson)]
    pub fn stats_json(&self) -> Result<String, JsValue> {
        serde_json::to_string(&self.cache.stats()).map_err(|e| coded("CACHE_ERROR", &e.to_string()))
    }
}
