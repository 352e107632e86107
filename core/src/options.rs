//! Plain options for building a cache, shared by every language binding (Python
//! keyword arguments, a JS options object, a C struct all land here), so the rules for
//! defaults and validation live in one place.

use std::path::PathBuf;

use std::time::Duration;

use crate::archive::ArchiveMode;
use crate::cache::CacheBuilder;
use crate::error::{Error, Result};
use crate::exchange::RetryPolicy;
use crate::model::Exchange;
use crate::policy::Policy;

/// The options every binding exposes.
#[derive(Clone, Default, PartialEq)]
pub struct CacheOptions {
    /// Memory tier size in MiB; `None` = the default (256), `Some(0)` = no memory tier.
    pub memory_mb: Option<u64>,
    /// Disk tier directory; `None` = the default directory.
    pub disk_path: Option<PathBuf>,
    /// No disk tier at all (wins over `disk_path`).
    pub no_disk: bool,
    /// Redis URL (`redis://`, `rediss://`, `redis+cluster://`, `redis+sentinel://`), if any.
    pub redis_url: Option<String>,
    /// One base URL for every exchange (the simulator serves them all).
    pub exchange_url: Option<String>,
    /// Base URLs per exchange name (`binance`, `bybit`, `okx`, `deribit`), applied after
    /// `exchange_url`.
    pub exchange_urls: Vec<(String, String)>,
    /// The source namespace to store values under (see [`CacheBuilder::source`]); `None`
    /// = `live` for the exchanges' own endpoints, derived from the URL otherwise.
    pub source: Option<String>,
    /// A cryptocache relay to fetch through instead of the exchanges (see
    /// [`CacheBuilder::relay`]); exclusive with the exchange URLs.
    pub relay_url: Option<String>,
    /// The relay's API key, if it wants one. Never printed.
    pub api_key: Option<String>,
    /// `auto` (the default), `off` or `only`: whether closed history comes from the
    /// exchanges' bulk archives (see [`ArchiveMode`]).
    pub archives: Option<String>,
    /// Archive base URLs per exchange name, applied after `exchange_url` (which points
    /// the archives at the same base URL).
    pub archive_urls: Vec<(String, String)>,
    /// Numeric settings by name (see [`SETTINGS`]), set through [`CacheOptions::set`].
    settings: Vec<(&'static str, f64)>,
}

/// One numeric setting every binding exposes under the same name.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Setting {
    /// Its name in every face (Python keyword, JS `camelCase` of it, C field).
    pub name: &'static str,
    /// Smallest accepted value.
    pub min: f64,
    /// Largest accepted value.
    pub max: f64,
    /// Whether it must be a whole number.
    pub whole: bool,
    /// The default, as documented.
    pub default: &'static str,
    /// What it does.
    pub meaning: &'static str,
}

/// Every numeric setting, its range, default and meaning (the table in `docs/options.md`).
pub const SETTINGS: &[Setting] = &[
    Setting { name: "settle_secs", min: 0.0, max: 86_400.0, whole: false, default: "120",
        meaning: "delay after a segment's end before it is final (exchanges revise fresh candles)" },
    Setting { name: "open_jitter_secs", min: 0.0, max: 3_600.0, whole: false, default: "2",
        meaning: "largest random delay added to an open segment's expiry, so clients do not refetch at once" },
    Setting { name: "empty_ttl_secs", min: 1.0, max: 3.2e8, whole: false, default: "forever",
        meaning: "lifetime of a closed segment the exchange answered empty for" },
    Setting { name: "instruments_ttl_secs", min: 1.0, max: 2_592_000.0, whole: false, default: "3600",
        meaning: "how long what an instruments list said of a symbol is trusted" },
    Setting { name: "order_book_ttl_secs", min: 0.001, max: 3_600.0, whole: false, default: "1",
        meaning: "lifetime of an order-book snapshot" },
    Setting { name: "prefetch", min: 0.0, max: 64.0, whole: true, default: "2",
        meaning: "background prefetches at once for sequential kline reads (0 = off)" },
    Setting { name: "upstream_concurrency", min: 1.0, max: 64.0, whole: true, default: "4",
        meaning: "segment fetches one query runs at once" },
    Setting { name: "max_wait_secs", min: 0.0, max: 86_400.0, whole: false, default: "60",
        meaning: "longest any wait may last (rate budget, ban, backoff, another process's fetch); longer fails at once with RATE_LIMITED" },
    Setting { name: "max_retries", min: 0.0, max: 20.0, whole: true, default: "5",
        meaning: "retries of a failed upstream request after the first attempt" },
    Setting { name: "stale_while_revalidate_secs", min: 0.0, max: 86_400.0, whole: false, default: "0 (off)",
        meaning: "how long after its expiry an open segment is still served at once, marked stale, while one background refresh replaces it" },
    Setting { name: "disk_max_mb", min: 1.0, max: 1.0e9, whole: true, default: "unbounded",
        meaning: "size bound of the disk tier in MiB: past it the least recently used segment files are removed, down to 80 %" },
    Setting { name: "redis_ttl_secs", min: 1.0, max: 3.2e8, whole: false, default: "none",
        meaning: "TTL of closed segments in Redis (open ones always expire on their own)" },
    Setting { name: "offline_budget_share", min: 0.01, max: 1.0, whole: false, default: "0.25",
        meaning: "share of each exchange's rate budget one process spends while the shared budget in Redis is unreachable" },
];

impl std::fmt::Debug for CacheOptions {
    /// Never prints a Redis password or the relay's API key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheOptions")
            .field("memory_mb", &self.memory_mb)
            .field("disk_path", &self.disk_path)
            .field("no_disk", &self.no_disk)
            .field("redis_url", &self.redis_url.as_deref().map(redacted))
            .field("exchange_url", &self.exchange_url)
            .field("exchange_urls", &self.exchange_urls)
            .field("source", &self.source)
            .field("relay_url", &self.relay_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field("archives", &self.archives)
            .field("archive_urls", &self.archive_urls)
            .field("settings", &self.settings)
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
    /// Sets the numeric setting `name` (see [`SETTINGS`]); an unknown name or a value out
    /// of its range is a [`Error::Config`] saying what is accepted.
    pub fn set(&mut self, name: &str, value: f64) -> Result<()> {
        let Some(setting) = SETTINGS.iter().find(|s| s.name == name) else {
            let names: Vec<&str> = SETTINGS.iter().map(|s| s.name).collect();
            return Err(Error::Config(format!("unknown setting {name:?}: use one of {}", names.join(", "))));
        };
        let whole = !setting.whole || value.fract() == 0.0;
        if !value.is_finite() || value < setting.min || value > setting.max || !whole {
            return Err(Error::Config(format!(
                "{name} must be {}between {} and {}, not {value}",
                if setting.whole { "a whole number " } else { "" },
                setting.min,
                setting.max
            )));
        }
        self.settings.retain(|(n, _)| *n != setting.name);
        self.settings.push((setting.name, value));
        Ok(())
    }

    /// The value set for `name`, if any.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.settings.iter().find(|(n, _)| *n == name).map(|&(_, v)| v)
    }

    /// The policy, retries and pacing the settings describe, over the defaults.
    fn apply_settings(&self, mut b: CacheBuilder) -> CacheBuilder {
        let secs = |name| self.get(name).map(Duration::from_secs_f64);
        let mut policy = Policy::default();
        let mut retry = RetryPolicy::default();
        policy.settle = secs("settle_secs").unwrap_or(policy.settle);
        policy.jitter = secs("open_jitter_secs").unwrap_or(policy.jitter);
        policy.empty_ttl = secs("empty_ttl_secs").or(policy.empty_ttl);
        policy.instruments_ttl = secs("instruments_ttl_secs").unwrap_or(policy.instruments_ttl);
        policy.order_book_ttl = secs("order_book_ttl_secs").unwrap_or(policy.order_book_ttl);
        policy.stale_while_revalidate =
            secs("stale_while_revalidate_secs").unwrap_or(policy.stale_while_revalidate);
        retry.max_wait = secs("max_wait_secs").unwrap_or(retry.max_wait);
        retry.max_retries = self.get("max_retries").map_or(retry.max_retries, |n| n as u32);
        b = b.policy(policy).retry(retry);
        if let Some(n) = self.get("prefetch") {
            b = b.prefetch(n as usize);
        }
        if let Some(n) = self.get("upstream_concurrency") {
            b = b.upstream_concurrency(n as usize);
        }
        if let Some(mb) = self.get("disk_max_mb") {
            b = b.disk_max_mb(mb as u64);
        }
        #[cfg(feature = "redis")]
        {
            if let Some(ttl) = secs("redis_ttl_secs") {
                b = b.redis_ttl(ttl);
            }
            if let Some(share) = self.get("offline_budget_share") {
                b = b.offline_budget_share(share);
            }
        }
        b
    }

    /// A builder with these options applied; unknown exchange names are an error.
    pub fn builder(&self) -> Result<CacheBuilder> {
        let mut b = self.apply_settings(CacheBuilder::default());
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
            b = b.exchange_url_for(exchange_named(name)?, url);
        }
        for (name, url) in &self.archive_urls {
            b = b.archive_url_for(exchange_named(name)?, url);
        }
        if let Some(mode) = &self.archives {
            b = b.archives(mode.parse::<ArchiveMode>()?);
        }
        if let Some(name) = &self.source {
            b = b.source(name);
        }
        match (&self.relay_url, &self.api_key) {
            (Some(url), key) => b = b.relay(url, key.clone()),
            (None, Some(_)) => {
                return Err(Error::Config("an API key is for a relay: set the relay URL too".into()))
            }
            (None, None) => {}
        }
        Ok(b)
    }
}

/// The exchange called `name` (a configuration error otherwise).
fn exchange_named(name: &str) -> Result<Exchange> {
    name.parse().map_err(|e: Error| match e {
        Error::InvalidQuery(message) => Error::Config(message),
        other => other,
    })
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
        let bad = CacheOptions { archives: Some("yes".into()), ..CacheOptions::default() };
        assert!(matches!(bad.builder(), Err(Error::Config(m)) if m.contains("auto, off or only")));
        let unread = CacheOptions {
            archive_urls: vec![("deribit".into(), "http://x".into())],
            ..CacheOptions::default()
        };
        let built = unread.builder().unwrap().build().await;
        assert!(
            matches!(built, Err(Error::Config(m)) if m.contains("publishes no archive")),
            "deribit has no archive"
        );
        let secret = CacheOptions {
            redis_url: Some("redis://:pw123@h:1".into()),
            relay_url: Some("http://relay:8080".into()),
            api_key: Some("k-secret-42".into()),
            ..CacheOptions::default()
        };
        assert!(!format!("{secret:?}").contains("k-secret-42"));
        assert!(!format!("{secret:?}").contains("pw123"));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn settings_are_checked_by_name_and_range() {
        let mut o = CacheOptions::default();
        o.set("settle_secs", 30.0).unwrap();
        o.set("prefetch", 0.0).unwrap();
        o.set("settle_secs", 45.5).unwrap();
        assert_eq!((o.get("settle_secs"), o.get("prefetch")), (Some(45.5), Some(0.0)));
        for (name, value, says) in [
            ("settle", 1.0, "unknown setting"),
            ("prefetch", 1.5, "whole number"),
            ("upstream_concurrency", 0.0, "between 1 and 64"),
            ("max_wait_secs", -1.0, "between 0"),
            ("order_book_ttl_secs", f64::NAN, "NaN"),
        ] {
            let err = o.set(name, value).unwrap_err();
            assert!(matches!(&err, Error::Config(m) if m.contains(says)), "{name}={value}: {err}");
        }
        assert!(SETTINGS.iter().all(|s| !s.meaning.is_empty() && s.min <= s.max));
    }

    #[test]
    fn the_options_doc_lists_every_setting_with_its_default_and_meaning() {
        let doc = include_str!("../../docs/options.md");
        for s in SETTINGS {
            let row = format!("| `{}` | {} |", s.name, s.default);
            assert!(doc.contains(&row), "docs/options.md lacks {row}");
            assert!(doc.contains(s.meaning), "docs/options.md: meaning of {}", s.name);
        }
    }
}
