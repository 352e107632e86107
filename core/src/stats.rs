//! Counters: per tier and upstream. Cheap atomics, read as a [`Stats`] snapshot.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use serde::Serialize;

/// Live counters of one tier.
#[derive(Debug, Default)]
pub struct TierCounters {
    hits: AtomicU64,
    misses: AtomicU64,
    corrupt: AtomicU64,
    errors: AtomicU64,
    writes: AtomicU64,
    bytes_read: AtomicU64,
    bytes_written: AtomicU64,
}

impl TierCounters {
    pub(crate) fn hit(&self, bytes: usize) {
        self.hits.fetch_add(1, Relaxed);
        self.bytes_read.fetch_add(bytes as u64, Relaxed);
    }
    pub(crate) fn miss(&self) {
        self.misses.fetch_add(1, Relaxed);
    }
    pub(crate) fn corrupt(&self) {
        self.corrupt.fetch_add(1, Relaxed);
        self.misses.fetch_add(1, Relaxed);
    }
    pub(crate) fn error(&self) {
        self.errors.fetch_add(1, Relaxed);
    }
    pub(crate) fn wrote(&self, bytes: usize) {
        self.writes.fetch_add(1, Relaxed);
        self.bytes_written.fetch_add(bytes as u64, Relaxed);
    }

    fn snapshot(&self, name: &str) -> TierStats {
        TierStats {
            name: name.to_string(),
            hits: self.hits.load(Relaxed),
            misses: self.misses.load(Relaxed),
            corrupt: self.corrupt.load(Relaxed),
            errors: self.errors.load(Relaxed),
            writes: self.writes.load(Relaxed),
            bytes_read: self.bytes_read.load(Relaxed),
            bytes_written: self.bytes_written.load(Relaxed),
        }
    }
}

/// Live upstream counters, shared by the engine and the exchange adapters.
#[derive(Debug, Default)]
pub struct UpstreamCounters {
    requests: AtomicU64,
    retries: AtomicU64,
    rate_limited: AtomicU64,
    errors: AtomicU64,
    weight: AtomicU64,
    bytes: AtomicU64,
    segments_fetched: AtomicU64,
    throttle_waits: AtomicU64,
}

impl UpstreamCounters {
    pub(crate) fn request(&self, weight: u32) {
        self.requests.fetch_add(1, Relaxed);
        self.weight.fetch_add(u64::from(weight), Relaxed);
    }
    pub(crate) fn retry(&self) {
        self.retries.fetch_add(1, Relaxed);
    }
    pub(crate) fn rate_limited(&self) {
        self.rate_limited.fetch_add(1, Relaxed);
    }
    pub(crate) fn error(&self) {
        self.errors.fetch_add(1, Relaxed);
    }
    pub(crate) fn received(&self, bytes: usize) {
        self.bytes.fetch_add(bytes as u64, Relaxed);
    }
    pub(crate) fn segment_fetched(&self) {
        self.segments_fetched.fetch_add(1, Relaxed);
    }
    pub(crate) fn throttle_wait(&self) {
        self.throttle_waits.fetch_add(1, Relaxed);
    }
}

/// Snapshot of one tier's counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TierStats {
    /// Tier name (`memory`, `disk`, ...).
    pub name: String,
    /// Segments served.
    pub hits: u64,
    /// Segments asked for and not there (including corrupt and expired ones).
    pub misses: u64,
    /// Values that failed their checks (counted in `misses` too), refetched and overwritten.
    pub corrupt: u64,
    /// Operations that failed (the query went on without this tier).
    pub errors: u64,
    /// Segments written.
    pub writes: u64,
    /// Bytes read on hits.
    pub bytes_read: u64,
    /// Bytes written.
    pub bytes_written: u64,
}

/// Snapshot of upstream counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpstreamStats {
    /// HTTP requests sent (including retries).
    pub requests: u64,
    /// Requests that were retries.
    pub retries: u64,
    /// Throttling answers received (429, 418, ...).
    pub rate_limited: u64,
    /// Requests that failed (any non-success outcome).
    pub errors: u64,
    /// Request weight spent (exchange units).
    pub weight: u64,
    /// Response bytes received.
    pub bytes: u64,
    /// Segments fetched from the exchange.
    pub segments_fetched: u64,
    /// Times the local rate limiter made a request wait.
    pub throttle_waits: u64,
}

/// All counters of a cache, as returned by `Cache::stats()`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Queries answered (successfully or not).
    pub queries: u64,
    /// One entry per configured tier, in lookup order.
    pub tiers: Vec<TierStats>,
    /// Exchange traffic.
    pub upstream: UpstreamStats,
    /// Background prefetches started (sequential reads).
    pub prefetches: u64,
}

impl Stats {
    /// The tier called `name`, if configured.
    pub fn tier(&self, name: &str) -> Option<&TierStats> {
        self.tiers.iter().find(|t| t.name == name)
    }
}

pub(crate) fn snapshot(queries: u64, tiers: &[(&str, &TierCounters)], up: &UpstreamCounters) -> Stats {
    Stats {
        queries,
        tiers: tiers.iter().map(|(name, c)| c.snapshot(name)).collect(),
        upstream: UpstreamStats {
            requests: up.requests.load(Relaxed),
            retries: up.retries.load(Relaxed),
            rate_limited: up.rate_limited.load(Relaxed),
            errors: up.errors.load(Relaxed),
            weight: up.weight.load(Relaxed),
            bytes: up.bytes.load(Relaxed),
            segments_fetched: up.segments_fetched.load(Relaxed),
            throttle_waits: up.throttle_waits.load(Relaxed),
        },
        prefetches: 0,
    }
}
