//! Sharing through Redis between separate OS processes (the `cryptocache` binary),
//! against real `redis-server` / Redis Cluster processes and the simulator over HTTP.

use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use cryptocache_sim::redis_server::{redis_available, RedisCluster, RedisOptions, RedisServer};
use cryptocache_sim::{Sim, SimConfig};

const NOW: i64 = 1_717_245_000_000; // 2024-06-01T12:30:00Z

fn cryptocache(args: &[String]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_cryptocache"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs")
}

fn finish(child: Child) -> Output {
    let out = child.wait_with_output().expect("process ends");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn kline_requests(sim: &Sim) -> u64 {
    let s = sim.stats();
    ["/api/v3/klines", "/fapi/v1/klines"].iter().map(|p| s.endpoints.get(*p).copied().unwrap_or(0)).sum()
}

/// Process A fetches; process B (new memory, no disk) gets it with zero upstream requests.
fn process_b_reads_what_process_a_fetched(sim: &Sim, redis: &str) {
    let fetch = |from: &str| {
        let mut a =
            args(&["fetch", "binance", "BTCUSDT", "1h", "--from", from, "--to", "2024-05-01", "--no-disk"]);
        a.extend(args(&["--redis", redis, "--exchange-url", &sim.url(), "--archives", "off"]));
        finish(cryptocache(&a))
    };
    let a = fetch("2024-01-01");
    assert!(
        String::from_utf8_lossy(&a.stderr).contains("2904 candles"),
        "{}",
        String::from_utf8_lossy(&a.stderr)
    );
    let before = sim.stats().total;
    let b = fetch("2024-01-01");
    let stderr = String::from_utf8_lossy(&b.stderr);
    assert!(stderr.contains("2904 candles") && stderr.contains("; 0 upstream requests"), "{stderr}");
    assert_eq!(sim.stats().total, before);
}

/// 4 processes × 16 concurrent tasks, all cold on one range: each segment fetched once.
fn four_processes_fetch_each_segment_once(sim: &Sim, redis: &str, dir: &std::path::Path) {
    let entry = "[[series]]\nexchange = \"binance\"\nsymbol = \"ETHUSDT\"\nwhat = \"15m\"\nfrom = \"2024-02-01\"\nto = \"2024-03-15\"\n";
    let list = dir.join("watchlist.toml");
    std::fs::write(&list, entry.repeat(16)).unwrap();
    sim.set_delay(Duration::from_millis(40));
    let before = kline_requests(sim);
    let children: Vec<Child> = (0..4)
        .map(|_| {
            let mut a = args(&["warm", list.to_str().unwrap(), "--concurrency", "16", "--no-disk"]);
            a.extend(args(&["--redis", redis, "--exchange-url", &sim.url(), "--archives", "off"]));
            cryptocache(&a)
        })
        .collect();
    for child in children {
        finish(child);
    }
    sim.set_delay(Duration::ZERO);
    // 2024-02-01 → 2024-03-15 in 15m candles: 4128 candles over segments of 1000.
    let (start, end, seg) = (1_706_745_600_000i64, 1_710_460_800_000i64, 15 * 60_000 * 1000i64);
    let segments = ((end - 1) / seg - start / seg + 1) as u64;
    assert_eq!(kline_requests(sim) - before, segments, "each segment fetched once by all 64 tasks");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_share_one_redis() {
    assert!(redis_available(), "redis-server is not installed (CI installs it)");
    let sim = Sim::start(SimConfig { now_ms: Some(NOW), ..SimConfig::default() }).await.unwrap();
    let redis = RedisServer::start(RedisOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (sim_ref, url, path) = (&sim, redis.url(), dir.path().to_path_buf());
    tokio::task::block_in_place(|| {
        process_b_reads_what_process_a_fetched(sim_ref, &url);
        four_processes_fetch_each_segment_once(sim_ref, &url, &path);
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_share_one_redis_cluster() {
    assert!(redis_available(), "redis-server is not installed (CI installs it)");
    let sim = Sim::start(SimConfig { now_ms: Some(NOW), ..SimConfig::default() }).await.unwrap();
    let cluster = RedisCluster::start(3).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (sim_ref, url, path) = (&sim, cluster.url(), dir.path().to_path_buf());
    tokio::task::block_in_place(|| {
        process_b_reads_what_process_a_fetched(sim_ref, &url);
        four_processes_fetch_each_segment_once(sim_ref, &url, &path);
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_stay_under_one_shared_weight_budget() {
    assert!(redis_available(), "redis-server is not installed (CI installs it)");
    // The simulated exchange allows 40 USD-M weight per 2 s window; so does each process.
    let window = Duration::from_secs(2);
    let config =
        SimConfig { now_ms: Some(NOW), um_weight_limit: 40, weight_window: window, ..SimConfig::default() };
    let sim = Sim::start(config).await.unwrap();
    let redis = RedisServer::start(RedisOptions::default()).unwrap();
    let url = sim.url();
    let redis_url = redis.url();
    // Four processes, four different cold ranges of 3 segments each (weight 5 a request).
    let children: Vec<Child> = ["2023-01-01", "2023-03-01", "2023-05-01", "2023-07-01"]
        .iter()
        .map(|from| {
            let to = format!("{}-28", &from[..7]);
            let mut a = args(&[
                "fetch", "binance", "BTCUSDT", "1h", "--market", "linear", "--from", from, "--to", &to,
            ]);
            a.extend(args(&[
                "--no-disk",
                "--redis",
                &redis_url,
                "--exchange-url",
                &url,
                "--archives",
                "off",
            ]));
            a.extend(args(&["--weight-limit", "40", "--weight-window-secs", "2"]));
            cryptocache(&a)
        })
        .collect();
    tokio::task::block_in_place(|| children.into_iter().for_each(|c| drop(finish(c))));
    let stats = sim.stats();
    assert_eq!(stats.rate_limited, 0, "the exchange never had to throttle the fleet: {stats:?}");
    assert_eq!(stats.statuses.get(&429).copied().unwrap_or(0), 0);
    let peak = stats.max_window_weight.get("binance-um").copied().unwrap_or(0);
    assert!(peak <= 40, "peak window weight {peak} over the budget: {stats:?}");
    assert!(peak > 20, "the processes did share the windows (peak {peak})");
}

/// `GET path` from a server at `addr`: the raw HTTP answer.
fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalidation_by_one_process_reaches_another_within_a_second() {
    use std::io::BufRead;
    assert!(redis_available(), "redis-server is not installed (CI installs it)");
    let sim = Sim::start(SimConfig { now_ms: Some(NOW), ..SimConfig::default() }).await.unwrap();
    let redis = RedisServer::start(RedisOptions::default()).unwrap();
    let url = redis.url();
    // Process A: a relay holding the day in its memory tier (and in the shared Redis).
    let mut relay = Command::new(env!("CARGO_BIN_EXE_cryptocache"))
        .args([
            "serve",
            "--port",
            "0",
            "--no-disk",
            "--archives",
            "off",
            "--redis",
            &url,
            "--exchange-url",
            &sim.url(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(relay.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let addr = first.trim().trim_start_matches("http://").to_owned();
    let day =
        "/v1/klines?exchange=binance&symbol=BTCUSDT&interval=1h&start=2024-01-01&end=2024-01-02&format=csv";
    tokio::task::block_in_place(|| {
        assert!(http_get(&addr, day).starts_with("HTTP/1.1 200"));
        let warm = kline_requests(&sim);
        assert!(http_get(&addr, day).starts_with("HTTP/1.1 200"));
        assert_eq!(kline_requests(&sim), warm, "process A answers from memory");
        // Process B drops the day from every tier and tells every process on the Redis.
        let mut a =
            args(&["invalidate", "binance", "BTCUSDT", "1h", "--from", "2024-01-01", "--to", "2024-01-02"]);
        a.extend(args(&["--redis", &url, "--exchange-url", &sim.url(), "--no-disk"]));
        finish(cryptocache(&a));
        let dropped = std::time::Instant::now();
        // Within a second, process A no longer serves its old copy: it asks the exchange.
        loop {
            assert!(http_get(&addr, day).starts_with("HTTP/1.1 200"));
            if kline_requests(&sim) > warm {
                break;
            }
            assert!(
                dropped.elapsed() < Duration::from_secs(1),
                "process A still served the invalidated day after 1 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let _ = relay.kill();
    let _ = relay.wait();
}
