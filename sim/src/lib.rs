//! `cryptocache-sim`: a deterministic exchange simulator over real HTTP.
//!
//! A [`Sim`] is an HTTP server on `127.0.0.1` that speaks the exchanges'
//! historical market-data endpoints in their real wire formats (today:
//! Binance spot `/api/v3/*` and USDⓈ-M futures `/fapi/v1/*`; Bybit, OKX and
//! Deribit slot in as sibling modules), with:
//!
//! - deterministic synthetic candles computable in O(1) for any time
//!   ([`data`]), listing dates, a real maintenance gap and the 2018 off-grid
//!   opens, and the still-open candle at the simulated "now";
//! - real page caps, request weights, `X-MBX-USED-WEIGHT-1M` headers and the
//!   429 → 418 escalation;
//! - fault knobs ([`Fault`], delays) and request counters ([`SimStats`]),
//!   driven from Rust or over HTTP under `/_sim/`.
//!
//! ## Control endpoints (never counted as exchange requests)
//!
//! | method, path | body | effect |
//! |---|---|---|
//! | `GET /_sim/stats` | | [`SimStats`] as JSON |
//! | `POST /_sim/reset` | | clears counters, faults, delay, weight windows, bans (not the clock) |
//! | `POST /_sim/faults` | JSON array of [`Fault`] | queues them (FIFO) |
//! | `POST /_sim/delay` | `{"ms": N}` | latency added to every exchange request |
//! | `POST /_sim/clock` | `{"now_ms": N}` or `{"now_ms": null}` | fixes the simulated clock / back to real time |
//! | `GET /_sim/clock` | | `{"now_ms": N, "fixed": bool}` |
//!
//! Any other path outside `/_sim/` is counted as an exchange request and
//! answered 404 (it never consumes a fault).
//!
//! It is written from the exchange specification, independently of the
//! `cryptocache` core crate, so a misreading of a format in the core's
//! adapters cannot hide behind green tests.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! use cryptocache_sim::{binance_klines, BinanceMarket, Sim, SimConfig};
//! let now = 1_706_641_200_000;
//! let sim = Sim::start(SimConfig { now_ms: Some(now), ..SimConfig::default() }).await?;
//! // Point a client at `sim.url()` + "/api/v3/klines?symbol=BTCUSDT&interval=1h"...
//! let day = binance_klines(BinanceMarket::Spot, "BTCUSDT", "1h", now - 86_400_000, now + 1, now);
//! assert_eq!(day.map(|rows| rows.len()), Ok(25)); // the last one still open
//! # drop(sim);
//! # Ok(())
//! # }
//! ```

mod binance;
mod clock;
mod control;
pub mod data;
mod faults;
mod limits;
mod server;
mod stats;

pub use data::{binance_intervals, binance_klines, binance_symbols, BinanceMarket, SimKline, SimSymbol};
pub use faults::Fault;
pub use server::{Sim, SimConfig};
pub use stats::SimStats;
