//! `cryptocache`: fetch candles through the cache, inspect it, run the demo or the
//! exchange simulator.

#![warn(clippy::unwrap_used)]

mod demo;
mod fetch;
mod output;
mod stats;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// A tiered cache for historical crypto market data.
#[derive(Debug, Parser)]
#[command(name = "cryptocache", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Fetch candles through the cache and write them as CSV or JSON.
    Fetch(fetch::FetchArgs),
    /// Show what the disk cache holds.
    Stats(stats::StatsArgs),
    /// Run the offline demo: the built-in simulator, a year of 1h candles, cold then warm.
    Demo(demo::DemoArgs),
    /// Serve the exchange simulator on its own, for programs and tests in any language.
    Sim {
        /// Port to listen on (127.0.0.1); 0 picks a free one.
        #[arg(long, default_value_t = 0)]
        port: u16,
    },
}

/// Where the cache keeps its tiers (shared by every data-reading command).
#[derive(Debug, Clone, Args)]
pub struct TierArgs {
    /// Disk tier directory [default: $CRYPTOCACHE_DIR or ~/.cache/cryptocache].
    #[arg(long, value_name = "PATH", conflicts_with = "no_disk")]
    disk: Option<PathBuf>,
    /// Use no disk tier (memory only).
    #[arg(long)]
    no_disk: bool,
    /// Memory tier size in MiB.
    #[arg(long, default_value_t = cryptocache::DEFAULT_MEMORY_MB, value_name = "MB")]
    memory_mb: u64,
}

impl TierArgs {
    /// A cache builder with these tiers.
    pub fn builder(&self) -> cryptocache::CacheBuilder {
        let builder = cryptocache::Cache::builder().memory_mb(self.memory_mb);
        match (&self.disk, self.no_disk) {
            (_, true) => builder.no_disk(),
            (Some(dir), false) => builder.disk(dir),
            (None, false) => builder,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Fetch(args) => fetch::run(args).await,
            Command::Stats(args) => stats::run(&args),
            Command::Demo(args) => demo::run(args).await,
            Command::Sim { port } => serve_sim(port).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve_sim(port: u16) -> Result<(), String> {
    let sim = cryptocache_sim::Sim::start_on(cryptocache_sim::SimConfig::default(), port)
        .await
        .map_err(|e| format!("cannot start the simulator on port {port}: {e}"))?;
    println!("{}", sim.url());
    eprintln!("simulator serving Binance spot + USD-M at {} (Ctrl-C to stop)", sim.url());
    tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
    sim.shutdown().await;
    Ok(())
}
