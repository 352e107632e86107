//! `cryptocache demo`: the main job, offline. Starts the exchange simulator in-process
//! (real HTTP on loopback), fetches a range cold, warm, and after a restart, and prints
//! upstream request counts and timings.

use std::time::{Duration, Instant};

use clap::Args;
use cryptocache::{time, ArchiveMode, Cache, Dataset, Exchange, KlineQuery, RangeQuery};
use cryptocache_sim::{Sim, SimConfig};

use crate::what::What;

/// Arguments of `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Exchange to simulate: binance, bybit, okx or deribit.
    #[arg(long, default_value = "binance")]
    exchange: String,
    /// Symbol [default: BTCUSDT on binance and bybit, BTC-USDT-SWAP on okx, BTC-PERPETUAL on deribit].
    #[arg(long)]
    symbol: Option<String>,
    /// What: an interval (a year of it), `trades` (a day) or `funding` (a year).
    #[arg(long, default_value = "1h")]
    what: String,
    /// Keep the demo's disk cache in this directory instead of a temporary one.
    #[arg(long, value_name = "PATH")]
    disk: Option<std::path::PathBuf>,
}

struct Run {
    label: &'static str,
    records: usize,
    requests: u64,
    elapsed: Duration,
}

/// Runs the demo.
pub async fn run(args: DemoArgs) -> Result<(), String> {
    let exchange: Exchange = args.exchange.parse().map_err(|e: cryptocache::Error| e.to_string())?;
    let what = What::parse(&args.what)?;
    let symbol = args.symbol.clone().unwrap_or_else(|| {
        match (exchange, what) {
            (Exchange::Okx, _) => "BTC-USDT-SWAP",
            (Exchange::Deribit, _) => "BTC-PERPETUAL",
            _ => "BTCUSDT",
        }
        .to_string()
    });
    // Funding needs a perpetual: linear on Binance and Bybit (OKX/Deribit names say so).
    let market =
        matches!((exchange, what), (Exchange::Binance | Exchange::Bybit, What::Range(Dataset::Funding)))
            .then_some(cryptocache::Market::Linear);
    let sim =
        Sim::start(SimConfig::default()).await.map_err(|e| format!("cannot start the simulator: {e}"))?;
    let temp = args
        .disk
        .is_none()
        .then(|| std::env::temp_dir().join(format!("cryptocache-demo-{}", std::process::id())));
    let dir = args.disk.clone().or_else(|| temp.clone()).unwrap_or_default();
    let end = sim.now_ms() - sim.now_ms().rem_euclid(time::DAY_MS);
    let start = end - if what == What::Range(Dataset::Trades) { time::DAY_MS } else { 365 * time::DAY_MS };
    println!(
        "cryptocache demo: {exchange} {symbol} {}, {} → {}",
        args.what,
        time::format_time(start),
        time::format_time(end)
    );
    println!("simulator at {}, disk cache at {}\n", sim.url(), dir.display());

    // The demo measures the tiers against the exchange's API (REST); bulk archives are
    // another upstream, measured by bench/backfill.
    let build = || async {
        let builder = Cache::builder().exchange_url(sim.url()).disk(&dir).archives(ArchiveMode::Off);
        builder.build().await.map_err(|e| e.to_string())
    };
    let fetch = |cache: Cache| {
        let symbol = symbol.clone();
        async move { fetch_once(cache, exchange, market, &symbol, what, start, end).await }
    };
    let mut runs = Vec::new();
    let cache = build().await?;
    for label in ["cold (exchange)", "warm (memory)"] {
        runs.push(timed(label, &sim, fetch(cache.clone())).await?);
    }
    drop(cache);
    runs.push(timed("restart (disk)", &sim, fetch(build().await?)).await?);

    println!("{:<18} {:>8} {:>18} {:>12}", "run", "records", "upstream requests", "time");
    for r in &runs {
        println!("{:<18} {:>8} {:>18} {:>12.3?}", r.label, r.records, r.requests, r.elapsed);
    }
    let (cold, warm) = (&runs[0], &runs[1]);
    println!(
        "\nThe cold run checks the symbol against the exchange's instruments list once, then makes one\n\
         request per 1000 candles. Warm is {:.0}× faster than cold and cost {} upstream requests.",
        cold.elapsed.as_secs_f64() / warm.elapsed.as_secs_f64().max(1e-9),
        warm.requests
    );
    if let Some(temp) = temp {
        let _ = std::fs::remove_dir_all(temp);
    }
    sim.shutdown().await;
    Ok(())
}

async fn timed(
    label: &'static str,
    sim: &Sim,
    work: impl std::future::Future<Output = Result<usize, String>>,
) -> Result<Run, String> {
    let before = sim.stats().total;
    let t0 = Instant::now();
    let records = work.await?;
    let elapsed = t0.elapsed();
    Ok(Run { label, records, requests: sim.stats().total - before, elapsed })
}

/// One fetch of the demo's range; the number of records.
async fn fetch_once(
    cache: Cache,
    exchange: Exchange,
    market: Option<cryptocache::Market>,
    symbol: &str,
    what: What,
    start: i64,
    end: i64,
) -> Result<usize, String> {
    let range = RangeQuery { market, ..RangeQuery::new(exchange, symbol, start, end) };
    match what {
        What::Range(Dataset::Klines(iv)) => {
            let q = KlineQuery { market, ..KlineQuery::new(exchange, symbol, iv, start, end) };
            cache.klines(&q).await.map(|c| c.len())
        }
        What::Range(Dataset::Trades) => cache.trades(&range).await.map(|t| t.len()),
        What::Range(Dataset::Funding) => cache.funding_rates(&range).await.map(|f| f.len()),
        What::Book => Err(cryptocache::Error::InvalidQuery(
            "the demo fetches ranges: pick an interval, trades or funding".into(),
        )),
    }
    .map_err(|e| e.to_string())
}
