//! Retry with exponential backoff and jitter, honouring the exchange's Retry-After.

use std::future::Future;
use std::time::Duration;

use crate::error::Error;
use crate::stats::UpstreamCounters;

/// How hard to retry a failed upstream request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff; doubles with each retry.
    pub base_delay: Duration,
    /// Largest backoff.
    pub max_delay: Duration,
    /// Longest time one upstream request may spend waiting, for any reason (rate budget,
    /// a pause after a 429/418/403 ban, backoff between retries, another process's fetch):
    /// a wait that would end later fails at once with [`Error::RateLimited`] saying how
    /// long is left.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 5,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
            max_wait: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Backoff before retry number `attempt` (0-based): exponential, capped, with
    /// "equal jitter" (uniform in [half, full]) so clients spread out.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.base_delay.saturating_mul(1u32 << attempt.min(20)).min(self.max_delay);
        let half = exp / 2;
        half + Duration::from_micros(fastrand::u64(0..=half.as_micros() as u64))
    }
}

/// The outcome of one attempt.
pub(crate) enum Verdict<T> {
    /// Success.
    Done(T),
    /// Worth retrying after at least `after` (the exchange's Retry-After, when it said).
    Retry { after: Option<Duration>, error: Error },
    /// Final failure.
    Fail(Error),
}

/// Runs `attempt` until it succeeds, fails for good, or the policy gives up; a backoff
/// that would end after `deadline` gives up at once.
pub(crate) async fn run<T, F, Fut>(
    policy: &RetryPolicy,
    counters: &UpstreamCounters,
    deadline: crate::rt::Instant,
    mut attempt: F,
) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Verdict<T>>,
{
    let mut tries = 0u32;
    loop {
        match attempt().await {
            Verdict::Done(v) => return Ok(v),
            Verdict::Fail(e) => return Err(e),
            Verdict::Retry { after, error } => {
                let delay = after.unwrap_or_default().max(policy.backoff(tries));
                if tries >= policy.max_retries || crate::rt::Instant::now() + delay > deadline {
                    return Err(error);
                }
                tracing::debug!(retry = tries + 1, delay_ms = delay.as_millis() as u64, %error, "retrying upstream request");
                counters.retry();
                crate::rt::sleep(delay).await;
                tries += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        let p = RetryPolicy::default();
        for attempt in 0..30 {
            let d = p.backoff(attempt);
            let full = p.base_delay.saturating_mul(1 << attempt.min(20)).min(p.max_delay);
            assert!(d >= full / 2 && d <= full, "{attempt}: {d:?}");
        }
    }
}
