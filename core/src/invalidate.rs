//! Invalidation: dropping a range of a series from every tier (and, with Redis, from
//! every other process's memory tier), optionally refetching it at once. Exchanges do
//! revise data (archives and REST disagree; a fetch can go wrong): this is how one bad
//! day leaves a shared cache without flushing everything.

use crate::model::{Exchange, Market};
use crate::warm::Dataset;

/// Which cached segments to drop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalidation {
    /// Exchange.
    pub exchange: Exchange,
    /// Market (`None`: from the symbol, else spot).
    pub market: Option<Market>,
    /// Symbol.
    pub symbol: String,
    /// Candles at an interval, trades or funding.
    pub dataset: Dataset,
    /// Inclusive start, ms; `None` = the whole series from its first segment.
    pub start: Option<i64>,
    /// Exclusive end, ms; `None` = up to now.
    pub end: Option<i64>,
    /// Refetch the range from the exchange right away.
    pub refresh: bool,
}

impl Invalidation {
    /// Every segment of a series covering `[start, end)`.
    pub fn range(
        exchange: Exchange,
        symbol: impl Into<String>,
        dataset: Dataset,
        start: i64,
        end: i64,
    ) -> Self {
        Invalidation {
            exchange,
            market: None,
            symbol: symbol.into(),
            dataset,
            start: Some(start),
            end: Some(end),
            refresh: false,
        }
    }

    /// Every segment of a series.
    pub fn series(exchange: Exchange, symbol: impl Into<String>, dataset: Dataset) -> Self {
        Invalidation { start: None, end: None, ..Invalidation::range(exchange, symbol, dataset, 0, 0) }
    }

    /// Sets the market.
    pub fn market(mut self, market: Market) -> Self {
        self.market = Some(market);
        self
    }

    /// Refetches the range at once (`true`) or on the next query (`false`, the default).
    pub fn refresh(mut self, refresh: bool) -> Self {
        self.refresh = refresh;
        self
    }
}

/// What an invalidation did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InvalidationReport {
    /// The series (`source:exchange:market:kind:grid:symbol`).
    pub series: String,
    /// Segments dropped from every tier.
    pub segments: usize,
    /// With `refresh`: the rows the range holds now, refetched.
    pub refetched_rows: Option<usize>,
}
