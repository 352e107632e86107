//! `cryptocache`: fetch candles through the cache, inspect it, run the demo or the
//! exchange simulator.

#![warn(clippy::unwrap_used)]

mod clear;
mod coverage;
mod demo;
mod fetch;
mod invalidate;
mod keys;
mod output;
mod parquet_out;
mod progress;
mod prune;
mod serve;
mod stats;
mod warm;
mod what;

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
    /// Fetch candles, trades or funding rates through the cache (CSV or JSON), or the book now.
    Fetch(fetch::FetchArgs),
    /// Show, segment by segment, what the cache holds for a range (fetches nothing).
    Coverage(coverage::CoverageArgs),
    /// Drop a range (or a whole series) from every tier and from every process's memory
    /// on the same Redis; --refresh refetches it.
    Invalidate(invalidate::InvalidateArgs),
    /// Fill every tier for a watchlist (TOML) up front, with progress.
    Warm(warm::WarmArgs),
    /// Show what the disk cache holds.
    Stats(stats::StatsArgs),
    /// Delete a source namespace (--source NAME) or everything from every tier.
    Clear(clear::ClearArgs),
    /// Remove the least recently used segment files until the disk tier fits --max-mb.
    Prune(prune::PruneArgs),
    /// Run the offline demo: the built-in simulator, a year of 1h candles, cold then warm.
    Demo(demo::DemoArgs),
    /// Serve the cache over HTTP (the relay): every language, machine and browser.
    Serve(serve::ServeArgs),
    /// Manage the relay's API keys.
    Keys(keys::KeysArgs),
    /// Serve the exchange simulator on its own, for programs and tests in any language.
    Sim {
        /// Port to listen on (127.0.0.1); 0 picks a free one.
        #[arg(long, default_value_t = 0)]
        port: u16,
    },
}

/// Which data: exchange, symbol, what, range, market (shared by `fetch` and `coverage`).
#[derive(Debug, Clone, Args)]
pub struct Target {
    /// Exchange: binance, bybit, okx or deribit.
    exchange: String,
    /// Symbol in the exchange's spelling: BTCUSDT (binance, bybit), BTC-USDT-SWAP (okx),
    /// BTC-PERPETUAL (deribit).
    symbol: String,
    /// What: an interval (1m 5m 1h 4h 1d 1w 1M ...), `trades`, `funding` or `book`.
    what: String,
    /// Start (inclusive): YYYY-MM-DD, an ISO date-time, or ms since 1970.
    #[arg(long)]
    from: Option<String>,
    /// End (exclusive): YYYY-MM-DD, an ISO date-time, or ms since 1970.
    #[arg(long)]
    to: Option<String>,
    /// Market: spot, linear or inverse [default: read from the symbol where it names the
    /// market (okx BTC-USDT-SWAP, deribit BTC-PERPETUAL), else spot].
    #[arg(long)]
    market: Option<String>,
}

/// A [`Target`] with its parts read.
#[derive(Debug, Clone)]
pub struct Resolved {
    exchange: cryptocache::Exchange,
    market: Option<cryptocache::Market>,
    symbol: String,
    what: what::What,
    from: Option<i64>,
    to: Option<i64>,
}

impl Target {
    /// Reads exchange, market, what and times.
    pub fn resolve(&self) -> Result<Resolved, String> {
        let err = |e: cryptocache::Error| e.to_string();
        let time = |flag: &str, v: &Option<String>| {
            v.as_deref().map(cryptocache::time::parse_time).transpose().map_err(|e| format!("{flag}: {e}"))
        };
        Ok(Resolved {
            exchange: self.exchange.parse().map_err(err)?,
            market: self.market.as_deref().map(str::parse).transpose().map_err(err)?,
            symbol: self.symbol.clone(),
            what: what::What::parse(&self.what)?,
            from: time("--from", &self.from)?,
            to: time("--to", &self.to)?,
        })
    }
}

impl Resolved {
    /// `--from` and `--to`, both required for ranged data.
    pub fn range(&self) -> Result<(i64, i64), String> {
        match (self.from, self.to) {
            (Some(from), Some(to)) => Ok((from, to)),
            _ => Err("--from and --to are required (--to is exclusive)".into()),
        }
    }
}

/// How to build the cache (shared by every data-reading command).
#[derive(Debug, Clone, Args)]
pub struct CacheArgs {
    /// Disk tier directory [default: $CRYPTOCACHE_DIR or ~/.cache/cryptocache].
    #[arg(long, value_name = "PATH", conflicts_with = "no_disk")]
    disk: Option<PathBuf>,
    /// Use no disk tier.
    #[arg(long)]
    no_disk: bool,
    /// Memory tier size in MiB.
    #[arg(long, default_value_t = cryptocache::DEFAULT_MEMORY_MB, value_name = "MB")]
    memory_mb: u64,
    /// Share a Redis tier (and the exchange rate budget) with other processes:
    /// redis://[user:password@]host:port, rediss://... (TLS), redis+cluster://host:port,host:port
    /// or redis+sentinel://host:port,host:port/mastername.
    #[arg(long, value_name = "URL", env = "CRYPTOCACHE_REDIS", hide_env_values = true)]
    redis: Option<String>,
    /// Base URL for every exchange (e.g. the simulator's URL).
    #[arg(long, value_name = "URL")]
    exchange_url: Option<String>,
    /// Fetch through a cryptocache relay (`cryptocache serve`) instead of the exchanges:
    /// a team shares one cache and one rate budget; no exchange is contacted from here.
    #[arg(long, value_name = "URL", conflicts_with = "exchange_url")]
    relay: Option<String>,
    /// The relay's API key (used only with --relay).
    #[arg(long, value_name = "KEY", env = "CRYPTOCACHE_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Closed history from the exchanges' bulk archives: `auto` (archives first for
    /// history older than two days, REST for the rest and wherever a file is missing or
    /// damaged), `off` (REST only) or `only` (no REST call; what archives lack is a
    /// NOT_ARCHIVED error). Binance klines today (docs/archives.md).
    #[arg(long, value_name = "MODE", default_value = "auto", value_parser = ["auto", "off", "only"])]
    archives: String,
    /// Namespace to store values under [default: `live` for the exchanges' own endpoints,
    /// one derived from --exchange-url otherwise, so simulated data is never served as live].
    #[arg(long, value_name = "NAME")]
    source: Option<String>,
    /// Bound the disk tier to this many MiB: past it, the least recently used segment
    /// files are removed.
    #[arg(long, value_name = "MB")]
    disk_max_mb: Option<u64>,
    /// TTL of closed segments in Redis, in seconds [default: none].
    #[arg(long, value_name = "SECS")]
    redis_ttl: Option<f64>,
    /// Any setting of docs/options.md, e.g. `--set settle_secs=300` (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    settings: Vec<String>,
    /// Binance request weight allowed per window (spot and USD-M) [default: 90 % of Binance's].
    #[arg(long, value_name = "WEIGHT")]
    weight_limit: Option<u32>,
    /// Length of a Binance weight window in seconds [default: 60].
    #[arg(long, value_name = "SECS")]
    weight_window_secs: Option<u64>,
}

impl CacheArgs {
    /// Builds the cache these arguments describe. The CLI reads whole ranges, so
    /// prefetching (which reads ahead of sequential queries) would only fetch past `--to`.
    pub async fn build(&self) -> Result<cryptocache::Cache, String> {
        let mut options = cryptocache::options::CacheOptions::default();
        options.memory_mb = Some(self.memory_mb);
        options.disk_path = self.disk.clone();
        options.no_disk = self.no_disk;
        options.redis_url = self.redis.clone();
        options.exchange_url = self.exchange_url.clone();
        options.relay_url = self.relay.clone();
        options.api_key = self.relay.as_ref().and(self.api_key.clone());
        options.source = self.source.clone();
        options.archives = Some(self.archives.clone());
        options.set("prefetch", 0.0).map_err(|e| e.to_string())?;
        let flags =
            [("disk_max_mb", self.disk_max_mb.map(|mb| mb as f64)), ("redis_ttl_secs", self.redis_ttl)];
        for (name, value) in flags.into_iter().filter_map(|(n, v)| Some((n, v?))) {
            options
                .set(name, value)
                .map_err(|e| format!("--{}: {e}", name.trim_end_matches("_secs").replace('_', "-")))?;
        }
        for setting in &self.settings {
            let parsed = setting
                .split_once('=')
                .and_then(|(name, value)| Some((name.trim(), value.trim().parse().ok()?)));
            let Some((name, value)) = parsed else {
                return Err(format!("--set {setting:?}: expected NAME=NUMBER, e.g. settle_secs=300"));
            };
            options.set(name, value).map_err(|e| format!("--set {setting}: {e}"))?;
        }
        let mut builder = options.builder().map_err(|e| e.to_string())?;
        if self.weight_limit.is_some() || self.weight_window_secs.is_some() {
            let mut binance = cryptocache::exchange::binance::BinanceConfig::default();
            if let Some(url) = &self.exchange_url {
                binance.spot_url = url.clone();
                binance.usdm_url = url.clone();
            }
            if let Some(limit) = self.weight_limit {
                binance.spot_weight_limit = limit;
                binance.usdm_weight_limit = limit;
            }
            if let Some(secs) = self.weight_window_secs {
                binance.weight_window = std::time::Duration::from_secs(secs.max(1));
            }
            builder = builder.binance(binance);
        }
        builder.build().await.map_err(|e| e.to_string())
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
            Command::Coverage(args) => coverage::run(args).await,
            Command::Warm(args) => warm::run(args).await,
            Command::Invalidate(args) => invalidate::run(args).await,
            Command::Stats(args) => stats::run(&args),
            Command::Clear(args) => clear::run(args).await,
            Command::Prune(args) => prune::run(&args),
            Command::Serve(args) => serve::run(args).await,
            Command::Keys(args) => keys::run(args),
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
