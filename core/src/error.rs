//! The one error type of cryptocache. Every binding maps it (Python exceptions, JS
//! `Error.code`, C status codes) through [`Error::code`], so the mapping lives here once.

use std::time::Duration;

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in a query. `Clone` so that one failed upstream fetch
/// can be handed to every caller waiting on it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The query itself is wrong: bad interval, `start >= end`, absurd range, unsupported
    /// market for the exchange. Nothing was sent upstream.
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    /// The exchange does not know the symbol (for this market).
    #[error("unknown symbol {symbol:?} on {exchange}")]
    UnknownSymbol {
        /// Exchange name, e.g. `binance-spot`.
        exchange: String,
        /// The symbol as given.
        symbol: String,
    },
    /// The exchange (or this build) does not offer what was asked.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The exchange throttled us and the retry budget (or the longest wait we accept) ran out.
    #[error("rate limited by {exchange}{}: {message}", retry_after.map(|d| format!(" (retry after {:.1}s)", d.as_secs_f64())).unwrap_or_default())]
    RateLimited {
        /// Exchange name.
        exchange: String,
        /// How long the exchange asked us to wait, when it said.
        retry_after: Option<Duration>,
        /// The exchange's message.
        message: String,
    },
    /// The range reaches further back than the exchange serves this data (e.g. OKX keeps
    /// about three months of trades and funding history). Nothing was cached; the part of
    /// the range from `earliest` on can be asked for.
    #[error(
        "{exchange} serves {what} of {symbol} only from {} on (the last {} days); the query starts at {}",
        crate::time::format_time(*earliest),
        retention_days,
        crate::time::format_time(*start)
    )]
    OutOfRetention {
        /// Exchange name.
        exchange: String,
        /// The symbol.
        symbol: String,
        /// What was asked: `klines`, `trades`, `funding`.
        what: String,
        /// The earliest time the exchange serves now (ms).
        earliest: i64,
        /// How many days back the exchange serves.
        retention_days: i64,
        /// Where the missing part of the query starts (ms).
        start: i64,
    },
    /// The exchange's bulk archive cannot answer for this range (with archives `only`):
    /// a file is not published (yet), failed its checksum, or lacks rows. Nothing was
    /// cached; `available_from`, when known, is when the missing file should appear.
    #[error(
        "{exchange} archive cannot serve {symbol} from {} to {}: {reason}{}",
        crate::time::format_time(*start),
        crate::time::format_time(*end),
        available_from.map(|t| format!(" (expected from {})", crate::time::format_time(t))).unwrap_or_default()
    )]
    NotArchived {
        /// Exchange name, e.g. `binance-spot`.
        exchange: String,
        /// The symbol.
        symbol: String,
        /// Start of the span the archive could not serve (ms).
        start: i64,
        /// End of that span (ms, exclusive).
        end: i64,
        /// Why: which file is missing or damaged, or what is not archived.
        reason: String,
        /// When the missing file is expected to be published, when that is known (ms).
        available_from: Option<i64>,
    },
    /// The exchange answered with an error we cannot recover from (after retries for 5xx).
    #[error("{exchange} error{}{}: {message}", code.map(|c| format!(" {c}")).unwrap_or_default(), status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Exchange {
        /// Exchange name.
        exchange: String,
        /// The exchange's own error code, when its body had one.
        code: Option<i64>,
        /// HTTP status, when there was a response.
        status: Option<u16>,
        /// The exchange's message.
        message: String,
    },
    /// The exchange could not be reached (connect, timeout, TLS) after retries.
    #[error("network error talking to {exchange}: {message}")]
    Network {
        /// Exchange name.
        exchange: String,
        /// What failed.
        message: String,
    },
    /// The exchange answered 200 with a body we cannot parse (after retries).
    #[error("malformed response from {exchange}: {message}")]
    MalformedResponse {
        /// Exchange name.
        exchange: String,
        /// What was wrong.
        message: String,
    },
    /// A cache tier failed in a way that could not be degraded around (e.g. the disk
    /// store cannot be opened at build time).
    #[error("cache error: {0}")]
    Cache(String),
    /// The cache was configured wrongly.
    #[error("configuration error: {0}")]
    Config(String),
}

impl Error {
    /// Stable, language-neutral code for this error. The bindings expose it as is
    /// (JS `error.code`, C status names, the Python exception class is chosen by it).
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidQuery(_) => "INVALID_QUERY",
            Error::UnknownSymbol { .. } => "UNKNOWN_SYMBOL",
            Error::Unsupported(_) => "UNSUPPORTED",
            Error::RateLimited { .. } => "RATE_LIMITED",
            Error::OutOfRetention { .. } => "OUT_OF_RETENTION",
            Error::NotArchived { .. } => "NOT_ARCHIVED",
            Error::Exchange { .. } => "EXCHANGE_ERROR",
            Error::Network { .. } => "NETWORK_ERROR",
            Error::MalformedResponse { .. } => "MALFORMED_RESPONSE",
            Error::Cache(_) => "CACHE_ERROR",
            Error::Config(_) => "CONFIG_ERROR",
        }
    }

    /// This error as the JSON a relay answers: `code`, `message` (for a person) and the
    /// variant's fields, so a client rebuilds exactly this error with [`Error::from_wire`].
    pub fn to_wire(&self) -> serde_json::Value {
        use serde_json::json;
        let mut body = match self {
            Error::InvalidQuery(detail)
            | Error::Unsupported(detail)
            | Error::Cache(detail)
            | Error::Config(detail) => json!({ "detail": detail }),
            Error::UnknownSymbol { exchange, symbol } => json!({ "exchange": exchange, "symbol": symbol }),
            Error::RateLimited { exchange, retry_after, message } => json!({
                "exchange": exchange,
                "retry_after_ms": retry_after.map(|d| d.as_millis() as u64),
                "detail": message,
            }),
            Error::OutOfRetention { exchange, symbol, what, earliest, retention_days, start } => json!({
                "exchange": exchange, "symbol": symbol, "what": what, "earliest": earliest,
                "retention_days": retention_days, "start": start,
            }),
            Error::NotArchived { exchange, symbol, start, end, reason, available_from } => json!({
                "exchange": exchange, "symbol": symbol, "start": start, "end": end,
                "detail": reason, "available_from": available_from,
            }),
            Error::Exchange { exchange, code, status, message } => json!({
                "exchange": exchange, "exchange_code": code, "status": status, "detail": message,
            }),
            Error::Network { exchange, message } | Error::MalformedResponse { exchange, message } => {
                json!({ "exchange": exchange, "detail": message })
            }
        };
        body["code"] = json!(self.code());
        body["message"] = json!(self.to_string());
        body
    }

    /// The error a relay's JSON error body stands for; `None` when the body is not one of
    /// the core's errors (e.g. the relay's own `UNAUTHORIZED`).
    pub fn from_wire(body: &serde_json::Value) -> Option<Error> {
        let text = |name: &str| body.get(name).and_then(|v| v.as_str()).map(str::to_owned);
        let int = |name: &str| body.get(name).and_then(serde_json::Value::as_i64);
        let detail = || text("detail");
        Some(match body.get("code")?.as_str()? {
            "INVALID_QUERY" => Error::InvalidQuery(detail()?),
            "UNSUPPORTED" => Error::Unsupported(detail()?),
            "CACHE_ERROR" => Error::Cache(detail()?),
            "CONFIG_ERROR" => Error::Config(detail()?),
            "UNKNOWN_SYMBOL" => Error::UnknownSymbol { exchange: text("exchange")?, symbol: text("symbol")? },
            "RATE_LIMITED" => Error::RateLimited {
                exchange: text("exchange")?,
                retry_after: body
                    .get("retry_after_ms")
                    .and_then(serde_json::Value::as_u64)
                    .map(Duration::from_millis),
                message: detail()?,
            },
            "OUT_OF_RETENTION" => Error::OutOfRetention {
                exchange: text("exchange")?,
                symbol: text("symbol")?,
                what: text("what")?,
                earliest: int("earliest")?,
                retention_days: int("retention_days")?,
                start: int("start")?,
            },
            "NOT_ARCHIVED" => Error::NotArchived {
                exchange: text("exchange")?,
                symbol: text("symbol")?,
                start: int("start")?,
                end: int("end")?,
                reason: detail()?,
                available_from: int("available_from"),
            },
            "EXCHANGE_ERROR" => Error::Exchange {
                exchange: text("exchange")?,
                code: int("exchange_code"),
                status: int("status").and_then(|s| u16::try_from(s).ok()),
                message: detail()?,
            },
            "NETWORK_ERROR" => Error::Network { exchange: text("exchange")?, message: detail()? },
            "MALFORMED_RESPONSE" => {
                Error::MalformedResponse { exchange: text("exchange")?, message: detail()? }
            }
            _ => return None,
        })
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidQuery(message.into())
    }

    /// Names `symbol` in an `UnknownSymbol` error (exchange bodies rarely do); other
    /// errors pass through.
    pub(crate) fn for_symbol(self, symbol: &str) -> Self {
        match self {
            Error::UnknownSymbol { exchange, .. } => {
                Error::UnknownSymbol { exchange, symbol: symbol.to_string() }
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_survives_the_wire() {
        let errors = [
            Error::InvalidQuery("start must be before end".into()),
            Error::UnknownSymbol { exchange: "binance-spot".into(), symbol: "NOPE".into() },
            Error::Unsupported("no trades".into()),
            Error::RateLimited {
                exchange: "okx".into(),
                retry_after: Some(Duration::from_millis(1500)),
                message: "slow down".into(),
            },
            Error::RateLimited { exchange: "okx".into(), retry_after: None, message: "slow down".into() },
            Error::OutOfRetention {
                exchange: "okx".into(),
                symbol: "BTC-USDT".into(),
                what: "trades".into(),
                earliest: 1_700_000_000_000,
                retention_days: 89,
                start: 1_600_000_000_000,
            },
            Error::NotArchived {
                exchange: "binance-spot".into(),
                symbol: "BTCUSDT".into(),
                start: 1_700_000_000_000,
                end: 1_700_060_000_000,
                reason: "BTCUSDT-1m-2023-11-14.zip is not published".into(),
                available_from: Some(1_700_100_000_000),
            },
            Error::Exchange {
                exchange: "bybit".into(),
                code: Some(10001),
                status: Some(200),
                message: "bad".into(),
            },
            Error::Exchange { exchange: "bybit".into(), code: None, status: None, message: "bad".into() },
            Error::Network { exchange: "deribit".into(), message: "timeout".into() },
            Error::MalformedResponse { exchange: "deribit".into(), message: "eof".into() },
            Error::Cache("disk full".into()),
            Error::Config("bad url".into()),
        ];
        for e in errors {
            let wire = e.to_wire();
            assert_eq!(wire["code"], e.code());
            assert_eq!(wire["message"], e.to_string());
            let back = Error::from_wire(&wire).expect("rebuilt");
            assert_eq!(back.to_string(), e.to_string());
            assert_eq!(back.code(), e.code());
        }
        assert!(Error::from_wire(&serde_json::json!({"code": "UNAUTHORIZED", "message": "no key"})).is_none());
        assert!(Error::from_wire(&serde_json::json!({"code": "UNKNOWN_SYMBOL"})).is_none(), "fields missing");
    }

    #[test]
    fn messages_are_clear() {
        let e = Error::RateLimited {
            exchange: "binance-spot".into(),
            retry_after: Some(Duration::from_secs(2)),
            message: "Too many requests".into(),
        };
        assert_eq!(e.to_string(), "rate limited by binance-spot (retry after 2.0s): Too many requests");
        let e = Error::Exchange {
            exchange: "binance-um".into(),
            code: Some(-1023),
            status: Some(400),
            message: "Start time is greater than end time.".into(),
        };
        assert_eq!(e.to_string(), "binance-um error -1023 (HTTP 400): Start time is greater than end time.");
        assert_eq!(e.code(), "EXCHANGE_ERROR");
    }
}
