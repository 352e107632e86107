//! CSV and JSON writers for candles, streaming part by part.

use std::io::{self, Write};
use std::path::Path;

use cryptocache::Candles;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `open_time,open,high,low,close,volume,quote_volume,trades`, one row per candle.
    Csv,
    /// An array of objects with the same fields.
    Json,
}

impl Format {
    /// The file extension of this format.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }

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
}

/// Writes candles as they arrive.
pub struct Writer<W: Write> {
    out: W,
    format: Format,
    rows: usize,
}

impl<W: Write> Writer<W> {
    /// Starts the output (CSV header or JSON array).
    pub fn new(mut out: W, format: Format) -> io::Result<Self> {
        match format {
            Format::Csv => writeln!(out, "open_time,open,high,low,close,volume,quote_volume,trades")?,
            Format::Json => write!(out, "[")?,
        }
        Ok(Writer { out, format, rows: 0 })
    }

    /// Appends candles. Floats print in Rust's shortest round-trip form, so a reader
    /// parsing them gets the exact same values.
    pub fn write(&mut self, candles: &Candles) -> io::Result<()> {
        for c in candles.iter() {
            let trades = c.trades.map(|t| t.to_string());
            match self.format {
                Format::Csv => writeln!(
                    self.out,
                    "{},{},{},{},{},{},{},{}",
                    c.open_time,
                    c.open,
                    c.high,
                    c.low,
                    c.close,
                    c.volume,
                    c.quote_volume,
                    trades.as_deref().unwrap_or("")
                )?,
                Format::Json => write!(
                    self.out,
                    "{}\n{{\"open_time\":{},\"open\":{},\"high\":{},\"low\":{},\"close\":{},\"volume\":{},\"quote_volume\":{},\"trades\":{}}}",
                    if self.rows == 0 { "" } else { "," },
                    c.open_time,
                    c.open,
                    c.high,
                    c.low,
                    c.close,
                    c.volume,
                    c.quote_volume,
                    trades.as_deref().unwrap_or("null")
                )?,
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
