//! Bybit v5 market data (`/v5/market/*`): the `retCode` envelope, HTTP 200
//! business errors (10001), the 600-per-5 s IP limit answered with HTTP 403
//! `access too frequent`, and optional `X-Bapi-Limit*` headers; written
//! from the exchange specification (not from the core crate).

mod archive;
pub(crate) mod catalog;
mod info;
mod klines;
pub(crate) mod market;

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query as AxumQuery, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use crate::clock::real_now_ms;
use crate::faults::plain;
use crate::limits::Admission;
use crate::params::Query;
use crate::server::{duration_ms, Shared};

/// Key of the IP budget in `SimStats::max_window_weight`.
pub(crate) const LIMIT_KEY: &str = "bybit";

/// The query string as name/value pairs, or why it could not be decoded.
type RawQuery = Result<AxumQuery<Vec<(String, String)>>, QueryRejection>;

/// What a handler sees besides its parameters.
pub(crate) struct Ctx {
    /// Simulated now, ms.
    pub now: i64,
}

/// A Bybit business error: HTTP 200, `retCode` != 0, `result` `{}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BybitError {
    /// `retCode`.
    pub code: i64,
    /// `retMsg`.
    pub msg: String,
}

impl BybitError {
    /// 10001 with `msg` as is (e.g. `Not supported symbols`).
    pub(crate) fn params(msg: &str) -> BybitError {
        BybitError { code: 10001, msg: msg.to_string() }
    }

    /// 10001 `params error: <what>`.
    pub(crate) fn params_error(what: &str) -> BybitError {
        BybitError { code: 10001, msg: format!("params error: {what}") }
    }
}

/// A handler: parameters in, the JSON text of `result` out.
type Handler = fn(&Ctx, &Query) -> Result<String, BybitError>;

/// The Bybit routes.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/v5/market/kline", get(kline))
        .route("/v5/market/instruments-info", get(instruments_info))
        .route("/v5/market/recent-trade", get(recent_trade))
        .route("/v5/market/funding/history", get(funding_history))
        .route("/v5/market/orderbook", get(orderbook))
        .route("/trading/{*path}", get(|s, p, h| archive_file(s, "trading", p, h)))
        .route("/spot/{*path}", get(|s, p, h| archive_file(s, "spot", p, h)))
}

/// A day file of the public trade archive (public.bybit.com layout, `archive.rs`): no
/// API budget; 404 with an empty body for anything not published.
async fn archive_file(
    State(shared): State<Arc<Shared>>,
    folder: &'static str,
    axum::extract::Path(path): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    let now = shared.clock.now_ms();
    let path = format!("{folder}/{path}");
    crate::files::serve_built(&headers, move || archive::serve(&path, now).map(|gz| ("application/gzip", gz)))
        .await
}

async fn recent_trade(State(shared): State<Arc<Shared>>, q: RawQuery) -> Response {
    serve(&shared, q, market::recent_trade)
}

async fn funding_history(State(shared): State<Arc<Shared>>, q: RawQuery) -> Response {
    serve(&shared, q, market::funding_history)
}

async fn orderbook(State(shared): State<Arc<Shared>>, q: RawQuery) -> Response {
    serve(&shared, q, market::orderbook)
}

/// Whether a path is Bybit's.
pub(crate) fn owns_path(path: &str) -> bool {
    path.starts_with("/v5/")
}

async fn kline(State(shared): State<Arc<Shared>>, q: RawQuery) -> Response {
    serve(&shared, q, klines::kline)
}

async fn instruments_info(State(shared): State<Arc<Shared>>, q: RawQuery) -> Response {
    serve(&shared, q, info::instruments_info)
}

/// Counts the request against the IP budget, then runs the handler inside
/// the envelope, or answers 403.
fn serve(shared: &Shared, query: RawQuery, handler: Handler) -> Response {
    let limits = &shared.config.bybit;
    match shared.admit_window(LIMIT_KEY, 1, limits.requests, limits.window) {
        Admission::Allowed { used } => {
            let now = shared.clock.now_ms();
            let result = match query {
                Ok(AxumQuery(pairs)) => handler(&Ctx { now }, &Query::new(pairs)),
                Err(_) => Err(BybitError::params_error("query string")),
            };
            let mut r = plain(StatusCode::OK, "application/json; charset=utf-8", envelope(result, now));
            if limits.limit_headers {
                let window = duration_ms(limits.window).max(1);
                let wall = real_now_ms();
                let h = r.headers_mut();
                h.insert("x-bapi-limit", HeaderValue::from(limits.requests));
                h.insert("x-bapi-limit-status", HeaderValue::from(limits.requests.saturating_sub(used)));
                h.insert(
                    "x-bapi-limit-reset-timestamp",
                    HeaderValue::from(wall - wall.rem_euclid(window) + window),
                );
            }
            r
        }
        Admission::Limited { .. } | Admission::Banned { .. } => {
            shared.count_rate_limited();
            too_frequent()
        }
    }
}

/// The IP-limit reply: HTTP 403, text body `access too frequent`.
pub(crate) fn too_frequent() -> Response {
    plain(StatusCode::FORBIDDEN, "text/plain; charset=utf-8", "access too frequent".to_string())
}

/// `{"retCode":..,"retMsg":..,"result":..,"retExtInfo":{},"time":now}`.
fn envelope(result: Result<String, BybitError>, now: i64) -> String {
    let (code, msg, result) = match result {
        Ok(body) => (0, "OK".to_string(), body),
        Err(e) => (e.code, e.msg, "{}".to_string()),
    };
    let msg = serde_json::Value::from(msg).to_string();
    format!(r#"{{"retCode":{code},"retMsg":{msg},"result":{result},"retExtInfo":{{}},"time":{now}}}"#)
}
