//! The `cryptocache` binary end to end: real process, real HTTP to the simulator.

use std::process::{Command, Output};

use cryptocache_sim::{binance_klines, BinanceMarket, Sim, SimConfig};

const NOW: i64 = 1_717_245_000_000; // 2024-06-01T12:30:00Z

fn cryptocache(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cryptocache")).args(args).output().expect("binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_writes_exact_csv_and_json_and_the_second_run_is_free() {
    let sim = Sim::start(SimConfig { now_ms: Some(NOW), ..SimConfig::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("cache");
    let csv = dir.path().join("out.csv");
    let url = sim.url();
    let args = |out: &std::path::Path| {
        [
            "fetch",
            "binance",
            "BTCUSDT",
            "1h",
            "--from",
            "2024-01-01",
            "--to",
            "2024-01-03T12:00:00Z",
            "--exchange-url",
            &url,
            "--disk",
            disk.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]
        .map(String::from)
    };
    let run = |out: &std::path::Path| {
        let a = args(out);
        cryptocache(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let out = run(&csv);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("60 candles"), "{}", text(&out.stderr));
    let body = std::fs::read_to_string(&csv).unwrap();
    let mut lines = body.lines();
    assert_eq!(lines.next(), Some("open_time,open,high,low,close,volume,quote_volume,trades"));
    let want =
        binance_klines(BinanceMarket::Spot, "BTCUSDT", "1h", 1_704_067_200_000, 1_704_283_200_000, NOW)
            .unwrap();
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), want.len());
    for (row, w) in rows.iter().zip(&want) {
        let f: Vec<&str> = row.split(',').collect();
        assert_eq!(f[0].parse::<i64>().unwrap(), w.open_time);
        let values: Vec<f64> = f[1..7].iter().map(|v| v.parse().unwrap()).collect();
        assert_eq!(values, [w.open, w.high, w.low, w.close, w.volume, w.quote_volume]);
        assert_eq!(f[7].parse::<u64>().unwrap(), w.trades);
    }
    let requests = sim.stats().total;

    // Second process, same disk: zero upstream requests; JSON output.
    let json = dir.path().join("out.json");
    let out = run(&json);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("0 upstream requests"), "{}", text(&out.stderr));
    assert_eq!(sim.stats().total, requests);
    let parsed: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let arr = parsed.as_array().unwrap();
    assert_eq!(arr.len(), want.len());
    assert_eq!(arr[0]["open_time"].as_i64(), Some(want[0].open_time));
    assert_eq!(arr[0]["close"].as_f64(), Some(want[0].close));

    // stats lists the series.
    let out = cryptocache(&["stats", "--disk", disk.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("binance:spot:klines:1h:BTCUSDT"), "{}", text(&out.stdout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_fails_with_a_clear_message_and_no_output_file() {
    let sim = Sim::start(SimConfig { now_ms: Some(NOW), ..SimConfig::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("never.csv");
    let base = ["fetch", "binance"];
    for (extra, message) in [
        (vec!["BTCUSDT", "7m", "--from", "2024-01-01", "--to", "2024-01-02"], "no 7m klines"),
        (vec!["BTCUSDT", "1h", "--from", "2024-01-02", "--to", "2024-01-01"], "start must be before end"),
        (vec!["BTCUSDT", "1h", "--from", "yesterday", "--to", "2024-01-01"], "--from: invalid query"),
        (vec!["NOPEUSDT", "1h", "--from", "2024-01-01", "--to", "2024-01-02"], "unknown symbol \"NOPEUSDT\""),
        (
            vec!["BTCUSDT", "1h", "--from", "2024-01-01", "--to", "2024-01-02", "--market", "moon"],
            "unknown market",
        ),
    ] {
        let mut args: Vec<&str> = base.to_vec();
        args.extend(extra);
        let url = sim.url();
        let disk = dir.path().join("c");
        args.extend([
            "--exchange-url",
            &url,
            "--disk",
            disk.to_str().unwrap(),
            "-o",
            out_file.to_str().unwrap(),
        ]);
        let out = cryptocache(&args);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(text(&out.stderr).contains(message), "{args:?}: {}", text(&out.stderr));
    }
    let out = cryptocache(&["fetch", "binance", "BTCUSDT", "1h", "--from", "0", "--to", "1", "-o", "x.xlsx"]);
    assert!(text(&out.stderr).contains("name it .csv, .json, .parquet or .arrow"), "{}", text(&out.stderr));
    assert!(!out_file.exists(), "a failed fetch leaves no output file");
    assert!(std::fs::read_dir(dir.path()).unwrap().all(|e| !e
        .unwrap()
        .path()
        .to_string_lossy()
        .ends_with(".partial")));
}

#[test]
fn demo_runs_offline_and_reports_zero_warm_requests() {
    let dir = tempfile::tempdir().unwrap();
    let out = cryptocache(&["demo", "--disk", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let row = |label: &str| -> Vec<String> {
        let line = stdout.lines().find(|l| l.starts_with(label)).unwrap_or_else(|| panic!("{stdout}"));
        line[label.len()..].split_whitespace().map(String::from).collect()
    };
    // The year's range (printed on the first line) spans 9 or 10 segments depending on
    // today's date: the cold run must cost exactly that many requests.
    let first = stdout.lines().next().unwrap();
    let (from, to) = first.rsplit_once(", ").unwrap().1.split_once(" → ").unwrap();
    let (from, to) =
        (cryptocache::time::parse_time(from).unwrap(), cryptocache::time::parse_time(to).unwrap());
    let series = std::sync::Arc::new(cryptocache::SeriesKey {
        source: cryptocache::source::LIVE.into(),
        exchange: cryptocache::Exchange::Binance,
        market: cryptocache::Market::Spot,
        kind: cryptocache::DataKind::Klines,
        interval: "1h".parse().unwrap(),
        symbol: "BTCUSDT".into(),
    });
    let segments = cryptocache::segment::plan(&series, cryptocache::TimeRange::new(from, to), i64::MAX).len();
    assert_eq!(row("cold (exchange)")[0], "8760");
    // One symbol check against the instruments list, then one request per page of 1000
    // candles (9) or per segment, whichever is fewer (the year touches 9 or 10 segments).
    let pages = 8760_usize.div_ceil(1000);
    assert_eq!(row("cold (exchange)")[1], (segments.min(pages) + 1).to_string());
    assert_eq!(row("warm (memory)")[1], "0");
    assert_eq!(row("restart (disk)")[1], "0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coverage_reports_what_a_fetch_left_in_the_cache() {
    let sim = Sim::start(SimConfig { now_ms: Some(NOW), ..SimConfig::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().to_str().unwrap().to_string();
    let url = sim.url();
    let common = ["--exchange-url", url.as_str(), "--disk", disk.as_str()];
    let mut fetch = vec!["fetch", "binance", "BTCUSDT", "1m", "--from", "2020-02-19", "--to", "2020-02-20"];
    fetch.extend(common);
    // REST alone: archives would store every segment of February's monthly file.
    fetch.extend(["--archives", "off"]);
    let out = cryptocache(&fetch);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("(1 gap)"), "{}", text(&out.stderr));

    let mut coverage =
        vec!["coverage", "binance", "BTCUSDT", "1m", "--from", "2020-02-18", "--to", "2020-02-20"];
    coverage.extend(common);
    let out = cryptocache(&coverage);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("[2020-02-19T11:35:00Z, 2020-02-19T17:30:00Z)"), "{stdout}");
    assert!(stdout.contains("missing"), "the 18th was never fetched: {stdout}");
    assert!(stdout.contains("1 exchange gap(s)"), "{stdout}");

    coverage.push("--json");
    let out = cryptocache(&coverage);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["segments"][0]["status"], "missing");
    assert!(json["segments"].as_array().unwrap().iter().any(|s| s["status"] == "cached"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn funding_older_than_okx_keeps_is_an_error_not_an_empty_answer() {
    let sim = Sim::start(SimConfig { now_ms: Some(NOW), ..SimConfig::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (url, disk) = (sim.url(), dir.path().to_str().unwrap().to_string());
    let out = cryptocache(&[
        "fetch",
        "okx",
        "BTC-USDT-SWAP",
        "funding",
        "--from",
        "2024-01-01",
        "--to",
        "2025-01-01",
        "--exchange-url",
        &url,
        "--disk",
        &disk,
        // REST alone (the archive's files are tested in cli/tests/archives.rs).
        "--archives",
        "off",
    ]);
    assert!(!out.status.success(), "must not print an empty answer and exit 0");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("only from") && stderr.contains("2024-01-01T00:00:00Z"), "{stderr}");
    assert_eq!(sim.stats().total, 0, "nothing asked, nothing cached");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_lists_the_source_namespaces() {
    let sim = Sim::start(SimConfig { now_ms: Some(NOW), ..SimConfig::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (url, disk) = (sim.url(), dir.path().to_str().unwrap().to_string());
    let fetch = |source: Option<&str>| {
        let mut args = vec![
            "fetch",
            "binance",
            "BTCUSDT",
            "1h",
            "--from",
            "2024-01-01",
            "--to",
            "2024-01-02",
            "--exchange-url",
            &url,
            "--disk",
            &disk,
        ];
        if let Some(name) = source {
            args.extend(["--source", name]);
        }
        let out = cryptocache(&args);
        assert!(out.status.success(), "{}", text(&out.stderr));
    };
    fetch(None);
    fetch(Some("staging"));
    let out = cryptocache(&["stats", "--disk", &disk, "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let namespaces: Vec<&str> =
        json["namespaces"].as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
    assert_eq!(namespaces.len(), 2, "{namespaces:?}");
    assert!(namespaces.contains(&"staging") && namespaces.iter().any(|n| n.starts_with("127.0.0.1-")));
    let table = text(&cryptocache(&["stats", "--disk", &disk]).stdout);
    assert!(table.contains("namespaces: ") && table.contains("staging"), "{table}");
    let metrics = text(&cryptocache(&["stats", "--disk", &disk, "--prometheus"]).stdout);
    assert!(metrics.contains("# TYPE cryptocache_disk_bytes gauge"), "{metrics}");
    assert!(
        metrics.lines().any(|l| l.starts_with(
            "cryptocache_disk_segments{source=\"staging\",series=\"binance:spot:klines:1h:BTCUSDT\"} "
        )),
        "{metrics}"
    );

    // `clear --source staging` deletes that namespace only.
    let out = cryptocache(&["clear", "--source", "staging", "--disk", &disk]);
    assert!(out.status.success() && text(&out.stderr).contains("disk 1"), "{}", text(&out.stderr));
    let json: serde_json::Value =
        serde_json::from_slice(&cryptocache(&["stats", "--disk", &disk, "--json"]).stdout).unwrap();
    let namespaces: Vec<&str> =
        json["namespaces"].as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
    assert_eq!(namespaces.len(), 1, "{namespaces:?}");
    assert!(namespaces[0].starts_with("127.0.0.1-"));
    let out = cryptocache(&["clear", "--source", "No Such", "--disk", &disk]);
    assert!(!out.status.success() && text(&out.stderr).contains("not valid"), "{}", text(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_brings_the_disk_tier_under_its_size_least_recently_used_first() {
    let sim = Sim::start(SimConfig { now_ms: Some(NOW), ..SimConfig::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (url, disk) = (sim.url(), dir.path().to_str().unwrap().to_string());
    let fetch = |from: &str, to: &str| {
        let args = ["fetch", "binance", "BTCUSDT", "1m", "--from", from, "--to", to, "--exchange-url", &url];
        let out = cryptocache(&[&args[..], &["--disk", &disk]].concat());
        assert!(out.status.success(), "{}", text(&out.stderr));
        out.stdout
    };
    let bytes = || -> u64 {
        let json: serde_json::Value =
            serde_json::from_slice(&cryptocache(&["stats", "--disk", &disk, "--json"]).stdout).unwrap();
        json["series"].as_array().unwrap().iter().map(|s| s["bytes"].as_u64().unwrap()).sum()
    };
    // ~1.4 MB of 1m segments: January, then February.
    fetch("2024-01-01", "2024-01-25");
    let february = fetch("2024-02-01", "2024-02-25");
    assert!(bytes() > 1 << 20);
    let out = cryptocache(&["prune", "--max-mb", "1", "--disk", &disk]);
    assert!(out.status.success() && text(&out.stderr).contains("removed"), "{}", text(&out.stderr));
    assert!(bytes() <= 1 << 20, "{} bytes left", bytes());
    // February, written last, stays: reading it again asks the exchange nothing.
    sim.reset();
    assert_eq!(fetch("2024-02-01", "2024-02-25"), february);
    assert_eq!(sim.stats().total, 0, "the most recently used segments were kept");
    let out = cryptocache(&["prune", "--max-mb", "x", "--disk", &disk]);
    assert!(!out.status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warm_after_an_hour_long_ban_reports_at_once_instead_of_hanging() {
    let sim = Sim::start(SimConfig { now_ms: Some(NOW), ..SimConfig::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("watchlist.toml");
    let entry = |symbol: &str| {
        format!("[[series]]\nexchange = \"binance\"\nsymbol = \"{symbol}\"\nwhat = \"1h\"\nfrom = \"2024-01-01\"\nto = \"2024-02-01\"\n")
    };
    std::fs::write(&list, entry("BTCUSDT") + &entry("ETHUSDT")).unwrap();
    sim.push_faults(vec![cryptocache_sim::Fault::Status { status: 418, retry_after_secs: Some(3600) }]);
    let url = sim.url();
    let started = std::time::Instant::now();
    let out = cryptocache(&[
        "warm",
        list.to_str().unwrap(),
        "--concurrency",
        "1",
        "--no-disk",
        "--exchange-url",
        &url,
    ]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "no hour-long hang");
    assert!(
        stderr.contains("warmed 0 of 2 series") && stderr.matches("rate limited").count() == 2,
        "{stderr}"
    );
    assert_eq!(sim.stats().total, 1, "nothing sent after the ban");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalidate_makes_the_next_fetch_go_upstream_for_that_range_only() {
    let sim = Sim::start(SimConfig { now_ms: Some(NOW), ..SimConfig::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (url, disk) = (sim.url(), dir.path().to_str().unwrap().to_string());
    // The REST path: archive files would serve this closed range instead.
    let common = ["--exchange-url", url.as_str(), "--disk", disk.as_str(), "--archives", "off"];
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(common);
        let out = cryptocache(&all);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stderr)
    };
    let fetch = ["fetch", "binance", "BTCUSDT", "1h", "--from", "2023-01-01", "--to", "2023-06-01"];
    run(&fetch);
    let klines = || sim.stats().endpoints.get("/api/v3/klines").copied().unwrap_or(0);
    let cold = klines();
    let said = run(&["invalidate", "binance", "BTCUSDT", "1h", "--from", "2023-03-01", "--to", "2023-03-02"]);
    assert!(said.contains("1 segments invalidated"), "{said}");
    run(&fetch);
    assert_eq!(klines() - cold, 1, "only the invalidated segment");
    let said = run(&[
        "invalidate",
        "binance",
        "BTCUSDT",
        "1h",
        "--from",
        "2023-03-01",
        "--to",
        "2023-03-02",
        "--refresh",
    ]);
    assert!(said.contains("24 records refetched"), "{said}");
}

/// `GET path` over a plain TCP connection; the whole response as text.
fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_over_http_and_stops_cleanly_on_sigterm() {
    use std::io::BufRead;
    let sim = Sim::start(SimConfig { now_ms: Some(NOW), ..SimConfig::default() }).await.unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cryptocache"))
        .args(["serve", "--port", "0", "--no-disk", "--exchange-url", &sim.url()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let addr = first.trim().trim_start_matches("http://").to_owned();
    let health = http_get(&addr, "/health");
    assert!(health.starts_with("HTTP/1.1 200") && health.contains("\"status\":\"ok\""), "{health}");
    let csv = http_get(
        &addr,
        "/v1/klines?exchange=binance&symbol=BTCUSDT&interval=1h&start=2024-01-01&end=2024-01-02&format=csv",
    );
    assert!(csv.contains("open_time,open,high,low,close,volume,quote_volume,trades"), "{csv}");
    assert_eq!(csv.lines().filter(|l| l.starts_with("170")).count(), 24, "{csv}");
    // `--relay`: the same rows through the relay, and the exchange is not asked again.
    let exchange_requests = sim.stats().total;
    let relay = format!("http://{addr}");
    let through = cryptocache(&[
        "fetch",
        "binance",
        "BTCUSDT",
        "1h",
        "--from",
        "2024-01-01",
        "--to",
        "2024-01-02",
        "--relay",
        &relay,
        "--no-disk",
    ]);
    assert!(through.status.success(), "{}", text(&through.stderr));
    let body = csv.split("\r\n\r\n").nth(1).unwrap_or_default();
    assert_eq!(text(&through.stdout).lines().collect::<Vec<_>>(), body.lines().collect::<Vec<_>>());
    assert_eq!(sim.stats().total, exchange_requests);
    let both = cryptocache(&[
        "fetch",
        "binance",
        "BTCUSDT",
        "1h",
        "--from",
        "0",
        "--to",
        "1",
        "--relay",
        &relay,
        "--exchange-url",
        &sim.url(),
    ]);
    assert!(
        !both.status.success() && text(&both.stderr).contains("--exchange-url"),
        "{}",
        text(&both.stderr)
    );
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status after SIGTERM: {status}");
    // Without keys, any address but loopback is refused unless --no-auth is given.
    let out = cryptocache(&["serve", "--bind", "0.0.0.0", "--port", "0", "--no-disk"]);
    assert!(!out.status.success() && text(&out.stderr).contains("--no-auth"), "{}", text(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_add_prints_a_key_once_stores_its_hash_and_serve_accepts_it() {
    use std::io::{BufRead, Read, Write};
    let sim = Sim::start(SimConfig { now_ms: Some(NOW), ..SimConfig::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("keys.toml");
    let file_arg = file.to_str().unwrap();
    let added = cryptocache(&["keys", "add", "research", "--file", file_arg, "--requests-per-minute", "100"]);
    assert!(added.status.success(), "{}", text(&added.stderr));
    let key = text(&added.stdout).trim().to_owned();
    assert!(key.starts_with("cc_") && key.len() > 40, "{key}");
    let stored = std::fs::read_to_string(&file).unwrap();
    assert!(!stored.contains(&key[3..]), "the file keeps only the key's hash");
    assert!(stored.contains("research") && stored.contains("requests_per_minute = 100"), "{stored}");
    let again = cryptocache(&["keys", "add", "research", "--file", file_arg]);
    assert!(!again.status.success(), "a name is used once");

    let mut child = Command::new(env!("CARGO_BIN_EXE_cryptocache"))
        .args(["serve", "--port", "0", "--no-disk", "--exchange-url", &sim.url(), "--api-keys", file_arg])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let relay = first.trim().to_owned();
    let addr = relay.trim_start_matches("http://").to_owned();
    let path = "/v1/klines?exchange=binance&symbol=BTCUSDT&interval=1h&start=2024-01-01&end=2024-01-02";
    let with_key = |key: &str| {
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nX-API-Key: {key}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    };
    assert!(http_get(&addr, path).starts_with("HTTP/1.1 401"), "no key");
    assert!(with_key("cc_wrong").starts_with("HTTP/1.1 401"), "a wrong key");
    assert!(with_key(&key).starts_with("HTTP/1.1 200"), "the new key");
    // The CLI as a relay client: the key by flag, or by $CRYPTOCACHE_API_KEY.
    let fetch =
        ["fetch", "binance", "BTCUSDT", "1h", "--from", "2024-01-01", "--to", "2024-01-02", "--no-disk"];
    let by_flag = cryptocache(&[&fetch[..], &["--relay", &relay, "--api-key", &key]].concat());
    assert!(by_flag.status.success(), "{}", text(&by_flag.stderr));
    assert_eq!(text(&by_flag.stdout).lines().filter(|l| l.starts_with("170")).count(), 24);
    let by_env = Command::new(env!("CARGO_BIN_EXE_cryptocache"))
        .args([&fetch[..], &["--relay", &relay]].concat())
        .env("CRYPTOCACHE_API_KEY", &key)
        .output()
        .unwrap();
    assert!(by_env.status.success(), "{}", text(&by_env.stderr));
    assert_eq!(by_env.stdout, by_flag.stdout);
    let keyless = Command::new(env!("CARGO_BIN_EXE_cryptocache"))
        .args([&fetch[..], &["--relay", &relay]].concat())
        .env_remove("CRYPTOCACHE_API_KEY")
        .output()
        .unwrap();
    assert!(!keyless.status.success(), "without a key the relay refuses");
    let logged = {
        let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
        assert!(killed.success());
        child.wait().unwrap();
        let mut err = String::new();
        child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        err
    };
    assert!(!logged.contains(&key[3..]), "the relay never logs a key");
}
