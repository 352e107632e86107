//! Throttling: Retry-After is honoured, the weight budget holds, and a typed error
//! comes back when the retry budget runs out. Real HTTP against the simulator.

mod common;

use std::time::{Duration, Instant};

use common::*;
use cryptocache::exchange::RetryPolicy;
use cryptocache::Error;
use cryptocache_sim::{Fault, SimConfig};

/// A cache that already validated BTCUSDT (so the next request is a kline request).
async fn warm(w: &World, builder: cryptocache::CacheBuilder) -> cryptocache::Cache {
    let cache = builder.build().await.unwrap();
    cache.klines(&query("BTCUSDT", "1h", NOW - 100 * DAY, NOW - 99 * DAY)).await.unwrap();
    w.sim.reset();
    cache
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_wait_as_retry_after_says() {
    let w = World::new().await;
    let cache = warm(&w, w.builder()).await;
    let before = cache.stats().upstream;
    w.sim.push_faults(vec![
        Fault::Status { status: 429, retry_after_secs: Some(1) },
        Fault::Status { status: 418, retry_after_secs: Some(2) },
    ]);
    let q = query("BTCUSDT", "1h", NOW - 10 * DAY, NOW - 9 * DAY);
    let t0 = Instant::now();
    let got = cache.klines(&q).await.unwrap();
    let waited = t0.elapsed();
    assert_matches_sim(&got, &q, NOW);
    assert!(waited >= Duration::from_secs(3), "waited only {waited:?}");
    let up = cache.stats().upstream;
    assert_eq!((up.retries - before.retries, up.rate_limited, up.requests - before.requests), (2, 2, 3));
    assert_eq!(w.sim.stats().faults_served, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_and_broken_bodies_are_retried() {
    let w = World::new().await;
    let cache = warm(&w, w.builder()).await;
    w.sim.push_faults(vec![
        Fault::Status { status: 503, retry_after_secs: None },
        Fault::Malformed,
        Fault::Truncated,
    ]);
    let q = query("BTCUSDT", "1h", NOW - 10 * DAY, NOW - 9 * DAY);
    let got = cache.klines(&q).await.unwrap();
    assert_matches_sim(&got, &q, NOW);
    assert_eq!(cache.stats().upstream.retries, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_retry_budget_a_typed_rate_limit_error() {
    let w = World::new().await;
    let retry =
        RetryPolicy { max_retries: 2, base_delay: Duration::from_millis(10), ..RetryPolicy::default() };
    let cache = warm(&w, w.builder().retry(retry)).await;
    w.sim.push_faults(vec![Fault::Status { status: 429, retry_after_secs: Some(0) }; 3]);
    let e = cache.klines(&query("BTCUSDT", "1h", NOW - 10 * DAY, NOW - 9 * DAY)).await.unwrap_err();
    assert!(matches!(e, Error::RateLimited { .. }), "{e:?}");
    assert_eq!(e.code(), "RATE_LIMITED");
    assert!(e.to_string().contains("Too many requests"), "{e}");

    // A ban longer than we are willing to wait fails at once, saying how long.
    w.sim.push_faults(vec![Fault::Status { status: 418, retry_after_secs: Some(7200) }]);
    let t0 = Instant::now();
    let e = cache.klines(&query("BTCUSDT", "1h", NOW - 30 * DAY, NOW - 29 * DAY)).await.unwrap_err();
    assert!(t0.elapsed() < Duration::from_secs(2));
    assert!(
        matches!(e, Error::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(7200)),
        "{e:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_weight_budget_is_never_exceeded() {
    // A tiny budget: 30 weight per 2 s window: the symbol check (weight 20), then
    // 12 kline requests (weight 2 each) need several windows.
    let window = Duration::from_secs(2);
    let w =
        World::with(SimConfig { spot_weight_limit: 30, weight_window: window, ..SimConfig::default() }).await;
    let cache = w.builder().binance(w.binance(30, window)).build().await.unwrap();
    // 12 segments of 1h candles: more than two windows' worth of requests.
    let q = query("BNBUSDT", "1h", NOW - 480 * DAY, NOW - 20 * DAY);
    let got = cache.klines(&q).await.unwrap();
    assert_matches_sim(&got, &q, NOW);
    let sim = w.sim.stats();
    assert_eq!(sim.rate_limited, 0, "the simulator never had to throttle us");
    assert!(sim.max_window_weight.get("binance-spot").copied().unwrap_or(0) <= 30, "{sim:?}");
    assert!(cache.stats().upstream.throttle_waits > 0, "the limiter made requests wait");
}
