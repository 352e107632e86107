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

/// A whole namespace (or everything, `source: None`) cleared by the cache `origin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleared {
    /// The publishing cache.
    pub origin: u64,
    /// The source namespace, `None` = every namespace.
    pub source: Option<String>,
}

impl Cleared {
    /// The message text (`clear`, origin, source or `*`).
    pub fn encode(&self) -> String {
        format!("clear\t{}\t{}", self.origin, self.source.as_deref().unwrap_or("*"))
    }

    /// Reads a message; `None` for anything else on the channel.
    pub fn decode(text: &str) -> Option<Cleared> {
        let ["clear", origin, source] = text.split('\t').collect::<Vec<_>>()[..] else { return None };
        let source = (source != "*").then(|| source.to_owned());
        if source.as_deref().is_some_and(|s| crate::source::validate_name(s).is_err()) {
            return None;
        }
        Some(Cleared { origin: origin.parse().ok()?, source })
    }
}

/// The channel of a key prefix.
pub fn channel(prefix: &str) -> String {
    format!("{prefix}:invalidate")
}

/// Publishes `message` (an [`Invalidated::encode`] or [`Cleared::encode`] text) to
/// every cache on the Redis.
pub async fn publish(shared: &Shared, message: &str) -> crate::Result<()> {
    let mut cmd = redis::cmd("PUBLISH");
    cmd.arg(channel(shared.prefix())).arg(message);
    shared.query::<i64>(&cmd).await.map(|_| ())
}

/// Listens for other caches' invalidations and clears: drops the named segments from
/// `memory` (if any) and bumps `changes` (memos of final answers are then stale), for as
/// long as `alive` can be upgraded; reconnects after a second when Redis drops the
/// subscription.
pub fn listen(
    shared: Shared,
    memory: Option<MemoryTier>,
    origin: u64,
    alive: Weak<()>,
    changes: std::sync::Arc<std::sync::atomic::AtomicU64>,
) {
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
                                    if let Some(m) = Invalidated::decode(&text).filter(|m| m.origin != origin) {
                                        if let Some(memory) = &memory {
                                            let _ = memory.remove(&m.keys()).await;
                                        }
                                        changes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                                    }
                                    if let Some(m) = Cleared::decode(&text).filter(|m| m.origin != origin) {
                                        if let Some(memory) = &memory {
                                            let _ = memory.clear(m.source.as_deref()).await;
                                        }
                                        changes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
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
        for source in [None, Some("sim".to_owned())] {
            let cleared = Cleared { origin: 7, source };
            assert_eq!(Cleared::decode(&cleared.encode()), Some(cleared.clone()));
            assert_eq!(Invalidated::decode(&cleared.encode()), None);
        }
        assert_eq!(Cleared::decode(&m.encode()), None);
        assert_eq!(Cleared::decode("clear\t1\tBad/Name"), None);
        for other in ["", "hello", "2\t1\ta\tb\tc\td\te\tf\t1\t2", &m.encode().replace("\t470\t", "\t473\t")]
        {
            assert_eq!(Invalidated::decode(other), None, "{other:?}");
        }
    }
}
