//! `cryptocache clear`: delete a whole source namespace (or everything) from every tier.

use clap::Args;

use crate::CacheArgs;

/// Arguments of `clear`: `--source NAME` (of the cache options) names the namespace to
/// delete (`live`, `sim`, or one `cryptocache stats` lists); without it, every namespace.
#[derive(Debug, Args)]
pub struct ClearArgs {
    #[command(flatten)]
    cache: CacheArgs,
}

/// Runs `clear`: disk, Redis (with `--redis`) and, through Redis, the memory of every
/// process sharing it.
pub async fn run(args: ClearArgs) -> Result<(), String> {
    let source = args.cache.source.clone();
    let cache = args.cache.build().await?;
    let cleared = cache.clear(source.as_deref()).await.map_err(|e| e.to_string())?;
    let what = source.as_deref().map_or("every namespace".to_owned(), |s| format!("namespace {s}"));
    let per_tier: Vec<String> = cleared.iter().map(|(tier, n)| format!("{tier} {n}")).collect();
    eprintln!("cleared {what}: segments deleted per tier: {}", per_tier.join(", "));
    Ok(())
}
