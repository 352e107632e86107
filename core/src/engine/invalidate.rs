//! Dropping segments from every tier, and telling the other processes on the same Redis.

use std::sync::Arc;

use super::{Engine, SeriesSpec};
use crate::error::{Error, Result};
use crate::invalidate::{Invalidation, InvalidationReport};
use crate::model::{SeriesKey, EARLIEST_MS};
use crate::segment::{self, SegmentKey};

impl Engine {
    /// Removes every segment covering the invalidation's range from every tier, then
    /// (with Redis) publishes it so other processes drop them from their memory tiers.
    /// A tier that cannot remove them makes this an error (after the others were done):
    /// a stale value left in a shared tier must not pass for invalidated.
    pub(crate) async fn invalidate(&self, inv: &Invalidation) -> Result<(Arc<SeriesKey>, Vec<SegmentKey>)> {
        let (kind, interval) = inv.dataset.kind();
        let spec = SeriesSpec { exchange: inv.exchange, market: inv.market, symbol: &inv.symbol, kind };
        let now = self.clock.now_ms();
        let start = inv.start.unwrap_or(EARLIEST_MS);
        let end = inv.end.unwrap_or(now + 1);
        let (_, series, range) = self.series(spec, interval, start, end)?;
        let keys = segment::plan(&series, range, now);
        let mut failed = Vec::new();
        for slot in &self.tiers {
            if let Err(e) = slot.tier.remove(&keys).await {
                slot.counters.error();
                failed.push(format!("{}: {e}", slot.tier.name()));
            }
        }
        keys.iter().for_each(|k| self.failures.invalidate(k));
        self.changes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        #[cfg(feature = "redis")]
        if let (Some(shared), Some(first), Some(last)) = (&self.shared, keys.first(), keys.last()) {
            let message = crate::redis::Invalidated {
                origin: self.origin,
                series: Arc::clone(&series),
                first: first.index,
                last: last.index,
            };
            if let Err(e) = crate::redis::publish(shared, &message.encode()).await {
                failed.push(format!("telling other processes: {e}"));
            }
        }
        if failed.is_empty() {
            Ok((series, keys))
        } else {
            Err(Error::Cache(format!(
                "invalidating {} segments of {series} did not reach every tier: {}",
                keys.len(),
                failed.join("; ")
            )))
        }
    }
}

impl Engine {
    /// Deletes every segment of the source namespace `source` (every namespace with
    /// `None`) from every tier, and (with Redis) from every other process's memory.
    /// Returns the segments deleted per tier; a tier that failed makes it an error after
    /// the others were cleared.
    pub(crate) async fn clear(&self, source: Option<&str>) -> Result<Vec<(String, u64)>> {
        if let Some(name) = source {
            crate::source::validate_name(name)?;
        }
        let mut cleared = Vec::new();
        let mut failed = Vec::new();
        for slot in &self.tiers {
            match slot.tier.clear(source).await {
                Ok(n) => cleared.push((slot.tier.name().to_owned(), n)),
                Err(e) => {
                    slot.counters.error();
                    failed.push(format!("{}: {e}", slot.tier.name()));
                }
            }
        }
        self.failures.invalidate_all();
        self.changes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        #[cfg(feature = "redis")]
        if let Some(shared) = &self.shared {
            let message = crate::redis::Cleared { origin: self.origin, source: source.map(str::to_owned) };
            if let Err(e) = crate::redis::publish(shared, &message.encode()).await {
                failed.push(format!("telling other processes: {e}"));
            }
        }
        match failed.is_empty() {
            true => Ok(cleared),
            false => Err(Error::Cache(format!("clearing did not reach every tier: {}", failed.join("; ")))),
        }
    }
}

/// The report of an invalidation (before any refresh).
pub(crate) fn report(series: &SeriesKey, keys: &[SegmentKey]) -> InvalidationReport {
    InvalidationReport { series: series.to_string(), segments: keys.len(), refetched_rows: None }
}
