//! One missing segment: agree with other processes on who fetches it (Redis lock), fetch
//! it from the exchange, give it its expiry, store it in every tier.

use std::sync::Arc;

use super::archived::{FromArchive, Sibling};
use super::normalize::{normalize_candles, normalize_funding, normalize_trades};
use super::retention::{straddles, EDGE_TTL_MS};
use super::Engine;
use crate::error::Result;
use crate::exchange::Upstream;
use crate::model::DataKind;
use crate::segment::{Origin, Payload, Segment, SegmentKey};
use crate::tier::Stored;

/// What the cross-process lock decided for a missing segment.
#[cfg(feature = "redis")]
enum Coordinated {
    /// Another process fetched it.
    Got(Arc<Segment>),
    /// We fetch it, holding the lock if we got it.
    Fetch(Option<Box<crate::redis::LockToken>>),
}

impl Engine {
    /// Fills one missing segment (the singleflight leader runs this). `empty_before` is a
    /// time before which the exchange said the series has nothing; `edge` the earliest
    /// time the exchange serves the series now, if it limits that.
    pub(super) async fn load(
        &self,
        upstream: &Arc<dyn Upstream>,
        key: &SegmentKey,
        empty_before: Option<i64>,
        edge: Option<i64>,
    ) -> Result<Arc<Segment>> {
        let now = self.clock.now_ms();
        // A concurrent caller may have filled it between our lookup and this flight (a
        // partial value of it is not that).
        if let Some(seg) =
            self.memory.as_ref().and_then(|m| m.get(key)).filter(|s| s.is_fresh(now) && s.is_complete())
        {
            return Ok(seg);
        }
        #[cfg(feature = "redis")]
        let held = match self.coordinate(key, now).await? {
            Coordinated::Got(seg) => return Ok(seg),
            Coordinated::Fetch(held) => held,
        };
        let fetch = self.fetch_and_store(upstream, key, empty_before, edge, now);
        #[cfg(feature = "redis")]
        if let (Some(lock), Some(token)) = (&self.lock, held) {
            // The lease is renewed while we fetch; a failure leaves a short marker so
            // waiting processes back off instead of all fetching at once.
            let result = lock.hold_while(&token, fetch).await;
            match &result {
                Ok(_) => lock.release(*token).await,
                Err(error) => lock.fail(*token, error).await,
            }
            return result;
        }
        fetch.await
    }

    /// Across processes: one fetches a missing segment, the others wait for its value
    /// in Redis, watching the lock (bounded by `max_wait`). Redis trouble means "fetch".
    #[cfg(feature = "redis")]
    async fn coordinate(&self, key: &SegmentKey, now: i64) -> Result<Coordinated> {
        use crate::redis::Waited;
        let Some(lock) = &self.lock else { return Ok(Coordinated::Fetch(None)) };
        let deadline = crate::rt::Instant::now() + lock.max_wait.min(self.max_wait);
        loop {
            let waited = match lock.try_lock(key).await {
                // Won the lock: the previous holder may have stored it just before.
                Ok(Some(token)) => match lock.peek(key, now).await {
                    Some(seg) => {
                        lock.release(token).await;
                        Waited::Value(seg)
                    }
                    None => return Ok(Coordinated::Fetch(Some(Box::new(token)))),
                },
                Ok(None) => {
                    let until = tokio::time::Instant::from_std(deadline);
                    lock.wait_for(key, || self.clock.now_ms(), until).await?
                }
                Err(e) => {
                    tracing::debug!(error = %e, "segment lock unavailable; fetching");
                    return Ok(Coordinated::Fetch(None));
                }
            };
            match waited {
                Waited::Value(seg) => {
                    self.store(&[Stored::new(Arc::clone(&seg))], 0..self.shared_tier_index()).await;
                    return Ok(Coordinated::Got(seg));
                }
                // The holder let go without a value (it crashed, or its lease ran out):
                // race for the lock again.
                Waited::Released if crate::rt::Instant::now() < deadline => {}
                Waited::Released | Waited::TimedOut => {
                    tracing::debug!(segment = %key.storage_key("cc"), "lock holder did not deliver in time; fetching");
                    return Ok(Coordinated::Fetch(None));
                }
            }
        }
    }

    /// The tiers above the shared one (Redis): where a value another process fetched
    /// still needs to go.
    #[cfg(feature = "redis")]
    fn shared_tier_index(&self) -> usize {
        self.tiers.iter().position(|t| t.tier.name() == "redis").unwrap_or(self.tiers.len())
    }

    /// Fetches a segment from the exchange and writes it to every tier, with the other
    /// segments the same archive file covered (stored as not asked for).
    async fn fetch_and_store(
        &self,
        upstream: &Arc<dyn Upstream>,
        key: &SegmentKey,
        empty_before: Option<i64>,
        edge: Option<i64>,
        now: i64,
    ) -> Result<Arc<Segment>> {
        if let Some(relay) = &self.relay {
            return self.fetch_from_relay(relay, key, now).await;
        }
        let Fetched { payload, origin, complete, siblings } =
            match self.fetch_payload(upstream, key, empty_before, edge, now).await {
                Ok(fetched) => {
                    self.failures.invalidate(key);
                    fetched
                }
                Err(e) => {
                    self.failures.insert(key.clone(), (now, e.to_string()));
                    return Err(e);
                }
            };
        let mut expires_at = self.policy.expires_at(key, payload.len(), now);
        // Its older part is beyond what the exchange's REST still serves (archive files
        // serve the whole span), or archive files lacked rows of it: never final.
        if (straddles(edge, key) && origin == Origin::Api) || !complete {
            let cap = now + EDGE_TTL_MS;
            expires_at = Some(expires_at.map_or(cap, |t| t.min(cap)));
        }
        let seg = Arc::new(Segment {
            key: key.clone(),
            payload,
            fetched_at: now,
            expires_at,
            origin,
            partial: None,
        });
        // The other segments the same archive file covered, stored with it.
        let siblings: Vec<Stored> = siblings
            .into_iter()
            .map(|sibling| {
                let mut expires_at = self.policy.expires_at(&sibling.key, sibling.payload.len(), now);
                if !sibling.complete {
                    expires_at = Some(expires_at.map_or(now + EDGE_TTL_MS, |t| t.min(now + EDGE_TTL_MS)));
                }
                let Sibling { key, payload, .. } = sibling;
                let origin = Origin::Archive;
                Stored::new(Arc::new(Segment {
                    key,
                    payload,
                    fetched_at: now,
                    expires_at,
                    origin,
                    partial: None,
                }))
            })
            .collect();
        self.store_with_siblings(Stored::new(Arc::clone(&seg)), &siblings).await;
        Ok(seg)
    }

    /// Writes `main` to every tier, and the segments stored beside it to every tier
    /// that lacks them: a byte tier already holding a final one keeps its value and
    /// fetch time (and its use record). Memory, first, gets them all before anything is awaited:
    /// concurrent loads of the same file look there.
    async fn store_with_siblings(&self, main: Stored, siblings: &[Stored]) {
        let keys: Vec<SegmentKey> = siblings.iter().map(|s| s.segment.key.clone()).collect();
        for t in 0..self.tiers.len() {
            let tier = &self.tiers[t].tier;
            // A tier that cannot answer is written to as if it held nothing.
            let held = if tier.holds_bytes() && !keys.is_empty() {
                tier.holds_final(&keys).await.unwrap_or_default()
            } else {
                Vec::new()
            };
            let lacking = siblings.iter().zip(0..).filter(|(_, i)| held.get(*i) != Some(&true));
            let items: Vec<Stored> =
                std::iter::once(main.clone()).chain(lacking.map(|(s, _)| s.clone())).collect();
            self.store(&items, t..t + 1).await;
        }
    }

    /// A segment from the relay, stored as it came (verified, with the relay's expiry).
    async fn fetch_from_relay(
        &self,
        relay: &crate::relay::RelayClient,
        key: &SegmentKey,
        now: i64,
    ) -> Result<Arc<Segment>> {
        match relay.segment(key).await {
            Ok(seg) => {
                self.failures.invalidate(key);
                self.upstream_counters.segment_fetched();
                let seg = Arc::new(seg);
                self.store(&[Stored::new(Arc::clone(&seg))], 0..self.tiers.len()).await;
                Ok(seg)
            }
            Err(e) => {
                self.failures.insert(key.clone(), (now, e.to_string()));
                Err(e)
            }
        }
    }

    /// The rows of one segment from the exchange (its archive files first, when the
    /// `archives` setting allows); empty without a request only when the exchange itself
    /// said nothing opens before `empty_before` and the segment ends by then. REST serves
    /// nothing before `edge` (its retention): a segment wholly before it comes from the
    /// archive or not at all.
    async fn fetch_payload(
        &self,
        upstream: &Arc<dyn Upstream>,
        key: &SegmentKey,
        empty_before: Option<i64>,
        edge: Option<i64>,
        now: i64,
    ) -> Result<Fetched> {
        let span = key.span();
        let series = &key.series;
        if empty_before.is_some_and(|t| span.end <= t) {
            return Ok(Fetched::api(Payload::empty(series.kind)));
        }
        // Whether REST serves the whole segment: one reaching past its retention edge is
        // read from the archive alone where there is one (REST would answer only its newer
        // part, and an archive failure would pass for "nothing there" in the older part).
        let rest_serves = upstream.rest_serves_history(series) && edge.is_none_or(|e| span.start >= e);
        let partial = match self.archived_rows(key, rest_serves, now).await? {
            // Whole, or all there is (REST cannot serve it): served, final only if whole.
            Some(read) if read.complete || self.archives_only() || !rest_serves => {
                self.upstream_counters.segment_fetched();
                let FromArchive { payload, complete, siblings } = read;
                return Ok(Fetched { payload, origin: Origin::Archive, complete, siblings });
            }
            // The file lacked rows: REST decides, and the file's rows are checked against it.
            partial => partial,
        };
        let payload = match series.kind {
            DataKind::Klines => Payload::Candles(Arc::new(normalize_candles(
                key,
                upstream.fetch_klines(series, span, now).await?,
            ))),
            DataKind::Trades => Payload::Trades(Arc::new(normalize_trades(
                span,
                upstream.fetch_trades(series, span, now).await?,
            ))),
            DataKind::Funding => Payload::Funding(Arc::new(normalize_funding(
                span,
                upstream.fetch_funding(series, span, now).await?,
            ))),
        };
        self.upstream_counters.segment_fetched();
        let mut fetched = Fetched::api(payload);
        if let Some(partial) = partial {
            self.reconcile(key, &partial.payload, &fetched.payload);
            // The whole segments the same file covered are stored all the same.
            fetched.siblings = partial.siblings;
        }
        Ok(fetched)
    }
}

/// One segment's rows as fetched, with where they came from.
struct Fetched {
    payload: Payload,
    origin: Origin,
    /// Whether the source covered the whole segment (archive files may lack rows).
    complete: bool,
    /// Other segments the same archive file covered (stored with origin `archive`).
    siblings: Vec<Sibling>,
}

impl Fetched {
    fn api(payload: Payload) -> Self {
        Fetched { payload, origin: Origin::Api, complete: true, siblings: Vec::new() }
    }
}
