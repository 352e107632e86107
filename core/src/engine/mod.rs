//! The engine behind [`Cache`](crate::Cache): the read path and everything it needs.
//!
//! | module | job |
//! |---|---|
//! | `mod.rs` | the `Engine`, query entry points, validation, sequential-read prefetch planning |
//! | `resolve.rs` | segments from the tiers in order, write-back, the missing ones upstream |
//! | `fetch.rs` | one missing segment: cross-process lock, upstream fetch, expiry, store |
//! | `listing.rs` | symbol checks and the exchange's own "nothing before" answers |
//! | `retention.rs` | how far back an exchange serves a series, and the error beyond it |
//! | `coverage.rs` | coverage reports (reads the tiers only) |
//! | `archived.rs` | closed kline segments from the exchanges' bulk archives (`archives` setting) |
//! | `books.rs` | order-book snapshots (short-TTL cache-aside) |
//! | `invalidate.rs` | dropping segments from every tier and telling other processes |
//! | `normalize.rs` | upstream rows → one segment's sorted, de-duplicated columns; result views |

mod archived;
mod books;
mod coverage;
mod fetch;
pub(crate) mod invalidate;
mod listing;
mod normalize;
mod partial;
mod resolve;
mod retention;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::book::OrderBook;
use crate::candles::Candles;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::exchange::{Instrument, Upstream};
use crate::funding::FundingRates;
use crate::memo::Memo;
use crate::model::{
    checked_range, DataKind, Exchange, Interval, KlineQuery, Market, RangeQuery, SeriesKey, TimeRange,
    LATEST_MS,
};
use crate::policy::Policy;
use crate::segment::{self, Payload, Segment, SegmentKey};
use crate::singleflight::Singleflight;
use crate::stats::{self, Stats, TierCounters, UpstreamCounters};
use crate::tier::memory::MemoryTier;
use crate::tier::Tier;
use crate::trades::Trades;

use normalize::slices;

/// One tier with its counters.
pub(crate) struct TierSlot {
    pub tier: Arc<dyn Tier>,
    pub counters: TierCounters,
}

/// A venue's adapter with the source namespace its values are stored under.
pub(crate) struct Venue {
    /// The exchange adapter.
    pub upstream: Arc<dyn Upstream>,
    /// `live` or the namespace of a simulator, proxy or testnet.
    pub source: Arc<str>,
}

/// A series and the hint a "nothing before" probe was asked with.
type ProbeKey = (Arc<SeriesKey>, Option<i64>);

/// Exchange, market, symbol: what a symbol check is about.
type SymbolKey = (Exchange, Market, String);

pub(crate) struct Engine {
    pub tiers: Vec<TierSlot>,
    pub memory: Option<MemoryTier>,
    pub venues: Vec<Venue>,
    pub clock: Arc<dyn Clock>,
    pub policy: Policy,
    pub max_candles: u64,
    pub upstream_concurrency: usize,
    pub upstream_counters: Arc<UpstreamCounters>,
    #[cfg(feature = "redis")]
    /// Longest wait for another process's fetch (also bounded by the lock's own limit).
    pub max_wait: std::time::Duration,
    pub queries: AtomicU64,
    /// How long queries took (hits and misses alike).
    query_durations: stats::Histogram,
    pub prefetches: AtomicU64,
    /// Where the last kline query on each series ended (to spot sequential reads).
    last_ends: Memo<Arc<SeriesKey>, i64>,
    flights: Singleflight<SegmentKey, Result<Arc<Segment>>>,
    /// Pieces of partial fetches in flight (one request per piece however many queries want it).
    piece_flights: Singleflight<partial::PieceKey, Result<Arc<Vec<crate::candles::Candle>>>>,
    /// The exchange's answers "nothing opens before t", per series and hint.
    empty_before: Memo<ProbeKey, Option<i64>>,
    empty_before_flights: Singleflight<ProbeKey, Result<Option<i64>>>,
    books: Memo<books::BookKey, (Arc<OrderBook>, i64)>,
    book_flights: Singleflight<books::BookKey, Result<Arc<OrderBook>>>,
    /// The last failed fetch per segment (time, error), for coverage reports.
    failures: Memo<SegmentKey, (i64, String)>,
    /// What the instruments lists said per symbol, until when.
    instruments: Memo<SymbolKey, (Option<Instrument>, i64)>,
    /// One symbol check at a time per symbol, however many queries need it.
    instrument_flights: Singleflight<SymbolKey, Result<Option<Instrument>>>,
    /// A cryptocache relay that serves whole segments and books instead of the exchanges
    /// (then no exchange is ever contacted: symbol checks, probes and retention are the
    /// relay's).
    pub relay: Option<Arc<crate::relay::RelayClient>>,
    /// The `archives` setting and the archive readers.
    pub archives: archived::Archives,
    /// The cross-process lock, when Redis is configured.
    #[cfg(feature = "redis")]
    pub lock: Option<crate::redis::SegmentLock>,
    /// The Redis connection, for invalidation messages.
    #[cfg(feature = "redis")]
    pub shared: Option<crate::redis::Shared>,
    #[cfg(feature = "redis")]
    /// This cache's id in invalidation messages (it ignores its own).
    pub origin: u64,
    /// Bumped whenever this process drops values on an invalidation or clear (its own
    /// or, through Redis, another process's): see `Cache::generation`.
    pub changes: Arc<AtomicU64>,
    #[cfg(feature = "redis")]
    /// Dropped with the engine: background listeners stop when they can't upgrade it.
    pub alive: Arc<()>,
    /// This engine, for background refreshes (set when it is put in its `Arc`).
    me: std::sync::Weak<Engine>,
    /// Background refreshes of stale segments started (stale-while-revalidate).
    revalidations: AtomicU64,
    /// Segments a background refresh is running for.
    refreshing: std::sync::Mutex<std::collections::HashSet<SegmentKey>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("tiers", &self.tiers.iter().map(|t| t.tier.name()).collect::<Vec<_>>())
            .field(
                "venues",
                &self.venues.iter().map(|v| (v.upstream.exchange(), &v.source)).collect::<Vec<_>>(),
            )
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// What an [`Engine`] is built from.
pub(crate) struct EngineParts {
    pub tiers: Vec<Arc<dyn Tier>>,
    pub memory: Option<MemoryTier>,
    pub venues: Vec<Venue>,
    pub clock: Arc<dyn Clock>,
    pub policy: Policy,
    pub max_candles: u64,
    pub upstream_concurrency: usize,
    pub upstream_counters: Arc<UpstreamCounters>,
    #[cfg(feature = "redis")]
    pub max_wait: std::time::Duration,
}

impl Engine {
    /// The engine, shared (background refreshes hold it while they run).
    pub(crate) fn shared(mut self) -> Arc<Self> {
        Arc::new_cyclic(|me| {
            self.me = me.clone();
            self
        })
    }

    pub(crate) fn new(parts: EngineParts) -> Self {
        Engine {
            tiers: parts
                .tiers
                .into_iter()
                .map(|tier| TierSlot { tier, counters: TierCounters::default() })
                .collect(),
            memory: parts.memory,
            venues: parts.venues,
            clock: parts.clock,
            policy: parts.policy,
            max_candles: parts.max_candles,
            upstream_concurrency: parts.upstream_concurrency.max(1),
            upstream_counters: parts.upstream_counters,
            #[cfg(feature = "redis")]
            max_wait: parts.max_wait,
            queries: AtomicU64::new(0),
            query_durations: stats::Histogram::default(),
            prefetches: AtomicU64::new(0),
            last_ends: Memo::new(10_000),
            flights: Singleflight::default(),
            piece_flights: Singleflight::default(),
            empty_before: Memo::new(100_000),
            empty_before_flights: Singleflight::default(),
            books: Memo::new(10_000),
            book_flights: Singleflight::default(),
            failures: Memo::new(100_000),
            instruments: Memo::new(100_000),
            instrument_flights: Singleflight::default(),
            relay: None,
            archives: archived::Archives::default(),
            #[cfg(feature = "redis")]
            lock: None,
            #[cfg(feature = "redis")]
            shared: None,
            #[cfg(feature = "redis")]
            origin: fastrand::u64(..),
            changes: Arc::default(),
            #[cfg(feature = "redis")]
            alive: Arc::new(()),
            me: std::sync::Weak::new(),
            revalidations: AtomicU64::new(0),
            refreshing: std::sync::Mutex::default(),
        }
    }

    /// A venue's adapter and source namespace.
    fn venue(&self, exchange: Exchange) -> Result<&Venue> {
        self.venues
            .iter()
            .find(|v| v.upstream.exchange() == exchange)
            .ok_or_else(|| Error::Unsupported(format!("{exchange} is not available in this build")))
    }

    /// The source namespaces this cache reads and writes, one per venue.
    pub(crate) fn sources(&self) -> Vec<(Exchange, Arc<str>)> {
        self.venues.iter().map(|v| (v.upstream.exchange(), Arc::clone(&v.source))).collect()
    }

    pub(crate) fn stats(&self) -> Stats {
        let tiers: Vec<_> =
            self.tiers.iter().map(|t| (t.tier.name(), &t.counters, t.tier.evictions())).collect();
        let queries = self.queries.load(Ordering::Relaxed);
        let mut stats = stats::snapshot(queries, &tiers, &self.upstream_counters, &self.query_durations);
        stats.prefetches = self.prefetches.load(Ordering::Relaxed);
        stats.revalidations = self.revalidations.load(Ordering::Relaxed);
        stats
    }

    /// Answers a kline query.
    pub(crate) async fn klines(&self, q: &KlineQuery) -> Result<Candles> {
        let series =
            SeriesSpec { exchange: q.exchange, market: q.market, symbol: &q.symbol, kind: DataKind::Klines };
        let (series, range, segments, now) = self.segments(series, Some(q.interval), q.start, q.end).await?;
        let rows = slices(&segments, range, now, |p| match p {
            Payload::Candles(c) => Some(c),
            _ => None,
        });
        Ok(Candles::new(rows, series.interval, range, now))
    }

    /// Answers a kline query from the memory tier alone, without waiting: `None` (and
    /// nothing counted) when any of its segments is not there fresh, or the query is not
    /// valid (the full path reports and counts that).
    pub(crate) fn klines_in_memory(&self, q: &KlineQuery) -> Option<Candles> {
        let started = crate::rt::Instant::now();
        let spec =
            SeriesSpec { exchange: q.exchange, market: q.market, symbol: &q.symbol, kind: DataKind::Klines };
        let (upstream, series, range) = self.series(spec, Some(q.interval), q.start, q.end).ok()?;
        let now = self.clock.now_ms();
        let keys = segment::plan(&series, range, now);
        let segments = self.resolve_in_memory(upstream, &keys, range, now)?;
        self.queries.fetch_add(1, Ordering::Relaxed);
        self.query_durations.observe(started.elapsed());
        let rows = slices(&segments, range, now, |p| match p {
            Payload::Candles(c) => Some(c),
            _ => None,
        });
        Some(Candles::new(rows, series.interval, range, now))
    }

    /// For a sequential read (this query starts where the previous one on the series
    /// ended), the query for the segment after the one `q` ends in, if it has started.
    pub(crate) fn next_segment(&self, q: &KlineQuery) -> Option<KlineQuery> {
        let venue = self.venue(q.exchange).ok()?;
        let (market, symbol) = venue.upstream.validate(q.market, &q.symbol, Some(q.interval)).ok()?;
        let series = Arc::new(SeriesKey {
            source: Arc::clone(&venue.source),
            exchange: q.exchange,
            market,
            kind: DataKind::Klines,
            interval: q.interval,
            symbol: symbol.into(),
        });
        let previous_end = self.last_ends.get(&series);
        // A repeated query changes nothing: no write (a write costs more than the read).
        if previous_end != Some(q.end) {
            self.last_ends.insert(Arc::clone(&series), q.end);
        }
        let sequential =
            previous_end.is_some_and(|end| (0..=q.interval.nominal_ms()).contains(&(q.start - end)));
        if !sequential {
            return None;
        }
        let last = SegmentKey::containing(&series, q.end.max(q.start + 1) - 1);
        let next = SegmentKey { series, index: last.index + 1 }.span();
        (next.start <= self.clock.now_ms() && next.start < LATEST_MS).then(|| KlineQuery {
            start: next.start,
            end: next.end,
            market: Some(market),
            ..q.clone()
        })
    }

    /// Loads `q`'s segments into the tiers without counting a query.
    pub(crate) async fn prefetch(&self, q: &KlineQuery) -> Result<()> {
        let spec =
            SeriesSpec { exchange: q.exchange, market: q.market, symbol: &q.symbol, kind: DataKind::Klines };
        self.prefetches.fetch_add(1, Ordering::Relaxed);
        self.load_segments(spec, Some(q.interval), q.start, q.end).await.map(|_| ())
    }

    /// Answers a trades query.
    pub(crate) async fn trades(&self, q: &RangeQuery) -> Result<Trades> {
        let series =
            SeriesSpec { exchange: q.exchange, market: q.market, symbol: &q.symbol, kind: DataKind::Trades };
        let (_, range, segments, now) = self.segments(series, None, q.start, q.end).await?;
        Ok(slices(&segments, range, now, |p| match p {
            Payload::Trades(t) => Some(t),
            _ => None,
        }))
    }

    /// Answers a funding-rate query.
    pub(crate) async fn funding_rates(&self, q: &RangeQuery) -> Result<FundingRates> {
        let series =
            SeriesSpec { exchange: q.exchange, market: q.market, symbol: &q.symbol, kind: DataKind::Funding };
        let (_, range, segments, now) = self.segments(series, None, q.start, q.end).await?;
        Ok(slices(&segments, range, now, |p| match p {
            Payload::Funding(f) => Some(f),
            _ => None,
        }))
    }

    /// The one segment of a series starting at `start` (a segment boundary), from the
    /// tiers or the exchange: what a relay serves to native and WebAssembly clients.
    pub(crate) async fn segment(
        &self,
        spec: SeriesSpec<'_>,
        interval: Option<Interval>,
        start: i64,
    ) -> Result<Arc<Segment>> {
        let (upstream, series, _) = self.series(spec, interval, start, start.saturating_add(1))?;
        let key = SegmentKey::containing(&series, start);
        let span = key.span();
        if span.start != start {
            return Err(Error::invalid(format!(
                "{start} is not where a segment starts: the segment holding it starts at {}",
                span.start
            )));
        }
        let now = self.clock.now_ms();
        if start > now {
            return Err(Error::invalid(format!("the segment starting at {start} has not begun yet")));
        }
        self.queries.fetch_add(1, Ordering::Relaxed);
        let started = crate::rt::Instant::now();
        let result = self.resolve(upstream, std::slice::from_ref(&key), span, now).await;
        self.query_durations.observe(started.elapsed());
        result?.pop().ok_or_else(|| Error::Cache("segment lookup returned nothing".into()))
    }

    /// Validates a query: its exchange's adapter, its series (with the venue's source
    /// namespace) and clamped range.
    fn series(
        &self,
        spec: SeriesSpec<'_>,
        interval: Option<Interval>,
        start: i64,
        end: i64,
    ) -> Result<(&Arc<dyn Upstream>, Arc<SeriesKey>, TimeRange)> {
        let venue = self.venue(spec.exchange)?;
        match (spec.kind, interval) {
            (DataKind::Klines, None) => return Err(Error::invalid("klines need an interval")),
            (DataKind::Trades | DataKind::Funding, Some(_)) => {
                return Err(Error::invalid(format!("{} take no interval", spec.kind.as_str())))
            }
            _ => {}
        }
        let (market, symbol) = venue.upstream.validate(spec.market, spec.symbol, interval)?;
        let grid = interval.unwrap_or_else(DataKind::hourly_grid);
        let range = checked_range(start, end, grid, self.max_candles)?;
        let series = Arc::new(SeriesKey {
            source: Arc::clone(&venue.source),
            exchange: spec.exchange,
            market,
            kind: spec.kind,
            interval: grid,
            symbol: symbol.into(),
        });
        Ok((&venue.upstream, series, range))
    }

    /// Validates a query and returns its series, clamped range, segments and "now";
    /// counts it and times it.
    async fn segments(
        &self,
        spec: SeriesSpec<'_>,
        interval: Option<Interval>,
        start: i64,
        end: i64,
    ) -> Result<(Arc<SeriesKey>, TimeRange, Vec<Arc<Segment>>, i64)> {
        self.queries.fetch_add(1, Ordering::Relaxed);
        let started = crate::rt::Instant::now();
        let result = self.load_segments(spec, interval, start, end).await;
        self.query_durations.observe(started.elapsed());
        result
    }

    /// Validates, plans and resolves the segments of a range.
    async fn load_segments(
        &self,
        spec: SeriesSpec<'_>,
        interval: Option<Interval>,
        start: i64,
        end: i64,
    ) -> Result<(Arc<SeriesKey>, TimeRange, Vec<Arc<Segment>>, i64)> {
        let (upstream, series, range) = self.series(spec, interval, start, end)?;
        let now = self.clock.now_ms();
        let keys = segment::plan(&series, range, now);
        let segments = self.resolve(upstream, &keys, range, now).await?;
        Ok((series, range, segments, now))
    }
}

/// Who a query asks about, before validation.
pub(crate) struct SeriesSpec<'a> {
    pub exchange: Exchange,
    pub market: Option<Market>,
    pub symbol: &'a str,
    pub kind: DataKind,
}
