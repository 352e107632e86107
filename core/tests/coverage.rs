//! Coverage reports: cached (and where), known-empty, open, missing, failed, future,
//! and exchange-side gaps — read from the tiers without fetching anything.

mod common;

use std::time::Duration;

use common::*;
use cryptocache::exchange::RetryPolicy;
use cryptocache::{CoverageQuery, DataKind, Exchange, SegmentStatus, TimeRange};
use cryptocache_sim::Fault;

fn coverage_query(symbol: &str, interval: &str, start: i64, end: i64) -> CoverageQuery {
    CoverageQuery {
        exchange: Exchange::Binance,
        market: None,
        symbol: symbol.into(),
        kind: DataKind::Klines,
        interval: Some(interval.parse().unwrap()),
        start,
        end,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_each_segment_and_fetches_nothing() {
    let w = World::new().await;
    let cache = w.cache().await;
    let seg = 1000 * HOUR;
    let base = (NOW / seg - 6) * seg;
    let whole = coverage_query("BTCUSDT", "1h", base, NOW + 3 * seg);

    let cold = cache.coverage(&whole).await.unwrap();
    assert_eq!(cold.count(SegmentStatus::Missing), 7);
    assert_eq!(cold.count(SegmentStatus::Future), 3);
    assert_eq!(w.sim.stats().total, 0, "coverage fetches nothing");

    cache.klines(&query("BTCUSDT", "1h", base, base + 2 * seg)).await.unwrap();
    cache.klines(&query("BTCUSDT", "1h", NOW - HOUR, NOW)).await.unwrap();
    let report = cache.coverage(&whole).await.unwrap();
    let statuses: Vec<SegmentStatus> = report.segments.iter().map(|s| s.status).collect();
    use SegmentStatus::*;
    assert_eq!(statuses, [Cached, Cached, Missing, Missing, Missing, Missing, Open, Future, Future, Future]);
    assert_eq!(report.segments[0].tier.as_deref(), Some("memory"));
    assert_eq!(report.segments[0].rows, 1000);
    assert!(report.segments[6].expires_at.is_some());

    // A new process sees the same segments on disk.
    let report = w.cache().await.coverage(&whole).await.unwrap();
    assert_eq!(report.segments[1].tier.as_deref(), Some("disk"));
    assert_eq!(report.count(Cached), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn known_empty_and_exchange_gaps_are_told_apart_from_failures() {
    let w = World::new().await;
    let cache =
        w.builder().retry(RetryPolicy { max_retries: 0, ..RetryPolicy::default() }).build().await.unwrap();
    // Before SOLUSDT's listing: known-empty.
    let (start, end) = (1_577_836_800_000, 1_580_515_200_000);
    cache.klines(&query("SOLUSDT", "1h", start, end)).await.unwrap();
    let report = cache.coverage(&coverage_query("SOLUSDT", "1h", start, end)).await.unwrap();
    assert!(report.segments.iter().all(|s| s.status == SegmentStatus::KnownEmpty));
    assert_eq!(report.gaps(), vec![TimeRange::new(start, end)]);

    // The 2020-02-19 maintenance: a confirmed exchange gap inside a cached segment.
    let (gap_start, gap_end) = (1_582_112_100_000, 1_582_133_400_000);
    let q = coverage_query("BTCUSDT", "1m", gap_start - HOUR, gap_end + HOUR);
    cache.klines(&query("BTCUSDT", "1m", gap_start - HOUR, gap_end + HOUR)).await.unwrap();
    let report = cache.coverage(&q).await.unwrap();
    assert_eq!(report.gaps(), vec![TimeRange::new(gap_start, gap_end)]);
    assert_eq!(report.count(SegmentStatus::Cached), report.segments.len());

    // A fetch that failed is reported as such, with the error. (ETHUSDT is validated
    // first, so the fault hits the kline request.)
    cache.klines(&query("ETHUSDT", "1d", 1_500_000_000_000, 1_500_000_000_000 + DAY)).await.unwrap();
    w.sim.push_faults(vec![Fault::Status { status: 502, retry_after_secs: None }]);
    let failing = query("ETHUSDT", "1d", 1_600_000_000_000, 1_600_000_000_000 + 10 * DAY);
    assert!(cache.klines(&failing).await.is_err());
    let report = cache.coverage(&coverage_query("ETHUSDT", "1d", failing.start, failing.end)).await.unwrap();
    assert_eq!(report.segments[0].status, SegmentStatus::Failed);
    assert!(report.segments[0].error.as_deref().unwrap_or("").contains("502"), "{report:?}");
    // ...and clears once a fetch succeeds.
    cache.klines(&failing).await.unwrap();
    let report = cache.coverage(&coverage_query("ETHUSDT", "1d", failing.start, failing.end)).await.unwrap();
    assert_eq!(report.segments[0].status, SegmentStatus::Cached);
    tokio::time::sleep(Duration::from_millis(1)).await;
}
