//! Exchange adapters: each knows its venue's symbols, interval codes, pagination,
//! ordering, bounds, error bodies and rate limits, and turns a segment span into
//! ascending, de-duplicated candles.

use std::fmt::Debug;

use futures_util::future::BoxFuture;

use crate::candles::Candle;
use crate::error::Result;
use crate::model::{Exchange, Interval, Market, SeriesKey, TimeRange};

pub mod binance;
mod http;
mod limiter;
mod request;
mod retry;
mod wire;

pub(crate) use http::HttpClient;
pub use http::HttpConfig;
pub(crate) use request::Requester;
pub use retry::RetryPolicy;

/// An exchange's historical market-data API.
pub trait Upstream: Send + Sync + Debug {
    /// Which exchange this is.
    fn exchange(&self) -> Exchange;

    /// Checks that this exchange serves `symbol` at `interval` and returns the market
    /// (given, or read from the symbol where its spelling names it; a contradiction is
    /// an error) and the symbol in the exchange's own spelling (e.g. upper case).
    fn validate(&self, market: Option<Market>, symbol: &str, interval: Interval) -> Result<(Market, String)>;

    /// The candles with open time in `span` (the open candle included when the span
    /// reaches now). The engine sorts, de-duplicates and slots them.
    fn fetch_klines<'a>(
        &'a self,
        series: &'a SeriesKey,
        span: TimeRange,
    ) -> BoxFuture<'a, Result<Vec<Candle>>>;

    /// Open time of the series' first candle (its listing), `None` if it has none.
    fn first_open_time<'a>(&'a self, series: &'a SeriesKey) -> BoxFuture<'a, Result<Option<i64>>>;
}

/// Symbols become path components and URL parameters: allow only what exchanges use.
pub(crate) fn check_symbol_chars(symbol: &str) -> Result<()> {
    let ok = !symbol.is_empty()
        && symbol.len() <= 64
        && !symbol.starts_with('.')
        && symbol.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(crate::Error::invalid(format!(
            "symbol {symbol:?} is not valid: use the exchange's own spelling, e.g. BTCUSDT (letters, digits, '-', '_', '.')"
        )))
    }
}
