//! Instruments of the Bybit, OKX and Deribit catalogs, how their traded
//! quantity is counted (base coin, linear or inverse contracts), and the
//! wire text of one bar in the trimmed-decimal style those venues share.

use super::bars::Bars;
use super::book::{book, Book};
use super::calendar::{Grid, DAY_MS};
use super::decimal::{fmt_trim, parse_f64};
use super::funding::FundingSchedule;
use super::hash::str_seed;
use super::series::{seed_of, Quiet, RawCandle, SeriesSpec};
use super::trades::TradeStream;
use crate::venue::SimCandle;

/// Hour, ms.
const HOUR_MS: i64 = 3_600_000;
/// Length of the blocks that each hold one quiet window.
const QUIET_PERIOD_MS: i64 = 10 * DAY_MS;
/// Length of a quiet window.
const QUIET_LEN_MS: i64 = 2 * HOUR_MS;
/// Tag of the quiet-window seed.
const QUIET_TAG: u64 = 0x51_55_49_45_54;

/// How the traded quantity of an instrument is counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sizing {
    /// In base units of `10^-qty_scale` (spot, and linear contracts quoted
    /// in base coin such as Bybit's `BTCUSDT`).
    Base,
    /// Linear contracts (`10^-qty_scale` contract per unit), each worth
    /// `ct_val × 10^-ct_scale` base coin.
    Linear {
        /// Contract value, units of `10^-ct_scale` base.
        ct_val: i64,
        /// Decimals of `ct_val`.
        ct_scale: u32,
    },
    /// Inverse contracts (`10^-qty_scale` contract per unit), each worth
    /// `ct_val` quote coin (USD); the base amount is quote / price.
    Inverse {
        /// Contract value, whole quote units.
        ct_val: i64,
    },
}

/// Static facts of one instrument on a Bybit, OKX or Deribit market.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Instrument {
    /// Exchange name, e.g. `BTCUSDT`, `BTC-USDT-SWAP`, `BTC-PERPETUAL`.
    pub name: &'static str,
    /// Base coin.
    pub base: &'static str,
    /// Quote coin.
    pub quote: &'static str,
    /// Settlement coin (the quote coin for spot).
    pub settle: &'static str,
    /// Listing time, ms: nothing trades before it.
    pub listed_ms: i64,
    /// Expiry of a dated future, ms: nothing trades from it on.
    pub expiry_ms: Option<i64>,
    /// Centre of the price path, price units.
    pub base_price: i64,
    /// Decimals of the price units.
    pub price_scale: u32,
    /// Tick, price units.
    pub price_tick: i64,
    /// Decimals of the quantity units (quantity step = one unit).
    pub qty_scale: u32,
    /// What the quantity counts.
    pub sizing: Sizing,
    /// Mean quantity per minute, quantity units.
    pub qty_per_min: i64,
    /// Mean trades per minute.
    pub trades_per_min: i64,
    /// Whether the instrument has recurring quiet (trade-less) windows.
    pub quiet: bool,
    /// Funding interval, hours (0: no funding, e.g. spot and dated futures).
    pub funding_hours: i64,
    /// How much later than `listed_ms` the venue publishes the listing
    /// (0 for most; see [`crate::quirks::LATE_LISTING_LAG_MS`]).
    pub listing_lag_ms: i64,
    /// A burst of trades in one millisecond, `(time, count)`, if any (see
    /// [`crate::quirks::DERIBIT_BURST_MS`]).
    pub burst: Option<(i64, i64)>,
}

impl Instrument {
    /// The listing time the venue publishes (`listTime`, `launchTime`,
    /// `creation_timestamp`): the true one plus `listing_lag_ms`.
    pub(crate) fn published_listed_ms(&self) -> i64 {
        self.listed_ms + self.listing_lag_ms
    }

    /// The price model of this instrument on the market named `market_key`
    /// (e.g. `"bybit-linear"`). Every venue shares the base coin's price path.
    pub(crate) fn spec(&self, market_key: &str) -> SeriesSpec {
        let seed = seed_of(&[str_seed(market_key), str_seed(self.name)]);
        SeriesSpec {
            path_seed: seed_of(&[str_seed(self.base)]),
            seed,
            base_price: self.base_price,
            price_tick: self.price_tick,
            qty_per_min: self.qty_per_min,
            trades_per_min: self.trades_per_min,
            listed_ms: self.listed_ms,
            until_ms: self.expiry_ms.unwrap_or(i64::MAX),
            quiet: self.quiet.then_some(Quiet {
                seed: seed_of(&[seed, QUIET_TAG]),
                period_ms: QUIET_PERIOD_MS,
                len_ms: QUIET_LEN_MS,
                align_ms: HOUR_MS,
            }),
        }
    }

    /// The bar series of interval code `code` laid out on `grid`.
    pub(crate) fn bars(&self, market_key: &str, grid: Grid, code: &str) -> Bars {
        Bars::new(self.spec(market_key), grid, str_seed(code))
    }

    /// The trade stream of this instrument on the market named `market_key`
    /// (sizes in the instrument's quantity units: contracts for contracts).
    pub(crate) fn trades(&self, market_key: &str) -> TradeStream {
        let stream = TradeStream::new(self.spec(market_key), self.trades_per_min, self.qty_per_min, None);
        match self.burst {
            Some((time, count)) => stream.with_burst(time, count),
            None => stream,
        }
    }

    /// The funding schedule (perpetuals only), switching interval at the
    /// given `(instant, interval_ms)` changes.
    pub(crate) fn funding(&self, market_key: &str, changes: &[(i64, i64)]) -> Option<FundingSchedule> {
        (self.funding_hours > 0).then(|| {
            let seed = self.spec(market_key).seed;
            FundingSchedule::new(seed, self.listed_ms, self.funding_hours * HOUR_MS, changes)
        })
    }

    /// The order book at `now`, `levels` per side, sizes in quantity units.
    pub(crate) fn book(&self, market_key: &str, levels: usize, now: i64) -> Book {
        book(&self.spec(market_key), (self.qty_per_min / 4).max(1), levels, now)
    }

    /// A price as trimmed text.
    pub(crate) fn price_text(&self, v: i64) -> String {
        fmt_trim(i128::from(v), self.price_scale)
    }

    /// A quantity as trimmed text.
    pub(crate) fn qty_text(&self, v: i64) -> String {
        fmt_trim(i128::from(v), self.qty_scale)
    }

    /// Base, quote and (for contracts) contract volumes of a bar.
    pub(crate) fn volumes(&self, c: &RawCandle) -> Volumes {
        let (ps, qs) = (self.price_scale, self.qty_scale);
        let qty = i128::from(c.volume);
        match self.sizing {
            Sizing::Base => Volumes { contracts: None, base: Dec(qty, qs), quote: Dec(c.quote, ps + qs) },
            Sizing::Linear { ct_val, ct_scale } => Volumes {
                contracts: Some(Dec(qty, qs)),
                base: Dec(qty * i128::from(ct_val), qs + ct_scale),
                quote: Dec(c.quote * i128::from(ct_val), ps + qs + ct_scale),
            },
            Sizing::Inverse { ct_val } => {
                let usd = qty * i128::from(ct_val);
                Volumes {
                    contracts: Some(Dec(qty, qs)),
                    base: Dec(inverse_base(usd, c.quote, qty, ps), 8),
                    quote: Dec(usd, qs),
                }
            }
        }
    }

    /// The wire text of a bar: trimmed decimals, `confirmed` as of `now`.
    pub(crate) fn wire(&self, bars: &Bars, c: &RawCandle, now: i64) -> WireBar {
        let ps = self.price_scale;
        let price = |v: i64| fmt_trim(i128::from(v), ps);
        let v = self.volumes(c);
        WireBar {
            open_time: c.open_time,
            open: price(c.open),
            high: price(c.high),
            low: price(c.low),
            close: price(c.close),
            base: v.base.text(),
            quote: v.quote.text(),
            contracts: v.contracts.map(Dec::text),
            confirmed: bars.confirmed(c, now),
        }
    }
}

/// Base coin bought by `usd` of inverse contracts at the bar's average
/// price, in units of `10^-8`, rounded half up. `quote / qty` is that
/// average price in price units (the model's quote is exactly qty × vwap).
fn inverse_base(usd: i128, quote: i128, qty: i128, price_scale: u32) -> i128 {
    if qty == 0 || quote == 0 {
        return 0;
    }
    let vwap = quote / qty;
    let num = usd * 10i128.pow(8 + price_scale);
    (2 * num + vwap) / (2 * vwap)
}

/// A decimal: `.0 × 10^-.1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Dec(pub i128, pub u32);

impl Dec {
    /// Trimmed decimal text.
    pub(crate) fn text(self) -> String {
        fmt_trim(self.0, self.1)
    }
}

/// The volumes of one bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Volumes {
    /// Contracts traded (contract instruments only).
    pub contracts: Option<Dec>,
    /// Base coin traded.
    pub base: Dec,
    /// Quote coin traded.
    pub quote: Dec,
}

/// One bar's wire text, shared by the Bybit, OKX and Deribit formats.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WireBar {
    /// Open time, ms.
    pub open_time: i64,
    /// Opening price.
    pub open: String,
    /// Highest price.
    pub high: String,
    /// Lowest price.
    pub low: String,
    /// Closing (or, while open, last) price.
    pub close: String,
    /// Base-coin volume.
    pub base: String,
    /// Quote-coin volume.
    pub quote: String,
    /// Contracts (contract instruments only).
    pub contracts: Option<String>,
    /// Whether the bar had closed.
    pub confirmed: bool,
}

impl WireBar {
    /// The bar as a client parses it.
    pub(crate) fn to_sim_candle(&self) -> SimCandle {
        SimCandle {
            open_time: self.open_time,
            open: parse_f64(&self.open),
            high: parse_f64(&self.high),
            low: parse_f64(&self.low),
            close: parse_f64(&self.close),
            base_volume: parse_f64(&self.base),
            quote_volume: parse_f64(&self.quote),
            contracts: self.contracts.as_deref().map(parse_f64),
            confirmed: self.confirmed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_base_rounds_half_up() {
        // 1000 USD at 40000.0 (scale 1): 0.025 BTC.
        assert_eq!(inverse_base(1000, 400_000 * 7, 7, 1), 2_500_000);
        // 10 USD at 3 (scale 0): 3.33333333.
        assert_eq!(inverse_base(10, 3, 1, 0), 333_333_333);
        assert_eq!(inverse_base(20, 3, 1, 0), 666_666_667);
        assert_eq!(inverse_base(10, 0, 0, 0), 0);
    }
}
