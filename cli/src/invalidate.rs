//! `cryptocache invalidate`: drop a range (or a whole series) from every tier, and from
//! the memory of every process sharing the Redis; `--refresh` refetches it at once.

use clap::Args;
use cryptocache::invalidate::Invalidation;

use crate::what::What;
use crate::{CacheArgs, Target};

/// Arguments of `invalidate`.
#[derive(Debug, Args)]
pub struct InvalidateArgs {
    /// Exchange, symbol, what (interval, trades or funding); without --from/--to: the
    /// whole series.
    #[command(flatten)]
    target: Target,
    /// Refetch the range from the exchange right away.
    #[arg(long)]
    refresh: bool,
    #[command(flatten)]
    cache: CacheArgs,
}

/// Runs `invalidate`.
pub async fn run(args: InvalidateArgs) -> Result<(), String> {
    let t = args.target.resolve()?;
    let What::Range(dataset) = t.what else {
        return Err("the order book is not cached by range: invalidate candles, trades or funding".into());
    };
    let cache = args.cache.build().await?;
    let invalidation = Invalidation {
        exchange: t.exchange,
        market: t.market,
        symbol: t.symbol,
        dataset,
        start: t.from,
        end: t.to,
        refresh: args.refresh,
    };
    let report = cache.invalidate(&invalidation).await.map_err(|e| e.to_string())?;
    let refetched = report.refetched_rows.map(|n| format!("; {n} records refetched")).unwrap_or_default();
    eprintln!("{}: {} segments invalidated{refetched}", report.series, report.segments);
    Ok(())
}
