//! Redis: the tier shared by every process and machine of a team, plus the two things
//! only a shared store can do — a cross-process stampede lock per missing segment and a
//! request budget shared by every process on one egress IP.
//!
//! One [`Shared`] connection (a reconnecting connection manager, a cluster connection,
//! or one that follows the primary Redis Sentinel names) serves all three, behind a circuit breaker: when Redis is down or slow,
//! calls fail fast and the cache carries on with its other tiers and the exchange.

mod breaker;
mod budget;
mod conn;
mod invalidation;
mod lock;
mod sentinel;
mod tier;
pub(crate) mod window;

pub use budget::RedisBudget;
pub use conn::{redact, RedisConfig, Shared};
pub use invalidation::{channel, listen, publish, Cleared, Invalidated};
pub use lock::{LockToken, SegmentLock, Waited};
pub use tier::{RedisLifetimes, RedisTier};
