//! Archive files written to disk as they arrive, so a file of a gigabyte is never held in
//! memory, and resumed after an interruption (a dropped connection, a killed process) from
//! the bytes already stored.
//!
//! Each URL has one part file, named by the URL's hash, beside a `.validator` file holding
//! the ETag (or Last-Modified) its bytes came with. A resumed download asks for the rest
//! with `Range` and `If-Range`, so a file replaced meanwhile comes back whole (RFC 9110
//! §13.1.5, §14.2). A process locks the part file it writes; another process wanting the
//! same file meanwhile downloads into a private file instead of waiting or sharing.
//! Part files untouched for [`ABANDONED_AFTER`] are removed when a cache opens the folder.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Part files older than this belong to backfills nobody resumed.
pub(crate) const ABANDONED_AFTER: Duration = Duration::from_secs(2 * 24 * 3600);

/// Private part files get unique names.
static PRIVATE: AtomicU64 = AtomicU64::new(0);

/// The folder downloads are written to.
#[derive(Debug, Clone)]
pub(crate) struct Spool {
    dir: PathBuf,
}

impl Spool {
    /// Downloads in `{disk}/.downloads` (beside the disk tier, which ignores dot folders),
    /// or in the system's temporary folder without a disk tier.
    pub(crate) fn beside(disk: Option<&Path>) -> Self {
        let dir = match disk {
            Some(disk) => disk.join(".downloads"),
            None => std::env::temp_dir().join("cryptocache-downloads"),
        };
        let spool = Spool { dir };
        spool.remove_abandoned();
        spool
    }

    /// The part file for `url`: the one other runs left to resume, or a private one when
    /// another process is writing it now.
    pub(crate) fn part(&self, url: &str) -> io::Result<Part> {
        create_private_dir(&self.dir)?;
        let name = url_hash(url);
        let path = self.dir.join(format!("{name}.part"));
        let shared = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path);
        if let Ok(file) = shared {
            if file.try_lock().is_ok() {
                let validator_path = self.dir.join(format!("{name}.validator"));
                let validator = fs::read_to_string(&validator_path).ok().filter(|v| !v.is_empty());
                let len = file.metadata()?.len();
                return Ok(Part { file, path, validator_path, validator, len, private: false });
            }
        }
        let unique = format!("{name}.{}.{}", std::process::id(), PRIVATE.fetch_add(1, Ordering::Relaxed));
        let path = self.dir.join(format!("{unique}.private"));
        let file = OpenOptions::new().read(true).write(true).create_new(true).open(&path)?;
        let validator_path = self.dir.join(format!("{unique}.private-validator"));
        Ok(Part { file, path, validator_path, validator: None, len: 0, private: true })
    }

    fn remove_abandoned(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else { return };
        for entry in entries.flatten() {
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|at| at.elapsed().is_ok_and(|age| age > ABANDONED_AFTER));
            if old {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

/// A download in progress: the bytes stored so far and what they came with.
#[derive(Debug)]
pub(crate) struct Part {
    file: File,
    path: PathBuf,
    validator_path: PathBuf,
    validator: Option<String>,
    len: u64,
    /// Not meant to be resumed by anyone: removed when dropped.
    private: bool,
}

impl Part {
    /// Bytes stored so far.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// The `Range` and `If-Range` values that ask for the rest, when there is a rest to
    /// ask for and a validator proving what the stored bytes are.
    pub(crate) fn resume_headers(&self) -> Option<(String, String)> {
        let validator = self.validator.as_ref().filter(|_| self.len > 0)?;
        Some((format!("bytes={}-", self.len), validator.clone()))
    }

    /// Starts over: no bytes, and `validator` for the ones to come (`None`: they cannot be
    /// resumed).
    pub(crate) fn restart(&mut self, validator: Option<&str>) -> io::Result<()> {
        self.file.set_len(0)?;
        self.file.seek(SeekFrom::Start(0))?;
        self.len = 0;
        self.validator = validator.map(str::to_string);
        match validator {
            Some(v) => fs::write(&self.validator_path, v),
            None => match fs::remove_file(&self.validator_path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
        }
    }

    /// Stores the next bytes.
    pub(crate) fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.seek(SeekFrom::Start(self.len))?;
        self.file.write_all(bytes)?;
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// The whole file, to be read; it is removed when the result is dropped.
    pub(crate) fn finish(self) -> Spooled {
        Spooled { part: self }
    }

    /// Removes the file (e.g. the exchange says it is not published).
    pub(crate) fn discard(mut self) {
        self.private = true;
    }
}

impl Drop for Part {
    fn drop(&mut self) {
        if self.private {
            let _ = fs::remove_file(&self.path);
            let _ = fs::remove_file(&self.validator_path);
        }
    }
}

/// A downloaded file on disk, removed when dropped: its rows go to the tiers, and a file
/// whose rows failed to decode must be downloaded afresh.
#[derive(Debug)]
pub(crate) struct Spooled {
    part: Part,
}

impl Spooled {
    /// Its size in bytes.
    pub(crate) fn len(&self) -> u64 {
        self.part.len
    }

    /// The file from its start.
    pub(crate) fn reader(&self) -> io::Result<BufReader<&File>> {
        let mut file = &self.part.file;
        file.seek(SeekFrom::Start(0))?;
        Ok(BufReader::with_capacity(1 << 16, file))
    }
}

impl Drop for Spooled {
    fn drop(&mut self) {
        self.part.private = true;
    }
}

/// A folder only this user can read (downloads are trusted once checked).
fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// The first 128 bits of the URL's sha256, in hex.
fn url_hash(url: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, url.as_bytes());
    digest.as_ref()[..16].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn spool() -> (tempfile::TempDir, Spool) {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::beside(Some(dir.path()));
        (dir, spool)
    }

    #[test]
    fn a_part_is_kept_for_the_next_run_and_removed_once_read() {
        let (dir, spool) = spool();
        let mut part = spool.part("http://x/a.zip").unwrap();
        assert_eq!((part.len(), part.resume_headers()), (0, None));
        part.restart(Some("\"v1\"")).unwrap();
        part.append(b"hello ").unwrap();
        drop(part); // interrupted

        let mut part = spool.part("http://x/a.zip").unwrap();
        assert_eq!(part.resume_headers(), Some(("bytes=6-".into(), "\"v1\"".into())));
        part.append(b"world").unwrap();
        let done = part.finish();
        let mut text = String::new();
        done.reader().unwrap().read_to_string(&mut text).unwrap();
        assert_eq!((text.as_str(), done.len()), ("hello world", 11));
        drop(done);
        let left = fs::read_dir(dir.path().join(".downloads")).unwrap().count();
        assert_eq!(left, 0, "nothing left behind");
    }

    #[test]
    fn a_part_being_written_is_not_shared() {
        let (dir, spool) = spool();
        let mut first = spool.part("http://x/a.zip").unwrap();
        first.restart(Some("v")).unwrap();
        first.append(b"abc").unwrap();
        let second = spool.part("http://x/a.zip").unwrap();
        assert_eq!((second.len(), second.resume_headers()), (0, None), "a private file");
        drop(second);
        assert_eq!(fs::read_dir(dir.path().join(".downloads")).unwrap().count(), 2, "part + validator");
        drop(first);
        let mut again = spool.part("http://x/a.zip").unwrap();
        assert_eq!(again.len(), 3, "the shared part is resumable once its writer is gone");
        again.restart(None).unwrap();
        assert_eq!((again.len(), again.resume_headers()), (0, None));
        again.discard();
        assert_eq!(fs::read_dir(dir.path().join(".downloads")).unwrap().count(), 0);
    }

    #[test]
    fn a_part_without_a_validator_is_not_resumed() {
        let (_dir, spool) = spool();
        let mut part = spool.part("http://x/b.zip").unwrap();
        part.restart(None).unwrap();
        part.append(b"abc").unwrap();
        drop(part);
        assert_eq!(spool.part("http://x/b.zip").unwrap().resume_headers(), None);
    }
}
