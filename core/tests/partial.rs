//! Partial segments against the simulator over real HTTP: a short kline query fetches
//! only the pages it needs and keeps them as partial segments (their covered span
//! recorded); later queries fetch only what is still missing; a partial segment is never
//! served as a whole one, from memory or from disk.

mod common;

use common::*;
use cryptocache::{CoverageQuery, DataKind, Exchange, SegmentStatus, TimeRange};

const MIN: i64 = 60_000;
/// A 1m segment: 1000 slots.
const SEG: i64 = 1000 * MIN;
/// A 1m segment boundary in January 2024.
const EDGE: i64 = (1_704_067_200_000 / SEG + 3) * SEG;

/// A cache without read-ahead: every request counted here is the query's own.
async fn exact(w: &World) -> cryptocache::Cache {
    w.exact_builder().build().await.unwrap()
}

fn coverage_query(start: i64, end: i64) -> CoverageQuery {
    CoverageQuery {
        exchange: Exchange::Binance,
        market: None,
        symbol: "BTCUSDT".into(),
        kind: DataKind::Klines,
        interval: Some("1m".parse().unwrap()),
        start,
        end,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_range_across_a_segment_edge_is_one_request() {
    let w = World::new().await;
    let cache = exact(&w).await;
    let q = query("BTCUSDT", "1m", EDGE - 100 * MIN, EDGE + 50 * MIN);
    let got = cache.klines(&q).await.unwrap();
    assert_matches_sim(&got, &q, NOW);
    assert_eq!(got.len(), 150);
    assert_eq!(w.kline_requests(), 1, "one page of 150 slots, not the two segments it touches");
    // Both segments hold their part of the range, and say so.
    let report = cache.coverage(&coverage_query(EDGE - SEG, EDGE + SEG)).await.unwrap();
    let seen: Vec<(SegmentStatus, Option<TimeRange>, usize)> =
        report.segments.iter().map(|s| (s.status, s.covered, s.rows)).collect();
    assert_eq!(
        seen,
        [
            (SegmentStatus::Partial, Some(TimeRange::new(EDGE - 100 * MIN, EDGE)), 100),
            (SegmentStatus::Partial, Some(TimeRange::new(EDGE, EDGE + 50 * MIN)), 50),
        ]
    );
    // The covered part alone reads as cached.
    let inside = cache.coverage(&coverage_query(EDGE - 50 * MIN, EDGE)).await.unwrap();
    assert_eq!(inside.segments[0].status, SegmentStatus::Cached);
    // Repeats and sub-ranges cost nothing.
    for (start, end) in
        [(EDGE - 100 * MIN, EDGE + 50 * MIN), (EDGE - 7 * MIN, EDGE + 3 * MIN), (EDGE, EDGE + MIN)]
    {
        let sub = query("BTCUSDT", "1m", start, end);
        assert_matches_sim(&cache.klines(&sub).await.unwrap(), &sub, NOW);
    }
    assert_eq!(w.kline_requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wider_query_fetches_only_what_is_missing_then_the_segment_is_whole() {
    let w = World::new().await;
    let cache = exact(&w).await;
    cache.klines(&query("BTCUSDT", "1m", EDGE - 100 * MIN, EDGE + 50 * MIN)).await.unwrap();
    assert_eq!(w.kline_requests(), 1);
    // Wider on both sides: one page for [EDGE - 300 min, EDGE + 200 min), still fewer than
    // the two segments.
    let wider = query("BTCUSDT", "1m", EDGE - 300 * MIN, EDGE + 200 * MIN);
    let got = cache.klines(&wider).await.unwrap();
    assert_matches_sim(&got, &wider, NOW);
    assert_eq!(w.kline_requests(), 2);
    let report = cache.coverage(&coverage_query(EDGE - SEG, EDGE + SEG)).await.unwrap();
    assert_eq!(report.segments[0].covered, Some(TimeRange::new(EDGE - 300 * MIN, EDGE)));
    assert_eq!(report.segments[1].covered, Some(TimeRange::new(EDGE, EDGE + 200 * MIN)));
    // The whole segment: one request (a page is a segment), every candle, then complete.
    let whole = query("BTCUSDT", "1m", EDGE, EDGE + SEG);
    let got = cache.klines(&whole).await.unwrap();
    assert_matches_sim(&got, &whole, NOW);
    assert_eq!(got.len(), 1000);
    assert_eq!(w.kline_requests(), 3);
    let report = cache.coverage(&coverage_query(EDGE, EDGE + SEG)).await.unwrap();
    assert_eq!((report.segments[0].status, report.segments[0].covered), (SegmentStatus::Cached, None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_process_reads_partial_segments_from_disk_and_never_as_whole() {
    let w = World::new().await;
    let q = query("BTCUSDT", "1m", EDGE - 100 * MIN, EDGE + 50 * MIN);
    let first = exact(&w).await.klines(&q).await.unwrap();
    assert_eq!(w.kline_requests(), 1);
    // A new process (empty memory) over the same disk: the range is served from disk.
    let restarted = exact(&w).await;
    let again = restarted.klines(&q).await.unwrap();
    assert_eq!(again.to_columns(), first.to_columns());
    assert_eq!(w.kline_requests(), 1);
    assert_eq!(restarted.stats().tier("disk").unwrap().hits, 2);
    // The whole first segment: the disk holds only its last 100 slots, so it is fetched.
    let whole = query("BTCUSDT", "1m", EDGE - SEG, EDGE);
    let got = restarted.klines(&whole).await.unwrap();
    assert_matches_sim(&got, &whole, NOW);
    assert_eq!(got.len(), 1000);
    assert_eq!(w.kline_requests(), 2);
}
