//! Plain options for building a cache, shared by every language binding (Python
//! keyword arguments, a JS options object, a C struct all land here), so the rules for
//! defaults and validation live in one place.

use std::path::PathBuf;

use crate::cache::CacheBuilder;
use crate::error::{Error, Result};
use crate::model::Exchange;

/// The options every binding exposes.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CacheOptions {
    /// Memory tier size in MiB; `None` = the default (256), `Some(0)` = no memory tier.
    pub memory_mb: Option<u64>,
    /// Disk tier directory; `None` = the default directory.
    pub disk_path: Option<PathBuf>,
    /// No disk tier at all (wins over `disk_path`).
    pub no_disk: bool,
    /// Redis URL (`redis://`, `rediss://`, `redis+cluster://`), if any.
    pub redis_url: Option<String>,
    /// One base URL for every exchange (the simulator serves them all).
    pub exchange_url: Option<String>,
    /// Base URLs per exchange name (`binance`, `bybit`, `okx`, `deribit`), applied after
    /// `exchange_url`.
    pub exchange_urls: Vec<(String, String)>,
    /// The source namespace to store values under (see [`CacheBuilder::source`]); `None`
    /// = `live` for the exchanges' own endpoints, derived from the URL otherwise.
    pub source: Option<String>,
}

impl std::fmt::Debug for CacheOptions {
    /// Never prints a Redis password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheOptions")
            .field("memory_mb", &self.memory_mb)
            .field("disk_path", &self.disk_path)
            .field("no_disk", &self.no_disk)
            .field("redis_url", &self.redis_url.as_deref().map(redacted))
            .field("exchange_url", &self.exchange_url)
            .field("exchange_urls", &self.exchange_urls)
            .field("source", &self.source)
            .finish()
    }
}

fn redacted(url: &str) -> String {
    #[cfg(feature = "redis")]
    {
        crate::redis::redact(url)
    }
    #[cfg(not(feature = "redis"))]
    {
        let _ = url;
        "<redis url>".into()
    }
}

impl CacheOptions {
    /// A builder with these options applied; unknown exchange names are an error.
    pub fn builder(&self) -> Result<CacheBuilder> {
        let mut b = CacheBuilder::default();
        b = match self.memory_mb {
            Some(0) => b.no_memory(),
            Some(mb) => b.memory_mb(mb),
            None => b,
        };
        b = match (&self.disk_path, self.no_disk) {
            (_, true) => b.no_disk(),
            (Some(dir), false) => b.disk(dir),
            (None, false) => b,
        };
        if let Some(url) = &self.redis_url {
            #[cfg(feature = "redis")]
            {
                b = b.redis(url);
            }
            #[cfg(not(feature = "redis"))]
            {
                let _ = url;
                return Err(Error::Unsupported("this build has no Redis support".into()));
            }
        }
        if let Some(url) = &self.exchange_url {
            b = b.exchange_url(url);
        }
        for (name, url) in &self.exchange_urls {
            let exchange: Exchange = name.parse().map_err(|e: Error| match e {
                Error::InvalidQuery(message) => Error::Config(message),
                other => other,
            })?;
            b = b.exchange_url_for(exchange, url);
        }
        if let Some(name) = &self.source {
            b = b.source(name);
        }
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn options_build_and_reject_unknown_exchanges() {
        let dir = std::env::temp_dir().join(format!("cc-options-{}", std::process::id()));
        let options = CacheOptions {
            memory_mb: Some(0),
            disk_path: Some(dir.clone()),
            exchange_urls: vec![("okx".into(), "http://127.0.0.1:1".into())],
            ..CacheOptions::default()
        };
        let cache = options.builder().unwrap().build().await.unwrap();
        assert_eq!(cache.stats().tiers.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["disk"]);
        let bad = CacheOptions { exchange_urls: vec![("ftx".into(), "x".into())], ..CacheOptions::default() };
        assert!(matches!(bad.builder(), Err(Error::Config(m)) if m.contains("unknown exchange")));
        let secret = CacheOptions { redis_url: Some("redis://:pw123@h:1".into()), ..CacheOptions::default() };
        assert!(!format!("{secret:?}").contains("pw123"));
        let _ = std::fs::remove_dir_all(dir);
    }
}
