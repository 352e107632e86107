//! The running simulator: configuration, shared state, the HTTP server and
//! the gate every exchange request passes (counters, delay, faults).

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::clock::{real_now_ms, Clock};
use crate::config::{BybitLimits, DeribitLimits, OkxLimits};
use crate::faults::{self, Fault};
use crate::limits::{Admission, Budget, Credits, WeightLimiter};
use crate::stats::SimStats;
use crate::{binance, bybit, control, deribit, okx};

/// Simulator settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimConfig {
    /// Binance spot request-weight budget per window (default 6000).
    pub spot_weight_limit: u32,
    /// Binance USDⓈ-M request-weight budget per window (default 2400).
    pub um_weight_limit: u32,
    /// Weight window (default 60 s); windows are aligned to multiples of it
    /// on the real wall clock.
    pub weight_window: Duration,
    /// Ban length after persisting over the budget (default 120 s); sent as
    /// `Retry-After` on 418.
    pub ban_duration: Duration,
    /// Fixed simulated "now" in ms; `None` follows real time.
    pub now_ms: Option<i64>,
    /// Bybit's IP limit (600 requests per 5 s → 403).
    pub bybit: BybitLimits,
    /// OKX's per-endpoint limits (e.g. candles 40 per 2 s → 429 / 50011).
    pub okx: OkxLimits,
    /// Deribit's credit pool (50,000, refill 10,000/s, 500 per call → 10028).
    pub deribit: DeribitLimits,
}

impl Default for SimConfig {
    fn default() -> SimConfig {
        SimConfig {
            spot_weight_limit: 6000,
            um_weight_limit: 2400,
            weight_window: Duration::from_secs(60),
            ban_duration: Duration::from_secs(120),
            now_ms: None,
            bybit: BybitLimits::default(),
            okx: OkxLimits::default(),
            deribit: DeribitLimits::default(),
        }
    }
}

/// Mutable state behind one lock.
#[derive(Default)]
struct Inner {
    stats: SimStats,
    faults: VecDeque<Fault>,
    delay: Duration,
    /// Bytes per second each response body is sent at (`None`: as fast as possible).
    bandwidth: Option<u64>,
    limiter: WeightLimiter,
}

/// State shared by the handlers of one simulator.
pub(crate) struct Shared {
    /// Settings given at start.
    pub(crate) config: SimConfig,
    /// Simulated clock.
    pub(crate) clock: Clock,
    state: Mutex<Inner>,
}

impl Shared {
    fn new(config: SimConfig) -> Shared {
        Shared { clock: Clock::new(config.now_ms), config, state: Mutex::default() }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        f(&mut self.state.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Counters, with the limiter's peaks.
    pub(crate) fn stats(&self) -> SimStats {
        self.with(|s| SimStats { max_window_weight: s.limiter.peaks(), ..s.stats.clone() })
    }

    /// Clears counters, faults, delay, weight windows and bans (not the clock).
    pub(crate) fn reset(&self) {
        self.with(|s| *s = Inner::default());
    }

    /// Queues faults; returns the queue length.
    pub(crate) fn push_faults(&self, faults: Vec<Fault>) -> usize {
        self.with(|s| {
            s.faults.extend(faults);
            s.faults.len()
        })
    }

    /// Sets the latency added to every exchange request.
    pub(crate) fn set_delay(&self, delay: Duration) {
        self.with(|s| s.delay = delay);
    }

    /// Sets the rate each response body is sent at (`None`: unlimited).
    pub(crate) fn set_bandwidth(&self, bytes_per_sec: Option<u64>) {
        self.with(|s| s.bandwidth = bytes_per_sec.filter(|&b| b > 0));
    }

    /// Charges `weight` to budget `key` at the real wall-clock time.
    pub(crate) fn admit(&self, key: &str, weight: u32, limit: u32) -> Admission {
        let budget = Budget {
            limit,
            window_ms: duration_ms(self.config.weight_window).max(1),
            ban_ms: duration_ms(self.config.ban_duration),
        };
        self.with(|s| s.limiter.admit(key, weight, budget, real_now_ms()))
    }

    /// Charges `weight` to the plain fixed-window budget `key` (no ban
    /// escalation) at the real wall-clock time.
    pub(crate) fn admit_window(&self, key: &str, weight: u32, limit: u32, window: Duration) -> Admission {
        let window_ms = duration_ms(window).max(1);
        self.with(|s| s.limiter.admit_window(key, weight, limit, window_ms, real_now_ms()))
    }

    /// Charges `cost` credits to the refilling pool `key` at the real wall-clock time.
    pub(crate) fn admit_credits(&self, key: &str, cost: u32, credits: Credits) -> Admission {
        self.with(|s| s.limiter.admit_credits(key, cost, credits, real_now_ms()))
    }

    /// Counts one rejection produced by a limiter (429/418/403).
    pub(crate) fn count_rate_limited(&self) {
        self.with(|s| s.stats.rate_limited += 1);
    }

    /// Counts an arriving exchange request; returns the delay, the bandwidth and the
    /// next fault.
    fn arrive(&self, path: &str) -> (Duration, Option<u64>, Option<Fault>) {
        self.with(|s| {
            s.stats.arrived(path);
            (s.delay, s.bandwidth, s.faults.pop_front())
        })
    }

    /// Counts an arriving request that cannot take a fault (unknown path).
    fn arrive_without_fault(&self, path: &str) {
        self.with(|s| s.stats.arrived(path));
    }

    /// Counts a reply.
    fn reply(&self, status: StatusCode, faulted: bool) {
        self.with(|s| {
            s.stats.replied(status.as_u16());
            if faulted {
                s.stats.faults_served += 1;
            }
        });
    }
}

/// A duration in whole ms, saturating.
pub(crate) fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Every exchange request passes here: counted, delayed, and possibly
/// replaced by the next queued fault.
async fn exchange_gate(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let (delay, bandwidth, fault) = shared.arrive(&path);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let response = match &fault {
        None => next.run(req).await,
        Some(Fault::Truncated) => faults::truncate(next.run(req).await).await,
        Some(Fault::Dropped) => faults::drop_halfway(next.run(req).await).await,
        Some(Fault::Malformed) => faults::malformed(),
        Some(Fault::Status { status, retry_after_secs }) => {
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            injected_status(&shared, &path, status, *retry_after_secs)
        }
    };
    shared.reply(response.status(), fault.is_some());
    match bandwidth {
        Some(rate) => at_bandwidth(response, rate).await,
        None => response,
    }
}

/// `response` as it arrives over a link of `rate` bytes per second: its body is sent in
/// pieces of 50 ms worth each, so a client sees a big file arrive over seconds (and can
/// be interrupted in the middle of it).
async fn at_bandwidth(response: Response, rate: u64) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    let piece = usize::try_from(rate / 20).unwrap_or(usize::MAX).max(1024);
    parts.headers.insert(axum::http::header::CONTENT_LENGTH, axum::http::HeaderValue::from(bytes.len()));
    let pieces = futures_util::stream::unfold(0, move |at| {
        let bytes = bytes.clone();
        async move {
            if at >= bytes.len() {
                return None;
            }
            let end = (at + piece).min(bytes.len());
            // Each piece takes its own length's time (a small reply is not rounded up).
            tokio::time::sleep(Duration::from_secs_f64((end - at) as f64 / rate as f64)).await;
            Some((Ok::<_, std::convert::Infallible>(bytes.slice(at..end)), end))
        }
    });
    Response::from_parts(parts, axum::body::Body::from_stream(pieces))
}

/// The reply of an injected status fault, in the style of the exchange the
/// path belongs to: the exchange's own throttle reply for its throttle
/// status (Binance 429/418, Bybit 403, OKX 429, Deribit 429), else an HTML
/// error page.
fn injected_status(shared: &Shared, path: &str, status: StatusCode, retry_after: Option<u64>) -> Response {
    let throttle = status == StatusCode::TOO_MANY_REQUESTS || status.as_u16() == 418;
    let styled = if bybit::owns_path(path) {
        (status == StatusCode::FORBIDDEN).then(bybit::too_frequent)
    } else if okx::owns_path(path) {
        (status == StatusCode::TOO_MANY_REQUESTS).then(okx::rate_limited)
    } else if deribit::owns_path(path) {
        (status == StatusCode::TOO_MANY_REQUESTS).then(|| deribit::too_many_requests(shared.clock.now_ms()))
    } else {
        match binance::market_of_path(path) {
            Some(market) if throttle => {
                return binance::injected_throttle(shared, market, status, retry_after);
            }
            _ => None,
        }
    };
    match styled {
        Some(mut r) => {
            if let Some(secs) = retry_after {
                r.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
            }
            r
        }
        None => faults::html_error(status, retry_after),
    }
}

/// Unknown paths: counted as exchange requests (so stray calls show up in
/// the stats), answered 404, never consume faults.
async fn unknown_path(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let response = StatusCode::NOT_FOUND.into_response();
    if !path.starts_with("/_sim/") {
        shared.arrive_without_fault(&path);
        shared.reply(response.status(), false);
    }
    response
}

/// The whole HTTP surface: exchange routes behind the gate, control routes beside.
fn router(shared: Arc<Shared>) -> Router {
    let exchanges = binance::routes()
        .merge(bybit::routes())
        .merge(okx::routes())
        .merge(deribit::routes())
        .route_layer(middleware::from_fn_with_state(shared.clone(), exchange_gate));
    exchanges.merge(control::routes()).fallback(unknown_path).with_state(shared)
}

/// A running simulator on `127.0.0.1`. Dropping it (or [`Sim::shutdown`])
/// stops the server.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// use cryptocache_sim::{Sim, SimConfig};
/// let sim = Sim::start(SimConfig { now_ms: Some(1_700_000_000_000), ..SimConfig::default() }).await?;
/// assert!(sim.url().starts_with("http://127.0.0.1:"));
/// assert_eq!(sim.stats().total, 0);
/// sim.shutdown().await;
/// # Ok(())
/// # }
/// ```
pub struct Sim {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Sim {
    /// Starts a simulator on a free loopback port (`127.0.0.1:0`).
    pub async fn start(config: SimConfig) -> std::io::Result<Sim> {
        Sim::start_on(config, 0).await
    }

    /// Starts a simulator on `127.0.0.1:port` (0 = any free port).
    pub async fn start_on(config: SimConfig, port: u16) -> std::io::Result<Sim> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(config));
        let app = router(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stopped.await;
            });
            // Serving ends only on shutdown or a listener error; neither needs a report.
            let _ = serve.await;
        });
        Ok(Sim { addr, shared, stop: Some(stop), task: Some(task) })
    }

    /// Base URL for every exchange, e.g. `http://127.0.0.1:41234` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Counters; the same numbers as `GET /_sim/stats`.
    pub fn stats(&self) -> SimStats {
        self.shared.stats()
    }

    /// Clears counters, faults, delay, weight windows and bans (like `POST /_sim/reset`).
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// Fixes the simulated clock at `now_ms`, or returns it to real time (`None`).
    pub fn set_now(&self, now_ms: Option<i64>) {
        self.shared.clock.set(now_ms);
    }

    /// Simulated now, ms since the epoch.
    pub fn now_ms(&self) -> i64 {
        self.shared.clock.now_ms()
    }

    /// Queues faults, consumed in order by the next exchange requests.
    pub fn push_faults(&self, faults: Vec<Fault>) {
        self.shared.push_faults(faults);
    }

    /// Latency added before answering every exchange request.
    pub fn set_delay(&self, delay: Duration) {
        self.shared.set_delay(delay);
    }

    /// The rate every response body is sent at, in bytes per second (`None`: unlimited),
    /// so archive downloads cost time in proportion to their size.
    pub fn set_bandwidth(&self, bytes_per_sec: Option<u64>) {
        self.shared.set_bandwidth(bytes_per_sec);
    }

    /// Stops the server: in-flight requests finish (up to 5 s), idle
    /// connections are closed.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(5), &mut task).await.is_err() {
                task.abort();
            }
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim").field("url", &self.url()).finish_non_exhaustive()
    }
}
