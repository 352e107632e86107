//! Fault soak: random mixed queries (four exchanges; candles, trades and funding; memory,
//! disk and Redis tiers) from concurrent caches sharing one disk directory and one Redis,
//! while the simulator injects 429, 418, 5xx, malformed, truncated and dropped replies and
//! delays longer than the HTTP timeout, and Redis is killed and restarted.
//!
//! Every answer must equal the simulator's own data (computed by the simulator's history
//! functions, independently of the adapters) or be a typed upstream error; no query may
//! run past its bound; the simulator's own limiters must never be tripped; the process
//! must stay within the memory tiers plus a stated slack.
//!
//! Short in CI (`SOAK_SECS`, default 10); `bash scripts/soak.sh` runs the long one.

mod common;

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use cryptocache::exchange::{HttpConfig, RetryPolicy};
use cryptocache::{Cache, Error, Exchange, Market, RangeQuery};
use cryptocache_sim::redis_server::{RedisOptions, RedisServer};
use cryptocache_sim::{binance_agg_trades, binance_funding, venue_funding, BinanceMarket, Fault, Venue};

const JAN1: i64 = 1_704_067_200_000; // 2024-01-01
const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;
/// Longest any wait of a request may last.
const MAX_WAIT: Duration = Duration::from_secs(4);
/// Whole-request HTTP timeout (the injected long delays exceed it).
const HTTP_TIMEOUT: Duration = Duration::from_millis(1500);
/// A query that has not answered after this long counts as hung. Each wait of a request
/// (rate budget, pause, backoff) ends by `MAX_WAIT`, but a query makes several requests
/// (a symbol check; up to 2 × 15 OKX pages), each of which may meet an injected delay.
const HANG_BOUND: Duration = Duration::from_secs(30);
/// Memory tier of each cache with one.
const MEMORY_MB: u64 = 16;
/// Stated slack over the memory tiers: allocator, runtime, simulator and test buffers.
const RSS_SLACK_MB: u64 = 200;

/// What the soak counted.
#[derive(Default)]
struct Tally {
    queries: AtomicU64,
    ok: AtomicU64,
    typed_errors: AtomicU64,
    slowest_ms: AtomicU64,
}

/// The venue series queried for candles (with the simulator's code for each interval).
const SERIES: [(Series, &str); 3] = [
    (Series { venue: Venue::BybitSpot, market: Market::Spot, symbol: "BTCUSDT" }, "bybit"),
    (Series { venue: Venue::OkxSpot, market: Market::Spot, symbol: "BTC-USDT" }, "okx"),
    (Series { venue: Venue::Deribit, market: Market::Inverse, symbol: "BTC-PERPETUAL" }, "deribit"),
];

/// A random range of 1 to `most` slots of `slot` ms, aligned to minutes, inside 2024 and
/// ending two days before the simulator's `NOW`.
fn range_in_2024(rng: &mut fastrand::Rng, slot: i64, most: i64) -> (i64, i64) {
    let room = NOW - 2 * 86_400_000 - JAN1;
    let len = slot * rng.i64(1..=most.min(room / slot - 1));
    let start = JAN1 + rng.i64(0..(room - len) / MIN) * MIN;
    (start, start + len)
}

/// Runs one random query on `cache` and checks its answer against the simulator.
async fn one_query(cache: &Cache, rng: &mut fastrand::Rng) -> Result<(), Error> {
    let intervals = [("1m", MIN), ("1h", HOUR), ("1d", 24 * HOUR)];
    match rng.u8(0..10) {
        0..=2 => {
            let (interval, slot) = intervals[rng.usize(0..3)];
            let (start, end) = range_in_2024(rng, slot, 1500);
            let q = query("BTCUSDT", interval, start, end);
            let got = cache.klines(&q).await?;
            assert_matches_sim(&got, &q, NOW);
        }
        3..=5 => {
            let (series, _) = SERIES[rng.usize(0..SERIES.len())];
            let (interval, slot) = intervals[rng.usize(0..3)];
            let (start, end) = range_in_2024(rng, slot, 1500);
            let q = series.query(interval, start, end);
            let got = cache.klines(&q).await?;
            assert_matches_venue(
                &got,
                series.venue,
                series.symbol,
                series.code(interval),
                q.start,
                q.end,
                NOW,
            );
        }
        6..=7 => {
            let (start, end) = range_in_2024(rng, MIN, 20);
            let q = RangeQuery::new(Exchange::Binance, "BTCUSDT", start, end);
            let got = cache.trades(&q).await?;
            let want = binance_agg_trades(BinanceMarket::Spot, "BTCUSDT", q.start, q.end, NOW).expect("sim");
            let got: Vec<_> = got.iter().map(|t| (t.id, t.time, t.price, t.quantity, t.side)).collect();
            let want: Vec<_> = want
                .iter()
                .map(|t| {
                    let side = if t.buyer_maker { cryptocache::Side::Sell } else { cryptocache::Side::Buy };
                    (t.id, t.time, t.price, t.qty, side)
                })
                .collect();
            assert_eq!(got, want, "binance trades [{}, {})", q.start, q.end);
        }
        _ => {
            let (start, end) = range_in_2024(rng, 24 * HOUR, 60);
            let bybit = rng.bool();
            let exchange = if bybit { Exchange::Bybit } else { Exchange::Binance };
            let q = RangeQuery::new(exchange, "BTCUSDT", start, end).market(Market::Linear);
            let got = cache.funding_rates(&q).await?;
            let want: Vec<(i64, f64)> = if bybit {
                venue_funding(Venue::BybitLinear, "BTCUSDT", q.start, q.end, NOW).expect("sim")
            } else {
                binance_funding("BTCUSDT", q.start, q.end, NOW).expect("sim")
            }
            .into_iter()
            .map(|f| (f.time, f.rate))
            .collect();
            let got: Vec<(i64, f64)> = got.iter().map(|f| (f.time, f.rate)).collect();
            assert_eq!(got, want, "{exchange} funding [{}, {})", q.start, q.end);
        }
    }
    Ok(())
}

/// Whether `e` is what an exchange that keeps failing may fairly produce.
fn is_upstream_error(e: &Error) -> bool {
    matches!(
        e,
        Error::RateLimited { .. }
            | Error::Network { .. }
            | Error::MalformedResponse { .. }
            | Error::Exchange { .. }
    )
}

/// Resident memory of this process, MiB.
fn rss_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .unwrap_or(0);
    kb / 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_queries_under_faults_and_redis_restarts_are_right_or_typed_errors() {
    let secs: u64 = std::env::var("SOAK_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
    let seed: u64 = std::env::var("SOAK_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(16);
    let w = World::new().await;
    let mut redis = RedisServer::start(RedisOptions::default()).expect("redis-server starts");
    let retry = RetryPolicy {
        max_retries: 4,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(300),
        max_wait: MAX_WAIT,
    };
    let http = HttpConfig { timeout: HTTP_TIMEOUT, connect_timeout: Duration::from_secs(1) };
    let base = || w.builder().retry(retry).http(http.clone()).prefetch(0).memory_mb(MEMORY_MB);
    // Three caches as three processes on one machine would be: memory + disk + Redis,
    // memory + Redis, disk + Redis (sharing the first one's directory). All three share
    // the exchanges' budgets through Redis, and spend a quarter each while it is away.
    let caches = [
        Arc::new(base().redis(redis.url()).build().await.expect("cache builds")),
        Arc::new(base().no_disk().redis(redis.url()).build().await.expect("cache builds")),
        Arc::new(base().no_memory().redis(redis.url()).build().await.expect("cache builds")),
    ];
    let rss_before = rss_mb();
    let tally = Arc::new(Tally::default());
    let deadline = Instant::now() + Duration::from_secs(secs);

    let mut workers = Vec::new();
    for (n, cache) in caches.iter().cycle().take(6).enumerate() {
        let (cache, tally) = (cache.clone(), tally.clone());
        workers.push(tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(seed * 100 + n as u64);
            while Instant::now() < deadline {
                let started = Instant::now();
                let answer = tokio::time::timeout(HANG_BOUND, one_query(&cache, &mut rng)).await;
                let took = started.elapsed();
                tally.queries.fetch_add(1, Relaxed);
                tally.slowest_ms.fetch_max(took.as_millis() as u64, Relaxed);
                match answer {
                    Err(_) => panic!("a query hung past {HANG_BOUND:?}"),
                    Ok(Ok(())) => drop(tally.ok.fetch_add(1, Relaxed)),
                    Ok(Err(e)) if is_upstream_error(&e) => drop(tally.typed_errors.fetch_add(1, Relaxed)),
                    Ok(Err(e)) => panic!("not an upstream error: {e:?}"),
                }
            }
        }));
    }

    // Faults: one every 150 ms, of every kind; now and then a delay past the HTTP
    // timeout; Redis killed for 1.5 s every 4 s.
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut faults = 0u64;
    let mut redis_kills = 0u64;
    let started = Instant::now();
    let mut next_kill = started + Duration::from_secs(2);
    while Instant::now() < deadline {
        let fault = match rng.u8(0..9) {
            0 => Fault::Status { status: 429, retry_after_secs: Some(1) },
            1 => Fault::Status { status: 418, retry_after_secs: Some(1) },
            2 => Fault::Status { status: 500, retry_after_secs: None },
            3 => Fault::Status { status: 502, retry_after_secs: None },
            4 => Fault::Status { status: 503, retry_after_secs: None },
            5 => Fault::Malformed,
            6 => Fault::Truncated,
            7 => Fault::Dropped,
            _ => Fault::Status { status: 504, retry_after_secs: None },
        };
        w.sim.push_faults(vec![fault]);
        faults += 1;
        let delay = match rng.u8(0..20) {
            0 => HTTP_TIMEOUT + Duration::from_millis(500), // every request times out
            1..=3 => Duration::from_millis(rng.u64(20..200)),
            _ => Duration::ZERO,
        };
        w.sim.set_delay(delay);
        if Instant::now() >= next_kill {
            redis.stop();
            redis_kills += 1;
            tokio::time::sleep(Duration::from_millis(1500)).await;
            redis.restart().expect("redis-server restarts");
            next_kill = Instant::now() + Duration::from_secs(4);
        } else {
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }
    w.sim.set_delay(Duration::ZERO);
    for worker in workers {
        worker.await.expect("a worker failed: see its panic above");
    }

    let stats = w.sim.stats();
    let rss_growth = rss_mb().saturating_sub(rss_before);
    let report = format!(
        "soak {secs}s seed {seed}: {} queries ({} right, {} typed upstream errors, 0 wrong, 0 hung), \
         slowest {} ms (hung: none past {:?}); {} faults pushed, {} served; {} Redis kills; \
         {} requests; simulator limiter rejections {}; RSS growth {} MiB (bound {} MiB)",
        tally.queries.load(Relaxed),
        tally.ok.load(Relaxed),
        tally.typed_errors.load(Relaxed),
        tally.slowest_ms.load(Relaxed),
        HANG_BOUND,
        faults,
        stats.faults_served,
        redis_kills,
        stats.total,
        stats.rate_limited,
        rss_growth,
        2 * MEMORY_MB + RSS_SLACK_MB,
    );
    eprintln!(
        "{report}\nreplies by status: {:?}\nbusiest windows: {:?}",
        stats.statuses, stats.max_window_weight
    );
    assert!(tally.ok.load(Relaxed) > tally.typed_errors.load(Relaxed), "mostly answered: {report}");
    assert!(stats.faults_served > 0 && redis_kills > 0, "faults happened: {report}");
    // A restarted Redis is empty: the shared budget forgets what was spent in the current
    // window (up to the offline shares spent meanwhile), so one rejection per restart can
    // happen; the caches then pause. Never more.
    assert!(stats.rate_limited <= redis_kills, "the simulator's own limits were respected: {report}");
    assert!(rss_growth <= 2 * MEMORY_MB + RSS_SLACK_MB, "memory bounded: {report}");
}
