//! How long a fetched segment stays valid.

use std::time::Duration;

use crate::model::DataKind;
use crate::segment::{Segment, SegmentKey};

/// Expiry rules. A segment is *closed* once `settle` has passed after its last candle's
/// close: it never expires. Before that it is *open*: it expires at the next candle close
/// (or at the end of the settle window), plus up to `jitter`, so many clients do not
/// refetch at the same instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Delay after a segment's end before it is final (exchanges revise fresh candles).
    pub settle: Duration,
    /// Upper bound of the random delay added to open-segment expiry.
    pub jitter: Duration,
    /// Lifetime of a closed segment the exchange returned empty for; `None` = forever
    /// (before listing and confirmed gaps do not change).
    pub empty_ttl: Option<Duration>,
    /// Lifetime of the trades segment of the current hour (trades keep arriving).
    pub recent_trades_ttl: Duration,
    /// Lifetime of an order-book snapshot.
    pub order_book_ttl: Duration,
    /// Lifetime of what an exchange's instruments list says about a symbol.
    pub instruments_ttl: Duration,
    /// Stale-while-revalidate: how long after its expiry an open segment may still be
    /// served at once (marked stale) while one background refresh replaces it.
    /// `ZERO` (the default) = off: an expired segment is refetched before answering.
    pub stale_while_revalidate: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            settle: Duration::from_secs(120),
            jitter: Duration::from_secs(2),
            empty_ttl: None,
            recent_trades_ttl: Duration::from_secs(5),
            order_book_ttl: Duration::from_secs(1),
            instruments_ttl: Duration::from_secs(3600),
            stale_while_revalidate: Duration::ZERO,
        }
    }
}

impl Policy {
    /// Whether `segment` may be served at `now`: fresh, or expired less than
    /// [`Policy::stale_while_revalidate`] ago (then it is served marked stale).
    pub fn servable(&self, segment: &Segment, now: i64) -> bool {
        let grace = self.stale_while_revalidate.as_millis() as i64;
        segment.expires_at.is_none_or(|t| now < t.saturating_add(grace))
    }

    /// When an order-book snapshot fetched at `now` expires (TTL plus up to 20 % jitter).
    pub fn order_book_expiry(&self, now: i64) -> i64 {
        let ttl = (self.order_book_ttl.as_millis() as i64).max(1);
        now + ttl + fastrand::i64(0..=ttl / 5)
    }

    /// Expiry (ms) for `key` fetched at `now` holding `count` candles; `None` = never.
    pub fn expires_at(&self, key: &SegmentKey, count: usize, now: i64) -> Option<i64> {
        self.expires_at_until(key, key.span().end, count, now)
    }

    /// Expiry (ms) for the part of `key` up to `covered_end` (a partial segment's
    /// covered span ends there), fetched at `now` holding `count` rows: final once that
    /// part has closed and settled, whatever the rest of the span will hold.
    pub fn expires_at_until(
        &self,
        key: &SegmentKey,
        covered_end: i64,
        count: usize,
        now: i64,
    ) -> Option<i64> {
        let span = crate::model::TimeRange::new(key.span().start, covered_end);
        let settle = self.settle.as_millis() as i64;
        let jitter = fastrand::i64(0..=self.jitter.as_millis() as i64);
        if now >= span.end + settle {
            return match count {
                0 => self.empty_ttl.map(|ttl| now + ttl.as_millis() as i64),
                _ => None,
            };
        }
        if now < span.end && key.series.kind == DataKind::Trades {
            let ttl = (self.recent_trades_ttl.as_millis() as i64).max(1);
            return Some(now + ttl + fastrand::i64(0..=ttl / 5));
        }
        if now < span.end {
            let iv = key.series.interval;
            let next_close = iv.slot_start(iv.slot_of(now) + 1);
            Some(next_close + jitter)
        } else {
            Some(span.end + settle + jitter)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DataKind, Exchange, Market, SeriesKey};
    use std::sync::Arc;

    #[test]
    fn open_closed_and_settling() {
        let key = SegmentKey {
            series: Arc::new(SeriesKey {
                source: crate::source::LIVE.into(),
                exchange: Exchange::Binance,
                market: Market::Spot,
                kind: DataKind::Klines,
                interval: "1h".parse().unwrap(),
                symbol: "BTCUSDT".into(),
            }),
            index: 470,
        };
        let span = key.span();
        let p = Policy { jitter: Duration::ZERO, ..Policy::default() };
        // Open: expires at the next candle close.
        assert_eq!(p.expires_at(&key, 10, span.start + 5_400_000), Some(span.start + 7_200_000));
        // Settling: expires at the end of the settle window.
        assert_eq!(p.expires_at(&key, 1000, span.end + 1), Some(span.end + 120_000));
        // Closed: forever, empty too (unless an empty TTL is set).
        assert_eq!(p.expires_at(&key, 1000, span.end + 120_000), None);
        assert_eq!(p.expires_at(&key, 0, span.end + 120_000), None);
        let p = Policy { empty_ttl: Some(Duration::from_secs(60)), ..p };
        assert_eq!(p.expires_at(&key, 0, span.end + 120_000), Some(span.end + 180_000));
        // A partial segment's part that has closed and settled is final while the
        // segment's span is still open; a part reaching now expires at the next close.
        let p = Policy { jitter: Duration::ZERO, ..Policy::default() };
        let covered_end = span.start + 3_600_000;
        assert_eq!(p.expires_at_until(&key, covered_end, 1, covered_end + 120_000), None);
        assert_eq!(p.expires_at_until(&key, covered_end, 1, covered_end - 1), Some(covered_end));
    }
}
