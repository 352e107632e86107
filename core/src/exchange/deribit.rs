//! Deribit v2 candles (`public/get_tradingview_chart_data`, JSON-RPC over HTTP GET).
//!
//! The answer holds parallel number arrays (`ticks`, `open`, ..., `volume` in base,
//! `cost` in quote), ascending, for every bar overlapping `[start, end]`, the open one
//! included; the engine keeps the bars whose open time is in the span. Errors are
//! JSON-RPC error objects, classified by their code, whatever the HTTP status.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::rt::Instant;

use futures_util::future::{BoxFuture, FutureExt};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::http::Reply;
use super::limiter::WeightLimiter;
use super::request::{self, Requester};
use super::retry::Verdict;
use super::wire::Int;
use super::{check_symbol_chars, interval_code, reconcile_market, Instrument, IntervalTable, Upstream};
use crate::book::{Level, OrderBook};
use crate::candles::Candle;
use crate::error::{Error, Result};
use crate::funding::FundingRate;
use crate::model::{Exchange, Interval, Market, SeriesKey, TimeRange, EARLIEST_MS};
use crate::time::DAY_MS;
use crate::trades::{Side, Trade};

/// Most bars one request returns (undocumented; CCXT uses 5000).
pub const MAX_BARS: usize = 5000;
/// Trades per request (the maximum `count`).
pub const TRADE_PAGE: usize = 1000;
/// How long one `get_instruments` list answers symbol checks. The method allows a
/// burst of 5 calls, then one per 10 s, and one call lists every instrument of a kind:
/// checking many symbols must not cost a call each.
const INSTRUMENTS_TTL: Duration = Duration::from_secs(60);
/// A symbol missing from a live list older than this is looked for in a new one (it
/// may have been listed since): at most the method's sustained rate.
const INSTRUMENTS_RECHECK: Duration = Duration::from_secs(10);
const INTERVALS: IntervalTable = &[
    ("1m", "1"),
    ("3m", "3"),
    ("5m", "5"),
    ("10m", "10"),
    ("15m", "15"),
    ("30m", "30"),
    ("1h", "60"),
    ("2h", "120"),
    ("3h", "180"),
    ("6h", "360"),
    ("12h", "720"),
    ("1d", "1D"),
];

/// Where Deribit lives and how fast we may call it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeribitConfig {
    /// Base URL (`/api/v2/public/...` is appended).
    pub url: String,
    /// Requests per window (Deribit's credits allow ~20 per second sustained).
    pub requests_per_window: u32,
    /// Window length.
    pub window: Duration,
}

impl Default for DeribitConfig {
    fn default() -> Self {
        DeribitConfig {
            url: "https://www.deribit.com".into(),
            requests_per_window: 18,
            window: Duration::from_secs(1),
        }
    }
}

/// The Deribit adapter.
#[derive(Debug)]
pub struct Deribit {
    config: DeribitConfig,
    requester: Requester,
    limiter: WeightLimiter,
    /// `get_instruments` answers per (kind, expired), with when they were fetched.
    instruments: tokio::sync::Mutex<HashMap<(&'static str, bool), InstrumentList>>,
    /// Expiry per instrument checked: nothing trades from it on.
    expiries: std::sync::Mutex<HashMap<String, i64>>,
}

/// One `get_instruments` answer and when it was fetched.
type InstrumentList = (Instant, Arc<Vec<InstrumentInfo>>);

/// The market a Deribit name spells: `BTC_USDT` spot; `BTC-PERPETUAL` / `BTC-27JUN25`
/// inverse; `BTC_USDT-PERPETUAL` / `ETH_USDC-27JUN25` linear; `BTC-27JUN25-90000-C` option.
fn market_of(name: &str) -> Result<Market> {
    let parts: Vec<&str> = name.split('-').collect();
    let margined = |base: &str| if base.contains('_') { Market::Linear } else { Market::Inverse };
    match parts.as_slice() {
        [pair] if pair.contains('_') => Ok(Market::Spot),
        [base, "PERPETUAL"] => Ok(margined(base)),
        [base, expiry] if is_expiry(expiry) => Ok(margined(base)),
        [_, expiry, _, "C" | "P"] if is_expiry(expiry) => Ok(Market::Option),
        _ => Err(Error::invalid(format!(
            "deribit instrument {name:?} is not valid: use BTC-PERPETUAL, BTC_USDT-PERPETUAL, BTC-27JUN25 or BTC_USDT"
        ))),
    }
}

/// `27JUN25`, `5APR19`: day, month, two-digit year.
fn is_expiry(s: &str) -> bool {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    (1..=2).contains(&digits)
        && s.len() == digits + 5
        && s[digits..digits + 3].bytes().all(|b| b.is_ascii_uppercase())
        && s[digits + 3..].bytes().all(|b| b.is_ascii_digit())
}

fn kind(market: Market) -> &'static str {
    match market {
        Market::Spot => "spot",
        Market::Option => "option",
        _ => "future",
    }
}

impl Deribit {
    /// An adapter with its own limiter.
    pub(crate) fn new(config: DeribitConfig, requester: Requester) -> Self {
        Deribit {
            limiter: WeightLimiter::new("deribit", config.requests_per_window, config.window),
            instruments: tokio::sync::Mutex::new(HashMap::new()),
            expiries: std::sync::Mutex::new(HashMap::new()),
            config,
            requester,
        }
    }

    /// Every instrument of `kind` (live, or expired), from a `get_instruments` call made
    /// less than `max_age` ago, or a new one; concurrent checks wait for the one call.
    async fn instruments_list(
        &self,
        kind: &'static str,
        expired: bool,
        max_age: Duration,
    ) -> Result<Arc<Vec<InstrumentInfo>>> {
        let mut lists = self.instruments.lock().await;
        if let Some((at, list)) = lists.get(&(kind, expired)) {
            if at.elapsed() < max_age {
                return Ok(Arc::clone(list));
            }
        }
        let url = self.url("get_instruments", &format!("currency=any&kind={kind}&expired={expired}"));
        let list: Rpc<Vec<InstrumentInfo>> =
            self.requester.get_json(&Dialect, &self.limiter, 1, &url).await?;
        let list = Arc::new(list.result);
        lists.insert((kind, expired), (Instant::now(), Arc::clone(&list)));
        Ok(list)
    }

    /// Whether `symbol` expired at or before `t` (as far as its instruments entry said).
    fn expired_by(&self, symbol: &str, t: i64) -> bool {
        self.expiries.lock().unwrap_or_else(|e| e.into_inner()).get(symbol).is_some_and(|&e| e <= t)
    }

    fn url(&self, method: &str, query: &str) -> String {
        format!("{}/api/v2/public/{method}?{query}", self.config.url.trim_end_matches('/'))
    }

    async fn get<T: DeserializeOwned>(&self, url: &str, series: &SeriesKey) -> Result<T> {
        let reply: Rpc<T> = self
            .requester
            .get_json(&Dialect, &self.limiter, 1, url)
            .await
            .map_err(|e| e.for_symbol(&series.symbol))?;
        Ok(reply.result)
    }
}

/// A successful JSON-RPC answer.
#[derive(Debug, Deserialize)]
struct Rpc<T> {
    result: T,
}

#[derive(Debug, Deserialize)]
struct RpcError {
    error: Option<ErrorObject>,
}

#[derive(Debug, Deserialize)]
struct ErrorObject {
    code: i64,
    #[serde(default)]
    message: String,
    #[serde(default)]
    data: serde_json::Value,
}

#[derive(Debug, Deserialize)]
struct Chart {
    status: String,
    #[serde(default)]
    ticks: Vec<i64>,
    #[serde(default)]
    open: Vec<f64>,
    #[serde(default)]
    high: Vec<f64>,
    #[serde(default)]
    low: Vec<f64>,
    #[serde(default)]
    close: Vec<f64>,
    #[serde(default)]
    volume: Vec<f64>,
    #[serde(default)]
    cost: Vec<f64>,
}

impl Chart {
    fn candles(self) -> Result<Vec<Candle>> {
        let n = self.ticks.len();
        let lens = [
            self.open.len(),
            self.high.len(),
            self.low.len(),
            self.close.len(),
            self.volume.len(),
            self.cost.len(),
        ];
        if self.status == "no_data" {
            return Ok(Vec::new());
        }
        if lens.iter().any(|&l| l != n) {
            return Err(Error::MalformedResponse {
                exchange: "deribit".into(),
                message: format!("chart arrays differ in length: ticks {n}, others {lens:?}"),
            });
        }
        Ok((0..n)
            .map(|i| Candle {
                open_time: self.ticks[i],
                open: self.open[i],
                high: self.high[i],
                low: self.low[i],
                close: self.close[i],
                volume: self.volume[i],
                quote_volume: self.cost[i],
                trades: None,
            })
            .collect())
    }
}

/// `get_last_trades_by_instrument_and_time` / `get_last_trades_by_instrument` result.
#[derive(Debug, Deserialize)]
struct TradePage {
    trades: Vec<TradeRow>,
    #[serde(default)]
    has_more: bool,
}

#[derive(Debug, Deserialize)]
struct TradeRow {
    trade_seq: Int,
    timestamp: Int,
    price: f64,
    amount: f64,
    direction: String,
}

impl TradeRow {
    fn trade(&self) -> Result<Trade> {
        let side = match self.direction.as_str() {
            "buy" => Side::Buy,
            "sell" => Side::Sell,
            other => {
                return Err(Error::MalformedResponse {
                    exchange: "deribit".into(),
                    message: format!("direction {other:?}"),
                })
            }
        };
        Ok(Trade {
            time: self.timestamp.0,
            id: self.trade_seq.0,
            price: self.price,
            quantity: self.amount,
            side,
        })
    }
}

/// `get_funding_rate_history` rows (hourly).
#[derive(Debug, Deserialize)]
struct FundingRow {
    timestamp: Int,
    interest_1h: f64,
}

impl FundingRow {
    fn rate(&self) -> FundingRate {
        FundingRate { time: self.timestamp.0, rate: self.interest_1h }
    }
}

/// `get_order_book` result.
#[derive(Debug, Deserialize)]
struct Book {
    timestamp: Int,
    bids: Vec<(f64, f64)>,
    asks: Vec<(f64, f64)>,
    change_id: Option<Int>,
}

impl Book {
    fn into_book(self) -> OrderBook {
        let level = |(price, quantity): (f64, f64)| Level { price, quantity };
        OrderBook {
            time: self.timestamp.0,
            update_id: self.change_id.map(|c| c.0),
            bids: self.bids.into_iter().map(level).collect(),
            asks: self.asks.into_iter().map(level).collect(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct InstrumentInfo {
    instrument_name: String,
    creation_timestamp: Option<Int>,
    /// Perpetuals and spot get a date in the year 3000.
    expiration_timestamp: Option<Int>,
}

impl InstrumentInfo {
    fn instrument(&self) -> Instrument {
        Instrument { symbol: self.instrument_name.clone(), listed: self.creation_timestamp.map(|t| t.0) }
    }
}

/// How Deribit answers.
struct Dialect;

impl request::Dialect for Dialect {
    fn name(&self) -> &str {
        "deribit"
    }

    fn classify(&self, reply: &Reply) -> Verdict<()> {
        let exchange = "deribit".to_string();
        let error = serde_json::from_slice::<RpcError>(&reply.body).ok().and_then(|b| b.error);
        match (reply.status, error) {
            (200, None) => Verdict::Done(()),
            (_, Some(ErrorObject { code: code @ (10028 | 10040 | 11051), message, .. })) => {
                let after = request::retry_after(reply).or(Some(Duration::from_secs(1)));
                let error = if code == 10028 {
                    Error::RateLimited { exchange, retry_after: after, message }
                } else {
                    Error::Exchange { exchange, code: Some(code), status: Some(reply.status), message }
                };
                Verdict::Retry { after, error }
            }
            (_, Some(ErrorObject { code: 13020 | 10020, .. })) => {
                Verdict::Fail(Error::UnknownSymbol { exchange, symbol: String::new() })
            }
            (_, Some(ErrorObject { code: -32602, data, .. }))
                if data.get("param").and_then(|p| p.as_str()) == Some("instrument_name") =>
            {
                Verdict::Fail(Error::UnknownSymbol { exchange, symbol: String::new() })
            }
            (_, Some(ErrorObject { code: code @ (-32602 | 11029 | 11050 | 13010), message, data })) => {
                Verdict::Fail(Error::InvalidQuery(format!(
                    "deribit rejected the request ({code}): {message} {data}"
                )))
            }
            (status, Some(ErrorObject { code, message, .. })) => {
                Verdict::Fail(Error::Exchange { exchange, code: Some(code), status: Some(status), message })
            }
            (429, None) => Verdict::Retry {
                after: request::retry_after(reply),
                error: Error::RateLimited {
                    exchange,
                    retry_after: request::retry_after(reply),
                    message: "HTTP 429".into(),
                },
            },
            (status @ (408 | 500..=599), None) => Verdict::Retry {
                after: None,
                error: Error::Exchange {
                    exchange,
                    code: None,
                    status: Some(status),
                    message: request::snippet(&reply.body),
                },
            },
            (status, None) => Verdict::Fail(Error::Exchange {
                exchange,
                code: None,
                status: Some(status),
                message: request::snippet(&reply.body),
            }),
        }
    }
}

/// Parses a `get_tradingview_chart_data` body into candles (ascending, as sent).
pub fn parse_chart(body: &[u8]) -> Result<Vec<Candle>> {
    super::wire::parse::<Rpc<Chart>>("deribit", body)?.result.candles()
}

/// Parses a `get_last_trades_by_instrument(_and_time)` body into trades, ascending as sent.
pub fn parse_trades(body: &[u8]) -> Result<Vec<Trade>> {
    super::wire::parse::<Rpc<TradePage>>("deribit", body)?.result.trades.iter().map(TradeRow::trade).collect()
}

/// Parses a `get_funding_rate_history` body into hourly rates.
pub fn parse_funding(body: &[u8]) -> Result<Vec<FundingRate>> {
    super::wire::parse::<Rpc<Vec<FundingRow>>>("deribit", body)
        .map(|rows| rows.result.iter().map(FundingRow::rate).collect())
}

/// Parses a `get_order_book` body.
pub fn parse_book(body: &[u8]) -> Result<OrderBook> {
    super::wire::parse::<Rpc<Book>>("deribit", body).map(|reply| reply.result.into_book())
}

/// Parses a `get_instruments` body into its instruments and creation times.
pub fn parse_instruments(body: &[u8]) -> Result<Vec<Instrument>> {
    super::wire::parse::<Rpc<Vec<InstrumentInfo>>>("deribit", body)
        .map(|list| list.result.iter().map(InstrumentInfo::instrument).collect())
}

impl Upstream for Deribit {
    fn exchange(&self) -> Exchange {
        Exchange::Deribit
    }

    fn validate(
        &self,
        market: Option<Market>,
        symbol: &str,
        interval: Option<Interval>,
    ) -> Result<(Market, String)> {
        check_symbol_chars(symbol)?;
        let name = symbol.to_ascii_uppercase();
        let market = reconcile_market(market, market_of(&name)?, "deribit", &name)?;
        if let Some(interval) = interval {
            interval_code(INTERVALS, interval, "deribit")?;
        }
        Ok((market, name))
    }

    fn kline_page(&self, _series: &SeriesKey, _span: TimeRange, _now: i64) -> usize {
        MAX_BARS
    }

    fn fetch_klines<'a>(
        &'a self,
        series: &'a SeriesKey,
        span: TimeRange,
        _now: i64,
    ) -> BoxFuture<'a, Result<Vec<Candle>>> {
        async move {
            if self.expired_by(&series.symbol, span.start) {
                return Ok(Vec::new()); // nothing trades after expiry
            }
            let resolution = interval_code(INTERVALS, series.interval, "deribit")?;
            let iv = series.interval;
            let mut out = Vec::new();
            let mut start = span.start;
            loop {
                let url = self.url(
                    "get_tradingview_chart_data",
                    &format!(
                        "instrument_name={}&start_timestamp={start}&end_timestamp={}&resolution={resolution}",
                        series.symbol,
                        span.end - 1
                    ),
                );
                let chart: Chart = self.get(&url, series).await?;
                let rows = chart.candles()?;
                let full = rows.len() >= MAX_BARS;
                let last = rows.iter().map(|c| c.open_time).max();
                out.extend(rows);
                match last {
                    Some(last) if full && iv.slot_start(iv.slot_of(last) + 1) < span.end => {
                        start = iv.slot_start(iv.slot_of(last) + 1);
                    }
                    _ => break,
                }
            }
            Ok(out)
        }
        .boxed()
    }

    /// Asks `get_tradingview_chart_data` whether any bar opens before `hint` (a published
    /// `creation_timestamp`): first at the series' own resolution (a bar opening before
    /// `hint` holds trades before it), then in daily bars back to 2009, every window under
    /// [`MAX_BARS`] bars. All answering `no_data` means nothing opens before `hint`.
    /// Without a hint, no answer (Deribit cannot name an instrument's first bar directly).
    fn empty_before<'a>(
        &'a self,
        series: &'a SeriesKey,
        hint: Option<i64>,
        _now: i64,
    ) -> BoxFuture<'a, Result<Option<i64>>> {
        async move {
            let Some(hint) = hint else { return Ok(None) };
            let bars = MAX_BARS as i64 - 100;
            let own = interval_code(INTERVALS, series.interval, "deribit")?;
            let mut window = (own, series.interval.nominal_ms() * bars);
            let mut end = hint;
            while end > EARLIEST_MS {
                let start = (end - window.1).max(EARLIEST_MS);
                let url = self.url(
                    "get_tradingview_chart_data",
                    &format!(
                        "instrument_name={}&start_timestamp={start}&end_timestamp={}&resolution={}",
                        series.symbol,
                        end - 1,
                        window.0
                    ),
                );
                let chart: Chart = self.get(&url, series).await?;
                if chart.candles()?.iter().any(|c| c.open_time < hint) {
                    return Ok(None);
                }
                end = start;
                window = ("1D", DAY_MS * bars);
            }
            Ok(Some(hint))
        }
        .boxed()
    }

    /// `get_last_trades_by_instrument_and_time` for the first page (ascending, 1000 a
    /// page), then `get_last_trades_by_instrument` from the next `trade_seq`: paging by
    /// timestamp alone skips trades when more than a page share one millisecond.
    fn fetch_trades<'a>(
        &'a self,
        series: &'a SeriesKey,
        span: TimeRange,
        _now: i64,
    ) -> BoxFuture<'a, Result<Vec<Trade>>> {
        async move {
            if self.expired_by(&series.symbol, span.start) {
                return Ok(Vec::new()); // nothing trades after expiry
            }
            // The first page by time; then by sequence number (`get_last_trades_by_instrument`,
            // `start_seq` inclusive), which is exact however many trades share a millisecond.
            let first = format!(
                "instrument_name={}&start_timestamp={}&end_timestamp={}&count={TRADE_PAGE}&sorting=asc",
                series.symbol,
                span.start,
                span.end - 1
            );
            let mut page: TradePage =
                self.get(&self.url("get_last_trades_by_instrument_and_time", &first), series).await?;
            let mut out = Vec::new();
            loop {
                let last_seq = page.trades.iter().map(|t| t.trade_seq.0).max();
                for t in &page.trades {
                    out.push(t.trade()?);
                }
                match last_seq {
                    Some(seq) if page.has_more => {
                        let next = format!(
                            "instrument_name={}&start_seq={}&end_timestamp={}&count={TRADE_PAGE}&sorting=asc",
                            series.symbol,
                            seq + 1,
                            span.end - 1
                        );
                        page = self.get(&self.url("get_last_trades_by_instrument", &next), series).await?;
                    }
                    _ => break,
                }
            }
            Ok(out)
        }
        .boxed()
    }

    /// `get_funding_rate_history` ignores `start_timestamp` and returns at most ~720
    /// hourly rows ending at `end_timestamp`: so page back by moving the end.
    fn fetch_funding<'a>(
        &'a self,
        series: &'a SeriesKey,
        span: TimeRange,
        _now: i64,
    ) -> BoxFuture<'a, Result<Vec<FundingRate>>> {
        async move {
            if !series.symbol.ends_with("-PERPETUAL") {
                return Err(Error::Unsupported("deribit funding rates exist for perpetuals only".into()));
            }
            let mut out = Vec::new();
            let mut end = span.end - 1;
            loop {
                let query = format!(
                    "instrument_name={}&start_timestamp={}&end_timestamp={end}",
                    series.symbol, span.start
                );
                let rows: Vec<FundingRow> =
                    self.get(&self.url("get_funding_rate_history", &query), series).await?;
                let Some(oldest) = rows.iter().map(|r| r.timestamp.0).min() else { break };
                out.extend(rows.iter().map(FundingRow::rate));
                if oldest <= span.start || oldest > end {
                    break;
                }
                end = oldest - 1;
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
            let _ = market;
            let depth =
                [1, 5, 10, 20, 50, 100, 1000, 10000].into_iter().find(|&d| d >= depth).unwrap_or(10000);
            let url = self.url("get_order_book", &format!("instrument_name={symbol}&depth={depth}"));
            let reply: Rpc<Book> = self
                .requester
                .get_json(&Dialect, &self.limiter, 1, &url)
                .await
                .map_err(|e| e.for_symbol(symbol))?;
            Ok(reply.result.into_book())
        }
        .boxed()
    }

    /// Deribit lists live instruments and, separately, expired ones: a contract that
    /// expired is still a valid name for its history. Each list is one call for every
    /// instrument of the kind, kept for [`INSTRUMENTS_TTL`] (a symbol missing from a
    /// live list older than [`INSTRUMENTS_RECHECK`] is looked for in a new one).
    fn instrument<'a>(
        &'a self,
        market: Market,
        symbol: &'a str,
    ) -> BoxFuture<'a, Result<Option<Instrument>>> {
        async move {
            let lists = [(false, INSTRUMENTS_TTL), (false, INSTRUMENTS_RECHECK), (true, INSTRUMENTS_TTL)];
            for (expired, max_age) in lists {
                let list = self.instruments_list(kind(market), expired, max_age).await?;
                if let Some(found) = list.iter().find(|i| i.instrument_name == symbol) {
                    if let Some(expiry) = found.expiration_timestamp {
                        self.expiries
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(symbol.into(), expiry.0);
                    }
                    return Ok(Some(found.instrument()));
                }
            }
            Ok(None)
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_spell_their_market() {
        assert_eq!(market_of("BTC-PERPETUAL").unwrap(), Market::Inverse);
        assert_eq!(market_of("BTC_USDT-PERPETUAL").unwrap(), Market::Linear);
        assert_eq!(market_of("BTC-27JUN25").unwrap(), Market::Inverse);
        assert_eq!(market_of("BTC-5APR19").unwrap(), Market::Inverse);
        assert_eq!(market_of("BTC_USDT").unwrap(), Market::Spot);
        assert_eq!(market_of("BTC-25MAR23-420-C").unwrap(), Market::Option);
        assert!(market_of("BTCUSDT").is_err());
        assert!(market_of("BTC-JUN25").is_err());
    }

    #[test]
    fn parses_the_documented_chart() {
        let body = br#"{"jsonrpc":"2.0","id":1,"result":{"status":"ok","ticks":[1554373800000,1554375600000],"open":[4963.42,4986.29],"high":[4963.42,5012.81],"low":[4929.91,4978.43],"close":[5052.95,5013.59],"volume":[19.007942601,20.095877981],"cost":[19000.0,23400.0]},"usIn":1554381680742493,"usOut":1554381680742698,"usDiff":205,"testnet":false}"#;
        let c = parse_chart(body).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(
            (c[1].open_time, c[1].close, c[1].volume, c[1].quote_volume),
            (1_554_375_600_000, 5013.59, 20.095877981, 23400.0)
        );
        let empty = br#"{"jsonrpc":"2.0","result":{"status":"no_data","ticks":[],"open":[],"high":[],"low":[],"close":[],"volume":[],"cost":[]}}"#;
        assert!(parse_chart(empty).unwrap().is_empty());
    }
}
