//! The data a command asks for: `<interval>`, `trades`, `funding` or `book`.

use cryptocache::{DataKind, Interval};

/// What a command fetches or reports on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum What {
    /// Candles at an interval.
    Klines(Interval),
    /// Public trades.
    Trades,
    /// Funding-rate history.
    Funding,
    /// The order book now.
    Book,
}

impl What {
    /// Reads `1h`, `trades`, `funding` or `book`.
    pub fn parse(text: &str) -> Result<What, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "trades" => Ok(What::Trades),
            "funding" | "funding-rates" => Ok(What::Funding),
            "book" | "orderbook" | "order-book" => Ok(What::Book),
            _ => text
                .parse()
                .map(What::Klines)
                .map_err(|e: cryptocache::Error| format!("{e} (or one of: trades, funding, book)")),
        }
    }

    /// The data kind behind a ranged query, and the klines interval.
    pub fn kind(self) -> Option<(DataKind, Option<Interval>)> {
        match self {
            What::Klines(iv) => Some((DataKind::Klines, Some(iv))),
            What::Trades => Some((DataKind::Trades, None)),
            What::Funding => Some((DataKind::Funding, None)),
            What::Book => None,
        }
    }

    /// How much time one progress step covers: eight segments' worth.
    pub fn step_ms(self) -> i64 {
        let (kind, interval) = self.kind().unwrap_or((DataKind::Trades, None));
        let grid = interval.unwrap_or_else(DataKind::hourly_grid);
        grid.nominal_ms() * kind.slots_per_segment() * 8
    }
}
