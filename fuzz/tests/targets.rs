//! Every fuzz target over its corpus (`fuzz/corpus/<target>/`, seeded from the simulator's
//! replies and archive files and from real captures), the inputs fuzzing once broke it
//! (`fuzz/regressions/<target>/`), and a bounded number of seeded mutations of them: a
//! short, reproducible fuzz run on stable Rust, in CI. The coverage-guided runs are
//! cargo-fuzz's (`scripts/fuzz.sh`).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use cryptocache_fuzz::{segment_seeds, write_seeds, TARGETS};

/// Mutated inputs per target (fewer for the C API, whose valid inputs reach the network
/// layer).
fn mutations(target: &str) -> usize {
    match target {
        "c_api_strings" => 1000,
        _ => 15_000,
    }
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// The files of `dir` (none if it does not exist), by name.
fn files(dir: &Path) -> Vec<Vec<u8>> {
    let mut paths: Vec<PathBuf> =
        std::fs::read_dir(dir).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    paths.sort();
    paths.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

/// One random change of `input`: bit flips, byte changes, inserts, deletes, truncation,
/// duplication of a slice, a splice with `other`, or an interesting number.
fn mutate(rng: &mut fastrand::Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..rng.usize(1..=4) {
        let at = rng.usize(0..=out.len());
        match rng.u8(0..8) {
            0 if !out.is_empty() => {
                let i = rng.usize(0..out.len());
                out[i] ^= 1 << rng.u8(0..8);
            }
            1 if !out.is_empty() => {
                let i = rng.usize(0..out.len());
                out[i] = rng.u8(..);
            }
            2 => out.insert(at, *b"0-9.:,[]{}\"eE-+TZ\0".get(rng.usize(0..19)).unwrap_or(&b'0')),
            3 if at < out.len() => {
                let end = (at + rng.usize(1..16)).min(out.len());
                out.drain(at..end);
            }
            4 => out.truncate(at),
            5 if at < out.len() => {
                let end = (at + rng.usize(1..32)).min(out.len());
                let copy = out[at..end].to_vec();
                let to = rng.usize(0..=out.len());
                out.splice(to..to, copy);
            }
            6 if !other.is_empty() => {
                let from = rng.usize(0..other.len());
                let end = (from + rng.usize(1..64)).min(other.len());
                out.splice(at..at, other[from..end].iter().copied());
            }
            _ => {
                let numbers: [&[u8]; 6] =
                    [b"-1", b"18446744073709551616", b"1e309", b"NaN", b"9223372036854775807", b""];
                let n = numbers[rng.usize(0..numbers.len())];
                out.splice(at..at, n.iter().copied());
            }
        }
    }
    out
}

/// Runs `target` on `input`; a panic saves the input under `target/fuzz-failures/`
/// and fails the test naming it.
fn run(name: &str, target: fn(&[u8]), input: &[u8]) {
    if catch_unwind(AssertUnwindSafe(|| target(input))).is_err() {
        let saved = dir().join("../target/fuzz-failures").join(name);
        let _ = std::fs::create_dir_all(&saved);
        let file = saved.join(format!("crash-{:08x}", crc(input)));
        let _ = std::fs::write(&file, input);
        panic!("fuzz target {name} panicked on {} bytes, saved as {}", input.len(), file.display());
    }
}

fn crc(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, &b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

#[test]
fn every_target_survives_its_corpus_regressions_and_mutations() {
    let mut report = Vec::new();
    for (name, target) in TARGETS {
        let mut seeds = files(&dir().join("corpus").join(name));
        if name == "segment_decode" {
            seeds.extend(segment_seeds());
        }
        let regressions = files(&dir().join("regressions").join(name));
        assert!(!seeds.is_empty(), "fuzz/corpus/{name} holds no seed");
        for input in seeds.iter().chain(&regressions) {
            run(name, target, input);
        }
        let mut rng = fastrand::Rng::with_seed(u64::from(crc(name.as_bytes())));
        for _ in 0..mutations(name) {
            let input = &seeds[rng.usize(0..seeds.len())];
            let other = &seeds[rng.usize(0..seeds.len())];
            run(name, target, &mutate(&mut rng, input, other));
        }
        report.push(format!(
            "{name}: {} seeds, {} regressions, {} mutations",
            seeds.len(),
            regressions.len(),
            mutations(name)
        ));
    }
    eprintln!("{}", report.join("\n"));
}

/// `WRITE_SEEDS=1 cargo test -p cryptocache-fuzz` writes the generated segment seeds into
/// the corpus (they are built with the codec, so they follow its format).
#[test]
fn segment_seeds_are_in_the_corpus() {
    let corpus = dir().join("corpus/segment_decode");
    if std::env::var_os("WRITE_SEEDS").is_some() {
        write_seeds(&corpus, &segment_seeds()).expect("corpus writable");
    }
    let stored = files(&corpus);
    for seed in segment_seeds() {
        assert!(stored.contains(&seed), "fuzz/corpus/segment_decode is stale: run with WRITE_SEEDS=1");
    }
}

/// The seeds reach the parsers' conversions, not just their first byte: each reply parser
/// reads its captured reply into at least one row (the mutations start from these).
#[test]
fn every_reply_parser_reads_its_seed() {
    use cryptocache::exchange::{binance, bybit, deribit, okx};
    /// A seed's path in the corpus and the parser that reads it, counting rows.
    type Parser = (&'static str, fn(&[u8]) -> Result<usize, cryptocache::Error>);
    let parsers: [Parser; 16] = [
        ("binance_response/agg_trades_usdm.json", |b| binance::parse_agg_trades(b).map(|v| v.len())),
        ("binance_response/funding_rate_usdm.json", |b| binance::parse_funding(b).map(|v| v.len())),
        ("binance_response/exchange_info_usdm.json", |b| binance::parse_exchange_info(b).map(|v| v.len())),
        ("binance_response/depth_spot.json", |b| binance::parse_depth(b, 0).map(|book| book.bids.len())),
        ("bybit_response/funding_history_linear.json", |b| bybit::parse_funding(b).map(|v| v.len())),
        ("bybit_response/instruments_info_linear.json", |b| bybit::parse_instruments(b).map(|v| v.len())),
        ("bybit_response/orderbook_linear.json", |b| bybit::parse_order_book(b).map(|book| book.asks.len())),
        ("okx_response/history_trades_spot.json", |b| okx::parse_trades(b).map(|v| v.len())),
        ("okx_response/funding_rate_history_swap.json", |b| okx::parse_funding(b).map(|v| v.len())),
        ("okx_response/books_swap.json", |b| okx::parse_book(b).map(|book| book.bids.len())),
        ("okx_response/instruments_swap.json", |b| okx::parse_instruments(b).map(|v| v.len())),
        ("deribit_response/last_trades_by_time.json", |b| deribit::parse_trades(b).map(|v| v.len())),
        ("deribit_response/funding_rate_history.json", |b| deribit::parse_funding(b).map(|v| v.len())),
        ("deribit_response/order_book.json", |b| deribit::parse_book(b).map(|book| book.asks.len())),
        ("deribit_response/instruments_any.json", |b| deribit::parse_instruments(b).map(|v| v.len())),
        ("deribit_response/chart_data_btc_perpetual_60.json", |b| deribit::parse_chart(b).map(|v| v.len())),
    ];
    for (path, parse) in parsers {
        let seed = std::fs::read(dir().join("corpus").join(path))
            .unwrap_or_else(|e| panic!("fuzz/corpus/{path}: {e}"));
        match parse(&seed) {
            Ok(rows) => assert!(rows > 0, "{path}: parsed, but no rows"),
            Err(e) => panic!("{path}: {e}"),
        }
    }
}
