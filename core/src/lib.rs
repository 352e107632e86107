//! # cryptocache
//!
//! A tiered cache for historical crypto market data. Each closed candle is fetched from
//! the exchange once, stored in time-aligned segments, and served from memory, local disk
//! (or, later, Redis) on every later request, from any process.
//!
//! ```no_run
//! # async fn demo() -> cryptocache::Result<()> {
//! use cryptocache::{Cache, Exchange, KlineQuery, Market};
//! let cache = Cache::builder().build().await?; // memory + ~/.cache/cryptocache
//! let q = KlineQuery::new(Exchange::Binance, "BTCUSDT", "1m".parse()?, 1_704_067_200_000, 1_704_153_600_000)
//!     .market(Market::Linear);
//! let candles = cache.klines(&q).await?;
//! assert!(candles.open_time().windows(2).all(|w| w[0] < w[1]));
//! # Ok(()) }
//! ```
//!
//! The read path is described in `docs/architecture.md`.

#![warn(clippy::unwrap_used)]

pub mod archive;
pub mod arrow_ipc;
pub mod book;
mod cache;
pub mod candles;
pub mod clock;
pub mod codec;
pub mod columns;
pub mod coverage;
mod engine;
pub mod error;
#[cfg(feature = "http")]
pub mod exchange;
pub mod funding;
pub mod invalidate;
pub mod memo;
pub mod model;
pub mod options;
pub mod policy;
#[cfg(feature = "redis")]
pub mod redis;
#[cfg(feature = "http")]
pub mod relay;
pub mod rt;
pub mod segment;
pub mod singleflight;
pub mod source;
pub mod stats;
pub mod table;
pub mod tier;
pub mod time;
pub mod trades;
pub mod warm;

pub use archive::ArchiveMode;
pub use book::{Level, OrderBook, OrderBookQuery};
pub use cache::{default_disk_dir, Cache, CacheBuilder, DEFAULT_MEMORY_MB};
pub use candles::{gaps_between, Candle, CandleColumns, Candles};
pub use clock::{Clock, ManualClock, SystemClock};
pub use coverage::{Coverage, CoverageQuery, SegmentCoverage, SegmentStatus};
pub use error::{Error, Result};
pub use funding::{FundingColumns, FundingRate, FundingRates};
pub use model::{
    DataKind, Exchange, Interval, IntervalUnit, KlineQuery, Market, RangeQuery, SeriesKey, TimeRange,
};
pub use options::CacheOptions;
pub use policy::Policy;
pub use stats::{Stats, TierStats, UpstreamStats};
pub use table::{Rows, Table};
pub use trades::{Side, Trade, TradeColumns, Trades};
pub use warm::{Dataset, WarmItem, WarmProgress, WarmReport};

/// The README's Rust examples, compiled by `cargo test --doc` so they cannot rot.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
