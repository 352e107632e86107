//! Compiles the C and C++ test programs and the examples against the built library
//! (the staticlib cargo built next to this test), runs them against an in-process
//! simulator, and compares what they fetched with the simulator's own data. The C test
//! also runs under valgrind (over a disk tier a native run filled).

mod common;

use std::process::Command;

use common::{compile, manifest_dir, run, start_relay, start_sim, NOW};
use cryptocache_sim::{binance_klines, BinanceMarket, Sim};

const START: i64 = 1_717_027_200_000;
const END: i64 = 1_717_200_000_000;

/// Checks the `K ...` lines against the simulator's candles, exactly.
fn assert_candles_match(stdout: &str) {
    let expected = binance_klines(BinanceMarket::Spot, "BTCUSDT", "1h", START, END - 1, NOW).unwrap();
    let got: Vec<Vec<&str>> =
        stdout.lines().filter_map(|l| l.strip_prefix("K ")).map(|l| l.split(' ').collect()).collect();
    assert_eq!(got.len(), expected.len(), "candle count");
    assert_eq!(got.len(), 48);
    for (row, k) in got.iter().zip(&expected) {
        let f = |i: usize| row[i].parse::<f64>().unwrap();
        assert_eq!(row[0].parse::<i64>().unwrap(), k.open_time);
        assert_eq!((f(1), f(2), f(3), f(4)), (k.open, k.high, k.low, k.close), "prices at {}", k.open_time);
        assert_eq!((f(5), f(6)), (k.volume, k.quote_volume), "volumes at {}", k.open_time);
        assert_eq!(row[7].parse::<u64>().unwrap(), k.trades);
    }
}

fn upstream_after_first(stdout: &str) -> i64 {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("UPSTREAM_AFTER_FIRST "))
        .and_then(|n| n.trim().parse().ok())
        .expect("UPSTREAM_AFTER_FIRST line")
}

/// Kline requests of any upstream: REST pages and (with the default `archives = auto`,
/// for closed history) archive files.
fn klines_requests(sim: &Sim) -> u64 {
    let stats = sim.stats();
    let archive: u64 = stats.endpoints.iter().filter(|(p, _)| p.starts_with("/data/")).map(|(_, n)| n).sum();
    archive + stats.endpoints.get("/api/v3/klines").copied().unwrap_or(0)
}

#[test]
fn c_program_fetches_exact_values_and_then_hits_the_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let exe = tmp.path().join("test_cryptocache");
    compile(&[manifest_dir().join("tests/c/test_cryptocache.c")], false, &exe);
    let disk = tmp.path().join("disk");
    let sim = start_sim();
    let url = sim.url();

    let before = klines_requests(&sim);
    let (stdout, _) = run({
        let mut c = Command::new(&exe);
        c.arg(&url).arg(&disk).arg("50");
        c
    });
    assert!(stdout.contains("\nOK"), "{stdout}");
    assert_candles_match(&stdout);
    assert!(upstream_after_first(&stdout) > 0, "the first run fetches from the exchange");
    assert!(klines_requests(&sim) > before);
    for status in ["INVALID_ARGUMENT", "INVALID_QUERY", "UNKNOWN_SYMBOL", "PANIC"] {
        assert!(stdout.contains(&format!("E CC_STATUS_{status} ")), "{status} not seen:\n{stdout}");
    }

    // A second process on the same disk directory: the candles come from disk.
    let before = klines_requests(&sim);
    let (stdout, _) = run({
        let mut c = Command::new(&exe);
        c.arg(&url).arg(&disk).arg("5");
        c
    });
    assert_candles_match(&stdout);
    assert_eq!(klines_requests(&sim), before, "no candle request on the second run");
}

#[test]
fn c_program_through_a_relay_gets_the_same_values_and_never_calls_the_exchange_itself() {
    let tmp = tempfile::tempdir().unwrap();
    let exe = tmp.path().join("test_cryptocache");
    compile(&[manifest_dir().join("tests/c/test_cryptocache.c")], false, &exe);
    let sim = start_sim();
    let relay = start_relay(&sim.url());
    let through = |disk: &str| {
        let mut c = Command::new(&exe);
        c.env("CC_TEST_RELAY", "1").arg(&relay).arg(tmp.path().join(disk)).arg("5").arg("nofork");
        run(c).0
    };
    // The whole program (values, trades, funding, book, typed errors) through the relay.
    let stdout = through("disk-a");
    assert!(stdout.contains("\nOK"), "{stdout}");
    assert_candles_match(&stdout);
    assert!(stdout.contains("E CC_STATUS_UNKNOWN_SYMBOL "), "the relay's error, typed:\n{stdout}");
    // Another process through the same relay: the exchange is not asked again for history
    // (order books are live: the relay keeps one for a second; and the relay checks the
    // program's unknown symbol again, as unknown symbols are not remembered).
    let history = |sim: &Sim| -> std::collections::BTreeMap<String, u64> {
        sim.stats()
            .endpoints
            .into_iter()
            .filter(|(path, _)| !path.contains("depth") && !path.contains("exchangeInfo"))
            .collect()
    };
    let before = history(&sim);
    assert_candles_match(&through("disk-b"));
    assert_eq!(history(&sim), before, "no exchange request for history");
}

#[test]
fn cpp_program_fetches_exact_values_and_maps_errors_to_exceptions() {
    let tmp = tempfile::tempdir().unwrap();
    let exe = tmp.path().join("test_cryptocache_cpp");
    compile(&[manifest_dir().join("tests/c/test_cryptocache.cpp")], true, &exe);
    let sim = start_sim();
    let (stdout, _) = run({
        let mut c = Command::new(&exe);
        c.arg(sim.url()).arg(tmp.path().join("disk"));
        c
    });
    assert!(stdout.contains("\nOK"), "{stdout}");
    assert_candles_match(&stdout);
    assert!(stdout.contains("E CC_STATUS_CONFIG_ERROR: "), "{stdout}");
}

#[test]
fn examples_compile_and_print_what_they_fetched() {
    let tmp = tempfile::tempdir().unwrap();
    let sim = start_sim();
    for (source, cpp) in [("examples/klines.c", false), ("examples/klines.cpp", true)] {
        let exe = tmp.path().join(if cpp { "klines_cpp" } else { "klines_c" });
        compile(&[manifest_dir().join(source)], cpp, &exe);
        let (stdout, _) = run({
            let mut c = Command::new(&exe);
            c.arg(sim.url());
            c
        });
        assert!(stdout.contains("24 candles of BTCUSDT 1h"), "{source}:\n{stdout}");
        assert!(stdout.contains("stats {"), "{source}:\n{stdout}");
    }
}

/// The C test under valgrind, over a warm disk tier: no invalid access, no definite leak. Memory that stays
/// reachable at exit is not reported as an error: the process-wide tokio runtime (and
/// its worker threads), reqwest's connection pool and rustls' crypto provider live in
/// statics by design and are never torn down.
#[test]
fn c_program_is_clean_under_valgrind() {
    if Command::new("valgrind").arg("--version").output().is_err() {
        eprintln!("SKIPPED: valgrind is not installed (apt-get install valgrind)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let exe = tmp.path().join("test_cryptocache");
    compile(&[manifest_dir().join("tests/c/test_cryptocache.c")], false, &exe);
    let sim = start_sim();
    // A native run fills the disk tier first: under valgrind, fetching and parsing a
    // day of trades took minutes. The valgrind run then makes every C API call over
    // cached values (the order book and the symbol check still go upstream).
    let disk = tmp.path().join("disk");
    run({
        let mut c = Command::new(&exe);
        c.arg(sim.url()).arg(&disk).args(["5", "nofork"]);
        c
    });
    let (stdout, output) = run({
        let mut c = Command::new("valgrind");
        c.args([
            "--leak-check=full",
            "--errors-for-leak-kinds=definite",
            "--show-leak-kinds=definite",
            "--error-exitcode=99",
            "--child-silent-after-fork=yes",
        ])
        .arg(&exe)
        .arg(sim.url())
        .arg(&disk)
        .args(["5", "nofork"]);
        c
    });
    assert!(stdout.contains("\nOK"), "{stdout}");
    assert_eq!(upstream_after_first(&stdout), 0, "the valgrind run read the disk tier");
    let stderr = String::from_utf8_lossy(&output.stderr);
    // The summary, for the test log (`--nocapture`).
    for line in stderr
        .lines()
        .filter(|l| l.contains("lost:") || l.contains("reachable:") || l.contains("ERROR SUMMARY"))
    {
        println!("{line}");
    }
    assert!(stderr.contains("ERROR SUMMARY: 0 errors"), "{stderr}");
    assert!(!stderr.contains("definitely lost") || stderr.contains("definitely lost: 0 bytes"), "{stderr}");
    assert!(!stderr.contains("Invalid read") && !stderr.contains("Invalid write"), "{stderr}");
}
