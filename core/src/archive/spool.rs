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
    /// or without a disk tier in the user's cache folder (`$XDG_CACHE_HOME` or
    /// `~/.cache`, then `cryptocache/downloads`). A folder that is not a real folder of
    /// this user's (a shared temporary folder, a symlink) is never used: then a new folder
    /// of this process's own is, and nothing is resumed across runs.
    pub(crate) fn beside(disk: Option<&Path>) -> Self {
        let user_cache = || {
            let xdg = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from);
            xdg.or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        };
        let wanted = match disk {
            Some(disk) => Some(disk.join(".downloads")),
            None => user_cache().map(|cache| cache.join("cryptocache").join("downloads")),
        };
        let spool = match wanted.filter(|dir| own_private_dir(dir).is_ok()) {
            Some(dir) => Spool { dir },
            None => Spool { dir: std::env::temp_dir().join(unique_name("cryptocache-downloads")) },
        };
        spool.remove_abandoned();
        spool
    }

    /// The part file for `url`: the one other runs left to resume, or a private one when
    /// another process is writing it now.
    pub(crate) fn part(&self, url: &str) -> io::Result<Part> {
        own_private_dir(&self.dir)?;
        let name = url_hash(url);
        let path = self.dir.join(format!("{name}.part"));
        let validator_path = self.dir.join(format!("{name}.validator"));
        // A file removed by its finisher between our open and our lock is not the part
        // any more: open again (a few times, then go private).
        for _ in 0..3 {
            let Ok(file) = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path)
            else {
                break;
            };
            if file.try_lock().is_err() {
                break; // another process is writing it
            }
            if !same_file(&file, &path) {
                continue;
            }
            let validator = fs::read_to_string(&validator_path).ok().filter(|v| is_validator(v));
            let len = file.metadata()?.len();
            return Ok(Part { file, path, validator_path, validator, len, private: false });
        }
        for _ in 0..5 {
            let unique = unique_name(&name);
            let path = self.dir.join(format!("{unique}.private"));
            match OpenOptions::new().read(true).write(true).create_new(true).open(&path) {
                Ok(file) => {
                    let validator_path = self.dir.join(format!("{unique}.private-validator"));
                    return Ok(Part { file, path, validator_path, validator: None, len: 0, private: true });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::new(io::ErrorKind::AlreadyExists, "no free name for a private download"))
    }

    /// Removes parts (and their validators) untouched for [`ABANDONED_AFTER`] that no
    /// process is writing, and private files left by processes that died.
    fn remove_abandoned(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else { return };
        let old = |path: &Path| {
            fs::metadata(path)
                .and_then(|m| m.modified())
                .is_ok_and(|at| at.elapsed().is_ok_and(|age| age > ABANDONED_AFTER))
        };
        for path in entries.flatten().map(|e| e.path()) {
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
            if let Some(stem) = name.strip_suffix(".part") {
                let unused = OpenOptions::new().write(true).open(&path).is_ok_and(|f| f.try_lock().is_ok());
                if unused && old(&path) {
                    let _ = fs::remove_file(self.dir.join(format!("{stem}.validator")));
                    let _ = fs::remove_file(&path);
                }
            } else if name.ends_with(".validator") {
                let part = path.with_extension("part");
                if !part.exists() && old(&path) {
                    let _ = fs::remove_file(&path);
                }
            } else if old(&path) {
                let _ = fs::remove_file(&path); // a dead process's private file
            }
        }
    }
}

/// Whether `file` (open) is still the file named `path`.
fn same_file(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), fs::metadata(path)) {
            (Ok(open), Ok(named)) => (open.dev(), open.ino()) == (named.dev(), named.ino()),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        path.exists()
    }
}

/// A stored validator fit to be sent back: an ETag or a date, printable ASCII (a torn or
/// tampered file is ignored, and its part started over).
fn is_validator(text: &str) -> bool {
    !text.is_empty() && text.len() <= 256 && text.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// `prefix` made unique to this process and moment.
fn unique_name(prefix: &str) -> String {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let n = PRIVATE.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}.{}.{n}.{nanos:09}", std::process::id())
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
        // An empty part has nothing to resume (a download given up before its first byte,
        // e.g. a read-ahead when the process ends).
        if self.private || self.len == 0 {
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

/// Creates `dir` if needed and checks it is a real folder (not a symlink) that only this
/// user can enter: downloads are trusted once checked, so nobody else may plant a part.
/// Changing its mode to `0700` succeeds only for its owner.
fn own_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    if !fs::symlink_metadata(dir)?.is_dir() {
        return Err(io::Error::other(format!("{} is not a folder", dir.display())));
    }
    #[cfg(unix)]
    fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    Ok(())
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
    fn a_torn_validator_is_ignored_and_a_symlinked_folder_is_not_used() {
        let (dir, spool) = spool();
        let mut part = spool.part("http://x/c.zip").unwrap();
        part.restart(Some("\"v\"")).unwrap();
        part.append(b"abc").unwrap();
        drop(part);
        let validator = fs::read_dir(dir.path().join(".downloads"))
            .unwrap()
            .flatten()
            .find(|e| e.path().extension().is_some_and(|x| x == "validator"))
            .unwrap();
        fs::write(validator.path(), b"\0\0\0").unwrap();
        assert_eq!(spool.part("http://x/c.zip").unwrap().resume_headers(), None);

        #[cfg(unix)]
        {
            let elsewhere = tempfile::tempdir().unwrap();
            let link = dir.path().join("link");
            std::os::unix::fs::symlink(elsewhere.path(), &link).unwrap();
            assert!(own_private_dir(&link).is_err(), "a symlink is not a folder of ours");
        }
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
