//! The cross-process stampede lock: one process fetches a missing segment, the others
//! wait for its value in Redis, watching the lock.
//!
//! - The holder renews its lease while it fetches ([`SegmentLock::hold_while`]), so a slow
//!   fetch (a throttled exchange, many pages) is not taken over by another process.
//! - A holder that fails releases the lock and leaves a short failure marker: waiters
//!   return that error instead of all fetching at once into an exchange that just failed
//!   (or throttled) the holder.
//! - A lock whose holder's future is dropped (cancelled query, crashed task) is released
//!   at once ([`LockToken`]'s `Drop`); one whose process died expires with its lease.
//! - Waiters that see the lock gone without a value race for it again.

use std::sync::Arc;
use std::time::Duration;

use super::conn::{script, Shared};
use crate::codec;
use crate::error::{Error, Result};
use crate::segment::{Segment, SegmentKey};

/// Deletes the lock only if it still holds our token (another process may own it now).
const RELEASE: &str =
    r#"if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) else return 0 end"#;

/// Renews the lease only if we still hold the lock.
const RENEW: &str = r#"if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) else return 0 end"#;

/// Releases the lock (if ours) and leaves the failure marker KEYS[2] for ARGV[3] ms.
const FAIL: &str = r#"
redis.call("SET", KEYS[2], ARGV[2], "PX", ARGV[3])
if redis.call("GET", KEYS[1]) == ARGV[1] then redis.call("DEL", KEYS[1]) end
return 0
"#;

/// How long a failure marker stays: long enough for every waiter to see it (they poll at
/// least every 100 ms), short enough that the next query tries again.
const FAILURE_MARKER: Duration = Duration::from_secs(2);

/// Proof of holding a lock. Dropping it without [`SegmentLock::release`] (a cancelled
/// fetch) releases the lock in the background.
#[derive(Debug)]
pub struct LockToken {
    key: String,
    token: String,
    shared: Option<Shared>,
}

impl Drop for LockToken {
    fn drop(&mut self) {
        let Some(shared) = self.shared.take() else { return };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let (key, token) = (std::mem::take(&mut self.key), std::mem::take(&mut self.token));
        runtime.spawn(async move { release(&shared, &key, &token).await });
    }
}

async fn release(shared: &Shared, key: &str, token: &str) {
    let release = script(RELEASE);
    let mut call = release.key(key);
    call.arg(token);
    if let Err(e) = shared.script::<i64>(&call).await {
        tracing::debug!(error = %e, "lock release failed; the lease will expire");
    }
}

/// The segment's value, its lock and its failure marker, as one MGET reads them.
type WatchedKeys = (Option<Vec<u8>>, Option<String>, Option<String>);

/// What a waiter saw.
#[derive(Debug)]
pub enum Waited {
    /// The holder stored the segment.
    Value(Arc<Segment>),
    /// The lock is gone and no value came (the holder crashed or gave up): try to lock.
    Released,
    /// The holder still holds the lock after the longest wait allowed.
    TimedOut,
}

/// Locks per segment, in Redis.
#[derive(Debug, Clone)]
pub struct SegmentLock {
    shared: Shared,
    /// How long a lock lives if its holder dies without releasing it (renewed every
    /// third of it while the holder works).
    pub ttl: Duration,
    /// Longest a waiter waits for the holder (the cache's `max_wait` bounds it too).
    pub max_wait: Duration,
}

impl SegmentLock {
    /// Locks over `shared` with a 10 s lease and a 60 s bounded wait.
    pub fn new(shared: Shared) -> Self {
        SegmentLock { shared, ttl: Duration::from_secs(10), max_wait: Duration::from_secs(60) }
    }

    fn lock_key(&self, segment: &SegmentKey) -> String {
        // Same hash tag as the value: on a cluster both live in one slot.
        format!("{}:lock", segment.storage_key(self.shared.prefix()))
    }

    fn failure_key(&self, segment: &SegmentKey) -> String {
        format!("{}:failed", segment.storage_key(self.shared.prefix()))
    }

    /// `SET key token NX PX ttl`: `Some` if we now hold the lock, `None` if another
    /// process does; `Err` if Redis cannot say (the caller then fetches anyway).
    pub async fn try_lock(&self, segment: &SegmentKey) -> Result<Option<LockToken>> {
        let key = self.lock_key(segment);
        let token = format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
        let mut cmd = redis::cmd("SET");
        cmd.arg(&key).arg(&token).arg("NX").arg("PX").arg(self.ttl.as_millis() as u64);
        let set: Option<String> = self.shared.query(&cmd).await?;
        Ok(set.map(|_| LockToken { key, token, shared: Some(self.shared.clone()) }))
    }

    /// Releases a lock we hold (compare-and-delete); errors are ignored: the lease expires.
    pub async fn release(&self, mut lock: LockToken) {
        lock.shared = None;
        release(&self.shared, &lock.key, &lock.token).await;
    }

    /// Releases a lock whose fetch failed, leaving a short marker with the error so that
    /// waiting processes return it instead of fetching themselves.
    pub async fn fail(&self, mut lock: LockToken, error: &Error) {
        lock.shared = None;
        let marker = lock.key.strip_suffix(":lock").map(|k| format!("{k}:failed")).unwrap_or_default();
        let fail = script(FAIL);
        let mut call = fail.key(&lock.key);
        call.key(&marker)
            .arg(&lock.token)
            .arg(format!("{}\t{error}", error.code()))
            .arg(FAILURE_MARKER.as_millis() as u64);
        if let Err(e) = self.shared.script::<i64>(&call).await {
            tracing::debug!(error = %e, "lock failure marker not set; the lease will expire");
        }
    }

    /// Runs `work` while renewing the lease of `lock` every third of its TTL.
    pub async fn hold_while<T>(&self, lock: &LockToken, work: impl std::future::Future<Output = T>) -> T {
        tokio::pin!(work);
        let every = self.ttl / 3;
        loop {
            tokio::select! {
                done = &mut work => return done,
                () = tokio::time::sleep(every) => {
                    let renew = script(RENEW);
                    let mut call = renew.key(&lock.key);
                    call.arg(&lock.token).arg(self.ttl.as_millis() as u64);
                    if let Err(e) = self.shared.script::<i64>(&call).await {
                        tracing::debug!(error = %e, "lock lease not renewed");
                    }
                }
            }
        }
    }

    /// Watches the segment another process is fetching until `deadline`: its value (one
    /// that decodes and is fresh at `now()`), the lock gone without one, or the holder's
    /// failure, returned as this caller's error. Redis trouble counts as `Released`.
    pub async fn wait_for(
        &self,
        segment: &SegmentKey,
        now: impl Fn() -> i64,
        deadline: tokio::time::Instant,
    ) -> Result<Waited> {
        let keys =
            [segment.storage_key(self.shared.prefix()), self.lock_key(segment), self.failure_key(segment)];
        let mut pause = Duration::from_millis(10);
        while tokio::time::Instant::now() < deadline {
            tokio::time::sleep(pause.min(deadline.saturating_duration_since(tokio::time::Instant::now())))
                .await;
            pause = (pause * 2).min(Duration::from_millis(100));
            let got: Result<WatchedKeys> = self.shared.query(redis::cmd("MGET").arg(&keys[..])).await;
            let (value, lock, failure) = match got {
                Ok(found) => found,
                Err(_) => return Ok(Waited::Released),
            };
            if let Some(seg) = value
                .and_then(|b| codec::decode(segment, &b).ok())
                .filter(|s| s.is_fresh(now()) && s.is_complete())
            {
                return Ok(Waited::Value(Arc::new(seg)));
            }
            if let Some(failure) = failure {
                return Err(relayed(segment, &failure));
            }
            if lock.is_none() {
                return Ok(Waited::Released);
            }
        }
        Ok(Waited::TimedOut)
    }
}

/// The error another process's failed fetch left (`CODE\tmessage`), as this caller's.
fn relayed(segment: &SegmentKey, marker: &str) -> Error {
    let (code, message) = marker.split_once('\t').unwrap_or(("", marker));
    let exchange = segment.series.exchange.to_string();
    let message = format!("another process fetching this segment failed: {message}");
    match code {
        "RATE_LIMITED" => Error::RateLimited { exchange, retry_after: None, message },
        "NETWORK_ERROR" => Error::Network { exchange, message },
        "MALFORMED_RESPONSE" => Error::MalformedResponse { exchange, message },
        _ => Error::Exchange { exchange, code: None, status: None, message },
    }
}

impl SegmentLock {
    /// One look for the segment's value (after winning the lock, in case the previous
    /// holder stored it just before we asked).
    pub async fn peek(&self, segment: &SegmentKey, now: i64) -> Option<Arc<Segment>> {
        let key = segment.storage_key(self.shared.prefix());
        let bytes: Option<Vec<u8>> = self.shared.query(redis::cmd("GET").arg(&key)).await.ok().flatten();
        bytes
            .and_then(|b| codec::decode(segment, &b).ok())
            .filter(|s| s.is_fresh(now) && s.is_complete())
            .map(Arc::new)
    }
}
