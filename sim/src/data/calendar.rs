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
        }
    }

    /// Open time of the slot before the one opening at `open`.
    pub(crate) fn prev(self, open: i64) -> i64 {
        match self {
            Span::Fixed(len) => open - len,
            Span::Week => open - WEEK_MS,
            Span::Month => self.floor(open - 1),
        }
    }

    /// Whether a slot is shorter than one day (used by per-exchange quirks).
    pub(crate) fn is_intraday(self) -> bool {
        matches!(self, Span::Fixed(len) if len < DAY_MS)
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
}
