//! The read path end to end against the simulator over real HTTP.

mod common;

use std::sync::Arc;

use common::*;
use cryptocache::{Market, TimeRange};

const JAN1: i64 = 1_704_067_200_000; // 2024-01-01
const MAR1: i64 = 1_709_251_200_000; // 2024-03-01

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cold_query_costs_one_request_per_segment_and_equals_the_exchange() {
    let w = World::new().await;
    let cache = w.cache().await;
    let q = query("BTCUSDT", "1h", JAN1, MAR1); // 1440 candles over segments 473 and 474
    let got = cache.klines(&q).await.unwrap();
    assert_eq!(got.len(), 1440);
    assert_eq!(w.kline_requests(), 2);
    assert_matches_sim(&got, &q, NOW);
    assert!(got.gaps().is_empty());
    assert!(!got.last_is_open());
    let stats = cache.stats();
    assert_eq!(stats.upstream.segments_fetched, 2);
    assert_eq!(stats.tier("disk").unwrap().writes, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeats_sub_ranges_and_overlaps_cost_nothing() {
    let w = World::new().await;
    let cache = w.cache().await;
    let q = query("BTCUSDT", "1h", JAN1, MAR1);
    cache.klines(&q).await.unwrap();
    let cold = w.kline_requests();
    for (start, end) in [
        (JAN1, MAR1),
        (JAN1 + 5 * HOUR, JAN1 + 100 * HOUR),
        (JAN1 + 14 * DAY, MAR1 - 9 * DAY),
        (MAR1 - HOUR, MAR1),
    ] {
        let sub = query("BTCUSDT", "1h", start, end);
        let got = cache.klines(&sub).await.unwrap();
        assert_matches_sim(&got, &sub, NOW);
    }
    assert_eq!(w.kline_requests(), cold, "warm queries must not go upstream");
    assert!(cache.stats().tier("memory").unwrap().hits >= 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_candle_is_refetched_only_after_the_next_close() {
    let w = World::new().await;
    let cache = w.cache().await;
    let q = query("BTCUSDT", "1h", NOW - 3 * DAY, NOW + DAY);
    let first = cache.klines(&q).await.unwrap();
    assert!(first.last_is_open());
    assert_eq!(*first.open_time().last().unwrap(), NOW - 30 * MINUTE); // the 12:00 candle
    assert_matches_sim(&first, &q, NOW);
    let cold = w.kline_requests();

    w.set_now(NOW + 20 * MINUTE); // 12:50, the 12:00 candle is still open
    cache.klines(&q).await.unwrap();
    assert_eq!(w.kline_requests(), cold, "no refetch before the close");

    w.set_now(NOW + 30 * MINUTE + 1); // 13:00:00.001, it closed
    let after = cache.klines(&q).await.unwrap();
    assert_eq!(w.kline_requests(), cold + 1, "exactly the open segment is refetched");
    assert_matches_sim(&after, &q, NOW + 30 * MINUTE + 1);
    assert_eq!(after.len(), first.len() + 1, "the 13:00 candle appeared");
    assert_ne!(
        after.close()[first.len() - 1],
        first.close()[first.len() - 1],
        "the 12:00 candle got its final close"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_identical_cold_queries_fetch_each_segment_once() {
    let w = World::new().await;
    let cache = w.cache().await;
    let q = query("ETHUSDT", "1h", JAN1, MAR1);
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (cache, q) = (cache.clone(), q.clone());
            tokio::spawn(async move { cache.klines(&q).await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap().len(), 1440);
    }
    assert_eq!(w.kline_requests(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_over_the_same_disk_costs_nothing() {
    let w = World::new().await;
    let q = query("BTCUSDT", "15m", JAN1, MAR1).market(Market::Linear);
    let first = w.cache().await.klines(&q).await.unwrap();
    let cold = w.kline_requests();
    // 5664 slots: 6 pages of 1000, one fewer than the 7 segments they touch.
    assert_eq!(cold, binance_cold_requests(&q, NOW));
    assert_eq!((cold, segment_count(&q, NOW)), (6, 7));
    let restarted = w.cache().await; // new process state: empty memory tier
    let again = restarted.klines(&q).await.unwrap();
    assert_eq!(w.kline_requests(), cold);
    assert_eq!(again.to_columns(), first.to_columns());
    assert_matches_sim(&again, &q, NOW);
    assert_eq!(restarted.stats().tier("disk").unwrap().hits, segment_count(&q, NOW));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pre_listing_ranges_are_known_empty() {
    let w = World::new().await;
    let cache = w.cache().await;
    // SOLUSDT spot lists 2020-08-11; ask for Jan–Jun 2020.
    let (start, end) = (1_577_836_800_000, 1_590_969_600_000);
    let q = query("SOLUSDT", "1h", start, end);
    let got = cache.klines(&q).await.unwrap();
    assert!(got.is_empty());
    assert_eq!(got.gaps(), vec![TimeRange::new(start, end)]);
    let cold = w.kline_requests();
    assert_eq!(cold, segment_count(&q, NOW));
    assert!(cold < 8, "short ranges skip the listing probe");
    assert!(w.cache().await.klines(&q).await.unwrap().is_empty());
    assert_eq!(w.kline_requests(), cold, "known-empty segments are not asked again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_pre_listing_ranges_cost_one_listing_probe() {
    let w = World::new().await;
    let cache = w.cache().await;
    let listed = 1_597_125_600_000; // SOLUSDT spot
    let q = query("SOLUSDT", "1h", listed - 700 * DAY, listed + 20 * DAY);
    let got = cache.klines(&q).await.unwrap();
    assert_matches_sim(&got, &q, NOW);
    assert_eq!(got.open_time()[0], listed);
    // 18 segments: the first (empty), one listing probe, then only the segment(s)
    // holding data; the 15 or so between are known-empty without a request.
    let listing_segments = {
        let seg = 1000 * HOUR;
        ((listed + 20 * DAY - 1) / seg - listed / seg + 1) as u64
    };
    assert_eq!(w.kline_requests(), 2 + listing_segments);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintenance_gap_is_reported_not_filled() {
    let w = World::new().await;
    let cache = w.cache().await;
    let (gap_start, gap_end) = (1_582_112_100_000, 1_582_133_400_000); // 2020-02-19 11:35–17:30
    let q = query("BTCUSDT", "1m", gap_start - 3 * HOUR, gap_end + 3 * HOUR);
    let got = cache.klines(&q).await.unwrap();
    assert_matches_sim(&got, &q, NOW);
    assert_eq!(got.gaps(), vec![TimeRange::new(gap_start, gap_end)]);
    assert!(got.open_time().iter().all(|&t| !(gap_start..gap_end).contains(&t)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slicing_is_exact_at_segment_and_page_edges() {
    let w = World::new().await;
    let cache = w.cache().await;
    let seg = 1000 * MINUTE;
    let edge = (JAN1 / seg + 3) * seg; // a segment (and page) boundary
    for (start, end) in [
        (edge - MINUTE, edge + MINUTE),
        (edge, edge + MINUTE),
        (edge - 1, edge + 1),
        (edge + 1, edge + seg),
        (edge - seg, edge),
        (edge - 5 * seg + 17 * MINUTE + 30_000, edge + 2 * seg - 1),
    ] {
        let q = query("BTCUSDT", "1m", start, end);
        let got = cache.klines(&q).await.unwrap();
        assert_matches_sim(&got, &q, NOW);
        assert!(got.open_time().iter().all(|&t| start <= t && t < end));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_grid_candles_keep_their_true_open_time() {
    let w = World::new().await;
    let cache = w.cache().await;
    let day = 1_518_134_400_000; // 2018-02-09: opens are 15 s late in the simulator, as on Binance
    let q = query("BTCUSDT", "1h", day - 2 * HOUR, day + 5 * HOUR);
    let got = cache.klines(&q).await.unwrap();
    assert_matches_sim(&got, &q, NOW);
    assert_eq!(got.open_time()[2], day + 15_000);
    // A start between the slot start and the true open still includes that candle.
    let q = query("BTCUSDT", "1h", day + 10_000, day + 2 * HOUR);
    let got = w.cache().await.klines(&q).await.unwrap();
    assert_eq!(got.open_time(), &[day + 15_000, day + HOUR + 15_000]);
    // Served again from disk after a restart, off-grid offsets intact.
    let again = w.cache().await.klines(&q).await.unwrap();
    assert_eq!(again.open_time(), got.open_time());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calendar_intervals_weeks_and_months() {
    let w = World::new().await;
    let cache = w.cache().await;
    for interval in ["1w", "1M", "3d", "1d"] {
        let before = w.kline_requests();
        let q = query("ETHUSDT", interval, 1_514_764_800_000, NOW + DAY);
        let got = cache.klines(&q).await.unwrap();
        assert_matches_sim(&got, &q, NOW);
        assert!(got.last_is_open());
        assert_eq!(w.kline_requests() - before, binance_cold_requests(&q, NOW), "{interval}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_only_cache_works_without_disk() {
    let w = World::new().await;
    let cache = w.builder().no_disk().build().await.unwrap();
    let q = query("BNBUSDT", "4h", JAN1, MAR1);
    let got = cache.klines(&q).await.unwrap();
    assert_matches_sim(&got, &q, NOW);
    assert!(cache.disk_dir().is_none());
    assert_eq!(cache.stats().tiers.len(), 1);
    let copy = Arc::new(got);
    assert_eq!(copy.len(), 360);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_listing_costs_one_probe_for_the_segments_before_it() {
    let w = World::new().await;
    let cache = w.cache().await;
    let onboard = 1_568_102_400_000; // USD-M BTCUSDT onboardDate in the simulator
    let q = query("BTCUSDT", "1h", onboard - 600 * DAY, onboard + 30 * DAY).market(Market::Linear);
    let got = cache.klines(&q).await.unwrap();
    assert_matches_sim(&got, &q, NOW);
    let seg = 1000 * HOUR;
    let with_data = ((onboard + 30 * DAY - 1) / seg - onboard / seg + 1) as u64;
    assert!(segment_count(&q, NOW) > with_data + 10);
    // The published onboardDate only says where to ask: one probe (the exchange's first
    // kline) makes every earlier segment known-empty on the exchange's word.
    assert_eq!(w.kline_requests(), with_data + 1, "one probe, then only the segments with data");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_answers_at_once_only_when_it_holds_every_segment_fresh() {
    let w = World::new().await;
    let cache = w.cache().await;
    let q = query("BTCUSDT", "1h", JAN1, MAR1);
    assert!(cache.klines_in_memory(&q).is_none(), "cold: the full path must answer");
    assert_eq!(w.kline_requests(), 0, "the fast path never goes upstream");
    assert_eq!(cache.stats().queries, 0, "a declined fast path counts nothing");
    assert_eq!(cache.stats().tier("memory").unwrap().misses, 0);

    cache.klines(&q).await.unwrap();
    let got = cache.klines_in_memory(&q).expect("both segments are in memory");
    assert_matches_sim(&got, &q, NOW);
    assert_eq!(cache.stats().queries, 2);
    assert_eq!(cache.stats().tier("memory").unwrap().hits, 2);

    // One segment of the range is not in memory (only on disk): the full path answers.
    let wider = query("BTCUSDT", "1h", JAN1, MAR1 + 40 * DAY);
    assert!(cache.klines_in_memory(&wider).is_none());

    // An open segment serves while fresh, and not once it has expired.
    let open = query("BTCUSDT", "1h", NOW - 3 * DAY, NOW + DAY);
    cache.klines(&open).await.unwrap();
    let fresh = cache.klines_in_memory(&open).expect("fresh open segment");
    assert!(fresh.last_is_open());
    w.set_now(NOW + 30 * MINUTE + 1);
    assert!(cache.klines_in_memory(&open).is_none(), "expired: refetch on the full path");
    let requests = w.kline_requests();
    assert!(cache.klines_in_memory(&q).is_some(), "final segments stay served");
    assert_eq!(w.kline_requests(), requests);

    // Bad input is left to the full path, which reports (and counts) it.
    let bad = query("BTCUSDT", "1h", MAR1, JAN1);
    let queries = cache.stats().queries;
    assert!(cache.klines_in_memory(&bad).is_none());
    assert_eq!(cache.stats().queries, queries);
    assert_eq!(cache.klines(&bad).await.unwrap_err().code(), "INVALID_QUERY");
}
