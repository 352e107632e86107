//! Redis as a cache tier: one MGET per query for all its segments, one pipeline per
//! write, values in the shared segment encoding, TTLs from the expiry policy.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::{BoxFuture, FutureExt};

use super::conn::Shared;
use crate::clock::Clock;
use crate::codec;
use crate::error::Result;
use crate::segment::SegmentKey;
use crate::tier::{Lookup, Stored, Tier};

/// The shared tier. Keys: `{prefix}:v1:{exchange}:{market}:{kind}:{grid}:{{symbol}}:{start}`
/// (the braces make the symbol a Cluster hash tag: a query's keys share one slot, so one
/// MGET serves it on a cluster too).
#[derive(Debug, Clone)]
pub struct RedisTier {
    shared: Shared,
    clock: Arc<dyn Clock>,
    lifetimes: RedisLifetimes,
}

/// How long values live in Redis beyond what the expiry policy says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RedisLifetimes {
    /// TTL of closed (final) segments; `None` = no TTL (they never change, but a key set
    /// without TTLs only grows: set this, or a `maxmemory-policy` that evicts).
    pub closed: Option<Duration>,
    /// Extra life of an open segment past its expiry, so other processes can serve it
    /// stale while one refreshes it (the stale-while-revalidate grace).
    pub stale_grace: Duration,
}

impl RedisTier {
    /// A tier over a live connection; `clock` turns expiry times into TTLs.
    pub fn new(shared: Shared, clock: Arc<dyn Clock>, lifetimes: RedisLifetimes) -> Self {
        RedisTier { shared, clock, lifetimes }
    }

    /// The TTL (ms) to store a segment expiring at `expires_at` with, `None` = none.
    fn ttl_ms(&self, expires_at: Option<i64>, now: i64) -> Option<i64> {
        match expires_at {
            Some(at) => Some((at - now).max(1).saturating_add(self.lifetimes.stale_grace.as_millis() as i64)),
            None => self.lifetimes.closed.map(|ttl| (ttl.as_millis() as i64).max(1)),
        }
    }

    /// The key of `segment`.
    pub fn key(&self, segment: &SegmentKey) -> String {
        segment.storage_key(self.shared.prefix())
    }
}

impl Tier for RedisTier {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn get_many<'a>(&'a self, keys: &'a [SegmentKey]) -> BoxFuture<'a, Result<Vec<Lookup>>> {
        async move {
            let mut cmd = redis::cmd("MGET");
            keys.iter().for_each(|k| {
                cmd.arg(self.key(k));
            });
            let values: Vec<Option<Vec<u8>>> = self.shared.query(&cmd).await?;
            Ok(keys
                .iter()
                .zip(values)
                .map(|(key, value)| match value {
                    None => Lookup::Miss,
                    Some(bytes) => match codec::decode(key, &bytes) {
                        Ok(seg) => Lookup::Hit(Arc::new(seg), bytes.len()),
                        Err(e) => Lookup::Corrupt(e.0),
                    },
                })
                .collect())
        }
        .boxed()
    }

    fn put_many<'a>(&'a self, items: &'a [Stored]) -> BoxFuture<'a, Result<()>> {
        async move {
            let now = self.clock.now_ms();
            let mut pipe = redis::pipe();
            for item in items {
                let key = self.key(&item.segment.key);
                match self.ttl_ms(item.segment.expires_at, now) {
                    Some(ttl) => pipe.cmd("SET").arg(key).arg(item.bytes()).arg("PX").arg(ttl).ignore(),
                    None => pipe.cmd("SET").arg(key).arg(item.bytes()).ignore(),
                };
            }
            self.shared.pipeline::<()>(&pipe).await
        }
        .boxed()
    }

    fn remove<'a>(&'a self, keys: &'a [SegmentKey]) -> BoxFuture<'a, Result<()>> {
        async move {
            let mut pipe = redis::pipe();
            for key in keys {
                pipe.cmd("DEL").arg(self.key(key)).ignore();
            }
            self.shared.pipeline::<()>(&pipe).await
        }
        .boxed()
    }

    fn clear<'a>(&'a self, source: Option<&'a str>) -> BoxFuture<'a, Result<u64>> {
        async move {
            let prefix = glob_escaped(self.shared.prefix());
            let pattern = match source {
                Some(source) => format!("{prefix}:v{}:{}:*", codec::FORMAT_VERSION, glob_escaped(source)),
                None => format!("{prefix}:v{}:*", codec::FORMAT_VERSION),
            };
            self.shared.delete_matching(&pattern).await
        }
        .boxed()
    }
}

/// `text` with Redis glob characters escaped, for a literal part of a MATCH pattern.
fn glob_escaped(text: &str) -> String {
    text.chars().fold(String::new(), |mut out, c| {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
        out
    })
}
