//! Coverage reports: for a series and range, what the tiers hold, segment by segment.
//! Reads only the tiers: nothing is fetched or written.

use std::sync::Arc;

use super::{Engine, SeriesSpec};
use crate::candles::Candles;
use crate::coverage::{Coverage, CoverageQuery, SegmentCoverage, SegmentStatus};
use crate::error::Result;
use crate::model::TimeRange;
use crate::segment::{Payload, Segment, SegmentKey};
use crate::table::{Rows, Table};
use crate::tier::Lookup;
use crate::time::DAY_MS;

impl Engine {
    /// Reports, segment by segment, what the tiers hold for a range. Reads only the
    /// tiers: nothing is fetched or written.
    pub(crate) async fn coverage(&self, q: &CoverageQuery) -> Result<Coverage> {
        let spec = SeriesSpec { exchange: q.exchange, market: q.market, symbol: &q.symbol, kind: q.kind };
        let (upstream, series, range) = self.series(spec, q.interval, q.start, q.end)?;
        let now = self.clock.now_ms();
        // An archive reaches past REST's retention: nothing is out of reach then.
        let edge = if self.has_archive(&series) {
            None
        } else {
            self.retention(upstream, &series).map(|r| now - r.days * DAY_MS)
        };
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
            .map(|(key, hit)| segment_coverage(key, hit, range, now, edge, self.failures.get(key)))
            .collect();
        Ok(Coverage { series: series.to_string(), range, segments })
    }
}

/// The coverage entry of one segment, from what the tiers returned for it.
fn segment_coverage(
    key: &SegmentKey,
    hit: Option<(&str, Arc<Segment>)>,
    range: TimeRange,
    now: i64,
    edge: Option<i64>,
    failure: Option<(i64, String)>,
) -> SegmentCoverage {
    let seg_span = key.span();
    let span = TimeRange::new(seg_span.start.max(range.start), seg_span.end.min(range.end));
    let mut entry = SegmentCoverage {
        span,
        status: SegmentStatus::Missing,
        tier: None,
        rows: 0,
        covered: None,
        gaps: Vec::new(),
        fetched_at: None,
        origin: None,
        expires_at: None,
        error: None,
    };
    let Some((tier, seg)) = hit else {
        if seg_span.start > now {
            entry.status = SegmentStatus::Future;
        } else if edge.is_some_and(|edge| span.start < edge) {
            entry.status = SegmentStatus::BeyondRetention;
        } else if let Some((_, error)) = failure {
            entry.status = SegmentStatus::Failed;
            entry.error = Some(error);
        }
        return entry;
    };
    entry.tier = Some(tier.to_string());
    entry.fetched_at = Some(seg.fetched_at);
    entry.origin = Some(seg.origin);
    entry.expires_at = seg.expires_at;
    let whole = seg.covers(span);
    entry.status = match (seg.is_fresh(now), whole, seg.expires_at, seg.payload.is_empty()) {
        (false, _, _, _) => SegmentStatus::Expired,
        (true, false, _, _) => SegmentStatus::Partial,
        (true, true, None, true) => SegmentStatus::KnownEmpty,
        (true, true, None, false) => SegmentStatus::Cached,
        (true, true, Some(_), _) => SegmentStatus::Open,
    };
    // What the segment holds of the queried span: all of it, or the covered part only
    // (rows and exchange gaps are reported for that part alone).
    let held = if whole {
        span
    } else {
        let covered = seg.covered();
        let start = span.start.max(covered.start);
        let held = TimeRange::new(start, span.end.min(covered.end).max(start));
        entry.covered = Some(held);
        held
    };
    match &seg.payload {
        Payload::Candles(c) => {
            let rows = Rows::assemble(&[(c, c.rows_in(held))]);
            entry.rows = rows.len();
            if held.start < held.end {
                entry.gaps = Candles::new(rows, key.series.interval, held, seg.fetched_at).gaps();
            }
        }
        Payload::Trades(t) => entry.rows = t.rows_in(held).len(),
        Payload::Funding(f) => entry.rows = f.rows_in(held).len(),
    }
    entry
}
