//! Columnar candles. A result is a view (`Arc` + row range) into decoded columns, so a
//! query served by one cached segment copies nothing.

use std::ops::Range;

use crate::model::{Interval, TimeRange};
use crate::table::{Rows, Table};

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
}

impl Table for CandleColumns {
    fn len(&self) -> usize {
        self.open_time.len()
    }

    fn times(&self) -> &[i64] {
        &self.open_time
    }

    fn empty_like(&self, n: usize) -> Self {
        CandleColumns::with_capacity(n, self.trades.is_some())
    }

    fn extend_from(&mut self, other: &Self, rows: Range<usize>) {
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

    fn heap_bytes(&self) -> usize {
        self.len() * (8 * 7 + if self.trades.is_some() { 8 } else { 0 })
    }
}

/// The empty grid slots of `interval` in `range` before `known_until`, given the open
/// times present (ascending): what [`Candles::gaps`] reports, for bindings that hand
/// the columns out and compute gaps only when asked.
pub fn gaps_between(
    open_time: &[i64],
    interval: Interval,
    range: TimeRange,
    known_until: i64,
) -> Vec<TimeRange> {
    let iv = interval;
    let end = range.end.min(known_until);
    if end <= range.start {
        return Vec::new();
    }
    let mut gaps = Vec::new();
    let last_slot = iv.slot_of(end - 1);
    let mut expected = iv.slot_of(range.start);
    let mut push_gap = |from_slot: i64, to_slot: i64| {
        if from_slot < to_slot {
            let start = iv.slot_start(from_slot).max(range.start);
            let stop = iv.slot_start(to_slot).min(end);
            if start < stop {
                gaps.push(TimeRange::new(start, stop));
            }
        }
    };
    for &t in open_time {
        let slot = iv.slot_of(t);
        push_gap(expected, slot);
        expected = slot + 1;
    }
    push_gap(expected, last_slot + 1);
    gaps
}

/// The candles a query returned: ascending by open time, no duplicates, exactly the
/// candles with `open_time` in the query's `[start, end)`.
#[derive(Debug, Clone)]
pub struct Candles {
    rows: Rows<CandleColumns>,
    interval: Interval,
    range: TimeRange,
    known_until: i64,
    last_is_open: bool,
}

impl Candles {
    /// Wraps `rows` as the answer to a query over `range`, read at time `now` (the
    /// exchange's data is known up to `now` or the range's end, whichever is first).
    pub(crate) fn new(rows: Rows<CandleColumns>, interval: Interval, range: TimeRange, now: i64) -> Self {
        let known_until = now.min(range.end);
        let last_is_open = rows
            .slice(|c| &c.open_time)
            .last()
            .is_some_and(|&t| interval.slot_start(interval.slot_of(t) + 1) > now);
        Candles { rows, interval, range, known_until, last_is_open }
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

    /// Whether these candles were served from an open segment past its expiry (the
    /// stale-while-revalidate setting): the newest candles may have changed since and a
    /// background refresh is under way. Closed candles are never stale.
    pub fn is_stale(&self) -> bool {
        self.rows.is_stale()
    }

    /// Whether every segment these candles came from is final (closed and confirmed by
    /// the exchange): the same query always returns exactly these candles, until someone
    /// invalidates them ([`Cache::generation`](crate::Cache::generation) then changes).
    pub fn is_final(&self) -> bool {
        self.rows.is_final()
    }

    /// Whether the last candle is still open (its close time is in the future): its
    /// values will change, and the cache refetches it after it closes.
    pub fn last_is_open(&self) -> bool {
        self.last_is_open
    }

    /// Open times, ms.
    pub fn open_time(&self) -> &[i64] {
        self.rows.slice(|c| &c.open_time)
    }
    /// Open prices.
    pub fn open(&self) -> &[f64] {
        self.rows.slice(|c| &c.open)
    }
    /// High prices.
    pub fn high(&self) -> &[f64] {
        self.rows.slice(|c| &c.high)
    }
    /// Low prices.
    pub fn low(&self) -> &[f64] {
        self.rows.slice(|c| &c.low)
    }
    /// Close prices.
    pub fn close(&self) -> &[f64] {
        self.rows.slice(|c| &c.close)
    }
    /// Base-asset volumes.
    pub fn volume(&self) -> &[f64] {
        self.rows.slice(|c| &c.volume)
    }
    /// Quote-asset volumes.
    pub fn quote_volume(&self) -> &[f64] {
        self.rows.slice(|c| &c.quote_volume)
    }
    /// Trade counts, when the exchange reports them (Binance does).
    pub fn trades(&self) -> Option<&[u64]> {
        let (table, rows) = self.rows.parts();
        table.trades.as_ref().map(|t| &t[rows])
    }

    /// The candle at index `i` of this result.
    pub fn get(&self, i: usize) -> Option<Candle> {
        let (table, rows) = self.rows.parts();
        (i < rows.len()).then(|| table.row(rows.start + i))
    }

    /// Iterates candles as rows.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Candle> + '_ {
        let (table, rows) = self.rows.parts();
        rows.map(move |i| table.row(i))
    }

    /// Time ranges inside the query where the exchange has no candle although it could
    /// (before listing, maintenance, halts): runs of empty grid slots, up to now. Gaps
    /// are reported, never filled in.
    pub fn gaps(&self) -> Vec<TimeRange> {
        gaps_between(self.open_time(), self.interval, self.range, self.known_until)
    }

    /// Up to when the exchange's data is known: the query's end, or the time it was
    /// read if earlier (slots after it are not gaps).
    pub fn known_until(&self) -> i64 {
        self.known_until
    }

    /// Copies the result into owned columns.
    pub fn to_columns(&self) -> CandleColumns {
        self.rows.to_table()
    }
}
