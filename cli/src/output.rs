//! CSV, JSON, Parquet and Arrow IPC writers for candles, trades and funding rates,
//! streaming part by part. Floats print in Rust's shortest round-trip form, so a reader
//! parsing them gets the exact same values; the columnar formats carry the same columns
//! as the CSV (times as UTC timestamps) from [`cryptocache::columns`].

use std::io::{self, Write};
use std::path::Path;

use cryptocache::arrow_ipc::StreamWriter;
use cryptocache::columns::ToBatch;
use cryptocache::{Candles, FundingRates, Side, Trades};

use crate::parquet_out::ParquetWriter;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A header line, then one row per record.
    Csv,
    /// An array of objects with the same fields.
    Json,
    /// Apache Parquet, zstd-compressed.
    Parquet,
    /// An Arrow IPC stream.
    Arrow,
}

impl Format {
    /// Chosen by the file extension; CSV for standard output.
    pub fn of(path: Option<&Path>) -> Result<Format, String> {
        match path.and_then(|p| p.extension()).and_then(|e| e.to_str()) {
            None if path.is_none() => Ok(Format::Csv),
            Some(e) if e.eq_ignore_ascii_case("csv") => Ok(Format::Csv),
            Some(e) if e.eq_ignore_ascii_case("json") => Ok(Format::Json),
            Some(e) if e.eq_ignore_ascii_case("parquet") => Ok(Format::Parquet),
            Some(e) if e.eq_ignore_ascii_case("arrow") || e.eq_ignore_ascii_case("arrows") => {
                Ok(Format::Arrow)
            }
            _ => Err(format!(
                "cannot tell the format of {:?}: name it .csv, .json, .parquet or .arrow",
                path.unwrap_or(Path::new(""))
            )),
        }
    }

    /// The file extension of this format.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Parquet => "parquet",
            Format::Arrow => "arrow",
        }
    }
}

/// A result that can be written record by record (text) or as columns.
pub trait Records: ToBatch {
    /// Field names, in order.
    const FIELDS: &'static [&'static str];

    /// Number of records.
    fn count(&self) -> usize;

    /// The fields of record `i` as JSON values (numbers, strings or `null`).
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

/// Where records go.
enum Sink<W: Write + Send> {
    /// CSV or JSON text.
    Text(W),
    /// Arrow IPC: one record batch per part.
    Arrow(StreamWriter<W>),
    /// Parquet: started with the first part (its columns are the schema).
    Parquet(ParquetSink<W>),
}

/// The output until the first part arrives, then the Parquet writer.
struct ParquetSink<W: Write + Send> {
    out: Option<W>,
    writer: Option<ParquetWriter<W>>,
}

/// Writes records as they arrive.
pub struct Writer<W: Write + Send> {
    sink: Sink<W>,
    format: Format,
    fields: &'static [&'static str],
    rows: usize,
}

impl<W: Write + Send> Writer<W> {
    /// Starts the output (CSV header or JSON array) for records with `fields`.
    pub fn new(mut out: W, format: Format, fields: &'static [&'static str]) -> io::Result<Self> {
        let sink = match format {
            Format::Csv => {
                writeln!(out, "{}", fields.join(","))?;
                Sink::Text(out)
            }
            Format::Json => {
                write!(out, "[")?;
                Sink::Text(out)
            }
            Format::Arrow => Sink::Arrow(StreamWriter::new(out)),
            Format::Parquet => Sink::Parquet(ParquetSink { out: Some(out), writer: None }),
        };
        Ok(Writer { sink, format, fields, rows: 0 })
    }

    /// Appends records. CSV (the core's writer) leaves absent values empty.
    pub fn write<R: Records>(&mut self, records: &R) -> io::Result<()> {
        let out = match &mut self.sink {
            Sink::Text(out) => out,
            Sink::Arrow(stream) => return stream.write(&records.to_batch()),
            Sink::Parquet(sink) => return sink.write(records),
        };
        if self.format == Format::Csv {
            // The one CSV writer, shared with the relay.
            return records.to_batch().write_csv(out, false);
        }
        for i in 0..records.count() {
            let values = records.fields(i);
            let pairs: Vec<String> =
                self.fields.iter().zip(&values).map(|(k, v)| format!("\"{k}\":{v}")).collect();
            write!(out, "{}\n{{{}}}", if self.rows == 0 { "" } else { "," }, pairs.join(","))?;
            self.rows += 1;
        }
        Ok(())
    }

    /// Closes the output.
    pub fn finish(self) -> io::Result<()> {
        let mut out = match self.sink {
            Sink::Text(mut out) => {
                if self.format == Format::Json {
                    writeln!(out, "\n]")?;
                }
                out
            }
            Sink::Arrow(stream) => stream.finish()?,
            Sink::Parquet(ParquetSink { writer: Some(writer), .. }) => {
                writer.finish().map_err(io::Error::other)?
            }
            Sink::Parquet(ParquetSink { writer: None, .. }) => {
                return Err(io::Error::other("no records were written"))
            }
        };
        out.flush()
    }
}

impl<W: Write + Send> ParquetSink<W> {
    /// Appends records, starting the file (its schema) with the first part.
    fn write<R: Records>(&mut self, records: &R) -> io::Result<()> {
        let batch = records.to_batch();
        let writer = match (&mut self.writer, self.out.take()) {
            (Some(writer), _) => writer,
            (None, Some(out)) => {
                self.writer.insert(ParquetWriter::new(out, &batch).map_err(io::Error::other)?)
            }
            (None, None) => return Err(io::Error::other("the Parquet file could not be started")),
        };
        writer.write(&batch).map_err(io::Error::other)
    }
}
