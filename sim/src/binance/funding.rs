//! `GET /fapi/v1/fundingRate` (USDⓈ-M).

use super::catalog::{funding_hours, spec_of, symbol_def, symbol_defs, BinanceMarket, SymbolDef};
use super::error::ApiError;
use super::query::{check_symbol_chars, Params};
use super::Ctx;
use crate::data::calendar::MAX_TIME;
use crate::data::decimal::fmt;
use crate::data::funding::FundingSchedule;

/// Hour, ms.
const HOUR_MS: i64 = 3_600_000;

/// One funding row's wire values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WireFunding {
    /// `symbol`.
    pub symbol: &'static str,
    /// `fundingTime`.
    pub time: i64,
    /// `fundingRate` (8 decimals).
    pub rate: String,
    /// `markPrice` (8 decimals).
    pub mark_price: String,
}

/// The funding schedule of a UM symbol: from the first funding time after
/// its true listing, none while it was delisted.
pub(crate) fn schedule(def: &SymbolDef) -> FundingSchedule {
    let spec = spec_of(BinanceMarket::UsdM, def);
    let s = FundingSchedule::new(spec.seed, def.listed_ms, funding_hours(def.symbol) * HOUR_MS, &[]);
    match def.delisted {
        Some((from, to)) => s.with_gap(from, to),
        None => s,
    }
}

/// The wire values of funding time `t`.
pub(crate) fn wire(def: &'static SymbolDef, s: &FundingSchedule, t: i64) -> WireFunding {
    let spec = spec_of(BinanceMarket::UsdM, def);
    WireFunding {
        symbol: def.symbol,
        time: t,
        rate: fmt(i128::from(s.rate(t)), 8, 8),
        mark_price: fmt(i128::from(spec.price_at(t)), def.price_scale, 8),
    }
}

/// Funding rows, oldest first, bounds inclusive: `startTime` → the first
/// `limit` from it (not past `endTime`); `endTime` only → the newest
/// `limit` up to it; none → the newest `limit`. Without `symbol`, every
/// symbol's rows merged by time. `limit`: default 100, max 1000.
pub(crate) fn funding_rate(ctx: &Ctx<'_>, pairs: Vec<(String, String)>) -> Result<String, ApiError> {
    let p = Params::new(pairs, &["symbol", "startTime", "endTime", "limit"])?;
    let defs: Vec<&'static SymbolDef> = match p.get("symbol") {
        Some(symbol) => {
            check_symbol_chars(symbol)?;
            vec![symbol_def(BinanceMarket::UsdM, symbol).ok_or_else(ApiError::symbol)?]
        }
        None => symbol_defs(BinanceMarket::UsdM).iter().collect(),
    };
    let (start, end) = (p.number("startTime")?, p.number("endTime")?);
    let limit = match p.number("limit")? {
        None => 100,
        Some(n) if (1..=1000).contains(&n) => n as usize,
        Some(_) => return Err(ApiError::invalid_value("limit")),
    };
    let now = ctx.now;
    let hi = end.unwrap_or(MAX_TIME);
    let mut rows: Vec<WireFunding> = Vec::new();
    for def in &defs {
        let s = schedule(def);
        let times = match start {
            Some(lo) => s.oldest(lo, hi, limit, now),
            None => s.newest(0, hi, limit, now),
        };
        rows.extend(times.into_iter().map(|t| wire(def, &s, t)));
    }
    rows.sort_by_key(|r| r.time);
    if start.is_some() {
        rows.truncate(limit);
    } else {
        let cut = rows.len().saturating_sub(limit);
        rows.drain(..cut);
    }
    let items: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                r#"{{"symbol":"{}","fundingTime":{},"fundingRate":"{}","markPrice":"{}"}}"#,
                r.symbol, r.time, r.rate, r.mark_price
            )
        })
        .collect();
    Ok(format!("[{}]", items.join(",")))
}
