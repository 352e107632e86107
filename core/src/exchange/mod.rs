//! Exchange adapters: each knows its venue's symbols, interval codes, pagination,
//! ordering, bounds, error bodies and rate limits, and turns a segment span into
//! ascending, de-duplicated candles.

use std::fmt::Debug;

use futures_util::future::BoxFuture;

use crate::book::OrderBook;
use crate::candles::Candle;
use crate::error::Result;
use crate::funding::FundingRate;
use crate::model::{Exchange, Interval, Market, SeriesKey, TimeRange};
use crate::trades::Trade;

pub mod binance;
pub mod bybit;
pub mod deribit;
mod http;
mod limiter;
#[cfg(all(feature = "http", not(target_arch = "wasm32")))]
pub(crate) use limiter::WeightLimiter;
pub use limiter::{SharedBudget, Spend};
pub mod okx;
mod request;
pub(crate) mod retry;
mod wire;

pub use http::HttpConfig;
pub(crate) use http::{HttpClient, Reply};
pub(crate) use request::Requester;
/// For the archive downloads (native only).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) use request::{retry_after, retry_after_header, snippet};
pub use retry::RetryPolicy;

/// An exchange's historical market-data API.
pub trait Upstream: Send + Sync + Debug {
    /// Which exchange this is.
    fn exchange(&self) -> Exchange;

    /// Checks `symbol` (and `interval`, for klines) and returns the market (given, or
    /// read from the symbol where its spelling names it; a contradiction is an error) and
    /// the symbol in the exchange's own spelling (e.g. upper case).
    fn validate(
        &self,
        market: Option<Market>,
        symbol: &str,
        interval: Option<Interval>,
    ) -> Result<(Market, String)>;

    /// The candles with open time in `span` (the open candle included when the span
    /// reaches `now`). Any order; the engine sorts, de-duplicates and slots them.
    fn fetch_klines<'a>(
        &'a self,
        series: &'a SeriesKey,
        span: TimeRange,
        now: i64,
    ) -> BoxFuture<'a, Result<Vec<Candle>>>;

    /// The most candles one klines request returns for a span starting where `span`
    /// starts (the exchange's largest page there, as [`Upstream::fetch_klines`] asks for
    /// it): the engine fetches a short query's candles in pieces of this many slots, so
    /// it never makes more requests than a plain paging loop would.
    fn kline_page(&self, series: &SeriesKey, span: TimeRange, now: i64) -> usize;

    /// What the exchange's instruments list says of `symbol`: `None` if it does not
    /// exist (for `market`).
    fn instrument<'a>(&'a self, market: Market, symbol: &'a str)
        -> BoxFuture<'a, Result<Option<Instrument>>>;

    /// A time `t` such that the exchange itself answered that the series' symbol has no
    /// candle opening before `t` (`None`: it gave no such answer). Venues that can name
    /// their first candle (Binance, Bybit) answer with it whatever `hint` is; the others
    /// are asked whether anything opens before `hint` (a published listing time, which
    /// may be wrong) and answer `Some(hint)` only if the exchange says nothing does.
    /// Segments ending by `t` are then known-empty on the exchange's word.
    fn empty_before<'a>(
        &'a self,
        series: &'a SeriesKey,
        hint: Option<i64>,
        now: i64,
    ) -> BoxFuture<'a, Result<Option<i64>>> {
        let _ = (series, hint, now);
        Box::pin(std::future::ready(Ok(None)))
    }

    /// How far back the exchange serves this series, when it limits that (`None`: no
    /// limit known). Each venue cites its source.
    fn retention(&self, series: &SeriesKey) -> Option<Retention> {
        let _ = series;
        None
    }

    /// Whether REST serves this series' history at all (not so: Bybit trades, of which
    /// REST gives only the newest 1000). Where it does not, the exchange's archive is the
    /// only source of closed periods.
    fn rest_serves_history(&self, series: &SeriesKey) -> bool {
        let _ = series;
        true
    }

    /// Every public trade with time in `span`, any order (the engine sorts by (time,
    /// id) and drops repeated ids).
    fn fetch_trades<'a>(
        &'a self,
        series: &'a SeriesKey,
        span: TimeRange,
        now: i64,
    ) -> BoxFuture<'a, Result<Vec<Trade>>> {
        let _ = (span, now);
        unsupported(series, "historical trades")
    }

    /// Every funding event with time in `span`, any order.
    fn fetch_funding<'a>(
        &'a self,
        series: &'a SeriesKey,
        span: TimeRange,
        now: i64,
    ) -> BoxFuture<'a, Result<Vec<FundingRate>>> {
        let _ = (span, now);
        unsupported(series, "funding-rate history")
    }

    /// The order book now, at most `depth` levels a side.
    fn order_book<'a>(
        &'a self,
        market: Market,
        symbol: &'a str,
        depth: usize,
    ) -> BoxFuture<'a, Result<OrderBook>> {
        let _ = (symbol, depth);
        let message = format!("{} does not offer order books for {market} markets", self.exchange());
        Box::pin(std::future::ready(Err(crate::Error::Unsupported(message))))
    }
}

/// One entry of an exchange's instruments list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instrument {
    /// The symbol, in the exchange's spelling.
    pub symbol: String,
    /// When it was listed (ms), when the exchange says.
    pub listed: Option<i64>,
}

/// How far back an exchange serves a series, counted from now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Whole days back from now (the documented window, rounded down to be safe: a
    /// range the exchange no longer serves would come back empty and be cached as such).
    pub days: i64,
}

/// The answer of a venue that does not offer `what`.
fn unsupported<T: Send + 'static>(series: &SeriesKey, what: &str) -> BoxFuture<'static, Result<T>> {
    let message = format!("{} does not offer {what} for {} markets", series.exchange, series.market);
    Box::pin(std::future::ready(Err(crate::Error::Unsupported(message))))
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

/// A venue's interval codes: `(canonical, venue code)` pairs, canonical as [`Interval`]
/// prints it (`1m`, `1h`, `1d`, `1w`, `1M`).
pub(crate) type IntervalTable = &'static [(&'static str, &'static str)];

/// The venue's code for `interval`, or an error listing what the venue offers.
pub(crate) fn interval_code(table: IntervalTable, interval: Interval, venue: &str) -> Result<&'static str> {
    let canonical = interval.to_string();
    table.iter().find(|(c, _)| *c == canonical).map(|(_, code)| *code).ok_or_else(|| {
        let offered: Vec<&str> = table.iter().map(|(c, _)| *c).collect();
        crate::Error::invalid(format!("{venue} has no {canonical} klines; it offers {}", offered.join(" ")))
    })
}

/// The market of a symbol whose spelling names it, checked against the one given.
pub(crate) fn reconcile_market(
    given: Option<Market>,
    named: Market,
    venue: &str,
    symbol: &str,
) -> Result<Market> {
    match given {
        Some(m) if m != named => Err(crate::Error::invalid(format!(
            "{venue} instrument {symbol} is in the {named} market, not {m}: leave the market out or fix it"
        ))),
        _ => Ok(named),
    }
}
