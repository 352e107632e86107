//! `GET aggTrades`, `historicalTrades` and `trades` (spot `/api/v3/`, UM `/fapi/v1/`).

use super::catalog::{symbol_def, trade_stream, BinanceMarket, Decimals, SymbolDef};
use super::error::ApiError;
use super::query::{check_symbol_chars, Params};
use super::Ctx;
use crate::data::calendar::MAX_TIME;
use crate::data::trades::{Agg, Trade, TradeStream};
use crate::quirks;

/// Hour, ms.
const HOUR_MS: i64 = 3_600_000;
/// How far back UM `aggTrades` reaches (one year).
const UM_AGG_DEPTH_MS: i64 = quirks::BINANCE_UM_AGG_TRADES_KEPT_MS;
/// How far back UM `historicalTrades` reaches (three months).
const UM_HISTORICAL_DEPTH_MS: i64 = quirks::BINANCE_UM_HISTORICAL_TRADES_KEPT_MS;

/// An aggregate trade's wire values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WireAgg {
    /// `a`.
    pub id: i64,
    /// `p`.
    pub price: String,
    /// `q`.
    pub qty: String,
    /// `f`.
    pub first: i64,
    /// `l`.
    pub last: i64,
    /// `T`.
    pub time: i64,
    /// `m`.
    pub buyer_maker: bool,
}

impl WireAgg {
    /// The JSON object: `a p q f l T m`, plus `M` on spot.
    pub(crate) fn json(&self, market: BinanceMarket) -> String {
        let best = if market == BinanceMarket::Spot { ",\"M\":true" } else { "" };
        format!(
            r#"{{"a":{},"p":"{}","q":"{}","f":{},"l":{},"T":{},"m":{}{best}}}"#,
            self.id, self.price, self.qty, self.first, self.last, self.time, self.buyer_maker
        )
    }
}

/// A trade's wire values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WireTrade {
    /// `id`.
    pub id: i64,
    /// `price`.
    pub price: String,
    /// `qty`.
    pub qty: String,
    /// `quoteQty`.
    pub quote_qty: String,
    /// `time`.
    pub time: i64,
    /// `isBuyerMaker`.
    pub buyer_maker: bool,
}

impl WireTrade {
    /// The JSON object: `id price qty quoteQty time isBuyerMaker`, plus
    /// `isBestMatch` on spot or `isRPITrade` on UM.
    pub(crate) fn json(&self, market: BinanceMarket) -> String {
        let extra = match market {
            BinanceMarket::Spot => "\"isBestMatch\":true",
            BinanceMarket::UsdM => "\"isRPITrade\":false",
        };
        format!(
            r#"{{"id":{},"price":"{}","qty":"{}","quoteQty":"{}","time":{},"isBuyerMaker":{},{extra}}}"#,
            self.id, self.price, self.qty, self.quote_qty, self.time, self.buyer_maker
        )
    }
}

/// The wire values of an aggregate.
pub(crate) fn wire_agg(d: &Decimals, stream: &TradeStream, a: &Agg) -> WireAgg {
    WireAgg {
        id: a.index,
        price: d.price(a.price),
        qty: d.qty(stream.agg_qty(a)),
        first: a.first_trade,
        last: a.first_trade + a.trades - 1,
        time: a.time,
        buyer_maker: a.buyer_maker,
    }
}

/// The wire values of a trade.
pub(crate) fn wire_trade(d: &Decimals, t: &Trade) -> WireTrade {
    WireTrade {
        id: t.index,
        price: d.price(t.price),
        qty: d.qty(t.qty),
        quote_qty: d.quote(i128::from(t.price) * i128::from(t.qty)),
        time: t.time,
        buyer_maker: t.buyer_maker,
    }
}

/// The symbol of a request and its trade stream.
fn stream_of(ctx: &Ctx<'_>, p: &Params) -> Result<(&'static SymbolDef, TradeStream), ApiError> {
    let symbol = p.required("symbol")?;
    check_symbol_chars(symbol)?;
    let def = symbol_def(ctx.market, symbol).ok_or_else(ApiError::symbol)?;
    Ok((def, trade_stream(ctx.market, def)))
}

/// `limit` with its default and maximum (-1130 outside 1..=max).
fn limit(p: &Params, default: usize, max: usize) -> Result<usize, ApiError> {
    match p.number("limit")? {
        None => Ok(default),
        Some(n) if n >= 1 && n as u64 <= max as u64 => Ok(n as usize),
        Some(_) => Err(ApiError::invalid_value("limit")),
    }
}

/// A JSON array of objects.
fn array(items: impl Iterator<Item = String>) -> String {
    format!("[{}]", items.collect::<Vec<_>>().join(","))
}

/// Aggregate trades, oldest first; every bound inclusive. `fromId` → from
/// that id on (never before `startTime`, never past `endTime`);
/// `startTime` → the first `limit` from it (not past `endTime`); `endTime`
/// only → the newest `limit` up to it; none → the newest `limit`. UM: with
/// both times the span must be under one hour (-1127), and only the last
/// year (back from the simulated now) is kept: a range wholly older is
/// `[]`, a range reaching past the edge gets the part still held, and an
/// older `fromId` (or `startTime` alone) starts at the oldest held.
pub(crate) fn agg_trades(ctx: &Ctx<'_>, pairs: Vec<(String, String)>) -> Result<String, ApiError> {
    let p = Params::new(pairs, &["symbol", "fromId", "startTime", "endTime", "limit"])?;
    let (def, stream) = stream_of(ctx, &p)?;
    let from_id = p.number("fromId")?;
    let (start, end) = (p.number("startTime")?, p.number("endTime")?);
    let limit = limit(&p, 500, 1000)?;
    let um = ctx.market == BinanceMarket::UsdM;
    if let (Some(s), Some(e)) = (start, end) {
        if s > e {
            return if um { Err(ApiError::start_after_end()) } else { Ok("[]".to_string()) };
        }
        if um && e - s >= HOUR_MS {
            return Err(ApiError::span_too_long(1));
        }
    }
    let now = ctx.now;
    let oldest = if um { now - UM_AGG_DEPTH_MS } else { 0 };
    let lo = start.unwrap_or(0).max(oldest);
    let hi = end.unwrap_or(MAX_TIME);
    let aggs = match (from_id, start, end) {
        (Some(id), _, _) => stream.aggs_from(id.max(stream.aggs_before(lo)), hi, limit, now),
        (None, Some(_), _) => stream.aggs_from(stream.aggs_before(lo), hi, limit, now),
        (None, None, _) => stream.aggs_newest(oldest, hi, limit, now),
    };
    let d = Decimals::of(ctx.market, def);
    Ok(array(aggs.iter().map(|a| wire_agg(&d, &stream, a).json(ctx.market))))
}

/// Older trades: from `fromId` on, or the newest `limit`; oldest first.
/// Spot: default 500, max 1000; UM: default 100, max 500, the last three
/// months only (an older `fromId` starts at the oldest held).
pub(crate) fn historical_trades(ctx: &Ctx<'_>, pairs: Vec<(String, String)>) -> Result<String, ApiError> {
    let p = Params::new(pairs, &["symbol", "limit", "fromId"])?;
    let (def, stream) = stream_of(ctx, &p)?;
    let (default, max, oldest) = match ctx.market {
        BinanceMarket::Spot => (500, 1000, 0),
        BinanceMarket::UsdM => (100, 500, ctx.now - UM_HISTORICAL_DEPTH_MS),
    };
    let limit = limit(&p, default, max)?;
    let trades = match p.number("fromId")? {
        Some(id) => stream.trades_from(id.max(stream.trades_before(oldest)), MAX_TIME, limit, ctx.now),
        None => stream.trades_newest(oldest, MAX_TIME, limit, ctx.now),
    };
    let d = Decimals::of(ctx.market, def);
    Ok(array(trades.iter().map(|t| wire_trade(&d, t).json(ctx.market))))
}

/// Recent trades: the newest `limit` (default 500, max 1000), oldest first.
pub(crate) fn recent_trades(ctx: &Ctx<'_>, pairs: Vec<(String, String)>) -> Result<String, ApiError> {
    let p = Params::new(pairs, &["symbol", "limit"])?;
    let (def, stream) = stream_of(ctx, &p)?;
    let limit = limit(&p, 500, 1000)?;
    let trades = stream.trades_newest(0, MAX_TIME, limit, ctx.now);
    let d = Decimals::of(ctx.market, def);
    Ok(array(trades.iter().map(|t| wire_trade(&d, t).json(ctx.market))))
}
