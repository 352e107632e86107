//! OKX v5 `market/trades`, `market/history-trades`,
//! `public/funding-rate-history` and `market/books` over real HTTP:
//! tradeId and time paging, retention, the 8 h → 4 h funding cut, caps,
//! per-instrument limits, and equality with the oracle functions.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::time::Duration;

use common::*;
use cryptocache_sim::{
    venue_book, venue_funding, venue_trades, OkxLimits, Sim, SimBook, SimConfig, SimFunding, SimTrade, Venue,
};
use serde_json::Value;

fn data(reply: &Reply) -> Vec<Value> {
    assert_eq!(reply.status, 200, "{}", reply.text());
    let v = reply.json();
    assert_eq!(v["code"], "0", "{v}");
    v["data"].as_array().unwrap().clone()
}

fn f(v: &Value) -> f64 {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}")).parse().unwrap()
}

fn trades(reply: &Reply) -> Vec<SimTrade> {
    data(reply)
        .iter()
        .map(|t| {
            assert!(t.as_object().unwrap().values().all(Value::is_string), "{t}");
            SimTrade {
                id: t["tradeId"].as_str().unwrap().parse().unwrap(),
                time: t["ts"].as_str().unwrap().parse().unwrap(),
                price: f(&t["px"]),
                qty: f(&t["sz"]),
                buyer_maker: t["side"] == "sell",
            }
        })
        .collect()
}

fn ids(rows: &[SimTrade]) -> Vec<i64> {
    rows.iter().map(|t| t.id).collect()
}

async fn sim_with(limits: OkxLimits) -> Sim {
    Sim::start(SimConfig { now_ms: Some(NOW), okx: limits, ..SimConfig::default() }).await.unwrap()
}

fn roomy() -> OkxLimits {
    OkxLimits {
        trades: 1000,
        history_trades: 1000,
        funding_history: 1000,
        books: 1000,
        ..OkxLimits::default()
    }
}

#[tokio::test]
async fn recent_trades_newest_first() {
    let now = NOW + 1_234;
    let sim = sim_at(now).await;
    let t = trades(&get(&sim, "/api/v5/market/trades?instId=BTC-USDT-SWAP").await);
    assert_eq!(t.len(), 100);
    assert!(t.windows(2).all(|w| w[0].id == w[1].id + 1 && w[0].time >= w[1].time));
    assert!(t.iter().all(|x| x.qty.fract() == 0.0), "sz in whole contracts");
    let mut oracle = venue_trades(Venue::OkxSwap, "BTC-USDT-SWAP", t[99].time, now + 1, now).unwrap();
    oracle.retain(|x| x.id >= t[99].id);
    oracle.reverse();
    assert_eq!(oracle, t);
    assert_eq!(trades(&get(&sim, "/api/v5/market/trades?instId=ETH-USDT&limit=900").await).len(), 500);
    let spot = data(&get(&sim, "/api/v5/market/trades?instId=ETH-USDT&limit=1").await);
    assert_eq!((spot[0]["instId"].as_str(), spot[0]["source"].as_str()), (Some("ETH-USDT"), Some("0")));
}

#[tokio::test]
async fn history_trades_page_by_trade_id_or_time() {
    let sim = sim_with(roomy()).await;
    let q = |extra: String| format!("/api/v5/market/history-trades?instId=BTC-USD-SWAP&{extra}");
    let page1 = trades(&get(&sim, &q(String::new())).await);
    assert_eq!(page1.len(), 100);
    let last = page1[99].id;
    let page2 = trades(&get(&sim, &q(format!("after={last}"))).await);
    assert_eq!(ids(&page2), (last - 100..last).rev().collect::<Vec<_>>(), "tradeId < after");
    let newer = trades(&get(&sim, &q(format!("before={}", page1[0].id - 5))).await);
    assert_eq!(ids(&newer), ids(&page1[..5]), "before alone: the newest page above it");
    let both = trades(&get(&sim, &q(format!("after={}&before={}", last, last - 4))).await);
    assert_eq!(ids(&both), [last - 1, last - 2, last - 3]);
    assert_eq!(trades(&get(&sim, &q("limit=300".to_string())).await).len(), 100, "max 100");
    // type=2: timestamps.
    let t = page1[50].time;
    let by_time = trades(&get(&sim, &q(format!("type=2&after={t}&limit=10"))).await);
    assert!(by_time.iter().all(|x| x.time < t));
    assert_eq!(by_time[0].id + 1, page1.iter().rev().find(|x| x.time >= t).unwrap().id);
    // Three months only.
    let old =
        venue_trades(Venue::OkxSwap, "BTC-USD-SWAP", NOW - 91 * DAY, NOW - 91 * DAY + HOUR, NOW).unwrap();
    assert!(trades(&get(&sim, &q(format!("after={}", old[0].id + 1))).await).is_empty());
    let edge = trades(&get(&sim, &q(format!("type=2&after={}&limit=1", NOW - 89 * DAY))).await);
    assert_eq!(edge.len(), 1);
    let r = get(&sim, &q("type=3".to_string())).await;
    assert_eq!(
        (r.status, r.text()),
        (400, r#"{"code":"51000","msg":"Parameter type error","data":[]}"#.to_string())
    );
}

#[tokio::test]
async fn funding_history_with_realized_rates_and_an_interval_cut() {
    let sim = sim_with(roomy()).await;
    let rows = |q: String| {
        let sim = &sim;
        async move { data(&get(sim, &format!("/api/v5/public/funding-rate-history?{q}")).await) }
    };
    let times = |rows: &[Value]| {
        rows.iter().map(|r| r["fundingTime"].as_str().unwrap().parse::<i64>().unwrap()).collect::<Vec<_>>()
    };
    let btc = rows("instId=BTC-USDT-SWAP".into()).await;
    assert_eq!(btc.len(), 100);
    assert_eq!(times(&btc)[..3], [NOW - 3 * HOUR, NOW - 11 * HOUR, NOW - 19 * HOUR], "newest first");
    for r in &btc {
        assert_eq!((r["instType"].as_str(), r["instId"].as_str()), (Some("SWAP"), Some("BTC-USDT-SWAP")));
        assert!((f(&r["fundingRate"]) - f(&r["realizedRate"])).abs() <= 4e-6);
    }
    assert_eq!(rows("instId=BTC-USDT-SWAP&limit=400".into()).await.len(), 100, "max 100");
    let after = rows(format!("instId=BTC-USDT-SWAP&after={}&limit=2", NOW - 3 * HOUR)).await;
    assert_eq!(times(&after), [NOW - 11 * HOUR, NOW - 19 * HOUR], "fundingTime < after");
    let before = rows(format!("instId=BTC-USDT-SWAP&before={}", NOW - 27 * HOUR)).await;
    assert_eq!(times(&before), [NOW - 3 * HOUR, NOW - 11 * HOUR, NOW - 19 * HOUR], "fundingTime > before");
    let cut = 1_704_067_200_000;
    let eth = rows(format!("instId=ETH-USDT-SWAP&after={}&before={}", cut + 9 * HOUR, cut - 17 * HOUR)).await;
    assert_eq!(
        times(&eth),
        [cut + 8 * HOUR, cut + 4 * HOUR, cut, cut - 8 * HOUR, cut - 16 * HOUR],
        "8 h, then 4 h"
    );
    let oldest = times(&rows("instId=BTC-USD-SWAP&before=0&after=1701000000000".into()).await);
    assert!(oldest.iter().all(|&t| t >= NOW - 90 * DAY), "three months only");
    let served: Vec<SimFunding> = rows("instId=ETH-USDT-SWAP&limit=30".into())
        .await
        .iter()
        .rev()
        .map(|r| SimFunding {
            time: r["fundingTime"].as_str().unwrap().parse().unwrap(),
            rate: f(&r["fundingRate"]),
            realized_rate: Some(f(&r["realizedRate"])),
            mark_price: None,
        })
        .collect();
    assert_eq!(venue_funding(Venue::OkxSwap, "ETH-USDT-SWAP", served[0].time, NOW + 1, NOW).unwrap(), served);
    for inst in ["BTC-USDT", "BTC-USDT-250926", "DOGE-USDT-SWAP"] {
        let r = get(&sim, &format!("/api/v5/public/funding-rate-history?instId={inst}")).await;
        assert_eq!((r.status, r.json()["code"].as_str()), (200, Some("51001")), "{inst}");
    }
}

#[tokio::test]
async fn funding_history_is_limited_per_instrument() {
    let window = Duration::from_secs(3600);
    fresh_window(window, Duration::from_secs(5)).await;
    let sim = sim_with(OkxLimits { window, funding_history: 2, ..OkxLimits::default() }).await;
    let btc = "/api/v5/public/funding-rate-history?instId=BTC-USDT-SWAP&limit=1";
    assert_eq!(get(&sim, btc).await.status, 200);
    assert_eq!(get(&sim, btc).await.status, 200);
    let limited = get(&sim, btc).await;
    assert_eq!((limited.status, limited.json()["code"].as_str()), (429, Some("50011")));
    assert_eq!(
        get(&sim, "/api/v5/public/funding-rate-history?instId=ETH-USDT-SWAP&limit=1").await.status,
        200
    );
    let stats = sim.stats();
    assert_eq!(stats.max_window_weight.get("okx-funding-history:BTC-USDT-SWAP"), Some(&2));
    assert_eq!(stats.max_window_weight.get("okx-funding-history:ETH-USDT-SWAP"), Some(&1));
    assert_eq!(stats.rate_limited, 1);
}

#[tokio::test]
async fn books_levels_and_shape() {
    let now = NOW + 42;
    let sim = sim_at(now).await;
    let snapshot = |reply: &Reply| -> (Value, SimBook) {
        let d = data(reply);
        assert_eq!(d.len(), 1);
        let v = d[0].clone();
        let side = |k: &str| {
            v[k].as_array()
                .unwrap()
                .iter()
                .map(|l| {
                    let l = l.as_array().unwrap();
                    assert_eq!(l.len(), 4);
                    assert_eq!(l[2], "0");
                    assert!(l.iter().all(Value::is_string));
                    (f(&l[0]), f(&l[1]))
                })
                .collect::<Vec<_>>()
        };
        let b = SimBook {
            time: v["ts"].as_str().unwrap().parse().unwrap(),
            update_id: now / 10,
            bids: side("bids"),
            asks: side("asks"),
        };
        (v, b)
    };
    let (_, one) = snapshot(&get(&sim, "/api/v5/market/books?instId=BTC-USDT").await);
    assert_eq!((one.bids.len(), one.asks.len(), one.time), (1, 1, now));
    let (_, deep) = snapshot(&get(&sim, "/api/v5/market/books?instId=BTC-USD-SWAP&sz=1000").await);
    assert_eq!(deep.bids.len(), 400);
    assert!(deep.bids.iter().all(|l| l.1.fract() == 0.0), "contracts");
    assert_eq!(deep, venue_book(Venue::OkxSwap, "BTC-USD-SWAP", 400, now).unwrap());
    assert!(deep.bids[0].0 < deep.asks[0].0);
}
