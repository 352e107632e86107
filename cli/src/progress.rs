//! Progress bars that show the upstream traffic (API requests and their weight, archive
//! files and bytes) as it happens.

use std::future::Future;

use cryptocache::Cache;
use indicatif::ProgressBar;

/// Runs `work`, setting the bar's message to `cache`'s upstream traffic four times a
/// second (a big archive file arrives over many seconds within one step).
pub async fn following_traffic<F: Future>(cache: &Cache, bar: &ProgressBar, work: F) -> F::Output {
    tokio::pin!(work);
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(250));
    loop {
        tokio::select! {
            done = &mut work => break done,
            _ = tick.tick() => bar.set_message(cache.stats().upstream.summary()),
        }
    }
}
