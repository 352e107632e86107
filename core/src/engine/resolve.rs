//! Resolving a query's segments: the tiers in order (writing hits back to the tiers
//! above), then the missing ones from the exchange.

use std::sync::Arc;

use futures_util::stream::{self, StreamExt};

use super::partial::Wanted;
use super::Engine;
use crate::error::{Error, Result};
use crate::exchange::Upstream;
use crate::model::TimeRange;
use crate::segment::{Segment, SegmentKey};
use crate::tier::{Lookup, Stored};

/// A query with at least this many missing segments whose first one comes back empty
/// asks the exchange for the series' first candle, so the other segments before listing
/// cost no request at all.
pub(super) const LISTING_PROBE_MIN_MISSING: usize = 8;

/// A probe costs one request: worth it when it can spare at least this many.
const PROBE_MIN_SPARED: usize = 2;

impl Engine {
    /// Every segment of `keys` (the plan for `range`), from the tiers or the exchange, in order.
    pub(super) async fn resolve(
        &self,
        upstream: &Arc<dyn Upstream>,
        keys: &[SegmentKey],
        range: TimeRange,
        now: i64,
    ) -> Result<Vec<Arc<Segment>>> {
        let (found, bases) = self.read_tiers(keys, range, now).await;
        let edge = self.check_retention(upstream, keys, &found, range, now)?;
        self.revalidate_stale(upstream, &found, edge, now);
        if found.iter().all(Option::is_some) {
            return Ok(found.into_iter().flatten().collect());
        }
        // The upstream path's state is large: boxed, so a hit's future stays small (it is
        // moved whole when polled from `block_on` or a binding).
        let filled = Box::pin(self.fill_missing(upstream, keys, found, &bases, range, edge, now)).await;
        let segments = filled.map_err(|e| match e {
            // A segment's own answer (a relay's) names where the segment starts: the
            // query's missing part starts no earlier than the query.
            Error::OutOfRetention { exchange, symbol, what, earliest, retention_days, start } => {
                Error::OutOfRetention {
                    exchange,
                    symbol,
                    what,
                    earliest,
                    retention_days,
                    start: start.max(range.start),
                }
            }
            other => other,
        })?;
        // The last guard against serving a partial segment as a whole one.
        match segments.iter().find(|s| !s.covers(range)) {
            Some(s) => Err(Error::Cache(format!(
                "internal: segment {} covers only {} of what {range} needs",
                s.key.storage_key("cc"),
                s.covered()
            ))),
            None => Ok(segments),
        }
    }

    /// Every segment of `keys` from the memory tier alone, when it holds each of them
    /// fresh and the retention rule lets them serve `range`: the part of [`resolve`]
    /// that never waits. `None` (nothing counted) means the full path must answer.
    ///
    /// [`resolve`]: Engine::resolve
    pub(super) fn resolve_in_memory(
        &self,
        upstream: &Arc<dyn Upstream>,
        keys: &[SegmentKey],
        range: TimeRange,
        now: i64,
    ) -> Option<Vec<Arc<Segment>>> {
        let (Some(mem), Some(slot)) = (&self.memory, self.tiers.first()) else { return None };
        // Fresh only: a stale value's background refresh belongs to the full path.
        let found: Vec<Option<Arc<Segment>>> =
            keys.iter().map(|key| mem.get(key).filter(|s| s.is_fresh(now) && s.covers(range))).collect();
        if !found.iter().all(Option::is_some) {
            return None;
        }
        self.check_retention(upstream, keys, &found, range, now).ok()?;
        let segments: Vec<Arc<Segment>> = found.into_iter().flatten().collect();
        segments.iter().for_each(|s| slot.counters.hit(s.weight() as usize));
        Some(segments)
    }

    /// The segments the tiers lacked, from the exchange: symbol check, "nothing before"
    /// probe, then only the pages the query needs (partial segments, completing `bases`,
    /// the partial values the tiers hold) when that costs fewer requests, else one load
    /// per segment.
    #[allow(clippy::too_many_arguments)]
    async fn fill_missing(
        &self,
        upstream: &Arc<dyn Upstream>,
        keys: &[SegmentKey],
        mut found: Vec<Option<Arc<Segment>>>,
        bases: &[Option<Arc<Segment>>],
        range: TimeRange,
        edge: Option<i64>,
        now: i64,
    ) -> Result<Vec<Arc<Segment>>> {
        let mut missing: Vec<usize> = (0..keys.len()).filter(|&i| found[i].is_none()).collect();
        let series = &keys[0].series;
        let mut empty_before = None;
        // Through a relay, segments come whole: the symbol check and the "nothing
        // before" answers are the relay's.
        // With archives `only`, no REST call is made at all.
        let remote_checks = self.relay.is_none() && !self.archives_only();
        // Going upstream: the symbol must exist. A published listing time is only a hint
        // of where to ask: segments are skipped only on the exchange's own answer.
        let listed = if remote_checks {
            self.instrument(upstream, series).await?.and_then(|i| i.listed)
        } else {
            None
        };
        if let Some(listed) = listed {
            let boundary = SegmentKey::containing(series, listed).span().start;
            let spared = missing.iter().filter(|&&i| keys[i].span().end <= boundary).count();
            if spared >= PROBE_MIN_SPARED {
                empty_before = self.empty_before(upstream, series, Some(boundary), now).await?;
            }
        }
        let wanted = Wanted { upstream, keys, bases, range, edge, now };
        if let Some(plan) = self.plan_partial(&wanted, &missing) {
            for (i, seg) in self.fill_partial(&wanted, plan, empty_before).await? {
                found[i] = Some(seg);
            }
            return Ok(found.into_iter().flatten().collect());
        }
        if empty_before.is_none()
            && remote_checks
            && missing.len() >= LISTING_PROBE_MIN_MISSING
            && !self.listed_before(&keys[missing[0]])
        {
            // Long cold range: fetch its first segment alone; only if that is empty (the
            // range may start before listing) ask the exchange where the series starts.
            let first = missing.remove(0);
            let key = &keys[first];
            let seg = self.load_current(upstream, key, None, edge, now).await?;
            if seg.payload.is_empty() {
                empty_before = self.empty_before(upstream, series, None, now).await?;
            }
            found[first] = Some(seg);
        }
        let missing = self.archive_load_order(keys, missing);
        // Every load runs to its end (a failed sibling does not abandon the others, whose
        // rows are then cached); the first error is the query's.
        let loads = missing.iter().copied().map(|i| {
            let key = keys[i].clone();
            async move { self.load_current(upstream, &key, empty_before, edge, now).await }
        });
        let loaded: Vec<Result<Arc<Segment>>> =
            stream::iter(loads).buffered(self.upstream_concurrency).collect().await;
        for (&i, seg) in missing.iter().zip(loaded) {
            found[i] = Some(seg?);
        }
        Ok(found.into_iter().flatten().collect())
    }

    /// Whether the exchange has already shown that `key`'s series trades before `key`:
    /// the segment just before it is in memory with rows. Then no segment from `key` on
    /// can lie before listing, and the listing probe would only delay a sequential
    /// backfill (one lone request per step).
    pub(super) fn listed_before(&self, key: &SegmentKey) -> bool {
        let (Some(mem), Some(index)) = (&self.memory, key.index.checked_sub(1)) else { return false };
        let previous = SegmentKey { series: Arc::clone(&key.series), index };
        mem.get(&previous).is_some_and(|s| !s.payload.is_empty())
    }

    /// One missing segment through the single flight. A flight joined just before a
    /// candle close may deliver a value already expired at this query's `now` (it was
    /// fresh when that flight began): then one more flight fetches the current value.
    async fn load_current(
        &self,
        upstream: &Arc<dyn Upstream>,
        key: &SegmentKey,
        empty_before: Option<i64>,
        edge: Option<i64>,
        now: i64,
    ) -> Result<Arc<Segment>> {
        let seg = self.flights.run(key, || self.load(upstream, key, empty_before, edge)).await?;
        if self.policy.servable(&seg, now) {
            return Ok(seg);
        }
        self.flights.run(key, || self.load(upstream, key, empty_before, edge)).await
    }

    /// Stale-while-revalidate: starts one background refresh of every stale segment
    /// served (concurrent refreshes of one segment share one flight, and a refresh that
    /// finds a fresh value in memory fetches nothing).
    fn revalidate_stale(
        &self,
        upstream: &Arc<dyn Upstream>,
        found: &[Option<Arc<Segment>>],
        edge: Option<i64>,
        now: i64,
    ) {
        let stale = found.iter().flatten().filter(|s| !s.is_fresh(now));
        if stale.clone().next().is_none() {
            return;
        }
        let Some(engine) = self.me.upgrade() else { return };
        // One background task per segment at a time, however many queries serve it stale.
        let stale: Vec<SegmentKey> = {
            let mut refreshing = self.refreshing.lock().unwrap_or_else(|e| e.into_inner());
            stale.filter(|s| refreshing.insert(s.key.clone())).map(|s| s.key.clone()).collect()
        };
        if stale.is_empty() {
            return;
        }
        let upstream = Arc::clone(upstream);
        let count = stale.len() as u64;
        let keys = stale.clone();
        let started = crate::rt::spawn_background(async move {
            for key in stale {
                let loaded = engine.flights.run(&key, || engine.load(&upstream, &key, None, edge)).await;
                engine.refreshing.lock().unwrap_or_else(|e| e.into_inner()).remove(&key);
                if let Err(e) = loaded {
                    tracing::debug!(segment = %key.storage_key("cc"), error = %e, "background refresh failed");
                }
            }
        });
        if started {
            self.revalidations.fetch_add(count, std::sync::atomic::Ordering::Relaxed);
        } else {
            // No runtime to refresh in: a later query will try again.
            let mut refreshing = self.refreshing.lock().unwrap_or_else(|e| e.into_inner());
            keys.iter().for_each(|k| {
                refreshing.remove(k);
            });
        }
    }

    /// What the tiers hold for `keys` that serves `range`: servable values only (fresh,
    /// or stale within the stale-while-revalidate grace) that cover their part of it,
    /// asking each tier for what the tiers before it lacked and writing hits back to
    /// those. Beside them, the bases: for a segment none served, the first fresh partial
    /// value found (a partial fetch completes it instead of fetching it all again).
    async fn read_tiers(
        &self,
        keys: &[SegmentKey],
        range: TimeRange,
        now: i64,
    ) -> (Vec<Option<Arc<Segment>>>, Vec<Option<Arc<Segment>>>) {
        let mut found: Vec<Option<Arc<Segment>>> = vec![None; keys.len()];
        let mut bases: Vec<Option<Arc<Segment>>> = vec![None; keys.len()];
        let mut serves = |i: usize, seg: Arc<Segment>| -> Option<Arc<Segment>> {
            if seg.covers(range) {
                return Some(seg);
            }
            if bases[i].is_none() && seg.is_fresh(now) {
                bases[i] = Some(seg);
            }
            None
        };
        // Fast path: the memory tier answers synchronously.
        let mut first_tier = 0;
        if let (Some(mem), Some(slot)) = (&self.memory, self.tiers.first()) {
            for (i, key) in keys.iter().enumerate() {
                match mem.get(key).filter(|s| self.policy.servable(s, now)).and_then(|s| serves(i, s)) {
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
                if let Some(seg) = hit.and_then(|s| serves(i, s)) {
                    write_back.push(Stored::new(Arc::clone(&seg)));
                    found[i] = Some(seg);
                }
            }
            self.store(&write_back, 0..t).await;
        }
        (found, bases)
    }

    /// Looks `keys` up in tier `t`; servable hits only. Failures count and degrade to misses.
    async fn lookup(&self, t: usize, keys: &[SegmentKey], now: i64) -> Vec<Option<Arc<Segment>>> {
        let slot = &self.tiers[t];
        match slot.tier.get_many(keys).await {
            Ok(lookups) => lookups
                .into_iter()
                .zip(keys)
                .map(|(lookup, key)| match lookup {
                    Lookup::Hit(seg, bytes) if self.policy.servable(&seg, now) => {
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
    pub(super) async fn store(&self, items: &[Stored], targets: std::ops::Range<usize>) {
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
}
