//! `GET /api/v3/depth` and `/fapi/v1/depth`.

use super::catalog::{spec_of, symbol_def, BinanceMarket, Decimals, SymbolDef};
use super::error::ApiError;
use super::query::{check_symbol_chars, Params};
use super::Ctx;
use crate::data::book::{book, Book};

/// Book sizes UM accepts.
const UM_LIMITS: [i64; 7] = [5, 10, 20, 50, 100, 500, 1000];

/// The `limit` of a depth request: spot default 100, above 5000 served as
/// 5000; UM default 500, one of 5 10 20 50 100 500 1000 (-1130 otherwise).
fn depth_limit(market: BinanceMarket, limit: Option<i64>) -> Result<usize, ApiError> {
    match (market, limit) {
        (BinanceMarket::Spot, None) => Ok(100),
        (BinanceMarket::Spot, Some(n)) if n >= 1 => Ok(n.min(5000) as usize),
        (BinanceMarket::UsdM, None) => Ok(500),
        (BinanceMarket::UsdM, Some(n)) if UM_LIMITS.contains(&n) => Ok(n as usize),
        _ => Err(ApiError::invalid_value("limit")),
    }
}

/// The `limit` a request asks for, for its weight (absent: the default).
fn requested(pairs: &[(String, String)], default: i64) -> i64 {
    pairs.iter().find(|(k, _)| k == "limit").and_then(|(_, v)| v.parse::<i64>().ok()).unwrap_or(default)
}

/// Spot depth weight: ≤100: 5, ≤500: 25, ≤1000: 50, above: 250.
pub(crate) fn spot_weight(pairs: &[(String, String)]) -> u32 {
    match requested(pairs, 100) {
        ..=100 => 5,
        101..=500 => 25,
        501..=1000 => 50,
        _ => 250,
    }
}

/// UM depth weight: ≤50: 2, 100: 5, 500: 10, 1000: 20.
pub(crate) fn um_weight(pairs: &[(String, String)]) -> u32 {
    match requested(pairs, 500) {
        ..=50 => 2,
        51..=100 => 5,
        101..=500 => 10,
        _ => 20,
    }
}

/// The book of `def` at `now` with `levels` per side.
pub(crate) fn snapshot(market: BinanceMarket, def: &SymbolDef, levels: usize, now: i64) -> Book {
    book(&spec_of(market, def), (def.qty_per_min / 4).max(1), levels, now)
}

/// `[["price","qty"],...]`.
fn levels(d: &Decimals, side: &[(i64, i64)]) -> String {
    let items: Vec<String> =
        side.iter().map(|&(p, q)| format!(r#"["{}","{}"]"#, d.price(p), d.qty(q))).collect();
    format!("[{}]", items.join(","))
}

/// The book: `lastUpdateId`, (UM: `E`, `T`), `bids` best first, `asks` best first.
pub(crate) fn depth(ctx: &Ctx<'_>, pairs: Vec<(String, String)>) -> Result<String, ApiError> {
    let known: &[&str] = match ctx.market {
        BinanceMarket::Spot => &["symbol", "limit", "symbolStatus"],
        BinanceMarket::UsdM => &["symbol", "limit"],
    };
    let p = Params::new(pairs, known)?;
    let symbol = p.required("symbol")?;
    check_symbol_chars(symbol)?;
    let def = symbol_def(ctx.market, symbol).ok_or_else(ApiError::symbol)?;
    let n = depth_limit(ctx.market, p.number("limit")?)?;
    let b = snapshot(ctx.market, def, n, ctx.now);
    let d = Decimals::of(ctx.market, def);
    let times = match ctx.market {
        BinanceMarket::Spot => String::new(),
        BinanceMarket::UsdM => format!(r#","E":{},"T":{}"#, b.time, b.time),
    };
    Ok(format!(
        r#"{{"lastUpdateId":{}{times},"bids":{},"asks":{}}}"#,
        b.update_id,
        levels(&d, &b.bids),
        levels(&d, &b.asks)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(v: &str) -> Vec<(String, String)> {
        vec![("limit".to_string(), v.to_string())]
    }

    #[test]
    fn weights_and_limits() {
        assert_eq!(spot_weight(&[]), 5);
        assert_eq!(
            [spot_weight(&limit("500")), spot_weight(&limit("1000")), spot_weight(&limit("5000"))],
            [25, 50, 250]
        );
        assert_eq!(um_weight(&[]), 10);
        assert_eq!([um_weight(&limit("5")), um_weight(&limit("100")), um_weight(&limit("1000"))], [2, 5, 20]);
        assert_eq!(depth_limit(BinanceMarket::Spot, Some(9000)), Ok(5000));
        assert!(depth_limit(BinanceMarket::UsdM, Some(7)).is_err());
    }
}
