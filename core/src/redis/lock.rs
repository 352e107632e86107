//! The cross-process stampede lock: one process fetches a missing segment, the others
//! wait for its value in Redis (bounded), then fetch themselves if it never comes.

use std::sync::Arc;
use std::time::Duration;

use super::conn::{script, Shared};
use crate::codec;
use crate::segment::{Segment, SegmentKey};

/// Deletes the lock only if it still holds our token (another process may own it now).
const RELEASE: &str =
    r#"if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) else return 0 end"#;

/// Proof of holding a lock.
#[derive(Debug)]
pub struct LockToken {
    key: String,
    token: String,
}

/// Locks per segment, in Redis.
#[derive(Debug, Clone)]
pub struct SegmentLock {
    shared: Shared,
    /// How long a lock lives if its holder dies.
    pub ttl: Duration,
    /// How long a waiter polls for the value before fetching itself.
    pub max_wait: Duration,
}

impl SegmentLock {
    /// Locks over `shared` with a 10 s lease and a 10 s bounded wait.
    pub fn new(shared: Shared) -> Self {
        SegmentLock { shared, ttl: Duration::from_secs(10), max_wait: Duration::from_secs(10) }
    }

    fn lock_key(&self, segment: &SegmentKey) -> String {
        // Same hash tag as the value: on a cluster both live in one slot.
        format!("{}:lock", segment.storage_key(self.shared.prefix()))
    }

    /// `SET key token NX PX ttl`: `Some` if we now hold the lock, `None` if another
    /// process does; `Err` if Redis cannot say (the caller then fetches anyway).
    pub async fn try_lock(&self, segment: &SegmentKey) -> crate::Result<Option<LockToken>> {
        let key = self.lock_key(segment);
        let token = format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
        let mut cmd = redis::cmd("SET");
        cmd.arg(&key).arg(&token).arg("NX").arg("PX").arg(self.ttl.as_millis() as u64);
        let set: Option<String> = self.shared.query(&cmd).await?;
        Ok(set.map(|_| LockToken { key, token }))
    }

    /// Releases a lock we hold (compare-and-delete); errors are ignored: the lease expires.
    pub async fn release(&self, lock: LockToken) {
        let release = script(RELEASE);
        let mut call = release.key(&lock.key);
        call.arg(&lock.token);
        if let Err(e) = self.shared.script::<i64>(&call).await {
            tracing::debug!(error = %e, "lock release failed; the lease will expire");
        }
    }

    /// Polls Redis for the segment another process is fetching, until `max_wait`.
    /// A value that does not decode, or is stale at `now`, is not accepted.
    pub async fn wait_for(&self, segment: &SegmentKey, now: impl Fn() -> i64) -> Option<Arc<Segment>> {
        let key = segment.storage_key(self.shared.prefix());
        let deadline = tokio::time::Instant::now() + self.max_wait;
        let mut pause = Duration::from_millis(10);
        while tokio::time::Instant::now() < deadline {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(100));
            let got: crate::Result<Option<Vec<u8>>> = self.shared.query(redis::cmd("GET").arg(&key)).await;
            match got {
                Ok(Some(bytes)) => match codec::decode(segment, &bytes) {
                    Ok(seg) if seg.is_fresh(now()) => return Some(Arc::new(seg)),
                    _ => {}
                },
                Ok(None) => {}
                Err(_) => return None,
            }
        }
        None
    }
}

impl SegmentLock {
    /// One look for the segment's value (after winning the lock, in case the previous
    /// holder stored it just before we asked).
    pub async fn peek(&self, segment: &SegmentKey, now: i64) -> Option<Arc<Segment>> {
        let key = segment.storage_key(self.shared.prefix());
        let bytes: Option<Vec<u8>> = self.shared.query(redis::cmd("GET").arg(&key)).await.ok().flatten();
        bytes.and_then(|b| codec::decode(segment, &b).ok()).filter(|s| s.is_fresh(now)).map(Arc::new)
    }
}
