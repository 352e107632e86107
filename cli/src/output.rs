//! CSV and JSON writers for candles, trades and funding rates, streaming part by part.
//! Floats print in Rust's shortest round-trip form, so a reader parsing them gets the
//! exact same values.

use std::io::{self, Write};
use std::path::Path;

use cryptocache::{Candles, FundingRates, Side, Trades};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A header line, then one row per record.
    Csv,
    /// An array of objects with the same fields.
    Json,
}

impl Format {
    /// Chosen by the file extension; CSV for standard output.
    pub fn of(path: Option<&Path>) -> Result<Format, String> {
        match path.and_then(|p| p.extension()).and_then(|e| e.to_str()) {
            None if path.is_none() => Ok(Format::Csv),
            Some(e) if e.eq_ignore_ascii_case("csv") => Ok(Format::Csv),
            Some(e) if e.eq_ignore_ascii_case("json") => Ok(Format::Json),
            _ => Err(format!(
                "cannot tell the format of {:?}: name it .csv or .json",
                path.unwrap_or(Path::new(""))
            )),
        }
    }

    /// The file extension of this format.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }
}

/// A result that can be written record by record.
pub trait Records {
    /// Field names, in order.
    const FIELDS: &'static [&'static str];

    /// Number of records.
    fn count(&self) -> usize;

    /// The fields of record `i`, already formatted (JSON-safe: numbers or `null`).
    fn fields(&self, i: usize) -> Vec<String>;
}

fn opt(v: Option<u64>) -> String {
    v.map_or_else(|| "null".into(), |v| v.to_string())
}

impl Records for Candles {
    const FIELDS: &'static [&'static str] =
        &["open_time", "open", "high", "low", "close", "volume", "quote_volume", "trades"];

    fn count(&self) -> usize {
        self.len()
    }

    fn fields(&self, i: usize) -> Vec<String> {
        let c = self.get(i).unwrap_or_else(|| unreachable!("index within len"));
        let f = [c.open, c.high, c.low, c.close, c.volume, c.quote_volume];
        let mut out = vec![c.open_time.to_string()];
        out.extend(f.iter().map(f64::to_string));
        out.push(opt(c.trades));
        out
    }
}

impl Records for Trades {
    const FIELDS: &'static [&'static str] = &["time", "id", "price", "quantity", "side"];

    fn count(&self) -> usize {
        self.len()
    }

    fn fields(&self, i: usize) -> Vec<String> {
        let side = match self.side()[i] {
            Side::Buy => "\"buy\"",
            Side::Sell => "\"sell\"",
        };
        vec![
            self.time()[i].to_string(),
            self.id()[i].to_string(),
            self.price()[i].to_string(),
            self.quantity()[i].to_string(),
            side.to_string(),
        ]
    }
}

impl Records for FundingRates {
    const FIELDS: &'static [&'static str] = &["time", "rate"];

    fn count(&self) -> usize {
        self.len()
    }

    fn fields(&self, i: usize) -> Vec<String> {
        vec![self.time()[i].to_string(), self.rate()[i].to_string()]
    }
}

/// Writes records as they arrive.
pub struct Writer<W: Write> {
    out: W,
    format: Format,
    fields: &'static [&'static str],
    rows: usize,
}

impl<W: Write> Writer<W> {
    /// Starts the output (CSV header or JSON array) for records with `fields`.
    pub fn new(mut out: W, format: Format, fields: &'static [&'static str]) -> io::Result<Self> {
        match format {
            Format::Csv => writeln!(out, "{}", fields.join(","))?,
            Format::Json => write!(out, "[")?,
        }
        Ok(Writer { out, format, fields, rows: 0 })
    }

    /// Appends records. CSV leaves absent values empty and strings unquoted.
    pub fn write<R: Records>(&mut self, records: &R) -> io::Result<()> {
        for i in 0..records.count() {
            let values = records.fields(i);
            match self.format {
                Format::Csv => {
                    let cells: Vec<&str> =
                        values.iter().map(|v| if v == "null" { "" } else { v.trim_matches('"') }).collect();
                    writeln!(self.out, "{}", cells.join(","))?;
                }
                Format::Json => {
                    let pairs: Vec<String> =
                        self.fields.iter().zip(&values).map(|(k, v)| format!("\"{k}\":{v}")).collect();
                    write!(self.out, "{}\n{{{}}}", if self.rows == 0 { "" } else { "," }, pairs.join(","))?;
                }
            }
            self.rows += 1;
        }
        Ok(())
    }

    /// Closes the output.
    pub fn finish(mut self) -> io::Result<()> {
        if self.format == Format::Json {
            writeln!(self.out, "\n]")?;
        }
        self.out.flush()
    }
}
