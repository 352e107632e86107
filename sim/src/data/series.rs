//! The exchange-neutral market model: a price path and per-candle statistics
//! that are pure functions of `(series, time)`, computable in O(1) for any
//! candle without walking history.
//!
//! All values are integers in the units the exchange quotes them in (price
//! units of `10^-price_scale`, quantity units of `10^-qty_scale`); exchange
//! modules decide the scales and turn the integers into wire text.

use super::calendar::DAY_MS;
use super::hash::{mix, symmetric, unit16};

/// Smooth components of the price path: `(period ms, amplitude ppm)`.
/// Their amplitudes add up to about ±34 %, so the price stays positive.
const OCTAVES: [(i64, i64); 6] = [
    (120 * DAY_MS, 250_000),
    (10 * DAY_MS, 60_000),
    (DAY_MS, 20_000),
    (2 * 3_600_000, 6_000),
    (5 * 60_000, 1_500),
    (10_000, 300),
];
/// Per-millisecond price noise, ppm.
const NOISE_PPM: i64 = 40;
/// 1.0 in 16-bit fixed point.
const ONE16: i64 = 65_536;

/// Field tags, so each statistic of a candle draws an independent hash.
const TAG_UP: u64 = 1;
const TAG_DOWN: u64 = 2;
const TAG_VOLUME: u64 = 3;
const TAG_TRADES: u64 = 4;
const TAG_VWAP: u64 = 5;
const TAG_TAKER: u64 = 6;
const TAG_NOISE: u64 = 7;

/// Static description of one synthetic series (one market's symbol).
#[derive(Clone, Debug)]
pub(crate) struct SeriesSpec {
    /// Seed of the smooth price path (shared by markets of the same asset, so
    /// spot and futures move together).
    pub path_seed: u64,
    /// Seed of everything else (noise, volume, trades); unique per market and symbol.
    pub seed: u64,
    /// Centre of the price path, in price units.
    pub base_price: i64,
    /// Price tick, in price units.
    pub price_tick: i64,
    /// Mean traded quantity per minute, in quantity units.
    pub qty_per_min: i64,
    /// Mean trade count per minute.
    pub trades_per_min: i64,
    /// First millisecond of trading; nothing trades before it.
    pub listed_ms: i64,
    /// First millisecond after trading ends (a dated future's expiry);
    /// `i64::MAX` if it never ends.
    pub until_ms: i64,
    /// Recurring trade-less windows, if the series has any.
    pub quiet: Option<Quiet>,
}

/// Recurring trade-less windows: in each block `[n·period, (n+1)·period)`
/// one window of `len_ms`, starting at a hash-chosen multiple of `align_ms`
/// inside the block (so windows never cross blocks). While quiet, nothing
/// trades and the price stays at the last traded one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Quiet {
    /// Seed of the window positions.
    pub seed: u64,
    /// Block length, ms (> `len_ms`).
    pub period_ms: i64,
    /// Window length, ms (> 0).
    pub len_ms: i64,
    /// Window starts are multiples of this, ms (> 0).
    pub align_ms: i64,
}

impl Quiet {
    /// The window of block `n`, `[start, end)`.
    pub(crate) fn window(&self, n: i64) -> (i64, i64) {
        let choices = ((self.period_ms - self.len_ms) / self.align_ms.max(1)).max(1);
        let k = (mix(&[self.seed, n as u64]) % choices as u64) as i64;
        let start = n * self.period_ms + k * self.align_ms;
        (start, start + self.len_ms)
    }

    /// The windows overlapping `[a, b)`, oldest first.
    pub(crate) fn windows(&self, a: i64, b: i64) -> Vec<(i64, i64)> {
        if b <= a {
            return Vec::new();
        }
        (a.div_euclid(self.period_ms)..=(b - 1).div_euclid(self.period_ms))
            .map(|n| self.window(n))
            .filter(|&(s, e)| s < b && e > a)
            .collect()
    }

    /// The window containing `t`, if any.
    pub(crate) fn containing(&self, t: i64) -> Option<(i64, i64)> {
        let w = self.window(t.div_euclid(self.period_ms));
        (w.0 <= t && t < w.1).then_some(w)
    }

    /// Milliseconds of `[a, b)` that are quiet, in O(1) for any span.
    pub(crate) fn overlap(&self, a: i64, b: i64) -> i64 {
        if b <= a {
            return 0;
        }
        let cut = |(s, e): (i64, i64)| (e.min(b) - s.max(a)).max(0);
        let (first, last) = (a.div_euclid(self.period_ms), (b - 1).div_euclid(self.period_ms));
        if first == last {
            return cut(self.window(first));
        }
        cut(self.window(first)) + (last - first - 1) * self.len_ms + cut(self.window(last))
    }
}

/// One candle in integer units. `quote` and `taker_quote` are in units of
/// `10^-(price_scale + qty_scale)`: they are exact products of quantity and price.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RawCandle {
    pub open_time: i64,
    pub close_time: i64,
    pub open: i64,
    pub high: i64,
    pub low: i64,
    pub close: i64,
    pub volume: i64,
    pub quote: i128,
    pub trades: u64,
    pub taker_base: i64,
    pub taker_quote: i128,
}

impl SeriesSpec {
    /// The last traded price at `t`: [`SeriesSpec::price_at`], except that
    /// inside a quiet window it stays at the price the window began with.
    pub(crate) fn traded_price_at(&self, t: i64) -> i64 {
        match self.quiet.and_then(|q| q.containing(t)) {
            Some((start, _)) => self.price_at(start),
            None => self.price_at(t),
        }
    }

    /// Price (on the tick grid, in price units) at millisecond `t`.
    pub(crate) fn price_at(&self, t: i64) -> i64 {
        let mut ppm: i64 = 1_000_000;
        for (k, &(period, amp)) in OCTAVES.iter().enumerate() {
            ppm += octave(self.path_seed, k as u64, period, amp, t);
        }
        ppm += symmetric(&[self.seed, TAG_NOISE, t as u64], NOISE_PPM);
        let raw = i128::from(self.base_price) * i128::from(ppm) / 1_000_000;
        let tick = i128::from(self.price_tick.max(1));
        let on_grid = (raw + tick / 2) / tick * tick;
        on_grid.max(tick) as i64
    }

    /// The candle occupying `[open_time, close_time]` as seen at `now`, or
    /// `None` if nothing had traded in it by then (not yet open, not yet
    /// listed, or already expired). A candle still open at `now` covers only
    /// the elapsed part: close = price(now), volume and trades proportional
    /// to elapsed time. Quiet time counts as not elapsed, so a candle wholly
    /// inside a quiet window is a filler: open = high = low = close = the
    /// previous close, volume 0. `interval_key` distinguishes intervals whose
    /// slots share an open time.
    pub(crate) fn candle(
        &self,
        interval_key: u64,
        open_time: i64,
        close_time: i64,
        now: i64,
    ) -> Option<RawCandle> {
        let start = open_time.max(self.listed_ms);
        if start > now || close_time < start || start >= self.until_ms {
            return None;
        }
        let end = (close_time + 1).min(now).min(self.until_ms);
        let slot_len = i128::from(close_time + 1 - open_time);
        let quiet = self.quiet.map_or(0, |q| q.overlap(start, end));
        let active = i128::from(end - start - quiet);
        let key = |tag: u64| [self.seed, interval_key, open_time as u64, tag];

        let open = self.traded_price_at(start);
        // The last trade: at the end, or where a quiet window reaching the end began.
        let close = match self.quiet.and_then(|q| q.containing(end - 1)) {
            Some((quiet_start, _)) if end > start => self.price_at(quiet_start),
            _ => self.traded_price_at(end),
        };
        let tick = self.price_tick.max(1);

        // Excursions beyond open/close grow with the square root of the span.
        let excursion_ppm = i128::from((60 + isqrt((slot_len / 1000) as u64) * 120).min(250_000));
        let reach = |base: i64, tag: u64| -> i64 {
            let r = i128::from(base) * excursion_ppm * i128::from(unit16(&key(tag))) * active
                / (slot_len * i128::from(ONE16) * 1_000_000);
            (r as i64) / tick * tick
        };
        let top = open.max(close);
        let bottom = open.min(close);
        let high = top + reach(top, TAG_UP);
        let low = (bottom - reach(bottom, TAG_DOWN)).max(tick).min(bottom);

        let per_slot = |per_min: i64, tag: u64| -> i128 {
            let full = i128::from(per_min) * slot_len * i128::from(ONE16 / 2 + unit16(&key(tag)))
                / (60_000 * i128::from(ONE16));
            full * active / slot_len
        };
        let volume = per_slot(self.qty_per_min, TAG_VOLUME) as i64;
        let trades = match volume {
            0 => 0,
            _ => per_slot(self.trades_per_min, TAG_TRADES).max(1) as u64,
        };
        let vwap = low + (high - low) * unit16(&key(TAG_VWAP)) / ONE16;
        // Taker share of volume: 30 % .. 70 %.
        let taker_share = ONE16 * 3 / 10 + unit16(&key(TAG_TAKER)) * 2 / 5;
        let taker_base = (i128::from(volume) * i128::from(taker_share) / i128::from(ONE16)) as i64;

        Some(RawCandle {
            open_time,
            close_time,
            open,
            high,
            low,
            close,
            volume,
            quote: i128::from(volume) * i128::from(vwap),
            trades,
            taker_base,
            taker_quote: i128::from(taker_base) * i128::from(vwap),
        })
    }
}

/// One smooth component of the price path, in ppm: hashed knots every
/// `period` ms joined by a smoothstep, all in integer arithmetic.
fn octave(seed: u64, k: u64, period: i64, amp: i64, t: i64) -> i64 {
    let n = t.div_euclid(period);
    let f = (i128::from(t.rem_euclid(period)) * i128::from(ONE16) / i128::from(period)) as i64;
    let s = f * f * (3 * ONE16 - 2 * f) / (ONE16 * ONE16);
    let a = symmetric(&[seed, k, n as u64], amp);
    let b = symmetric(&[seed, k, (n + 1) as u64], amp);
    a + (b - a) * s / ONE16
}

/// Integer square root (floor).
fn isqrt(n: u64) -> i64 {
    let mut x = (n as f64).sqrt() as u64;
    while x * x > n {
        x -= 1;
    }
    while (x + 1) * (x + 1) <= n {
        x += 1;
    }
    x as i64
}

/// A seed from several words (re-exported for exchange catalogs).
pub(crate) fn seed_of(words: &[u64]) -> u64 {
    mix(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> SeriesSpec {
        SeriesSpec {
            path_seed: 11,
            seed: 22,
            base_price: 3_000_000,
            price_tick: 1,
            qty_per_min: 1_500_000,
            trades_per_min: 600,
            listed_ms: 1_500_000_000_000,
            until_ms: i64::MAX,
            quiet: None,
        }
    }

    #[test]
    fn isqrt_is_exact() {
        for n in [0u64, 1, 2, 3, 4, 15, 16, 17, 86_400, 2_678_400, u32::MAX as u64] {
            let r = isqrt(n) as u64;
            assert!(r * r <= n && (r + 1) * (r + 1) > n, "{n}");
        }
    }

    #[test]
    fn price_is_smooth_positive_and_bounded() {
        let s = spec();
        let mut prev = s.price_at(1_600_000_000_000);
        for i in 1..5000 {
            let p = s.price_at(1_600_000_000_000 + i * 60_000);
            assert!(p > 3_000_000 / 2 && p < 3_000_000 * 3 / 2, "{p}");
            assert!((p - prev).abs() < 3_000_000 / 100, "jump {prev} -> {p}");
            prev = p;
        }
    }

    #[test]
    fn candle_invariants_and_open_candle() {
        let s = spec();
        let open = 1_600_000_000_000 - 1_600_000_000_000 % 3_600_000;
        let close_time = open + 3_599_999;
        let c = s.candle(9, open, close_time, i64::MAX).expect("closed candle");
        assert!(c.low <= c.open.min(c.close) && c.high >= c.open.max(c.close));
        assert!(c.volume > 0 && c.trades > 0 && c.taker_base <= c.volume);
        assert_eq!(c.close, s.price_at(close_time + 1));
        let half = s.candle(9, open, close_time, open + 1_800_000).expect("open candle");
        assert_eq!(half.close, s.price_at(open + 1_800_000));
        assert!(half.volume < c.volume);
        let fresh = s.candle(9, open, close_time, open).expect("just opened");
        assert_eq!(fresh.volume, 0);
        assert_eq!(fresh.trades, 0);
        assert!(s.candle(9, open, close_time, open - 1).is_none());
    }

    #[test]
    fn listing_cuts_the_first_candle() {
        let s = spec();
        let day = s.listed_ms - s.listed_ms.rem_euclid(DAY_MS);
        let c = s.candle(1, day, day + DAY_MS - 1, i64::MAX).expect("listing day");
        assert_eq!(c.open, s.price_at(s.listed_ms));
        assert!(s.candle(1, day - DAY_MS, day - 1, i64::MAX).is_none());
    }

    #[test]
    fn quiet_windows_give_fillers_and_expiry_cuts() {
        let q = Quiet { seed: 5, period_ms: 10 * DAY_MS, len_ms: 7_200_000, align_ms: 3_600_000 };
        let s = SeriesSpec { quiet: Some(q), until_ms: 1_700_000_000_000, ..spec() };
        let (qs, qe) = q.window(1800);
        assert_eq!((qs % 3_600_000, qe - qs), (0, 7_200_000));
        assert!(qs >= 1800 * 10 * DAY_MS && qe <= 1801 * 10 * DAY_MS);
        assert_eq!(q.windows(qs - 1, qs + 1), vec![(qs, qe)]);
        assert_eq!(q.containing(qe), None);
        assert_eq!(q.containing(qe - 1), Some((qs, qe)));
        assert_eq!(q.overlap(qs - 10, qe + 10), 7_200_000);
        assert_eq!(q.overlap(qs + 10, qs + 30), 20);
        let far = q.overlap(0, 100 * 10 * DAY_MS);
        assert_eq!(far, 100 * 7_200_000);
        // Both hours of the window are fillers at the close before it.
        let before = s.candle(3, qs - 3_600_000, qs - 1, i64::MAX).expect("before");
        for h in 0..2 {
            let open = qs + h * 3_600_000;
            let c = s.candle(3, open, open + 3_599_999, i64::MAX).expect("filler");
            assert_eq!(
                (c.open, c.high, c.low, c.close),
                (before.close, before.close, before.close, before.close)
            );
            assert_eq!((c.volume, c.trades, c.quote), (0, 0, 0));
        }
        let after = s.candle(3, qe, qe + 3_599_999, i64::MAX).expect("after");
        assert!(after.volume > 0);
        // A day containing the window trades less than the raw model says.
        let day = qs - qs.rem_euclid(DAY_MS);
        let plain = SeriesSpec { quiet: None, ..s.clone() };
        let (d1, d0) =
            (s.candle(4, day, day + DAY_MS - 1, i64::MAX), plain.candle(4, day, day + DAY_MS - 1, i64::MAX));
        assert!(d1.expect("day").volume < d0.expect("day").volume);
        // Expiry: the slot containing it is cut, later ones do not exist.
        let exp_slot = 1_700_000_000_000 - 1_700_000_000_000 % 3_600_000;
        let last = s.candle(3, exp_slot, exp_slot + 3_599_999, i64::MAX).expect("last");
        assert_eq!(last.close, s.price_at(1_700_000_000_000));
        assert!(s.candle(3, exp_slot + 3_600_000, exp_slot + 7_199_999, i64::MAX).is_none());
    }
}
