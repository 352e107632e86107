//! `cryptocache coverage`: what the cache holds for a range, segment by segment.

use clap::Args;
use cryptocache::{time, CoverageQuery, SegmentStatus};

use crate::what::What;
use crate::{CacheArgs, Target};

/// Arguments of `coverage`.
#[derive(Debug, Args)]
pub struct CoverageArgs {
    #[command(flatten)]
    target: Target,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    cache: CacheArgs,
}

/// Runs `coverage`.
pub async fn run(args: CoverageArgs) -> Result<(), String> {
    let t = args.target.resolve()?;
    let (start, end) = t.range()?;
    let What::Range(dataset) = t.what else {
        return Err(
            "the order book is not cached by range: coverage covers candles, trades and funding".into()
        );
    };
    let (kind, interval) = dataset.kind();
    let cache = args.cache.build().await?;
    let query = CoverageQuery {
        exchange: t.exchange,
        market: t.market,
        symbol: t.symbol,
        kind,
        interval,
        start,
        end,
    };
    let report = cache.coverage(&query).await.map_err(|e| e.to_string())?;
    if args.json {
        let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        println!("{json}");
        return Ok(());
    }
    println!(
        "{}  {} → {}",
        report.series,
        time::format_time(report.range.start),
        time::format_time(report.range.end)
    );
    println!(
        "{:<21} {:<21} {:<12} {:<7} {:>7}  gaps / error / part held",
        "from", "to", "status", "tier", "rows"
    );
    for s in &report.segments {
        let mut detail = match (&s.error, s.gaps.is_empty()) {
            (Some(e), _) => e.clone(),
            (None, false) => s.gaps.iter().map(|g| format!("{g}")).collect::<Vec<_>>().join(", "),
            (None, true) => String::new(),
        };
        if let Some(covered) = s.covered {
            detail = format!("holds {covered} {detail}").trim_end().to_string();
        }
        println!(
            "{:<21} {:<21} {:<12} {:<7} {:>7}  {detail}",
            time::format_time(s.span.start),
            time::format_time(s.span.end),
            format!("{:?}", s.status).to_lowercase(),
            s.tier.as_deref().unwrap_or("-"),
            s.rows,
        );
    }
    let cached = report.count(SegmentStatus::Cached) + report.count(SegmentStatus::KnownEmpty);
    println!(
        "{cached}/{} segments final in cache, {} open, {} partial, {} missing, {} failed, {} exchange gap(s)",
        report.segments.len(),
        report.count(SegmentStatus::Open) + report.count(SegmentStatus::Expired),
        report.count(SegmentStatus::Partial),
        report.count(SegmentStatus::Missing),
        report.count(SegmentStatus::Failed),
        report.gaps().len()
    );
    Ok(())
}
