//! Cache tiers. The engine asks them in order; each answers per segment.
//!
//! Memory holds decoded segments (a hit decodes nothing); byte-storing tiers hold the
//! [`codec`](crate::codec) encoding and decode on read, so a damaged value becomes a
//! counted miss instead of a wrong answer.

use std::sync::{Arc, OnceLock};

use futures_util::future::BoxFuture;

use crate::error::Result;
use crate::segment::{Segment, SegmentKey};

#[cfg(target_arch = "wasm32")]
pub mod browser;
#[cfg(feature = "disk")]
pub mod disk;
#[cfg(feature = "disk")]
pub mod disk_budget;
pub mod memory;

/// What a tier found for one key.
#[derive(Debug, Clone)]
pub enum Lookup {
    /// The segment, and how many bytes were read for it.
    Hit(Arc<Segment>, usize),
    /// Not stored.
    Miss,
    /// Stored but unreadable (checksum, truncation, version): treated as a miss,
    /// counted, and overwritten by the refetched value.
    Corrupt(String),
}

/// A segment ready to be written: decoded, and encoded at most once however many byte
/// tiers store it (the memory tier never asks for the bytes).
#[derive(Debug, Clone)]
pub struct Stored {
    /// Decoded segment (what the memory tier keeps).
    pub segment: Arc<Segment>,
    encoded: Arc<OnceLock<Vec<u8>>>,
}

impl Stored {
    /// Wraps a segment for writing.
    pub fn new(segment: Arc<Segment>) -> Self {
        Stored { segment, encoded: Arc::default() }
    }

    /// Its [`codec`](crate::codec) encoding (what byte tiers keep), computed on first use.
    pub fn bytes(&self) -> &[u8] {
        self.encoded.get_or_init(|| crate::codec::encode(&self.segment))
    }

    /// Bytes this write costs `tier`: the encoding, or the decoded weight for memory.
    pub(crate) fn written_size(&self, tier: &dyn Tier) -> usize {
        if tier.holds_bytes() {
            self.bytes().len()
        } else {
            self.segment.weight() as usize
        }
    }
}

/// One level of the cache.
pub trait Tier: Send + Sync + std::fmt::Debug {
    /// Short name, used in stats (`memory`, `disk`, `redis`).
    fn name(&self) -> &'static str;

    /// Whether this tier stores encoded bytes (everything but the memory tier).
    fn holds_bytes(&self) -> bool {
        true
    }

    /// Looks up `keys`; the answer has one entry per key, in order. An `Err` means the
    /// whole tier is unavailable for now: the engine counts it and moves on.
    fn get_many<'a>(&'a self, keys: &'a [SegmentKey]) -> BoxFuture<'a, Result<Vec<Lookup>>>;

    /// Stores segments, replacing what is there.
    fn put_many<'a>(&'a self, items: &'a [Stored]) -> BoxFuture<'a, Result<()>>;

    /// Which of `keys` the tier holds a sound, final value of (one with no expiry),
    /// without counting that as a use of it. By default a lookup.
    fn holds_final<'a>(&'a self, keys: &'a [SegmentKey]) -> BoxFuture<'a, Result<Vec<bool>>> {
        Box::pin(async move {
            let found = self.get_many(keys).await?;
            Ok(found
                .iter()
                .map(|l| matches!(l, Lookup::Hit(seg, _) if seg.expires_at.is_none() && seg.is_complete()))
                .collect())
        })
    }

    /// Deletes segments (absent ones are ignored).
    fn remove<'a>(&'a self, keys: &'a [SegmentKey]) -> BoxFuture<'a, Result<()>>;

    /// Deletes every segment of the source namespace `source` (of every namespace with
    /// `None`); returns how many were deleted.
    fn clear<'a>(&'a self, source: Option<&'a str>) -> BoxFuture<'a, Result<u64>>;

    /// Segments this tier dropped to make room (only a bounded tier has any).
    fn evictions(&self) -> u64 {
        0
    }
}

/// The kinds of tier, for choosing their order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TierKind {
    /// In-process memory (always first when present).
    Memory,
    /// Local segment files (in a browser: its Cache Storage, when asked for).
    Disk,
    /// Redis or Redis Cluster.
    Redis,
}

impl std::str::FromStr for TierKind {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "memory" | "mem" => Ok(TierKind::Memory),
            "disk" => Ok(TierKind::Disk),
            "redis" => Ok(TierKind::Redis),
            _ => Err(crate::Error::Config(format!("unknown tier {s:?}: expected memory, disk or redis"))),
        }
    }
}
