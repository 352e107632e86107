//! A cache whose upstream is a relay (`CacheBuilder::relay`): whole segments over real
//! HTTP from a relay in front of the simulator. Values equal the library's, the relay's
//! expiry and source are kept, errors come back typed, the exchange is never contacted by
//! the client, and keys are enforced.

use std::sync::Arc;
use std::time::Duration;

use cryptocache::warm::Dataset;
use cryptocache::{
    Cache, Error, Exchange, KlineQuery, ManualClock, Market, OrderBookQuery, Policy, RangeQuery,
};
use cryptocache_server::auth::{Keys, KeysFile};
use cryptocache_server::{router, serve, Relay};
use cryptocache_sim::{Sim, SimConfig};

/// 2024-06-01T12:30:00Z: the simulator's and the caches' "now".
const NOW: i64 = 1_717_245_000_000;
const DAY: i64 = 86_400_000;

/// A relay on a loopback port, stopped when dropped.
struct Running {
    url: String,
    relay: Arc<Relay>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Running {
    async fn start(relay: Relay) -> Running {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let relay = Arc::new(relay);
        let shutdown = async move {
            let _ = stopped.await;
        };
        tokio::spawn(serve(listener, router(Arc::clone(&relay)), shutdown, Duration::from_secs(1)));
        Running { url, relay, stop: Some(stop) }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn builder() -> cryptocache::CacheBuilder {
    Cache::builder()
        .no_disk()
        .clock(Arc::new(ManualClock::new(NOW)))
        .policy(Policy { jitter: Duration::ZERO, ..Policy::default() })
        .prefetch(0)
}

async fn sim() -> Sim {
    Sim::start(SimConfig { now_ms: Some(NOW), ..SimConfig::default() }).await.unwrap()
}

/// A relay over the simulator, and the same library cache over the simulator to compare
/// (REST only: OKX's trade archive would reach past the retention these tests meet).
async fn relay_and_library(sim: &Sim) -> (Running, Cache) {
    let over_sim = || builder().exchange_url(sim.url()).archives(cryptocache::ArchiveMode::Off);
    let relay = Running::start(Relay::new(over_sim().build().await.unwrap())).await;
    (relay, over_sim().build().await.unwrap())
}

fn klines(symbol: &str, interval: &str, start: i64, end: i64) -> KlineQuery {
    KlineQuery::new(Exchange::Binance, symbol, interval.parse().unwrap(), start, end)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_through_a_relay_gets_the_librarys_values_and_never_calls_an_exchange() {
    let sim = sim().await;
    let (relay, library) = relay_and_library(&sim).await;
    let client = builder().relay(&relay.url, None).build().await.unwrap();
    // Stored under the relay's namespace (the simulator's here, never `live`).
    assert_eq!(client.sources(), relay.relay.cache.sources());

    // Closed history, up to the open candle: equal to the library's, column for column.
    let queries = [
        klines("BTCUSDT", "1h", NOW - 120 * DAY, NOW - 60 * DAY),
        klines("ETHUSDT", "1d", NOW - 900 * DAY, NOW),
        klines("BTCUSDT", "1m", NOW - DAY / 2, NOW).market(Market::Linear),
    ];
    for q in &queries {
        assert_eq!(
            client.klines(q).await.unwrap().to_columns(),
            library.klines(q).await.unwrap().to_columns()
        );
    }
    let trades = RangeQuery::new(Exchange::Binance, "BTCUSDT", NOW - 3 * DAY, NOW - 3 * DAY + 600_000);
    assert_eq!(
        client.trades(&trades).await.unwrap().to_table(),
        library.trades(&trades).await.unwrap().to_table()
    );
    let funding =
        RangeQuery::new(Exchange::Bybit, "BTCUSDT", NOW - 90 * DAY, NOW - 10 * DAY).market(Market::Linear);
    assert_eq!(
        client.funding_rates(&funding).await.unwrap().to_table(),
        library.funding_rates(&funding).await.unwrap().to_table()
    );
    let book = OrderBookQuery::new(Exchange::Okx, "BTC-USDT", 10);
    let (mine, theirs) = (client.order_book(&book).await.unwrap(), library.order_book(&book).await.unwrap());
    assert_eq!((mine.bids.len(), mine.asks.len()), (10, 10));
    assert_eq!((mine.bids[0].price, mine.asks[0].price), (theirs.bids[0].price, theirs.asks[0].price));

    // Every segment kept the relay's expiry: closed ones final, the open one until the
    // relay said.
    let open_start = NOW - NOW % (1000 * DAY);
    let closed_start = open_start - 1000 * DAY;
    for start in [open_start, closed_start] {
        let at = |c: &Cache| {
            let c = c.clone();
            async move {
                c.segment(
                    Exchange::Binance,
                    Some(Market::Spot),
                    "ETHUSDT",
                    Dataset::Klines("1d".parse().unwrap()),
                    start,
                )
                .await
                .unwrap()
            }
        };
        let (mine, theirs) = (at(&client).await, at(&relay.relay.cache).await);
        assert_eq!((mine.expires_at, mine.fetched_at), (theirs.expires_at, theirs.fetched_at));
        assert_eq!(mine.payload.len(), theirs.payload.len());
    }

    // A second client through the relay: the relay answers from its cache; no exchange
    // request anywhere, and the client counted its requests as the relay's.
    let exchange_requests = sim.stats().total;
    let second = builder().relay(&relay.url, None).build().await.unwrap();
    for q in &queries {
        second.klines(q).await.unwrap();
    }
    assert_eq!(sim.stats().total, exchange_requests, "the exchange was not asked again");
    let upstream = second.stats().upstream;
    assert!(upstream.requests > 0 && upstream.venues.keys().all(|v| v == "relay"), "{upstream:?}");
    // And again from its own memory: no request at all.
    let requests = second.stats().upstream.requests;
    second.klines(&queries[0]).await.unwrap();
    assert_eq!(second.stats().upstream.requests, requests);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relays_errors_come_back_typed_and_nothing_is_cached() {
    let sim = sim().await;
    let (relay, library) = relay_and_library(&sim).await;
    let client = builder().relay(&relay.url, None).build().await.unwrap();
    let nope = klines("NOPECOIN", "1h", NOW - 10 * DAY, NOW - 5 * DAY);
    let e = client.klines(&nope).await.unwrap_err();
    assert!(matches!(&e, Error::UnknownSymbol { symbol, .. } if symbol == "NOPECOIN"), "{e}");
    // OKX keeps about three months of trades: the relay's error, field for field.
    let old = RangeQuery::new(Exchange::Okx, "BTC-USDT", NOW - 200 * DAY, NOW - 199 * DAY);
    let (mine, theirs) = (client.trades(&old).await.unwrap_err(), library.trades(&old).await.unwrap_err());
    assert!(matches!(mine, Error::OutOfRetention { .. }), "{mine}");
    assert_eq!(mine.to_string(), theirs.to_string());
    // Bad input is refused before any request.
    let requests = client.stats().upstream.requests;
    assert!(matches!(client.klines(&klines("BTCUSDT", "7m", 0, DAY)).await, Err(Error::InvalidQuery(_))));
    assert_eq!(client.stats().upstream.requests, requests);
    let written: u64 = client.stats().tiers.iter().map(|t| t.writes).sum();
    assert_eq!(written, 0, "no error was cached");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_of_another_source_are_refused_and_a_named_source_works_without_the_relay() {
    let sim = sim().await;
    let (relay, _) = relay_and_library(&sim).await;
    let q = klines("BTCUSDT", "4h", NOW - 300 * DAY, NOW - 100 * DAY);
    // A cache that calls its values `live` must not store the simulator's as such.
    let live = builder().relay(&relay.url, None).source("live").build().await.unwrap();
    let e = live.klines(&q).await.unwrap_err();
    assert!(matches!(&e, Error::Config(m) if m.contains("source")), "{e}");
    assert_eq!(live.stats().tiers.iter().map(|t| t.writes).sum::<u64>(), 0);

    // With a disk tier: filled through the relay, then served with the relay gone, as
    // long as the source is named (it cannot be asked).
    let dir = tempfile::tempdir().unwrap();
    let source = relay.relay.cache.sources()[0].1.to_string();
    let want = builder()
        .disk(dir.path())
        .relay(&relay.url, None)
        .build()
        .await
        .unwrap()
        .klines(&q)
        .await
        .unwrap()
        .to_columns();
    let url = relay.url.clone();
    drop(relay);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let e = builder().disk(dir.path()).relay(&url, None).build().await.unwrap_err();
    assert!(matches!(&e, Error::Config(m) if m.contains("name the source")), "{e}");
    let offline = builder().disk(dir.path()).relay(&url, None).source(&source).build().await.unwrap();
    assert_eq!(offline.klines(&q).await.unwrap().to_columns(), want);
    assert!(matches!(
        offline.klines(&klines("BTCUSDT", "4h", NOW - 600 * DAY, NOW - 500 * DAY)).await,
        Err(Error::Network { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_sent_and_a_refused_key_is_a_clear_error() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("keys.toml");
    let mut keys = KeysFile::default();
    let key = keys.add("laptop").unwrap();
    keys.write(&file).unwrap();
    let mut relay = Relay::new(builder().exchange_url(sim.url()).build().await.unwrap());
    relay.keys = Some(Keys::new(KeysFile::read(&file, false).unwrap()));
    let relay = Running::start(relay).await;
    for wrong in [None, Some("not-the-key".to_owned())] {
        let e = builder().relay(&relay.url, wrong).build().await.unwrap_err();
        assert!(matches!(&e, Error::Config(m) if m.contains("refused the API key")), "{e}");
        assert!(!e.to_string().contains("not-the-key"), "the key is never echoed: {e}");
    }
    let client = builder().relay(&relay.url, Some(key.clone())).build().await.unwrap();
    let q = klines("BTCUSDT", "1h", NOW - 20 * DAY, NOW - 10 * DAY);
    assert!(!client.klines(&q).await.unwrap().is_empty());
    assert!(!format!("{client:?}").contains(&key), "the key is never printed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_cold_queries_through_a_relay_ask_it_once_per_segment() {
    let sim = sim().await;
    sim.set_delay(Duration::from_millis(20));
    let (relay, _) = relay_and_library(&sim).await;
    let client = builder().relay(&relay.url, None).build().await.unwrap();
    let q = klines("SOLUSDT", "1h", NOW - 200 * DAY, NOW - 10 * DAY);
    let answers =
        futures_util::future::join_all((0..32).map(|_| async { client.klines(&q).await.map(|c| c.len()) }))
            .await;
    assert!(answers
        .iter()
        .all(|a| a.as_ref().is_ok_and(|&n| n == answers[0].as_ref().copied().unwrap_or(0))));
    let segments = cryptocache::segment::plan(
        &cryptocache::SeriesKey {
            source: relay.relay.cache.sources()[0].1.clone(),
            exchange: Exchange::Binance,
            market: Market::Spot,
            kind: cryptocache::DataKind::Klines,
            interval: "1h".parse().unwrap(),
            symbol: "SOLUSDT".into(),
        }
        .into(),
        cryptocache::TimeRange { start: q.start, end: q.end },
        NOW,
    )
    .len() as u64;
    assert_eq!(relay.relay.cache.stats().queries, segments, "one segment request per segment");
}

/// A proxy in front of `relay` that damages the body of the first `damaged` segment
/// answers (one byte flipped); returns its URL.
async fn damaging_proxy(relay: &str, damaged: usize) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let relay = relay.to_owned();
    let left = Arc::new(AtomicUsize::new(damaged));
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let (relay, left, client) = (relay.clone(), Arc::clone(&left), client.clone());
        async move {
            let answer = client.get(format!("{relay}{uri}")).send().await.unwrap();
            let status = answer.status().as_u16();
            let headers: Vec<(String, String)> = answer
                .headers()
                .iter()
                .filter(|(k, _)| *k == "content-type" || *k == "x-cryptocache-source")
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
                .collect();
            let mut body = answer.bytes().await.unwrap().to_vec();
            let damage = uri.path().starts_with("/v1/segments/")
                && left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
            if damage {
                let middle = body.len() / 2;
                body[middle] ^= 0x55;
            }
            let mut response = axum::response::Response::new(axum::body::Body::from(body));
            *response.status_mut() = axum::http::StatusCode::from_u16(status).unwrap();
            for (k, v) in headers {
                response.headers_mut().insert(
                    axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    axum::http::HeaderValue::from_str(&v).unwrap(),
                );
            }
            response
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_segment_damaged_in_transit_is_fetched_again_and_never_kept() {
    let sim = sim().await;
    let (relay, library) = relay_and_library(&sim).await;
    let q = klines("BTCUSDT", "1d", NOW - 600 * DAY, NOW - 400 * DAY);
    // Damaged once: verified, refused, fetched again; the values are right.
    let once = damaging_proxy(&relay.url, 1).await;
    let client = builder().relay(&once, None).build().await.unwrap();
    assert_eq!(client.klines(&q).await.unwrap().to_columns(), library.klines(&q).await.unwrap().to_columns());
    assert_eq!(client.stats().upstream.retries, 1, "one refetch");
    // Damaged every time: MALFORMED_RESPONSE once the retries are spent, nothing kept.
    let always = damaging_proxy(&relay.url, usize::MAX).await;
    let retry = cryptocache::exchange::RetryPolicy { max_retries: 2, ..Default::default() };
    let client = builder().relay(&always, None).retry(retry).build().await.unwrap();
    let e = client.klines(&q).await.unwrap_err();
    assert!(matches!(&e, Error::MalformedResponse { message, .. } if message.contains("checksum")), "{e}");
    assert_eq!(client.stats().upstream.retries, 2);
    assert_eq!(client.stats().tiers.iter().map(|t| t.writes).sum::<u64>(), 0, "nothing kept");
}
