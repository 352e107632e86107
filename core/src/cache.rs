//! The public face: [`Cache`] and its [`CacheBuilder`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::archive::{ArchiveMode, BINANCE_ARCHIVE_URL, BYBIT_ARCHIVE_URL};
use crate::book::{OrderBook, OrderBookQuery};
use crate::candles::Candles;
use crate::clock::{Clock, SystemClock};
use crate::coverage::{Coverage, CoverageQuery};
use crate::engine::{Engine, EngineParts, Venue};
use crate::error::{Error, Result};
use crate::exchange::binance::{Binance, BinanceConfig};
use crate::exchange::bybit::{Bybit, BybitConfig};
use crate::exchange::deribit::{Deribit, DeribitConfig};
use crate::exchange::okx::{Okx, OkxConfig};
use crate::exchange::{HttpClient, HttpConfig, Requester, RetryPolicy};
use crate::funding::FundingRates;
use crate::invalidate::{Invalidation, InvalidationReport};
use crate::model::{Exchange, KlineQuery, RangeQuery};
use crate::policy::Policy;
use crate::relay::{RelayClient, RelayConfig};
use crate::stats::{Stats, UpstreamCounters};
use crate::tier::memory::MemoryTier;
use crate::tier::{Tier, TierKind};
use crate::trades::Trades;
use crate::warm::{Dataset, WarmItem, WarmProgress, WarmReport};

/// Share of each exchange budget one process spends while the shared budget (Redis) is
/// unreachable: four processes together stay within the exchange's limit.
pub const DEFAULT_OFFLINE_SHARE: f64 = 0.25;

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
/// let cache = Cache::builder().memory_mb(512).disk("/tmp/cc").build().await?;
/// let q = KlineQuery::new(Exchange::Binance, "BTCUSDT", "1h".parse()?, 1_704_067_200_000, 1_706_745_600_000);
/// let candles = cache.klines(&q).await?; // fetched once, then served from the cache
/// println!("{} candles, last close {:?}", candles.len(), candles.close().last());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Cache {
    engine: Arc<Engine>,
    disk_dir: Option<PathBuf>,
    prefetch: Option<Arc<tokio::sync::Semaphore>>,
}

impl Cache {
    /// A builder with the embedded defaults: 256 MB memory + disk at [`default_disk_dir`],
    /// the live exchange endpoints.
    pub fn builder() -> CacheBuilder {
        CacheBuilder::default()
    }

    /// Candles with open time in `[query.start, query.end)`, ascending. With prefetch on,
    /// also starts fetching the next segment in the background.
    pub async fn klines(&self, query: &KlineQuery) -> Result<Candles> {
        let candles = self.engine.klines(query).await?;
        self.prefetch_after(query);
        Ok(candles)
    }

    /// [`klines`](Cache::klines) when the memory tier holds every segment of `query`
    /// fresh: answered at once, without a runtime or a thread hop (what the bindings try
    /// first). `None`, with nothing counted, when the full path must answer (also for an
    /// invalid query: the full path reports it). Prefetch runs only inside a Tokio
    /// runtime context.
    pub fn klines_in_memory(&self, query: &KlineQuery) -> Option<Candles> {
        let candles = self.engine.klines_in_memory(query)?;
        self.prefetch_after(query);
        Some(candles)
    }

    /// Schedules the segment after `query`'s last one, if a prefetch slot is free.
    fn prefetch_after(&self, query: &KlineQuery) {
        let Some(slots) = &self.prefetch else { return };
        let Some(next) = self.engine.next_segment(query) else { return };
        let Ok(permit) = Arc::clone(slots).try_acquire_owned() else { return };
        let engine = Arc::clone(&self.engine);
        crate::rt::spawn_background(async move {
            if let Err(e) = engine.prefetch(&next).await {
                tracing::debug!(error = %e, "prefetch failed");
            }
            drop(permit);
        });
    }

    /// The one cached segment of `dataset` that starts at `start` (which must be a segment
    /// boundary), from the tiers or the exchange, as stored: a relay serves it in the
    /// [`codec`](crate::codec) encoding. Its `expires_at` says whether it is final.
    pub async fn segment(
        &self,
        exchange: Exchange,
        market: Option<crate::model::Market>,
        symbol: &str,
        dataset: Dataset,
        start: i64,
    ) -> Result<Arc<crate::segment::Segment>> {
        let (kind, interval) = dataset.kind();
        let spec = crate::engine::SeriesSpec { exchange, market, symbol, kind };
        self.engine.segment(spec, interval, start).await
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

    /// Fills every tier for a watchlist up front, `concurrency` items at a time, calling
    /// `progress` after each step. Failed items are reported; the rest are cached.
    pub async fn warm(
        &self,
        items: &[WarmItem],
        concurrency: usize,
        progress: &(dyn Fn(WarmProgress) + Send + Sync),
    ) -> WarmReport {
        crate::warm::warm(self, items, concurrency, progress).await
    }

    /// Drops every segment covering the invalidation's range from every tier (memory,
    /// disk, Redis) and, with Redis, from the memory tier of every other process sharing
    /// it (through pub/sub, at once). With `refresh`, refetches the range right away.
    ///
    /// ```no_run
    /// # async fn demo(cache: cryptocache::Cache) -> cryptocache::Result<()> {
    /// use cryptocache::invalidate::Invalidation;
    /// use cryptocache::Exchange;
    /// let day = Invalidation::range(Exchange::Binance, "BTCUSDT", "1m".parse()?, 1_704_067_200_000, 1_704_153_600_000);
    /// let report = cache.invalidate(&day.refresh(true)).await?;
    /// println!("{} segments dropped, {:?} candles refetched", report.segments, report.refetched_rows);
    /// # Ok(()) }
    /// ```
    pub async fn invalidate(&self, invalidation: &Invalidation) -> Result<InvalidationReport> {
        let (series, keys) = self.engine.invalidate(invalidation).await?;
        let mut report = crate::engine::invalidate::report(&series, &keys);
        if let (true, Some(first)) = (invalidation.refresh, keys.first()) {
            let i = invalidation;
            let start = i.start.unwrap_or(first.span().start);
            let end = i.end.unwrap_or(self.engine.clock.now_ms() + 1);
            let range =
                RangeQuery { exchange: i.exchange, market: i.market, symbol: i.symbol.clone(), start, end };
            let rows = match i.dataset {
                Dataset::Klines(interval) => {
                    let q = KlineQuery {
                        exchange: i.exchange,
                        market: i.market,
                        symbol: i.symbol.clone(),
                        interval,
                        start,
                        end,
                    };
                    self.engine.klines(&q).await?.len()
                }
                Dataset::Trades => self.engine.trades(&range).await?.len(),
                Dataset::Funding => self.engine.funding_rates(&range).await?.len(),
            };
            report.refetched_rows = Some(rows);
        }
        Ok(report)
    }

    /// Deletes every segment of the source namespace `source` (every namespace with
    /// `None`) from every tier — memory, disk, Redis — and, with Redis, from the memory
    /// tier of every other process sharing it. Returns `(tier, segments deleted)` per tier.
    /// A namespace name is checked like [`CacheBuilder::source`]'s.
    pub async fn clear(&self, source: Option<&str>) -> Result<Vec<(String, u64)>> {
        self.engine.clear(source).await
    }

    /// Counters since the cache was built.
    pub fn stats(&self) -> Stats {
        self.engine.stats()
    }

    /// [`stats`](Self::stats) in Prometheus text format (see [`Stats::prometheus`]), for
    /// an exporter or a `/metrics` endpoint.
    pub fn stats_prometheus(&self) -> String {
        self.engine.stats().prometheus()
    }

    /// The disk tier's directory, if there is one.
    pub fn disk_dir(&self) -> Option<&Path> {
        self.disk_dir.as_deref()
    }

    /// The source namespace each exchange's values are stored under: `live` for the
    /// exchanges' own endpoints, another name for a simulator, proxy or testnet (see
    /// [`CacheBuilder::source`]).
    pub fn sources(&self) -> Vec<(Exchange, Arc<str>)> {
        self.engine.sources()
    }

    /// A number that changes whenever this process drops cached values on an
    /// invalidation or a clear (its own, or another process's through Redis pub/sub). A
    /// memo of answers built from final data ([`Candles::is_final`]) stays valid while
    /// it is unchanged: the relay keys its rendered bodies by it.
    pub fn generation(&self) -> u64 {
        self.engine.changes.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Counts one event of `scope` in the current fixed window of length `window` (aligned
    /// to the epoch), together with every process on the same Redis: returns the events
    /// counted in that window so far (this one included) and the time until it ends.
    /// `None` without Redis; an error when Redis cannot be reached (count locally then).
    /// The relay counts each API key's requests per minute with it.
    pub async fn count_in_window(
        &self,
        scope: &str,
        window: std::time::Duration,
    ) -> Option<Result<(u64, std::time::Duration)>> {
        #[cfg(feature = "redis")]
        {
            let shared = self.engine.shared.as_ref()?;
            let window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
            let counted = crate::redis::window::count(shared, scope, window_ms, self.now_ms()).await;
            Some(counted.map(|(n, left)| (n, std::time::Duration::from_millis(left.max(0) as u64))))
        }
        #[cfg(not(feature = "redis"))]
        {
            let _ = (scope, window);
            None
        }
    }

    /// "Now" by this cache's clock (ms since 1970): the system's, or a test's
    /// [`ManualClock`](crate::ManualClock).
    pub fn now_ms(&self) -> i64 {
        self.engine.clock.now_ms()
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
    #[cfg(feature = "redis")]
    redis: Option<crate::redis::RedisConfig>,
    #[cfg(feature = "redis")]
    budget_scope: String,
    tier_order: Option<Vec<TierKind>>,
    prefetch: usize,
    source: Option<String>,
    offline_share: f64,
    disk_max_bytes: Option<u64>,
    #[cfg(feature = "redis")]
    redis_ttl: Option<std::time::Duration>,
    relay: Option<RelayConfig>,
    archives: ArchiveMode,
    /// Base URL of Binance's bulk archive (data.binance.vision).
    binance_archive_url: String,
    /// Base URL of Bybit's trade archive (public.bybit.com).
    bybit_archive_url: String,
    /// Base URL of OKX's historical data index (its API host).
    okx_archive_url: String,
    /// An exchange whose archive URL was set although it publishes no archive (Deribit).
    unread_archive_url: Option<Exchange>,
    #[cfg(target_arch = "wasm32")]
    browser_storage: Option<String>,
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
            #[cfg(feature = "redis")]
            redis: None,
            #[cfg(feature = "redis")]
            budget_scope: "default".into(),
            tier_order: None,
            prefetch: 2,
            source: None,
            offline_share: DEFAULT_OFFLINE_SHARE,
            disk_max_bytes: None,
            #[cfg(feature = "redis")]
            redis_ttl: None,
            relay: None,
            archives: ArchiveMode::default(),
            binance_archive_url: BINANCE_ARCHIVE_URL.into(),
            bybit_archive_url: BYBIT_ARCHIVE_URL.into(),
            okx_archive_url: OkxConfig::default().url,
            unread_archive_url: None,
            #[cfg(target_arch = "wasm32")]
            browser_storage: None,
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

    /// Points one exchange at a base URL (Binance: spot and USD-M alike; Binance, Bybit
    /// and OKX: their bulk archives too, since a simulator serves the archive paths
    /// beside its REST endpoints).
    pub fn exchange_url_for(mut self, exchange: Exchange, url: impl Into<String>) -> Self {
        let url = url.into();
        match exchange {
            Exchange::Binance => {
                self.binance.spot_url = url.clone();
                self.binance_archive_url = url.clone();
                self.binance.usdm_url = url;
            }
            Exchange::Bybit => {
                self.bybit_archive_url = url.clone();
                self.bybit.url = url;
            }
            Exchange::Okx => {
                self.okx_archive_url = url.clone();
                self.okx.url = url;
            }
            Exchange::Deribit => self.deribit.url = url,
        }
        self
    }

    /// Names the source namespace every value this cache fetches is stored under (1–64
    /// characters of `a-z 0-9 . _ -`). Without it, the exchanges' own endpoints are the
    /// namespace `live` and any other base URL (of an exchange or of its archive) gets one
    /// derived from the URLs, so values
    /// from a simulator, proxy or testnet are never served as live data. Name a
    /// transparent proxy of the live exchange `live` to share the live namespace.
    pub fn source(mut self, name: impl Into<String>) -> Self {
        self.source = Some(name.into());
        self
    }

    /// A persistent tier in the host's Cache Storage (browsers, Deno, workers), in the
    /// cache named `name`, at the disk tier's place in the order (WebAssembly only).
    #[cfg(target_arch = "wasm32")]
    pub fn browser_storage(mut self, name: impl Into<String>) -> Self {
        self.browser_storage = Some(name.into());
        self
    }

    /// Whether closed history comes from the exchanges' bulk archives (default
    /// [`ArchiveMode::Auto`]; see `docs/archives.md`).
    pub fn archives(mut self, mode: ArchiveMode) -> Self {
        self.archives = mode;
        self
    }

    /// Points an exchange's bulk archive at a base URL (after
    /// [`exchange_url_for`](Self::exchange_url_for), which sets it too): Binance's and
    /// Bybit's archive hosts, and for OKX the API host serving its historical data index.
    /// Deribit publishes no archive: for it this is a [`Error::Config`] at build.
    pub fn archive_url_for(mut self, exchange: Exchange, url: impl Into<String>) -> Self {
        match exchange {
            Exchange::Binance => self.binance_archive_url = url.into(),
            Exchange::Bybit => self.bybit_archive_url = url.into(),
            Exchange::Okx => self.okx_archive_url = url.into(),
            other => self.unread_archive_url = Some(other),
        }
        self
    }

    /// Fetches through a cryptocache relay (`cryptocache serve`) instead of the
    /// exchanges: whole verified segments with the relay's expiry, order books, and the
    /// relay's errors; this cache then never contacts an exchange. Values are stored
    /// under the relay's source namespaces (asked at [`build`](Self::build)), or under
    /// the [`source`](Self::source) named here, which the relay's answers must then match.
    pub fn relay(mut self, url: impl Into<String>, api_key: Option<String>) -> Self {
        self.relay = Some(RelayConfig { url: url.into(), api_key });
        self
    }

    /// The source namespace of every venue when fetching through `relay`: the one named
    /// with [`source`](Self::source), else the relay's own.
    async fn relay_sources(&self, relay: &RelayClient) -> Result<[Arc<str>; 4]> {
        if let Some(name) = &self.source {
            crate::source::validate_name(name)?;
            return Ok(std::array::from_fn(|_| Arc::from(name.as_str())));
        }
        let theirs = relay.sources().await.map_err(|e| {
            Error::Config(format!(
                "cannot learn the relay's source namespaces ({e}); name the source to start without the relay"
            ))
        })?;
        let of = |exchange: Exchange| {
            theirs
                .iter()
                .find(|(e, _)| *e == exchange)
                .map(|(_, s)| Arc::from(s.as_str()))
                .ok_or_else(|| Error::Config(format!("the relay names no source for {exchange}")))
        };
        Ok([of(Exchange::Binance)?, of(Exchange::Bybit)?, of(Exchange::Okx)?, of(Exchange::Deribit)?])
    }

    /// Whether any exchange base URL differs from the exchange's own.
    fn exchange_urls_changed(&self) -> bool {
        let live = CacheBuilder::default();
        self.binance.spot_url != live.binance.spot_url
            || self.binance.usdm_url != live.binance.usdm_url
            || self.bybit.url != live.bybit.url
            || self.okx.url != live.okx.url
            || self.deribit.url != live.deribit.url
    }

    /// The namespace of each venue's values (see [`source`](Self::source)).
    fn sources(&self) -> Result<[Arc<str>; 4]> {
        let live = CacheBuilder::default();
        let named = self.source.as_deref();
        let of =
            |urls: &[&str], defaults: &[&str]| crate::source::resolve(named, urls, defaults).map(Arc::from);
        Ok([
            // An archive elsewhere than the exchange's own is another source too.
            of(
                &[&self.binance.spot_url, &self.binance.usdm_url, &self.binance_archive_url],
                &[&live.binance.spot_url, &live.binance.usdm_url, &live.binance_archive_url],
            )?,
            of(&[&self.bybit.url, &self.bybit_archive_url], &[&live.bybit.url, &live.bybit_archive_url])?,
            of(&[&self.okx.url, &self.okx_archive_url], &[&live.okx.url, &live.okx_archive_url])?,
            of(&[&self.deribit.url], &[&live.deribit.url])?,
        ])
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

    /// A Redis (or Redis Cluster) tier shared by every process that uses it: see
    /// [`RedisConfig`](crate::redis::RedisConfig) for URL forms. Connecting happens in
    /// [`build`](Self::build), so a wrong password fails there, clearly.
    #[cfg(feature = "redis")]
    pub fn redis(mut self, url: impl Into<String>) -> Self {
        self.redis = Some(crate::redis::RedisConfig::new(url));
        self
    }

    /// A Redis tier with full settings (key prefix, timeouts, TLS CA).
    #[cfg(feature = "redis")]
    pub fn redis_config(mut self, config: crate::redis::RedisConfig) -> Self {
        self.redis = Some(config);
        self
    }

    /// Names the group of processes that share one exchange rate budget through Redis
    /// (default `default`): give processes on different egress IPs different scopes.
    #[cfg(feature = "redis")]
    pub fn budget_scope(mut self, scope: impl Into<String>) -> Self {
        self.budget_scope = scope.into();
        self
    }

    /// The share (0 < share <= 1, default ¼) of each exchange budget this process spends
    /// while the shared budget in Redis is unreachable, so that N processes falling back
    /// to local budgets do not spend N times the exchange's limit.
    #[cfg(feature = "redis")]
    pub fn offline_budget_share(mut self, share: f64) -> Self {
        self.offline_share = share;
        self
    }

    /// The order tiers are asked in, e.g. `[Memory, Redis, Disk]` (default memory →
    /// disk → redis; memory, when present, must come first). Tiers not configured are skipped.
    pub fn tier_order(mut self, order: impl Into<Vec<TierKind>>) -> Self {
        self.tier_order = Some(order.into());
        self
    }

    /// Background prefetch for sequential reads: when a kline query starts where the
    /// previous one on the same series ended (a backtest walking forward), the segment
    /// after it is fetched in the background. At most `n` at once; 0 turns it off
    /// (default 2).
    pub fn prefetch(mut self, n: usize) -> Self {
        self.prefetch = n;
        self
    }

    /// Segment fetches one query runs at once (default 4).
    pub fn upstream_concurrency(mut self, n: usize) -> Self {
        self.upstream_concurrency = n;
        self
    }

    /// Bounds the disk tier to `mb` MiB: past it, the least recently used segment files
    /// are removed (by whichever process sharing the directory notices first).
    pub fn disk_max_mb(mut self, mb: u64) -> Self {
        self.disk_max_bytes = Some(mb.saturating_mul(1 << 20));
        self
    }

    /// A TTL for closed segments in Redis (default none: they never change, but a key set
    /// without TTLs only grows; see docs/redis.md for sizing and `maxmemory-policy`).
    #[cfg(feature = "redis")]
    pub fn redis_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.redis_ttl = Some(ttl);
        self
    }

    /// Builds the cache: opens the disk tier and connects to Redis (a clear
    /// [`Error::Config`] if either cannot be used, e.g. a wrong Redis password).
    pub async fn build(self) -> Result<Cache> {
        if self.max_candles_per_query == 0 {
            return Err(Error::Config("max_candles_per_query must be at least 1".into()));
        }
        if !(self.offline_share > 0.0 && self.offline_share <= 1.0) {
            return Err(Error::Config(format!(
                "offline_budget_share must be above 0 and at most 1, not {}",
                self.offline_share
            )));
        }
        let order = self
            .tier_order
            .clone()
            .unwrap_or_else(|| vec![TierKind::Memory, TierKind::Disk, TierKind::Redis]);
        if order.iter().position(|&k| k == TierKind::Memory).is_some_and(|at| at != 0) {
            return Err(Error::Config("the memory tier, when used, comes first".into()));
        }
        if self.relay.is_some() && self.exchange_urls_changed() {
            return Err(Error::Config(
                "a relay and exchange URLs are exclusive: through a relay, no exchange is contacted".into(),
            ));
        }
        if let Some(exchange) = self.unread_archive_url {
            return Err(Error::Config(format!(
                "{exchange} publishes no archive: only Binance's, Bybit's and OKX's are read"
            )));
        }
        let counters = Arc::new(UpstreamCounters::default());
        let relay = match &self.relay {
            Some(config) => {
                Some(Arc::new(RelayClient::new(config, &self.http, self.retry, Arc::clone(&counters))?))
            }
            None => None,
        };
        let [binance_source, bybit_source, okx_source, deribit_source] = match &relay {
            Some(relay) => self.relay_sources(relay).await?,
            None => self.sources()?,
        };
        let memory = self.memory_mb.map(|mb| MemoryTier::new(mb.saturating_mul(1 << 20)));
        let disk_dir = match &self.disk {
            // Without the disk feature (e.g. WebAssembly) there is no disk tier to default to.
            DiskChoice::Default if cfg!(feature = "disk") => Some(default_disk_dir()),
            DiskChoice::Default | DiskChoice::Off => None,
            DiskChoice::At(dir) => Some(dir.clone()),
        };
        #[cfg(feature = "redis")]
        let shared = match &self.redis {
            Some(config) => Some(crate::redis::Shared::connect(config).await?),
            None => None,
        };
        let mut tiers: Vec<Arc<dyn Tier>> = Vec::new();
        for kind in order {
            match kind {
                TierKind::Memory => {
                    if let Some(m) = &memory {
                        tiers.push(Arc::new(m.clone()));
                    }
                }
                #[cfg(not(feature = "disk"))]
                TierKind::Disk => {
                    if disk_dir.is_some() {
                        return Err(Error::Unsupported("this build has no disk tier".into()));
                    }
                    #[cfg(target_arch = "wasm32")]
                    if let Some(name) = &self.browser_storage {
                        tiers.push(Arc::new(crate::tier::browser::BrowserStorageTier::new(name.clone())?));
                    }
                }
                #[cfg(feature = "disk")]
                TierKind::Disk => {
                    if let Some(dir) = &disk_dir {
                        let disk = crate::tier::disk::DiskTier::open(dir)?;
                        tiers.push(Arc::new(match self.disk_max_bytes {
                            Some(max) => disk.with_max_bytes(max),
                            None => disk,
                        }));
                    }
                }
                #[cfg(feature = "redis")]
                TierKind::Redis => {
                    if let Some(shared) = &shared {
                        let lifetimes = crate::redis::RedisLifetimes {
                            closed: self.redis_ttl,
                            stale_grace: self.policy.stale_while_revalidate,
                        };
                        tiers.push(Arc::new(crate::redis::RedisTier::new(
                            shared.clone(),
                            Arc::clone(&self.clock),
                            lifetimes,
                        )));
                    }
                }
                #[cfg(not(feature = "redis"))]
                TierKind::Redis => {}
            }
        }
        let requester = Requester {
            http: HttpClient::new(&self.http)?,
            retry: self.retry,
            counters: Arc::clone(&counters),
            budget: None,
            offline_share: self.offline_share,
        };
        // The shared budget (and its pauses) is per source too: a simulator's or a
        // testnet's 429 must not pause, nor its traffic spend, the live exchange's budget.
        let for_source = |source: &Arc<str>| {
            #[cfg(feature = "redis")]
            let budget = shared.as_ref().map(|s| {
                let scope = format!("{}@{source}", self.budget_scope);
                Arc::new(crate::redis::RedisBudget::new(s.clone(), scope))
                    as Arc<dyn crate::exchange::SharedBudget>
            });
            #[cfg(not(feature = "redis"))]
            let budget = {
                let _ = source;
                None
            };
            Requester { budget, ..requester.clone() }
        };
        let venues = vec![
            Venue {
                upstream: Arc::new(Binance::new(self.binance, for_source(&binance_source))),
                source: binance_source,
            },
            Venue {
                upstream: Arc::new(Bybit::new(self.bybit, for_source(&bybit_source))),
                source: bybit_source,
            },
            Venue { upstream: Arc::new(Okx::new(self.okx, for_source(&okx_source))), source: okx_source },
            Venue {
                upstream: Arc::new(Deribit::new(self.deribit, for_source(&deribit_source))),
                source: deribit_source,
            },
        ];
        #[allow(unused_mut)]
        let mut engine = Engine::new(EngineParts {
            tiers,
            memory,
            venues,
            clock: self.clock,
            policy: self.policy,
            max_candles: self.max_candles_per_query,
            upstream_concurrency: self.upstream_concurrency,
            upstream_counters: counters,
            #[cfg(feature = "redis")]
            max_wait: self.retry.max_wait,
        });
        engine.relay = relay;
        engine.archives.mode = self.archives;
        #[cfg(all(feature = "http", not(target_arch = "wasm32")))]
        if self.archives != ArchiveMode::Off {
            // Downloads are written beside the disk tier (resumed by the next run).
            let spool = crate::archive::Spool::beside(disk_dir.as_deref());
            let downloader = |venue| crate::archive::Downloader {
                http: requester.http.clone(),
                retry: self.retry,
                counters: Arc::clone(&engine.upstream_counters),
                venue,
                spool: spool.clone(),
            };
            let binance =
                crate::archive::BinanceArchive::new(&self.binance_archive_url, downloader("binance-archive"));
            engine.archives.binance = Some(Arc::new(binance));
            let bybit =
                crate::archive::BybitArchive::new(&self.bybit_archive_url, downloader("bybit-archive"));
            engine.archives.bybit = Some(Arc::new(bybit));
            let okx = crate::archive::OkxArchive::new(&self.okx_archive_url, downloader("okx-archive"));
            engine.archives.okx = Some(Arc::new(okx));
        }
        #[cfg(feature = "redis")]
        if let Some(shared) = shared {
            engine.lock = Some(crate::redis::SegmentLock::new(shared.clone()));
            let alive = Arc::downgrade(&engine.alive);
            let changes = Arc::clone(&engine.changes);
            crate::redis::listen(shared.clone(), engine.memory.clone(), engine.origin, alive, changes);
            engine.shared = Some(shared);
        }
        let prefetch = (self.prefetch > 0).then(|| Arc::new(tokio::sync::Semaphore::new(self.prefetch)));
        Ok(Cache { engine: engine.shared(), disk_dir, prefetch })
    }
}
