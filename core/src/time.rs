//! Calendar arithmetic on UTC milliseconds (no time-zone database needed: exchanges
//! bucket candles in UTC) and parsing of user-supplied times.

use crate::error::{Error, Result};

/// Milliseconds in one second, minute, hour and day.
pub const SECOND_MS: i64 = 1_000;
/// Milliseconds in one minute.
pub const MINUTE_MS: i64 = 60 * SECOND_MS;
/// Milliseconds in one hour.
pub const HOUR_MS: i64 = 60 * MINUTE_MS;
/// Milliseconds in one day.
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day number since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Months since 1970-01 of the UTC month containing `ms`.
pub fn month_index(ms: i64) -> i64 {
    let (y, m, _) = civil_from_days(ms.div_euclid(DAY_MS));
    (y - 1970) * 12 + i64::from(m) - 1
}

/// UTC start (ms) of month number `index` since 1970-01.
pub fn month_start(index: i64) -> i64 {
    let year = 1970 + index.div_euclid(12);
    let month = index.rem_euclid(12) as u32 + 1;
    days_from_civil(year, month, 1) * DAY_MS
}

/// Parses a user-supplied time: integer milliseconds since the epoch, a date
/// `YYYY-MM-DD`, or an ISO-8601/RFC 3339 date-time `YYYY-MM-DD[T| ]HH:MM[:SS[.fraction]]`
/// followed by `Z`, an offset `±HH:MM`, `±HHMM` or `±HH` (at most ±14:00), or nothing
/// (UTC). Fractions finer than a millisecond are truncated. This reads what Python's
/// `isoformat()` and `strftime('%z')` and JavaScript's `toISOString()` write.
pub fn parse_time(text: &str) -> Result<i64> {
    let text = text.trim();
    let bad = |why: &str| {
        Error::invalid(format!(
            "cannot read time {text:?}{why}: use milliseconds since 1970, YYYY-MM-DD or \
             YYYY-MM-DDTHH:MM[:SS[.fff]][Z|±HH:MM|±HHMM|±HH]"
        ))
    };
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<i64>().map_err(|_| bad(" (too large)"));
    }
    let (date, rest) = text.split_at(text.find(['T', 't', ' ']).unwrap_or(text.len()));
    let mut parts = date.split('-');
    let (Some(y), Some(m), Some(d), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(bad(""));
    };
    let (Some(year), Some(month), Some(day)) = (digits(y, 4), digits(m, 2), digits(d, 2)) else {
        return Err(bad(""));
    };
    let (month, day) = (month as u32, day as u32);
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err(bad(" (no such date)"));
    }
    let date_ms = days_from_civil(year, month, day) * DAY_MS;
    let rest = rest.get(1..).unwrap_or("");
    if rest.is_empty() {
        return Ok(date_ms);
    }
    let (clock, offset) = split_offset(rest).map_err(&bad)?;
    let clock_ms = parse_clock(clock).map_err(bad)?;
    Ok(date_ms + clock_ms - offset)
}

/// `HH:MM[:SS[.fraction]]` as ms after midnight.
fn parse_clock(clock: &str) -> std::result::Result<i64, &'static str> {
    let (hms, fraction) = match clock.split_once(['.', ',']) {
        Some((hms, f)) => (hms, Some(f)),
        None => (clock, None),
    };
    let mut fields = hms.split(':');
    let hour = fields.next().and_then(|h| digits(h, 2)).ok_or("")?;
    let minute = fields.next().and_then(|m| digits(m, 2)).ok_or("")?;
    let second = match fields.next() {
        Some(s) => digits(s, 2).ok_or("")?,
        None if fraction.is_some() => return Err(""),
        None => 0,
    };
    if fields.next().is_some() {
        return Err("");
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err(" (hour, minute or second out of range)");
    }
    let millis = match fraction {
        None => 0,
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{f:0<3}")[..3].parse::<i64>().map_err(|_| "")?
        }
        Some(_) => return Err(" (bad fraction of a second)"),
    };
    Ok(hour * HOUR_MS + minute * MINUTE_MS + second * SECOND_MS + millis)
}

/// Splits `12:30:00+02:00` into the clock part and the offset in ms (`Z` or none = 0).
/// Offsets: `±HH:MM`, `±HHMM`, `±HH`, at most 14 hours (the widest in use, UTC+14).
fn split_offset(text: &str) -> std::result::Result<(&str, i64), &'static str> {
    if let Some(clock) = text.strip_suffix(['Z', 'z']) {
        return Ok((clock, 0));
    }
    let Some(at) = text.rfind(['+', '-']) else { return Ok((text, 0)) };
    let (clock, offset) = text.split_at(at);
    let sign = if offset.starts_with('-') { -1 } else { 1 };
    let body = &offset[1..];
    let (h, m) = match (body.len(), body.split_once(':')) {
        (5, Some((h, m))) => (h, m),
        // Four bytes, not necessarily four characters: split only on a char boundary.
        (4, None) => body.split_at_checked(2).ok_or(" (offset must be ±HH:MM, ±HHMM or ±HH)")?,
        (2, None) => (body, "00"),
        _ => return Err(" (offset must be ±HH:MM, ±HHMM or ±HH)"),
    };
    let (Some(hours), Some(minutes)) = (digits(h, 2), digits(m, 2)) else {
        return Err(" (offset must be ±HH:MM, ±HHMM or ±HH)");
    };
    if minutes > 59 || hours * 60 + minutes > 14 * 60 {
        return Err(" (offset beyond ±14:00)");
    }
    Ok((clock, sign * (hours * 60 + minutes) * MINUTE_MS))
}

/// `text` as a number if it is exactly `width` ASCII digits.
fn digits(text: &str, width: usize) -> Option<i64> {
    (text.len() == width && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok()).flatten()
}

fn days_in_month(year: i64, month: u32) -> u32 {
    let next =
        if month == 12 { days_from_civil(year + 1, 1, 1) } else { days_from_civil(year, month + 1, 1) };
    (next - days_from_civil(year, month, 1)) as u32
}

/// Formats ms since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (for messages and the CLI).
pub fn format_time(ms: i64) -> String {
    let (y, mo, d) = civil_from_days(ms.div_euclid(DAY_MS));
    let in_day = ms.rem_euclid(DAY_MS);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z",
        in_day / HOUR_MS,
        in_day % HOUR_MS / MINUTE_MS,
        in_day % MINUTE_MS / SECOND_MS
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for days in -800_000..800_000i64 {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(2024, 1, 31) * DAY_MS, 1_706_659_200_000);
    }

    #[test]
    fn months() {
        assert_eq!(month_start(0), 0);
        assert_eq!(month_index(1_706_659_200_000), 54 * 12);
        assert_eq!(month_start(54 * 12 + 1), 1_706_745_600_000); // 2024-02-01
        assert_eq!(month_index(month_start(650) - 1), 649);
    }

    /// Found by fuzzing (fuzz/regressions/time_parse): a four-byte offset of non-ASCII
    /// characters split inside a character, a panic on user input (CLI, relay, bindings).
    #[test]
    fn an_offset_of_other_characters_is_an_error_not_a_panic() {
        assert!(parse_time("2024-01-30T16:00:00+0\u{2eb}0").is_err());
        assert!(parse_time("2024-01-30T16:00:00-0\u{e9}0").is_err());
    }

    #[test]
    fn parses_times() {
        assert_eq!(parse_time("1706630400000").unwrap(), 1_706_630_400_000);
        assert_eq!(parse_time("2024-01-30").unwrap(), 1_706_572_800_000);
        assert_eq!(parse_time("2024-01-30T16:00:00Z").unwrap(), 1_706_630_400_000);
        assert_eq!(parse_time("2024-01-30 16:00").unwrap(), 1_706_630_400_000);
        assert_eq!(parse_time("2024-01-30T18:00:00+02:00").unwrap(), 1_706_630_400_000);
        assert_eq!(parse_time("2024-01-30T16:00:00.5Z").unwrap(), 1_706_630_400_500);
        for bad in ["", "yesterday", "2024-13-01", "2024-02-30", "24-01-01", "2024-01-01T25:00"] {
            assert!(matches!(parse_time(bad), Err(Error::InvalidQuery(_))), "{bad}");
        }
    }

    #[test]
    fn offsets_in_every_written_form() {
        let utc = 1_704_067_200_000; // 2024-01-01T00:00:00Z
                                     // Python: datetime(..., tzinfo=timezone(timedelta(hours=1))).strftime('%Y-%m-%dT%H:%M:%S%z')
        assert_eq!(parse_time("2024-01-01T01:00:00+0100").unwrap(), utc);
        // Python isoformat(), with and without microseconds.
        assert_eq!(parse_time("2024-01-01T01:00:00+01:00").unwrap(), utc);
        assert_eq!(parse_time("2024-01-01T00:00:00.123456+00:00").unwrap(), utc + 123);
        assert_eq!(parse_time("2023-12-31T19:00:00-05:00").unwrap(), utc);
        assert_eq!(parse_time("2024-01-01T05:30:00+0530").unwrap(), utc);
        assert_eq!(parse_time("2024-01-01T01:00:00+01").unwrap(), utc);
        // JavaScript toISOString().
        assert_eq!(parse_time("2024-01-01T00:00:00.000Z").unwrap(), utc);
        assert_eq!(parse_time("2024-01-01T14:00:00+14:00").unwrap(), utc);
        for bad in [
            "2024-01-01T00:00:00+1500",
            "2024-01-01T00:00:00+14:01",
            "2024-01-01T00:00:00+100",
            "2024-01-01T00:00:00+01:60",
            "2024-01-01T00:00:00+1",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T00:00:00.12a",
            "2024-01-01T+1:00:00",
            "2024-01-01T00:00:60",
        ] {
            let err = parse_time(bad).expect_err(bad);
            assert!(err.to_string().contains(bad), "message names the input: {err}");
        }
        assert!(parse_time("2024-01-01T00:00:00+1500").unwrap_err().to_string().contains("±14:00"));
        assert_eq!(format_time(1_706_630_400_000), "2024-01-30T16:00:00Z");
    }
}
