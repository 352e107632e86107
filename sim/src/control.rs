//! Control endpoints under `/_sim/` (never counted as exchange requests);
//! the table is in the crate documentation.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::faults::Fault;
use crate::server::Shared;
use crate::stats::SimStats;

/// Body of `POST /_sim/delay`.
#[derive(serde::Deserialize)]
struct DelayBody {
    ms: u64,
    /// Bytes per second each response body is sent at; absent or 0 = unlimited.
    #[serde(default)]
    bytes_per_sec: Option<u64>,
}

/// Body of `POST /_sim/clock`.
#[derive(serde::Deserialize)]
struct ClockBody {
    now_ms: Option<i64>,
}

/// The `/_sim/*` routes.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_sim/stats", get(stats))
        .route("/_sim/reset", post(reset))
        .route("/_sim/faults", post(faults))
        .route("/_sim/delay", post(delay))
        .route("/_sim/clock", get(clock).post(set_clock))
}

async fn stats(State(shared): State<Arc<Shared>>) -> Json<SimStats> {
    Json(shared.stats())
}

async fn reset(State(shared): State<Arc<Shared>>) -> Json<Value> {
    shared.reset();
    Json(json!({ "ok": true }))
}

async fn faults(State(shared): State<Arc<Shared>>, Json(faults): Json<Vec<Fault>>) -> Json<Value> {
    let queued = shared.push_faults(faults);
    Json(json!({ "queued": queued }))
}

async fn delay(State(shared): State<Arc<Shared>>, Json(body): Json<DelayBody>) -> Json<Value> {
    shared.set_delay(Duration::from_millis(body.ms));
    shared.set_bandwidth(body.bytes_per_sec);
    Json(json!({ "ms": body.ms, "bytes_per_sec": body.bytes_per_sec }))
}

async fn clock(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({ "now_ms": shared.clock.now_ms(), "fixed": shared.clock.fixed().is_some() }))
}

async fn set_clock(State(shared): State<Arc<Shared>>, Json(body): Json<ClockBody>) -> Json<Value> {
    shared.clock.set(body.now_ms);
    Json(json!({ "now_ms": shared.clock.now_ms(), "fixed": body.now_ms.is_some() }))
}
