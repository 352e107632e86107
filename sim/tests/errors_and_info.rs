//! Binance error bodies (each code) and the exchangeInfo / time endpoints.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use cryptocache_sim::{Sim, SimConfig};

async fn error_of(sim: &Sim, target: &str) -> (i64, String) {
    let reply = get(sim, target).await;
    assert_eq!(reply.status, 400, "{target}: {}", reply.text());
    assert!(reply.header("content-type").unwrap().starts_with("application/json"));
    assert!(reply.used_weight().is_some(), "errors carry the used weight too");
    reply.error()
}

#[tokio::test]
async fn every_error_code() {
    let sim = sim_at(NOW).await;
    let e = |code: i64, msg: &str| (code, msg.to_string());
    let cases: Vec<(&str, (i64, String))> = vec![
        ("/api/v3/klines?symbol=DOGEUSDT&interval=1h", e(-1121, "Invalid symbol.")),
        ("/fapi/v1/klines?symbol=BNBUSDT&interval=1h", e(-1121, "Invalid symbol.")),
        ("/api/v3/klines?symbol=BTCUSDT&interval=1H", e(-1120, "Invalid interval.")),
        ("/api/v3/klines?symbol=BTCUSDT&interval=2m", e(-1120, "Invalid interval.")),
        ("/fapi/v1/klines?symbol=BTCUSDT&interval=1s", e(-1120, "Invalid interval.")),
        (
            "/api/v3/klines?interval=1h",
            e(-1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."),
        ),
        (
            "/fapi/v1/klines?symbol=&interval=1h",
            e(-1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."),
        ),
        (
            "/api/v3/klines?symbol=BTCUSDT",
            e(-1102, "Mandatory parameter 'interval' was not sent, was empty/null, or malformed."),
        ),
        (
            "/api/v3/klines?symbol=BTCUSDT&interval=1h&star_time=1",
            e(-1104, "Too many parameters; expected '2' and received '3'."),
        ),
        (
            "/fapi/v1/klines?symbol=BTCUSDT&interval=1h&timeZone=0",
            e(-1104, "Too many parameters; expected '2' and received '3'."),
        ),
        ("/api/v3/time?symbol=BTCUSDT", e(-1104, "Too many parameters; expected '0' and received '1'.")),
        (
            "/api/v3/klines?symbol=BTCUSDT&interval=1h&startTime=abc",
            e(-1100, "Illegal characters found in parameter 'startTime'; legal range is '^[0-9]{1,20}$'."),
        ),
        (
            "/fapi/v1/klines?symbol=BTCUSDT&interval=1h&endTime=-5",
            e(-1100, "Illegal characters found in parameter 'endTime'; legal range is '^[0-9]{1,20}$'."),
        ),
        (
            "/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=1.5",
            e(-1100, "Illegal characters found in parameter 'limit'; legal range is '^[0-9]{1,20}$'."),
        ),
        (
            "/api/v3/klines?symbol=btcusdt&interval=1h",
            e(-1100, "Illegal characters found in parameter 'symbol'; legal range is '^[A-Z0-9-_.]{1,20}$'."),
        ),
        (
            "/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=1&limit=2",
            e(-1101, "Duplicate values for a parameter detected."),
        ),
        (
            "/api/v3/klines?symbol=BTCUSDT&interval=1h&timeZone=8",
            e(-1130, "Data sent for paramter 'timeZone' is not valid."),
        ),
        (
            "/fapi/v1/klines?symbol=BTCUSDT&interval=1h&limit=1501",
            e(-1130, "Data sent for paramter 'limit' is not valid."),
        ),
        (
            "/fapi/v1/klines?symbol=BTCUSDT&interval=1h&startTime=2&endTime=1",
            e(-1023, "Start time is greater than end time."),
        ),
        ("/api/v3/exchangeInfo?symbol=DOGEUSDT", e(-1121, "Invalid symbol.")),
        ("/api/v3/exchangeInfo?symbols=%5B%22BTCUSDT%22,%22XYZUSDT%22%5D", e(-1121, "Invalid symbol.")),
        (
            "/api/v3/exchangeInfo?symbol=BTCUSDT&symbols=%5B%5D",
            e(-1128, "Combination of optional parameters invalid."),
        ),
        (
            "/fapi/v1/exchangeInfo?symbol=BTCUSDT",
            e(-1104, "Too many parameters; expected '0' and received '1'."),
        ),
    ];
    for (target, expected) in cases {
        assert_eq!(error_of(&sim, target).await, expected, "{target}");
    }
    // A UTC time zone is accepted on spot.
    let ok = get(&sim, "/api/v3/klines?symbol=BTCUSDT&interval=1h&timeZone=0&limit=1").await;
    assert_eq!(rows(&ok).len(), 1);
}

#[tokio::test]
async fn time_endpoints_report_the_simulated_clock() {
    let sim = sim_at(NOW).await;
    for path in ["/api/v3/time", "/fapi/v1/time"] {
        let reply = get(&sim, path).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.json(), serde_json::json!({ "serverTime": NOW }));
        assert_eq!(reply.used_weight(), Some(1));
    }
}

#[tokio::test]
async fn exchange_info_lists_symbols_and_limits() {
    let config = SimConfig {
        now_ms: Some(NOW),
        spot_weight_limit: 1234,
        um_weight_limit: 567,
        ..SimConfig::default()
    };
    let sim = Sim::start(config).await.unwrap();

    let spot = get(&sim, "/api/v3/exchangeInfo").await.json();
    assert_eq!(spot["timezone"], "UTC");
    assert_eq!(spot["serverTime"], NOW);
    assert_eq!(
        spot["rateLimits"],
        serde_json::json!([{ "rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 1234 }])
    );
    let names: Vec<&str> =
        spot["symbols"].as_array().unwrap().iter().map(|s| s["symbol"].as_str().unwrap()).collect();
    assert_eq!(names, ["BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT"]);
    let btc = &spot["symbols"][0];
    assert_eq!(
        (btc["status"].as_str(), btc["baseAsset"].as_str(), btc["quoteAsset"].as_str()),
        (Some("TRADING"), Some("BTC"), Some("USDT"))
    );

    let one = get(&sim, "/api/v3/exchangeInfo?symbol=SOLUSDT").await.json();
    assert_eq!(one["symbols"].as_array().unwrap().len(), 1);
    assert_eq!(one["symbols"][0]["symbol"], "SOLUSDT");
    let two = get(&sim, "/api/v3/exchangeInfo?symbols=%5B%22ETHUSDT%22,%22BNBUSDT%22%5D").await.json();
    let names: Vec<&str> =
        two["symbols"].as_array().unwrap().iter().map(|s| s["symbol"].as_str().unwrap()).collect();
    assert_eq!(names, ["ETHUSDT", "BNBUSDT"]);

    let reply = get(&sim, "/fapi/v1/exchangeInfo").await;
    assert_eq!(reply.used_weight(), Some(1));
    let um = reply.json();
    assert_eq!(um["rateLimits"][0]["limit"], 567);
    let eth = &um["symbols"][1];
    assert_eq!(eth["symbol"], "ETHUSDT");
    assert_eq!(eth["pair"], "ETHUSDT");
    assert_eq!(eth["contractType"], "PERPETUAL");
    assert_eq!(eth["status"], "TRADING");
    assert_eq!(eth["onboardDate"], 1_569_398_400_000i64);
    assert_eq!((eth["baseAsset"].as_str(), eth["quoteAsset"].as_str()), (Some("ETH"), Some("USDT")));
}

#[tokio::test]
async fn undecodable_query_is_a_binance_error() {
    let sim = sim_at(NOW).await;
    let reply = get(&sim, "/api/v3/klines?symbol=%FF%FE&interval=1h").await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error().0, -1100);
}
