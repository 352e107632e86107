//! Columnar candles. A result is a view (`Arc` + row range) into decoded columns, so a
//! query served by one cached segment copies nothing.

use std::ops::Range;
use std::sync::Arc;

use crate::model::{Interval, TimeRange};

/// One candle as a plain struct (for row-wise code; the columns are the fast path).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candle {
    /// Open time, ms. Usually on the interval grid; real 2017–18 data can be seconds off.
    pub open_time: i64,
    /// Open price.
    pub open: f64,
    /// High price.
    pub high: f64,
    /// Low price.
    pub low: f64,
    /// Close price (last price for the still-open candle).
    pub close: f64,
    /// Base-asset volume.
    pub volume: f64,
    /// Quote-asset volume.
    pub quote_volume: f64,
    /// Number of trades, when the exchange reports it.
    pub trades: Option<u64>,
}

/// Owned candle columns, ascending by open time, no duplicates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CandleColumns {
    /// Open times, ms.
    pub open_time: Vec<i64>,
    /// Open prices.
    pub open: Vec<f64>,
    /// High prices.
    pub high: Vec<f64>,
    /// Low prices.
    pub low: Vec<f64>,
    /// Close prices.
    pub close: Vec<f64>,
    /// Base volumes.
    pub volume: Vec<f64>,
    /// Quote volumes.
    pub quote_volume: Vec<f64>,
    /// Trade counts; `None` when the exchange does not report them.
    pub trades: Option<Vec<u64>>,
}

impl CandleColumns {
    /// Empty columns with room for `n` candles.
    pub fn with_capacity(n: usize, with_trades: bool) -> Self {
        CandleColumns {
            open_time: Vec::with_capacity(n),
            open: Vec::with_capacity(n),
            high: Vec::with_capacity(n),
            low: Vec::with_capacity(n),
            close: Vec::with_capacity(n),
            volume: Vec::with_capacity(n),
            quote_volume: Vec::with_capacity(n),
            trades: with_trades.then(|| Vec::with_capacity(n)),
        }
    }

    /// Number of candles.
    pub fn len(&self) -> usize {
        self.open_time.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.open_time.is_empty()
    }

    /// Appends one candle. A missing trade count on a trades-carrying column set is 0.
    pub fn push(&mut self, c: &Candle) {
        self.open_time.push(c.open_time);
        self.open.push(c.open);
        self.high.push(c.high);
        self.low.push(c.low);
        self.close.push(c.close);
        self.volume.push(c.volume);
        self.quote_volume.push(c.quote_volume);
        if let Some(t) = self.trades.as_mut() {
            t.push(c.trades.unwrap_or(0));
        }
    }

    /// The candle at row `i`.
    pub fn row(&self, i: usize) -> Candle {
        Candle {
            open_time: self.open_time[i],
            open: self.open[i],
            high: self.high[i],
            low: self.low[i],
            close: self.close[i],
            volume: self.volume[i],
            quote_volume: self.quote_volume[i],
            trades: self.trades.as_ref().map(|t| t[i]),
        }
    }

    /// Appends rows `rows` of `other`.
    pub(crate) fn extend_from(&mut self, other: &CandleColumns, rows: Range<usize>) {
        self.open_time.extend_from_slice(&other.open_time[rows.clone()]);
        self.open.extend_from_slice(&other.open[rows.clone()]);
        self.high.extend_from_slice(&other.high[rows.clone()]);
        self.low.extend_from_slice(&other.low[rows.clone()]);
        self.close.extend_from_slice(&other.close[rows.clone()]);
        self.volume.extend_from_slice(&other.volume[rows.clone()]);
        self.quote_volume.extend_from_slice(&other.quote_volume[rows.clone()]);
        match (self.trades.as_mut(), other.trades.as_ref()) {
            (Some(mine), Some(theirs)) => mine.extend_from_slice(&theirs[rows]),
            (Some(mine), None) => mine.extend(std::iter::repeat_n(0, rows.len())),
            _ => {}
        }
    }

    /// Rows whose open time lies in `range` (columns are sorted, so this is two binary searches).
    pub(crate) fn rows_in(&self, range: TimeRange) -> Range<usize> {
        let lo = self.open_time.partition_point(|&t| t < range.start);
        let hi = self.open_time.partition_point(|&t| t < range.end);
        lo..hi.max(lo)
    }

    /// Approximate heap size in bytes (the memory tier weighs entries by it).
    pub fn heap_bytes(&self) -> usize {
        self.len() * (8 * 7 + if self.trades.is_some() { 8 } else { 0 })
    }
}

/// The candles a query returned: ascending by open time, no duplicates, exactly the
/// candles with `open_time` in the query's `[start, end)`.
#[derive(Debug, Clone)]
pub struct Candles {
    columns: Arc<CandleColumns>,
    rows: Range<usize>,
    interval: Interval,
    range: TimeRange,
    known_until: i64,
    last_is_open: bool,
}

impl Candles {
    /// Wraps `rows` of shared `columns` as the answer to a query over `range`, where the
    /// exchange's data is known up to `known_until` (now, for ranges reaching the present).
    pub(crate) fn new(
        columns: Arc<CandleColumns>,
        rows: Range<usize>,
        interval: Interval,
        range: TimeRange,
        known_until: i64,
        last_is_open: bool,
    ) -> Self {
        Candles { columns, rows, interval, range, known_until, last_is_open }
    }

    /// Number of candles.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the range held no candle.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The interval of these candles.
    pub fn interval(&self) -> Interval {
        self.interval
    }

    /// The queried range (after clamping to the earliest supported time).
    pub fn range(&self) -> TimeRange {
        self.range
    }

    /// Whether the last candle is still open (its close time is in the future): its
    /// values will change, and the cache refetches it after it closes.
    pub fn last_is_open(&self) -> bool {
        self.last_is_open
    }

    /// Open times, ms.
    pub fn open_time(&self) -> &[i64] {
        &self.columns.open_time[self.rows.clone()]
    }
    /// Open prices.
    pub fn open(&self) -> &[f64] {
        &self.columns.open[self.rows.clone()]
    }
    /// High prices.
    pub fn high(&self) -> &[f64] {
        &self.columns.high[self.rows.clone()]
    }
    /// Low prices.
    pub fn low(&self) -> &[f64] {
        &self.columns.low[self.rows.clone()]
    }
    /// Close prices.
    pub fn close(&self) -> &[f64] {
        &self.columns.close[self.rows.clone()]
    }
    /// Base-asset volumes.
    pub fn volume(&self) -> &[f64] {
        &self.columns.volume[self.rows.clone()]
    }
    /// Quote-asset volumes.
    pub fn quote_volume(&self) -> &[f64] {
        &self.columns.quote_volume[self.rows.clone()]
    }
    /// Trade counts, when the exchange reports them (Binance does).
    pub fn trades(&self) -> Option<&[u64]> {
        self.columns.trades.as_ref().map(|t| &t[self.rows.clone()])
    }

    /// The candle at index `i` of this result.
    pub fn get(&self, i: usize) -> Option<Candle> {
        (i < self.len()).then(|| self.columns.row(self.rows.start + i))
    }

    /// Iterates candles as rows.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Candle> + '_ {
        self.rows.clone().map(|i| self.columns.row(i))
    }

    /// Time ranges inside the query where the exchange has no candle although it could
    /// (before listing, maintenance, halts): runs of empty grid slots, up to now. Gaps
    /// are reported, never filled in.
    pub fn gaps(&self) -> Vec<TimeRange> {
        let iv = self.interval;
        let end = self.range.end.min(self.known_until);
        if end <= self.range.start {
            return Vec::new();
        }
        let mut gaps = Vec::new();
        let first_slot = iv.slot_of(self.range.start);
        let last_slot = iv.slot_of(end - 1);
        let mut expected = first_slot;
        let mut push_gap = |from_slot: i64, to_slot: i64| {
            if from_slot < to_slot {
                let start = iv.slot_start(from_slot).max(self.range.start);
                let stop = iv.slot_start(to_slot).min(end);
                if start < stop {
                    gaps.push(TimeRange::new(start, stop));
                }
            }
        };
        for &t in self.open_time() {
            let slot = iv.slot_of(t);
            push_gap(expected, slot);
            expected = slot + 1;
        }
        push_gap(expected, last_slot + 1);
        gaps
    }

    /// Copies the result into owned columns.
    pub fn to_columns(&self) -> CandleColumns {
        let mut out = CandleColumns::with_capacity(self.len(), self.columns.trades.is_some());
        out.extend_from(&self.columns, self.rows.clone());
        out
    }
}
