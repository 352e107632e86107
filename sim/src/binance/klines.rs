//! `GET /api/v3/klines`, `/api/v3/uiKlines` and `/fapi/v1/klines`.

use super::catalog::{BinanceMarket, LookupError, Series};
use super::error::ApiError;
use super::query::{check_symbol_chars, Params};
use super::Ctx;

/// Rows returned when `limit` is not sent.
const DEFAULT_LIMIT: usize = 500;

/// UM kline weight by `limit`: <100: 1, <500: 2, <=1000: 5, above: 10
/// (an absent or unreadable limit counts as the default 500).
pub(crate) fn um_weight(pairs: &[(String, String)]) -> u32 {
    let limit = pairs
        .iter()
        .find(|(k, _)| k == "limit")
        .and_then(|(_, v)| v.parse::<u64>().ok())
        .unwrap_or(DEFAULT_LIMIT as u64);
    match limit {
        0..=99 => 1,
        100..=499 => 2,
        500..=1000 => 5,
        _ => 10,
    }
}

/// Whether a `timeZone` value means UTC (the only zone the simulator serves).
fn is_utc(tz: &str) -> bool {
    matches!(tz, "0" | "+0" | "-0" | "00:00" | "+00:00" | "-00:00" | "0:00" | "+0:00" | "-0:00")
}

/// The klines reply: a JSON array of 12-slot rows, oldest first.
///
/// Bounds filter on open time, both inclusive: none → the newest `limit`;
/// `startTime` only → the oldest `limit` from it; `endTime` only → the
/// newest `limit` up to it; both → from `startTime`, never past `endTime`.
/// Candles opening after the simulated now are never served.
pub(crate) fn klines(ctx: &Ctx<'_>, pairs: Vec<(String, String)>) -> Result<String, ApiError> {
    let known: &[&str] = match ctx.market {
        BinanceMarket::Spot => &["symbol", "interval", "startTime", "endTime", "limit", "timeZone"],
        BinanceMarket::UsdM => &["symbol", "interval", "startTime", "endTime", "limit"],
    };
    let p = Params::new(pairs, known)?;
    let symbol = p.required("symbol")?;
    let interval = p.required("interval")?;
    check_symbol_chars(symbol)?;
    let start = p.number("startTime")?;
    let end = p.number("endTime")?;
    let limit = p.number("limit")?;
    let series = Series::lookup(ctx.market, symbol, interval).map_err(|e| match e {
        LookupError::Symbol => ApiError::symbol(),
        LookupError::Interval => ApiError::interval(),
    })?;
    let limit = match limit {
        None => DEFAULT_LIMIT,
        Some(n) if n >= 1 && n as u64 <= ctx.market.max_kline_limit() as u64 => n as usize,
        Some(_) => return Err(ApiError::invalid_value("limit")),
    };
    if let Some(tz) = p.get("timeZone") {
        if !is_utc(tz) {
            return Err(ApiError::invalid_value("timeZone"));
        }
    }
    let now = ctx.now;
    let candles = match (start, end) {
        (None, None) => series.backward(now, limit, now),
        (Some(s), None) => series.forward(s, now, limit, now),
        (None, Some(e)) => series.backward(e, limit, now),
        (Some(s), Some(e)) if s > e => match ctx.market {
            BinanceMarket::Spot => Vec::new(),
            BinanceMarket::UsdM => return Err(ApiError::start_after_end()),
        },
        (Some(s), Some(e)) => series.forward(s, e, limit, now),
    };
    let mut out = String::with_capacity(2 + candles.len() * 180);
    out.push('[');
    for (i, c) in candles.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        series.wire(c).write_json(&mut out);
    }
    out.push(']');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(v: &str) -> Vec<(String, String)> {
        vec![("limit".to_string(), v.to_string())]
    }

    #[test]
    fn um_weights_follow_the_limit() {
        assert_eq!(um_weight(&limit("99")), 1);
        assert_eq!(um_weight(&limit("100")), 2);
        assert_eq!(um_weight(&limit("499")), 2);
        assert_eq!(um_weight(&limit("500")), 5);
        assert_eq!(um_weight(&limit("1000")), 5);
        assert_eq!(um_weight(&limit("1001")), 10);
        assert_eq!(um_weight(&limit("1500")), 10);
        assert_eq!(um_weight(&[]), 5);
    }
}
