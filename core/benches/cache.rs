//! Criterion benches of the hot paths: memory-tier hit, disk-tier hit, segment encode
//! and decode. Data comes from the simulator (deterministic, tick-sized prices, 8-decimal
//! quote volumes, like Binance's). Also prints encoded bytes per 1m candle.

use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use cryptocache::segment::{Payload, Segment, SegmentKey, SEGMENT_SLOTS};
use cryptocache::{codec, Cache, Exchange, KlineQuery};
use cryptocache_sim::{Sim, SimConfig};

const NOW: i64 = 1_717_245_000_000; // 2024-06-01T12:30:00Z
const MINUTE: i64 = 60_000;

struct Fixture {
    runtime: tokio::runtime::Runtime,
    _sim: Sim,
    _dir: tempfile::TempDir,
    memory: Cache,
    disk_only: Cache,
    aligned: KlineQuery,
    straddling: KlineQuery,
    segment: Segment,
}

fn fixture() -> Fixture {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let sim = runtime.block_on(Sim::start(SimConfig { now_ms: Some(NOW), ..SimConfig::default() })).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let seg_ms = MINUTE * SEGMENT_SLOTS;
    let seg_start = (NOW - 30 * seg_ms) / seg_ms * seg_ms;
    let interval = "1m".parse().unwrap();
    let aligned = KlineQuery::new(Exchange::Binance, "BTCUSDT", interval, seg_start, seg_start + seg_ms);
    let straddling =
        KlineQuery { start: seg_start + seg_ms / 2, end: seg_start + seg_ms * 3 / 2, ..aligned.clone() };
    let (memory, disk_only) = runtime.block_on(async {
        let memory = Cache::builder().exchange_url(sim.url()).disk(dir.path()).build().await.unwrap();
        let disk_only =
            Cache::builder().exchange_url(sim.url()).disk(dir.path()).no_memory().build().await.unwrap();
        (memory, disk_only)
    });
    let candles = runtime.block_on(async {
        memory.klines(&straddling).await.unwrap();
        memory.klines(&aligned).await.unwrap()
    });
    assert_eq!(candles.len(), 1000);
    let series = Arc::new(cryptocache::SeriesKey {
        source: cryptocache::source::LIVE.into(),
        exchange: Exchange::Binance,
        market: cryptocache::Market::Spot,
        kind: cryptocache::DataKind::Klines,
        interval,
        symbol: "BTCUSDT".into(),
    });
    let segment = Segment {
        key: SegmentKey::containing(&series, seg_start),
        payload: Payload::Candles(Arc::new(candles.to_columns())),
        fetched_at: NOW,
        expires_at: None,
        origin: cryptocache::segment::Origin::Api,
        partial: None,
    };
    Fixture { runtime, _sim: sim, _dir: dir, memory, disk_only, aligned, straddling, segment }
}

fn benches(c: &mut Criterion) {
    let f = fixture();
    let bytes = codec::encode(&f.segment);
    println!(
        "encoded segment: {} bytes for 1000 × 1m candles = {:.1} bytes/candle",
        bytes.len(),
        bytes.len() as f64 / 1000.0
    );

    let mut g = c.benchmark_group("query_1000x1m");
    g.throughput(Throughput::Elements(1000));
    g.bench_function("memory_hit_one_segment", |b| {
        b.iter(|| f.runtime.block_on(f.memory.klines(&f.aligned)).unwrap())
    });
    g.bench_function("memory_hit_two_segments", |b| {
        b.iter(|| f.runtime.block_on(f.memory.klines(&f.straddling)).unwrap())
    });
    g.bench_function("disk_hit_one_segment", |b| {
        b.iter(|| f.runtime.block_on(f.disk_only.klines(&f.aligned)).unwrap())
    });
    g.finish();

    let mut g = c.benchmark_group("codec_1000x1m");
    g.throughput(Throughput::Elements(1000));
    g.bench_function("encode", |b| b.iter(|| codec::encode(&f.segment)));
    g.bench_function("decode", |b| b.iter(|| codec::decode(&f.segment.key, &bytes).unwrap()));
    g.finish();
}

criterion_group! {
    name = cache;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = benches
}
criterion_main!(cache);
