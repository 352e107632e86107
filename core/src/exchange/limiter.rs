//! A request-weight budget per fixed window (Binance: weight per minute per IP), that
//! follows the exchange's own used-weight count when it reports one.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::stats::UpstreamCounters;

/// Weight budget for one exchange endpoint family.
#[derive(Debug)]
pub(crate) struct WeightLimiter {
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

fn wall_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

impl WeightLimiter {
    /// `limit` weight per `window`, windows aligned to multiples of it on the wall clock.
    pub(crate) fn new(limit: u32, window: Duration) -> Self {
        WeightLimiter {
            limit: limit.max(1),
            window_ms: (window.as_millis() as i64).max(1),
            state: Mutex::new(State::default()),
        }
    }

    /// Waits until `weight` fits in the budget, then reserves it.
    pub(crate) async fn acquire(&self, weight: u32, counters: &UpstreamCounters) {
        loop {
            let wait_ms = {
                let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
                let now = wall_ms();
                let window = now - now.rem_euclid(self.window_ms);
                if s.window != window {
                    s.window = window;
                    s.used = 0;
                }
                if s.paused_until > now {
                    s.paused_until - now
                } else if s.used == 0 || s.used + weight <= self.limit {
                    s.used += weight;
                    return;
                } else {
                    window + self.window_ms - now + WINDOW_MARGIN_MS
                }
            };
            counters.throttle_wait();
            tracing::debug!(wait_ms, weight, "request weight budget exhausted, waiting");
            tokio::time::sleep(Duration::from_millis(wait_ms as u64)).await;
        }
    }

    /// Adopts the exchange's count of weight used in the current window, if higher
    /// than ours (other clients on the same IP spend the same budget).
    pub(crate) fn observe_used(&self, used: u32) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = wall_ms();
        if s.window == now - now.rem_euclid(self.window_ms) {
            s.used = s.used.max(used);
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
        let lim = WeightLimiter::new(10, Duration::from_millis(200));
        let t0 = std::time::Instant::now();
        for _ in 0..5 {
            lim.acquire(2, &counters).await;
        }
        lim.acquire(2, &counters).await; // sixth needs a new window
        let waited = t0.elapsed();
        assert!(waited >= Duration::from_millis(40), "{waited:?}");
        assert_eq!(crate::stats::snapshot(0, &[], &counters).upstream.throttle_waits, 1);
    }
}
