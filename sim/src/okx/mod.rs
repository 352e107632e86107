//! OKX v5 market data (`/api/v5/*`): the string-`code` envelope, per-endpoint
//! limits answered with HTTP 429 / `50011`, and OKX's error codes and HTTP
//! statuses; written from the exchange specification (not from the core crate).

mod archive;
mod candles;
pub(crate) mod catalog;
mod instruments;
pub(crate) mod market;

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query as AxumQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use crate::config::OkxLimits;
use crate::faults::plain;
use crate::limits::Admission;
use crate::params::Query;
use crate::server::Shared;

/// The query string as name/value pairs, or why it could not be decoded.
type RawQuery = Result<AxumQuery<Vec<(String, String)>>, QueryRejection>;

/// What a handler sees besides its parameters.
pub(crate) struct Ctx {
    /// Simulated now, ms.
    pub now: i64,
}

/// An OKX error: `{"code":"<code>","msg":..,"data":[]}` with its HTTP status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OkxError {
    /// HTTP status.
    pub status: StatusCode,
    /// OKX code, e.g. `51001`.
    pub code: u32,
    /// OKX message.
    pub msg: String,
}

impl OkxError {
    /// 50014 (HTTP 400): a required parameter missing or empty.
    pub(crate) fn empty(param: &str) -> OkxError {
        OkxError {
            status: StatusCode::BAD_REQUEST,
            code: 50014,
            msg: format!("Parameter {param} can not be empty"),
        }
    }

    /// 51000 (HTTP 400): a parameter with a bad value.
    pub(crate) fn param(param: &str) -> OkxError {
        OkxError { status: StatusCode::BAD_REQUEST, code: 51000, msg: format!("Parameter {param} error") }
    }

    /// 51001 (HTTP 200): unknown instrument.
    pub(crate) fn instrument() -> OkxError {
        OkxError { status: StatusCode::OK, code: 51001, msg: "Instrument ID does not exist".to_string() }
    }
}

/// A handler: parameters in, the JSON text of `data` out.
type Handler = fn(&Ctx, &Query) -> Result<String, OkxError>;

/// The endpoint budgets, keyed in `SimStats::max_window_weight`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Budget {
    Candles,
    HistoryCandles,
    Trades,
    HistoryTrades,
    FundingHistory,
    Books,
    Instruments,
    MarketDataHistory,
}

impl Budget {
    /// The budget's key; the funding history one is per instrument
    /// (`okx-funding-history:BTC-USDT-SWAP`).
    fn key(self, q: &Query) -> String {
        let name = match self {
            Budget::Candles => "okx-candles",
            Budget::HistoryCandles => "okx-history-candles",
            Budget::Trades => "okx-trades",
            Budget::HistoryTrades => "okx-history-trades",
            Budget::FundingHistory => {
                return format!("okx-funding-history:{}", q.text("instId").unwrap_or(""));
            }
            Budget::Books => "okx-books",
            Budget::Instruments => "okx-instruments",
            Budget::MarketDataHistory => "okx-market-data-history",
        };
        name.to_string()
    }

    fn limit(self, limits: &OkxLimits) -> u32 {
        match self {
            Budget::Candles => limits.candles,
            Budget::HistoryCandles => limits.history_candles,
            Budget::Trades => limits.trades,
            Budget::HistoryTrades => limits.history_trades,
            Budget::FundingHistory => limits.funding_history,
            Budget::Books => limits.books,
            Budget::Instruments => limits.instruments,
            Budget::MarketDataHistory => limits.market_data_history,
        }
    }
}

/// The OKX routes.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/v5/market/candles", get(candles))
        .route("/api/v5/market/history-candles", get(history_candles))
        .route("/api/v5/public/instruments", get(instruments))
        .route("/api/v5/market/trades", get(trades))
        .route("/api/v5/market/history-trades", get(history_trades))
        .route("/api/v5/public/funding-rate-history", get(funding_rate_history))
        .route("/api/v5/market/books", get(books))
        .route("/api/v5/public/market-data-history", get(market_data_history))
        .route("/cdn/okex/traderecords/trades/daily/{*path}", get(archive_file))
        .route("/cdn/okex/traderecords/candlesticks/daily/{*path}", get(candle_file))
        .route("/cdn/okex/traderecords/swaprate/monthly/{*path}", get(funding_file))
}

async fn market_data_history(
    State(shared): State<Arc<Shared>>,
    headers: axum::http::HeaderMap,
    q: RawQuery,
) -> Response {
    let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    let base = format!("http://{host}");
    serve_at(&shared, q, Budget::MarketDataHistory, &base, archive::index_handler)
}

/// A file of the historical market data CDN built by `build` (`archive.rs`): 404 with
/// an empty body for anything not published.
async fn cdn_file(
    shared: &Shared,
    path: String,
    headers: &axum::http::HeaderMap,
    build: fn(&str, i64) -> Option<Vec<u8>>,
) -> Response {
    let now = shared.clock.now_ms();
    crate::files::serve_built(headers, move || build(&path, now).map(|zip| ("application/zip", zip))).await
}

/// A trade file of the historical market data CDN.
async fn archive_file(
    State(shared): State<Arc<Shared>>,
    axum::extract::Path(path): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    cdn_file(&shared, path, &headers, archive::serve_file).await
}

/// A 1-minute candle file of the historical market data CDN.
async fn candle_file(
    State(shared): State<Arc<Shared>>,
    axum::extract::Path(path): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    cdn_file(&shared, path, &headers, archive::serve_candles).await
}

/// A funding file of the historical market data CDN.
async fn funding_file(
    State(shared): State<Arc<Shared>>,
    axum::extract::Path(path): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    cdn_file(&shared, path, &headers, archive::serve_funding).await
}

async fn trades(State(shared): State<Arc<Shared>>, q: RawQuery) -> Response {
    serve(&shared, q, Budget::Trades, market::trades)
}

async fn history_trades(State(shared): State<Arc<Shared>>, q: RawQuery) -> Response {
    serve(&shared, q, Budget::HistoryTrades, market::history_trades)
}

async fn funding_rate_history(State(shared): State<Arc<Shared>>, q: RawQuery) -> Response {
    serve(&shared, q, Budget::FundingHistory, market::funding_rate_history)
}

async fn books(State(shared): State<Arc<Shared>>, q: RawQuery) -> Response {
    serve(&shared, q, Budget::Books, market::books)
}

/// Whether a path is OKX's.
pub(crate) fn owns_path(path: &str) -> bool {
    path.starts_with("/api/v5/")
}

async fn candles(State(shared): State<Arc<Shared>>, q: RawQuery) -> Response {
    serve(&shared, q, Budget::Candles, candles::candles)
}

async fn history_candles(State(shared): State<Arc<Shared>>, q: RawQuery) -> Response {
    serve(&shared, q, Budget::HistoryCandles, candles::history_candles)
}

async fn instruments(State(shared): State<Arc<Shared>>, q: RawQuery) -> Response {
    serve(&shared, q, Budget::Instruments, instruments::instruments)
}

/// Counts the request against its endpoint budget, then runs the handler
/// inside the envelope, or answers 429 / 50011.
fn serve(shared: &Shared, query: RawQuery, budget: Budget, handler: Handler) -> Response {
    serve_at(shared, query, budget, "", |ctx, _, q| handler(ctx, q))
}

/// [`serve`] for a handler that needs this server's base URL.
fn serve_at(
    shared: &Shared,
    query: RawQuery,
    budget: Budget,
    base: &str,
    handler: impl Fn(&Ctx, &str, &Query) -> Result<String, OkxError>,
) -> Response {
    let limits = &shared.config.okx;
    let query = query.map(|AxumQuery(pairs)| Query::new(pairs));
    let key = budget.key(query.as_ref().unwrap_or(&Query::new(Vec::new())));
    match shared.admit_window(&key, 1, budget.limit(limits), limits.window) {
        Admission::Allowed { .. } => {
            let ctx = Ctx { now: shared.clock.now_ms() };
            let result = match &query {
                Ok(q) => handler(&ctx, base, q),
                Err(_) => Err(OkxError::param("query")),
            };
            match result {
                Ok(data) => json(StatusCode::OK, format!(r#"{{"code":"0","msg":"","data":{data}}}"#)),
                Err(e) => error_reply(&e),
            }
        }
        Admission::Limited { .. } | Admission::Banned { .. } => {
            shared.count_rate_limited();
            rate_limited()
        }
    }
}

/// A JSON reply.
fn json(status: StatusCode, body: String) -> Response {
    plain(status, "application/json", body)
}

/// The reply of an error.
fn error_reply(e: &OkxError) -> Response {
    let msg = serde_json::Value::from(e.msg.as_str()).to_string();
    json(e.status, format!(r#"{{"code":"{}","msg":{msg},"data":[]}}"#, e.code))
}

/// The rate-limit reply: HTTP 429 with code 50011.
pub(crate) fn rate_limited() -> Response {
    error_reply(&OkxError {
        status: StatusCode::TOO_MANY_REQUESTS,
        code: 50011,
        msg: "Rate limit reached. Please refer to API documentation and throttle requests accordingly."
            .to_string(),
    })
}
