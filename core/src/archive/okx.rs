//! OKX's historical market data †: an index endpoint on the API host
//! (`/api/v5/public/market-data-history`) lists day files of trades on a static CDN, each
//! a zip of one CSV. OKX publishes no checksum and no directory listing, so files are
//! found through the index (never by guessing URLs), and the zip's CRC-32 is what is
//! checked.
//!
//! The traps (sources in `docs/archives.md`): the days are **UTC+8 days** (a file dated
//! 2024-01-02 starts at 2024-01-01 16:00 UTC); spot files keep an older bilingual header
//! with size before price, derivatives files the newer `instrument_name, trade_id, side,
//! price, size, created_time`; the index may name another instrument's file; an index
//! call spans at most 20 days and has its own small budget.

use std::io::BufReader;
use std::sync::Arc;

use serde::Deserialize;

use super::csv::{parse_csv, CsvLine};
use super::download::Downloader;
use super::files::FileCache;
use crate::error::{Error, Result};
use crate::model::{Market, SeriesKey, TimeRange};
use crate::time::{civil_from_days, DAY_MS};
use crate::trades::{Side, Trade};

/// Decoded day files kept for the other hours of the same day (bytes of trades).
const FILE_MEMO_BYTES: u64 = 64 << 20;
/// UTC+8, the clock of OKX's day files.
const UTC8_MS: i64 = 8 * 3_600_000;
/// Days one index call covers (OKX allows 20): calls are aligned to these windows.
const INDEX_WINDOW_DAYS: i64 = 20;
/// A day's file is due two days after the day ends ("usually two days later").
const PUBLICATION_LAG_MS: i64 = 2 * DAY_MS;

/// The UTC span of UTC+8 day `day` (days since 1970-01-01 on that clock).
pub(crate) fn utc8_day_span(day: i64) -> TimeRange {
    TimeRange::new(day * DAY_MS - UTC8_MS, (day + 1) * DAY_MS - UTC8_MS)
}

/// The UTC+8 day holding `ms`.
pub(crate) fn utc8_day_of(ms: i64) -> i64 {
    (ms + UTC8_MS).div_euclid(DAY_MS)
}

/// OKX's trade archive: the index windows and day files read lately, decoded.
pub(crate) struct OkxArchive {
    base: String,
    downloader: Downloader,
    /// Index windows by URL: (UTC+8 day, file URL) of each listed file.
    index: FileCache<(i64, String)>,
    /// Day files by URL, sorted by time.
    trades: FileCache<Trade>,
}

impl std::fmt::Debug for OkxArchive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OkxArchive").field("base", &self.base).finish()
    }
}

/// The index's reply: `{"code","msg","data":[{"details":[{"groupDetails":[...]}]}]}`.
#[derive(Deserialize)]
struct IndexReply {
    code: String,
    #[serde(default)]
    msg: String,
    #[serde(default)]
    data: Vec<IndexData>,
}

#[derive(Deserialize)]
struct IndexData {
    #[serde(default)]
    details: Vec<IndexDetail>,
}

#[derive(Deserialize)]
struct IndexDetail {
    #[serde(rename = "groupDetails", default)]
    group_details: Vec<IndexFile>,
}

#[derive(Deserialize)]
struct IndexFile {
    filename: String,
    url: String,
}

impl OkxArchive {
    /// The archive whose index is served at `base` (OKX's API host, or a simulator).
    pub(crate) fn new(base: &str, downloader: Downloader) -> Self {
        OkxArchive {
            base: base.trim_end_matches('/').to_string(),
            downloader,
            index: FileCache::new(1 << 20),
            trades: FileCache::new(FILE_MEMO_BYTES),
        }
    }

    /// Every trade of UTC+8 day `day` for `series`, sorted by time, from its day file
    /// (found through the index). A day that is not over, or whose file is not listed, is
    /// `NotArchived` naming the file; a damaged file is `MalformedResponse`.
    pub(crate) async fn trades(&self, series: &SeriesKey, day: i64, now: i64) -> Result<Arc<Vec<Trade>>> {
        let span = utc8_day_span(day);
        let (y, m, d) = civil_from_days(day);
        let name = format!("{}-trades-{y:04}-{m:02}-{d:02}.zip", series.symbol);
        let deadline = crate::rt::Instant::now() + self.downloader.retry.max_wait;
        let url = if span.end > now { None } else { self.listed(series, day, &name, deadline).await? };
        let rows = match url {
            Some(url) => self.trades.get(&url, || self.download(&url, &name, series, span, deadline)).await?,
            None => None,
        };
        rows.ok_or_else(|| {
            super::file_not_out("okx", series, span, &name, span.end + PUBLICATION_LAG_MS, now)
        })
    }

    /// The URL the index lists for file `name` of `day` (`None`: not listed).
    async fn listed(
        &self,
        series: &SeriesKey,
        day: i64,
        name: &str,
        deadline: crate::rt::Instant,
    ) -> Result<Option<String>> {
        let first = day.div_euclid(INDEX_WINDOW_DAYS) * INDEX_WINDOW_DAYS;
        let inst_type = crate::exchange::okx::inst_type(series.market, &series.symbol);
        let list = match series.market {
            Market::Spot => format!("instIdList={}", series.symbol),
            // The family: `BTC-USDT` of `BTC-USDT-SWAP` and `BTC-USDT-250926`.
            _ => format!(
                "instFamilyList={}",
                series.symbol.splitn(3, '-').take(2).collect::<Vec<_>>().join("-")
            ),
        };
        let url = format!(
            "{}/api/v5/public/market-data-history?module=1&instType={inst_type}&{list}&dateAggrType=daily&begin={}&end={}",
            self.base,
            // 04:00 UTC: the same date on the UTC and the UTC+8 clock, whichever OKX reads.
            utc8_day_span(first).start + 12 * 3_600_000,
            utc8_day_span(first + INDEX_WINDOW_DAYS - 1).start + 12 * 3_600_000,
        );
        let files = self.index.get(&url, || self.read_index(&url, deadline)).await?;
        Ok(files.and_then(|files| {
            // The index has been seen to name another instrument's file: match the name.
            files
                .iter()
                .find(|(d, u)| *d == day && u.rsplit('/').next() == Some(name))
                .map(|(_, u)| u.clone())
        }))
    }

    /// One index call: the listed files' (UTC+8 day, URL).
    async fn read_index(
        &self,
        url: &str,
        deadline: crate::rt::Instant,
    ) -> super::files::FileRows<(i64, String)> {
        let malformed = |message: String| Error::MalformedResponse { exchange: "okx".into(), message };
        let Some(body) = self.downloader.get(url, deadline).await? else {
            return Err(malformed("the historical data index answered 404".into()));
        };
        let reply: IndexReply =
            serde_json::from_slice(&body).map_err(|e| malformed(format!("historical data index: {e}")))?;
        if reply.code != "0" {
            return Err(Error::Exchange {
                exchange: "okx".into(),
                code: reply.code.parse().ok(),
                status: None,
                message: reply.msg,
            });
        }
        // Only the expected names matter (checked by the caller): an entry without a
        // date is skipped, not allowed to hide the window's other files.
        let files = reply
            .data
            .iter()
            .flat_map(|d| &d.details)
            .flat_map(|d| &d.group_details)
            .filter_map(|file| {
                let date = file.filename.rsplit_once("-trades-").and_then(|(_, d)| d.strip_suffix(".zip"));
                Some((parse_date(date?)?, file.url.clone()))
            })
            .collect();
        Ok(Some(Arc::new(files)))
    }

    /// Downloads one day file and decodes it as a stream.
    async fn download(
        &self,
        url: &str,
        name: &str,
        series: &SeriesKey,
        day: TimeRange,
        deadline: crate::rt::Instant,
    ) -> Result<Option<Arc<Vec<Trade>>>> {
        let Some(zip) = self.downloader.get(url, deadline).await? else { return Ok(None) };
        let malformed = |message: String| Error::MalformedResponse {
            exchange: self.downloader.venue.into(),
            message: format!("{name}: {message}"),
        };
        let entry = super::zip::first_entry(&zip).map_err(malformed)?;
        let hint = usize::try_from(entry.declared_len / 48).unwrap_or(0);
        let rows = parse_csv(BufReader::new(entry), hint, 5, |l| trade_row(l, &series.symbol));
        let mut rows = rows.and_then(super::csv::same_rows_for_same_ids).map_err(malformed)?;
        rows.sort_by_key(|t| t.time);
        if let Some(stray) = rows.iter().find(|t| !day.contains(t.time)) {
            return Err(malformed(format!("a trade at {} is outside the file's UTC+8 day", stray.time)));
        }
        Ok(Some(Arc::new(rows)))
    }
}

/// `YYYY-MM-DD` as days since 1970.
fn parse_date(text: &str) -> Option<i64> {
    let parts: Vec<&str> = text.split('-').collect();
    let [y, m, d] = parts.as_slice() else { return None };
    let (y, m, d) = (y.parse::<i64>().ok()?, m.parse::<u32>().ok()?, d.parse::<u32>().ok()?);
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then(|| crate::time::days_from_civil(y, m, d))
}

/// A trade row of either layout: `instrument_name, trade_id, side, price, size,
/// created_time` (six fields), or the older `trade_id, side, size, price,
/// created_time` (five).
fn trade_row(l: &CsvLine<'_>, symbol: &str) -> std::result::Result<Trade, String> {
    let (id, side, price, size, time) = match l.fields.len() {
        5 => (0, 1, 3, 2, 4),
        _ if l.fields[0] != symbol => {
            return Err(l.bad(&format!("a trade of another instrument than {symbol}")))
        }
        _ => (1, 2, 3, 4, 5),
    };
    let side = match l.fields[side].to_ascii_lowercase().as_str() {
        "buy" => Side::Buy,
        "sell" => Side::Sell,
        _ => return Err(l.bad("a side that is neither buy nor sell")),
    };
    Ok(Trade {
        time: l.time_ms(time)?,
        id: l.int(id)?,
        price: l.float(price)?,
        quantity: l.float(size)?,
        side,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_layouts_read_alike_and_days_are_utc8() {
        let new = "instrument_name,trade_id,side,price,size,created_time\nBTC-USDT-SWAP,7,sell,42000.5,3,1704124800001\n";
        let old = "trade_id/交易id,side/交易方向,size/数量,price/价格,created_time/成交时间\n7,sell,3,42000.5,1704124800001\n";
        let read = |text: &str| parse_csv(text.as_bytes(), 1, 5, |l| trade_row(l, "BTC-USDT-SWAP"));
        let want = Trade { time: 1_704_124_800_001, id: 7, price: 42000.5, quantity: 3.0, side: Side::Sell };
        assert_eq!(read(new).unwrap(), [want]);
        assert_eq!(read(old).unwrap(), [want]);
        // Without a header, the first line is data all the same (it holds numbers).
        assert_eq!(read(&new[new.find('\n').unwrap() + 1..]).unwrap(), [want]);
        let other = "ETH-USDT-SWAP,7,sell,1,3,1704124800001\n";
        assert!(read(other).unwrap_err().contains("another instrument"));
        let day = crate::time::days_from_civil(2024, 1, 2);
        assert_eq!(utc8_day_span(day).start, 1_704_124_800_000, "2024-01-01 16:00 UTC");
        assert_eq!(utc8_day_of(1_704_124_800_000), day);
        assert_eq!(utc8_day_of(1_704_124_800_000 - 1), day - 1);
        assert_eq!(parse_date("2024-01-02"), Some(day));
        assert_eq!(parse_date("2024-13-02"), None);
    }
}
