//! Public trades: columnar, ascending by (time, id).

use std::ops::Range;

use crate::table::{Rows, Table};

/// The side of the taker (the aggressor) of a trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i8)]
pub enum Side {
    /// The taker bought (lifted an ask).
    Buy = 1,
    /// The taker sold (hit a bid).
    Sell = -1,
}

/// One trade as a plain struct.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trade {
    /// Exchange time, ms.
    pub time: i64,
    /// Exchange trade id (Binance aggregate id, OKX trade id, Deribit trade sequence).
    pub id: i64,
    /// Price.
    pub price: f64,
    /// Quantity, in the exchange's unit for the market (base, or contracts/USD for some
    /// derivatives).
    pub quantity: f64,
    /// Taker side.
    pub side: Side,
}

/// Owned trade columns, ascending by (time, id), unique ids.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TradeColumns {
    /// Times, ms.
    pub time: Vec<i64>,
    /// Trade ids.
    pub id: Vec<i64>,
    /// Prices.
    pub price: Vec<f64>,
    /// Quantities.
    pub quantity: Vec<f64>,
    /// Taker sides.
    pub side: Vec<Side>,
}

impl TradeColumns {
    /// Appends one trade.
    pub fn push(&mut self, t: &Trade) {
        self.time.push(t.time);
        self.id.push(t.id);
        self.price.push(t.price);
        self.quantity.push(t.quantity);
        self.side.push(t.side);
    }

    /// The trade at row `i`.
    pub fn row(&self, i: usize) -> Trade {
        Trade {
            time: self.time[i],
            id: self.id[i],
            price: self.price[i],
            quantity: self.quantity[i],
            side: self.side[i],
        }
    }
}

impl Table for TradeColumns {
    fn len(&self) -> usize {
        self.time.len()
    }

    fn times(&self) -> &[i64] {
        &self.time
    }

    fn empty_like(&self, n: usize) -> Self {
        TradeColumns {
            time: Vec::with_capacity(n),
            id: Vec::with_capacity(n),
            price: Vec::with_capacity(n),
            quantity: Vec::with_capacity(n),
            side: Vec::with_capacity(n),
        }
    }

    fn extend_from(&mut self, other: &Self, rows: Range<usize>) {
        self.time.extend_from_slice(&other.time[rows.clone()]);
        self.id.extend_from_slice(&other.id[rows.clone()]);
        self.price.extend_from_slice(&other.price[rows.clone()]);
        self.quantity.extend_from_slice(&other.quantity[rows.clone()]);
        self.side.extend_from_slice(&other.side[rows]);
    }

    fn heap_bytes(&self) -> usize {
        self.len() * 33
    }
}

/// The trades a query returned: every trade with time in `[start, end)`, once, ascending
/// by (time, id).
pub type Trades = Rows<TradeColumns>;

impl Trades {
    /// Times, ms.
    pub fn time(&self) -> &[i64] {
        self.slice(|t| &t.time)
    }
    /// Trade ids.
    pub fn id(&self) -> &[i64] {
        self.slice(|t| &t.id)
    }
    /// Prices.
    pub fn price(&self) -> &[f64] {
        self.slice(|t| &t.price)
    }
    /// Quantities.
    pub fn quantity(&self) -> &[f64] {
        self.slice(|t| &t.quantity)
    }
    /// Taker sides.
    pub fn side(&self) -> &[Side] {
        self.slice(|t| &t.side)
    }
    /// Iterates trades as rows.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Trade> + '_ {
        let (table, rows) = self.parts();
        rows.map(move |i| table.row(i))
    }
}
