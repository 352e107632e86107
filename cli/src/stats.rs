//! `cryptocache stats`: what the disk cache holds, per source namespace.

use clap::Args;
use cryptocache::tier::disk::DiskTier;

/// Arguments of `stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Disk tier directory [default: $CRYPTOCACHE_DIR or ~/.cache/cryptocache].
    #[arg(long, value_name = "PATH")]
    disk: Option<std::path::PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long, conflicts_with = "prometheus")]
    json: bool,
    /// Print Prometheus text (gauges `cryptocache_disk_segments` and
    /// `cryptocache_disk_bytes` per source and series), e.g. for node_exporter's textfile collector.
    #[arg(long)]
    prometheus: bool,
}

/// Runs `stats`.
pub fn run(args: &StatsArgs) -> Result<(), String> {
    let dir = args.disk.clone().unwrap_or_else(cryptocache::default_disk_dir);
    let tier = DiskTier::open(&dir).map_err(|e| e.to_string())?;
    let series = tier.summary().map_err(|e| e.to_string())?;
    let mut namespaces: Vec<&str> = series.iter().map(|s| s.source.as_str()).collect();
    namespaces.dedup();
    if args.prometheus {
        let gauge = |name: &str, help: &str, value: fn(&cryptocache::tier::disk::SeriesOnDisk) -> u64| {
            println!("# HELP {name} {help}\n# TYPE {name} gauge");
            for s in &series {
                println!("{name}{{source=\"{}\",series=\"{}\"}} {}", s.source, s.series, value(s));
            }
        };
        gauge("cryptocache_disk_segments", "Segment files on disk.", |s| s.segments);
        gauge("cryptocache_disk_bytes", "Bytes of segment files on disk.", |s| s.bytes);
        return Ok(());
    }
    if args.json {
        let json = serde_json::json!({ "disk": dir, "namespaces": namespaces, "series": series });
        println!("{json:#}");
        return Ok(());
    }
    println!("disk cache: {}", dir.display());
    println!(
        "namespaces: {}",
        if namespaces.is_empty() { "(none)".to_string() } else { namespaces.join(", ") }
    );
    println!("{:<24} {:<48} {:>9} {:>12}", "source", "series", "segments", "bytes");
    for s in &series {
        println!("{:<24} {:<48} {:>9} {:>12}", s.source, s.series, s.segments, s.bytes);
    }
    let (segments, bytes) = series.iter().fold((0, 0), |(n, b), s| (n + s.segments, b + s.bytes));
    println!("{:<24} {:<48} {:>9} {:>12}", "", format!("total ({} series)", series.len()), segments, bytes);
    Ok(())
}
