//! The status page in a real headless browser (Debian's `chromium`, which
//! `scripts/test.sh` installs): it loads from the relay, draws the candle chart from the
//! relay's own `/v1/klines`, and shows the tiers and the upstream use. A screenshot is
//! kept in the test's temporary directory.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use cryptocache::{Cache, ManualClock};
use cryptocache_server::{router, serve, Relay};
use cryptocache_sim::{Sim, SimConfig};

/// 2024-06-01T12:30:00Z: the simulator's and the relay's "now".
const NOW: i64 = 1_717_245_000_000;

/// The browser: `$CHROMIUM`, else Debian's `chromium`.
fn chromium() -> String {
    let browser = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let found = Command::new(&browser).arg("--version").output().is_ok_and(|o| o.status.success());
    assert!(
        found,
        "{browser} is required for the status-page test (scripts/test.sh installs Debian's chromium)"
    );
    browser
}

/// Runs headless Chromium on `url` with `extra` flags, letting the page's scripts and
/// requests finish (virtual time); returns its standard output.
fn headless(browser: &str, profile: &Path, url: &str, extra: &[&str]) -> String {
    let out = Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--virtual-time-budget=20000", "--run-all-compositor-stages-before-draw"])
        .args(extra)
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_draws_the_chart_in_a_real_browser() {
    let browser = chromium();
    let sim = Sim::start(SimConfig { now_ms: Some(NOW), ..SimConfig::default() }).await.unwrap();
    let cache = Cache::builder()
        .exchange_url(sim.url())
        .no_disk()
        .clock(Arc::new(ManualClock::new(NOW)))
        .prefetch(0)
        .build()
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    let server =
        tokio::spawn(serve(listener, router(Arc::new(Relay::new(cache))), shutdown, Duration::from_secs(1)));
    let tmp = tempfile::tempdir().unwrap();

    let dom = {
        let (browser, profile, url) = (browser.clone(), tmp.path().join("profile-dom"), url.clone());
        tokio::task::spawn_blocking(move || headless(&browser, &profile, &url, &["--dump-dom"]))
            .await
            .unwrap()
    };
    // The default series: Binance BTCUSDT 1h over the relay's last 7 days = 168 candles.
    assert!(dom.contains(r#"data-candles="168""#), "chart not drawn:\n{dom}");
    assert!(dom.contains(r#"data-state="ready""#), "{dom}");
    assert_eq!(dom.matches("<rect").count(), 168, "one candle body each");
    // The tiers and the upstream use, as the relay counted them.
    assert!(dom.contains("<td>memory</td>"), "tier table:\n{dom}");
    assert!(dom.contains("<td>binance-spot</td>"), "upstream table:\n{dom}");

    let shot = tmp.path().join("status.png");
    {
        let (browser, profile, url) = (browser.clone(), tmp.path().join("profile-shot"), url.clone());
        let arg = format!("--screenshot={}", shot.display());
        tokio::task::spawn_blocking(move || {
            headless(&browser, &profile, &url, &[&arg, "--window-size=1280,900"])
        })
        .await
        .unwrap();
    }
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "a real screenshot ({} bytes)", png.len());
    eprintln!("screenshot: {} ({} bytes)", shot.display(), png.len());
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
