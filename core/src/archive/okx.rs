//! OKX's historical market data †: an index endpoint on the API host
//! (`/api/v5/public/market-data-history`) lists day files of trades (module 1) and of
//! 1-minute candles (module 2) on a static CDN, each a zip of one CSV. OKX publishes no checksum and no directory listing, so files are
//! found through the index (never by guessing URLs), and the zip's CRC-32 is what is
//! checked.
//!
//! The traps (sources in `docs/archives.md`): the days are **UTC+8 days** (a file dated
//! 2024-01-02 starts at 2024-01-01 16:00 UTC); spot files keep an older bilingual header
//! with size before price, derivatives files the newer `instrument_name, trade_id, side,
//! price, size, created_time`; the index may name another instrument's file, and lists
//! candle files with `?v=999` after the name; an index call spans at most 20 days and has
//! its own small budget. Candle files: `instrument_name, open, high, low, close, vol,
//! vol_ccy, vol_quote, open_time, confirm`, the columns of REST's candles (so `vol` is
//! contracts for derivatives); older files say `confirm` 0 on closed bars, and a file has
//! been seen to repeat a row. Funding files (module 3) are one file a day for every
//! swap, `allswaprate-swaprate-YYYY-MM-DD.zip`, with a bilingual GBK header and the
//! columns instrument, contract type, `funding_rate` (predicted), `real_funding_rate`
//! (settled: REST's `realizedRate`, the one kept) and `funding_time`.

use std::sync::Arc;

use serde::Deserialize;

use super::csv::{parse_csv, CsvLine};
use super::download::{ArchivedKlines, Downloader};
use super::files::FileCache;
use crate::candles::Candle;
use crate::error::{Error, Result};
use crate::funding::FundingRate;
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
/// Index calls spent per [`INDEX_WINDOW`]: OKX allows 5 per 2 s; one is left for other
/// clients, as the REST adapter leaves a tenth of its budgets.
const INDEX_CALLS_PER_WINDOW: u32 = 4;
/// The index budget's window.
const INDEX_WINDOW: std::time::Duration = std::time::Duration::from_secs(2);
/// OKX's longest funding interval (8 h, cut to 6, 4, 2 or 1 h for volatile swaps).
const LONGEST_FUNDING_INTERVAL_MS: i64 = 8 * 3_600_000;

/// Whether OKX publishes candle files of `interval` (only 1m).
pub(crate) fn publishes_interval(interval: crate::model::Interval) -> bool {
    interval.fixed_ms() == Some(60_000)
}

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
    /// The index's own request budget (a series of funding touches three windows, so a
    /// few series at once would exceed it).
    index_budget: crate::exchange::WeightLimiter,
    /// Day files by URL, sorted by time.
    trades: FileCache<Trade>,
    /// Day files of 1-minute candles by URL, sorted by open time.
    candles: FileCache<Candle>,
    /// Day files of every swap's funding events by URL, sorted by time.
    funding: FileCache<(String, FundingRate)>,
}

/// What an index call lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Module {
    Trades,
    Candles,
    Funding,
}

impl Module {
    /// Its `module` parameter.
    fn code(self) -> u8 {
        match self {
            Module::Trades => 1,
            Module::Candles => 2,
            Module::Funding => 3,
        }
    }

    /// The file name of `symbol`'s day `day` (funding: one file for every swap).
    fn file_name(self, symbol: &str, day: i64) -> String {
        let (y, m, d) = civil_from_days(day);
        let (prefix, word) = match self {
            Module::Trades => (symbol, "trades"),
            Module::Candles => (symbol, "candlesticks"),
            Module::Funding => ("allswaprate", "swaprate"),
        };
        format!("{prefix}-{word}-{y:04}-{m:02}-{d:02}.zip")
    }
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
            index_budget: crate::exchange::WeightLimiter::new(
                "okx-market-data-history",
                INDEX_CALLS_PER_WINDOW,
                INDEX_WINDOW,
            ),
            trades: FileCache::new(FILE_MEMO_BYTES),
            candles: FileCache::new(FILE_MEMO_BYTES),
            funding: FileCache::new(FILE_MEMO_BYTES),
        }
    }

    /// The 1-minute candles of `series` opening in `span`, from the day files of the
    /// UTC+8 days it touches. A day that is not over, or whose file is not listed, is
    /// `NotArchived` naming the file; a damaged file is `MalformedResponse`.
    pub(crate) async fn klines(
        &self,
        series: &SeriesKey,
        span: TimeRange,
        now: i64,
    ) -> Result<ArchivedKlines> {
        if !publishes_interval(series.interval) {
            let reason = format!("OKX publishes only 1m candle files, not {}", series.interval);
            return Err(super::not_archived("okx", series, span, reason, None));
        }
        let deadline = crate::rt::Instant::now() + self.downloader.retry.max_wait;
        let mut out = ArchivedKlines { candles: Vec::new(), files: Vec::new(), whole_files: Vec::new() };
        let spot = series.market == Market::Spot;
        for day in utc8_day_of(span.start)..=utc8_day_of(span.end - 1) {
            let symbol = series.symbol.to_string();
            let decode = move |text: &mut dyn std::io::BufRead, _| decode_candles(text, &symbol, spot);
            let (name, rows) = self
                .day_file(&self.candles, series, Module::Candles, day, now, deadline, decode, |c| c.open_time)
                .await?;
            out.candles.extend(rows.iter().filter(|c| span.contains(c.open_time)).copied());
            out.files.push(name);
            out.whole_files.push((utc8_day_span(day), rows));
        }
        Ok(out)
    }

    /// The settled funding events of swap `series` in `span`, from the day files of the
    /// UTC+8 days it touches, and whether they are provably all: the first within one
    /// local interval of the span's start, the last within one of its end, no gap longer
    /// than 8 h, and the spacing never shrinking (nor growing at the last event): a
    /// missing event doubles its gap, and the files do not say the interval. A
    /// day that is not over, or whose file is not listed, is `NotArchived` naming the
    /// file; a damaged file is `MalformedResponse`.
    pub(crate) async fn funding(
        &self,
        series: &SeriesKey,
        span: TimeRange,
        now: i64,
    ) -> Result<super::ArchivedFundingSpan> {
        if !series.symbol.ends_with("-SWAP") {
            let reason = "OKX publishes funding files for perpetual swaps only".to_string();
            return Err(super::not_archived("okx", series, span, reason, None));
        }
        let deadline = crate::rt::Instant::now() + self.downloader.retry.max_wait;
        let mut events = Vec::new();
        for day in utc8_day_of(span.start)..=utc8_day_of(span.end - 1) {
            let (_, rows) = self
                .day_file(&self.funding, series, Module::Funding, day, now, deadline, decode_funding, |r| {
                    r.1.time
                })
                .await?;
            let mine = rows.iter().filter(|(inst, e)| *inst == *series.symbol && span.contains(e.time));
            events.extend(mine.map(|(_, e)| *e));
        }
        let times: Vec<i64> = events.iter().map(|e| e.time).collect();
        Ok(super::ArchivedFundingSpan { complete: funding_is_whole(&times, span), events })
    }

    /// Every trade of UTC+8 day `day` for `series`, sorted by time, from its day file
    /// (found through the index). A day that is not over, or whose file is not listed, is
    /// `NotArchived` naming the file; a damaged file is `MalformedResponse`.
    pub(crate) async fn trades(&self, series: &SeriesKey, day: i64, now: i64) -> Result<Arc<Vec<Trade>>> {
        let deadline = crate::rt::Instant::now() + self.downloader.retry.max_wait;
        let symbol = series.symbol.to_string();
        let decode = move |text: &mut dyn std::io::BufRead, len| decode_trades(text, len, &symbol);
        let (_, rows) = self
            .day_file(&self.trades, series, Module::Trades, day, now, deadline, decode, |t| t.time)
            .await?;
        Ok(rows)
    }

    /// The name and decoded rows (kept in `files`) of `module`'s file of UTC+8 day `day`
    /// for `series`, found through the index. A day that is not over, or whose file is
    /// not listed, is `NotArchived` naming the file; a damaged file is `MalformedResponse`.
    #[allow(clippy::too_many_arguments)] // one day file: where, when, and how to read it
    async fn day_file<T: Send + Sync + 'static>(
        &self,
        files: &FileCache<T>,
        series: &SeriesKey,
        module: Module,
        day: i64,
        now: i64,
        deadline: crate::rt::Instant,
        decode: impl FnOnce(&mut dyn std::io::BufRead, u64) -> std::result::Result<Vec<T>, String>
            + Send
            + 'static,
        time_of: fn(&T) -> i64,
    ) -> Result<(String, Arc<Vec<T>>)> {
        let span = utc8_day_span(day);
        let name = module.file_name(&series.symbol, day);
        let url =
            if span.end > now { None } else { self.listed(series, module, day, &name, deadline).await? };
        let rows = match url {
            Some(url) => {
                files.get(&url, || self.download(&url, &name, span, deadline, decode, time_of)).await?
            }
            None => None,
        };
        let rows = rows.ok_or_else(|| {
            super::file_not_out("okx", series, span, &name, span.end + PUBLICATION_LAG_MS, now)
        })?;
        Ok((name, rows))
    }

    /// The URL the index lists for file `name` of `day` (`None`: not listed).
    async fn listed(
        &self,
        series: &SeriesKey,
        module: Module,
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
            "{}/api/v5/public/market-data-history?module={}&instType={inst_type}&{list}&dateAggrType=daily&begin={}&end={}",
            self.base,
            module.code(),
            // 04:00 UTC: the same date on the UTC and the UTC+8 clock, whichever OKX reads.
            utc8_day_span(first).start + 12 * 3_600_000,
            utc8_day_span(first + INDEX_WINDOW_DAYS - 1).start + 12 * 3_600_000,
        );
        let files = self.index.get(&url, || self.read_index(&url, deadline)).await?;
        Ok(files.and_then(|files| {
            // The index has been seen to name another instrument's file: match the name
            // (before any `?v=999`).
            let named = |u: &str| u.split('?').next().and_then(|path| path.rsplit('/').next()) == Some(name);
            files.iter().find(|(d, u)| *d == day && named(u)).map(|(_, u)| u.clone())
        }))
    }

    /// One index call: the listed files' (UTC+8 day, URL).
    async fn read_index(
        &self,
        url: &str,
        deadline: crate::rt::Instant,
    ) -> super::files::FileRows<(i64, String)> {
        let malformed = |message: String| Error::MalformedResponse { exchange: "okx".into(), message };
        self.index_budget.acquire(1, &self.downloader.counters, None, 1.0, deadline).await?;
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
                // `…-YYYY-MM-DD.zip`, whatever the module.
                let stem = file.filename.strip_suffix(".zip")?;
                let date = stem.get(stem.len().checked_sub(10)?..)?;
                Some((parse_date(date)?, file.url.clone()))
            })
            .collect();
        Ok(Some(Arc::new(files)))
    }

    /// Downloads one day file and decodes it as a stream with `decode` (given the CSV
    /// text and the entry's size), which returns rows sorted by `time_of`; a row outside
    /// the file's UTC+8 day makes the file damaged.
    async fn download<T>(
        &self,
        url: &str,
        name: &str,
        day: TimeRange,
        deadline: crate::rt::Instant,
        decode: impl FnOnce(&mut dyn std::io::BufRead, u64) -> std::result::Result<Vec<T>, String>
            + Send
            + 'static,
        time_of: fn(&T) -> i64,
    ) -> Result<Option<Arc<Vec<T>>>>
    where
        T: Send + 'static,
    {
        let Some(zip) = self.downloader.file(url, deadline).await? else { return Ok(None) };
        let malformed = |message: String| Error::MalformedResponse {
            exchange: self.downloader.venue.into(),
            message: format!("{name}: {message}"),
        };
        // Inflating and parsing takes a while for a busy day: off the async workers.
        let rows = crate::rt::blocking(move || {
            let reader = zip.reader().map_err(|e| format!("reading the download: {e}"))?;
            super::zip::rows_of_zip(reader, decode)
        })
        .await?
        .map_err(malformed)?;
        if let Some(stray) = rows.iter().map(time_of).find(|t| !day.contains(*t)) {
            return Err(malformed(format!("a row at {stray} is outside the file's UTC+8 day")));
        }
        Ok(Some(Arc::new(rows)))
    }
}

/// Every swap's funding events of a day file, sorted by time: `instrument, contract
/// type, funding_rate, real_funding_rate, funding_time`; the settled rate is kept. Two
/// different rates for one instrument and time make the file damaged.
pub(crate) fn decode_funding(
    text: &mut dyn std::io::BufRead,
    _len: u64,
) -> std::result::Result<Vec<(String, FundingRate)>, String> {
    let mut rows = parse_csv(text, 1024, 5, |l| {
        Ok((l.fields[0].to_string(), FundingRate { time: l.time_ms(4)?, rate: l.float(3)? }))
    })?;
    rows.sort_by(|a, b| (a.1.time, &a.0).cmp(&(b.1.time, &b.0)));
    if let Some(w) = rows.windows(2).find(|w| w[0].0 == w[1].0 && w[0].1.time == w[1].1.time && w[0] != w[1])
    {
        return Err(format!("two different funding rates of {} at {}", w[0].0, w[0].1.time));
    }
    rows.dedup();
    Ok(rows)
}

/// Whether funding `times` (sorted) are provably every event of `span` (see
/// [`OkxArchive::funding`]).
fn funding_is_whole(times: &[i64], span: TimeRange) -> bool {
    let (Some(&first), Some(&last)) = (times.first(), times.last()) else { return false };
    let gaps: Vec<i64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    let local = |gap: Option<&i64>| gap.copied().unwrap_or(LONGEST_FUNDING_INTERVAL_MS);
    // The files do not say the interval, so a gap followed by a shorter one is a hole as
    // far as anyone can tell (an 8 h gap, then 4 h ones, is also what a cut from 8 h to
    // 4 h looks like with its first 4 h event missing); and so is a last gap longer
    // than the one before it.
    let shrinks = gaps.windows(2).any(|w| w[0] > w[1]);
    let last_grows = gaps.len() > 1 && gaps[gaps.len() - 1] > gaps[gaps.len() - 2];
    let short = gaps.iter().all(|&gap| gap <= LONGEST_FUNDING_INTERVAL_MS);
    short
        && !shrinks
        && !last_grows
        && first - span.start < local(gaps.first())
        && span.end - last <= local(gaps.last())
}

/// The trades of a day file, sorted by time.
pub(crate) fn decode_trades(
    text: &mut dyn std::io::BufRead,
    len: u64,
    symbol: &str,
) -> std::result::Result<Vec<Trade>, String> {
    let hint = usize::try_from(len / 48).unwrap_or(0);
    let mut rows =
        parse_csv(text, hint, 5, |l| trade_row(l, symbol)).and_then(super::csv::same_rows_for_same_ids)?;
    rows.sort_by_key(|t| t.time);
    Ok(rows)
}

/// The candles of a day file, sorted by open time.
pub(crate) fn decode_candles(
    text: &mut dyn std::io::BufRead,
    symbol: &str,
    spot: bool,
) -> std::result::Result<Vec<Candle>, String> {
    parse_csv(text, 1440, 10, |l| candle_row(l, symbol, spot)).and_then(one_candle_a_minute)
}

/// A candle row: `instrument_name, open, high, low, close, vol, vol_ccy, vol_quote,
/// open_time, confirm`. Base volume is `vol` for spot and `vol_ccy` for derivatives
/// (whose `vol` counts contracts), as in REST's candles.
fn candle_row(l: &CsvLine<'_>, symbol: &str, spot: bool) -> std::result::Result<Candle, String> {
    if l.fields[0] != symbol {
        return Err(l.bad(&format!("a candle of another instrument than {symbol}")));
    }
    Ok(Candle {
        open_time: l.time_ms(8)?,
        open: l.float(1)?,
        high: l.float(2)?,
        low: l.float(3)?,
        close: l.float(4)?,
        volume: l.float(if spot { 5 } else { 6 })?,
        quote_volume: l.float(7)?,
        trades: None,
    })
}

/// The candles sorted by open time, a row repeated with the same values kept once; two
/// different rows for one minute make the file unusable.
fn one_candle_a_minute(mut rows: Vec<Candle>) -> std::result::Result<Vec<Candle>, String> {
    rows.sort_by_key(|c| c.open_time);
    let mut out: Vec<Candle> = Vec::with_capacity(rows.len());
    for c in rows {
        match out.last() {
            Some(last) if last.open_time == c.open_time && *last == c => {}
            Some(last) if last.open_time == c.open_time => {
                return Err(format!("two different candles open at {}", c.open_time));
            }
            _ => out.push(c),
        }
    }
    Ok(out)
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

    const H: i64 = 3_600_000;

    #[test]
    fn funding_is_whole_only_when_the_spacing_proves_no_event_is_missing() {
        let span = TimeRange::new(0, 48 * H);
        let every = |step: i64, from: i64, to: i64| (from..to).step_by(step as usize).collect::<Vec<_>>();
        assert!(funding_is_whole(&every(8 * H, 0, 48 * H), span));
        assert!(funding_is_whole(&every(4 * H, 0, 48 * H), span));
        // 4 h eased to 8 h: provable.
        let eased = [every(4 * H, 0, 24 * H), every(8 * H, 24 * H, 48 * H)].concat();
        assert!(funding_is_whole(&eased, span));
        // 8 h cut to 4 h looks like a 4 h schedule missing events: not provable.
        let cut = [every(8 * H, 0, 24 * H), every(4 * H, 24 * H, 48 * H)].concat();
        assert!(!funding_is_whole(&cut, span));
        // ... as it may be: the cut's first 4 h event missing.
        let mut first_lost = cut.clone();
        first_lost.retain(|t| *t != 28 * H);
        assert!(!funding_is_whole(&first_lost, span));
        // One 4 h event missing: its gap is twice its neighbours'.
        let mut holed = every(4 * H, 0, 48 * H);
        holed.retain(|t| *t != 32 * H);
        assert!(!funding_is_whole(&holed, span));
        // The one before the last missing.
        let mut late = every(4 * H, 0, 48 * H);
        late.retain(|t| *t != 40 * H);
        assert!(!funding_is_whole(&late, span));
        // A missing first or last event of a 4 h schedule: the edge is longer than the
        // local interval.
        assert!(!funding_is_whole(&every(4 * H, 4 * H, 48 * H), TimeRange::new(-H, 48 * H)));
        assert!(!funding_is_whole(&every(4 * H, 0, 40 * H), span));
        // A gap over 8 h, or no event at all, proves nothing.
        assert!(!funding_is_whole(&[0, 16 * H, 24 * H, 32 * H, 40 * H], span));
        assert!(!funding_is_whole(&[], span));
    }

    #[test]
    fn funding_files_keep_the_settled_rate_of_every_swap_under_a_gbk_header() {
        let mut text =
            b"instrument_name/\xba\xcf\xd4\xbc,contract_type,funding_rate,real_funding_rate,funding_time\n"
                .to_vec();
        text.extend_from_slice(b"ETH-USDT-SWAP,linear,0.0001,0.00012,1704124800000\n");
        text.extend_from_slice(b"BTC-USDT-SWAP,linear,0.0002,0.00025,1704096000000\n");
        text.extend_from_slice(b"ETH-USDT-SWAP,linear,0.0001,0.00012,1704124800000\n");
        let rows = decode_funding(&mut &text[..], 0).unwrap();
        let eth = FundingRate { time: 1_704_124_800_000, rate: 0.00012 };
        let btc = FundingRate { time: 1_704_096_000_000, rate: 0.00025 };
        assert_eq!(rows, [("BTC-USDT-SWAP".to_string(), btc), ("ETH-USDT-SWAP".to_string(), eth)]);
        text.extend_from_slice(b"ETH-USDT-SWAP,linear,0.0001,0.0009,1704124800000\n");
        let err = decode_funding(&mut &text[..], 0).unwrap_err();
        assert!(err.contains("two different funding rates of ETH-USDT-SWAP"), "{err}");
    }

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

    #[test]
    fn candle_rows_take_base_volume_by_market_and_repeats_only_when_equal() {
        let header = "instrument_name,open,high,low,close,vol,vol_ccy,vol_quote,open_time,confirm\n";
        let row =
            "ETH-USDT-SWAP,3839.44,3843.58,3836.71,3838.16,23503.2,2350.32,9024127.30277,1761148800000,0\n";
        let read = |text: &str, spot| {
            parse_csv(text.as_bytes(), 1, 10, |l| candle_row(l, "ETH-USDT-SWAP", spot))
                .and_then(one_candle_a_minute)
        };
        let swap = read(&format!("{header}{row}{row}"), false).unwrap();
        assert_eq!(swap.len(), 1, "a repeated row is one candle");
        assert_eq!(
            (swap[0].open_time, swap[0].volume, swap[0].quote_volume),
            (1_761_148_800_000, 2350.32, 9024127.30277)
        );
        assert_eq!(read(&format!("{header}{row}"), true).unwrap()[0].volume, 23503.2);
        let other = row.replace("3838.16", "3838.17");
        assert!(read(&format!("{header}{row}{other}"), false).unwrap_err().contains("two different candles"));
        assert!(read(&row.replace("ETH", "BTC"), false).unwrap_err().contains("another instrument"));
    }
}
