//! `cryptocache prune`: bring the disk tier under a size, least recently used files first.

use clap::Args;
use cryptocache::tier::disk::DiskTier;

/// Arguments of `prune`.
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Remove the least recently used segment files until at most this many MiB remain.
    #[arg(long, value_name = "MB")]
    max_mb: u64,
    /// Disk tier directory [default: $CRYPTOCACHE_DIR or ~/.cache/cryptocache].
    #[arg(long, value_name = "PATH")]
    disk: Option<std::path::PathBuf>,
}

/// Runs `prune`: safe while other processes use the directory (a removed file is a miss
/// to them, never a torn read).
pub fn run(args: &PruneArgs) -> Result<(), String> {
    let dir = args.disk.clone().unwrap_or_else(cryptocache::default_disk_dir);
    let tier = DiskTier::open(&dir).map_err(|e| e.to_string())?;
    let report = tier.prune(args.max_mb.saturating_mul(1 << 20)).map_err(|e| e.to_string())?;
    let mib = |bytes: u64| bytes as f64 / f64::from(1 << 20);
    eprintln!(
        "{}: removed {} of {} segment files ({:.1} MiB); {:.1} MiB left",
        dir.display(),
        report.removed_files,
        report.files,
        mib(report.removed_bytes),
        mib(report.bytes_after())
    );
    Ok(())
}
