//! `GET /v1/segments/{exchange}/{market}/{what}/{symbol}/{start}`: one segment in the one
//! binary encoding (`cryptocache::codec`), for native and WebAssembly clients that decode
//! and verify it themselves.
//!
//! A closed segment never changes: `Cache-Control: public, max-age=31536000, immutable`,
//! so any proxy or CDN in front of the relay serves it from then on. An open one may be
//! cached until it expires. Both carry a strong `ETag` (the encoding's CRC-32) and answer
//! `304 Not Modified` to a matching `If-None-Match`.

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use cryptocache::warm::Dataset;
use cryptocache::{codec, Exchange, Market};

use crate::error::ApiError;
use crate::Relay;

pub use cryptocache::relay::SEGMENT_TYPE;

/// One year: the `max-age` of a closed segment.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The path of a segment: exchange, market, what (an interval, `trades`, `funding`),
/// symbol, start (ms).
type SegmentPath = (String, String, String, String, i64);

/// Serves one segment.
pub async fn segment(
    State(relay): State<Arc<Relay>>,
    path: Result<Path<SegmentPath>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Path((exchange, market, what, symbol, start)) =
        path.map_err(|e| ApiError::invalid(format!("segment path: {}", e.body_text())))?;
    let exchange: Exchange = exchange.parse()?;
    let market: Market = market.parse()?;
    let dataset: Dataset = what.parse()?;
    if symbol.len() > 64 || !symbol.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::invalid("symbol: 1-64 printable characters"));
    }
    let segment = relay.cache.segment(exchange, Some(market), &symbol, dataset, start).await?;
    let bytes = codec::encode(&segment);
    let crc = bytes
        .len()
        .checked_sub(4)
        .map_or(0, |at| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]));
    let etag = format!("\"{crc:08x}-{}\"", bytes.len());
    let cache_control = match segment.expires_at {
        None => IMMUTABLE.to_owned(),
        Some(at) => {
            let now = relay.cache.now_ms();
            format!("public, max-age={}", ((at - now).max(0) / 1000))
        }
    };
    let mut out = HeaderMap::new();
    let value = |s: &str| HeaderValue::from_str(s).map_err(|e| ApiError::invalid(e.to_string()));
    out.insert(header::ETAG, value(&etag)?);
    out.insert(header::CACHE_CONTROL, value(&cache_control)?);
    out.insert(cryptocache::relay::SOURCE_HEADER, value(&segment.key.series.source)?);
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|list| list.split(',').any(|tag| tag.trim() == etag || tag.trim() == "*"));
    if matches {
        return Ok((StatusCode::NOT_MODIFIED, out).into_response());
    }
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(SEGMENT_TYPE));
    Ok((out, bytes).into_response())
}
