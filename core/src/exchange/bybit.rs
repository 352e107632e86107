//! Bybit v5 klines (`/v5/market/kline`, categories spot, linear, inverse).
//!
//! Rows come newest first, `start`/`end` are inclusive on open time, and a window
//! holding more than `limit` candles returns the newest `limit`: so a span is paged
//! backwards, moving `end` below the oldest row, at 1000 rows a request. Business errors
//! arrive as HTTP 200 with `retCode != 0`. Going over the IP limit (600 requests / 5 s)
//! is answered with HTTP 403 and means stopping for 10 minutes.

use std::time::Duration;

use futures_util::future::{BoxFuture, FutureExt};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::http::Reply;
use super::limiter::WeightLimiter;
use super::request::{self, Requester};
use super::retry::Verdict;
use super::wire::{Float, Int};
use super::{check_symbol_chars, interval_code, Instrument, IntervalTable, Upstream};
use crate::book::{Level, OrderBook};
use crate::candles::Candle;
use crate::error::{Error, Result};
use crate::funding::FundingRate;
use crate::model::{DataKind, Exchange, Interval, Market, SeriesKey, TimeRange};
use crate::trades::Trade;

/// Rows per kline request (Bybit's maximum).
pub const KLINE_PAGE: usize = 1000;
/// Rows per funding-history request (Bybit's maximum).
pub const FUNDING_PAGE: usize = 200;
const INTERVALS: IntervalTable = &[
    ("1m", "1"),
    ("3m", "3"),
    ("5m", "5"),
    ("15m", "15"),
    ("30m", "30"),
    ("1h", "60"),
    ("2h", "120"),
    ("4h", "240"),
    ("6h", "360"),
    ("12h", "720"),
    ("1d", "D"),
    ("1w", "W"),
    ("1M", "M"),
];
/// How long Bybit wants every connection to stop after an IP-limit 403.
const IP_BAN_WAIT: Duration = Duration::from_secs(600);

/// Where Bybit lives and how fast we may call it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BybitConfig {
    /// REST base URL.
    pub url: String,
    /// Requests per window we allow ourselves (Bybit: 600 per 5 s per IP).
    pub requests_per_window: u32,
    /// Window length.
    pub window: Duration,
}

impl Default for BybitConfig {
    /// The live endpoint, with 10 % of the IP budget left for other clients.
    fn default() -> Self {
        BybitConfig {
            url: "https://api.bybit.com".into(),
            requests_per_window: 540,
            window: Duration::from_secs(5),
        }
    }
}

/// The Bybit adapter.
#[derive(Debug)]
pub struct Bybit {
    config: BybitConfig,
    requester: Requester,
    limiter: WeightLimiter,
}

fn category(market: Market) -> Result<&'static str> {
    match market {
        Market::Spot => Ok("spot"),
        Market::Linear => Ok("linear"),
        Market::Inverse => Ok("inverse"),
        Market::Option => {
            Err(Error::Unsupported("bybit has no option klines: use spot, linear or inverse".into()))
        }
    }
}

impl Bybit {
    /// An adapter with its own limiter.
    pub(crate) fn new(config: BybitConfig, requester: Requester) -> Self {
        Bybit {
            limiter: WeightLimiter::new("bybit", config.requests_per_window, config.window),
            config,
            requester,
        }
    }

    fn kline_url(&self, s: &SeriesKey, start: i64, end: Option<i64>, limit: usize) -> Result<String> {
        let mut url = format!(
            "{}/v5/market/kline?category={}&symbol={}&interval={}&start={start}&limit={limit}",
            self.config.url.trim_end_matches('/'),
            category(s.market)?,
            s.symbol,
            interval_code(INTERVALS, s.interval, "bybit")?,
        );
        if let Some(end) = end {
            url.push_str(&format!("&end={end}"));
        }
        Ok(url)
    }

    async fn klines_page(&self, series: &SeriesKey, url: &str) -> Result<Vec<Candle>> {
        let page: Envelope<KlineList> = self.get(url).await.map_err(|e| e.for_symbol(&series.symbol))?;
        let inverse = series.market == Market::Inverse;
        Ok(page.result.list.into_iter().map(|row| row.candle(inverse)).collect())
    }

    async fn get<T: DeserializeOwned>(&self, url: &str) -> Result<T> {
        self.requester.get_json(&Dialect, &self.limiter, 1, url).await
    }
}

/// Bybit's envelope: `{"retCode", "retMsg", "result", "time"}`.
#[derive(Debug, Deserialize)]
struct Envelope<T> {
    result: T,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    ret_code: Int,
    #[serde(default)]
    ret_msg: String,
}

#[derive(Debug, Deserialize)]
struct KlineList {
    list: Vec<KlineRow>,
}

#[derive(Debug, Deserialize)]
struct FundingList {
    list: Vec<FundingRow>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FundingRow {
    funding_rate: Float,
    funding_rate_timestamp: Int,
}

impl FundingRow {
    fn rate(&self) -> FundingRate {
        FundingRate { time: self.funding_rate_timestamp.0, rate: self.funding_rate.0 }
    }
}

/// Parses a Bybit `funding/history` body into rates, newest first as sent.
pub fn parse_funding(body: &[u8]) -> Result<Vec<FundingRate>> {
    super::wire::parse::<Envelope<FundingList>>("bybit", body)
        .map(|page| page.result.list.iter().map(FundingRow::rate).collect())
}

/// `orderbook` result: `b`/`a` levels as `[price, size]` strings, `ts`, update id `u`.
#[derive(Debug, Deserialize)]
struct Book {
    b: Vec<(Float, Float)>,
    a: Vec<(Float, Float)>,
    ts: Int,
    u: Option<Int>,
}

impl Book {
    fn into_book(self) -> OrderBook {
        let level = |(p, q): (Float, Float)| Level { price: p.0, quantity: q.0 };
        OrderBook {
            time: self.ts.0,
            update_id: self.u.map(|u| u.0),
            bids: self.b.into_iter().map(level).collect(),
            asks: self.a.into_iter().map(level).collect(),
        }
    }
}

/// Parses a Bybit `orderbook` body.
pub fn parse_order_book(body: &[u8]) -> Result<OrderBook> {
    super::wire::parse::<Envelope<Book>>("bybit", body).map(|page| page.result.into_book())
}

#[derive(Debug, Deserialize)]
struct InstrumentList {
    list: Vec<InstrumentRow>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InstrumentRow {
    symbol: String,
    launch_time: Option<Int>,
}

impl InstrumentRow {
    fn instrument(self) -> Instrument {
        Instrument { symbol: self.symbol, listed: self.launch_time.map(|t| t.0).filter(|&t| t > 0) }
    }
}

/// Parses a Bybit `instruments-info` body into its symbols and launch times.
pub fn parse_instruments(body: &[u8]) -> Result<Vec<Instrument>> {
    super::wire::parse::<Envelope<InstrumentList>>("bybit", body)
        .map(|page| page.result.list.into_iter().map(InstrumentRow::instrument).collect())
}

/// `[start, open, high, low, close, volume, turnover]`, all strings.
#[derive(Debug, Deserialize)]
struct KlineRow(Int, Float, Float, Float, Float, Float, Float);

impl KlineRow {
    /// Inverse contracts count volume in the quote coin (USD) and turnover in the base.
    fn candle(self, inverse: bool) -> Candle {
        let (volume, quote_volume) = if inverse { (self.6 .0, self.5 .0) } else { (self.5 .0, self.6 .0) };
        Candle {
            open_time: self.0 .0,
            open: self.1 .0,
            high: self.2 .0,
            low: self.3 .0,
            close: self.4 .0,
            volume,
            quote_volume,
            trades: None,
        }
    }
}

/// How Bybit answers.
struct Dialect;

impl request::Dialect for Dialect {
    fn name(&self) -> &str {
        "bybit"
    }

    fn classify(&self, reply: &Reply) -> Verdict<()> {
        let exchange = "bybit".to_string();
        match reply.status {
            200 => match serde_json::from_slice::<Status>(&reply.body) {
                Ok(Status { ret_code: Int(0), .. }) => Verdict::Done(()),
                Ok(Status { ret_code: Int(code), ret_msg: message }) => classify_code(code, message, reply),
                // Let the caller's parse report what is wrong with the body.
                Err(_) => Verdict::Done(()),
            },
            403 => Verdict::Retry {
                after: Some(IP_BAN_WAIT),
                error: Error::RateLimited {
                    exchange,
                    retry_after: Some(IP_BAN_WAIT),
                    message: format!("IP rate limit hit (HTTP 403: {})", request::snippet(&reply.body)),
                },
            },
            429 => Verdict::Retry {
                after: request::retry_after(reply),
                error: Error::RateLimited {
                    exchange,
                    retry_after: request::retry_after(reply),
                    message: "system throttling (HTTP 429)".into(),
                },
            },
            408 | 500..=599 => Verdict::Retry {
                after: None,
                error: Error::Exchange {
                    exchange,
                    code: None,
                    status: Some(reply.status),
                    message: request::snippet(&reply.body),
                },
            },
            status => Verdict::Fail(Error::Exchange {
                exchange,
                code: None,
                status: Some(status),
                message: request::snippet(&reply.body),
            }),
        }
    }
}

fn classify_code(code: i64, message: String, reply: &Reply) -> Verdict<()> {
    let exchange = "bybit".to_string();
    match code {
        10001 if message.to_ascii_lowercase().contains("symbol") => {
            Verdict::Fail(Error::UnknownSymbol { exchange, symbol: String::new() })
        }
        10001 | 10002 => {
            Verdict::Fail(Error::InvalidQuery(format!("bybit rejected the request ({code}): {message}")))
        }
        10006 => {
            // Per-UID limit: the reset time, when sent, says how long to wait.
            let wait = reply
                .header("x-bapi-limit-reset-timestamp")
                .and_then(|v| v.trim().parse::<i64>().ok())
                .map(|reset| Duration::from_millis((reset - wall_ms()).clamp(0, 60_000) as u64));
            Verdict::Retry { after: wait, error: Error::RateLimited { exchange, retry_after: wait, message } }
        }
        10016 => Verdict::Retry {
            after: None,
            error: Error::Exchange { exchange, code: Some(code), status: Some(200), message },
        },
        _ => Verdict::Fail(Error::Exchange { exchange, code: Some(code), status: Some(200), message }),
    }
}

fn wall_ms() -> i64 {
    crate::clock::Clock::now_ms(&crate::clock::SystemClock)
}

/// Parses a Bybit kline response body (the v5 envelope) into candles, newest first as
/// sent; `inverse` swaps volume and turnover into base and quote volume.
pub fn parse_klines(body: &[u8], inverse: bool) -> Result<Vec<Candle>> {
    super::wire::parse::<Envelope<KlineList>>("bybit", body)
        .map(|page| page.result.list.into_iter().map(|r| r.candle(inverse)).collect())
}

impl Upstream for Bybit {
    fn exchange(&self) -> Exchange {
        Exchange::Bybit
    }

    fn validate(
        &self,
        market: Option<Market>,
        symbol: &str,
        interval: Option<Interval>,
    ) -> Result<(Market, String)> {
        let market = market.unwrap_or(Market::Spot);
        category(market)?;
        if let Some(interval) = interval {
            interval_code(INTERVALS, interval, "bybit")?;
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
            let iv = series.interval;
            let first_slot = iv.slot_of(span.start);
            let mut out = Vec::new();
            let mut end = span.end - 1;
            loop {
                let url = self.kline_url(series, span.start, Some(end), KLINE_PAGE)?;
                let rows = self.klines_page(series, &url).await?;
                let full = rows.len() == KLINE_PAGE;
                let oldest = rows.iter().map(|c| c.open_time).min();
                out.extend(rows);
                match oldest {
                    // A full page that has not reached the span's first slot: page back.
                    Some(oldest) if full && iv.slot_of(oldest) > first_slot => end = oldest - 1,
                    _ => break,
                }
            }
            Ok(out)
        }
        .boxed()
    }

    /// Trades: REST serves only the newest 1000 (spot: 60); history is in the trade
    /// archive (public.bybit.com).
    fn rest_serves_history(&self, series: &SeriesKey) -> bool {
        series.kind != DataKind::Trades
    }

    /// Bybit's REST serves only the newest 1000 trades (spot: 60); history lives in its
    /// downloadable archives, so a range cannot be answered exactly over REST.
    fn fetch_trades<'a>(
        &'a self,
        _series: &'a SeriesKey,
        _span: TimeRange,
        _now: i64,
    ) -> BoxFuture<'a, Result<Vec<Trade>>> {
        Box::pin(std::future::ready(Err(Error::Unsupported(
            "bybit serves only the latest 1000 trades over REST: closed UTC days come from its trade archive (archives = auto or only), published the next day"
                .into(),
        ))))
    }

    /// `funding/history` with `endTime` only (a lone `startTime` is an error), paged back
    /// 200 rows at a time.
    fn fetch_funding<'a>(
        &'a self,
        series: &'a SeriesKey,
        span: TimeRange,
        _now: i64,
    ) -> BoxFuture<'a, Result<Vec<FundingRate>>> {
        async move {
            if series.market == Market::Spot {
                return Err(Error::Unsupported(
                    "bybit funding rates exist for linear and inverse perpetuals only".into(),
                ));
            }
            let mut out = Vec::new();
            let mut end = span.end - 1;
            loop {
                let url = format!(
                    "{}/v5/market/funding/history?category={}&symbol={}&endTime={end}&limit={FUNDING_PAGE}",
                    self.config.url.trim_end_matches('/'),
                    category(series.market)?,
                    series.symbol
                );
                let page: Envelope<FundingList> =
                    self.get(&url).await.map_err(|e| e.for_symbol(&series.symbol))?;
                let full = page.result.list.len() == FUNDING_PAGE;
                let oldest = page.result.list.iter().map(|r| r.funding_rate_timestamp.0).min();
                out.extend(page.result.list.iter().map(FundingRow::rate));
                match oldest {
                    Some(oldest) if full && oldest > span.start => end = oldest - 1,
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
            let url = format!(
                "{}/v5/market/orderbook?category={}&symbol={symbol}&limit={}",
                self.config.url.trim_end_matches('/'),
                category(market)?,
                depth.min(1000)
            );
            let page: Envelope<Book> = self.get(&url).await.map_err(|e| e.for_symbol(symbol))?;
            Ok(page.result.into_book())
        }
        .boxed()
    }

    fn instrument<'a>(
        &'a self,
        market: Market,
        symbol: &'a str,
    ) -> BoxFuture<'a, Result<Option<Instrument>>> {
        async move {
            let url = format!(
                "{}/v5/market/instruments-info?category={}&symbol={symbol}",
                self.config.url.trim_end_matches('/'),
                category(market)?
            );
            let page: Envelope<InstrumentList> = self.get(&url).await.map_err(|e| e.for_symbol(symbol))?;
            Ok(page.result.list.into_iter().find(|i| i.symbol == symbol).map(InstrumentRow::instrument))
        }
        .boxed()
    }

    /// `start` without `end` returns the oldest candles from `start` on (spec 3.3: "Earliest
    /// candle: tiny `start`, `limit=1`"). No candle at all: nothing opens before now.
    fn empty_before<'a>(
        &'a self,
        series: &'a SeriesKey,
        _hint: Option<i64>,
        now: i64,
    ) -> BoxFuture<'a, Result<Option<i64>>> {
        async move {
            let url = self.kline_url(series, 0, None, 1)?;
            Ok(Some(self.klines_page(series, &url).await?.first().map_or(now, |c| c.open_time)))
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_inverse_row() {
        let body = br#"{"retCode":0,"retMsg":"OK","result":{"symbol":"BTCUSD","category":"inverse","list":[["1670608800000","17071","17073","17027","17055.5","268611","15.74462667"]]},"retExtInfo":{},"time":1672025956592}"#;
        let c = parse_klines(body, true).unwrap();
        assert_eq!(c[0].open_time, 1_670_608_800_000);
        assert_eq!((c[0].close, c[0].volume, c[0].quote_volume), (17055.5, 15.74462667, 268611.0));
    }
}
