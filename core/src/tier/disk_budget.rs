//! Bounding the disk tier: the least recently *used* segment files go first.
//!
//! The access record is each file's modification time, which the disk tier sets itself:
//! a write creates the file (time = now), and a read that hits a file last marked more
//! than [`TOUCH_EVERY`] ago sets it to now (`futimens`). Access times (`atime`) are not
//! used: `noatime`/`relatime` mounts make them unreliable. The record lives with the
//! files, so every process sharing a directory keeps and reads the same one, with no
//! index to lock or repair after a crash.
//!
//! Pruning walks the store, sorts files by that time and removes the oldest until the
//! total is under the target. It is safe while other processes read and write: a file is
//! replaced only by an atomic rename, so a reader has the old or the new file open (a
//! removed file stays readable to whoever opened it), and a file removed before it is
//! opened is just a miss. Two processes pruning at once may together remove a little
//! more than needed, which costs misses, never wrong data.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// A hit on a file marked longer ago than this marks it again (one `futimens` per file
/// per minute at most: recency, not a hit count, is what pruning needs).
pub const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// Automatic pruning brings the store down to this share of its bound, so it does not
/// run on every write.
const LOW_WATER: f64 = 0.8;

/// A process re-measures the store after writing this share of the bound itself (other
/// processes' writes are seen only by measuring).
const REMEASURE_SHARE: f64 = 0.05;

/// Other processes whose unmeasured writes a measurement leaves room for: a store found
/// past `1 − OTHER_WRITERS × REMEASURE_SHARE` of its bound (85 %) is pruned, so with up
/// to four writers sharing the directory it stays within its bound.
const OTHER_WRITERS: f64 = 3.0;

/// What a prune did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PruneReport {
    /// Segment files found.
    pub files: u64,
    /// Their bytes before pruning.
    pub bytes_before: u64,
    /// Files removed.
    pub removed_files: u64,
    /// Bytes removed.
    pub removed_bytes: u64,
}

impl PruneReport {
    /// Bytes left after pruning.
    pub fn bytes_after(&self) -> u64 {
        self.bytes_before - self.removed_bytes
    }
}

/// One segment file and its access record.
struct SegmentFile {
    used: SystemTime,
    bytes: u64,
    path: PathBuf,
}

/// Removes the least recently used segment files under `root` (a versioned store
/// directory; names starting with `.` are skipped) until at most `target` bytes remain.
pub fn prune(root: &Path, target: u64) -> std::io::Result<PruneReport> {
    let mut files = Vec::new();
    collect(root, &mut files)?;
    let mut report = PruneReport {
        files: files.len() as u64,
        bytes_before: files.iter().map(|f| f.bytes).sum(),
        ..PruneReport::default()
    };
    if report.bytes_before <= target {
        return Ok(report);
    }
    files.sort_by_key(|f| f.used);
    for file in files {
        if report.bytes_after() <= target {
            break;
        }
        match fs::remove_file(&file.path) {
            Ok(()) => {
                report.removed_files += 1;
                report.removed_bytes += file.bytes;
            }
            // Another process removed or replaced it: it no longer counts here.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => report.removed_bytes += file.bytes,
            Err(e) => return Err(e),
        }
    }
    Ok(report)
}

/// Every `.seg` file under `dir`, with size and access record.
fn collect(dir: &Path, out: &mut Vec<SegmentFile>) -> std::io::Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        // Removed by a concurrent clear: nothing to count.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        // A file may vanish between listing and stat (another process pruned it).
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_dir() {
            collect(&entry.path(), out)?;
        } else if name.ends_with(".seg") {
            let used = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            out.push(SegmentFile { used, bytes: meta.len(), path: entry.path() });
        }
    }
    Ok(())
}

/// Marks `file` as used now if its record is older than [`TOUCH_EVERY`]. Failures are
/// ignored: a missed mark only makes the file look older to a pruner.
pub fn mark_used(file: &fs::File, now: SystemTime) {
    let stale = file
        .metadata()
        .and_then(|m| m.modified())
        .is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age >= TOUCH_EVERY));
    if stale {
        let _ = file.set_modified(now);
    }
}

/// The bound of one disk tier and what this process knows of the store's size.
#[derive(Debug)]
pub struct DiskBudget {
    max_bytes: u64,
    /// Bytes written by this process since the store was last measured.
    written: AtomicU64,
    /// The store's size when last measured (`u64::MAX` = not yet measured).
    measured: AtomicU64,
    /// Files removed by this process's pruning.
    evicted: AtomicU64,
    /// One prune at a time in this process.
    pruning: AtomicBool,
}

impl DiskBudget {
    /// A bound of `max_bytes`.
    pub fn new(max_bytes: u64) -> Self {
        DiskBudget {
            max_bytes,
            written: AtomicU64::new(0),
            measured: AtomicU64::new(u64::MAX),
            evicted: AtomicU64::new(0),
            pruning: AtomicBool::new(false),
        }
    }

    /// The bound in bytes.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Files this process's pruning removed.
    pub fn evicted(&self) -> u64 {
        self.evicted.load(Ordering::Relaxed)
    }

    /// Records `bytes` written to the store under `root` and prunes it when it may have
    /// grown past the bound (on the calling thread: call it from a blocking context).
    pub fn wrote(&self, root: &Path, bytes: u64) {
        let written = self.written.fetch_add(bytes, Ordering::Relaxed) + bytes;
        let measured = self.measured.load(Ordering::Relaxed);
        let remeasure = (self.max_bytes as f64 * REMEASURE_SHARE) as u64;
        let maybe_over = measured == u64::MAX || measured.saturating_add(written) > self.max_bytes;
        if !(maybe_over || written >= remeasure.max(1)) || self.pruning.swap(true, Ordering::Acquire) {
            return;
        }
        self.written.store(0, Ordering::Relaxed);
        let target = (self.max_bytes as f64 * LOW_WATER) as u64;
        let threshold = (self.max_bytes as f64 * (1.0 - OTHER_WRITERS * REMEASURE_SHARE)) as u64;
        // Prune only when near the bound (room left for the other writers' unmeasured
        // bytes); measuring alone otherwise.
        let result = collect_size(root).and_then(|size| {
            if size > threshold {
                prune(root, target).map(|r| {
                    self.evicted.fetch_add(r.removed_files, Ordering::Relaxed);
                    r.bytes_after()
                })
            } else {
                Ok(size)
            }
        });
        let measured = match result {
            Ok(size) => size,
            Err(e) => {
                tracing::warn!(error = %e, "cannot prune the disk cache");
                self.pruning.store(false, Ordering::Release);
                return;
            }
        };
        self.measured.store(measured, Ordering::Relaxed);
        self.pruning.store(false, Ordering::Release);
        // Writes that finished while this ran (a batch's other threads) were counted but
        // not measured, and their writers returned: if they took the store over its
        // bound, prune again now rather than at some later write.
        let pending = measured.saturating_add(self.written.load(Ordering::Relaxed));
        if measured <= self.max_bytes && pending > self.max_bytes {
            self.wrote(root, 0);
        }
    }
}

/// Total bytes of segment files under `root`.
fn collect_size(root: &Path) -> std::io::Result<u64> {
    let mut files = Vec::new();
    collect(root, &mut files)?;
    Ok(files.iter().map(|f| f.bytes).sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(dir: &Path, name: &str, bytes: usize, age_secs: u64) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, vec![0u8; bytes]).unwrap();
        let f = fs::File::options().write(true).open(&path).unwrap();
        f.set_modified(SystemTime::now() - Duration::from_secs(age_secs)).unwrap();
        path
    }

    #[test]
    fn prune_removes_least_recently_used_first_and_skips_dot_dirs() {
        let dir = tempfile::tempdir().unwrap();
        let series = dir.path().join("live/binance/spot/klines/1m/BTCUSDT");
        fs::create_dir_all(&series).unwrap();
        fs::create_dir_all(dir.path().join(".tmp")).unwrap();
        let tmp = file(&dir.path().join(".tmp"), "1-ab.seg", 5000, 9999);
        let old = file(&series, "0.seg", 1000, 3000);
        let mid = file(&series, "1.seg", 1000, 2000);
        let new = file(&series, "2.seg", 1000, 1000);
        // Reading `old` marks it used: now it is the newest.
        mark_used(&fs::File::open(&old).unwrap(), SystemTime::now());
        let report = prune(dir.path(), 2000).unwrap();
        let figures = (report.files, report.bytes_before, report.removed_files, report.bytes_after());
        assert_eq!(figures, (3, 3000, 1, 2000));
        assert!(old.exists() && !mid.exists() && new.exists() && tmp.exists());
        // Already within the target: nothing removed.
        assert_eq!(prune(dir.path(), 2000).unwrap().removed_files, 0);
    }

    #[test]
    fn a_recent_mark_is_not_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = file(dir.path(), "a.seg", 10, 10);
        let before = fs::metadata(&path).unwrap().modified().unwrap();
        mark_used(&fs::File::open(&path).unwrap(), SystemTime::now());
        assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), before);
    }

    #[test]
    fn the_budget_prunes_to_its_low_water_mark_once_over_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..10 {
            file(dir.path(), &format!("{i}.seg"), 1000, 100 - i);
        }
        let budget = DiskBudget::new(8000);
        budget.wrote(dir.path(), 1000);
        // 10 000 bytes > 8000: pruned to at most 80 % of the bound (6400), oldest first.
        assert_eq!(collect_size(dir.path()).unwrap(), 6000);
        assert_eq!(budget.evicted(), 4);
        assert!(!dir.path().join("0.seg").exists() && dir.path().join("9.seg").exists());
    }
}
