//! `cryptocache serve`: the relay (crate `cryptocache-server`) on a port; this command
//! only reads flags, builds the cache and waits for SIGINT/SIGTERM.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use cryptocache_server::auth::{Keys, KeysFile};
use cryptocache_server::{is_loopback, router, serve, Relay};

use crate::CacheArgs;

/// In-flight requests get this long to finish after SIGINT/SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// Arguments of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port to listen on.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address to bind [default: 127.0.0.1; another address needs --api-keys or --no-auth].
    #[arg(long, value_name = "ADDR", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    bind: IpAddr,
    /// API keys file (TOML of names and SHA-256 hashes; `cryptocache keys add` writes it).
    #[arg(long, value_name = "FILE")]
    api_keys: Option<PathBuf>,
    /// Serve without keys on a non-loopback address (anyone who reaches it spends your
    /// exchange rate budget).
    #[arg(long, conflicts_with = "api_keys")]
    no_auth: bool,
    /// Allow browser pages from this origin (repeatable; `*` for any).
    #[arg(long, value_name = "ORIGIN")]
    cors: Vec<String>,
    #[command(flatten)]
    cache: CacheArgs,
}

/// Runs `serve` until SIGINT or SIGTERM.
pub async fn run(args: ServeArgs) -> Result<(), String> {
    let addr = SocketAddr::new(args.bind, args.port);
    let keys = match &args.api_keys {
        Some(path) => Some(Keys::new(KeysFile::read(path, false)?)),
        None if is_loopback(&addr) || args.no_auth => None,
        None => {
            return Err(format!(
                "refusing to serve {addr} without --api-keys: anyone who reaches it would spend your \
                 exchange rate budget (pass --no-auth to allow it)"
            ))
        }
    };
    let mut relay = Relay::new(args.cache.build().await?);
    relay.keys = keys;
    relay.cors = args.cors;
    let authenticated = relay.keys.is_some();
    let listener =
        tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    println!("http://{local}");
    if !authenticated {
        eprintln!("serving without API keys on {local} (loopback only unless --no-auth)");
    }
    eprintln!("relay at http://{local} (docs/relay.md); Ctrl-C or SIGTERM stops it");
    serve(listener, router(Arc::new(relay)), stop_signal(), SHUTDOWN_GRACE)
        .await
        .map_err(|e| format!("relay failed: {e}"))
}

/// SIGINT or SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    eprintln!("stopping: finishing requests in flight");
}
