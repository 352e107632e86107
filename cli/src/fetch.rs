//! `cryptocache fetch`: a range of candles, trades or funding rates through the cache
//! (with a progress bar), or the order book now.

use std::fs::File;
use std::future::Future;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use cryptocache::{Cache, Dataset, KlineQuery, OrderBookQuery, RangeQuery};
use indicatif::{ProgressBar, ProgressStyle};

use crate::output::{Format, Records, Writer};
use crate::what::What;
use crate::{CacheArgs, Target};

/// Arguments of `fetch`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    #[command(flatten)]
    target: Target,
    /// Order-book levels per side (for `book`).
    #[arg(long, default_value_t = 20)]
    depth: usize,
    /// Output file: .csv, .json, .parquet (zstd) or .arrow (Arrow IPC stream); standard
    /// output (CSV) when absent.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    cache: CacheArgs,
}

/// What a fetch produced.
struct Summary {
    records: usize,
    gaps: usize,
    elapsed: Duration,
}

/// Runs `fetch`.
pub async fn run(args: FetchArgs) -> Result<(), String> {
    let target = args.target.resolve()?;
    let format = Format::of(args.output.as_deref())?;
    let cache = args.cache.build().await?;
    if target.what == What::Book {
        let query = OrderBookQuery {
            market: target.market,
            ..OrderBookQuery::new(target.exchange, &target.symbol, args.depth)
        };
        let book = cache.order_book(&query).await.map_err(|e| e.to_string())?;
        let json = serde_json::json!({
            "time": book.time,
            "update_id": book.update_id,
            "bids": book.bids.iter().map(|l| [l.price, l.quantity]).collect::<Vec<_>>(),
            "asks": book.asks.iter().map(|l| [l.price, l.quantity]).collect::<Vec<_>>(),
        });
        let text = match format {
            Format::Parquet | Format::Arrow => {
                return Err("an order book is written as .csv or .json".into());
            }
            Format::Json => format!("{json:#}\n"),
            Format::Csv => {
                let rows = book.bids.iter().map(|l| ("bid", l)).chain(book.asks.iter().map(|l| ("ask", l)));
                let mut text = String::from("side,price,quantity\n");
                rows.for_each(|(side, l)| text.push_str(&format!("{side},{},{}\n", l.price, l.quantity)));
                text
            }
        };
        return match &args.output {
            Some(path) => {
                std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
            }
            None => io::stdout().write_all(text.as_bytes()).map_err(|e| e.to_string()),
        };
    }
    let (from, to) = target.range()?;

    // A file is written beside its target and renamed into place on success, so a failed
    // fetch never leaves a partial file or clobbers an existing one.
    let summary = match &args.output {
        None => fetch_into(&cache, &target, from, to, BufWriter::new(io::stdout()), format).await?,
        Some(path) => {
            let partial = path.with_extension(format!("{}.partial", format.extension()));
            let result = match File::create(&partial) {
                Ok(file) => fetch_into(&cache, &target, from, to, BufWriter::new(file), format).await,
                Err(e) => Err(format!("cannot create {}: {e}", partial.display())),
            };
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
    let upstream = cache.stats().upstream;
    let requests = upstream.requests;
    eprintln!(
        "{} {} ({} gap{}) in {:.2?}; {requests} upstream request{} ({})",
        summary.records,
        match target.what {
            What::Range(Dataset::Klines(_)) => "candles",
            What::Range(Dataset::Trades) => "trades",
            _ => "funding events",
        },
        summary.gaps,
        if summary.gaps == 1 { "" } else { "s" },
        summary.elapsed,
        if requests == 1 { "" } else { "s" },
        upstream.summary(),
    );
    Ok(())
}

/// Streams the records of `[from, to)` of the target's kind into `out`.
async fn fetch_into<W: Write + Send>(
    cache: &Cache,
    t: &crate::Resolved,
    from: i64,
    to: i64,
    out: W,
    format: Format,
) -> Result<Summary, String> {
    let range =
        |start, end| RangeQuery { market: t.market, ..RangeQuery::new(t.exchange, &t.symbol, start, end) };
    let What::Range(dataset) = t.what else {
        return Err("an order book is a snapshot, not a range".into());
    };
    let step = dataset.span_of_segments(cryptocache::warm::STEP_SEGMENTS);
    let bar = progress_bar(((to - from).max(0) + step - 1) / step.max(1));
    let bar = &bar;
    let work = async move {
        match dataset {
            Dataset::Klines(interval) => {
                let query = KlineQuery {
                    market: t.market,
                    ..KlineQuery::new(t.exchange, &t.symbol, interval, from, to)
                };
                stream(from, to, step, out, format, bar, |start, end| {
                    let q = KlineQuery { start, end, ..query.clone() };
                    async move {
                        let c = cache.klines(&q).await?;
                        let gaps = c.gaps().len();
                        Ok((c, gaps))
                    }
                })
                .await
            }
            Dataset::Trades => {
                stream(from, to, step, out, format, bar, |start, end| {
                    let q = range(start, end);
                    async move { Ok((cache.trades(&q).await?, 0)) }
                })
                .await
            }
            Dataset::Funding => {
                stream(from, to, step, out, format, bar, |start, end| {
                    let q = range(start, end);
                    async move { Ok((cache.funding_rates(&q).await?, 0)) }
                })
                .await
            }
        }
    };
    crate::progress::following_traffic(cache, bar, work).await
}

/// Fetches `[from, to)` step by step with `part`, writing each part as it arrives.
async fn stream<W, R, F, Fut>(
    from: i64,
    to: i64,
    step: i64,
    out: W,
    format: Format,
    bar: &ProgressBar,
    mut part: F,
) -> Result<Summary, String>
where
    W: Write + Send,
    R: Records,
    F: FnMut(i64, i64) -> Fut,
    Fut: Future<Output = cryptocache::Result<(R, usize)>>,
{
    let mut out = Writer::new(out, format, R::FIELDS).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let (mut records, mut gaps) = (0, 0);
    let mut start = from;
    // At least one part, even for an empty or inverted range: the cache validates it.
    loop {
        let end = start.saturating_add(step).min(to);
        let (rows, part_gaps) = part(start, end).await.map_err(|e| e.to_string())?;
        out.write(&rows).map_err(|e| e.to_string())?;
        records += rows.count();
        gaps += part_gaps;
        bar.inc(1);
        start = end;
        if start >= to {
            break;
        }
    }
    out.finish().map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    Ok(Summary { records, gaps, elapsed: started.elapsed() })
}

fn progress_bar(steps: i64) -> ProgressBar {
    if steps < 2 || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(steps as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {percent}% eta {eta} · {msg}")
    {
        bar.set_style(style);
    }
    bar
}
