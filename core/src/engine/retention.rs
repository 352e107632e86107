//! Retention: how far back an exchange serves a series (e.g. OKX trades and funding
//! history: about three months). A range reaching further back than that is an
//! [`Error::OutOfRetention`] unless the cache already holds it as final; a segment that
//! straddles the edge is never final (its older part is missing), so it is cached only
//! for [`EDGE_TTL_MS`].

use std::sync::Arc;

use super::Engine;
use crate::error::{Error, Result};
use crate::exchange::{Retention, Upstream};
use crate::model::{SeriesKey, TimeRange};
use crate::segment::{Segment, SegmentKey};
use crate::time::DAY_MS;

/// How long a segment straddling the retention edge is cached (never final).
pub(super) const EDGE_TTL_MS: i64 = 3_600_000;

impl Engine {
    /// The earliest time the exchange serves `keys`' series at `now` (`None`: no limit),
    /// after checking that every part of `range` before it is cached as final.
    pub(super) fn check_retention(
        &self,
        upstream: &Arc<dyn Upstream>,
        keys: &[SegmentKey],
        found: &[Option<Arc<Segment>>],
        range: TimeRange,
        now: i64,
    ) -> Result<Option<i64>> {
        let Some(series) = keys.first().map(|k| &k.series) else { return Ok(None) };
        let Some(retention) = self.retention(upstream, series) else { return Ok(None) };
        let edge = now - retention.days * DAY_MS;
        if range.start >= edge {
            return Ok(Some(edge));
        }
        // An archive reaches past the edge: what it cannot serve is its own typed error.
        if self.has_archive(series) {
            return Ok(Some(edge));
        }
        // The part of the range before the edge can only come from final cached values
        // (fetched while the exchange still served them).
        let uncovered = keys.iter().zip(found).find(|(key, seg)| {
            let span = key.span();
            span.start < edge && seg.as_ref().is_none_or(|s| s.expires_at.is_some())
        });
        match uncovered {
            None => Ok(Some(edge)),
            Some((key, _)) => Err(Error::OutOfRetention {
                exchange: series.exchange.to_string(),
                symbol: series.symbol.to_string(),
                what: series.kind.as_str().to_string(),
                earliest: edge,
                retention_days: retention.days,
                start: key.span().start.max(range.start),
            }),
        }
    }
}

impl Engine {
    /// How far back the exchange serves `series`, when this cache applies that itself:
    /// never through a relay (it may hold final values from before the edge, and says
    /// when it cannot serve a range), nor from archives alone.
    pub(super) fn retention(&self, upstream: &Arc<dyn Upstream>, series: &SeriesKey) -> Option<Retention> {
        // Archives reach past REST retention: with `only`, they alone decide.
        if self.relay.is_some() || self.archives_only() {
            return None;
        }
        upstream.retention(series)
    }
}

/// Whether `key`'s span starts before the retention `edge` (its older part is missing).
pub(super) fn straddles(edge: Option<i64>, key: &SegmentKey) -> bool {
    edge.is_some_and(|edge| key.span().start < edge)
}
