//! Order-book snapshots: data that is only "now", cached briefly (cache-aside with a TTL).

use crate::model::{Exchange, Market};

/// Which book, how deep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBookQuery {
    /// Exchange.
    pub exchange: Exchange,
    /// Market; `None` lets the adapter decide (spot unless the symbol names one).
    pub market: Option<Market>,
    /// Exchange symbol.
    pub symbol: String,
    /// Levels per side.
    pub depth: usize,
}

impl OrderBookQuery {
    /// A query for `depth` levels a side.
    pub fn new(exchange: Exchange, symbol: impl Into<String>, depth: usize) -> Self {
        OrderBookQuery { exchange, market: None, symbol: symbol.into(), depth }
    }

    /// Sets the market.
    pub fn market(mut self, market: Market) -> Self {
        self.market = Some(market);
        self
    }
}

/// One price level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    /// Price.
    pub price: f64,
    /// Quantity at that price.
    pub quantity: f64,
}

/// A snapshot of the book: bids best (highest) first, asks best (lowest) first.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderBook {
    /// Exchange time of the snapshot when it says, else when it was received (ms).
    pub time: i64,
    /// The exchange's update id or sequence, when it sends one.
    pub update_id: Option<i64>,
    /// Bids, best first.
    pub bids: Vec<Level>,
    /// Asks, best first.
    pub asks: Vec<Level>,
}

impl OrderBook {
    /// Sorts both sides best-first and keeps at most `depth` levels each.
    pub(crate) fn normalized(mut self, depth: usize) -> Self {
        self.bids.sort_by(|a, b| b.price.total_cmp(&a.price));
        self.asks.sort_by(|a, b| a.price.total_cmp(&b.price));
        self.bids.truncate(depth);
        self.asks.truncate(depth);
        self
    }
}
