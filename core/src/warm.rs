//! Warming: fill every tier for a watchlist up front, with progress.

use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::stream::{self, StreamExt};

use crate::cache::Cache;
use crate::error::{Error, Result};
use crate::model::{DataKind, Exchange, Interval, KlineQuery, Market, RangeQuery};

/// A ranged data set: candles at an interval, trades, or funding rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dataset {
    /// Candles at an interval.
    Klines(Interval),
    /// Public trades.
    Trades,
    /// Funding-rate history.
    Funding,
}

impl std::str::FromStr for Dataset {
    type Err = Error;
    /// `1h` (any interval), `trades` or `funding`.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "trades" => Ok(Dataset::Trades),
            "funding" | "funding-rates" => Ok(Dataset::Funding),
            _ => s.parse().map(Dataset::Klines).map_err(|e| match e {
                Error::InvalidQuery(m) => Error::InvalidQuery(format!("{m} (or trades, funding)")),
                other => other,
            }),
        }
    }
}

impl Dataset {
    /// The kind and (klines) interval.
    pub fn kind(self) -> (DataKind, Option<Interval>) {
        match self {
            Dataset::Klines(iv) => (DataKind::Klines, Some(iv)),
            Dataset::Trades => (DataKind::Trades, None),
            Dataset::Funding => (DataKind::Funding, None),
        }
    }

    /// Time covered by `segments` segments (nominally): the step of chunked reads.
    pub fn span_of_segments(self, segments: i64) -> i64 {
        let (kind, interval) = self.kind();
        interval.unwrap_or_else(DataKind::hourly_grid).nominal_ms() * kind.slots_per_segment() * segments
    }
}

/// One entry of a watchlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarmItem {
    /// Exchange.
    pub exchange: Exchange,
    /// Market (`None`: from the symbol, else spot).
    pub market: Option<Market>,
    /// Symbol.
    pub symbol: String,
    /// What to cache.
    pub dataset: Dataset,
    /// Inclusive start, ms.
    pub start: i64,
    /// Exclusive end, ms.
    pub end: i64,
}

/// Progress of a warm: steps done out of all steps (a step is a few segments of one item).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WarmProgress {
    /// Steps finished.
    pub done: usize,
    /// Steps in all.
    pub total: usize,
}

/// What a warm did.
#[derive(Debug, Clone, PartialEq)]
pub struct WarmReport {
    /// Records now cached, over all items.
    pub records: usize,
    /// Items that failed, by index, with the error (the others were cached).
    pub failures: Vec<(usize, Error)>,
}

/// Segments per step of a long range (warming, the CLI's `fetch`): 15 segments of 1,000
/// rows hold a whole number of every venue's kline pages (Binance and Bybit 1,000, OKX 100
/// and 300, Deribit 5,000), so a cold step costs exactly the requests of a plain
/// page-by-page loop over it (steps of 8 cost Deribit 2 calls per 8,000 rows, not 1.6).
pub const STEP_SEGMENTS: i64 = 15;

impl WarmItem {
    fn steps(&self) -> Vec<(i64, i64)> {
        let step = self.dataset.span_of_segments(STEP_SEGMENTS).max(1);
        let mut out = Vec::new();
        let mut start = self.start;
        loop {
            let end = start.saturating_add(step).min(self.end);
            out.push((start, end));
            start = end;
            if start >= self.end {
                return out;
            }
        }
    }

    async fn fetch(&self, cache: &Cache, start: i64, end: i64) -> Result<usize> {
        let range =
            RangeQuery { market: self.market, ..RangeQuery::new(self.exchange, &self.symbol, start, end) };
        match self.dataset {
            Dataset::Klines(iv) => {
                let q = KlineQuery {
                    market: self.market,
                    ..KlineQuery::new(self.exchange, &self.symbol, iv, start, end)
                };
                cache.klines(&q).await.map(|c| c.len())
            }
            Dataset::Trades => cache.trades(&range).await.map(|t| t.len()),
            Dataset::Funding => cache.funding_rates(&range).await.map(|f| f.len()),
        }
    }
}

/// Fills the tiers for `items`, `concurrency` items at a time, calling `progress` after
/// every step. An item that fails is reported and the others go on.
pub(crate) async fn warm(
    cache: &Cache,
    items: &[WarmItem],
    concurrency: usize,
    progress: &(dyn Fn(WarmProgress) + Send + Sync),
) -> WarmReport {
    let plans: Vec<Vec<(i64, i64)>> = items.iter().map(WarmItem::steps).collect();
    let total = plans.iter().map(Vec::len).sum();
    let done = AtomicUsize::new(0);
    let results: Vec<(usize, Result<usize>)> = stream::iter(items.iter().zip(&plans).enumerate())
        .map(|(i, (item, steps))| {
            let done = &done;
            async move {
                let mut records = 0;
                for &(start, end) in steps {
                    match item.fetch(cache, start, end).await {
                        Ok(n) => records += n,
                        Err(e) => return (i, Err(e)),
                    }
                    progress(WarmProgress { done: done.fetch_add(1, Ordering::Relaxed) + 1, total });
                }
                (i, Ok(records))
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut report = WarmReport { records: 0, failures: Vec::new() };
    for (i, result) in results {
        match result {
            Ok(n) => report.records += n,
            Err(e) => report.failures.push((i, e)),
        }
    }
    report.failures.sort_by_key(|(i, _)| *i);
    report
}
