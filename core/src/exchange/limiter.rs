//! A request-weight budget per fixed window (Binance: weight per minute per IP), that
//! follows the exchange's own used-weight count when it reports one, and, with Redis,
//! is shared by every process on the same egress IP.

use std::fmt::Debug;
use std::sync::Mutex;
use std::time::Duration;

use web_time::{SystemTime, UNIX_EPOCH};

use crate::rt::Instant;

use futures_util::future::BoxFuture;

use crate::stats::UpstreamCounters;

/// What a shared budget answered to a request to spend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spend {
    /// Spent: the request may go.
    Spent,
    /// The window's budget is used up by the processes sharing it.
    Full,
    /// A process sharing the budget was throttled by the exchange: nobody sends for this long.
    Paused(Duration),
}

/// A budget that several processes spend together (implemented over Redis).
pub trait SharedBudget: Send + Sync + Debug {
    /// Spends `weight` in the window starting at `window_start` if the total stays
    /// within `limit` and the budget is not paused.
    fn try_spend<'a>(
        &'a self,
        venue: &'a str,
        window_start: i64,
        window: Duration,
        weight: u32,
        limit: u32,
    ) -> BoxFuture<'a, crate::Result<Spend>>;

    /// Raises the window's total to `used` (the exchange's own count) if higher.
    fn observe<'a>(
        &'a self,
        venue: &'a str,
        window_start: i64,
        window: Duration,
        used: u32,
    ) -> BoxFuture<'a, ()>;

    /// Pauses every process sharing the budget for `wait` (after a 429/418/403).
    fn pause<'a>(&'a self, venue: &'a str, wait: Duration) -> BoxFuture<'a, ()>;
}

/// Weight budget for one exchange endpoint family.
#[derive(Debug)]
pub(crate) struct WeightLimiter {
    name: &'static str,
    limit: u32,
    window_ms: i64,
    /// The response header in which the exchange counts this very budget, if it does
    /// (Binance's IP weight: `x-mbx-used-weight-1m`; not its separate funding bucket).
    used_header: Option<&'static str>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    window: i64,
    used: u32,
    paused_until: i64,
    /// The shared budget could not be reached during this window, so it may not know what
    /// this process spent in it (spent offline, or lost with a Redis that restarted empty).
    unsure: bool,
}

/// Why a request cannot go yet.
enum Wait {
    /// The exchange throttled us: nothing goes until then (wall ms).
    Paused(i64),
    /// This window's budget is spent: the next window starts then (wall ms).
    Window(i64),
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
            used_header: None,
            state: Mutex::new(State::default()),
        }
    }

    /// Follows the exchange's count of this budget in response header `name`.
    pub(crate) fn counted_by(mut self, header: &'static str) -> Self {
        self.used_header = Some(header);
        self
    }

    fn window_start(&self, now: i64) -> i64 {
        now - now.rem_euclid(self.window_ms)
    }

    fn window_end(&self, window: i64) -> i64 {
        window + self.window_ms + WINDOW_MARGIN_MS
    }

    /// Reserves `weight` locally within `limit`, or says why not.
    fn reserve(&self, weight: u32, limit: u32) -> Result<i64, Wait> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = wall_ms();
        let window = self.window_start(now);
        if s.window != window {
            s.window = window;
            s.used = 0;
            s.unsure = false;
        }
        let guard = GUARD_MS.min(self.window_ms / 20);
        if s.paused_until > now {
            Err(Wait::Paused(s.paused_until))
        } else if now >= window + self.window_ms - guard {
            Err(Wait::Window(self.window_end(window)))
        } else if s.used == 0 || s.used + weight <= limit {
            s.used += weight;
            Ok(window)
        } else {
            Err(Wait::Window(self.window_end(window)))
        }
    }

    /// Gives back weight reserved in `window` that was not spent.
    fn give_back(&self, window: i64, weight: u32) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if s.window == window {
            s.used = s.used.saturating_sub(weight);
        }
    }

    /// Waits until `weight` fits in the budget (and the shared one, if any), then spends
    /// it. While the shared budget cannot be reached, only `offline_share` of the limit
    /// is spent (other processes fall back to their own share too). A wait that would
    /// end after `deadline` fails at once with [`Error::RateLimited`] saying until when.
    pub(crate) async fn acquire(
        &self,
        weight: u32,
        counters: &UpstreamCounters,
        shared: Option<&dyn SharedBudget>,
        offline_share: f64,
        deadline: Instant,
    ) -> crate::Result<()> {
        loop {
            let wait = match self.reserve(weight, self.limit) {
                Err(wait) => wait,
                Ok(window) => match shared {
                    None => return Ok(()),
                    Some(budget) => {
                        let window_len = Duration::from_millis(self.window_ms as u64);
                        if let Some(spent) = self.take_unsure(window, weight) {
                            // Back after an outage: the shared count is at least ours.
                            budget.observe(self.name, window, window_len, spent).await;
                        }
                        match budget.try_spend(self.name, window, window_len, weight, self.limit).await {
                            Ok(Spend::Spent) => return Ok(()),
                            Ok(Spend::Full) => {
                                // Other processes spent this window: give ours back, wait.
                                self.give_back(window, weight);
                                Wait::Window(self.window_end(window))
                            }
                            Ok(Spend::Paused(pause)) => {
                                self.give_back(window, weight);
                                let until = wall_ms() + pause.as_millis() as i64;
                                self.pause_until(until);
                                Wait::Paused(until)
                            }
                            Err(_) => {
                                // Redis unreachable: this process keeps to its share.
                                let share = ((f64::from(self.limit) * offline_share) as u32).max(1);
                                self.mark_unsure(window);
                                if self.within(window, share.max(weight)) {
                                    return Ok(());
                                }
                                self.give_back(window, weight);
                                Wait::Window(self.window_end(window))
                            }
                        }
                    }
                },
            };
            let (until, why) = match wait {
                Wait::Paused(until) => (until, "the exchange throttled us: requests are paused"),
                Wait::Window(until) => (until, "the request budget of this window is spent"),
            };
            let wait_ms = (until - wall_ms()).max(1) as u64;
            let wait_for = Duration::from_millis(wait_ms);
            if Instant::now() + wait_for > deadline {
                return Err(crate::Error::RateLimited {
                    exchange: self.name.to_string(),
                    retry_after: Some(wait_for),
                    message: format!(
                        "{why} until {}, longer than the longest wait allowed (max_wait)",
                        crate::time::format_time(until)
                    ),
                });
            }
            counters.throttle_wait();
            tracing::debug!(wait_ms, weight, venue = self.name, "{why}, waiting");
            crate::rt::sleep(wait_for).await;
        }
    }

    /// Notes that the shared budget was unreachable in `window`.
    fn mark_unsure(&self, window: i64) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if s.window == window {
            s.unsure = true;
        }
    }

    /// If the shared budget was unreachable earlier in `window`: what this process spent
    /// in it before the `reserved` weight (and the mark is cleared).
    fn take_unsure(&self, window: i64, reserved: u32) -> Option<u32> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let unsure = s.window == window && std::mem::take(&mut s.unsure);
        (unsure && s.used > reserved).then(|| s.used - reserved)
    }

    /// Whether this window's local spending (including what was just reserved) is
    /// within `share`.
    fn within(&self, window: i64, share: u32) -> bool {
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.window != window || s.used <= share
    }

    /// The exchange's count of this budget in `reply`'s headers, if it sends one.
    pub(crate) fn used_in(&self, reply: &super::http::Reply) -> Option<u32> {
        self.used_header.and_then(|h| reply.header(h)).and_then(|v| v.trim().parse().ok())
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

    /// Stops all requests for `wait` (after a 429/418/403), in every process sharing
    /// the budget.
    pub(crate) async fn pause_for(&self, wait: Duration, shared: Option<&dyn SharedBudget>) {
        self.pause_until(wall_ms() + wait.as_millis() as i64);
        if let Some(budget) = shared {
            budget.pause(self.name, wait).await;
        }
    }

    fn pause_until(&self, until: i64) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.paused_until = s.paused_until.max(until);
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
        let deadline = Instant::now() + Duration::from_secs(5);
        for _ in 0..5 {
            lim.acquire(2, &counters, None, 1.0, deadline).await.unwrap();
        }
        lim.acquire(2, &counters, None, 1.0, deadline).await.unwrap(); // sixth needs a new window
        let waited = t0.elapsed();
        assert!(waited >= Duration::from_millis(40), "{waited:?}");
        assert_eq!(crate::stats::snapshot(0, &[], &counters, &Default::default()).upstream.throttle_waits, 1);
    }

    #[tokio::test]
    async fn a_pause_longer_than_the_deadline_fails_at_once() {
        let counters = UpstreamCounters::default();
        let lim = WeightLimiter::new("test", 10, Duration::from_secs(60));
        lim.pause_for(Duration::from_secs(3600), None).await;
        let t0 = std::time::Instant::now();
        let err =
            lim.acquire(1, &counters, None, 1.0, Instant::now() + Duration::from_secs(1)).await.unwrap_err();
        assert!(t0.elapsed() < Duration::from_millis(100), "failed at once");
        match err {
            crate::Error::RateLimited { retry_after: Some(wait), message, .. } => {
                assert!(wait > Duration::from_secs(3590), "{wait:?}");
                assert!(message.contains("paused until"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
}
