//! Source namespaces: which upstream a cached value came from.
//!
//! A cached segment is served for ever, to every process sharing the cache, so values
//! fetched from a simulator, a proxy or a testnet must never be served as the live
//! exchange's. Every [`SeriesKey`](crate::SeriesKey) carries its source; storage keys,
//! disk paths and the encoded header all include it.
//!
//! - The exchanges' own endpoints (the defaults) are the namespace [`LIVE`].
//! - Any other base URL gets a namespace derived from the URL ([`derived`]): its host and
//!   port, readable, plus a hash of the whole URL, so two different URLs never share one.
//! - A user may name the namespace instead ([`validate_name`] says what a name may be),
//!   e.g. `sim`, `testnet`, or `live` for a transparent proxy of the live exchange.

use crate::error::{Error, Result};

/// The namespace of the exchanges' own (default) endpoints.
pub const LIVE: &str = "live";

/// Longest accepted namespace name.
const MAX_NAME: usize = 64;

/// Checks a user-given namespace name: 1–64 characters of `a-z 0-9 . _ -`, starting with
/// a letter or digit (it becomes a directory name and part of Redis keys).
pub fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        && name.as_bytes()[0].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "source name {name:?} is not valid: use 1-{MAX_NAME} characters of a-z, 0-9, '.', '_', '-', \
             starting with a letter or digit"
        )))
    }
}

/// The namespace of values fetched from `urls` (one venue's base URLs): readable host and
/// port plus 8 hex digits of a hash of every URL, e.g. `127.0.0.1-8080-3fa2c1d0`.
pub fn derived(urls: &[&str]) -> String {
    let normalized: Vec<String> = urls.iter().map(|u| normalize(u)).collect();
    let host = normalized.first().map(|u| host_port(u)).unwrap_or_default();
    let readable: String = host
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' { c.to_ascii_lowercase() } else { '-' })
        .take(40)
        .collect();
    let readable = readable.trim_matches(|c: char| c == '-' || c == '.');
    let hash = fnv1a(normalized.join("\n").as_bytes());
    if readable.is_empty() {
        format!("url-{:08x}", hash as u32)
    } else {
        format!("{readable}-{:08x}", hash as u32)
    }
}

/// A base URL without trailing slashes, scheme and host lower-cased.
pub(crate) fn normalize(url: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    match url.find("://") {
        Some(at) => {
            let (scheme, rest) = url.split_at(at + 3);
            let host_end = rest.find('/').unwrap_or(rest.len());
            let (host, path) = rest.split_at(host_end);
            format!("{}{}{path}", scheme.to_ascii_lowercase(), host.to_ascii_lowercase())
        }
        None => url.to_string(),
    }
}

/// `host:port` of a URL (without user info).
fn host_port(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or(rest);
    authority.rsplit_once('@').map_or(authority, |(_, h)| h)
}

/// 64-bit FNV-1a: stable across builds and platforms (unlike `DefaultHasher`).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The namespace for one venue: `named` if given; [`LIVE`] if every URL is the venue's
/// default; otherwise [`derived`] from the URLs.
pub(crate) fn resolve(named: Option<&str>, urls: &[&str], defaults: &[&str]) -> Result<String> {
    if let Some(name) = named {
        validate_name(name)?;
        return Ok(name.to_string());
    }
    let live =
        urls.len() == defaults.len() && urls.iter().zip(defaults).all(|(u, d)| normalize(u) == normalize(d));
    Ok(if live { LIVE.to_string() } else { derived(urls) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_derived_and_named() {
        let live = ["https://api.binance.com", "https://fapi.binance.com"];
        assert_eq!(
            resolve(None, &["https://API.binance.com/", "https://fapi.binance.com"], &live).unwrap(),
            LIVE
        );
        let sim = resolve(None, &["http://127.0.0.1:8080", "http://127.0.0.1:8080"], &live).unwrap();
        assert!(sim.starts_with("127.0.0.1-8080-"), "{sim}");
        assert_ne!(sim, resolve(None, &["http://127.0.0.1:8081", "http://127.0.0.1:8081"], &live).unwrap());
        assert_ne!(sim, resolve(None, &["http://127.0.0.1:8080/x", "http://127.0.0.1:8080"], &live).unwrap());
        assert_eq!(sim, derived(&["http://127.0.0.1:8080/", "http://127.0.0.1:8080"]), "stable");
        assert!(derived(&["http://user:pw@proxy.example:3128"]).starts_with("proxy.example-3128-"));
        assert!(!derived(&["http://user:secret@h"]).contains("secret"));
        assert_eq!(resolve(Some("testnet"), &live, &live).unwrap(), "testnet");
        for bad in ["", "Sim", "a/b", "-x", "a b", &"x".repeat(65)] {
            assert!(matches!(resolve(Some(bad), &live, &live), Err(Error::Config(_))), "{bad:?}");
        }
    }
}
