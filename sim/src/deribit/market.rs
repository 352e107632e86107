//! `public/get_last_trades_by_instrument_and_time`,
//! `public/get_last_trades_by_instrument`,
//! `public/get_funding_rate_history` and `public/get_order_book`.

use super::catalog::{defs, well_formed, DeribitDef, Kind};
use super::chart::required_int;
use super::{Ctx, RpcError};
use crate::data::calendar::MAX_TIME;
use crate::data::decimal::fmt_trim;
use crate::data::funding::FundingSchedule;
use crate::data::instrument::{Instrument, Sizing};
use crate::data::trades::{Trade, TradeStream};
use crate::params::Query;

/// Seed key of Deribit's models (as for the charts).
const MARKET_KEY: &str = "deribit";
/// Hour, ms.
const HOUR_MS: i64 = 3_600_000;
/// Most hourly funding rows one call returns.
pub(crate) const FUNDING_ROWS: i64 = 720;
/// `depth` values `get_order_book` accepts.
const DEPTHS: [i64; 8] = [1, 5, 10, 20, 50, 100, 1000, 10_000];

/// The required `instrument_name`: -32602 if malformed, 13020 if unknown.
fn def_of(q: &Query) -> Result<&'static DeribitDef, RpcError> {
    let name = q.text("instrument_name").ok_or_else(|| RpcError::missing("instrument_name"))?;
    if !well_formed(name) {
        return Err(RpcError::format("instrument_name"));
    }
    defs().iter().find(|d| d.inst.name == name).ok_or_else(|| RpcError::not_found("instrument_name"))
}

/// The trade stream of an instrument (quantities in contracts).
pub(crate) fn stream(inst: &Instrument) -> TradeStream {
    inst.trades(MARKET_KEY)
}

/// The funding schedule of a perpetual: a row every hour.
pub(crate) fn schedule(inst: &Instrument) -> Option<FundingSchedule> {
    inst.funding(MARKET_KEY, &[])
}

/// A quantity as Deribit's `amount`: USD for inverse contracts, base coin otherwise.
pub(crate) fn amount_text(inst: &Instrument, qty: i64) -> String {
    match inst.sizing {
        Sizing::Inverse { ct_val } => fmt_trim(i128::from(qty) * i128::from(ct_val), inst.qty_scale),
        Sizing::Base | Sizing::Linear { .. } => inst.qty_text(qty),
    }
}

/// One trade object (numbers, except `trade_id`, `direction`, `instrument_name`).
pub(crate) fn trade_json(inst: &Instrument, t: &Trade) -> String {
    let spec = inst.spec(MARKET_KEY);
    let mark = inst.price_text(spec.price_at(t.time));
    let (direction, tick_direction) = if t.buyer_maker { ("sell", 2) } else { ("buy", 0) };
    format!(
        r#"{{"trade_seq":{},"trade_id":"{}","timestamp":{},"tick_direction":{tick_direction},"price":{},"mark_price":{mark},"index_price":{mark},"instrument_name":"{}","direction":"{direction}","amount":{},"contracts":{}}}"#,
        t.index,
        t.index,
        t.time,
        inst.price_text(t.price),
        inst.name,
        amount_text(inst, t.qty),
        t.qty,
    )
}

/// The first `trade_seq` of the burst of [`crate::quirks::DERIBIT_BURST_INSTRUMENT`].
pub(crate) fn burst_first_seq() -> i64 {
    defs()
        .iter()
        .find(|d| d.inst.name == crate::quirks::DERIBIT_BURST_INSTRUMENT)
        .map_or(0, |d| stream(&d.inst).trades_before(crate::quirks::DERIBIT_BURST_MS))
}

/// `count` (default 10, larger than 1000 served as 1000, below 1 -32602)
/// and `sorting` (`asc`: true; `desc`, `default`: false).
fn count_and_order(q: &Query) -> Result<(i64, bool), RpcError> {
    let count = match q.int("count").map_err(|_| RpcError::format("count"))? {
        None => 10,
        Some(n) if n >= 1 => n.min(1000),
        Some(_) => return Err(RpcError::format("count")),
    };
    let ascending = match q.text("sorting") {
        None | Some("default" | "desc") => false,
        Some("asc") => true,
        Some(_) => return Err(RpcError::format("sorting")),
    };
    Ok((count, ascending))
}

/// The trades with index in `[first, end)`: the oldest `count` of them
/// ascending, or the newest `count` newest first; `has_more` tells whether
/// the range holds more.
fn page(
    def: &DeribitDef,
    s: &TradeStream,
    first: i64,
    end: i64,
    count: i64,
    ascending: bool,
    now: i64,
) -> String {
    let total = (end - first).max(0);
    let take = total.min(count);
    let from = if ascending { first } else { end - take };
    let mut trades = if take > 0 { s.trades_from(from, MAX_TIME, take as usize, now) } else { Vec::new() };
    if !ascending {
        trades.reverse();
    }
    let items: Vec<String> = trades.iter().map(|t| trade_json(&def.inst, t)).collect();
    format!(r#"{{"trades":[{}],"has_more":{}}}"#, items.join(","), total > take)
}

/// Index bounds `[first, end)` of the trades with `start ≤ timestamp ≤
/// end` (absent: unbounded) that have happened by `now`.
fn time_bounds(s: &TradeStream, start: Option<i64>, end: Option<i64>, now: i64) -> (i64, i64) {
    let first = s.trades_before(start.unwrap_or(0).clamp(0, MAX_TIME));
    let end_excl = s.trades_before(end.unwrap_or(now).min(now).clamp(-1, MAX_TIME).saturating_add(1));
    (first, end_excl)
}

/// Trades with `start_timestamp ≤ timestamp ≤ end_timestamp` (one of the
/// two suffices: start defaults to 0, end to now). `sorting=asc` gives the
/// oldest `count` of the range, `desc` and `default` the newest `count`
/// (newest first); `count` defaults to 10, larger than 1000 is served as
/// 1000. `has_more` tells whether the range holds more. Trades sharing a
/// millisecond (a burst) are told apart only by `trade_seq`: a client
/// paging by time alone skips or repeats some.
pub(crate) fn last_trades_by_time(ctx: &Ctx, q: &Query) -> Result<String, RpcError> {
    let def = def_of(q)?;
    let int = |name: &str| q.int(name).map_err(|_| RpcError::format(name));
    let (start, end) = (int("start_timestamp")?, int("end_timestamp")?);
    if start.is_none() && end.is_none() {
        return Err(RpcError::missing("start_timestamp"));
    }
    let (count, ascending) = count_and_order(q)?;
    let s = stream(&def.inst);
    let (first, end_excl) = time_bounds(&s, start, end, ctx.now);
    Ok(page(def, &s, first, end_excl, count, ascending, ctx.now))
}

/// Trades by sequence number: `start_seq ≤ trade_seq ≤ end_seq` and
/// `start_timestamp ≤ timestamp ≤ end_timestamp`, every bound optional
/// (none: the newest trades). `count` and `sorting` as for
/// [`last_trades_by_time`]; `{trades, has_more}`. `include_old` is
/// accepted and ignored (the simulator keeps every trade).
pub(crate) fn last_trades_by_seq(ctx: &Ctx, q: &Query) -> Result<String, RpcError> {
    let def = def_of(q)?;
    let int = |name: &str| q.int(name).map_err(|_| RpcError::format(name));
    let (start_seq, end_seq) = (int("start_seq")?, int("end_seq")?);
    let (start, end) = (int("start_timestamp")?, int("end_timestamp")?);
    match q.text("include_old") {
        None | Some("true" | "false") => {}
        Some(_) => return Err(RpcError::format("include_old")),
    }
    let (count, ascending) = count_and_order(q)?;
    let s = stream(&def.inst);
    let (first, end_excl) = time_bounds(&s, start, end, ctx.now);
    let first = first.max(start_seq.unwrap_or(0));
    let end_excl = end_excl.min(end_seq.map_or(i64::MAX, |e| e.saturating_add(1)));
    Ok(page(def, &s, first, end_excl, count, ascending, ctx.now))
}

/// Hourly funding rows, ascending, ending at `end_timestamp` (or now):
/// at most 720, **ignoring `start_timestamp`** (required all the same).
/// Dated futures and spot have none (empty list).
pub(crate) fn funding_rate_history(ctx: &Ctx, q: &Query) -> Result<String, RpcError> {
    let def = def_of(q)?;
    required_int(q, "start_timestamp")?;
    let end = required_int(q, "end_timestamp")?;
    let Some(schedule) = schedule(&def.inst) else {
        return Ok("[]".to_string());
    };
    let spec = def.inst.spec(MARKET_KEY);
    let price = |t: i64| def.inst.price_text(spec.price_at(t));
    let hi = end.min(ctx.now);
    let rows: Vec<String> = schedule
        .newest(hi - FUNDING_ROWS * HOUR_MS + 1, hi, FUNDING_ROWS as usize, ctx.now)
        .iter()
        .map(|&t| {
            let rate = i128::from(schedule.rate(t));
            format!(
                r#"{{"timestamp":{t},"index_price":{},"prev_index_price":{},"interest_8h":{},"interest_1h":{}}}"#,
                price(t),
                price(t - HOUR_MS),
                fmt_trim(rate, 8),
                fmt_trim(rate * 125, 11),
            )
        })
        .collect();
    Ok(format!("[{}]", rows.join(",")))
}

/// The order book: `depth` levels per side (default 20; one of 1 5 10 20
/// 50 100 1000 10000), `[price, amount]` rows best first, and the ticker
/// fields around them.
pub(crate) fn order_book(ctx: &Ctx, q: &Query) -> Result<String, RpcError> {
    let def = def_of(q)?;
    let depth = match q.int("depth") {
        Ok(None) => 20,
        Ok(Some(n)) if DEPTHS.contains(&n) => n as usize,
        _ => return Err(RpcError::format("depth")),
    };
    let inst = &def.inst;
    let b = inst.book(MARKET_KEY, depth, ctx.now);
    let spec = inst.spec(MARKET_KEY);
    let side = |v: &[(i64, i64)]| -> String {
        let rows: Vec<String> =
            v.iter().map(|&(p, s)| format!("[{},{}]", inst.price_text(p), amount_text(inst, s))).collect();
        format!("[{}]", rows.join(","))
    };
    let best = |v: &[(i64, i64)]| {
        v.first()
            .map_or(("0".to_string(), "0".to_string()), |&(p, s)| (inst.price_text(p), amount_text(inst, s)))
    };
    let (bid, bid_amount) = best(&b.bids);
    let (ask, ask_amount) = best(&b.asks);
    let mark = inst.price_text(spec.price_at(ctx.now));
    let funding = match (def.kind, inst.funding_hours > 0) {
        (Kind::Future, true) => {
            let rate = schedule(inst).map_or(0, |s| s.rate(ctx.now - ctx.now.rem_euclid(HOUR_MS)));
            format!(
                r#","funding_8h":{},"current_funding":{}"#,
                fmt_trim(i128::from(rate), 8),
                fmt_trim(i128::from(rate) * 125, 11)
            )
        }
        _ => String::new(),
    };
    let open_interest = amount_text(inst, inst.qty_per_min * 600);
    Ok(format!(
        r#"{{"timestamp":{},"state":"open","instrument_name":"{}","change_id":{},"bids":{},"asks":{},"best_bid_price":{bid},"best_bid_amount":{bid_amount},"best_ask_price":{ask},"best_ask_amount":{ask_amount},"mark_price":{mark},"index_price":{mark},"last_price":{mark},"open_interest":{open_interest}{funding},"stats":{{"volume":null,"price_change":null,"low":null,"high":null}}}}"#,
        b.time,
        inst.name,
        b.update_id,
        side(&b.bids),
        side(&b.asks),
    ))
}
