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
