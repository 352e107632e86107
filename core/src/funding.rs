//! Funding-rate history of perpetual swaps: columnar, ascending by funding time.

use std::ops::Range;

use crate::table::{Rows, Table};

/// One funding event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FundingRate {
    /// Funding time, ms.
    pub time: i64,
    /// The settled rate for the period that ended at `time` (a fraction: 0.0001 = 0.01 %).
    pub rate: f64,
}

/// Owned funding columns, ascending by time, unique times.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FundingColumns {
    /// Funding times, ms.
    pub time: Vec<i64>,
    /// Rates.
    pub rate: Vec<f64>,
}

impl FundingColumns {
    /// Appends one event.
    pub fn push(&mut self, f: &FundingRate) {
        self.time.push(f.time);
        self.rate.push(f.rate);
    }
}

impl Table for FundingColumns {
    fn len(&self) -> usize {
        self.time.len()
    }

    fn times(&self) -> &[i64] {
        &self.time
    }

    fn empty_like(&self, n: usize) -> Self {
        FundingColumns { time: Vec::with_capacity(n), rate: Vec::with_capacity(n) }
    }

    fn extend_from(&mut self, other: &Self, rows: Range<usize>) {
        self.time.extend_from_slice(&other.time[rows.clone()]);
        self.rate.extend_from_slice(&other.rate[rows]);
    }

    fn heap_bytes(&self) -> usize {
        self.len() * 16
    }
}

/// The funding events a query returned, with time in `[start, end)`, ascending. The
/// interval between events is whatever the exchange used (8 h, 4 h, 1 h, or changing).
pub type FundingRates = Rows<FundingColumns>;

impl FundingRates {
    /// Funding times, ms.
    pub fn time(&self) -> &[i64] {
        self.slice(|f| &f.time)
    }
    /// Rates.
    pub fn rate(&self) -> &[f64] {
        self.slice(|f| &f.rate)
    }
    /// Iterates events as rows.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = FundingRate> + '_ {
        self.time().iter().zip(self.rate()).map(|(&time, &rate)| FundingRate { time, rate })
    }
}
