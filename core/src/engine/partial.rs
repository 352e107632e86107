//! Partial segments: a kline query fetches only the pages it needs when that costs fewer
//! requests than its whole segments (a short range, one straddling a segment boundary,
//! OKX's 100-row history pages), and keeps what it fetched as partial segments that
//! record the span they cover. A later query fetches only what is still missing and
//! completes them.
//!
//! The pieces fetched are the exchange's largest page each ([`Upstream::kline_page`]),
//! laid end to end from the first missing slot, so a range costs at most the requests of
//! a plain paging loop over it. A piece the exchange answers empty makes its part of the
//! covered span known-empty: the exchange said so for exactly that span.
//!
//! Not with a Redis tier: its cross-process lock is per whole segment, so processes
//! sharing a Redis load whole segments (each fetched once across them all).

use std::sync::Arc;

use futures_util::stream::{self, StreamExt};

use super::normalize::normalize_candles_in;
use super::resolve::LISTING_PROBE_MIN_MISSING;
use super::retention::EDGE_TTL_MS;
use super::Engine;
use crate::candles::{Candle, CandleColumns};
use crate::error::{Error, Result};
use crate::exchange::Upstream;
use crate::model::{DataKind, Interval, SeriesKey, TimeRange};
use crate::segment::{Origin, Payload, Segment, SegmentKey};
use crate::table::Table;
use crate::tier::Stored;

/// One fetched piece of a series: its candles, shared by the queries that asked at once.
pub(super) type PieceKey = (Arc<SeriesKey>, i64, i64);

/// What a partial fill fetches: the spans still needed, one per missing segment (by its
/// index in the query's keys), and the pieces that cover them.
#[derive(Debug, PartialEq)]
pub(super) struct PartialPlan {
    needs: Vec<(usize, TimeRange)>,
    pieces: Vec<TimeRange>,
}

/// What a query still wants from upstream: its segment keys, the fresh partial values
/// the tiers hold of them (`bases`, by index), its range, the retention edge and now.
#[derive(Clone, Copy)]
pub(super) struct Wanted<'a> {
    /// The venue.
    pub upstream: &'a Arc<dyn Upstream>,
    /// Every segment key of the query, in order.
    pub keys: &'a [SegmentKey],
    /// A fresh partial value per key, where a tier holds one.
    pub bases: &'a [Option<Arc<Segment>>],
    /// The query's range.
    pub range: TimeRange,
    /// The retention edge, if the venue has one for the series.
    pub edge: Option<i64>,
    /// Now, ms.
    pub now: i64,
}

impl Engine {
    /// The partial plan for the `missing` segments of `keys` (`bases`: fresh partial
    /// values the tiers hold of them), when it costs fewer requests than loading them
    /// whole; `None` otherwise, or where partial segments do not apply (not klines, a
    /// segment an archive may serve, one reaching past the retention edge).
    pub(super) fn plan_partial(&self, wanted: &Wanted<'_>, missing: &[usize]) -> Option<PartialPlan> {
        let Wanted { upstream, keys, bases, range, edge, now } = *wanted;
        let series = &keys.first()?.series;
        if series.kind != DataKind::Klines
            || self.relay.is_some()
            || self.archives_only()
            || self.locks_across_processes()
        {
            return None;
        }
        let archived = self.has_archive(series);
        let today = now.div_euclid(crate::time::DAY_MS) * crate::time::DAY_MS;
        let eligible = |key: &SegmentKey| {
            let span = key.span();
            // In `auto`, closed segments older than yesterday may come from archive files
            // (at no API weight): those are loaded whole.
            let archive_may_serve = archived && span.end <= today - crate::time::DAY_MS;
            !archive_may_serve && edge.is_none_or(|e| span.start >= e)
        };
        if !missing.iter().all(|&i| eligible(&keys[i])) {
            return None;
        }
        let page = |span: TimeRange| upstream.kline_page(series, span, now);
        let iv = series.interval;
        let whole: usize = missing.iter().map(|&i| pieces_of(keys[i].span(), iv, now, page).len()).sum();
        let needs: Vec<(usize, TimeRange)> =
            missing.iter().map(|&i| (i, still_needed(&keys[i], bases[i].as_deref(), range))).collect();
        let runs = runs_of(keys, &needs);
        let pieces: Vec<TimeRange> = runs.iter().flat_map(|&run| pieces_of(run, iv, now, page)).collect();
        // One run over everything from the first need to the last may cost less than
        // separate runs (pieces that would each be short).
        let hull = TimeRange::new(needs.first()?.1.start, needs.last()?.1.end);
        let hull_pieces = pieces_of(hull, iv, now, page);
        let (needs, pieces) = if hull_pieces.len() < pieces.len() {
            // The hull fetches each missing segment's whole part of the range.
            let needs = missing.iter().map(|&i| (i, part_of(&keys[i], range))).collect();
            (needs, hull_pieces)
        } else {
            (needs, pieces)
        };
        (pieces.len() < whole).then_some(PartialPlan { needs, pieces })
    }

    /// Whether misses are coordinated across processes by the Redis segment lock. That
    /// lock is per whole segment: processes sharing a Redis load whole segments (one
    /// fetch per segment across them all) rather than pieces each might fetch at once.
    fn locks_across_processes(&self) -> bool {
        #[cfg(feature = "redis")]
        return self.lock.is_some();
        #[cfg(not(feature = "redis"))]
        return false;
    }

    /// Fetches a plan's pieces (the same piece once however many queries want it) and
    /// stores the segments they fill, each merged with its base where the two spans
    /// join. Returns the filled segments by index in the query's keys; every piece runs
    /// to its end, and the first error is the query's (segments whose pieces all arrived
    /// are stored all the same).
    pub(super) async fn fill_partial(
        &self,
        wanted: &Wanted<'_>,
        plan: PartialPlan,
        mut empty_before: Option<i64>,
    ) -> Result<Vec<(usize, Arc<Segment>)>> {
        let Wanted { upstream, keys, bases, edge, now, .. } = *wanted;
        let series = &keys[0].series;
        let PartialPlan { needs, pieces } = plan;
        let mut fetched: Vec<Option<Result<Arc<Vec<Candle>>>>> = vec![None; pieces.len()];
        // A long cold run: its first piece alone; only if that is empty ask the exchange
        // where the series starts (the pieces before that then cost nothing).
        let first_key = &keys[needs[0].0];
        if empty_before.is_none()
            && pieces.len() >= LISTING_PROBE_MIN_MISSING
            && !self.listed_before(first_key)
        {
            let first = self.piece(upstream, series, pieces[0], None, now).await;
            if first.as_ref().is_ok_and(|rows| rows.is_empty()) {
                empty_before = self.empty_before(upstream, series, None, now).await?;
            }
            fetched[0] = Some(first);
        }
        let wanted: Vec<usize> = (0..pieces.len()).filter(|&p| fetched[p].is_none()).collect();
        let wanted_pieces: Vec<TimeRange> = wanted.iter().map(|&p| pieces[p]).collect();
        let loads =
            wanted_pieces.into_iter().map(|piece| self.piece(upstream, series, piece, empty_before, now));
        let loaded: Vec<Result<Arc<Vec<Candle>>>> =
            stream::iter(loads).buffered(self.upstream_concurrency).collect().await;
        for (&p, rows) in wanted.iter().zip(loaded) {
            fetched[p] = Some(rows);
        }
        let mut filled = Vec::with_capacity(needs.len());
        let mut stored = Vec::with_capacity(needs.len());
        let mut first_error = None;
        for (i, need) in needs {
            let key = &keys[i];
            let mut rows = Vec::new();
            let mut failed = None;
            for (piece, result) in pieces.iter().zip(&fetched) {
                if piece.start >= need.end || piece.end <= need.start {
                    continue;
                }
                match result {
                    Some(Ok(candles)) => {
                        rows.extend(candles.iter().filter(|c| need.contains(c.open_time)).cloned())
                    }
                    Some(Err(e)) => failed = Some(e.clone()),
                    None => failed = Some(Error::Cache("a piece of a partial fetch was never run".into())),
                }
            }
            if let Some(e) = failed {
                self.failures.insert(key.clone(), (now, e.to_string()));
                first_error.get_or_insert(e);
                continue;
            }
            self.failures.invalidate(key);
            self.upstream_counters.segment_fetched();
            let seg = Arc::new(self.merged(key, need, rows, bases[i].as_deref(), edge, now));
            stored.push(Stored::new(Arc::clone(&seg)));
            filled.push((i, seg));
        }
        self.store(&stored, 0..self.tiers.len()).await;
        match first_error {
            Some(e) => Err(e),
            None => Ok(filled),
        }
    }

    /// One piece's candles from the exchange, once per piece however many queries want
    /// it at the same time; nothing is asked for a piece wholly before `empty_before`.
    async fn piece(
        &self,
        upstream: &Arc<dyn Upstream>,
        series: &Arc<SeriesKey>,
        piece: TimeRange,
        empty_before: Option<i64>,
        now: i64,
    ) -> Result<Arc<Vec<Candle>>> {
        if empty_before.is_some_and(|t| piece.end <= t) {
            return Ok(Arc::default());
        }
        let key = (Arc::clone(series), piece.start, piece.end);
        self.piece_flights
            .run(&key, || async { upstream.fetch_klines(series, piece, now).await.map(Arc::new) })
            .await
    }

    /// The segment `key` holding the candles fetched for `need`, joined with `base`'s
    /// where their spans meet or overlap (a base the new span does not reach is left
    /// for the new value to replace). Whole when the two cover the span.
    fn merged(
        &self,
        key: &SegmentKey,
        need: TimeRange,
        rows: Vec<Candle>,
        base: Option<&Segment>,
        edge: Option<i64>,
        now: i64,
    ) -> Segment {
        let base = base.filter(|b| {
            let c = b.covered();
            c.start <= need.end && need.start <= c.end && b.is_fresh(now)
        });
        let (covered, mut rows) = match (base, &base.map(|b| &b.payload)) {
            (Some(b), Some(Payload::Candles(old))) => {
                let c = b.covered();
                let kept = (0..old.len()).map(|r| old.row(r)).filter(|c| !need.contains(c.open_time));
                let mut all: Vec<Candle> = kept.collect();
                all.extend(rows);
                (TimeRange::new(c.start.min(need.start), c.end.max(need.end)), all)
            }
            _ => (need, rows),
        };
        rows.retain(|c| covered.contains(c.open_time));
        let cols: CandleColumns = normalize_candles_in(key, covered, rows);
        let span = key.span();
        let partial = (covered != span).then_some(covered);
        let mut expires_at = self.policy.expires_at_until(key, covered.end, cols.len(), now);
        // The base's rows keep their own expiry (fetched before they settled, say).
        if let Some(t) = base.and_then(|b| b.expires_at) {
            expires_at = Some(expires_at.map_or(t, |e| e.min(t)));
        }
        if edge.is_some_and(|e| covered.start < e) {
            let cap = now + EDGE_TTL_MS;
            expires_at = Some(expires_at.map_or(cap, |t| t.min(cap)));
        }
        Segment {
            key: key.clone(),
            payload: Payload::Candles(Arc::new(cols)),
            fetched_at: base.map_or(now, |b| b.fetched_at.min(now)),
            expires_at,
            origin: Origin::Api,
            partial,
        }
    }
}

/// The part of `key`'s span that `range` asks for, widened to whole grid slots: a slot's
/// candle is fetched (and covered) whole, so a range starting inside a slot still lets a
/// page reach its first slot and stop.
fn part_of(key: &SegmentKey, range: TimeRange) -> TimeRange {
    let span = key.span();
    let iv = key.series.interval;
    let start = iv.slot_start(iv.slot_of(range.start.max(span.start)));
    let end = iv.slot_start(iv.slot_of(range.end.min(span.end) - 1) + 1);
    TimeRange::new(start, end)
}

/// What segment `key` still needs for `range`: its part of the range, less what a
/// partial `base` already covers when that leaves one span (the base reaches over one
/// end of the part); otherwise the whole part.
fn still_needed(key: &SegmentKey, base: Option<&Segment>, range: TimeRange) -> TimeRange {
    let part = part_of(key, range);
    let Some(c) = base.map(Segment::covered) else { return part };
    if c.start <= part.start && part.start < c.end && c.end < part.end {
        TimeRange::new(c.end, part.end)
    } else if part.start < c.start && c.start < part.end && part.end <= c.end {
        TimeRange::new(part.start, c.start)
    } else {
        part
    }
}

/// The needs joined into runs: a need that ends where its segment ends and the next
/// segment's need starts where that segment starts make one run.
fn runs_of(keys: &[SegmentKey], needs: &[(usize, TimeRange)]) -> Vec<TimeRange> {
    let mut runs: Vec<(TimeRange, i64)> = Vec::new();
    for &(i, need) in needs {
        let index = keys[i].index;
        match runs.last_mut() {
            Some((run, last)) if *last + 1 == index && run.end == need.start => {
                run.end = need.end;
                *last = index;
            }
            _ => runs.push((need, index)),
        }
    }
    runs.into_iter().map(|(run, _)| run).collect()
}

/// `run` cut into pieces of the exchange's largest page each (as many slots as
/// `page(piece)` says), from its start, up to the slot after `now` (nothing later exists).
fn pieces_of(run: TimeRange, iv: Interval, now: i64, page: impl Fn(TimeRange) -> usize) -> Vec<TimeRange> {
    let end = run.end.min(iv.slot_start(iv.slot_of(now) + 1));
    let mut pieces = Vec::new();
    let mut start = run.start;
    while start < end {
        let slots = page(TimeRange::new(start, end)).max(1) as i64;
        let next = iv.slot_start(iv.slot_of(start) + slots).min(end);
        pieces.push(TimeRange::new(start, next));
        start = next;
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Exchange, Market};

    const MIN: i64 = 60_000;
    const SEG: i64 = 1000 * MIN;
    /// A `now` after every range here.
    const FAR: i64 = 1 << 50;

    fn keys(indexes: std::ops::RangeInclusive<i64>) -> Vec<SegmentKey> {
        let series = Arc::new(SeriesKey {
            source: crate::source::LIVE.into(),
            exchange: Exchange::Binance,
            market: Market::Spot,
            kind: DataKind::Klines,
            interval: "1m".parse().unwrap(),
            symbol: "BTCUSDT".into(),
        });
        indexes.map(|index| SegmentKey { series: Arc::clone(&series), index }).collect()
    }

    fn partial(key: &SegmentKey, covered: TimeRange) -> Segment {
        Segment {
            key: key.clone(),
            payload: Payload::Candles(Arc::default()),
            fetched_at: 0,
            expires_at: None,
            origin: Origin::Api,
            partial: Some(covered),
        }
    }

    #[test]
    fn a_straddling_range_is_one_run_of_page_sized_pieces() {
        let keys = keys(10..=11);
        let range = TimeRange::new(10 * SEG + 900 * MIN, 11 * SEG + 50 * MIN);
        let needs: Vec<_> = (0..2).map(|i| (i, still_needed(&keys[i], None, range))).collect();
        let runs = runs_of(&keys, &needs);
        assert_eq!(runs, vec![range]);
        let iv: Interval = "1m".parse().unwrap();
        assert_eq!(pieces_of(runs[0], iv, FAR, |_| 1000), vec![range]);
        // OKX history pages of 100: 150 slots are two pieces.
        let pieces = pieces_of(runs[0], iv, FAR, |_| 100);
        assert_eq!(pieces.len(), 2);
        assert_eq!(pieces[0], TimeRange::new(range.start, range.start + 100 * MIN));
        // Nothing is asked after the slot holding now.
        assert_eq!(pieces_of(runs[0], iv, range.start + 10 * MIN + 5, |_| 1000).len(), 1);
        assert_eq!(
            pieces_of(runs[0], iv, range.start + 10 * MIN + 5, |_| 1000)[0].end,
            range.start + 11 * MIN
        );
    }

    #[test]
    fn a_base_leaves_only_the_rest_to_fetch() {
        let keys = keys(10..=10);
        let key = &keys[0];
        let start = key.span().start;
        let base = partial(key, TimeRange::new(start + 100 * MIN, start + 200 * MIN));
        let range = |a: i64, b: i64| TimeRange::new(start + a * MIN, start + b * MIN);
        // Over its end, over its start: only the rest.
        assert_eq!(still_needed(key, Some(&base), range(150, 300)), range(200, 300));
        assert_eq!(still_needed(key, Some(&base), range(50, 150)), range(50, 100));
        // Around it on both sides, or apart from it: the whole part.
        assert_eq!(still_needed(key, Some(&base), range(50, 300)), range(50, 300));
        assert_eq!(still_needed(key, Some(&base), range(500, 600)), range(500, 600));
    }

    #[test]
    fn needs_apart_are_separate_runs() {
        let keys = keys(10..=12);
        let range = TimeRange::new(10 * SEG + 900 * MIN, 12 * SEG + 50 * MIN);
        // Segment 11 is in a tier: 10's and 12's needs do not join.
        let needs = vec![(0, part_of(&keys[0], range)), (2, part_of(&keys[2], range))];
        assert_eq!(runs_of(&keys, &needs).len(), 2);
    }
}
