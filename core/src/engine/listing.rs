//! Symbol checks and listing: what the exchange's instruments list says of a symbol (one
//! check at a time per symbol, cached for `instruments_ttl`), and the exchange's own
//! answer to "does anything open before t?" (one probe per series, remembered).
//!
//! Published listing times (Binance `onboardDate`, OKX `listTime`, ...) are wrong for
//! some instruments (binance/binance-public-data#427) and reset by relistings, so they
//! only say where to ask; a segment is known-empty only on the exchange's own answer.

use std::sync::Arc;

use super::Engine;
use crate::error::{Error, Result};
use crate::exchange::{Instrument, Upstream};
use crate::model::SeriesKey;

impl Engine {
    /// What the exchange's instruments list says of the series' symbol, cached for the
    /// policy's `instruments_ttl`; concurrent checks of one symbol make one request.
    /// `UnknownSymbol` when the exchange does not list it; `Ok(None)` when the list could
    /// not be read (the query goes on unvalidated).
    pub(super) async fn instrument(
        &self,
        upstream: &Arc<dyn Upstream>,
        series: &SeriesKey,
    ) -> Result<Option<Instrument>> {
        let key = (series.exchange, series.market, series.symbol.to_string());
        let now = self.clock.now_ms();
        let known = match self.instruments.get(&key) {
            Some((known, expires)) if now < expires => Ok(known),
            _ => {
                self.instrument_flights
                    .run(&key, || async {
                        let known = upstream.instrument(series.market, &series.symbol).await?;
                        let expires = self.clock.now_ms() + self.policy.instruments_ttl.as_millis() as i64;
                        self.instruments.insert(key.clone(), (known.clone(), expires));
                        Ok(known)
                    })
                    .await
            }
        };
        match known {
            Ok(Some(instrument)) => Ok(Some(instrument)),
            Ok(None) => Err(Error::UnknownSymbol {
                exchange: series.exchange.to_string(),
                symbol: series.symbol.to_string(),
            }),
            Err(e @ (Error::UnknownSymbol { .. } | Error::RateLimited { .. })) => Err(e),
            Err(e) => {
                tracing::warn!(series = %series, error = %e, "instruments list unavailable; symbol not validated");
                Ok(None)
            }
        }
    }

    /// A time before which the exchange itself said the series has nothing (see
    /// [`Upstream::empty_before`]), asked once per series and hint; concurrent askers
    /// share one request.
    pub(super) async fn empty_before(
        &self,
        upstream: &Arc<dyn Upstream>,
        series: &Arc<SeriesKey>,
        hint: Option<i64>,
        now: i64,
    ) -> Result<Option<i64>> {
        let key = (Arc::clone(series), hint);
        if let Some(known) = self.empty_before.get(&key) {
            return Ok(known);
        }
        self.empty_before_flights
            .run(&key, || async {
                let answer = upstream.empty_before(series, hint, now).await?;
                self.empty_before.insert(key.clone(), answer);
                Ok(answer)
            })
            .await
    }
}
