//! Test harness: real `redis-server` processes on free loopback ports — one node (with
//! optional password, ACL users and TLS), a 3-master Redis Cluster, or a primary with a
//! replica watched by `redis-sentinel` — stopped by PID when dropped. Never a mock: tests
//! talk to the real server.

use std::io;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How to start a server.
#[derive(Debug, Clone, Default)]
pub struct RedisOptions {
    /// `requirepass` for the default user.
    pub password: Option<String>,
    /// Extra ACL rules, one `ACL SETUSER` argument list per user, e.g.
    /// `"cc on >pw ~cc:* +@all"`.
    pub acl_users: Vec<String>,
    /// Serve TLS only (with a fresh CA and a certificate for 127.0.0.1).
    pub tls: bool,
    /// Start as a cluster node.
    pub cluster: bool,
    /// Start as a replica of the server on this loopback port.
    pub replica_of: Option<u16>,
}

/// A running `redis-server`.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    options: RedisOptions,
}

/// Whether `redis-server` is installed.
pub fn redis_available() -> bool {
    Command::new("redis-server").arg("--version").stdout(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// A free loopback port `p` whose cluster bus port `p + 10000` is free too.
fn free_port() -> io::Result<u16> {
    for _ in 0..100 {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        if port < 55_000 && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return Ok(port);
        }
    }
    Err(io::Error::other("no free port pair"))
}

fn temp_dir(tag: &str) -> io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("cc-redis-{tag}-{}-{:x}", std::process::id(), nanos()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn nanos() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

impl RedisServer {
    /// Starts a server on a free port and waits until it answers PING.
    pub fn start(options: RedisOptions) -> io::Result<RedisServer> {
        let port = free_port()?;
        let dir = temp_dir(&port.to_string())?;
        if options.tls {
            make_certificates(&dir)?;
        }
        let mut server = RedisServer { child: None, port, dir, options };
        server.spawn()?;
        Ok(server)
    }

    fn spawn(&mut self) -> io::Result<()> {
        let mut cmd = Command::new("redis-server");
        cmd.args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if self.options.tls {
            let file = |name: &str| self.dir.join(name).to_string_lossy().into_owned();
            cmd.args(["--port", "0", "--tls-port", &self.port.to_string()])
                .args(["--tls-cert-file", &file("server.crt"), "--tls-key-file", &file("server.key")])
                .args(["--tls-ca-cert-file", &file("ca.crt"), "--tls-auth-clients", "no"]);
        } else {
            cmd.args(["--port", &self.port.to_string()]);
        }
        if let Some(pw) = &self.options.password {
            cmd.args(["--requirepass", pw]);
        }
        if let Some(primary) = self.options.replica_of {
            cmd.args(["--replicaof", "127.0.0.1", &primary.to_string()]);
        }
        if self.options.cluster {
            let conf = self.dir.join("nodes.conf");
            cmd.args(["--cluster-enabled", "yes", "--cluster-config-file"]).arg(conf);
        }
        self.child = Some(cmd.spawn()?);
        self.wait_ready()?;
        for rule in &self.options.acl_users {
            let mut args = vec!["ACL", "SETUSER"];
            args.extend(rule.split_whitespace());
            let out = self.cli(&args)?;
            if !out.trim().eq_ignore_ascii_case("OK") {
                return Err(io::Error::other(format!("ACL SETUSER {rule}: {out}")));
            }
        }
        Ok(())
    }

    fn wait_ready(&self) -> io::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.cli(&["PING"]).is_ok_and(|out| out.trim() == "PONG") {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(io::Error::other(format!("redis-server on port {} did not answer PING", self.port)))
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://[:password@]127.0.0.1:port` (`rediss://` with TLS).
    pub fn url(&self) -> String {
        let scheme = if self.options.tls { "rediss" } else { "redis" };
        match &self.options.password {
            Some(pw) => format!("{scheme}://:{pw}@127.0.0.1:{}", self.port),
            None => format!("{scheme}://127.0.0.1:{}", self.port),
        }
    }

    /// The CA certificate (PEM) that signed the TLS server certificate.
    pub fn ca_pem(&self) -> Option<Vec<u8>> {
        self.options.tls.then(|| std::fs::read(self.dir.join("ca.crt")).ok()).flatten()
    }

    /// Runs `redis-cli` against this server as the default user; returns its output.
    pub fn cli(&self, args: &[&str]) -> io::Result<String> {
        let mut cmd = Command::new("redis-cli");
        cmd.args(["-h", "127.0.0.1", "-p", &self.port.to_string()]);
        if self.options.tls {
            cmd.arg("--tls").arg("--cacert").arg(self.dir.join("ca.crt"));
        }
        if let Some(pw) = &self.options.password {
            cmd.env("REDISCLI_AUTH", pw);
        }
        let out = cmd.args(args).stderr(Stdio::null()).output()?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Kills the server (by PID); its data is lost (no persistence).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, empty.
    pub fn restart(&mut self) -> io::Result<()> {
        self.stop();
        let _ = std::fs::remove_file(self.dir.join("nodes.conf"));
        self.spawn()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A Redis Cluster of masters without replicas.
#[derive(Debug)]
pub struct RedisCluster {
    /// The nodes.
    pub nodes: Vec<RedisServer>,
}

impl RedisCluster {
    /// Starts `masters` nodes and joins them with `redis-cli --cluster create`; waits
    /// until the cluster reports `cluster_state:ok` on every node.
    pub fn start(masters: usize) -> io::Result<RedisCluster> {
        let options = RedisOptions { cluster: true, ..RedisOptions::default() };
        let nodes =
            (0..masters).map(|_| RedisServer::start(options.clone())).collect::<io::Result<Vec<_>>>()?;
        let addrs: Vec<String> = nodes.iter().map(|n| format!("127.0.0.1:{}", n.port())).collect();
        let status = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addrs)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        if !status.success() {
            return Err(io::Error::other("redis-cli --cluster create failed"));
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            let ok = nodes
                .iter()
                .all(|n| n.cli(&["CLUSTER", "INFO"]).is_ok_and(|i| i.contains("cluster_state:ok")));
            if ok {
                return Ok(RedisCluster { nodes });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(io::Error::other("the cluster did not reach cluster_state:ok"))
    }

    /// `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,...`
    pub fn url(&self) -> String {
        let hosts: Vec<String> = self.nodes.iter().map(|n| format!("127.0.0.1:{}", n.port())).collect();
        format!("redis+cluster://{}", hosts.join(","))
    }

    /// Runs `redis-cli -c` (follows redirections) against the first node.
    pub fn cli(&self, args: &[&str]) -> io::Result<String> {
        let first = &self.nodes[0];
        let out = Command::new("redis-cli")
            .args(["-c", "-h", "127.0.0.1", "-p", &first.port().to_string()])
            .args(args)
            .stderr(Stdio::null())
            .output()?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

/// A CA and a server certificate for 127.0.0.1 signed by it, with `openssl`.
fn make_certificates(dir: &Path) -> io::Result<()> {
    let run = |args: &[&str]| -> io::Result<()> {
        let status = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        if status.success() {
            Ok(())
        } else {
            Err(io::Error::other(format!("openssl {} failed", args.join(" "))))
        }
    };

    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=cryptocache test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ])?;
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ])?;
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )?;
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-out",
        "server.crt",
        "-extfile",
        "san.ext",
    ])
}

/// A primary, its replica, and `redis-sentinel` processes watching them (quorum 1, a
/// primary counted down after 500 ms without an answer).
#[derive(Debug)]
pub struct RedisSentinels {
    /// The primary at start.
    pub primary: RedisServer,
    /// Its replica.
    pub replica: RedisServer,
    sentinels: Vec<(Child, u16)>,
    dir: PathBuf,
    master: String,
}

/// Whether `redis-sentinel` is installed.
pub fn sentinel_available() -> bool {
    Command::new("redis-sentinel").arg("--version").stdout(Stdio::null()).status().is_ok_and(|s| s.success())
}

impl RedisSentinels {
    /// Starts a primary, a replica (waits until it is in sync) and `sentinels` sentinels
    /// monitoring the primary as `master`; waits until every sentinel knows the replica.
    pub fn start(master: &str, sentinels: usize) -> io::Result<RedisSentinels> {
        let primary = RedisServer::start(RedisOptions::default())?;
        let replica =
            RedisServer::start(RedisOptions { replica_of: Some(primary.port()), ..RedisOptions::default() })?;
        wait_until(Duration::from_secs(15), "the replica syncs", || {
            replica.cli(&["INFO", "replication"]).is_ok_and(|i| i.contains("master_link_status:up"))
        })?;
        let dir = temp_dir("sentinel")?;
        let mut started = Vec::new();
        for i in 0..sentinels {
            let port = free_port()?;
            let conf = dir.join(format!("sentinel-{i}.conf"));
            std::fs::write(
                &conf,
                format!(
                    "port {port}\nbind 127.0.0.1\nprotected-mode no\ndir {dir}\n\
                     sentinel monitor {master} 127.0.0.1 {primary} 1\n\
                     sentinel down-after-milliseconds {master} 500\n\
                     sentinel failover-timeout {master} 3000\n\
                     sentinel parallel-syncs {master} 1\n",
                    dir = dir.display(),
                    primary = primary.port(),
                ),
            )?;
            let child = Command::new("redis-sentinel")
                .arg(&conf)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()?;
            started.push((child, port));
        }
        let set = RedisSentinels { primary, replica, sentinels: started, dir, master: master.to_owned() };
        for (_, port) in &set.sentinels {
            wait_until(Duration::from_secs(15), "the sentinel sees the replica", || {
                sentinel_cli(*port, &["SENTINEL", "REPLICAS", master]).is_ok_and(|out| out.contains("slave"))
            })?;
        }
        Ok(set)
    }

    /// `redis+sentinel://127.0.0.1:p1,.../master`
    pub fn url(&self) -> String {
        let hosts: Vec<String> = self.sentinels.iter().map(|(_, p)| format!("127.0.0.1:{p}")).collect();
        format!("redis+sentinel://{}/{}", hosts.join(","), self.master)
    }

    /// The port the first sentinel names as the primary now.
    pub fn primary_port(&self) -> Option<u16> {
        let (_, port) = self.sentinels.first()?;
        let out = sentinel_cli(*port, &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", &self.master]).ok()?;
        out.lines().nth(1)?.trim().parse().ok()
    }
}

impl Drop for RedisSentinels {
    fn drop(&mut self) {
        for (child, _) in &mut self.sentinels {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn sentinel_cli(port: u16, args: &[&str]) -> io::Result<String> {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .stderr(Stdio::null())
        .output()?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn wait_until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) -> io::Result<()> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(io::Error::other(format!("timed out waiting until {what}")))
}
