//! Measurement: upstream requests for one year of 1m candles, cold, per exchange and
//! market, against the simulator; each equals the minimum computed from the page sizes
//! and the segment layout. Run with `--nocapture` to see the figures.

mod common;

use std::time::{Duration, Instant};

use common::*;
use cryptocache::exchange::binance::BinanceConfig;
use cryptocache::exchange::bybit::BybitConfig;
use cryptocache::exchange::deribit::DeribitConfig;
use cryptocache::exchange::okx::OkxConfig;
use cryptocache::{Exchange, Market};
use cryptocache_sim::{
    binance_klines, venue_klines, BinanceMarket, BybitLimits, DeribitLimits, OkxLimits, SimConfig, Venue,
};

const YEAR: i64 = 365 * DAY;

/// One market to measure.
struct Case {
    label: &'static str,
    exchange: Exchange,
    market: Market,
    symbol: &'static str,
    /// The simulator's venue (`None`: Binance).
    venue: Option<Venue>,
    now: i64,
}

/// Limits high enough on both sides that only request counts matter.
fn unthrottled() -> SimConfig {
    SimConfig {
        spot_weight_limit: 10_000_000,
        um_weight_limit: 10_000_000,
        bybit: BybitLimits { requests: 10_000_000, ..BybitLimits::default() },
        okx: OkxLimits {
            candles: 10_000_000,
            history_candles: 10_000_000,
            instruments: 10_000_000,
            ..OkxLimits::default()
        },
        deribit: DeribitLimits {
            pool: u32::MAX / 2,
            refill_per_sec: u32::MAX / 2,
            instruments_burst: 1000,
            ..DeribitLimits::default()
        },
        ..SimConfig::default()
    }
}

fn cache_builder(w: &World) -> cryptocache::CacheBuilder {
    let url = w.sim.url();
    let window = Duration::from_secs(1);
    w.exact_builder()
        .no_disk()
        .binance(BinanceConfig {
            spot_url: url.clone(),
            usdm_url: url.clone(),
            spot_weight_limit: 10_000_000,
            usdm_weight_limit: 10_000_000,
            weight_window: Duration::from_secs(60),
        })
        .bybit(BybitConfig { url: url.clone(), requests_per_window: 1_000_000, window })
        .okx(OkxConfig {
            url: url.clone(),
            candles_per_window: 1_000_000,
            history_per_window: 1_000_000,
            window,
        })
        .deribit(DeribitConfig { url, requests_per_window: 1_000_000, window })
}

/// The kline paths of a case.
fn paths(c: &Case) -> &'static [&'static str] {
    match (c.exchange, c.market) {
        (Exchange::Binance, Market::Spot) => &["/api/v3/klines"],
        (Exchange::Binance, _) => &["/fapi/v1/klines"],
        (Exchange::Bybit, _) => &[BYBIT_KLINE],
        (Exchange::Okx, _) => &[OKX_CANDLES, OKX_HISTORY],
        _ => &[DERIBIT_CHART],
    }
}

/// Open times of the candles the venue holds over `[start, end)` at `now`.
fn sim_open_times(c: &Case, start: i64, end: i64) -> Vec<i64> {
    match c.venue {
        None => {
            let market = if c.market == Market::Spot { BinanceMarket::Spot } else { BinanceMarket::UsdM };
            binance_klines(market, c.symbol, "1m", start, end, c.now)
                .unwrap()
                .iter()
                .map(|k| k.open_time)
                .collect()
        }
        Some(v) => {
            let code =
                if matches!(v, Venue::OkxSpot | Venue::OkxSwap | Venue::OkxFutures) { "1m" } else { "1" };
            venue_klines(v, c.symbol, code, start, end, c.now).unwrap().iter().map(|k| k.open_time).collect()
        }
    }
}

/// The minimal kline requests for the cold query: the engine's cost model
/// ([`kline_minimum`]) for Bybit, OKX and Deribit; Binance: its bars in pages of 1000, at
/// least one per segment (its listing is long before the year).
fn minimum(c: &Case, q: &cryptocache::KlineQuery) -> u64 {
    match c.venue {
        Some(venue) => {
            kline_minimum(Series { venue, market: c.market, symbol: c.symbol }, q, c.now).values().sum()
        }
        None => planned_segments(q, c.market, c.now)
            .iter()
            .map(|key| pages(sim_open_times(c, key.span().start, key.span().end).len(), 1000).max(1))
            .sum(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_for_one_year_of_1m_candles() {
    let cases = [
        Case {
            label: "binance spot BTCUSDT",
            exchange: Exchange::Binance,
            market: Market::Spot,
            symbol: "BTCUSDT",
            venue: None,
            now: NOW,
        },
        Case {
            label: "binance usd-m BTCUSDT",
            exchange: Exchange::Binance,
            market: Market::Linear,
            symbol: "BTCUSDT",
            venue: None,
            now: NOW,
        },
        Case {
            label: "bybit spot BTCUSDT",
            exchange: Exchange::Bybit,
            market: Market::Spot,
            symbol: "BTCUSDT",
            venue: Some(Venue::BybitSpot),
            now: NOW,
        },
        Case {
            label: "bybit linear BTCUSDT",
            exchange: Exchange::Bybit,
            market: Market::Linear,
            symbol: "BTCUSDT",
            venue: Some(Venue::BybitLinear),
            now: NOW,
        },
        Case {
            label: "bybit inverse BTCUSD",
            exchange: Exchange::Bybit,
            market: Market::Inverse,
            symbol: "BTCUSD",
            venue: Some(Venue::BybitInverse),
            now: NOW,
        },
        Case {
            label: "okx spot BTC-USDT",
            exchange: Exchange::Okx,
            market: Market::Spot,
            symbol: "BTC-USDT",
            venue: Some(Venue::OkxSpot),
            now: NOW,
        },
        Case {
            label: "okx swap BTC-USDT-SWAP",
            exchange: Exchange::Okx,
            market: Market::Linear,
            symbol: "BTC-USDT-SWAP",
            venue: Some(Venue::OkxSwap),
            now: NOW,
        },
        Case {
            label: "okx futures BTC-USDT-250926",
            exchange: Exchange::Okx,
            market: Market::Linear,
            symbol: "BTC-USDT-250926",
            venue: Some(Venue::OkxFutures),
            now: NOW_2025,
        },
        Case {
            label: "deribit perpetual BTC-PERPETUAL",
            exchange: Exchange::Deribit,
            market: Market::Inverse,
            symbol: "BTC-PERPETUAL",
            venue: Some(Venue::Deribit),
            now: NOW,
        },
        Case {
            label: "deribit future BTC-27JUN25",
            exchange: Exchange::Deribit,
            market: Market::Inverse,
            symbol: "BTC-27JUN25",
            venue: Some(Venue::Deribit),
            now: NOW_2025,
        },
    ];
    println!("\nupstream requests for one year of 1m candles, cold ([now - 365 d, now)):");
    println!(
        "{:<34} {:>9} {:>9} {:>8} {:>8} {:>9}",
        "exchange / market", "klines", "minimum", "other", "segments", "candles"
    );
    for c in &cases {
        let w = World::at(c.now, unthrottled()).await;
        let cache = cache_builder(&w).build().await.unwrap();
        let q = venue_query(c.exchange, c.symbol, "1m", c.now - YEAR, c.now).market(c.market);
        let t0 = Instant::now();
        let got = cache.klines(&q).await.unwrap_or_else(|e| panic!("{}: {e}", c.label));
        let elapsed = t0.elapsed();
        let stats = w.sim.stats();
        let klines: u64 = paths(c).iter().map(|p| stats.endpoints.get(*p).copied().unwrap_or(0)).sum();
        let other = stats.total - klines;
        let want = minimum(c, &q);
        let segments = planned_segments(&q, c.market, c.now).len();
        println!(
            "{:<34} {klines:>9} {want:>9} {other:>8} {segments:>8} {:>9}   ({:.1} s)",
            c.label,
            got.len(),
            elapsed.as_secs_f64()
        );
        if c.exchange == Exchange::Okx {
            let n = |p: &str| stats.endpoints.get(p).copied().unwrap_or(0);
            println!("{:<34} candles {}, history-candles {}", "", n(OKX_CANDLES), n(OKX_HISTORY));
        }
        assert_eq!(klines, want, "{}: kline requests", c.label);
        assert!(other <= 2, "{}: only the instruments check besides klines ({other})", c.label);
        // Every candle the venue holds in the year, once.
        assert_eq!(got.open_time(), sim_open_times(c, q.start, q.end).as_slice(), "{}", c.label);
    }
}
