//! Invalidation: a range leaves every tier and the next query refetches exactly those
//! segments; a process sharing the Redis drops them from its memory at once.

mod common;

use std::time::Duration;

use common::*;
use cryptocache::invalidate::Invalidation;
use cryptocache::{Exchange, Market};
use cryptocache_sim::redis_server::{redis_available, RedisOptions, RedisServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_query_refetches_exactly_the_invalidated_segments() {
    let w = World::new().await;
    let cache = w.exact_builder().build().await.unwrap();
    let seg = 1000 * HOUR;
    let base = (NOW - 100 * DAY) / seg * seg;
    let q = query("BTCUSDT", "1h", base, base + 5 * seg);
    cache.klines(&q).await.unwrap();
    let cold = w.kline_requests();
    // Invalidate two of the five segments (a range inside them).
    let inv = Invalidation::range(
        Exchange::Binance,
        "BTCUSDT",
        "1h".parse().unwrap(),
        base + seg + 7,
        base + 3 * seg - 1,
    );
    let report = cache.invalidate(&inv).await.unwrap();
    assert_eq!(report.segments, 2);
    assert!(report.series.ends_with(":binance:spot:klines:1h:BTCUSDT"), "{}", report.series);
    // Gone from memory and disk: a fresh cache on the same directory refetches them too.
    let fresh = w.exact_builder().build().await.unwrap();
    assert_matches_sim(&fresh.klines(&q).await.unwrap(), &q, NOW);
    assert_eq!(w.kline_requests() - cold, 2, "exactly the invalidated segments");
    assert_matches_sim(&cache.klines(&q).await.unwrap(), &q, NOW);
    assert_eq!(w.kline_requests() - cold, 2, "refetched once, then cached again");
    // With refresh, the call itself refetches, and reports what the range holds now.
    let report = cache.invalidate(&inv.clone().refresh(true)).await.unwrap();
    assert_eq!(
        report.refetched_rows,
        Some(cache.klines(&query("BTCUSDT", "1h", base + seg + 7, base + 3 * seg - 1)).await.unwrap().len())
    );
    assert_eq!(w.kline_requests() - cold, 4);
    // A whole series; bad input is a clear error.
    let all = Invalidation::series(Exchange::Binance, "BTCUSDT", "1h".parse().unwrap());
    assert_eq!(
        cache.invalidate(&all).await.unwrap().segments,
        segment_count(&query("BTCUSDT", "1h", 1_230_940_800_000, NOW + 1), NOW) as usize
    );
    let bad = Invalidation { market: Some(Market::Option), ..all };
    assert_eq!(cache.invalidate(&bad).await.unwrap_err().code(), "UNSUPPORTED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_process_drops_the_segments_from_its_memory_at_once() {
    assert!(redis_available(), "redis-server is required (scripts/test.sh installs it)");
    let redis = RedisServer::start(RedisOptions::default()).unwrap();
    let w = World::new().await;
    let a = w.exact_builder().no_disk().redis(redis.url()).build().await.unwrap();
    let b = w.exact_builder().no_disk().redis(redis.url()).build().await.unwrap();
    let q = query("ETHUSDT", "1h", NOW - 60 * DAY, NOW - 50 * DAY);
    a.klines(&q).await.unwrap();
    b.klines(&q).await.unwrap(); // from Redis, now in B's memory
    let before = w.kline_requests();
    b.klines(&q).await.unwrap();
    assert_eq!(b.stats().tier("memory").unwrap().hits, 1, "B serves it from memory");
    // Both listen on the invalidation channel.
    wait_for_listeners(&redis, 2).await;
    let inv = Invalidation::range(Exchange::Binance, "ETHUSDT", "1h".parse().unwrap(), q.start, q.end);
    let segments = a.invalidate(&inv).await.unwrap().segments as u64;
    // B's next query goes to the exchange within a second.
    refetches_within(&w, &b, &q, before, Duration::from_secs(1)).await;
    assert_eq!(w.kline_requests() - before, segments);
}
