//! `cryptocache demo`: the main job, offline. Starts the exchange simulator in-process
//! (real HTTP on loopback), fetches a year of 1h candles cold, warm, and after a restart.

use std::time::{Duration, Instant};

use clap::Args;
use cryptocache::{time, Cache, Exchange, KlineQuery};
use cryptocache_sim::{Sim, SimConfig};

/// Arguments of `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Symbol to fetch from the simulated Binance spot market.
    #[arg(long, default_value = "BTCUSDT")]
    symbol: String,
    /// Keep the demo's disk cache in this directory instead of a temporary one.
    #[arg(long, value_name = "PATH")]
    disk: Option<std::path::PathBuf>,
}

struct Run {
    label: &'static str,
    candles: usize,
    requests: u64,
    elapsed: Duration,
}

/// Runs the demo.
pub async fn run(args: DemoArgs) -> Result<(), String> {
    let sim =
        Sim::start(SimConfig::default()).await.map_err(|e| format!("cannot start the simulator: {e}"))?;
    let temp = args
        .disk
        .is_none()
        .then(|| std::env::temp_dir().join(format!("cryptocache-demo-{}", std::process::id())));
    let dir = args.disk.clone().or_else(|| temp.clone()).unwrap_or_default();
    let end = sim.now_ms() - sim.now_ms().rem_euclid(time::DAY_MS);
    let start = end - 365 * time::DAY_MS;
    let interval = "1h".parse().map_err(|e: cryptocache::Error| e.to_string())?;
    let query = KlineQuery::new(Exchange::Binance, &args.symbol, interval, start, end);
    println!(
        "cryptocache demo: Binance spot {} 1h, {} → {}",
        args.symbol,
        time::format_time(start),
        time::format_time(end)
    );
    println!("simulator at {}, disk cache at {}\n", sim.url(), dir.display());

    let build = || Cache::builder().exchange_url(sim.url()).disk(&dir).build().map_err(|e| e.to_string());
    let mut runs = Vec::new();
    let cache = build()?;
    for label in ["cold (exchange)", "warm (memory)"] {
        runs.push(timed(label, &cache, &query, &sim).await?);
    }
    drop(cache);
    let restarted = build()?;
    runs.push(timed("restart (disk)", &restarted, &query, &sim).await?);

    println!("{:<18} {:>8} {:>18} {:>12}", "run", "candles", "upstream requests", "time");
    for r in &runs {
        println!("{:<18} {:>8} {:>18} {:>12.3?}", r.label, r.candles, r.requests, r.elapsed);
    }
    let (cold, warm) = (&runs[0], &runs[1]);
    println!(
        "\nwarm is {:.0}× faster than cold and cost {} upstream requests.",
        cold.elapsed.as_secs_f64() / warm.elapsed.as_secs_f64().max(1e-9),
        warm.requests
    );
    if let Some(temp) = temp {
        let _ = std::fs::remove_dir_all(temp);
    }
    sim.shutdown().await;
    Ok(())
}

async fn timed(label: &'static str, cache: &Cache, query: &KlineQuery, sim: &Sim) -> Result<Run, String> {
    let before = sim.stats().total;
    let t0 = Instant::now();
    let candles = cache.klines(query).await.map_err(|e| e.to_string())?;
    let elapsed = t0.elapsed();
    Ok(Run { label, candles: candles.len(), requests: sim.stats().total - before, elapsed })
}
