//! OKX v5 candles (`/api/v5/market/candles` and `history-candles`).
//!
//! Rows come newest first. `after=X` returns rows older than X and `before=X` rows newer
//! than X (both exclusive — the reverse of what the names suggest), so a span is asked as
//! `before = start − 1, after = end` and paged backwards by lowering `after` to the oldest
//! row seen. Short pages are not the end; an empty page, reaching the span's first slot or
//! the instrument's listing (from `public/instruments`) is. `candles` keeps only the
//! newest 1,440 bars (300 a page; for an expired future, the 1,440 before expiry),
//! `history-candles` everything (100 a page): the part of a span among the newest 1,440
//! bars is read from `candles`, the older part from `history-candles`. Daily and longer bars use the `utc` codes: plain `1D` buckets at UTC+8.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use futures_util::future::{BoxFuture, FutureExt};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::http::Reply;
use super::limiter::WeightLimiter;
use super::request::{self, Requester};
use super::retry::Verdict;
use super::wire::{Float, Int};
use super::{
    check_symbol_chars, interval_code, reconcile_market, Instrument, IntervalTable, Retention, Upstream,
};
use crate::book::{Level, OrderBook};
use crate::candles::Candle;
use crate::error::{Error, Result};
use crate::funding::FundingRate;
use crate::model::{DataKind, Exchange, Interval, Market, SeriesKey, TimeRange};
use crate::trades::{Side, Trade};

/// Rows per `candles` request.
pub const RECENT_PAGE: usize = 300;
/// Rows per `history-candles` request.
pub const HISTORY_PAGE: usize = 100;
/// Rows per `history-trades` request (the maximum).
pub const TRADE_PAGE: usize = 100;
/// Rows per `funding-rate-history` request (older docs and CCXT say 100; the newest 400).
pub const FUNDING_PAGE: usize = 100;
/// Bars `candles` keeps.
const RECENT_BARS: i64 = 1440;
const INTERVALS: IntervalTable = &[
    ("1s", "1s"),
    ("1m", "1m"),
    ("3m", "3m"),
    ("5m", "5m"),
    ("15m", "15m"),
    ("30m", "30m"),
    ("1h", "1H"),
    ("2h", "2H"),
    ("4h", "4H"),
    ("6h", "6Hutc"),
    ("12h", "12Hutc"),
    ("1d", "1Dutc"),
    ("2d", "2Dutc"),
    ("3d", "3Dutc"),
    ("1w", "1Wutc"),
    ("1M", "1Mutc"),
    ("3M", "3Mutc"),
];

/// Where OKX lives and how fast we may call it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OkxConfig {
    /// REST base URL.
    pub url: String,
    /// `candles` requests per window (OKX: 40 per 2 s).
    pub candles_per_window: u32,
    /// `history-candles` requests per window (OKX: 20 per 2 s).
    pub history_per_window: u32,
    /// Window length.
    pub window: Duration,
}

impl Default for OkxConfig {
    /// The live endpoint, with 10 % of each budget left for other clients.
    fn default() -> Self {
        OkxConfig {
            url: "https://www.okx.com".into(),
            candles_per_window: 36,
            history_per_window: 18,
            window: Duration::from_secs(2),
        }
    }
}

/// The OKX adapter.
#[derive(Debug)]
pub struct Okx {
    config: OkxConfig,
    requester: Requester,
    candles_limiter: WeightLimiter,
    history_limiter: WeightLimiter,
    instruments_limiter: WeightLimiter,
    trades_limiter: WeightLimiter,
    funding_limiter: WeightLimiter,
    /// `listTime` and `expTime` per instId, as `public/instruments` said.
    lifetimes: Mutex<HashMap<String, Lifetime>>,
}

/// When an instrument stops trading: no bar is newer than its expiry (a contract term).
/// Its published `listTime` is not kept here: it can be later than the first bar, so
/// paging never stops at it.
#[derive(Debug, Clone, Copy, Default)]
struct Lifetime {
    expires: Option<i64>,
}

/// The market an instrument id names: `BTC-USDT` spot, `BTC-USDT-SWAP` / `BTC-USDT-250926`
/// linear, `BTC-USD-SWAP` / `BTC-USD-250926` inverse, `BTC-USD-241227-90000-C` option.
fn market_of(inst_id: &str) -> Result<Market> {
    let parts: Vec<&str> = inst_id.split('-').collect();
    let margined = |quote: &str| if quote == "USD" { Market::Inverse } else { Market::Linear };
    match parts.as_slice() {
        [_, _] => Ok(Market::Spot),
        [_, quote, "SWAP"] => Ok(margined(quote)),
        [_, quote, expiry] if expiry.len() == 6 && expiry.bytes().all(|b| b.is_ascii_digit()) => Ok(margined(quote)),
        [_, _, _, _, "C" | "P"] => Ok(Market::Option),
        _ => Err(Error::invalid(format!(
            "okx instrument id {inst_id:?} is not valid: use BTC-USDT (spot), BTC-USDT-SWAP, BTC-USD-SWAP or BTC-USDT-250926"
        ))),
    }
}

/// OKX's `instType` of an instrument of `market`.
pub(crate) fn inst_type(market: Market, inst_id: &str) -> &'static str {
    match market {
        Market::Spot => "SPOT",
        Market::Option => "OPTION",
        _ if inst_id.ends_with("-SWAP") => "SWAP",
        _ => "FUTURES",
    }
}

impl Okx {
    /// An adapter with its own limiters.
    pub(crate) fn new(config: OkxConfig, requester: Requester) -> Self {
        Okx {
            candles_limiter: WeightLimiter::new("okx-candles", config.candles_per_window, config.window),
            history_limiter: WeightLimiter::new(
                "okx-history-candles",
                config.history_per_window,
                config.window,
            ),
            instruments_limiter: WeightLimiter::new("okx-instruments", 18, config.window),
            // history-trades: 20 per 2 s (CCXT charges it double: stay at 9).
            trades_limiter: WeightLimiter::new("okx-history-trades", 9, config.window),
            // funding-rate-history: 10 per 2 s per IP and instrument.
            funding_limiter: WeightLimiter::new("okx-funding", 9, config.window),
            lifetimes: Mutex::new(HashMap::new()),
            config,
            requester,
        }
    }

    fn base(&self) -> &str {
        self.config.url.trim_end_matches('/')
    }

    /// What `public/instruments` said of the instrument's listing and expiry.
    fn lifetime(&self, inst_id: &str) -> Lifetime {
        self.lifetimes.lock().unwrap_or_else(|e| e.into_inner()).get(inst_id).copied().unwrap_or_default()
    }

    async fn get<T: DeserializeOwned>(&self, limiter: &WeightLimiter, url: &str) -> Result<T> {
        self.requester.get_json(&Dialect, limiter, 1, url).await
    }
}

/// OKX's envelope: `{"code": "0", "msg": "", "data": [...]}`.
#[derive(Debug, Deserialize)]
struct Envelope<T> {
    data: Vec<T>,
}

#[derive(Debug, Deserialize)]
struct Status {
    code: Int,
    #[serde(default)]
    msg: String,
}

/// `[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]`, all strings.
#[derive(Debug, Deserialize)]
struct CandleRow(Int, Float, Float, Float, Float, Float, Float, Float, serde::de::IgnoredAny);

impl CandleRow {
    /// Spot: `vol` is base, `volCcy` quote. Derivatives: `vol` counts contracts, `volCcy`
    /// is base. `volCcyQuote` is the quote volume for both.
    fn candle(self, spot: bool) -> Candle {
        Candle {
            open_time: self.0 .0,
            open: self.1 .0,
            high: self.2 .0,
            low: self.3 .0,
            close: self.4 .0,
            volume: if spot { self.5 .0 } else { self.6 .0 },
            quote_volume: self.7 .0,
            trades: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InstrumentRow {
    inst_id: String,
    /// OKX sends "" for instruments without one.
    #[serde(default, deserialize_with = "super::wire::optional_int")]
    list_time: Option<Int>,
    /// Dated futures only; "" otherwise.
    #[serde(default, deserialize_with = "super::wire::optional_int")]
    exp_time: Option<Int>,
}

/// A published time, or none for OKX's "" and "0".
fn positive(t: Option<Int>) -> Option<i64> {
    t.map(|t| t.0).filter(|&t| t > 0)
}

impl InstrumentRow {
    fn instrument(&self) -> Instrument {
        Instrument { symbol: self.inst_id.clone(), listed: positive(self.list_time) }
    }

    fn lifetime(&self) -> Lifetime {
        Lifetime { expires: positive(self.exp_time) }
    }
}

/// `history-trades` rows (strings): `tradeId px sz side ts`; `side` is the taker's.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TradeRow {
    trade_id: Int,
    px: Float,
    sz: Float,
    side: String,
    ts: Int,
}

impl TradeRow {
    fn trade(&self) -> Result<Trade> {
        let side = match self.side.as_str() {
            "buy" => Side::Buy,
            "sell" => Side::Sell,
            other => {
                return Err(Error::MalformedResponse {
                    exchange: "okx".into(),
                    message: format!("trade side {other:?}"),
                })
            }
        };
        Ok(Trade { time: self.ts.0, id: self.trade_id.0, price: self.px.0, quantity: self.sz.0, side })
    }
}

/// `funding-rate-history` rows.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FundingRow {
    funding_time: Int,
    funding_rate: Float,
    /// Empty for rows not settled yet.
    #[serde(default)]
    realized_rate: Option<String>,
}

impl FundingRow {
    fn rate(&self) -> FundingRate {
        let realized = self.realized_rate.as_deref().and_then(|r| r.trim().parse::<f64>().ok());
        FundingRate { time: self.funding_time.0, rate: realized.unwrap_or(self.funding_rate.0) }
    }
}

/// `books` data: levels `[px, sz, "0", numOrders]`, newest `ts`.
#[derive(Debug, Deserialize)]
struct BookRow {
    asks: Vec<Vec<Float>>,
    bids: Vec<Vec<Float>>,
    ts: Int,
}

impl BookRow {
    fn into_book(self) -> OrderBook {
        let level = |l: Vec<Float>| Level {
            price: l.first().map_or(0.0, |v| v.0),
            quantity: l.get(1).map_or(0.0, |v| v.0),
        };
        OrderBook {
            time: self.ts.0,
            update_id: None,
            bids: self.bids.into_iter().map(level).collect(),
            asks: self.asks.into_iter().map(level).collect(),
        }
    }
}

/// The one book of a `books` answer.
fn first_book(body: Envelope<BookRow>) -> Result<OrderBook> {
    body.data.into_iter().next().map(BookRow::into_book).ok_or_else(|| Error::MalformedResponse {
        exchange: "okx".into(),
        message: "books answered with no data".into(),
    })
}

/// How OKX answers.
struct Dialect;

impl request::Dialect for Dialect {
    fn name(&self) -> &str {
        "okx"
    }

    fn classify(&self, reply: &Reply) -> Verdict<()> {
        let exchange = "okx".to_string();
        let status = serde_json::from_slice::<Status>(&reply.body).ok();
        match (reply.status, status) {
            (200, Some(Status { code: Int(0), .. })) => Verdict::Done(()),
            (200, None) => Verdict::Done(()), // the caller's parse reports the broken body
            (_, Some(Status { code: Int(code @ (50011 | 50013 | 50001 | 50026)), msg })) => {
                let throttled = code == 50011;
                let after = request::retry_after(reply).or(throttled.then_some(Duration::from_secs(2)));
                let error = if throttled {
                    Error::RateLimited { exchange, retry_after: after, message: msg }
                } else {
                    Error::Exchange { exchange, code: Some(code), status: Some(reply.status), message: msg }
                };
                Verdict::Retry { after, error }
            }
            (_, Some(Status { code: Int(51001), .. })) => {
                Verdict::Fail(Error::UnknownSymbol { exchange, symbol: String::new() })
            }
            (_, Some(Status { code: Int(code @ (51000 | 50014)), msg })) => {
                Verdict::Fail(Error::InvalidQuery(format!("okx rejected the request ({code}): {msg}")))
            }
            (status, Some(Status { code: Int(code), msg })) => Verdict::Fail(Error::Exchange {
                exchange,
                code: Some(code),
                status: Some(status),
                message: msg,
            }),
            (429, None) => Verdict::Retry {
                after: request::retry_after(reply),
                error: Error::RateLimited {
                    exchange,
                    retry_after: request::retry_after(reply),
                    message: "Too Many Requests".into(),
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

/// Parses an OKX candles body into candles, newest first as sent.
pub fn parse_candles(body: &[u8], spot: bool) -> Result<Vec<Candle>> {
    super::wire::parse::<Envelope<CandleRow>>("okx", body)
        .map(|page| page.data.into_iter().map(|r| r.candle(spot)).collect())
}

/// Parses an OKX `history-trades` body into trades, newest first as sent.
pub fn parse_trades(body: &[u8]) -> Result<Vec<Trade>> {
    super::wire::parse::<Envelope<TradeRow>>("okx", body)?.data.iter().map(TradeRow::trade).collect()
}

/// Parses an OKX `funding-rate-history` body into settled rates, newest first as sent.
pub fn parse_funding(body: &[u8]) -> Result<Vec<FundingRate>> {
    super::wire::parse::<Envelope<FundingRow>>("okx", body)
        .map(|page| page.data.iter().map(FundingRow::rate).collect())
}

/// Parses an OKX `books` body.
pub fn parse_book(body: &[u8]) -> Result<OrderBook> {
    first_book(super::wire::parse("okx", body)?)
}

/// Parses an OKX `public/instruments` body into its instruments and listing times.
pub fn parse_instruments(body: &[u8]) -> Result<Vec<Instrument>> {
    super::wire::parse::<Envelope<InstrumentRow>>("okx", body)
        .map(|page| page.data.iter().map(InstrumentRow::instrument).collect())
}

impl Upstream for Okx {
    fn exchange(&self) -> Exchange {
        Exchange::Okx
    }

    fn validate(
        &self,
        market: Option<Market>,
        symbol: &str,
        interval: Option<Interval>,
    ) -> Result<(Market, String)> {
        check_symbol_chars(symbol)?;
        let inst_id = symbol.to_ascii_uppercase();
        let market = reconcile_market(market, market_of(&inst_id)?, "okx", &inst_id)?;
        if let Some(interval) = interval {
            interval_code(INTERVALS, interval, "okx")?;
        }
        Ok((market, inst_id))
    }

    /// `candles` (300 a page) for spans starting inside its window of the newest 1440
    /// bars; `history-candles` (100) for older ones and for `1s`.
    fn kline_page(&self, series: &SeriesKey, span: TimeRange, now: i64) -> usize {
        let iv = series.interval;
        let newest = self.lifetime(&series.symbol).expires.map_or(now, |e| now.min(e - 1));
        let cut = iv.slot_start(iv.slot_of(newest) - (RECENT_BARS - 1));
        let one_second = interval_code(INTERVALS, iv, "okx").is_ok_and(|bar| bar == "1s");
        if !one_second && span.start >= cut {
            RECENT_PAGE
        } else {
            HISTORY_PAGE
        }
    }

    fn fetch_klines<'a>(
        &'a self,
        series: &'a SeriesKey,
        span: TimeRange,
        now: i64,
    ) -> BoxFuture<'a, Result<Vec<Candle>>> {
        async move {
            let iv = series.interval;
            let bar = interval_code(INTERVALS, iv, "okx")?;
            let life = self.lifetime(&series.symbol);
            if life.expires.is_some_and(|e| span.start >= e) {
                return Ok(Vec::new()); // nothing trades after expiry
            }
            // The oldest bar `candles` still serves (counted from the newest bar: now's, or
            // the last before expiry): older ones are in `history-candles` only.
            let newest = life.expires.map_or(now, |e| now.min(e - 1));
            let cut = iv.slot_start(iv.slot_of(newest) - (RECENT_BARS - 1));
            // Pages go back to the span's first slot (or an empty page), never stopping at
            // the published listing time, which can be later than the first bar.
            let oldest_slot = iv.slot_of(span.start);
            let spot = series.market == Market::Spot;
            let mut recent = bar != "1s" && span.end > cut;
            let mut out = Vec::new();
            let mut after = span.end;
            loop {
                let (path, page, limiter) = if recent {
                    ("candles", RECENT_PAGE, &self.candles_limiter)
                } else {
                    ("history-candles", HISTORY_PAGE, &self.history_limiter)
                };
                let url = format!(
                    "{}/api/v5/market/{path}?instId={}&bar={bar}&after={after}&before={}&limit={page}",
                    self.base(),
                    series.symbol,
                    span.start - 1
                );
                let body: Envelope<CandleRow> =
                    self.get(limiter, &url).await.map_err(|e| e.for_symbol(&series.symbol))?;
                let Some(oldest) = body.data.iter().map(|r| r.0 .0).min() else {
                    if recent {
                        // Nothing (more) in `candles`' window: the rest is history.
                        recent = false;
                        continue;
                    }
                    break;
                };
                out.extend(body.data.into_iter().map(|r| r.candle(spot)));
                if iv.slot_of(oldest) <= oldest_slot || oldest >= after {
                    break;
                }
                after = oldest;
                // `candles` has nothing older than its window's first bar.
                recent &= oldest > cut;
            }
            Ok(out)
        }
        .boxed()
    }

    /// `history-trades`: the first page by timestamp (`type=2`, trades older than the
    /// span's end), then by trade id (`type=1`), which is exact when many trades share a
    /// millisecond. Newest first; stops once past the span's start.
    fn fetch_trades<'a>(
        &'a self,
        series: &'a SeriesKey,
        span: TimeRange,
        _now: i64,
    ) -> BoxFuture<'a, Result<Vec<Trade>>> {
        async move {
            if self.lifetime(&series.symbol).expires.is_some_and(|e| span.start >= e) {
                return Ok(Vec::new()); // nothing trades after expiry
            }
            let mut out = Vec::new();
            let mut cursor = format!("type=2&after={}", span.end);
            loop {
                let url = format!(
                    "{}/api/v5/market/history-trades?instId={}&{cursor}&limit={TRADE_PAGE}",
                    self.base(),
                    series.symbol
                );
                let body: Envelope<TradeRow> =
                    self.get(&self.trades_limiter, &url).await.map_err(|e| e.for_symbol(&series.symbol))?;
                let Some(oldest) =
                    body.data.iter().min_by_key(|t| (t.ts.0, t.trade_id.0)).map(|t| (t.ts.0, t.trade_id.0))
                else {
                    break;
                };
                for row in &body.data {
                    out.push(row.trade()?);
                }
                if oldest.0 < span.start {
                    break;
                }
                cursor = format!("type=1&after={}", oldest.1);
            }
            Ok(out)
        }
        .boxed()
    }

    /// `funding-rate-history`, newest first, paged back by funding time; the settled
    /// `realizedRate` is the rate (`fundingRate` is the prediction).
    fn fetch_funding<'a>(
        &'a self,
        series: &'a SeriesKey,
        span: TimeRange,
        _now: i64,
    ) -> BoxFuture<'a, Result<Vec<FundingRate>>> {
        async move {
            if !series.symbol.ends_with("-SWAP") {
                return Err(Error::Unsupported("okx funding rates exist for perpetual swaps (…-SWAP) only".into()));
            }
            let mut out = Vec::new();
            let mut after = span.end;
            loop {
                let url = format!(
                    "{}/api/v5/public/funding-rate-history?instId={}&after={after}&before={}&limit={FUNDING_PAGE}",
                    self.base(),
                    series.symbol,
                    span.start - 1
                );
                let body: Envelope<FundingRow> =
                    self.get(&self.funding_limiter, &url).await.map_err(|e| e.for_symbol(&series.symbol))?;
                let Some(oldest) = body.data.iter().map(|r| r.funding_time.0).min() else { break };
                out.extend(body.data.iter().map(FundingRow::rate));
                if oldest <= span.start || oldest >= after {
                    break;
                }
                after = oldest;
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
            let url = format!("{}/api/v5/market/books?instId={symbol}&sz={}", self.base(), depth.min(400));
            let body: Envelope<BookRow> =
                self.get(&self.candles_limiter, &url).await.map_err(|e| e.for_symbol(symbol))?;
            first_book(body)
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
                "{}/api/v5/public/instruments?instType={}&instId={symbol}",
                self.base(),
                inst_type(market, symbol)
            );
            let body: Envelope<InstrumentRow> =
                self.get(&self.instruments_limiter, &url).await.map_err(|e| e.for_symbol(symbol))?;
            let Some(row) = body.data.into_iter().find(|i| i.inst_id == symbol) else { return Ok(None) };
            self.lifetimes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(row.inst_id.clone(), row.lifetime());
            Ok(Some(row.instrument()))
        }
        .boxed()
    }

    /// `history-candles?after=hint&limit=1` gives the newest bar older than `hint` (spec
    /// 4.3: `after=X` gives ts < X): an empty answer means nothing opens before `hint`.
    /// OKX cannot name its first bar directly, so without a hint there is no answer.
    fn empty_before<'a>(
        &'a self,
        series: &'a SeriesKey,
        hint: Option<i64>,
        _now: i64,
    ) -> BoxFuture<'a, Result<Option<i64>>> {
        async move {
            let Some(hint) = hint else { return Ok(None) };
            let bar = interval_code(INTERVALS, series.interval, "okx")?;
            let url = format!(
                "{}/api/v5/market/history-candles?instId={}&bar={bar}&after={hint}&limit=1",
                self.base(),
                series.symbol
            );
            let body: Envelope<CandleRow> =
                self.get(&self.history_limiter, &url).await.map_err(|e| e.for_symbol(&series.symbol))?;
            Ok(body.data.is_empty().then_some(hint))
        }
        .boxed()
    }

    /// Trades (`market/history-trades`) and funding (`public/funding-rate-history`): the
    /// last 3 months; `1s` candles (`history-candles`): 3 months (spec 4.1 and 4.5, "trades
    /// and funding history: 3 months"). 89 days: the shortest three calendar months.
    fn retention(&self, series: &SeriesKey) -> Option<Retention> {
        let limited = match series.kind {
            DataKind::Trades => true,
            // Only swaps have funding (others are `Unsupported`, said when fetching).
            DataKind::Funding => series.symbol.ends_with("-SWAP"),
            DataKind::Klines => series.interval.to_string() == "1s",
        };
        limited.then_some(Retention { days: 89 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instrument_ids_name_their_market() {
        assert_eq!(market_of("BTC-USDT").unwrap(), Market::Spot);
        assert_eq!(market_of("BTC-USDT-SWAP").unwrap(), Market::Linear);
        assert_eq!(market_of("BTC-USD-SWAP").unwrap(), Market::Inverse);
        assert_eq!(market_of("BTC-USDT-250926").unwrap(), Market::Linear);
        assert_eq!(market_of("BTC-USD-250926").unwrap(), Market::Inverse);
        assert_eq!(market_of("BTC-USD-241227-90000-C").unwrap(), Market::Option);
        assert!(market_of("BTCUSDT").is_err());
        let e = reconcile_market(Some(Market::Spot), Market::Linear, "okx", "BTC-USDT-SWAP").unwrap_err();
        assert!(e.to_string().contains("is in the linear market, not spot"), "{e}");
    }

    #[test]
    fn parses_the_documented_row() {
        let body = br#"{"code":"0","msg":"","data":[["1597026383085","3.721","3.743","3.677","3.708","8422410","22698348.04828491","12698348.04828491","0"]]}"#;
        let spot = parse_candles(body, true).unwrap();
        assert_eq!(
            (spot[0].open_time, spot[0].close, spot[0].volume),
            (1_597_026_383_085, 3.708, 8_422_410.0)
        );
        let swap = parse_candles(body, false).unwrap();
        assert_eq!((swap[0].volume, swap[0].quote_volume), (22_698_348.048_284_91, 12_698_348.048_284_91));
    }
}
