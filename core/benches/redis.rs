//! Redis benches against a real redis-server: a Redis-tier hit for 1000 × 1m candles
//! (one MGET + decode, through the whole read path) vs a bare redis-rs GET of the same
//! bytes; and Redis memory per 1m candle (MEMORY USAGE) for the segment encoding vs the
//! JSON an exchange sends for the same candles.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use cryptocache::warm::Dataset;
use cryptocache::{Cache, Exchange, KlineQuery};
use cryptocache_sim::redis_server::{RedisOptions, RedisServer};
use cryptocache_sim::{Sim, SimConfig};

const NOW: i64 = 1_717_245_000_000;
const SEGMENT: i64 = 60_000 * 1000;

fn benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let redis = RedisServer::start(RedisOptions::default()).expect("redis-server");
    let sim = runtime.block_on(Sim::start(SimConfig { now_ms: Some(NOW), ..SimConfig::default() })).unwrap();
    let start = (NOW - 30 * SEGMENT) / SEGMENT * SEGMENT;
    let q = KlineQuery::new(Exchange::Binance, "BTCUSDT", "1m".parse().unwrap(), start, start + SEGMENT);
    let cache: Cache = runtime.block_on(async {
        let cache = Cache::builder()
            .exchange_url(sim.url())
            .no_disk()
            .no_memory()
            .redis(redis.url())
            .build()
            .await
            .unwrap();
        assert_eq!(cache.klines(&q).await.unwrap().len(), 1000);
        cache
    });
    let source = cache.sources()[0].1.clone();
    let key = format!("cc:v2:{source}:binance:spot:klines:1m:{{BTCUSDT}}:{start}");

    // Memory: the segment encoding vs the exchange's JSON for the same 1000 candles.
    let json = runtime.block_on(async {
        let url =
            format!("{}/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime={start}&limit=1000", sim.url());
        reqwest::get(url).await.unwrap().bytes().await.unwrap().to_vec()
    });
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = runtime.block_on(client.get_multiplexed_async_connection()).unwrap();
    let (segment_bytes, json_bytes): (u64, u64) = runtime.block_on(async {
        let _: () = redis::cmd("SET").arg("json-baseline").arg(&json).query_async(&mut conn).await.unwrap();
        let seg: u64 = redis::cmd("MEMORY").arg("USAGE").arg(&key).query_async(&mut conn).await.unwrap();
        let js: u64 =
            redis::cmd("MEMORY").arg("USAGE").arg("json-baseline").query_async(&mut conn).await.unwrap();
        (seg, js)
    });
    println!(
        "redis MEMORY USAGE per 1m candle: segment {:.1} B, exchange JSON {:.1} B (ratio {:.1}x); JSON payload {} B",
        segment_bytes as f64 / 1000.0,
        json_bytes as f64 / 1000.0,
        json_bytes as f64 / segment_bytes as f64,
        json.len()
    );

    let mut g = c.benchmark_group("redis_1000x1m");
    g.throughput(Throughput::Elements(1000));
    g.bench_function("cache_redis_hit", |b| b.iter(|| runtime.block_on(cache.klines(&q)).unwrap()));
    // What the Redis tier sends: one MGET of the query's keys (here one).
    g.bench_function("bare_mget_same_keys", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let v: Vec<Option<Vec<u8>>> =
                    redis::cmd("MGET").arg(&key).query_async(&mut conn.clone()).await.unwrap();
                v
            })
        })
    });
    // Where the rest goes: decoding the value (checksum, columns) on its own.
    let stored: Vec<u8> =
        runtime.block_on(async { redis::cmd("GET").arg(&key).query_async(&mut conn.clone()).await.unwrap() });
    let segment_key = runtime
        .block_on(cache.segment(
            Exchange::Binance,
            None,
            "BTCUSDT",
            Dataset::Klines("1m".parse().unwrap()),
            start,
        ))
        .unwrap()
        .key
        .clone();
    g.bench_function("decode_only", |b| {
        b.iter(|| cryptocache::codec::decode(&segment_key, &stored).unwrap())
    });
    g.bench_function("bare_get_same_bytes", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let v: Vec<u8> = redis::cmd("GET").arg(&key).query_async(&mut conn.clone()).await.unwrap();
                v
            })
        })
    });
    g.finish();
}

criterion_group! {
    name = redis_benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = benches
}
criterion_main!(redis_benches);
