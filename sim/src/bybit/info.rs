//! `GET /v5/market/instruments-info`.

use serde_json::{json, Value};

use super::catalog::{instruments, Category};
use super::{BybitError, Ctx};
use crate::data::decimal::fmt_trim;
use crate::data::instrument::Instrument;
use crate::params::Query;

/// The instruments of a category (`category` required; `option` answers an
/// empty list, the simulator has none). Filters: `symbol`, `baseCoin`,
/// `status` (default `Trading`; a symbol is `PreLaunch` before it starts
/// trading). `launchTime` is the published launch (for `SOLUSDT` 30 days
/// after its first candle).
/// One page: `nextPageCursor` is always empty.
pub(crate) fn instruments_info(ctx: &Ctx, q: &Query) -> Result<String, BybitError> {
    let name = q.text("category").ok_or_else(|| BybitError::params_error("category is required"))?;
    let category = match (Category::parse(name), name) {
        (Some(c), _) => Some(c),
        (None, "option") => None,
        (None, _) => return Err(BybitError::params_error("Category is invalid")),
    };
    let wanted_status = q.text("status").unwrap_or("Trading");
    let list: Vec<Value> = category
        .map(instruments)
        .unwrap_or_default()
        .iter()
        .filter(|i| q.text("symbol").is_none_or(|s| s == i.name))
        .filter(|i| q.text("baseCoin").is_none_or(|b| b == i.base))
        .map(|i| (i, if ctx.now < i.listed_ms { "PreLaunch" } else { "Trading" }))
        .filter(|(_, status)| *status == wanted_status)
        .filter_map(|(i, status)| category.map(|c| entry(c, i, status)))
        .collect();
    Ok(json!({ "category": name, "list": list, "nextPageCursor": "" }).to_string())
}

/// One `list` entry.
fn entry(category: Category, i: &Instrument, status: &str) -> Value {
    let tick = fmt_trim(i128::from(i.price_tick), i.price_scale);
    let step = fmt_trim(1, i.qty_scale);
    match category {
        Category::Spot => json!({
            "symbol": i.name,
            "baseCoin": i.base,
            "quoteCoin": i.quote,
            "innovation": "0",
            "status": status,
            "marginTrading": "both",
            "lotSizeFilter": {
                "basePrecision": step,
                "quotePrecision": fmt_trim(1, i.price_scale + i.qty_scale),
                "minOrderQty": step,
                "maxOrderQty": "1000",
            },
            "priceFilter": { "tickSize": tick },
        }),
        Category::Linear | Category::Inverse => json!({
            "symbol": i.name,
            "contractType": if category == Category::Linear { "LinearPerpetual" } else { "InversePerpetual" },
            "status": status,
            "baseCoin": i.base,
            "quoteCoin": i.quote,
            "settleCoin": i.settle,
            "launchTime": i.published_listed_ms().to_string(),
            "deliveryTime": "0",
            "deliveryFeeRate": "",
            "priceScale": i.price_scale.to_string(),
            "priceFilter": { "minPrice": tick, "maxPrice": "1999999", "tickSize": tick },
            "lotSizeFilter": { "maxOrderQty": "1000000", "minOrderQty": step, "qtyStep": step },
            "fundingInterval": i.funding_hours * 60,
        }),
    }
}
