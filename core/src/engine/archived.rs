//! Closed segments from the exchanges' bulk archives (the `archives` setting): archives
//! first for history older than the last two days, REST wherever a file is missing,
//! damaged or lacks rows — and with `only`, a typed error instead of REST. Where REST
//! serves no history at all (Bybit trades), the archive serves every closed day, and
//! what it cannot serve is a typed error in `auto` too.
//!
//! Klines: a segment is served from archive files only when they give every slot of it;
//! the other segments lying wholly inside the files read for it are stored at once (a
//! monthly file of 1m candles holds ~44).
//! Trades, Binance aggTrades (daily files): the file's aggregate ids must be consecutive;
//! then every hour strictly between the hours of its first and last trade is whole (ids
//! prove nothing is missing there), and all of those hours are stored at once. The hours
//! of the file's first and last trade are whole too when the neighbouring day's file
//! continues the ids; otherwise they could be cut short, and REST serves them in `auto`.
//! Trades, Bybit (daily files): the day file is the exchange's record of the day, so all
//! 24 hours are whole and stored at once.
//! Klines, OKX (1m day files of UTC+8 days): as Binance's, whole when every slot is there.
//! Funding, Binance USD-M (monthly files): whole when every month touched proves by its
//! events' intervals that none is missing. Funding, OKX swaps (UTC+8 day files of every
//! swap): whole when the events' spacing proves none is missing.

use std::sync::Arc;

#[cfg(all(feature = "http", not(target_arch = "wasm32")))]
use super::normalize::{normalize_candles, normalize_funding, normalize_trades};
use super::Engine;
use crate::archive::ArchiveMode;
use crate::error::{Error, Result};
#[cfg(all(feature = "http", not(target_arch = "wasm32")))]
use crate::model::Exchange;
use crate::model::{DataKind, SeriesKey};
use crate::segment::{Payload, SegmentKey};
use crate::time::DAY_MS;

/// The archive setting and the archive readers by exchange.
pub(crate) struct Archives {
    /// `auto`, `off` or `only`.
    pub mode: ArchiveMode,
    /// Binance's kline and aggTrades archive (data.binance.vision or a simulator).
    #[cfg(all(feature = "http", not(target_arch = "wasm32")))]
    pub binance: Option<Arc<crate::archive::BinanceArchive>>,
    /// Bybit's trade archive (public.bybit.com or a simulator).
    #[cfg(all(feature = "http", not(target_arch = "wasm32")))]
    pub bybit: Option<Arc<crate::archive::BybitArchive>>,
    /// OKX's historical market data (its index on the API host, or a simulator).
    #[cfg(all(feature = "http", not(target_arch = "wasm32")))]
    pub okx: Option<Arc<crate::archive::OkxArchive>>,
    /// Where kline segments read from archives ended, per series: a segment starting at
    /// one of them is a sequential reader's next, and the next months are read ahead.
    #[cfg(all(feature = "http", not(target_arch = "wasm32")))]
    read_ends: crate::memo::Memo<(Arc<SeriesKey>, i64), ()>,
}

// Derivable where the native-only fields are compiled out (WebAssembly).
#[cfg_attr(not(all(feature = "http", not(target_arch = "wasm32"))), allow(clippy::derivable_impls))]
impl Default for Archives {
    fn default() -> Self {
        Archives {
            mode: ArchiveMode::default(),
            #[cfg(all(feature = "http", not(target_arch = "wasm32")))]
            binance: None,
            #[cfg(all(feature = "http", not(target_arch = "wasm32")))]
            bybit: None,
            #[cfg(all(feature = "http", not(target_arch = "wasm32")))]
            okx: None,
            #[cfg(all(feature = "http", not(target_arch = "wasm32")))]
            read_ends: crate::memo::Memo::new(10_000),
        }
    }
}

/// Archive rows of one segment, whether they are whole, and the other whole segments
/// the same file covered (stored with it, so a day of trades is read once).
pub(super) struct FromArchive {
    pub payload: Payload,
    pub complete: bool,
    pub siblings: Vec<Sibling>,
}

/// Another segment a file covered.
pub(super) struct Sibling {
    pub key: SegmentKey,
    pub payload: Payload,
    pub complete: bool,
}

/// In `auto`, archives serve segments ending this long before the current UTC day starts
/// (daily files appear the next morning, and the freshest are the likeliest replaced).
const AUTO_LAG_MS: i64 = DAY_MS;

impl Engine {
    /// Whether every value comes from archives (no REST call at all, not even a symbol
    /// check or a "nothing before" probe).
    pub(super) fn archives_only(&self) -> bool {
        self.archives.mode == ArchiveMode::Only
    }

    /// The rows of segment `key` from the archive, when the setting and the segment's
    /// age allow: `Ok(None)` means "ask REST". In `auto`, anything the archive cannot
    /// serve (a file not published, a checksum mismatch, a network failure) goes to REST,
    /// which is the authority; rows that are not provably whole come back with
    /// `complete: false` for the caller to check against REST's. In `only`, a file the
    /// archive cannot serve is a `NOT_ARCHIVED` error, and rows with holes are served,
    /// not final. Where REST cannot serve the whole segment (`rest_serves` false: no
    /// history at all, or the segment reaches past its retention edge), `auto` reads the
    /// archive for any closed period and its errors are the answer.
    pub(super) async fn archived_rows(
        &self,
        key: &SegmentKey,
        rest_serves: bool,
        now: i64,
    ) -> Result<Option<FromArchive>> {
        let series = &key.series;
        let span = key.span();
        let auto = match self.archives.mode {
            ArchiveMode::Off => return Ok(None),
            ArchiveMode::Auto => true,
            ArchiveMode::Only => false,
        };
        let fresh = span.end > now.div_euclid(DAY_MS) * DAY_MS - AUTO_LAG_MS;
        if auto && (!self.has_archive(series) || (rest_serves && fresh)) {
            return Ok(None);
        }
        let mut read = match self.read_archive(series, key, now, auto).await {
            Ok(read) => read,
            Err(e) if auto && rest_serves => {
                tracing::info!(segment = %key.storage_key("cc"), error = %e, "archive cannot serve the segment; asking REST");
                return Ok(None);
            }
            Err(Error::MalformedResponse { message, .. }) => {
                return Err(not_archived(series, key, format!("the archive file is damaged: {message}")))
            }
            Err(e) => return Err(e),
        };
        // What OKX's funding files mean (`real_funding_rate` = REST's `realizedRate`) is
        // known from third parties only: where REST still serves the segment it decides,
        // and the files are checked against it (disagreements counted).
        if auto
            && rest_serves
            && series.exchange == crate::model::Exchange::Okx
            && series.kind == DataKind::Funding
        {
            read.complete = false;
        }
        if auto && !read.complete {
            // Archives lose rows (binance-public-data #86, #140, #161): a hole is not the
            // exchange's word that nothing traded. REST decides (the caller compares).
            tracing::info!(segment = %key.storage_key("cc"), rows = read.payload.len(), "archive rows not provably whole; asking REST");
        }
        Ok(Some(read))
    }

    /// The order to load the `missing` kline segments of `keys` in when archives may
    /// serve them: months taken `upstream_concurrency` at a time with their segments
    /// interleaved, so the concurrent loads wait on different files (one monthly file
    /// holds ~44 one-minute segments) instead of all on the same one. Otherwise as given.
    pub(super) fn archive_load_order(&self, keys: &[SegmentKey], missing: Vec<usize>) -> Vec<usize> {
        let klines = keys.first().is_some_and(|k| k.series.kind == DataKind::Klines);
        if self.archives.mode == ArchiveMode::Off || !klines {
            return missing;
        }
        let month = |i: usize| crate::time::month_index(keys[i].span().start);
        let mut months: Vec<Vec<usize>> = Vec::new();
        for i in missing {
            match months.last_mut() {
                Some(group) if month(group[0]) == month(i) => group.push(i),
                _ => months.push(vec![i]),
            }
        }
        let mut order = Vec::with_capacity(keys.len());
        for batch in months.chunks(self.upstream_concurrency) {
            let longest = batch.iter().map(Vec::len).max().unwrap_or(0);
            order.extend((0..longest).flat_map(|k| batch.iter().filter_map(move |g| g.get(k).copied())));
        }
        order
    }

    /// Whether the `archives` setting and this build read an archive holding `series`
    /// (its exchange and kind).
    pub(super) fn has_archive(&self, series: &SeriesKey) -> bool {
        if self.archives.mode == ArchiveMode::Off {
            return false;
        }
        #[cfg(all(feature = "http", not(target_arch = "wasm32")))]
        return match (series.exchange, series.kind) {
            (Exchange::Binance, DataKind::Klines | DataKind::Trades | DataKind::Funding) => {
                self.archives.binance.is_some()
            }
            (Exchange::Bybit, DataKind::Trades) => self.archives.bybit.is_some(),
            (Exchange::Okx, DataKind::Trades | DataKind::Funding) => self.archives.okx.is_some(),
            (Exchange::Okx, DataKind::Klines) => {
                self.archives.okx.is_some() && crate::archive::okx_publishes_interval(series.interval)
            }
            _ => false,
        };
        #[cfg(not(all(feature = "http", not(target_arch = "wasm32"))))]
        {
            let _ = series;
            false
        }
    }

    /// The segment's rows from its exchange's archive reader.
    async fn read_archive(
        &self,
        series: &Arc<SeriesKey>,
        key: &SegmentKey,
        now: i64,
        auto: bool,
    ) -> Result<FromArchive> {
        let archives = &self.archives;
        #[cfg(all(feature = "http", not(target_arch = "wasm32")))]
        match (series.exchange, series.kind, &archives.binance, &archives.bybit, &archives.okx) {
            (Exchange::Binance, DataKind::Klines, Some(archive), _, _) => {
                let span = key.span();
                let sequential = archives.read_ends.get(&(Arc::clone(series), span.start)).is_some();
                let read = archive.klines(series, span, now, sequential).await?;
                tracing::debug!(segment = %key.storage_key("cc"), files = ?read.files, "segment from archive files");
                let read = self.segments_of_files(key, read, auto, now);
                // The segments stored with this one end where a sequential reader goes on.
                let ends = std::iter::once(span.end).chain(read.siblings.iter().map(|s| s.key.span().end));
                ends.for_each(|end| archives.read_ends.insert((Arc::clone(series), end), ()));
                return Ok(read);
            }
            (Exchange::Binance, DataKind::Trades, Some(archive), _, _) => {
                let day = key.span().start.div_euclid(DAY_MS);
                let deadline = archive.deadline();
                let rows = archive.agg_trades(series, day, now, deadline).await?;
                // Consecutive aggregate ids prove the hours strictly between the first
                // and the last trade's are whole. The neighbouring days' files, where
                // published, prove the edges: when the previous file ends at the id just
                // before this file's first, nothing traded between them (likewise after).
                let consecutive = rows.windows(2).all(|w| w[0].id.checked_add(1) == Some(w[1].id));
                let neighbour_id = |day: i64, last: bool| async move {
                    // A day not over has no file yet: not asked.
                    if (day + 1) * DAY_MS > now {
                        return None;
                    }
                    let rows = archive.agg_trades(series, day, now, deadline).await.ok()?;
                    if last { rows.last() } else { rows.first() }.map(|t| t.id)
                };
                let (first, last) = (rows.first(), rows.last());
                let joins_previous = match first {
                    Some(f) if consecutive => neighbour_id(day - 1, true).await == f.id.checked_sub(1),
                    _ => false,
                };
                let joins_next = match last {
                    Some(l) if consecutive => neighbour_id(day + 1, false).await == l.id.checked_add(1),
                    _ => false,
                };
                let hour = |t: i64| series.interval.slot_of(t);
                let edges = first.zip(last).map(|(f, l)| (hour(f.time), hour(l.time)));
                let whole = |k: &SegmentKey| {
                    consecutive
                        && edges.is_some_and(|(first, last)| {
                            (first < k.index || joins_previous) && (k.index < last || joins_next)
                        })
                };
                return Ok(self.day_of_trades(key, &rows, utc_day(key), auto, whole));
            }
            (Exchange::Binance, DataKind::Funding, Some(archive), _, _) => {
                let span = key.span();
                let read: crate::archive::ArchivedFundingSpan = archive.funding(series, span, now).await?;
                return Ok(FromArchive {
                    payload: Payload::Funding(Arc::new(normalize_funding(span, read.events))),
                    complete: read.complete,
                    siblings: Vec::new(),
                });
            }
            (Exchange::Bybit, DataKind::Trades, _, Some(archive), _) => {
                let day = key.span().start.div_euclid(DAY_MS);
                let rows = archive.trades(series, day, now).await?;
                // The day file is the exchange's record of the whole day.
                return Ok(self.day_of_trades(key, &rows, utc_day(key), auto, |_| true));
            }
            (Exchange::Okx, DataKind::Klines, _, _, Some(archive)) => {
                // Day files of UTC+8 days; a segment is whole when they give every slot.
                let read = archive.klines(series, key.span(), now).await?;
                return Ok(self.segments_of_files(key, read, auto, now));
            }
            (Exchange::Okx, DataKind::Funding, _, _, Some(archive)) => {
                // Day files of UTC+8 days holding every swap; whole when no event is missing.
                let span = key.span();
                let read = archive.funding(series, span, now).await?;
                return Ok(FromArchive {
                    payload: Payload::Funding(Arc::new(normalize_funding(span, read.events))),
                    complete: read.complete,
                    siblings: Vec::new(),
                });
            }
            (Exchange::Okx, DataKind::Trades, _, _, Some(archive)) => {
                // OKX's days are UTC+8 days; the file is OKX's record of the whole day.
                let day = crate::archive::utc8_day_of(key.span().start);
                let rows = archive.trades(series, day, now).await?;
                let span = crate::archive::utc8_day_span(day);
                return Ok(self.day_of_trades(key, &rows, span, auto, |_| true));
            }
            _ => {}
        }
        #[cfg(not(all(feature = "http", not(target_arch = "wasm32"))))]
        let _ = (now, auto, archives);
        Err(not_archived(
            series,
            key,
            format!("this build reads no {} archive of {}", series.exchange, series.kind.as_str()),
        ))
    }

    /// Whether segment `k`, which a file read for another segment covers, is left to
    /// others: memory holds it fresh, or a load of its own is running (concurrent loads
    /// of one file would otherwise each store all of it).
    #[cfg(all(feature = "http", not(target_arch = "wasm32")))]
    fn sibling_taken(&self, k: &SegmentKey, now: i64) -> bool {
        self.memory.as_ref().and_then(|m| m.get(k)).is_some_and(|s| s.is_fresh(now))
            || self.flights.is_running(k)
    }

    /// Kline segment `key` from the archive files read for it, and the other segments
    /// lying wholly inside those files (a monthly file of 1m candles holds ~44), stored
    /// with it so each file is read once: in `auto` only whole ones old enough for
    /// archives, and none [taken](Self::sibling_taken) by others. A segment is whole when the files
    /// give every slot of it.
    #[cfg(all(feature = "http", not(target_arch = "wasm32")))]
    fn segments_of_files(
        &self,
        key: &SegmentKey,
        read: crate::archive::ArchivedKlines,
        auto: bool,
        now: i64,
    ) -> FromArchive {
        let series = &key.series;
        let whole = |columns: &crate::candles::CandleColumns| {
            crate::table::Table::len(columns) as i64 == series.kind.slots_per_segment()
        };
        let columns = normalize_candles(key, read.candles);
        let complete = whole(&columns);
        let cutoff = now.div_euclid(DAY_MS) * DAY_MS - AUTO_LAG_MS;
        let mut siblings = Vec::new();
        for (file, rows) in &read.whole_files {
            let first = SegmentKey::containing(series, file.start);
            let first = if first.span().start < file.start { first.index + 1 } else { first.index };
            let inside = (first..)
                .map(|index| SegmentKey { series: Arc::clone(series), index })
                .take_while(|k| k.span().end <= file.end);
            for k in inside {
                let span = k.span();
                if k.index == key.index || (auto && span.end > cutoff) || self.sibling_taken(&k, now) {
                    continue;
                }
                let (lo, hi) = (
                    rows.partition_point(|c| c.open_time < span.start),
                    rows.partition_point(|c| c.open_time < span.end),
                );
                let columns = normalize_candles(&k, rows[lo..hi].to_vec());
                let complete = whole(&columns);
                if auto && !complete {
                    // REST decides about it when it is asked for.
                    continue;
                }
                let payload = Payload::Candles(Arc::new(columns));
                siblings.push(Sibling { key: k, payload, complete });
            }
        }
        FromArchive { payload: Payload::Candles(Arc::new(columns)), complete, siblings }
    }

    /// Segment `key` (one hour) from the trades of a day file covering `day`, and the
    /// day's other hours not taken by others ([`Self::sibling_taken`]; in `auto`, only
    /// whole ones);
    /// `whole` says which hours the file gives whole.
    #[cfg(all(feature = "http", not(target_arch = "wasm32")))]
    fn day_of_trades(
        &self,
        key: &SegmentKey,
        rows: &[crate::trades::Trade],
        day: crate::model::TimeRange,
        auto: bool,
        whole: impl Fn(&SegmentKey) -> bool,
    ) -> FromArchive {
        let series = &key.series;
        let hour = |t: i64| series.interval.slot_of(t);
        let mut by_time = rows.to_vec();
        by_time.sort_by_key(|t| (t.time, t.id));
        let payload_of = |k: &SegmentKey| {
            let span = k.span();
            let (lo, hi) = (
                by_time.partition_point(|t| t.time < span.start),
                by_time.partition_point(|t| t.time < span.end),
            );
            Payload::Trades(Arc::new(normalize_trades(span, by_time[lo..hi].to_vec())))
        };
        let now = self.clock.now_ms();
        let siblings = (hour(day.start)..hour(day.end))
            .filter(|&h| h != key.index)
            .map(|index| SegmentKey { series: Arc::clone(series), index })
            .filter(|k| (!auto || whole(k)) && !self.sibling_taken(k, now))
            .map(|k| Sibling { payload: payload_of(&k), complete: whole(&k), key: k })
            .collect();
        FromArchive { payload: payload_of(key), complete: whole(key), siblings }
    }
}

impl Engine {
    /// Counts (and logs) the rows of a partial archive read that REST, which served the
    /// segment, contradicts: values that differ, or rows REST does not have. REST's rows
    /// are the ones kept; the archive's are never merged in.
    pub(super) fn reconcile(&self, key: &SegmentKey, archive: &Payload, rest: &Payload) {
        let differing = match (archive, rest) {
            (Payload::Candles(a), Payload::Candles(r)) => {
                let by_time: std::collections::HashMap<i64, crate::candles::Candle> =
                    (0..crate::table::Table::len(&**r)).map(|i| r.row(i)).map(|c| (c.open_time, c)).collect();
                (0..crate::table::Table::len(&**a))
                    .map(|i| a.row(i))
                    .filter(|c| by_time.get(&c.open_time) != Some(c))
                    .count()
            }
            (Payload::Trades(a), Payload::Trades(r)) => {
                let by_id: std::collections::HashMap<i64, crate::trades::Trade> =
                    (0..crate::table::Table::len(&**r)).map(|i| r.row(i)).map(|t| (t.id, t)).collect();
                (0..crate::table::Table::len(&**a))
                    .map(|i| a.row(i))
                    .filter(|t| by_id.get(&t.id) != Some(t))
                    .count()
            }
            (Payload::Funding(a), Payload::Funding(r)) => {
                let by_time: std::collections::HashMap<i64, u64> =
                    r.time.iter().zip(&r.rate).map(|(t, rate)| (*t, rate.to_bits())).collect();
                a.time.iter().zip(&a.rate).filter(|(t, rate)| by_time.get(t) != Some(&rate.to_bits())).count()
            }
            _ => 0,
        };
        if differing > 0 {
            self.upstream_counters.archive_disagreements(differing as u64);
            tracing::warn!(segment = %key.storage_key("cc"), rows = differing, "archive rows disagree with REST; REST kept");
        }
    }
}

/// The UTC day holding segment `key`.
#[cfg(all(feature = "http", not(target_arch = "wasm32")))]
fn utc_day(key: &SegmentKey) -> crate::model::TimeRange {
    let start = key.span().start.div_euclid(DAY_MS) * DAY_MS;
    crate::model::TimeRange::new(start, start + DAY_MS)
}

fn not_archived(series: &SeriesKey, key: &SegmentKey, reason: String) -> Error {
    crate::archive::not_archived(&series.exchange.to_string(), series, key.span(), reason, None)
}
