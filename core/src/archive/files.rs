//! Decoded archive files by URL: rows kept an hour while memory allows, "not published"
//! and failures kept a minute, and one download per file however many segments want it.

use std::future::Future;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::memo::Memo;
use crate::singleflight::Singleflight;

/// How long a file that was not published or failed its checksum is not asked again.
const NEGATIVE_TTL: std::time::Duration = std::time::Duration::from_secs(60);
/// How long a file's rows are used before it is downloaded again (files are sometimes
/// replaced, and a segment served with holes is read again when it expires).
const POSITIVE_TTL: std::time::Duration = std::time::Duration::from_secs(3600);

/// One file's rows (`None`: not published), or why not.
pub(crate) type FileRows<T> = Result<Option<Arc<Vec<T>>>>;

/// The decoded files of one row type.
pub(crate) struct FileCache<T> {
    files: Memo<String, (crate::rt::Instant, FileRows<T>)>,
    flights: Singleflight<String, FileRows<T>>,
}

impl<T: Send + Sync + 'static> FileCache<T> {
    /// Keeps up to `max_bytes` of decoded rows.
    pub(crate) fn new(max_bytes: u64) -> Self {
        let weigh = |(_, rows): &(crate::rt::Instant, FileRows<T>)| match rows {
            Ok(Some(rows)) => u32::try_from(rows.len() * std::mem::size_of::<T>()).unwrap_or(u32::MAX),
            _ => 1,
        };
        FileCache { files: Memo::weighted(max_bytes, weigh, None), flights: Singleflight::default() }
    }

    /// Whether the rows of `url` are held or being downloaded.
    pub(crate) fn holds_or_fetches(&self, url: &str) -> bool {
        let url = url.to_string();
        matches!(self.files.get(&url), Some((_, Ok(Some(_))))) || self.flights.is_running(&url)
    }

    /// The rows of `url`: held, or from `download` (run once for concurrent callers).
    pub(crate) async fn get<F>(&self, url: &str, download: impl FnOnce() -> F) -> FileRows<T>
    where
        F: Future<Output = FileRows<T>>,
    {
        let url = url.to_string();
        if let Some((at, rows)) = self.files.get(&url) {
            let kept = if matches!(rows, Ok(Some(_))) { POSITIVE_TTL } else { NEGATIVE_TTL };
            if at.elapsed() < kept {
                return rows;
            }
        }
        self.flights
            .run(&url, || async {
                let rows = download().await;
                // Network trouble and throttling are not the file's fault: only its own
                // answers are kept.
                if !matches!(rows, Err(Error::Network { .. } | Error::RateLimited { .. })) {
                    self.files.insert(url.clone(), (crate::rt::Instant::now(), rows.clone()));
                }
                rows
            })
            .await
    }
}
