//! The cryptocache relay: the cache's one engine and its tiers behind HTTP, so every
//! language, machine and browser can use them (`cryptocache serve`). Several relays on
//! one Redis share its segments, locks and the exchange rate budget with every other
//! process on it. Endpoints and examples: `docs/relay.md`.
//!
//! | module | job |
//! |---|---|
//! | `lib.rs` | [`Relay`] (the cache and the limits), the router, serving with graceful shutdown, `/health`, `/v1/sources`, the status page (`status.html`) |
//! | `data.rs` | `/v1/klines`, `/v1/trades`, `/v1/funding` (JSON, CSV, Arrow), `/v1/book`, `/v1/coverage` |
//! | `bodies.rs` | rendered answers of final ranges, keyed by query and cache generation |
//! | `compat.rs` | the seed relay's `/v1/historical/klines` and `/v1/historical/orderbook` shapes |
//! | `segments.rs` | `/v1/segments/...`: raw encoded segments with ETags and cache headers |
//! | `auth.rs` | API keys (hashed in a TOML file), quotas |
//! | `params.rs` | query-parameter parsing and checks |
//! | `metrics.rs` | HTTP metrics and `/metrics` |
//! | `error.rs` | the JSON error answer and its statuses |

pub mod auth;
pub mod bodies;
pub mod compat;
pub mod data;
pub mod error;
pub mod metrics;
pub mod params;
pub mod segments;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use cryptocache::Cache;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::compression::CompressionLayer;

use crate::auth::Keys;
use crate::error::ApiError;
use crate::metrics::HttpMetrics;

/// Limits on what one request may ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest range per request (a key may have a shorter one).
    pub max_range: Duration,
    /// Longest time a request may take before it is answered `504`.
    pub request_timeout: Duration,
}

impl Default for Limits {
    /// Ten years per request, 60 s per request.
    fn default() -> Self {
        Limits { max_range: Duration::from_secs(3650 * 86_400), request_timeout: Duration::from_secs(60) }
    }
}

/// What the relay serves from and how.
#[derive(Debug)]
pub struct Relay {
    /// The cache (its tiers, venues and rate budget).
    pub cache: Cache,
    /// API keys; `None` = no authentication.
    pub keys: Option<Keys>,
    /// Origins allowed to call from a browser (`*` = any).
    pub cors: Vec<String>,
    /// Per-request limits.
    pub limits: Limits,
    /// HTTP metrics.
    pub http: HttpMetrics,
    /// Rendered answers of final ranges.
    pub bodies: bodies::Bodies,
}

impl Relay {
    /// A relay over `cache` with no keys, no CORS and the default limits.
    pub fn new(cache: Cache) -> Self {
        Relay {
            cache,
            keys: None,
            cors: Vec::new(),
            limits: Limits::default(),
            http: HttpMetrics::default(),
            bodies: bodies::Bodies::new(bodies::DEFAULT_BODY_CACHE_BYTES),
        }
    }
}

/// Paths of the routes (`server/openapi.json` documents exactly these; a test checks).
pub mod paths {
    /// Candles.
    pub const KLINES: &str = "/v1/klines";
    /// Public trades.
    pub const TRADES: &str = "/v1/trades";
    /// Funding-rate history.
    pub const FUNDING: &str = "/v1/funding";
    /// The order book now.
    pub const BOOK: &str = "/v1/book";
    /// Coverage reports.
    pub const COVERAGE: &str = "/v1/coverage";
    /// The source namespace of each exchange's values.
    pub const SOURCES: &str = "/v1/sources";
    /// Raw segments.
    pub const SEGMENTS: &str = "/v1/segments/{exchange}/{market}/{what}/{symbol}/{start}";
    /// Candles in the seed relay's shape (Binance kline arrays).
    pub const HISTORICAL_KLINES: &str = "/v1/historical/klines";
    /// The order book in the seed relay's shape (Binance depth).
    pub const HISTORICAL_ORDERBOOK: &str = "/v1/historical/orderbook";
    /// The status page.
    pub const STATUS: &str = "/";
    /// Liveness and tiers.
    pub const HEALTH: &str = "/health";
    /// Prometheus text.
    pub const METRICS: &str = "/metrics";
    /// Every route.
    pub const ALL: [&str; 12] = [
        KLINES,
        TRADES,
        FUNDING,
        BOOK,
        COVERAGE,
        SOURCES,
        SEGMENTS,
        HISTORICAL_KLINES,
        HISTORICAL_ORDERBOOK,
        STATUS,
        HEALTH,
        METRICS,
    ];
}

/// The relay's routes: `/v1/*` behind the keys (when configured), `/health` and
/// `/metrics` open; every request timed, bounded and counted.
pub fn router(relay: Arc<Relay>) -> Router {
    let v1 = Router::new()
        .route(paths::KLINES, get(data::klines))
        .route(paths::TRADES, get(data::trades))
        .route(paths::FUNDING, get(data::funding))
        .route(paths::BOOK, get(data::book))
        .route(paths::COVERAGE, get(data::coverage))
        .route(paths::SOURCES, get(sources))
        .route(paths::HISTORICAL_KLINES, get(compat::klines))
        .route(paths::HISTORICAL_ORDERBOOK, get(compat::orderbook))
        .route(paths::SEGMENTS, get(segments::segment))
        .layer(middleware::from_fn_with_state(Arc::clone(&relay), authenticate));
    Router::new()
        .merge(v1)
        .route(paths::STATUS, get(status_page))
        .route(paths::HEALTH, get(health))
        .route(paths::METRICS, get(metrics::metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(Arc::clone(&relay), bounded))
        // gzip or zstd by Accept-Encoding, for bodies worth it (not raw segments: they
        // are already compact, and a CDN caches them as they are).
        .layer(
            CompressionLayer::new().gzip(true).zstd(true).compress_when(
                SizeAbove::new(1024).and(NotForContentType::const_new(segments::SEGMENT_TYPE)),
            ),
        )
        .layer(middleware::from_fn_with_state(Arc::clone(&relay), metrics::track))
        .layer(middleware::from_fn_with_state(Arc::clone(&relay), cors))
        .with_state(relay)
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting and
/// lets requests in flight finish for up to `grace`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, router).with_graceful_shutdown(async move {
        shutdown.await;
        let _ = stopping_tx.send(());
    });
    let deadline = async move {
        if stopping_rx.await.is_ok() {
            tokio::time::sleep(grace).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        result = std::future::IntoFuture::into_future(server) => result,
        () = deadline => {
            tracing::warn!(?grace, "requests still running after the shutdown grace; stopping anyway");
            Ok(())
        }
    }
}

/// Whether `addr` is loopback only (where serving without keys is the default).
pub fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}

/// Middleware: the API key, when keys are configured; the caller goes into the request.
async fn authenticate(State(relay): State<Arc<Relay>>, mut request: Request, next: Next) -> Response {
    if let Some(keys) = &relay.keys {
        let admitted = match keys.check(request.headers()) {
            Ok(caller) => keys.admit(&relay.cache, &caller).await.map(|()| caller),
            Err(e) => Err(e),
        };
        match admitted {
            Ok(caller) => {
                request.extensions_mut().insert(caller);
            }
            Err(e) => return e.into_response(),
        }
    }
    next.run(request).await
}

/// Middleware: a request that takes longer than the limit is answered `504` (its work
/// stops; segments already fetched stay cached).
async fn bounded(State(relay): State<Arc<Relay>>, request: Request, next: Next) -> Response {
    let limit = relay.limits.request_timeout;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "TIMEOUT",
            format!("the request took longer than {limit:?}; ask again (what was fetched is cached)"),
        )
        .into_response(),
    }
}

/// Middleware: CORS for the configured origins (preflight answered here).
async fn cors(State(relay): State<Arc<Relay>>, request: Request, next: Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let allowed = origin
        .as_ref()
        .and_then(|o| o.to_str().ok())
        .filter(|o| relay.cors.iter().any(|a| a == "*" || a.eq_ignore_ascii_case(o)))
        .is_some();
    let preflight = request.method() == Method::OPTIONS;
    let mut response =
        if preflight && allowed { StatusCode::NO_CONTENT.into_response() } else { next.run(request).await };
    if let (true, Some(origin)) = (allowed, origin) {
        let h = response.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization, x-api-key, if-none-match"),
        );
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, OPTIONS"));
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("etag, retry-after, x-cryptocache-source"),
        );
    }
    response
}

/// `GET /health`: the tiers configured and their counts, upstream use per venue, queries
/// so far, the source namespaces and the relay's clock (what the status page shows).
async fn health(State(relay): State<Arc<Relay>>) -> Response {
    let stats = relay.cache.stats();
    let tiers: Vec<_> = stats
        .tiers
        .iter()
        .map(|t| serde_json::json!({"name": t.name, "hits": t.hits, "misses": t.misses, "errors": t.errors}))
        .collect();
    let sources = source_map(&relay);
    Json(serde_json::json!({
        "status": "ok",
        "tiers": tiers,
        "queries": stats.queries,
        "upstream": { "requests": stats.upstream.requests, "venues": stats.upstream.venues },
        "sources": sources,
        "now": relay.cache.now_ms(),
    }))
    .into_response()
}

/// `GET /`: the status page (one HTML file in the binary, nothing fetched from elsewhere):
/// tier hit ratios, upstream use per venue, a candle chart drawn from `/v1/klines`.
async fn status_page() -> Response {
    let headers = [(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"))];
    (headers, include_str!("status.html")).into_response()
}

/// `GET /v1/sources`: the source namespace each exchange's values are stored under
/// (`live` for the exchanges' own endpoints). A cache using this relay as its upstream
/// stores what it gets under the same names.
async fn sources(State(relay): State<Arc<Relay>>) -> Response {
    Json(source_map(&relay)).into_response()
}

/// Exchange name → source namespace.
fn source_map(relay: &Relay) -> serde_json::Map<String, serde_json::Value> {
    relay.cache.sources().into_iter().map(|(e, s)| (e.to_string(), s.to_string().into())).collect()
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", "this endpoint answers GET only")
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", "no such endpoint: see docs/relay.md")
}
