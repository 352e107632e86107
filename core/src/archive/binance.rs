//! Binance's bulk archive at data.binance.vision (binance/binance-public-data): which
//! kline files cover a span, and their rows. Monthly files serve months that are over,
//! daily files the rest and any month whose file is not published.
//!
//! The traps (sources in `docs/archives.md`): spot times are in microseconds from
//! 2025-01-01, futures files have a header line from about 2022 (so a header is sniffed,
//! not assumed), the month interval is `1mo` here but `1M` over REST, and daily files
//! exist only up to `1d`.

use std::io::BufRead;
use std::sync::Arc;

use super::csv::parse_csv;
use super::download::{ArchivedKlines, Download, Downloader};
use super::files::FileCache;
use crate::candles::Candle;
use crate::error::{Error, Result};
use crate::funding::FundingRate;
use crate::model::{Interval, Market, SeriesKey, TimeRange};
use crate::time::{civil_from_days, month_index, month_start, DAY_MS};
use crate::trades::{Side, Trade};

/// Decoded files kept for the next segments of the same month (bytes of candles).
const FILE_MEMO_BYTES: u64 = 64 << 20;
/// A daily file is due by the end of the next day (spec: "the next day").
const DAILY_LAG_MS: i64 = DAY_MS;
/// A monthly file is due by mid-month (spec: first days of the next month, up to
/// mid-month: issues #38, #328).
const MONTHLY_LAG_MS: i64 = 15 * DAY_MS;
/// Monthly files read ahead of a reader going forward in time (downloaded in the
/// background into the memo, so a year of 1m candles waits for ~3 round trips, not 12).
const READ_AHEAD_MONTHS: i64 = 4;

/// One archive file: a whole UTC month or a UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Period {
    /// Month number since 1970-01.
    Month(i64),
    /// Day number since 1970-01-01.
    Day(i64),
}

impl Period {
    fn span(self) -> TimeRange {
        match self {
            Period::Month(m) => TimeRange::new(month_start(m), month_start(m + 1)),
            Period::Day(d) => TimeRange::new(d * DAY_MS, (d + 1) * DAY_MS),
        }
    }

    fn label(self) -> String {
        match self {
            Period::Month(m) => {
                let (y, mo, _) = civil_from_days(month_start(m) / DAY_MS);
                format!("{y:04}-{mo:02}")
            }
            Period::Day(d) => {
                let (y, mo, day) = civil_from_days(d);
                format!("{y:04}-{mo:02}-{day:02}")
            }
        }
    }

    fn folder(self) -> &'static str {
        match self {
            Period::Month(_) => "monthly",
            Period::Day(_) => "daily",
        }
    }
}

/// Binance's kline archive, with the files read lately kept decoded (one monthly file
/// serves every segment of its month) and one download per file however many segments
/// want it at once.
pub(crate) struct BinanceArchive {
    base: String,
    downloader: Downloader,
    /// Kline files, sorted by open time.
    candles: FileCache<Candle>,
    /// Daily aggTrades files, sorted by aggregate id.
    trades: FileCache<Trade>,
    /// Monthly fundingRate files (USD-M), sorted by time.
    funding: FileCache<ArchivedFunding>,
}

/// One row of a fundingRate file: a funding event and the interval it closed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ArchivedFunding {
    /// The event.
    pub event: FundingRate,
    /// `funding_interval_hours`, in ms.
    pub interval_ms: i64,
}

/// The funding events of a span from the archive, and whether they are provably all.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ArchivedFundingSpan {
    /// Events with time inside the span.
    pub events: Vec<FundingRate>,
    /// Whether the monthly files prove no event is missing: each month's first event
    /// within one interval of its start, its last within one interval of its end, and no
    /// gap between events as long as one and a half intervals.
    pub complete: bool,
}

impl std::fmt::Debug for BinanceArchive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BinanceArchive").field("base", &self.base).finish()
    }
}

impl BinanceArchive {
    /// The archive at `base` (e.g. [`super::BINANCE_ARCHIVE_URL`] or a simulator).
    pub(crate) fn new(base: &str, downloader: Downloader) -> Self {
        BinanceArchive {
            base: base.trim_end_matches('/').to_string(),
            downloader,
            candles: FileCache::new(FILE_MEMO_BYTES),
            trades: FileCache::new(FILE_MEMO_BYTES),
            funding: FileCache::new(FILE_MEMO_BYTES),
        }
    }

    /// The candles the archive holds for `span` of `series`, from monthly files where a
    /// month is over and daily files otherwise (or where the monthly file is missing).
    /// A file not published is `NotArchived` naming it (and when it should appear). For a
    /// `sequential` reader (the previous segment was read just before), the next months'
    /// files are downloaded in the background too.
    pub(crate) async fn klines(
        self: &Arc<Self>,
        series: &Arc<SeriesKey>,
        span: TimeRange,
        now: i64,
        sequential: bool,
    ) -> Result<ArchivedKlines> {
        let code = interval_code(series.interval).ok_or_else(|| {
            self.not_archived(series, span, "the archive has no such interval".into(), None)
        })?;
        let mut out = ArchivedKlines { candles: Vec::new(), files: Vec::new(), whole_files: Vec::new() };
        let deadline = self.deadline();
        for month in month_index(span.start)..=month_index(span.end - 1) {
            let whole = Period::Month(month);
            let part = clip(span, whole.span());
            // 1s months are ~2.7 M rows: read them a day at a time.
            let monthly_first = whole.span().end <= now && series.interval.fixed_ms() != Some(1000);
            if monthly_first && self.read(series, code, whole, part, &mut out, deadline).await? {
                if sequential {
                    self.read_ahead(series, code, month, now);
                }
                continue;
            }
            if !has_daily_files(series.interval) {
                let file = self.file_name(series, code, whole);
                return Err(self.unpublished(series, span, part, whole, file, now));
            }
            for day in part.start.div_euclid(DAY_MS)..=(part.end - 1).div_euclid(DAY_MS) {
                let period = Period::Day(day);
                if !self.read(series, code, period, clip(part, period.span()), &mut out, deadline).await? {
                    let file = self.file_name(series, code, period);
                    return Err(self.unpublished(series, span, clip(part, period.span()), period, file, now));
                }
            }
        }
        Ok(out)
    }

    /// Starts background downloads of the monthly files after `month` (those over by
    /// `now` and not held yet): a reader going forward finds them in the memo.
    fn read_ahead(self: &Arc<Self>, series: &Arc<SeriesKey>, code: &'static str, month: i64, now: i64) {
        for next in month + 1..=month + READ_AHEAD_MONTHS {
            let period = Period::Month(next);
            if period.span().end > now {
                break;
            }
            let Ok(url) = self.url(series, code, period) else { return };
            if self.candles.holds_or_fetches(&url) {
                continue;
            }
            let (me, series) = (Arc::clone(self), Arc::clone(series));
            crate::rt::spawn_background(async move {
                let deadline = me.deadline();
                let _ = me.file(&series, code, period, deadline).await;
            });
        }
    }

    /// Adds the rows of `period`'s file inside `part` to `out`; `false` if not published.
    async fn read(
        &self,
        series: &SeriesKey,
        code: &str,
        period: Period,
        part: TimeRange,
        out: &mut ArchivedKlines,
        deadline: crate::rt::Instant,
    ) -> Result<bool> {
        let Some(rows) = self.file(series, code, period, deadline).await? else { return Ok(false) };
        let from = rows.partition_point(|c| c.open_time < part.start);
        out.candles.extend(rows[from..].iter().take_while(|c| c.open_time < part.end).cloned());
        out.files.push(self.file_name(series, code, period));
        out.whole_files.push((period.span(), rows));
        Ok(true)
    }

    /// The decoded rows of one file, sorted by open time (`None`: not published).
    async fn file(
        &self,
        series: &SeriesKey,
        code: &str,
        period: Period,
        deadline: crate::rt::Instant,
    ) -> Result<Option<Arc<Vec<Candle>>>> {
        let url = self.url(series, code, period)?;
        self.candles
            .get(&url, || async {
                let rows = self.download(&url, parse_kline_csv, deadline).await?;
                Ok(rows.map(|mut rows| {
                    rows.sort_by_key(|c| c.open_time);
                    Arc::new(rows)
                }))
            })
            .await
    }

    /// The aggregate trades of UTC day `day` (days since 1970) for `series`, sorted by
    /// id, from its daily file (monthly aggTrades files can exceed a gigabyte: never
    /// read). A file not published is `NotArchived` naming it.
    pub(crate) async fn agg_trades(
        &self,
        series: &SeriesKey,
        day: i64,
        now: i64,
        deadline: crate::rt::Instant,
    ) -> Result<Arc<Vec<Trade>>> {
        let period = Period::Day(day);
        let name = format!("{}-aggTrades-{}.zip", series.symbol, period.label());
        let url = format!(
            "{}/data/{}/daily/aggTrades/{}/{name}",
            self.base,
            market_folder(series.market)?,
            series.symbol
        );
        let rows = self
            .trades
            .get(&url, || async {
                let Some(mut rows) = self.download(&url, parse_agg_trades_csv, deadline).await? else {
                    return Ok(None);
                };
                rows.sort_by_key(|t| t.id);
                // Ids and times rise together, inside the file's day: anything else is a
                // damaged file (its edges would be judged on wrong times).
                let day_span = period.span();
                let ordered = rows.windows(2).all(|w| w[0].time <= w[1].time);
                if !ordered || rows.iter().any(|t| !day_span.contains(t.time)) {
                    return Err(Error::MalformedResponse {
                        exchange: self.downloader.venue.into(),
                        message: format!("{name}: trades out of time order or outside the file's day"),
                    });
                }
                Ok(Some(Arc::new(rows)))
            })
            .await?;
        rows.ok_or_else(|| self.unpublished(series, period.span(), period.span(), period, name, now))
    }

    /// The USD-M funding events of `span` from the monthly fundingRate files of the
    /// months it touches (the archive has no daily funding files). A month that is not
    /// over, or whose file is not published, is `NotArchived` naming the file.
    pub(crate) async fn funding(
        &self,
        series: &SeriesKey,
        span: TimeRange,
        now: i64,
    ) -> Result<ArchivedFundingSpan> {
        if series.market != Market::Linear {
            return Err(self.not_archived(series, span, "funding files exist for USD-M only".into(), None));
        }
        let deadline = self.deadline();
        let mut out = ArchivedFundingSpan { events: Vec::new(), complete: true };
        for month in month_index(span.start)..=month_index(span.end - 1) {
            let period = Period::Month(month);
            let name = format!("{}-fundingRate-{}.zip", series.symbol, period.label());
            let url = format!("{}/data/futures/um/monthly/fundingRate/{}/{name}", self.base, series.symbol);
            let rows = if period.span().end > now {
                None
            } else {
                self.funding
                    .get(&url, || async {
                        let rows = self.download(&url, parse_funding_csv, deadline).await?;
                        Ok(rows.map(|mut rows| {
                            rows.sort_by_key(|r| r.event.time);
                            Arc::new(rows)
                        }))
                    })
                    .await?
            };
            let Some(rows) = rows else {
                return Err(self.unpublished(series, span, clip(span, period.span()), period, name, now));
            };
            if rows.iter().any(|r| !period.span().contains(r.event.time)) {
                return Err(Error::MalformedResponse {
                    exchange: self.downloader.venue.into(),
                    message: format!("{name}: a funding event outside the file's month"),
                });
            }
            out.complete &= funding_month_is_whole(&rows, period.span());
            out.events.extend(rows.iter().map(|r| r.event).filter(|e| span.contains(e.time)));
        }
        Ok(out)
    }

    /// Downloads, verifies and parses one file (`None`: not published). The CSV is
    /// inflated as it is parsed, never held whole.
    async fn download<T: Send + 'static>(
        &self,
        url: &str,
        parse: fn(&mut dyn BufRead, usize) -> std::result::Result<Vec<T>, String>,
        deadline: crate::rt::Instant,
    ) -> Result<Option<Vec<T>>> {
        let Download::Verified { file, zip } = self.downloader.verified_zip(url, deadline).await? else {
            return Ok(None);
        };
        // Inflating and parsing a big file takes seconds: off the async workers.
        let rows = crate::rt::blocking(move || {
            let reader = zip.reader().map_err(|e| format!("reading the download: {e}"))?;
            super::zip::rows_of_zip(reader, |text, declared| {
                parse(text, usize::try_from(declared).unwrap_or(usize::MAX))
            })
        })
        .await?;
        let rows = rows.map_err(|e| Error::MalformedResponse {
            exchange: self.downloader.venue.into(),
            message: format!("{file}: {e}"),
        })?;
        Ok(Some(rows))
    }

    /// When the retries of one segment's downloads must end (`max_wait` from now).
    pub(crate) fn deadline(&self) -> crate::rt::Instant {
        crate::rt::Instant::now() + self.downloader.retry.max_wait
    }

    fn url(&self, series: &SeriesKey, code: &str, period: Period) -> Result<String> {
        Ok(format!(
            "{}/data/{}/{}/klines/{}/{code}/{}",
            self.base,
            market_folder(series.market)?,
            period.folder(),
            series.symbol,
            self.file_name(series, code, period)
        ))
    }

    fn file_name(&self, series: &SeriesKey, code: &str, period: Period) -> String {
        format!("{}-{code}-{}.zip", series.symbol, period.label())
    }

    /// The error for `file` (of `period`) not being there for segment `span` (`part` of
    /// it): not published *yet* while inside the publication lag — then it says when the
    /// segment's last file is due — or missing for good.
    fn unpublished(
        &self,
        series: &SeriesKey,
        span: TimeRange,
        part: TimeRange,
        period: Period,
        file: String,
        now: i64,
    ) -> Error {
        let due = |p: Period| match p {
            Period::Day(_) => p.span().end + DAILY_LAG_MS,
            Period::Month(_) => p.span().end + MONTHLY_LAG_MS,
        };
        if due(period) <= now {
            return self.not_archived(series, part, format!("{file} is missing (due by now)"), None);
        }
        let last = match period {
            Period::Day(_) => Period::Day((span.end - 1).div_euclid(DAY_MS)),
            Period::Month(_) => Period::Month(month_index(span.end - 1)),
        };
        self.not_archived(series, part, format!("{file} is not published yet"), Some(due(last)))
    }

    fn not_archived(
        &self,
        series: &SeriesKey,
        span: TimeRange,
        reason: String,
        available_from: Option<i64>,
    ) -> Error {
        let venue = if series.market == Market::Spot { "binance-spot" } else { "binance-um" };
        super::not_archived(venue, series, span, reason, available_from)
    }
}

/// `a ∩ b` (the caller knows they overlap).
fn clip(a: TimeRange, b: TimeRange) -> TimeRange {
    TimeRange::new(a.start.max(b.start), a.end.min(b.end))
}

/// The archive's folder for a market.
fn market_folder(market: Market) -> Result<&'static str> {
    match market {
        Market::Spot => Ok("spot"),
        Market::Linear => Ok("futures/um"),
        other => Err(Error::Unsupported(format!("binance has no {other} kline archive here"))),
    }
}

/// The archive's code for an interval (REST's `1M` is `1mo` here).
fn interval_code(interval: Interval) -> Option<&'static str> {
    const CODES: [&str; 16] =
        ["1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1mo"];
    let canonical = interval.to_string();
    let canonical = if canonical == "1M" { "1mo".to_string() } else { canonical };
    CODES.into_iter().find(|c| *c == canonical)
}

/// Daily files exist for intervals up to a day.
fn has_daily_files(interval: Interval) -> bool {
    interval.fixed_ms().is_some_and(|ms| ms <= DAY_MS)
}

/// Rows of a kline CSV of `bytes` bytes: `open_time, open, high, low, close, volume,
/// close_time, quote_volume, count, taker_buy_volume, taker_buy_quote_volume, ignore`.
pub(crate) fn parse_kline_csv(
    text: &mut dyn BufRead,
    bytes: usize,
) -> std::result::Result<Vec<Candle>, String> {
    parse_csv(text, bytes / 64, 9, |l| {
        Ok(Candle {
            open_time: l.time_ms(0)?,
            open: l.float(1)?,
            high: l.float(2)?,
            low: l.float(3)?,
            close: l.float(4)?,
            volume: l.float(5)?,
            quote_volume: l.float(7)?,
            trades: Some(l.fields[8].parse::<u64>().map_err(|_| l.bad("a trade count that is not one"))?),
        })
    })
}

/// Whether a month's funding rows (sorted by time) prove no event of the month is
/// missing: the first within one interval of the month's start, the last within one
/// interval of its end, and no gap of one and a half of the shorter neighbouring
/// interval (a missing event makes a gap of two; an interval change makes a month not
/// provably whole when it lengthens). A month whose symbol listed or delisted inside it is not provably whole.
fn funding_month_is_whole(rows: &[ArchivedFunding], month: TimeRange) -> bool {
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else { return false };
    let gaps_short = rows.windows(2).all(|w| {
        // The shorter interval: a missing first event after a change from 8 h to 4 h
        // leaves a gap of 8 h, which the longer one would let pass.
        let shorter = w[0].interval_ms.min(w[1].interval_ms);
        (w[1].event.time - w[0].event.time) * 2 < shorter * 3
    });
    gaps_short
        && first.event.time - month.start < first.interval_ms
        && month.end - last.event.time <= last.interval_ms
}

/// Rows of a USD-M fundingRate CSV of `bytes` bytes: `calc_time,
/// funding_interval_hours, last_funding_rate` †.
pub(crate) fn parse_funding_csv(
    text: &mut dyn BufRead,
    bytes: usize,
) -> std::result::Result<Vec<ArchivedFunding>, String> {
    parse_csv(text, bytes / 32, 3, |l| {
        let hours = l.int(1)?;
        if !(1..=24).contains(&hours) {
            return Err(l.bad("a funding interval that is not 1 to 24 hours"));
        }
        Ok(ArchivedFunding {
            event: FundingRate { time: l.time_ms(0)?, rate: l.float(2)? },
            interval_ms: hours * 3_600_000,
        })
    })
}

/// Rows of an aggTrades CSV of `bytes` bytes: `agg_id, price, qty, first_id, last_id,
/// time, is_buyer_maker[, is_best_match]`; booleans may be written `True` or `true`.
pub(crate) fn parse_agg_trades_csv(
    text: &mut dyn BufRead,
    bytes: usize,
) -> std::result::Result<Vec<Trade>, String> {
    parse_csv(text, bytes / 48, 7, |l| {
        let buyer_maker = match l.fields[6].to_ascii_lowercase().as_str() {
            "true" => true,
            "false" => false,
            _ => return Err(l.bad("is_buyer_maker that is neither true nor false")),
        };
        Ok(Trade {
            time: l.time_ms(5)?,
            id: l.int(0)?,
            price: l.float(1)?,
            quantity: l.float(2)?,
            // The buyer was the maker, so the taker sold.
            side: if buyer_maker { Side::Sell } else { Side::Buy },
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn klines(text: &[u8]) -> std::result::Result<Vec<Candle>, String> {
        parse_kline_csv(&mut &text[..], text.len())
    }

    fn aggs(text: &[u8]) -> std::result::Result<Vec<Trade>, String> {
        parse_agg_trades_csv(&mut &text[..], text.len())
    }

    #[test]
    fn csv_with_header_without_and_in_microseconds_read_alike() {
        let ms = "1704067200000,42283.58,42298.62,42261.02,42298.61,35.92724,1704067259999,1519070.25,1327,23.04,974185.82,0\n";
        let us = "1704067200000000,42283.58,42298.62,42261.02,42298.61,35.92724,1704067259999999,1519070.25,1327,23.04,974185.82,0\n";
        let header = "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore\n";
        let plain = klines(ms.as_bytes()).unwrap();
        assert_eq!(plain.len(), 1);
        assert_eq!(plain[0].open_time, 1_704_067_200_000);
        assert_eq!(plain[0].trades, Some(1327));
        assert_eq!(klines(us.as_bytes()).unwrap(), plain);
        assert_eq!(klines(format!("{header}{ms}").as_bytes()).unwrap(), plain);
        assert!(klines(b"1704067200000,x,1,1,1,1,1,1,1\n").unwrap_err().contains("line 1"));
        assert!(klines(b"1,2,3\n").unwrap_err().contains("fewer than 9"));
        // A bad line with multi-byte characters around the 120th byte is reported whole.
        let wide = format!("1704067200000,{},x,1,1,1,1,1,1\n", "€".repeat(60));
        assert!(klines(wide.as_bytes()).unwrap_err().contains("line 1"));
    }

    #[test]
    fn agg_trades_csv_of_either_market_reads_alike() {
        let spot = "26129,42283.58,0.01,27781,27782,1704067200123,True,True\n";
        let um = "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n26129,42283.58,0.01,27781,27782,1704067200123,true\n";
        let micros = "26129,42283.58,0.01,27781,27782,1704067200123456,True,True\n";
        let want = aggs(spot.as_bytes()).unwrap();
        assert_eq!(want.len(), 1);
        assert_eq!((want[0].id, want[0].time, want[0].side), (26129, 1_704_067_200_123, Side::Sell));
        assert_eq!(aggs(um.as_bytes()).unwrap(), want);
        assert_eq!(aggs(micros.as_bytes()).unwrap(), want);
        assert!(aggs(b"1,2,3,4,5,6,maybe\n").unwrap_err().contains("neither"));
    }

    #[test]
    fn funding_months_are_whole_only_with_every_event() {
        let jan = TimeRange::new(1_704_067_200_000, 1_706_745_600_000);
        let mut csv = String::from("calc_time,funding_interval_hours,last_funding_rate\n");
        for k in 0..93 {
            csv.push_str(&format!("{},8,0.00010000\n", jan.start + k * 8 * 3_600_000 + 3));
        }
        let rows = parse_funding_csv(&mut csv.as_bytes(), csv.len()).unwrap();
        assert_eq!((rows.len(), rows[0].event.rate, rows[0].interval_ms), (93, 0.0001, 8 * 3_600_000));
        assert!(funding_month_is_whole(&rows, jan), "a few ms late is still on time");
        for gone in [0, 40, 92] {
            let mut holed = rows.clone();
            holed.remove(gone);
            assert!(!funding_month_is_whole(&holed, jan), "event {gone} missing");
        }
        // From 8-hourly to 4-hourly mid-month: still whole.
        let mut changed = rows[..50].to_vec();
        let from = changed[49].event.time;
        changed.extend((1..).map(|k| from + k * 4 * 3_600_000).take_while(|t| *t < jan.end).map(|time| {
            ArchivedFunding { event: FundingRate { time, rate: 0.0 }, interval_ms: 4 * 3_600_000 }
        }));
        assert!(funding_month_is_whole(&changed, jan));
        let mut first_of_four_gone = changed.clone();
        first_of_four_gone.remove(50);
        assert!(!funding_month_is_whole(&first_of_four_gone, jan), "a missing event at the change");
        assert!(!funding_month_is_whole(&[], jan));
        assert!(parse_funding_csv(&mut &b"1704067200000,0,0.1\n"[..], 20).unwrap_err().contains("interval"));
    }

    #[test]
    fn periods_name_their_files() {
        let jan_2024 = month_index(1_704_067_200_000);
        assert_eq!(Period::Month(jan_2024).label(), "2024-01");
        assert_eq!(Period::Day(1_704_067_200_000 / DAY_MS).label(), "2024-01-01");
        assert_eq!(interval_code("1M".parse().unwrap()), Some("1mo"));
        assert_eq!(interval_code("1m".parse().unwrap()), Some("1m"));
        assert!(!has_daily_files("1w".parse().unwrap()));
        assert!(has_daily_files("1d".parse().unwrap()));
    }
}
