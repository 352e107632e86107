//! The deterministic market model through the public oracle functions:
//! calendar alignment, gap, off-grid window, listing, open candle, catalogs.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::{DAY, HOUR, MIN, NOW};
use cryptocache_sim::{binance_intervals, binance_klines, binance_symbols, BinanceMarket, SimKline};

const SPOT: BinanceMarket = BinanceMarket::Spot;
const UM: BinanceMarket = BinanceMarket::UsdM;
const FAR: i64 = 4_000_000_000_000;

fn k(market: BinanceMarket, symbol: &str, interval: &str, start: i64, end: i64) -> Vec<SimKline> {
    binance_klines(market, symbol, interval, start, end, NOW).unwrap()
}

/// As [`k`], at a "now" after every listing.
fn k_late(market: BinanceMarket, symbol: &str, interval: &str, start: i64, end: i64) -> Vec<SimKline> {
    binance_klines(market, symbol, interval, start, end, FAR).unwrap()
}

fn opens(rows: &[SimKline]) -> Vec<i64> {
    rows.iter().map(|r| r.open_time).collect()
}

#[test]
fn catalogs_match_the_contract() {
    let spot: Vec<(String, i64)> =
        binance_symbols(SPOT).into_iter().map(|s| (s.symbol, s.listed_ms)).collect();
    assert_eq!(
        spot,
        vec![
            ("BTCUSDT".to_string(), 1_502_942_400_000),
            ("ETHUSDT".to_string(), 1_502_942_400_000),
            ("BNBUSDT".to_string(), 1_509_940_800_000),
            ("SOLUSDT".to_string(), 1_597_125_600_000),
        ]
    );
    let um: Vec<(String, i64)> = binance_symbols(UM).into_iter().map(|s| (s.symbol, s.listed_ms)).collect();
    assert_eq!(
        um,
        vec![
            ("BTCUSDT".to_string(), 1_568_102_400_000),
            ("ETHUSDT".to_string(), 1_569_398_400_000),
            ("SOLUSDT".to_string(), 1_600_041_600_000),
            ("DOGEUSDT".to_string(), 1_710_460_800_000),
            ("FTTUSDT".to_string(), 1_685_577_600_000),
        ]
    );
    assert!(binance_symbols(SPOT).iter().all(|s| s.published_listed_ms.is_none() && s.delisted.is_none()));
    let published: Vec<Option<i64>> = binance_symbols(UM).iter().map(|s| s.published_listed_ms).collect();
    assert_eq!(
        published,
        [
            Some(1_568_102_400_000),
            Some(1_569_398_400_000),
            Some(1_600_041_600_000),
            Some(1_713_052_800_000),
            Some(1_703_980_800_000)
        ]
    );
    assert!(binance_symbols(SPOT).iter().all(|s| s.quote == "USDT" && s.symbol == format!("{}USDT", s.base)));
    let all = "1s 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M";
    assert_eq!(binance_intervals(SPOT).join(" "), all);
    assert_eq!(binance_intervals(UM).join(" "), &all[3..]);
}

#[test]
fn unknown_symbol_or_interval_is_an_error() {
    assert_eq!(binance_klines(SPOT, "DOGEUSDT", "1h", 0, 1, NOW), Err("Invalid symbol.".to_string()));
    assert_eq!(binance_klines(UM, "BNBUSDT", "1h", 0, 1, NOW), Err("Invalid symbol.".to_string()));
    assert_eq!(binance_klines(SPOT, "BTCUSDT", "1H", 0, 1, NOW), Err("Invalid interval.".to_string()));
    assert_eq!(binance_klines(UM, "BTCUSDT", "1s", 0, 1, NOW), Err("Invalid interval.".to_string()));
    assert_eq!(binance_klines(SPOT, "BTCUSDT", "1s", NOW - 5_000, NOW - 2_000, NOW).map(|v| v.len()), Ok(3));
}

#[test]
fn every_interval_is_contiguous_aligned_and_well_formed() {
    for market in [SPOT, UM] {
        for &interval in binance_intervals(market) {
            let rough_len = match interval.split_at(interval.len() - 1) {
                (n, "s") => n.parse::<i64>().unwrap() * 1000,
                (n, "m") => n.parse::<i64>().unwrap() * MIN,
                (n, "h") => n.parse::<i64>().unwrap() * HOUR,
                (n, "d") => n.parse::<i64>().unwrap() * DAY,
                (_, "w") => 7 * DAY,
                _ => 31 * DAY,
            };
            let rows =
                binance_klines(market, "BTCUSDT", interval, NOW - 1500 * rough_len, NOW + 1, NOW).unwrap();
            assert!(!rows.is_empty(), "{interval}");
            for w in rows.windows(2) {
                assert_eq!(w[0].close_time + 1, w[1].open_time, "{market:?} {interval}: contiguous");
                assert_eq!(w[0].close, w[1].open, "{market:?} {interval}: open = previous close");
            }
            for r in &rows {
                assert!(r.low <= r.open.min(r.close) && r.high >= r.open.max(r.close), "{interval} {r:?}");
                assert!(r.low > 0.0 && r.taker_buy_base <= r.volume && r.taker_buy_quote <= r.quote_volume);
                if r.close_time < NOW {
                    assert!(r.volume > 0.0 && r.trades > 0, "{interval} {r:?}");
                }
                let len = r.close_time + 1 - r.open_time;
                match interval {
                    "1w" => {
                        assert_eq!(len, 7 * DAY);
                        assert_eq!((r.open_time - 4 * DAY).rem_euclid(7 * DAY), 0, "weeks open on Monday");
                    }
                    "1M" => assert!((28 * DAY..=31 * DAY).contains(&len)),
                    _ => assert_eq!(r.open_time % len, 0, "{interval} aligned to its length"),
                }
            }
            let last = rows.last().unwrap();
            assert!(
                last.open_time <= NOW && last.close_time >= NOW,
                "{interval}: the open candle is included"
            );
        }
    }
}

#[test]
fn months_follow_the_calendar() {
    let rows = k(SPOT, "ETHUSDT", "1M", 1_700_000_000_000, NOW);
    let expected = [
        (1_698_796_800_000, 1_701_388_799_999), // 2023-11
        (1_701_388_800_000, 1_704_067_199_999), // 2023-12
        (1_704_067_200_000, 1_706_745_599_999), // 2024-01 (open at NOW)
    ];
    let got: Vec<(i64, i64)> = rows.iter().map(|r| (r.open_time, r.close_time)).collect();
    assert_eq!(got, expected[1..].to_vec(), "start is inclusive on open time: November opened before it");
    let feb = k(SPOT, "ETHUSDT", "1M", 1_706_745_600_000, 1_706_745_600_001);
    assert!(feb.is_empty(), "February 2024 has not opened at NOW");
    let leap = binance_klines(SPOT, "ETHUSDT", "1M", 1_706_745_600_000, 1_706_745_600_001, FAR).unwrap();
    assert_eq!(leap[0].close_time, 1_709_251_199_999, "February 2024 has 29 days");
}

#[test]
fn the_gap_removes_only_candles_wholly_inside_it() {
    let (gap_start, gap_end) = (1_582_112_100_000, 1_582_133_400_000);
    for market in [SPOT, UM] {
        for (interval, len) in
            [("1m", MIN), ("5m", 5 * MIN), ("15m", 15 * MIN), ("30m", 30 * MIN), ("1h", HOUR)]
        {
            let rows = k(market, "BTCUSDT", interval, gap_start - DAY, gap_end + DAY);
            let inside = |t: i64| t >= gap_start && t + len <= gap_end;
            assert!(rows.iter().all(|r| !inside(r.open_time)), "{interval}");
            let first = (gap_start - DAY + len - 1) / len * len;
            let expected: Vec<i64> =
                (first..gap_end + DAY).step_by(len as usize).filter(|&t| !inside(t)).collect();
            assert_eq!(opens(&rows), expected, "{market:?} {interval}");
        }
        let hours = opens(&k(market, "BTCUSDT", "1h", gap_start - HOUR, gap_end + HOUR));
        // 11:00 and 17:00 overlap the gap's edges and stay; 12:00-16:00 vanish.
        assert_eq!(hours, vec![1_582_110_000_000, 1_582_131_600_000, 1_582_135_200_000]);
        let days = opens(&k(market, "BTCUSDT", "1d", gap_start - DAY, gap_end));
        assert_eq!(days, vec![1_582_070_400_000], "the daily candle survives");
    }
}

#[test]
fn february_2018_opens_are_15_seconds_late_on_spot_intraday() {
    let (day, next_day) = (1_518_134_400_000, 1_518_220_800_000);
    let m = k(SPOT, "ETHUSDT", "1m", day - 2 * MIN, next_day + 2 * MIN);
    let expected: Vec<i64> = (day - 2 * MIN..next_day + 2 * MIN)
        .step_by(MIN as usize)
        .map(|t| if (day..next_day).contains(&t) { t + 15_000 } else { t })
        .collect();
    assert_eq!(opens(&m), expected);
    assert!(m.iter().all(|r| r.close_time == r.open_time + MIN - 1));
    for interval in ["3m", "1h", "12h"] {
        let rows = k(SPOT, "BTCUSDT", interval, day, next_day);
        assert!(!rows.is_empty() && rows.iter().all(|r| r.open_time % 60_000 == 15_000), "{interval}");
    }
    let daily = k(SPOT, "BTCUSDT", "1d", day, next_day);
    assert_eq!(opens(&daily), vec![day], "1d stays on the grid");
    let secs = k(SPOT, "BTCUSDT", "1s", day, day + 3_000);
    assert_eq!(opens(&secs), vec![day, day + 1_000, day + 2_000], "1s stays on the grid (see crate docs)");
}

#[test]
fn listing_bounds_history() {
    for market in [SPOT, UM] {
        for sym in binance_symbols(market) {
            let minutes = k_late(market, &sym.symbol, "1m", 0, sym.listed_ms + 3 * MIN);
            assert_eq!(opens(&minutes), vec![sym.listed_ms, sym.listed_ms + MIN, sym.listed_ms + 2 * MIN]);
            let days = k_late(market, &sym.symbol, "1d", 0, sym.listed_ms + 1);
            assert_eq!(opens(&days), vec![sym.listed_ms - sym.listed_ms % DAY], "{}", sym.symbol);
            // The listing-day candle opens at the listing price.
            assert_eq!(days[0].open, minutes[0].open);
        }
    }
    // Nothing at all before the listing instant's slot, nor with "now" before listing.
    assert!(binance_klines(SPOT, "SOLUSDT", "1h", 0, FAR, 1_597_125_599_999).unwrap().is_empty());
}

#[test]
fn the_open_candle_grows_with_now() {
    let open = NOW - NOW % DAY;
    let at = |now: i64| binance_klines(UM, "ETHUSDT", "1d", open, open + 1, now).unwrap().pop().unwrap();
    let fresh = at(open);
    assert_eq!((fresh.volume, fresh.trades), (0.0, 0), "nothing traded at the first millisecond");
    assert_eq!(fresh.open, fresh.close);
    let (a, b, done) = (at(open + 3 * HOUR), at(open + 20 * HOUR), at(open + 2 * DAY));
    assert!(a.volume < b.volume && b.volume < done.volume);
    assert!(a.quote_volume < b.quote_volume && a.trades <= b.trades);
    assert_ne!(a.close, b.close);
    assert_eq!(done, at(open + 400 * DAY), "a closed candle never changes");
    assert_eq!(a, at(open + 3 * HOUR), "deterministic");
}

#[test]
fn symbols_and_markets_differ() {
    let range = (NOW - DAY, NOW);
    let spot_btc = k(SPOT, "BTCUSDT", "1h", range.0, range.1);
    let um_btc = k(UM, "BTCUSDT", "1h", range.0, range.1);
    let spot_eth = k(SPOT, "ETHUSDT", "1h", range.0, range.1);
    assert_eq!(opens(&spot_btc), opens(&um_btc));
    assert!(spot_btc.iter().zip(&um_btc).all(|(a, b)| a.volume != b.volume));
    assert!(spot_btc.iter().zip(&um_btc).any(|(a, b)| a.close != b.close));
    assert!(spot_btc.iter().zip(&spot_eth).all(|(a, b)| a.close != b.close && a.volume != b.volume));
    // Spot and futures track the same asset, so prices stay close.
    for (a, b) in spot_btc.iter().zip(&um_btc) {
        assert!((a.close / b.close - 1.0).abs() < 0.01, "{} vs {}", a.close, b.close);
    }
}

#[test]
fn values_sit_on_their_decimal_grids() {
    let on_grid = |v: f64, decimals: i32| {
        let scaled = v * 10f64.powi(decimals);
        (scaled - scaled.round()).abs() < 1e-6 * scaled.abs().max(1.0)
    };
    for r in k(SPOT, "BTCUSDT", "1m", NOW - HOUR, NOW) {
        assert!([r.open, r.high, r.low, r.close].iter().all(|&p| on_grid(p, 2)));
        assert!(on_grid(r.volume, 5) && on_grid(r.quote_volume, 8));
    }
    for r in k(UM, "BTCUSDT", "1m", NOW - HOUR, NOW) {
        assert!([r.open, r.high, r.low, r.close].iter().all(|&p| on_grid(p, 1)), "UM BTC tick 0.1");
        assert!(on_grid(r.volume, 3) && on_grid(r.quote_volume, 5));
    }
}
