//! The read path: validate → plan segments → tiers in order → singleflight upstream
//! fetch per missing segment → write back to the tiers above → assemble and slice.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::stream::{self, StreamExt, TryStreamExt};

use crate::book::{OrderBook, OrderBookQuery};
use crate::candles::{Candle, CandleColumns, Candles};
use crate::clock::Clock;
use crate::coverage::{Coverage, CoverageQuery, SegmentCoverage, SegmentStatus};
use crate::error::{Error, Result};
use crate::exchange::{Instrument, Upstream};
use crate::funding::{FundingColumns, FundingRate, FundingRates};
use crate::model::{
    checked_range, DataKind, Exchange, Interval, KlineQuery, Market, RangeQuery, SeriesKey, TimeRange,
    LATEST_MS,
};
use crate::policy::Policy;
use crate::segment::{self, Payload, Segment, SegmentKey};
use crate::singleflight::Singleflight;
use crate::stats::{self, Stats, TierCounters, UpstreamCounters};
use crate::table::{Rows, Table};
use crate::tier::memory::MemoryTier;
use crate::tier::{Lookup, Stored, Tier};
use crate::trades::{Trade, TradeColumns, Trades};

/// A query with at least this many missing segments whose first one comes back empty
/// asks the exchange for the series' first candle, so the other segments before listing
/// cost no request at all.
const LISTING_PROBE_MIN_MISSING: usize = 8;

pub(crate) struct TierSlot {
    pub tier: Arc<dyn Tier>,
    pub counters: TierCounters,
}

pub(crate) struct Engine {
    pub tiers: Vec<TierSlot>,
    pub memory: Option<MemoryTier>,
    pub upstreams: Vec<Arc<dyn Upstream>>,
    pub clock: Arc<dyn Clock>,
    pub policy: Policy,
    pub max_candles: u64,
    pub upstream_concurrency: usize,
    pub upstream_counters: Arc<UpstreamCounters>,
    pub queries: AtomicU64,
    pub prefetches: AtomicU64,
    /// Where the last kline query on each series ended (to spot sequential reads).
    last_ends: moka::sync::Cache<Arc<SeriesKey>, i64>,
    flights: Singleflight<SegmentKey, Result<Arc<Segment>>>,
    listings: Mutex<HashMap<Arc<SeriesKey>, Option<i64>>>,
    books: moka::sync::Cache<BookKey, (Arc<OrderBook>, i64)>,
    book_flights: Singleflight<BookKey, Result<Arc<OrderBook>>>,
    /// The last failed fetch per segment (time, error), for coverage reports.
    failures: moka::sync::Cache<SegmentKey, (i64, String)>,
    /// What the instruments lists said per (exchange, market, symbol), until when.
    instruments: moka::sync::Cache<(Exchange, Market, String), (Option<Instrument>, i64)>,
    /// The cross-process lock, when Redis is configured.
    #[cfg(feature = "redis")]
    pub lock: Option<crate::redis::SegmentLock>,
}

/// What the cross-process lock decided for a missing segment.
#[cfg(feature = "redis")]
enum Coordinated {
    /// Another process fetched it.
    Got(Arc<Segment>),
    /// We fetch it, holding the lock if we got it.
    Fetch(Option<crate::redis::LockToken>),
}

/// Exchange, market, symbol, depth.
type BookKey = (Exchange, Market, String, usize);

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("tiers", &self.tiers.iter().map(|t| t.tier.name()).collect::<Vec<_>>())
            .field("upstreams", &self.upstreams.iter().map(|u| u.exchange()).collect::<Vec<_>>())
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Engine {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        tiers: Vec<Arc<dyn Tier>>,
        memory: Option<MemoryTier>,
        upstreams: Vec<Arc<dyn Upstream>>,
        clock: Arc<dyn Clock>,
        policy: Policy,
        max_candles: u64,
        upstream_concurrency: usize,
        upstream_counters: Arc<UpstreamCounters>,
    ) -> Self {
        Engine {
            tiers: tiers
                .into_iter()
                .map(|tier| TierSlot { tier, counters: TierCounters::default() })
                .collect(),
            memory,
            upstreams,
            clock,
            policy,
            max_candles,
            upstream_concurrency: upstream_concurrency.max(1),
            upstream_counters,
            queries: AtomicU64::new(0),
            prefetches: AtomicU64::new(0),
            last_ends: moka::sync::Cache::new(10_000),
            flights: Singleflight::default(),
            listings: Mutex::new(HashMap::new()),
            books: moka::sync::Cache::new(10_000),
            book_flights: Singleflight::default(),
            failures: moka::sync::Cache::new(100_000),
            instruments: moka::sync::Cache::new(100_000),
            #[cfg(feature = "redis")]
            lock: None,
        }
    }

    fn upstream(&self, exchange: Exchange) -> Result<&Arc<dyn Upstream>> {
        self.upstreams
            .iter()
            .find(|u| u.exchange() == exchange)
            .ok_or_else(|| Error::Unsupported(format!("{exchange} is not available in this build")))
    }

    pub(crate) fn stats(&self) -> Stats {
        let tiers: Vec<_> = self.tiers.iter().map(|t| (t.tier.name(), &t.counters)).collect();
        let mut stats =
            stats::snapshot(self.queries.load(Ordering::Relaxed), &tiers, &self.upstream_counters);
        stats.prefetches = self.prefetches.load(Ordering::Relaxed);
        stats
    }

    /// Answers a kline query.
    pub(crate) async fn klines(&self, q: &KlineQuery) -> Result<Candles> {
        let series =
            SeriesSpec { exchange: q.exchange, market: q.market, symbol: &q.symbol, kind: DataKind::Klines };
        let (series, range, segments, now) = self.segments(series, Some(q.interval), q.start, q.end).await?;
        let rows = slices(&segments, range, |p| match p {
            Payload::Candles(c) => Some(c),
            _ => None,
        });
        Ok(Candles::new(rows, series.interval, range, now.min(range.end)))
    }

    /// For a sequential read (this query starts where the previous one on the series
    /// ended), the query for the segment after the one `q` ends in, if it has started.
    pub(crate) fn next_segment(&self, q: &KlineQuery) -> Option<KlineQuery> {
        let upstream = self.upstream(q.exchange).ok()?;
        let (market, symbol) = upstream.validate(q.market, &q.symbol, Some(q.interval)).ok()?;
        let series = Arc::new(SeriesKey {
            exchange: q.exchange,
            market,
            kind: DataKind::Klines,
            interval: q.interval,
            symbol: symbol.into(),
        });
        let previous_end = self.last_ends.get(&series);
        self.last_ends.insert(Arc::clone(&series), q.end);
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
        let (_, range, segments, _) = self.segments(series, None, q.start, q.end).await?;
        Ok(slices(&segments, range, |p| match p {
            Payload::Trades(t) => Some(t),
            _ => None,
        }))
    }

    /// Answers a funding-rate query.
    pub(crate) async fn funding_rates(&self, q: &RangeQuery) -> Result<FundingRates> {
        let series =
            SeriesSpec { exchange: q.exchange, market: q.market, symbol: &q.symbol, kind: DataKind::Funding };
        let (_, range, segments, _) = self.segments(series, None, q.start, q.end).await?;
        Ok(slices(&segments, range, |p| match p {
            Payload::Funding(f) => Some(f),
            _ => None,
        }))
    }

    /// Answers an order-book query: cached for the policy's TTL, one fetch at a time per book.
    pub(crate) async fn order_book(&self, q: &OrderBookQuery) -> Result<Arc<OrderBook>> {
        self.queries.fetch_add(1, Ordering::Relaxed);
        let upstream = self.upstream(q.exchange)?;
        let (market, symbol) = upstream.validate(q.market, &q.symbol, None)?;
        if q.depth == 0 {
            return Err(Error::invalid("order book depth must be at least 1"));
        }
        let key = (q.exchange, market, symbol, q.depth);
        let now = self.clock.now_ms();
        if let Some((book, expires)) = self.books.get(&key) {
            if now < expires {
                return Ok(book);
            }
        }
        self.book_flights
            .run(&key, || async {
                let book = Arc::new(upstream.order_book(market, &key.2, q.depth).await?.normalized(q.depth));
                self.books.insert(
                    key.clone(),
                    (Arc::clone(&book), self.policy.order_book_expiry(self.clock.now_ms())),
                );
                Ok(book)
            })
            .await
    }

    /// Validates a query: its exchange's adapter, its series and clamped range.
    fn series(
        &self,
        spec: SeriesSpec<'_>,
        interval: Option<Interval>,
        start: i64,
        end: i64,
    ) -> Result<(&Arc<dyn Upstream>, Arc<SeriesKey>, TimeRange)> {
        let upstream = self.upstream(spec.exchange)?;
        match (spec.kind, interval) {
            (DataKind::Klines, None) => return Err(Error::invalid("klines need an interval")),
            (DataKind::Trades | DataKind::Funding, Some(_)) => {
                return Err(Error::invalid(format!("{} take no interval", spec.kind.as_str())))
            }
            _ => {}
        }
        let (market, symbol) = upstream.validate(spec.market, spec.symbol, interval)?;
        let grid = interval.unwrap_or_else(DataKind::hourly_grid);
        let range = checked_range(start, end, grid, self.max_candles)?;
        let series = Arc::new(SeriesKey {
            exchange: spec.exchange,
            market,
            kind: spec.kind,
            interval: grid,
            symbol: symbol.into(),
        });
        Ok((upstream, series, range))
    }

    /// Reports, segment by segment, what the tiers hold for a range. Reads only the
    /// tiers: nothing is fetched or written.
    pub(crate) async fn coverage(&self, q: &CoverageQuery) -> Result<Coverage> {
        let spec = SeriesSpec { exchange: q.exchange, market: q.market, symbol: &q.symbol, kind: q.kind };
        let (_, series, range) = self.series(spec, q.interval, q.start, q.end)?;
        let now = self.clock.now_ms();
        let first = SegmentKey::containing(&series, range.start).index;
        let last = SegmentKey::containing(&series, range.end - 1).index;
        let keys: Vec<SegmentKey> =
            (first..=last).map(|index| SegmentKey { series: Arc::clone(&series), index }).collect();
        let mut found: Vec<Option<(&str, Arc<Segment>)>> = vec![None; keys.len()];
        for slot in &self.tiers {
            let missing: Vec<usize> = (0..keys.len()).filter(|&i| found[i].is_none()).collect();
            if missing.is_empty() {
                break;
            }
            let wanted: Vec<SegmentKey> = missing.iter().map(|&i| keys[i].clone()).collect();
            if let Ok(lookups) = slot.tier.get_many(&wanted).await {
                for (&i, lookup) in missing.iter().zip(lookups) {
                    if let Lookup::Hit(seg, _) = lookup {
                        found[i] = Some((slot.tier.name(), seg));
                    }
                }
            }
        }
        let segments = keys
            .iter()
            .zip(found)
            .map(|(key, hit)| segment_coverage(key, hit, range, now, self.failures.get(key)))
            .collect();
        Ok(Coverage { series: series.to_string(), range, segments })
    }

    /// Validates a query and returns its series, clamped range, segments and "now".
    async fn segments(
        &self,
        spec: SeriesSpec<'_>,
        interval: Option<Interval>,
        start: i64,
        end: i64,
    ) -> Result<(Arc<SeriesKey>, TimeRange, Vec<Arc<Segment>>, i64)> {
        self.queries.fetch_add(1, Ordering::Relaxed);
        self.load_segments(spec, interval, start, end).await
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
        let segments = self.resolve(upstream, &keys, now).await?;
        Ok((series, range, segments, now))
    }

    /// Every segment of `keys`, from the tiers or the exchange, in order.
    async fn resolve(
        &self,
        upstream: &Arc<dyn Upstream>,
        keys: &[SegmentKey],
        now: i64,
    ) -> Result<Vec<Arc<Segment>>> {
        let mut found: Vec<Option<Arc<Segment>>> = vec![None; keys.len()];
        // Fast path: the memory tier answers synchronously.
        let mut first_tier = 0;
        if let (Some(mem), Some(slot)) = (&self.memory, self.tiers.first()) {
            for (i, key) in keys.iter().enumerate() {
                match mem.get(key).filter(|s| s.is_fresh(now)) {
                    Some(seg) => {
                        slot.counters.hit(seg.weight() as usize);
                        found[i] = Some(seg);
                    }
                    None => slot.counters.miss(),
                }
            }
            first_tier = 1;
        }
        for t in first_tier..self.tiers.len() {
            let missing: Vec<usize> = (0..keys.len()).filter(|&i| found[i].is_none()).collect();
            if missing.is_empty() {
                break;
            }
            let wanted: Vec<SegmentKey> = missing.iter().map(|&i| keys[i].clone()).collect();
            let hits = self.lookup(t, &wanted, now).await;
            let mut write_back = Vec::new();
            for (&i, hit) in missing.iter().zip(hits) {
                if let Some(seg) = hit {
                    write_back.push(Stored::new(Arc::clone(&seg)));
                    found[i] = Some(seg);
                }
            }
            self.store(&write_back, 0..t).await;
        }
        let mut missing: Vec<usize> = (0..keys.len()).filter(|&i| found[i].is_none()).collect();
        if missing.is_empty() {
            return Ok(found.into_iter().flatten().collect());
        }
        // Going upstream: the symbol must exist; its listing (when known) makes every
        // segment before it known-empty without a request.
        let mut listing = self.instrument(upstream, &keys[0].series).await?.and_then(|i| i.listed);
        if listing.is_none() && missing.len() >= LISTING_PROBE_MIN_MISSING {
            // Long cold range: fetch its first segment alone; only if that is empty (the
            // range may start before listing) ask for the listing time, which turns all
            // earlier segments into known-empty ones without a request each.
            let first = missing.remove(0);
            let seg = self.flights.run(&keys[first], || self.load(upstream, &keys[first], None)).await?;
            if seg.payload.is_empty() {
                listing = self.listing(upstream, &keys[0].series).await?;
            }
            found[first] = Some(seg);
        }
        if !missing.is_empty() {
            let fetches = missing.iter().copied().map(|i| {
                let key = keys[i].clone();
                async move { self.flights.run(&key, || self.load(upstream, &key, listing)).await }
            });
            let fetched: Vec<Arc<Segment>> =
                stream::iter(fetches).buffered(self.upstream_concurrency).try_collect().await?;
            for (&i, seg) in missing.iter().zip(fetched) {
                found[i] = Some(seg);
            }
        }
        Ok(found.into_iter().flatten().collect())
    }

    /// Looks `keys` up in tier `t`; fresh hits only. Failures count and degrade to misses.
    async fn lookup(&self, t: usize, keys: &[SegmentKey], now: i64) -> Vec<Option<Arc<Segment>>> {
        let slot = &self.tiers[t];
        match slot.tier.get_many(keys).await {
            Ok(lookups) => lookups
                .into_iter()
                .zip(keys)
                .map(|(lookup, key)| match lookup {
                    Lookup::Hit(seg, bytes) if seg.is_fresh(now) => {
                        slot.counters.hit(bytes);
                        Some(seg)
                    }
                    Lookup::Hit(..) | Lookup::Miss => {
                        slot.counters.miss();
                        None
                    }
                    Lookup::Corrupt(why) => {
                        tracing::warn!(tier = slot.tier.name(), segment = %key.storage_key("cc"), why, "corrupt cache value, refetching");
                        slot.counters.corrupt();
                        None
                    }
                })
                .collect(),
            Err(e) => {
                tracing::warn!(tier = slot.tier.name(), error = %e, "cache tier unavailable, skipping it");
                slot.counters.error();
                keys.iter().map(|_| None).collect()
            }
        }
    }

    /// Writes to tiers `targets`; a failing tier is counted and skipped, never fatal.
    async fn store(&self, items: &[Stored], targets: std::ops::Range<usize>) {
        if items.is_empty() {
            return;
        }
        for slot in &self.tiers[targets] {
            match slot.tier.put_many(items).await {
                Ok(()) => items.iter().for_each(|i| slot.counters.wrote(i.written_size(slot.tier.as_ref()))),
                Err(e) => {
                    tracing::warn!(tier = slot.tier.name(), error = %e, "cache write failed");
                    slot.counters.error();
                }
            }
        }
    }

    /// What the exchange's instruments list says of the series' symbol, cached for the
    /// policy's `instruments_ttl`. `UnknownSymbol` when the exchange does not list it;
    /// `Ok(None)` when the list could not be read (the query goes on unvalidated).
    async fn instrument(
        &self,
        upstream: &Arc<dyn Upstream>,
        series: &SeriesKey,
    ) -> Result<Option<Instrument>> {
        let key = (series.exchange, series.market, series.symbol.to_string());
        let now = self.clock.now_ms();
        let known = match self.instruments.get(&key) {
            Some((known, expires)) if now < expires => known,
            _ => match upstream.instrument(series.market, &series.symbol).await {
                Ok(known) => {
                    let expires = now + self.policy.instruments_ttl.as_millis() as i64;
                    self.instruments.insert(key, (known.clone(), expires));
                    known
                }
                Err(e @ (Error::UnknownSymbol { .. } | Error::RateLimited { .. })) => return Err(e),
                Err(e) => {
                    tracing::warn!(series = %series, error = %e, "instruments list unavailable; symbol not validated");
                    return Ok(None);
                }
            },
        };
        match known {
            Some(instrument) => Ok(Some(instrument)),
            None => Err(Error::UnknownSymbol {
                exchange: series.exchange.to_string(),
                symbol: series.symbol.to_string(),
            }),
        }
    }

    /// The series' listing time, asked once per process.
    async fn listing(&self, upstream: &Arc<dyn Upstream>, series: &Arc<SeriesKey>) -> Result<Option<i64>> {
        if let Some(&known) = self.listings.lock().unwrap_or_else(|e| e.into_inner()).get(series) {
            return Ok(known);
        }
        let first = upstream.first_open_time(series).await?;
        self.listings.lock().unwrap_or_else(|e| e.into_inner()).insert(Arc::clone(series), first);
        Ok(first)
    }

    /// Fetches one segment from the exchange (the singleflight leader runs this) and
    /// writes it to every tier.
    async fn load(
        &self,
        upstream: &Arc<dyn Upstream>,
        key: &SegmentKey,
        listing: Option<i64>,
    ) -> Result<Arc<Segment>> {
        let now = self.clock.now_ms();
        // A concurrent caller may have filled it between our lookup and this flight.
        if let Some(seg) = self.memory.as_ref().and_then(|m| m.get(key)).filter(|s| s.is_fresh(now)) {
            return Ok(seg);
        }
        #[cfg(feature = "redis")]
        let held = match self.coordinate(key, now).await {
            Coordinated::Got(seg) => return Ok(seg),
            Coordinated::Fetch(held) => held,
        };
        let result = self.fetch_and_store(upstream, key, listing, now).await;
        #[cfg(feature = "redis")]
        if let (Some(lock), Some(token)) = (&self.lock, held) {
            lock.release(token).await;
        }
        result
    }

    /// Across processes: one fetches a missing segment, the others wait for its value
    /// in Redis (bounded), then fetch themselves. Redis trouble means "fetch".
    #[cfg(feature = "redis")]
    async fn coordinate(&self, key: &SegmentKey, now: i64) -> Coordinated {
        let Some(lock) = &self.lock else { return Coordinated::Fetch(None) };
        let found = match lock.try_lock(key).await {
            // Won the lock: the previous holder may have stored it just before.
            Ok(Some(token)) => match lock.peek(key, now).await {
                Some(seg) => {
                    lock.release(token).await;
                    Some(seg)
                }
                None => return Coordinated::Fetch(Some(token)),
            },
            Ok(None) => {
                let seg = lock.wait_for(key, || self.clock.now_ms()).await;
                if seg.is_none() {
                    tracing::debug!(segment = %key.storage_key("cc"), "lock holder did not deliver in time; fetching");
                }
                seg
            }
            Err(e) => {
                tracing::debug!(error = %e, "segment lock unavailable; fetching");
                None
            }
        };
        match found {
            Some(seg) => {
                self.store(&[Stored::new(Arc::clone(&seg))], 0..self.shared_tier_index()).await;
                Coordinated::Got(seg)
            }
            None => Coordinated::Fetch(None),
        }
    }

    /// The tiers above the shared one (Redis): where a value another process fetched
    /// still needs to go.
    #[cfg(feature = "redis")]
    fn shared_tier_index(&self) -> usize {
        self.tiers.iter().position(|t| t.tier.name() == "redis").unwrap_or(self.tiers.len())
    }

    /// Fetches a segment from the exchange and writes it to every tier.
    async fn fetch_and_store(
        &self,
        upstream: &Arc<dyn Upstream>,
        key: &SegmentKey,
        listing: Option<i64>,
        now: i64,
    ) -> Result<Arc<Segment>> {
        let payload = match self.fetch_payload(upstream, key, listing, now).await {
            Ok(payload) => {
                self.failures.invalidate(key);
                payload
            }
            Err(e) => {
                self.failures.insert(key.clone(), (now, e.to_string()));
                return Err(e);
            }
        };
        let expires_at = self.policy.expires_at(key, payload.len(), now);
        let seg = Arc::new(Segment { key: key.clone(), payload, fetched_at: now, expires_at });
        self.store(&[Stored::new(Arc::clone(&seg))], 0..self.tiers.len()).await;
        Ok(seg)
    }

    /// The rows of one segment from the exchange (or known-empty before listing).
    async fn fetch_payload(
        &self,
        upstream: &Arc<dyn Upstream>,
        key: &SegmentKey,
        listing: Option<i64>,
        now: i64,
    ) -> Result<Payload> {
        let span = key.span();
        let series = &key.series;
        let payload = match listing {
            Some(first) if span.end <= first => Payload::empty(series.kind),
            _ => {
                let payload = match series.kind {
                    DataKind::Klines => Payload::Candles(Arc::new(normalize_candles(
                        key,
                        upstream.fetch_klines(series, span, now).await?,
                    ))),
                    DataKind::Trades => Payload::Trades(Arc::new(normalize_trades(
                        span,
                        upstream.fetch_trades(series, span, now).await?,
                    ))),
                    DataKind::Funding => Payload::Funding(Arc::new(normalize_funding(
                        span,
                        upstream.fetch_funding(series, span, now).await?,
                    ))),
                };
                self.upstream_counters.segment_fetched();
                payload
            }
        };
        Ok(payload)
    }
}

/// The coverage entry of one segment, from what the tiers returned for it.
fn segment_coverage(
    key: &SegmentKey,
    hit: Option<(&str, Arc<Segment>)>,
    range: TimeRange,
    now: i64,
    failure: Option<(i64, String)>,
) -> SegmentCoverage {
    let seg_span = key.span();
    let span = TimeRange::new(seg_span.start.max(range.start), seg_span.end.min(range.end));
    let mut entry = SegmentCoverage {
        span,
        status: SegmentStatus::Missing,
        tier: None,
        rows: 0,
        gaps: Vec::new(),
        fetched_at: None,
        expires_at: None,
        error: None,
    };
    let Some((tier, seg)) = hit else {
        if seg_span.start > now {
            entry.status = SegmentStatus::Future;
        } else if let Some((_, error)) = failure {
            entry.status = SegmentStatus::Failed;
            entry.error = Some(error);
        }
        return entry;
    };
    entry.tier = Some(tier.to_string());
    entry.fetched_at = Some(seg.fetched_at);
    entry.expires_at = seg.expires_at;
    entry.status = match (seg.is_fresh(now), seg.expires_at, seg.payload.is_empty()) {
        (false, _, _) => SegmentStatus::Expired,
        (true, None, true) => SegmentStatus::KnownEmpty,
        (true, None, false) => SegmentStatus::Cached,
        (true, Some(_), _) => SegmentStatus::Open,
    };
    match &seg.payload {
        Payload::Candles(c) => {
            let rows = Rows::assemble(&[(c, c.rows_in(span))]);
            entry.rows = rows.len();
            entry.gaps = Candles::new(rows, key.series.interval, span, seg.fetched_at.min(span.end)).gaps();
        }
        Payload::Trades(t) => entry.rows = t.rows_in(span).len(),
        Payload::Funding(f) => entry.rows = f.rows_in(span).len(),
    }
    entry
}

/// Sorts upstream rows by open time, keeps those inside the segment, and keeps one
/// candle per grid slot (an off-grid candle belongs to the slot that contains it).
fn normalize_candles(key: &SegmentKey, mut rows: Vec<Candle>) -> CandleColumns {
    let span = key.span();
    let iv = key.series.interval;
    rows.retain(|c| span.contains(c.open_time));
    rows.sort_by_key(|c| c.open_time);
    let with_trades = rows.iter().any(|c| c.trades.is_some());
    let mut cols = CandleColumns::with_capacity(rows.len(), with_trades);
    let mut last_slot = None;
    for c in &rows {
        let slot = iv.slot_of(c.open_time);
        if last_slot == Some(slot) {
            tracing::warn!(series = %key.series, open_time = c.open_time, "two candles in one grid slot; keeping the first");
            continue;
        }
        last_slot = Some(slot);
        cols.push(c);
    }
    cols
}

/// Sorts trades by (time, id), keeps those inside the span, drops repeated ids (pages
/// that overlap at a shared timestamp).
fn normalize_trades(span: TimeRange, mut rows: Vec<Trade>) -> TradeColumns {
    rows.retain(|t| span.contains(t.time));
    rows.sort_by_key(|t| (t.time, t.id));
    let mut seen = std::collections::HashSet::with_capacity(rows.len());
    rows.retain(|t| seen.insert(t.id));
    let mut cols = TradeColumns::default().empty_like(rows.len());
    rows.iter().for_each(|t| cols.push(t));
    cols
}

/// Sorts funding events by time, keeps those inside the span, one per time.
fn normalize_funding(span: TimeRange, mut rows: Vec<FundingRate>) -> FundingColumns {
    rows.retain(|f| span.contains(f.time));
    rows.sort_by_key(|f| f.time);
    rows.dedup_by_key(|f| f.time);
    let mut cols = FundingColumns::default().empty_like(rows.len());
    rows.iter().for_each(|f| cols.push(f));
    cols
}

/// The rows of `range` across `segments`, as one view: a pointer copy when one segment
/// covers it, one concatenation otherwise.
fn slices<T: Table>(
    segments: &[Arc<Segment>],
    range: TimeRange,
    table: impl Fn(&Payload) -> Option<&Arc<T>>,
) -> Rows<T> {
    let parts: Vec<(&Arc<T>, std::ops::Range<usize>)> =
        segments.iter().filter_map(|s| table(&s.payload)).map(|t| (t, t.rows_in(range))).collect();
    Rows::assemble(&parts)
}

/// Who a query asks about, before validation.
struct SeriesSpec<'a> {
    exchange: Exchange,
    market: Option<Market>,
    symbol: &'a str,
    kind: DataKind,
}
