//! Control: stale-while-revalidate, the bounded disk tier shared by several writers and a
//! pruner, Redis TTLs for closed segments, clearing a source namespace.

mod common;

use std::time::{Duration, Instant};

use common::*;
use cryptocache::exchange::RetryPolicy;
use cryptocache::tier::disk::DiskTier;
use cryptocache::Policy;
use cryptocache_sim::redis_server::{redis_available, RedisOptions, RedisServer};
use cryptocache_sim::Fault;

fn swr_policy(grace_secs: u64) -> Policy {
    Policy {
        jitter: Duration::ZERO,
        stale_while_revalidate: Duration::from_secs(grace_secs),
        ..Policy::default()
    }
}

/// Polls `done` every 5 ms for up to 5 s.
async fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_while_revalidate_serves_at_once_and_refreshes_once() {
    let w = World::new().await;
    let no_retry = RetryPolicy { max_retries: 0, ..RetryPolicy::default() };
    let cache = w.builder().policy(swr_policy(300)).retry(no_retry).build().await.unwrap();
    // The last two hours of 1m candles: the newest segment is open and expires at 12:31.
    let q = query("BTCUSDT", "1m", NOW - 2 * HOUR, NOW + MINUTE);
    let first = cache.klines(&q).await.unwrap();
    assert!(!first.is_stale());
    let cold = w.kline_requests();

    // Two minutes on, the open segment has expired. With the exchange failing, the query
    // still answers at once from the expired value, marked stale: it did not wait for
    // the exchange (a refresh failing in the background changes nothing).
    w.set_now(NOW + 2 * MINUTE);
    w.sim.push_faults(vec![Fault::Status { status: 503, retry_after_secs: None }]);
    let stale = cache.klines(&q).await.unwrap();
    assert!(stale.is_stale());
    assert_eq!(stale.open_time(), first.open_time(), "the values cached before");
    eventually("the failed background refresh", || w.kline_requests() == cold + 1).await;

    // Once the failed refresh has ended, concurrent stale reads start one refresh between
    // them (a read starts one only when none is running for that segment).
    let before = w.kline_requests();
    let deadline = Instant::now() + Duration::from_secs(5);
    while w.kline_requests() == before {
        let reads = (0..20).map(|_| cache.klines(&q));
        for got in futures_util::future::join_all(reads).await {
            // A read may come after the refresh it (or a sibling) started has been stored:
            // a fresh answer is only possible once the exchange has been asked.
            assert!(got.unwrap().is_stale() || w.kline_requests() > before, "fresh without a refresh");
        }
        assert!(Instant::now() < deadline, "no background refresh started");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let refreshed = eventually_fresh(&cache, &q).await;
    assert_matches_sim(&refreshed, &q, NOW + 2 * MINUTE);
    assert_eq!(w.kline_requests(), before + 1, "refreshed exactly once");

    // Past the grace, an expired segment is refetched before answering, as without SWR.
    w.set_now(NOW + 2 * MINUTE + 400_000);
    let late = cache.klines(&q).await.unwrap();
    assert!(!late.is_stale());
    assert_eq!(w.kline_requests(), before + 2);
    // Closed data is never stale, and SWR off (the default) never serves stale.
    let closed = cache.klines(&query("BTCUSDT", "1m", NOW - 30 * DAY, NOW - 29 * DAY)).await.unwrap();
    assert!(!closed.is_stale());
    let plain = w.builder().no_disk().build().await.unwrap();
    plain.klines(&q).await.unwrap();
    w.set_now(NOW + 2 * MINUTE + 500_000);
    assert!(!plain.klines(&q).await.unwrap().is_stale());
    assert_eq!(plain.stats().revalidations, 0);
    assert!(cache.stats().revalidations >= 2, "the failed refresh and the one that worked");
}

/// Reads `q` until the answer is no longer stale (the refresh has been stored).
async fn eventually_fresh(cache: &cryptocache::Cache, q: &cryptocache::KlineQuery) -> cryptocache::Candles {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let got = cache.klines(q).await.unwrap();
        if !got.is_stale() {
            return got;
        }
        assert!(Instant::now() < deadline, "the refreshed value never arrived");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_processes_serve_a_stale_segment_from_redis_during_the_grace() {
    assert!(redis_available(), "redis-server is required (scripts/test.sh installs it)");
    let redis = RedisServer::start(RedisOptions::default()).unwrap();
    let w = World::new().await;
    let build = || w.builder().no_disk().policy(swr_policy(300)).redis(redis.url()).build();
    let a = build().await.unwrap();
    let q = query("ETHUSDT", "1m", NOW - HOUR, NOW + MINUTE);
    a.klines(&q).await.unwrap();
    // The open segment's key outlives its expiry by the grace.
    let keys = redis.cli(&["--scan", "--pattern", "cc:v2:*ETHUSDT*"]).unwrap();
    let start_of = |k: &str| k.rsplit(':').next().and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
    let key = keys.lines().max_by_key(|k| start_of(k)).expect("the segment is in Redis").to_owned();
    let ttl: i64 = redis.cli(&["PTTL", &key]).unwrap().trim().parse().unwrap();
    assert!(ttl > 350_000 && ttl <= 360_000, "ttl {ttl} ms = 60 s to the close + 300 s grace");
    w.set_now(NOW + 2 * MINUTE);
    let before = w.kline_requests();
    let b = build().await.unwrap();
    assert!(b.klines(&q).await.unwrap().is_stale(), "B serves A's value from Redis, stale");
    eventually("B's background refresh", || w.kline_requests() == before + 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_segments_get_the_redis_ttl_open_ones_their_own() {
    assert!(redis_available(), "redis-server is required (scripts/test.sh installs it)");
    let redis = RedisServer::start(RedisOptions::default()).unwrap();
    let w = World::new().await;
    let cache = w
        .builder()
        .no_disk()
        .redis(redis.url())
        .redis_ttl(Duration::from_secs(86_400))
        .build()
        .await
        .unwrap();
    cache.klines(&query("BTCUSDT", "1h", NOW - 100 * DAY, NOW - 90 * DAY)).await.unwrap();
    let keys = redis.cli(&["--scan", "--pattern", "cc:v2:*"]).unwrap();
    let keys: Vec<&str> = keys.lines().filter(|k| !k.is_empty()).collect();
    assert!(!keys.is_empty());
    for key in keys {
        let ttl: i64 = redis.cli(&["TTL", key]).unwrap().trim().parse().unwrap();
        assert!((86_000..=86_400).contains(&ttl), "{key}: ttl {ttl}");
    }
}

/// Bytes of segment files under `dir`.
fn disk_bytes(dir: &std::path::Path) -> u64 {
    DiskTier::open(dir).unwrap().summary().unwrap().iter().map(|s| s.bytes).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_disk_bound_holds_while_two_caches_write_and_a_third_prunes() {
    let w = World::new().await;
    let max_mb = 1;
    let bound = max_mb << 20;
    // Two writers sharing one directory, each bounded; memory off, so every read is a
    // disk read (or a refetch).
    let writer = || w.builder().no_memory().disk_max_mb(max_mb).build();
    let (a, b) = (writer().await.unwrap(), writer().await.unwrap());
    let symbols = ["BTCUSDT", "ETHUSDT"];
    let mut peak = 0;
    for round in 0..6 {
        let day = NOW - (60 - 5 * round) * DAY;
        // Meanwhile (every other round) a pruner (`cryptocache prune`) works on the same
        // directory, on its own thread, while both writers fill it at once.
        let pruning = tokio::task::spawn_blocking({
            let dir = w.dir.path().to_owned();
            move || {
                if round % 2 == 1 {
                    let pruner = DiskTier::open(&dir).unwrap();
                    for _ in 0..20 {
                        pruner.prune(bound * 3 / 4).unwrap();
                        std::thread::sleep(std::time::Duration::from_millis(2));
                    }
                }
            }
        });
        // ~20 KB per 1m segment: 7 segments a round per writer.
        let (qa, qb) =
            (query(symbols[0], "1m", day, day + 5 * DAY), query(symbols[1], "1m", day, day + 5 * DAY));
        let (got_a, got_b) = tokio::join!(a.klines(&qa), b.klines(&qb));
        assert_matches_sim(&got_a.unwrap(), &qa, NOW);
        assert_matches_sim(&got_b.unwrap(), &qb, NOW);
        pruning.await.unwrap();
        peak = peak.max(disk_bytes(w.dir.path()));
        // Every read after pruning is whole and exact: from disk, or refetched.
        for (cache, symbol) in [(&a, symbols[1]), (&b, symbols[0])] {
            let q = query(symbol, "1m", day - 5 * DAY, day + 5 * DAY);
            assert_matches_sim(&cache.klines(&q).await.unwrap(), &q, NOW);
        }
    }
    assert!(peak <= bound, "the store grew to {peak} bytes, past its bound of {bound}");
    for cache in [&a, &b] {
        let disk = cache.stats().tier("disk").cloned().unwrap();
        assert_eq!(disk.corrupt, 0, "nothing torn or corrupt was ever read");
    }
    let evicted: u64 = [&a, &b].iter().map(|c| c.stats().tier("disk").unwrap().evictions).sum();
    assert!(evicted > 0, "the writers pruned by themselves too");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clearing_a_namespace_leaves_the_others_and_reaches_other_processes() {
    assert!(redis_available(), "redis-server is required (scripts/test.sh installs it)");
    let redis = RedisServer::start(RedisOptions::default()).unwrap();
    let w = World::new().await;
    let named = |name: &'static str| w.builder().source(name).redis(redis.url()).build();
    let (sim_a, sim_b, other) =
        (named("sim").await.unwrap(), named("sim").await.unwrap(), named("other").await.unwrap());
    let q = query("BTCUSDT", "1h", NOW - 100 * DAY, NOW - 90 * DAY);
    for cache in [&sim_a, &sim_b, &other] {
        cache.klines(&q).await.unwrap();
    }
    wait_for_listeners(&redis, 3).await;
    let cleared = sim_a.clear(Some("sim")).await.unwrap();
    let count = |tier: &str| cleared.iter().find(|(t, _)| t == tier).map(|(_, n)| *n).unwrap();
    assert_eq!((count("memory"), count("disk"), count("redis")), (1, 1, 1));
    let sim_keys = redis.cli(&["--scan", "--pattern", "cc:v2:sim:*"]).unwrap();
    assert_eq!(sim_keys.trim(), "");
    let other_keys = redis.cli(&["--scan", "--pattern", "cc:v2:other:*"]).unwrap();
    assert_eq!(other_keys.lines().filter(|k| !k.is_empty()).count(), 1, "the other namespace stays");
    // B (same namespace, warm memory) refetches within a second; `other` still hits.
    refetches_within(&w, &sim_b, &q, w.kline_requests(), Duration::from_secs(1)).await;
    let before = w.kline_requests();
    other.klines(&q).await.unwrap();
    assert_eq!(w.kline_requests(), before);
    let bad = sim_a.clear(Some("Not A Name")).await.unwrap_err();
    assert_eq!(bad.code(), "CONFIG_ERROR");
}
