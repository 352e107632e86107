//! Where the simulator reproduces the exchanges' documented oddities on
//! purpose: the symbols, instants and retention windows, so tests in other
//! crates can find them without hard-coding numbers. Sources for each are
//! in `sim/README.md`.
//!
//! All times are ms since the epoch, UTC.

use crate::data::calendar::DAY_MS;

// ---------------------------------------------------------------------------
// Published listing dates later than the first candle

/// How much later than its true first candle a late-listed perpetual
/// publishes its listing: 30 days.
pub const LATE_LISTING_LAG_MS: i64 = 30 * DAY_MS;
/// The true listing of every late-listed perpetual, 2024-03-15 00:00 UTC:
/// its first candle opens here, trading (and so trades) starts here, and
/// funding is paid from the first funding time after it.
pub const LATE_LISTING_TRUE_MS: i64 = 1_710_460_800_000;
/// What the late-listed perpetuals publish as their listing, 2024-04-14
/// 00:00 UTC: [`LATE_LISTING_TRUE_MS`] + [`LATE_LISTING_LAG_MS`]. Binance
/// `onboardDate`, OKX `listTime`, Bybit `launchTime`, Deribit
/// `creation_timestamp`.
pub const LATE_LISTING_PUBLISHED_MS: i64 = LATE_LISTING_TRUE_MS + LATE_LISTING_LAG_MS;
/// The late-listed Binance USDⓈ-M perpetual (`/fapi/v1/*`).
pub const BINANCE_UM_LATE_LISTED: &str = "DOGEUSDT";
/// The late-listed OKX swap (`instType=SWAP`).
pub const OKX_SWAP_LATE_LISTED: &str = "SOL-USDT-SWAP";
/// The late-listed Bybit USDT perpetual (`category=linear`).
pub const BYBIT_LINEAR_LATE_LISTED: &str = "SOLUSDT";
/// The late-listed Deribit perpetual (linear, USDC-settled).
pub const DERIBIT_LATE_LISTED: &str = "SOL_USDC-PERPETUAL";

// ---------------------------------------------------------------------------
// A relisted symbol

/// The Binance USDⓈ-M perpetual that was listed, delisted and relisted.
pub const BINANCE_UM_RELISTED: &str = "FTTUSDT";
/// Its first listing (and first candle), 2023-06-01 00:00 UTC.
pub const RELISTED_FIRST_LISTING_MS: i64 = 1_685_577_600_000;
/// Its delisting, 2023-11-01 00:00 UTC: nothing trades in
/// `[RELISTED_DELISTED_MS, RELISTED_RELISTED_MS)` (no candles, trades or
/// funding).
pub const RELISTED_DELISTED_MS: i64 = 1_698_796_800_000;
/// Its relisting, 2023-12-31 00:00 UTC, 60 days after the delisting:
/// trading resumes here, and this is the `onboardDate` it publishes.
pub const RELISTED_RELISTED_MS: i64 = 1_703_980_800_000;

// ---------------------------------------------------------------------------
// Bursts of trades in one millisecond

/// The Deribit perpetual with a burst of trades in one millisecond.
pub const DERIBIT_BURST_INSTRUMENT: &str = "XRP_USDC-PERPETUAL";
/// The millisecond the burst shares, 2024-01-25 13:21:18.750 UTC (in the
/// hour 13:00-14:00, which trades normally otherwise).
pub const DERIBIT_BURST_MS: i64 = 1_706_188_878_750;
/// How many trades the burst holds (distinct, ascending `trade_seq` and
/// `trade_id`, one taker sell sweeping the bids).
pub const DERIBIT_BURST_TRADES: i64 = 2_500;

/// The `trade_seq` values of the burst, `first..first + DERIBIT_BURST_TRADES`
/// (the simulator's `trade_seq` counts an instrument's trades from 0).
///
/// ```
/// use cryptocache_sim::quirks::{deribit_burst_seqs, DERIBIT_BURST_INSTRUMENT, DERIBIT_BURST_MS};
/// use cryptocache_sim::{venue_trades, Venue};
/// let seqs = deribit_burst_seqs();
/// let at = venue_trades(Venue::Deribit, DERIBIT_BURST_INSTRUMENT, DERIBIT_BURST_MS,
///     DERIBIT_BURST_MS + 1, DERIBIT_BURST_MS + 1).unwrap();
/// assert!(at.iter().filter(|t| seqs.contains(&t.id)).count() == 2_500);
/// ```
pub fn deribit_burst_seqs() -> std::ops::Range<i64> {
    let first = crate::deribit::market::burst_first_seq();
    first..first + DERIBIT_BURST_TRADES
}

// ---------------------------------------------------------------------------
// Retention windows, measured back from the simulated now

/// Binance USDⓈ-M `aggTrades` keeps the last year (365 days): a range
/// wholly older answers `[]`; a range reaching past the edge gets the part
/// still held; `fromId` of an older aggregate starts at the oldest held.
pub const BINANCE_UM_AGG_TRADES_KEPT_MS: i64 = 365 * DAY_MS;
/// Binance USDⓈ-M `historicalTrades` keeps the last three months (90
/// days); `fromId` of an older trade starts at the oldest held.
pub const BINANCE_UM_HISTORICAL_TRADES_KEPT_MS: i64 = 90 * DAY_MS;
/// OKX `market/history-trades` keeps the last three months (90 days).
pub const OKX_HISTORY_TRADES_KEPT_MS: i64 = 90 * DAY_MS;
/// OKX `public/funding-rate-history` keeps the last three months (90 days).
pub const OKX_FUNDING_HISTORY_KEPT_MS: i64 = 90 * DAY_MS;
/// OKX `market/history-candles` keeps `1s` bars for three months (90 days).
pub const OKX_ONE_SECOND_KEPT_MS: i64 = 90 * DAY_MS;

// ---------------------------------------------------------------------------
// Binance's bulk archive (data.binance.vision)

/// A day whose daily archive files are missing (404 for every symbol and interval)
/// although REST serves its candles: 2024-02-14 00:00 UTC. Monthly files still hold it.
pub const BINANCE_ARCHIVE_MISSING_DAY_MS: i64 = 1_707_868_800_000;
/// A day whose daily archive files come with a `.CHECKSUM` that does not match the
/// zip (for every symbol and interval): 2024-03-20 00:00 UTC. The zip itself is right.
pub const BINANCE_ARCHIVE_BAD_CHECKSUM_DAY_MS: i64 = 1_710_892_800_000;
/// Monthly kline files that disagree with REST (binance-public-data #86, #140, #161: rows
/// missing from monthly files; #475: monthly values differ from daily files and REST).
/// In the monthly files of November 2023 (every symbol; intervals whose grid has it), the candle
/// opening at this time (2023-11-15 12:00 UTC) is missing, and the next one has another
/// base volume (a digit appended). Daily files and REST are right.
pub const BINANCE_ARCHIVE_MONTHLY_DRIFT_MS: i64 = 1_700_049_600_000;
/// A day whose Bybit trade archive files are missing (404 for every symbol, spot and
/// derivatives): 2024-04-10 00:00 UTC. Missing days are a known trap of bulk archives
/// (binance-public-data #307, #336; modelled for Bybit, whose REST serves no history).
pub const BYBIT_ARCHIVE_MISSING_DAY_MS: i64 = 1_712_707_200_000;
/// A UTC+8 day missing from OKX's historical data (neither listed by the index nor on
/// the CDN, for every instrument): 2024-02-20 on the UTC+8 clock, which starts at
/// 2024-02-19 16:00 UTC (modelled, like the archives' other missing days).
pub const OKX_ARCHIVE_MISSING_DAY_MS: i64 = 1_708_358_400_000;

/// OKX's older 1-minute candle files say `confirm` 0 on every row, closed or not (seen in
/// the files of 2023-10 and of 2024-05-20 by public downloaders †): files of UTC+8 days
/// from this one on (2024-06-01) say 1.
pub const OKX_CANDLE_ARCHIVE_CONFIRMED_FROM_MS: i64 = 1_717_171_200_000;

/// A bar OKX's 1-minute candle file repeats, the same values twice (ETH and SOL files of
/// 2023-10-12 repeat the bar of 11:00 UTC, a public downloader's notes †; modelled for
/// every instrument).
pub const OKX_CANDLE_ARCHIVE_REPEATED_ROW_MS: i64 = 1_697_108_400_000;
