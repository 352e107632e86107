//! Bybit v5 `recent-trade`, `funding/history` and `orderbook` over real
//! HTTP: caps and defaults, orders, the funding bound rules, the captured
//! fixture shapes, and equality with the oracle functions.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use cryptocache_sim::{venue_book, venue_funding, venue_trades, SimBook, SimFunding, SimTrade, Venue};
use serde_json::{json, Value};

/// `result` of a successful reply.
fn result(reply: &Reply) -> Value {
    assert_eq!(reply.status, 200, "{}", reply.text());
    let v = reply.json();
    assert_eq!(v["retCode"], 0, "{v}");
    v["result"].clone()
}

/// `(retCode, retMsg)` of an error reply (HTTP 200, `result` `{}`).
fn error(reply: &Reply) -> (i64, String) {
    assert_eq!(reply.status, 200);
    let v = reply.json();
    assert_eq!(v["result"], json!({}));
    (v["retCode"].as_i64().unwrap(), v["retMsg"].as_str().unwrap().to_string())
}

fn f(v: &Value) -> f64 {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}")).parse().unwrap()
}

fn trades(reply: &Reply) -> Vec<SimTrade> {
    result(reply)["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| SimTrade {
            id: t["seq"].as_str().unwrap().parse().unwrap(),
            time: t["time"].as_str().unwrap().parse().unwrap(),
            price: f(&t["price"]),
            qty: f(&t["size"]),
            buyer_maker: t["side"] == "Sell",
        })
        .collect()
}

fn bybit_fixture() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/bybit.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Sorted keys of an object.
fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

#[tokio::test]
async fn recent_trades_are_the_newest_newest_first() {
    let now = NOW + 4_321;
    let sim = sim_at(now).await;
    let linear = trades(&get(&sim, "/v5/market/recent-trade?category=linear&symbol=BTCUSDT").await);
    assert_eq!(linear.len(), 500);
    assert!(linear.windows(2).all(|w| w[0].id == w[1].id + 1 && w[0].time >= w[1].time), "newest first");
    assert!(linear[0].time <= now);
    let mut oracle = venue_trades(Venue::BybitLinear, "BTCUSDT", linear[499].time, now + 1, now).unwrap();
    oracle.retain(|t| t.id >= linear[499].id);
    oracle.reverse();
    assert_eq!(oracle, linear);
    assert_eq!(
        trades(&get(&sim, "/v5/market/recent-trade?category=linear&symbol=BTCUSDT&limit=5000").await).len(),
        1000
    );
    assert_eq!(trades(&get(&sim, "/v5/market/recent-trade?category=spot&symbol=ETHUSDT").await).len(), 60);
    assert_eq!(
        trades(&get(&sim, "/v5/market/recent-trade?category=spot&symbol=ETHUSDT&limit=1000").await).len(),
        60
    );
    let inverse = get(&sim, "/v5/market/recent-trade?category=inverse&symbol=BTCUSD&limit=3").await;
    for t in result(&inverse)["list"].as_array().unwrap() {
        assert!(!t["size"].as_str().unwrap().contains('.'), "whole USD contracts");
        assert_eq!(t["symbol"], "BTCUSD");
        assert_eq!(t["execId"].as_str().unwrap().len(), 36);
    }
    let missing = get(&sim, "/v5/market/recent-trade?symbol=BTCUSDT").await;
    assert_eq!(error(&missing), (10001, "params error: category is required".to_string()));
    assert_eq!(
        error(&get(&sim, "/v5/market/recent-trade?category=linear&symbol=DOGEUSDT").await).1,
        "Not supported symbols"
    );
}

#[tokio::test]
async fn recent_trade_rows_have_the_captured_shape() {
    let fixture = bybit_fixture();
    let real = &fixture["fetchTrades"][0]["httpResponse"];
    let sim = sim_at(NOW).await;
    let served = get(&sim, "/v5/market/recent-trade?category=linear&symbol=BTCUSDT&limit=1").await.json();
    assert_eq!(keys(&served), keys(real));
    assert_eq!(keys(&served["result"]), keys(&real["result"]));
    let (s, r) = (&served["result"]["list"][0], &real["result"]["list"][0]);
    for k in keys(r) {
        assert!(s.get(&k).is_some(), "served trade lacks {k}");
        assert_eq!(s[&k].is_string(), r[&k].is_string(), "{k}");
        assert_eq!(s[&k].is_boolean(), r[&k].is_boolean(), "{k}");
    }
    assert_eq!(s["execId"].as_str().unwrap().split('-').map(str::len).collect::<Vec<_>>(), [8, 4, 4, 4, 12]);
    assert!(["Buy", "Sell"].contains(&s["side"].as_str().unwrap()));
}

#[tokio::test]
async fn funding_history_bounds() {
    let sim = sim_at(NOW).await;
    let rows = |q: String| {
        let sim = &sim;
        async move {
            result(&get(sim, &format!("/v5/market/funding/history?{q}")).await)["list"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    assert!(r["fundingRate"].is_string());
                    r["fundingRateTimestamp"].as_str().unwrap().parse::<i64>().unwrap()
                })
                .collect::<Vec<_>>()
        }
    };
    let btc = rows("category=linear&symbol=BTCUSDT".into()).await;
    assert_eq!(btc.len(), 200);
    assert_eq!(btc[0], NOW - 3 * HOUR, "newest first, newest at or before now");
    assert!(btc.windows(2).all(|w| w[0] - w[1] == 8 * HOUR));
    let end = rows(format!("category=linear&symbol=ETHUSDT&endTime={}", NOW - DAY)).await;
    assert_eq!(end.len(), 200, "endTime alone: 200 rows up to it");
    assert_eq!(end[0], NOW - DAY - 3 * HOUR);
    assert!(end.windows(2).all(|w| w[0] - w[1] == 4 * HOUR));
    let both =
        rows(format!("category=inverse&symbol=ETHUSD&startTime={}&endTime={}", NOW - 3 * HOUR, NOW - HOUR))
            .await;
    assert_eq!(both, [NOW - HOUR, NOW - 2 * HOUR, NOW - 3 * HOUR], "hourly, inclusive");
    assert_eq!(rows("category=inverse&symbol=BTCUSD&limit=500".into()).await.len(), 200, "max 200");
    let start_only = get(
        &sim,
        &format!("/v5/market/funding/history?category=linear&symbol=BTCUSDT&startTime={}", NOW - DAY),
    )
    .await;
    assert_eq!(error(&start_only).0, 10001);
    assert_eq!(error(&get(&sim, "/v5/market/funding/history?category=spot&symbol=BTCUSDT").await).0, 10001);
    let served: Vec<SimFunding> =
        result(&get(&sim, "/v5/market/funding/history?category=inverse&symbol=ETHUSD&limit=24").await)
            ["list"]
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .map(|r| SimFunding {
                time: r["fundingRateTimestamp"].as_str().unwrap().parse().unwrap(),
                rate: f(&r["fundingRate"]),
                realized_rate: None,
                mark_price: None,
            })
            .collect();
    assert_eq!(venue_funding(Venue::BybitInverse, "ETHUSD", NOW - 23 * HOUR, NOW + 1, NOW).unwrap(), served);
    let first = venue_funding(Venue::BybitLinear, "BTCUSDT", 0, 1_586_000_000_000, NOW).unwrap();
    assert_eq!(first[0].time, 1_585_526_400_000 + 8 * HOUR);
}

#[tokio::test]
async fn orderbook_depths_and_shape() {
    let now = NOW + 99;
    let sim = sim_at(now).await;
    let book = |v: &Value| -> SimBook {
        let side =
            |k: &str| v[k].as_array().unwrap().iter().map(|l| (f(&l[0]), f(&l[1]))).collect::<Vec<_>>();
        SimBook {
            time: v["ts"].as_i64().unwrap(),
            update_id: v["u"].as_i64().unwrap(),
            bids: side("b"),
            asks: side("a"),
        }
    };
    let spot = result(&get(&sim, "/v5/market/orderbook?category=spot&symbol=BTCUSDT").await);
    assert_eq!((spot["b"].as_array().unwrap().len(), spot["a"].as_array().unwrap().len()), (1, 1));
    let linear = result(&get(&sim, "/v5/market/orderbook?category=linear&symbol=BTCUSDT").await);
    let b = book(&linear);
    assert_eq!((b.bids.len(), b.time), (25, now));
    assert!(b.bids.windows(2).all(|w| w[0].0 > w[1].0) && b.asks.windows(2).all(|w| w[0].0 < w[1].0));
    assert!(b.bids[0].0 < b.asks[0].0);
    assert_eq!(b, venue_book(Venue::BybitLinear, "BTCUSDT", 25, now).unwrap());
    let deep = result(&get(&sim, "/v5/market/orderbook?category=inverse&symbol=ETHUSD&limit=5000").await);
    assert_eq!(deep["a"].as_array().unwrap().len(), 1000);
    assert_eq!(book(&deep), venue_book(Venue::BybitInverse, "ETHUSD", 1000, now).unwrap());
    // The captured shapes (linear and spot).
    let fixture = bybit_fixture();
    for (entry, served) in fixture["fetchOrderBook"].as_array().unwrap().iter().zip([&linear, &spot]) {
        let real = &entry["httpResponse"]["result"];
        for k in keys(real) {
            assert!(served.get(&k).is_some(), "served book lacks {k}");
        }
        for level in served["b"].as_array().unwrap().iter().chain(served["a"].as_array().unwrap()) {
            let level = level.as_array().unwrap();
            assert_eq!(level.len(), real["b"][0].as_array().unwrap().len());
            assert!(level.iter().all(Value::is_string));
        }
    }
}
