//! Query parameters: read and checked before anything is asked of the cache, each
//! failure a 400 naming the parameter.

use std::collections::HashMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::Query;
use cryptocache::time::parse_time;
use cryptocache::{Exchange, Interval, Market};

use crate::error::ApiError;

/// Longest accepted value of any parameter (a symbol, a time, a URL-encoded ISO date).
const MAX_VALUE_LEN: usize = 64;

/// The response format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON, decimals as strings (the default).
    Json,
    /// CSV with a header line.
    Csv,
    /// An Arrow IPC stream.
    Arrow,
}

/// A request's query string as axum parsed it, or why it could not (then a JSON 400,
/// like every other error, rather than axum's plain-text one).
pub type QueryMap = Result<Query<HashMap<String, String>>, QueryRejection>;

/// The parameters of one request.
#[derive(Debug)]
pub struct Params(HashMap<String, String>);

impl Params {
    /// Wraps the query map; an unreadable query string or any over-long value is refused.
    pub fn new(query: QueryMap) -> Result<Self, ApiError> {
        let Query(map) =
            query.map_err(|e| ApiError::invalid(format!("unreadable query string: {}", e.body_text())))?;
        if let Some((name, _)) = map.iter().find(|(_, v)| v.len() > MAX_VALUE_LEN) {
            return Err(ApiError::invalid(format!(
                "parameter {name} is longer than {MAX_VALUE_LEN} characters"
            )));
        }
        Ok(Params(map))
    }

    /// A parameter, if given (empty counts as absent).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// A required parameter.
    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name).ok_or_else(|| ApiError::invalid(format!("parameter {name} is required")))
    }

    /// `exchange`.
    pub fn exchange(&self) -> Result<Exchange, ApiError> {
        Ok(self.required("exchange")?.parse()?)
    }

    /// `market`, if given.
    pub fn market(&self) -> Result<Option<Market>, ApiError> {
        self.get("market").map(str::parse).transpose().map_err(ApiError::from)
    }

    /// `symbol`: printable ASCII without spaces.
    pub fn symbol(&self) -> Result<&str, ApiError> {
        let symbol = self.required("symbol")?;
        if !symbol.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ApiError::invalid(format!("symbol {symbol:?} has characters no exchange uses")));
        }
        Ok(symbol)
    }

    /// `interval`.
    pub fn interval(&self, name: &str) -> Result<Interval, ApiError> {
        Ok(self.required(name)?.parse()?)
    }

    /// A time: ms since 1970 or ISO 8601.
    pub fn time(&self, name: &str) -> Result<i64, ApiError> {
        parse_time(self.required(name)?).map_err(|e| ApiError::invalid(format!("{name}: {e}")))
    }

    /// `format` (json, csv or arrow; default json).
    pub fn format(&self) -> Result<Format, ApiError> {
        match self.get("format").unwrap_or("json").to_ascii_lowercase().as_str() {
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            "arrow" => Ok(Format::Arrow),
            other => Err(ApiError::invalid(format!("format {other:?}: use json, csv or arrow"))),
        }
    }

    /// A whole number in `range`, or `default`.
    pub fn number(
        &self,
        name: &str,
        default: u64,
        range: std::ops::RangeInclusive<u64>,
    ) -> Result<u64, ApiError> {
        let Some(text) = self.get(name) else { return Ok(default) };
        text.parse().ok().filter(|n| range.contains(n)).ok_or_else(|| {
            ApiError::invalid(format!(
                "{name} must be a whole number from {} to {}",
                range.start(),
                range.end()
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Result<Params, ApiError> {
        Params::new(Ok(Query(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())))
    }

    #[test]
    fn parameters_are_read_and_bad_ones_named() {
        let p =
            params(&[("exchange", "binance"), ("start", "2024-01-01"), ("format", "CSV"), ("depth", "50")])
                .unwrap();
        assert_eq!(p.exchange().unwrap(), Exchange::Binance);
        assert_eq!(p.time("start").unwrap(), 1_704_067_200_000);
        assert_eq!(p.format().unwrap(), Format::Csv);
        assert_eq!(p.number("depth", 20, 1..=1000).unwrap(), 50);
        assert!(p.required("symbol").unwrap_err().message.contains("symbol is required"));
        let bad = params(&[("exchange", "ftx"), ("symbol", "BTC USDT"), ("format", "xml"), ("depth", "0")])
            .unwrap();
        assert_eq!(bad.exchange().unwrap_err().code, "INVALID_QUERY");
        assert!(bad.symbol().is_err() && bad.format().is_err() && bad.number("depth", 20, 1..=1000).is_err());
        assert!(params(&[("symbol", &"X".repeat(65))]).is_err());
    }
}
