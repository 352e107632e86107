//! What Deribit holds: instruments (inverse and linear perpetuals, a dated
//! future, a spot pair, and two USDC perpetuals carrying quirks), chart
//! resolutions and the wire values of a bar.

use crate::data::bars::Bars;
use crate::data::calendar::{Grid, Span, DAY_MS};
use crate::data::instrument::{Instrument, Sizing};
use crate::quirks;

/// Chart resolutions (minutes, or `1D`), exactly as Deribit spells them.
pub(crate) const RESOLUTIONS: [&str; 12] =
    ["1", "3", "5", "10", "15", "30", "60", "120", "180", "360", "720", "1D"];

/// Seed key of Deribit's price models.
const MARKET_KEY: &str = "deribit";

/// Slot layout of a resolution (all on the UTC clock).
fn span_of(code: &str) -> Option<Span> {
    if code == "1D" {
        return Some(Span::Fixed(DAY_MS));
    }
    RESOLUTIONS.contains(&code).then(|| code.parse::<i64>().ok().map(|m| Span::Fixed(m * 60_000))).flatten()
}

/// What kind of instrument (for `get_instruments`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Perpetual or dated future, inverse (`reversed`) or linear.
    Future,
    /// Spot pair.
    Spot,
}

/// Deribit's facts beyond the shared instrument model.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DeribitDef {
    /// The shared model.
    pub inst: Instrument,
    /// `kind`.
    pub kind: Kind,
    /// `contract_size` (and `min_trade_amount`) as decimal text.
    pub contract_size: &'static str,
    /// `instrument_id`.
    pub id: u32,
}

/// The template every instrument starts from.
const BASE: Instrument = Instrument {
    name: "",
    base: "BTC",
    quote: "USD",
    settle: "BTC",
    listed_ms: 1_534_167_754_000,
    expiry_ms: None,
    base_price: 300_060,
    price_scale: 1,
    price_tick: 5,
    qty_scale: 0,
    sizing: Sizing::Inverse { ct_val: 10 },
    qty_per_min: 100_000,
    trades_per_min: 500,
    quiet: true,
    funding_hours: 1,
    listing_lag_ms: 0,
    burst: None,
};

/// The catalog, in `get_instruments` order.
const DEFS: [DeribitDef; 7] = [
    DeribitDef {
        inst: Instrument { name: "BTC-PERPETUAL", ..BASE },
        kind: Kind::Future,
        contract_size: "10",
        id: 124_972,
    },
    DeribitDef {
        inst: Instrument {
            name: "ETH-PERPETUAL",
            base: "ETH",
            settle: "ETH",
            listed_ms: 1_548_115_200_000,
            base_price: 200_030,
            price_scale: 2,
            sizing: Sizing::Inverse { ct_val: 1 },
            qty_per_min: 500_000,
            trades_per_min: 300,
            ..BASE
        },
        kind: Kind::Future,
        contract_size: "1",
        id: 124_973,
    },
    DeribitDef {
        inst: Instrument {
            name: "BTC_USDT-PERPETUAL",
            quote: "USDT",
            settle: "USDT",
            listed_ms: 1_669_075_200_000,
            base_price: 30_008,
            price_scale: 0,
            price_tick: 1,
            qty_scale: 3,
            sizing: Sizing::Base,
            qty_per_min: 5_000,
            trades_per_min: 100,
            ..BASE
        },
        kind: Kind::Future,
        contract_size: "0.001",
        id: 210_761,
    },
    DeribitDef {
        inst: Instrument {
            name: "BTC-27JUN25",
            listed_ms: 1_727_424_000_000,
            expiry_ms: Some(1_751_011_200_000),
            base_price: 300_150,
            price_tick: 25,
            qty_per_min: 10_000,
            trades_per_min: 60,
            funding_hours: 0,
            ..BASE
        },
        kind: Kind::Future,
        contract_size: "10",
        id: 402_131,
    },
    DeribitDef {
        inst: Instrument {
            name: "BTC_USDT",
            quote: "USDT",
            settle: "USDT",
            listed_ms: 1_679_529_600_000,
            base_price: 30_002,
            price_scale: 0,
            price_tick: 1,
            qty_scale: 4,
            sizing: Sizing::Base,
            qty_per_min: 20_000,
            trades_per_min: 40,
            funding_hours: 0,
            ..BASE
        },
        kind: Kind::Spot,
        contract_size: "0.0001",
        id: 250_873,
    },
    // Publishes a `creation_timestamp` 30 days after its first candle.
    DeribitDef {
        inst: Instrument {
            name: quirks::DERIBIT_LATE_LISTED,
            base: "SOL",
            quote: "USDC",
            settle: "USDC",
            listed_ms: quirks::LATE_LISTING_TRUE_MS,
            listing_lag_ms: quirks::LATE_LISTING_LAG_MS,
            base_price: 10_020,
            price_scale: 2,
            price_tick: 1,
            qty_scale: 1,
            sizing: Sizing::Base,
            qty_per_min: 20_000,
            trades_per_min: 80,
            ..BASE
        },
        kind: Kind::Future,
        contract_size: "0.1",
        id: 413_207,
    },
    // 2,500 trades in one millisecond (`quirks::DERIBIT_BURST_MS`).
    DeribitDef {
        inst: Instrument {
            name: quirks::DERIBIT_BURST_INSTRUMENT,
            base: "XRP",
            quote: "USDC",
            settle: "USDC",
            listed_ms: 1_647_302_400_000,
            base_price: 5_000,
            price_scale: 4,
            price_tick: 1,
            qty_scale: 0,
            sizing: Sizing::Base,
            qty_per_min: 200_000,
            trades_per_min: 60,
            burst: Some((quirks::DERIBIT_BURST_MS, quirks::DERIBIT_BURST_TRADES)),
            ..BASE
        },
        kind: Kind::Future,
        contract_size: "1",
        id: 287_019,
    },
];

/// The instruments' shared models, in catalog order.
const INSTRUMENTS: [Instrument; 7] =
    [DEFS[0].inst, DEFS[1].inst, DEFS[2].inst, DEFS[3].inst, DEFS[4].inst, DEFS[5].inst, DEFS[6].inst];

/// Every instrument's shared model, in catalog order.
pub(crate) fn instruments() -> &'static [Instrument] {
    &INSTRUMENTS
}

/// Every instrument with Deribit's own facts, in catalog order.
pub(crate) fn defs() -> &'static [DeribitDef] {
    &DEFS
}

/// Whether `name` is shaped like a Deribit instrument name (upper-case
/// letters, digits, `_`, `-`, and `d` as the decimal point of option
/// strikes; starting with a letter).
pub(crate) fn well_formed(name: &str) -> bool {
    name.len() <= 64
        && name.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
        && name.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b"_-d".contains(&b))
}

/// Why a series lookup failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LookupError {
    /// Well-formed but unknown instrument (13020 `not_found`).
    Instrument,
    /// Malformed instrument name (-32602, `wrong format`).
    InstrumentFormat,
    /// Unknown resolution (-32602, `wrong format`).
    Resolution,
}

impl LookupError {
    /// The error's message (`not_found`, `wrong format`).
    pub(crate) fn message(self) -> &'static str {
        match self {
            LookupError::Instrument => "not_found",
            LookupError::InstrumentFormat | LookupError::Resolution => "wrong format",
        }
    }
}

/// One chart series.
pub(crate) struct Series {
    /// The instrument.
    pub inst: &'static Instrument,
    /// Its bars at the resolution.
    pub bars: Bars,
}

impl Series {
    /// The series of `name` at `resolution`.
    pub(crate) fn lookup(name: &str, resolution: &str) -> Result<Series, LookupError> {
        if !well_formed(name) {
            return Err(LookupError::InstrumentFormat);
        }
        let span = span_of(resolution).ok_or(LookupError::Resolution)?;
        let inst = INSTRUMENTS.iter().find(|i| i.name == name).ok_or(LookupError::Instrument)?;
        Ok(Series { inst, bars: inst.bars(MARKET_KEY, Grid::utc(span), resolution) })
    }
}
