//! The connection to Redis or Redis Cluster: configuration, connect with a clear error
//! at build time, timeouts, the circuit breaker, and a password-free display name.

use std::fmt;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, FromRedisValue, Pipeline, Script, ScriptInvocation, TlsCertificates};

use super::breaker::Breaker;
use super::sentinel::{ClientFor, Follower, SentinelUrl};
use crate::error::{Error, Result};

/// How to reach Redis.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// `redis://[user:password@]host:port[/db]`, `rediss://...` for TLS, or
    /// `redis+cluster://[user:password@]host:port,host:port,...` (`rediss+cluster://`) for
    /// Redis Cluster, or
    /// `redis+sentinel://[user:password@]host:port,host:port/mastername[/db]`
    /// (`rediss+sentinel://`) for the primary that Redis Sentinel names (followed across
    /// failovers).
    pub url: String,
    /// Prefix of every key (default `cc`): several caches can share one Redis, and an
    /// ACL user can be limited to `~prefix:*`.
    pub prefix: String,
    /// Longest wait for one Redis operation before it counts as failed.
    pub op_timeout: Duration,
    /// Longest wait for a connection.
    pub connect_timeout: Duration,
    /// PEM of a CA to trust for `rediss://` instead of the system's roots.
    pub ca_cert_pem: Option<Vec<u8>>,
}

impl RedisConfig {
    /// A config for `url` with default prefix and timeouts.
    pub fn new(url: impl Into<String>) -> Self {
        RedisConfig {
            url: url.into(),
            prefix: "cc".into(),
            op_timeout: Duration::from_millis(500),
            connect_timeout: Duration::from_secs(2),
            ca_cert_pem: None,
        }
    }
}

impl fmt::Debug for RedisConfig {
    /// Never prints the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &redact(&self.url))
            .field("prefix", &self.prefix)
            .field("op_timeout", &self.op_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("ca_cert_pem", &self.ca_cert_pem.as_ref().map(|_| "<pem>"))
            .finish()
    }
}

/// `keys` grouped by their Redis Cluster hash tag (the text in the first `{…}`; the
/// whole key when there is none), in first-seen order.
fn by_hash_tag(keys: &[String]) -> Vec<Vec<&str>> {
    let tag = |key: &str| -> String {
        key.split_once('{')
            .and_then(|(_, rest)| rest.split_once('}'))
            .filter(|(tag, _)| !tag.is_empty())
            .map_or_else(|| key.to_owned(), |(tag, _)| tag.to_owned())
    };
    let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
    for key in keys {
        let t = tag(key);
        match groups.iter_mut().find(|(g, _)| *g == t) {
            Some((_, group)) => group.push(key),
            None => groups.push((t, vec![key])),
        }
    }
    groups.into_iter().map(|(_, group)| group).collect()
}

#[cfg(test)]
#[test]
fn keys_group_by_hash_tag() {
    let keys: Vec<String> = ["a:{X}:1", "a:{Y}:1", "a:{X}:2", "plain", "b:{}:3"].map(String::from).to_vec();
    assert_eq!(
        by_hash_tag(&keys),
        [vec!["a:{X}:1", "a:{X}:2"], vec!["a:{Y}:1"], vec!["plain"], vec!["b:{}:3"]]
    );
}

/// `url` with the password (if any) replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => {
            let user = rest[..at].split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{}", &rest[at + 1..])
        }
        None => url.to_string(),
    }
}

/// A connection to send one call on.
#[derive(Clone)]
enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

/// How calls reach Redis: a fixed server or cluster, or the primary Sentinel names now.
#[derive(Clone)]
enum Link {
    Fixed {
        conn: Conn,
        /// A client for pub/sub connections (a cluster's first node: PUBLISH reaches every
        /// node's subscribers through the cluster bus).
        subscriber: Box<redis::Client>,
    },
    Followed(std::sync::Arc<Follower>),
}

impl Link {
    /// The connection for the next call.
    fn conn(&self) -> Conn {
        match self {
            Link::Fixed { conn, .. } => conn.clone(),
            Link::Followed(follower) => Conn::Single(follower.conn()),
        }
    }

    /// A client for the next pub/sub connection.
    fn subscriber(&self) -> redis::Client {
        match self {
            Link::Fixed { subscriber, .. } => (**subscriber).clone(),
            Link::Followed(follower) => follower.client(),
        }
    }
}

/// A live connection to Redis, shared by the tier, the lock and the budget.
#[derive(Clone)]
pub struct Shared {
    link: Link,
    prefix: String,
    op_timeout: Duration,
    display: String,
    breaker: std::sync::Arc<Breaker>,
}

/// `connect`'s outcome, or a configuration error naming the server if it takes longer
/// than `limit`.
async fn within<T>(
    limit: Duration,
    display: &str,
    connect: impl std::future::Future<Output = T>,
) -> Result<T> {
    tokio::time::timeout(limit, connect)
        .await
        .map_err(|_| Error::Config(format!("cannot use Redis at {display}: connect timed out")))
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("redis", &self.display)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// Connects and authenticates; a wrong password, an unreachable server or a bad URL
    /// is an [`Error::Config`] naming the server (never the password).
    pub async fn connect(config: &RedisConfig) -> Result<Shared> {
        // redis-rs' rustls needs a process-wide crypto provider; ring, as for HTTP.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let display = redact(&config.url);
        let fail = |what: &str, e: redis::RedisError| {
            Error::Config(format!("cannot use Redis at {display}: {what}: {}", describe(&e)))
        };
        let certs = || TlsCertificates { client_tls: None, root_cert: config.ca_cert_pem.clone() };
        let ca = config.ca_cert_pem.clone();
        let client_for: ClientFor = std::sync::Arc::new(move |url: &str| match &ca {
            Some(pem) => redis::Client::build_with_tls(
                url,
                TlsCertificates { client_tls: None, root_cert: Some(pem.clone()) },
            ),
            None => redis::Client::open(url),
        });
        let manager = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.connect_timeout))
            .set_response_timeout(Some(config.op_timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let link = if let Some(url) = SentinelUrl::parse(&config.url) {
            let follower = Follower::connect(url?, client_for, manager, config.connect_timeout)
                .await
                .map_err(|e| Error::Config(format!("cannot use Redis at {display}: {e}")))?;
            Link::Followed(std::sync::Arc::new(follower))
        } else {
            match cluster_nodes(&config.url) {
                Some(nodes) => {
                    let first = nodes.first().cloned().unwrap_or_default();
                    let subscriber = client_for(&first).map_err(|e| fail("bad cluster URL", e))?;
                    let mut builder = ClusterClient::builder(nodes)
                        .connection_timeout(config.connect_timeout)
                        .response_timeout(config.op_timeout)
                        .retries(1);
                    if config.ca_cert_pem.is_some() {
                        builder = builder.certs(certs());
                    }
                    let client = builder.build().map_err(|e| fail("bad cluster URL", e))?;
                    let conn = within(config.connect_timeout * 2, &display, client.get_async_connection())
                        .await?
                        .map_err(|e| fail("connect", e))?;
                    Link::Fixed { conn: Conn::Cluster(conn), subscriber: Box::new(subscriber) }
                }
                None => {
                    let client = client_for(&config.url).map_err(|e| fail("bad URL", e))?;
                    let subscriber = client.clone();
                    let connect = ConnectionManager::new_with_config(client, manager);
                    let conn = within(config.connect_timeout * 2, &display, connect)
                        .await?
                        .map_err(|e| fail("connect", e))?;
                    Link::Fixed { conn: Conn::Single(conn), subscriber: Box::new(subscriber) }
                }
            }
        };
        let shared = Shared {
            link,
            prefix: config.prefix.clone(),
            op_timeout: config.op_timeout,
            display,
            breaker: Default::default(),
        };
        // Proves the credentials and the ACL now, not at the first query.
        let _: String = shared.query(&redis::cmd("PING")).await.map_err(|e| Error::Config(e.to_string()))?;
        Ok(shared)
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// A new pub/sub connection subscribed to `channel`, as a stream of text payloads.
    pub(crate) async fn subscribe(
        &self,
        channel: &str,
    ) -> Result<impl futures_util::Stream<Item = String> + Send + use<>> {
        use futures_util::StreamExt;
        let fail =
            |e: redis::RedisError| Error::Cache(format!("Redis at {}: {}", self.display, describe(&e)));
        let subscriber = self.link.subscriber();
        let connect = subscriber.get_async_pubsub();
        let mut pubsub = tokio::time::timeout(self.op_timeout * 4, connect)
            .await
            .map_err(|_| Error::Cache(format!("Redis at {}: subscribe timed out", self.display)))?
            .map_err(fail)?;
        pubsub.subscribe(channel).await.map_err(fail)?;
        Ok(pubsub.into_on_message().filter_map(|m| async move { m.get_payload::<String>().ok() }))
    }

    /// Whether calls are currently skipped because Redis failed repeatedly.
    pub fn circuit_open(&self) -> bool {
        self.breaker.is_open()
    }

    /// Runs one command (with timeout and breaker).
    pub(crate) async fn query<T: FromRedisValue + Send>(&self, cmd: &Cmd) -> Result<T> {
        self.guarded(async {
            match self.link.conn() {
                Conn::Single(mut c) => cmd.query_async(&mut c).await,
                Conn::Cluster(mut c) => cmd.query_async(&mut c).await,
            }
        })
        .await
    }

    /// Runs a pipeline (with timeout and breaker).
    pub(crate) async fn pipeline<T: FromRedisValue + Send>(&self, pipe: &Pipeline) -> Result<T> {
        self.guarded(async {
            match self.link.conn() {
                Conn::Single(mut c) => pipe.query_async(&mut c).await,
                Conn::Cluster(mut c) => pipe.query_async(&mut c).await,
            }
        })
        .await
    }

    /// Runs a Lua script (EVALSHA, loading it on first use).
    pub(crate) async fn script<T: FromRedisValue + Send>(&self, call: &ScriptInvocation<'_>) -> Result<T> {
        self.guarded(async {
            match self.link.conn() {
                Conn::Single(mut c) => call.invoke_async(&mut c).await,
                Conn::Cluster(mut c) => call.invoke_async(&mut c).await,
            }
        })
        .await
    }

    /// Deletes every key matching `pattern` (SCAN + UNLINK, on every primary of a
    /// cluster); returns how many were deleted. Keys written meanwhile may survive.
    pub(crate) async fn delete_matching(&self, pattern: &str) -> Result<u64> {
        let mut deleted = 0;
        for node in self.primaries().await? {
            let mut cursor = 0u64;
            loop {
                let mut scan = redis::cmd("SCAN");
                scan.arg(cursor).arg("MATCH").arg(pattern).arg("COUNT").arg(1000);
                let (next, keys): (u64, Vec<String>) = self.query_on(&node, scan).await?;
                // One UNLINK per hash tag on a cluster (it refuses keys of several slots
                // in one command), sent to the node that holds them; one on a server.
                let groups = match node {
                    Some(_) => by_hash_tag(&keys),
                    None if keys.is_empty() => Vec::new(),
                    None => vec![keys.iter().map(String::as_str).collect()],
                };
                for group in groups {
                    let mut unlink = redis::cmd("UNLINK");
                    group.iter().for_each(|k| {
                        unlink.arg(*k);
                    });
                    deleted += self.query_on::<u64>(&node, unlink).await?;
                }
                cursor = next;
                if cursor == 0 {
                    break;
                }
            }
        }
        Ok(deleted)
    }

    /// The nodes holding keys: `None` for a single server, each primary's address for a
    /// cluster (from `CLUSTER NODES`).
    async fn primaries(&self) -> Result<Vec<Option<(String, u16)>>> {
        if let Conn::Single(_) = self.link.conn() {
            return Ok(vec![None]);
        }
        let text: String = self.query(&redis::cmd("CLUSTER").arg("NODES").clone()).await?;
        Ok(text
            .lines()
            .filter_map(|line| {
                let fields: Vec<&str> = line.split(' ').collect();
                let flags = fields.get(2)?;
                if !flags.split(',').any(|f| f == "master") || flags.contains("fail") {
                    return None;
                }
                // `host:port@busport[,hostname]`
                let address = fields.get(1)?.split(['@', ',']).next()?;
                let (host, port) = address.rsplit_once(':')?;
                Some(Some((host.to_owned(), port.parse().ok()?)))
            })
            .collect())
    }

    /// Runs one command on `node` (a cluster primary), or on the single server.
    async fn query_on<T: FromRedisValue + Send>(&self, node: &Option<(String, u16)>, cmd: Cmd) -> Result<T> {
        use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
        let Some((host, port)) = node else { return self.query(&cmd).await };
        let value = self
            .guarded(async {
                match self.link.conn() {
                    Conn::Cluster(mut c) => {
                        let at = SingleNodeRoutingInfo::ByAddress { host: host.clone(), port: *port };
                        c.route_command(cmd, RoutingInfo::SingleNode(at)).await
                    }
                    Conn::Single(mut c) => cmd.query_async(&mut c).await,
                }
            })
            .await?;
        redis::from_redis_value(value)
            .map_err(|e| Error::Cache(format!("Redis at {}: unexpected reply: {e}", self.display)))
    }

    async fn guarded<T>(&self, op: impl std::future::Future<Output = redis::RedisResult<T>>) -> Result<T> {
        if !self.breaker.allow() {
            return Err(Error::Cache(format!("Redis at {} is unavailable (circuit open)", self.display)));
        }
        match tokio::time::timeout(self.op_timeout, op).await {
            Ok(Ok(v)) => {
                self.breaker.success();
                Ok(v)
            }
            Ok(Err(e)) => {
                self.failed();
                self.follow_primary();
                Err(Error::Cache(format!("Redis at {}: {}", self.display, describe(&e))))
            }
            Err(_) => {
                self.failed();
                self.follow_primary();
                Err(Error::Cache(format!("Redis at {}: timed out after {:?}", self.display, self.op_timeout)))
            }
        }
    }
}

impl Shared {
    /// Counts a failed call; when that opens the breaker, starts the background prober.
    fn failed(&self) {
        if self.breaker.failure() {
            self.start_prober();
        }
    }

    /// With Redis Sentinel, asks the sentinels (in the background) whether the primary
    /// moved: a failed call may mean it did.
    fn follow_primary(&self) {
        if let (Link::Followed(follower), Ok(runtime)) = (&self.link, tokio::runtime::Handle::try_current()) {
            let follower = follower.clone();
            runtime.spawn(async move { follower.follow().await });
        }
    }

    /// PINGs Redis every [`PROBE_INTERVAL`] while the breaker is open and closes it at the
    /// first answer, so Redis is used again as soon as it is back (a PING on a dropped
    /// connection also makes the connection manager reconnect). Ends when it succeeds or
    /// when every handle on this connection is gone.
    fn start_prober(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.breaker.probe_ended();
            return;
        };
        let link = self.link.clone();
        let breaker = std::sync::Arc::downgrade(&self.breaker);
        let timeout = self.op_timeout;
        runtime.spawn(async move {
            loop {
                tokio::time::sleep(PROBE_INTERVAL).await;
                let Some(breaker) = breaker.upgrade() else { return };
                if !breaker.is_open() {
                    return; // a query's call closed it (and reset the prober flag)
                }
                if let Link::Followed(follower) = &link {
                    follower.follow().await;
                }
                let ping = async {
                    let ping = redis::cmd("PING");
                    match link.conn() {
                        Conn::Single(mut c) => ping.query_async::<String>(&mut c).await,
                        Conn::Cluster(mut c) => ping.query_async::<String>(&mut c).await,
                    }
                };
                if let Ok(Ok(_)) = tokio::time::timeout(timeout, ping).await {
                    breaker.success();
                    return;
                }
            }
        });
    }
}

/// How often the background prober checks a Redis that stopped answering.
const PROBE_INTERVAL: Duration = Duration::from_millis(250);

/// A script handle (kept here so callers need no redis import).
pub(crate) fn script(source: &str) -> Script {
    Script::new(source)
}

/// Node URLs of a `redis+cluster://` / `rediss+cluster://` URL; `None` for other URLs.
fn cluster_nodes(url: &str) -> Option<Vec<String>> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.strip_suffix("+cluster")?;
    let (userinfo, hosts) = match rest.rsplit_once('@') {
        Some((user, hosts)) => (format!("{user}@"), hosts),
        None => (String::new(), rest),
    };
    Some(hosts.split(',').map(|h| format!("{scheme}://{userinfo}{}", h.trim())).collect())
}

/// A redis error without anything that could carry a secret.
pub(super) fn describe(e: &redis::RedisError) -> String {
    let text = e.to_string();
    if text.to_ascii_uppercase().contains("WRONGPASS") || text.contains("invalid username-password") {
        "authentication failed (wrong user name or password)".into()
    } else if text.contains("NOPERM") {
        format!("permission denied by the ACL ({})", text.chars().take(160).collect::<String>())
    } else {
        text.chars().take(300).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        assert_eq!(redact("redis://:s3cret@127.0.0.1:6379/0"), "redis://:***@127.0.0.1:6379/0");
        assert_eq!(redact("rediss://cc:s3cret@h:1"), "rediss://cc:***@h:1");
        assert_eq!(redact("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
        let config = RedisConfig::new("redis://user:hunter2@localhost:1");
        assert!(!format!("{config:?}").contains("hunter2"));
    }

    #[test]
    fn cluster_urls_name_every_node() {
        assert_eq!(
            cluster_nodes("redis+cluster://u:p@127.0.0.1:7000,127.0.0.1:7001").unwrap(),
            ["redis://u:p@127.0.0.1:7000", "redis://u:p@127.0.0.1:7001"]
        );
        assert_eq!(cluster_nodes("rediss+cluster://h:1").unwrap(), ["rediss://h:1"]);
        assert!(cluster_nodes("redis://h:1").is_none());
    }
}
