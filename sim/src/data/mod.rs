//! What the exchanges hold, computed without HTTP: the exact candles the
//! simulator would serve.
//!
//! The market model is deterministic and stateless: every candle of every
//! series is a pure function of `(exchange, market, symbol, interval,
//! open time, now)`, so any range can be recomputed in any order. Tests use
//! these functions as the oracle to compare what a client fetched over HTTP
//! against what the exchange "really" holds.

pub(crate) mod bars;
pub(crate) mod book;
pub(crate) mod calendar;
pub(crate) mod decimal;
pub(crate) mod funding;
pub(crate) mod hash;
pub(crate) mod instrument;
pub(crate) mod series;
pub(crate) mod trades;

pub use crate::binance::catalog::{binance_intervals, binance_klines, binance_symbols, BinanceMarket};
pub use crate::history::{
    binance_agg_trades, binance_book, binance_funding, binance_trades, venue_book, venue_funding,
    venue_trades, SimAggTrade, SimBook, SimFunding, SimTrade,
};
pub use crate::venue::{
    venue_instruments, venue_intervals, venue_klines, venue_quiet_windows, SimCandle, SimInstrument, Venue,
};

/// One candle as a client would parse it from the wire.
///
/// Every `f64` is exactly `wire_text.parse::<f64>()` of the decimal string the
/// server sends, so a client parsing the HTTP reply gets bit-identical values.
#[derive(Clone, Debug, PartialEq)]
pub struct SimKline {
    /// Open time, ms since the epoch (UTC).
    pub open_time: i64,
    /// Opening price.
    pub open: f64,
    /// Highest price.
    pub high: f64,
    /// Lowest price.
    pub low: f64,
    /// Closing price (for the candle still open: the price at "now").
    pub close: f64,
    /// Base-asset volume.
    pub volume: f64,
    /// Close time, ms: open time + interval − 1 (for `1M`: next month start − 1).
    pub close_time: i64,
    /// Quote-asset volume.
    pub quote_volume: f64,
    /// Number of trades.
    pub trades: u64,
    /// Taker-buy base-asset volume.
    pub taker_buy_base: f64,
    /// Taker-buy quote-asset volume.
    pub taker_buy_quote: f64,
}

/// A tradable symbol of a simulated market.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SimSymbol {
    /// Exchange symbol, e.g. `BTCUSDT`.
    pub symbol: String,
    /// Base asset, e.g. `BTC`.
    pub base: String,
    /// Quote asset, e.g. `USDT`.
    pub quote: String,
    /// True listing time, ms: nothing trades before it. The candle whose
    /// slot contains this instant is served (its open time is on the
    /// interval grid, so it may be earlier than `listed_ms`). For a
    /// relisted symbol, its first listing.
    pub listed_ms: i64,
    /// The USDⓈ-M `onboardDate` published in `exchangeInfo` (`None` on spot,
    /// which publishes no listing date). Equal to `listed_ms` except for the
    /// late-listed (30 days later) and the relisted (the relisting) symbols
    /// of [`crate::quirks`].
    #[serde(default)]
    pub published_listed_ms: Option<i64>,
    /// Delisted `[from, to)`, relisted at `to`, if ever (see
    /// [`crate::quirks::BINANCE_UM_RELISTED`]).
    #[serde(default)]
    pub delisted: Option<(i64, i64)>,
}
