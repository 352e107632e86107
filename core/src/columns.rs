//! Results as named, typed columns: the one description every columnar file format
//! (Arrow IPC here, Parquet in the CLI) is written from, so they all carry the same
//! columns, in the same order and types, as the CSV output.

use crate::candles::Candles;
use crate::funding::FundingRates;
use crate::trades::{Side, Trades};

/// The values of one column.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// Milliseconds since 1970, UTC (a timestamp column).
    TimestampMs(Vec<i64>),
    /// Signed 64-bit integers.
    Int64(Vec<i64>),
    /// Unsigned 64-bit integers, each possibly absent (null).
    UInt64(Vec<Option<u64>>),
    /// 64-bit floats.
    Float64(Vec<f64>),
    /// Short strings.
    Utf8(Vec<&'static str>),
}

impl Values {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Values::TimestampMs(v) | Values::Int64(v) => v.len(),
            Values::UInt64(v) => v.len(),
            Values::Float64(v) => v.len(),
            Values::Utf8(v) => v.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a value may be absent (the column is nullable).
    pub fn nullable(&self) -> bool {
        matches!(self, Values::UInt64(_))
    }
}

/// A named column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The column's name (as in the CSV header).
    pub name: &'static str,
    /// Its values.
    pub values: Values,
}

/// Rows as columns of equal length.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// The columns, in CSV order.
    pub columns: Vec<Column>,
}

impl Batch {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, |c| c.values.len())
    }
}

/// A result that can be turned into a [`Batch`].
pub trait ToBatch {
    /// The columns of this result.
    fn to_batch(&self) -> Batch;
}

fn column(name: &'static str, values: Values) -> Column {
    Column { name, values }
}

impl ToBatch for Candles {
    /// `open_time` (timestamp), `open`, `high`, `low`, `close`, `volume`, `quote_volume`,
    /// `trades` (null where the exchange does not report it).
    fn to_batch(&self) -> Batch {
        let f = |v: &[f64]| Values::Float64(v.to_vec());
        let trades = match self.trades() {
            Some(t) => t.iter().map(|&n| Some(n)).collect(),
            None => vec![None; self.len()],
        };
        Batch {
            columns: vec![
                column("open_time", Values::TimestampMs(self.open_time().to_vec())),
                column("open", f(self.open())),
                column("high", f(self.high())),
                column("low", f(self.low())),
                column("close", f(self.close())),
                column("volume", f(self.volume())),
                column("quote_volume", f(self.quote_volume())),
                column("trades", Values::UInt64(trades)),
            ],
        }
    }
}

impl ToBatch for Trades {
    /// `time` (timestamp), `id`, `price`, `quantity`, `side` (`buy` or `sell`).
    fn to_batch(&self) -> Batch {
        let side = self.side().iter().map(|s| if *s == Side::Buy { "buy" } else { "sell" }).collect();
        Batch {
            columns: vec![
                column("time", Values::TimestampMs(self.time().to_vec())),
                column("id", Values::Int64(self.id().to_vec())),
                column("price", Values::Float64(self.price().to_vec())),
                column("quantity", Values::Float64(self.quantity().to_vec())),
                column("side", Values::Utf8(side)),
            ],
        }
    }
}

impl ToBatch for FundingRates {
    /// `time` (timestamp), `rate`.
    fn to_batch(&self) -> Batch {
        Batch {
            columns: vec![
                column("time", Values::TimestampMs(self.time().to_vec())),
                column("rate", Values::Float64(self.rate().to_vec())),
            ],
        }
    }
}

impl Batch {
    /// Writes the rows as CSV: a header of the column names, then one line per row.
    /// Times are milliseconds, floats their shortest exact form, absent values empty.
    pub fn write_csv(&self, out: &mut impl std::io::Write, header: bool) -> std::io::Result<()> {
        if header {
            let names: Vec<&str> = self.columns.iter().map(|c| c.name).collect();
            writeln!(out, "{}", names.join(","))?;
        }
        let mut line = String::new();
        for row in 0..self.rows() {
            line.clear();
            for (i, column) in self.columns.iter().enumerate() {
                if i > 0 {
                    line.push(',');
                }
                column.values.push_text(row, &mut line);
            }
            line.push('\n');
            out.write_all(line.as_bytes())?;
        }
        Ok(())
    }

    /// Writes the rows as a JSON array of objects keyed by column name. Prices, sizes and
    /// rates are decimal strings (`"31038.78"`: exactly what the exchange sent, never
    /// rounded by a JSON parser's binary floats); times and ids are integers; absent
    /// values `null`. Written straight into `out`, with no value tree in between.
    pub fn write_json_rows(&self, out: &mut Vec<u8>) {
        use std::io::Write as _;
        // `"name":` of every column, escaped once.
        let keys: Vec<String> =
            self.columns.iter().map(|c| format!("{}:", serde_json::Value::from(c.name))).collect();
        out.push(b'[');
        for row in 0..self.rows() {
            if row > 0 {
                out.push(b',');
            }
            out.push(b'{');
            for (i, (column, key)) in self.columns.iter().zip(&keys).enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(key.as_bytes());
                // Writing to a Vec cannot fail.
                let _ = match &column.values {
                    Values::TimestampMs(v) | Values::Int64(v) => write!(out, "{}", v[row]),
                    Values::UInt64(v) => match v[row] {
                        Some(n) => write!(out, "{n}"),
                        None => write!(out, "null"),
                    },
                    Values::Float64(v) => write!(out, "\"{}\"", v[row]),
                    Values::Utf8(v) => write!(out, "{}", serde_json::Value::from(v[row])),
                };
            }
            out.push(b'}');
        }
        out.push(b']');
    }
}

impl Values {
    /// Appends value `row` as CSV text.
    fn push_text(&self, row: usize, out: &mut String) {
        use std::fmt::Write as _;
        let _ = match self {
            Values::TimestampMs(v) | Values::Int64(v) => write!(out, "{}", v[row]),
            Values::UInt64(v) => match v[row] {
                Some(n) => write!(out, "{n}"),
                None => Ok(()),
            },
            Values::Float64(v) => write!(out, "{}", v[row]),
            Values::Utf8(v) => write!(out, "{}", v[row]),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch() -> Batch {
        Batch {
            columns: vec![
                column("time", Values::TimestampMs(vec![1_704_067_200_000, 1_704_067_260_000])),
                column("price", Values::Float64(vec![42_000.1, 0.1 + 0.2])),
                column("trades", Values::UInt64(vec![Some(3), None])),
                column("side", Values::Utf8(vec!["buy", "sell"])),
            ],
        }
    }

    #[test]
    fn csv_has_a_header_exact_floats_and_empty_absent_values() {
        let mut out = Vec::new();
        batch().write_csv(&mut out, true).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "time,price,trades,side\n1704067200000,42000.1,3,buy\n1704067260000,0.30000000000000004,,sell\n"
        );
    }

    #[test]
    fn json_rows_keep_decimals_as_strings() {
        let mut out = Vec::new();
        batch().write_json_rows(&mut out);
        let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(json[0]["price"], "42000.1");
        assert_eq!(json[1]["trades"], serde_json::Value::Null);
        assert_eq!(json[0]["time"], 1_704_067_200_000i64);
        assert_eq!(json[1]["side"], "sell");
    }
}
