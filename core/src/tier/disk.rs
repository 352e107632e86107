//! L2: the embedded persistent tier — one checksummed file per segment.
//!
//! Layout: `{root}/v2/{source}/{exchange}/{market}/{kind}/{interval}/{symbol}/{segment_start}.seg`
//! (`source` is the namespace of where the values came from: `live` or a simulator's,
//! proxy's or testnet's own; see [`crate::source`]).
//! A write goes to a unique temporary file in `{root}/v2/.tmp/` (the same file system) and
//! is renamed over the target, which POSIX makes atomic: a reader sees the old value or
//! the new one, never a torn one, even across processes and crashes. Temporary files a
//! crash left behind are removed when a tier is opened (only those older than
//! [`STALE_TMP`], so another process's write in flight is never touched). Several processes (a multiprocessing pool
//! of backtests) can share one directory with no lock and no server. See
//! docs/architecture.md for why this beats an embedded B-tree here.

use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::future::{BoxFuture, FutureExt};

use super::disk_budget::{self, DiskBudget, PruneReport};
use super::{Lookup, Stored, Tier};
use crate::codec;
use crate::error::{Error, Result};
use crate::segment::SegmentKey;

/// A temporary file older than this was left by a crashed writer (a write takes
/// milliseconds).
pub const STALE_TMP: Duration = Duration::from_secs(600);

/// Directory of temporary files, under the versioned root.
const TMP_DIR: &str = ".tmp";
/// Threads writing one batch of segment files at once.
const PARALLEL_WRITES: usize = 8;

/// Segment files under one root directory.
#[derive(Debug, Clone)]
pub struct DiskTier {
    root: Arc<PathBuf>,
    /// The size bound, if any (see [`super::disk_budget`]).
    budget: Option<Arc<DiskBudget>>,
}

impl DiskTier {
    /// Opens (creating if needed) the store at directory `root`; fails with
    /// [`Error::Config`] if it cannot be created or written.
    pub fn open(root: impl AsRef<Path>) -> Result<Self> {
        let root = root.as_ref().join(format!("v{}", codec::FORMAT_VERSION));
        fs::create_dir_all(&root).map_err(|e| {
            Error::Config(format!("cannot create disk cache directory {}: {e}", root.display()))
        })?;
        let tmp = root.join(TMP_DIR);
        let probe = tmp.join(format!(".probe-{}-{:016x}", std::process::id(), fastrand::u64(..)));
        fs::create_dir_all(&tmp)
            .and_then(|()| fs::write(&probe, b"ok"))
            .and_then(|()| fs::remove_file(&probe))
            .map_err(|e| {
                Error::Config(format!("disk cache directory {} is not writable: {e}", root.display()))
            })?;
        let tier = DiskTier { root: Arc::new(root), budget: None };
        let removed = tier.remove_stale_tmp(STALE_TMP);
        if removed > 0 {
            tracing::info!(removed, "removed temporary files left by a crashed writer");
        }
        Ok(tier)
    }

    /// Bounds the store to `max_bytes`: past it, the least recently used segment files
    /// are removed (down to 80 % of it), whichever process wrote them.
    pub fn with_max_bytes(mut self, max_bytes: u64) -> Self {
        self.budget = Some(Arc::new(DiskBudget::new(max_bytes)));
        self
    }

    /// Removes the least recently used segment files until at most `max_bytes` remain
    /// (`cryptocache prune`); safe while other processes use the store.
    pub fn prune(&self, max_bytes: u64) -> Result<PruneReport> {
        disk_budget::prune(&self.root, max_bytes)
            .map_err(|e| Error::Cache(format!("cannot prune {}: {e}", self.root.display())))
    }

    /// Removes every segment of the source namespace `source` (all namespaces with
    /// `None`); returns the files and bytes removed. Each namespace directory is first
    /// renamed away (atomically), so no process sees half of it.
    pub fn clear(&self, source: Option<&str>) -> Result<(u64, u64)> {
        let fail = |e: std::io::Error| Error::Cache(format!("cannot clear {}: {e}", self.root.display()));
        let sources: Vec<String> = match source {
            Some(name) => {
                crate::source::validate_name(name)?;
                vec![name.to_owned()]
            }
            None => fs::read_dir(&*self.root)
                .map_err(fail)?
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .collect(),
        };
        let (mut files, mut bytes) = (0, 0);
        for name in sources {
            let trash = self.root.join(TMP_DIR).join(format!(
                "clear-{}-{:016x}",
                std::process::id(),
                fastrand::u64(..)
            ));
            match fs::rename(self.root.join(&name), &trash) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(fail(e)),
            }
            let report = disk_budget::prune(&trash, 0).map_err(fail)?;
            files += report.removed_files;
            bytes += report.removed_bytes;
            fs::remove_dir_all(&trash).map_err(fail)?;
        }
        Ok((files, bytes))
    }

    /// Removes temporary files older than `age` (left by a writer that crashed between
    /// creating and renaming them). Returns how many were removed.
    pub fn remove_stale_tmp(&self, age: Duration) -> usize {
        let Ok(entries) = fs::read_dir(self.root.join(TMP_DIR)) else { return 0 };
        let now = SystemTime::now();
        entries
            .flatten()
            .filter(|e| {
                e.metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| now.duration_since(t).is_ok_and(|d| d >= age))
            })
            .filter(|e| fs::remove_file(e.path()).is_ok())
            .count()
    }

    /// The file holding `key`.
    pub fn path_of(&self, key: &SegmentKey) -> PathBuf {
        let s = &key.series;
        self.root
            .join(&*s.source)
            .join(s.exchange.as_str())
            .join(s.market.as_str())
            .join(s.kind.as_str())
            .join(s.interval.to_string())
            .join(&*s.symbol)
            .join(format!("{}.seg", key.span().start))
    }

    fn read(&self, key: &SegmentKey) -> Result<Lookup> {
        let read = fs::File::open(self.path_of(key)).and_then(|mut file| {
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes)?;
            disk_budget::mark_used(&file, SystemTime::now());
            Ok(bytes)
        });
        match read {
            Ok(bytes) => Ok(match codec::decode(key, &bytes) {
                Ok(seg) => Lookup::Hit(Arc::new(seg), bytes.len()),
                Err(e) => Lookup::Corrupt(e.0),
            }),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(Lookup::Miss),
            Err(e) => Err(Error::Cache(format!("disk read {}: {e}", self.path_of(key).display()))),
        }
    }

    fn write(&self, item: &Stored) -> std::io::Result<()> {
        let path = self.path_of(&item.segment.key);
        let dir = path.parent().unwrap_or(&self.root);
        fs::create_dir_all(dir)?;
        let tmp_dir = self.root.join(TMP_DIR);
        fs::create_dir_all(&tmp_dir)?;
        let tmp = tmp_dir.join(format!("{}-{:016x}", std::process::id(), fastrand::u64(..)));
        let result = (|| {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(item.bytes())?;
            f.sync_data()?;
            fs::rename(&tmp, &path)
        })();
        match &result {
            Ok(()) => {
                if let Some(budget) = &self.budget {
                    budget.wrote(&self.root, item.bytes().len() as u64);
                }
            }
            Err(_) => {
                let _ = fs::remove_file(&tmp);
            }
        }
        result
    }
}

impl Tier for DiskTier {
    fn name(&self) -> &'static str {
        "disk"
    }

    fn get_many<'a>(&'a self, keys: &'a [SegmentKey]) -> BoxFuture<'a, Result<Vec<Lookup>>> {
        let this = self.clone();
        let keys = keys.to_vec();
        async move {
            tokio::task::spawn_blocking(move || keys.iter().map(|k| this.read(k)).collect())
                .await
                .map_err(|e| Error::Cache(format!("disk read task failed: {e}")))?
        }
        .boxed()
    }

    fn put_many<'a>(&'a self, items: &'a [Stored]) -> BoxFuture<'a, Result<()>> {
        // Each file is synced before it is renamed into place: a batch (the segments of
        // one archive file) is written by several threads, so their syncs overlap.
        let writers = items.len().clamp(1, PARALLEL_WRITES);
        let shares: Vec<Vec<Stored>> =
            (0..writers).map(|w| items.iter().skip(w).step_by(writers).cloned().collect()).collect();
        let this = self.clone();
        async move {
            let tasks = shares.into_iter().map(|share| {
                let this = this.clone();
                tokio::task::spawn_blocking(move || {
                    share.iter().try_for_each(|item| {
                        this.write(item).map_err(|e| {
                            Error::Cache(format!(
                                "disk write {}: {e}",
                                this.path_of(&item.segment.key).display()
                            ))
                        })
                    })
                })
            });
            for task in futures_util::future::join_all(tasks).await {
                task.map_err(|e| Error::Cache(format!("disk write task failed: {e}")))??;
            }
            Ok(())
        }
        .boxed()
    }

    fn holds_final<'a>(&'a self, keys: &'a [SegmentKey]) -> BoxFuture<'a, Result<Vec<bool>>> {
        // Read and checked, but not marked as used: its use record is left as it is.
        let this = self.clone();
        let keys = keys.to_vec();
        async move {
            tokio::task::spawn_blocking(move || {
                keys.iter()
                    .map(|k| {
                        let bytes = fs::read(this.path_of(k)).ok();
                        bytes
                            .and_then(|b| codec::decode(k, &b).ok())
                            .is_some_and(|seg| seg.expires_at.is_none() && seg.is_complete())
                    })
                    .collect()
            })
            .await
            .map_err(|e| Error::Cache(format!("disk lookup task failed: {e}")))
        }
        .boxed()
    }

    fn remove<'a>(&'a self, keys: &'a [SegmentKey]) -> BoxFuture<'a, Result<()>> {
        let this = self.clone();
        let keys = keys.to_vec();
        async move {
            tokio::task::spawn_blocking(move || {
                keys.iter().try_for_each(|k| match fs::remove_file(this.path_of(k)) {
                    Err(e) if e.kind() != ErrorKind::NotFound => {
                        Err(Error::Cache(format!("disk remove: {e}")))
                    }
                    _ => Ok(()),
                })
            })
            .await
            .map_err(|e| Error::Cache(format!("disk remove task failed: {e}")))?
        }
        .boxed()
    }

    fn clear<'a>(&'a self, source: Option<&'a str>) -> BoxFuture<'a, Result<u64>> {
        let this = self.clone();
        let source = source.map(str::to_owned);
        async move {
            tokio::task::spawn_blocking(move || this.clear(source.as_deref()).map(|(files, _)| files))
                .await
                .map_err(|e| Error::Cache(format!("disk clear task failed: {e}")))?
        }
        .boxed()
    }

    fn evictions(&self) -> u64 {
        self.budget.as_ref().map_or(0, |b| b.evicted())
    }
}

/// What the disk tier holds for one series (for `cryptocache stats`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SeriesOnDisk {
    /// The source namespace (`live`, or a simulator's, proxy's or testnet's).
    pub source: String,
    /// `exchange:market:kind:interval:symbol`.
    pub series: String,
    /// Segment files.
    pub segments: u64,
    /// Bytes on disk.
    pub bytes: u64,
}

impl DiskTier {
    /// Walks the store and sums segments and bytes per series, ordered by source, then series.
    pub fn summary(&self) -> Result<Vec<SeriesOnDisk>> {
        let mut out = Vec::new();
        walk(&self.root, 6, &mut Vec::new(), &mut out)
            .map_err(|e| Error::Cache(format!("cannot read disk cache {}: {e}", self.root.display())))?;
        out.sort_by(|a, b| (&a.source, &a.series).cmp(&(&b.source, &b.series)));
        Ok(out)
    }
}

/// Descends `depth` directory levels (source/exchange/market/kind/interval/symbol; names
/// starting with `.` are not series), then counts files.
fn walk(
    dir: &Path,
    depth: usize,
    names: &mut Vec<String>,
    out: &mut Vec<SeriesOnDisk>,
) -> std::io::Result<()> {
    if depth == 0 {
        let (mut segments, mut bytes) = (0, 0);
        for entry in fs::read_dir(dir)? {
            let entry = entry?;
            if entry.file_name().to_string_lossy().ends_with(".seg") {
                segments += 1;
                bytes += entry.metadata()?.len();
            }
        }
        let (source, series) =
            names.split_first().map_or((String::new(), &names[..]), |(s, r)| (s.clone(), r));
        out.push(SeriesOnDisk { source, series: series.join(":"), segments, bytes });
        return Ok(());
    }
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() && !entry.file_name().to_string_lossy().starts_with('.') {
            names.push(entry.file_name().to_string_lossy().into_owned());
            walk(&entry.path(), depth - 1, names, out)?;
            names.pop();
        }
    }
    Ok(())
}
