//! Binance spot (`/api/v3/*`) and USDⓈ-M futures (`/fapi/v1/*`): paths,
//! parameters, weights, `X-MBX-USED-WEIGHT-1M`, 429/418 escalation and error
//! bodies, written from the exchange specification (not from the core crate).

mod archive;
pub(crate) mod catalog;
pub(crate) mod depth;
mod error;
pub(crate) mod funding;
mod info;
mod klines;
mod query;
pub(crate) mod trades;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use crate::clock::real_now_ms;
use crate::limits::Admission;
use crate::server::{duration_ms, Shared};
use crate::SimConfig;
use catalog::BinanceMarket;
use error::ApiError;

/// The query string as name/value pairs, or why it could not be decoded.
type RawQuery = Result<Query<Vec<(String, String)>>, QueryRejection>;

/// What a request handler sees besides its parameters.
pub(crate) struct Ctx<'a> {
    /// Which Binance market the path belongs to.
    pub market: BinanceMarket,
    /// Simulated now, ms.
    pub now: i64,
    /// Simulator settings (budgets for `rateLimits`).
    pub config: &'a SimConfig,
}

/// A handler: parameters in, JSON body out (or a Binance error).
type Handler = fn(&Ctx<'_>, Vec<(String, String)>) -> Result<String, ApiError>;

/// The Binance routes.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/v3/klines", get(spot_klines))
        .route("/api/v3/uiKlines", get(spot_klines))
        .route("/api/v3/exchangeInfo", get(spot_exchange_info))
        .route("/api/v3/time", get(spot_time))
        .route("/api/v3/aggTrades", get(spot_agg_trades))
        .route("/api/v3/historicalTrades", get(spot_historical_trades))
        .route("/api/v3/trades", get(spot_trades))
        .route("/api/v3/depth", get(spot_depth))
        .route("/fapi/v1/klines", get(um_klines))
        .route("/fapi/v1/exchangeInfo", get(um_exchange_info))
        .route("/fapi/v1/time", get(um_time))
        .route("/fapi/v1/aggTrades", get(um_agg_trades))
        .route("/fapi/v1/historicalTrades", get(um_historical_trades))
        .route("/fapi/v1/trades", get(um_trades))
        .route("/fapi/v1/depth", get(um_depth))
        .route("/fapi/v1/fundingRate", get(um_funding_rate))
        .route("/data/{*path}", get(archive_file))
}

/// A file of the bulk archive (data.binance.vision layout, `archive.rs`); archive
/// downloads cost no request weight. 404 (an empty body, as the archive's host answers)
/// for anything not published.
async fn archive_file(
    State(shared): State<Arc<Shared>>,
    axum::extract::Path(path): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    let now = shared.clock.now_ms();
    crate::files::serve_built(&headers, move || archive::serve(&path, now)).await
}

/// Key of UM's funding-history budget in `SimStats::max_window_weight`.
pub(crate) const UM_FUNDING_KEY: &str = "binance-um-funding";
/// UM `fundingRate` requests allowed per window (shared with `fundingInfo`).
const UM_FUNDING_LIMIT: u32 = 500;
/// UM's funding-history window.
const UM_FUNDING_WINDOW: Duration = Duration::from_secs(300);

async fn spot_agg_trades(State(shared): State<Arc<Shared>>, q: RawQuery) -> Response {
    serve(&shared, BinanceMarket::Spot, q, |_| 4, trades::agg_trades)
}

async fn um_agg_trades(State(shared): State<Arc<Shared>>, q: RawQuery) -> Response {
    serve(&shared, BinanceMarket::UsdM, q, |_| 20, trades::agg_trades)
}

async fn spot_historical_trades(State(shared): State<Arc<Shared>>, q: RawQuery) -> Response {
    serve(&shared, BinanceMarket::Spot, q, |_| 25, trades::historical_trades)
}

/// UM `historicalTrades` needs an `X-MBX-APIKEY` header (any value): 401 / -2014 without.
async fn um_historical_trades(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    q: RawQuery,
) -> Response {
    if !headers.contains_key("x-mbx-apikey") {
        let e = ApiError::api_key();
        return reply(e.status, e.body(), None, None);
    }
    serve(&shared, BinanceMarket::UsdM, q, |_| 20, trades::historical_trades)
}

async fn spot_trades(State(shared): State<Arc<Shared>>, q: RawQuery) -> Response {
    serve(&shared, BinanceMarket::Spot, q, |_| 25, trades::recent_trades)
}

async fn um_trades(State(shared): State<Arc<Shared>>, q: RawQuery) -> Response {
    serve(&shared, BinanceMarket::UsdM, q, |_| 5, trades::recent_trades)
}

async fn spot_depth(State(shared): State<Arc<Shared>>, q: RawQuery) -> Response {
    serve(&shared, BinanceMarket::Spot, q, depth::spot_weight, depth::depth)
}

async fn um_depth(State(shared): State<Arc<Shared>>, q: RawQuery) -> Response {
    serve(&shared, BinanceMarket::UsdM, q, depth::um_weight, depth::depth)
}

/// UM `fundingRate`: its own 500-per-5-minutes bucket (429 / -1003 when
/// over), no request weight.
async fn um_funding_rate(State(shared): State<Arc<Shared>>, q: RawQuery) -> Response {
    if let Admission::Limited { retry_after_secs, .. } =
        shared.admit_window(UM_FUNDING_KEY, 1, UM_FUNDING_LIMIT, UM_FUNDING_WINDOW)
    {
        shared.count_rate_limited();
        let body = too_many_body(UM_FUNDING_LIMIT, UM_FUNDING_WINDOW);
        return reply(StatusCode::TOO_MANY_REQUESTS, body, None, Some(retry_after_secs));
    }
    serve(&shared, BinanceMarket::UsdM, q, |_| 0, funding::funding_rate)
}

async fn spot_klines(State(shared): State<Arc<Shared>>, q: RawQuery) -> Response {
    serve(&shared, BinanceMarket::Spot, q, |_| 2, klines::klines)
}

async fn um_klines(State(shared): State<Arc<Shared>>, q: RawQuery) -> Response {
    serve(&shared, BinanceMarket::UsdM, q, klines::um_weight, klines::klines)
}

async fn spot_exchange_info(State(shared): State<Arc<Shared>>, q: RawQuery) -> Response {
    serve(&shared, BinanceMarket::Spot, q, |_| 20, info::exchange_info)
}

async fn um_exchange_info(State(shared): State<Arc<Shared>>, q: RawQuery) -> Response {
    serve(&shared, BinanceMarket::UsdM, q, |_| 1, info::exchange_info)
}

async fn spot_time(State(shared): State<Arc<Shared>>, q: RawQuery) -> Response {
    serve(&shared, BinanceMarket::Spot, q, |_| 1, info::time)
}

async fn um_time(State(shared): State<Arc<Shared>>, q: RawQuery) -> Response {
    serve(&shared, BinanceMarket::UsdM, q, |_| 1, info::time)
}

/// Charges the request's weight, then runs the handler, or answers 429/418.
fn serve(
    shared: &Shared,
    market: BinanceMarket,
    query: RawQuery,
    weight: fn(&[(String, String)]) -> u32,
    handler: Handler,
) -> Response {
    let pairs = query.map(|Query(p)| p);
    let w = pairs.as_deref().map(weight).unwrap_or_else(|_| weight(&[]));
    let limit = weight_limit(&shared.config, market);
    match shared.admit(market.weight_key(), w, limit) {
        Admission::Allowed { used } => {
            let ctx = Ctx { market, now: shared.clock.now_ms(), config: &shared.config };
            let result = pairs.map_err(|_| ApiError::illegal_query()).and_then(|p| handler(&ctx, p));
            match result {
                Ok(body) => reply(StatusCode::OK, body, Some(used), None),
                Err(e) => reply(e.status, e.body(), Some(used), None),
            }
        }
        Admission::Limited { used, retry_after_secs } => {
            shared.count_rate_limited();
            let body = too_many_body(limit, shared.config.weight_window);
            reply(StatusCode::TOO_MANY_REQUESTS, body, Some(used), Some(retry_after_secs))
        }
        Admission::Banned { used, until_ms, retry_after_secs } => {
            shared.count_rate_limited();
            reply(teapot(), banned_body(until_ms), Some(used), Some(retry_after_secs))
        }
    }
}

/// The Binance market a path belongs to.
pub(crate) fn market_of_path(path: &str) -> Option<BinanceMarket> {
    if path.starts_with("/api/") {
        Some(BinanceMarket::Spot)
    } else if path.starts_with("/fapi/") {
        Some(BinanceMarket::UsdM)
    } else {
        None
    }
}

/// An injected 429/418 fault: Binance's -1003 body, `Retry-After` when given.
pub(crate) fn injected_throttle(
    shared: &Shared,
    market: BinanceMarket,
    status: StatusCode,
    retry_after: Option<u64>,
) -> Response {
    let body = if status == StatusCode::TOO_MANY_REQUESTS {
        too_many_body(weight_limit(&shared.config, market), shared.config.weight_window)
    } else {
        let ban_ms = match retry_after {
            Some(secs) => i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX),
            None => duration_ms(shared.config.ban_duration),
        };
        banned_body(real_now_ms().saturating_add(ban_ms))
    };
    reply(status, body, None, retry_after)
}

/// The weight budget of a market.
fn weight_limit(config: &SimConfig, market: BinanceMarket) -> u32 {
    match market {
        BinanceMarket::Spot => config.spot_weight_limit,
        BinanceMarket::UsdM => config.um_weight_limit,
    }
}

/// The weight window in Binance's words: `(intervalNum, interval)`, e.g. `(1, "MINUTE")`.
pub(crate) fn window_words(window: Duration) -> (u64, &'static str) {
    let secs = window.as_secs().max(1);
    match secs {
        s if s % 86_400 == 0 => (s / 86_400, "DAY"),
        s if s % 3_600 == 0 => (s / 3_600, "HOUR"),
        s if s % 60 == 0 => (s / 60, "MINUTE"),
        s => (s, "SECOND"),
    }
}

/// HTTP 418 (not among `StatusCode`'s named constants).
fn teapot() -> StatusCode {
    StatusCode::from_u16(418).unwrap_or(StatusCode::TOO_MANY_REQUESTS)
}

/// The -1003 body of a 429.
fn too_many_body(limit: u32, window: Duration) -> String {
    let (n, unit) = window_words(window);
    let msg = format!(
        "Too many requests; current limit of IP(127.0.0.1) request weight per {n} {unit} is {limit}. \
         Please use WebSocket Streams for live updates to avoid bans."
    );
    serde_json::json!({ "code": -1003, "msg": msg }).to_string()
}

/// The -1003 body of a 418.
fn banned_body(until_ms: i64) -> String {
    let msg = format!(
        "Way too many requests; IP(127.0.0.1) banned until {until_ms}. \
         Please use WebSocket Streams for live updates to avoid bans."
    );
    serde_json::json!({ "code": -1003, "msg": msg }).to_string()
}

/// A Binance reply: JSON body, used-weight headers, optional `Retry-After`.
fn reply(status: StatusCode, body: String, used: Option<u32>, retry_after: Option<u64>) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json;charset=UTF-8"));
    if let Some(used) = used {
        h.insert("x-mbx-used-weight", HeaderValue::from(used));
        h.insert("x-mbx-used-weight-1m", HeaderValue::from(used));
    }
    if let Some(secs) = retry_after {
        h.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    r
}
