//! One bar series (instrument × interval) on a [`Grid`], with the range
//! queries the venues' endpoints are built from. Unlike Binance's series it
//! has no holes after listing: trade-less slots are filler bars.

use super::calendar::{Grid, MAX_TIME};
use super::series::{RawCandle, SeriesSpec};

/// The bars of one instrument and interval.
#[derive(Clone, Debug)]
pub(crate) struct Bars {
    spec: SeriesSpec,
    grid: Grid,
    key: u64,
}

impl Bars {
    /// A series of `spec` on `grid`; `key` separates intervals whose slots
    /// share an open time.
    pub(crate) fn new(spec: SeriesSpec, grid: Grid, key: u64) -> Bars {
        Bars { spec, grid, key }
    }

    /// The slot layout.
    pub(crate) fn grid(&self) -> Grid {
        self.grid
    }

    /// The price model.
    pub(crate) fn spec(&self) -> &SeriesSpec {
        &self.spec
    }

    /// The bar of the slot opening at `slot`, as seen at `now`.
    pub(crate) fn at(&self, slot: i64, now: i64) -> Option<RawCandle> {
        self.spec.candle(self.key, slot, self.grid.next(slot) - 1, now)
    }

    /// Open time of the first slot (the one containing the listing).
    pub(crate) fn first_slot(&self) -> i64 {
        self.grid.floor(self.spec.listed_ms.clamp(0, MAX_TIME))
    }

    /// Open time of the newest slot that can hold a bar at `now` (the open
    /// bar, or the one containing the expiry).
    pub(crate) fn last_slot(&self, now: i64) -> i64 {
        let until = self.spec.until_ms.saturating_sub(1);
        self.grid.floor(now.min(until).clamp(0, MAX_TIME))
    }

    /// Whether bar `c` is final at `now` (its slot or the trading has ended).
    pub(crate) fn confirmed(&self, c: &RawCandle, now: i64) -> bool {
        now > c.close_time || now >= self.spec.until_ms
    }

    /// The `[lowest, highest]` open times a query may reach, if any.
    fn reach(&self, lo: i64, hi: i64, now: i64) -> Option<(i64, i64)> {
        let lowest = lo.max(self.first_slot());
        let highest = hi.min(self.last_slot(now));
        (lowest <= highest).then_some((lowest, highest))
    }

    /// The oldest `limit` bars with open time in `[lo, hi]` (and not after
    /// `now`), oldest first.
    pub(crate) fn oldest(&self, lo: i64, hi: i64, limit: usize, now: i64) -> Vec<RawCandle> {
        let Some((lowest, highest)) = self.reach(lo, hi, now) else {
            return Vec::new();
        };
        let mut slot = self.grid.floor(lowest);
        if slot < lowest {
            slot = self.grid.next(slot);
        }
        let mut out = Vec::new();
        while slot <= highest && out.len() < limit {
            if let Some(c) = self.at(slot, now) {
                out.push(c);
            }
            slot = self.grid.next(slot);
        }
        out
    }

    /// The newest `limit` bars with open time in `[lo, hi]` (and not after
    /// `now`), oldest first.
    pub(crate) fn newest(&self, lo: i64, hi: i64, limit: usize, now: i64) -> Vec<RawCandle> {
        let Some((lowest, highest)) = self.reach(lo, hi, now) else {
            return Vec::new();
        };
        let mut slot = self.grid.floor(highest);
        let mut out = Vec::new();
        while slot >= lowest && out.len() < limit {
            if let Some(c) = self.at(slot, now) {
                out.push(c);
            }
            slot = self.grid.prev(slot);
        }
        out.reverse();
        out
    }

    /// Open time of the `n`-th newest slot at `now` (`n = 1` is the newest).
    pub(crate) fn nth_newest_slot(&self, n: usize, now: i64) -> i64 {
        let mut slot = self.last_slot(now);
        for _ in 1..n {
            if slot <= self.first_slot() {
                break;
            }
            slot = self.grid.prev(slot);
        }
        slot
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::calendar::{Span, DAY_MS};

    fn bars(until_ms: i64) -> Bars {
        let spec = SeriesSpec {
            path_seed: 1,
            seed: 2,
            base_price: 100_000,
            price_tick: 1,
            qty_per_min: 1000,
            trades_per_min: 10,
            listed_ms: 1_600_000_000_000,
            until_ms,
            quiet: None,
        };
        Bars::new(spec, Grid::utc(Span::Fixed(3_600_000)), 7)
    }

    fn opens(v: &[RawCandle]) -> Vec<i64> {
        v.iter().map(|c| c.open_time).collect()
    }

    #[test]
    fn range_queries() {
        let b = bars(i64::MAX);
        let first = 1_599_998_400_000; // the hour containing the listing
        assert_eq!(b.first_slot(), first);
        let now = first + 10 * 3_600_000 + 5;
        assert_eq!(opens(&b.oldest(0, i64::MAX, 2, now)), vec![first, first + 3_600_000]);
        assert_eq!(
            opens(&b.newest(0, i64::MAX, 2, now)),
            vec![first + 9 * 3_600_000, first + 10 * 3_600_000]
        );
        assert_eq!(b.oldest(first + 1, first + 3_600_000, 9, now).len(), 1);
        assert_eq!(b.newest(first + 1, first + 3_600_000, 9, now).len(), 1);
        assert!(b.oldest(i64::MIN, -5, 9, now).is_empty());
        assert!(b.newest(now + 1, i64::MAX, 9, now).is_empty());
        assert_eq!(b.nth_newest_slot(1, now), first + 10 * 3_600_000);
        assert_eq!(b.nth_newest_slot(3, now), first + 8 * 3_600_000);
        assert_eq!(b.nth_newest_slot(1000, now), first);
        let open = b.at(first + 10 * 3_600_000, now).expect("open bar");
        assert!(!b.confirmed(&open, now));
        assert!(b.confirmed(&open, first + 11 * 3_600_000));
    }

    #[test]
    fn expiry_ends_the_series() {
        let until = 1_600_000_000_000 + DAY_MS + 1_800_000;
        let b = bars(until);
        let all = b.oldest(0, i64::MAX, usize::MAX, until + 5 * DAY_MS);
        assert_eq!(all.len(), 25);
        let last = all[all.len() - 1];
        assert_eq!(last.open_time, b.grid().floor(until - 1));
        assert!(b.confirmed(&last, until));
        assert_eq!(b.last_slot(i64::MAX), last.open_time);
    }
}
