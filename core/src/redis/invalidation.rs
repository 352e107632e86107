//! Invalidation across processes: after removing segments from the shared tiers, a cache
//! publishes one message on `{prefix}:invalidate` (Redis pub/sub) naming the series and
//! the segments; every other cache on that Redis drops them from its memory tier as soon
//! as the message arrives.

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::StreamExt;

use super::conn::Shared;
use crate::model::{DataKind, SeriesKey};
use crate::segment::SegmentKey;
use crate::tier::memory::MemoryTier;
use crate::tier::Tier;

/// Segments `first..=last` of a series, dropped by the cache `origin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalidated {
    /// The publishing cache (it already dropped them itself).
    pub origin: u64,
    /// The series.
    pub series: Arc<SeriesKey>,
    /// First segment index.
    pub first: i64,
    /// Last segment index (inclusive).
    pub last: i64,
}

impl Invalidated {
    /// The message text: tab-separated fields (no field can hold a tab).
    pub fn encode(&self) -> String {
        let s = &self.series;
        format!(
            "1\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            self.origin,
            s.source,
            s.exchange,
            s.market,
            s.kind.as_str(),
            s.interval,
            s.symbol,
            self.first,
            self.last
        )
    }

    /// Reads a message; `None` for anything else on the channel.
    pub fn decode(text: &str) -> Option<Invalidated> {
        let f: Vec<&str> = text.split('\t').collect();
        let [version, origin, source, exchange, market, kind, interval, symbol, first, last] = f.as_slice()
        else {
            return None;
        };
        if *version != "1" {
            return None;
        }
        let kind = [DataKind::Klines, DataKind::Trades, DataKind::Funding]
            .into_iter()
            .find(|k| k.as_str() == *kind)?;
        let (first, last): (i64, i64) = (first.parse().ok()?, last.parse().ok()?);
        (first <= last).then_some(())?;
        Some(Invalidated {
            origin: origin.parse().ok()?,
            series: Arc::new(SeriesKey {
                source: (*source).into(),
                exchange: exchange.parse().ok()?,
                market: market.parse().ok()?,
                kind,
                interval: interval.parse().ok()?,
                symbol: (*symbol).into(),
            }),
            first,
            last,
        })
    }

    /// The segment keys named.
    pub fn keys(&self) -> Vec<SegmentKey> {
        (self.first..=self.last).map(|index| SegmentKey { series: Arc::clone(&self.series), index }).collect()
    }
}

/// The channel of a key prefix.
pub fn channel(prefix: &str) -> String {
    format!("{prefix}:invalidate")
}

/// Publishes `message` to every cache on the Redis.
pub async fn publish(shared: &Shared, message: &Invalidated) -> crate::Result<()> {
    let mut cmd = redis::cmd("PUBLISH");
    cmd.arg(channel(shared.prefix())).arg(message.encode());
    shared.query::<i64>(&cmd).await.map(|_| ())
}

/// Listens for other caches' invalidations and drops the named segments from `memory`,
/// for as long as `alive` can be upgraded; reconnects after a second when Redis drops
/// the subscription.
pub fn listen(shared: Shared, memory: MemoryTier, origin: u64, alive: Weak<()>) {
    tokio::spawn(async move {
        let channel = channel(shared.prefix());
        let check = Duration::from_secs(1);
        while alive.upgrade().is_some() {
            match shared.subscribe(&channel).await {
                Ok(messages) => {
                    tokio::pin!(messages);
                    loop {
                        tokio::select! {
                            next = messages.next() => match next {
                                Some(text) => {
                                    let Some(m) = Invalidated::decode(&text) else { continue };
                                    if m.origin != origin {
                                        let _ = memory.remove(&m.keys()).await;
                                    }
                                }
                                None => break,
                            },
                            () = tokio::time::sleep(check) => {
                                if alive.upgrade().is_none() {
                                    return;
                                }
                            }
                        }
                    }
                }
                Err(e) => tracing::debug!(error = %e, "invalidation subscription failed; retrying"),
            }
            tokio::time::sleep(check).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Exchange, Market};

    #[test]
    fn messages_round_trip_and_foreign_text_is_ignored() {
        let m = Invalidated {
            origin: 42,
            series: Arc::new(SeriesKey {
                source: "127.0.0.1-8080-0badc0de".into(),
                exchange: Exchange::Okx,
                market: Market::Linear,
                kind: DataKind::Klines,
                interval: "1h".parse().unwrap(),
                symbol: "BTC-USDT-SWAP".into(),
            }),
            first: 470,
            last: 472,
        };
        assert_eq!(Invalidated::decode(&m.encode()), Some(m.clone()));
        assert_eq!(m.keys().len(), 3);
        for other in ["", "hello", "2\t1\ta\tb\tc\td\te\tf\t1\t2", &m.encode().replace("\t470\t", "\t473\t")]
        {
            assert_eq!(Invalidated::decode(other), None, "{other:?}");
        }
    }
}
