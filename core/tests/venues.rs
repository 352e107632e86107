//! Bybit, OKX and Deribit (and Binance trades, funding and books) end to end against
//! the simulator over real HTTP: klines with the minimal number of requests, trades,
//! funding history, order books and each venue's error shapes.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use cryptocache::exchange::bybit::BybitConfig;
use cryptocache::exchange::deribit::DeribitConfig;
use cryptocache::exchange::okx::OkxConfig;
use cryptocache::exchange::RetryPolicy;
use cryptocache::{
    Candles, Error, Exchange, FundingRates, KlineQuery, Market, OrderBook, OrderBookQuery, Policy,
    RangeQuery, Side, Trades,
};
use cryptocache_sim::{
    binance_agg_trades, binance_book, binance_funding, venue_book, venue_funding, venue_klines,
    venue_quiet_windows, venue_trades, BinanceMarket, DeribitLimits, Fault, OkxLimits, SimBook, SimConfig,
    Venue,
};

const JAN1: i64 = 1_704_067_200_000; // 2024-01-01
const MAR1: i64 = 1_709_251_200_000; // 2024-03-01

// ---------------------------------------------------------------------------
// Helpers

const BYBIT_SPOT: Series = Series { venue: Venue::BybitSpot, market: Market::Spot, symbol: "BTCUSDT" };
const BYBIT_LINEAR: Series = Series { venue: Venue::BybitLinear, market: Market::Linear, symbol: "BTCUSDT" };
const BYBIT_INVERSE: Series =
    Series { venue: Venue::BybitInverse, market: Market::Inverse, symbol: "BTCUSD" };
const OKX_SPOT: Series = Series { venue: Venue::OkxSpot, market: Market::Spot, symbol: "BTC-USDT" };
const OKX_SWAP: Series = Series { venue: Venue::OkxSwap, market: Market::Linear, symbol: "BTC-USDT-SWAP" };
const OKX_INVERSE_SWAP: Series =
    Series { venue: Venue::OkxSwap, market: Market::Inverse, symbol: "BTC-USD-SWAP" };
const OKX_FUTURES: Series =
    Series { venue: Venue::OkxFutures, market: Market::Linear, symbol: "BTC-USDT-250926" };
const DERIBIT_PERP: Series =
    Series { venue: Venue::Deribit, market: Market::Inverse, symbol: "BTC-PERPETUAL" };
const DERIBIT_LINEAR_PERP: Series =
    Series { venue: Venue::Deribit, market: Market::Linear, symbol: "BTC_USDT-PERPETUAL" };
const DERIBIT_FUTURE: Series =
    Series { venue: Venue::Deribit, market: Market::Inverse, symbol: "BTC-27JUN25" };

/// What the simulator served, per kline path of the series' venue.
fn served(w: &World, s: Series) -> BTreeMap<&'static str, u64> {
    s.kline_paths().iter().map(|p| (*p, w.requests(p))).collect()
}

/// The difference of two per-path counts.
fn delta(
    after: &BTreeMap<&'static str, u64>,
    before: &BTreeMap<&'static str, u64>,
) -> BTreeMap<&'static str, u64> {
    after.iter().map(|(p, n)| (*p, n - before.get(p).copied().unwrap_or(0))).collect()
}

/// Runs `q` cold on `cache`: asserts the minimal request count per path, equality with
/// the simulator, and that a repeat costs nothing. Returns the candles.
async fn cold_exact(w: &World, cache: &cryptocache::Cache, s: Series, q: &KlineQuery, now: i64) -> Candles {
    let code = s.code(&q.interval.to_string());
    let before = served(w, s);
    let got = cache.klines(q).await.unwrap_or_else(|e| panic!("{s:?} {q:?}: {e}"));
    let spent = delta(&served(w, s), &before);
    assert_eq!(
        spent,
        kline_minimum(s, q, now),
        "kline requests of {s:?} {} [{}, {})",
        q.interval,
        q.start,
        q.end
    );
    assert_matches_venue(&got, s.venue, s.symbol, code, q.start, q.end, now);
    let warm = served(w, s);
    let again = cache.klines(q).await.unwrap();
    assert_eq!(served(w, s), warm, "a repeat of {s:?} must not go upstream");
    assert_eq!(again.to_columns(), got.to_columns());
    got
}

/// Sub-ranges around `edge` (a segment or page boundary) of a warm series, each equal to
/// the simulator's, with no request.
async fn edges_exact(w: &World, cache: &cryptocache::Cache, s: Series, interval: &str, edge: i64, now: i64) {
    let iv: cryptocache::Interval = interval.parse().unwrap();
    let slot = iv.fixed_ms().expect("fixed interval");
    let code = s.code(interval);
    let warm = served(w, s);
    for (start, end) in [
        (edge - slot, edge + slot),
        (edge, edge + slot),
        (edge - slot, edge),
        (edge - 1, edge + 1),
        (edge + 1, edge + 2 * slot),
        (edge - 3 * slot + slot / 2, edge + 2 * slot - 1),
    ] {
        let q = s.query(interval, start, end);
        let got = cache.klines(&q).await.unwrap();
        assert_matches_venue(&got, s.venue, s.symbol, code, start, end, now);
    }
    assert_eq!(served(w, s), warm, "slicing a warm series must not go upstream");
    // The same edges cold: each query fetches exactly its segments, in the fewest pages.
    for (start, end) in [(edge, edge + slot), (edge - slot, edge), (edge - 1, edge + 1)] {
        let cold = fast(w).no_disk().build().await.unwrap();
        cold_exact(w, &cold, s, &s.query(interval, start, end), now).await;
    }
}

/// The start of the grid slot `n` slots after the one containing `t`.
fn slot_after(interval: &str, t: i64, n: i64) -> i64 {
    let iv: cryptocache::Interval = interval.parse().unwrap();
    iv.slot_start(iv.slot_of(t) + n)
}

/// The start of the kline segment containing `t` (1000 slots of `interval`).
fn segment_start(interval: &str, t: i64) -> i64 {
    let iv: cryptocache::Interval = interval.parse().unwrap();
    iv.slot_start(iv.slot_of(t).div_euclid(1000) * 1000)
}

/// A cache with generous OKX and Deribit budgets (for the simulator's raised limits).
fn fast(w: &World) -> cryptocache::CacheBuilder {
    w.exact_builder()
        .okx(OkxConfig {
            url: w.sim.url(),
            candles_per_window: 1000,
            history_per_window: 1000,
            window: Duration::from_millis(200),
        })
        .deribit(DeribitConfig {
            url: w.sim.url(),
            requests_per_window: 1000,
            window: Duration::from_secs(1),
        })
}

/// Simulator limits that never throttle the tests that are not about throttling.
fn roomy() -> SimConfig {
    SimConfig {
        okx: OkxLimits {
            candles: 100_000,
            history_candles: 100_000,
            history_trades: 100_000,
            funding_history: 100_000,
            books: 100_000,
            instruments: 100_000,
            ..OkxLimits::default()
        },
        deribit: DeribitLimits {
            pool: 100_000_000,
            refill_per_sec: 100_000_000,
            instruments_burst: 1000,
            ..DeribitLimits::default()
        },
        ..SimConfig::default()
    }
}

// ---------------------------------------------------------------------------
// Klines: Bybit

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bybit_klines_cost_one_request_per_segment_and_equal_the_exchange() {
    let w = World::new().await;
    let cache = w.exact_builder().build().await.unwrap();
    for (s, interval) in [(BYBIT_SPOT, "1h"), (BYBIT_LINEAR, "15m"), (BYBIT_INVERSE, "1h")] {
        let q = s.query(interval, JAN1, MAR1);
        let got = cold_exact(&w, &cache, s, &q, NOW).await;
        assert!(got.gaps().is_empty(), "{s:?}");
        assert!(kline_minimum(s, &q, NOW)[BYBIT_KLINE] >= 2, "{s:?}: the range spans segments");
        // Segment (= page) edges inside the range.
        let edge = segment_start(interval, MAR1 - 1);
        assert!(edge > JAN1);
        edges_exact(&w, &cache, s, interval, edge, NOW).await;
    }
    // Inverse: `volume` is USD (quote) on the wire, `turnover` BTC (base): swapped.
    let q = BYBIT_INVERSE.query("1h", JAN1, JAN1 + DAY);
    let got = cache.klines(&q).await.unwrap();
    assert!(got.iter().all(|c| c.quote_volume >= c.volume * 1000.0 && c.volume > 0.0), "BTC base, USD quote");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bybit_recent_range_holds_the_open_candle() {
    let w = World::new().await;
    let cache = w.exact_builder().build().await.unwrap();
    let q = BYBIT_LINEAR.query("1m", NOW - 2000 * MINUTE, NOW + HOUR);
    let got = cold_exact(&w, &cache, BYBIT_LINEAR, &q, NOW).await;
    assert!(got.last_is_open());
    assert_eq!(*got.open_time().last().unwrap(), NOW);
    assert_eq!(w.requests(BYBIT_KLINE), 3, "three 1m segments: one page each");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bybit_mid_range_listing_makes_earlier_segments_free() {
    let w = World::new().await;
    let cache = w.exact_builder().build().await.unwrap();
    let s = Series { venue: Venue::BybitLinear, market: Market::Linear, symbol: "ETHUSDT" };
    let listed = s.listing().1.unwrap(); // 2020-10-21, launchTime
    let q = s.query("1h", listed - 200 * DAY, listed + 60 * DAY);
    let planned = planned_segments(&q, s.market, NOW).len();
    let got = cold_exact(&w, &cache, s, &q, NOW).await;
    // The published launchTime only says where to ask: one probe (the exchange's first
    // bar), then the listing segment and the one after it.
    assert_eq!(w.requests(BYBIT_KLINE), 3, "a probe, the listing segment and the one after it");
    assert!(planned >= 7, "{planned} segments planned");
    assert_eq!(got.open_time()[0], listed);
    assert_eq!(got.gaps(), vec![cryptocache::TimeRange::new(q.start, listed)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bybit_spot_listing_is_probed_once_for_long_ranges() {
    // Bybit spot publishes no launch time: a long cold range whose first segment comes
    // back empty asks for the first candle (`start=0&limit=1`) once; the segments
    // between are then known-empty without a request.
    let w = World::new().await;
    let cache = w.exact_builder().build().await.unwrap();
    let listed = 1_625_443_200_000; // 2021-07-05, Bybit spot's first candle
    let q = BYBIT_SPOT.query("1h", listed - 400 * DAY, listed + 20 * DAY);
    let planned = planned_segments(&q, Market::Spot, NOW).len();
    assert_eq!(planned, 11);
    let got = cache.klines(&q).await.unwrap();
    assert_matches_venue(&got, Venue::BybitSpot, "BTCUSDT", "60", q.start, q.end, NOW);
    assert_eq!(got.open_time()[0], listed);
    assert_eq!(w.requests(BYBIT_KLINE), 3, "the first segment, the probe, the listing segment");
    let warm = w.requests(BYBIT_KLINE);
    cache.klines(&q).await.unwrap();
    assert_eq!(w.requests(BYBIT_KLINE), warm);
}

// ---------------------------------------------------------------------------
// Klines: OKX

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okx_short_ranges_cost_their_pages_not_whole_segments() {
    let w = World::with(roomy()).await;
    let cache = fast(&w).build().await.unwrap();
    // 150 1m bars in the history window: two pages of 100 (a whole segment is ten).
    let at = JAN1 + 10 * HOUR;
    let q = OKX_SPOT.query("1m", at, at + 150 * MINUTE);
    cold_exact(&w, &cache, OKX_SPOT, &q, NOW).await;
    assert_eq!((w.requests(OKX_CANDLES), w.requests(OKX_HISTORY)), (0, 2));
    // Earlier by 100 bars: only those are fetched, one page.
    let earlier = OKX_SPOT.query("1m", at - 100 * MINUTE, at + 150 * MINUTE);
    let got = cache.klines(&earlier).await.unwrap();
    assert_matches_venue(&got, OKX_SPOT.venue, OKX_SPOT.symbol, "1m", earlier.start, earlier.end, NOW);
    assert_eq!(w.requests(OKX_HISTORY), 3);
    // Recent bars: pages of 300 from `candles`.
    let recent = OKX_SPOT.query("1m", NOW - 500 * MINUTE, NOW - 200 * MINUTE);
    cold_exact(&w, &cache, OKX_SPOT, &recent, NOW).await;
    assert_eq!((w.requests(OKX_CANDLES), w.requests(OKX_HISTORY)), (1, 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okx_old_ranges_page_history_candles_100_at_a_time() {
    let w = World::with(roomy()).await;
    let cache = fast(&w).build().await.unwrap();
    for (s, interval) in [(OKX_SPOT, "1h"), (OKX_SWAP, "1h"), (OKX_INVERSE_SWAP, "15m")] {
        let before = served(&w, s);
        let q = s.query(interval, JAN1, MAR1);
        let got = cold_exact(&w, &cache, s, &q, NOW).await;
        let spent = delta(&served(&w, s), &before);
        assert_eq!(spent[OKX_CANDLES], 0, "{s:?}: old bars are only in history-candles");
        let slots = ((MAR1 - JAN1) / q.interval.fixed_ms().unwrap()) as u64;
        assert_eq!(spent[OKX_HISTORY], slots.div_ceil(100), "{s:?}: a page per 100 bars of the range");
        // A segment edge and page edges (100 bars below it; 300 after the range's start).
        let edge = segment_start(interval, MAR1 - 1);
        edges_exact(&w, &cache, s, interval, edge, NOW).await;
        edges_exact(&w, &cache, s, interval, slot_after(interval, edge, -100), NOW).await;
        edges_exact(&w, &cache, s, interval, slot_after(interval, JAN1, 300), NOW).await;
        assert!(got.gaps().is_empty());
    }
    // `1s` bars: history-candles only (the last three months), even for recent ones.
    let (c0, h0) = (w.requests(OKX_CANDLES), w.requests(OKX_HISTORY));
    let q = OKX_SPOT.query("1s", NOW - 2 * DAY, NOW - 2 * DAY + 30 * MINUTE);
    cold_exact(&w, &cache, OKX_SPOT, &q, NOW).await;
    let q = OKX_SPOT.query("1s", NOW - 10 * MINUTE, NOW + 1000);
    assert!(cold_exact(&w, &cache, OKX_SPOT, &q, NOW).await.last_is_open());
    assert_eq!(w.requests(OKX_CANDLES), c0);
    // Pages of 100 bars: 18 for the 30 minutes, 7 for the last 10 minutes and now's bar.
    assert_eq!(w.requests(OKX_HISTORY) - h0, 25);
    // Derivatives: volume is volCcy (base coin), quote volume volCcyQuote.
    let got = cache.klines(&OKX_INVERSE_SWAP.query("15m", JAN1, JAN1 + DAY)).await.unwrap();
    assert!(got.iter().all(|c| c.quote_volume >= c.volume * 1000.0), "BTC base, USD quote");
    assert!(got.iter().any(|c| c.volume > 0.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okx_recent_ranges_come_from_candles() {
    let w = World::with(roomy()).await;
    let cache = fast(&w).build().await.unwrap();
    // 1h: 721 bars within the newest 1,440: candles only, in 3 pages of 300 (whole
    // segments would be 5: 1000 bars in 4 pages, then the 13 of now's segment in one).
    let q = OKX_SWAP.query("1h", NOW - 30 * DAY, NOW + HOUR);
    let got = cold_exact(&w, &cache, OKX_SWAP, &q, NOW).await;
    assert_eq!((w.requests(OKX_CANDLES), w.requests(OKX_HISTORY)), (3, 0));
    assert!(got.last_is_open());
    let edge = segment_start("1h", NOW);
    edges_exact(&w, &cache, OKX_SWAP, "1h", edge, NOW).await;
    edges_exact(&w, &cache, OKX_SWAP, "1h", slot_after("1h", edge, -300), NOW).await;

    // 1m over three segments, 2001 bars: pages of 100 from history while older than the
    // 1,440-bar cut (five, and a sixth straddling the cut: one candles page for its newer
    // bars, one history page for the rest), then five pages of 300 from candles. Whole
    // segments would be 20 (6 candles, 14 history).
    let q = OKX_SPOT.query("1m", NOW - 2000 * MINUTE, NOW + MINUTE);
    let (c0, h0) = (w.requests(OKX_CANDLES), w.requests(OKX_HISTORY));
    let got = cold_exact(&w, &cache, OKX_SPOT, &q, NOW).await;
    assert_eq!((w.requests(OKX_CANDLES) - c0, w.requests(OKX_HISTORY) - h0), (6, 6));
    assert!(got.last_is_open());
    assert!(got.gaps().is_empty());
    let cut = NOW - (OKX_RECENT_BARS - 1) * MINUTE; // the oldest bar `candles` serves
    edges_exact(&w, &cache, OKX_SPOT, "1m", cut, NOW).await;
    edges_exact(&w, &cache, OKX_SPOT, "1m", segment_start("1m", NOW), NOW).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okx_candles_window_ahead_of_our_clock_loses_nothing() {
    // The exchange's newest 1,440 bars moved on (its clock is 5 minutes ahead of ours):
    // `candles` ends 5 bars short of where we expect; the rest comes from history.
    let w = World::with(roomy()).await;
    w.clock.set(NOW - 5 * MINUTE);
    let cache = fast(&w).build().await.unwrap();
    let seg = segment_start("1m", NOW) - 1000 * MINUTE; // straddles the 1,440-bar cut
    let q = OKX_SPOT.query("1m", seg, seg + 1000 * MINUTE);
    let got = cache.klines(&q).await.unwrap();
    assert_matches_venue(&got, Venue::OkxSpot, "BTC-USDT", "1m", q.start, q.end, NOW);
    assert!(got.gaps().is_empty());
    // 689 bars in 3 pages, one empty page, then the 311 older ones in 4 history pages.
    assert_eq!((w.requests(OKX_CANDLES), w.requests(OKX_HISTORY)), (4, 4));

    // A whole segment we expect among the newest 1,440 bars, whose first 5 bars the
    // exchange already dropped from `candles`: they come from history, none is lost.
    let seg = segment_start("1m", NOW);
    let w = World::at(seg + 1444 * MINUTE, roomy()).await;
    w.clock.set(seg + 1439 * MINUTE);
    let cache = fast(&w).build().await.unwrap();
    let q = OKX_SPOT.query("1m", seg, seg + 1000 * MINUTE);
    let got = cache.klines(&q).await.unwrap();
    assert_eq!(got.open_time()[0], seg);
    assert_matches_venue(&got, Venue::OkxSpot, "BTC-USDT", "1m", q.start, q.end, seg + 1444 * MINUTE);
    assert_eq!((w.requests(OKX_CANDLES), w.requests(OKX_HISTORY)), (5, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okx_daily_weekly_monthly_bars_are_utc() {
    let w = World::with(roomy()).await;
    let cache = fast(&w).build().await.unwrap();
    let start = 1_514_764_800_000; // 2018-01-01, before the listing (2018-01-11)
    for interval in ["1d", "1w", "1M"] {
        let q = OKX_SPOT.query(interval, start, NOW + 40 * DAY);
        let got = cold_exact(&w, &cache, OKX_SPOT, &q, NOW).await;
        assert!(got.last_is_open(), "{interval}");
        let iv: cryptocache::Interval = interval.parse().unwrap();
        assert!(got.open_time().iter().all(|&t| iv.slot_start(iv.slot_of(t)) == t), "{interval}: UTC grid");
    }
    // The UTC+8 code would have opened every day at 16:00 UTC: not what we serve.
    let utc8 = venue_klines(Venue::OkxSpot, "BTC-USDT", "1D", JAN1, JAN1 + 3 * DAY, NOW).unwrap();
    assert!(utc8.iter().all(|c| (c.open_time + 8 * HOUR) % DAY == 0));
    let got = cache.klines(&OKX_SPOT.query("1d", JAN1, JAN1 + 3 * DAY)).await.unwrap();
    assert_eq!(got.open_time(), &[JAN1, JAN1 + DAY, JAN1 + 2 * DAY]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okx_futures_mid_range_listing() {
    let w = World::at(NOW_2025, roomy()).await;
    let cache = fast(&w).build().await.unwrap();
    let listed = OKX_FUTURES.listing().1.unwrap(); // 2025-03-28 08:00
    let q = OKX_FUTURES.query("1h", 1_735_689_600_000, 1_746_057_600_000); // 2025-01-01 .. 05-01
    let planned = planned_segments(&q, OKX_FUTURES.market, NOW_2025);
    assert_eq!(planned.len(), 4);
    assert!(planned[1].span().end <= listed, "two segments before the listing");
    let got = cold_exact(&w, &cache, OKX_FUTURES, &q, NOW_2025).await;
    // One probe (is anything older than the listing's segment? no: the two segments
    // before it are known-empty, and so are the range's pages before that segment). Then
    // the range's pages from the listing segment's start: of 100 bars from history until
    // the newest 1,440 (those before the true listing answered empty: paging never stops
    // at the published listing time, which can be wrong), of 300 from candles after.
    // Whole segments would cost the same 10 (6 candles, 4 history).
    assert_eq!((w.requests(OKX_CANDLES), w.requests(OKX_HISTORY)), (4, 6));
    assert_eq!(got.open_time()[0], listed);
    assert_eq!(got.gaps(), vec![cryptocache::TimeRange::new(q.start, listed)]);
    // Segment edges, and the 1,440-bar cut inside the listing segment.
    let edge = segment_start("1h", NOW_2025);
    edges_exact(&w, &cache, OKX_FUTURES, "1h", edge, NOW_2025).await;
    edges_exact(&w, &cache, OKX_FUTURES, "1h", slot_after("1h", edge, -1000), NOW_2025).await;
    edges_exact(&w, &cache, OKX_FUTURES, "1h", slot_after("1h", NOW_2025, -1439), NOW_2025).await;
    edges_exact(&w, &cache, OKX_FUTURES, "1h", slot_after("1h", listed, 100), NOW_2025).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okx_quiet_windows_are_filler_bars_not_gaps() {
    let w = World::with(roomy()).await;
    let cache = fast(&w).build().await.unwrap();
    let windows = venue_quiet_windows(Venue::OkxSpot, "BTC-USDT", JAN1, MAR1).unwrap();
    assert!(!windows.is_empty());
    let (from, to) = windows[0];
    let q = OKX_SPOT.query("1m", from - HOUR, to + HOUR);
    let got = cold_exact(&w, &cache, OKX_SPOT, &q, NOW).await;
    assert_fillers(&got, from, to);
}

/// Bars inside a quiet window are fillers: no volume, o = h = l = c = previous close;
/// the series has no gap.
fn assert_fillers(got: &Candles, from: i64, to: i64) {
    assert!(got.gaps().is_empty(), "filler bars, no gaps");
    let mut fillers = 0;
    for (i, c) in got.iter().enumerate() {
        if from <= c.open_time && c.open_time + MINUTE <= to {
            let prev = got.get(i - 1).unwrap().close;
            assert_eq!((c.volume, c.quote_volume), (0.0, 0.0), "{c:?}");
            assert!([c.open, c.high, c.low, c.close].iter().all(|&p| p == prev), "{c:?}");
            fillers += 1;
        }
    }
    assert_eq!(fillers as i64, (to - from) / MINUTE);
}

// ---------------------------------------------------------------------------
// Klines: Deribit

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deribit_klines_cost_one_request_per_segment() {
    let w = World::with(roomy()).await;
    let cache = fast(&w).build().await.unwrap();
    for (s, interval) in [(DERIBIT_PERP, "1h"), (DERIBIT_LINEAR_PERP, "15m"), (DERIBIT_PERP, "1d")] {
        let q = s.query(interval, JAN1, MAR1);
        let got = cold_exact(&w, &cache, s, &q, NOW).await;
        assert!(got.gaps().is_empty(), "{s:?} {interval}");
        if interval != "1d" {
            edges_exact(&w, &cache, s, interval, segment_start(interval, MAR1 - 1), NOW).await;
        }
    }
    // Recent: the open bar included.
    let q = DERIBIT_PERP.query("5m", NOW - 5 * DAY, NOW + HOUR);
    let got = cold_exact(&w, &cache, DERIBIT_PERP, &q, NOW).await;
    assert!(got.last_is_open());
    // Inverse perpetual: volume in BTC, cost in USD.
    let got = cache.klines(&DERIBIT_PERP.query("1h", JAN1, JAN1 + DAY)).await.unwrap();
    assert!(got.iter().all(|c| c.quote_volume >= c.volume * 1000.0));
    assert!(got.iter().any(|c| c.volume > 0.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deribit_future_from_listing_to_now() {
    let w = World::at(NOW_2025, roomy()).await;
    let cache = fast(&w).build().await.unwrap();
    let listed = DERIBIT_FUTURE.listing().1.unwrap(); // 2024-09-27 08:00
    let q = DERIBIT_FUTURE.query("1h", listed - 400 * DAY, NOW_2025 + DAY);
    let got = cold_exact(&w, &cache, DERIBIT_FUTURE, &q, NOW_2025).await;
    assert_eq!(got.open_time()[0], listed);
    assert!(got.last_is_open());
    assert_eq!(w.requests(DERIBIT_CHART), kline_minimum(DERIBIT_FUTURE, &q, NOW_2025)[DERIBIT_CHART]);
    assert!(planned_segments(&q, Market::Inverse, NOW_2025).len() as u64 > w.requests(DERIBIT_CHART));
    let edge = segment_start("1h", NOW_2025);
    edges_exact(&w, &cache, DERIBIT_FUTURE, "1h", edge, NOW_2025).await;
    edges_exact(&w, &cache, DERIBIT_FUTURE, "1h", slot_after("1h", edge, -3000), NOW_2025).await;
    // Dated futures pay no funding.
    let q = RangeQuery::new(Exchange::Deribit, "BTC-27JUN25", NOW_2025 - 9 * DAY, NOW_2025);
    let e = cache.funding_rates(&q).await.unwrap_err();
    assert!(matches!(e, Error::Unsupported(_)), "futures funding: {e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_futures_keep_their_history() {
    let now = 1_764_592_200_000; // 2025-12-01T12:30Z: both futures have expired
    let w = World::at(now, roomy()).await;
    let cache = fast(&w).build().await.unwrap();
    for (s, expiry, trades_path) in [
        (DERIBIT_FUTURE, 1_751_011_200_000, "/api/v2/public/get_last_trades_by_instrument_and_time"),
        (OKX_FUTURES, 1_758_873_600_000, "/api/v5/market/history-trades"),
    ] {
        assert_eq!(s.expiry(), Some(expiry));
        let listed = s.listing().1.unwrap();
        // Into the segments after expiry: known from the instruments list, asked for nothing.
        let q = s.query("1h", listed - 10 * DAY, expiry + 90 * DAY);
        let after_expiry =
            planned_segments(&q, s.market, now).iter().filter(|k| k.span().start >= expiry).count();
        assert!(after_expiry >= 2, "{s:?}");
        let got = cold_exact(&w, &cache, s, &q, now).await;
        assert_eq!(got.open_time()[0], listed, "{s:?}");
        assert_eq!(*got.open_time().last().unwrap(), expiry - HOUR, "{s:?}: the last bar ends at expiry");
        assert!(!got.last_is_open());
        edges_exact(&w, &cache, s, "1h", slot_after("1h", expiry, -1440), now).await;
        // Trades: the last hours before expiry; none after it, without a request.
        let q = RangeQuery::new(s.exchange(), s.symbol, expiry - 3 * HOUR, expiry + 5 * HOUR);
        let before = w.requests(trades_path);
        let got = cache.trades(&q).await.unwrap();
        assert_trades(&got, &sim_trades(s.venue, s.symbol, q.start, q.end, now), s.symbol);
        assert!(got.len() > 100 && *got.time().last().unwrap() < expiry);
        let spent = w.requests(trades_path) - before;
        let q = RangeQuery { start: expiry, ..q };
        assert!(cache.trades(&q).await.unwrap().is_empty());
        assert_eq!(w.requests(trades_path) - before, spent, "{s:?}: no request after expiry");
    }
    // Deribit lists expired contracts separately (`expired=true`): one more list call
    // (the cold caches of `edges_exact` check it again).
    assert_eq!(w.requests("/api/v2/public/get_instruments"), 2 * 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deribit_quiet_windows_are_filler_bars_not_gaps() {
    let w = World::with(roomy()).await;
    let cache = fast(&w).build().await.unwrap();
    let windows = venue_quiet_windows(Venue::Deribit, "BTC-PERPETUAL", JAN1, MAR1).unwrap();
    let (from, to) = windows[1];
    let q = DERIBIT_PERP.query("1m", from - HOUR, to + HOUR);
    let got = cold_exact(&w, &cache, DERIBIT_PERP, &q, NOW).await;
    assert_fillers(&got, from, to);
}

// ---------------------------------------------------------------------------
// Trades

/// Asserts trades equal the simulator's `want` (id, time, price, size, taker side), once
/// each, ascending by (time, id).
fn assert_trades(got: &Trades, want: &[(i64, i64, f64, f64, bool)], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: trade count");
    for (g, &(id, time, price, qty, buyer_maker)) in got.iter().zip(want) {
        let side = if buyer_maker { Side::Sell } else { Side::Buy };
        let same = g.id == id
            && g.time == time
            && g.price.to_bits() == price.to_bits()
            && g.quantity.to_bits() == qty.to_bits()
            && g.side == side;
        assert!(same, "{what}: got {g:?}, want id {id} time {time} price {price} qty {qty} {side:?}");
    }
    assert!(
        got.time().windows(2).zip(got.id().windows(2)).all(|(t, i)| (t[0], i[0]) < (t[1], i[1])),
        "{what}: strictly ascending by (time, id)"
    );
}

fn sim_trades(venue: Venue, symbol: &str, start: i64, end: i64, now: i64) -> Vec<(i64, i64, f64, f64, bool)> {
    venue_trades(venue, symbol, start, end, now)
        .unwrap()
        .into_iter()
        .map(|t| (t.id, t.time, t.price, t.qty, t.buyer_maker))
        .collect()
}

fn sim_aggs(market: BinanceMarket, symbol: &str, start: i64, end: i64) -> Vec<(i64, i64, f64, f64, bool)> {
    binance_agg_trades(market, symbol, start, end, NOW)
        .unwrap()
        .into_iter()
        .map(|t| (t.id, t.time, t.price, t.qty, t.buyer_maker))
        .collect()
}

/// Queries trades cold, checks them and the page count, repeats for free, and checks
/// sub-ranges whose bounds are exact trade times.
async fn trades_exact(
    w: &World,
    cache: &cryptocache::Cache,
    q: &RangeQuery,
    path: &str,
    want: impl Fn(i64, i64) -> Vec<(i64, i64, f64, f64, bool)>,
) {
    let what = format!("{} {}", q.exchange, q.symbol);
    let before = w.requests(path);
    let got = cache.trades(q).await.unwrap_or_else(|e| panic!("{what}: {e}"));
    let pages = w.requests(path) - before;
    let all = want(q.start, q.end);
    assert_trades(&got, &all, &what);
    let hours = ((q.end - q.start) / HOUR) as u64;
    assert!(pages > hours, "{what}: several pages per hourly segment ({pages} for {hours} h)");
    let warm = w.sim.stats().total;
    let again = cache.trades(q).await.unwrap();
    assert_eq!(again.len(), got.len());
    assert_eq!(w.sim.stats().total, warm, "{what}: a repeat must not go upstream");
    // Bounds: start inclusive, end exclusive, on exact trade times.
    let (a, b) = (all[all.len() / 3].1, all[2 * all.len() / 3].1);
    for (start, end) in [(a, b), (a + 1, b + 1), (a - 1, b - 1), (q.start, a), (b, q.end)] {
        let sub = RangeQuery { start, end, ..q.clone() };
        let got = cache.trades(&sub).await.unwrap();
        assert_trades(&got, &want(start, end), &format!("{what} [{start}, {end})"));
    }
    assert_eq!(w.sim.stats().total, warm, "{what}: sub-ranges are served warm");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binance_agg_trades_every_trade_once() {
    let w = World::new().await;
    let cache = w.exact_builder().build().await.unwrap();
    let (start, end) = (NOW - 5 * HOUR, NOW - 3 * HOUR);
    let q = RangeQuery::new(Exchange::Binance, "BTCUSDT", start, end);
    trades_exact(&w, &cache, &q, "/api/v3/aggTrades", |a, b| sim_aggs(BinanceMarket::Spot, "BTCUSDT", a, b))
        .await;
    let q = RangeQuery::new(Exchange::Binance, "ETHUSDT", start, end).market(Market::Linear);
    trades_exact(&w, &cache, &q, "/fapi/v1/aggTrades", |a, b| sim_aggs(BinanceMarket::UsdM, "ETHUSDT", a, b))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okx_history_trades_every_trade_once() {
    let w = World::at(NOW_2025, roomy()).await;
    // `fast`: OKX windows of 200 ms, so history-trades gets 9 requests per 200 ms.
    let cache = fast(&w).build().await.unwrap();
    let (start, end) = (NOW_2025 - 5 * HOUR, NOW_2025 - 3 * HOUR);
    let q = RangeQuery::new(Exchange::Okx, "BTC-USDT-250926", start, end);
    trades_exact(&w, &cache, &q, "/api/v5/market/history-trades", |a, b| {
        sim_trades(Venue::OkxFutures, "BTC-USDT-250926", a, b, NOW_2025)
    })
    .await;
    // Dated futures pay no funding.
    let e = cache.funding_rates(&RangeQuery { start: NOW_2025 - 9 * DAY, ..q }).await.unwrap_err();
    assert!(matches!(e, Error::Unsupported(_)), "futures funding: {e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deribit_trades_every_trade_once() {
    let w = World::with(roomy()).await;
    let cache = fast(&w).build().await.unwrap();
    let path = "/api/v2/public/get_last_trades_by_instrument_and_time";
    let q = RangeQuery::new(Exchange::Deribit, "BTC_USDT-PERPETUAL", NOW - 6 * HOUR, NOW - 3 * HOUR);
    trades_exact(&w, &cache, &q, path, |a, b| sim_trades(Venue::Deribit, "BTC_USDT-PERPETUAL", a, b, NOW))
        .await;
    // Inverse perpetual: amounts in USD.
    let q = RangeQuery::new(Exchange::Deribit, "BTC-PERPETUAL", NOW - 2 * HOUR, NOW - HOUR);
    trades_exact(&w, &cache, &q, path, |a, b| sim_trades(Venue::Deribit, "BTC-PERPETUAL", a, b, NOW)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bybit_historical_trades_are_unsupported() {
    let w = World::new().await;
    let cache = w.exact_builder().build().await.unwrap();
    for market in [Market::Spot, Market::Linear] {
        let q = RangeQuery::new(Exchange::Bybit, "BTCUSDT", NOW - 2 * HOUR, NOW - HOUR).market(market);
        let e = cache.trades(&q).await.unwrap_err();
        assert!(matches!(e, Error::Unsupported(ref m) if m.contains("archives")), "{e:?}");
    }
    assert_eq!(w.requests("/v5/market/recent-trade"), 0);
}

// ---------------------------------------------------------------------------
// Funding

/// Asserts funding rows equal `want` (time, rate) bit for bit, ascending.
fn assert_funding(got: &FundingRates, want: &[(i64, f64)], what: &str) {
    let got: Vec<(i64, u64)> = got.iter().map(|f| (f.time, f.rate.to_bits())).collect();
    let want: Vec<(i64, u64)> = want.iter().map(|&(t, r)| (t, r.to_bits())).collect();
    assert_eq!(got, want, "{what}");
}

/// Queries funding cold, compares, repeats for free, and checks bounds on exact
/// funding times. Returns the funding times.
async fn funding_exact(
    w: &World,
    cache: &cryptocache::Cache,
    q: &RangeQuery,
    want: impl Fn(i64, i64) -> Vec<(i64, f64)>,
) -> Vec<i64> {
    let what = format!("{} {} funding", q.exchange, q.symbol);
    let got = cache.funding_rates(q).await.unwrap_or_else(|e| panic!("{what}: {e}"));
    let all = want(q.start, q.end);
    assert!(all.len() > 10, "{what}: {} rows", all.len());
    assert_funding(&got, &all, &what);
    let warm = w.sim.stats().total;
    assert_eq!(cache.funding_rates(q).await.unwrap().len(), all.len());
    let (a, b) = (all[3].0, all[all.len() - 3].0);
    for (start, end) in [(a, b), (a + 1, b + 1), (a - 1, b - 1), (a, a + 1), (q.start, a), (b, q.end)] {
        let sub = RangeQuery { start, end, ..q.clone() };
        assert_funding(
            &cache.funding_rates(&sub).await.unwrap(),
            &want(start, end),
            &format!("{what} [{start}, {end})"),
        );
    }
    assert_eq!(w.sim.stats().total, warm, "{what}: repeats and sub-ranges are served warm");
    all.iter().map(|f| f.0).collect()
}

/// The steps between consecutive funding times.
fn steps(times: &[i64]) -> Vec<i64> {
    let mut s: Vec<i64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    s.sort_unstable();
    s.dedup();
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binance_funding_8h_4h_1h() {
    let w = World::new().await;
    let cache = w.exact_builder().build().await.unwrap();
    for (symbol, every) in [("BTCUSDT", 8 * HOUR), ("ETHUSDT", 4 * HOUR), ("SOLUSDT", HOUR)] {
        let q = RangeQuery::new(Exchange::Binance, symbol, JAN1, MAR1).market(Market::Linear);
        let times = funding_exact(&w, &cache, &q, |a, b| {
            binance_funding(symbol, a, b, NOW).unwrap().into_iter().map(|f| (f.time, f.rate)).collect()
        })
        .await;
        assert_eq!(steps(&times), vec![every], "{symbol}");
    }
    let e =
        cache.funding_rates(&RangeQuery::new(Exchange::Binance, "BTCUSDT", JAN1, MAR1)).await.unwrap_err();
    assert!(matches!(e, Error::Unsupported(_)), "spot: {e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bybit_funding_8h_4h_1h() {
    let w = World::new().await;
    let cache = w.exact_builder().build().await.unwrap();
    for (venue, market, symbol, every) in [
        (Venue::BybitLinear, Market::Linear, "BTCUSDT", 8 * HOUR),
        (Venue::BybitLinear, Market::Linear, "ETHUSDT", 4 * HOUR),
        (Venue::BybitInverse, Market::Inverse, "BTCUSD", 8 * HOUR),
        (Venue::BybitInverse, Market::Inverse, "ETHUSD", HOUR),
    ] {
        let q = RangeQuery::new(Exchange::Bybit, symbol, JAN1, MAR1).market(market);
        let times = funding_exact(&w, &cache, &q, |a, b| {
            venue_funding(venue, symbol, a, b, NOW).unwrap().into_iter().map(|f| (f.time, f.rate)).collect()
        })
        .await;
        assert_eq!(steps(&times), vec![every], "{symbol}");
    }
    let e = cache.funding_rates(&RangeQuery::new(Exchange::Bybit, "BTCUSDT", JAN1, MAR1)).await.unwrap_err();
    assert!(matches!(e, Error::Unsupported(_)), "spot: {e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okx_funding_is_the_realized_rate() {
    let w = World::with(roomy()).await;
    let cache = fast(&w).build().await.unwrap();
    let q = RangeQuery::new(Exchange::Okx, "BTC-USDT-SWAP", NOW - 80 * DAY, NOW - DAY);
    let times = funding_exact(&w, &cache, &q, |a, b| {
        let rows = venue_funding(Venue::OkxSwap, "BTC-USDT-SWAP", a, b, NOW).unwrap();
        assert!(rows.iter().any(|f| Some(f.rate) != f.realized_rate), "predicted and settled rates differ");
        rows.into_iter().map(|f| (f.time, f.realized_rate.unwrap())).collect()
    })
    .await;
    assert_eq!(steps(&times), vec![8 * HOUR]);
    let e = cache.funding_rates(&RangeQuery::new(Exchange::Okx, "BTC-USDT", JAN1, MAR1)).await.unwrap_err();
    assert!(matches!(e, Error::Unsupported(_)), "spot: {e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okx_funding_follows_a_cut_from_8h_to_4h() {
    let now = 1_708_000_200_000; // 2024-02-15T12:30Z: 2024-01-01 is within the 3 months kept
    let w = World::at(now, roomy()).await;
    let cache = fast(&w).build().await.unwrap();
    let q = RangeQuery::new(Exchange::Okx, "ETH-USDT-SWAP", 1_701_388_800_000, 1_706_745_600_000); // Dec 1 .. Feb 1
    let times = funding_exact(&w, &cache, &q, |a, b| {
        venue_funding(Venue::OkxSwap, "ETH-USDT-SWAP", a, b, now)
            .unwrap()
            .into_iter()
            .map(|f| (f.time, f.realized_rate.unwrap()))
            .collect()
    })
    .await;
    let (before, after): (Vec<i64>, Vec<i64>) = times.iter().partition(|&&t| t < JAN1);
    assert_eq!(steps(&before), vec![8 * HOUR]);
    assert_eq!(steps(&after), vec![4 * HOUR]);
    assert_eq!(after[0], JAN1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deribit_funding_is_hourly_paged_back_by_end() {
    let w = World::with(roomy()).await;
    let cache = fast(&w).build().await.unwrap();
    let path = "/api/v2/public/get_funding_rate_history";
    // Two funding segments (1000 h each) of hourly rows; start_timestamp is ignored and
    // at most 720 rows come back per call, ending at end_timestamp.
    let q = RangeQuery::new(Exchange::Deribit, "BTC-PERPETUAL", JAN1, MAR1);
    let times = funding_exact(&w, &cache, &q, |a, b| {
        // Every hourly row carries an 8 h rate (`interest_8h`, the simulator's `rate`);
        // what was paid for the hour is `interest_1h` = `interest_8h` / 8, exactly.
        venue_funding(Venue::Deribit, "BTC-PERPETUAL", a, b, NOW)
            .unwrap()
            .into_iter()
            .map(|f| (f.time, per_hour(f.rate)))
            .collect()
    })
    .await;
    assert_eq!(steps(&times), vec![HOUR]);
    assert_eq!(w.requests(path), 4, "two calls of 720 rows per 1000-hour segment");
    let e =
        cache.funding_rates(&RangeQuery::new(Exchange::Deribit, "BTC_USDT", JAN1, MAR1)).await.unwrap_err();
    assert!(matches!(e, Error::Unsupported(_)), "spot: {e:?}");
}

/// `interest_8h / 8` as Deribit prints `interest_1h`: the 8-decimal rate times 125, at
/// 11 decimals (exact in decimal), parsed.
fn per_hour(rate_8h: f64) -> f64 {
    let units = (rate_8h * 1e8).round() as i128;
    format!("{}e-11", units * 125).parse().unwrap()
}

// ---------------------------------------------------------------------------
// Order books

fn assert_book(got: &OrderBook, want: &SimBook, depth: usize, what: &str) {
    let levels = |v: &[cryptocache::Level]| -> Vec<(u64, u64)> {
        v.iter().map(|l| (l.price.to_bits(), l.quantity.to_bits())).collect()
    };
    let sim = |v: &[(f64, f64)]| -> Vec<(u64, u64)> {
        v.iter().take(depth).map(|(p, q)| (p.to_bits(), q.to_bits())).collect()
    };
    assert_eq!(got.bids.len(), depth, "{what}: depth respected");
    assert_eq!(got.asks.len(), depth, "{what}: depth respected");
    assert_eq!(levels(&got.bids), sim(&want.bids), "{what}: bids");
    assert_eq!(levels(&got.asks), sim(&want.asks), "{what}: asks");
    assert!(got.bids.windows(2).all(|w| w[0].price > w[1].price), "{what}: bids descending");
    assert!(got.asks.windows(2).all(|w| w[0].price < w[1].price), "{what}: asks ascending");
    assert!(got.bids[0].price < got.asks[0].price, "{what}: not crossed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_books_per_venue_with_a_ttl() {
    let w = World::with(roomy()).await;
    let ttl = Duration::from_millis(200);
    let cache = fast(&w)
        .policy(Policy { jitter: Duration::ZERO, order_book_ttl: ttl, ..Policy::default() })
        .build()
        .await
        .unwrap();
    type Oracle = Box<dyn Fn(usize, i64) -> SimBook>;
    let cases: Vec<(OrderBookQuery, &str, Oracle)> = vec![
        (
            OrderBookQuery::new(Exchange::Binance, "BTCUSDT", 10),
            "/api/v3/depth",
            Box::new(|d, now| binance_book(BinanceMarket::Spot, "BTCUSDT", d, now).unwrap()),
        ),
        (
            OrderBookQuery::new(Exchange::Binance, "BTCUSDT", 20).market(Market::Linear),
            "/fapi/v1/depth",
            Box::new(|d, now| binance_book(BinanceMarket::UsdM, "BTCUSDT", d, now).unwrap()),
        ),
        (
            OrderBookQuery::new(Exchange::Bybit, "BTCUSDT", 10),
            "/v5/market/orderbook",
            Box::new(|d, now| venue_book(Venue::BybitSpot, "BTCUSDT", d, now).unwrap()),
        ),
        (
            OrderBookQuery::new(Exchange::Bybit, "BTCUSDT", 25).market(Market::Linear),
            "/v5/market/orderbook",
            Box::new(|d, now| venue_book(Venue::BybitLinear, "BTCUSDT", d, now).unwrap()),
        ),
        (
            OrderBookQuery::new(Exchange::Bybit, "BTCUSD", 5).market(Market::Inverse),
            "/v5/market/orderbook",
            Box::new(|d, now| venue_book(Venue::BybitInverse, "BTCUSD", d, now).unwrap()),
        ),
        (
            OrderBookQuery::new(Exchange::Okx, "BTC-USDT", 10),
            "/api/v5/market/books",
            Box::new(|d, now| venue_book(Venue::OkxSpot, "BTC-USDT", d, now).unwrap()),
        ),
        (
            OrderBookQuery::new(Exchange::Okx, "BTC-USD-SWAP", 15),
            "/api/v5/market/books",
            Box::new(|d, now| venue_book(Venue::OkxSwap, "BTC-USD-SWAP", d, now).unwrap()),
        ),
        (
            OrderBookQuery::new(Exchange::Deribit, "BTC-PERPETUAL", 10),
            "/api/v2/public/get_order_book",
            Box::new(|d, now| venue_book(Venue::Deribit, "BTC-PERPETUAL", d, now).unwrap()),
        ),
        (
            // Not one of Deribit's depths: the next one up is asked, then cut.
            OrderBookQuery::new(Exchange::Deribit, "BTC_USDT-PERPETUAL", 7),
            "/api/v2/public/get_order_book",
            Box::new(|d, now| venue_book(Venue::Deribit, "BTC_USDT-PERPETUAL", d, now).unwrap()),
        ),
    ];
    for (i, (q, path, oracle)) in cases.iter().enumerate() {
        let now = NOW + 1000 * i as i64;
        w.set_now(now);
        let what = format!("{} {:?} {}", q.exchange, q.market, q.symbol);
        let before = w.requests(path);
        let book = cache.order_book(q).await.unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(w.requests(path), before + 1, "{what}");
        let want = oracle(q.depth, now);
        assert_book(&book, &want, q.depth, &what);
        if q.exchange != Exchange::Binance || q.market == Some(Market::Linear) {
            assert_eq!(book.time, want.time, "{what}: exchange time");
        }
        // Within the TTL: from the cache.
        w.set_now(now + 100);
        let again = cache.order_book(q).await.unwrap();
        assert_eq!(w.requests(path), before + 1, "{what}: within the TTL");
        assert_eq!(*again, *book);
        // After it: exactly one new request, the book at the new now.
        tokio::time::sleep(ttl + Duration::from_millis(50)).await;
        w.set_now(now + 300);
        let fresh = cache.order_book(q).await.unwrap();
        assert_eq!(w.requests(path), before + 2, "{what}: after the TTL");
        assert_book(&fresh, &oracle(q.depth, now + 300), q.depth, &what);
    }
}

// ---------------------------------------------------------------------------
// Symbol checks

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deribit_symbol_checks_respect_the_instruments_limit() {
    // Default limits: `get_instruments` allows a burst of 5 calls, then one per 10 s;
    // one call lists every instrument of a kind.
    let w = World::new().await;
    let cache = w.exact_builder().build().await.unwrap();
    let t0 = std::time::Instant::now();
    for symbol in ["BTC-PERPETUAL", "ETH-PERPETUAL", "BTC_USDT-PERPETUAL", "BTC_USDT"] {
        let q = venue_query(Exchange::Deribit, symbol, "1h", JAN1, JAN1 + DAY);
        let got = cache.klines(&q).await.unwrap_or_else(|e| panic!("{symbol}: {e}"));
        assert_eq!(got.len(), 24, "{symbol}");
    }
    for symbol in ["NOPE-PERPETUAL", "XRP-PERPETUAL", "BTC-29MAR24", "NOPE_USDT"] {
        let q = venue_query(Exchange::Deribit, symbol, "1h", JAN1, JAN1 + DAY);
        let e = cache.klines(&q).await.unwrap_err();
        assert!(matches!(e, Error::UnknownSymbol { .. }), "{symbol}: {e:?}");
    }
    let calls = w.requests("/api/v2/public/get_instruments");
    assert!(calls <= 4, "one call per kind and list (live, expired): {calls}");
    assert_eq!(w.sim.stats().rate_limited, 0);
    assert!(t0.elapsed() < Duration::from_secs(5), "no waiting: {:?}", t0.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deribit_new_listings_are_found_once_the_kept_list_is_10s_old() {
    let listed = DERIBIT_FUTURE.listing().1.unwrap();
    let w = World::at(listed - MINUTE, SimConfig::default()).await;
    let cache = w.exact_builder().build().await.unwrap();
    let q = |symbol: &str, now: i64| venue_query(Exchange::Deribit, symbol, "1h", now - DAY, now);
    cache.klines(&q("BTC-PERPETUAL", listed - MINUTE)).await.unwrap(); // the live futures list
    let calls = w.requests("/api/v2/public/get_instruments");
    w.set_now(listed + 2 * HOUR); // BTC-27JUN25 is listed now, not in the list kept
    tokio::time::sleep(Duration::from_millis(10_100)).await;
    let got = cache.klines(&q("BTC-27JUN25", listed + 2 * HOUR)).await.unwrap();
    assert_eq!(got.open_time(), &[listed, listed + HOUR]);
    assert_eq!(w.requests("/api/v2/public/get_instruments"), calls + 1, "one new live list");
}

// ---------------------------------------------------------------------------
// Errors

async fn kline_err(cache: &cryptocache::Cache, q: &KlineQuery) -> Error {
    cache.klines(q).await.expect_err("query must fail")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_symbols_are_typed_per_venue() {
    let w = World::new().await;
    let cache = w.exact_builder().build().await.unwrap();
    for (exchange, market, symbol) in [
        (Exchange::Binance, Market::Spot, "NOPEUSDT"),
        (Exchange::Binance, Market::Linear, "NOPEUSDT"),
        (Exchange::Bybit, Market::Spot, "NOPEUSDT"),
        (Exchange::Bybit, Market::Linear, "NOPEUSDT"),
        (Exchange::Bybit, Market::Inverse, "NOPEUSD"),
        (Exchange::Okx, Market::Spot, "NOPE-USDT"),
        (Exchange::Okx, Market::Linear, "NOPE-USDT-SWAP"),
        (Exchange::Okx, Market::Linear, "BTC-USDT-240329"),
        (Exchange::Deribit, Market::Inverse, "NOPE-PERPETUAL"),
        (Exchange::Deribit, Market::Spot, "NOPE_USDT"),
    ] {
        let q = venue_query(exchange, symbol, "1h", JAN1, JAN1 + DAY).market(market);
        match kline_err(&cache, &q).await {
            Error::UnknownSymbol { symbol: s, .. } => assert_eq!(s, symbol),
            other => panic!("{exchange} {symbol}: expected UnknownSymbol, got {other:?}"),
        }
        // Within every venue's trade retention (OKX: about three months).
        let q = RangeQuery::new(exchange, symbol, NOW - 10 * DAY, NOW - 10 * DAY + HOUR).market(market);
        let e = cache.trades(&q).await.unwrap_err();
        assert!(matches!(e, Error::UnknownSymbol { .. } | Error::Unsupported(_)), "{symbol}: {e:?}");
        // Order books go straight to the book endpoint: its own error, typed the same.
        let e = cache.order_book(&OrderBookQuery::new(exchange, symbol, 5).market(market)).await.unwrap_err();
        assert!(
            matches!(e, Error::UnknownSymbol { symbol: ref s, .. } if s == symbol),
            "{symbol} book: {e:?}"
        );
    }
    assert_eq!(w.venue_kline_requests() + w.kline_requests(), 0, "the instruments lists rejected them first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_intervals_are_invalid_queries() {
    let w = World::new().await;
    let cache = w.exact_builder().build().await.unwrap();
    for (exchange, symbol, interval) in [
        (Exchange::Binance, "BTCUSDT", "2d"),
        (Exchange::Binance, "BTCUSDT", "10m"),
        (Exchange::Bybit, "BTCUSDT", "8h"),
        (Exchange::Bybit, "BTCUSDT", "1s"),
        (Exchange::Bybit, "BTCUSDT", "3d"),
        (Exchange::Okx, "BTC-USDT", "8h"),
        (Exchange::Okx, "BTC-USDT", "10m"),
        (Exchange::Deribit, "BTC-PERPETUAL", "4h"),
        (Exchange::Deribit, "BTC-PERPETUAL", "1w"),
        (Exchange::Deribit, "BTC-PERPETUAL", "1s"),
    ] {
        let e = kline_err(&cache, &venue_query(exchange, symbol, interval, JAN1, JAN1 + DAY)).await;
        assert!(
            matches!(e, Error::InvalidQuery(ref m) if m.contains(&format!("no {interval} klines"))),
            "{exchange} {interval}: {e:?}"
        );
    }
    assert_eq!(w.sim.stats().total, 0, "rejected before any request");
}

/// A cache that gives up at the first throttle, with `symbol` already validated.
async fn warmed(builder: cryptocache::CacheBuilder, q: &KlineQuery) -> cryptocache::Cache {
    let cache =
        builder.retry(RetryPolicy { max_retries: 0, ..RetryPolicy::default() }).build().await.unwrap();
    cache.klines(q).await.unwrap();
    cache
}

fn assert_rate_limited(e: &Error, exchange: &str) {
    match e {
        Error::RateLimited { exchange: x, .. } => assert!(x.starts_with(exchange), "{e:?}"),
        other => panic!("{exchange}: expected RateLimited, got {other:?}"),
    }
    assert_eq!(e.code(), "RATE_LIMITED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttles_are_rate_limited_errors_per_venue() {
    let w = World::new().await;
    let day = |n: i64| JAN1 + n * 40 * DAY; // different 1h segments
                                            // Bybit: the IP limit answers HTTP 403 (and asks for a 10-minute pause).
    let cache = warmed(w.exact_builder(), &BYBIT_LINEAR.query("1h", day(0), day(0) + DAY)).await;
    w.sim.push_faults(vec![Fault::Status { status: 403, retry_after_secs: None }]);
    let e = kline_err(&cache, &BYBIT_LINEAR.query("1h", day(1), day(1) + DAY)).await;
    assert_rate_limited(&e, "bybit");
    assert!(
        matches!(e, Error::RateLimited { retry_after: Some(d), .. } if d >= Duration::from_secs(600)),
        "{e:?}"
    );
    // OKX: HTTP 429 with code 50011.
    let cache = warmed(w.exact_builder(), &OKX_SPOT.query("1h", day(0), day(0) + DAY)).await;
    w.sim.push_faults(vec![Fault::Status { status: 429, retry_after_secs: None }]);
    let e = kline_err(&cache, &OKX_SPOT.query("1h", day(1), day(1) + DAY)).await;
    assert_rate_limited(&e, "okx");
    // Deribit: HTTP 429 with JSON-RPC error 10028.
    let cache = warmed(w.exact_builder(), &DERIBIT_PERP.query("1h", day(0), day(0) + DAY)).await;
    w.sim.push_faults(vec![Fault::Status { status: 429, retry_after_secs: None }]);
    let e = kline_err(&cache, &DERIBIT_PERP.query("1h", day(1), day(1) + DAY)).await;
    assert_rate_limited(&e, "deribit");
    assert_eq!(w.sim.stats().faults_served, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulators_own_limiters_give_rate_limited_errors() {
    let hour_window = Duration::from_secs(3600);
    let w = World::with(SimConfig {
        bybit: cryptocache_sim::BybitLimits { requests: 2, window: hour_window, ..Default::default() },
        okx: OkxLimits { candles: 1, window: hour_window, ..OkxLimits::default() },
        deribit: DeribitLimits { pool: 500, refill_per_sec: 1, ..DeribitLimits::default() },
        ..SimConfig::default()
    })
    .await;
    let roomy_okx = OkxConfig { url: w.sim.url(), ..OkxConfig::default() };
    let roomy_bybit = BybitConfig { url: w.sim.url(), ..BybitConfig::default() };
    for (s, builder) in [
        (BYBIT_LINEAR, w.exact_builder().bybit(roomy_bybit)),
        (OKX_SPOT, w.exact_builder().okx(roomy_okx)),
        (DERIBIT_PERP, w.exact_builder()),
    ] {
        // The instruments check and one kline page (now's segment: 13 bars) fit in each
        // budget; the page of the segment before does not.
        let cache = warmed(builder, &s.query("1h", NOW - 5 * HOUR, NOW)).await;
        let e = kline_err(&cache, &s.query("1h", NOW - 30 * DAY, NOW - 29 * DAY)).await;
        assert_rate_limited(&e, s.exchange().as_str());
    }
    assert_eq!(w.sim.stats().rate_limited, 3);
}
