//! Archive files over HTTP: retries, the published sha256 checked, the zip unpacked.

use std::sync::Arc;

use crate::candles::Candle;
use crate::error::{Error, Result};
use crate::exchange::retry::{self, RetryPolicy, Verdict};
use crate::exchange::HttpClient;
use crate::stats::UpstreamCounters;

/// Candles an archive holds for one span, with the files they came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ArchivedKlines {
    /// Candles opening inside the span, in file order.
    pub candles: Vec<Candle>,
    /// The archive files read, by name.
    pub files: Vec<String>,
}

/// A file download's outcome: its verified bytes, or the exchange saying it has none.
pub(crate) enum Download {
    /// The zip, verified against its published checksum (its file is read as a
    /// stream: [`super::zip::first_entry`]).
    Verified { file: String, zip: Vec<u8> },
    /// 404: not published (yet, or ever). Never a sign that the period is empty.
    NotPublished,
}

/// Downloads archive zips with retries, checks them against their `.CHECKSUM` file
/// (sha256) and unpacks them. Archive downloads spend no API weight; they are counted
/// as requests of their own venue (e.g. `binance-archive`).
#[derive(Debug, Clone)]
pub(crate) struct Downloader {
    pub http: HttpClient,
    pub retry: RetryPolicy,
    pub counters: Arc<UpstreamCounters>,
    /// The venue name in counters and errors.
    pub venue: &'static str,
}

impl Downloader {
    /// The zip at `url`, verified against `url.CHECKSUM`. A checksum that does not match
    /// is `MalformedResponse`.
    /// No retry waits past `deadline` (one per segment load, so a segment reading many
    /// files still waits at most `max_wait`).
    pub(crate) async fn verified_zip(&self, url: &str, deadline: crate::rt::Instant) -> Result<Download> {
        let Some(zip) = self.get(url, deadline).await? else { return Ok(Download::NotPublished) };
        let Some(sum) = self.get(&format!("{url}.CHECKSUM"), deadline).await? else {
            // A zip without its checksum cannot be verified: treat it as not published.
            return Ok(Download::NotPublished);
        };
        let file = url.rsplit('/').next().unwrap_or(url);
        let expected =
            String::from_utf8_lossy(&sum).split_whitespace().next().unwrap_or("").to_ascii_lowercase();
        let actual = sha256_hex(&zip);
        if expected != actual {
            self.counters.error();
            tracing::warn!(venue = self.venue, file, "archive checksum mismatch");
            return Err(
                self.malformed(format!("{file}: sha256 {actual} does not match its CHECKSUM {expected}"))
            );
        }
        Ok(Download::Verified { file: file.to_string(), zip })
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

    fn malformed(&self, message: String) -> Error {
        Error::MalformedResponse { exchange: self.venue.into(), message }
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn sha256_matches_the_standard_vector() {
        let hex = super::sha256_hex(b"abc");
        assert_eq!(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
