//! Redis Sentinel: `redis+sentinel://[user:password@]host:port,host:port/mastername[/db]`
//! (`rediss+sentinel://` for TLS). The sentinels are asked which server is the primary
//! of `mastername`; the connection follows it. When a call fails, the sentinels are
//! asked again (one question at a time) and, once they name another primary that says it
//! is one (`ROLE`), every later call goes there. Meanwhile calls fail fast and the cache
//! serves from its other tiers, as whenever Redis is away.
//!
//! The user and password are the data nodes'; sentinels are asked without them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::error::{Error, Result};

/// A parsed `redis+sentinel://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SentinelUrl {
    /// `redis://host:port` (or `rediss://`) of each sentinel, in the order given.
    pub sentinels: Vec<String>,
    /// The monitored master's name.
    pub master: String,
    /// `redis` or `rediss`: how the data nodes (and sentinels) are reached.
    scheme: String,
    /// `user:password@` or empty.
    userinfo: String,
    /// The database number on the data nodes.
    db: u32,
}

impl SentinelUrl {
    /// `None` when `url` is not a sentinel URL; an error when it is one but malformed.
    pub(super) fn parse(url: &str) -> Option<Result<SentinelUrl>> {
        let (scheme, rest) = url.split_once("://")?;
        let scheme = scheme.strip_suffix("+sentinel")?;
        Some(Self::parse_rest(scheme, rest, url))
    }

    fn parse_rest(scheme: &str, rest: &str, url: &str) -> Result<SentinelUrl> {
        let bad = |why: &str| {
            Error::Config(format!(
                "bad Redis Sentinel URL {}: {why} (expected {scheme}+sentinel://[user:password@]host:port,host:port/mastername[/db])",
                super::redact(url)
            ))
        };
        if scheme != "redis" && scheme != "rediss" {
            return Err(bad("the scheme must be redis+sentinel or rediss+sentinel"));
        }
        let (authority, path) = rest.split_once('/').ok_or_else(|| bad("no master name"))?;
        let (userinfo, hosts) = match authority.rsplit_once('@') {
            Some((user, hosts)) => (format!("{user}@"), hosts),
            None => (String::new(), authority),
        };
        let mut sentinels = Vec::new();
        for host in hosts.split(',').map(str::trim) {
            let (name, port) = host.rsplit_once(':').ok_or_else(|| bad("each sentinel needs host:port"))?;
            if name.is_empty() || port.parse::<u16>().is_err() {
                return Err(bad("each sentinel needs host:port"));
            }
            sentinels.push(format!("{scheme}://{host}"));
        }
        let mut parts = path.split('/');
        let master = parts.next().unwrap_or_default().to_owned();
        if master.is_empty() {
            return Err(bad("no master name"));
        }
        let db = match parts.next() {
            None | Some("") => 0,
            Some(db) => db.parse().map_err(|_| bad("the database must be a number"))?,
        };
        if parts.next().is_some() {
            return Err(bad("too many path parts"));
        }
        Ok(SentinelUrl { sentinels, master, scheme: scheme.to_owned(), userinfo, db })
    }

    /// The URL of the data node at `host:port`, with the user, password and database.
    fn data_url(&self, host: &str, port: u16) -> String {
        format!("{}://{}{host}:{port}/{}", self.scheme, self.userinfo, self.db)
    }
}

/// Builds a client for a URL (with the configured CA for TLS).
pub(super) type ClientFor = Arc<dyn Fn(&str) -> redis::RedisResult<redis::Client> + Send + Sync>;

/// The current primary: its address, a connection manager and a client for pub/sub.
#[derive(Clone)]
struct Primary {
    address: (String, u16),
    conn: ConnectionManager,
    client: redis::Client,
}

/// A connection that follows the primary the sentinels name.
pub(super) struct Follower {
    url: SentinelUrl,
    client_for: ClientFor,
    manager: ConnectionManagerConfig,
    /// Longest wait for one sentinel's answer or one connection.
    timeout: Duration,
    current: RwLock<Primary>,
    /// Whether a re-resolution is running (one at a time).
    resolving: AtomicBool,
}

impl Follower {
    /// Asks the sentinels for the primary and connects to it.
    pub(super) async fn connect(
        url: SentinelUrl,
        client_for: ClientFor,
        manager: ConnectionManagerConfig,
        timeout: Duration,
    ) -> Result<Follower> {
        let address = master_address(&url, &client_for, timeout).await?;
        let primary = open(&url, &client_for, &manager, timeout, address).await?;
        Ok(Follower {
            url,
            client_for,
            manager,
            timeout,
            current: RwLock::new(primary),
            resolving: AtomicBool::new(false),
        })
    }

    /// The connection to the current primary.
    pub(super) fn conn(&self) -> ConnectionManager {
        self.current.read().unwrap_or_else(|e| e.into_inner()).conn.clone()
    }

    /// A client for the current primary (pub/sub connections).
    pub(super) fn client(&self) -> redis::Client {
        self.current.read().unwrap_or_else(|e| e.into_inner()).client.clone()
    }

    /// `host:port` of the current primary.
    pub(super) fn address(&self) -> (String, u16) {
        self.current.read().unwrap_or_else(|e| e.into_inner()).address.clone()
    }

    /// Asks the sentinels again and switches when they name another primary that
    /// answers as one. Returns at once when another caller is already asking.
    pub(super) async fn follow(&self) {
        if self.resolving.swap(true, Ordering::AcqRel) {
            return;
        }
        let switched = async {
            let address = master_address(&self.url, &self.client_for, self.timeout).await.ok()?;
            if address == self.address() {
                return None;
            }
            open(&self.url, &self.client_for, &self.manager, self.timeout, address).await.ok()
        }
        .await;
        if let Some(primary) = switched {
            tracing::info!(master = %self.url.master, host = %primary.address.0, port = primary.address.1, "Redis Sentinel: following the new primary");
            *self.current.write().unwrap_or_else(|e| e.into_inner()) = primary;
        }
        self.resolving.store(false, Ordering::Release);
    }
}

/// The primary's address as the first sentinel that knows `url.master` reports it.
async fn master_address(
    url: &SentinelUrl,
    client_for: &ClientFor,
    timeout: Duration,
) -> Result<(String, u16)> {
    let mut last = String::from("no sentinel answered");
    for sentinel in &url.sentinels {
        let ask = async {
            let client = client_for(sentinel)?;
            let mut conn = client.get_multiplexed_async_connection().await?;
            redis::cmd("SENTINEL")
                .arg("get-master-addr-by-name")
                .arg(&url.master)
                .query_async::<Option<(String, String)>>(&mut conn)
                .await
        };
        match tokio::time::timeout(timeout, ask).await {
            Ok(Ok(Some((host, port)))) => match port.parse() {
                Ok(port) => return Ok((host, port)),
                Err(_) => last = format!("{sentinel} named port {port:?}"),
            },
            Ok(Ok(None)) => last = format!("{sentinel} does not monitor a master named {:?}", url.master),
            Ok(Err(e)) => last = format!("{sentinel}: {}", super::conn::describe(&e)),
            Err(_) => last = format!("{sentinel}: timed out after {timeout:?}"),
        }
    }
    Err(Error::Config(format!(
        "Redis Sentinel: no primary for {:?} from {} sentinel(s) ({last})",
        url.master,
        url.sentinels.len()
    )))
}

/// Connects to the data node at `address` and checks that it is a primary.
async fn open(
    url: &SentinelUrl,
    client_for: &ClientFor,
    manager: &ConnectionManagerConfig,
    timeout: Duration,
    address: (String, u16),
) -> Result<Primary> {
    let at = format!("{}:{}", address.0, address.1);
    let fail = |what: String| Error::Config(format!("Redis Sentinel: primary at {at}: {what}"));
    let client =
        client_for(&url.data_url(&address.0, address.1)).map_err(|e| fail(super::conn::describe(&e)))?;
    let connect = ConnectionManager::new_with_config(client.clone(), manager.clone());
    let mut conn = tokio::time::timeout(timeout * 2, connect)
        .await
        .map_err(|_| fail("connect timed out".into()))?
        .map_err(|e| fail(super::conn::describe(&e)))?;
    // A server the sentinels still name while it is being demoted must not take writes
    // from us: ROLE says which it is (an ACL that forbids ROLE is trusted as is).
    let role = tokio::time::timeout(timeout, redis::cmd("ROLE").query_async::<redis::Value>(&mut conn)).await;
    if let Ok(Ok(redis::Value::Array(items))) = role {
        let first = items.first().and_then(|v| redis::from_redis_value::<String>(v.clone()).ok());
        if first.as_deref() != Some("master") {
            return Err(fail(format!("is a {}, not a primary", first.unwrap_or_default())));
        }
    }
    Ok(Primary { address, conn, client })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_sentinels_master_and_database() {
        let url = SentinelUrl::parse("redis+sentinel://u:pw@10.0.0.1:26379, 10.0.0.2:26380/mymaster/3")
            .unwrap()
            .unwrap();
        assert_eq!(url.sentinels, ["redis://10.0.0.1:26379", "redis://10.0.0.2:26380"]);
        assert_eq!(url.master, "mymaster");
        assert_eq!(url.data_url("10.0.0.9", 6379), "redis://u:pw@10.0.0.9:6379/3");
        let tls = SentinelUrl::parse("rediss+sentinel://h:1/m").unwrap().unwrap();
        assert_eq!(tls.data_url("h", 2), "rediss://h:2/0");
        assert!(SentinelUrl::parse("redis://h:1").is_none());
        assert!(SentinelUrl::parse("redis+cluster://h:1").is_none());
    }

    #[test]
    fn malformed_urls_say_why_without_the_password() {
        for (url, why) in [
            ("redis+sentinel://u:secret@h:1", "no master name"),
            ("redis+sentinel://u:secret@h:1/", "no master name"),
            ("redis+sentinel://u:secret@h/m", "host:port"),
            ("redis+sentinel://u:secret@h:x/m", "host:port"),
            ("redis+sentinel://u:secret@h:1/m/x", "database"),
            ("redis+sentinel://u:secret@h:1/m/1/2", "too many"),
            ("http+sentinel://h:1/m", "scheme"),
        ] {
            let err = SentinelUrl::parse(url).unwrap().unwrap_err().to_string();
            assert!(err.contains(why), "{url}: {err}");
            assert!(!err.contains("secret"), "{err}");
        }
    }
}
