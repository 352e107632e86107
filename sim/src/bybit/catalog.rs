//! What Bybit holds: categories, symbols, interval codes and the wire text
//! of a kline row.

use crate::data::bars::Bars;
use crate::data::calendar::{Grid, Span, DAY_MS};
use crate::data::instrument::{Instrument, Sizing, WireBar};
use crate::quirks;

/// A Bybit v5 product category served by the simulator (`option` is not).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Category {
    /// `spot`.
    Spot,
    /// `linear`: USDT perpetuals.
    Linear,
    /// `inverse`: coin-margined perpetuals.
    Inverse,
}

impl Category {
    /// The category of a `category=` value (case-sensitive, like Bybit).
    pub(crate) fn parse(text: &str) -> Option<Category> {
        match text {
            "spot" => Some(Category::Spot),
            "linear" => Some(Category::Linear),
            "inverse" => Some(Category::Inverse),
            _ => None,
        }
    }

    /// The wire name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Category::Spot => "spot",
            Category::Linear => "linear",
            Category::Inverse => "inverse",
        }
    }

    /// Seed key of the category's price model.
    pub(crate) fn market_key(self) -> &'static str {
        match self {
            Category::Spot => "bybit-spot",
            Category::Linear => "bybit-linear",
            Category::Inverse => "bybit-inverse",
        }
    }
}

/// Kline interval codes, shortest first.
pub(crate) const INTERVALS: [&str; 13] =
    ["1", "3", "5", "15", "30", "60", "120", "240", "360", "720", "D", "W", "M"];

/// Slot layout of an interval code (weeks open Monday 00:00 UTC, months on the 1st).
fn span_of(code: &str) -> Option<Span> {
    let minutes = match code {
        "D" => return Some(Span::Fixed(DAY_MS)),
        "W" => return Some(Span::Week),
        "M" => return Some(Span::Month),
        _ if INTERVALS.contains(&code) => code.parse::<i64>().ok()?,
        _ => return None,
    };
    Some(Span::Fixed(minutes * 60_000))
}

/// The template every symbol starts from.
const BASE: Instrument = Instrument {
    name: "",
    base: "BTC",
    quote: "USDT",
    settle: "USDT",
    listed_ms: 0,
    expiry_ms: None,
    base_price: 0,
    price_scale: 2,
    price_tick: 1,
    qty_scale: 3,
    sizing: Sizing::Base,
    qty_per_min: 0,
    trades_per_min: 0,
    quiet: false,
    funding_hours: 0,
    listing_lag_ms: 0,
    burst: None,
};

/// Spot symbols (Bybit spot opened 2021-07-05).
const SPOT: [Instrument; 2] = [
    Instrument {
        name: "BTCUSDT",
        listed_ms: 1_625_443_200_000,
        base_price: 3_000_500,
        qty_scale: 6,
        qty_per_min: 20_000_000,
        trades_per_min: 300,
        ..BASE
    },
    Instrument {
        name: "ETHUSDT",
        base: "ETH",
        listed_ms: 1_625_443_200_000,
        base_price: 200_040,
        qty_scale: 5,
        qty_per_min: 30_000_000,
        trades_per_min: 200,
        ..BASE
    },
];

/// USDT perpetuals (BTCUSDT launched 2020-03-30; ETHUSDT funds every 4 h;
/// SOLUSDT publishes a `launchTime` 30 days after its first candle).
const LINEAR: [Instrument; 3] = [
    Instrument {
        name: "BTCUSDT",
        listed_ms: 1_585_526_400_000,
        base_price: 300_100,
        price_scale: 1,
        qty_per_min: 90_000,
        trades_per_min: 900,
        funding_hours: 8,
        ..BASE
    },
    Instrument {
        name: "ETHUSDT",
        base: "ETH",
        listed_ms: 1_603_238_400_000,
        base_price: 200_080,
        qty_scale: 2,
        qty_per_min: 80_000,
        trades_per_min: 600,
        funding_hours: 4,
        ..BASE
    },
    Instrument {
        name: quirks::BYBIT_LINEAR_LATE_LISTED,
        base: "SOL",
        listed_ms: quirks::LATE_LISTING_TRUE_MS,
        listing_lag_ms: quirks::LATE_LISTING_LAG_MS,
        base_price: 10_000,
        qty_scale: 1,
        qty_per_min: 50_000,
        trades_per_min: 300,
        funding_hours: 8,
        ..BASE
    },
];

/// Inverse perpetuals: the quantity counts 1-USD contracts (ETHUSD funds hourly).
const INVERSE: [Instrument; 2] = [
    Instrument {
        name: "BTCUSD",
        quote: "USD",
        settle: "BTC",
        listed_ms: 1_542_153_600_000,
        base_price: 300_200,
        price_scale: 1,
        price_tick: 5,
        qty_scale: 0,
        sizing: Sizing::Inverse { ct_val: 1 },
        qty_per_min: 1_500_000,
        trades_per_min: 400,
        funding_hours: 8,
        ..BASE
    },
    Instrument {
        name: "ETHUSD",
        base: "ETH",
        quote: "USD",
        settle: "ETH",
        listed_ms: 1_548_374_400_000,
        base_price: 200_050,
        price_tick: 5,
        qty_scale: 0,
        sizing: Sizing::Inverse { ct_val: 1 },
        qty_per_min: 400_000,
        trades_per_min: 150,
        funding_hours: 1,
        ..BASE
    },
];

/// The symbols of a category, in catalog order.
pub(crate) fn instruments(category: Category) -> &'static [Instrument] {
    match category {
        Category::Spot => &SPOT,
        Category::Linear => &LINEAR,
        Category::Inverse => &INVERSE,
    }
}

/// Looks a symbol up by its exact name.
pub(crate) fn instrument(category: Category, symbol: &str) -> Option<&'static Instrument> {
    instruments(category).iter().find(|i| i.name == symbol)
}

/// Why a series lookup failed, with Bybit's message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LookupError {
    /// Unknown symbol.
    Symbol,
    /// Unknown interval code.
    Interval,
}

impl LookupError {
    /// Bybit's `retMsg` (retCode 10001).
    pub(crate) fn message(self) -> &'static str {
        match self {
            LookupError::Symbol => "Not supported symbols",
            LookupError::Interval => "params error: Invalid period",
        }
    }
}

/// One kline series of a category.
pub(crate) struct Series {
    /// The instrument.
    pub inst: &'static Instrument,
    /// Its bars at the interval.
    pub bars: Bars,
    category: Category,
}

impl Series {
    /// The series of `symbol` / `interval` in `category`.
    pub(crate) fn lookup(category: Category, symbol: &str, interval: &str) -> Result<Series, LookupError> {
        let inst = instrument(category, symbol).ok_or(LookupError::Symbol)?;
        let span = span_of(interval).ok_or(LookupError::Interval)?;
        let bars = inst.bars(category.market_key(), Grid::utc(span), interval);
        Ok(Series { inst, bars, category })
    }

    /// The wire text of a bar.
    pub(crate) fn wire(&self, c: &crate::data::series::RawCandle, now: i64) -> WireBar {
        self.inst.wire(&self.bars, c, now)
    }

    /// The 7-string row `[start, open, high, low, close, volume, turnover]`:
    /// volume is base coin and turnover quote coin, swapped for inverse.
    pub(crate) fn row(&self, w: &WireBar) -> [String; 7] {
        let (volume, turnover) = match self.category {
            Category::Inverse => (w.quote.clone(), w.base.clone()),
            Category::Spot | Category::Linear => (w.base.clone(), w.quote.clone()),
        };
        [
            w.open_time.to_string(),
            w.open.clone(),
            w.high.clone(),
            w.low.clone(),
            w.close.clone(),
            volume,
            turnover,
        ]
    }
}
