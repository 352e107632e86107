//! The public face: [`Cache`] and its [`CacheBuilder`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::book::{OrderBook, OrderBookQuery};
use crate::candles::Candles;
use crate::clock::{Clock, SystemClock};
use crate::coverage::{Coverage, CoverageQuery};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::exchange::binance::{Binance, BinanceConfig};
use crate::exchange::bybit::{Bybit, BybitConfig};
use crate::exchange::deribit::{Deribit, DeribitConfig};
use crate::exchange::okx::{Okx, OkxConfig};
use crate::exchange::{HttpClient, HttpConfig, Requester, RetryPolicy, Upstream};
use crate::funding::FundingRates;
use crate::model::{Exchange, KlineQuery, RangeQuery};
use crate::policy::Policy;
use crate::stats::{Stats, UpstreamCounters};
use crate::tier::memory::MemoryTier;
use crate::tier::Tier;
use crate::trades::Trades;

/// Default memory tier size.
pub const DEFAULT_MEMORY_MB: u64 = 256;

/// The directory the disk tier uses unless told otherwise: `$CRYPTOCACHE_DIR`, else
/// `$XDG_CACHE_HOME/cryptocache`, else `~/.cache/cryptocache`.
pub fn default_disk_dir() -> PathBuf {
    let env = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    env("CRYPTOCACHE_DIR")
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("cryptocache")))
        .or_else(|| env("HOME").map(|d| d.join(".cache").join("cryptocache")))
        .unwrap_or_else(|| std::env::temp_dir().join("cryptocache"))
}

/// A tiered candle cache. Cheap to clone (shared state); safe to use from many tasks.
///
/// ```no_run
/// # async fn demo() -> cryptocache::Result<()> {
/// use cryptocache::{Cache, Exchange, KlineQuery};
/// let cache = Cache::builder().memory_mb(512).disk("/tmp/cc").build()?;
/// let q = KlineQuery::new(Exchange::Binance, "BTCUSDT", "1h".parse()?, 1_704_067_200_000, 1_706_745_600_000);
/// let candles = cache.klines(&q).await?; // fetched once, then served from the cache
/// println!("{} candles, last close {:?}", candles.len(), candles.close().last());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Cache {
    engine: Arc<Engine>,
    disk_dir: Option<PathBuf>,
}

impl Cache {
    /// A builder with the embedded defaults: 256 MB memory + disk at [`default_disk_dir`],
    /// the live exchange endpoints.
    pub fn builder() -> CacheBuilder {
        CacheBuilder::default()
    }

    /// Candles with open time in `[query.start, query.end)`, ascending.
    pub async fn klines(&self, query: &KlineQuery) -> Result<Candles> {
        self.engine.klines(query).await
    }

    /// Every public trade with time in `[query.start, query.end)`, ascending by (time, id).
    pub async fn trades(&self, query: &RangeQuery) -> Result<Trades> {
        self.engine.trades(query).await
    }

    /// Funding events of a perpetual with time in `[query.start, query.end)`, ascending.
    pub async fn funding_rates(&self, query: &RangeQuery) -> Result<FundingRates> {
        self.engine.funding_rates(query).await
    }

    /// The order book now; a snapshot younger than the policy's `order_book_ttl` is
    /// served from memory.
    pub async fn order_book(&self, query: &OrderBookQuery) -> Result<Arc<OrderBook>> {
        self.engine.order_book(query).await
    }

    /// What the tiers hold for a range, segment by segment: cached (and where),
    /// known-empty, open, expired, missing, or failed (with the error), plus the
    /// exchange-side gaps inside cached candle segments. Fetches nothing.
    pub async fn coverage(&self, query: &CoverageQuery) -> Result<Coverage> {
        self.engine.coverage(query).await
    }

    /// Counters since the cache was built.
    pub fn stats(&self) -> Stats {
        self.engine.stats()
    }

    /// The disk tier's directory, if there is one.
    pub fn disk_dir(&self) -> Option<&Path> {
        self.disk_dir.as_deref()
    }
}

#[derive(Debug, Clone)]
enum DiskChoice {
    Default,
    At(PathBuf),
    Off,
}

/// Configures a [`Cache`].
#[derive(Debug, Clone)]
pub struct CacheBuilder {
    memory_mb: Option<u64>,
    disk: DiskChoice,
    binance: BinanceConfig,
    bybit: BybitConfig,
    okx: OkxConfig,
    deribit: DeribitConfig,
    http: HttpConfig,
    retry: RetryPolicy,
    policy: Policy,
    clock: Arc<dyn Clock>,
    max_candles_per_query: u64,
    upstream_concurrency: usize,
}

impl Default for CacheBuilder {
    fn default() -> Self {
        CacheBuilder {
            memory_mb: Some(DEFAULT_MEMORY_MB),
            disk: DiskChoice::Default,
            binance: BinanceConfig::default(),
            bybit: BybitConfig::default(),
            okx: OkxConfig::default(),
            deribit: DeribitConfig::default(),
            http: HttpConfig::default(),
            retry: RetryPolicy::default(),
            policy: Policy::default(),
            clock: Arc::new(SystemClock),
            max_candles_per_query: 10_000_000,
            upstream_concurrency: 4,
        }
    }
}

impl CacheBuilder {
    /// Memory tier size in MiB of decoded candles.
    pub fn memory_mb(mut self, mb: u64) -> Self {
        self.memory_mb = Some(mb);
        self
    }

    /// No memory tier.
    pub fn no_memory(mut self) -> Self {
        self.memory_mb = None;
        self
    }

    /// Disk tier in directory `dir` (created if missing).
    pub fn disk(mut self, dir: impl Into<PathBuf>) -> Self {
        self.disk = DiskChoice::At(dir.into());
        self
    }

    /// No disk tier.
    pub fn no_disk(mut self) -> Self {
        self.disk = DiskChoice::Off;
        self
    }

    /// Points every exchange at one base URL (the simulator serves them all).
    pub fn exchange_url(mut self, url: impl Into<String>) -> Self {
        let url = url.into();
        for exchange in Exchange::ALL {
            self = self.exchange_url_for(exchange, url.clone());
        }
        self
    }

    /// Points one exchange at a base URL (Binance: spot and USD-M alike).
    pub fn exchange_url_for(mut self, exchange: Exchange, url: impl Into<String>) -> Self {
        let url = url.into();
        match exchange {
            Exchange::Binance => {
                self.binance.spot_url = url.clone();
                self.binance.usdm_url = url;
            }
            Exchange::Bybit => self.bybit.url = url,
            Exchange::Okx => self.okx.url = url,
            Exchange::Deribit => self.deribit.url = url,
        }
        self
    }

    /// Binance endpoints and weight budgets.
    pub fn binance(mut self, config: BinanceConfig) -> Self {
        self.binance = config;
        self
    }

    /// Bybit endpoint and request budget.
    pub fn bybit(mut self, config: BybitConfig) -> Self {
        self.bybit = config;
        self
    }

    /// OKX endpoint and request budgets.
    pub fn okx(mut self, config: OkxConfig) -> Self {
        self.okx = config;
        self
    }

    /// Deribit endpoint and request budget.
    pub fn deribit(mut self, config: DeribitConfig) -> Self {
        self.deribit = config;
        self
    }

    /// HTTP timeouts.
    pub fn http(mut self, config: HttpConfig) -> Self {
        self.http = config;
        self
    }

    /// Retry policy for upstream requests.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Expiry policy for open and empty segments.
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Time source (tests use [`ManualClock`](crate::ManualClock)).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Largest number of candle slots one query may span (default 10 million).
    pub fn max_candles_per_query(mut self, n: u64) -> Self {
        self.max_candles_per_query = n;
        self
    }

    /// Segment fetches one query runs at once (default 4).
    pub fn upstream_concurrency(mut self, n: usize) -> Self {
        self.upstream_concurrency = n;
        self
    }

    /// Builds the cache: opens the disk tier (a clear [`Error::Config`] if it cannot).
    pub fn build(self) -> Result<Cache> {
        let mut tiers: Vec<Arc<dyn Tier>> = Vec::new();
        let memory = self.memory_mb.map(|mb| MemoryTier::new(mb.saturating_mul(1 << 20)));
        if let Some(m) = &memory {
            tiers.push(Arc::new(m.clone()));
        }
        let disk_dir = match self.disk {
            DiskChoice::Default => Some(default_disk_dir()),
            DiskChoice::At(dir) => Some(dir),
            DiskChoice::Off => None,
        };
        if let Some(dir) = &disk_dir {
            tiers.push(Arc::new(crate::tier::disk::DiskTier::open(dir)?));
        }
        if self.max_candles_per_query == 0 {
            return Err(Error::Config("max_candles_per_query must be at least 1".into()));
        }
        let counters = Arc::new(UpstreamCounters::default());
        let requester = Requester {
            http: HttpClient::new(&self.http)?,
            retry: self.retry,
            counters: Arc::clone(&counters),
        };
        let upstreams: Vec<Arc<dyn Upstream>> = vec![
            Arc::new(Binance::new(self.binance, requester.clone())),
            Arc::new(Bybit::new(self.bybit, requester.clone())),
            Arc::new(Okx::new(self.okx, requester.clone())),
            Arc::new(Deribit::new(self.deribit, requester)),
        ];
        let engine = Engine::new(
            tiers,
            memory,
            upstreams,
            self.clock,
            self.policy,
            self.max_candles_per_query,
            self.upstream_concurrency,
            counters,
        );
        Ok(Cache { engine: Arc::new(engine), disk_dir })
    }
}
