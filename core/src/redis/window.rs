//! A fixed-window event counter shared by every process on one Redis: e.g. a relay's
//! per-key quota, counted together by every relay of a team.

use super::conn::Shared;
use crate::error::Result;

/// Counts one event of `scope` in the fixed window (of `window_ms`) holding `now`, for
/// every process on this Redis together. Returns the events counted in the window so far
/// (this one included) and the milliseconds until the window ends.
pub(crate) async fn count(shared: &Shared, scope: &str, window_ms: i64, now: i64) -> Result<(u64, i64)> {
    let window_ms = window_ms.max(1);
    let index = now.div_euclid(window_ms);
    let key = format!("{}:window:{{{scope}}}:{index}", shared.prefix());
    let mut pipe = redis::pipe();
    pipe.atomic().incr(&key, 1u64).pexpire(&key, window_ms * 2).ignore();
    let (count,): (u64,) = shared.pipeline(&pipe).await?;
    Ok((count, (index + 1) * window_ms - now))
}
