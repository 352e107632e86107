//! `cryptocache warm watchlist.toml`: fill every tier for a watchlist, with progress.
//!
//! ```toml
//! [[series]]
//! exchange = "binance"
//! symbol = "BTCUSDT"
//! what = "1h"            # an interval, "trades" or "funding"
//! from = "2024-01-01"
//! to = "2024-06-01"      # exclusive
//! market = "linear"      # optional
//! ```

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use cryptocache::{time, WarmItem};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize;

use crate::CacheArgs;

/// Arguments of `warm`.
#[derive(Debug, Args)]
pub struct WarmArgs {
    /// The watchlist (TOML, `[[series]]` tables).
    watchlist: PathBuf,
    /// Series warmed at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    #[command(flatten)]
    cache: CacheArgs,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Watchlist {
    series: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    exchange: String,
    symbol: String,
    what: String,
    from: String,
    to: String,
    market: Option<String>,
}

/// Reads and checks a watchlist file.
fn read(path: &PathBuf) -> Result<Vec<WarmItem>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let list: Watchlist = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    list.series
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let at = |msg: String| format!("{} series #{}: {msg}", path.display(), i + 1);
            let err = |e: cryptocache::Error| at(e.to_string());
            Ok(WarmItem {
                exchange: e.exchange.parse().map_err(err)?,
                market: e.market.as_deref().map(str::parse).transpose().map_err(err)?,
                symbol: e.symbol.clone(),
                dataset: e.what.parse().map_err(err)?,
                start: time::parse_time(&e.from).map_err(err)?,
                end: time::parse_time(&e.to).map_err(err)?,
            })
        })
        .collect()
}

/// Runs `warm`.
pub async fn run(args: WarmArgs) -> Result<(), String> {
    let items = read(&args.watchlist)?;
    let cache = args.cache.build().await?;
    let bar = if std::io::stderr().is_terminal() { ProgressBar::new(0) } else { ProgressBar::hidden() };
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} steps · {msg}")
    {
        bar.set_style(style);
    }
    let started = Instant::now();
    // One bar for both upstreams: API requests (and their weight) and archive files.
    let progress = |p: cryptocache::WarmProgress| {
        bar.set_length(p.total as u64);
        bar.set_position(p.done as u64);
        bar.set_message(cache.stats().upstream.summary());
    };
    let work = cache.warm(&items, args.concurrency, &progress);
    let report = crate::progress::following_traffic(&cache, &bar, work).await;
    bar.finish_and_clear();
    let stats = cache.stats();
    eprintln!(
        "warmed {} of {} series ({} records) in {:.2?}; {} upstream requests ({})",
        items.len() - report.failures.len(),
        items.len(),
        report.records,
        started.elapsed(),
        stats.upstream.requests,
        stats.upstream.summary()
    );
    for (i, e) in &report.failures {
        eprintln!("  series #{} ({} {}): {e}", i + 1, items[*i].exchange, items[*i].symbol);
    }
    if report.failures.is_empty() {
        Ok(())
    } else {
        Err(format!("{} series failed", report.failures.len()))
    }
}
