//! L1: decoded segments in process memory, weighed by bytes (moka with TinyLFU admission
//! natively, a least-recently-used map on WebAssembly: see `memo.rs`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use futures_util::future::{self, BoxFuture, FutureExt};

use super::{Lookup, Stored, Tier};
use crate::error::Result;
use crate::memo::Memo;
use crate::segment::{Segment, SegmentKey};

/// In-process tier holding `Arc` decoded segments: a hit is a pointer copy.
#[derive(Debug, Clone)]
pub struct MemoryTier {
    cache: Memo<SegmentKey, Arc<Segment>>,
    evictions: Arc<AtomicU64>,
}

impl MemoryTier {
    /// A tier holding at most `capacity_bytes` of decoded candles.
    pub fn new(capacity_bytes: u64) -> Self {
        let evictions = Arc::new(AtomicU64::new(0));
        let cache =
            Memo::weighted(capacity_bytes, |v: &Arc<Segment>| v.weight(), Some(Arc::clone(&evictions)));
        MemoryTier { cache, evictions }
    }

    /// Synchronous lookup of one key (the engine's fast path).
    pub fn get(&self, key: &SegmentKey) -> Option<Arc<Segment>> {
        self.cache.get(key)
    }

    /// Number of segments held.
    pub fn len(&self) -> u64 {
        self.cache.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Tier for MemoryTier {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn holds_bytes(&self) -> bool {
        false
    }

    fn get_many<'a>(&'a self, keys: &'a [SegmentKey]) -> BoxFuture<'a, Result<Vec<Lookup>>> {
        let found = keys
            .iter()
            .map(|k| match self.cache.get(k) {
                Some(seg) => {
                    let weight = seg.weight() as usize;
                    Lookup::Hit(seg, weight)
                }
                None => Lookup::Miss,
            })
            .collect();
        future::ready(Ok(found)).boxed()
    }

    fn put_many<'a>(&'a self, items: &'a [Stored]) -> BoxFuture<'a, Result<()>> {
        for item in items {
            self.cache.insert(item.segment.key.clone(), Arc::clone(&item.segment));
        }
        future::ready(Ok(())).boxed()
    }

    fn remove<'a>(&'a self, keys: &'a [SegmentKey]) -> BoxFuture<'a, Result<()>> {
        for k in keys {
            self.cache.invalidate(k);
        }
        future::ready(Ok(())).boxed()
    }

    fn clear<'a>(&'a self, source: Option<&'a str>) -> BoxFuture<'a, Result<u64>> {
        let doomed: Vec<SegmentKey> = self
            .cache
            .keys()
            .into_iter()
            .filter(|key| source.is_none_or(|s| &*key.series.source == s))
            .collect();
        doomed.iter().for_each(|key| self.cache.invalidate(key));
        future::ready(Ok(doomed.len() as u64)).boxed()
    }

    fn evictions(&self) -> u64 {
        let _ = self.cache.len(); // lets pending evictions run
        self.evictions.load(Ordering::Relaxed)
    }
}
