//! A circuit breaker: after a few consecutive failures, stop paying Redis timeouts on
//! every call; let one probe through after a cool-down, doubling it while Redis stays down.
//! While it is open, one background prober (see `Shared`) also checks Redis, so it comes
//! back into use as soon as it answers, whether or not queries are arriving.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Consecutive failures that open the breaker.
const THRESHOLD: u32 = 3;
const FIRST_COOLDOWN: Duration = Duration::from_millis(250);
const MAX_COOLDOWN: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
struct State {
    failures: u32,
    open_until: Option<Instant>,
    cooldown: Duration,
    /// Whether a background prober is running.
    probing: bool,
}

/// Shared breaker state.
#[derive(Debug, Default)]
pub(crate) struct Breaker {
    state: Mutex<State>,
}

impl Breaker {
    /// Whether a call may go to Redis now. While open, `false` until the cool-down ends;
    /// then one probe is let through (and the breaker re-arms for the next cool-down).
    pub(crate) fn allow(&self) -> bool {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match s.open_until {
            Some(until) if Instant::now() < until => false,
            Some(_) => {
                // Half-open: this caller probes; others wait for the next cool-down.
                let cooldown = s.cooldown;
                s.open_until = Some(Instant::now() + cooldown);
                true
            }
            None => true,
        }
    }

    /// A call succeeded: close the breaker.
    pub(crate) fn success(&self) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        *s = State::default();
    }

    /// A call failed: count it, open (or keep open, longer) at the threshold. Returns
    /// whether the caller should start the background prober (the breaker is open and no
    /// prober is running; the caller is then the one that starts it).
    pub(crate) fn failure(&self) -> bool {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.failures += 1;
        if s.failures >= THRESHOLD {
            s.cooldown =
                if s.open_until.is_some() { (s.cooldown * 2).min(MAX_COOLDOWN) } else { FIRST_COOLDOWN };
            s.open_until = Some(Instant::now() + s.cooldown);
            if !s.probing {
                s.probing = true;
                return true;
            }
        }
        false
    }

    /// The background prober gave up without closing the breaker (its owner is gone or it
    /// has no runtime): a later failure may start another.
    pub(crate) fn probe_ended(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).probing = false;
    }

    /// Whether the breaker is open (calls are being skipped).
    pub(crate) fn is_open(&self) -> bool {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).open_until.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_failures_and_probes_after_cooldown() {
        let b = Breaker::default();
        for _ in 0..THRESHOLD - 1 {
            assert!(!b.failure(), "no prober before the breaker opens");
            assert!(b.allow());
        }
        assert!(b.failure(), "opening starts the prober");
        assert!(b.is_open());
        assert!(!b.failure(), "one prober at a time (the cool-down doubles)");
        assert!(!b.allow(), "open: calls are skipped");
        std::thread::sleep(FIRST_COOLDOWN * 2 + Duration::from_millis(20));
        assert!(b.allow(), "one probe after the cool-down");
        assert!(!b.allow(), "only one");
        b.success();
        assert!(!b.is_open());
        assert!(b.allow());
    }
}
