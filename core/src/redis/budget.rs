//! A request budget shared by every process that uses the same Redis: per venue and
//! egress scope, a counter per rate window, checked and spent atomically in Lua, and
//! raised to the exchange's own used-weight count when it reports one. A 429/418/403 seen
//! by one process pauses every process on the same scope, for as long as the exchange said.
//!
//! Exchanges like Binance count weight per fixed window (per minute, per IP), so the
//! budget is a fixed-window counter aligned to the same windows: it never lets the sum of
//! all processes pass what the exchange would count in one of its windows.

use std::time::Duration;

use futures_util::future::{BoxFuture, FutureExt};

use super::conn::{script, Shared};
use crate::exchange::{SharedBudget, Spend};

/// Unless the budget is paused (KEYS[2] lives for the rest of the pause: returns
/// `{2, ms left}`), spends `weight` if it fits under `limit` in this window (or nothing
/// was spent yet): `{1, new total}`, else `{0, total}`.
const SPEND: &str = r#"
local paused = redis.call("PTTL", KEYS[2])
if paused > 0 then return {2, paused} end
local used = tonumber(redis.call("GET", KEYS[1]) or "0")
local weight, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
if used > 0 and used + weight > limit then return {0, used} end
redis.call("INCRBY", KEYS[1], weight)
redis.call("PEXPIRE", KEYS[1], ARGV[3])
return {1, used + weight}
"#;

/// Pauses the budget for ARGV[1] ms, unless it is already paused for longer.
const PAUSE: &str = r#"
local left = redis.call("PTTL", KEYS[1])
if left < tonumber(ARGV[1]) then redis.call("SET", KEYS[1], "1", "PX", ARGV[1]) end
return 0
"#;

/// Raises the window's counter to the exchange's count if that is higher.
const OBSERVE: &str = r#"
local used = tonumber(redis.call("GET", KEYS[1]) or "0")
if tonumber(ARGV[1]) > used then redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2]) end
return 0
"#;

/// The shared budget over Redis.
#[derive(Debug, Clone)]
pub struct RedisBudget {
    shared: Shared,
    scope: String,
}

impl RedisBudget {
    /// A budget for processes sharing `scope` (by default one per egress IP: name it
    /// after the host or NAT it leaves through).
    pub fn new(shared: Shared, scope: impl Into<String>) -> Self {
        RedisBudget { shared, scope: scope.into() }
    }

    fn key(&self, venue: &str, window_start: i64) -> String {
        format!("{}:budget:{{{venue}:{}}}:{window_start}", self.shared.prefix(), self.scope)
    }

    /// The pause marker: same hash tag as the windows, so one script reads both on a cluster.
    fn pause_key(&self, venue: &str) -> String {
        format!("{}:budget:{{{venue}:{}}}:paused", self.shared.prefix(), self.scope)
    }
}

impl SharedBudget for RedisBudget {
    fn try_spend<'a>(
        &'a self,
        venue: &'a str,
        window_start: i64,
        window: Duration,
        weight: u32,
        limit: u32,
    ) -> BoxFuture<'a, crate::Result<Spend>> {
        async move {
            let spend = script(SPEND);
            let mut call = spend.key(self.key(venue, window_start));
            call.key(self.pause_key(venue)).arg(weight).arg(limit).arg(window.as_millis() as u64 * 2);
            let answer: (i64, i64) = self.shared.script(&call).await?;
            Ok(match answer {
                (1, _) => Spend::Spent,
                (2, left) => Spend::Paused(Duration::from_millis(left.max(1) as u64)),
                _ => Spend::Full,
            })
        }
        .boxed()
    }

    fn pause<'a>(&'a self, venue: &'a str, wait: Duration) -> BoxFuture<'a, ()> {
        async move {
            let pause = script(PAUSE);
            let mut call = pause.key(self.pause_key(venue));
            call.arg(wait.as_millis().max(1) as u64);
            if let Err(e) = self.shared.script::<i64>(&call).await {
                tracing::debug!(error = %e, "shared pause not recorded");
            }
        }
        .boxed()
    }

    fn observe<'a>(
        &'a self,
        venue: &'a str,
        window_start: i64,
        window: Duration,
        used: u32,
    ) -> BoxFuture<'a, ()> {
        async move {
            let observe = script(OBSERVE);
            let mut call = observe.key(self.key(venue, window_start));
            call.arg(used).arg(window.as_millis() as u64 * 2);
            if let Err(e) = self.shared.script::<i64>(&call).await {
                tracing::debug!(error = %e, "shared budget update failed");
            }
        }
        .boxed()
    }
}
