//! `GET /api/v3/exchangeInfo`, `/fapi/v1/exchangeInfo`, `/api/v3/time`, `/fapi/v1/time`.

use serde_json::{json, Value};

use super::catalog::{symbol_def, symbol_defs, BinanceMarket, SymbolDef};
use super::error::ApiError;
use super::query::{check_symbol_chars, Params, SYMBOL_PATTERN};
use super::{window_words, Ctx};
use crate::data::decimal::fmt;

/// Far-future delivery date Binance gives perpetuals.
const PERPETUAL_DELIVERY_MS: i64 = 4_133_404_800_000;

/// `{"serverTime": now}`.
pub(crate) fn time(ctx: &Ctx<'_>, pairs: Vec<(String, String)>) -> Result<String, ApiError> {
    Params::new(pairs, &[])?;
    Ok(json!({ "serverTime": ctx.now }).to_string())
}

/// Exchange information: `timezone`, `serverTime`, `rateLimits`, `symbols`.
/// Spot accepts `symbol=` or `symbols=["A","B"]` filters (unknown: -1121),
/// and `symbolStatus` (every simulated symbol is `TRADING`).
pub(crate) fn exchange_info(ctx: &Ctx<'_>, pairs: Vec<(String, String)>) -> Result<String, ApiError> {
    let (limit, symbols) = match ctx.market {
        BinanceMarket::Spot => (ctx.config.spot_weight_limit, spot_selection(pairs)?),
        BinanceMarket::UsdM => {
            Params::new(pairs, &[])?;
            (ctx.config.um_weight_limit, symbol_defs(BinanceMarket::UsdM).iter().collect())
        }
    };
    let (interval_num, interval) = window_words(ctx.config.weight_window);
    let rows: Vec<Value> = symbols.iter().map(|d| symbol_json(ctx.market, d, ctx.now)).collect();
    let mut body = json!({
        "timezone": "UTC",
        "serverTime": ctx.now,
        "rateLimits": [{
            "rateLimitType": "REQUEST_WEIGHT",
            "interval": interval,
            "intervalNum": interval_num,
            "limit": limit,
        }],
        "exchangeFilters": [],
        "symbols": rows,
    });
    if ctx.market == BinanceMarket::UsdM {
        body["futuresType"] = json!("U_MARGINED");
    }
    Ok(body.to_string())
}

/// The spot symbols selected by `symbol`, `symbols` and `symbolStatus`.
fn spot_selection(pairs: Vec<(String, String)>) -> Result<Vec<&'static SymbolDef>, ApiError> {
    let known = ["symbol", "symbols", "permissions", "symbolStatus", "showPermissionSets"];
    let p = Params::new(pairs, &known)?;
    let one = p.get("symbol");
    let many = p.get("symbols");
    let mut selected: Vec<&'static SymbolDef> = match (one, many) {
        (Some(_), Some(_)) => return Err(ApiError::combination()),
        (Some(s), None) => {
            check_symbol_chars(s)?;
            vec![symbol_def(BinanceMarket::Spot, s).ok_or_else(ApiError::symbol)?]
        }
        (None, Some(list)) => {
            let legal = format!(
                "^\\[(\"{0}\"(,\"{0}\"){{0,}}){{0,1}}\\]$",
                &SYMBOL_PATTERN[1..SYMBOL_PATTERN.len() - 1]
            );
            let names: Vec<String> =
                serde_json::from_str(list).map_err(|_| ApiError::illegal_chars("symbols", &legal))?;
            let mut out = Vec::with_capacity(names.len());
            for name in &names {
                check_symbol_chars(name).map_err(|_| ApiError::illegal_chars("symbols", &legal))?;
                out.push(symbol_def(BinanceMarket::Spot, name).ok_or_else(ApiError::symbol)?);
            }
            out
        }
        (None, None) => symbol_defs(BinanceMarket::Spot).iter().collect(),
    };
    match p.get("symbolStatus") {
        None | Some("TRADING") => {}
        Some("HALT" | "BREAK") => selected.clear(),
        Some(_) => return Err(ApiError::invalid_value("symbolStatus")),
    }
    Ok(selected)
}

/// One entry of `symbols` at `now`. UM `onboardDate` is the published one
/// (see [`SymbolDef::published_ms`]); a relisted symbol shows `CLOSE` and
/// its first listing while delisted, `TRADING` and the relisting after it.
fn symbol_json(market: BinanceMarket, d: &SymbolDef, now: i64) -> Value {
    let (status, onboard) = match d.delisted {
        Some((from, to)) if now >= from && now < to => ("CLOSE", d.listed_ms),
        Some((_, to)) if now < to => ("TRADING", d.listed_ms),
        _ => ("TRADING", d.published_ms),
    };
    let (ps, qs) = (d.price_scale, d.qty_scale);
    let shown = |scale: u32| match market {
        BinanceMarket::Spot => 8,
        BinanceMarket::UsdM => scale,
    };
    let filters = json!([
        {
            "filterType": "PRICE_FILTER",
            "minPrice": fmt(i128::from(d.price_tick), ps, shown(ps)),
            "maxPrice": fmt(1_000_000 * 10i128.pow(ps), ps, shown(ps)),
            "tickSize": fmt(i128::from(d.price_tick), ps, shown(ps)),
        },
        {
            "filterType": "LOT_SIZE",
            "minQty": fmt(1, qs, shown(qs)),
            "maxQty": fmt(9_000_000 * 10i128.pow(qs), qs, shown(qs)),
            "stepSize": fmt(1, qs, shown(qs)),
        },
    ]);
    match market {
        BinanceMarket::Spot => json!({
            "symbol": d.symbol,
            "status": "TRADING",
            "baseAsset": d.base,
            "baseAssetPrecision": 8,
            "quoteAsset": d.quote,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "orderTypes": ["LIMIT", "MARKET"],
            "isSpotTradingAllowed": true,
            "filters": filters,
        }),
        BinanceMarket::UsdM => json!({
            "symbol": d.symbol,
            "pair": d.symbol,
            "contractType": "PERPETUAL",
            "deliveryDate": PERPETUAL_DELIVERY_MS,
            "onboardDate": onboard,
            "status": status,
            "baseAsset": d.base,
            "quoteAsset": d.quote,
            "marginAsset": d.quote,
            "pricePrecision": ps,
            "quantityPrecision": qs,
            "underlyingType": "COIN",
            "filters": filters,
        }),
    }
}
