//! A model of the engine's kline request cost per venue (pages, probes, skipped
//! segments), computed from the simulator's own data, for tests that assert the exact
//! number of upstream requests.

use std::collections::BTreeMap;

use cryptocache::{Exchange, KlineQuery, Market};
use cryptocache_sim::{venue_instruments, venue_klines, Venue};

use super::*;

/// Rows per kline page: Bybit 1000, OKX `candles` 300 and `history-candles` 100, Deribit 5000.
pub const BYBIT_PAGE: usize = 1000;
pub const OKX_RECENT_PAGE: usize = 300;
pub const OKX_HISTORY_PAGE: usize = 100;
pub const DERIBIT_PAGE: usize = 5000;
/// Bars OKX `candles` keeps.
pub const OKX_RECENT_BARS: i64 = 1440;

/// The simulator venue, exchange and market of a case.
#[derive(Clone, Copy, Debug)]
pub struct Series {
    /// The simulator venue.
    pub venue: Venue,
    /// The market.
    pub market: Market,
    /// The symbol.
    pub symbol: &'static str,
}

impl Series {
    /// The exchange of the venue.
    pub fn exchange(self) -> Exchange {
        match self.venue {
            Venue::BybitSpot | Venue::BybitLinear | Venue::BybitInverse => Exchange::Bybit,
            Venue::OkxSpot | Venue::OkxSwap | Venue::OkxFutures => Exchange::Okx,
            Venue::Deribit => Exchange::Deribit,
        }
    }

    /// A kline query on this series (market given explicitly).
    pub fn query(self, interval: &str, start: i64, end: i64) -> KlineQuery {
        venue_query(self.exchange(), self.symbol, interval, start, end).market(self.market)
    }

    /// The venue's interval code for a canonical interval.
    pub fn code(self, interval: &str) -> &'static str {
        let table: &[(&str, &'static str)] = match self.exchange() {
            Exchange::Bybit => &[
                ("1m", "1"),
                ("5m", "5"),
                ("15m", "15"),
                ("1h", "60"),
                ("4h", "240"),
                ("1d", "D"),
                ("1w", "W"),
                ("1M", "M"),
            ],
            // Daily and longer: the UTC codes (plain `1D` buckets at UTC+8).
            Exchange::Okx => &[
                ("1s", "1s"),
                ("1m", "1m"),
                ("5m", "5m"),
                ("15m", "15m"),
                ("1h", "1H"),
                ("4h", "4H"),
                ("1d", "1Dutc"),
                ("1w", "1Wutc"),
                ("1M", "1Mutc"),
            ],
            _ => &[("1m", "1"), ("5m", "5"), ("15m", "15"), ("1h", "60"), ("4h", "240"), ("1d", "1D")],
        };
        table.iter().find(|(c, _)| *c == interval).map(|(_, v)| *v).expect("interval code")
    }

    /// The true listing time and the one the venue publishes in its instruments list
    /// (Bybit spot has none).
    pub fn listing(self) -> (i64, Option<i64>) {
        let i =
            venue_instruments(self.venue).into_iter().find(|i| i.symbol == self.symbol).expect("instrument");
        (i.listed_ms, i.published_listed_ms)
    }

    /// When the instrument expires (dated futures).
    pub fn expiry(self) -> Option<i64> {
        venue_instruments(self.venue).into_iter().find(|i| i.symbol == self.symbol).and_then(|i| i.expiry_ms)
    }

    /// The kline paths of this venue.
    pub fn kline_paths(self) -> &'static [&'static str] {
        match self.exchange() {
            Exchange::Bybit => &[BYBIT_KLINE],
            Exchange::Okx => &[OKX_CANDLES, OKX_HISTORY],
            _ => &[DERIBIT_CHART],
        }
    }
}

/// The fewest kline requests, per path, a cold query needs, modelling the engine: per
/// planned segment (the engine fetches whole segments), every bar of the segment in pages
/// of the venue's size, at least one request; nothing from a published expiry on. A
/// published listing is only a hint: when two or more planned segments end before the
/// listing's segment, one probe asks the exchange (Binance/Bybit: its first bar; OKX:
/// anything older; Deribit: daily bars back to 2009 in windows of 4,900), and only its
/// answer skips segments. OKX: the bars among the newest 1,440 (counted back from now's
/// bar, or the last before expiry) from `candles` (300 a page), older ones from
/// `history-candles` (100 a page), paging back until the span's first slot or an empty page.
pub fn kline_minimum(s: Series, q: &KlineQuery, now: i64) -> BTreeMap<&'static str, u64> {
    let code = s.code(&q.interval.to_string());
    let (listed, published) = s.listing();
    let expiry = s.expiry();
    let iv = q.interval;
    let mut m: BTreeMap<&'static str, u64> = s.kline_paths().iter().map(|p| (*p, 0)).collect();
    let keys = planned_segments(q, s.market, now);
    let mut empty_before = None;
    if let Some(published) = published {
        let boundary = cryptocache::segment::SegmentKey::containing(&keys[0].series, published).span().start;
        if keys.iter().filter(|k| k.span().end <= boundary).count() >= 2 {
            empty_before = match s.exchange() {
                Exchange::Bybit => {
                    *m.entry(BYBIT_KLINE).or_default() += 1;
                    Some(iv.slot_start(iv.slot_of(listed)))
                }
                Exchange::Okx => {
                    *m.entry(OKX_HISTORY).or_default() += 1;
                    (listed >= boundary).then_some(boundary)
                }
                _ => {
                    // 4,900 bars of the series' interval before the boundary, then windows
                    // of 4,900 daily bars back to 2009, stopping at the first bar.
                    let first = (boundary - 4900 * iv.nominal_ms()).max(cryptocache::model::EARLIEST_MS);
                    let windows = if listed < boundary {
                        1
                    } else {
                        1 + ((first - cryptocache::model::EARLIEST_MS) as u64).div_ceil(4900 * DAY as u64)
                    };
                    *m.entry(DERIBIT_CHART).or_default() += windows;
                    (listed >= boundary).then_some(boundary)
                }
            };
        }
    }
    let cost = |m: &mut BTreeMap<&'static str, u64>, span: cryptocache::TimeRange| -> usize {
        let bars = venue_klines(s.venue, s.symbol, code, span.start, span.end, now).expect("sim data");
        match s.exchange() {
            Exchange::Bybit => *m.entry(BYBIT_KLINE).or_default() += pages(bars.len(), BYBIT_PAGE).max(1),
            Exchange::Deribit => {
                *m.entry(DERIBIT_CHART).or_default() += pages(bars.len(), DERIBIT_PAGE).max(1)
            }
            _ => {
                let newest = expiry.map_or(now, |e| now.min(e - 1));
                // `1s` bars are in history-candles only.
                let cut = match code {
                    "1s" => i64::MAX,
                    _ => iv.slot_start(iv.slot_of(newest) - (OKX_RECENT_BARS - 1)),
                };
                let times: Vec<i64> = bars.iter().map(|c| c.open_time).collect();
                let (recent, history) = okx_pages(&times, span, cut, code != "1s" && span.end > cut, iv);
                *m.entry(OKX_CANDLES).or_default() += recent;
                *m.entry(OKX_HISTORY).or_default() += history;
            }
        }
        bars.len()
    };
    if let Some(pieces) = partial_pieces(s, q, &keys, now) {
        // Only the range's pages: the first alone when there are eight or more (and no
        // listing answer yet); if it is empty, Bybit names its first bar.
        let mut rest = &pieces[..];
        if empty_before.is_none() && pieces.len() >= 8 {
            if cost(&mut m, pieces[0]) == 0 && s.exchange() == Exchange::Bybit {
                *m.entry(BYBIT_KLINE).or_default() += 1;
                empty_before = Some(iv.slot_start(iv.slot_of(listed)));
            }
            rest = &pieces[1..];
        }
        for piece in rest {
            if empty_before.is_some_and(|t| piece.end <= t) || expiry.is_some_and(|e| piece.start >= e) {
                continue;
            }
            cost(&mut m, *piece);
        }
        return m;
    }
    let mut rest = &keys[..];
    if empty_before.is_none() && keys.len() >= 8 {
        // The engine fetches the first segment alone; if empty, Binance/Bybit name their first bar.
        let first = &keys[0];
        let fetched_empty = expiry.is_none_or(|e| first.span().start < e) && cost(&mut m, first.span()) == 0;
        if fetched_empty && s.exchange() == Exchange::Bybit {
            *m.entry(BYBIT_KLINE).or_default() += 1;
            empty_before = Some(iv.slot_start(iv.slot_of(listed)));
        }
        rest = &keys[1..];
    }
    for key in rest {
        let span = key.span();
        if empty_before.is_some_and(|t| span.end <= t) || expiry.is_some_and(|e| span.start >= e) {
            continue;
        }
        cost(&mut m, span);
    }
    m
}

/// The pages a cold query fetches when that costs fewer requests than its whole
/// segments (counted in slots, each segment in pages of the venue's size): the range,
/// widened to whole slots, cut into pages from its start, up to the slot holding now. `None` when whole segments are
/// as cheap.
fn partial_pieces(
    s: Series,
    q: &KlineQuery,
    keys: &[cryptocache::segment::SegmentKey],
    now: i64,
) -> Option<Vec<cryptocache::TimeRange>> {
    let iv = q.interval;
    let code = s.code(&q.interval.to_string());
    let newest = s.expiry().map_or(now, |e| now.min(e - 1));
    let cut = iv.slot_start(iv.slot_of(newest) - (OKX_RECENT_BARS - 1));
    let page = |start: i64| match s.exchange() {
        Exchange::Bybit => BYBIT_PAGE,
        Exchange::Deribit => DERIBIT_PAGE,
        _ if code != "1s" && start >= cut => OKX_RECENT_PAGE,
        _ => OKX_HISTORY_PAGE,
    };
    let pages = |run: cryptocache::TimeRange| {
        let end = run.end.min(iv.slot_start(iv.slot_of(now) + 1));
        let mut out = Vec::new();
        let mut start = run.start;
        while start < end {
            let next = iv.slot_start(iv.slot_of(start) + page(start) as i64).min(end);
            out.push(cryptocache::TimeRange::new(start, next));
            start = next;
        }
        out
    };
    let whole: usize = keys.iter().map(|k| pages(k.span()).len()).sum();
    let (first, last) = (keys.first()?.span(), keys.last()?.span());
    // The range widened to whole slots.
    let start = iv.slot_start(iv.slot_of(q.start.max(first.start)));
    let end = iv.slot_start(iv.slot_of(q.end.min(last.end) - 1) + 1);
    let pieces = pages(cryptocache::TimeRange::new(start, end));
    (pieces.len() < whole).then_some(pieces)
}

/// The requests (`candles`, `history-candles`) OKX's adapter makes for one segment whose
/// bars open at `times`: pages back from the span's end, `candles` while bars are among
/// the newest 1,440 (from `cut`), until a page reaches the span's first slot or is empty.
fn okx_pages(
    times: &[i64],
    span: cryptocache::TimeRange,
    cut: i64,
    mut recent: bool,
    iv: cryptocache::Interval,
) -> (u64, u64) {
    let (mut candles, mut history) = (0, 0);
    let mut after = span.end;
    loop {
        let (page, count) =
            if recent { (OKX_RECENT_PAGE, &mut candles) } else { (OKX_HISTORY_PAGE, &mut history) };
        *count += 1;
        let mut served: Vec<i64> =
            times.iter().copied().filter(|&t| t < after && (!recent || t >= cut)).collect();
        served.sort_unstable_by(|a, b| b.cmp(a));
        served.truncate(page);
        let Some(&oldest) = served.last() else {
            if recent {
                recent = false;
                continue;
            }
            break;
        };
        if iv.slot_of(oldest) <= iv.slot_of(span.start) || oldest >= after {
            break;
        }
        after = oldest;
        recent &= oldest > cut;
    }
    (candles, history)
}
