//! `GET /v5/market/kline`.

use serde_json::json;

use super::catalog::{Category, LookupError, Series};
use super::{BybitError, Ctx};
use crate::data::calendar::MAX_TIME;
use crate::params::Query;

/// Rows returned when `limit` is not sent.
const DEFAULT_LIMIT: usize = 200;
/// Largest page; larger `limit` values are served as this many rows.
const MAX_LIMIT: usize = 1000;

/// The category of a request: `linear` when absent; anything but `spot`,
/// `linear` and `inverse` (e.g. `option`) is 10001 `Category is invalid`.
pub(crate) fn category(q: &Query) -> Result<Category, BybitError> {
    match q.text("category") {
        None => Ok(Category::Linear),
        Some(c) => Category::parse(c).ok_or_else(|| BybitError::params_error("Category is invalid")),
    }
}

/// An optional integer parameter; 10001 if it is not one.
pub(crate) fn int(q: &Query, name: &str) -> Result<Option<i64>, BybitError> {
    q.int(name).map_err(|_| BybitError::params_error(&format!("{name} is invalid")))
}

/// The kline page, rows newest first.
///
/// Bounds filter on open time, both inclusive: none → the newest `limit`;
/// `start` only → the **oldest** `limit` with open ≥ start; `end` only →
/// the newest `limit` with open ≤ end; both → the newest `limit` with
/// start ≤ open ≤ end. The bar containing the simulated now is included
/// (close = last price). `limit`: default 200; above 1000 served as 1000;
/// below 1 is 10001.
pub(crate) fn kline(ctx: &Ctx, q: &Query) -> Result<String, BybitError> {
    let category = category(q)?;
    let symbol = q.text("symbol").ok_or_else(|| BybitError::params_error("symbol is required"))?;
    let interval = q.text("interval").ok_or_else(|| BybitError::params_error("Invalid period"))?;
    let start = int(q, "start")?;
    let end = int(q, "end")?;
    let limit = match int(q, "limit")? {
        None => DEFAULT_LIMIT,
        Some(n) if n >= 1 => usize::try_from(n).unwrap_or(MAX_LIMIT).min(MAX_LIMIT),
        Some(_) => return Err(BybitError::params_error("limit is invalid")),
    };
    let series = Series::lookup(category, symbol, interval).map_err(|e| match e {
        LookupError::Symbol => BybitError::params(e.message()),
        LookupError::Interval => BybitError { code: 10001, msg: e.message().to_string() },
    })?;
    let now = ctx.now;
    let bars = &series.bars;
    let mut candles = match (start, end) {
        (None, None) => bars.newest(0, MAX_TIME, limit, now),
        (Some(s), None) => bars.oldest(s, MAX_TIME, limit, now),
        (None, Some(e)) => bars.newest(0, e, limit, now),
        (Some(s), Some(e)) => bars.newest(s, e, limit, now),
    };
    candles.reverse();
    let list: Vec<[String; 7]> = candles.iter().map(|c| series.row(&series.wire(c, now))).collect();
    Ok(json!({ "symbol": symbol, "category": category.name(), "list": list }).to_string())
}
