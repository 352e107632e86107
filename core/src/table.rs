//! Columnar tables sorted by time, and the zero-copy [`Rows`] view every result type
//! (candles, trades, funding rates) is built on.

use std::fmt::Debug;
use std::ops::Range;
use std::sync::Arc;

use crate::model::TimeRange;

/// Columns of one data kind, ascending by [`Table::times`], no duplicates.
pub trait Table: Debug + Default + Clone + PartialEq + Send + Sync + 'static {
    /// Number of rows.
    fn len(&self) -> usize;

    /// Whether there are no rows.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The time of each row (ms), ascending: what ranges slice on.
    fn times(&self) -> &[i64];

    /// Empty columns shaped like `self` (same optional columns) with room for `n` rows.
    fn empty_like(&self, n: usize) -> Self;

    /// Appends rows `rows` of `other`.
    fn extend_from(&mut self, other: &Self, rows: Range<usize>);

    /// Approximate heap size in bytes (the memory tier weighs entries by it).
    fn heap_bytes(&self) -> usize;

    /// Rows whose time lies in `range` (two binary searches).
    fn rows_in(&self, range: TimeRange) -> Range<usize> {
        let lo = self.times().partition_point(|&t| t < range.start);
        let hi = self.times().partition_point(|&t| t < range.end);
        lo..hi.max(lo)
    }
}

/// A slice of a shared table: what a query returns. Served from one segment it is a
/// pointer copy; from several, one concatenation.
#[derive(Debug, Clone)]
pub struct Rows<T> {
    table: Arc<T>,
    rows: Range<usize>,
    stale: bool,
    final_rows: bool,
}

impl<T: Table> Rows<T> {
    /// Joins the `rows` of each part, in order.
    pub(crate) fn assemble(parts: &[(&Arc<T>, Range<usize>)]) -> Self {
        let parts: Vec<_> = parts.iter().filter(|(_, r)| !r.is_empty()).collect();
        match parts.as_slice() {
            [] => Rows { table: Arc::default(), rows: 0..0, stale: false, final_rows: false },
            [(table, rows)] => {
                Rows { table: Arc::clone(table), rows: rows.clone(), stale: false, final_rows: false }
            }
            [(first, _), ..] => {
                let total = parts.iter().map(|(_, r)| r.len()).sum();
                let mut out = first.empty_like(total);
                for (table, rows) in &parts {
                    out.extend_from(table, rows.clone());
                }
                Rows { table: Arc::new(out), rows: 0..total, stale: false, final_rows: false }
            }
        }
    }

    /// Marks the view as served from a segment past its expiry (stale-while-revalidate),
    /// and as served only from final segments.
    pub(crate) fn with_state(mut self, stale: bool, final_rows: bool) -> Self {
        self.stale = stale;
        self.final_rows = final_rows;
        self
    }

    /// Whether every segment these rows came from is final (closed, and confirmed by the
    /// exchange): the same query will always return exactly these rows, unless someone
    /// invalidates them ([`Cache::generation`](crate::Cache::generation) then changes).
    pub fn is_final(&self) -> bool {
        self.final_rows
    }

    /// Whether some of these rows came from an open segment past its expiry, served at
    /// once under stale-while-revalidate while a background refresh replaces it: the
    /// newest rows may have changed (or more may exist) since. Never true for closed data.
    pub fn is_stale(&self) -> bool {
        self.stale
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The shared table and the row range of this view.
    pub fn parts(&self) -> (&T, Range<usize>) {
        (&self.table, self.rows.clone())
    }

    /// `column` of the underlying table, restricted to this view.
    pub fn slice<'a, V>(&'a self, column: impl FnOnce(&'a T) -> &'a [V]) -> &'a [V] {
        &column(&self.table)[self.rows.clone()]
    }

    /// Copies the view into an owned table.
    pub fn to_table(&self) -> T {
        let mut out = self.table.empty_like(self.len());
        out.extend_from(&self.table, self.rows.clone());
        out
    }
}
