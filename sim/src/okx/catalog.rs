//! What OKX holds: instrument types, instruments, bar codes (UTC+8 and
//! `utc` buckets) and the wire text of a candle row.

use crate::data::bars::Bars;
use crate::data::calendar::{Grid, Span, DAY_MS};
use crate::data::instrument::{Instrument, Sizing, WireBar};
use crate::data::series::RawCandle;
use crate::quirks;

/// Hour, ms.
const H: i64 = 3_600_000;
/// OKX's calendar time zone for `6H`..`3M`: UTC+8.
const UTC8: i64 = 8 * H;

/// An OKX instrument type served by the simulator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InstType {
    /// `SPOT`.
    Spot,
    /// `SWAP`: perpetuals.
    Swap,
    /// `FUTURES`: dated futures.
    Futures,
}

impl InstType {
    /// The type of an `instType=` value (`MARGIN` and `OPTION` are valid
    /// OKX types the simulator holds nothing of: `Ok(None)`).
    pub(crate) fn parse(text: &str) -> Result<Option<InstType>, ()> {
        match text {
            "SPOT" => Ok(Some(InstType::Spot)),
            "SWAP" => Ok(Some(InstType::Swap)),
            "FUTURES" => Ok(Some(InstType::Futures)),
            "MARGIN" | "OPTION" => Ok(None),
            _ => Err(()),
        }
    }

    /// The wire name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            InstType::Spot => "SPOT",
            InstType::Swap => "SWAP",
            InstType::Futures => "FUTURES",
        }
    }

    /// Seed key of the type's price model.
    pub(crate) fn market_key(self) -> &'static str {
        match self {
            InstType::Spot => "okx-spot",
            InstType::Swap => "okx-swap",
            InstType::Futures => "okx-futures",
        }
    }
}

/// Every bar code, exactly as OKX spells it (case-sensitive): `1s`
/// (history only), the intraday ones, the UTC+8 ones, then the `utc` ones.
pub(crate) const BARS: [&str; 25] = [
    "1s", "1m", "3m", "5m", "15m", "30m", "1H", "2H", "4H", "6H", "12H", "1D", "2D", "3D", "1W", "1M", "3M",
    "6Hutc", "12Hutc", "1Dutc", "2Dutc", "3Dutc", "1Wutc", "1Mutc", "3Mutc",
];

/// Slot layout of a bar code: `6H`..`3M` on the UTC+8 clock (so `1D` opens
/// at 16:00 UTC, `1W` on Sunday 16:00 UTC), their `utc` twins on UTC;
/// `2D`/`3D` count whole days since 1970-01-01 on their clock.
pub(crate) fn grid_of(code: &str) -> Option<Grid> {
    let (base, offset) = match code.strip_suffix("utc") {
        Some(base) => (base, 0),
        None => (code, UTC8),
    };
    let span = match base {
        "1s" | "1m" | "3m" | "5m" | "15m" | "30m" | "1H" | "2H" | "4H" if offset == UTC8 => {
            let n: i64 = base[..base.len() - 1].parse().ok()?;
            let unit = match &base[base.len() - 1..] {
                "s" => 1_000,
                "m" => 60_000,
                _ => H,
            };
            return Some(Grid::utc(Span::Fixed(n * unit)));
        }
        "6H" => Span::Fixed(6 * H),
        "12H" => Span::Fixed(12 * H),
        "1D" => Span::Fixed(DAY_MS),
        "2D" => Span::Fixed(2 * DAY_MS),
        "3D" => Span::Fixed(3 * DAY_MS),
        "1W" => Span::Week,
        "1M" => Span::Month,
        "3M" => Span::Quarter,
        _ => return None,
    };
    Some(Grid { span, offset_ms: offset })
}

/// The template every instrument starts from.
const BASE: Instrument = Instrument {
    name: "",
    base: "BTC",
    quote: "USDT",
    settle: "USDT",
    listed_ms: 1_515_628_800_000,
    expiry_ms: None,
    base_price: 300_030,
    price_scale: 1,
    price_tick: 1,
    qty_scale: 0,
    sizing: Sizing::Linear { ct_val: 1, ct_scale: 2 },
    qty_per_min: 10_000,
    trades_per_min: 800,
    quiet: true,
    funding_hours: 0,
    listing_lag_ms: 0,
    burst: None,
};

/// Spot instruments.
const SPOT: [Instrument; 2] = [
    Instrument {
        name: "BTC-USDT",
        qty_scale: 8,
        sizing: Sizing::Base,
        qty_per_min: 3_000_000_000,
        trades_per_min: 300,
        ..BASE
    },
    Instrument {
        name: "ETH-USDT",
        base: "ETH",
        base_price: 200_020,
        price_scale: 2,
        qty_scale: 6,
        sizing: Sizing::Base,
        qty_per_min: 400_000_000,
        trades_per_min: 250,
        ..BASE
    },
];

/// Perpetual swaps (`sz`/`vol` in contracts of `ctVal`); SOL-USDT-SWAP
/// publishes a `listTime` 30 days after its first candle.
const SWAP: [Instrument; 4] = [
    Instrument { name: "BTC-USDT-SWAP", listed_ms: 1_611_878_400_000, funding_hours: 8, ..BASE },
    Instrument {
        name: "ETH-USDT-SWAP",
        base: "ETH",
        listed_ms: 1_611_878_400_000,
        base_price: 200_060,
        price_scale: 2,
        sizing: Sizing::Linear { ct_val: 1, ct_scale: 1 },
        trades_per_min: 600,
        funding_hours: 8,
        ..BASE
    },
    Instrument {
        name: "BTC-USD-SWAP",
        quote: "USD",
        settle: "BTC",
        listed_ms: 1_544_486_400_000,
        base_price: 300_040,
        sizing: Sizing::Inverse { ct_val: 100 },
        qty_per_min: 5_000,
        trades_per_min: 300,
        funding_hours: 8,
        ..BASE
    },
    Instrument {
        name: quirks::OKX_SWAP_LATE_LISTED,
        base: "SOL",
        listed_ms: quirks::LATE_LISTING_TRUE_MS,
        listing_lag_ms: quirks::LATE_LISTING_LAG_MS,
        base_price: 10_010,
        price_scale: 2,
        qty_scale: 2,
        sizing: Sizing::Linear { ct_val: 1, ct_scale: 0 },
        qty_per_min: 500_000,
        trades_per_min: 400,
        funding_hours: 8,
        ..BASE
    },
];

/// Dated futures: the September 2025 quarterly, listed when the March one
/// expired (2025-03-28 08:00 UTC), expiring 2025-09-26 08:00 UTC.
const FUTURES: [Instrument; 1] = [Instrument {
    name: "BTC-USDT-250926",
    listed_ms: 1_743_148_800_000,
    expiry_ms: Some(1_758_873_600_000),
    base_price: 300_090,
    qty_per_min: 2_000,
    trades_per_min: 100,
    ..BASE
}];

/// The instruments of a type, in catalog order.
pub(crate) fn instruments(inst_type: InstType) -> &'static [Instrument] {
    match inst_type {
        InstType::Spot => &SPOT,
        InstType::Swap => &SWAP,
        InstType::Futures => &FUTURES,
    }
}

/// Looks an instrument up by its exact `instId` (of type `inst_type` if given).
pub(crate) fn instrument(
    inst_type: Option<InstType>,
    inst_id: &str,
) -> Option<(InstType, &'static Instrument)> {
    [InstType::Spot, InstType::Swap, InstType::Futures]
        .into_iter()
        .filter(|t| inst_type.is_none_or(|wanted| wanted == *t))
        .find_map(|t| instruments(t).iter().find(|i| i.name == inst_id).map(|i| (t, i)))
}

/// Why a series lookup failed, with OKX's message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LookupError {
    /// Unknown `instId` (51001).
    Instrument,
    /// Unknown `bar` (51000).
    Bar,
}

impl LookupError {
    /// OKX's `msg`.
    pub(crate) fn message(self) -> &'static str {
        match self {
            LookupError::Instrument => "Instrument ID does not exist",
            LookupError::Bar => "Parameter bar error",
        }
    }
}

/// One candle series.
pub(crate) struct Series {
    /// The instrument.
    pub inst: &'static Instrument,
    /// Its bars at the bar size.
    pub bars: Bars,
}

impl Series {
    /// The series of `inst_id` (of type `inst_type` if given) at bar code `bar`.
    pub(crate) fn lookup(
        inst_type: Option<InstType>,
        inst_id: &str,
        bar: &str,
    ) -> Result<Series, LookupError> {
        let (inst_type, inst) = instrument(inst_type, inst_id).ok_or(LookupError::Instrument)?;
        let grid = grid_of(bar).ok_or(LookupError::Bar)?;
        Ok(Series { inst, bars: inst.bars(inst_type.market_key(), grid, bar) })
    }

    /// The 9-string row `[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]`:
    /// `vol` is contracts for derivatives and base for spot; `volCcy` base
    /// for derivatives and quote for spot; `volCcyQuote` quote.
    pub(crate) fn row(&self, c: &RawCandle, now: i64) -> [String; 9] {
        let w: WireBar = self.inst.wire(&self.bars, c, now);
        let (vol, vol_ccy) = match &w.contracts {
            Some(contracts) => (contracts.clone(), w.base.clone()),
            None => (w.base.clone(), w.quote.clone()),
        };
        let confirm = if w.confirmed { "1" } else { "0" };
        [w.open_time.to_string(), w.open, w.high, w.low, w.close, vol, vol_ccy, w.quote, confirm.to_string()]
    }
}
