//! What Binance holds: symbols, intervals, quirks (maintenance gap, 2018
//! off-grid opens) and the wire text of each kline row.

use crate::data::calendar::{Span, DAY_MS};
use crate::data::decimal::{fmt, parse_f64};
use crate::data::hash::str_seed;
use crate::data::series::{seed_of, RawCandle, SeriesSpec};
use crate::data::trades::TradeStream;
use crate::data::{SimKline, SimSymbol};
use crate::quirks;

/// A Binance market served by the simulator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinanceMarket {
    /// Spot, `/api/v3/*`.
    Spot,
    /// USDⓈ-M futures (perpetuals), `/fapi/v1/*`.
    UsdM,
}

impl BinanceMarket {
    /// Key of this market's weight budget in `SimStats::max_window_weight`:
    /// `"binance-spot"` or `"binance-um"`.
    pub fn weight_key(self) -> &'static str {
        match self {
            BinanceMarket::Spot => "binance-spot",
            BinanceMarket::UsdM => "binance-um",
        }
    }

    /// Largest `limit` accepted by the klines endpoint (1000 spot, 1500 UM).
    pub fn max_kline_limit(self) -> usize {
        match self {
            BinanceMarket::Spot => 1000,
            BinanceMarket::UsdM => 1500,
        }
    }
}

/// Spot kline intervals, exactly as Binance spells them (case-sensitive).
const SPOT_INTERVALS: [&str; 16] =
    ["1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M"];

/// Maintenance hole of 2020-02-19 11:35–17:30 UTC (spot and UM): `[start, end)`.
pub(crate) const GAP: (i64, i64) = (1_582_112_100_000, 1_582_133_400_000);
/// Spot slots opening in this window (2018-02-09) open 15 s late for
/// intervals from 1m up to (not including) 1d.
pub(crate) const OFF_GRID: (i64, i64) = (1_518_134_400_000, 1_518_220_800_000);
/// How late the off-grid opens are, ms.
pub(crate) const OFF_GRID_SHIFT: i64 = 15_000;

/// Every interval code of a market, shortest first (UM has no `1s`).
pub fn binance_intervals(market: BinanceMarket) -> &'static [&'static str] {
    match market {
        BinanceMarket::Spot => &SPOT_INTERVALS,
        BinanceMarket::UsdM => &SPOT_INTERVALS[1..],
    }
}

/// Slot layout of an interval code, `None` if the code is not one of Binance's.
fn span_of(code: &str) -> Option<Span> {
    const S: i64 = 1000;
    const M: i64 = 60 * S;
    const H: i64 = 60 * M;
    Some(match code {
        "1s" => Span::Fixed(S),
        "1m" => Span::Fixed(M),
        "3m" => Span::Fixed(3 * M),
        "5m" => Span::Fixed(5 * M),
        "15m" => Span::Fixed(15 * M),
        "30m" => Span::Fixed(30 * M),
        "1h" => Span::Fixed(H),
        "2h" => Span::Fixed(2 * H),
        "4h" => Span::Fixed(4 * H),
        "6h" => Span::Fixed(6 * H),
        "8h" => Span::Fixed(8 * H),
        "12h" => Span::Fixed(12 * H),
        "1d" => Span::Fixed(DAY_MS),
        "3d" => Span::Fixed(3 * DAY_MS),
        "1w" => Span::Week,
        "1M" => Span::Month,
        _ => return None,
    })
}

/// Static facts of one symbol on one market.
pub(crate) struct SymbolDef {
    /// Exchange symbol.
    pub symbol: &'static str,
    /// Base asset.
    pub base: &'static str,
    /// Quote asset.
    pub quote: &'static str,
    /// True listing time, ms: the first candle is the one containing it (for
    /// a relisted symbol: its first listing).
    pub listed_ms: i64,
    /// The UM `onboardDate` published (`listed_ms` for most; later for the
    /// late-listed and the relisted symbols of [`crate::quirks`]).
    pub published_ms: i64,
    /// Delisted from `.0` until relisted at `.1` (nothing trades in between).
    pub delisted: Option<(i64, i64)>,
    /// Centre of the price path, price units.
    pub base_price: i64,
    /// Decimals of the price units.
    pub price_scale: u32,
    /// Tick, price units.
    pub price_tick: i64,
    /// Decimals of the quantity units (quantity step = one unit).
    pub qty_scale: u32,
    /// Mean quantity per minute, quantity units.
    pub qty_per_min: i64,
    /// Mean trades per minute.
    pub trades_per_min: i64,
}

const SPOT_SYMBOLS: [SymbolDef; 4] = [
    sym("BTCUSDT", "BTC", 1_502_942_400_000, 3_000_000, 2, 1, 5, 1_500_000, 600),
    sym("ETHUSDT", "ETH", 1_502_942_400_000, 200_000, 2, 1, 4, 2_500_000, 400),
    sym("BNBUSDT", "BNB", 1_509_940_800_000, 30_000, 2, 1, 3, 400_000, 200),
    sym("SOLUSDT", "SOL", 1_597_125_600_000, 10_000, 2, 1, 3, 1_500_000, 300),
];

const UM_SYMBOLS: [SymbolDef; 5] = [
    sym("BTCUSDT", "BTC", 1_568_102_400_000, 3_001_500, 2, 10, 3, 120_000, 1500),
    sym("ETHUSDT", "ETH", 1_569_398_400_000, 200_100, 2, 1, 3, 1_500_000, 900),
    sym("SOLUSDT", "SOL", 1_600_041_600_000, 100_050, 3, 1, 1, 80_000, 700),
    // `onboardDate` 30 days after the first candle.
    SymbolDef {
        published_ms: quirks::LATE_LISTING_PUBLISHED_MS,
        ..sym(
            quirks::BINANCE_UM_LATE_LISTED,
            "DOGE",
            quirks::LATE_LISTING_TRUE_MS,
            160_000,
            6,
            10,
            0,
            2_000_000,
            400,
        )
    },
    // Listed, delisted for 60 days, relisted; `onboardDate` is the relisting.
    SymbolDef {
        published_ms: quirks::RELISTED_RELISTED_MS,
        delisted: Some((quirks::RELISTED_DELISTED_MS, quirks::RELISTED_RELISTED_MS)),
        ..sym(
            quirks::BINANCE_UM_RELISTED,
            "FTT",
            quirks::RELISTED_FIRST_LISTING_MS,
            15_000,
            4,
            1,
            1,
            30_000,
            120,
        )
    },
];

#[allow(clippy::too_many_arguments)]
const fn sym(
    symbol: &'static str,
    base: &'static str,
    listed_ms: i64,
    base_price: i64,
    price_scale: u32,
    price_tick: i64,
    qty_scale: u32,
    qty_per_min: i64,
    trades_per_min: i64,
) -> SymbolDef {
    SymbolDef {
        symbol,
        base,
        quote: "USDT",
        listed_ms,
        published_ms: listed_ms,
        delisted: None,
        base_price,
        price_scale,
        price_tick,
        qty_scale,
        qty_per_min,
        trades_per_min,
    }
}

/// The symbols of a market, in catalog order.
pub(crate) fn symbol_defs(market: BinanceMarket) -> &'static [SymbolDef] {
    match market {
        BinanceMarket::Spot => &SPOT_SYMBOLS,
        BinanceMarket::UsdM => &UM_SYMBOLS,
    }
}

/// Looks a symbol up by its exact (upper-case) name.
pub(crate) fn symbol_def(market: BinanceMarket, symbol: &str) -> Option<&'static SymbolDef> {
    symbol_defs(market).iter().find(|d| d.symbol == symbol)
}

/// Every symbol of a market with its true listing time, and (UM) the
/// `onboardDate` it publishes and its delisted stretch.
pub fn binance_symbols(market: BinanceMarket) -> Vec<SimSymbol> {
    symbol_defs(market)
        .iter()
        .map(|d| SimSymbol {
            symbol: d.symbol.to_string(),
            base: d.base.to_string(),
            quote: d.quote.to_string(),
            listed_ms: d.listed_ms,
            published_listed_ms: (market == BinanceMarket::UsdM).then_some(d.published_ms),
            delisted: d.delisted,
        })
        .collect()
}

/// The price model of a symbol (shared by its klines, trades, funding and book).
pub(crate) fn spec_of(market: BinanceMarket, def: &SymbolDef) -> SeriesSpec {
    SeriesSpec {
        path_seed: seed_of(&[str_seed(def.base)]),
        seed: seed_of(&[str_seed(market.weight_key()), str_seed(def.symbol)]),
        base_price: def.base_price,
        price_tick: def.price_tick,
        qty_per_min: def.qty_per_min,
        trades_per_min: def.trades_per_min,
        listed_ms: def.listed_ms,
        until_ms: i64::MAX,
        quiet: None,
    }
}

/// The trade stream of a symbol: no trades in the hours of the maintenance
/// gap, or (the relisted symbol, listed after the gap) while delisted.
pub(crate) fn trade_stream(market: BinanceMarket, def: &SymbolDef) -> TradeStream {
    let dead = def.delisted.unwrap_or(GAP);
    TradeStream::new(spec_of(market, def), def.trades_per_min, def.qty_per_min, Some(dead))
}

/// Funding interval of a USDⓈ-M symbol, hours: `BTCUSDT` 8, `ETHUSDT` 4,
/// `SOLUSDT` 1, the others 8.
pub(crate) fn funding_hours(symbol: &str) -> i64 {
    match symbol {
        "ETHUSDT" => 4,
        "SOLUSDT" => 1,
        _ => 8,
    }
}

/// How a market prints a symbol's decimals: spot with 8 everywhere, UM
/// with the symbol's own precision (price, quantity, and their sum for
/// quote amounts).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Decimals {
    ps: u32,
    qs: u32,
    spot: bool,
}

impl Decimals {
    /// The style of `def` on `market`.
    pub(crate) fn of(market: BinanceMarket, def: &SymbolDef) -> Decimals {
        Decimals { ps: def.price_scale, qs: def.qty_scale, spot: market == BinanceMarket::Spot }
    }

    fn shown(&self, scale: u32) -> u32 {
        if self.spot {
            8
        } else {
            scale
        }
    }

    /// A price, price units.
    pub(crate) fn price(&self, v: i64) -> String {
        fmt(i128::from(v), self.ps, self.shown(self.ps))
    }

    /// A quantity, quantity units.
    pub(crate) fn qty(&self, v: i64) -> String {
        fmt(i128::from(v), self.qs, self.shown(self.qs))
    }

    /// A quote amount (price × quantity units).
    pub(crate) fn quote(&self, v: i128) -> String {
        fmt(v, self.ps + self.qs, self.shown(self.ps + self.qs))
    }
}

/// Why a series lookup failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LookupError {
    /// Unknown symbol (Binance -1121).
    Symbol,
    /// Unknown interval (Binance -1120).
    Interval,
}

impl LookupError {
    /// Binance's message for the error.
    pub(crate) fn message(self) -> &'static str {
        match self {
            LookupError::Symbol => "Invalid symbol.",
            LookupError::Interval => "Invalid interval.",
        }
    }
}

/// One kline row's wire values: numbers, and the decimal strings of slots
/// 1–5, 7, 9 and 10.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WireRow {
    /// Slot 0.
    pub open_time: i64,
    /// Slots 1–5 (open high low close volume), 7 (quote volume), 9, 10 (taker buy).
    pub text: [String; 8],
    /// Slot 6.
    pub close_time: i64,
    /// Slot 8.
    pub trades: u64,
}

impl WireRow {
    /// Appends the row as a JSON array (12 slots, slot 11 is `"0"`).
    pub(crate) fn write_json(&self, out: &mut String) {
        let t = &self.text;
        out.push_str(&format!(
            "[{},\"{}\",\"{}\",\"{}\",\"{}\",\"{}\",{},\"{}\",{},\"{}\",\"{}\",\"0\"]",
            self.open_time, t[0], t[1], t[2], t[3], t[4], self.close_time, t[5], self.trades, t[6], t[7]
        ));
    }

    /// The row as a client parses it.
    pub(crate) fn to_sim_kline(&self) -> SimKline {
        let t = &self.text;
        SimKline {
            open_time: self.open_time,
            open: parse_f64(&t[0]),
            high: parse_f64(&t[1]),
            low: parse_f64(&t[2]),
            close: parse_f64(&t[3]),
            volume: parse_f64(&t[4]),
            close_time: self.close_time,
            quote_volume: parse_f64(&t[5]),
            trades: self.trades,
            taker_buy_base: parse_f64(&t[6]),
            taker_buy_quote: parse_f64(&t[7]),
        }
    }
}

/// One kline series (market, symbol, interval) with Binance's quirks applied.
pub(crate) struct Series {
    market: BinanceMarket,
    def: &'static SymbolDef,
    spec: SeriesSpec,
    span: Span,
    key: u64,
}

impl Series {
    /// The series of `symbol` / `interval` on `market`.
    pub(crate) fn lookup(market: BinanceMarket, symbol: &str, interval: &str) -> Result<Series, LookupError> {
        let def = symbol_def(market, symbol).ok_or(LookupError::Symbol)?;
        let span = binance_intervals(market)
            .contains(&interval)
            .then(|| span_of(interval))
            .flatten()
            .ok_or(LookupError::Interval)?;
        Ok(Series { market, def, spec: spec_of(market, def), span, key: str_seed(interval) })
    }

    /// Actual open time of the slot opening at `slot` (the 2018 spot quirk).
    fn open_time_of(&self, slot: i64) -> i64 {
        let shifted = self.market == BinanceMarket::Spot
            && matches!(self.span, Span::Fixed(len) if len >= 60_000)
            && self.span.is_intraday()
            && (OFF_GRID.0..OFF_GRID.1).contains(&slot);
        if shifted {
            slot + OFF_GRID_SHIFT
        } else {
            slot
        }
    }

    /// Whether `[open, end)` lies wholly inside the maintenance gap.
    fn in_gap(open: i64, end: i64) -> bool {
        open >= GAP.0 && end <= GAP.1
    }

    /// Whether `[open, end)` lies wholly inside the symbol's delisting.
    fn in_delisting(&self, open: i64, end: i64) -> bool {
        self.def.delisted.is_some_and(|(from, to)| open >= from && end <= to)
    }

    /// The candle of the slot opening at `slot`, as seen at `now`. A slot
    /// reaching into the delisting holds only its traded part (cut at the
    /// delisting like an expiry, or starting at the relisting like a listing).
    fn at_slot(&self, slot: i64, now: i64) -> Option<RawCandle> {
        let open_time = self.open_time_of(slot);
        let end = open_time + (self.span.next(slot) - slot);
        if Self::in_gap(open_time, end) || self.in_delisting(open_time, end) {
            return None;
        }
        match self.def.delisted {
            Some((from, to)) if open_time < to && end > from => {
                let spec = if open_time < from {
                    SeriesSpec { until_ms: from, ..self.spec.clone() }
                } else {
                    SeriesSpec { listed_ms: to, ..self.spec.clone() }
                };
                spec.candle(self.key, open_time, end - 1, now)
            }
            _ => self.spec.candle(self.key, open_time, end - 1, now),
        }
    }

    /// Up to `limit` candles with `from <= open_time <= max_open` (and
    /// `open_time <= now`), oldest first, starting at `from`.
    pub(crate) fn forward(&self, from: i64, max_open: i64, limit: usize, now: i64) -> Vec<RawCandle> {
        let max_open = max_open.min(now);
        let mut out = Vec::new();
        // One slot back: an off-grid open can be later than its slot start.
        let mut slot = self.span.prev(self.span.floor(from.max(self.def.listed_ms)));
        while out.len() < limit && slot <= max_open {
            let next = self.span.next(slot);
            if Self::in_gap(slot, next) {
                slot = self.span.floor(GAP.1).max(next);
                continue;
            }
            if let Some((_, to)) = self.def.delisted.filter(|_| self.in_delisting(slot, next)) {
                slot = self.span.floor(to).max(next);
                continue;
            }
            if let Some(c) = self.at_slot(slot, now) {
                if c.open_time >= from && c.open_time <= max_open {
                    out.push(c);
                }
            }
            slot = next;
        }
        out
    }

    /// The newest `limit` candles with `open_time <= max_open` (and `<= now`), oldest first.
    pub(crate) fn backward(&self, max_open: i64, limit: usize, now: i64) -> Vec<RawCandle> {
        let max_open = max_open.min(now);
        let first = self.span.floor(self.def.listed_ms);
        let mut out = Vec::new();
        // One slot ahead: an off-grid open can be later than its slot start.
        let mut slot = self.span.next(self.span.floor(max_open));
        while out.len() < limit && slot >= first {
            if Self::in_gap(slot, self.span.next(slot)) {
                slot = self.span.floor(GAP.0 - 1).min(self.span.prev(slot));
                continue;
            }
            if let Some((from, _)) =
                self.def.delisted.filter(|_| self.in_delisting(slot, self.span.next(slot)))
            {
                slot = self.span.floor(from - 1).min(self.span.prev(slot));
                continue;
            }
            if let Some(c) = self.at_slot(slot, now) {
                if c.open_time <= max_open {
                    out.push(c);
                }
            }
            slot = self.span.prev(slot);
        }
        out.reverse();
        out
    }

    /// Wire text of a candle: spot shows 8 decimals everywhere; UM shows the
    /// symbol's own precision (price, quantity, and their product for quote).
    pub(crate) fn wire(&self, c: &RawCandle) -> WireRow {
        let (ps, qs) = (self.def.price_scale, self.def.qty_scale);
        let quote_scale = ps + qs;
        let (shown_p, shown_q, shown_quote) = match self.market {
            BinanceMarket::Spot => (8, 8, 8),
            BinanceMarket::UsdM => (ps, qs, quote_scale),
        };
        let price = |v: i64| fmt(i128::from(v), ps, shown_p);
        let qty = |v: i64| fmt(i128::from(v), qs, shown_q);
        let quote = |v: i128| fmt(v, quote_scale, shown_quote);
        WireRow {
            open_time: c.open_time,
            text: [
                price(c.open),
                price(c.high),
                price(c.low),
                price(c.close),
                qty(c.volume),
                quote(c.quote),
                qty(c.taker_base),
                quote(c.taker_quote),
            ],
            close_time: c.close_time,
            trades: c.trades,
        }
    }
}

/// Every kline the simulator holds for this series with `open_time` in
/// `[start, end)`, as seen at simulated time `now_ms` (the candle containing
/// `now_ms` is included, still open). `Err(message)` for an unknown symbol
/// (`"Invalid symbol."`) or interval (`"Invalid interval."`).
///
/// ```
/// use cryptocache_sim::{binance_klines, BinanceMarket};
/// let rows = binance_klines(BinanceMarket::Spot, "BTCUSDT", "1h",
///     1_706_630_400_000, 1_706_641_200_000, 1_800_000_000_000).unwrap();
/// assert_eq!(rows.len(), 3);
/// assert_eq!(rows[0].close_time, 1_706_633_999_999);
/// ```
pub fn binance_klines(
    market: BinanceMarket,
    symbol: &str,
    interval: &str,
    start: i64,
    end: i64,
    now_ms: i64,
) -> Result<Vec<SimKline>, String> {
    let series = Series::lookup(market, symbol, interval).map_err(|e| e.message().to_string())?;
    if end <= start {
        return Ok(Vec::new());
    }
    Ok(series
        .forward(start, end - 1, usize::MAX, now_ms)
        .iter()
        .map(|c| series.wire(c).to_sim_kline())
        .collect())
}
