//! A request budget shared by every process that uses the same Redis: per venue and
//! egress scope, a counter per rate window, checked and spent atomically in Lua, and
//! raised to the exchange's own used-weight count when it reports one.
//!
//! Exchanges like Binance count weight per fixed window (per minute, per IP), so the
//! budget is a fixed-window counter aligned to the same windows: it never lets the sum of
//! all processes pass what the exchange would count in one of its windows.

use std::time::Duration;

use futures_util::future::{BoxFuture, FutureExt};

use super::conn::{script, Shared};
use crate::exchange::SharedBudget;

/// Spends `weight` if it fits under `limit` in this window (or nothing was spent yet);
/// returns the new total, or -1 when it does not fit.
const SPEND: &str = r#"
local used = tonumber(redis.call("GET", KEYS[1]) or "0")
local weight, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
if used > 0 and used + weight > limit then return -1 end
redis.call("INCRBY", KEYS[1], weight)
redis.call("PEXPIRE", KEYS[1], ARGV[3])
return used + weight
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
}

impl SharedBudget for RedisBudget {
    fn try_spend<'a>(
        &'a self,
        venue: &'a str,
        window_start: i64,
        window: Duration,
        weight: u32,
        limit: u32,
    ) -> BoxFuture<'a, crate::Result<bool>> {
        async move {
            let spend = script(SPEND);
            let mut call = spend.key(self.key(venue, window_start));
            call.arg(weight).arg(limit).arg(window.as_millis() as u64 * 2);
            let total: i64 = self.shared.script(&call).await?;
            Ok(total >= 0)
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
