//! One upstream GET, done right for every venue: wait for the rate budget, send, feed
//! the venue's usage signals back to the limiter, classify the answer, retry what is
//! worth retrying, and parse the body.

use std::time::Duration;

use serde::de::DeserializeOwned;

use super::http::{HttpClient, Reply};
use super::limiter::{SharedBudget, WeightLimiter};
use super::retry::{self, RetryPolicy, Verdict};
use crate::error::Error;
use crate::stats::UpstreamCounters;

/// What a venue module knows about its answers.
pub(crate) trait Dialect: Sync {
    /// Name used in errors and logs, e.g. `binance-spot`.
    fn name(&self) -> &str;

    /// Success, retry (with the venue's requested wait), or a final typed error. A
    /// `Retry` carrying [`Error::RateLimited`] pauses the limiter for its wait.
    fn classify(&self, reply: &Reply) -> Verdict<()>;
}

/// The shared machinery of one venue: HTTP pool, retry policy, counters.
#[derive(Debug, Clone)]
pub(crate) struct Requester {
    pub http: HttpClient,
    pub retry: RetryPolicy,
    pub counters: std::sync::Arc<UpstreamCounters>,
    /// The budget shared with other processes (Redis), if configured.
    pub budget: Option<std::sync::Arc<dyn SharedBudget>>,
    /// Share of each budget one process spends while the shared budget is unreachable.
    pub offline_share: f64,
}

impl Requester {
    /// GETs `url` at `weight` against `limiter` and parses a successful body as `T`.
    pub(crate) async fn get_json<T: DeserializeOwned>(
        &self,
        dialect: &dyn Dialect,
        limiter: &WeightLimiter,
        weight: u32,
        url: &str,
    ) -> Result<T, Error> {
        let counters = &*self.counters;
        // No wait of this request (budget, pause, backoff) runs past `max_wait`.
        let deadline = crate::rt::Instant::now() + self.retry.max_wait;
        retry::run(&self.retry, counters, deadline, || async {
            let budget = self.budget.as_deref();
            if let Err(e) = limiter.acquire(weight, counters, budget, self.offline_share, deadline).await {
                return Verdict::Fail(e);
            }
            let venue = dialect.name();
            counters.request(venue, weight);
            tracing::debug!(exchange = venue, url, weight, "upstream request");
            let sent = crate::rt::Instant::now();
            let reply = match self.http.get(url).await {
                Ok(reply) => {
                    counters.answered(venue, &reply.status.to_string(), sent.elapsed());
                    reply
                }
                Err(message) => {
                    counters.answered(venue, "network_error", sent.elapsed());
                    counters.error();
                    let error = Error::Network { exchange: dialect.name().into(), message };
                    return Verdict::Retry { after: None, error };
                }
            };
            counters.received(reply.body.len());
            if let Some(used) = limiter.used_in(&reply) {
                limiter.observe_used(used, budget).await;
            }
            match dialect.classify(&reply) {
                Verdict::Done(()) => match serde_json::from_slice::<T>(&reply.body) {
                    Ok(v) => Verdict::Done(v),
                    Err(e) => {
                        counters.error();
                        let message = e.to_string();
                        Verdict::Retry {
                            after: None,
                            error: Error::MalformedResponse { exchange: dialect.name().into(), message },
                        }
                    }
                },
                Verdict::Retry { after, error } => {
                    counters.error();
                    if let Error::RateLimited { retry_after, .. } = &error {
                        counters.rate_limited(venue);
                        let wait = retry_after.or(after).unwrap_or(Duration::from_secs(1));
                        limiter.pause_for(wait, budget).await;
                    }
                    Verdict::Retry { after, error }
                }
                Verdict::Fail(e) => {
                    counters.error();
                    Verdict::Fail(e)
                }
            }
        })
        .await
    }
}

/// The Retry-After header in whole seconds, if present.
pub(crate) fn retry_after(reply: &Reply) -> Option<Duration> {
    retry_after_header(reply.header("retry-after"))
}

/// A `Retry-After` header's value in seconds, as a duration.
pub(crate) fn retry_after_header(value: Option<&str>) -> Option<Duration> {
    value.and_then(|v| v.trim().parse::<u64>().ok()).map(Duration::from_secs)
}

/// The first bytes of a body as text, for error messages.
pub(crate) fn snippet(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned()
}
