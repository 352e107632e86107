//! `GET /api/v3/klines` and `/fapi/v1/klines` over real HTTP: bound cases,
//! limits, the open candle, listing, the gap, and equality with the
//! `binance_klines` oracle.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use cryptocache_sim::{binance_klines, BinanceMarket};

const SPOT: &str = "/api/v3/klines";
const UM: &str = "/fapi/v1/klines";

#[tokio::test]
async fn no_bounds_gives_the_newest_rows_ending_with_the_open_candle() {
    let now = NOW + 25 * MIN + 7_000;
    let sim = sim_at(now).await;
    let reply = get(&sim, &format!("{SPOT}?symbol=BTCUSDT&interval=1h&limit=5")).await;
    let opens = open_times(&reply);
    assert_eq!(opens, (0..5).map(|i| NOW - (4 - i) * HOUR).collect::<Vec<_>>());
    let last = parse_row(rows(&reply).last().unwrap());
    assert_eq!(last.close_time, NOW + HOUR - 1, "close time of the open candle is still open + interval - 1");
    assert!(last.close_time > now);
}

#[tokio::test]
async fn start_only_gives_the_oldest_rows_from_start() {
    let sim = sim_at(NOW).await;
    // The captured Binance request: 15:23:11Z, 1h, limit 3 begins at 16:00Z.
    let reply =
        get(&sim, &format!("{SPOT}?symbol=BTCUSDT&interval=1h&startTime=1706628191000&limit=3")).await;
    assert_eq!(open_times(&reply), vec![1_706_630_400_000, 1_706_634_000_000, 1_706_637_600_000]);
    // An aligned start is inclusive.
    let reply = get(&sim, &format!("{UM}?symbol=BTCUSDT&interval=1h&startTime=1706630400000&limit=2")).await;
    assert_eq!(open_times(&reply), vec![1_706_630_400_000, 1_706_634_000_000]);
}

#[tokio::test]
async fn end_only_gives_the_newest_rows_up_to_end() {
    let sim = sim_at(NOW).await;
    let t16 = 1_706_630_400_000;
    let reply = get(&sim, &format!("{SPOT}?symbol=ETHUSDT&interval=1h&endTime={t16}&limit=3")).await;
    assert_eq!(
        open_times(&reply),
        vec![t16 - 2 * HOUR, t16 - HOUR, t16],
        "endTime is inclusive on open time"
    );
    let reply = get(&sim, &format!("{UM}?symbol=ETHUSDT&interval=1h&endTime={}&limit=3", t16 - 1)).await;
    assert_eq!(open_times(&reply), vec![t16 - 3 * HOUR, t16 - 2 * HOUR, t16 - HOUR]);
}

#[tokio::test]
async fn both_bounds_start_from_start_and_never_pass_end() {
    let sim = sim_at(NOW).await;
    let t10 = NOW - 9 * HOUR;
    let t14 = NOW - 5 * HOUR;
    for path in [SPOT, UM] {
        let q = |limit: u32| {
            format!("{path}?symbol=BTCUSDT&interval=1h&startTime={t10}&endTime={t14}&limit={limit}")
        };
        assert_eq!(open_times(&get(&sim, &q(3)).await), vec![t10, t10 + HOUR, t10 + 2 * HOUR]);
        assert_eq!(open_times(&get(&sim, &q(100)).await), (0..5).map(|i| t10 + i * HOUR).collect::<Vec<_>>());
        let same =
            get(&sim, &format!("{path}?symbol=BTCUSDT&interval=1h&startTime={t10}&endTime={t10}")).await;
        assert_eq!(open_times(&same), vec![t10]);
    }
    // startTime > endTime: spot answers an empty array, UM -1023.
    let spot = get(&sim, &format!("{SPOT}?symbol=BTCUSDT&interval=1h&startTime={t14}&endTime={t10}")).await;
    assert!(rows(&spot).is_empty());
    let um = get(&sim, &format!("{UM}?symbol=BTCUSDT&interval=1h&startTime={t14}&endTime={t10}")).await;
    assert_eq!(um.status, 400);
    assert_eq!(um.error(), (-1023, "Start time is greater than end time.".to_string()));
}

#[tokio::test]
async fn default_limit_is_500_and_caps_are_1000_spot_1500_um() {
    let sim = sim_at(NOW).await;
    let base = "symbol=BTCUSDT&interval=1m";
    assert_eq!(rows(&get(&sim, &format!("{SPOT}?{base}")).await).len(), 500);
    assert_eq!(rows(&get(&sim, &format!("{UM}?{base}&startTime={}", NOW - 100 * DAY)).await).len(), 500);
    assert_eq!(rows(&get(&sim, &format!("{SPOT}?{base}&limit=1000")).await).len(), 1000);
    assert_eq!(rows(&get(&sim, &format!("{UM}?{base}&limit=1500")).await).len(), 1500);
    let invalid = (-1130, "Data sent for paramter 'limit' is not valid.".to_string());
    for target in [
        format!("{SPOT}?{base}&limit=1001"),
        format!("{UM}?{base}&limit=1501"),
        format!("{SPOT}?{base}&limit=0"),
        format!("{UM}?{base}&limit=0"),
    ] {
        let reply = get(&sim, &target).await;
        assert_eq!(reply.status, 400, "{target}");
        assert_eq!(reply.error(), invalid, "{target}");
    }
}

#[tokio::test]
async fn the_future_is_never_served() {
    let now = NOW + 90_000; // 19:01:30
    let sim = sim_at(now).await;
    let reply = get(&sim, &format!("{SPOT}?symbol=BTCUSDT&interval=1m&startTime={}", NOW + 2 * MIN)).await;
    assert!(rows(&reply).is_empty());
    let reply =
        get(&sim, &format!("{SPOT}?symbol=BTCUSDT&interval=1m&startTime={}&endTime={}", NOW, NOW + DAY))
            .await;
    assert_eq!(open_times(&reply), vec![NOW, NOW + MIN], "up to and including the open candle");
    let reply = get(&sim, &format!("{UM}?symbol=BTCUSDT&interval=1m&endTime={}&limit=2", NOW + DAY)).await;
    assert_eq!(open_times(&reply), vec![NOW, NOW + MIN]);
}

#[tokio::test]
async fn ui_klines_serves_the_same_rows() {
    let sim = sim_at(NOW).await;
    let q = "symbol=SOLUSDT&interval=15m&limit=20";
    let a = get(&sim, &format!("/api/v3/klines?{q}")).await;
    let b = get(&sim, &format!("/api/v3/uiKlines?{q}")).await;
    assert_eq!(a.body, b.body);
    let stats = sim.stats();
    assert_eq!(stats.endpoints.get("/api/v3/uiKlines"), Some(&1));
    assert_eq!(stats.endpoints.get("/api/v3/klines"), Some(&1));
}

#[tokio::test]
async fn the_open_candle_moves_with_the_clock_and_closed_ones_do_not() {
    let sim = sim_at(NOW + 10 * MIN).await;
    let target = format!("{SPOT}?symbol=BTCUSDT&interval=1h&limit=2");
    let early = rows(&get(&sim, &target).await);
    sim.set_now(Some(NOW + 40 * MIN));
    assert_eq!(sim.now_ms(), NOW + 40 * MIN);
    let later = rows(&get(&sim, &target).await);
    assert_eq!(early[0], later[0], "the closed candle is final");
    let (e, l) = (parse_row(&early[1]), parse_row(&later[1]));
    assert_eq!((e.open_time, e.open), (l.open_time, l.open));
    assert_ne!(e.close, l.close);
    assert!(l.volume > e.volume && l.trades >= e.trades);
    // The same candle once closed equals what the oracle holds for it.
    sim.set_now(Some(NOW + 2 * HOUR));
    let closed =
        rows(&get(&sim, &format!("{SPOT}?symbol=BTCUSDT&interval=1h&startTime={NOW}&limit=1")).await);
    let oracle = binance_klines(BinanceMarket::Spot, "BTCUSDT", "1h", NOW, NOW + 1, NOW + 2 * HOUR).unwrap();
    assert_eq!(parse_row(&closed[0]), oracle[0]);
    assert_ne!(parse_row(&closed[0]), l);
}

#[tokio::test]
async fn history_starts_at_listing() {
    let sim = sim_at(NOW).await;
    let first = |path: &'static str, symbol: &'static str, interval: &'static str| {
        let sim = &sim;
        async move {
            open_times(
                &get(sim, &format!("{path}?symbol={symbol}&interval={interval}&startTime=0&limit=1")).await,
            )
        }
    };
    assert_eq!(first(SPOT, "BTCUSDT", "1m").await, vec![1_502_942_400_000]);
    assert_eq!(first(SPOT, "BNBUSDT", "1h").await, vec![1_509_940_800_000]);
    assert_eq!(first(SPOT, "SOLUSDT", "1m").await, vec![1_597_125_600_000]);
    assert_eq!(first(UM, "BTCUSDT", "1m").await, vec![1_568_102_400_000]);
    assert_eq!(first(UM, "ETHUSDT", "1m").await, vec![1_569_398_400_000]);
    assert_eq!(first(UM, "SOLUSDT", "1m").await, vec![1_600_041_600_000]);
    // Daily and longer candles open on their grid, before the listing instant (04:00 UTC).
    assert_eq!(first(SPOT, "BTCUSDT", "1d").await, vec![1_502_928_000_000]);
    assert_eq!(first(SPOT, "BTCUSDT", "1w").await, vec![1_502_668_800_000]);
    assert_eq!(first(SPOT, "BTCUSDT", "1M").await, vec![1_501_545_600_000]);
    let before =
        get(&sim, &format!("{SPOT}?symbol=BTCUSDT&interval=1m&endTime={}", 1_502_942_400_000i64 - 1)).await;
    assert!(rows(&before).is_empty());
}

#[tokio::test]
async fn the_maintenance_gap_is_skipped_both_ways() {
    let sim = sim_at(NOW).await;
    let t1130 = 1_582_111_800_000;
    let t1730 = 1_582_133_400_000;
    for path in [SPOT, UM] {
        let fwd = get(&sim, &format!("{path}?symbol=ETHUSDT&interval=1m&startTime={t1130}&limit=7")).await;
        let mut expected: Vec<i64> = (0..5).map(|i| t1130 + i * MIN).collect();
        expected.extend([t1730, t1730 + MIN]);
        assert_eq!(open_times(&fwd), expected, "{path}");
        let back =
            get(&sim, &format!("{path}?symbol=ETHUSDT&interval=1m&endTime={}&limit=3", t1730 + MIN)).await;
        assert_eq!(open_times(&back), vec![t1730 - 356 * MIN, t1730, t1730 + MIN], "{path}");
    }
}

#[tokio::test]
async fn off_grid_opens_in_february_2018_spot() {
    let sim = sim_at(NOW).await;
    let day = 1_518_134_400_000;
    let reply =
        get(&sim, &format!("{SPOT}?symbol=BTCUSDT&interval=1h&startTime={}&limit=3", day - HOUR)).await;
    let rows = rows(&reply);
    let opens: Vec<i64> = rows.iter().map(|r| r[0].as_i64().unwrap()).collect();
    assert_eq!(opens, vec![day - HOUR, day + 15_000, day + HOUR + 15_000]);
    assert_eq!(rows[1][6].as_i64(), Some(day + 15_000 + HOUR - 1));
}

/// Every (market, symbol, interval, query) here must give exactly the
/// oracle's candles, f64 for f64.
#[tokio::test]
async fn http_rows_equal_the_oracle_bit_for_bit() {
    let now = NOW + 17 * MIN + 3_456;
    let sim = sim_at(now).await;
    let cases: [(BinanceMarket, &str, &str, &str); 14] = [
        (BinanceMarket::Spot, "BTCUSDT", "1h", "limit=50"),
        (BinanceMarket::Spot, "ETHUSDT", "1m", "limit=1000"),
        (BinanceMarket::Spot, "BNBUSDT", "1s", "limit=300"),
        (BinanceMarket::Spot, "SOLUSDT", "1d", "startTime=0&limit=1000"),
        (BinanceMarket::Spot, "BTCUSDT", "1M", "startTime=0&limit=1000"),
        (BinanceMarket::Spot, "ETHUSDT", "1w", "endTime=1600000000000&limit=200"),
        (BinanceMarket::Spot, "BTCUSDT", "3d", "limit=77"),
        (BinanceMarket::Spot, "BTCUSDT", "5m", "startTime=1518130000000&limit=1000"),
        (BinanceMarket::Spot, "BTCUSDT", "15m", "startTime=1582100000000&endTime=1582200000000"),
        (BinanceMarket::UsdM, "BTCUSDT", "1m", "limit=1500"),
        (BinanceMarket::UsdM, "ETHUSDT", "4h", "startTime=1569000000000&limit=1000"),
        (BinanceMarket::UsdM, "SOLUSDT", "1h", "limit=999"),
        (BinanceMarket::UsdM, "BTCUSDT", "30m", "startTime=1582100000000&endTime=1582200000000"),
        (BinanceMarket::UsdM, "SOLUSDT", "1M", "limit=100"),
    ];
    for (market, symbol, interval, query) in cases {
        let path = if market == BinanceMarket::Spot { SPOT } else { UM };
        let reply = get(&sim, &format!("{path}?symbol={symbol}&interval={interval}&{query}")).await;
        let served: Vec<_> = rows(&reply).iter().map(|r| parse_row(r)).collect();
        assert!(!served.is_empty(), "{symbol} {interval} {query}");
        let (first, last) = (served[0].open_time, served[served.len() - 1].open_time);
        let oracle = binance_klines(market, symbol, interval, first, last + 1, now).unwrap();
        assert_eq!(served.len(), oracle.len(), "{market:?} {symbol} {interval} {query}");
        for (s, o) in served.iter().zip(&oracle) {
            assert_eq!(s, o, "{market:?} {symbol} {interval} {query}");
            for (a, b) in [(s.open, o.open), (s.high, o.high), (s.quote_volume, o.quote_volume)] {
                assert_eq!(a.to_bits(), b.to_bits());
            }
        }
    }
}
