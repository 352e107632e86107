//! The data endpoints: `/v1/klines`, `/v1/trades`, `/v1/funding` (JSON, CSV or Arrow),
//! `/v1/book` and `/v1/coverage` (JSON).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use cryptocache::columns::{Batch, ToBatch};
use cryptocache::coverage::CoverageQuery;
use cryptocache::warm::Dataset;
use cryptocache::{KlineQuery, OrderBookQuery, RangeQuery};
use serde_json::{json, Value};

use crate::auth::Caller;
use crate::bodies::{BodyKey, Rendered};
use crate::error::ApiError;
use crate::params::{Format, Params, QueryMap};
use crate::Relay;

/// The media type of Arrow IPC streams.
pub const ARROW_STREAM: &str = "application/vnd.apache.arrow.stream";

/// What a ranged answer carries besides its rows: fields (JSON only) and the source
/// namespace its values came from (every format: the `X-Cryptocache-Source` header).
struct Extras {
    fields: serde_json::Map<String, Value>,
    source: String,
}

/// The rows of a ranged answer in the requested format.
fn render(batch: &Batch, format: Format, extras: Extras) -> Result<Rendered, ApiError> {
    let source = HeaderValue::from_str(&extras.source).map_err(|e| ApiError::invalid(e.to_string()))?;
    let typed = |content_type: &'static str, body: Vec<u8>| Rendered {
        content_type,
        source: source.clone(),
        body: body.into(),
    };
    Ok(match format {
        Format::Json => {
            // The small fields through serde, the rows written straight after them.
            let mut out = Vec::with_capacity(64 + batch.rows() * 160);
            let head = serde_json::to_vec(&Value::Object(extras.fields))
                .map_err(|e| ApiError::invalid(e.to_string()))?;
            out.extend_from_slice(&head[..head.len().saturating_sub(1)]);
            out.extend_from_slice(if head.len() > 2 { b",\"data\":" } else { b"\"data\":" });
            batch.write_json_rows(&mut out);
            out.push(b'}');
            typed("application/json", out)
        }
        Format::Csv => {
            let mut out = Vec::with_capacity(batch.rows() * 64);
            batch.write_csv(&mut out, true).map_err(|e| ApiError::invalid(e.to_string()))?;
            typed("text/csv; charset=utf-8", out)
        }
        Format::Arrow => typed(ARROW_STREAM, cryptocache::arrow_ipc::stream_bytes(batch)),
    })
}

/// The range of a request: `start`, `end`, within the relay's and the caller's limits.
fn range(p: &Params, relay: &Relay, caller: Option<&Caller>) -> Result<(i64, i64), ApiError> {
    let (start, end) = (p.time("start")?, p.time("end")?);
    if end <= start {
        return Err(ApiError::invalid(format!("end ({end}) must be after start ({start})")));
    }
    check_range(relay, caller, start, end)?;
    Ok((start, end))
}

/// `413 RANGE_TOO_LARGE` when `[start, end)` is longer than the relay or the caller's key allows.
pub(crate) fn check_range(
    relay: &Relay,
    caller: Option<&Caller>,
    start: i64,
    end: i64,
) -> Result<(), ApiError> {
    let limit =
        caller.and_then(|c| c.max_range).unwrap_or(relay.limits.max_range).min(relay.limits.max_range);
    let asked = Duration::from_millis(u64::try_from(end - start).unwrap_or(u64::MAX));
    if asked > limit {
        return Err(ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "RANGE_TOO_LARGE",
            format!("a request may cover at most {} days; split the range", limit.as_secs() / 86_400),
        ));
    }
    Ok(())
}

/// `GET /v1/klines?exchange=&symbol=&interval=&start=&end=&market=&format=`.
pub async fn klines(
    State(relay): State<Arc<Relay>>,
    caller: Option<Extension<Caller>>,
    RawQuery(raw): RawQuery,
    q: QueryMap,
) -> Result<Response, ApiError> {
    let p = Params::new(q)?;
    let (start, end) = range(&p, &relay, caller.as_deref())?;
    // Read before the data: an invalidation during this request leaves its answer unkept.
    let key = BodyKey::new(crate::paths::KLINES, raw.as_deref(), relay.cache.generation());
    if let Some(kept) = relay.bodies.get(&key) {
        return Ok(kept.response());
    }
    let query = KlineQuery {
        market: p.market()?,
        ..KlineQuery::new(p.exchange()?, p.symbol()?, p.interval("interval")?, start, end)
    };
    let candles = relay.cache.klines(&query).await?;
    let gaps: Vec<Value> = candles.gaps().iter().map(|g| json!({"start": g.start, "end": g.end})).collect();
    let fields = json!({
        "exchange": query.exchange.to_string(),
        "symbol": query.symbol,
        "interval": candles.interval().to_string(),
        "last_is_open": candles.last_is_open(),
        "stale": candles.is_stale(),
        "gaps": gaps,
    });
    let rendered = render(&candles.to_batch(), p.format()?, extras(&relay, query.exchange, fields))?;
    Ok(keep(&relay, key, rendered, candles.is_final()))
}

/// Keeps a rendered answer built only from final segments, and answers it.
fn keep(relay: &Relay, key: BodyKey, rendered: Rendered, is_final: bool) -> Response {
    let response = rendered.response();
    if is_final {
        relay.bodies.insert(key, rendered);
    }
    response
}

/// `GET /v1/trades?exchange=&symbol=&start=&end=&market=&format=`.
pub async fn trades(
    State(relay): State<Arc<Relay>>,
    caller: Option<Extension<Caller>>,
    RawQuery(raw): RawQuery,
    q: QueryMap,
) -> Result<Response, ApiError> {
    ranged(&relay, caller.as_deref(), (raw, q), Ranged::Trades).await
}

/// `GET /v1/funding?exchange=&symbol=&start=&end=&market=&format=`.
pub async fn funding(
    State(relay): State<Arc<Relay>>,
    caller: Option<Extension<Caller>>,
    RawQuery(raw): RawQuery,
    q: QueryMap,
) -> Result<Response, ApiError> {
    ranged(&relay, caller.as_deref(), (raw, q), Ranged::Funding).await
}

/// The ranged kinds without an interval.
enum Ranged {
    Trades,
    Funding,
}

/// Trades or funding rates of a range (raw and parsed query), in the requested format.
async fn ranged(
    relay: &Relay,
    caller: Option<&Caller>,
    (raw, q): (Option<String>, QueryMap),
    kind: Ranged,
) -> Result<Response, ApiError> {
    let p = Params::new(q)?;
    let query = range_query(&p, relay, caller)?;
    let route = match kind {
        Ranged::Trades => crate::paths::TRADES,
        Ranged::Funding => crate::paths::FUNDING,
    };
    let key = BodyKey::new(route, raw.as_deref(), relay.cache.generation());
    if let Some(kept) = relay.bodies.get(&key) {
        return Ok(kept.response());
    }
    let (batch, stale, is_final) = match kind {
        Ranged::Trades => {
            let rows = relay.cache.trades(&query).await?;
            (rows.to_batch(), rows.is_stale(), rows.is_final())
        }
        Ranged::Funding => {
            let rows = relay.cache.funding_rates(&query).await?;
            (rows.to_batch(), rows.is_stale(), rows.is_final())
        }
    };
    let fields = json!({ "exchange": query.exchange.to_string(), "symbol": query.symbol, "stale": stale });
    let rendered = render(&batch, p.format()?, extras(relay, query.exchange, fields))?;
    Ok(keep(relay, key, rendered, is_final))
}

fn range_query(p: &Params, relay: &Relay, caller: Option<&Caller>) -> Result<RangeQuery, ApiError> {
    let (start, end) = range(p, relay, caller)?;
    Ok(RangeQuery { market: p.market()?, ..RangeQuery::new(p.exchange()?, p.symbol()?, start, end) })
}

/// The source namespace of `exchange`'s values.
pub(crate) fn source_of(relay: &Relay, exchange: cryptocache::Exchange) -> String {
    let source = relay.cache.sources().into_iter().find(|(e, _)| *e == exchange).map(|(_, s)| s.to_string());
    source.unwrap_or_default()
}

/// The extras of an answer from `exchange`: `fields` plus the source namespace.
fn extras(relay: &Relay, exchange: cryptocache::Exchange, fields: Value) -> Extras {
    let source = source_of(relay, exchange);
    let mut fields = match fields {
        Value::Object(fields) => fields,
        _ => serde_json::Map::new(),
    };
    fields.insert("source".into(), source.clone().into());
    Extras { fields, source }
}

/// One side of a book as `[price, quantity]` exact decimal strings, best first.
pub(crate) fn levels(levels: &[cryptocache::Level]) -> Vec<[String; 2]> {
    levels.iter().map(|l| [l.price.to_string(), l.quantity.to_string()]).collect()
}

/// The order book of `exchange`, `symbol` (and `market`), `depth` levels a side.
pub(crate) async fn order_book(
    relay: &Relay,
    p: &Params,
    depth: usize,
) -> Result<(OrderBookQuery, Arc<cryptocache::OrderBook>), ApiError> {
    let query =
        OrderBookQuery { market: p.market()?, ..OrderBookQuery::new(p.exchange()?, p.symbol()?, depth) };
    let book = relay.cache.order_book(&query).await?;
    Ok((query, book))
}

/// `GET /v1/book?exchange=&symbol=&market=&depth=`: the order book now (short-TTL cache).
pub async fn book(State(relay): State<Arc<Relay>>, q: QueryMap) -> Result<Response, ApiError> {
    let p = Params::new(q)?;
    let (query, book) = order_book(&relay, &p, p.number("depth", 20, 1..=1000)? as usize).await?;
    let side = levels;
    Ok(Json(json!({
        "exchange": query.exchange.to_string(),
        "symbol": query.symbol,
        "time": book.time,
        "update_id": book.update_id,
        "bids": side(&book.bids),
        "asks": side(&book.asks),
    }))
    .into_response())
}

/// `GET /v1/coverage?exchange=&symbol=&what=&start=&end=&market=`: what the tiers hold
/// (fetches nothing).
pub async fn coverage(
    State(relay): State<Arc<Relay>>,
    caller: Option<Extension<Caller>>,
    q: QueryMap,
) -> Result<Response, ApiError> {
    let p = Params::new(q)?;
    let dataset: Dataset = p.required("what")?.parse()?;
    let (kind, interval) = dataset.kind();
    let query = CoverageQuery {
        exchange: p.exchange()?,
        market: p.market()?,
        symbol: p.symbol()?.to_owned(),
        kind,
        interval,
        start: p.time("start")?,
        end: p.time("end")?,
    };
    if query.end <= query.start {
        return Err(ApiError::invalid(format!("end ({}) must be after start ({})", query.end, query.start)));
    }
    check_range(&relay, caller.as_deref(), query.start, query.end)?;
    let report = relay.cache.coverage(&query).await?;
    Ok(Json(report).into_response())
}
