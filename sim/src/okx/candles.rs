//! `GET /api/v5/market/candles` and `/api/v5/market/history-candles`.

use super::catalog::{LookupError, Series};
use super::{Ctx, OkxError};
use crate::data::calendar::MAX_TIME;
use crate::params::Query;

/// Rows returned when `limit` is not sent (both endpoints).
const DEFAULT_LIMIT: usize = 100;
/// Largest `candles` page; larger `limit` values are served as this many.
const CANDLES_MAX: usize = 300;
/// Largest `history-candles` page (the safe reading of the docs).
const HISTORY_MAX: usize = 100;
/// Bars `candles` keeps per bar size (the newest ones, the open one included).
pub(crate) const CANDLES_KEPT: usize = 1440;
/// How far back `history-candles` keeps `1s` bars (three months, as 90 days).
pub(crate) const ONE_SECOND_KEPT_MS: i64 = crate::quirks::OKX_ONE_SECOND_KEPT_MS;

/// `market/candles`: only the newest 1,440 bars of the bar size; no `1s`.
pub(crate) fn candles(ctx: &Ctx, q: &Query) -> Result<String, OkxError> {
    page(ctx, q, false)
}

/// `market/history-candles`: everything since listing (`1s`: 90 days).
pub(crate) fn history_candles(ctx: &Ctx, q: &Query) -> Result<String, OkxError> {
    page(ctx, q, true)
}

/// An optional integer parameter; 51000 if it is not one.
pub(crate) fn int(q: &Query, name: &str) -> Result<Option<i64>, OkxError> {
    q.int(name).map_err(|_| OkxError::param(name))
}

/// One page, newest first: the newest `limit` bars with `before < ts <
/// after` (both exclusive; either may be absent, so `before` alone gives
/// the newest page). `bar` defaults to `1m`; `limit` defaults to 100, larger
/// values than the cap (300 `candles`, 100 `history-candles`) are served as
/// the cap, below 1 is 51000.
fn page(ctx: &Ctx, q: &Query, history: bool) -> Result<String, OkxError> {
    let inst_id = q.text("instId").ok_or_else(|| OkxError::empty("instId"))?;
    let bar = q.text("bar").unwrap_or("1m");
    let after = int(q, "after")?;
    let before = int(q, "before")?;
    let cap = if history { HISTORY_MAX } else { CANDLES_MAX };
    let limit = match int(q, "limit")? {
        None => DEFAULT_LIMIT,
        Some(n) if n >= 1 => usize::try_from(n).unwrap_or(cap).min(cap),
        Some(_) => return Err(OkxError::param("limit")),
    };
    if !history && bar == "1s" {
        return Err(OkxError::param("bar"));
    }
    let series = Series::lookup(None, inst_id, bar).map_err(|e| match e {
        LookupError::Instrument => OkxError::instrument(),
        LookupError::Bar => OkxError::param("bar"),
    })?;
    let now = ctx.now;
    let bars = &series.bars;
    let hi = after.map_or(MAX_TIME, |a| a.saturating_sub(1));
    let mut lo = before.map_or(0, |b| b.saturating_add(1));
    if !history {
        lo = lo.max(bars.nth_newest_slot(CANDLES_KEPT, now));
    } else if bar == "1s" {
        lo = lo.max(now - ONE_SECOND_KEPT_MS);
    }
    let mut rows = bars.newest(lo, hi, limit, now);
    rows.reverse();
    let rows: Vec<[String; 9]> = rows.iter().map(|c| series.row(c, now)).collect();
    Ok(serde_json::to_string(&rows).unwrap_or_else(|_| "[]".to_string()))
}
