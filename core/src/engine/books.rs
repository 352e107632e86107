//! Order books: a snapshot per (exchange, market, symbol, depth), served from memory for
//! the policy's `order_book_ttl`, one fetch at a time per book.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::Engine;
use crate::book::{OrderBook, OrderBookQuery};
use crate::error::{Error, Result};
use crate::model::{Exchange, Market};

/// Exchange, market, symbol, depth.
pub(super) type BookKey = (Exchange, Market, String, usize);

impl Engine {
    /// Answers an order-book query: cached for the policy's TTL, one fetch at a time per book.
    pub(crate) async fn order_book(&self, q: &OrderBookQuery) -> Result<Arc<OrderBook>> {
        self.queries.fetch_add(1, Ordering::Relaxed);
        let upstream = &self.venue(q.exchange)?.upstream;
        let (market, symbol) = upstream.validate(q.market, &q.symbol, None)?;
        if q.depth == 0 {
            return Err(Error::invalid("order book depth must be at least 1"));
        }
        let key = (q.exchange, market, symbol, q.depth);
        let now = self.clock.now_ms();
        if let Some((book, expires)) = self.books.get(&key) {
            if now < expires {
                return Ok(book);
            }
        }
        self.book_flights
            .run(&key, || async {
                let book = match &self.relay {
                    Some(relay) => relay.order_book(q.exchange, market, &key.2, q.depth).await?,
                    None => upstream.order_book(market, &key.2, q.depth).await?,
                };
                let book = Arc::new(book.normalized(q.depth));
                self.books.insert(
                    key.clone(),
                    (Arc::clone(&book), self.policy.order_book_expiry(self.clock.now_ms())),
                );
                Ok(book)
            })
            .await
    }
}
