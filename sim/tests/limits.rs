//! Request weights, `X-MBX-USED-WEIGHT-1M`, and the 429 → 418 escalation.
//! Windows follow the real wall clock, so each test first makes sure it is
//! not about to cross a window boundary.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::time::Duration;

use common::*;
use cryptocache_sim::{Sim, SimConfig};

const HOUR_WINDOW: Duration = Duration::from_secs(3600);

async fn sim_with(spot: u32, um: u32, window: Duration, ban: Duration) -> Sim {
    let config = SimConfig {
        spot_weight_limit: spot,
        um_weight_limit: um,
        weight_window: window,
        ban_duration: ban,
        now_ms: Some(NOW),
        ..SimConfig::default()
    };
    Sim::start(config).await.unwrap()
}

#[tokio::test]
async fn every_reply_reports_the_used_weight() {
    fresh_window(Duration::from_secs(60), Duration::from_secs(5)).await;
    let sim = sim_at(NOW).await;
    let spot = [
        ("/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1000", 2),
        ("/api/v3/uiKlines?symbol=BTCUSDT&interval=1m", 4),
        ("/api/v3/exchangeInfo", 24),
        ("/api/v3/time", 25),
        ("/api/v3/klines?symbol=NOPE&interval=1m", 27),
    ];
    for (target, used) in spot {
        let reply = get(&sim, target).await;
        assert_eq!(reply.used_weight(), Some(used), "{target}");
        assert_eq!(reply.header("x-mbx-used-weight"), Some(used.to_string().as_str()));
    }
    let um = [
        ("/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=99", 1),
        ("/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=100", 3),
        ("/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=499", 5),
        ("/fapi/v1/klines?symbol=BTCUSDT&interval=1m", 10),
        ("/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=1000", 15),
        ("/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=1001", 25),
        ("/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=1500", 35),
        ("/fapi/v1/exchangeInfo", 36),
        ("/fapi/v1/time", 37),
    ];
    for (target, used) in um {
        assert_eq!(get(&sim, target).await.used_weight(), Some(used), "{target}");
    }
    let stats = sim.stats();
    assert_eq!(stats.max_window_weight.get("binance-spot"), Some(&27));
    assert_eq!(stats.max_window_weight.get("binance-um"), Some(&37));
}

#[tokio::test]
async fn over_budget_gives_429_then_persisting_gives_a_418_ban() {
    fresh_window(HOUR_WINDOW, Duration::from_secs(5)).await;
    let sim = sim_with(10, 2400, HOUR_WINDOW, Duration::from_secs(1)).await;
    let klines = "/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=1";
    for i in 1..=5 {
        let reply = get(&sim, klines).await;
        assert_eq!((reply.status, reply.used_weight()), (200, Some(2 * i)));
    }
    for _ in 0..3 {
        let reply = get(&sim, klines).await;
        assert_eq!(reply.status, 429);
        assert_eq!(reply.used_weight(), Some(10), "a rejected request adds no weight");
        let retry: u64 = reply.header("retry-after").unwrap().parse().unwrap();
        let left = 3600 - (wall_ms() / 1000) % 3600;
        assert!(retry >= 1 && retry <= left as u64 + 1, "{retry} vs {left}");
        assert_eq!(
            reply.error(),
            (
                -1003,
                "Too many requests; current limit of IP(127.0.0.1) request weight per 1 HOUR is 10. \
                 Please use WebSocket Streams for live updates to avoid bans."
                    .to_string()
            )
        );
    }
    // The third request after the first 429 is banned.
    let banned = get(&sim, klines).await;
    assert_eq!(banned.status, 418);
    assert_eq!(banned.header("retry-after"), Some("1"));
    let (code, msg) = banned.error();
    assert_eq!(code, -1003);
    assert!(msg.starts_with("Way too many requests; IP(127.0.0.1) banned until "), "{msg}");
    let until: i64 = msg["Way too many requests; IP(127.0.0.1) banned until ".len()..]
        .split('.')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((until - wall_ms() - 1000).abs() < 2000, "{until}");
    // Every request during the ban gets 418, whatever the endpoint of that market.
    assert_eq!(get(&sim, "/api/v3/time").await.status, 418);
    // The other market is not affected.
    assert_eq!(get(&sim, "/fapi/v1/time").await.status, 200);
    let stats = sim.stats();
    assert_eq!(stats.rate_limited, 5);
    assert_eq!(stats.statuses.get(&429), Some(&3));
    assert_eq!(stats.statuses.get(&418), Some(&2));
    assert_eq!(stats.max_window_weight.get("binance-spot"), Some(&10));
    // After the ban: the window is still full, so 429 again (not 418).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(get(&sim, klines).await.status, 429);
    // Reset clears windows and bans.
    sim.reset();
    assert_eq!(get(&sim, klines).await.used_weight(), Some(2));
    assert_eq!(sim.stats().rate_limited, 0);
}

#[tokio::test]
async fn um_budget_counts_weight_by_limit() {
    fresh_window(HOUR_WINDOW, Duration::from_secs(5)).await;
    let sim = sim_with(6000, 20, HOUR_WINDOW, Duration::from_secs(120)).await;
    let big = "/fapi/v1/klines?symbol=ETHUSDT&interval=1m&limit=1500";
    assert_eq!(get(&sim, big).await.used_weight(), Some(10));
    assert_eq!(get(&sim, big).await.used_weight(), Some(20));
    let reply = get(&sim, "/fapi/v1/klines?symbol=ETHUSDT&interval=1m&limit=10").await;
    assert_eq!(reply.status, 429);
    assert!(reply.error().1.contains("request weight per 1 HOUR is 20."));
    assert_eq!(get(&sim, "/api/v3/exchangeInfo").await.status, 200, "spot has its own budget");
}

#[tokio::test]
async fn a_new_window_restores_the_budget() {
    let window = Duration::from_secs(2);
    fresh_window(window, Duration::from_millis(1500)).await;
    let sim = sim_with(4, 2400, window, Duration::from_secs(120)).await;
    let klines = "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1";
    assert_eq!(get(&sim, klines).await.status, 200);
    assert_eq!(get(&sim, klines).await.status, 200);
    let limited = get(&sim, klines).await;
    assert_eq!(limited.status, 429);
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry));
    assert!(limited.error().1.contains("per 2 SECOND is 4."));
    let left = 2000 - wall_ms().rem_euclid(2000);
    tokio::time::sleep(Duration::from_millis(left as u64 + 20)).await;
    let again = get(&sim, klines).await;
    assert_eq!((again.status, again.used_weight()), (200, Some(2)));
    assert_eq!(sim.stats().rate_limited, 1);
}
