//! The seed relay's shape, so code written for that kind of relay moves over by changing
//! its base URL: `GET /v1/historical/klines` answers Binance-style kline arrays and
//! `GET /v1/historical/orderbook` a Binance-style depth object, for every exchange.
//!
//! Klines follow Binance's `GET /api/v3/klines` rules: `startTime` and `endTime` filter on
//! open time and are both inclusive; `limit` is 1–1000 (default 500); without `startTime`
//! the newest `limit` candles up to `endTime` (default: now). A row is
//! `[openTime, "open", "high", "low", "close", "volume", closeTime, "quoteVolume", trades]`
//! with exact decimal strings; Binance's taker-buy columns are left out (not every exchange
//! reports them, and the cache never invents a value), and `trades` is `null` where the
//! exchange does not count trades.

use std::io::Write as _;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use cryptocache::{Interval, KlineQuery};
use serde_json::json;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::params::{Params, QueryMap};
use crate::Relay;

/// Binance's default and largest `limit` for klines.
const KLINE_LIMITS: (u64, u64) = (500, 1000);
/// Binance's default `limit` for depth; the relay's largest.
const DEPTH_LIMITS: (u64, u64) = (100, 1000);

/// `GET /v1/historical/klines?exchange=&symbol=&interval=&startTime=&endTime=&limit=&market=`.
pub async fn klines(
    State(relay): State<Arc<Relay>>,
    caller: Option<Extension<Caller>>,
    q: QueryMap,
) -> Result<Response, ApiError> {
    let p = Params::new(q)?;
    let interval = p.interval("interval")?;
    let limit = p.number("limit", KLINE_LIMITS.0, 1..=KLINE_LIMITS.1)? as usize;
    let time = |name| p.get(name).map(|_| p.time(name)).transpose();
    let (start_time, end_time) = (time("startTime")?, time("endTime")?);
    let now = relay.cache.now_ms();
    // The span `limit` candles can cover (months by their longest), from the side given.
    let reach = interval.nominal_ms().saturating_mul(limit as i64 + 1);
    let (start, end, newest) = match (start_time, end_time) {
        (Some(s), Some(e)) => (s, e.saturating_add(1).min(s.saturating_add(reach)), false),
        (Some(s), None) => (s, s.saturating_add(reach).min(now.max(s + 1)), false),
        (None, e) => {
            let end = e.map_or(now, |e| e.saturating_add(1));
            (end.saturating_sub(reach), end, true)
        }
    };
    if end <= start {
        return Err(ApiError::invalid(format!("endTime must not be before startTime ({start})")));
    }
    crate::data::check_range(&relay, caller.as_deref(), start, end)?;
    let query = KlineQuery {
        market: p.market()?,
        ..KlineQuery::new(p.exchange()?, p.symbol()?, interval, start, end)
    };
    let candles = relay.cache.klines(&query).await?;
    let rows = candles.len();
    let take = if newest { rows.saturating_sub(limit)..rows } else { 0..rows.min(limit) };
    let body = kline_arrays(&candles, interval, take);
    let mut response =
        ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response();
    let source = crate::data::source_of(&relay, query.exchange);
    if let Ok(value) = HeaderValue::from_str(&source) {
        response.headers_mut().insert(cryptocache::relay::SOURCE_HEADER, value);
    }
    Ok(response)
}

/// Rows `take` of `candles` as Binance kline arrays.
fn kline_arrays(candles: &cryptocache::Candles, interval: Interval, take: std::ops::Range<usize>) -> Vec<u8> {
    let (open_time, trades) = (candles.open_time(), candles.trades());
    let mut out = Vec::with_capacity(take.len() * 160 + 2);
    out.push(b'[');
    for i in take.clone() {
        if i > take.start {
            out.push(b',');
        }
        let close_time = interval.slot_start(interval.slot_of(open_time[i]) + 1) - 1;
        // Writing to a Vec cannot fail.
        let _ = write!(
            out,
            "[{},\"{}\",\"{}\",\"{}\",\"{}\",\"{}\",{close_time},\"{}\",",
            open_time[i],
            candles.open()[i],
            candles.high()[i],
            candles.low()[i],
            candles.close()[i],
            candles.volume()[i],
            candles.quote_volume()[i],
        );
        let _ = match trades {
            Some(t) => write!(out, "{}]", t[i]),
            None => write!(out, "null]"),
        };
    }
    out.push(b']');
    out
}

/// `GET /v1/historical/orderbook?exchange=&symbol=&limit=&market=`: `{"lastUpdateId", "bids",
/// "asks"}` with `[price, quantity]` decimal-string pairs, best first (Binance's depth shape).
pub async fn orderbook(State(relay): State<Arc<Relay>>, q: QueryMap) -> Result<Response, ApiError> {
    let p = Params::new(q)?;
    let depth = p.number("limit", DEPTH_LIMITS.0, 1..=DEPTH_LIMITS.1)? as usize;
    let (_, book) = crate::data::order_book(&relay, &p, depth).await?;
    let side = crate::data::levels;
    Ok(Json(json!({
        "lastUpdateId": book.update_id,
        "time": book.time,
        "bids": side(&book.bids),
        "asks": side(&book.asks),
    }))
    .into_response())
}
