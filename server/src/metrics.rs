//! HTTP metrics (requests by route and status, latency by route) and `/metrics`: the
//! cache's own Prometheus text plus these.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cryptocache::stats::{write_family, Histogram};

use crate::Relay;

/// Requests and latencies per route.
#[derive(Debug, Default)]
pub struct HttpMetrics {
    /// (route, status) → requests.
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    /// route → latency histogram.
    durations: Mutex<BTreeMap<String, Arc<Histogram>>>,
}

impl HttpMetrics {
    /// Counts one answered request.
    fn record(&self, route: &str, status: u16, took: Duration) {
        *self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((route.to_owned(), status))
            .or_default() += 1;
        let histogram = Arc::clone(
            self.durations.lock().unwrap_or_else(|e| e.into_inner()).entry(route.to_owned()).or_default(),
        );
        histogram.observe(took);
    }

    /// The families `cryptocache_http_requests_total{route,status}` and
    /// `cryptocache_http_request_duration_seconds{route}`.
    pub fn prometheus(&self) -> String {
        let mut out = String::new();
        let requests: Vec<(String, String)> = self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|((route, status), n)| (format!("{{route=\"{route}\",status=\"{status}\"}}"), n.to_string()))
            .collect();
        write_family(
            &mut out,
            "cryptocache_http_requests_total",
            "counter",
            "HTTP requests by route and status.",
            &requests,
        );
        let durations: Vec<(String, String)> = self
            .durations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .flat_map(|(route, h)| h.snapshot().prometheus_rows(&format!("route=\"{route}\"")))
            .collect();
        write_family(
            &mut out,
            "cryptocache_http_request_duration_seconds",
            "histogram",
            "Time to answer an HTTP request, by route.",
            &durations,
        );
        out
    }
}

/// Middleware: times every request and counts it under its route template (unmatched
/// paths count as `unmatched`, so hostile URLs cannot grow the label set).
pub async fn track(State(relay): State<Arc<Relay>>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    relay.http.record(&route, response.status().as_u16(), started.elapsed());
    response
}

/// `GET /metrics`: Prometheus text format 0.0.4.
pub async fn metrics(State(relay): State<Arc<Relay>>) -> Response {
    let mut text = relay.cache.stats_prometheus();
    text.push_str(&relay.http.prometheus());
    ([(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"))], text)
        .into_response()
}
