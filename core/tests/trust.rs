//! Nothing is cached as final, or as empty, unless the exchange said so: one test per
//! way the cache could store a guess as a fact (sources mixed, listing dates trusted,
//! retention ignored, times misread, waits unbounded, budgets overspent, stampedes after
//! a failure, trades skipped). Real HTTP to the simulator, real redis-server.

mod common;

use std::time::{Duration, Instant};

use common::*;
use cryptocache::coverage::{CoverageQuery, SegmentStatus};
use cryptocache::exchange::RetryPolicy;
use cryptocache::{DataKind, Error, Exchange, Market, RangeQuery};
use cryptocache_sim::quirks::{
    BINANCE_UM_LATE_LISTED, BINANCE_UM_RELISTED, BYBIT_LINEAR_LATE_LISTED, DERIBIT_BURST_INSTRUMENT,
    DERIBIT_BURST_MS, DERIBIT_BURST_TRADES, DERIBIT_LATE_LISTED, LATE_LISTING_PUBLISHED_MS,
    LATE_LISTING_TRUE_MS, OKX_SWAP_LATE_LISTED, RELISTED_DELISTED_MS, RELISTED_FIRST_LISTING_MS,
    RELISTED_RELISTED_MS,
};
use cryptocache_sim::redis_server::{redis_available, RedisOptions, RedisServer};
use cryptocache_sim::{binance_klines, venue_trades, BinanceMarket, Fault, Sim, SimConfig, Venue};

fn redis() -> RedisServer {
    assert!(redis_available(), "redis-server is required (scripts/test.sh installs it)");
    RedisServer::start(RedisOptions::default()).expect("redis-server starts")
}

/// Requests the simulator served on every kline path of every venue.
fn all_kline_requests(w: &World) -> u64 {
    w.kline_requests() + w.venue_kline_requests()
}

// ---------------------------------------------------------------------------
// 1. Sources never share a namespace

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_from_one_source_are_never_served_for_another() {
    let w = World::new().await;
    let redis = redis();
    let q = query("BTCUSDT", "1h", NOW - 30 * DAY, NOW - 20 * DAY);
    let first = w.builder().redis(redis.url()).build().await.unwrap();
    assert_matches_sim(&first.klines(&q).await.unwrap(), &q, NOW);
    let sim_source = first.sources()[0].1.clone();
    assert_ne!(&*sim_source, cryptocache::source::LIVE);

    // Another base URL (a second simulator) over the same disk directory and Redis: its
    // own namespace, so nothing of the first is served; it asks its own exchange.
    let other = Sim::start(SimConfig { now_ms: Some(NOW), ..SimConfig::default() }).await.unwrap();
    let second = w.builder().exchange_url(other.url()).redis(redis.url()).build().await.unwrap();
    assert_ne!(second.sources()[0].1, sim_source, "another URL, another namespace");
    assert_matches_sim(&second.klines(&q).await.unwrap(), &q, NOW);
    assert_eq!(second.stats().tiers.iter().map(|t| t.hits).sum::<u64>(), 0, "nothing served across sources");
    assert!(other.stats().endpoints.get("/api/v3/klines").copied().unwrap_or(0) > 0);

    // The disk and Redis hold both namespaces, side by side.
    let disk = cryptocache::tier::disk::DiskTier::open(w.dir.path()).unwrap();
    let mut sources: Vec<String> = disk.summary().unwrap().into_iter().map(|s| s.source).collect();
    sources.dedup();
    assert_eq!(sources.len(), 2, "{sources:?}");
    let keys = redis.cli(&["KEYS", "cc:v2:*:binance:spot:klines:1h:*"]).unwrap();
    assert!(keys.lines().any(|k| k.contains(&format!(":{sim_source}:"))), "{keys}");
    assert!(keys.lines().any(|k| k.contains(&format!(":{}:", second.sources()[0].1))), "{keys}");

    // The default endpoints are `live`; a named source is the user's word, shared by name.
    let live = cryptocache::Cache::builder().no_disk().build().await.unwrap();
    assert!(live.sources().iter().all(|(_, s)| &**s == cryptocache::source::LIVE));
    let named = w.builder().exchange_url(other.url()).source("staging").build().await.unwrap();
    assert!(named.sources().iter().all(|(_, s)| &**s == "staging"));
    let bad = w.builder().source("Not Valid!").build().await.unwrap_err();
    assert!(matches!(bad, Error::Config(ref m) if m.contains("source name")), "{bad:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_written_before_namespaces_are_ignored_never_misread() {
    let w = World::new().await;
    let q = query("BTCUSDT", "1h", NOW - 30 * DAY, NOW - 20 * DAY);
    // A format-1 file where the old layout kept this segment (no source in its path).
    let key = planned_segments(&q, Market::Spot, NOW).remove(0);
    let old = w.dir.path().join(format!("v1/binance/spot/klines/1h/BTCUSDT/{}.seg", key.span().start));
    std::fs::create_dir_all(old.parent().unwrap()).unwrap();
    std::fs::write(&old, b"CCSG\x01 an old value the new format must never read").unwrap();
    let cache = w.cache().await;
    assert_matches_sim(&cache.klines(&q).await.unwrap(), &q, NOW);
    assert!(w.kline_requests() > 0, "fetched, not read from the old file");
    assert_eq!(cache.stats().tier("disk").unwrap().corrupt, 0, "the old file is not even looked at");
    assert!(old.exists(), "left alone");
}

// ---------------------------------------------------------------------------
// 2. A published listing date is a hint, never proof of emptiness

/// Late-listed perpetuals: the first candle 30 days before the published listing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_date_later_than_the_first_candle_loses_nothing() {
    let redis = redis();
    let w = World::new().await;
    let (start, end) = (LATE_LISTING_TRUE_MS - 100 * DAY, LATE_LISTING_TRUE_MS + 60 * DAY);
    let cases = [
        (Exchange::Binance, BINANCE_UM_LATE_LISTED, None),
        (Exchange::Bybit, BYBIT_LINEAR_LATE_LISTED, Some(Venue::BybitLinear)),
        (Exchange::Okx, OKX_SWAP_LATE_LISTED, Some(Venue::OkxSwap)),
        (Exchange::Deribit, DERIBIT_LATE_LISTED, Some(Venue::Deribit)),
    ];
    let cold = w.exact_builder().redis(redis.url()).build().await.unwrap();
    for (exchange, symbol, venue) in cases {
        let q = venue_query(exchange, symbol, "1h", start, end).market(Market::Linear);
        let want = sim_open_times(venue, symbol, start, end);
        assert_eq!(want[0], LATE_LISTING_TRUE_MS, "{symbol}: the simulator's first candle");
        let got = cold.klines(&q).await.unwrap_or_else(|e| panic!("{symbol}: {e}"));
        assert_eq!(got.open_time(), want.as_slice(), "{symbol}: every candle, cold");
        assert!(got.open_time().iter().any(|&t| t < LATE_LISTING_PUBLISHED_MS), "{symbol}");
        // Warm, from disk (a new cache over the same directory) and from Redis alone.
        let before = all_kline_requests(&w);
        let from_disk = w.exact_builder().build().await.unwrap();
        assert_eq!(from_disk.klines(&q).await.unwrap().open_time(), want.as_slice(), "{symbol}: disk");
        let from_redis = w.exact_builder().no_disk().redis(redis.url()).build().await.unwrap();
        assert_eq!(from_redis.klines(&q).await.unwrap().open_time(), want.as_slice(), "{symbol}: redis");
        assert_eq!(all_kline_requests(&w), before, "{symbol}: warm reads cost nothing");
    }
}

/// Open times of the simulator's 1h candles of a USD-M / linear perpetual (Binance
/// when `venue` is `None`).
fn sim_open_times(venue: Option<Venue>, symbol: &str, start: i64, end: i64) -> Vec<i64> {
    match venue {
        None => binance_klines(BinanceMarket::UsdM, symbol, "1h", start, end, NOW)
            .unwrap()
            .iter()
            .map(|k| k.open_time)
            .collect(),
        Some(v) => {
            let code = if matches!(v, Venue::OkxSwap) { "1H" } else { "60" };
            cryptocache_sim::venue_klines(v, symbol, code, start, end, NOW)
                .unwrap()
                .iter()
                .map(|c| c.open_time)
                .collect()
        }
    }
}

/// A relisted symbol: its published onboardDate is the relisting; the first period's
/// candles are still there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relisted_symbol_keeps_its_first_life() {
    let w = World::new().await;
    let cache = w.exact_builder().build().await.unwrap();
    let q = query(
        BINANCE_UM_RELISTED,
        "1h",
        RELISTED_FIRST_LISTING_MS - 30 * DAY,
        RELISTED_RELISTED_MS + 30 * DAY,
    )
    .market(Market::Linear);
    let got = cache.klines(&q).await.unwrap();
    assert_matches_sim(&got, &q, NOW);
    assert_eq!(got.open_time()[0], RELISTED_FIRST_LISTING_MS);
    assert!(got.gaps().iter().any(|g| g.start <= RELISTED_DELISTED_MS && g.end >= RELISTED_RELISTED_MS));
}

// ---------------------------------------------------------------------------
// 3. Retention: a typed error, nothing cached; the edge segment never final

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_retention_is_a_typed_error_and_nothing_is_cached() {
    let w = World::new().await;
    let cache = w.exact_builder().build().await.unwrap();
    let old = RangeQuery::new(Exchange::Okx, "BTC-USDT-SWAP", NOW - 200 * DAY, NOW - 10 * DAY);
    let e = cache.funding_rates(&old).await.unwrap_err();
    assert_eq!(e.code(), "OUT_OF_RETENTION");
    match &e {
        Error::OutOfRetention { earliest, retention_days, .. } => {
            assert_eq!(*retention_days, 89);
            assert_eq!(*earliest, NOW - 89 * DAY);
            assert!(e.to_string().contains(&cryptocache::time::format_time(*earliest)), "{e}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(w.sim.stats().total, 0, "nothing asked, nothing cached");
    let trades = RangeQuery::new(Exchange::Okx, "BTC-USDT-SWAP", NOW - 100 * DAY, NOW - 100 * DAY + HOUR);
    assert_eq!(cache.trades(&trades).await.unwrap_err().code(), "OUT_OF_RETENTION");

    // Inside retention, the segment straddling the edge (funding segments are 1000 h
    // long) is served but never final.
    let recent = RangeQuery::new(Exchange::Okx, "BTC-USDT-SWAP", NOW - 85 * DAY, NOW - 10 * DAY);
    let rows = cache.funding_rates(&recent).await.unwrap();
    assert!(!rows.is_empty());
    let coverage = |start| CoverageQuery {
        exchange: Exchange::Okx,
        market: None,
        symbol: "BTC-USDT-SWAP".into(),
        kind: DataKind::Funding,
        interval: None,
        start,
        end: NOW - 10 * DAY,
    };
    let report = cache.coverage(&coverage(NOW - 85 * DAY)).await.unwrap();
    let first = &report.segments[0];
    assert!(planned_funding_start(NOW - 85 * DAY) < NOW - 89 * DAY, "the first segment straddles the edge");
    assert_eq!(first.status, SegmentStatus::Open, "never final: {first:?}");
    assert!(first.expires_at.is_some_and(|t| t <= NOW + HOUR), "{first:?}");
    assert!(report.segments[1..].iter().all(|s| s.status == SegmentStatus::Cached), "{report:?}");
    // Coverage names what lies beyond retention.
    let report = cache.coverage(&coverage(NOW - 300 * DAY)).await.unwrap();
    assert!(report.count(SegmentStatus::BeyondRetention) >= 1, "{report:?}");
}

/// Start of the funding segment (1000 hourly slots) containing `t`.
fn planned_funding_start(t: i64) -> i64 {
    t - t.rem_euclid(1000 * HOUR)
}

// ---------------------------------------------------------------------------
// 5. last_is_open compares with now

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_closed_last_candle_is_not_open_whatever_the_query_end() {
    let w = World::new().await;
    let cache = w.cache().await;
    // Ends at 12:40, five days ago: the last candle (12:00-13:00) closed long since.
    let q = query("BTCUSDT", "1h", NOW - 10 * DAY, NOW - 5 * DAY + 10 * MINUTE);
    let got = cache.klines(&q).await.unwrap();
    assert_eq!(*got.open_time().last().unwrap(), NOW - 5 * DAY - 30 * MINUTE);
    assert!(!got.last_is_open(), "closed five days ago");
    let q = query("BTCUSDT", "1h", NOW - DAY, NOW + 7);
    assert!(cache.klines(&q).await.unwrap().last_is_open(), "the candle of now is open");
}

// ---------------------------------------------------------------------------
// 6. Rate limits: bounded waits, own headers, shared pauses and budgets, one symbol check

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_ban_fails_every_later_call_at_once() {
    let w = World::new().await;
    let retry = RetryPolicy { max_wait: Duration::from_secs(2), ..RetryPolicy::default() };
    let cache = w.exact_builder().retry(retry).build().await.unwrap();
    cache.klines(&query("BTCUSDT", "1h", NOW - 100 * DAY, NOW - 99 * DAY)).await.unwrap();
    w.sim.push_faults(vec![Fault::Status { status: 418, retry_after_secs: Some(3600) }]);
    let t0 = Instant::now();
    let first = cache.klines(&query("BTCUSDT", "1h", NOW - 50 * DAY, NOW - 49 * DAY)).await.unwrap_err();
    assert_eq!(first.code(), "RATE_LIMITED");
    let requests = w.sim.stats().total;
    // Later calls, other symbols and kinds alike, fail within max_wait, sending nothing.
    for symbol in ["ETHUSDT", "SOLUSDT", "BNBUSDT"] {
        let e = cache.klines(&query(symbol, "1h", NOW - 50 * DAY, NOW - 49 * DAY)).await.unwrap_err();
        match e {
            Error::RateLimited { retry_after: Some(wait), .. } => assert!(wait > Duration::from_secs(3500)),
            other => panic!("{symbol}: {other:?}"),
        }
    }
    assert!(t0.elapsed() < Duration::from_secs(2), "every call returned within max_wait");
    assert_eq!(w.sim.stats().total, requests, "nothing sent during the ban");
}

/// The simulator counts Binance's weight per wall-clock minute, as Binance does: a burst
/// of a few seconds that started late in one would be split between two windows.
async fn start_early_in_a_wall_clock_minute() {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let into_minute = since_epoch.as_millis() % 60_000;
    if into_minute > 30_000 {
        let to_next = u64::try_from(60_000 - into_minute).unwrap_or(0) + 20;
        tokio::time::sleep(Duration::from_millis(to_next)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn klines_weight_does_not_stall_the_separate_funding_budget() {
    let w = World::new().await;
    let retry = RetryPolicy { max_wait: Duration::from_secs(5), ..RetryPolicy::default() };
    let cache = w.exact_builder().retry(retry).build().await.unwrap();
    // ~100 USD-M kline requests of weight 5: the IP's weight header passes 450, the
    // funding bucket's own limit (500 requests / 5 min, not counted by that header).
    let q = query("BTCUSDT", "1m", NOW - 70 * DAY, NOW - DAY).market(Market::Linear);
    start_early_in_a_wall_clock_minute().await;
    cache.klines(&q).await.unwrap();
    assert!(w.sim.stats().max_window_weight["binance-um"] > 450, "the burst fell in one weight window");
    let waits = cache.stats().upstream.throttle_waits;
    let funding =
        RangeQuery::new(Exchange::Binance, "BTCUSDT", NOW - 30 * DAY, NOW - DAY).market(Market::Linear);
    assert!(!cache.funding_rates(&funding).await.unwrap().is_empty());
    assert_eq!(cache.stats().upstream.throttle_waits, waits, "funding did not wait for klines' weight");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_seen_by_one_process_pauses_every_process_on_the_budget() {
    let w = World::new().await;
    let redis = redis();
    let mut caches = Vec::new();
    for _ in 0..4 {
        let cache = w.exact_builder().no_disk().redis(redis.url()).build().await.unwrap();
        cache.klines(&query("BTCUSDT", "1h", NOW - 300 * DAY, NOW - 299 * DAY)).await.unwrap();
        caches.push(cache);
    }
    w.sim.push_faults(vec![Fault::Status { status: 429, retry_after_secs: Some(3) }]);
    let first = {
        let cache = caches[0].clone();
        tokio::spawn(
            async move { cache.klines(&query("BTCUSDT", "1h", NOW - 200 * DAY, NOW - 199 * DAY)).await },
        )
    };
    // Once the throttled process has recorded the pause in Redis (a request already in
    // flight elsewhere could not be recalled anyway), the others start.
    let deadline = Instant::now() + Duration::from_secs(2);
    while redis.cli(&["KEYS", "cc:budget:*:paused"]).unwrap().trim().is_empty() {
        assert!(Instant::now() < deadline, "the pause was not recorded");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(w.sim.stats().faults_served, 1);
    let paused_at = Instant::now();
    let at_pause = w.sim.stats().total;
    let others: Vec<_> = caches[1..]
        .iter()
        .enumerate()
        .map(|(i, cache)| {
            let cache = cache.clone();
            let q =
                query("BTCUSDT", "1h", NOW - (150 + 10 * i as i64) * DAY, NOW - (149 + 10 * i as i64) * DAY);
            tokio::spawn(async move { cache.klines(&q).await })
        })
        .collect();
    // Well inside the 3 s pause: nobody has sent anything.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(paused_at.elapsed() < Duration::from_millis(2800));
    assert_eq!(w.sim.stats().total, at_pause, "no process sent a request during the pause");
    first.await.unwrap().unwrap();
    for task in others {
        task.await.unwrap().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ban_from_another_source_does_not_pause_this_one() {
    let w = World::new().await;
    let redis = redis();
    let retry = RetryPolicy { max_wait: Duration::from_secs(1), ..RetryPolicy::default() };
    let testnet =
        w.exact_builder().no_disk().redis(redis.url()).source("testnet").retry(retry).build().await.unwrap();
    let other =
        w.exact_builder().no_disk().redis(redis.url()).source("staging").retry(retry).build().await.unwrap();
    testnet.klines(&query("BTCUSDT", "1h", NOW - 300 * DAY, NOW - 299 * DAY)).await.unwrap();
    other.klines(&query("BTCUSDT", "1h", NOW - 250 * DAY, NOW - 249 * DAY)).await.unwrap();
    w.sim.push_faults(vec![Fault::Status { status: 418, retry_after_secs: Some(3600) }]);
    let e = testnet.klines(&query("BTCUSDT", "1h", NOW - 200 * DAY, NOW - 199 * DAY)).await.unwrap_err();
    assert_eq!(e.code(), "RATE_LIMITED");
    let paused = redis.cli(&["KEYS", "cc:budget:*:paused"]).unwrap();
    assert!(paused.contains("@testnet") && !paused.contains("@staging"), "{paused}");
    // The other source's budget is its own: it goes on.
    other.klines(&query("BTCUSDT", "1h", NOW - 150 * DAY, NOW - 149 * DAY)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_down_four_processes_stay_within_the_exchange_budget() {
    // The exchange allows 120 weight per 2 s window; every cache is configured for all of
    // it, as if it had the budget to itself, with Redis (the shared budget) unreachable.
    let config =
        SimConfig { spot_weight_limit: 120, weight_window: Duration::from_secs(2), ..SimConfig::default() };
    let w = World::with(config).await;
    let mut redis = redis();
    let url = redis.url();
    let mut caches = Vec::new();
    for _ in 0..4 {
        let builder = w.exact_builder().no_disk().redis(&url).binance(w.binance(120, Duration::from_secs(2)));
        caches.push(builder.build().await.unwrap());
    }
    redis.stop();
    let tasks: Vec<_> = caches
        .iter()
        .enumerate()
        .map(|(i, cache)| {
            let cache = cache.clone();
            // 30 segments of 1m candles each (weight 2 a request), after a symbol check
            // of weight 20.
            let start = NOW - (60 + 25 * i as i64) * DAY;
            let q = query("BTCUSDT", "1m", start, start + 30 * 1000 * MINUTE);
            tokio::spawn(async move { cache.klines(&q).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let stats = w.sim.stats();
    assert_eq!(stats.rate_limited, 0, "the exchange never had to say 429: {stats:?}");
    assert!(stats.max_window_weight["binance-spot"] <= 120, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_cold_queries_on_one_symbol_make_one_symbol_check() {
    let w = World::new().await;
    let cache = w.exact_builder().build().await.unwrap();
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let cache = cache.clone();
            let q = query("ETHUSDT", "1h", NOW - (400 - i) * DAY, NOW - (399 - i) * DAY);
            tokio::spawn(async move { cache.klines(&q).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(w.requests("/api/v3/exchangeInfo"), 1, "one symbol check for 100 queries");
    // USD-M: one instruments list for every symbol.
    let tasks: Vec<_> = ["BTCUSDT", "ETHUSDT", "SOLUSDT", BINANCE_UM_LATE_LISTED]
        .into_iter()
        .map(|symbol| {
            let cache = cache.clone();
            let q = query(symbol, "1h", NOW - 20 * DAY, NOW - 19 * DAY).market(Market::Linear);
            tokio::spawn(async move { cache.klines(&q).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(w.requests("/fapi/v1/exchangeInfo"), 1, "one USD-M list for four symbols");
}

// ---------------------------------------------------------------------------
// 7. A lock holder that fails makes waiters back off, not stampede

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiters_return_the_lock_holders_failure_instead_of_fetching() {
    let w = World::new().await;
    let redis = redis();
    let retry = RetryPolicy { max_retries: 0, ..RetryPolicy::default() };
    let a = w.exact_builder().no_disk().redis(redis.url()).retry(retry).build().await.unwrap();
    let b = w.exact_builder().no_disk().redis(redis.url()).retry(retry).build().await.unwrap();
    // Both know the symbol already (each fetched a segment of its own).
    a.klines(&query("BTCUSDT", "1h", NOW - 300 * DAY, NOW - 299 * DAY)).await.unwrap();
    b.klines(&query("BTCUSDT", "1h", NOW - 250 * DAY, NOW - 249 * DAY)).await.unwrap();
    w.sim.set_delay(Duration::from_millis(400));
    w.sim.push_faults(vec![Fault::Status { status: 400, retry_after_secs: None }]);
    let before = w.kline_requests();
    let q = query("BTCUSDT", "1h", NOW - 100 * DAY, NOW - 99 * DAY);
    let (qa, qb) = (q.clone(), q.clone());
    let ta = tokio::spawn(async move { a.klines(&qa).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t0 = Instant::now();
    let tb = tokio::spawn(async move { b.klines(&qb).await });
    let (ra, rb) = (ta.await.unwrap().map(|c| c.len()), tb.await.unwrap().map(|c| c.len()));
    assert_eq!(ra.map_err(|e| e.code()), Err("EXCHANGE_ERROR"), "the holder got the exchange's error");
    let eb = rb.expect_err("the waiter returns the holder's failure");
    assert!(eb.to_string().contains("another process"), "{eb}");
    assert!(t0.elapsed() < Duration::from_secs(3), "the waiter backed off at once");
    assert_eq!(w.kline_requests() - before, 1, "only the holder asked the exchange");
}

// ---------------------------------------------------------------------------
// 8. Dense trades, crash leftovers

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deribit_trades_are_exact_at_any_density() {
    let w = World::new().await;
    let cache = w.cache().await;
    let hour = DERIBIT_BURST_MS - DERIBIT_BURST_MS % HOUR;
    let q = RangeQuery::new(Exchange::Deribit, DERIBIT_BURST_INSTRUMENT, hour, hour + HOUR);
    let got = cache.trades(&q).await.unwrap();
    let want = venue_trades(Venue::Deribit, DERIBIT_BURST_INSTRUMENT, hour, hour + HOUR, NOW).unwrap();
    assert_eq!(got.id(), want.iter().map(|t| t.id).collect::<Vec<_>>().as_slice());
    let burst = got.time().iter().filter(|&&t| t == DERIBIT_BURST_MS).count() as i64;
    assert_eq!(burst, DERIBIT_BURST_TRADES, "every trade of the burst");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporary_files_left_by_a_crash_are_removed_at_start_up() {
    let w = World::new().await;
    drop(w.cache().await);
    let tmp = w.dir.path().join(format!("v{}/.tmp", cryptocache::codec::FORMAT_VERSION));
    let stale = tmp.join("12345-deadbeefdeadbeef");
    let fresh = tmp.join("12346-feedfacefeedface");
    for file in [&stale, &fresh] {
        std::fs::write(file, b"half a segment").unwrap();
    }
    let hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options().write(true).open(&stale).unwrap().set_modified(hour_ago).unwrap();
    let cache = w.cache().await;
    assert!(!stale.exists(), "a crashed writer's leftover is removed");
    assert!(fresh.exists(), "a write in flight in another process is left alone");
    drop(cache);
}
