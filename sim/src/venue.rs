//! What Bybit, OKX and Deribit hold, computed without HTTP: the oracle
//! functions tests compare fetched data against.

use crate::data::bars::Bars;
use crate::data::calendar::MAX_TIME;
use crate::data::instrument::Instrument;
use crate::{bybit, deribit, okx};

/// A Bybit, OKX or Deribit market served by the simulator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Venue {
    /// Bybit v5 `category=spot` (`BTCUSDT`, `ETHUSDT`).
    BybitSpot,
    /// Bybit v5 `category=linear`, USDT perpetuals (`BTCUSDT`, `ETHUSDT`,
    /// `SOLUSDT`).
    BybitLinear,
    /// Bybit v5 `category=inverse`, inverse perpetuals (`BTCUSD`, `ETHUSD`).
    BybitInverse,
    /// OKX v5 `instType=SPOT` (`BTC-USDT`, `ETH-USDT`).
    OkxSpot,
    /// OKX v5 `instType=SWAP` (`BTC-USDT-SWAP`, `ETH-USDT-SWAP`,
    /// `BTC-USD-SWAP`, `SOL-USDT-SWAP`).
    OkxSwap,
    /// OKX v5 `instType=FUTURES` (`BTC-USDT-250926`).
    OkxFutures,
    /// Deribit v2, every kind (`BTC-PERPETUAL`, `ETH-PERPETUAL`,
    /// `BTC_USDT-PERPETUAL`, `BTC-27JUN25`, `BTC_USDT`,
    /// `SOL_USDC-PERPETUAL`, `XRP_USDC-PERPETUAL`).
    Deribit,
}

impl Venue {
    /// Every venue, in declaration order.
    pub const ALL: [Venue; 7] = [
        Venue::BybitSpot,
        Venue::BybitLinear,
        Venue::BybitInverse,
        Venue::OkxSpot,
        Venue::OkxSwap,
        Venue::OkxFutures,
        Venue::Deribit,
    ];
}

/// One bar as a client parses it from a Bybit, OKX or Deribit reply.
///
/// Every `f64` is exactly the wire text parsed (`"43376.1".parse::<f64>()`;
/// Deribit's JSON numbers are written from the same text).
#[derive(Clone, Debug, PartialEq)]
pub struct SimCandle {
    /// Open time, ms since the epoch (UTC).
    pub open_time: i64,
    /// Opening price.
    pub open: f64,
    /// Highest price.
    pub high: f64,
    /// Lowest price.
    pub low: f64,
    /// Closing price (for the bar still open: the last price at "now").
    pub close: f64,
    /// Base-coin volume: Bybit `volume` (inverse: `turnover`), OKX `vol`
    /// (spot) or `volCcy` (derivatives), Deribit `volume`.
    pub base_volume: f64,
    /// Quote-coin volume: Bybit `turnover` (inverse: `volume`), OKX
    /// `volCcyQuote`, Deribit `cost`.
    pub quote_volume: f64,
    /// Contracts: OKX derivatives' `vol`; `None` elsewhere.
    pub contracts: Option<f64>,
    /// Whether the bar had closed at "now" (on the wire only as OKX's
    /// `confirm`: `"1"` closed, `"0"` open).
    pub confirmed: bool,
}

/// An instrument of a simulated venue.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SimInstrument {
    /// Exchange name, e.g. `BTCUSDT`, `BTC-USDT-SWAP`, `BTC-PERPETUAL`.
    pub symbol: String,
    /// Base coin.
    pub base: String,
    /// Quote coin.
    pub quote: String,
    /// Settlement coin (the quote coin for spot).
    pub settle: String,
    /// True listing time, ms: the first bar is the one containing it, and
    /// trades and funding start from it.
    pub listed_ms: i64,
    /// The listing time the venue publishes: OKX `listTime`, Bybit
    /// `launchTime`, Deribit `creation_timestamp`; `None` where the venue
    /// publishes none (Bybit spot). Equal to `listed_ms` except for the
    /// late-listed perpetuals of [`crate::quirks`], 30 days later.
    #[serde(default)]
    pub published_listed_ms: Option<i64>,
    /// Expiry of a dated future, ms: nothing trades from it on.
    pub expiry_ms: Option<i64>,
    /// Funding interval, ms (perpetuals only); for an OKX swap whose
    /// interval changes, the interval before the change.
    pub funding_interval_ms: Option<i64>,
}

/// Every interval code of a venue, exactly as the venue spells it,
/// shortest first (for OKX: the UTC+8 codes, then the `utc` ones).
pub fn venue_intervals(venue: Venue) -> &'static [&'static str] {
    match venue {
        Venue::BybitSpot | Venue::BybitLinear | Venue::BybitInverse => &bybit::catalog::INTERVALS,
        Venue::OkxSpot | Venue::OkxSwap | Venue::OkxFutures => &okx::catalog::BARS,
        Venue::Deribit => &deribit::catalog::RESOLUTIONS,
    }
}

/// The static instruments of a venue, in catalog order.
fn instruments_of(venue: Venue) -> &'static [Instrument] {
    use bybit::catalog::Category;
    use okx::catalog::InstType;
    match venue {
        Venue::BybitSpot => bybit::catalog::instruments(Category::Spot),
        Venue::BybitLinear => bybit::catalog::instruments(Category::Linear),
        Venue::BybitInverse => bybit::catalog::instruments(Category::Inverse),
        Venue::OkxSpot => okx::catalog::instruments(InstType::Spot),
        Venue::OkxSwap => okx::catalog::instruments(InstType::Swap),
        Venue::OkxFutures => okx::catalog::instruments(InstType::Futures),
        Venue::Deribit => deribit::catalog::instruments(),
    }
}

/// Every instrument of a venue, in catalog order.
pub fn venue_instruments(venue: Venue) -> Vec<SimInstrument> {
    instruments_of(venue)
        .iter()
        .map(|i| SimInstrument {
            symbol: i.name.to_string(),
            base: i.base.to_string(),
            quote: i.quote.to_string(),
            settle: i.settle.to_string(),
            listed_ms: i.listed_ms,
            published_listed_ms: (venue != Venue::BybitSpot).then(|| i.published_listed_ms()),
            expiry_ms: i.expiry_ms,
            funding_interval_ms: (i.funding_hours > 0).then_some(i.funding_hours * 3_600_000),
        })
        .collect()
}

/// The bar series of `symbol` / `interval` on `venue`, or the venue's
/// error message.
fn lookup(venue: Venue, symbol: &str, interval: &str) -> Result<(&'static Instrument, Bars), String> {
    use bybit::catalog::Category;
    use okx::catalog::InstType;
    let bybit = |category| {
        bybit::catalog::Series::lookup(category, symbol, interval)
            .map(|s| (s.inst, s.bars))
            .map_err(|e| e.message().to_string())
    };
    let okx = |inst_type| {
        okx::catalog::Series::lookup(Some(inst_type), symbol, interval)
            .map(|s| (s.inst, s.bars))
            .map_err(|e| e.message().to_string())
    };
    match venue {
        Venue::BybitSpot => bybit(Category::Spot),
        Venue::BybitLinear => bybit(Category::Linear),
        Venue::BybitInverse => bybit(Category::Inverse),
        Venue::OkxSpot => okx(InstType::Spot),
        Venue::OkxSwap => okx(InstType::Swap),
        Venue::OkxFutures => okx(InstType::Futures),
        Venue::Deribit => deribit::catalog::Series::lookup(symbol, interval)
            .map(|s| (s.inst, s.bars))
            .map_err(|e| e.message().to_string()),
    }
}

/// Every candle the venue holds for this series with `open_time` in
/// `[start, end)`, as seen at simulated time `now_ms` (the bar containing
/// `now_ms` is included, still open: `confirmed == false`), oldest first.
/// `interval` is the venue's own code (`"60"`, `"D"`, `"1H"`, `"1Dutc"`,
/// `"1D"`...). For OKX this is what `history-candles` holds (`candles`
/// serves only the newest 1,440 of them); OKX and Deribit series have
/// filler bars in their quiet windows ([`venue_quiet_windows`]).
///
/// `Err` carries the venue's message: Bybit `"Not supported symbols"` /
/// `"params error: Invalid period"`, OKX `"Instrument ID does not exist"` /
/// `"Parameter bar error"`, Deribit `"not_found"` / `"wrong format"`.
///
/// ```
/// use cryptocache_sim::{venue_klines, Venue};
/// let hour = 3_600_000;
/// let rows = venue_klines(Venue::BybitLinear, "BTCUSDT", "60",
///     1_706_630_400_000, 1_706_630_400_000 + 3 * hour, 1_800_000_000_000).unwrap();
/// assert_eq!(rows.len(), 3);
/// assert!(rows.iter().all(|c| c.confirmed && c.low <= c.high));
/// ```
pub fn venue_klines(
    venue: Venue,
    symbol: &str,
    interval: &str,
    start: i64,
    end: i64,
    now_ms: i64,
) -> Result<Vec<SimCandle>, String> {
    let (inst, bars) = lookup(venue, symbol, interval)?;
    if end <= start {
        return Ok(Vec::new());
    }
    // Only OKX puts contracts on the wire.
    let contracts_shown = matches!(venue, Venue::OkxSwap | Venue::OkxFutures);
    Ok(bars
        .oldest(start, end - 1, usize::MAX, now_ms)
        .iter()
        .map(|c| {
            let mut candle = inst.wire(&bars, c, now_ms).to_sim_candle();
            if !contracts_shown {
                candle.contracts = None;
            }
            candle
        })
        .collect())
}

/// The quiet (trade-less) windows `[from, to)` of an instrument that
/// overlap `[start, end)`, oldest first: one two-hour window, on whole
/// hours, per ten-day block since the epoch, for every OKX and Deribit
/// instrument (none on Bybit). Bars wholly inside one are fillers
/// (open = high = low = close = the previous close, volume 0).
pub fn venue_quiet_windows(
    venue: Venue,
    symbol: &str,
    start: i64,
    end: i64,
) -> Result<Vec<(i64, i64)>, String> {
    let interval = venue_intervals(venue)[0];
    let (_, bars) = lookup(venue, symbol, interval)?;
    let (start, end) = (start.clamp(0, MAX_TIME), end.clamp(0, MAX_TIME));
    Ok(bars.spec().quiet.map(|q| q.windows(start, end)).unwrap_or_default())
}
