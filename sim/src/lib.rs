//! `cryptocache-sim`: a deterministic exchange simulator over real HTTP.
//!
//! A [`Sim`] is an HTTP server on `127.0.0.1` that speaks the exchanges'
//! historical market-data endpoints in their real wire formats, all on one
//! port (their paths do not collide):
//!
//! | exchange | paths |
//! |---|---|
//! | Binance spot | `/api/v3/{klines,uiKlines,exchangeInfo,time,aggTrades,historicalTrades,trades,depth}` |
//! | Binance USDⓈ-M | `/fapi/v1/{klines,exchangeInfo,time,aggTrades,historicalTrades,trades,depth,fundingRate}` |
//! | Bybit v5 | `/v5/market/{kline,instruments-info,recent-trade,funding/history,orderbook}` |
//! | OKX v5 | `/api/v5/market/{candles,history-candles,trades,history-trades,books}`, `/api/v5/public/{instruments,funding-rate-history}` |
//! | Deribit v2 | `/api/v2/public/{get_tradingview_chart_data,get_instruments,get_last_trades_by_instrument_and_time,get_funding_rate_history,get_order_book}` |
//!
//! with:
//!
//! - deterministic synthetic candles computable in O(1) for any time
//!   ([`data`]), listing dates, expiries, Binance's maintenance gap and 2018
//!   off-grid opens, OKX/Deribit filler bars in rare quiet windows, and the
//!   still-open candle at the simulated "now"; trades with increasing ids,
//!   funding histories (8 h, 4 h and 1 h, one OKX swap cut from 8 h to 4 h)
//!   and order books around the price at "now", all computable without
//!   walking history;
//! - real page caps and defaults, row orders and bound rules per exchange;
//! - real throttling: Binance weights, `X-MBX-USED-WEIGHT-1M` and the
//!   429 → 418 escalation; Bybit's 600 per 5 s → HTTP 403 `access too
//!   frequent`; OKX's per-endpoint limits → 429 / `50011`; Deribit's credit
//!   pool → 10028 (all configurable in [`SimConfig`]);
//! - fault knobs ([`Fault`], delays) and request counters ([`SimStats`]),
//!   driven from Rust or over HTTP under `/_sim/`, for every exchange alike.
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
//! An injected status fault gets the exchange's own throttle reply when it
//! is that exchange's throttle status (Binance 429/418, Bybit 403, OKX 429,
//! Deribit 429), otherwise an HTML error page.
//!
//! ## Choices where the exchanges' documentation is silent
//!
//! - Bybit: `limit` above 1000 is served as 1000 (below 1: 10001); `start`
//!   after `end` gives an empty list; the IP limit has no extended ban (403
//!   until the window ends); `X-Bapi-Limit*` headers are off by default
//!   ([`BybitLimits::limit_headers`]).
//! - OKX: `limit` above the cap is served as the cap (300 `candles`, 100
//!   `history-candles`); `2D`/`3D` count days since 1970-01-01 on their
//!   clock; `1s` history reaches back 90 days; expired futures stay in
//!   `public/instruments` (state `suspend`) and keep their history.
//! - Deribit: a range of more than 5,000 bars gets its first (oldest) 5,000;
//!   an instrument belongs to its base and settlement currencies in
//!   `get_instruments`; `usIn` is the simulated now in µs; `count` above
//!   1000 is served as 1000; `sorting=default` is newest first; funding of
//!   non-perpetuals is an empty list.
//! - Trades, all venues: trading starts at the first whole hour after
//!   listing; none in quiet windows, Binance's maintenance-gap hours, or
//!   after expiry; trades are their own stream around the price path (they
//!   do not add up to the candles' volumes). Binance `endTime`-only
//!   `aggTrades`/`fundingRate` give the newest `limit` up to it; UM
//!   `historicalTrades` needs any `X-MBX-APIKEY` header (401 / -2014
//!   without); UM `fundingRate` has its own 500-per-5-minutes bucket.
//! - Bybit funding: `startTime` without `endTime` is 10001; rows newest
//!   first; OKX funding, history trades: the last 90 days, `limit` at most 100.
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
mod bybit;
mod clock;
mod config;
mod control;
pub mod data;
mod deribit;
mod faults;
mod history;
mod limits;
mod okx;
mod params;
pub mod redis_server;
mod server;
mod stats;
mod venue;

pub use config::{BybitLimits, DeribitLimits, OkxLimits};
pub use data::{binance_intervals, binance_klines, binance_symbols, BinanceMarket, SimKline, SimSymbol};
pub use faults::Fault;
pub use history::{
    binance_agg_trades, binance_book, binance_funding, binance_trades, venue_book, venue_funding,
    venue_trades, SimAggTrade, SimBook, SimFunding, SimTrade,
};
pub use server::{Sim, SimConfig};
pub use stats::SimStats;
pub use venue::{
    venue_instruments, venue_intervals, venue_klines, venue_quiet_windows, SimCandle, SimInstrument, Venue,
};
