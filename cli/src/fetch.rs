//! `cryptocache fetch`: a range of candles through the cache, with a progress bar.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use cryptocache::{time, Exchange, Interval, KlineQuery, Market};
use indicatif::{ProgressBar, ProgressStyle};

use crate::output::{Format, Writer};
use crate::TierArgs;

/// Segments fetched per progress step.
const SEGMENTS_PER_STEP: i64 = 8;

/// Arguments of `fetch`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// Exchange: binance (bybit, okx, deribit are coming).
    exchange: String,
    /// Symbol in the exchange's spelling, e.g. BTCUSDT.
    symbol: String,
    /// Interval: 1s 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M.
    interval: String,
    /// Start (inclusive): YYYY-MM-DD, an ISO date-time, or ms since 1970.
    #[arg(long)]
    from: String,
    /// End (exclusive): YYYY-MM-DD, an ISO date-time, or ms since 1970.
    #[arg(long)]
    to: String,
    /// Market: spot, linear (USD-M futures) or inverse.
    #[arg(long, default_value = "spot")]
    market: String,
    /// Base URL for the exchange (e.g. the simulator's URL).
    #[arg(long, value_name = "URL")]
    exchange_url: Option<String>,
    /// Output file (.csv or .json); standard output (CSV) when absent.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    tiers: TierArgs,
}

/// Runs `fetch`.
pub async fn run(args: FetchArgs) -> Result<(), String> {
    let exchange: Exchange = args.exchange.parse().map_err(|e: cryptocache::Error| e.to_string())?;
    let market: Market = args.market.parse().map_err(|e: cryptocache::Error| e.to_string())?;
    let interval: Interval = args.interval.parse().map_err(|e: cryptocache::Error| e.to_string())?;
    let from = time::parse_time(&args.from).map_err(|e| format!("--from: {e}"))?;
    let to = time::parse_time(&args.to).map_err(|e| format!("--to: {e}"))?;
    let mut builder = args.tiers.builder();
    if let Some(url) = &args.exchange_url {
        builder = builder.exchange_url(url);
    }
    let cache = builder.build().map_err(|e| e.to_string())?;
    // Validates everything (symbol, range, interval) before any output file is created.
    let probe = KlineQuery::new(exchange, &args.symbol, interval, from, to).market(market);
    let format = Format::of(args.output.as_deref())?;
    let sink: Box<dyn Write> = match &args.output {
        Some(path) => {
            Box::new(File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?)
        }
        None => Box::new(io::stdout().lock()),
    };
    let mut out = Writer::new(BufWriter::new(sink), format).map_err(|e| e.to_string())?;

    let step = interval.nominal_ms() * cryptocache::segment::SEGMENT_SLOTS * SEGMENTS_PER_STEP;
    let steps = ((to - from).max(0) + step - 1) / step;
    let bar = progress_bar(steps as u64);
    let started = Instant::now();
    let (mut candles, mut gaps) = (0usize, 0usize);
    let mut start = from;
    loop {
        let end = (start + step).min(to);
        let query = KlineQuery { start, end, ..probe.clone() };
        let part = cache.klines(&query).await.map_err(|e| e.to_string())?;
        out.write(&part).map_err(|e| e.to_string())?;
        candles += part.len();
        gaps += part.gaps().len();
        bar.inc(1);
        start = end;
        if start >= to {
            break;
        }
    }
    out.finish().map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    let stats = cache.stats();
    eprintln!(
        "{candles} candles ({gaps} gap{}) in {:.2?}; {} upstream request{}",
        if gaps == 1 { "" } else { "s" },
        started.elapsed(),
        stats.upstream.requests,
        if stats.upstream.requests == 1 { "" } else { "s" },
    );
    Ok(())
}

fn progress_bar(steps: u64) -> ProgressBar {
    if steps < 2 || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(steps);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {percent}% eta {eta}")
    {
        bar.set_style(style);
    }
    bar
}
