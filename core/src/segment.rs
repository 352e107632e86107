//! Segments: fixed, time-aligned blocks of one series, the unit every tier stores.
//! Segment `n` of a series holds grid slots `[n × s, (n+1) × s)` where `s` is the kind's
//! [`DataKind::slots_per_segment`].

use std::sync::Arc;

use crate::candles::CandleColumns;
use crate::funding::FundingColumns;
use crate::model::{DataKind, SeriesKey, TimeRange};
use crate::table::Table;
use crate::trades::TradeColumns;

/// Grid slots per candle segment. 1000 is Binance's cheapest page (spot: 1000 rows for
/// weight 2; USD-M: 1000 rows for weight 5, whereas 1500 cost 10), so a cold segment
/// costs one request at the minimum weight per candle.
pub const SEGMENT_SLOTS: i64 = 1000;

/// Identifies one segment of one series.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SegmentKey {
    /// The series.
    pub series: Arc<SeriesKey>,
    /// Segment number (may be negative only for times before 1970, which queries reject).
    pub index: i64,
}

impl SegmentKey {
    /// The segment of `series` containing time `ts`.
    pub fn containing(series: &Arc<SeriesKey>, ts: i64) -> Self {
        let slot = series.interval.slot_of(ts);
        SegmentKey { series: Arc::clone(series), index: slot.div_euclid(series.kind.slots_per_segment()) }
    }

    /// The time span `[start, end)` of this segment.
    pub fn span(&self) -> TimeRange {
        let iv = self.series.interval;
        let slots = self.series.kind.slots_per_segment();
        TimeRange::new(iv.slot_start(self.index * slots), iv.slot_start((self.index + 1) * slots))
    }

    /// The key string used by key-value tiers:
    /// `{prefix}:v{format}:{source}:{exchange}:{market}:{kind}:{interval}:{{symbol}}:{segment_start}`.
    /// The braces make the symbol a Redis Cluster hash tag, so all segments of a series
    /// share one slot.
    pub fn storage_key(&self, prefix: &str) -> String {
        let s = &self.series;
        format!(
            "{prefix}:v{}:{}:{}:{}:{}:{}:{{{}}}:{}",
            crate::codec::FORMAT_VERSION,
            s.source,
            s.exchange,
            s.market,
            s.kind.as_str(),
            s.interval,
            s.symbol,
            self.span().start
        )
    }
}

/// The segments covering `range`, in ascending order, skipping any that start after `now`
/// (the exchange cannot have data there yet).
pub fn plan(series: &Arc<SeriesKey>, range: TimeRange, now: i64) -> Vec<SegmentKey> {
    let first = SegmentKey::containing(series, range.start).index;
    let last = SegmentKey::containing(series, range.end - 1).index;
    (first..=last)
        .map(|index| SegmentKey { series: Arc::clone(series), index })
        .take_while(|k| k.span().start <= now)
        .collect()
}

/// The rows of a segment, by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// Candles with open time inside the span, ascending.
    Candles(Arc<CandleColumns>),
    /// Trades with time inside the span, ascending by (time, id).
    Trades(Arc<TradeColumns>),
    /// Funding events with time inside the span, ascending.
    Funding(Arc<FundingColumns>),
}

impl Payload {
    /// An empty payload of `kind`.
    pub fn empty(kind: DataKind) -> Self {
        match kind {
            DataKind::Klines => Payload::Candles(Arc::default()),
            DataKind::Trades => Payload::Trades(Arc::default()),
            DataKind::Funding => Payload::Funding(Arc::default()),
        }
    }

    /// The kind of data held.
    pub fn kind(&self) -> DataKind {
        match self {
            Payload::Candles(_) => DataKind::Klines,
            Payload::Trades(_) => DataKind::Trades,
            Payload::Funding(_) => DataKind::Funding,
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Payload::Candles(t) => t.len(),
            Payload::Trades(t) => t.len(),
            Payload::Funding(t) => t.len(),
        }
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Payload::Candles(t) => t.heap_bytes(),
            Payload::Trades(t) => t.heap_bytes(),
            Payload::Funding(t) => t.heap_bytes(),
        }
    }
}

/// A decoded segment: its rows and how long they stay valid.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Which segment.
    pub key: SegmentKey,
    /// The rows.
    pub payload: Payload,
    /// When it was fetched from the exchange (ms).
    pub fetched_at: i64,
    /// When it stops being valid (ms); `None` = never (a closed, settled segment).
    pub expires_at: Option<i64>,
    /// Where its rows came from: the exchange's API or its bulk archive files.
    pub origin: Origin,
    /// `Some(covered)` when only part of the span was fetched (a short query's pages):
    /// the segment holds exactly the rows of `covered`, and says nothing about the rest
    /// of its span. `None`: the whole span. A partial segment serves only queries whose
    /// part of the span lies inside `covered` ([`Segment::covers`]).
    pub partial: Option<TimeRange>,
}

/// Where a segment's rows came from (its provenance; `fetched_at` says when).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The exchange's API (REST), directly or through a relay that fetched it so.
    #[default]
    Api,
    /// The exchange's bulk archive files (checksum-verified).
    Archive,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Origin::Api => "api",
            Origin::Archive => "archive",
        })
    }
}

impl Segment {
    /// Whether the segment may still be served at `now`.
    pub fn is_fresh(&self, now: i64) -> bool {
        self.expires_at.is_none_or(|t| now < t)
    }

    /// Whether the exchange confirmed there is nothing in this segment's span.
    pub fn is_known_empty(&self) -> bool {
        self.payload.is_empty() && self.expires_at.is_none() && self.partial.is_none()
    }

    /// Whether it holds its whole span (not a partial segment).
    pub fn is_complete(&self) -> bool {
        self.partial.is_none()
    }

    /// The part of its span whose rows it holds.
    pub fn covered(&self) -> TimeRange {
        self.partial.unwrap_or_else(|| self.key.span())
    }

    /// Whether it holds every row of `range` that falls in its span.
    pub fn covers(&self, range: TimeRange) -> bool {
        let Some(covered) = self.partial else { return true };
        let span = self.key.span();
        let (start, end) = (range.start.max(span.start), range.end.min(span.end));
        start >= end || (covered.start <= start && end <= covered.end)
    }

    /// Bytes the memory tier charges for holding it.
    pub fn weight(&self) -> u32 {
        u32::try_from(self.payload.heap_bytes() + 128).unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DataKind, Exchange, Market};

    fn series(interval: &str) -> Arc<SeriesKey> {
        Arc::new(SeriesKey {
            source: crate::source::LIVE.into(),
            exchange: Exchange::Binance,
            market: Market::Spot,
            kind: DataKind::Klines,
            interval: interval.parse().unwrap(),
            symbol: "BTCUSDT".into(),
        })
    }

    #[test]
    fn segments_are_aligned_blocks() {
        let s = series("1m");
        let k = SegmentKey::containing(&s, 1_706_630_400_000);
        let span = k.span();
        assert_eq!(span.start % (60_000 * 1000), 0);
        assert_eq!(span.end - span.start, 60_000 * 1000);
        assert!(span.contains(1_706_630_400_000));
        assert_eq!(
            k.storage_key("cc"),
            format!("cc:v2:live:binance:spot:klines:1m:{{BTCUSDT}}:{}", span.start)
        );
    }

    #[test]
    fn plan_covers_the_range_and_stops_at_now() {
        let s = series("1h");
        let seg = 3_600_000 * 1000;
        let keys = plan(&s, TimeRange::new(seg * 400 + 5, seg * 403 + 1), i64::MAX);
        assert_eq!(keys.iter().map(|k| k.index).collect::<Vec<_>>(), vec![400, 401, 402, 403]);
        let keys = plan(&s, TimeRange::new(seg * 400, seg * 403), seg * 401 + 7);
        assert_eq!(keys.iter().map(|k| k.index).collect::<Vec<_>>(), vec![400, 401]);
    }
}
