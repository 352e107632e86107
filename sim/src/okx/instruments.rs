//! `GET /api/v5/public/instruments`.

use serde_json::{json, Value};

use super::catalog::{instruments as catalog, InstType};
use super::{Ctx, OkxError};
use crate::data::decimal::fmt_trim;
use crate::data::instrument::{Instrument, Sizing};
use crate::params::Query;

/// The instruments of `instType` (required: 50014 if missing, 51000 if not
/// an OKX type; `MARGIN`/`OPTION` list nothing), filtered by `instId`
/// (unknown: 51001), `uly` and `instFamily`. Every field is a string, empty
/// where it does not apply (as OKX sends them). `listTime` is the published
/// listing (for `SOL-USDT-SWAP` 30 days after its first candle). `state` is
/// `preopen` before the true listing, `live` after it, and `suspend` once a
/// future has expired
/// (OKX drops expired futures; the simulator keeps them listed so their
/// history stays discoverable).
pub(crate) fn instruments(ctx: &Ctx, q: &Query) -> Result<String, OkxError> {
    let name = q.text("instType").ok_or_else(|| OkxError::empty("instType"))?;
    let inst_type = InstType::parse(name).map_err(|_| OkxError::param("instType"))?;
    let all = inst_type.map(catalog).unwrap_or_default();
    let inst_id = q.text("instId");
    if let Some(id) = inst_id {
        if !all.iter().any(|i| i.name == id) {
            return Err(OkxError::instrument());
        }
    }
    let list: Vec<Value> = all
        .iter()
        .filter(|i| inst_id.is_none_or(|id| id == i.name))
        .filter_map(|i| inst_type.map(|t| entry(t, i, ctx.now)))
        .filter(|e| q.text("uly").is_none_or(|u| e["uly"] == u))
        .filter(|e| q.text("instFamily").is_none_or(|f| e["instFamily"] == f))
        .collect();
    Ok(Value::from(list).to_string())
}

/// One instrument.
fn entry(inst_type: InstType, i: &Instrument, now: i64) -> Value {
    let state = match i.expiry_ms {
        _ if now < i.listed_ms => "preopen",
        Some(exp) if now >= exp => "suspend",
        _ => "live",
    };
    let tick = fmt_trim(i128::from(i.price_tick), i.price_scale);
    let lot = fmt_trim(1, i.qty_scale);
    let exp = i.expiry_ms.map(|t| t.to_string()).unwrap_or_default();
    let family = format!("{}-{}", i.base, i.quote);
    let (ct_val, ct_val_ccy, ct_type) = match i.sizing {
        Sizing::Base => (String::new(), "", ""),
        Sizing::Linear { ct_val, ct_scale } => (fmt_trim(i128::from(ct_val), ct_scale), i.base, "linear"),
        Sizing::Inverse { ct_val } => (ct_val.to_string(), i.quote, "inverse"),
    };
    let spot = inst_type == InstType::Spot;
    let pick = |yes: &str, no: &str| if spot { yes.to_string() } else { no.to_string() };
    json!({
        "instType": inst_type.name(),
        "instId": i.name,
        "uly": pick("", &family),
        "instFamily": pick("", &family),
        "baseCcy": pick(i.base, ""),
        "quoteCcy": pick(i.quote, ""),
        "settleCcy": pick("", i.settle),
        "ctVal": ct_val,
        "ctMult": pick("", "1"),
        "ctValCcy": ct_val_ccy,
        "ctType": ct_type,
        "alias": if inst_type == InstType::Futures { "quarter" } else { "" },
        "listTime": i.published_listed_ms().to_string(),
        "expTime": exp,
        "tickSz": tick,
        "lotSz": lot,
        "minSz": lot,
        "lever": if spot { "10" } else { "100" },
        "state": state,
        "ruleType": "normal",
    })
}
