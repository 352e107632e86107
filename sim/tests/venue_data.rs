//! The Bybit, OKX and Deribit market model through the public oracle
//! functions: catalogs, interval codes, alignment, the open bar, expiry,
//! quiet windows and volume conventions.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::{DAY, HOUR, MIN, NOW};
use cryptocache_sim::{
    venue_instruments, venue_intervals, venue_klines, venue_quiet_windows, SimCandle, Venue,
};

fn k(venue: Venue, symbol: &str, interval: &str, start: i64, end: i64) -> Vec<SimCandle> {
    venue_klines(venue, symbol, interval, start, end, NOW).unwrap()
}

fn opens(rows: &[SimCandle]) -> Vec<i64> {
    rows.iter().map(|r| r.open_time).collect()
}

#[test]
fn catalogs_match_the_contract() {
    let names = |v: Venue| venue_instruments(v).into_iter().map(|i| i.symbol).collect::<Vec<_>>();
    assert_eq!(names(Venue::BybitSpot), ["BTCUSDT", "ETHUSDT"]);
    assert_eq!(names(Venue::BybitLinear), ["BTCUSDT", "ETHUSDT", "SOLUSDT"]);
    assert_eq!(names(Venue::BybitInverse), ["BTCUSD", "ETHUSD"]);
    assert_eq!(names(Venue::OkxSpot), ["BTC-USDT", "ETH-USDT"]);
    assert_eq!(names(Venue::OkxSwap), ["BTC-USDT-SWAP", "ETH-USDT-SWAP", "BTC-USD-SWAP", "SOL-USDT-SWAP"]);
    assert_eq!(names(Venue::OkxFutures), ["BTC-USDT-250926"]);
    assert_eq!(
        names(Venue::Deribit),
        [
            "BTC-PERPETUAL",
            "ETH-PERPETUAL",
            "BTC_USDT-PERPETUAL",
            "BTC-27JUN25",
            "BTC_USDT",
            "SOL_USDC-PERPETUAL",
            "XRP_USDC-PERPETUAL"
        ]
    );
    let linear = venue_instruments(Venue::BybitLinear);
    assert_eq!(linear[0].listed_ms, 1_585_526_400_000);
    let funding: Vec<Option<i64>> = Venue::ALL
        .iter()
        .flat_map(|v| venue_instruments(*v))
        .filter(|i| i.symbol.starts_with("ETH") || i.symbol.starts_with("BTCUSD"))
        .map(|i| i.funding_interval_ms)
        .collect();
    assert!(
        funding.contains(&Some(4 * HOUR))
            && funding.contains(&Some(HOUR))
            && funding.contains(&Some(8 * HOUR))
    );
    let fut = &venue_instruments(Venue::OkxFutures)[0];
    assert_eq!(
        (fut.listed_ms, fut.expiry_ms, fut.funding_interval_ms),
        (1_743_148_800_000, Some(1_758_873_600_000), None)
    );
    let inverse = &venue_instruments(Venue::BybitInverse)[0];
    assert_eq!((inverse.quote.as_str(), inverse.settle.as_str()), ("USD", "BTC"));
    assert_eq!(venue_intervals(Venue::BybitSpot).join(" "), "1 3 5 15 30 60 120 240 360 720 D W M");
    assert_eq!(
        venue_intervals(Venue::OkxSwap).join(" "),
        "1s 1m 3m 5m 15m 30m 1H 2H 4H 6H 12H 1D 2D 3D 1W 1M 3M 6Hutc 12Hutc 1Dutc 2Dutc 3Dutc 1Wutc 1Mutc 3Mutc"
    );
    assert_eq!(venue_intervals(Venue::Deribit).join(" "), "1 3 5 10 15 30 60 120 180 360 720 1D");
}

#[test]
fn every_code_of_every_venue_serves_bars() {
    for venue in Venue::ALL {
        let symbol = venue_instruments(venue)[0].symbol.clone();
        let now = if venue == Venue::OkxFutures { 1_750_000_000_000 } else { NOW };
        for code in venue_intervals(venue) {
            let mut rows = venue_klines(venue, &symbol, code, now - DAY, now + 1, now).unwrap();
            if rows.len() < 2 {
                rows = venue_klines(venue, &symbol, code, now - 400 * DAY, now + 1, now).unwrap();
            }
            assert!(!rows.is_empty(), "{venue:?} {code}");
            assert!(rows.windows(2).all(|w| w[0].open_time < w[1].open_time), "{venue:?} {code}");
            let open: Vec<&SimCandle> = rows.iter().filter(|c| !c.confirmed).collect();
            assert_eq!(open.len(), 1, "{venue:?} {code}: only the bar containing now is open");
            assert_eq!(open[0].open_time, rows[rows.len() - 1].open_time);
            for c in &rows {
                assert!(
                    c.low <= c.open.min(c.close) && c.high >= c.open.max(c.close),
                    "{venue:?} {code} {c:?}"
                );
                assert!(c.base_volume >= 0.0 && c.quote_volume >= 0.0);
            }
        }
    }
}

#[test]
fn unknown_symbols_and_intervals_use_the_venues_messages() {
    let err = |v: Venue, s: &str, i: &str| venue_klines(v, s, i, 0, 1, NOW).unwrap_err();
    assert_eq!(err(Venue::BybitLinear, "BTCUSD", "60"), "Not supported symbols");
    assert_eq!(err(Venue::BybitSpot, "BTCUSDT", "1h"), "params error: Invalid period");
    assert_eq!(err(Venue::OkxSpot, "BTC-USDT-SWAP", "1m"), "Instrument ID does not exist");
    assert_eq!(err(Venue::OkxSwap, "BTC-USDT-SWAP", "1h"), "Parameter bar error");
    assert_eq!(err(Venue::Deribit, "DOGE-PERPETUAL", "60"), "not_found");
    assert_eq!(err(Venue::Deribit, "btc-perpetual", "60"), "wrong format");
    assert_eq!(err(Venue::Deribit, "BTC-PERPETUAL", "1H"), "wrong format");
    assert_eq!(venue_klines(Venue::Deribit, "BTC-PERPETUAL", "60", NOW, NOW, NOW), Ok(vec![]));
}

#[test]
fn calendars_per_venue() {
    // Bybit W: Monday 00:00 UTC; M: the 1st.
    assert_eq!(
        opens(&k(Venue::BybitLinear, "BTCUSDT", "W", NOW - 9 * DAY, NOW + 1)),
        [1_706_486_400_000 - 7 * DAY, 1_706_486_400_000]
    );
    assert_eq!(
        opens(&k(Venue::BybitSpot, "ETHUSDT", "M", NOW - 61 * DAY, NOW + 1)),
        [1_701_388_800_000, 1_704_067_200_000]
    );
    // OKX 1D at UTC+8 vs 1Dutc.
    assert_eq!(opens(&k(Venue::OkxSpot, "BTC-USDT", "1D", NOW - DAY, NOW + 1)), [NOW - 3 * HOUR]);
    assert_eq!(opens(&k(Venue::OkxSpot, "BTC-USDT", "1Dutc", NOW - DAY, NOW + 1)), [NOW - 19 * HOUR]);
    assert_eq!(
        opens(&k(Venue::OkxSwap, "ETH-USDT-SWAP", "3M", 1_690_000_000_000, NOW + 1)),
        [1_696_089_600_000, 1_704_038_400_000]
    );
    // Deribit 1D at UTC.
    assert_eq!(opens(&k(Venue::Deribit, "BTC-PERPETUAL", "1D", NOW - DAY, NOW + 1)), [NOW - 19 * HOUR]);
    // OKX daily bars hold the same minutes as their 1m bars, shifted by 8 h.
    let day = k(Venue::OkxSpot, "ETH-USDT", "1D", NOW - 2 * DAY, NOW - DAY)[0].clone();
    let minutes = k(Venue::OkxSpot, "ETH-USDT", "1m", day.open_time, day.open_time + DAY);
    assert_eq!(minutes.len(), 1440);
    assert_eq!(day.open, minutes[0].open);
    assert_eq!(day.close, minutes[1439].close);
}

#[test]
fn closed_bars_are_final_and_the_open_one_grows() {
    let early =
        venue_klines(Venue::OkxSwap, "BTC-USD-SWAP", "1H", NOW - 2 * HOUR, NOW + 1, NOW + 10 * MIN).unwrap();
    let late =
        venue_klines(Venue::OkxSwap, "BTC-USD-SWAP", "1H", NOW - 2 * HOUR, NOW + 1, NOW + 50 * MIN).unwrap();
    assert_eq!(early[..2], late[..2]);
    assert!(!early[2].confirmed && !late[2].confirmed);
    assert!(late[2].contracts > early[2].contracts);
    let done = venue_klines(Venue::OkxSwap, "BTC-USD-SWAP", "1H", NOW, NOW + 1, NOW + HOUR).unwrap();
    assert!(done[0].confirmed);
    assert_eq!(
        k(Venue::BybitLinear, "BTCUSDT", "1", NOW - HOUR, NOW),
        k(Venue::BybitLinear, "BTCUSDT", "1", NOW - HOUR, NOW)
    );
}

#[test]
fn venues_share_the_base_coins_price_path() {
    let at = NOW - 5 * HOUR;
    let closes: Vec<f64> = [
        (Venue::BybitSpot, "BTCUSDT"),
        (Venue::BybitLinear, "BTCUSDT"),
        (Venue::BybitInverse, "BTCUSD"),
        (Venue::OkxSpot, "BTC-USDT"),
        (Venue::OkxSwap, "BTC-USD-SWAP"),
        (Venue::Deribit, "BTC-PERPETUAL"),
        (Venue::Deribit, "BTC_USDT"),
    ]
    .iter()
    .map(|(v, s)| {
        k(*v, s, if matches!(v, Venue::OkxSpot | Venue::OkxSwap) { "1H" } else { "60" }, at, at + 1)[0].close
    })
    .collect();
    let first = closes[0];
    assert!(closes.iter().all(|c| (c / first - 1.0).abs() < 0.01), "{closes:?}");
    assert_ne!(
        k(Venue::BybitSpot, "BTCUSDT", "60", at, at + 1),
        k(Venue::BybitLinear, "BTCUSDT", "60", at, at + 1)
    );
}

#[test]
fn volume_conventions() {
    let at = NOW - 10 * HOUR;
    for c in k(Venue::OkxSwap, "BTC-USDT-SWAP", "1H", at, NOW) {
        assert_eq!(c.base_volume, c.contracts.unwrap() / 100.0);
    }
    for c in k(Venue::OkxSwap, "BTC-USD-SWAP", "1H", at, NOW) {
        assert_eq!(c.quote_volume, c.contracts.unwrap() * 100.0);
    }
    for c in k(Venue::BybitInverse, "ETHUSD", "60", at, NOW) {
        assert_eq!(c.contracts, None);
        assert_eq!(c.quote_volume.fract(), 0.0, "whole USD");
        assert!((c.quote_volume / c.base_volume / c.close - 1.0).abs() < 0.05);
    }
    assert!(k(Venue::OkxSpot, "BTC-USDT", "1H", at, NOW).iter().all(|c| c.contracts.is_none()));
    assert!(k(Venue::Deribit, "BTC-PERPETUAL", "60", at, NOW).iter().all(|c| c.contracts.is_none()));
}

#[test]
fn listing_and_expiry_bound_the_series() {
    let far = 2_000_000_000_000;
    let fut = venue_klines(Venue::OkxFutures, "BTC-USDT-250926", "1Dutc", 0, far, far).unwrap();
    assert_eq!(fut[0].open_time, 1_743_120_000_000, "the UTC day containing listTime");
    assert_eq!(fut[fut.len() - 1].open_time, 1_758_844_800_000, "the UTC day containing expTime");
    assert!(fut.iter().all(|c| c.confirmed));
    let deribit = venue_klines(Venue::Deribit, "BTC-27JUN25", "60", 0, far, far).unwrap();
    assert_eq!(deribit[deribit.len() - 1].open_time, 1_751_011_200_000 - HOUR);
    let eth = k(Venue::BybitLinear, "ETHUSDT", "D", 0, NOW);
    assert_eq!(eth[0].open_time, 1_603_238_400_000);
}

#[test]
fn quiet_windows_are_rare_whole_hours_with_filler_bars() {
    for venue in [Venue::OkxSpot, Venue::OkxSwap, Venue::OkxFutures, Venue::Deribit] {
        for inst in venue_instruments(venue) {
            let windows = venue_quiet_windows(venue, &inst.symbol, NOW - 100 * DAY, NOW).unwrap();
            assert!((9..=11).contains(&windows.len()), "{venue:?} {}", inst.symbol);
            for (s, e) in &windows {
                assert_eq!((e - s, s % HOUR), (2 * HOUR, 0));
                assert_eq!(s.div_euclid(10 * DAY), (e - 1).div_euclid(10 * DAY), "inside one block");
            }
        }
    }
    for venue in [Venue::BybitSpot, Venue::BybitLinear, Venue::BybitInverse] {
        assert_eq!(venue_quiet_windows(venue, &venue_instruments(venue)[0].symbol, 0, NOW), Ok(vec![]));
    }
    let w = venue_quiet_windows(Venue::OkxSpot, "BTC-USDT", NOW - 11 * DAY, NOW - DAY).unwrap();
    let other = venue_quiet_windows(Venue::OkxSpot, "ETH-USDT", NOW - 11 * DAY, NOW - DAY).unwrap();
    assert_ne!(w, other, "each instrument has its own windows");
    let (qs, qe) = w[0];
    let bars = k(Venue::OkxSpot, "BTC-USDT", "5m", qs - 5 * MIN, qe + 5 * MIN);
    assert_eq!(bars.len(), 26);
    let prev = bars[0].close;
    for b in &bars[1..25] {
        assert_eq!(
            (b.open, b.high, b.low, b.close, b.base_volume, b.quote_volume),
            (prev, prev, prev, prev, 0.0, 0.0)
        );
    }
    assert!(bars[25].base_volume > 0.0);
    assert_eq!(venue_quiet_windows(Venue::Deribit, "NOPE-PERPETUAL", 0, NOW), Err("not_found".to_string()));
}
