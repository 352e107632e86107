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
    /// no jitter (so tests know exactly when open segments expire) and quick retries.
    pub fn builder(&self) -> CacheBuilder {
        Cache::builder()
            .exchange_url(self.sim.url())
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
        exchange: q.exchange,
        market: q.market.unwrap_or(Market::Spot),
        kind: cryptocache::DataKind::Klines,
        interval: q.interval,
        symbol: q.symbol.as_str().into(),
    });
    cryptocache::segment::plan(&series, cryptocache::TimeRange::new(q.start, q.end), now).len() as u64
}
