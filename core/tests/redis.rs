//! The Redis tier against real `redis-server` processes (and a real 3-master cluster)
//! started by the harness on free loopback ports. Cross-OS-process sharing is tested
//! in cli/tests/redis_processes.rs with the `cryptocache` binary.

mod common;

use std::time::{Duration, Instant};

use common::*;
use cryptocache::redis::RedisConfig;
use cryptocache::tier::TierKind;
use cryptocache::{Cache, Error, Policy};
use cryptocache_sim::redis_server::{
    redis_available, sentinel_available, RedisCluster, RedisOptions, RedisSentinels, RedisServer,
};

fn server(options: RedisOptions) -> RedisServer {
    assert!(
        redis_available(),
        "redis-server is not installed (CI installs it: apt-get install redis-server)"
    );
    RedisServer::start(options).expect("redis-server starts")
}

/// A cache over memory + Redis only (no disk), so Redis is what a new "process" shares.
async fn redis_cache(w: &World, url: &str) -> Cache {
    w.builder().no_disk().redis(url).build().await.expect("cache with redis builds")
}

/// The source namespace a cache pointed at the simulator stores Binance values under.
fn sim_source(cache: &Cache) -> String {
    let (_, source) =
        cache.sources().into_iter().find(|(e, _)| *e == cryptocache::Exchange::Binance).unwrap();
    assert_ne!(&*source, cryptocache::source::LIVE, "simulator data is not live data");
    source.to_string()
}

fn cli(server: &RedisServer, args: &[&str]) -> String {
    server.cli(args).expect("redis-cli runs").trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_cache_is_served_from_redis_with_zero_requests() {
    let w = World::new().await;
    let redis = server(RedisOptions::default());
    let q = query("BTCUSDT", "1h", NOW - 90 * DAY, NOW - 10 * DAY);
    let first = redis_cache(&w, &redis.url()).await.klines(&q).await.unwrap();
    let cold = w.kline_requests();
    let second = redis_cache(&w, &redis.url()).await;
    let again = second.klines(&q).await.unwrap();
    assert_eq!(w.kline_requests(), cold);
    assert_eq!(again.to_columns(), first.to_columns());
    assert_eq!(second.stats().tier("redis").unwrap().hits, cold);
    // Keys follow the schema, with the symbol as a hash tag.
    let keys = cli(&redis, &["KEYS", "cc:v2:*:binance:spot:klines:1h:{BTCUSDT}:*"]);
    assert_eq!(keys.lines().count() as u64, cold, "{keys}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_caches_fetch_each_segment_once() {
    let w = World::new().await;
    let redis = server(RedisOptions::default());
    // Four "processes" (separate caches: separate memory and singleflight), 16 tasks each.
    let url = redis.url();
    let caches: Vec<Cache> = futures_util::future::join_all((0..4).map(|_| redis_cache(&w, &url))).await;
    w.sim.set_delay(Duration::from_millis(30));
    let q = query("ETHUSDT", "1h", NOW - 120 * DAY, NOW - 10 * DAY);
    let tasks: Vec<_> = caches
        .iter()
        .flat_map(|c| (0..16).map(move |_| c.clone()))
        .map(|c| {
            let q = q.clone();
            tokio::spawn(async move { c.klines(&q).await.map(|r| r.len()) })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), 110 * 24);
    }
    assert_eq!(w.kline_requests(), segment_count(&q, NOW), "each segment fetched once across all caches");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_shares_and_locks_the_same_way() {
    let w = World::new().await;
    assert!(redis_available(), "redis-server is not installed");
    let cluster = RedisCluster::start(3).expect("3-master cluster starts");
    let url = cluster.url();
    let caches: Vec<Cache> = futures_util::future::join_all((0..3).map(|_| redis_cache(&w, &url))).await;
    w.sim.set_delay(Duration::from_millis(30));
    let symbols = ["BTCUSDT", "ETHUSDT", "BNBUSDT"];
    let mut tasks = Vec::new();
    for cache in &caches {
        for symbol in symbols {
            let (cache, q) = (cache.clone(), query(symbol, "4h", NOW - 400 * DAY, NOW - 5 * DAY));
            tasks.push(tokio::spawn(async move { cache.klines(&q).await.map(|c| c.to_columns()) }));
        }
    }
    for t in tasks {
        assert!(!t.await.unwrap().unwrap().open_time.is_empty());
    }
    let expected: u64 =
        symbols.iter().map(|s| segment_count(&query(s, "4h", NOW - 400 * DAY, NOW - 5 * DAY), NOW)).sum();
    assert_eq!(w.kline_requests(), expected);
    // A new cache reads everything back from the cluster.
    let fresh = redis_cache(&w, &cluster.url()).await;
    for symbol in symbols {
        let q = query(symbol, "4h", NOW - 400 * DAY, NOW - 5 * DAY);
        assert_matches_sim(&fresh.klines(&q).await.unwrap(), &q, NOW);
    }
    assert_eq!(w.kline_requests(), expected);
    // The keys are spread over the masters by their hash tags.
    let populated = cluster.nodes.iter().filter(|n| n.cli(&["DBSIZE"]).unwrap().trim() != "0").count();
    assert!(populated >= 2, "keys on {populated} masters");
    // Clearing the namespace reaches every master.
    let cleared = fresh.clear(None).await.unwrap();
    let in_redis = cleared.iter().find(|(tier, _)| tier == "redis").map(|(_, n)| *n);
    assert_eq!(in_redis, Some(expected));
    let left: usize = cluster
        .nodes
        .iter()
        .map(|n| {
            n.cli(&["--scan", "--pattern", "cc:v2:*"]).unwrap().lines().filter(|k| !k.is_empty()).count()
        })
        .sum();
    assert_eq!(left, 0, "no segment left on any master");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_dying_mid_run_fails_no_query_and_recovers() {
    let w = World::new().await;
    let mut redis = server(RedisOptions::default());
    // Redis is the only tier, so every query needs it (or, while it is down, the exchange).
    let cache = w.builder().no_disk().no_memory().redis(redis.url()).build().await.unwrap();
    let q = |i: i64| query("BTCUSDT", "1h", NOW - (200 - i % 150) * DAY, NOW - (190 - i % 150) * DAY);
    let mut failures = 0;
    for i in 0..1500 {
        if i == 500 {
            redis.stop();
        }
        if i == 1000 {
            redis.restart().unwrap();
            // Back within a few seconds of its restart: a query started later than that
            // reaches Redis (a hit or a miss: Redis answered). The background prober
            // brings it back without waiting for traffic; the queries here may be slow
            // (the exchange budget is thin while Redis is away), so the bound is on when
            // a query starts, not on how long it takes.
            let restarted = Instant::now();
            let answered = |c: &Cache| c.stats().tier("redis").map(|t| t.hits + t.misses).unwrap_or(0);
            loop {
                let before = answered(&cache);
                let started = Instant::now();
                cache.klines(&q(i)).await.unwrap();
                if answered(&cache) > before {
                    break;
                }
                assert!(
                    started < restarted + Duration::from_secs(5),
                    "redis not used again by a query started {:?} after its restart",
                    started - restarted
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        match cache.klines(&q(i)).await {
            Ok(got) => {
                if i % 97 == 0 {
                    assert_matches_sim(&got, &q(i), NOW);
                }
            }
            Err(e) => {
                failures += 1;
                eprintln!("query {i} failed: {e}");
            }
        }
    }
    assert_eq!(failures, 0);
    let stats = cache.stats();
    assert!(stats.tier("redis").unwrap().errors > 0, "the outage was counted: {stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentinel_failover_keeps_answering_then_uses_the_new_primary() {
    assert!(
        sentinel_available(),
        "redis-sentinel is not installed (CI installs it: apt-get install redis-sentinel)"
    );
    let w = World::new().await;
    let mut set = RedisSentinels::start("ccmain", 2).expect("primary, replica and sentinels start");
    // A wrong master name or no sentinel at all is a clear error at build time.
    let wrong = set.url().replace("/ccmain", "/nosuch");
    let err = w.builder().no_disk().redis(wrong).build().await.unwrap_err();
    assert!(matches!(err, Error::Config(_)) && err.to_string().contains("does not monitor"), "{err}");
    let nobody = "redis+sentinel://127.0.0.1:1/ccmain".to_string();
    let err = w.builder().no_disk().redis(nobody).build().await.unwrap_err();
    assert!(err.to_string().contains("no primary for"), "{err}");

    // Redis is the only tier, so every query reads it (or, during the switch, the exchange).
    let cache = w.builder().no_disk().no_memory().redis(set.url()).build().await.unwrap();
    // A day of 1m candles further back each time: every query misses and writes.
    let q = |i: i64| query("BTCUSDT", "1m", NOW - (i + 2) * DAY, NOW - (i + 1) * DAY);
    let keys = |server: &RedisServer| cli(server, &["DBSIZE"]).parse::<u64>().unwrap_or(0);
    cache.klines(&q(0)).await.unwrap();
    assert!(keys(&set.primary) > 0, "written to the primary");

    set.primary.stop();
    let killed = Instant::now();
    let mut i = 1;
    let failover = loop {
        let before = keys(&set.replica);
        let got = cache.klines(&q(i)).await.expect("queries keep answering during the failover");
        assert_matches_sim(&got, &q(i), NOW);
        if keys(&set.replica) > before {
            break killed.elapsed();
        }
        assert!(killed.elapsed() < Duration::from_secs(30), "the new primary was never used");
        i += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    eprintln!("failover: the new primary took writes {failover:?} after the primary died ({i} queries)");
    assert_eq!(set.primary_port(), Some(set.replica.port()), "the sentinels promoted the replica");
    // Another cache finds what is written after the switch on the new primary (the query
    // that noticed it may have written only some of its segments there).
    cache.klines(&q(i + 1)).await.unwrap();
    let requests = w.kline_requests();
    let fresh = w.builder().no_disk().no_memory().redis(set.url()).build().await.unwrap();
    let again = fresh.klines(&q(i + 1)).await.unwrap();
    assert_matches_sim(&again, &q(i + 1), NOW);
    assert_eq!(w.kline_requests(), requests, "served by the new primary");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_is_used_again_after_a_quiet_outage() {
    let w = World::new().await;
    let mut redis = server(RedisOptions::default());
    let cache = w.builder().no_disk().no_memory().redis(redis.url()).build().await.unwrap();
    let q = query("BTCUSDT", "1d", NOW - 300 * DAY, NOW - 100 * DAY);
    let answered = |c: &Cache| c.stats().tier("redis").map(|t| t.hits + t.misses).unwrap_or(0);
    cache.klines(&q).await.unwrap();
    redis.stop();
    // Served by the exchange meanwhile; the breaker opens, and every reconnect attempt the
    // queries trigger fails while Redis is down.
    for _ in 0..4 {
        cache.klines(&q).await.unwrap();
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }
    redis.restart().unwrap();
    // No query for a while: only the background prober can notice that Redis is back.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = answered(&cache);
    cache.klines(&q).await.unwrap();
    assert_eq!(answered(&cache), before + 1, "the first query after the quiet outage used Redis");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_value_in_redis_is_detected_refetched_and_overwritten() {
    let w = World::new().await;
    let redis = server(RedisOptions::default());
    let q = query("BTCUSDT", "1d", NOW - 300 * DAY, NOW - 100 * DAY);
    let original = redis_cache(&w, &redis.url()).await.klines(&q).await.unwrap().to_columns();
    let key = cli(&redis, &["KEYS", "cc:v2:*:binance:spot:klines:1d:*"]);
    assert_eq!(key.lines().count(), 1);
    assert_eq!(cli(&redis, &["SET", &key, "not a segment"]), "OK");
    let cold = w.kline_requests();
    let cache = redis_cache(&w, &redis.url()).await;
    assert_eq!(cache.klines(&q).await.unwrap().to_columns(), original);
    assert_eq!(w.kline_requests(), cold + 1, "refetched once");
    assert_eq!(cache.stats().tier("redis").unwrap().corrupt, 1);
    assert_ne!(cli(&redis, &["GET", &key]), "not a segment", "overwritten");
    let third = redis_cache(&w, &redis.url()).await;
    assert_eq!(third.klines(&q).await.unwrap().to_columns(), original);
    assert_eq!(w.kline_requests(), cold + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_acl_and_tls() {
    let w = World::new().await;
    let redis = server(RedisOptions {
        password: Some("s3cret-pw".into()),
        acl_users: vec!["cc on >cc-pw ~cc:* resetchannels +@all".into()],
        ..RedisOptions::default()
    });
    let port = redis.port();
    // Wrong password: a clear error at build time that does not echo the password.
    let e =
        w.builder().no_disk().redis(format!("redis://:wrong-pw@127.0.0.1:{port}")).build().await.unwrap_err();
    assert!(matches!(&e, Error::Config(m) if m.contains("authentication failed")), "{e}");
    assert!(!e.to_string().contains("wrong-pw") && !format!("{e:?}").contains("wrong-pw"));
    // The right password works.
    let q = query("BTCUSDT", "1d", NOW - 200 * DAY, NOW - 100 * DAY);
    redis_cache(&w, &redis.url()).await.klines(&q).await.unwrap();
    // An ACL user limited to the cc: prefix works for everything the cache does.
    let acl_url = format!("redis://cc:cc-pw@127.0.0.1:{port}");
    let cache = redis_cache(&w, &acl_url).await;
    let q2 = query("ETHUSDT", "1d", NOW - 200 * DAY, NOW - 100 * DAY);
    cache.klines(&q2).await.unwrap();
    assert_eq!(cache.stats().tier("redis").unwrap().errors, 0, "{:?}", cache.stats());
    assert!(!format!("{cache:?}").contains("cc-pw"), "no password in Debug output");
    // ...and a prefix outside its keys is refused, clearly.
    let config = RedisConfig { prefix: "other".into(), ..RedisConfig::new(&acl_url) };
    let other = w.builder().no_disk().redis_config(config).build().await.unwrap();
    other.klines(&q2).await.unwrap(); // still answered (from the exchange)...
    assert!(other.stats().tier("redis").unwrap().errors > 0, "...with the refused writes counted");

    // TLS (the Debian redis-server is built with it): a CA of our own.
    let tls = server(RedisOptions { tls: true, ..RedisOptions::default() });
    let config = RedisConfig { ca_cert_pem: tls.ca_pem(), ..RedisConfig::new(tls.url()) };
    assert!(tls.url().starts_with("rediss://"));
    let cache = w.builder().no_disk().redis_config(config).build().await.unwrap();
    cache.klines(&q).await.unwrap();
    let again = w
        .builder()
        .no_disk()
        .redis_config(RedisConfig { ca_cert_pem: tls.ca_pem(), ..RedisConfig::new(tls.url()) });
    assert_eq!(again.build().await.unwrap().klines(&q).await.unwrap().len(), 100);
    // Without trusting that CA the server's certificate is rejected at build time.
    let e = w.builder().no_disk().redis(tls.url()).build().await.unwrap_err();
    assert!(matches!(e, Error::Config(_)), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttls_follow_the_policy() {
    let w = World::new().await;
    let redis = server(RedisOptions::default());
    let policy =
        Policy { jitter: Duration::ZERO, empty_ttl: Some(Duration::from_secs(3600)), ..Policy::default() };
    let cache = w.builder().no_disk().redis(redis.url()).policy(policy).build().await.unwrap();
    // Closed: no expiry.
    cache.klines(&query("BTCUSDT", "1h", NOW - 90 * DAY, NOW - 80 * DAY)).await.unwrap();
    let closed = cli(&redis, &["KEYS", "cc:v2:*:binance:spot:klines:1h:*"]);
    assert_eq!(cli(&redis, &["PTTL", closed.lines().next().unwrap()]), "-1");
    // Open (holds the 12:00 candle at 12:30): expires at 13:00, i.e. in ~30 minutes.
    cache.klines(&query("BTCUSDT", "1m", NOW - HOUR, NOW + HOUR)).await.unwrap();
    let open = format!(
        "cc:v2:{}:binance:spot:klines:1m:{{BTCUSDT}}:{}",
        sim_source(&cache),
        (NOW / (1000 * MINUTE)) * 1000 * MINUTE
    );
    let pttl: i64 = cli(&redis, &["PTTL", &open]).parse().unwrap();
    assert!((55_000..=60_000).contains(&pttl), "open 1m segment expires at the next close: PTTL {pttl}");
    // Known-empty (before SOLUSDT's listing): the configured TTL.
    cache.klines(&query("SOLUSDT", "1d", 1_500_000_000_000, 1_500_000_000_000 + 10 * DAY)).await.unwrap();
    let empty = cli(&redis, &["KEYS", "cc:v2:*:binance:spot:klines:1d:{SOLUSDT}:*"]);
    let pttl: i64 = cli(&redis, &["PTTL", empty.lines().next().unwrap()]).parse().unwrap();
    assert!((3_590_000..=3_600_000).contains(&pttl), "known-empty PTTL {pttl}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequential_reads_prefetch_the_next_segment() {
    let w = World::new().await;
    let redis = server(RedisOptions::default());
    let cache = redis_cache(&w, &redis.url()).await;
    let seg = 1000 * MINUTE;
    let base = (NOW / seg - 20) * seg;
    // A backtest walking forward: the second query starts where the first ended.
    cache.klines(&query("BTCUSDT", "1m", base, base + seg / 2)).await.unwrap();
    cache.klines(&query("BTCUSDT", "1m", base + seg / 2, base + seg)).await.unwrap();
    let next_key = format!("cc:v2:{}:binance:spot:klines:1m:{{BTCUSDT}}:{}", sim_source(&cache), base + seg);
    let deadline = Instant::now() + Duration::from_secs(5);
    while cli(&redis, &["EXISTS", &next_key]) != "1" {
        assert!(Instant::now() < deadline, "segment n+1 was not prefetched");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(cache.stats().prefetches, 1);
    // Reading it now costs nothing (a jump, not a continuation: no further prefetch).
    let requests = w.kline_requests();
    cache.klines(&query("BTCUSDT", "1m", base + seg + 5 * MINUTE, base + 2 * seg)).await.unwrap();
    assert_eq!(w.kline_requests(), requests);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tier_order_is_configurable() {
    let w = World::new().await;
    let redis = server(RedisOptions::default());
    let q = query("BTCUSDT", "1d", NOW - 300 * DAY, NOW - 100 * DAY);
    let order = [TierKind::Memory, TierKind::Redis, TierKind::Disk];
    let cache = w.builder().redis(redis.url()).tier_order(order).build().await.unwrap();
    cache.klines(&q).await.unwrap();
    let names: Vec<String> = cache.stats().tiers.iter().map(|t| t.name.clone()).collect();
    assert_eq!(names, ["memory", "redis", "disk"]);
    // Redis answers before disk for a new process.
    let second = w.builder().redis(redis.url()).tier_order(order).build().await.unwrap();
    second.klines(&q).await.unwrap();
    let stats = second.stats();
    assert_eq!((stats.tier("redis").unwrap().hits, stats.tier("disk").unwrap().hits), (1, 0));
    let e = w.builder().tier_order([TierKind::Disk, TierKind::Memory]).build().await.unwrap_err();
    assert!(e.to_string().contains("memory tier, when used, comes first"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_back_empty_learns_what_was_spent_while_it_was_away() {
    use cryptocache::exchange::bybit::BybitConfig;
    use cryptocache_sim::{BybitLimits, SimConfig};
    // Bybit without its limit headers: only our own count keeps the budget.
    let window = Duration::from_secs(20);
    let limits = BybitLimits { requests: 100, window, limit_headers: false };
    let w = World::with(SimConfig { bybit: limits, ..SimConfig::default() }).await;
    let mut redis = server(RedisOptions::default());
    let bybit = BybitConfig { url: w.sim.url(), requests_per_window: 100, window };
    let cache = w.builder().no_disk().no_memory().bybit(bybit).redis(redis.url()).build().await.unwrap();
    let q = |symbol: &str, from: i64, to: i64| {
        cryptocache::KlineQuery::new(cryptocache::Exchange::Bybit, symbol, "1h".parse().unwrap(), from, to)
    };
    // Start just after a window begins: everything below happens inside it.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let window_ms = window.as_millis() as u64;
    tokio::time::sleep(Duration::from_millis(window_ms - now % window_ms + 100)).await;
    redis.stop();
    // Spent on this process's offline share while Redis is away.
    cache.klines(&q("BTCUSDT", NOW - 200 * DAY, NOW - 50 * DAY)).await.unwrap();
    redis.restart().unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await; // the breaker's prober notices
    cache.klines(&q("ETHUSDT", NOW - 60 * DAY, NOW - 40 * DAY)).await.unwrap();
    let spent = w.sim.stats().max_window_weight.get("bybit").copied().unwrap_or(0);
    let keys = cli(&redis, &["--scan", "--pattern", "cc:budget:*bybit*"]);
    let counted: u32 = keys
        .lines()
        .filter(|k| !k.ends_with(":paused"))
        .map(|k| cli(&redis, &["GET", k]).parse::<u32>().unwrap_or(0))
        .max()
        .unwrap_or(0);
    assert!(spent >= 4, "requests were made in the window: {spent}");
    assert!(counted >= spent, "the shared budget counts {counted} of the {spent} requests of the window");
}
