//! Binance spot (`/api/v3`) and USD-M futures (`/fapi/v1`) klines.
//!
//! Pagination: `startTime`/`endTime` filter on open time, both inclusive; rows come
//! ascending; pages of 1000 rows (the cheapest weight per row on both markets). The next
//! page starts at the next grid slot after the last row, so a full segment costs exactly
//! one request and off-grid 2017–18 opens are neither skipped nor repeated.
//! Rate limits: request weight per minute per IP, tracked locally and corrected by the
//! `X-MBX-USED-WEIGHT-1M` header; 429/418 pause every request for `Retry-After`.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::{BoxFuture, FutureExt};
use serde::de::{DeserializeOwned, IgnoredAny, SeqAccess, Visitor};
use serde::Deserialize;

use super::http::Reply;
use super::limiter::WeightLimiter;
use super::request::{self, Requester};
use super::retry::Verdict;
use super::wire::{Float, Int};
use super::{check_symbol_chars, interval_code, Instrument, IntervalTable, Retention, Upstream};
use crate::book::{Level, OrderBook};
use crate::candles::Candle;
use crate::error::{Error, Result};
use crate::funding::FundingRate;
use crate::model::{DataKind, Exchange, Interval, Market, SeriesKey, TimeRange};
use crate::trades::{Side, Trade};

/// Rows per kline request: 1000 costs weight 2 on spot and 5 on USD-M (1500 would cost 10).
pub const KLINE_PAGE: usize = 1000;
/// Rows per `aggTrades` request (the maximum; weight does not depend on it).
pub const TRADE_PAGE: usize = 1000;
/// Rows per `fundingRate` request (the maximum).
pub const FUNDING_PAGE: usize = 1000;
/// Binance spells intervals the way [`Interval`] prints them; USD-M lacks `1s`.
const SPOT_INTERVALS: IntervalTable = &[
    ("1s", "1s"),
    ("1m", "1m"),
    ("3m", "3m"),
    ("5m", "5m"),
    ("15m", "15m"),
    ("30m", "30m"),
    ("1h", "1h"),
    ("2h", "2h"),
    ("4h", "4h"),
    ("6h", "6h"),
    ("8h", "8h"),
    ("12h", "12h"),
    ("1d", "1d"),
    ("3d", "3d"),
    ("1w", "1w"),
    ("1M", "1M"),
];
const USDM_INTERVALS: IntervalTable = SPOT_INTERVALS.split_at(1).1;

/// Where Binance lives and how much of its budget we may spend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinanceConfig {
    /// Spot REST base URL.
    pub spot_url: String,
    /// USD-M futures REST base URL.
    pub usdm_url: String,
    /// Spot request weight we allow ourselves per window (Binance: 6000/min per IP).
    pub spot_weight_limit: u32,
    /// USD-M request weight per window (Binance: 2400/min per IP).
    pub usdm_weight_limit: u32,
    /// Length of a weight window (Binance: one minute).
    pub weight_window: Duration,
}

impl Default for BinanceConfig {
    /// The live endpoints, with 10 % of each weight budget left for other clients.
    fn default() -> Self {
        BinanceConfig {
            spot_url: "https://api.binance.com".into(),
            usdm_url: "https://fapi.binance.com".into(),
            spot_weight_limit: 5400,
            usdm_weight_limit: 2160,
            weight_window: Duration::from_secs(60),
        }
    }
}

/// The header in which Binance counts the IP's request weight this minute.
const USED_WEIGHT_HEADER: &str = "x-mbx-used-weight-1m";

/// The Binance adapter.
#[derive(Debug)]
pub struct Binance {
    config: BinanceConfig,
    requester: Requester,
    spot_limiter: WeightLimiter,
    usdm_limiter: WeightLimiter,
    funding_limiter: WeightLimiter,
    /// USD-M's instruments list (one call lists every symbol): kept for
    /// [`USDM_LIST_TTL`], fetched by one caller at a time, so checking many symbols
    /// costs one call.
    usdm_list: tokio::sync::Mutex<Option<(crate::rt::Instant, Arc<Vec<SymbolInfo>>)>>,
}

/// How long the USD-M instruments list is reused for symbol checks.
const USDM_LIST_TTL: Duration = Duration::from_secs(60);

/// Spot or USD-M: the two Binance APIs this adapter speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    Spot,
    UsdM,
}

impl Api {
    fn of(market: Market) -> Result<Api> {
        match market {
            Market::Spot => Ok(Api::Spot),
            Market::Linear => Ok(Api::UsdM),
            other => Err(Error::Unsupported(format!(
                "binance {other} markets are not supported: use spot or linear (USD-M futures)"
            ))),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Api::Spot => "binance-spot",
            Api::UsdM => "binance-usdm",
        }
    }

    fn klines_path(self) -> &'static str {
        match self {
            Api::Spot => "/api/v3/klines",
            Api::UsdM => "/fapi/v1/klines",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Api::Spot => "/api/v3",
            Api::UsdM => "/fapi/v1",
        }
    }

    fn agg_trades_weight(self) -> u32 {
        match self {
            Api::Spot => 4,
            Api::UsdM => 20,
        }
    }

    /// The `limit` to ask for `depth` levels (USD-M accepts only a few values) and its weight.
    fn depth_limit(self, depth: usize) -> (usize, u32) {
        match self {
            Api::Spot => {
                let limit = depth.min(5000);
                (
                    limit,
                    [(100, 5), (500, 25), (1000, 50)]
                        .iter()
                        .find(|(max, _)| limit <= *max)
                        .map_or(250, |w| w.1),
                )
            }
            Api::UsdM => [(5, 2), (10, 2), (20, 2), (50, 2), (100, 5), (500, 10), (1000, 20)]
                .into_iter()
                .find(|(limit, _)| depth <= *limit)
                .unwrap_or((1000, 20)),
        }
    }

    /// Request weight of a klines call with `limit` rows.
    fn kline_weight(self, limit: usize) -> u32 {
        match (self, limit) {
            (Api::Spot, _) => 2,
            (Api::UsdM, 0..100) => 1,
            (Api::UsdM, 100..500) => 2,
            (Api::UsdM, 500..=1000) => 5,
            (Api::UsdM, _) => 10,
        }
    }
}

impl Binance {
    /// An adapter with its own limiters; `requester` carries the HTTP pool and retries.
    pub(crate) fn new(config: BinanceConfig, requester: Requester) -> Self {
        Binance {
            // Every reply counts the IP's request weight in `X-MBX-USED-WEIGHT-1M` (spec 2.5).
            spot_limiter: WeightLimiter::new("binance-spot", config.spot_weight_limit, config.weight_window)
                .counted_by(USED_WEIGHT_HEADER),
            usdm_limiter: WeightLimiter::new("binance-usdm", config.usdm_weight_limit, config.weight_window)
                .counted_by(USED_WEIGHT_HEADER),
            // fundingRate has its own bucket: 500 requests per 5 minutes per IP, which the
            // weight header does not count.
            funding_limiter: WeightLimiter::new("binance-funding", 450, Duration::from_secs(300)),
            usdm_list: tokio::sync::Mutex::new(None),
            config,
            requester,
        }
    }

    /// Every USD-M symbol with its onboard date, from a list at most [`USDM_LIST_TTL`] old.
    async fn usdm_symbols(&self) -> Result<Arc<Vec<SymbolInfo>>> {
        let mut list = self.usdm_list.lock().await;
        if let Some((at, symbols)) = list.as_ref() {
            if at.elapsed() < USDM_LIST_TTL {
                return Ok(Arc::clone(symbols));
            }
        }
        let url = format!("{}/fapi/v1/exchangeInfo", self.base(Api::UsdM));
        let info: ExchangeInfo = self.get(Api::UsdM, 1, &url).await?;
        let symbols = Arc::new(info.symbols);
        *list = Some((crate::rt::Instant::now(), Arc::clone(&symbols)));
        Ok(symbols)
    }

    fn base(&self, api: Api) -> &str {
        match api {
            Api::Spot => self.config.spot_url.trim_end_matches('/'),
            Api::UsdM => self.config.usdm_url.trim_end_matches('/'),
        }
    }

    fn limiter(&self, api: Api) -> &WeightLimiter {
        match api {
            Api::Spot => &self.spot_limiter,
            Api::UsdM => &self.usdm_limiter,
        }
    }

    fn klines_url(&self, api: Api, s: &SeriesKey, start: i64, end: Option<i64>, limit: usize) -> String {
        let mut url = format!(
            "{}{}?symbol={}&interval={}&startTime={start}&limit={limit}",
            self.base(api),
            api.klines_path(),
            s.symbol,
            s.interval
        );
        if let Some(end) = end {
            url.push_str(&format!("&endTime={end}"));
        }
        url
    }

    async fn get<T: DeserializeOwned>(&self, api: Api, weight: u32, url: &str) -> Result<T> {
        let dialect = Dialect { api, window: self.config.weight_window };
        self.requester.get_json(&dialect, self.limiter(api), weight, url).await
    }
}

/// How Binance answers: weight headers, 429/418 with Retry-After, `{code, msg}` bodies.
struct Dialect {
    api: Api,
    window: Duration,
}

impl request::Dialect for Dialect {
    fn name(&self) -> &str {
        self.api.name()
    }

    fn classify(&self, reply: &Reply) -> Verdict<()> {
        let exchange = self.api.name().to_string();
        let body = || ErrorBody::parse(&reply.body);
        match reply.status {
            200 => Verdict::Done(()),
            429 | 418 => {
                // Without Retry-After, wait out the weight window.
                let after = request::retry_after(reply).unwrap_or(self.window);
                let message = body().map_or_else(|| format!("HTTP {}", reply.status), |b| b.msg);
                Verdict::Retry {
                    after: Some(after),
                    error: Error::RateLimited { exchange, retry_after: Some(after), message },
                }
            }
            408 | 500..=599 => Verdict::Retry {
                after: None,
                error: Error::Exchange {
                    exchange,
                    code: body().map(|b| b.code),
                    status: Some(reply.status),
                    message: body().map_or_else(|| "server error".to_string(), |b| b.msg),
                },
            },
            status => Verdict::Fail(match body() {
                Some(ErrorBody { code: -1121, .. }) => {
                    Error::UnknownSymbol { exchange, symbol: String::new() }
                }
                Some(ErrorBody { code: -1003, msg }) => {
                    Error::RateLimited { exchange, retry_after: None, message: msg }
                }
                Some(ErrorBody {
                    code: code @ (-1100 | -1102 | -1104 | -1105 | -1120 | -1128 | -1130 | -1023),
                    msg,
                }) => Error::InvalidQuery(format!("{exchange} rejected the request ({code}): {msg}")),
                Some(ErrorBody { code, msg }) => {
                    Error::Exchange { exchange, code: Some(code), status: Some(status), message: msg }
                }
                None => Error::Exchange {
                    exchange,
                    code: None,
                    status: Some(status),
                    message: request::snippet(&reply.body),
                },
            }),
        }
    }
}

/// Binance's error body: `{"code": -1121, "msg": "Invalid symbol."}`.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    code: i64,
    msg: String,
}

impl ErrorBody {
    fn parse(body: &[u8]) -> Option<ErrorBody> {
        serde_json::from_slice(body).ok()
    }
}

/// One kline row: 12 slots; we read open time, OHLCV, quote volume and trade count.
struct KlineRow(Candle);

impl<'de> Deserialize<'de> for KlineRow {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct RowVisitor;
        impl<'de> Visitor<'de> for RowVisitor {
            type Value = KlineRow;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a Binance kline array [openTime, open, high, low, close, volume, closeTime, quoteVolume, trades, ...]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<KlineRow, A::Error> {
                use serde::de::Error as _;
                let next_float = |seq: &mut A, what: &'static str| -> std::result::Result<f64, A::Error> {
                    seq.next_element::<Float>()?.map(|f| f.0).ok_or_else(|| A::Error::missing_field(what))
                };
                let open_time =
                    seq.next_element::<Int>()?.ok_or_else(|| A::Error::missing_field("openTime"))?.0;
                let open = next_float(&mut seq, "open")?;
                let high = next_float(&mut seq, "high")?;
                let low = next_float(&mut seq, "low")?;
                let close = next_float(&mut seq, "close")?;
                let volume = next_float(&mut seq, "volume")?;
                seq.next_element::<IgnoredAny>()?.ok_or_else(|| A::Error::missing_field("closeTime"))?;
                let quote_volume = next_float(&mut seq, "quoteVolume")?;
                let trades = seq.next_element::<Int>()?.ok_or_else(|| A::Error::missing_field("trades"))?.0;
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(KlineRow(Candle {
                    open_time,
                    open,
                    high,
                    low,
                    close,
                    volume,
                    quote_volume,
                    trades: Some(
                        u64::try_from(trades).map_err(|_| A::Error::custom("negative trade count"))?,
                    ),
                }))
            }
        }
        d.deserialize_seq(RowVisitor)
    }
}

/// Parses a Binance klines response body (spot or USD-M; numbers may be JSON numbers or
/// strings) into candles, in the order given.
pub fn parse_klines(body: &[u8]) -> Result<Vec<Candle>> {
    super::wire::parse::<Vec<KlineRow>>("binance", body).map(|rows| rows.into_iter().map(|r| r.0).collect())
}

impl Upstream for Binance {
    fn exchange(&self) -> Exchange {
        Exchange::Binance
    }

    fn validate(
        &self,
        market: Option<Market>,
        symbol: &str,
        interval: Option<Interval>,
    ) -> Result<(Market, String)> {
        let market = market.unwrap_or(Market::Spot);
        let api = Api::of(market)?;
        let table = if api == Api::Spot { SPOT_INTERVALS } else { USDM_INTERVALS };
        if let Some(interval) = interval {
            interval_code(table, interval, api.name())?;
        }
        check_symbol_chars(symbol)?;
        Ok((market, symbol.to_ascii_uppercase()))
    }

    fn kline_page(&self, _series: &SeriesKey, _span: TimeRange, _now: i64) -> usize {
        KLINE_PAGE
    }

    fn fetch_klines<'a>(
        &'a self,
        series: &'a SeriesKey,
        span: TimeRange,
        _now: i64,
    ) -> BoxFuture<'a, Result<Vec<Candle>>> {
        async move {
            let api = Api::of(series.market)?;
            let iv = series.interval;
            let mut out = Vec::new();
            let mut from = span.start;
            loop {
                let url = self.klines_url(api, series, from, Some(span.end - 1), KLINE_PAGE);
                let rows: Vec<KlineRow> = self
                    .get(api, api.kline_weight(KLINE_PAGE), &url)
                    .await
                    .map_err(|e| e.for_symbol(&series.symbol))?;
                let full = rows.len() == KLINE_PAGE;
                let last = rows.last().map(|r| r.0.open_time);
                out.extend(rows.into_iter().map(|r| r.0));
                match last {
                    Some(last) if full => {
                        from = iv.slot_start(iv.slot_of(last) + 1);
                        if from >= span.end {
                            break;
                        }
                    }
                    _ => break,
                }
            }
            Ok(out)
        }
        .boxed()
    }

    /// Spot: `exchangeInfo?symbol=` (the full spot list is megabytes); USD-M: the list,
    /// whose `onboardDate` is the listing.
    fn instrument<'a>(
        &'a self,
        market: Market,
        symbol: &'a str,
    ) -> BoxFuture<'a, Result<Option<Instrument>>> {
        async move {
            let symbols = match Api::of(market)? {
                Api::Spot => {
                    let url = format!("{}/api/v3/exchangeInfo?symbol={symbol}", self.base(Api::Spot));
                    let info: ExchangeInfo =
                        self.get(Api::Spot, 20, &url).await.map_err(|e| e.for_symbol(symbol))?;
                    Arc::new(info.symbols)
                }
                Api::UsdM => self.usdm_symbols().await?,
            };
            Ok(symbols.iter().find(|s| s.symbol == symbol).map(SymbolInfo::instrument))
        }
        .boxed()
    }

    /// `klines?startTime=0&limit=1` returns the first kline (spec 2.6: spot publishes no
    /// listing date, and UM's `onboardDate` is wrong for many symbols). No kline at all:
    /// nothing opens before now.
    fn empty_before<'a>(
        &'a self,
        series: &'a SeriesKey,
        _hint: Option<i64>,
        now: i64,
    ) -> BoxFuture<'a, Result<Option<i64>>> {
        async move {
            let api = Api::of(series.market)?;
            let url = self.klines_url(api, series, 0, None, 1);
            let rows: Vec<KlineRow> =
                self.get(api, api.kline_weight(1), &url).await.map_err(|e| e.for_symbol(&series.symbol))?;
            Ok(Some(rows.first().map_or(now, |r| r.0.open_time)))
        }
        .boxed()
    }

    /// USD-M aggregate trades reach back one year (spec 2.1: "UM aggTrades: up to 1 year
    /// old"); 364 days to stay inside it. Spot keeps them all.
    fn retention(&self, series: &SeriesKey) -> Option<Retention> {
        (series.market == Market::Linear && series.kind == DataKind::Trades)
            .then_some(Retention { days: 364 })
    }

    /// Aggregate trades: the first page by time, then by id (`fromId`) until past the span.
    fn fetch_trades<'a>(
        &'a self,
        series: &'a SeriesKey,
        span: TimeRange,
        _now: i64,
    ) -> BoxFuture<'a, Result<Vec<Trade>>> {
        async move {
            let api = Api::of(series.market)?;
            let base = format!(
                "{}{}/aggTrades?symbol={}&limit={TRADE_PAGE}",
                self.base(api),
                api.prefix(),
                series.symbol
            );
            let mut url = format!("{base}&startTime={}&endTime={}", span.start, span.end - 1);
            let mut out: Vec<Trade> = Vec::new();
            loop {
                let rows: Vec<AggTrade> = self
                    .get(api, api.agg_trades_weight(), &url)
                    .await
                    .map_err(|e| e.for_symbol(&series.symbol))?;
                let full = rows.len() == TRADE_PAGE;
                let last = rows.last().map(|r| (r.a.0, r.time.0));
                out.extend(rows.iter().map(AggTrade::trade));
                match last {
                    Some((id, time)) if full && time < span.end => url = format!("{base}&fromId={}", id + 1),
                    _ => break,
                }
            }
            Ok(out)
        }
        .boxed()
    }

    /// USD-M funding history, ascending, paged forward from the last funding time.
    fn fetch_funding<'a>(
        &'a self,
        series: &'a SeriesKey,
        span: TimeRange,
        _now: i64,
    ) -> BoxFuture<'a, Result<Vec<FundingRate>>> {
        async move {
            if series.market != Market::Linear {
                return Err(Error::Unsupported(
                    "binance funding rates exist for USD-M (linear) perpetuals only".into(),
                ));
            }
            let mut out = Vec::new();
            let mut start = span.start;
            loop {
                let url = format!(
                    "{}/fapi/v1/fundingRate?symbol={}&startTime={start}&endTime={}&limit={FUNDING_PAGE}",
                    self.base(Api::UsdM),
                    series.symbol,
                    span.end - 1
                );
                let dialect = Dialect { api: Api::UsdM, window: Duration::from_secs(300) };
                let rows: Vec<FundingRow> = self
                    .requester
                    .get_json(&dialect, &self.funding_limiter, 1, &url)
                    .await
                    .map_err(|e| e.for_symbol(&series.symbol))?;
                let full = rows.len() == FUNDING_PAGE;
                let last = rows.last().map(|r| r.funding_time.0);
                out.extend(rows.iter().map(FundingRow::rate));
                match last {
                    Some(last) if full && last + 1 < span.end => start = last + 1,
                    _ => break,
                }
            }
            Ok(out)
        }
        .boxed()
    }

    fn order_book<'a>(
        &'a self,
        market: Market,
        symbol: &'a str,
        depth: usize,
    ) -> BoxFuture<'a, Result<OrderBook>> {
        async move {
            let api = Api::of(market)?;
            let (limit, weight) = api.depth_limit(depth);
            let url = format!("{}{}/depth?symbol={symbol}&limit={limit}", self.base(api), api.prefix());
            let d: Depth = self.get(api, weight, &url).await.map_err(|e| e.for_symbol(symbol))?;
            Ok(depth_book(d, crate::clock::Clock::now_ms(&crate::clock::SystemClock)))
        }
        .boxed()
    }
}

/// The part of `exchangeInfo` we read.
#[derive(Debug, Deserialize)]
struct ExchangeInfo {
    symbols: Vec<SymbolInfo>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SymbolInfo {
    symbol: String,
    onboard_date: Option<Int>,
}

impl SymbolInfo {
    fn instrument(&self) -> Instrument {
        Instrument { symbol: self.symbol.clone(), listed: self.onboard_date.map(|t| t.0) }
    }
}

/// Rows of `aggTrades`: `{"a": id, "p": price, "q": qty, "T": time, "m": buyerIsMaker}`.
#[derive(Debug, Deserialize)]
struct AggTrade {
    a: Int,
    p: Float,
    q: Float,
    #[serde(rename = "T")]
    time: Int,
    m: bool,
}

impl AggTrade {
    fn trade(&self) -> Trade {
        // The buyer was the maker, so the taker sold.
        let side = if self.m { Side::Sell } else { Side::Buy };
        Trade { time: self.time.0, id: self.a.0, price: self.p.0, quantity: self.q.0, side }
    }
}

/// Rows of USD-M `fundingRate`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FundingRow {
    funding_rate: Float,
    funding_time: Int,
}

impl FundingRow {
    fn rate(&self) -> FundingRate {
        FundingRate { time: self.funding_time.0, rate: self.funding_rate.0 }
    }
}

/// The `depth` answer; USD-M adds `T` (transaction time).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Depth {
    last_update_id: Int,
    bids: Vec<(Float, Float)>,
    asks: Vec<(Float, Float)>,
    #[serde(rename = "T")]
    time: Option<Int>,
}

/// Parses a Binance `aggTrades` body (spot or USD-M) into trades.
pub fn parse_agg_trades(body: &[u8]) -> Result<Vec<Trade>> {
    super::wire::parse::<Vec<AggTrade>>("binance", body)
        .map(|rows| rows.iter().map(AggTrade::trade).collect())
}

/// Parses a USD-M `fundingRate` body into rates.
pub fn parse_funding(body: &[u8]) -> Result<Vec<FundingRate>> {
    super::wire::parse::<Vec<FundingRow>>("binance", body)
        .map(|rows| rows.iter().map(FundingRow::rate).collect())
}

/// Parses an `exchangeInfo` body (spot or USD-M) into its symbols and listing dates.
pub fn parse_exchange_info(body: &[u8]) -> Result<Vec<Instrument>> {
    super::wire::parse::<ExchangeInfo>("binance", body)
        .map(|info| info.symbols.iter().map(SymbolInfo::instrument).collect())
}

/// Parses a Binance `depth` body (spot or USD-M); `received` stands in for the time
/// when the body has none (spot).
pub fn parse_depth(body: &[u8], received: i64) -> Result<OrderBook> {
    let d: Depth = super::wire::parse("binance", body)?;
    Ok(depth_book(d, received))
}

fn depth_book(d: Depth, received: i64) -> OrderBook {
    let level = |(p, q): (Float, Float)| Level { price: p.0, quantity: q.0 };
    OrderBook {
        time: d.time.map_or(received, |t| t.0),
        update_id: Some(d.last_update_id.0),
        bids: d.bids.into_iter().map(level).collect(),
        asks: d.asks.into_iter().map(level).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_row() {
        let body = br#"[[1706630400000,"43519.34000000","43936.00000000","43171.00000000","43488.71000000","20.55495000",1706633999999,"891428.42858070",3743,"10.91428000","473782.95739920","0"]]"#;
        let c = parse_klines(body).unwrap();
        assert_eq!(c[0].open_time, 1_706_630_400_000);
        assert_eq!(
            (c[0].open, c[0].close, c[0].quote_volume, c[0].trades),
            (43519.34, 43488.71, 891428.4285807, Some(3743))
        );
        assert!(parse_klines(b"[[1706630400000,\"1\"]]").is_err());
        assert!(parse_klines(b"{\"this is\": not json").is_err());
    }

    #[test]
    fn weights_follow_the_docs() {
        assert_eq!(Api::Spot.kline_weight(1000), 2);
        assert_eq!(
            [99, 100, 499, 500, 1000, 1001, 1500].map(|l| Api::UsdM.kline_weight(l)),
            [1, 2, 2, 5, 5, 10, 10]
        );
    }
}
