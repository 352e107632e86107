//! Each archive file format read whole from bytes, the way a download is read (the first
//! file of a zip, CRC-checked, or a capped gzip stream; then its CSV rows): the entry
//! points of the fuzz targets in `fuzz/`. Each returns the rows, or why the file cannot be
//! read; none panics, whatever the bytes.

use std::io::Cursor;

use crate::model::Market;
use crate::{Candle, Trade};

/// A data.binance.vision klines zip.
pub fn binance_klines(zip: &[u8]) -> Result<Vec<Candle>, String> {
    super::zip::rows_of_zip(Cursor::new(zip), |text, len| {
        super::binance::parse_kline_csv(text, usize::try_from(len).unwrap_or(usize::MAX))
    })
}

/// A data.binance.vision USD-M fundingRate zip: how many funding events it holds.
pub fn binance_funding(zip: &[u8]) -> Result<usize, String> {
    super::zip::rows_of_zip(Cursor::new(zip), |text, len| {
        super::binance::parse_funding_csv(text, usize::try_from(len).unwrap_or(usize::MAX))
    })
    .map(|rows| rows.len())
}

/// A data.binance.vision aggTrades zip.
pub fn binance_agg_trades(zip: &[u8]) -> Result<Vec<Trade>, String> {
    super::zip::rows_of_zip(Cursor::new(zip), |text, len| {
        super::binance::parse_agg_trades_csv(text, usize::try_from(len).unwrap_or(usize::MAX))
    })
}

/// A public.bybit.com trades day file (gzip) of `market`.
pub fn bybit_trades(gz: &[u8], market: Market) -> Result<Vec<Trade>, String> {
    super::bybit::trades_of_gz(gz, gz.len() as u64, market)
}

/// An OKX 1m candles day file (zip) of `symbol`.
pub fn okx_candles(zip: &[u8], symbol: &str, spot: bool) -> Result<Vec<Candle>, String> {
    super::zip::rows_of_zip(Cursor::new(zip), |text, _| super::okx::decode_candles(text, symbol, spot))
}

/// An OKX trades day file (zip) of `symbol`.
pub fn okx_trades(zip: &[u8], symbol: &str) -> Result<Vec<Trade>, String> {
    super::zip::rows_of_zip(Cursor::new(zip), |text, len| super::okx::decode_trades(text, len, symbol))
}

/// An OKX swap funding day file (zip): how many funding events it holds.
pub fn okx_funding(zip: &[u8]) -> Result<usize, String> {
    super::zip::rows_of_zip(Cursor::new(zip), super::okx::decode_funding).map(|rows| rows.len())
}
