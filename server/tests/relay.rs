//! The relay over real HTTP on loopback, in front of the simulator (and a real Redis for
//! two relays): values equal the library's, raw segments with ETags, auth and quotas,
//! JSON errors for hostile input, metrics, graceful shutdown.

use std::sync::Arc;
use std::time::Duration;

use cryptocache::columns::ToBatch;
use cryptocache::{Cache, Exchange, KlineQuery, ManualClock, Policy};
use cryptocache_server::auth::{Keys, KeysFile};
use cryptocache_server::{router, serve, Limits, Relay};
use cryptocache_sim::redis_server::{redis_available, RedisOptions, RedisServer};
use cryptocache_sim::{Sim, SimConfig};
use serde_json::Value;

/// 2024-06-01T12:30:00Z: the simulator's and the caches' "now".
const NOW: i64 = 1_717_245_000_000;
const DAY: i64 = 86_400_000;

struct Running {
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    async fn start(relay: Relay) -> Running {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = router(Arc::new(relay));
        let shutdown = async move {
            let _ = stopped.await;
        };
        let done = tokio::spawn(serve(listener, app, shutdown, Duration::from_secs(5)));
        Running { url, stop: Some(stop), done }
    }

    async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.done.await.unwrap()
    }
}

async fn cache(sim: &Sim, redis: Option<&str>) -> Cache {
    let mut b = Cache::builder()
        .exchange_url(sim.url())
        .no_disk()
        .clock(Arc::new(ManualClock::new(NOW)))
        .policy(Policy { jitter: Duration::ZERO, ..Policy::default() })
        .prefetch(0)
        // Request counts below are of the REST path; archives are tested in core.
        .archives(cryptocache::ArchiveMode::Off);
    if let Some(url) = redis {
        b = b.redis(url);
    }
    b.build().await.unwrap()
}

async fn sim() -> Sim {
    Sim::start(SimConfig { now_ms: Some(NOW), ..SimConfig::default() }).await.unwrap()
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

async fn get(url: &str) -> reqwest::Response {
    client().get(url).send().await.unwrap()
}

async fn json(url: &str) -> (u16, Value) {
    let r = get(url).await;
    let status = r.status().as_u16();
    (status, body(r).await)
}

async fn body(r: reqwest::Response) -> Value {
    serde_json::from_slice(&r.bytes().await.unwrap()).unwrap_or(Value::Null)
}

const KLINES: &str = "/v1/klines?exchange=binance&symbol=BTCUSDT&interval=1h&start=2024-03-01&end=2024-03-11";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_answers_the_librarys_values() {
    let sim = sim().await;
    let relay = Running::start(Relay::new(cache(&sim, None).await)).await;
    let library = cache(&sim, None).await;
    let q = KlineQuery::new(
        Exchange::Binance,
        "BTCUSDT",
        "1h".parse().unwrap(),
        1_709_251_200_000,
        1_710_115_200_000,
    );
    let want = library.klines(&q).await.unwrap();

    let (status, body) = json(&format!("{}{KLINES}", relay.url)).await;
    assert_eq!(status, 200, "{body}");
    let rows = body["data"].as_array().unwrap();
    assert_eq!(rows.len(), want.len());
    for (row, candle) in rows.iter().zip(want.iter()) {
        assert_eq!(row["open_time"], candle.open_time);
        assert_eq!(row["close"].as_str().unwrap().parse::<f64>().unwrap().to_bits(), candle.close.to_bits());
        assert_eq!(row["close"], candle.close.to_string(), "exact decimal strings");
    }
    assert_eq!((body["interval"].as_str(), body["stale"].as_bool()), (Some("1h"), Some(false)));
    // Where the values came from: the simulator's namespace, never `live`.
    let source = body["source"].as_str().unwrap().to_owned();
    assert!(source.starts_with("127.0.0.1-"), "{source}");

    let csv = get(&format!("{}{KLINES}&format=csv", relay.url)).await.text().await.unwrap();
    let mut want_csv = Vec::new();
    want.to_batch().write_csv(&mut want_csv, true).unwrap();
    assert_eq!(csv.as_bytes(), want_csv, "CSV as the library writes it");

    let arrow = get(&format!("{}{KLINES}&format=arrow", relay.url)).await;
    assert_eq!(arrow.headers()["content-type"], "application/vnd.apache.arrow.stream");
    assert_eq!(arrow.headers()["x-cryptocache-source"], source.as_str());
    let bytes = arrow.bytes().await.unwrap();
    assert_eq!(&bytes[..], cryptocache::arrow_ipc::stream_bytes(&want.to_batch()), "the same Arrow stream");

    // Served from the relay's cache the second time: the exchange is not asked again.
    let before = sim.stats().total;
    assert_eq!(json(&format!("{}{KLINES}", relay.url)).await.0, 200);
    assert_eq!(sim.stats().total, before);

    let base = format!(
        "{}/v1/trades?exchange=binance&symbol=BTCUSDT&start=2024-05-01T00:00&end=2024-05-01T00:10",
        relay.url
    );
    let (status, trades) = json(&base).await;
    let rq = cryptocache::RangeQuery::new(Exchange::Binance, "BTCUSDT", 1_714_521_600_000, 1_714_522_200_000);
    assert_eq!(
        (status, trades["data"].as_array().map(Vec::len)),
        (200, Some(library.trades(&rq).await.unwrap().len()))
    );
    let funding = format!(
        "{}/v1/funding?exchange=binance&symbol=BTCUSDT&market=linear&start=2024-03-01&end=2024-05-01",
        relay.url
    );
    let (status, rates) = json(&funding).await;
    assert!(status == 200 && rates["data"].as_array().is_some_and(|d| !d.is_empty()), "{rates}");
    let (status, book) =
        json(&format!("{}/v1/book?exchange=binance&symbol=BTCUSDT&depth=5", relay.url)).await;
    assert_eq!((status, book["bids"].as_array().map(Vec::len)), (200, Some(5)));
    let coverage = format!(
        "{}/v1/coverage?exchange=binance&symbol=BTCUSDT&what=1h&start=2024-03-01&end=2024-03-11",
        relay.url
    );
    let (status, report) = json(&coverage).await;
    assert_eq!((status, report["segments"][0]["status"].as_str()), (200, Some("cached")), "{report}");
    let (status, health) = json(&format!("{}/health", relay.url)).await;
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
    relay.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn segments_are_raw_with_etags_and_cache_headers() {
    let sim = sim().await;
    let relay = Running::start(Relay::new(cache(&sim, None).await)).await;
    let library = cache(&sim, None).await;
    let seg = 1000 * 3_600_000;
    let closed = (NOW - 100 * DAY) / seg * seg;
    let url = format!("{}/v1/segments/binance/spot/1h/BTCUSDT/{closed}", relay.url);
    let r = get(&url).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(r.headers()["content-type"], "application/vnd.cryptocache.segment");
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let bytes = r.bytes().await.unwrap();
    let want =
        library.segment(Exchange::Binance, None, "BTCUSDT", "1h".parse().unwrap(), closed).await.unwrap();
    let got = cryptocache::codec::decode(&want.key, &bytes).expect("a valid, checksummed segment");
    assert_eq!(got.payload, want.payload);
    let again = client().get(&url).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());
    // The open segment may be cached only until it expires (the next candle close).
    let open = NOW / seg * seg;
    let r = get(&format!("{}/v1/segments/binance/spot/1h/BTCUSDT/{open}", relay.url)).await;
    let control = r.headers()["cache-control"].to_str().unwrap().to_owned();
    let expires = library
        .segment(Exchange::Binance, None, "BTCUSDT", "1h".parse().unwrap(), open)
        .await
        .unwrap()
        .expires_at
        .expect("the open segment expires");
    assert_eq!(control, format!("public, max-age={}", (expires - NOW) / 1000), "until it expires");
    // Not a segment boundary: a JSON error saying where the segment starts.
    let (status, body) =
        json(&format!("{}/v1/segments/binance/spot/1h/BTCUSDT/{}", relay.url, closed + 1)).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("INVALID_QUERY")));
    assert!(body["message"].as_str().unwrap().contains(&closed.to_string()));
    relay.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_quotas_and_revocation() {
    let sim = sim().await;
    let mut file = KeysFile::default();
    let good = file.add("research").unwrap();
    let revoked = file.add("gone").unwrap();
    let narrow = file.add("narrow").unwrap();
    file.keys[0].requests_per_minute = Some(3);
    file.keys[1].revoked = true;
    file.keys[2].max_range_days = Some(9);
    let mut relay = Relay::new(cache(&sim, None).await);
    relay.keys = Some(Keys::new(file));
    let relay = Running::start(relay).await;
    let url = format!("{}{KLINES}", relay.url);
    let with = |name: &'static str, value: String| {
        let url = url.clone();
        async move { client().get(&url).header(name, value).send().await.unwrap() }
    };
    for response in [
        get(&url).await,
        with("x-api-key", "cc_not_a_key".into()).await,
        with("x-api-key", revoked.clone()).await,
        with("authorization", format!("Basic {good}")).await,
    ] {
        assert_eq!(response.status(), 401);
        let body = body(response).await;
        assert_eq!(body["code"], "UNAUTHORIZED");
        assert!(!body.to_string().contains(&good[3..]), "the key is never echoed");
    }
    assert_eq!(with("x-api-key", good.clone()).await.status(), 200);
    assert_eq!(with("authorization", format!("Bearer {good}")).await.status(), 200);
    assert_eq!(with("x-api-key", good.clone()).await.status(), 200);
    // A key's own longest range (9 days; this query asks for 10) applies below the relay's.
    let r = with("x-api-key", narrow.clone()).await;
    assert_eq!(r.status().as_u16(), 413);
    assert_eq!(body(r).await["code"], "RANGE_TOO_LARGE");
    let nine_days = url.replace("end=2024-03-11", "end=2024-03-10");
    let r = client().get(&nine_days).header("x-api-key", narrow).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let over = with("x-api-key", good.clone()).await;
    assert_eq!(over.status(), 429);
    assert!(over.headers().contains_key("retry-after"));
    assert_eq!(body(over).await["code"], "QUOTA_EXCEEDED");
    assert_eq!(get(&format!("{}/health", relay.url)).await.status(), 200, "health needs no key");
    relay.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_parameters_get_json_errors() {
    let sim = sim().await;
    let mut relay = Relay::new(cache(&sim, None).await);
    relay.limits = Limits { max_range: Duration::from_secs(366 * 86_400), ..Limits::default() };
    let relay = Running::start(relay).await;
    let base = "/v1/klines?exchange=binance&symbol=BTCUSDT&interval=1h";
    let long = "A".repeat(5000);
    for (path, status, code) in [
        (format!("{base}&start=2024-01-01&end=2024-01-02").replace("binance", "ftx"), 400, "INVALID_QUERY"),
        (format!("{base}&start=-5&end=10"), 400, "INVALID_QUERY"),
        (format!("{base}&start=2024-01-02&end=2024-01-01"), 400, "INVALID_QUERY"),
        (format!("{base}&start=2010-01-01&end=2024-01-01"), 413, "RANGE_TOO_LARGE"),
        (
            format!("{base}&start=2024-01-01&end=2024-01-02").replace("BTCUSDT", "BTC%20USDT"),
            400,
            "INVALID_QUERY",
        ),
        (
            format!("{base}&start=2024-01-01&end=2024-01-02").replace("BTCUSDT", "NOSUCHCOIN"),
            404,
            "UNKNOWN_SYMBOL",
        ),
        (format!("{base}&start=2024-01-01&end=2024-01-02&format=xml"), 400, "INVALID_QUERY"),
        (format!("{base}&start=2024-01-01&end={long}"), 400, "INVALID_QUERY"),
        ("/v1/klines".to_owned(), 400, "INVALID_QUERY"),
        ("/v2/anything".to_owned(), 404, "NOT_FOUND"),
        ("/v1/segments/binance/spot/1h/BTCUSDT/notanumber".to_owned(), 400, "INVALID_QUERY"),
        (
            "/v1/coverage?exchange=binance&symbol=BTCUSDT&what=1h&start=2024-01-02&end=2024-01-01".to_owned(),
            400,
            "INVALID_QUERY",
        ),
        (
            "/v1/coverage?exchange=binance&symbol=BTCUSDT&what=1h&start=2010-01-01&end=2024-01-01".to_owned(),
            413,
            "RANGE_TOO_LARGE",
        ),
    ] {
        let r = get(&format!("{}{path}", relay.url)).await;
        assert_eq!(r.status().as_u16(), status, "{path}");
        let body = body(r).await;
        assert_eq!(body["code"], code, "{path}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // A method the relay does not answer is a JSON error too.
    let r = client().post(format!("{}{base}", relay.url)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 405);
    assert_eq!(body(r).await["code"], "METHOD_NOT_ALLOWED");
    relay.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_by_route_and_status() {
    let sim = sim().await;
    let relay = Running::start(Relay::new(cache(&sim, None).await)).await;
    get(&format!("{}{KLINES}", relay.url)).await;
    get(&format!("{}/v1/klines?exchange=ftx", relay.url)).await;
    get(&format!("{}/nope/{}", relay.url, "x".repeat(30))).await;
    let text = get(&format!("{}/metrics", relay.url)).await.text().await.unwrap();
    for line in [
        "cryptocache_http_requests_total{route=\"/v1/klines\",status=\"200\"} 1",
        "cryptocache_http_requests_total{route=\"/v1/klines\",status=\"400\"} 1",
        "cryptocache_http_requests_total{route=\"unmatched\",status=\"404\"} 1",
        "cryptocache_http_request_duration_seconds_count{route=\"/v1/klines\"} 2",
        "cryptocache_queries_total 1",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
    }
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        assert!(line.rsplit(' ').next().is_some_and(|v| v.parse::<f64>().is_ok()), "{line}");
    }
    relay.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_requests_in_flight() {
    let sim = sim().await;
    sim.set_delay(Duration::from_millis(400));
    let relay = Running::start(Relay::new(cache(&sim, None).await)).await;
    let url = format!("{}{KLINES}", relay.url);
    let in_flight = tokio::spawn(async move { get(&url).await.status() });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let base = relay.url.clone();
    relay.shutdown().await.unwrap();
    assert_eq!(in_flight.await.unwrap(), 200, "the request in flight was answered");
    assert!(client().get(format!("{base}/health")).send().await.is_err(), "no longer accepting");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_relays_on_one_redis_fetch_each_segment_once() {
    assert!(redis_available(), "redis-server is required (scripts/test.sh installs it)");
    let redis = RedisServer::start(RedisOptions::default()).unwrap();
    let sim = sim().await;
    sim.set_delay(Duration::from_millis(30));
    let a = Running::start(Relay::new(cache(&sim, Some(&redis.url())).await)).await;
    let b = Running::start(Relay::new(cache(&sim, Some(&redis.url())).await)).await;
    // Through A, then from B: B asks the exchange nothing.
    assert_eq!(get(&format!("{}{KLINES}", a.url)).await.status(), 200);
    let before = sim.stats().total;
    assert_eq!(get(&format!("{}{KLINES}", b.url)).await.status(), 200);
    assert_eq!(sim.stats().total, before);
    // 64 concurrent cold requests over both relays: one fetch per segment.
    let kline_requests = || sim.stats().endpoints.get("/api/v3/klines").copied().unwrap_or(0);
    let before = kline_requests();
    let cold = "/v1/klines?exchange=binance&symbol=ETHUSDT&interval=1h&start=2023-01-01&end=2023-06-01";
    let requests = (0..64).map(|i| {
        let url = format!("{}{cold}", if i % 2 == 0 { &a.url } else { &b.url });
        async move { get(&url).await.status().as_u16() }
    });
    let statuses = futures_util::future::join_all(requests).await;
    assert!(statuses.iter().all(|&s| s == 200), "{statuses:?}");
    let seg: i64 = 1000 * 3_600_000;
    let segments = (1_685_577_600_000 - 1) / seg - 1_672_531_200_000 / seg + 1;
    assert_eq!(kline_requests() - before, segments as u64, "one fetch per segment");
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_file_documents_exactly_the_routes() {
    let spec: Value = serde_json::from_str(include_str!("../openapi.json")).unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
    let mut documented: Vec<&str> = spec["paths"].as_object().unwrap().keys().map(String::as_str).collect();
    let mut routes = cryptocache_server::paths::ALL.to_vec();
    documented.sort_unstable();
    routes.sort_unstable();
    assert_eq!(documented, routes);
    // Every documented route is served (a missing route would be a NOT_FOUND error).
    let sim = sim().await;
    let relay = Running::start(Relay::new(cache(&sim, None).await)).await;
    for path in routes {
        let concrete = path
            .replace("{exchange}", "binance")
            .replace("{market}", "spot")
            .replace("{what}", "1h")
            .replace("{symbol}", "BTCUSDT")
            .replace("{start}", "1710000000000");
        let response = get(&format!("{}{concrete}", relay.url)).await;
        let status = response.status().as_u16();
        assert_ne!(body(response).await["code"], "NOT_FOUND", "{path} ({status})");
        let declared = spec["paths"][path]["get"]["parameters"].as_array().map_or(0, Vec::len);
        let takes_none = ["/", "/health", "/metrics", "/v1/sources"].contains(&path);
        assert!(declared > 0 || takes_none, "{path} documents its parameters");
    }
    relay.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_are_compressed_by_accept_encoding() {
    use std::io::Read;
    let sim = sim().await;
    let relay = Running::start(Relay::new(cache(&sim, None).await)).await;
    let url = format!("{}{KLINES}&format=csv", relay.url);
    let plain = get(&url).await.bytes().await.unwrap();
    let fetch = |encoding: &'static str| {
        let url = url.clone();
        async move { client().get(&url).header("accept-encoding", encoding).send().await.unwrap() }
    };
    let gzip = fetch("gzip").await;
    assert_eq!(gzip.headers()["content-encoding"], "gzip");
    let packed = gzip.bytes().await.unwrap();
    let mut unpacked = Vec::new();
    flate2::read::GzDecoder::new(&packed[..]).read_to_end(&mut unpacked).unwrap();
    assert_eq!(unpacked, plain);
    assert!(packed.len() * 2 < plain.len(), "{} -> {}", plain.len(), packed.len());
    let zstd = fetch("zstd").await;
    assert_eq!(zstd.headers()["content-encoding"], "zstd");
    assert_eq!(zstd::decode_all(&zstd.bytes().await.unwrap()[..]).unwrap(), plain);
    // Raw segments go as they are (compact already; a CDN caches them byte for byte).
    let seg = 1000 * 3_600_000;
    let start = (NOW - 100 * DAY) / seg * seg;
    let segment = client()
        .get(format!("{}/v1/segments/binance/spot/1h/BTCUSDT/{start}", relay.url))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert!(!segment.headers().contains_key("content-encoding"));
    relay.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_shaped_endpoints_agree_with_v1_klines() {
    let sim = sim().await;
    let relay = Running::start(Relay::new(cache(&sim, None).await)).await;
    let library = cache(&sim, None).await;
    const HOUR: i64 = 3_600_000;
    let start = 1_709_251_200_000; // 2024-03-01
    let want = library
        .klines(&KlineQuery::new(
            Exchange::Binance,
            "BTCUSDT",
            "1h".parse().unwrap(),
            start,
            start + 200 * HOUR,
        ))
        .await
        .unwrap();
    let seed = |query: String| {
        let url =
            format!("{}/v1/historical/klines?exchange=binance&symbol=BTCUSDT&interval=1h{query}", relay.url);
        async move { json(&url).await }
    };
    // startTime and endTime inclusive on open time, at most `limit` rows from the start.
    let (status, rows) = seed(format!("&startTime={start}&endTime={}&limit=50", start + 99 * HOUR)).await;
    assert_eq!(status, 200, "{rows}");
    let rows = rows.as_array().unwrap().clone();
    assert_eq!(rows.len(), 50);
    for (row, candle) in rows.iter().zip(want.iter()) {
        assert_eq!(row[0], candle.open_time);
        assert_eq!(row[4], candle.close.to_string(), "exact decimal strings");
        assert_eq!(row[5], candle.volume.to_string());
        assert_eq!(row[6], candle.open_time + HOUR - 1, "close time");
        assert_eq!(row[7], candle.quote_volume.to_string());
        assert_eq!(row[8], candle.trades.unwrap());
    }
    // endTime is inclusive: a candle opening exactly at it is included.
    let (_, rows) = seed(format!("&startTime={start}&endTime={}", start + 9 * HOUR)).await;
    assert_eq!(rows.as_array().unwrap().len(), 10);
    // Without startTime: the newest `limit` opening by endTime (default now).
    let end = start + 150 * HOUR;
    let (_, rows) = seed(format!("&endTime={end}&limit=20")).await;
    let opens: Vec<i64> = rows.as_array().unwrap().iter().map(|r| r[0].as_i64().unwrap()).collect();
    assert_eq!(opens, (131..=150).map(|h| start + h * HOUR).collect::<Vec<_>>());
    let (_, rows) = seed("&limit=3".into()).await;
    let last = rows.as_array().unwrap().last().unwrap()[0].as_i64().unwrap();
    assert_eq!(last, NOW - NOW % HOUR, "the newest (open) candle by the relay's clock");
    // Errors are the relay's JSON errors.
    let (status, error) = seed("&limit=0".into()).await;
    assert_eq!((status, error["code"].as_str()), (400, Some("INVALID_QUERY")), "{error}");
    let (status, _) =
        json(&format!("{}/v1/historical/klines?exchange=binance&symbol=BTCUSDT", relay.url)).await;
    assert_eq!(status, 400);

    let (status, depth) =
        json(&format!("{}/v1/historical/orderbook?exchange=binance&symbol=BTCUSDT&limit=5", relay.url)).await;
    let (_, book) = json(&format!("{}/v1/book?exchange=binance&symbol=BTCUSDT&depth=5", relay.url)).await;
    assert_eq!(status, 200, "{depth}");
    assert_eq!((&depth["bids"], &depth["asks"]), (&book["bids"], &book["asks"]));
    assert!(depth["lastUpdateId"].is_i64(), "{depth}");
    relay.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rendered_answers_of_final_ranges_are_kept_until_an_invalidation_anywhere() {
    use cryptocache::invalidate::Invalidation;
    use cryptocache::warm::Dataset;
    assert!(redis_available(), "redis-server is required (scripts/test.sh installs it)");
    let redis = RedisServer::start(RedisOptions::default()).unwrap();
    let sim = sim().await;
    let cache = cache(&sim, Some(&redis.url())).await;
    let relay = Running::start(Relay::new(cache.clone())).await;
    let closed = format!("{}{KLINES}", relay.url);
    let first = get(&closed).await.bytes().await.unwrap();
    let queries = cache.stats().queries;
    // The same final range again: the kept bytes, without asking the cache.
    assert_eq!(get(&closed).await.bytes().await.unwrap(), first);
    assert_eq!(cache.stats().queries, queries, "answered from the kept body");
    // Another process on the same Redis invalidates the range: the relay learns it (pub/sub)
    // and renders again from refetched values.
    let other = self::cache(&sim, Some(&redis.url())).await;
    let hour: Dataset = "1h".parse().unwrap();
    let inv = Invalidation::range(Exchange::Binance, "BTCUSDT", hour, 1_709_251_200_000, 1_710_115_200_000);
    other.invalidate(&inv).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while cache.generation() == 0 {
        assert!(std::time::Instant::now() < deadline, "the invalidation reached the relay");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let exchange = sim.stats().total;
    assert_eq!(get(&closed).await.bytes().await.unwrap(), first, "the same values, refetched");
    assert_eq!(cache.stats().queries, queries + 1, "rendered again");
    assert!(sim.stats().total > exchange, "refetched from the exchange");
    // An answer that reaches the open candle is never kept.
    let open = format!(
        "{}/v1/klines?exchange=binance&symbol=BTCUSDT&interval=1h&start={}&end={}",
        relay.url,
        NOW - 5 * 3_600_000,
        NOW + 1
    );
    get(&open).await.bytes().await.unwrap();
    let queries = cache.stats().queries;
    get(&open).await.bytes().await.unwrap();
    assert_eq!(cache.stats().queries, queries + 1, "open data is asked of the cache every time");
    relay.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relays_on_one_redis_count_a_keys_quota_together() {
    assert!(redis_available(), "redis-server is required (scripts/test.sh installs it)");
    let redis = RedisServer::start(RedisOptions::default()).unwrap();
    let sim = sim().await;
    let mut file = KeysFile::default();
    let key = file.add("team").unwrap();
    file.keys[0].requests_per_minute = Some(3);
    let start = |file: KeysFile| {
        let (sim, redis) = (&sim, redis.url());
        async move {
            let mut relay = Relay::new(cache(sim, Some(&redis)).await);
            relay.keys = Some(Keys::new(file));
            Running::start(relay).await
        }
    };
    let (a, b) = (start(file.clone()).await, start(file).await);
    let ask = |base: &str| {
        let url = format!("{base}{KLINES}");
        let key = key.clone();
        async move { client().get(&url).header("x-api-key", key).send().await.unwrap().status().as_u16() }
    };
    assert_eq!([ask(&a.url).await, ask(&b.url).await, ask(&a.url).await], [200, 200, 200]);
    assert_eq!(ask(&b.url).await, 429, "the fourth request of the minute, whichever relay gets it");
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_or_slow_exchange_is_a_502_or_a_504_and_blocks_nothing_else() {
    let sim = sim().await;
    let mut relay = Relay::new(cache(&sim, None).await);
    relay.limits = Limits { request_timeout: Duration::from_secs(3), ..Limits::default() };
    let relay = Running::start(relay).await;
    let q = |day: u32| {
        format!("{}/v1/klines?exchange=binance&symbol=BTCUSDT&interval=1m&start=2024-02-{day:02}&end=2024-02-{:02}", relay.url, day + 1)
    };
    // The exchange fails in a way not worth retrying (an HTML 404): 502.
    sim.push_faults(vec![cryptocache_sim::Fault::Status { status: 404, retry_after_secs: None }; 2]);
    let r = get(&q(1)).await;
    assert_eq!(r.status().as_u16(), 502);
    assert_eq!(body(r).await["code"], "EXCHANGE_ERROR");

    // The exchange takes 8 s a request: the relay answers 504 at its limit (3 s), and
    // other routes answer meanwhile.
    sim.set_delay(Duration::from_secs(8));
    let slow = tokio::spawn({
        let url = q(2);
        async move {
            let started = std::time::Instant::now();
            let r = get(&url).await;
            (r.status().as_u16(), body(r).await, started.elapsed())
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    assert_eq!(get(&format!("{}/health", relay.url)).await.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(1), "health waited for the slow exchange");
    let (status, answer, took) = slow.await.unwrap();
    assert_eq!(status, 504, "{answer}");
    assert_eq!(answer["code"], "TIMEOUT");
    assert!(
        took < Duration::from_secs(6),
        "answered at the relay's limit, not the exchange's pace: {took:?}"
    );
    sim.set_delay(Duration::ZERO);
    relay.shutdown().await.unwrap();
}
