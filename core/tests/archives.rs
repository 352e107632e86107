//! Bulk archives (Binance's data.binance.vision layout, served by the simulator beside
//! its REST endpoints): closed history from verified files, REST wherever a file is
//! missing, damaged or not yet published, and with `only`, typed errors instead of REST.
//! The oracle is the simulator's own data.

mod common;

use common::*;
use cryptocache::segment::Origin;
use cryptocache::{ArchiveMode, CoverageQuery, DataKind, Error, Exchange, KlineQuery, Market, SegmentStatus};
use cryptocache_sim::quirks::{BINANCE_ARCHIVE_BAD_CHECKSUM_DAY_MS, BINANCE_ARCHIVE_MISSING_DAY_MS};
use cryptocache_sim::redis_server::{redis_available, RedisOptions, RedisServer};
use cryptocache_sim::SimConfig;

/// 2024-01-01T00:00:00Z.
const JAN_2024: i64 = 1_704_067_200_000;

/// Requests for archive files (zips and their CHECKSUMs).
fn archive_requests(w: &World) -> u64 {
    w.sim.stats().endpoints.iter().filter(|(path, _)| path.starts_with("/data/")).map(|(_, n)| n).sum()
}

/// Every request that is not an archive file: REST calls of any kind.
fn rest_requests(w: &World) -> u64 {
    w.sim.stats().total - archive_requests(w)
}

/// Planned segments of `q` that overlap the UTC day starting at `day`.
fn segments_touching(q: &KlineQuery, day: i64, now: i64) -> u64 {
    let market = q.market.unwrap_or(Market::Spot);
    planned_segments(q, market, now)
        .iter()
        .filter(|k| k.span().start < day + DAY && day < k.span().end)
        .count() as u64
}

fn coverage_of(q: &KlineQuery) -> CoverageQuery {
    CoverageQuery {
        exchange: Exchange::Binance,
        market: q.market,
        symbol: q.symbol.clone(),
        kind: DataKind::Klines,
        interval: Some(q.interval),
        start: q.start,
        end: q.end,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_serves_closed_history_from_archives_and_rest_where_a_checksum_fails() {
    let now = JAN_2024 + 84 * DAY + 12 * HOUR; // 2024-03-25 12:00: Jan and Feb monthly files are out
    let w = World::at(now, SimConfig::default()).await;
    let cache = w.builder().archives(ArchiveMode::Auto).build().await.unwrap();
    let q = query("BTCUSDT", "1m", JAN_2024 + 19 * DAY, JAN_2024 + 82 * DAY); // Jan 20 .. Mar 23
    let got = cache.klines(&q).await.unwrap();
    assert_matches_sim(&got, &q, now);
    // Only the segments touching the day whose CHECKSUM is wrong went to REST, one
    // request each; the rest came from two monthly files and the March daily files.
    let damaged = segments_touching(&q, BINANCE_ARCHIVE_BAD_CHECKSUM_DAY_MS, now);
    assert!(damaged >= 2, "the day spans two 1000-minute segments");
    assert_eq!(w.kline_requests(), damaged);
    // Zip + CHECKSUM for January, February and March 1..23 (the last 1000-minute
    // segment reaches into the 23rd); the damaged day's file is downloaded once,
    // although two segments needed it.
    assert_eq!(archive_requests(&w), 2 * (2 + 23));
    let report = cache.coverage(&coverage_of(&q)).await.unwrap();
    let origins: Vec<_> = report.segments.iter().map(|s| s.origin).collect();
    let from_api = origins.iter().filter(|o| **o == Some(Origin::Api)).count() as u64;
    assert_eq!(from_api, damaged, "coverage names where each segment came from");
    assert!(origins.iter().all(|o| o.is_some()));
    assert!(report.segments.iter().all(|s| s.status == SegmentStatus::Cached), "archive segments are final");

    // A REST-only cache gives the same candles, bit for bit (assert_matches_sim), and a
    // second process on the same disk reads everything, provenance included, for free.
    let before = w.sim.stats().total;
    let again = w.builder().archives(ArchiveMode::Auto).build().await.unwrap();
    assert_eq!(again.klines(&q).await.unwrap().to_columns(), got.to_columns());
    assert_eq!(w.sim.stats().total, before, "zero requests of any kind");
    let origins_again: Vec<_> =
        again.coverage(&coverage_of(&q)).await.unwrap().segments.iter().map(|s| s.origin).collect();
    assert_eq!(origins_again, origins, "the origin is stored with the segment");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_monthly_file_fills_every_segment_it_covers_in_every_tier_at_once() {
    let now = JAN_2024 + 84 * DAY + 12 * HOUR; // 2024-03-25 12:00: January's monthly file is out
    let w = World::at(now, SimConfig::default()).await;
    assert!(
        redis_available(),
        "redis-server is not installed (CI installs it: apt-get install redis-server)"
    );
    let redis = RedisServer::start(RedisOptions::default()).expect("redis-server starts");
    let cache = w.builder().archives(ArchiveMode::Auto).redis(redis.url()).build().await.unwrap();
    // One hour in the middle of January: one segment asked for, one file read.
    let hour = query("BTCUSDT", "1m", JAN_2024 + 9 * DAY, JAN_2024 + 9 * DAY + HOUR);
    assert_matches_sim(&cache.klines(&hour).await.unwrap(), &hour, now);
    assert_eq!(archive_requests(&w), 2, "January's zip and its CHECKSUM");
    let after_first = w.sim.stats().total;

    // Every 1000-minute segment lying wholly inside January is now in Redis and on disk:
    // other processes, with archives off (a miss would go to REST), read all of them
    // for free from either.
    let january = planned_segments(&query("BTCUSDT", "1m", JAN_2024, JAN_2024 + 31 * DAY), Market::Spot, now);
    let inside: Vec<_> = january
        .iter()
        .filter(|k| k.span().start >= JAN_2024 && k.span().end <= JAN_2024 + 31 * DAY)
        .collect();
    assert_eq!(inside.len(), 43, "44,640 minutes hold 43 whole 1000-minute segments");
    let whole = query("BTCUSDT", "1m", inside[0].span().start, inside[42].span().end);
    let keys = redis.cli(&["KEYS", "cc:v2:*:binance:spot:klines:1m:{BTCUSDT}:*"]).expect("redis-cli runs");
    assert_eq!(keys.lines().count(), 43, "{keys}");
    let shared = w.builder().archives(ArchiveMode::Off).no_disk().redis(redis.url()).build().await.unwrap();
    assert_matches_sim(&shared.klines(&whole).await.unwrap(), &whole, now);
    assert_eq!(shared.stats().tier("redis").unwrap().hits, 43);
    let other = w.builder().archives(ArchiveMode::Off).build().await.unwrap();
    assert_matches_sim(&other.klines(&whole).await.unwrap(), &whole, now);
    assert_eq!(other.stats().tier("disk").unwrap().hits, 43);
    assert_eq!(w.sim.stats().total, after_first, "zero requests of any kind");
    let report = other.coverage(&coverage_of(&whole)).await.unwrap();
    assert_eq!(report.segments.len(), 43);
    assert!(report.segments.iter().all(|s| s.origin == Some(Origin::Archive)), "{report:?}");
    assert!(report.segments.iter().all(|s| s.status == SegmentStatus::Cached), "final: {report:?}");

    // The segments reaching into December or February were not in the file alone: asked
    // for, they cost a request.
    let edge = query("BTCUSDT", "1m", JAN_2024 - HOUR, JAN_2024);
    assert_matches_sim(&other.klines(&edge).await.unwrap(), &edge, now);
    assert_eq!(w.kline_requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_loads_of_one_file_store_each_segment_once() {
    let now = JAN_2024 + 84 * DAY + 12 * HOUR;
    let w = World::at(now, SimConfig::default()).await;
    // `only`: no listing probe loading the first segment alone, so four loads wait on
    // January's file at once.
    let cache = w.builder().archives(ArchiveMode::Only).upstream_concurrency(4).build().await.unwrap();
    // All of January: its 43 inner segments and the two reaching into December and
    // February, several loading at once from the same monthly file.
    let q = query("BTCUSDT", "1m", JAN_2024, JAN_2024 + 31 * DAY);
    assert_matches_sim(&cache.klines(&q).await.unwrap(), &q, now);
    let planned = planned_segments(&q, Market::Spot, now).len() as u64;
    assert_eq!(planned, 45);
    // The edge segments read December's and February's files too: their inner segments
    // were stored with them.
    let inner = |from: i64, to: i64| {
        let keys = planned_segments(&query("BTCUSDT", "1m", from, to), Market::Spot, now);
        keys.iter().filter(|k| k.span().start >= from && k.span().end <= to).count() as u64
    };
    let (december, february) =
        (inner(JAN_2024 - 31 * DAY, JAN_2024), inner(JAN_2024 + 31 * DAY, JAN_2024 + 60 * DAY));
    assert_eq!((december, february), (44, 41));
    let writes = cache.stats().tier("disk").unwrap().writes;
    assert_eq!(writes, planned + december + february, "each segment written once");
    assert_eq!(w.kline_requests(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_daily_file_falls_back_to_rest() {
    let now = JAN_2024 + 60 * DAY + 12 * HOUR; // 2024-03-01 12:00: February's monthly file is not out
    let w = World::at(now, SimConfig::default()).await;
    let cache = w.builder().archives(ArchiveMode::Auto).build().await.unwrap();
    let day = BINANCE_ARCHIVE_MISSING_DAY_MS;
    let q = query("ETHUSDT", "1m", day - DAY, day + 2 * DAY);
    assert_matches_sim(&cache.klines(&q).await.unwrap(), &q, now);
    assert_eq!(w.kline_requests(), segments_touching(&q, day, now));
    assert!(archive_requests(&w) > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recent_days_use_rest_even_in_auto() {
    let now = JAN_2024 + 84 * DAY + 12 * HOUR;
    let w = World::at(now, SimConfig::default()).await;
    let cache = w.builder().archives(ArchiveMode::Auto).build().await.unwrap();
    let q = query("BTCUSDT", "1h", now - 3 * DAY, now);
    assert_matches_sim(&cache.klines(&q).await.unwrap(), &q, now);
    assert_eq!(archive_requests(&w), 0, "the segment holds the last two days");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_serves_from_archives_without_a_single_rest_call_and_says_what_it_lacks() {
    let now = JAN_2024 + 84 * DAY + 12 * HOUR; // 2024-03-25 12:00
    let w = World::at(now, SimConfig::default()).await;
    let cache = w.builder().archives(ArchiveMode::Only).build().await.unwrap();
    let closed = query("BTCUSDT", "1m", JAN_2024 + 40 * DAY, JAN_2024 + 42 * DAY);
    assert_matches_sim(&cache.klines(&closed).await.unwrap(), &closed, now);
    assert_eq!(rest_requests(&w), 0, "no symbol check, no probe, no klines");

    // Today's file is not published: a typed error saying which file and from when.
    let today = query("BTCUSDT", "1m", now - 2 * DAY, now);
    let err = cache.klines(&today).await.unwrap_err();
    let Error::NotArchived { available_from, reason, .. } = &err else { panic!("{err:?}") };
    // Not yet published (daily files are due by the end of the next day): the segment's
    // last file is due two days after its last day starts at the earliest.
    assert!(available_from.is_some_and(|t| t >= now.div_euclid(DAY) * DAY + 2 * DAY), "{err}");
    assert!(reason.contains("BTCUSDT-1m-2024-03-25.zip is not published yet"), "{err}");
    assert_eq!(err.code(), "NOT_ARCHIVED");
    // A file failing its checksum is refused, never cached.
    let bad = BINANCE_ARCHIVE_BAD_CHECKSUM_DAY_MS;
    let damaged = query("BTCUSDT", "1m", bad, bad + HOUR);
    let err = cache.klines(&damaged).await.unwrap_err();
    assert!(matches!(&err, Error::NotArchived { reason, .. } if reason.contains("damaged")), "{err}");
    let report = cache.coverage(&coverage_of(&damaged)).await.unwrap();
    assert!(report.segments.iter().all(|s| s.status == SegmentStatus::Failed), "{report:?}");
    assert_eq!(rest_requests(&w), 0);
    // Deribit publishes no archive.
    let deribit = KlineQuery::new(Exchange::Deribit, "BTC-PERPETUAL", "1h".parse().unwrap(), bad, bad + DAY);
    assert!(matches!(cache.klines(&deribit).await, Err(Error::NotArchived { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn microsecond_spot_files_and_headed_futures_files_read_like_rest() {
    let feb_2025 = 1_738_368_000_000; // 2025-02-01: spot files in microseconds, UM with headers
    let now = feb_2025 + 40 * DAY;
    let w = World::at(now, SimConfig::default()).await;
    let cache = w.builder().archives(ArchiveMode::Only).build().await.unwrap();
    for market in [Market::Spot, Market::Linear] {
        for (interval, start, end) in
            [("1m", feb_2025 - DAY, feb_2025 + DAY), ("1h", feb_2025 - 60 * DAY, feb_2025)]
        {
            let mut q = query("BTCUSDT", interval, start, end);
            q.market = Some(market);
            assert_matches_sim(&cache.klines(&q).await.unwrap(), &q, now);
        }
    }
    assert_eq!(rest_requests(&w), 0);
}

/// Every trade of `q`, as rows.
async fn trades_of(cache: &cryptocache::Cache, q: &cryptocache::RangeQuery) -> Vec<cryptocache::Trade> {
    cache.trades(q).await.unwrap().iter().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_reads_days_of_aggregate_trades_whole_when_the_neighbouring_days_continue_the_ids() {
    let now = JAN_2024 + 84 * DAY + 12 * HOUR; // 2024-03-25 12:00
    let w = World::at(now, SimConfig::default()).await;
    let day = JAN_2024 + 35 * DAY; // 2024-02-05
    let q = cryptocache::RangeQuery::new(Exchange::Binance, "ETHUSDT", day, day + 2 * DAY);
    let rest_only = w.builder().archives(ArchiveMode::Off).no_disk().build().await.unwrap();
    let want = trades_of(&rest_only, &q).await;
    let rest_pages = w.requests("/api/v3/aggTrades");
    assert!(want.len() > 1000 && rest_pages >= 48, "{} trades in {rest_pages} pages", want.len());

    let cache = w.builder().archives(ArchiveMode::Auto).build().await.unwrap();
    let got = trades_of(&cache, &q).await;
    assert_eq!(got, want, "the same trades, by id, bit for bit");
    assert_eq!(w.requests("/api/v3/aggTrades"), rest_pages, "no REST page at all");
    // The two days' files and their neighbours' (whose ids prove the edge hours whole),
    // each with its CHECKSUM.
    assert_eq!(archive_requests(&w), 4 * 2);
    let coverage = cache
        .coverage(&CoverageQuery {
            kind: DataKind::Trades,
            interval: None,
            ..coverage_of(&query("ETHUSDT", "1m", day, day + 2 * DAY))
        })
        .await
        .unwrap();
    assert!(coverage.segments.iter().all(|s| s.origin == Some(Origin::Archive)));
    assert!(coverage.segments.iter().all(|s| s.status == SegmentStatus::Cached));

    // Where a neighbouring file is missing (2024-02-14), REST serves the edge hour it
    // would have proven, and only that hour.
    let before = w.requests("/api/v3/aggTrades");
    let after_gap = BINANCE_ARCHIVE_MISSING_DAY_MS + DAY;
    let q = cryptocache::RangeQuery::new(Exchange::Binance, "ETHUSDT", after_gap, after_gap + HOUR);
    let rest = trades_of(&rest_only, &q).await;
    let rest_hour = w.requests("/api/v3/aggTrades") - before;
    assert_eq!(trades_of(&cache, &q).await, rest);
    assert_eq!(w.requests("/api/v3/aggTrades") - before, 2 * rest_hour, "the first hour from REST");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_and_auto_read_usdm_trades_older_than_rest_keeps() {
    let now = JAN_2024 + 84 * DAY + 12 * HOUR; // 2024-03-25 12:00
    let w = World::at(now, SimConfig::default()).await;
    let cache = w.builder().archives(ArchiveMode::Only).build().await.unwrap();
    // UM aggTrades over REST reach back one year; the archive has 2022.
    let day = JAN_2024 - 500 * DAY;
    let q = cryptocache::RangeQuery::new(Exchange::Binance, "BTCUSDT", day, day + DAY).market(Market::Linear);
    let got = trades_of(&cache, &q).await;
    assert!(!got.is_empty());
    assert!(got.windows(2).all(|p| p[1].id == p[0].id + 1), "every aggregate of the day, once");
    assert_eq!(rest_requests(&w), 0);
    let coverage = cache
        .coverage(&CoverageQuery {
            market: Some(Market::Linear),
            kind: DataKind::Trades,
            interval: None,
            ..coverage_of(&query("BTCUSDT", "1m", day, day + DAY))
        })
        .await
        .unwrap();
    assert!(coverage.segments.iter().all(|s| s.expires_at.is_none()), "the neighbours prove the edges");
    assert!(coverage.segments.iter().all(|s| s.origin == Some(Origin::Archive)));

    // `auto` reaches past REST's depth the same way (REST could not check the edge hours).
    let off = w.builder().archives(ArchiveMode::Off).no_disk().build().await.unwrap();
    assert!(matches!(off.trades(&q).await, Err(Error::OutOfRetention { .. })));
    let auto = w.builder().archives(ArchiveMode::Auto).no_disk().build().await.unwrap();
    assert_eq!(trades_of(&auto, &q).await, got);
    assert_eq!(w.requests("/fapi/v1/aggTrades"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_monthly_file_with_a_hole_and_a_wrong_value_is_overruled_by_rest_and_counted() {
    use cryptocache_sim::quirks::BINANCE_ARCHIVE_MONTHLY_DRIFT_MS as DRIFT;
    let now = JAN_2024 + 84 * DAY + 12 * HOUR;
    let w = World::at(now, SimConfig::default()).await;
    let q = query("BTCUSDT", "1m", DRIFT - DAY, DRIFT + DAY);
    let cache = w.builder().archives(ArchiveMode::Auto).build().await.unwrap();
    assert_matches_sim(&cache.klines(&q).await.unwrap(), &q, now);
    // The segment holding the hole came from REST, which also corrects the next candle:
    // the archive's other 998 rows agree, that one does not.
    assert_eq!(w.kline_requests(), 1);
    assert_eq!(cache.stats().upstream.archive_disagreements, 1);
    let report = cache.coverage(&coverage_of(&q)).await.unwrap();
    let holder = report.segments.iter().find(|s| s.span.contains(DRIFT)).unwrap();
    assert_eq!(holder.origin, Some(Origin::Api));

    // With archives only, the hole is served as a gap, but never as a final answer.
    let only = w.builder().archives(ArchiveMode::Only).no_disk().build().await.unwrap();
    let got = only.klines(&q).await.unwrap();
    assert_eq!(got.len(), 2 * 1440 - 1);
    assert!(got.gaps().iter().any(|g| g.contains(DRIFT)));
    let report = only.coverage(&coverage_of(&q)).await.unwrap();
    let holder = report.segments.iter().find(|s| s.span.contains(DRIFT)).unwrap();
    assert!(holder.expires_at.is_some(), "not final: {holder:?}");
}

/// 2024-06-01T12:00:00Z.
const JUNE_2024_NOON: i64 = JAN_2024 + 152 * DAY + 12 * HOUR;

/// Requests for Bybit trade archive files.
fn bybit_archive_requests(w: &World) -> u64 {
    let s = w.sim.stats();
    s.endpoints
        .iter()
        .filter(|(p, _)| p.starts_with("/trading/") || p.starts_with("/spot/"))
        .map(|(_, n)| n)
        .sum()
}

/// Trades as comparable values (time, price, quantity, taker sold), in time order.
fn trade_values(mut rows: Vec<(i64, f64, f64, bool)>) -> Vec<(i64, u64, u64, bool)> {
    rows.sort_by(|a, b| {
        a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)).then(a.2.total_cmp(&b.2)).then(a.3.cmp(&b.3))
    });
    rows.into_iter().map(|(t, p, q, s)| (t, p.to_bits(), q.to_bits(), s)).collect()
}

fn bybit_trades_coverage(market: Market, symbol: &str, start: i64, end: i64) -> CoverageQuery {
    CoverageQuery {
        exchange: Exchange::Bybit,
        market: Some(market),
        symbol: symbol.into(),
        kind: DataKind::Trades,
        interval: None,
        start,
        end,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bybit_trade_history_comes_from_day_files_stored_whole_and_final() {
    use cryptocache_sim::{venue_trades, Venue};
    let now = JUNE_2024_NOON;
    let w = World::at(now, SimConfig::default()).await;
    let day = JAN_2024 + DAY; // 2024-01-02
    let (start, end) = (day + 14 * HOUR + 30 * 60_000, day + DAY + 2 * HOUR);
    let q = cryptocache::RangeQuery::new(Exchange::Bybit, "ETHUSD", start, end).market(Market::Inverse);
    let off = w.builder().archives(ArchiveMode::Off).no_disk().build().await.unwrap();
    assert!(matches!(off.trades(&q).await, Err(Error::Unsupported(m)) if m.contains("archive")));

    let cache = w.builder().archives(ArchiveMode::Auto).build().await.unwrap();
    let got: Vec<cryptocache::Trade> = trades_of(&cache, &q).await;
    let want = venue_trades(Venue::BybitInverse, "ETHUSD", start, end, now).unwrap();
    assert!(want.len() > 10_000);
    assert_eq!(
        trade_values(
            got.iter().map(|t| (t.time, t.price, t.quantity, t.side == cryptocache::Side::Sell)).collect()
        ),
        trade_values(want.iter().map(|t| (t.time, t.price, t.qty, t.buyer_maker)).collect()),
        "every trade of the range, milliseconds truncated"
    );
    let ids: std::collections::HashSet<i64> = got.iter().map(|t| t.id).collect();
    assert_eq!(ids.len(), got.len(), "ids from the UUIDs are unique");
    assert_eq!(bybit_archive_requests(&w), 2, "one file per day");
    assert_eq!(w.requests("/v5/market/recent-trade"), 0);

    // Both whole days are stored, every hour final, from the archive.
    let coverage =
        cache.coverage(&bybit_trades_coverage(Market::Inverse, "ETHUSD", day, day + 2 * DAY)).await.unwrap();
    assert_eq!(coverage.segments.len(), 48);
    assert!(coverage.segments.iter().all(|s| s.status == SegmentStatus::Cached && s.expires_at.is_none()));
    assert!(coverage.segments.iter().all(|s| s.origin == Some(Origin::Archive)));
    let before = w.sim.stats().total;
    let whole_days =
        cryptocache::RangeQuery::new(Exchange::Bybit, "ETHUSD", day, day + 2 * DAY).market(Market::Inverse);
    let again = w.builder().archives(ArchiveMode::Only).build().await.unwrap();
    assert_eq!(
        trades_of(&again, &whole_days).await.len(),
        venue_trades(Venue::BybitInverse, "ETHUSD", day, day + 2 * DAY, now).unwrap().len()
    );
    assert_eq!(w.sim.stats().total, before, "a second process on the disk: zero requests");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_dropped_halfway_is_resumed_from_its_stored_bytes() {
    use cryptocache_sim::{venue_trades, Fault, Venue};
    let now = JUNE_2024_NOON;
    let w = World::at(now, SimConfig::default()).await;
    let day = JAN_2024 + 2 * DAY;
    let q = cryptocache::RangeQuery::new(Exchange::Bybit, "ETHUSD", day, day + HOUR).market(Market::Inverse);
    let cache = w.builder().archives(ArchiveMode::Only).build().await.unwrap();
    // The day file's connection drops after half its bytes: the retry asks for the rest.
    w.sim.push_faults(vec![Fault::Dropped]);
    let got = trades_of(&cache, &q).await;
    let want = venue_trades(Venue::BybitInverse, "ETHUSD", day, day + HOUR, now).unwrap();
    assert_eq!(
        got.iter().map(|t| t.time).collect::<Vec<_>>(),
        want.iter().map(|t| t.time).collect::<Vec<_>>()
    );
    let stats = w.sim.stats();
    assert_eq!(bybit_archive_requests(&w), 2, "the dropped request and the resumed one");
    assert_eq!(stats.statuses.get(&206), Some(&1), "the rest as a byte range: {:?}", stats.statuses);
    assert_eq!(stats.faults_served, 1);
    // About one file's bytes in all: what arrived before the drop was kept.
    let bytes = cache.stats().upstream.bytes;
    let elsewhere = tempfile::tempdir().unwrap();
    let whole = w.builder().disk(elsewhere.path()).archives(ArchiveMode::Only).build().await.unwrap();
    trades_of(&whole, &q).await;
    let file_len = whole.stats().upstream.bytes;
    assert!(bytes < file_len + file_len / 10, "{bytes} bytes received for a file of {file_len}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bybit_days_without_a_file_are_typed_errors_and_nothing_is_cached() {
    use cryptocache_sim::quirks::BYBIT_ARCHIVE_MISSING_DAY_MS;
    let now = JUNE_2024_NOON;
    let w = World::at(now, SimConfig::default()).await;
    let cache = w.builder().archives(ArchiveMode::Auto).build().await.unwrap();
    let missing = BYBIT_ARCHIVE_MISSING_DAY_MS;
    let q = cryptocache::RangeQuery::new(Exchange::Bybit, "ETHUSD", missing + HOUR, missing + 2 * HOUR)
        .market(Market::Inverse);
    match cache.trades(&q).await {
        Err(Error::NotArchived { reason, available_from: None, .. }) => {
            assert!(reason.contains("ETHUSD2024-04-10.csv.gz is missing"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    // Today is not over: its file is due by the end of tomorrow.
    let today = now - 12 * HOUR;
    let q =
        cryptocache::RangeQuery::new(Exchange::Bybit, "ETHUSD", today, today + HOUR).market(Market::Inverse);
    match cache.trades(&q).await {
        Err(Error::NotArchived { reason, available_from: Some(t), .. }) => {
            assert!(reason.contains("not published yet"), "{reason}");
            assert_eq!(t, today + 2 * DAY);
        }
        other => panic!("{other:?}"),
    }
    let coverage = cache
        .coverage(&bybit_trades_coverage(Market::Inverse, "ETHUSD", missing, missing + DAY))
        .await
        .unwrap();
    assert!(
        coverage.segments.iter().all(|s| matches!(s.status, SegmentStatus::Missing | SegmentStatus::Failed)),
        "nothing cached"
    );
    assert_eq!(w.requests("/v5/market/recent-trade"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bybit_spot_days_read_with_their_ids() {
    let now = JUNE_2024_NOON;
    let w = World::at(now, SimConfig::default()).await;
    let cache = w.builder().archives(ArchiveMode::Only).build().await.unwrap();
    let day = JAN_2024 + DAY;
    let q = cryptocache::RangeQuery::new(Exchange::Bybit, "ETHUSDT", day, day + DAY).market(Market::Spot);
    let got = trades_of(&cache, &q).await;
    assert!(!got.is_empty());
    assert!(got.iter().enumerate().all(|(i, t)| t.id == i as i64 + 1), "the day's ids from 1, in time order");
    assert_eq!((bybit_archive_requests(&w), w.sim.stats().total), (1, 1), "one file, no REST call");
}

/// Funding events of `q`, as rows.
async fn funding_of(
    cache: &cryptocache::Cache,
    q: &cryptocache::RangeQuery,
) -> Vec<cryptocache::FundingRate> {
    cache.funding_rates(q).await.unwrap().iter().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usdm_funding_comes_from_monthly_files_equal_to_rest() {
    let now = JUNE_2024_NOON;
    let w = World::at(now, SimConfig::default()).await;
    let q = cryptocache::RangeQuery::new(Exchange::Binance, "ETHUSDT", JAN_2024, JAN_2024 + 91 * DAY)
        .market(Market::Linear);
    let rest_only = w.builder().archives(ArchiveMode::Off).no_disk().build().await.unwrap();
    let want = funding_of(&rest_only, &q).await;
    assert_eq!(want.len(), 91 * 6, "every 4 hours");
    let rest_calls = w.requests("/fapi/v1/fundingRate");
    assert!(rest_calls >= 3);

    let cache = w.builder().archives(ArchiveMode::Auto).build().await.unwrap();
    assert_eq!(funding_of(&cache, &q).await, want, "bit for bit");
    assert_eq!(w.requests("/fapi/v1/fundingRate"), rest_calls, "no REST funding call");
    let files: Vec<String> =
        w.sim.stats().endpoints.keys().filter(|p| p.contains("/fundingRate/")).cloned().collect();
    assert!(
        files.iter().all(|p| p.contains("ETHUSDT-fundingRate-2023-12.zip") || p.contains("-2024-0")),
        "{files:?}"
    );
    let coverage = cache
        .coverage(&CoverageQuery {
            market: Some(Market::Linear),
            kind: DataKind::Funding,
            interval: None,
            ..coverage_of(&query("ETHUSDT", "1m", q.start, q.end))
        })
        .await
        .unwrap();
    assert!(coverage
        .segments
        .iter()
        .all(|s| s.origin == Some(Origin::Archive) && s.status == SegmentStatus::Cached));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn funding_months_without_a_file_go_to_rest_in_auto_and_are_not_archived_in_only() {
    use cryptocache_sim::quirks::{BINANCE_UM_RELISTED, RELISTED_DELISTED_MS};
    let now = JUNE_2024_NOON;
    let w = World::at(now, SimConfig::default()).await;
    // Across the two months FTTUSDT was delisted: no November file.
    let q = cryptocache::RangeQuery::new(
        Exchange::Binance,
        BINANCE_UM_RELISTED,
        RELISTED_DELISTED_MS - 20 * DAY,
        RELISTED_DELISTED_MS + 10 * DAY,
    )
    .market(Market::Linear);
    let only = w.builder().archives(ArchiveMode::Only).no_disk().build().await.unwrap();
    match only.funding_rates(&q).await {
        Err(Error::NotArchived { reason, .. }) => {
            assert!(reason.contains("FTTUSDT-fundingRate-2023-11.zip is missing"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(rest_requests(&w), 0);
    let rest_only = w.builder().archives(ArchiveMode::Off).no_disk().build().await.unwrap();
    let want = funding_of(&rest_only, &q).await;
    let auto = w.builder().archives(ArchiveMode::Auto).build().await.unwrap();
    assert_eq!(funding_of(&auto, &q).await, want, "REST fills what the archive lacks");
    assert!(want.iter().all(|f| f.time < RELISTED_DELISTED_MS) && !want.is_empty());
    assert_eq!(auto.stats().upstream.archive_disagreements, 0);
}

/// Requests for OKX's historical data index and its files.
fn okx_archive_requests(w: &World) -> (u64, u64) {
    let s = w.sim.stats();
    let count =
        |prefix: &str| s.endpoints.iter().filter(|(p, _)| p.starts_with(prefix)).map(|(_, n)| n).sum();
    (count("/api/v5/public/market-data-history"), count("/cdn/okex/"))
}

fn okx_trades_coverage(market: Market, symbol: &str, start: i64, end: i64) -> CoverageQuery {
    CoverageQuery { exchange: Exchange::Okx, ..bybit_trades_coverage(market, symbol, start, end) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okx_trades_past_rest_retention_come_from_utc8_day_files() {
    use cryptocache_sim::{venue_trades, Venue};
    let now = JUNE_2024_NOON;
    let w = World::at(now, SimConfig::default()).await;
    // 2024-01-02 03:00-05:00 UTC: five months back, REST keeps three.
    let (start, end) = (JAN_2024 + DAY + 3 * HOUR, JAN_2024 + DAY + 5 * HOUR);
    let q = cryptocache::RangeQuery::new(Exchange::Okx, "ETH-USDT-SWAP", start, end).market(Market::Linear);
    let off = w.builder().archives(ArchiveMode::Off).no_disk().build().await.unwrap();
    assert!(matches!(off.trades(&q).await, Err(Error::OutOfRetention { .. })));

    let cache = w.builder().archives(ArchiveMode::Auto).build().await.unwrap();
    let got = trades_of(&cache, &q).await;
    let want = venue_trades(Venue::OkxSwap, "ETH-USDT-SWAP", start, end, now).unwrap();
    assert!(want.len() > 100);
    let as_values =
        |t: &cryptocache::Trade| (t.id, t.time, t.price, t.quantity, t.side == cryptocache::Side::Sell);
    assert_eq!(
        got.iter().map(as_values).collect::<Vec<_>>(),
        want.iter().map(|t| (t.id, t.time, t.price, t.qty, t.buyer_maker)).collect::<Vec<_>>(),
        "the trades REST served when they were recent, ids included"
    );
    assert_eq!(okx_archive_requests(&w), (1, 1), "one index call, one file");
    assert_eq!(w.requests("/api/v5/market/history-trades"), 0);
    // The file's day is the UTC+8 day: 2024-01-01 16:00 to 2024-01-02 16:00 UTC, all final.
    let utc8_day = JAN_2024 + 16 * HOUR;
    let coverage = cache
        .coverage(&okx_trades_coverage(
            Market::Linear,
            "ETH-USDT-SWAP",
            utc8_day - HOUR,
            utc8_day + DAY + HOUR,
        ))
        .await
        .unwrap();
    let stored: Vec<i64> = coverage
        .segments
        .iter()
        .filter(|s| s.status == SegmentStatus::Cached && s.origin == Some(Origin::Archive))
        .map(|s| s.span.start)
        .collect();
    assert_eq!(stored, (0..24).map(|h| utc8_day + h * HOUR).collect::<Vec<_>>());
    // The hour before is not held, but the archive can serve it: not beyond reach.
    assert_eq!(coverage.segments[0].status, SegmentStatus::Missing);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okx_1m_candles_come_from_utc8_day_files_equal_to_rest() {
    let now = JUNE_2024_NOON;
    let w = World::at(now, SimConfig::default()).await;
    // 2024-01-02 03:00 to 2024-01-05 10:00 UTC: four UTC+8 days (Jan 2 to 5).
    let (start, end) = (JAN_2024 + DAY + 3 * HOUR, JAN_2024 + 4 * DAY + 10 * HOUR);
    let q = |interval: &str| KlineQuery {
        market: Some(Market::Linear),
        ..KlineQuery::new(Exchange::Okx, "ETH-USDT-SWAP", interval.parse().unwrap(), start, end)
    };
    let rest = w.builder().archives(ArchiveMode::Off).no_disk().build().await.unwrap();
    let want = rest.klines(&q("1m")).await.unwrap().to_columns();
    let rest_pages = w.requests("/api/v5/market/history-candles");
    assert!(rest_pages >= 45, "100 candles a page: {rest_pages}");
    w.sim.reset();

    let cache = w.builder().archives(ArchiveMode::Auto).build().await.unwrap();
    let got = cache.klines(&q("1m")).await.unwrap();
    assert_eq!(got.to_columns(), want, "the archive's candles are REST's, value for value");
    // The 1000-minute segments run from 2024-01-01 14:40 to 01-05 18:40 UTC: the UTC+8
    // days Jan 1 to Jan 6.
    assert_eq!(okx_archive_requests(&w), (1, 6), "one index call, one file a UTC+8 day");
    assert_eq!(w.requests("/api/v5/market/history-candles"), 0);
    let report = cache
        .coverage(&CoverageQuery {
            exchange: Exchange::Okx,
            market: Some(Market::Linear),
            ..coverage_of(&q("1m"))
        })
        .await
        .unwrap();
    assert!(report
        .segments
        .iter()
        .all(|s| s.status == SegmentStatus::Cached && s.origin == Some(Origin::Archive)));

    // Only 1m bars are published: other sizes are REST's in auto, NOT_ARCHIVED in only.
    let only = w.builder().archives(ArchiveMode::Only).no_disk().build().await.unwrap();
    match only.klines(&q("5m")).await {
        Err(Error::NotArchived { reason, .. }) => assert!(reason.contains("only 1m"), "{reason}"),
        other => panic!("expected NOT_ARCHIVED, got {other:?}"),
    }
    let five = cache.klines(&q("5m")).await.unwrap();
    assert_eq!(five.to_columns(), rest.klines(&q("5m")).await.unwrap().to_columns());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_okx_candle_file_repeating_a_row_gives_one_candle_a_minute() {
    use cryptocache_sim::quirks::OKX_CANDLE_ARCHIVE_REPEATED_ROW_MS;
    let now = JUNE_2024_NOON;
    let w = World::at(now, SimConfig::default()).await;
    let (start, end) = (OKX_CANDLE_ARCHIVE_REPEATED_ROW_MS - HOUR, OKX_CANDLE_ARCHIVE_REPEATED_ROW_MS + HOUR);
    let q = KlineQuery {
        market: Some(Market::Spot),
        ..KlineQuery::new(Exchange::Okx, "BTC-USDT", "1m".parse().unwrap(), start, end)
    };
    let only = w.builder().archives(ArchiveMode::Only).build().await.unwrap();
    let got = only.klines(&q).await.unwrap().to_columns();
    assert_eq!(w.sim.stats().total, okx_archive_requests(&w).0 + okx_archive_requests(&w).1, "no REST call");
    let rest = w.builder().archives(ArchiveMode::Off).no_disk().build().await.unwrap();
    assert_eq!(got, rest.klines(&q).await.unwrap().to_columns());
    assert_eq!(got.open_time.len(), 120);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okx_spot_files_of_the_older_layout_and_a_missing_day() {
    use cryptocache_sim::quirks::OKX_ARCHIVE_MISSING_DAY_MS;
    use cryptocache_sim::{venue_trades, Venue};
    let now = JUNE_2024_NOON;
    let w = World::at(now, SimConfig::default()).await;
    let cache = w.builder().archives(ArchiveMode::Only).build().await.unwrap();
    let (start, end) = (JAN_2024 + 20 * DAY + 10 * HOUR, JAN_2024 + 20 * DAY + 11 * HOUR);
    let q = cryptocache::RangeQuery::new(Exchange::Okx, "BTC-USDT", start, end).market(Market::Spot);
    let got: Vec<(i64, i64)> = trades_of(&cache, &q).await.iter().map(|t| (t.id, t.time)).collect();
    let want = venue_trades(Venue::OkxSpot, "BTC-USDT", start, end, now).unwrap();
    assert_eq!(got, want.iter().map(|t| (t.id, t.time)).collect::<Vec<_>>());
    assert_eq!(okx_archive_requests(&w), (1, 1));
    assert_eq!(w.sim.stats().total, 2, "only the index and the file: no REST call");

    let auto = w.builder().archives(ArchiveMode::Auto).no_disk().build().await.unwrap();
    let q = cryptocache::RangeQuery::new(
        Exchange::Okx,
        "BTC-USDT",
        OKX_ARCHIVE_MISSING_DAY_MS,
        OKX_ARCHIVE_MISSING_DAY_MS + HOUR,
    )
    .market(Market::Spot);
    match auto.trades(&q).await {
        Err(Error::NotArchived { reason, available_from: None, .. }) => {
            assert!(reason.contains("BTC-USDT-trades-2024-02-20.zip is missing"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okx_funding_past_rest_retention_comes_from_utc8_day_files_of_every_swap() {
    use cryptocache_sim::quirks::OKX_ARCHIVE_MISSING_DAY_MS;
    use cryptocache_sim::{venue_funding, Venue};
    let now = JUNE_2024_NOON;
    let w = World::at(now, SimConfig::default()).await;
    // 2024-01-03 .. 01-13: five months back (REST keeps three). ETH-USDT-SWAP funds every
    // 4 h from 2024-01-01, every 8 h before: its segment holds both.
    let (start, end) = (JAN_2024 + 2 * DAY, JAN_2024 + 12 * DAY);
    let q =
        |symbol: &str| cryptocache::RangeQuery::new(Exchange::Okx, symbol, start, end).market(Market::Linear);
    let off = w.builder().archives(ArchiveMode::Off).no_disk().build().await.unwrap();
    assert!(matches!(off.funding_rates(&q("ETH-USDT-SWAP")).await, Err(Error::OutOfRetention { .. })));

    let cache = w.builder().archives(ArchiveMode::Auto).build().await.unwrap();
    let settled = |symbol: &str| -> Vec<(i64, u64)> {
        let rows = venue_funding(Venue::OkxSwap, symbol, start, end, now).unwrap();
        rows.iter().map(|f| (f.time, f.realized_rate.unwrap().to_bits())).collect()
    };
    let as_bits = |rows: Vec<cryptocache::FundingRate>| -> Vec<(i64, u64)> {
        rows.iter().map(|f| (f.time, f.rate.to_bits())).collect()
    };
    let eth = as_bits(funding_of(&cache, &q("ETH-USDT-SWAP")).await);
    assert_eq!(eth.len(), 10 * 6, "every 4 hours");
    assert_eq!(eth, settled("ETH-USDT-SWAP"), "the settled rates (REST's realizedRate), bit for bit");
    assert_eq!(w.requests("/api/v5/public/funding-rate-history"), 0);
    let (_, files) = okx_archive_requests(&w);
    // The segment (1000 hours from 2023-12-17 08:00 UTC) touches 43 UTC+8 days
    // (2023-12-17 to 2024-01-28 on that clock).
    assert_eq!(files, 43);
    let funding_coverage = |symbol: &'static str| {
        let cache = &cache;
        async move {
            let query = CoverageQuery {
                kind: DataKind::Funding,
                interval: None,
                ..okx_trades_coverage(Market::Linear, symbol, start, end)
            };
            cache.coverage(&query).await.unwrap().segments
        }
    };
    // The files do not say the interval, and the cut from 8 h to 4 h looks like a 4 h
    // schedule missing events: served (REST has nothing older), but not final.
    let eth_segments = funding_coverage("ETH-USDT-SWAP").await;
    assert!(
        eth_segments.iter().all(|s| s.origin == Some(Origin::Archive) && s.expires_at.is_some()),
        "not provably whole, so not final: {eth_segments:?}"
    );

    // Every swap is in the same files: another swap costs index calls only. BTC-USDT-SWAP
    // funds every 8 h throughout: provably whole, so final.
    let btc = as_bits(funding_of(&cache, &q("BTC-USDT-SWAP")).await);
    assert_eq!(btc, settled("BTC-USDT-SWAP"));
    assert_eq!(btc.len(), 10 * 3, "every 8 hours");
    assert_eq!(okx_archive_requests(&w).1, files, "no file downloaded again");
    let btc_segments = funding_coverage("BTC-USDT-SWAP").await;
    assert!(
        btc_segments.iter().all(|s| s.origin == Some(Origin::Archive)
            && s.status == SegmentStatus::Cached
            && s.expires_at.is_none()),
        "whole, so final: {btc_segments:?}"
    );

    // Within REST's three months (April), REST decides and the files are checked against
    // it: the same events, not one disagreement (the files' meaning, from third parties,
    // is checked wherever REST can check it).
    let april = JAN_2024 + 91 * DAY;
    let recent = cryptocache::RangeQuery::new(Exchange::Okx, "ETH-USDT-SWAP", april, april + 10 * DAY)
        .market(Market::Linear);
    let files_before = okx_archive_requests(&w).1;
    let got = as_bits(funding_of(&cache, &recent).await);
    assert!(w.requests("/api/v5/public/funding-rate-history") > 0, "REST decided");
    assert!(okx_archive_requests(&w).1 > files_before, "the files were read to be checked");
    assert_eq!(as_bits(funding_of(&off, &recent).await), got, "REST's values, bit for bit");
    assert_eq!(got.len(), 10 * 6);
    assert_eq!(cache.stats().upstream.archive_disagreements, 0);

    // The UTC+8 day missing from the archive: a typed error naming the file, nothing cached.
    let missing = cryptocache::RangeQuery::new(
        Exchange::Okx,
        "ETH-USDT-SWAP",
        OKX_ARCHIVE_MISSING_DAY_MS,
        OKX_ARCHIVE_MISSING_DAY_MS + DAY,
    )
    .market(Market::Linear);
    match cache.funding_rates(&missing).await {
        Err(Error::NotArchived { reason, .. }) => {
            assert!(reason.contains("allswaprate-swaprate-2024-02-20.zip"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    // Spot has no funding at all, and dated futures no funding file.
    let futures =
        cryptocache::RangeQuery::new(Exchange::Okx, "BTC-USD-240628", start, end).market(Market::Inverse);
    assert!(cache.funding_rates(&futures).await.is_err());
}
