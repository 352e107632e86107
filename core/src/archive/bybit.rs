//! Bybit's public trade archive at public.bybit.com †: one gzipped CSV of a symbol's
//! trades per UTC day, the only source of Bybit's trade history (REST serves just the
//! newest 1000). Derivatives: `trading/SYMBOL/SYMBOLYYYY-MM-DD.csv.gz`; spot:
//! `spot/SYMBOL/SYMBOL_YYYY-MM-DD.csv.gz`.
//!
//! The traps (sources in `docs/archives.md`): no checksum is published, so the gzip
//! CRC-32 and length are all there is to check; derivatives times are seconds with four
//! decimals, truncated (not rounded) to the millisecond; derivatives trade ids are UUIDs;
//! sides are `Buy`/`Sell` or `buy`/`sell`.

use std::io::BufReader;
use std::sync::Arc;

use super::csv::parse_csv;
use super::download::Downloader;
use super::files::FileCache;
use crate::error::{Error, Result};
use crate::model::{Market, SeriesKey, TimeRange};
use crate::time::{civil_from_days, DAY_MS};
use crate::trades::{Side, Trade};

/// Decoded day files kept for the other hours of the same day (bytes of trades).
const FILE_MEMO_BYTES: u64 = 64 << 20;
/// A day file is due by the end of the next day.
const DAILY_LAG_MS: i64 = DAY_MS;

/// Bybit's trade archive, with the day files read lately kept decoded (one file serves
/// all 24 hour segments of its day) and one download per file.
pub(crate) struct BybitArchive {
    base: String,
    downloader: Downloader,
    /// Day files, sorted by time (file order kept within a millisecond).
    trades: FileCache<Trade>,
}

impl std::fmt::Debug for BybitArchive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BybitArchive").field("base", &self.base).finish()
    }
}

impl BybitArchive {
    /// The archive at `base` (e.g. [`super::BYBIT_ARCHIVE_URL`] or a simulator).
    pub(crate) fn new(base: &str, downloader: Downloader) -> Self {
        BybitArchive {
            base: base.trim_end_matches('/').to_string(),
            downloader,
            trades: FileCache::new(FILE_MEMO_BYTES),
        }
    }

    /// Every trade of UTC day `day` (days since 1970) for `series`, sorted by time, from
    /// its day file. A day that is not over, or whose file is not published, is
    /// `NotArchived` naming the file; a damaged file is `MalformedResponse`.
    pub(crate) async fn trades(&self, series: &SeriesKey, day: i64, now: i64) -> Result<Arc<Vec<Trade>>> {
        let span = TimeRange::new(day * DAY_MS, (day + 1) * DAY_MS);
        let (y, m, d) = civil_from_days(day);
        let (folder, name) = match series.market {
            Market::Spot => ("spot", format!("{0}_{y:04}-{m:02}-{d:02}.csv.gz", series.symbol)),
            Market::Linear | Market::Inverse => {
                ("trading", format!("{0}{y:04}-{m:02}-{d:02}.csv.gz", series.symbol))
            }
            other => return Err(Error::Unsupported(format!("bybit has no {other} trade archive"))),
        };
        let url = format!("{}/{folder}/{}/{name}", self.base, series.symbol);
        let rows = if span.end > now {
            None // a day's file is written once the day is over
        } else {
            let deadline = crate::rt::Instant::now() + self.downloader.retry.max_wait;
            self.trades.get(&url, || self.download(&url, &name, series.market, span, deadline)).await?
        };
        rows.ok_or_else(|| super::file_not_out("bybit", series, span, &name, span.end + DAILY_LAG_MS, now))
    }

    /// Downloads one day file and decodes it as a stream (`None`: not published).
    async fn download(
        &self,
        url: &str,
        name: &str,
        market: Market,
        day: TimeRange,
        deadline: crate::rt::Instant,
    ) -> Result<Option<Arc<Vec<Trade>>>> {
        let Some(gz) = self.downloader.file(url, deadline).await? else { return Ok(None) };
        let malformed = |message: String| Error::MalformedResponse {
            exchange: self.downloader.venue.into(),
            message: format!("{name}: {message}"),
        };
        // Inflated as it is parsed (off the async workers): the CSV text (several times
        // the gzip) is never whole. A gzip declares no size: the text is capped, so a bomb
        // is an error.
        let mut rows = crate::rt::blocking(move || {
            let reader = gz.reader().map_err(|e| format!("reading the download: {e}"))?;
            trades_of_gz(reader, gz.len(), market)
        })
        .await?
        .map_err(malformed)?;
        rows.sort_by_key(|t| t.time);
        if let Some(stray) = rows.iter().find(|t| !day.contains(t.time)) {
            return Err(malformed(format!("a trade at {} is outside the file's day", stray.time)));
        }
        Ok(Some(Arc::new(rows)))
    }
}

/// A spot row: `id, timestamp (ms), price, volume, side`.
/// The trades of a day file (`len` bytes of gzip), inflated as they are read; the text is
/// capped, so a gzip bomb is an error.
pub(crate) fn trades_of_gz(
    gz: impl std::io::Read,
    len: u64,
    market: Market,
) -> std::result::Result<Vec<Trade>, String> {
    let text = BufReader::new(super::csv::Capped::new(flate2::read::MultiGzDecoder::new(gz)));
    let hint = usize::try_from(len / 24).unwrap_or(0);
    match market {
        Market::Spot => parse_csv(text, hint, 5, spot_row).and_then(super::csv::same_rows_for_same_ids),
        _ => parse_csv(text, hint, 7, derivatives_row).and_then(unique_ids),
    }
}

fn spot_row(l: &super::csv::CsvLine<'_>) -> std::result::Result<Trade, String> {
    Ok(Trade {
        time: l.time_ms(1)?,
        id: l.int(0)?,
        price: l.float(2)?,
        quantity: l.float(3)?,
        side: side(l, 4)?,
    })
}

/// A derivatives row, with its whole `trdMatchID`: `timestamp (s), symbol, side, size,
/// price, tickDirection, trdMatchID, …`.
fn derivatives_row(l: &super::csv::CsvLine<'_>) -> std::result::Result<(Trade, u128), String> {
    let (id, whole) =
        match_id(l.fields[6]).ok_or_else(|| l.bad("a trdMatchID that is neither a UUID nor a number"))?;
    let trade =
        Trade { time: l.seconds_ms(0)?, id, price: l.float(4)?, quantity: l.float(3)?, side: side(l, 2)? };
    Ok((trade, whole))
}

/// The trades, once each, refusing two different `trdMatchID`s that map to one id: the
/// cache keeps one trade per id, so such a pair would silently lose a trade. (60 bits of
/// a random UUID: about one busy day in a million has such a pair.)
fn unique_ids(rows: Vec<(Trade, u128)>) -> std::result::Result<Vec<Trade>, String> {
    let mut seen = std::collections::HashMap::with_capacity(rows.len());
    for (trade, whole) in &rows {
        if seen.insert(trade.id, *whole).is_some_and(|other| other != *whole) {
            return Err(format!(
                "two trdMatchIDs share the id {}: the day cannot be stored exactly",
                trade.id
            ));
        }
    }
    Ok(rows.into_iter().map(|(trade, _)| trade).collect())
}

/// The taker side in field `i`: `Buy`/`Sell`, any case.
fn side(l: &super::csv::CsvLine<'_>, i: usize) -> std::result::Result<Side, String> {
    match l.fields[i].to_ascii_lowercase().as_str() {
        "buy" => Ok(Side::Buy),
        "sell" => Ok(Side::Sell),
        _ => Err(l.bad("a side that is neither buy nor sell")),
    }
}

/// A trade id from a `trdMatchID`, with the whole value: a UUID's first 60 bits (REST's
/// `execId` maps to the same id), or a plain number as it is.
fn match_id(text: &str) -> Option<(i64, u128)> {
    if let Ok(n) = text.parse::<i64>() {
        return Some((n, n as u128));
    }
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 || text.len() != 36 {
        return None;
    }
    let whole = u128::from_str_radix(&hex, 16).ok()?;
    Some(((whole >> 68) as i64, whole))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_of_either_file_read_alike() {
        let derivatives = "timestamp,symbol,side,size,price,tickDirection,trdMatchID,grossValue,homeNotional,foreignNotional,RPI\n\
            1704153600.1385,BTCUSDT,Sell,0.01,42283.5,MinusTick,a1b2c3d4-0000-5000-8000-000000000001,42283500000,0.01,422.835,0\n";
        let rows = unique_ids(parse_csv(derivatives.as_bytes(), 1, 7, derivatives_row).unwrap()).unwrap();
        assert_eq!(rows[0].time, 1_704_153_600_138, "truncated, not rounded");
        assert_eq!((rows[0].price, rows[0].quantity, rows[0].side), (42283.5, 0.01, Side::Sell));
        assert_eq!(rows[0].id, 0xa1b2c3d40000500);
        let spot = "id,timestamp,price,volume,side\n7,1704153600138,42283.5,0.01,buy\n";
        let rows = parse_csv(spot.as_bytes(), 1, 5, spot_row).unwrap();
        assert_eq!((rows[0].id, rows[0].time, rows[0].side), (7, 1_704_153_600_138, Side::Buy));
        assert!(parse_csv(&b"1,1704153600138,1,1,hold\n"[..], 1, 5, spot_row)
            .unwrap_err()
            .contains("neither"));
        // The same trdMatchID twice passes (normalizing keeps one); two sharing 60 bits do not.
        let line = |uuid: &str| format!("1704153600.1385,BTCUSDT,Sell,0.01,1,MinusTick,{uuid},1,1,1\n");
        let same = format!(
            "timestamp,x\n{}{}",
            line("a1b2c3d4-0000-5000-8000-000000000001"),
            line("a1b2c3d4-0000-5000-8000-000000000001")
        );
        assert_eq!(unique_ids(parse_csv(same.as_bytes(), 2, 7, derivatives_row).unwrap()).unwrap().len(), 2);
        let clash = format!(
            "timestamp,x\n{}{}",
            line("a1b2c3d4-0000-5000-8000-000000000001"),
            line("a1b2c3d4-0000-5000-8000-000000000002")
        );
        assert!(unique_ids(parse_csv(clash.as_bytes(), 2, 7, derivatives_row).unwrap())
            .unwrap_err()
            .contains("share"));
        assert_eq!(match_id("not-a-uuid"), None);
        assert_eq!(match_id("zzzzzzzz-0000-5000-8000-000000000001"), None);
    }
}
