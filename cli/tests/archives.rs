//! Archive backfills end to end: a process killed with SIGKILL in the middle of a
//! download leaves no partial segment and no partial output file, and a restart resumes
//! from what was stored: the segments, and the bytes of the file it was downloading.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cryptocache_sim::{binance_klines, BinanceMarket, Sim, SimConfig};

const NOW: i64 = 1_717_245_000_000; // 2024-06-01T12:30:00Z
const FROM: i64 = 1_682_899_200_000; // 2023-05-01
const TO: i64 = 1_693_526_400_000; // 2023-09-01 (November's monthly file has a hole: not here)

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cryptocache"))
}

/// Segment files (`*.seg`) under `dir`.
fn segment_files(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let count = |e: std::fs::DirEntry| match e.path() {
        p if p.is_dir() => segment_files(&p),
        p => usize::from(p.extension().is_some_and(|x| x == "seg")),
    };
    entries.flatten().map(count).sum()
}

/// The sizes of the downloads in progress under `disk` (their part files).
fn parts(disk: &Path) -> Vec<u64> {
    let Ok(entries) = std::fs::read_dir(disk.join(".downloads")) else { return Vec::new() };
    let parts = entries.flatten().filter(|e| e.path().extension().is_some_and(|x| x == "part"));
    parts.filter_map(|e| e.metadata().ok()).map(|m| m.len()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_killed_mid_download_resumes_and_caches_nothing_partial() {
    let sim = Sim::start(SimConfig { now_ms: Some(NOW), ..SimConfig::default() }).await.unwrap();
    // A monthly file of 1m candles (~2 MB) takes about two seconds at 1 MB/s.
    sim.set_bandwidth(Some(1_000_000));
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("cache");
    let out = dir.path().join("year.csv");
    let url = sim.url();
    let (from, to) = (FROM.to_string(), TO.to_string());
    let fetch = [
        "fetch",
        "binance",
        "BTCUSDT",
        "1m",
        "--from",
        &from,
        "--to",
        &to,
        "--exchange-url",
        &url,
        "--disk",
        disk.to_str().unwrap(),
        "--archives",
        "only",
        "-o",
        out.to_str().unwrap(),
    ];
    let mut child = bin().args(fetch).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    // Kill it once some of May's segments are on disk, while a later month's file is
    // half downloaded (each takes about two seconds).
    let deadline = Instant::now() + Duration::from_secs(60);
    while segment_files(&disk) < 8 || parts(&disk).iter().sum::<u64>() < 200_000 {
        assert!(Instant::now() < deadline, "nothing stored in time");
        assert!(child.try_wait().unwrap().is_none(), "the fetch ended before it could be killed");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let begun = parts(&disk).iter().filter(|&&len| len > 0).count() as u64;
    assert!(!out.exists(), "no partial output under the final name");

    // Every segment on disk is whole: exactly the simulator's candles of its span.
    let coverage = || {
        let out = bin()
            .args(["coverage", "binance", "BTCUSDT", "1m", "--from", &from, "--to", &to, "--json"])
            .args(["--exchange-url", &url, "--disk", disk.to_str().unwrap(), "--archives", "only"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        report["segments"].as_array().unwrap().clone()
    };
    let segments = coverage();
    let cached: Vec<_> = segments.iter().filter(|s| s["status"] == "cached").collect();
    assert!(
        !cached.is_empty() && cached.len() < segments.len(),
        "killed midway: {} of {}",
        cached.len(),
        segments.len()
    );
    for s in &cached {
        let (start, end) = (s["span"]["start"].as_i64().unwrap(), s["span"]["end"].as_i64().unwrap());
        let want = binance_klines(BinanceMarket::Spot, "BTCUSDT", "1m", start, end, NOW).unwrap();
        assert_eq!(s["rows"].as_u64().unwrap(), want.len() as u64, "segment {start} is whole");
        assert_eq!(s["origin"], "archive");
    }

    // The restart finishes the job and keeps what was stored (not fetched again): the
    // half-downloaded files are resumed from their stored bytes (a 206 reply each).
    // (A part that was already whole when the process died is answered 416 and used.)
    let resumed_so_far = || {
        let statuses = sim.stats().statuses;
        [206, 416].iter().map(|s| statuses.get(s).copied().unwrap_or(0)).sum::<u64>()
    };
    let before = resumed_so_far();
    sim.set_bandwidth(None);
    let again = bin().args(fetch).output().unwrap();
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    let resumed = resumed_so_far() - before;
    eprintln!("statuses after the restart: {:?}", sim.stats().statuses);
    assert_eq!(resumed, begun, "every begun download resumed, none restarted");
    assert!(parts(&disk).is_empty(), "no download left behind");
    let after = coverage();
    assert!(after.iter().all(|s| s["status"] == "cached"), "complete after the restart");
    for s in &cached {
        let same = after.iter().find(|a| a["span"] == s["span"]).expect("the segment is still reported");
        assert_eq!(same["fetched_at"], s["fetched_at"], "kept, not fetched again");
    }
    let body = std::fs::read_to_string(&out).unwrap();
    let want = binance_klines(BinanceMarket::Spot, "BTCUSDT", "1m", FROM, TO, NOW).unwrap();
    let rows: Vec<&str> = body.lines().skip(1).collect();
    assert_eq!(rows.len(), want.len());
    for (row, w) in rows.iter().zip(&want).step_by(997) {
        let fields: Vec<&str> = row.split(',').collect();
        assert_eq!(fields[0].parse::<i64>().unwrap(), w.open_time);
        assert_eq!(
            fields[4].parse::<f64>().unwrap().to_bits(),
            w.close.to_bits(),
            "close at {}",
            w.open_time
        );
    }
}
