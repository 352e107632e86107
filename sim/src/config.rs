//! Rate-limit settings of the Bybit, OKX and Deribit simulators (fields of
//! [`SimConfig`](crate::SimConfig)); the defaults are the documented limits.
//! Like Binance's windows, every window and pool runs on the **real** wall
//! clock, not the simulated "now".

use std::time::Duration;

/// Bybit's IP limit: `requests` per `window` across every `/v5/` path; over
/// it, HTTP 403 with the text body `access too frequent` until the window ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BybitLimits {
    /// Requests allowed per window (default 600).
    pub requests: u32,
    /// Window length (default 5 s), aligned to multiples of it.
    pub window: Duration,
    /// Send `X-Bapi-Limit`, `X-Bapi-Limit-Status` (requests left) and
    /// `X-Bapi-Limit-Reset-Timestamp` (window end, ms) on every reply
    /// (default false: Bybit documents them for per-UID limits only).
    pub limit_headers: bool,
}

impl Default for BybitLimits {
    fn default() -> BybitLimits {
        BybitLimits { requests: 600, window: Duration::from_secs(5), limit_headers: false }
    }
}

/// OKX's per-endpoint IP limits: requests per `window`; over them, HTTP 429
/// with code `50011`. Each endpoint has its own budget (the funding history
/// one per instrument, as OKX counts it by IP + instId).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OkxLimits {
    /// Window length (default 2 s), aligned to multiples of it.
    pub window: Duration,
    /// `market/candles` (default 40).
    pub candles: u32,
    /// `market/history-candles` (default 20).
    pub history_candles: u32,
    /// `market/trades` (default 100).
    pub trades: u32,
    /// `market/history-trades` (default 20).
    pub history_trades: u32,
    /// `public/funding-rate-history`, per instrument (default 10).
    pub funding_history: u32,
    /// `market/books` (default 40).
    pub books: u32,
    /// `public/instruments` (default 20).
    pub instruments: u32,
    /// `public/market-data-history`, the historical data index (default 5).
    pub market_data_history: u32,
}

impl Default for OkxLimits {
    fn default() -> OkxLimits {
        OkxLimits {
            window: Duration::from_secs(2),
            candles: 40,
            history_candles: 20,
            trades: 100,
            history_trades: 20,
            funding_history: 10,
            books: 40,
            instruments: 20,
            market_data_history: 5,
        }
    }
}

/// Deribit's credit model: every call but `get_instruments` costs
/// `call_cost` credits from a pool of `pool` that refills at
/// `refill_per_sec`; a call the pool cannot pay gets error 10028
/// `too_many_requests` (HTTP 429). `get_instruments` has its own limit:
/// a burst of `instruments_burst` calls, then one per `instruments_every`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeribitLimits {
    /// Pool size, credits (default 50,000).
    pub pool: u32,
    /// Credits restored per second (default 10,000).
    pub refill_per_sec: u32,
    /// Cost of one call, credits (default 500).
    pub call_cost: u32,
    /// `get_instruments` calls allowed at once (default 5).
    pub instruments_burst: u32,
    /// One more `get_instruments` call is allowed per this much time
    /// (default 10 s; whole seconds, at least 1).
    pub instruments_every: Duration,
}

impl Default for DeribitLimits {
    fn default() -> DeribitLimits {
        DeribitLimits {
            pool: 50_000,
            refill_per_sec: 10_000,
            call_cost: 500,
            instruments_burst: 5,
            instruments_every: Duration::from_secs(10),
        }
    }
}
