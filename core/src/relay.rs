//! A cryptocache relay (`cryptocache serve`) as the upstream, instead of the exchanges:
//! how a team of laptops shares one cache and one rate budget.
//!
//! Missing segments come whole from the relay's `/v1/segments/...`: the bytes are the
//! one segment encoding, so they are verified like any cached value (checksum, and the
//! header must name exactly the segment asked for — its source namespace included) and
//! stored in this cache's own tiers with the expiry the relay gave them. Whether a
//! segment is final, known-empty or open was decided by the relay on the exchange's word;
//! this cache never guesses and never contacts an exchange itself. Order books come from
//! `/v1/book`. The relay's JSON errors become the same typed errors the exchanges give
//! ([`Error::from_wire`]).

use crate::rt::Instant;
use std::fmt;
use std::sync::Arc;

use crate::book::{Level, OrderBook};
use crate::codec;
use crate::error::{Error, Result};
use crate::exchange::retry::{self, Verdict};
use crate::exchange::{HttpClient, HttpConfig, RetryPolicy};
use crate::model::{DataKind, Exchange, Market};
use crate::segment::{Segment, SegmentKey};
use crate::stats::UpstreamCounters;

/// Where the relay is and the key to use.
#[derive(Clone, PartialEq, Eq)]
pub struct RelayConfig {
    /// The relay's base URL, e.g. `http://relay.internal:8080`.
    pub url: String,
    /// The API key (sent as `Authorization: Bearer`), when the relay wants one.
    pub api_key: Option<String>,
}

impl fmt::Debug for RelayConfig {
    /// Never prints the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RelayConfig")
            .field("url", &self.url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .finish()
    }
}

/// The media type of an encoded segment (what the relay's `/v1/segments` answers).
pub const SEGMENT_TYPE: &str = "application/vnd.cryptocache.segment";

/// The header in which the relay names the source namespace of what it answers.
pub const SOURCE_HEADER: &str = "x-cryptocache-source";

/// The venue name the relay's requests are counted under in the upstream statistics.
const VENUE: &str = "relay";

/// A client of one relay.
pub(crate) struct RelayClient {
    base: String,
    api_key: Option<String>,
    http: HttpClient,
    retry: RetryPolicy,
    counters: Arc<UpstreamCounters>,
}

impl fmt::Debug for RelayClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RelayClient").field("base", &self.base).finish_non_exhaustive()
    }
}

impl RelayClient {
    /// A client of the relay at `config.url` (checked: `http://` or `https://`).
    pub(crate) fn new(
        config: &RelayConfig,
        http: &HttpConfig,
        retry: RetryPolicy,
        counters: Arc<UpstreamCounters>,
    ) -> Result<Self> {
        let base = config.url.trim().trim_end_matches('/').to_owned();
        let scheme_ok = base.starts_with("http://") || base.starts_with("https://");
        if !scheme_ok || base.len() <= "https://".len() {
            return Err(Error::Config(format!(
                "relay URL {:?} is not valid: expected http://host:port or https://host",
                config.url
            )));
        }
        if let Some(key) = &config.api_key {
            if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(Error::Config("the relay API key must be printable ASCII without spaces".into()));
            }
        }
        Ok(RelayClient {
            base,
            api_key: config.api_key.clone(),
            http: HttpClient::new(http)?,
            retry,
            counters,
        })
    }

    /// The source namespace the relay stores each exchange's values under
    /// (`GET /v1/sources`): this cache stores what it gets from the relay under the same.
    pub(crate) async fn sources(&self) -> Result<Vec<(Exchange, String)>> {
        let reply = self.get("/v1/sources").await?;
        let body: serde_json::Value = serde_json::from_slice(&reply.body).map_err(|e| self.malformed(e))?;
        Exchange::ALL
            .into_iter()
            .map(|exchange| {
                let source = body.get(exchange.as_str()).and_then(|v| v.as_str()).ok_or_else(|| {
                    self.malformed(format!("/v1/sources does not name {exchange}'s source"))
                })?;
                crate::source::validate_name(source).map_err(|e| self.malformed(e))?;
                Ok((exchange, source.to_owned()))
            })
            .collect()
    }

    /// One segment, verified, with the expiry the relay gave it. Bytes that fail the
    /// verification (damaged in transit) are fetched again, as many times as the retry
    /// policy allows; then the error is `MALFORMED_RESPONSE` and nothing is kept.
    pub(crate) async fn segment(&self, key: &SegmentKey) -> Result<Segment> {
        let series = &key.series;
        let what = match series.kind {
            DataKind::Klines => series.interval.to_string(),
            DataKind::Trades => "trades".into(),
            DataKind::Funding => "funding".into(),
        };
        let path = format!(
            "/v1/segments/{}/{}/{what}/{}/{}",
            series.exchange,
            series.market,
            series.symbol,
            key.span().start
        );
        let mut retries = 0;
        loop {
            let reply = self.get(&path).await?;
            if let Some(theirs) = reply.header(SOURCE_HEADER).filter(|s| *s != &*series.source) {
                return Err(Error::Config(format!(
                    "the relay at {} serves {} values from source {theirs:?}, but this cache stores them as {:?}: \
                     leave the source unset (it is then the relay's) or point at a relay of that source",
                    self.base, series.exchange, series.source
                )));
            }
            match codec::decode(key, &reply.body) {
                // A relay serves whole segments: a partial one is never taken for one.
                Ok(segment) if !segment.is_complete() => {
                    return Err(self.malformed(format!("segment {path}: the relay sent a partial segment")))
                }
                Ok(segment) => return Ok(segment),
                Err(e) if retries < self.retry.max_retries => {
                    tracing::warn!(segment = %path, why = %e.0, "damaged segment from the relay; fetching it again");
                    self.counters.retry();
                    retries += 1;
                }
                Err(e) => return Err(self.malformed(format!("segment {path}: {}", e.0))),
            }
        }
    }

    /// The order book now (`GET /v1/book`).
    pub(crate) async fn order_book(
        &self,
        exchange: Exchange,
        market: Market,
        symbol: &str,
        depth: usize,
    ) -> Result<OrderBook> {
        let path = format!("/v1/book?exchange={exchange}&market={market}&symbol={symbol}&depth={depth}");
        let reply = self.get(&path).await?;
        let body: serde_json::Value = serde_json::from_slice(&reply.body).map_err(|e| self.malformed(e))?;
        let side = |name: &str| -> Result<Vec<Level>> {
            let levels = body.get(name).and_then(|v| v.as_array()).ok_or_else(|| self.malformed(name))?;
            levels
                .iter()
                .map(|level| {
                    let number =
                        |i: usize| level.get(i).and_then(|v| v.as_str()).and_then(|s| s.parse::<f64>().ok());
                    match (number(0), number(1)) {
                        (Some(price), Some(quantity)) => Ok(Level { price, quantity }),
                        _ => Err(self.malformed(format!("{name}: level {level}"))),
                    }
                })
                .collect()
        };
        Ok(OrderBook {
            time: body.get("time").and_then(|v| v.as_i64()).ok_or_else(|| self.malformed("time"))?,
            update_id: body.get("update_id").and_then(|v| v.as_i64()),
            bids: side("bids")?,
            asks: side("asks")?,
        })
    }

    /// GET `path` with the key; transport failures and 5xx answers that are not the
    /// relay's own JSON errors (a proxy in front of it, a restart) are retried.
    async fn get(&self, path: &str) -> Result<crate::exchange::Reply> {
        let url = format!("{}{path}", self.base);
        let bearer = self.api_key.as_ref().map(|k| format!("Bearer {k}"));
        let headers: Vec<(&str, &str)> = bearer.iter().map(|b| ("authorization", b.as_str())).collect();
        let deadline = crate::rt::Instant::now() + self.retry.max_wait;
        retry::run(&self.retry, &self.counters, deadline, || async {
            self.counters.request(VENUE, 1);
            let started = Instant::now();
            let reply = match self.http.get_with(&url, &headers).await {
                Ok(reply) => reply,
                Err(message) => {
                    self.counters.answered(VENUE, "network_error", started.elapsed());
                    self.counters.error();
                    let error = Error::Network { exchange: self.name(), message };
                    return Verdict::Retry { after: None, error };
                }
            };
            self.counters.answered(VENUE, &reply.status.to_string(), started.elapsed());
            self.counters.received(reply.body.len());
            if reply.status == 200 {
                return Verdict::Done(reply);
            }
            self.counters.error();
            let error = self.error_of(&reply);
            let relays_own = serde_json::from_slice::<serde_json::Value>(&reply.body).is_ok();
            if reply.status >= 500 && !relays_own {
                Verdict::Retry { after: None, error }
            } else {
                Verdict::Fail(error)
            }
        })
        .await
    }

    /// The error a non-200 answer stands for: the core's own error when the relay sent
    /// one, else by status (a refused key, the relay's quota, something not a relay).
    fn error_of(&self, reply: &crate::exchange::Reply) -> Error {
        let body: serde_json::Value = serde_json::from_slice(&reply.body).unwrap_or_default();
        if let Some(error) = Error::from_wire(&body) {
            return error;
        }
        let message = body
            .get("message")
            .and_then(|m| m.as_str())
            .map_or_else(|| format!("HTTP {}", reply.status), str::to_owned);
        match reply.status {
            401 | 403 => Error::Config(format!("the relay at {} refused the API key: {message}", self.base)),
            429 => Error::RateLimited {
                exchange: self.name(),
                retry_after: reply
                    .header("retry-after")
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .map(std::time::Duration::from_secs),
                message,
            },
            400 | 413 | 414 => Error::InvalidQuery(format!("the relay refused the query: {message}")),
            404 => Error::Config(format!(
                "{} does not look like a cryptocache relay (HTTP 404 for a relay endpoint: {message})",
                self.base
            )),
            status => Error::Network { exchange: self.name(), message: format!("HTTP {status}: {message}") },
        }
    }

    /// How the relay is named in errors.
    fn name(&self) -> String {
        format!("relay {}", self.base)
    }

    fn malformed(&self, what: impl fmt::Display) -> Error {
        Error::MalformedResponse { exchange: self.name(), message: what.to_string() }
    }
}
