//! Crash consistency: `cryptocache fetch` processes filling the disk tier (and, every
//! other time, Redis) are killed with SIGKILL at random moments, 50 times. Afterwards
//! every value either tier holds decodes and equals the simulator's candles for the span
//! it claims (whole, or the covered part of a partial segment) — nothing corrupt, torn or
//! partial read as whole — and a final fetch returns exactly the simulator's data.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use cryptocache_sim::redis_server::{redis_available, RedisOptions, RedisServer};
use cryptocache_sim::{binance_klines, BinanceMarket, Sim, SimConfig};

const NOW: i64 = 1_717_245_000_000; // 2024-06-01T12:30:00Z
const FROM: i64 = 1_704_067_200_000; // 2024-01-01
const TO: i64 = 1_706_745_600_000; // 2024-02-01
const MINUTE: i64 = 60_000;
const KILLS: u64 = 50;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cryptocache"))
}

/// A small deterministic generator (xorshift64*): the same kill schedule every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// Segment values in Redis (keys ending in a segment number).
fn redis_values(redis: &RedisServer) -> usize {
    let keys = redis.cli(&["KEYS", "cc:v2:*"]).unwrap_or_default();
    keys.lines().filter(|k| k.rsplit(':').next().is_some_and(|t| t.parse::<i64>().is_ok())).count()
}

/// Segment files (`*.seg`) under `dir`.
fn segment_files(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let count = |e: std::fs::DirEntry| match e.path() {
        p if p.is_dir() => segment_files(&p),
        p => u64::from(p.extension().is_some_and(|x| x == "seg")),
    };
    entries.flatten().map(count).sum()
}

/// The coverage report of the whole month, from the tiers `tier_args` name.
fn coverage(url: &str, tier_args: &[&str]) -> Vec<serde_json::Value> {
    let (from, to) = (FROM.to_string(), TO.to_string());
    let out = bin()
        .args(["coverage", "binance", "BTCUSDT", "1m", "--from", &from, "--to", &to, "--json"])
        .args(["--exchange-url", url, "--archives", "off"])
        .args(tier_args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    report["segments"].as_array().unwrap().clone()
}

/// Every segment the report shows as held: its rows are the simulator's for the part it
/// holds. Returns how many segments are held.
fn held_values_are_exact(segments: &[serde_json::Value], what: &str) -> u64 {
    let mut held = 0;
    for s in segments {
        let status = s["status"].as_str().unwrap();
        let part = match status {
            "missing" => continue,
            "cached" | "known_empty" => &s["span"],
            "partial" => &s["covered"],
            other => panic!("{what}: unexpected status {other} for a closed month: {s}"),
        };
        let (start, end) = (part["start"].as_i64().unwrap(), part["end"].as_i64().unwrap());
        let want = binance_klines(BinanceMarket::Spot, "BTCUSDT", "1m", start, end, NOW).unwrap();
        assert_eq!(s["rows"].as_u64().unwrap(), want.len() as u64, "{what}: {s}");
        held += 1;
    }
    held
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_killed_at_random_moments_leave_only_whole_exact_values() {
    assert!(redis_available(), "redis-server is not installed");
    let sim = Sim::start(SimConfig { now_ms: Some(NOW), ..SimConfig::default() }).await.unwrap();
    // 40 ms a request (a process takes 100 ms or more), so that most kills land while
    // it fetches and writes.
    sim.set_delay(Duration::from_millis(40));
    let redis = RedisServer::start(RedisOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("cache");
    let disk = disk.to_str().unwrap();
    let (url, redis_url) = (sim.url(), redis.url());
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut finished = 0;
    let mut round = 0;
    // At least KILLS rounds, and more (up to 3 × KILLS) until both tiers hold something:
    // on a loaded machine no Redis round may store anything within 150 ms, so each
    // extra round waits longer before its kill.
    while round < KILLS
        || (round < 3 * KILLS && (segment_files(Path::new(disk)) == 0 || redis_values(&redis) == 0))
    {
        // A random range of the month (a few minutes to two weeks): short ones are
        // partial segments on disk, long ones many whole segments.
        let minutes = ((TO - FROM) / MINUTE) as u64;
        let len = 1 + rng.below(if round % 3 == 0 { 20_000 } else { 400 });
        let start = FROM + rng.below(minutes - len) as i64 * MINUTE;
        let (from, to) = (start.to_string(), (start + len as i64 * MINUTE).to_string());
        let mut fetch = bin();
        fetch.args(["fetch", "binance", "BTCUSDT", "1m", "--from", &from, "--to", &to]);
        fetch.args(["--exchange-url", &url, "--archives", "off", "--disk", disk]);
        if round % 2 == 1 {
            fetch.args(["--redis", &redis_url]);
        }
        let mut child = fetch.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(rng.below(150 + 20 * round.saturating_sub(KILLS))));
        if child.try_wait().unwrap().is_some() {
            finished += 1;
        }
        let _ = child.kill(); // SIGKILL (an error only if it has ended already)
        child.wait().unwrap();
        round += 1;
    }
    eprintln!("{finished} of {round} processes ended before their kill");
    assert!(finished < round / 2, "most processes were killed mid-run ({finished} of {round} ended first)");

    // Disk: every file decodes (a file that does not is reported missing) and is exact.
    let on_disk = segment_files(Path::new(disk));
    let held = held_values_are_exact(&coverage(&url, &["--disk", disk]), "disk");
    assert!(on_disk > 0 && held > 0, "the killed processes stored something");
    assert_eq!(held, on_disk, "every segment file on disk decodes (none torn or corrupt)");
    // Redis: every value decodes and is exact.
    let values = redis_values(&redis);
    let held = held_values_are_exact(&coverage(&url, &["--no-disk", "--redis", &redis_url]), "redis");
    assert!(values > 0, "the killed processes stored something in Redis");
    assert_eq!(held, values as u64, "every Redis value decodes (none torn or corrupt)");

    // A fetch of the whole month over both tiers returns exactly the simulator's candles.
    let (from, to) = (FROM.to_string(), TO.to_string());
    let out = dir.path().join("month.csv");
    let done = bin()
        .args(["fetch", "binance", "BTCUSDT", "1m", "--from", &from, "--to", &to])
        .args(["--exchange-url", &url, "--archives", "off", "--disk", disk, "--redis", &redis_url])
        .args(["-o", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    let body = std::fs::read_to_string(&out).unwrap();
    let want = binance_klines(BinanceMarket::Spot, "BTCUSDT", "1m", FROM, TO, NOW).unwrap();
    let rows: Vec<Vec<&str>> = body.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), want.len());
    for (row, w) in rows.iter().zip(&want) {
        assert_eq!(row[0].parse::<i64>().unwrap(), w.open_time);
        let close: f64 = row[4].parse().unwrap();
        assert_eq!(close.to_bits(), w.close.to_bits(), "close at {}", w.open_time);
    }
}
