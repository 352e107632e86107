//! Faults, delay, counters, the `/_sim/*` control endpoints and shutdown.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use cryptocache_sim::{Fault, SimStats};

const KLINES: &str = "/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=10";

#[tokio::test]
async fn faults_are_served_in_order_then_normal_service_resumes() {
    let sim = sim_at(NOW).await;
    let normal = get(&sim, KLINES).await;
    assert_eq!(normal.status, 200);
    sim.push_faults(vec![
        Fault::Status { status: 429, retry_after_secs: Some(7) },
        Fault::Status { status: 418, retry_after_secs: None },
        Fault::Status { status: 502, retry_after_secs: None },
        Fault::Status { status: 503, retry_after_secs: Some(3) },
        Fault::Malformed,
        Fault::Truncated,
    ]);

    let r = get(&sim, "/fapi/v1/time").await;
    assert_eq!((r.status, r.header("retry-after")), (429, Some("7")));
    let (code, msg) = r.error();
    assert_eq!(code, -1003);
    assert!(
        msg.starts_with(
            "Too many requests; current limit of IP(127.0.0.1) request weight per 1 MINUTE is 2400."
        ),
        "{msg}"
    );

    let r = get(&sim, KLINES).await;
    assert_eq!((r.status, r.header("retry-after")), (418, None));
    let (code, msg) = r.error();
    assert_eq!(code, -1003);
    assert!(msg.starts_with("Way too many requests; IP(127.0.0.1) banned until "), "{msg}");

    let r = get(&sim, KLINES).await;
    assert_eq!((r.status, r.text()), (502, "<html>502 Bad Gateway</html>".to_string()));
    let r = get(&sim, KLINES).await;
    assert_eq!((r.status, r.header("retry-after")), (503, Some("3")));
    assert_eq!(r.text(), "<html>503 Service Unavailable</html>");

    let r = get(&sim, KLINES).await;
    assert_eq!(r.status, 200);
    assert!(serde_json::from_slice::<serde_json::Value>(&r.body).is_err());
    assert_eq!(r.text(), "{\"this is\": not json");

    let r = get(&sim, KLINES).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), normal.body.len() / 2);
    assert_eq!(&r.body[..], &normal.body[..normal.body.len() / 2]);
    assert!(serde_json::from_slice::<serde_json::Value>(&r.body).is_err());

    let r = get(&sim, KLINES).await;
    assert_eq!(r.body, normal.body, "queue drained: normal service");

    let stats = sim.stats();
    assert_eq!(stats.total, 8);
    assert_eq!(stats.faults_served, 6);
    assert_eq!(stats.rate_limited, 0, "injected throttles are not the limiter's");
    assert_eq!(stats.statuses.get(&200), Some(&4));
    assert_eq!(stats.endpoints.get("/api/v3/klines"), Some(&7));
    assert_eq!(stats.endpoints.get("/fapi/v1/time"), Some(&1));
}

#[tokio::test]
async fn control_endpoints_drive_the_same_state() {
    fresh_window(Duration::from_secs(60), Duration::from_secs(5)).await;
    let sim = sim_at(NOW).await;
    let r = post(&sim, "/_sim/faults", r#"[{"kind":"status","status":500},{"kind":"malformed"}]"#).await;
    assert_eq!((r.status, r.json()["queued"].as_u64()), (200, Some(2)));
    assert_eq!(get(&sim, KLINES).await.status, 500);
    assert_eq!(get(&sim, KLINES).await.text(), "{\"this is\": not json");

    assert_eq!(post(&sim, "/_sim/clock", r#"{"now_ms": 1600000000000}"#).await.status, 200);
    assert_eq!(sim.now_ms(), 1_600_000_000_000);
    assert_eq!(
        get(&sim, "/_sim/clock").await.json(),
        serde_json::json!({ "now_ms": 1_600_000_000_000i64, "fixed": true })
    );
    assert_eq!(get(&sim, "/api/v3/time").await.json()["serverTime"], 1_600_000_000_000i64);
    post(&sim, "/_sim/clock", r#"{"now_ms": null}"#).await;
    let real = get(&sim, "/_sim/clock").await.json();
    assert_eq!(real["fixed"], false);
    assert!((real["now_ms"].as_i64().unwrap() - wall_ms()).abs() < 5_000);

    assert_eq!(post(&sim, "/_sim/delay", r#"{"ms": 300}"#).await.status, 200);
    let started = Instant::now();
    assert_eq!(get(&sim, "/api/v3/time").await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));

    let over_http: SimStats = serde_json::from_slice(&get(&sim, "/_sim/stats").await.body).unwrap();
    assert_eq!(over_http, sim.stats());
    assert_eq!(over_http.total, 4, "control calls are not counted");
    assert_eq!(over_http.faults_served, 2);
    assert_eq!(over_http.statuses.get(&500), Some(&1));
    // Only requests that reached a handler were charged: the two time calls.
    assert_eq!(over_http.max_window_weight.get("binance-spot"), Some(&2));

    sim.push_faults(vec![Fault::Malformed]);
    assert_eq!(post(&sim, "/_sim/reset", "").await.status, 200);
    assert_eq!(sim.stats(), SimStats::default());
    let started = Instant::now();
    let r = get(&sim, "/api/v3/time").await;
    assert!(started.elapsed() < Duration::from_millis(300), "reset clears the delay");
    assert_eq!((r.status, r.used_weight()), (200, Some(1)), "reset clears faults and weight");
}

#[tokio::test]
async fn set_delay_from_rust_applies_to_every_exchange() {
    let sim = sim_at(NOW).await;
    sim.set_delay(Duration::from_millis(150));
    let started = Instant::now();
    get(&sim, "/fapi/v1/time").await;
    get(&sim, KLINES).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    let started = Instant::now();
    get(&sim, "/_sim/stats").await;
    assert!(started.elapsed() < Duration::from_millis(150), "control endpoints are not delayed");
}

#[tokio::test]
async fn bandwidth_delays_bodies_in_proportion_to_their_size() {
    let sim = sim_at(NOW).await;
    // A 1000-candle klines page is about 150 kB: at 500 kB/s it takes about 0.3 s.
    sim.set_bandwidth(Some(500_000));
    let started = Instant::now();
    let page = get(&sim, "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1000").await;
    let elapsed = started.elapsed();
    let expected = Duration::from_secs_f64(page.body.len() as f64 / 500_000.0);
    assert!(page.body.len() > 50_000, "{} bytes", page.body.len());
    assert!(elapsed >= expected, "{elapsed:?} < {expected:?}");
}

#[tokio::test]
async fn unknown_paths_are_counted_as_404() {
    let sim = sim_at(NOW).await;
    sim.push_faults(vec![Fault::Malformed]);
    assert_eq!(get(&sim, "/api/v3/avgPrice?symbol=BTCUSDT").await.status, 404);
    let stats = sim.stats();
    assert_eq!((stats.total, stats.statuses.get(&404)), (1, Some(&1)));
    assert_eq!(stats.endpoints.get("/api/v3/avgPrice"), Some(&1));
    assert_eq!(stats.faults_served, 0, "faults wait for a real endpoint");
    assert_eq!(get(&sim, KLINES).await.text(), "{\"this is\": not json");
}

#[tokio::test]
async fn shutdown_and_drop_stop_the_server() {
    let sim = sim_at(NOW).await;
    let url = sim.url();
    assert!(url.starts_with("http://127.0.0.1:") && !url.ends_with('/'));
    assert_eq!(request(&url, "GET", "/api/v3/time", None).await.status, 200);
    sim.shutdown().await;
    let host = url.strip_prefix("http://").unwrap().to_string();
    assert!(tokio::net::TcpStream::connect(&host).await.is_err());

    let sim = sim_at(NOW).await;
    let host = sim.url().strip_prefix("http://").unwrap().to_string();
    drop(sim);
    let mut refused = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if tokio::net::TcpStream::connect(&host).await.is_err() {
            refused = true;
            break;
        }
    }
    assert!(refused, "dropping the Sim closes its listener");
}

#[tokio::test]
async fn start_on_a_chosen_port() {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let config = cryptocache_sim::SimConfig { now_ms: Some(NOW), ..Default::default() };
    let sim = cryptocache_sim::Sim::start_on(config, port).await.unwrap();
    assert_eq!(sim.url(), format!("http://127.0.0.1:{port}"));
    assert_eq!(get(&sim, "/api/v3/time").await.status, 200);
}

#[test]
fn sim_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<cryptocache_sim::Sim>();
    check::<cryptocache_sim::SimStats>();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_are_all_counted() {
    let sim = sim_at(NOW).await;
    let url = sim.url();
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let url = url.clone();
            let target = format!("/api/v3/klines?symbol=BTCUSDT&interval=1m&limit={}", i + 1);
            tokio::spawn(async move { (i + 1, request(&url, "GET", &target, None).await) })
        })
        .collect();
    for task in tasks {
        let (limit, reply) = task.await.unwrap();
        assert_eq!(rows(&reply).len(), limit);
    }
    let stats = sim.stats();
    assert_eq!((stats.total, stats.statuses.get(&200)), (64, Some(&64)));
}
