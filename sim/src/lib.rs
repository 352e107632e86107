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
//! | Deribit v2 | `/api/v2/public/{get_tradingview_chart_data,get_instruments,get_last_trades_by_instrument_and_time,get_last_trades_by_instrument,get_funding_rate_history,get_order_book}` |
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
//!   driven from Rust or over HTTP under `/_sim/`, for every exchange alike;
//! - documented exchange quirks on dedicated symbols ([`quirks`]): listing
//!   dates published 30 days after the first candle (Binance USDⓈ-M
//!   `DOGEUSDT`, OKX `SOL-USDT-SWAP`, Bybit linear `SOLUSDT`, Deribit
//!   `SOL_USDC-PERPETUAL`), a relisted Binance USDⓈ-M `FTTUSDT`, retention
//!   windows measured from the simulated now, and 2,500 Deribit trades in
//!   one millisecond (`XRP_USDC-PERPETUAL`). `sim/README.md` lists every
//!   quirk with its source.
//!
//! ## Control endpoints (never counted as exchange requests)
//!
//! | method, path | body | effect |
//! |---|---|---|
//! | `GET /_sim/stats` | | [`SimStats`] as JSON |
//! | `POST /_sim/reset` | | clears counters, faults, delay, weight windows, bans (not the clock) |
//! | `POST /_sim/faults` | JSON array of [`Fault`] | queues them (FIFO) |
//! | `POST /_sim/delay` | `{"ms": N, "bytes_per_sec": B}` | latency added to every exchange request; optional bandwidth each response body is sent at |
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
//!   clock; expired futures stay in `public/instruments` (state `suspend`)
//!   and keep their history.
//! - Deribit: a range of more than 5,000 bars gets its first (oldest) 5,000;
//!   an instrument belongs to its base and settlement currencies in
//!   `get_instruments`, and a call without `currency` lists every currency
//!   (as production does, though the docs mark it required); `usIn` is the
//!   simulated now in µs; `count` above 1000 is served as 1000;
//!   `sorting=default` is newest first (both trade methods);
//!   `get_last_trades_by_instrument` filters on `start_seq`..`end_seq` and
//!   `start_timestamp`..`end_timestamp`, all inclusive and optional, and
//!   ignores `include_old`; `trade_seq` counts an instrument's trades from
//!   0 and `trade_id` is its decimal text; funding of non-perpetuals is an
//!   empty list.
//! - Published listings: `onboardDate`, `listTime`, `launchTime` and
//!   `creation_timestamp` are the true listing, except on the late-listed
//!   perpetuals of [`quirks`] (30 days later: data starts 30 days before
//!   the published date). Bybit `PreLaunch`, OKX `preopen` and Deribit's
//!   list follow the true listing. A relisted Binance symbol shows `CLOSE`
//!   and its first `onboardDate` while delisted, then `TRADING` and the
//!   relisting; a candle reaching into the delisting holds only its traded
//!   part.
//! - Retention, back from the simulated now: Binance UM `aggTrades` 365
//!   days (a range wholly older is `[]`, a range across the edge gets the
//!   held part, an older `fromId` or lone `startTime` starts at the oldest
//!   held), UM `historicalTrades` 90 days; OKX `history-trades`,
//!   `funding-rate-history` and `1s` `history-candles` 90 days. Other
//!   histories reach back to the listing (Bybit `recent-trade` serves only
//!   the newest 1000, spot 60, as documented).
//! - Trades, all venues: trading starts at the first whole hour after
//!   listing; none in quiet windows, Binance's maintenance-gap hours, a
//!   delisting, or after expiry; at most 3 trades (one aggregate) share a
//!   millisecond, except the 2,500 of the Deribit burst
//!   ([`quirks::DERIBIT_BURST_MS`]); trades are their own stream around the
//!   price path (they do not add up to the candles' volumes). Binance
//!   `endTime`-only `aggTrades`/`fundingRate` give the newest `limit` up
//!   to it; UM `historicalTrades` needs any `X-MBX-APIKEY` header (401 /
//!   -2014 without); UM `fundingRate` has its own 500-per-5-minutes bucket.
//! - Bybit funding: `startTime` without `endTime` is 10001; rows newest
//!   first; OKX funding, history trades: `limit` at most 100.
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
mod files;
mod history;
mod limits;
mod okx;
mod params;
pub mod quirks;
pub mod redis_server;
mod server;
mod stats;
mod venue;
mod zip;

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
