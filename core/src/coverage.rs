//! Coverage reports: for a series and range, what the cache holds, segment by segment.

use serde::Serialize;

use crate::model::{DataKind, Exchange, Interval, Market, TimeRange};

/// What a coverage report is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageQuery {
    /// Exchange.
    pub exchange: Exchange,
    /// Market; `None` lets the adapter decide.
    pub market: Option<Market>,
    /// Exchange symbol.
    pub symbol: String,
    /// Data kind.
    pub kind: DataKind,
    /// Candle interval (klines only).
    pub interval: Option<Interval>,
    /// Inclusive start, ms.
    pub start: i64,
    /// Exclusive end, ms.
    pub end: i64,
}

/// The state of one segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SegmentStatus {
    /// Cached, closed: served forever.
    Cached,
    /// Cached and confirmed empty by the exchange (before listing, long halts).
    KnownEmpty,
    /// Cached but still open (holds the current candle or is settling): expires soon.
    Open,
    /// Cached but expired: the next query refetches it.
    Expired,
    /// Cached only in part: a query fetched just the pages it needed. The rows of
    /// `covered` are held (final or open as `expires_at` says); the rest of the span was
    /// never fetched and the next query that needs it fetches only that.
    Partial,
    /// Not cached, never asked for (by this process).
    Missing,
    /// Not cached: the last fetch failed (see `error`).
    Failed,
    /// Starts after now: the exchange cannot have it yet.
    Future,
    /// Not cached, and (partly) older than the exchange still serves (e.g. OKX trades and
    /// funding history: about three months): asking would be an `OUT_OF_RETENTION` error.
    BeyondRetention,
}

/// One segment of a coverage report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SegmentCoverage {
    /// The segment's span, clipped to the queried range.
    pub span: TimeRange,
    /// Its state.
    pub status: SegmentStatus,
    /// The first tier holding it, when cached.
    pub tier: Option<String>,
    /// Rows held inside `span`.
    pub rows: usize,
    /// For `Partial`: the part of `span` whose rows are held (may be empty when the held
    /// part lies outside the queried range).
    pub covered: Option<TimeRange>,
    /// Exchange-side gaps inside `span` (klines: grid slots the exchange confirmed empty).
    pub gaps: Vec<TimeRange>,
    /// When it was fetched, when cached.
    pub fetched_at: Option<i64>,
    /// Where its rows came from (the exchange's API or its archive files), when cached.
    pub origin: Option<crate::segment::Origin>,
    /// When it expires, when cached and not final.
    pub expires_at: Option<i64>,
    /// Why the last fetch failed, for `Failed`.
    pub error: Option<String>,
}

/// A coverage report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// `exchange:market:kind:grid:symbol`.
    pub series: String,
    /// The range reported on (after clamping).
    pub range: TimeRange,
    /// One entry per segment, in time order.
    pub segments: Vec<SegmentCoverage>,
}

impl Coverage {
    /// Segments in `status`.
    pub fn count(&self, status: SegmentStatus) -> usize {
        self.segments.iter().filter(|s| s.status == status).count()
    }

    /// Every exchange-side gap in the range, in order; gaps that meet at a segment
    /// boundary are one gap.
    pub fn gaps(&self) -> Vec<TimeRange> {
        let mut out: Vec<TimeRange> = Vec::new();
        for gap in self.segments.iter().flat_map(|s| s.gaps.iter()) {
            match out.last_mut() {
                Some(last) if last.end == gap.start => last.end = gap.end,
                _ => out.push(*gap),
            }
        }
        out
    }
}

impl serde::Serialize for TimeRange {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("TimeRange", 2)?;
        st.serialize_field("start", &self.start)?;
        st.serialize_field("end", &self.end)?;
        st.end()
    }
}
