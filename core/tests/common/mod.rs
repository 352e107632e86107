//! Shared helpers: a simulator with a fixed clock, caches pointed at it, and the
//! simulator's own data for comparison.
#![allow(dead_code)] // each test binary uses a different subset

use std::sync::Arc;
use std::time::Duration;

use cryptocache::exchange::binance::BinanceConfig;
use cryptocache::exchange::RetryPolicy;
use cryptocache::{Cache, CacheBuilder, Candles, Exchange, KlineQuery, ManualClock, Market, Policy};
use cryptocache_sim::{binance_klines, BinanceMarket, Sim, SimConfig};

/// 2024-06-01T12:30:00Z: the simulated "now" of most tests.
pub const NOW: i64 = 1_717_245_000_000;
pub const HOUR: i64 = 3_600_000;
pub const MINUTE: i64 = 60_000;
pub const DAY: i64 = 86_400_000;

pub struct World {
    pub sim: Sim,
    pub clock: Arc<ManualClock>,
    pub dir: tempfile::TempDir,
}

impl World {
    pub async fn new() -> World {
        Self::with(SimConfig::default()).await
    }

    pub async fn with(config: SimConfig) -> World {
        let sim = Sim::start(SimConfig { now_ms: Some(NOW), ..config }).await.expect("simulator starts");
        World { sim, clock: Arc::new(ManualClock::new(NOW)), dir: tempfile::tempdir().expect("temp dir") }
    }

    /// A builder pointed at the simulator, with this world's clock and disk directory,
    /// no jitter (so tests know exactly when open segments expire) and quick retries,
    /// over the REST path (archive tests turn archives on).
    pub fn builder(&self) -> CacheBuilder {
        Cache::builder()
            .exchange_url(self.sim.url())
            .archives(cryptocache::ArchiveMode::Off)
            .disk(self.dir.path())
            .clock(self.clock.clone())
            .policy(Policy { jitter: Duration::ZERO, ..Policy::default() })
            .retry(RetryPolicy { base_delay: Duration::from_millis(20), ..RetryPolicy::default() })
    }

    pub async fn cache(&self) -> Cache {
        self.builder().build().await.expect("cache builds")
    }

    /// Kline requests the simulator has served (both markets).
    pub fn kline_requests(&self) -> u64 {
        let s = self.sim.stats();
        ["/api/v3/klines", "/fapi/v1/klines"].iter().map(|p| s.endpoints.get(*p).copied().unwrap_or(0)).sum()
    }

    /// Moves both clocks (cache and simulator) to `now`.
    pub fn set_now(&self, now: i64) {
        self.clock.set(now);
        self.sim.set_now(Some(now));
    }

    /// A Binance config pointed at the simulator with the given weight budget.
    pub fn binance(&self, limit: u32, window: Duration) -> BinanceConfig {
        BinanceConfig {
            spot_url: self.sim.url(),
            usdm_url: self.sim.url(),
            spot_weight_limit: limit,
            usdm_weight_limit: limit,
            weight_window: window,
        }
    }
}

pub fn query(symbol: &str, interval: &str, start: i64, end: i64) -> KlineQuery {
    KlineQuery::new(Exchange::Binance, symbol, interval.parse().expect("interval"), start, end)
}

/// Asserts that `got` is exactly what the simulator holds for `q` at `now`, candle for
/// candle and bit for bit.
pub fn assert_matches_sim(got: &Candles, q: &KlineQuery, now: i64) {
    let market = match q.market {
        None | Some(Market::Spot) => BinanceMarket::Spot,
        Some(_) => BinanceMarket::UsdM,
    };
    let want =
        binance_klines(market, &q.symbol, &q.interval.to_string(), q.start, q.end, now).expect("sim data");
    assert_eq!(got.len(), want.len(), "candle count for {q:?}");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        let same = g.open_time == w.open_time
            && g.open.to_bits() == w.open.to_bits()
            && g.high.to_bits() == w.high.to_bits()
            && g.low.to_bits() == w.low.to_bits()
            && g.close.to_bits() == w.close.to_bits()
            && g.volume.to_bits() == w.volume.to_bits()
            && g.quote_volume.to_bits() == w.quote_volume.to_bits()
            && g.trades == Some(w.trades);
        assert!(same, "candle {i} differs:\n got  {g:?}\n want {w:?}");
    }
    assert!(got.open_time().windows(2).all(|w| w[0] < w[1]), "strictly ascending");
}

/// How many segments the cache must fetch for `q` cold (those starting before `now`).
pub fn segment_count(q: &KlineQuery, now: i64) -> u64 {
    let series = Arc::new(cryptocache::SeriesKey {
        source: cryptocache::source::LIVE.into(),
        exchange: q.exchange,
        market: q.market.unwrap_or(Market::Spot),
        kind: cryptocache::DataKind::Klines,
        interval: q.interval,
        symbol: q.symbol.as_str().into(),
    });
    cryptocache::segment::plan(&series, cryptocache::TimeRange::new(q.start, q.end), now).len() as u64
}

/// The Binance kline requests of `q` cold, over a series with a candle in every slot:
/// its pages of 1000 slots from its first slot (up to the slot holding `now`) when fewer than
/// its segments, else one request per segment.
pub fn binance_cold_requests(q: &KlineQuery, now: i64) -> u64 {
    let iv = q.interval;
    let end = iv.slot_start(iv.slot_of(q.end - 1) + 1).min(iv.slot_start(iv.slot_of(now) + 1));
    let mut pages = 0;
    let mut start = iv.slot_start(iv.slot_of(q.start));
    while start < end {
        start = iv.slot_start(iv.slot_of(start) + 1000).min(end);
        pages += 1;
    }
    pages.min(segment_count(q, now))
}

// ---------------------------------------------------------------------------
// Bybit, OKX and Deribit: worlds at other "nows", request counts per path, and
// comparisons against the simulator's own data.

/// 2025-06-01T12:30:00Z: a "now" at which the dated futures of the simulator (OKX
/// `BTC-USDT-250926`, Deribit `BTC-27JUN25`) are listed and still trading.
pub const NOW_2025: i64 = 1_748_781_000_000;

/// Kline endpoints of Bybit, OKX (recent and history) and Deribit.
pub const BYBIT_KLINE: &str = "/v5/market/kline";
pub const OKX_CANDLES: &str = "/api/v5/market/candles";
pub const OKX_HISTORY: &str = "/api/v5/market/history-candles";
pub const DERIBIT_CHART: &str = "/api/v2/public/get_tradingview_chart_data";

impl World {
    /// A world whose two clocks (cache and simulator) read `now`.
    pub async fn at(now: i64, config: SimConfig) -> World {
        let sim = Sim::start(SimConfig { now_ms: Some(now), ..config }).await.expect("simulator starts");
        World { sim, clock: Arc::new(ManualClock::new(now)), dir: tempfile::tempdir().expect("temp dir") }
    }

    /// Requests the simulator served on `path` (e.g. `/v5/market/kline`).
    pub fn requests(&self, path: &str) -> u64 {
        self.sim.stats().endpoints.get(path).copied().unwrap_or(0)
    }

    /// Kline requests on every Bybit, OKX and Deribit kline path.
    pub fn venue_kline_requests(&self) -> u64 {
        [BYBIT_KLINE, OKX_CANDLES, OKX_HISTORY, DERIBIT_CHART].iter().map(|p| self.requests(p)).sum()
    }

    /// [`World::builder`] without background prefetch, so request counts are exact.
    pub fn exact_builder(&self) -> CacheBuilder {
        self.builder().prefetch(0)
    }
}

/// A kline query on any exchange, market read from the symbol where it names one.
pub fn venue_query(exchange: Exchange, symbol: &str, interval: &str, start: i64, end: i64) -> KlineQuery {
    KlineQuery::new(exchange, symbol, interval.parse().expect("interval"), start, end)
}

/// Asserts that `got` is exactly the simulator's `venue` series `code` over `[start, end)`
/// at `now`, candle for candle and bit for bit (base volume as `volume`, quote volume as
/// `quote_volume`), strictly ascending. Returns the simulator's candles.
pub fn assert_matches_venue(
    got: &Candles,
    venue: cryptocache_sim::Venue,
    symbol: &str,
    code: &str,
    start: i64,
    end: i64,
    now: i64,
) -> Vec<cryptocache_sim::SimCandle> {
    let want = cryptocache_sim::venue_klines(venue, symbol, code, start, end, now).expect("sim data");
    assert_eq!(got.len(), want.len(), "candle count of {venue:?} {symbol} {code} [{start}, {end})");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        let same = g.open_time == w.open_time
            && g.open.to_bits() == w.open.to_bits()
            && g.high.to_bits() == w.high.to_bits()
            && g.low.to_bits() == w.low.to_bits()
            && g.close.to_bits() == w.close.to_bits()
            && g.volume.to_bits() == w.base_volume.to_bits()
            && g.quote_volume.to_bits() == w.quote_volume.to_bits()
            && g.trades.is_none();
        assert!(same, "{venue:?} {symbol} {code}: candle {i} differs:\n got  {g:?}\n want {w:?}");
    }
    assert!(got.open_time().windows(2).all(|w| w[0] < w[1]), "strictly ascending");
    assert!(got.open_time().iter().all(|&t| start <= t && t < end), "inside the range");
    want
}

/// The segments a cold kline query plans (those starting at or before `now`).
pub fn planned_segments(q: &KlineQuery, market: Market, now: i64) -> Vec<cryptocache::segment::SegmentKey> {
    let series = Arc::new(cryptocache::SeriesKey {
        source: cryptocache::source::LIVE.into(),
        exchange: q.exchange,
        market,
        kind: cryptocache::DataKind::Klines,
        interval: q.interval,
        symbol: q.symbol.as_str().into(),
    });
    cryptocache::segment::plan(&series, cryptocache::TimeRange::new(q.start, q.end), now)
}

/// `ceil(n / page)`.
pub fn pages(n: usize, page: usize) -> u64 {
    n.div_ceil(page) as u64
}

mod venue_model;
#[allow(unused_imports)] // each test binary uses a different subset
pub use venue_model::*;

/// Queries `q` on `cache` until it goes to the exchange (a kline request more than
/// `before`), failing if that takes `limit` or longer: another process's invalidation or
/// clear must reach this cache's memory tier in time.
pub async fn refetches_within(w: &World, cache: &Cache, q: &KlineQuery, before: u64, limit: Duration) {
    let since = std::time::Instant::now();
    loop {
        cache.klines(q).await.expect("query succeeds");
        if w.kline_requests() > before {
            return;
        }
        assert!(since.elapsed() < limit, "still served from memory after {limit:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits (up to 5 s) until `n` caches listen on the invalidation channel of prefix `cc`.
pub async fn wait_for_listeners(redis: &cryptocache_sim::redis_server::RedisServer, n: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let want = n.to_string();
    while redis.cli(&["PUBSUB", "NUMSUB", "cc:invalidate"]).expect("redis-cli").lines().nth(1) != Some(&want)
    {
        assert!(std::time::Instant::now() < deadline, "subscriptions not up");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
