//! API keys: a TOML file of names and SHA-256 hashes (never the keys), per-key quotas.
//!
//! ```toml
//! [[keys]]
//! name = "research"
//! sha256 = "9f86d0…"            # of the key; `cryptocache keys add` writes these
//! requests_per_minute = 600     # optional
//! max_range_days = 366          # optional: the longest range one request may ask for
//! revoked = false               # optional
//! ```
//!
//! A request presents its key as `Authorization: Bearer KEY` or `X-API-Key: KEY`. The key
//! is hashed and compared with every stored hash in constant time; neither the key nor
//! its hash is ever logged or echoed.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use ring::digest::{digest, SHA256};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// One key's entry in the keys file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyEntry {
    /// Who holds the key (shown in logs and metrics instead of the key).
    pub name: String,
    /// Lowercase hex SHA-256 of the key.
    pub sha256: String,
    /// Requests allowed per minute; absent = unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_minute: Option<u32>,
    /// Longest range (days) one request may cover; absent = the relay's limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_range_days: Option<u32>,
    /// A revoked key is refused like a wrong one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub revoked: bool,
}

/// The keys file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeysFile {
    /// Every key.
    #[serde(default)]
    pub keys: Vec<KeyEntry>,
}

impl KeysFile {
    /// Reads `path`; a missing file is an empty list when `missing_ok`.
    pub fn read(path: &Path, missing_ok: bool) -> Result<KeysFile, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if missing_ok && e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(KeysFile::default())
            }
            Err(e) => return Err(format!("cannot read keys file {}: {e}", path.display())),
        };
        let file: KeysFile =
            toml::from_str(&text).map_err(|e| format!("keys file {} is not valid: {e}", path.display()))?;
        for key in &file.keys {
            let hex_ok = key.sha256.len() == 64 && key.sha256.bytes().all(|b| b.is_ascii_hexdigit());
            if !hex_ok {
                return Err(format!(
                    "keys file {}: key {:?} needs a 64-digit hex sha256",
                    path.display(),
                    key.name
                ));
            }
        }
        Ok(file)
    }

    /// Adds a new random key called `name` and returns it (the only time it is shown):
    /// 32 bytes from the system's secure generator, hex-encoded, prefixed `cc_`.
    pub fn add(&mut self, name: &str) -> Result<String, String> {
        if name.is_empty() || self.keys.iter().any(|k| k.name == name) {
            return Err(format!("a key called {name:?} already exists (or the name is empty)"));
        }
        let mut bytes = [0u8; 32];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
            .map_err(|_| "the system's random generator failed".to_string())?;
        let key = format!("cc_{}", hex(&bytes));
        self.keys.push(KeyEntry {
            name: name.to_owned(),
            sha256: sha256_hex(&key),
            requests_per_minute: None,
            max_range_days: None,
            revoked: false,
        });
        Ok(key)
    }

    /// Writes the file (atomically: a temporary file renamed over it).
    pub fn write(&self, path: &Path) -> Result<(), String> {
        let text = toml::to_string(self).map_err(|e| e.to_string())?;
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| format!("cannot write keys file {}: {e}", path.display()))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Lowercase hex SHA-256 of `key`.
pub fn sha256_hex(key: &str) -> String {
    hex(digest(&SHA256, key.as_bytes()).as_ref())
}

/// Equality that takes the same time wherever the inputs differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Who a request is, once its key checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The key's name.
    pub name: String,
    /// Its range limit, if any.
    pub max_range: Option<Duration>,
    /// Its quota, if any.
    pub requests_per_minute: Option<u32>,
}

/// The loaded keys and each key's use in the current minute.
#[derive(Debug)]
pub struct Keys {
    keys: Vec<KeyEntry>,
    /// Per key name: the window's start and requests in it.
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl Keys {
    /// The keys of a file (revoked ones stay listed and are refused).
    pub fn new(file: KeysFile) -> Self {
        Keys { keys: file.keys, windows: Mutex::default() }
    }

    /// The caller a request's headers identify: `401` for no key or a wrong or revoked
    /// one. Its quota is counted by [`admit`](Self::admit).
    pub fn check(&self, headers: &HeaderMap) -> Result<Caller, ApiError> {
        let presented = headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .or_else(|| {
                headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Bearer "))
            })
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "UNAUTHORIZED",
                    "an API key is required: send `Authorization: Bearer KEY` or `X-API-Key: KEY`",
                )
            })?;
        let hash = sha256_hex(presented);
        let entry = self
            .keys
            .iter()
            .fold(None, |found, k| {
                if constant_time_eq(k.sha256.to_ascii_lowercase().as_bytes(), hash.as_bytes()) {
                    Some(k)
                } else {
                    found
                }
            })
            .filter(|k| !k.revoked)
            .ok_or_else(|| {
                ApiError::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "the API key is not valid")
            })?;
        let max_range = entry.max_range_days.map(|d| Duration::from_secs(u64::from(d) * 86_400));
        Ok(Caller { name: entry.name.clone(), max_range, requests_per_minute: entry.requests_per_minute })
    }

    /// Counts one request of `caller` against its quota (`429` with `Retry-After` past
    /// it). With Redis every relay on it counts together (one window per minute); without
    /// Redis, or while it is unreachable, this relay counts alone.
    pub async fn admit(&self, cache: &cryptocache::Cache, caller: &Caller) -> Result<(), ApiError> {
        let Some(limit) = caller.requests_per_minute else { return Ok(()) };
        let scope = format!("quota:{}", caller.name);
        let (used, left) = match cache.count_in_window(&scope, MINUTE).await {
            Some(Ok(counted)) => counted,
            Some(Err(e)) => {
                tracing::debug!(error = %e, "shared quota unavailable; counting locally");
                self.count_locally(&caller.name)
            }
            None => self.count_locally(&caller.name),
        };
        if used > u64::from(limit) {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "QUOTA_EXCEEDED",
                format!("key {:?} allows {limit} requests per minute", caller.name),
            )
            .retry_after(left.as_secs_f64().ceil() as u64));
        }
        Ok(())
    }

    /// Counts one request of `name` in this relay's own one-minute window: the requests
    /// so far (this one included) and the time left in the window.
    fn count_locally(&self, name: &str) -> (u64, Duration) {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let (start, used) = windows.entry(name.to_owned()).or_insert((now, 0));
        if now.duration_since(*start) >= MINUTE {
            (*start, *used) = (now, 0);
        }
        *used = used.saturating_add(1);
        (u64::from(*used), MINUTE.saturating_sub(now.duration_since(*start)))
    }
}

/// The quota window.
const MINUTE: Duration = Duration::from_secs(60);

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(name: &'static str, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(value).unwrap());
        h
    }

    #[tokio::test]
    async fn keys_are_stored_hashed_and_checked_with_quotas() {
        let mut file = KeysFile::default();
        let key = file.add("alice").unwrap();
        assert!(key.starts_with("cc_") && key.len() == 67);
        assert!(file.add("alice").is_err(), "names are unique");
        let stored = toml::to_string(&file).unwrap();
        assert!(!stored.contains(&key[3..]), "the key itself is never stored");
        file.keys[0].requests_per_minute = Some(2);
        let keys = Keys::new(file);
        let cache = cryptocache::Cache::builder().no_disk().build().await.unwrap();
        let alice = keys.check(&headers("x-api-key", &key)).unwrap();
        assert_eq!(alice.name, "alice");
        assert!(keys.admit(&cache, &alice).await.is_ok());
        let again = keys.check(&headers("authorization", &format!("Bearer {key}"))).unwrap();
        assert!(keys.admit(&cache, &again).await.is_ok());
        let over = keys.admit(&cache, &again).await.unwrap_err();
        assert_eq!((over.status, over.code), (StatusCode::TOO_MANY_REQUESTS, "QUOTA_EXCEEDED"));
        assert!(over.retry_after.is_some_and(|s| (1..=60).contains(&s)));
        for bad in [headers("x-api-key", "cc_wrong"), HeaderMap::new(), headers("authorization", "Basic x")] {
            assert_eq!(keys.check(&bad).unwrap_err().status, StatusCode::UNAUTHORIZED);
        }
    }

    #[test]
    fn a_revoked_key_is_refused_and_a_bad_file_is_explained() {
        let mut file = KeysFile::default();
        let key = file.add("bob").unwrap();
        file.keys[0].revoked = true;
        assert_eq!(
            Keys::new(file).check(&headers("x-api-key", &key)).unwrap_err().status,
            StatusCode::UNAUTHORIZED
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.toml");
        std::fs::write(&path, "[[keys]]\nname = \"x\"\nsha256 = \"abc\"\n").unwrap();
        assert!(KeysFile::read(&path, false).unwrap_err().contains("64-digit hex"));
        assert_eq!(KeysFile::read(&dir.path().join("none.toml"), true).unwrap(), KeysFile::default());
    }
}
