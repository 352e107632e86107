//! Upstream rows → one segment's columns (sorted, inside the span, de-duplicated), and
//! segments → one result view.

use std::sync::Arc;

use crate::candles::{Candle, CandleColumns};
use crate::funding::{FundingColumns, FundingRate};
use crate::model::TimeRange;
use crate::segment::{Payload, Segment, SegmentKey};
use crate::table::{Rows, Table};
use crate::trades::{Trade, TradeColumns};

/// Sorts upstream rows by open time, keeps those inside the segment, and keeps one
/// candle per grid slot (an off-grid candle belongs to the slot that contains it).
pub(super) fn normalize_candles(key: &SegmentKey, rows: Vec<Candle>) -> CandleColumns {
    normalize_candles_in(key, key.span(), rows)
}

/// [`normalize_candles`] keeping the candles inside `span` (a partial segment's covered
/// part of its span).
pub(super) fn normalize_candles_in(
    key: &SegmentKey,
    span: TimeRange,
    mut rows: Vec<Candle>,
) -> CandleColumns {
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
pub(super) fn normalize_trades(span: TimeRange, mut rows: Vec<Trade>) -> TradeColumns {
    rows.retain(|t| span.contains(t.time));
    rows.sort_by_key(|t| (t.time, t.id));
    let mut seen = std::collections::HashSet::with_capacity(rows.len());
    rows.retain(|t| seen.insert(t.id));
    let mut cols = TradeColumns::default().empty_like(rows.len());
    rows.iter().for_each(|t| cols.push(t));
    cols
}

/// Sorts funding events by time, keeps those inside the span, one per time.
pub(super) fn normalize_funding(span: TimeRange, mut rows: Vec<FundingRate>) -> FundingColumns {
    rows.retain(|f| span.contains(f.time));
    rows.sort_by_key(|f| f.time);
    rows.dedup_by_key(|f| f.time);
    let mut cols = FundingColumns::default().empty_like(rows.len());
    rows.iter().for_each(|f| cols.push(f));
    cols
}

/// The rows of `range` across `segments`, as one view: a pointer copy when one segment
/// covers it, one concatenation otherwise; marked stale if a segment was past its expiry
/// at `now` (served under stale-while-revalidate).
pub(super) fn slices<T: Table>(
    segments: &[Arc<Segment>],
    range: TimeRange,
    now: i64,
    table: impl Fn(&Payload) -> Option<&Arc<T>>,
) -> Rows<T> {
    let parts: Vec<(&Arc<T>, std::ops::Range<usize>)> =
        segments.iter().filter_map(|s| table(&s.payload)).map(|t| (t, t.rows_in(range))).collect();
    let stale = segments.iter().any(|s| !s.is_fresh(now));
    let final_rows = segments.iter().all(|s| s.expires_at.is_none());
    Rows::assemble(&parts).with_state(stale, final_rows)
}
