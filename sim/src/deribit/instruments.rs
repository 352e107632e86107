//! `GET /api/v2/public/get_instruments`.

use serde_json::{json, Value};

use super::catalog::{defs, DeribitDef, Kind};
use super::{Ctx, RpcError};
use crate::data::decimal::fmt_trim;
use crate::data::instrument::Sizing;
use crate::params::Query;

/// `expiration_timestamp` Deribit gives perpetuals and spot pairs.
const NEVER_MS: i64 = 32_503_708_800_000;

/// Currencies `currency` accepts.
const CURRENCIES: [&str; 6] = ["BTC", "ETH", "USDC", "USDT", "EURR", "any"];
/// Kinds `kind` accepts (the simulator holds only futures and spot).
const KINDS: [&str; 5] = ["future", "option", "spot", "future_combo", "option_combo"];

/// The instruments of `currency` (an instrument belongs to its base and
/// its settlement currency; `any` = all), of `kind` if given, active at now
/// (trading, not expired) — or with `expired=true` only the expired ones.
///
/// `currency` is required by the docs, but production answers a call
/// without it with every instrument of every currency (CCXT's
/// `fetchMarkets` calls it so by default), and so does the simulator: a
/// missing `currency` means `any`. A present but unknown one is -32602.
pub(crate) fn get_instruments(ctx: &Ctx, q: &Query) -> Result<String, RpcError> {
    let currency = q.text("currency").unwrap_or("any");
    if !CURRENCIES.contains(&currency) {
        return Err(RpcError::format("currency"));
    }
    let kind = q.text("kind");
    if kind.is_some_and(|k| !KINDS.contains(&k)) {
        return Err(RpcError::format("kind"));
    }
    let expired = match q.text("expired") {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(RpcError::format("expired")),
    };
    let list: Vec<Value> = defs()
        .iter()
        .filter(|d| currency == "any" || currency == d.inst.base || currency == d.inst.settle)
        .filter(|d| kind.is_none_or(|k| k == kind_name(d.kind)))
        .filter(|d| {
            let gone = d.inst.expiry_ms.is_some_and(|e| ctx.now >= e);
            if expired {
                gone
            } else {
                !gone && ctx.now >= d.inst.listed_ms
            }
        })
        .map(|d| entry(d, ctx.now))
        .collect();
    Ok(Value::from(list).to_string())
}

/// The wire name of a kind.
fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Future => "future",
        Kind::Spot => "spot",
    }
}

/// A decimal text as a JSON number.
fn number(text: &str) -> Value {
    serde_json::from_str::<Value>(text).unwrap_or(Value::Null)
}

/// One instrument.
fn entry(d: &DeribitDef, now: i64) -> Value {
    let i = &d.inst;
    let linear = !matches!(i.sizing, Sizing::Inverse { .. });
    let instrument_type = if linear { "linear" } else { "reversed" };
    let settlement_period = match i.expiry_ms {
        Some(_) => "month",
        None => "perpetual",
    };
    let active = now >= i.listed_ms && i.expiry_ms.is_none_or(|e| now < e);
    let mut v = json!({
        "tick_size": number(&fmt_trim(i128::from(i.price_tick), i.price_scale)),
        "tick_size_steps": [],
        "taker_commission": 0.0005,
        "settlement_period": settlement_period,
        "settlement_currency": i.settle,
        "quote_currency": i.quote,
        "price_index": format!("{}_{}", i.base.to_lowercase(), i.quote.to_lowercase()),
        "min_trade_amount": number(d.contract_size),
        "max_leverage": 50,
        "maker_commission": 0,
        "kind": kind_name(d.kind),
        "is_active": active,
        "instrument_name": i.name,
        "instrument_id": d.id,
        "instrument_type": instrument_type,
        "expiration_timestamp": i.expiry_ms.unwrap_or(NEVER_MS),
        "creation_timestamp": i.published_listed_ms(),
        "counter_currency": i.quote,
        "contract_size": number(d.contract_size),
        "base_currency": i.base,
        "state": if active { "open" } else { "closed" },
    });
    if d.kind == Kind::Future {
        v["future_type"] = json!(instrument_type);
    }
    v
}
