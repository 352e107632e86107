//! The simulated clock ("now" for candle data) and the real wall clock
//! (for rate-limit windows and bans).

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Real wall-clock time, ms since the epoch.
pub(crate) fn real_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Simulated "now": fixed at a value, or following the real clock.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    fixed: Mutex<Option<i64>>,
}

impl Clock {
    /// A clock fixed at `now_ms`, or real time for `None`.
    pub(crate) fn new(now_ms: Option<i64>) -> Clock {
        Clock { fixed: Mutex::new(now_ms) }
    }

    /// Fixes the clock at `now_ms`, or returns it to real time for `None`.
    pub(crate) fn set(&self, now_ms: Option<i64>) {
        *self.fixed.lock().unwrap_or_else(|e| e.into_inner()) = now_ms;
    }

    /// The fixed time, if any.
    pub(crate) fn fixed(&self) -> Option<i64> {
        *self.fixed.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Simulated now, ms since the epoch.
    pub(crate) fn now_ms(&self) -> i64 {
        self.fixed().unwrap_or_else(real_now_ms)
    }
}
