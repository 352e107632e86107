//! Candle slots on the UTC calendar: fixed spans aligned to the epoch, weeks
//! opening Monday 00:00 and calendar months.

/// Milliseconds in one day.
pub(crate) const DAY_MS: i64 = 86_400_000;
/// Milliseconds in one week.
const WEEK_MS: i64 = 7 * DAY_MS;
/// 1970-01-05, the first Monday after the epoch (the epoch was a Thursday).
const FIRST_MONDAY_MS: i64 = 4 * DAY_MS;

/// How the slots of one candle interval are laid out on the time axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Span {
    /// Fixed length in ms; slots open at multiples of it since the epoch.
    Fixed(i64),
    /// One week; slots open Monday 00:00 UTC.
    Week,
    /// One calendar month; slots open on the 1st, 00:00 UTC.
    Month,
    /// Three calendar months; slots open on January, April, July and
    /// October 1st, 00:00 UTC.
    Quarter,
}

impl Span {
    /// Open time of the slot containing `t`.
    pub(crate) fn floor(self, t: i64) -> i64 {
        match self {
            Span::Fixed(len) => t - t.rem_euclid(len),
            Span::Week => t - (t - FIRST_MONDAY_MS).rem_euclid(WEEK_MS),
            Span::Month => {
                let (y, m, _) = civil_from_days(t.div_euclid(DAY_MS));
                days_from_civil(y, m, 1) * DAY_MS
            }
            Span::Quarter => {
                let (y, m, _) = civil_from_days(t.div_euclid(DAY_MS));
                days_from_civil(y, (m - 1) / 3 * 3 + 1, 1) * DAY_MS
            }
        }
    }

    /// Open time of the slot after the one opening at `open`.
    pub(crate) fn next(self, open: i64) -> i64 {
        match self {
            Span::Fixed(len) => open + len,
            Span::Week => open + WEEK_MS,
            Span::Month => {
                let (y, m, _) = civil_from_days(open.div_euclid(DAY_MS));
                let (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                days_from_civil(y, m, 1) * DAY_MS
            }
            Span::Quarter => {
                let (y, m, _) = civil_from_days(open.div_euclid(DAY_MS));
                let (y, m) = if m >= 10 { (y + 1, m - 9) } else { (y, m + 3) };
                days_from_civil(y, m, 1) * DAY_MS
            }
        }
    }

    /// Open time of the slot before the one opening at `open`.
    pub(crate) fn prev(self, open: i64) -> i64 {
        match self {
            Span::Fixed(len) => open - len,
            Span::Week => open - WEEK_MS,
            Span::Month | Span::Quarter => self.floor(open - 1),
        }
    }

    /// Whether a slot is shorter than one day (used by per-exchange quirks).
    pub(crate) fn is_intraday(self) -> bool {
        matches!(self, Span::Fixed(len) if len < DAY_MS)
    }
}

/// Latest time the grids are asked about (9999-12-31 23:59:59.999 UTC):
/// request bounds are clamped to `[0, MAX_TIME]` before any calendar math.
pub(crate) const MAX_TIME: i64 = 253_402_300_799_999;

/// The slots of one interval in some time zone: `span` laid out on the
/// clock of UTC + `offset_ms` (e.g. OKX's `1D` opens at 00:00 UTC+8, i.e.
/// 16:00 UTC the day before).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Grid {
    /// Slot layout on the local clock.
    pub span: Span,
    /// Local time minus UTC, ms.
    pub offset_ms: i64,
}

impl Grid {
    /// `span` on the UTC clock.
    pub(crate) const fn utc(span: Span) -> Grid {
        Grid { span, offset_ms: 0 }
    }

    /// Open time (UTC ms) of the slot containing `t`.
    pub(crate) fn floor(self, t: i64) -> i64 {
        self.span.floor(t + self.offset_ms) - self.offset_ms
    }

    /// Open time of the slot after the one opening at `open`.
    pub(crate) fn next(self, open: i64) -> i64 {
        self.span.next(open + self.offset_ms) - self.offset_ms
    }

    /// Open time of the slot before the one opening at `open`.
    pub(crate) fn prev(self, open: i64) -> i64 {
        self.span.prev(open + self.offset_ms) - self.offset_ms
    }
}

/// Days since the epoch of a proleptic Gregorian date (H. Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Proleptic Gregorian date `(year, month, day)` of a day count since the epoch.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for z in -800_000..800_000i64 {
            if z % 997 != 0 {
                continue;
            }
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2024, 2, 29) * DAY_MS, 1_709_164_800_000);
    }

    #[test]
    fn weeks_open_on_monday_and_months_on_the_first() {
        // 2024-01-31 12:00 UTC (a Wednesday).
        let t = 1_706_702_400_000;
        assert_eq!(Span::Week.floor(t), 1_706_486_400_000); // Mon 2024-01-29
        assert_eq!(Span::Month.floor(t), 1_704_067_200_000); // 2024-01-01
        assert_eq!(Span::Month.next(1_704_067_200_000), 1_706_745_600_000); // 2024-02-01
        assert_eq!(Span::Month.next(1_706_745_600_000), 1_709_251_200_000); // 2024-03-01
        assert_eq!(Span::Month.prev(1_706_745_600_000), 1_704_067_200_000);
        assert_eq!(Span::Month.next(1_701_388_800_000), 1_704_067_200_000); // Dec -> Jan
        assert_eq!(Span::Fixed(3 * DAY_MS).floor(t) % (3 * DAY_MS), 0);
    }

    #[test]
    fn quarters_and_shifted_grids() {
        let t = 1_706_702_400_000; // 2024-01-31 12:00 UTC
        assert_eq!(Span::Quarter.floor(t), 1_704_067_200_000); // 2024-01-01
        assert_eq!(Span::Quarter.next(1_704_067_200_000), 1_711_929_600_000); // 2024-04-01
        assert_eq!(Span::Quarter.next(1_727_740_800_000), 1_735_689_600_000); // Oct -> Jan
        assert_eq!(Span::Quarter.prev(1_704_067_200_000), 1_696_118_400_000); // 2023-10-01
        let h8 = 8 * 3_600_000;
        let day8 = Grid { span: Span::Fixed(DAY_MS), offset_ms: h8 };
        // 2024-01-30 19:00 UTC is 2024-01-31 03:00 UTC+8: the day opened 2024-01-30 16:00 UTC.
        assert_eq!(day8.floor(1_706_641_200_000), 1_706_630_400_000);
        assert_eq!(day8.next(1_706_630_400_000), 1_706_716_800_000);
        assert_eq!(day8.prev(1_706_630_400_000), 1_706_544_000_000);
        // Weeks open Monday 00:00 UTC+8 = Sunday 16:00 UTC; months the 1st 00:00 UTC+8.
        let week8 = Grid { span: Span::Week, offset_ms: h8 };
        assert_eq!(week8.floor(t), 1_706_457_600_000); // Sun 2024-01-28 16:00 UTC
        let month8 = Grid { span: Span::Month, offset_ms: h8 };
        assert_eq!(month8.floor(t), 1_704_038_400_000); // 2023-12-31 16:00 UTC
        assert_eq!(month8.floor(1_706_716_800_000), 1_706_716_800_000); // 2024-01-31 16:00 UTC
        assert_eq!(Grid::utc(Span::Month).floor(t), Span::Month.floor(t));
    }
}
