//! The vocabulary of a query: exchange, market, data kind, interval, series, time range.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::time::{self, DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS};

/// A venue cryptocache knows how to talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Exchange {
    /// Binance spot (`api.binance.com`) and USD-M futures (`fapi.binance.com`).
    Binance,
    /// Bybit v5.
    Bybit,
    /// OKX v5.
    Okx,
    /// Deribit v2.
    Deribit,
}

impl Exchange {
    /// Every exchange, in a stable order.
    pub const ALL: [Exchange; 4] = [Exchange::Binance, Exchange::Bybit, Exchange::Okx, Exchange::Deribit];

    /// Lower-case name used in keys, URLs of the CLI and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Exchange::Binance => "binance",
            Exchange::Bybit => "bybit",
            Exchange::Okx => "okx",
            Exchange::Deribit => "deribit",
        }
    }

    pub(crate) fn tag(self) -> u8 {
        self as u8
    }
}

impl fmt::Display for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Exchange {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Exchange::ALL.into_iter().find(|e| e.as_str().eq_ignore_ascii_case(s.trim())).ok_or_else(|| {
            Error::invalid(format!("unknown exchange {s:?}: expected one of binance, bybit, okx, deribit"))
        })
    }
}

/// The market (product type) a symbol trades in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Market {
    /// Spot.
    #[default]
    Spot,
    /// Linear (USDT/USDC-margined) perpetuals and futures; Binance USD-M.
    Linear,
    /// Inverse (coin-margined) perpetuals and futures.
    Inverse,
    /// Options.
    Option,
}

impl Market {
    /// Every market, in a stable order.
    pub const ALL: [Market; 4] = [Market::Spot, Market::Linear, Market::Inverse, Market::Option];

    /// Lower-case name used in keys and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Market::Spot => "spot",
            Market::Linear => "linear",
            Market::Inverse => "inverse",
            Market::Option => "option",
        }
    }

    pub(crate) fn tag(self) -> u8 {
        self as u8
    }
}

impl fmt::Display for Market {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Market {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "spot" => Ok(Market::Spot),
            "linear" | "usdm" | "usd-m" | "um" | "futures" | "swap" => Ok(Market::Linear),
            "inverse" | "coinm" | "coin-m" => Ok(Market::Inverse),
            "option" | "options" => Ok(Market::Option),
            _ => Err(Error::invalid(format!(
                "unknown market {s:?}: expected spot, linear (USD-M), inverse or option"
            ))),
        }
    }
}

/// What kind of data a series holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataKind {
    /// OHLCV candles.
    Klines,
    /// Public trades.
    Trades,
    /// Funding-rate history of perpetual swaps.
    Funding,
}

impl DataKind {
    /// Lower-case name used in keys.
    pub fn as_str(self) -> &'static str {
        match self {
            DataKind::Klines => "klines",
            DataKind::Trades => "trades",
            DataKind::Funding => "funding",
        }
    }

    /// Grid slots per segment. Candles: 1000 (the cheapest Binance page). Trades: one
    /// hour per segment (Binance USD-M serves at most one hour of aggregate trades per
    /// time-bounded request). Funding: 1000 hours (at most 1000 events even for symbols
    /// that fund hourly: one Binance page).
    pub fn slots_per_segment(self) -> i64 {
        match self {
            DataKind::Klines | DataKind::Funding => 1000,
            DataKind::Trades => 1,
        }
    }

    /// The grid of kinds that have no interval of their own: one hour.
    pub fn hourly_grid() -> Interval {
        Interval { count: 1, unit: IntervalUnit::Hour }
    }

    pub(crate) fn tag(self) -> u8 {
        self as u8
    }
}

/// The unit of an [`Interval`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IntervalUnit {
    /// Seconds.
    Second,
    /// Minutes.
    Minute,
    /// Hours.
    Hour,
    /// UTC days.
    Day,
    /// Calendar weeks starting Monday 00:00 UTC.
    Week,
    /// Calendar months starting on the 1st, 00:00 UTC.
    Month,
}

/// A candle interval: `count` × `unit`. Written like Binance: `1s 1m 3m 5m 15m 30m 1h
/// 2h 4h 6h 8h 12h 1d 3d 1w 1M` (case matters: `m` minute, `M` month); the adapters
/// translate it to each exchange's own code and reject what an exchange lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Interval {
    count: u32,
    unit: IntervalUnit,
}

/// 1970-01-05, the first Monday after the epoch: calendar weeks are aligned to it.
const FIRST_MONDAY_MS: i64 = 4 * DAY_MS;

impl Interval {
    /// An interval of `count` units; `count` must be at least 1.
    pub fn new(count: u32, unit: IntervalUnit) -> Result<Self> {
        if count == 0 {
            return Err(Error::invalid("interval count must be at least 1"));
        }
        Ok(Interval { count, unit })
    }

    /// How many units.
    pub fn count(self) -> u32 {
        self.count
    }

    /// The unit.
    pub fn unit(self) -> IntervalUnit {
        self.unit
    }

    /// Length in ms for fixed intervals; `None` for months, whose length varies.
    pub fn fixed_ms(self) -> Option<i64> {
        let unit = match self.unit {
            IntervalUnit::Second => SECOND_MS,
            IntervalUnit::Minute => MINUTE_MS,
            IntervalUnit::Hour => HOUR_MS,
            IntervalUnit::Day => DAY_MS,
            IntervalUnit::Week => 7 * DAY_MS,
            IntervalUnit::Month => return None,
        };
        Some(unit * i64::from(self.count))
    }

    /// Typical length in ms (months count as 30 days): for sizing and range limits.
    pub fn nominal_ms(self) -> i64 {
        self.fixed_ms().unwrap_or(30 * DAY_MS * i64::from(self.count))
    }

    fn origin(self) -> i64 {
        if self.unit == IntervalUnit::Week {
            FIRST_MONDAY_MS
        } else {
            0
        }
    }

    /// Index of the grid slot containing `ts` (slot 0 starts at the epoch, or the first
    /// Monday for weeks). An off-grid candle belongs to the slot that contains it.
    pub fn slot_of(self, ts: i64) -> i64 {
        match self.fixed_ms() {
            Some(len) => (ts - self.origin()).div_euclid(len),
            None => time::month_index(ts).div_euclid(i64::from(self.count)),
        }
    }

    /// Start (ms) of grid slot `slot`.
    pub fn slot_start(self, slot: i64) -> i64 {
        match self.fixed_ms() {
            Some(len) => self.origin() + slot * len,
            None => time::month_start(slot * i64::from(self.count)),
        }
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.unit {
            IntervalUnit::Second => 's',
            IntervalUnit::Minute => 'm',
            IntervalUnit::Hour => 'h',
            IntervalUnit::Day => 'd',
            IntervalUnit::Week => 'w',
            IntervalUnit::Month => 'M',
        };
        write!(f, "{}{unit}", self.count)
    }
}

impl FromStr for Interval {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            Error::invalid(format!(
                "unknown interval {s:?}: write it like 1s, 1m, 5m, 1h, 4h, 1d, 3d, 1w, 1M (m = minute, M = month)"
            ))
        };
        let s = s.trim();
        let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let (digits, unit) = s.split_at(split);
        let count: u32 = digits.parse().map_err(|_| bad())?;
        let unit = match unit {
            "s" => IntervalUnit::Second,
            "m" => IntervalUnit::Minute,
            "h" | "H" => IntervalUnit::Hour,
            "d" | "D" => IntervalUnit::Day,
            "w" | "W" => IntervalUnit::Week,
            "M" => IntervalUnit::Month,
            _ => return Err(bad()),
        };
        Interval::new(count, unit).map_err(|_| bad())
    }
}

/// A half-open time range `[start, end)` in ms since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeRange {
    /// Inclusive start.
    pub start: i64,
    /// Exclusive end.
    pub end: i64,
}

impl TimeRange {
    /// A range; `start < end` is checked by query validation, not here.
    pub fn new(start: i64, end: i64) -> Self {
        TimeRange { start, end }
    }

    /// Whether `ts` lies in `[start, end)`.
    pub fn contains(&self, ts: i64) -> bool {
        self.start <= ts && ts < self.end
    }
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}, {})", time::format_time(self.start), time::format_time(self.end))
    }
}

/// One cached series: everything that identifies a stream of candles except time.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesKey {
    /// Where the values come from: [`source::LIVE`](crate::source::LIVE) for the
    /// exchanges' own endpoints, another name for a simulator, proxy or testnet. Part of
    /// every storage key, so values from one source are never served for another.
    pub source: Arc<str>,
    /// Exchange.
    pub exchange: Exchange,
    /// Market.
    pub market: Market,
    /// Data kind.
    pub kind: DataKind,
    /// Candle interval.
    pub interval: Interval,
    /// Exchange symbol, normalised by the adapter (e.g. `BTCUSDT`).
    pub symbol: Arc<str>,
}

impl fmt::Display for SeriesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}:{}:{}:{}",
            self.source,
            self.exchange,
            self.market,
            self.kind.as_str(),
            self.interval,
            self.symbol
        )
    }
}

/// Earliest accepted query time: 2009-01-03, the Bitcoin genesis block. Earlier starts
/// are clamped to it (exchanges hold nothing before), negative ones are rejected.
pub const EARLIEST_MS: i64 = 1_230_940_800_000;
/// Latest accepted query end: 2100-01-01.
pub const LATEST_MS: i64 = 4_102_444_800_000;

/// A query for trades or funding rates: which instrument, which `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeQuery {
    /// Exchange.
    pub exchange: Exchange,
    /// Market; `None` lets the adapter decide (see [`KlineQuery::market`]).
    pub market: Option<Market>,
    /// Exchange symbol.
    pub symbol: String,
    /// Inclusive start, ms.
    pub start: i64,
    /// Exclusive end, ms.
    pub end: i64,
}

impl RangeQuery {
    /// A query with the market left to the adapter.
    pub fn new(exchange: Exchange, symbol: impl Into<String>, start: i64, end: i64) -> Self {
        RangeQuery { exchange, market: None, symbol: symbol.into(), start, end }
    }

    /// Sets the market.
    pub fn market(mut self, market: Market) -> Self {
        self.market = Some(market);
        self
    }
}

/// A candle query: which series, which `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KlineQuery {
    /// Exchange.
    pub exchange: Exchange,
    /// Market; `None` lets the adapter decide: read from the symbol where its spelling
    /// names the market (OKX `BTC-USDT-SWAP`, Deribit `BTC-PERPETUAL`), else spot.
    pub market: Option<Market>,
    /// Exchange symbol, e.g. `BTCUSDT`.
    pub symbol: String,
    /// Candle interval.
    pub interval: Interval,
    /// Inclusive start, ms. Candles with `open_time >= start` are returned.
    pub start: i64,
    /// Exclusive end, ms. Candles with `open_time < end` are returned.
    pub end: i64,
}

impl KlineQuery {
    /// A query with the market left to the adapter (spot unless the symbol names one);
    /// use [`KlineQuery::market`] to choose.
    pub fn new(
        exchange: Exchange,
        symbol: impl Into<String>,
        interval: Interval,
        start: i64,
        end: i64,
    ) -> Self {
        KlineQuery { exchange, market: None, symbol: symbol.into(), interval, start, end }
    }

    /// Sets the market.
    pub fn market(mut self, market: Market) -> Self {
        self.market = Some(market);
        self
    }
}

/// Checks a query range: `start < end`, inside [`EARLIEST_MS`, `LATEST_MS`], at most
/// `max_slots` grid slots of `grid` long. Returns the range clamped to the earliest start.
pub(crate) fn checked_range(start: i64, end: i64, grid: Interval, max_slots: u64) -> Result<TimeRange> {
    if start < 0 || end < 0 {
        return Err(Error::invalid(format!(
            "times must not be negative (start {start} = {}, end {end} = {})",
            time::format_time(start),
            time::format_time(end)
        )));
    }
    if start >= end {
        return Err(Error::invalid(format!(
            "start must be before end (start {} >= end {})",
            time::format_time(start),
            time::format_time(end)
        )));
    }
    if end > LATEST_MS {
        return Err(Error::invalid(format!(
            "end {end} is after 2100-01-01: is it in microseconds or seconds instead of milliseconds?"
        )));
    }
    if end <= EARLIEST_MS {
        return Err(Error::invalid(format!(
            "end {end} is before 2009-01-03, when no exchange existed: is it in seconds instead of milliseconds?"
        )));
    }
    let start = start.max(EARLIEST_MS);
    let slots = grid.slot_of(end - 1) - grid.slot_of(start) + 1;
    if slots as u64 > max_slots {
        return Err(Error::invalid(format!(
            "range {} spans {slots} slots of {grid}, more than the limit of {max_slots} per query: split it or raise max_candles_per_query",
            TimeRange::new(start, end),
        )));
    }
    Ok(TimeRange::new(start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_parse_and_print() {
        for code in [
            "1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M",
        ] {
            assert_eq!(code.parse::<Interval>().unwrap().to_string(), code);
        }
        for bad in ["", "m", "0m", "1x", "1mm", "-1m", "1.5h"] {
            let err = bad.parse::<Interval>().unwrap_err();
            assert!(err.to_string().contains("unknown interval"), "{err}");
        }
    }

    #[test]
    fn slots_align_to_the_calendar() {
        let week: Interval = "1w".parse().unwrap();
        // 2024-01-29 was a Monday.
        let monday = 1_706_486_400_000;
        assert_eq!(week.slot_start(week.slot_of(monday + 3 * DAY_MS)), monday);
        let month: Interval = "1M".parse().unwrap();
        let feb = 1_706_745_600_000; // 2024-02-01
        assert_eq!(month.slot_start(month.slot_of(feb + 10 * DAY_MS)), feb);
        assert_eq!(month.slot_start(month.slot_of(feb) + 1), 1_709_251_200_000); // 2024-03-01
        let hour: Interval = "1h".parse().unwrap();
        // An off-grid candle at 10:28:15 belongs to the 10:00 slot.
        let ten = 1_706_608_800_000;
        assert_eq!(hour.slot_start(hour.slot_of(ten + 28 * MINUTE_MS + 15_000)), ten);
    }

    #[test]
    fn range_checks() {
        let h1: Interval = "1h".parse().unwrap();
        let err =
            |start, end, grid: Interval, max| checked_range(start, end, grid, max).unwrap_err().to_string();
        assert!(err(10, 10, h1, 1_000_000).contains("start must be before end"));
        assert!(err(0, 1_706_630_400_000_000, h1, 1_000_000).contains("microseconds"));
        assert!(err(0, LATEST_MS, "1m".parse().unwrap(), 1_000_000).contains("more than the limit"));
        assert!(err(-1, 5, h1, 10).contains("negative"));
        assert!(err(1_704_067_200, 1_706_745_600, h1, 10).contains("in seconds"));
        assert_eq!(
            checked_range(0, EARLIEST_MS + HOUR_MS, h1, 10).unwrap(),
            TimeRange::new(EARLIEST_MS, EARLIEST_MS + HOUR_MS)
        );
    }
}
