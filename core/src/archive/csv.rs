//! Archive CSV lines, read one at a time from any byte stream (an unpacked zip in
//! memory, or a gzip stream decoded as it is read, so a big day file is never held
//! whole as text).

use std::io::BufRead;

/// Timestamps above this are microseconds (ms reach it only in the year 5138).
const MICROSECONDS_FROM: i64 = 100_000_000_000_000;
/// The most text one archive file may inflate to (a month of 1s candles is ~250 MB).
const MAX_TEXT_BYTES: u64 = 2 << 30;

/// A reader that fails, rather than stopping short, past [`MAX_TEXT_BYTES`]: a file
/// that says nothing of its size (gzip) cannot exhaust memory, and is never cut silently.
pub(crate) struct Capped<R> {
    inner: R,
    left: u64,
}

impl<R> Capped<R> {
    /// `inner`, capped.
    pub(crate) fn new(inner: R) -> Self {
        Capped { inner, left: MAX_TEXT_BYTES }
    }
}

impl<R: std::io::Read> std::io::Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.left = self.left.checked_sub(n as u64).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, "the file inflates past 2 GiB")
        })?;
        Ok(n)
    }
}

/// `rows`, refusing two different rows that share an id: the cache keeps one trade per
/// id, so they would lose a trade silently. (A row repeated whole is one trade.)
pub(crate) fn same_rows_for_same_ids(
    rows: Vec<crate::trades::Trade>,
) -> Result<Vec<crate::trades::Trade>, String> {
    let mut seen = std::collections::HashMap::with_capacity(rows.len());
    for t in &rows {
        if seen.insert(t.id, t).is_some_and(|other| other != t) {
            return Err(format!("two different trades share the id {}", t.id));
        }
    }
    Ok(rows)
}

/// One data line of an archive CSV, split at commas.
pub(crate) struct CsvLine<'a> {
    number: usize,
    text: &'a str,
    /// The line's fields (at least the number the parser asked for).
    pub fields: Vec<&'a str>,
}

impl CsvLine<'_> {
    /// What is wrong with this line, naming it (at most 120 characters of it, cut at a
    /// character boundary: the text may hold anything).
    pub fn bad(&self, what: &str) -> String {
        let preview = self.text.char_indices().nth(120).map_or(self.text, |(at, _)| &self.text[..at]);
        format!("line {}: {what} in {preview:?}", self.number)
    }

    /// Field `i` as an integer.
    pub fn int(&self, i: usize) -> Result<i64, String> {
        self.fields[i].parse().map_err(|_| self.bad("an integer that is not one"))
    }

    /// Field `i` as a finite number (`NaN` and infinities are damage, not values).
    pub fn float(&self, i: usize) -> Result<f64, String> {
        self.fields[i]
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| self.bad("a number that is not one"))
    }

    /// Field `i`, a time in milliseconds (microsecond values are converted).
    pub fn time_ms(&self, i: usize) -> Result<i64, String> {
        let t = self.int(i)?;
        Ok(if t >= MICROSECONDS_FROM { t.div_euclid(1000) } else { t })
    }

    /// Field `i`, a time in seconds with decimals (`1755648000.1385`), truncated to the
    /// millisecond. Read as text: rounding would put a finer fourth decimal of 5 or more
    /// in the next millisecond.
    pub fn seconds_ms(&self, i: usize) -> Result<i64, String> {
        let bad = || self.bad("a time in seconds that is not one");
        let (secs, frac) = self.fields[i].split_once('.').unwrap_or((self.fields[i], ""));
        let secs: i64 = secs.parse().map_err(|_| bad())?;
        if !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let ms = frac
            .bytes()
            .chain(std::iter::repeat(b'0'))
            .take(3)
            .fold(0, |ms, d| ms * 10 + i64::from(d - b'0'));
        secs.checked_mul(1000).and_then(|t| t.checked_add(ms)).ok_or_else(bad)
    }
}

/// Every data line of an archive CSV through `row`, which sees at least `min_fields`
/// fields. Blank lines are skipped, and so is a header line (a first line without a
/// single number: headers come and go by date, and some data lines start with a name;
/// or a first line that is not UTF-8: OKX's funding files have a GBK header). Any
/// other line that is not UTF-8 is an error. `rows_hint` sizes the output up front.
pub(crate) fn parse_csv<T>(
    mut input: impl BufRead,
    rows_hint: usize,
    min_fields: usize,
    row: impl Fn(&CsvLine<'_>) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    // A hint from a file's declared size is not trusted for one allocation up front.
    let mut rows = Vec::with_capacity(rows_hint.min(1 << 20));
    let mut buffer = Vec::new();
    for n in 0.. {
        buffer.clear();
        match input.read_until(b'\n', &mut buffer) {
            Ok(0) => break,
            Ok(_) => {}
            // From a gzip stream: damaged data or a CRC-32 that does not match.
            Err(e) => return Err(format!("line {}: {e}", n + 1)),
        }
        let text = match std::str::from_utf8(&buffer) {
            Ok(text) => text.trim_end_matches(['\n', '\r']),
            // A header in another encoding: no field of it is a number.
            Err(_) if n == 0 && is_header(&String::from_utf8_lossy(&buffer)) => continue,
            Err(e) => return Err(format!("line {}: not UTF-8 ({e})", n + 1)),
        };
        if text.is_empty() {
            continue;
        }
        let line = CsvLine { number: n + 1, text, fields: text.split(',').collect() };
        if n == 0 && is_header(text) {
            continue;
        }
        if line.fields.len() < min_fields {
            return Err(line.bad(&format!("fewer than {min_fields} fields")));
        }
        rows.push(row(&line)?);
    }
    Ok(rows)
}

/// Whether a first line is a header: not one of its fields is a number.
fn is_header(line: &str) -> bool {
    line.trim_end_matches(['\n', '\r']).split(',').all(|f| f.parse::<f64>().is_err())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seconds(text: &str) -> Result<i64, String> {
        let csv = format!("timestamp,x\n{text},x\n");
        parse_csv(csv.as_bytes(), 1, 2, |l| l.seconds_ms(0)).map(|v| v[0])
    }

    #[test]
    fn seconds_with_decimals_are_truncated_to_the_millisecond() {
        assert_eq!(seconds("1755648000.1385"), Ok(1_755_648_000_138));
        assert_eq!(seconds("1755648000.1380"), Ok(1_755_648_000_138));
        assert_eq!(seconds("1755648000.5"), Ok(1_755_648_000_500));
        assert_eq!(seconds("1755648000"), Ok(1_755_648_000_000));
        for bad in ["17556x8000.1", "1755648000.1e3", "1755648000.-1", "99999999999999999.1"] {
            assert!(seconds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_repeated_id_is_one_trade_only_when_the_rows_agree() {
        use crate::trades::{Side, Trade};
        let t = Trade { time: 1, id: 7, price: 2.0, quantity: 3.0, side: Side::Buy };
        assert_eq!(same_rows_for_same_ids(vec![t, t]).unwrap().len(), 2, "normalizing keeps one");
        let other = Trade { price: 2.5, ..t };
        assert!(same_rows_for_same_ids(vec![t, other]).unwrap_err().contains("share the id 7"));
    }

    #[test]
    fn a_header_blank_lines_and_crlf_are_skipped_and_bad_bytes_named() {
        let text = "timestamp,size\r\n1.5,2\r\n\r\n2.25,3\r\n";
        let rows = parse_csv(text.as_bytes(), 0, 2, |l| Ok((l.seconds_ms(0)?, l.float(1)?))).unwrap();
        assert_eq!(rows, vec![(1500, 2.0), (2250, 3.0)]);
        let err = parse_csv(&b"1,2\n\xff,3\n"[..], 0, 2, |l| l.int(0)).unwrap_err();
        assert!(err.contains("line 2") && err.contains("UTF-8"), "{err}");
        // A GBK header (OKX's funding files) is a header all the same.
        let gbk = b"funding_rate/\xd7\xca\xbd\xf0\xb7\xd1\xc2\xca,funding_time\n0.0001,5\n";
        assert_eq!(parse_csv(&gbk[..], 0, 2, |l| l.int(1)).unwrap(), vec![5]);
        // A damaged first data line is not taken for a header.
        let err = parse_csv(&b"1\xff,2\n3,4\n"[..], 0, 2, |l| l.int(1)).unwrap_err();
        assert!(err.contains("line 1") && err.contains("UTF-8"), "{err}");
        // Nor is a number that is not finite a value.
        assert!(parse_csv(&b"1,NaN\n"[..], 0, 2, |l| l.float(1)).is_err());
        assert!(parse_csv(&b"1,inf\n"[..], 0, 2, |l| l.float(1)).is_err());
    }
}
