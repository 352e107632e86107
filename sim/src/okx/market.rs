//! `GET /api/v5/market/trades`, `/market/history-trades`,
//! `/public/funding-rate-history` and `/market/books`.

use serde_json::{json, Value};

use super::candles::int;
use super::catalog::{instrument, InstType};
use super::{Ctx, OkxError};
use crate::data::calendar::MAX_TIME;
use crate::data::decimal::fmt_trim;
use crate::data::funding::FundingSchedule;
use crate::data::hash::mix;
use crate::data::instrument::Instrument;
use crate::data::trades::{Trade, TradeStream};
use crate::params::Query;

/// How far back trade history reaches (three months, as 90 days).
pub(crate) const HISTORY_DEPTH_MS: i64 = crate::quirks::OKX_HISTORY_TRADES_KEPT_MS;
/// How far back funding history reaches (three months, as 90 days).
const FUNDING_DEPTH_MS: i64 = crate::quirks::OKX_FUNDING_HISTORY_KEPT_MS;
/// ETH-USDT-SWAP funds every 4 h from 2024-01-01 00:00 UTC (8 h before).
pub(crate) const ETH_SWAP_CUT: (i64, i64) = (1_704_067_200_000, 4 * 3_600_000);

/// The required `instId` and its type.
fn inst_of(q: &Query) -> Result<(InstType, &'static Instrument), OkxError> {
    let id = q.text("instId").ok_or_else(|| OkxError::empty("instId"))?;
    instrument(None, id).ok_or_else(OkxError::instrument)
}

/// `limit` with a default and a cap (larger values are served as the cap;
/// below 1 is 51000).
fn limit(q: &Query, default: usize, cap: usize) -> Result<usize, OkxError> {
    match int(q, "limit")? {
        None => Ok(default),
        Some(n) if n >= 1 => Ok(usize::try_from(n).unwrap_or(cap).min(cap)),
        Some(_) => Err(OkxError::param("limit")),
    }
}

/// The trade stream of an instrument (`sz` in contracts for derivatives).
pub(crate) fn stream(inst_type: InstType, inst: &Instrument) -> TradeStream {
    inst.trades(inst_type.market_key())
}

/// The funding schedule of a swap (ETH-USDT-SWAP cuts 8 h to 4 h).
pub(crate) fn schedule(inst_type: InstType, inst: &Instrument) -> Option<FundingSchedule> {
    if inst_type != InstType::Swap {
        return None;
    }
    let changes: &[(i64, i64)] = if inst.name == "ETH-USDT-SWAP" { &[ETH_SWAP_CUT] } else { &[] };
    inst.funding(inst_type.market_key(), changes)
}

/// One trade row (all strings).
pub(crate) fn trade_json(inst: &Instrument, t: &Trade) -> Value {
    json!({
        "instId": inst.name,
        "tradeId": t.index.to_string(),
        "px": inst.price_text(t.price),
        "sz": inst.qty_text(t.qty),
        "side": if t.buyer_maker { "sell" } else { "buy" },
        "source": "0",
        "ts": t.time.to_string(),
    })
}

/// Rows as a JSON array text, newest first.
fn newest_first(inst: &Instrument, trades: &[Trade]) -> String {
    Value::from(trades.iter().rev().map(|t| trade_json(inst, t)).collect::<Vec<_>>()).to_string()
}

/// `market/trades`: the newest `limit` trades (default 100, max 500), newest first.
pub(crate) fn trades(ctx: &Ctx, q: &Query) -> Result<String, OkxError> {
    let (inst_type, inst) = inst_of(q)?;
    let limit = limit(q, 100, 500)?;
    let trades = stream(inst_type, inst).trades_newest(0, MAX_TIME, limit, ctx.now);
    Ok(newest_first(inst, &trades))
}

/// `market/history-trades`, newest first, the last three months only.
/// `type=1` (default): `after`/`before` are trade ids (`tradeId < after`,
/// `> before`); `type=2`: timestamps, the same way. The newest `limit`
/// (default and max 100) of the range.
pub(crate) fn history_trades(ctx: &Ctx, q: &Query) -> Result<String, OkxError> {
    let (inst_type, inst) = inst_of(q)?;
    let by_time = match q.text("type") {
        None | Some("1") => false,
        Some("2") => true,
        Some(_) => return Err(OkxError::param("type")),
    };
    let (after, before) = (int(q, "after")?, int(q, "before")?);
    let limit = limit(q, 100, 100)?;
    let s = stream(inst_type, inst);
    let now = ctx.now;
    let oldest = now - HISTORY_DEPTH_MS;
    let trades = if by_time {
        let lo = before.map_or(oldest, |b| b.saturating_add(1).max(oldest));
        let hi = after.map_or(MAX_TIME, |a| a.saturating_sub(1));
        s.trades_newest(lo, hi, limit, now)
    } else {
        let end = after.map_or(i64::MAX, |a| a.max(0)).min(s.count_at(now));
        let lo = before.map_or(0, |b| b.saturating_add(1)).max(s.trades_before(oldest));
        let start = lo.max(end - limit as i64);
        if start >= end {
            Vec::new()
        } else {
            s.trades_from(start, MAX_TIME, (end - start) as usize, now)
        }
    };
    Ok(newest_first(inst, &trades))
}

/// `public/funding-rate-history` (swaps only), newest first, the last
/// three months: `fundingTime < after`, `> before`; the newest `limit`
/// (default and max 100) of the range. `fundingRate` is the rate predicted
/// before settlement, `realizedRate` the settled one.
pub(crate) fn funding_rate_history(ctx: &Ctx, q: &Query) -> Result<String, OkxError> {
    let (inst_type, inst) = inst_of(q)?;
    let schedule = schedule(inst_type, inst).ok_or_else(OkxError::instrument)?;
    let (after, before) = (int(q, "after")?, int(q, "before")?);
    let limit = limit(q, 100, 100)?;
    let now = ctx.now;
    let lo = before.map_or(0, |b| b.saturating_add(1)).max(now - FUNDING_DEPTH_MS);
    let hi = after.map_or(MAX_TIME, |a| a.saturating_sub(1));
    let rows: Vec<Value> = schedule
        .newest(lo, hi, limit, now)
        .iter()
        .rev()
        .map(|&t| {
            json!({
                "instType": "SWAP",
                "instId": inst.name,
                "formulaType": "noRate",
                "fundingRate": fmt_trim(i128::from(schedule.predicted_rate(t)), 8),
                "realizedRate": fmt_trim(i128::from(schedule.rate(t)), 8),
                "fundingTime": t.to_string(),
                "method": "current_period",
            })
        })
        .collect();
    Ok(Value::from(rows).to_string())
}

/// `market/books`: `sz` levels per side (default 1, max 400), rows
/// `[px, sz, "0", numOrders]`, bids and asks best first, sizes in contracts
/// for derivatives.
pub(crate) fn books(ctx: &Ctx, q: &Query) -> Result<String, OkxError> {
    let (inst_type, inst) = inst_of(q)?;
    let levels = match int(q, "sz")? {
        None => 1,
        Some(n) if n >= 1 => usize::try_from(n).unwrap_or(400).min(400),
        Some(_) => return Err(OkxError::param("sz")),
    };
    let b = inst.book(inst_type.market_key(), levels, ctx.now);
    let side = |v: &[(i64, i64)]| -> Vec<[String; 4]> {
        v.iter()
            .map(|&(p, s)| {
                let orders = 1 + mix(&[p as u64, s as u64]) % 20;
                [inst.price_text(p), inst.qty_text(s), "0".to_string(), orders.to_string()]
            })
            .collect()
    };
    Ok(json!([{ "asks": side(&b.asks), "bids": side(&b.bids), "ts": b.time.to_string() }]).to_string())
}
