//! Request-weight budgets per window, with the escalation real exchanges use:
//! over budget → 429 with `Retry-After`; persisting → a timed ban (418).
//!
//! Windows are aligned to multiples of their length on the **real** wall
//! clock (not the simulated "now"), like Binance's per-minute counters.

use std::collections::{BTreeMap, HashMap};

/// Further requests tolerated in a window after a 429 before the ban.
const TOLERATED_AFTER_429: u32 = 2;

/// The budget a request is checked against.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Budget {
    /// Weight allowed per window.
    pub limit: u32,
    /// Window length, ms (> 0).
    pub window_ms: i64,
    /// Ban length, ms.
    pub ban_ms: i64,
}

/// Outcome of asking the limiter to admit one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Served; `used` includes this request's weight.
    Allowed {
        /// Weight used in the current window.
        used: u32,
    },
    /// Rejected with 429; adds no weight.
    Limited {
        /// Weight used in the current window.
        used: u32,
        /// Seconds until the window ends, rounded up.
        retry_after_secs: u64,
    },
    /// Rejected with 418: banned until `until_ms` (real wall clock).
    Banned {
        /// Weight used in the current window.
        used: u32,
        /// End of the ban, ms since the epoch.
        until_ms: i64,
        /// Seconds until the ban ends, rounded up.
        retry_after_secs: u64,
    },
}

/// State of one budget (one exchange market, one client IP).
#[derive(Debug, Default)]
struct Bucket {
    window_start: i64,
    used: u32,
    /// A 429 was served in this window.
    warned: bool,
    /// Requests received in this window since the first 429.
    further: u32,
    ban_until: Option<i64>,
}

/// A credit pool that refills continuously (Deribit's model).
#[derive(Debug)]
struct Pool {
    /// Credits available, in thousandths.
    milli: i64,
    /// When `milli` was last brought up to date, ms.
    at_ms: i64,
}

/// A credit pool's settings.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Credits {
    /// Pool size (and starting balance), credits.
    pub pool: u32,
    /// Credits restored per second.
    pub refill_per_sec: u32,
}

/// Weight counters for every budget, keyed by name (e.g. `"binance-spot"`).
#[derive(Debug, Default)]
pub(crate) struct WeightLimiter {
    buckets: HashMap<String, Bucket>,
    pools: HashMap<String, Pool>,
    peaks: BTreeMap<String, u32>,
}

/// Milliseconds to whole seconds, rounded up, at least 1.
fn secs_ceil(ms: i64) -> u64 {
    u64::try_from((ms + 999) / 1000).unwrap_or(0).max(1)
}

impl WeightLimiter {
    /// Admits (and charges) a request of `weight` against budget `key` at real time `now_ms`.
    pub(crate) fn admit(&mut self, key: &str, weight: u32, budget: Budget, now_ms: i64) -> Admission {
        let window_ms = budget.window_ms.max(1);
        let b = self.buckets.entry(key.to_string()).or_default();
        let window_start = now_ms - now_ms.rem_euclid(window_ms);
        if b.window_start != window_start {
            *b = Bucket { window_start, ban_until: b.ban_until, ..Bucket::default() };
        }
        if let Some(until) = b.ban_until {
            if now_ms < until {
                return Admission::Banned {
                    used: b.used,
                    until_ms: until,
                    retry_after_secs: secs_ceil(until - now_ms),
                };
            }
            b.ban_until = None;
            b.warned = false;
            b.further = 0;
        }
        if b.warned {
            b.further += 1;
            if b.further > TOLERATED_AFTER_429 {
                let until = now_ms + budget.ban_ms;
                b.ban_until = Some(until);
                return Admission::Banned {
                    used: b.used,
                    until_ms: until,
                    retry_after_secs: secs_ceil(budget.ban_ms),
                };
            }
        }
        if b.used.saturating_add(weight) > budget.limit {
            b.warned = true;
            return Admission::Limited {
                used: b.used,
                retry_after_secs: secs_ceil(window_start + window_ms - now_ms),
            };
        }
        b.used += weight;
        let peak = self.peaks.entry(key.to_string()).or_default();
        *peak = (*peak).max(b.used);
        Admission::Allowed { used: b.used }
    }

    /// Admits (and charges) `weight` against a plain fixed-window budget:
    /// over it → `Limited` (no ban escalation), as Bybit's and OKX's IP
    /// limits behave.
    pub(crate) fn admit_window(
        &mut self,
        key: &str,
        weight: u32,
        limit: u32,
        window_ms: i64,
        now_ms: i64,
    ) -> Admission {
        let window_ms = window_ms.max(1);
        let b = self.buckets.entry(key.to_string()).or_default();
        let window_start = now_ms - now_ms.rem_euclid(window_ms);
        if b.window_start != window_start {
            *b = Bucket { window_start, ..Bucket::default() };
        }
        if b.used.saturating_add(weight) > limit {
            return Admission::Limited {
                used: b.used,
                retry_after_secs: secs_ceil(window_start + window_ms - now_ms),
            };
        }
        b.used += weight;
        let peak = self.peaks.entry(key.to_string()).or_default();
        *peak = (*peak).max(b.used);
        Admission::Allowed { used: b.used }
    }

    /// Admits (and charges) `cost` credits from pool `key`; `used` is the
    /// pool size minus the credits left (rounded up). Rejected calls cost
    /// nothing.
    pub(crate) fn admit_credits(&mut self, key: &str, cost: u32, credits: Credits, now_ms: i64) -> Admission {
        let full = i64::from(credits.pool) * 1000;
        let p = self.pools.entry(key.to_string()).or_insert(Pool { milli: full, at_ms: now_ms });
        let elapsed = (now_ms - p.at_ms).max(0);
        p.milli = (p.milli + elapsed.saturating_mul(i64::from(credits.refill_per_sec))).min(full);
        p.at_ms = now_ms;
        let need = i64::from(cost) * 1000;
        let used_of = |milli: i64| u32::try_from((full - milli + 999) / 1000).unwrap_or(u32::MAX);
        if p.milli < need {
            let wait_ms = match credits.refill_per_sec {
                0 => i64::MAX / 2,
                rate => (need - p.milli + i64::from(rate) - 1) / i64::from(rate),
            };
            return Admission::Limited { used: used_of(p.milli), retry_after_secs: secs_ceil(wait_ms) };
        }
        p.milli -= need;
        let used = used_of(p.milli);
        let peak = self.peaks.entry(key.to_string()).or_default();
        *peak = (*peak).max(used);
        Admission::Allowed { used }
    }

    /// Highest weight used in any window, per budget.
    pub(crate) fn peaks(&self) -> BTreeMap<String, u32> {
        self.peaks.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUDGET: Budget = Budget { limit: 10, window_ms: 60_000, ban_ms: 120_000 };

    #[test]
    fn warns_then_bans_then_recovers() {
        let mut l = WeightLimiter::default();
        let t = 1_700_000_020_000; // 40 s into a minute
        for i in 1..=5 {
            assert_eq!(l.admit("k", 2, BUDGET, t), Admission::Allowed { used: 2 * i });
        }
        let limited = Admission::Limited { used: 10, retry_after_secs: 20 };
        assert_eq!(l.admit("k", 2, BUDGET, t), limited);
        assert_eq!(l.admit("k", 2, BUDGET, t), limited);
        assert_eq!(l.admit("k", 2, BUDGET, t + 500), Admission::Limited { used: 10, retry_after_secs: 20 });
        let banned = l.admit("k", 2, BUDGET, t + 1000);
        assert_eq!(banned, Admission::Banned { used: 10, until_ms: t + 121_000, retry_after_secs: 120 });
        // Still banned in the next window.
        assert!(matches!(
            l.admit("k", 1, BUDGET, t + 60_000),
            Admission::Banned { retry_after_secs: 61, .. }
        ));
        // Ban over: a fresh window serves again.
        assert_eq!(l.admit("k", 1, BUDGET, t + 121_000), Admission::Allowed { used: 1 });
        assert_eq!(l.peaks().get("k"), Some(&10));
        // Other budgets are independent.
        assert_eq!(l.admit("other", 3, BUDGET, t), Admission::Allowed { used: 3 });
    }

    #[test]
    fn plain_windows_never_ban() {
        let mut l = WeightLimiter::default();
        let t = 1_700_000_001_000; // 1 s into a 2 s window
        assert_eq!(l.admit_window("okx", 1, 2, 2_000, t), Admission::Allowed { used: 1 });
        assert_eq!(l.admit_window("okx", 1, 2, 2_000, t), Admission::Allowed { used: 2 });
        for _ in 0..10 {
            assert_eq!(
                l.admit_window("okx", 1, 2, 2_000, t),
                Admission::Limited { used: 2, retry_after_secs: 1 }
            );
        }
        assert_eq!(l.admit_window("okx", 1, 2, 2_000, t + 1_000), Admission::Allowed { used: 1 });
        assert_eq!(l.peaks().get("okx"), Some(&2));
    }

    #[test]
    fn credit_pools_refill_continuously() {
        let mut l = WeightLimiter::default();
        let c = Credits { pool: 2_000, refill_per_sec: 1_000 };
        let t = 1_700_000_000_000;
        for i in 1..=4 {
            assert_eq!(l.admit_credits("d", 500, c, t), Admission::Allowed { used: 500 * i });
        }
        assert_eq!(l.admit_credits("d", 500, c, t), Admission::Limited { used: 2_000, retry_after_secs: 1 });
        // 250 ms later 250 credits are back: not enough for 500.
        assert_eq!(
            l.admit_credits("d", 500, c, t + 250),
            Admission::Limited { used: 1_750, retry_after_secs: 1 }
        );
        assert_eq!(l.admit_credits("d", 500, c, t + 500), Admission::Allowed { used: 2_000 });
        assert_eq!(l.admit_credits("d", 500, c, t + 10_000), Admission::Allowed { used: 500 });
        assert_eq!(l.peaks().get("d"), Some(&2_000));
    }

    #[test]
    fn new_window_resets_the_count() {
        let mut l = WeightLimiter::default();
        let t = 1_699_999_980_000; // a window start
        assert_eq!(l.admit("k", 10, BUDGET, t), Admission::Allowed { used: 10 });
        assert!(matches!(
            l.admit("k", 1, BUDGET, t + 59_999),
            Admission::Limited { retry_after_secs: 1, .. }
        ));
        assert_eq!(l.admit("k", 1, BUDGET, t + 60_000), Admission::Allowed { used: 1 });
    }
}
