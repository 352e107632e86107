//! Archive files over HTTP: retries, the published sha256 checked, the zip unpacked.

use std::sync::Arc;
use std::time::Duration;

use super::spool::{Part, Spool, Spooled};

use crate::candles::Candle;
use crate::error::{Error, Result};
use crate::exchange::retry::{self, RetryPolicy, Verdict};
use crate::exchange::HttpClient;
use crate::model::TimeRange;
use crate::stats::UpstreamCounters;

/// Candles an archive holds for one span, with the files they came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ArchivedKlines {
    /// Candles opening inside the span, in file order.
    pub candles: Vec<Candle>,
    /// The archive files read, by name.
    pub files: Vec<String>,
    /// The same files whole: the span each covers and all its rows, sorted by open time
    /// (the other segments inside them are stored at once).
    pub whole_files: Vec<(TimeRange, Arc<Vec<Candle>>)>,
}

/// A file download's outcome: its verified file, or the exchange saying it has none.
pub(crate) enum Download {
    /// The zip on disk, verified against its published checksum (its file is read as a
    /// stream: [`super::zip::first_entry`]).
    Verified { file: String, zip: Spooled },
    /// 404: not published (yet, or ever). Never a sign that the period is empty.
    NotPublished,
}

/// How long one archive file may take to arrive whole (each chunk must also arrive
/// within the HTTP timeout).
const TRANSFER_LIMIT: Duration = Duration::from_secs(3600);
/// The largest archive file accepted (Binance's biggest monthly aggTrades files are a few
/// GB unpacked, far less compressed): a reply that runs on is not allowed to fill the disk.
const MAX_FILE_BYTES: u64 = 8 << 30;

/// Downloads archive files with retries, to disk and resumed where an earlier try or run
/// stopped, and checks zips against their `.CHECKSUM` file (sha256). Archive downloads
/// spend no API weight; they are counted as requests of their own venue (e.g.
/// `binance-archive`).
#[derive(Debug, Clone)]
pub(crate) struct Downloader {
    pub http: HttpClient,
    pub retry: RetryPolicy,
    pub counters: Arc<UpstreamCounters>,
    /// The venue name in counters and errors.
    pub venue: &'static str,
    /// Where files are written as they arrive.
    pub spool: Spool,
}

impl Downloader {
    /// The zip at `url`, verified against `url.CHECKSUM`. A checksum that does not match
    /// is `MalformedResponse`.
    /// No retry waits past `deadline` (one per segment load, so a segment reading many
    /// files still waits at most `max_wait`).
    pub(crate) async fn verified_zip(&self, url: &str, deadline: crate::rt::Instant) -> Result<Download> {
        // Both at once: a round trip saved on every file.
        let checksum = format!("{url}.CHECKSUM");
        let (sum, zip) =
            futures_util::future::join(self.get(&checksum, deadline), self.file(url, deadline)).await;
        let Some(sum) = sum? else {
            // A zip without its checksum cannot be verified: treat it as not published.
            return Ok(Download::NotPublished);
        };
        let Some(zip) = zip? else { return Ok(Download::NotPublished) };
        let file = url.rsplit('/').next().unwrap_or(url);
        let expected =
            String::from_utf8_lossy(&sum).split_whitespace().next().unwrap_or("").to_ascii_lowercase();
        // Hashing a big file takes seconds: off the async workers.
        let (zip, actual) = crate::rt::blocking(move || {
            let sum = sha256_hex(&zip);
            (zip, sum)
        })
        .await?;
        let actual = actual.map_err(|e| self.spool_error(e))?;
        if expected != actual {
            self.counters.error();
            tracing::warn!(venue = self.venue, file, "archive checksum mismatch");
            return Err(
                self.malformed(format!("{file}: sha256 {actual} does not match its CHECKSUM {expected}"))
            );
        }
        Ok(Download::Verified { file: file.to_string(), zip })
    }

    /// The file at `url`, on disk (`None` on 404: not published), with retries. Bytes
    /// already stored by an interrupted try or run are kept: only the rest is asked for.
    pub(crate) async fn file(&self, url: &str, deadline: crate::rt::Instant) -> Result<Option<Spooled>> {
        let part = self.spool.part(url).map_err(|e| self.spool_error(e))?;
        let part = std::sync::Mutex::new(part);
        let counters = &*self.counters;
        let got = retry::run(&self.retry, counters, deadline, || self.try_file(url, &part)).await;
        let part = part.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
        if got? {
            Ok(Some(part.finish()))
        } else {
            part.discard();
            Ok(None)
        }
    }

    /// One try of [`Self::file`]: `Done(true)` once `part` holds the whole file,
    /// `Done(false)` on 404.
    async fn try_file(&self, url: &str, part: &std::sync::Mutex<Part>) -> Verdict<bool> {
        let counters = &*self.counters;
        let with_part = |f: &mut dyn FnMut(&mut Part) -> std::io::Result<()>| -> std::io::Result<()> {
            f(&mut part.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
        };
        let mut resume = None;
        let _ = with_part(&mut |p| {
            resume = p.resume_headers().map(|r| (r, p.len()));
            Ok(())
        });
        let headers: Vec<(&str, &str)> = match &resume {
            Some(((range, validator), _)) => {
                vec![("range", range.as_str()), ("if-range", validator.as_str())]
            }
            None => Vec::new(),
        };
        counters.request(self.venue, 0);
        let sent = crate::rt::Instant::now();
        let network = |message: String| {
            counters.error();
            Verdict::Retry { after: None, error: Error::Network { exchange: self.venue.into(), message } }
        };
        let mut reply = match self.http.stream(url, &headers, TRANSFER_LIMIT).await {
            Ok(reply) => reply,
            Err(message) => {
                counters.answered(self.venue, "network_error", sent.elapsed());
                return network(message);
            }
        };
        counters.answered(self.venue, &reply.status.to_string(), sent.elapsed());
        let have = resume.as_ref().map_or(0, |(_, have)| *have);
        // The whole file's length, when the reply says it.
        let total = match reply.status {
            200 => {
                // Only a strong ETag may go in If-Range (RFC 9110 §13.1.5); else the date.
                let etag = reply.header("etag").filter(|tag| !tag.starts_with("W/"));
                let validator = etag.or_else(|| reply.header("last-modified")).map(str::to_string);
                if let Err(e) = with_part(&mut |p| p.restart(validator.as_deref())) {
                    return Verdict::Fail(self.spool_error(e));
                }
                reply.header("content-length").and_then(|n| n.parse::<u64>().ok())
            }
            206 => {
                // The rest we asked for, of the version we hold (a 206 names its version:
                // RFC 9110 §15.3.7); anything else starts over.
                let stored = resume.as_ref().map(|((_, validator), _)| validator.as_str());
                // Compared like for like: a stored ETag with the reply's, a date with its date.
                let held = |v: &str| {
                    let named = if v.starts_with('"') { "etag" } else { "last-modified" };
                    reply.header(named).is_none_or(|r| r == v)
                };
                let version_held = stored.is_none_or(held);
                match reply.header("content-range").and_then(content_range) {
                    Some((Some(start), total)) if start == have && version_held => total,
                    _ => {
                        if let Err(e) = with_part(&mut |p| p.restart(None)) {
                            return Verdict::Fail(self.spool_error(e));
                        }
                        return network("a byte range other than the one asked for".into());
                    }
                }
            }
            404 => return Verdict::Done(false),
            416 if resume.is_some() => {
                // Nothing after the stored bytes: whole already if they are all there.
                if reply.header("content-range").and_then(content_range) == Some((None, Some(have))) {
                    return Verdict::Done(true);
                }
                if let Err(e) = with_part(&mut |p| p.restart(None)) {
                    return Verdict::Fail(self.spool_error(e));
                }
                return network("the stored part is longer than the file".into());
            }
            status => {
                counters.error();
                let body = reply.chunk().await.ok().flatten();
                let error = Error::Exchange {
                    exchange: self.venue.into(),
                    code: None,
                    status: Some(status),
                    message: crate::exchange::snippet(body.as_ref().map_or(&[][..], |b| b.as_ref())),
                };
                return if status == 429 || status == 418 || status >= 500 {
                    Verdict::Retry {
                        after: crate::exchange::retry_after_header(reply.header("retry-after")),
                        error,
                    }
                } else {
                    Verdict::Fail(error)
                };
            }
        };
        if let Some(total) = total.filter(|&total| total > MAX_FILE_BYTES) {
            return Verdict::Fail(
                self.malformed(format!("{url} declares {total} bytes, more than we accept")),
            );
        }
        loop {
            match reply.chunk().await {
                Ok(Some(chunk)) => {
                    counters.received(chunk.as_ref().len());
                    let mut len = 0;
                    if let Err(e) = with_part(&mut |p| {
                        p.append(chunk.as_ref())?;
                        len = p.len();
                        Ok(())
                    }) {
                        return Verdict::Fail(self.spool_error(e));
                    }
                    if len > MAX_FILE_BYTES {
                        return Verdict::Fail(
                            self.malformed(format!("{url} runs past {MAX_FILE_BYTES} bytes")),
                        );
                    }
                }
                Ok(None) => break,
                // What arrived is kept: the next try asks for the rest.
                Err(message) => return network(message),
            }
        }
        let mut len = 0;
        let _ = with_part(&mut |p| {
            len = p.len();
            Ok(())
        });
        match total {
            Some(total) if total != len => network(format!("the file ended after {len} of {total} bytes")),
            _ => Verdict::Done(true),
        }
    }

    /// GETs `url` with retries: `Some(body)` on 200, `None` on 404 (not published).
    pub(crate) async fn get(&self, url: &str, deadline: crate::rt::Instant) -> Result<Option<Vec<u8>>> {
        let counters = &*self.counters;
        retry::run(&self.retry, counters, deadline, || async {
            counters.request(self.venue, 0);
            let sent = crate::rt::Instant::now();
            let reply = match self.http.get(url).await {
                Ok(reply) => reply,
                Err(message) => {
                    counters.answered(self.venue, "network_error", sent.elapsed());
                    counters.error();
                    return Verdict::Retry {
                        after: None,
                        error: Error::Network { exchange: self.venue.into(), message },
                    };
                }
            };
            counters.answered(self.venue, &reply.status.to_string(), sent.elapsed());
            counters.received(reply.body.len());
            match reply.status {
                200 => Verdict::Done(Some(reply.body)),
                404 => Verdict::Done(None),
                status => {
                    counters.error();
                    let error = Error::Exchange {
                        exchange: self.venue.into(),
                        code: None,
                        status: Some(status),
                        message: crate::exchange::snippet(&reply.body),
                    };
                    if status == 429 || status == 418 || status >= 500 {
                        Verdict::Retry { after: crate::exchange::retry_after(&reply), error }
                    } else {
                        Verdict::Fail(error)
                    }
                }
            }
        })
        .await
    }

    fn spool_error(&self, e: std::io::Error) -> Error {
        Error::Cache(format!("{} download folder: {e}", self.venue))
    }

    fn malformed(&self, message: String) -> Error {
        Error::MalformedResponse { exchange: self.venue.into(), message }
    }
}

/// The sha256 of a downloaded file, read as a stream, in hex.
fn sha256_hex(file: &Spooled) -> std::io::Result<String> {
    let mut reader = file.reader()?;
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    loop {
        let chunk = std::io::BufRead::fill_buf(&mut reader)?;
        if chunk.is_empty() {
            break;
        }
        context.update(chunk);
        let n = chunk.len();
        std::io::BufRead::consume(&mut reader, n);
    }
    Ok(context.finish().as_ref().iter().map(|b| format!("{b:02x}")).collect())
}

/// `Content-Range: bytes START-END/TOTAL` (or `bytes */TOTAL`) as (START, TOTAL), each
/// `None` where the header says `*`.
fn content_range(value: &str) -> Option<(Option<u64>, Option<u64>)> {
    let (range, total) = value.strip_prefix("bytes ")?.split_once('/')?;
    let total = if total == "*" { None } else { Some(total.trim().parse().ok()?) };
    let start = match range {
        "*" => None,
        range => Some(range.split_once('-')?.0.trim().parse().ok()?),
    };
    Some((start, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_the_standard_vector() {
        let dir = tempfile::tempdir().unwrap();
        let mut part = Spool::beside(Some(dir.path())).part("http://x/abc").unwrap();
        part.append(b"abc").unwrap();
        let hex = sha256_hex(&part.finish()).unwrap();
        assert_eq!(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn content_ranges_parse() {
        assert_eq!(content_range("bytes 100-199/1000"), Some((Some(100), Some(1000))));
        assert_eq!(content_range("bytes 100-199/*"), Some((Some(100), None)));
        assert_eq!(content_range("bytes */1000"), Some((None, Some(1000))));
        assert_eq!(content_range("items 1-2/3"), None);
        assert_eq!(content_range("bytes x-1/3"), None);
    }
}
