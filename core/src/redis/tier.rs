//! Redis as a cache tier: one MGET per query for all its segments, one pipeline per
//! write, values in the shared segment encoding, TTLs from the expiry policy.

use std::sync::Arc;

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
}

impl RedisTier {
    /// A tier over a live connection; `clock` turns expiry times into TTLs.
    pub fn new(shared: Shared, clock: Arc<dyn Clock>) -> Self {
        RedisTier { shared, clock }
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
                match item.segment.expires_at {
                    Some(at) => {
                        pipe.cmd("SET").arg(key).arg(item.bytes()).arg("PX").arg((at - now).max(1)).ignore()
                    }
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
}
