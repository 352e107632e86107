//! Request counters, so tests can assert "exactly N upstream requests".

use std::collections::BTreeMap;

/// What the simulator has served since start (or the last reset).
/// The same numbers as `GET /_sim/stats`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SimStats {
    /// Exchange requests received (every path except `/_sim/*`), including
    /// errors, throttled requests and faults.
    pub total: u64,
    /// Requests per path, e.g. `"/api/v3/klines"`.
    pub endpoints: BTreeMap<String, u64>,
    /// Replies per HTTP status.
    pub statuses: BTreeMap<u16, u64>,
    /// Rejections produced by the simulator's own limiters (Binance 429/418,
    /// Bybit 403, OKX 429, Deribit 429), not injected faults.
    pub rate_limited: u64,
    /// Injected faults served.
    pub faults_served: u64,
    /// Highest usage seen, per budget: weight per window for
    /// `"binance-spot"`, `"binance-um"`; requests per window for
    /// `"binance-um-funding"`, `"bybit"`, `"okx-candles"`,
    /// `"okx-history-candles"`, `"okx-trades"`, `"okx-history-trades"`,
    /// `"okx-books"`, `"okx-instruments"`, `"okx-funding-history:<instId>"`;
    /// credits in use for `"deribit"` (and `"deribit-instruments"`, where a
    /// call costs `instruments_every` in seconds).
    pub max_window_weight: BTreeMap<String, u32>,
}

impl SimStats {
    /// Counts one arriving request.
    pub(crate) fn arrived(&mut self, path: &str) {
        self.total += 1;
        *self.endpoints.entry(path.to_string()).or_default() += 1;
    }

    /// Counts one reply by status.
    pub(crate) fn replied(&mut self, status: u16) {
        *self.statuses.entry(status).or_default() += 1;
    }
}
