//! Deterministic funding-rate histories: funding times on an epoch-aligned
//! grid whose interval may change at given instants (OKX cutting 8 h to
//! 4 h), and a rate per funding time.

use super::calendar::MAX_TIME;
use super::hash::{mix, symmetric};

/// Mean rate, units of 10^-8 (0.01 %).
const MEAN_RATE: i64 = 10_000;
/// Rate spread around the mean, units of 10^-8.
const RATE_SPREAD: i64 = 12_000;

/// When an instrument pays funding.
#[derive(Clone, Debug)]
pub(crate) struct FundingSchedule {
    seed: u64,
    /// Funding times are strictly after this (the listing).
    listed_ms: i64,
    /// `(from_ms, interval_ms)`, ascending `from`; each `from` is a multiple
    /// of every interval, the first is `i64::MIN`.
    segments: Vec<(i64, i64)>,
    /// No funding times in `[from, to]` (a delisting until a relisting).
    gap: Option<(i64, i64)>,
}

impl FundingSchedule {
    /// Funding every `interval_ms` (from the epoch) after `listed_ms`,
    /// switching to other intervals at the given instants.
    pub(crate) fn new(
        seed: u64,
        listed_ms: i64,
        interval_ms: i64,
        changes: &[(i64, i64)],
    ) -> FundingSchedule {
        let mut segments = vec![(i64::MIN, interval_ms.max(1))];
        segments.extend(changes.iter().map(|&(at, iv)| (at, iv.max(1))));
        FundingSchedule { seed: mix(&[seed, 0x6675_6e64]), listed_ms, segments, gap: None }
    }

    /// The same schedule without funding times in `[from, to]`: delisted at
    /// `from`, relisted at `to` (funding resumes strictly after it).
    pub(crate) fn with_gap(mut self, from: i64, to: i64) -> FundingSchedule {
        self.gap = Some((from, to));
        self
    }

    /// The gap containing `t`, if any.
    fn gap_at(&self, t: i64) -> Option<(i64, i64)> {
        self.gap.filter(|&(from, to)| from <= t && t <= to)
    }

    /// The interval in force at `t`.
    pub(crate) fn interval_at(&self, t: i64) -> i64 {
        self.segments.iter().rev().find(|(from, _)| *from <= t).map_or(1, |&(_, iv)| iv)
    }

    /// The first funding time strictly after `t` (ignoring the listing).
    fn next_after(&self, t: i64) -> i64 {
        let iv = self.interval_at(t + 1);
        let candidate = (t.div_euclid(iv) + 1) * iv;
        match self.segments.iter().find(|(from, _)| *from > t) {
            Some(&(from, _)) => candidate.min(from),
            None => candidate,
        }
    }

    /// The last funding time strictly before `t` (ignoring the listing).
    fn prev_before(&self, t: i64) -> i64 {
        let iv = self.interval_at(t - 1);
        (t - 1).div_euclid(iv) * iv
    }

    /// The first funding time.
    pub(crate) fn first(&self) -> i64 {
        self.next_after(self.listed_ms.clamp(0, MAX_TIME))
    }

    /// Up to `limit` funding times in `[lo, hi]` (and ≤ `now`), oldest first, from `lo`.
    pub(crate) fn oldest(&self, lo: i64, hi: i64, limit: usize, now: i64) -> Vec<i64> {
        let hi = hi.min(now).min(MAX_TIME);
        let mut t = self.next_after(lo.clamp(0, MAX_TIME) - 1).max(self.first());
        let mut out = Vec::new();
        while t <= hi && out.len() < limit {
            if let Some((_, to)) = self.gap_at(t) {
                t = self.next_after(to);
                continue;
            }
            out.push(t);
            t = self.next_after(t);
        }
        out
    }

    /// The newest `limit` funding times in `[lo, hi]` (and ≤ `now`), oldest first.
    pub(crate) fn newest(&self, lo: i64, hi: i64, limit: usize, now: i64) -> Vec<i64> {
        let lo = lo.max(self.first());
        let mut t = self.prev_before(hi.min(now).clamp(0, MAX_TIME) + 1);
        let mut out = Vec::new();
        while t >= lo && out.len() < limit {
            if let Some((from, _)) = self.gap_at(t) {
                t = self.prev_before(from);
                continue;
            }
            out.push(t);
            t = self.prev_before(t);
        }
        out.reverse();
        out
    }

    /// The rate settled at funding time `t`, units of 10^-8.
    pub(crate) fn rate(&self, t: i64) -> i64 {
        MEAN_RATE + symmetric(&[self.seed, t as u64], RATE_SPREAD)
    }

    /// The rate predicted before funding time `t` (OKX's `fundingRate`;
    /// [`FundingSchedule::rate`] is its `realizedRate`), units of 10^-8.
    pub(crate) fn predicted_rate(&self, t: i64) -> i64 {
        self.rate(t) + symmetric(&[self.seed, t as u64, 1], 400)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    #[test]
    fn grids_listing_and_interval_changes() {
        let cut = 1_704_067_200_000; // 2024-01-01, a multiple of 8 h
        let s = FundingSchedule::new(1, cut - 3 * 24 * H - 5, 8 * H, &[(cut, 4 * H)]);
        assert_eq!(s.first(), cut - 3 * 24 * H);
        let around = s.oldest(cut - 16 * H, cut + 12 * H, 100, i64::MAX);
        assert_eq!(around, vec![cut - 16 * H, cut - 8 * H, cut, cut + 4 * H, cut + 8 * H, cut + 12 * H]);
        assert_eq!(s.newest(0, cut + 12 * H, 4, i64::MAX), around[2..].to_vec());
        assert_eq!(
            s.newest(0, cut + 13 * H, 4, cut + 5 * H),
            vec![cut - 16 * H, cut - 8 * H, cut, cut + 4 * H]
        );
        assert_eq!(s.oldest(0, i64::MAX, 2, i64::MAX), vec![cut - 72 * H, cut - 64 * H]);
        assert_eq!(s.newest(0, cut - 72 * H, 5, i64::MAX), vec![cut - 72 * H]);
        assert!(s.newest(0, cut - 73 * H, 5, i64::MAX).is_empty());
        assert_eq!(s.interval_at(cut - 1), 8 * H);
        assert_eq!(s.interval_at(cut), 4 * H);
        for t in around {
            let r = s.rate(t);
            assert!((MEAN_RATE - RATE_SPREAD..=MEAN_RATE + RATE_SPREAD).contains(&r));
            assert!((s.predicted_rate(t) - r).abs() <= 400);
        }
    }

    #[test]
    fn a_gap_has_no_funding() {
        let (from, to) = (1_698_796_800_000, 1_703_980_800_000); // 2023-11-01 .. 2023-12-31
        let s = FundingSchedule::new(1, from - 10 * 24 * H, 8 * H, &[]).with_gap(from, to);
        let around = s.oldest(from - 16 * H, to + 16 * H, 100, i64::MAX);
        assert_eq!(around, vec![from - 16 * H, from - 8 * H, to + 8 * H, to + 16 * H]);
        assert_eq!(s.newest(0, to + 16 * H, 4, i64::MAX), around);
        assert_eq!(s.newest(0, to, 1, i64::MAX), vec![from - 8 * H]);
        assert_eq!(s.oldest(from, i64::MAX, 1, i64::MAX), vec![to + 8 * H]);
    }
}
