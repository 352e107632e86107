//! `cryptocache fetch`: a range of candles through the cache, with a progress bar.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Args;
use cryptocache::{time, Cache, Exchange, Interval, KlineQuery, Market};
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
    /// Market: spot, linear (USD-M futures) or inverse [default: read from the symbol
    /// where it names the market (OKX BTC-USDT-SWAP, Deribit BTC-PERPETUAL), else spot].
    #[arg(long)]
    market: Option<String>,
    /// Base URL for the exchange (e.g. the simulator's URL).
    #[arg(long, value_name = "URL")]
    exchange_url: Option<String>,
    /// Output file (.csv or .json); standard output (CSV) when absent.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    tiers: TierArgs,
}

/// What a fetch produced.
struct Summary {
    candles: usize,
    gaps: usize,
    elapsed: Duration,
}

/// Runs `fetch`.
pub async fn run(args: FetchArgs) -> Result<(), String> {
    let exchange: Exchange = args.exchange.parse().map_err(|e: cryptocache::Error| e.to_string())?;
    let market: Option<Market> =
        args.market.as_deref().map(str::parse).transpose().map_err(|e: cryptocache::Error| e.to_string())?;
    let interval: Interval = args.interval.parse().map_err(|e: cryptocache::Error| e.to_string())?;
    let from = time::parse_time(&args.from).map_err(|e| format!("--from: {e}"))?;
    let to = time::parse_time(&args.to).map_err(|e| format!("--to: {e}"))?;
    let format = Format::of(args.output.as_deref())?;
    let mut builder = args.tiers.builder();
    if let Some(url) = &args.exchange_url {
        builder = builder.exchange_url(url);
    }
    let cache = builder.build().map_err(|e| e.to_string())?;
    let query = KlineQuery { market, ..KlineQuery::new(exchange, &args.symbol, interval, from, to) };

    // A file is written beside its target and renamed into place on success, so a failed
    // fetch never leaves a partial file or clobbers an existing one.
    let summary = match &args.output {
        None => write_all(&cache, &query, Writer::new(BufWriter::new(io::stdout().lock()), format)).await?,
        Some(path) => {
            let partial = path.with_extension(format!("{}.partial", format.extension()));
            let result = write_file(&cache, &query, format, &partial).await;
            match &result {
                Ok(_) => std::fs::rename(&partial, path)
                    .map_err(|e| format!("cannot move {} to {}: {e}", partial.display(), path.display()))?,
                Err(_) => {
                    let _ = std::fs::remove_file(&partial);
                }
            }
            result?
        }
    };
    let requests = cache.stats().upstream.requests;
    eprintln!(
        "{} candles ({} gap{}) in {:.2?}; {requests} upstream request{}",
        summary.candles,
        summary.gaps,
        if summary.gaps == 1 { "" } else { "s" },
        summary.elapsed,
        if requests == 1 { "" } else { "s" },
    );
    Ok(())
}

async fn write_file(
    cache: &Cache,
    query: &KlineQuery,
    format: Format,
    path: &Path,
) -> Result<Summary, String> {
    let file = File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    write_all(cache, query, Writer::new(BufWriter::new(file), format)).await
}

/// Fetches `query`'s range step by step (a few segments each, for the progress bar) and
/// streams the candles to `out`.
async fn write_all<W: Write>(
    cache: &Cache,
    query: &KlineQuery,
    out: io::Result<Writer<W>>,
) -> Result<Summary, String> {
    let mut out = out.map_err(|e| e.to_string())?;
    let (from, to) = (query.start, query.end);
    let step = query.interval.nominal_ms() * cryptocache::segment::SEGMENT_SLOTS * SEGMENTS_PER_STEP;
    let bar = progress_bar(((to - from).max(0) + step - 1) / step);
    let started = Instant::now();
    let (mut candles, mut gaps) = (0, 0);
    let mut start = from;
    loop {
        let end = (start + step).min(to);
        let part =
            cache.klines(&KlineQuery { start, end, ..query.clone() }).await.map_err(|e| e.to_string())?;
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
    Ok(Summary { candles, gaps, elapsed: started.elapsed() })
}

fn progress_bar(steps: i64) -> ProgressBar {
    if steps < 2 || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(steps as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {percent}% eta {eta}")
    {
        bar.set_style(style);
    }
    bar
}
