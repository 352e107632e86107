//! Deribit v2 JSON-RPC over HTTP GET (`/api/v2/public/*`): the envelope with
//! µs `usIn`/`usOut`/`usDiff`, JSON-RPC errors (HTTP 400), and the credit
//! limiter answered with 10028 `too_many_requests` (HTTP 429); written from
//! the exchange specification (not from the core crate).

pub(crate) mod catalog;
mod chart;
mod instruments;
pub(crate) mod market;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query as AxumQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use crate::faults::plain;
use crate::limits::{Admission, Credits};
use crate::params::Query;
use crate::server::Shared;

/// Key of the credit pool in `SimStats::max_window_weight`.
pub(crate) const LIMIT_KEY: &str = "deribit";
/// Key of `get_instruments`' own limit in `SimStats::max_window_weight`
/// (in units where one call costs `instruments_every` in seconds).
pub(crate) const INSTRUMENTS_KEY: &str = "deribit-instruments";

/// The query string as name/value pairs, or why it could not be decoded.
type RawQuery = Result<AxumQuery<Vec<(String, String)>>, QueryRejection>;

/// What a handler sees besides its parameters.
pub(crate) struct Ctx {
    /// Simulated now, ms.
    pub now: i64,
}

/// A JSON-RPC error object with its HTTP status.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RpcError {
    /// HTTP status (400, or 429 for 10028).
    pub status: StatusCode,
    /// JSON-RPC code, e.g. -32602.
    pub code: i64,
    /// `message`.
    pub message: &'static str,
    /// `data`, if any.
    pub data: Option<Value>,
}

impl RpcError {
    /// -32602 `Invalid params` with `data` `{"reason": reason, "param": param}`.
    pub(crate) fn invalid(param: &str, reason: &str) -> RpcError {
        RpcError {
            status: StatusCode::BAD_REQUEST,
            code: -32602,
            message: "Invalid params",
            data: Some(json!({ "reason": reason, "param": param })),
        }
    }

    /// -32602 for a missing parameter (`must be present`).
    pub(crate) fn missing(param: &str) -> RpcError {
        RpcError::invalid(param, "must be present")
    }

    /// -32602 for a malformed parameter (`wrong format`).
    pub(crate) fn format(param: &str) -> RpcError {
        RpcError::invalid(param, "wrong format")
    }

    /// 13020 `not_found` for a well-formed but unknown instrument.
    pub(crate) fn not_found(param: &str) -> RpcError {
        RpcError {
            status: StatusCode::BAD_REQUEST,
            code: 13020,
            message: "not_found",
            data: Some(json!({ "reason": "instrument not found", "param": param })),
        }
    }
}

/// A handler: parameters in, the JSON text of `result` out.
type Handler = fn(&Ctx, &Query) -> Result<String, RpcError>;

/// Which limit a method is charged to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Charge {
    /// The credit pool.
    Credits,
    /// `get_instruments`' own burst limit.
    Instruments,
}

/// The Deribit routes.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/v2/public/get_tradingview_chart_data", get(chart_data))
        .route("/api/v2/public/get_instruments", get(get_instruments))
        .route("/api/v2/public/get_last_trades_by_instrument_and_time", get(last_trades_by_time))
        .route("/api/v2/public/get_last_trades_by_instrument", get(last_trades_by_seq))
        .route("/api/v2/public/get_funding_rate_history", get(funding_rate_history))
        .route("/api/v2/public/get_order_book", get(order_book))
}

async fn last_trades_by_time(State(shared): State<Arc<Shared>>, q: RawQuery) -> Response {
    serve(&shared, q, Charge::Credits, market::last_trades_by_time)
}

async fn last_trades_by_seq(State(shared): State<Arc<Shared>>, q: RawQuery) -> Response {
    serve(&shared, q, Charge::Credits, market::last_trades_by_seq)
}

async fn funding_rate_history(State(shared): State<Arc<Shared>>, q: RawQuery) -> Response {
    serve(&shared, q, Charge::Credits, market::funding_rate_history)
}

async fn order_book(State(shared): State<Arc<Shared>>, q: RawQuery) -> Response {
    serve(&shared, q, Charge::Credits, market::order_book)
}

/// Whether a path is Deribit's.
pub(crate) fn owns_path(path: &str) -> bool {
    path.starts_with("/api/v2/")
}

async fn chart_data(State(shared): State<Arc<Shared>>, q: RawQuery) -> Response {
    serve(&shared, q, Charge::Credits, chart::chart_data)
}

async fn get_instruments(State(shared): State<Arc<Shared>>, q: RawQuery) -> Response {
    serve(&shared, q, Charge::Instruments, instruments::get_instruments)
}

/// Charges the call, then runs the handler inside the JSON-RPC envelope,
/// or answers 10028.
fn serve(shared: &Shared, query: RawQuery, charge: Charge, handler: Handler) -> Response {
    let started = Instant::now();
    let now = shared.clock.now_ms();
    let limits = &shared.config.deribit;
    let admission = match charge {
        Charge::Credits => shared.admit_credits(
            LIMIT_KEY,
            limits.call_cost,
            Credits { pool: limits.pool, refill_per_sec: limits.refill_per_sec },
        ),
        Charge::Instruments => {
            let every = u32::try_from(limits.instruments_every.as_secs()).unwrap_or(u32::MAX).max(1);
            let pool = limits.instruments_burst.saturating_mul(every);
            shared.admit_credits(INSTRUMENTS_KEY, every, Credits { pool, refill_per_sec: 1 })
        }
    };
    if !matches!(admission, Admission::Allowed { .. }) {
        shared.count_rate_limited();
        return too_many_requests(now);
    }
    let result = match query {
        Ok(AxumQuery(pairs)) => handler(&Ctx { now }, &Query::new(pairs)),
        Err(_) => Err(RpcError::format("query")),
    };
    match result {
        Ok(body) => envelope(StatusCode::OK, &format!(r#""result":{body}"#), now, started),
        Err(e) => error_reply(&e, now, started),
    }
}

/// `{"jsonrpc":"2.0",<member>,"usIn":..,"usOut":..,"usDiff":..,"testnet":false}`:
/// `usIn` is the simulated now in µs, `usOut` adds the real handling time.
fn envelope(status: StatusCode, member: &str, now_ms: i64, started: Instant) -> Response {
    let us_in = now_ms.saturating_mul(1000);
    let diff = i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX).max(1);
    let us_out = us_in.saturating_add(diff);
    let body = format!(
        r#"{{"jsonrpc":"2.0",{member},"usIn":{us_in},"usOut":{us_out},"usDiff":{diff},"testnet":false}}"#
    );
    plain(status, "application/json", body)
}

/// The reply of a JSON-RPC error.
fn error_reply(e: &RpcError, now_ms: i64, started: Instant) -> Response {
    let mut error = json!({ "code": e.code, "message": e.message });
    if let Some(data) = &e.data {
        error["data"] = data.clone();
    }
    envelope(e.status, &format!(r#""error":{error}"#), now_ms, started)
}

/// The credit limiter's reply: HTTP 429, error 10028 `too_many_requests`.
pub(crate) fn too_many_requests(now_ms: i64) -> Response {
    let e = RpcError {
        status: StatusCode::TOO_MANY_REQUESTS,
        code: 10028,
        message: "too_many_requests",
        data: None,
    };
    error_reply(&e, now_ms, Instant::now())
}
