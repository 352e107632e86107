//! Deterministic trade streams: every trade of every instrument is a pure
//! function of its index, and the index of the first trade at or after any
//! instant is computable in O(1) — no history is ever walked.
//!
//! Trades come in *aggregates* (one taker order filling 1–3 makers at one
//! price and instant, Binance's `aggTrades`). Per minute there are `G ± d`
//! aggregates, the deviations cancelling in pairs of minutes, so an hour
//! always holds exactly `60·G`; aggregates come in pairs holding exactly
//! four trades. Hence counts before any hour are closed-form, and the rest
//! is a walk of at most 60 minutes. Hours inside quiet windows, dead spans
//! (maintenance) or after expiry hold no trades; trading starts at the
//! first whole hour after listing. Trades are their own stream around the
//! price path: they do not add up to the candles' volumes.

use super::calendar::MAX_TIME;
use super::hash::{mix, symmetric, unit16};
use super::series::SeriesSpec;

/// Minute, ms.
const MIN_MS: i64 = 60_000;
/// Hour, ms.
const HOUR_MS: i64 = 3_600_000;
/// 1.0 in 16-bit fixed point.
const ONE16: i64 = 65_536;

/// Hash tags.
const TAG_MINUTE: u64 = 0x11;
const TAG_PAIR: u64 = 0x12;
const TAG_TIME: u64 = 0x13;
const TAG_SIDE: u64 = 0x14;
const TAG_QTY: u64 = 0x15;
const TAG_BURST: u64 = 0x16;
/// A burst sweeps one tick deeper into the book every this many trades.
const BURST_TRADES_PER_TICK: i64 = 100;

/// One aggregate: a taker order matched at one price and instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Agg {
    /// Index in the stream (0 = the first aggregate ever).
    pub index: i64,
    /// Time, ms.
    pub time: i64,
    /// Price, price units.
    pub price: i64,
    /// Whether the buyer was the maker (the taker sold).
    pub buyer_maker: bool,
    /// Index of its first trade.
    pub first_trade: i64,
    /// Number of trades (1–3).
    pub trades: i64,
}

/// One trade.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Trade {
    /// Index in the stream (0 = the first trade ever).
    pub index: i64,
    /// Index of its aggregate (-1 for a trade of a burst).
    pub agg: i64,
    /// Time, ms.
    pub time: i64,
    /// Price, price units.
    pub price: i64,
    /// Quantity, quantity units (≥ 1).
    pub qty: i64,
    /// Whether the buyer was the maker (the taker sold).
    pub buyer_maker: bool,
}

/// The trades of one instrument.
#[derive(Clone, Debug)]
pub(crate) struct TradeStream {
    spec: SeriesSpec,
    seed: u64,
    /// Mean aggregates per minute (≥ 1).
    aggs_per_min: i64,
    /// Mean quantity of one trade, quantity units.
    qty_per_trade: i64,
    /// First hour (index since the epoch) with trades.
    origin_hour: i64,
    /// First hour without trades any more (expiry), exclusive.
    end_hour: i64,
    /// A whole-hour span without trades (maintenance), `[from, to)` ms.
    dead: Option<(i64, i64)>,
    /// Extra trades sharing one millisecond, if any.
    burst: Option<Burst>,
}

/// A burst: `count` trades at one millisecond (one taker order sweeping
/// the book), on top of the regular stream. They take the indices from
/// the first regular trade at or after `time` on; later trades shift by
/// `count`. Only the trade-level queries see it (aggregates are Binance's,
/// and no Binance stream has a burst).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Burst {
    /// The millisecond all of them share.
    pub time: i64,
    /// How many trades.
    pub count: i64,
}

impl TradeStream {
    /// The stream of `spec`'s instrument, `trades_per_min` and
    /// `qty_per_min` on average, with an optional dead span (rounded out to
    /// whole hours).
    pub(crate) fn new(
        spec: SeriesSpec,
        trades_per_min: i64,
        qty_per_min: i64,
        dead: Option<(i64, i64)>,
    ) -> Self {
        let aggs_per_min = (trades_per_min / 2).max(1);
        let qty_per_trade = (qty_per_min / (2 * aggs_per_min)).max(1);
        let origin_hour = (spec.listed_ms.clamp(0, MAX_TIME) + HOUR_MS - 1).div_euclid(HOUR_MS);
        let end_hour = spec.until_ms.min(MAX_TIME).div_euclid(HOUR_MS);
        let dead = dead
            .map(|(a, b)| (a.div_euclid(HOUR_MS) * HOUR_MS, (b + HOUR_MS - 1).div_euclid(HOUR_MS) * HOUR_MS));
        let seed = mix(&[spec.seed, 0x7472_6164_6573]);
        TradeStream { spec, seed, aggs_per_min, qty_per_trade, origin_hour, end_hour, dead, burst: None }
    }

    /// The same stream with a burst of `count` trades at millisecond `time`.
    pub(crate) fn with_burst(mut self, time: i64, count: i64) -> Self {
        self.burst = (count > 0).then_some(Burst { time, count });
        self
    }

    /// The burst and the index of its first trade, if the stream has one.
    fn burst_at(&self) -> Option<(Burst, i64)> {
        self.burst.map(|b| (b, self.regular_trades_before(b.time)))
    }

    /// Milliseconds of `[a, b)` without trades from quiet windows and the dead span.
    fn idle_ms(&self, a: i64, b: i64) -> i64 {
        let quiet = self.spec.quiet.map_or(0, |q| q.overlap(a, b));
        let dead = self.dead.map_or(0, |(s, e)| (e.min(b) - s.max(a)).max(0));
        quiet + dead
    }

    /// Whether hour `h` holds trades.
    fn hour_active(&self, h: i64) -> bool {
        h >= self.origin_hour && h < self.end_hour && self.idle_ms(h * HOUR_MS, (h + 1) * HOUR_MS) == 0
    }

    /// Active hours in `[origin, h)`.
    fn active_before(&self, h: i64) -> i64 {
        let h = h.clamp(self.origin_hour, self.end_hour.max(self.origin_hour));
        (h - self.origin_hour) - self.idle_ms(self.origin_hour * HOUR_MS, h * HOUR_MS) / HOUR_MS
    }

    /// The active hour holding the `n`-th active hour's trades, if trading
    /// lasts that long.
    fn nth_active_hour(&self, n: i64) -> Option<i64> {
        let mut h = self.origin_hour + n;
        for _ in 0..10_000 {
            if h >= self.end_hour {
                return None;
            }
            let skipped = self.idle_ms(self.origin_hour * HOUR_MS, h * HOUR_MS) / HOUR_MS;
            let next = self.origin_hour + n + skipped;
            if next == h {
                break;
            }
            h = next;
        }
        while !self.hour_active(h) {
            h += 1;
            if h >= self.end_hour {
                return None;
            }
        }
        Some(h)
    }

    /// Aggregates in minute `m` (index since the epoch).
    fn minute_aggs(&self, m: i64) -> i64 {
        let h = m.div_euclid(60);
        if !self.hour_active(h) {
            return 0;
        }
        let g = self.aggs_per_min;
        let in_hour = m.rem_euclid(60);
        let d = symmetric(&[self.seed, TAG_MINUTE, h as u64, (in_hour / 2) as u64], g / 2);
        if in_hour % 2 == 0 {
            g + d
        } else {
            g - d
        }
    }

    /// Aggregates before minute `m`.
    fn aggs_before_minute(&self, m: i64) -> i64 {
        let h = m.div_euclid(60);
        let full = self.active_before(h) * 60 * self.aggs_per_min;
        if !self.hour_active(h) {
            return full;
        }
        full + (h * 60..m).map(|mm| self.minute_aggs(mm)).sum::<i64>()
    }

    /// Time of aggregate `j` of the `g` in minute `m`: spread over the
    /// minute, strictly increasing with `j`.
    fn agg_time(&self, m: i64, j: i64, g: i64) -> i64 {
        let width = (MIN_MS / g).max(1);
        let jitter = (mix(&[self.seed, TAG_TIME, m as u64, j as u64]) % width as u64) as i64;
        m * MIN_MS + j * MIN_MS / g + jitter
    }

    /// Number of aggregates with time < `t`, i.e. the index of the first at or after `t`.
    pub(crate) fn aggs_before(&self, t: i64) -> i64 {
        let t = t.clamp(0, MAX_TIME);
        let m = t.div_euclid(MIN_MS);
        let g = self.minute_aggs(m);
        let within = (0..g).take_while(|&j| self.agg_time(m, j, g) < t).count() as i64;
        self.aggs_before_minute(m) + within
    }

    /// The shift of aggregate pair `i`: the even one holds `2 + s` trades,
    /// the odd one `2 - s`.
    fn pair_shift(&self, i: i64) -> i64 {
        symmetric(&[self.seed, TAG_PAIR, i as u64], 1)
    }

    /// Index of the first trade of aggregate `a` (also valid one past the end).
    pub(crate) fn first_trade_of(&self, a: i64) -> i64 {
        if a % 2 == 0 {
            2 * a
        } else {
            2 * a + self.pair_shift(a / 2)
        }
    }

    /// Number of regular (non-burst) trades with time < `t`.
    fn regular_trades_before(&self, t: i64) -> i64 {
        self.first_trade_of(self.aggs_before(t))
    }

    /// Number of trades with time < `t` (the burst included), i.e. the
    /// index of the first trade at or after `t`.
    pub(crate) fn trades_before(&self, t: i64) -> i64 {
        let regular = self.regular_trades_before(t);
        match self.burst {
            Some(b) if t > b.time => regular + b.count,
            _ => regular,
        }
    }

    /// Aggregate `a`, if it exists (whatever "now" is).
    pub(crate) fn agg(&self, a: i64) -> Option<Agg> {
        if a < 0 {
            return None;
        }
        let per_hour = 60 * self.aggs_per_min;
        let h = self.nth_active_hour(a / per_hour)?;
        let mut rest = a % per_hour;
        let mut m = h * 60;
        loop {
            let g = self.minute_aggs(m);
            if rest < g {
                return Some(self.agg_in(a, m, rest, g));
            }
            rest -= g;
            m += 1;
        }
    }

    /// Aggregate `a`, known to be number `j` of the `g` in minute `m`.
    fn agg_in(&self, a: i64, m: i64, j: i64, g: i64) -> Agg {
        let time = self.agg_time(m, j, g);
        let buyer_maker = mix(&[self.seed, TAG_SIDE, a as u64]) & 1 == 1;
        let tick = self.spec.price_tick.max(1);
        let price = self.spec.price_at(time) + if buyer_maker { 0 } else { tick };
        let s = self.pair_shift(a / 2);
        let trades = if a % 2 == 0 { 2 + s } else { 2 - s };
        Agg { index: a, time, price, buyer_maker, first_trade: self.first_trade_of(a), trades }
    }

    /// Quantity of trade `k`: 0.2–1.8 × the mean, at least one unit.
    fn trade_qty(&self, k: i64) -> i64 {
        let u = unit16(&[self.seed, TAG_QTY, k as u64]);
        (self.qty_per_trade * (ONE16 / 5 + u * 8 / 5) / ONE16).max(1)
    }

    /// The trades of aggregate `agg`.
    pub(crate) fn trades_of(&self, agg: &Agg) -> Vec<Trade> {
        (agg.first_trade..agg.first_trade + agg.trades)
            .map(|k| Trade {
                index: k,
                agg: agg.index,
                time: agg.time,
                price: agg.price,
                qty: self.trade_qty(k),
                buyer_maker: agg.buyer_maker,
            })
            .collect()
    }

    /// Total quantity of aggregate `agg`.
    pub(crate) fn agg_qty(&self, agg: &Agg) -> i64 {
        (agg.first_trade..agg.first_trade + agg.trades).map(|k| self.trade_qty(k)).sum()
    }

    /// The aggregate holding trade `k`.
    fn agg_of_trade(&self, k: i64) -> i64 {
        let (i, r) = (k.div_euclid(4), k.rem_euclid(4));
        if r < 2 + self.pair_shift(i) {
            2 * i
        } else {
            2 * i + 1
        }
    }

    /// Regular trade `k` of a stream without a burst, if it exists
    /// (whatever "now" is).
    #[cfg(test)]
    pub(crate) fn trade(&self, k: i64) -> Option<Trade> {
        if k < 0 {
            return None;
        }
        let agg = self.agg(self.agg_of_trade(k))?;
        self.trades_of(&agg).into_iter().find(|t| t.index == k)
    }

    /// Up to `limit` aggregates from index `from` on, with time ≤ `max_time`
    /// and ≤ `now`, oldest first.
    pub(crate) fn aggs_from(&self, from: i64, max_time: i64, limit: usize, now: i64) -> Vec<Agg> {
        let max_time = max_time.min(now);
        let mut out = Vec::new();
        let mut a = from.max(0);
        while out.len() < limit {
            match self.agg(a) {
                Some(agg) if agg.time <= max_time => out.push(agg),
                _ => break,
            }
            a += 1;
        }
        out
    }

    /// Up to `limit` trades from index `from` on, with time ≤ `max_time` and
    /// ≤ `now`, oldest first (the burst included).
    pub(crate) fn trades_from(&self, from: i64, max_time: i64, limit: usize, now: i64) -> Vec<Trade> {
        let Some((b, split)) = self.burst_at() else {
            return self.regular_trades_from(from, max_time, limit, now);
        };
        let (from, cap) = (from.max(0), max_time.min(now));
        let mut out = Vec::new();
        // Regular trades before the burst (all older than it).
        if from < split {
            let n = usize::try_from(split - from).unwrap_or(usize::MAX).min(limit);
            out = self.regular_trades_from(from, cap, n, now);
        }
        if b.time > cap {
            return out;
        }
        // The burst.
        let mut k = from.max(split);
        while k < split + b.count && out.len() < limit {
            out.push(self.burst_trade(b, split, k));
            k += 1;
        }
        // Regular trades after it, their indices shifted by the burst.
        if out.len() < limit {
            let rest = self.regular_trades_from((from - b.count).max(split), cap, limit - out.len(), now);
            out.extend(rest.into_iter().map(|t| Trade { index: t.index + b.count, ..t }));
        }
        out
    }

    /// Trade `k` of the stream, known to be in the burst `b` whose first
    /// index is `split`: one taker sell sweeping the bids, one tick lower
    /// every [`BURST_TRADES_PER_TICK`] trades.
    fn burst_trade(&self, b: Burst, split: i64, k: i64) -> Trade {
        let j = k - split;
        let tick = self.spec.price_tick.max(1);
        let price = (self.spec.price_at(b.time) - (j / BURST_TRADES_PER_TICK) * tick).max(tick);
        let u = unit16(&[self.seed, TAG_BURST, j as u64]);
        Trade {
            index: k,
            agg: -1,
            time: b.time,
            price,
            qty: (self.qty_per_trade * (ONE16 / 5 + u * 8 / 5) / ONE16).max(1),
            buyer_maker: true,
        }
    }

    /// Up to `limit` regular trades from regular index `from` on, with
    /// time ≤ `max_time` and ≤ `now`, oldest first.
    fn regular_trades_from(&self, from: i64, max_time: i64, limit: usize, now: i64) -> Vec<Trade> {
        let from = from.max(0);
        let mut out = Vec::new();
        let mut a = self.agg_of_trade(from);
        while out.len() < limit {
            let Some(agg) = self.agg(a).filter(|g| g.time <= max_time.min(now)) else {
                break;
            };
            out.extend(self.trades_of(&agg).into_iter().filter(|t| t.index >= from).take(limit - out.len()));
            a += 1;
        }
        out
    }

    /// The newest `limit` trades with `min_time` ≤ time ≤ `max_time` (and ≤ `now`), oldest first.
    pub(crate) fn trades_newest(&self, min_time: i64, max_time: i64, limit: usize, now: i64) -> Vec<Trade> {
        let end = self.trades_before(max_time.min(now).saturating_add(1));
        let start = self.trades_before(min_time).max(end.saturating_sub(limit as i64));
        if start >= end {
            return Vec::new();
        }
        self.trades_from(start, i64::MAX, (end - start) as usize, now)
    }

    /// The newest `limit` aggregates with `min_time` ≤ time ≤ `max_time` (and ≤ `now`), oldest first.
    pub(crate) fn aggs_newest(&self, min_time: i64, max_time: i64, limit: usize, now: i64) -> Vec<Agg> {
        let end = self.aggs_before(max_time.min(now).saturating_add(1));
        let start = self.aggs_before(min_time).max(end.saturating_sub(limit as i64));
        if start >= end {
            return Vec::new();
        }
        self.aggs_from(start, i64::MAX, (end - start) as usize, now)
    }

    /// Number of trades with time ≤ `now`.
    pub(crate) fn count_at(&self, now: i64) -> i64 {
        self.trades_before(now.saturating_add(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::calendar::DAY_MS;
    use crate::data::series::Quiet;

    fn stream(quiet: bool, dead: Option<(i64, i64)>) -> TradeStream {
        let spec = SeriesSpec {
            path_seed: 1,
            seed: 2,
            base_price: 3_000_000,
            price_tick: 1,
            qty_per_min: 1_000_000,
            trades_per_min: 40,
            listed_ms: 1_600_000_000_000,
            until_ms: 1_700_000_000_000 - 1_700_000_000_000 % HOUR_MS,
            quiet: quiet.then_some(Quiet {
                seed: 3,
                period_ms: 10 * DAY_MS,
                len_ms: 2 * HOUR_MS,
                align_ms: HOUR_MS,
            }),
        };
        TradeStream::new(spec, 40, 1_000_000, dead)
    }

    #[test]
    fn indices_times_and_counts_agree() {
        let dead = Some((1_650_000_000_000, 1_650_010_000_000));
        for s in [stream(false, None), stream(true, None), stream(false, dead)] {
            let origin = s.origin_hour * HOUR_MS;
            assert_eq!(origin, 1_600_002_000_000);
            assert_eq!(s.aggs_before(origin), 0);
            assert_eq!(s.agg(0).map(|a| a.time >= origin), Some(true));
            // Around a few instants: the agg at index aggs_before(t) is the first at/after t.
            for t in [origin + 5, 1_620_000_000_123, 1_650_000_000_000, 1_650_005_000_000, 1_699_990_000_000]
            {
                let a = s.aggs_before(t);
                let next = s.agg(a).expect("an aggregate");
                assert!(next.time >= t, "{t}");
                if a > 0 {
                    assert!(s.agg(a - 1).expect("one before").time < t, "{t}");
                }
                assert_eq!(next.index, a);
                // Trades line up with their aggregates.
                let first = s.trade(next.first_trade).expect("trade");
                assert_eq!((first.agg, first.time), (a, next.time));
                assert_eq!(s.trades_before(t), next.first_trade);
            }
            // Consecutive aggregates: increasing times, contiguous trades.
            let run = s.aggs_from(s.aggs_before(1_620_000_000_000), i64::MAX, 500, i64::MAX);
            assert_eq!(run.len(), 500);
            for w in run.windows(2) {
                assert!(w[0].time < w[1].time);
                assert_eq!(w[0].first_trade + w[0].trades, w[1].first_trade);
                assert_eq!(w[0].index + 1, w[1].index);
            }
            let trades = s.trades_from(run[0].first_trade + 1, i64::MAX, 700, i64::MAX);
            assert_eq!(trades.len(), 700);
            assert!(trades.windows(2).all(|w| w[0].index + 1 == w[1].index && w[0].time <= w[1].time));
            // Nothing after expiry.
            let last = s.aggs_before(i64::MAX / 2);
            assert!(s.agg(last).is_none());
            assert!(s.agg(last - 1).expect("last").time < 1_700_000_000_000);
        }
    }

    #[test]
    fn idle_hours_hold_no_trades() {
        let s = stream(true, Some((1_650_000_000_000, 1_650_010_000_000)));
        let (qs, qe) = s.spec.quiet.map(|q| q.window(1900)).expect("quiet");
        assert_eq!(s.aggs_before(qs), s.aggs_before(qe));
        let after = s.agg(s.aggs_before(qs)).expect("after");
        assert!(after.time >= qe);
        let dead_from = 1_650_000_000_000 - 1_650_000_000_000 % HOUR_MS;
        let dead_to = (1_650_010_000_000 / HOUR_MS + 1) * HOUR_MS;
        assert_eq!(s.aggs_before(dead_from), s.aggs_before(dead_to));
        assert!(s.aggs_before(dead_to + 60_000) > s.aggs_before(dead_to));
        // An hour holds exactly 60·G aggregates and 120·G trades.
        let h = 1_620_000_000_000 - 1_620_000_000_000 % HOUR_MS;
        assert_eq!(s.aggs_before(h + HOUR_MS) - s.aggs_before(h), 60 * 20);
        assert_eq!(s.trades_before(h + HOUR_MS) - s.trades_before(h), 120 * 20);
        let newest = s.trades_newest(0, h, 5, i64::MAX);
        assert_eq!(newest.len(), 5);
        assert!(newest[4].time <= h && s.trade(newest[4].index + 1).expect("next").time > h);
    }

    #[test]
    fn a_burst_shares_one_millisecond() {
        let t0 = 1_620_000_000_123;
        let plain = stream(false, None);
        let s = stream(false, None).with_burst(t0, 2500);
        let split = plain.trades_before(t0);
        assert_eq!(s.trades_before(t0), split);
        assert_eq!(s.trades_before(t0 + 1), plain.trades_before(t0 + 1) + 2500);
        assert_eq!(s.trades_before(t0 - 60_000), plain.trades_before(t0 - 60_000));
        let around = s.trades_from(split - 3, i64::MAX, 2510, i64::MAX);
        assert_eq!(around.len(), 2510);
        assert!(around.windows(2).all(|w| w[0].index + 1 == w[1].index && w[0].time <= w[1].time));
        assert!(around[..3].iter().all(|t| t.time < t0));
        assert!(around[3..2503].iter().all(|t| t.time == t0 && t.buyer_maker && t.agg == -1));
        assert_eq!(around[3].index, split);
        let after = plain.trades_from(split, i64::MAX, 7, i64::MAX);
        assert_eq!(
            around[2503..].iter().map(|t| t.index - 2500).collect::<Vec<_>>(),
            (split..split + 7).collect::<Vec<_>>()
        );
        assert_eq!(around[2503].time, after[0].time);
        // From inside the burst; up to its millisecond; before it.
        let mid = s.trades_from(split + 1000, i64::MAX, 5, i64::MAX);
        assert_eq!(
            mid.iter().map(|t| t.index).collect::<Vec<_>>(),
            (split + 1000..split + 1005).collect::<Vec<_>>()
        );
        assert_eq!(s.trades_newest(0, t0, 1, i64::MAX)[0].index, split + 2499);
        assert_eq!(s.trades_from(split - 2, t0 - 1, 10, i64::MAX).len(), 2);
        assert_eq!(s.trades_from(split - 2, i64::MAX, 10, t0 - 1).len(), 2, "not yet at now");
        assert_eq!(s.count_at(t0), plain.count_at(t0) + 2500);
    }
}
