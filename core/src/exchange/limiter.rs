//! A request-weight budget per fixed window (Binance: weight per minute per IP), that
//! follows the exchange's own used-weight count when it reports one, and, with Redis,
//! is shared by every process on the same egress IP.

use std::fmt::Debug;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::future::BoxFuture;

use crate::stats::UpstreamCounters;

/// A budget that several processes spend together (implemented over Redis).
pub trait SharedBudget: Send + Sync + Debug {
    /// Spends `weight` in the window starting at `window_start` if the total stays
    /// within `limit`; `Ok(false)` if it would not.
    fn try_spend<'a>(
        &'a self,
        venue: &'a str,
        window_start: i64,
        window: Duration,
        weight: u32,
        limit: u32,
    ) -> BoxFuture<'a, crate::Result<bool>>;

    /// Raises the window's total to `used` (the exchange's own count) if higher.
    fn observe<'a>(
        &'a self,
        venue: &'a str,
        window_start: i64,
        window: Duration,
        used: u32,
    ) -> BoxFuture<'a, ()>;
}

/// Weight budget for one exchange endpoint family.
#[derive(Debug)]
pub(crate) struct WeightLimiter {
    name: &'static str,
    limit: u32,
    window_ms: i64,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    window: i64,
    used: u32,
    paused_until: i64,
}

/// Margin added when waiting for the next window, for clock skew with the exchange.
const WINDOW_MARGIN_MS: i64 = 50;
/// No request is sent this close to a window's end (at most 5 % of it): one sent at
/// 59.999 s may be counted by the exchange in the next minute, where our count restarted.
const GUARD_MS: i64 = 100;

fn wall_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

impl WeightLimiter {
    /// `limit` weight per `window` for the endpoint family `name`, windows aligned to
    /// multiples of the window on the wall clock.
    pub(crate) fn new(name: &'static str, limit: u32, window: Duration) -> Self {
        WeightLimiter {
            name,
            limit: limit.max(1),
            window_ms: (window.as_millis() as i64).max(1),
            state: Mutex::new(State::default()),
        }
    }

    fn window_start(&self, now: i64) -> i64 {
        now - now.rem_euclid(self.window_ms)
    }

    /// Reserves `weight` locally, or says how long to wait.
    fn reserve(&self, weight: u32) -> Result<i64, i64> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = wall_ms();
        let window = self.window_start(now);
        if s.window != window {
            s.window = window;
            s.used = 0;
        }
        let guard = GUARD_MS.min(self.window_ms / 20);
        if s.paused_until > now {
            Err(s.paused_until - now)
        } else if now >= window + self.window_ms - guard {
            Err(window + self.window_ms - now + WINDOW_MARGIN_MS)
        } else if s.used == 0 || s.used + weight <= self.limit {
            s.used += weight;
            Ok(window)
        } else {
            Err(window + self.window_ms - now + WINDOW_MARGIN_MS)
        }
    }

    /// Waits until `weight` fits in the budget (and the shared one, if any), then spends it.
    pub(crate) async fn acquire(
        &self,
        weight: u32,
        counters: &UpstreamCounters,
        shared: Option<&dyn SharedBudget>,
    ) {
        loop {
            let wait_ms = match self.reserve(weight) {
                Ok(window) => match shared {
                    None => return,
                    Some(budget) => {
                        let window_len = Duration::from_millis(self.window_ms as u64);
                        match budget.try_spend(self.name, window, window_len, weight, self.limit).await {
                            // Redis unreachable: the local budget still holds.
                            Ok(true) | Err(_) => return,
                            Ok(false) => {
                                // Other processes spent this window: give ours back, wait.
                                let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
                                if s.window == window {
                                    s.used = s.used.saturating_sub(weight);
                                }
                                window + self.window_ms - wall_ms() + WINDOW_MARGIN_MS
                            }
                        }
                    }
                },
                Err(wait) => wait,
            };
            counters.throttle_wait();
            tracing::debug!(wait_ms, weight, venue = self.name, "request weight budget exhausted, waiting");
            tokio::time::sleep(Duration::from_millis(wait_ms.max(1) as u64)).await;
        }
    }

    /// Adopts the exchange's count of weight used in the current window, if higher
    /// than ours (other clients on the same IP spend the same budget).
    pub(crate) async fn observe_used(&self, used: u32, shared: Option<&dyn SharedBudget>) {
        let now = wall_ms();
        let window = self.window_start(now);
        {
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if s.window == window {
                s.used = s.used.max(used);
            }
        }
        if let Some(budget) = shared {
            budget.observe(self.name, window, Duration::from_millis(self.window_ms as u64), used).await;
        }
    }

    /// Stops all requests for `wait` (after a 429/418 with Retry-After).
    pub(crate) fn pause_for(&self, wait: Duration) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.paused_until = s.paused_until.max(wall_ms() + wait.as_millis() as i64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn budget_blocks_until_next_window() {
        let counters = UpstreamCounters::default();
        let lim = WeightLimiter::new("test", 10, Duration::from_millis(200));
        // Start just after a window begins, so the first five fit in one window.
        let now = wall_ms();
        tokio::time::sleep(Duration::from_millis((200 - now.rem_euclid(200) + 5) as u64)).await;
        let t0 = std::time::Instant::now();
        for _ in 0..5 {
            lim.acquire(2, &counters, None).await;
        }
        lim.acquire(2, &counters, None).await; // sixth needs a new window
        let waited = t0.elapsed();
        assert!(waited >= Duration::from_millis(40), "{waited:?}");
        assert_eq!(crate::stats::snapshot(0, &[], &counters).upstream.throttle_waits, 1);
    }
}
