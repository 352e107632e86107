//! The exchanges' bulk archive files: closed history at no API weight, and (for some
//! venues) beyond what REST still serves. Each file is verified against the checksum the
//! exchange publishes before any row of it is used. Layouts, formats and traps, with
//! sources: `docs/archives.md`.
//!
//! | module | job |
//! |---|---|
//! | `mod.rs` | the `archives` setting |
//! | `download.rs` | downloads with retries and resumption, checksum checks |
//! | `spool.rs` | files written to disk as they arrive, parts kept for resuming |
//! | `files.rs` | decoded files by URL, one download per file, failures remembered |
//! | `binance.rs` | data.binance.vision: which files cover a span, their CSV rows |
//! | `bybit.rs` | public.bybit.com: day files of trades, their CSV rows |
//! | `okx.rs` | OKX's historical data: its index, UTC+8 day files of trades and 1m candles |
//! | `csv.rs` | archive CSV lines, read as a stream |
//! | `zip.rs` | the one file inside a zip, CRC-checked |
//! | `formats.rs` | each file format read whole from bytes (the fuzz targets' entry) |

#[cfg(all(feature = "http", not(target_arch = "wasm32")))]
mod binance;
#[cfg(all(feature = "http", not(target_arch = "wasm32")))]
mod bybit;
#[cfg(all(feature = "http", not(target_arch = "wasm32")))]
mod csv;
#[cfg(all(feature = "http", not(target_arch = "wasm32")))]
mod download;
#[cfg(all(feature = "http", not(target_arch = "wasm32")))]
mod files;
#[cfg(all(feature = "http", not(target_arch = "wasm32")))]
pub mod formats;
#[cfg(all(feature = "http", not(target_arch = "wasm32")))]
mod okx;
#[cfg(all(feature = "http", not(target_arch = "wasm32")))]
mod spool;
#[cfg(all(feature = "http", not(target_arch = "wasm32")))]
mod zip;

#[cfg(all(feature = "http", not(target_arch = "wasm32")))]
pub(crate) use binance::{ArchivedFundingSpan, BinanceArchive};
#[cfg(all(feature = "http", not(target_arch = "wasm32")))]
pub(crate) use bybit::BybitArchive;
#[cfg(all(feature = "http", not(target_arch = "wasm32")))]
pub(crate) use download::{ArchivedKlines, Downloader};
#[cfg(all(feature = "http", not(target_arch = "wasm32")))]
pub(crate) use okx::{publishes_interval as okx_publishes_interval, utc8_day_of, utc8_day_span, OkxArchive};
#[cfg(all(feature = "http", not(target_arch = "wasm32")))]
pub(crate) use spool::Spool;

use crate::error::{Error, Result};
use crate::model::{SeriesKey, TimeRange};

/// Binance's live bulk archive.
pub const BINANCE_ARCHIVE_URL: &str = "https://data.binance.vision";
/// Bybit's live public trade archive.
pub const BYBIT_ARCHIVE_URL: &str = "https://public.bybit.com";

/// `NOT_ARCHIVED` for `span` of `series` at `venue` (e.g. `binance-um`): `reason` says
/// which file and why; `available_from` is when it is due, if it is not out yet.
pub(crate) fn not_archived(
    venue: &str,
    series: &SeriesKey,
    span: TimeRange,
    reason: String,
    available_from: Option<i64>,
) -> Error {
    Error::NotArchived {
        exchange: venue.to_string(),
        symbol: series.symbol.to_string(),
        start: span.start,
        end: span.end,
        reason,
        available_from,
    }
}

/// `NOT_ARCHIVED` for file `name` of `span`, due by `due`: *not published yet* (saying
/// when) before then, *missing* after.
#[cfg(all(feature = "http", not(target_arch = "wasm32")))]
pub(crate) fn file_not_out(
    venue: &str,
    series: &SeriesKey,
    span: TimeRange,
    name: &str,
    due: i64,
    now: i64,
) -> Error {
    if due <= now {
        not_archived(venue, series, span, format!("{name} is missing (due by now)"), None)
    } else {
        not_archived(venue, series, span, format!("{name} is not published yet"), Some(due))
    }
}

/// Whether closed history comes from the exchanges' bulk archives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ArchiveMode {
    /// Archives first for closed history older than the last two days, REST for the
    /// rest and wherever a file is missing, damaged or lacks rows (the default).
    #[default]
    Auto,
    /// REST only.
    Off,
    /// Archives only: what they cannot serve is a `NOT_ARCHIVED` error, never a REST call.
    Only,
}

impl std::str::FromStr for ArchiveMode {
    type Err = Error;

    /// `auto`, `off` or `only`.
    fn from_str(text: &str) -> Result<Self> {
        match text {
            "auto" => Ok(ArchiveMode::Auto),
            "off" => Ok(ArchiveMode::Off),
            "only" => Ok(ArchiveMode::Only),
            other => Err(Error::Config(format!("archives must be auto, off or only, not {other:?}"))),
        }
    }
}

impl std::fmt::Display for ArchiveMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ArchiveMode::Auto => "auto",
            ArchiveMode::Off => "off",
            ArchiveMode::Only => "only",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_and_print() {
        for mode in [ArchiveMode::Auto, ArchiveMode::Off, ArchiveMode::Only] {
            assert_eq!(mode.to_string().parse::<ArchiveMode>().unwrap(), mode);
        }
        assert!(
            matches!("on".parse::<ArchiveMode>(), Err(Error::Config(m)) if m.contains("auto, off or only"))
        );
    }
}
