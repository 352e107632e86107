//! `GET /v5/market/recent-trade`, `/v5/market/funding/history` and `/v5/market/orderbook`.

use serde_json::{json, Value};

use super::catalog::{instrument, Category};
use super::klines::int;
use super::{BybitError, Ctx};
use crate::data::calendar::MAX_TIME;
use crate::data::decimal::fmt_trim;
use crate::data::hash::mix;
use crate::data::instrument::Instrument;
use crate::data::trades::Trade;
use crate::params::Query;

/// A required `category`, one of `allowed`.
fn category(q: &Query, allowed: &[Category]) -> Result<Category, BybitError> {
    let name = q.text("category").ok_or_else(|| BybitError::params_error("category is required"))?;
    Category::parse(name)
        .filter(|c| allowed.contains(c))
        .ok_or_else(|| BybitError::params_error("Category is invalid"))
}

/// The required `symbol` of `category`.
fn symbol(q: &Query, category: Category) -> Result<&'static Instrument, BybitError> {
    let name = q.text("symbol").ok_or_else(|| BybitError::params_error("symbol is required"))?;
    instrument(category, name).ok_or_else(|| BybitError::params("Not supported symbols"))
}

/// `limit` with a default and a cap (larger values are served as the cap; below 1 is 10001).
fn limit(q: &Query, default: usize, cap: usize) -> Result<usize, BybitError> {
    match int(q, "limit")? {
        None => Ok(default),
        Some(n) if n >= 1 => Ok(usize::try_from(n).unwrap_or(cap).min(cap)),
        Some(_) => Err(BybitError::params_error("limit is invalid")),
    }
}

/// A UUID-shaped `execId` derived from the trade.
pub(crate) fn exec_id(inst: &Instrument, index: i64) -> String {
    let a = mix(&[crate::data::hash::str_seed(inst.name), index as u64]);
    let b = mix(&[a, 1]);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        0x5000 | (a & 0x0fff),
        0x8000 | (b >> 50),
        b & 0xffff_ffff_ffff
    )
}

/// One `recent-trade` row.
pub(crate) fn trade_json(inst: &Instrument, t: &Trade) -> Value {
    json!({
        "execId": exec_id(inst, t.index),
        "symbol": inst.name,
        "price": inst.price_text(t.price),
        "size": inst.qty_text(t.qty),
        "side": if t.buyer_maker { "Sell" } else { "Buy" },
        "time": t.time.to_string(),
        "isBlockTrade": false,
        "isRPITrade": false,
        "seq": t.index.to_string(),
    })
}

/// The newest trades, newest first: spot default and max 60; linear and
/// inverse default 500, max 1000 (larger limits are served as the max).
/// Only these are served: older trades are in Bybit's archives.
pub(crate) fn recent_trade(ctx: &Ctx, q: &Query) -> Result<String, BybitError> {
    let category = category(q, &[Category::Spot, Category::Linear, Category::Inverse])?;
    let inst = symbol(q, category)?;
    let (default, cap) = if category == Category::Spot { (60, 60) } else { (500, 1000) };
    let limit = limit(q, default, cap)?;
    let stream = inst.trades(category.market_key());
    let list: Vec<Value> =
        stream.trades_newest(0, MAX_TIME, limit, ctx.now).iter().rev().map(|t| trade_json(inst, t)).collect();
    Ok(json!({ "category": category.name(), "list": list }).to_string())
}

/// Funding history, newest first (`linear`/`inverse`): `endTime` only →
/// the `limit` rows up to it; both → the newest `limit` in range; neither →
/// the newest `limit`; `startTime` alone is 10001. `limit`: default and max 200.
pub(crate) fn funding_history(ctx: &Ctx, q: &Query) -> Result<String, BybitError> {
    let category = category(q, &[Category::Linear, Category::Inverse])?;
    let inst = symbol(q, category)?;
    let (start, end) = (int(q, "startTime")?, int(q, "endTime")?);
    if start.is_some() && end.is_none() {
        return Err(BybitError::params_error("endTime is required when startTime is sent"));
    }
    let limit = limit(q, 200, 200)?;
    let times = match inst.funding(category.market_key(), &[]) {
        Some(s) => s
            .newest(start.unwrap_or(0), end.unwrap_or(MAX_TIME), limit, ctx.now)
            .into_iter()
            .map(|t| (t, s.rate(t)))
            .collect(),
        None => Vec::new(),
    };
    let list: Vec<Value> = times
        .iter()
        .rev()
        .map(|&(t, rate)| {
            json!({ "symbol": inst.name, "fundingRate": fmt_trim(i128::from(rate), 8), "fundingRateTimestamp": t.to_string() })
        })
        .collect();
    Ok(json!({ "category": category.name(), "list": list }).to_string())
}

/// The order book: `s`, `b` (bids, best first), `a` (asks, best first),
/// `ts`, `u`, `seq`, `cts`. Depth: spot default 1, linear/inverse default
/// 25; at most 1000 (larger values are served as 1000).
pub(crate) fn orderbook(ctx: &Ctx, q: &Query) -> Result<String, BybitError> {
    let category = category(q, &[Category::Spot, Category::Linear, Category::Inverse])?;
    let inst = symbol(q, category)?;
    let default = if category == Category::Spot { 1 } else { 25 };
    let levels = limit(q, default, 1000)?;
    let b = inst.book(category.market_key(), levels, ctx.now);
    let side = |v: &[(i64, i64)]| -> Vec<[String; 2]> {
        v.iter().map(|&(p, s)| [inst.price_text(p), inst.qty_text(s)]).collect()
    };
    Ok(json!({
        "s": inst.name,
        "b": side(&b.bids),
        "a": side(&b.asks),
        "ts": b.time,
        "u": b.update_id,
        "seq": b.update_id * 7 + 3,
        "cts": b.time - 1,
    })
    .to_string())
}
