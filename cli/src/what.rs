//! The data a command asks for: a ranged [`Dataset`] (`<interval>`, `trades`,
//! `funding`) or the order book now (`book`).

use cryptocache::Dataset;

/// What a command fetches or reports on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum What {
    /// Candles, trades or funding over a range.
    Range(Dataset),
    /// The order book now.
    Book,
}

impl What {
    /// Reads `1h`, `trades`, `funding` or `book`.
    pub fn parse(text: &str) -> Result<What, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "book" | "orderbook" | "order-book" => Ok(What::Book),
            _ => text.parse().map(What::Range).map_err(|e: cryptocache::Error| format!("{e} (or book)")),
        }
    }
}
