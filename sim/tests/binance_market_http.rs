//! Binance `aggTrades`, `historicalTrades`, `trades`, UM `fundingRate` and
//! `depth` over real HTTP: bounds, paging by id, caps, the UM one-hour
//! span rule and API-key header, weights, and equality with the oracle
//! functions.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use cryptocache_sim::{
    binance_agg_trades, binance_book, binance_funding, binance_trades, BinanceMarket, SimAggTrade, SimBook,
    SimFunding, SimTrade,
};
use serde_json::Value;

const SPOT: BinanceMarket = BinanceMarket::Spot;
const UM: BinanceMarket = BinanceMarket::UsdM;

fn objects(reply: &Reply) -> Vec<Value> {
    assert_eq!(reply.status, 200, "{}", reply.text());
    serde_json::from_value(reply.json()).unwrap()
}

fn f(v: &Value) -> f64 {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}")).parse().unwrap()
}

fn agg(v: &Value) -> SimAggTrade {
    SimAggTrade {
        id: v["a"].as_i64().unwrap(),
        first_trade_id: v["f"].as_i64().unwrap(),
        last_trade_id: v["l"].as_i64().unwrap(),
        time: v["T"].as_i64().unwrap(),
        price: f(&v["p"]),
        qty: f(&v["q"]),
        buyer_maker: v["m"].as_bool().unwrap(),
    }
}

fn trade(v: &Value) -> SimTrade {
    SimTrade {
        id: v["id"].as_i64().unwrap(),
        time: v["time"].as_i64().unwrap(),
        price: f(&v["price"]),
        qty: f(&v["qty"]),
        buyer_maker: v["isBuyerMaker"].as_bool().unwrap(),
    }
}

fn aggs(reply: &Reply) -> Vec<SimAggTrade> {
    objects(reply).iter().map(agg).collect()
}

fn trades(reply: &Reply) -> Vec<SimTrade> {
    objects(reply).iter().map(trade).collect()
}

async fn get_key(sim: &cryptocache_sim::Sim, target: &str) -> Reply {
    let host = sim.url().strip_prefix("http://").unwrap().to_string();
    let mut stream = tokio::net::TcpStream::connect(&host).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let head = format!(
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nX-MBX-APIKEY: anything\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let body = raw[split + 4..].to_vec();
    let headers = head
        .split("\r\n")
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Reply { status, headers, body }
}

#[tokio::test]
async fn agg_trades_default_to_the_newest_and_chain_by_id() {
    let now = NOW + 12_345;
    let sim = sim_at(now).await;
    let reply = get(&sim, "/api/v3/aggTrades?symbol=BTCUSDT").await;
    assert_eq!(reply.used_weight(), Some(4));
    let rows = objects(&reply);
    assert_eq!(rows.len(), 500);
    assert_eq!(
        rows[0].as_object().unwrap().keys().cloned().collect::<Vec<_>>(),
        ["M", "T", "a", "f", "l", "m", "p", "q"]
    );
    assert!(reply.text().starts_with(r#"[{"a":"#));
    let a: Vec<SimAggTrade> = rows.iter().map(agg).collect();
    for w in a.windows(2) {
        assert_eq!(w[0].id + 1, w[1].id);
        assert_eq!(w[0].last_trade_id + 1, w[1].first_trade_id);
        assert!(w[0].time < w[1].time);
    }
    assert!(a[499].time <= now);
    let next = get(&sim, &format!("/api/v3/aggTrades?symbol=BTCUSDT&fromId={}", a[499].id + 1)).await;
    assert!(objects(&next).is_empty(), "nothing newer than now");
    let from =
        aggs(&get(&sim, &format!("/api/v3/aggTrades?symbol=BTCUSDT&fromId={}&limit=10", a[100].id)).await);
    assert_eq!(from[..], a[100..110]);
    let oracle = binance_agg_trades(SPOT, "BTCUSDT", a[0].time, a[499].time + 1, now).unwrap();
    assert_eq!(oracle, a);
    // Spot rows are printed with 8 decimals.
    assert_eq!(rows[0]["p"].as_str().unwrap().split_once('.').unwrap().1.len(), 8);
}

#[tokio::test]
async fn agg_trade_time_bounds_are_inclusive() {
    let sim = sim_at(NOW).await;
    let t0 = NOW - 30 * MIN;
    let window = binance_agg_trades(UM, "ETHUSDT", t0, t0 + MIN, NOW).unwrap();
    let (a, b) = (&window[3], &window[7]);
    let q = |extra: String| format!("/fapi/v1/aggTrades?symbol=ETHUSDT&{extra}");
    let both = aggs(&get(&sim, &q(format!("startTime={}&endTime={}", a.time, b.time))).await);
    assert_eq!(both[..], window[3..=7]);
    let one = aggs(&get(&sim, &q(format!("startTime={}&endTime={}", a.time, a.time))).await);
    assert_eq!(one[..], window[3..=3]);
    let start = aggs(&get(&sim, &q(format!("startTime={}&limit=4", a.time + 1))).await);
    assert_eq!(start[..], window[4..8]);
    let end = aggs(&get(&sim, &q(format!("endTime={}&limit=3", b.time))).await);
    assert_eq!(end[..], window[5..=7], "endTime only: the newest up to it");
    let from_id = aggs(&get(&sim, &q(format!("fromId={}&endTime={}", a.id, b.time))).await);
    assert_eq!(from_id[..], window[3..=7]);
    // UM: under one hour only; start after end is -1023. Spot: neither rule.
    let hour = get(&sim, &q(format!("startTime={t0}&endTime={}", t0 + HOUR))).await;
    assert_eq!(
        (hour.status, hour.error()),
        (400, (-1127, "More than 1 hours between startTime and endTime.".to_string()))
    );
    assert_eq!(get(&sim, &q(format!("startTime={t0}&endTime={}", t0 + HOUR - 1))).await.status, 200);
    assert_eq!(get(&sim, &q(format!("startTime={}&endTime={t0}", t0 + 1))).await.error().0, -1023);
    let spot = get(
        &sim,
        &format!("/api/v3/aggTrades?symbol=ETHUSDT&startTime={t0}&endTime={}&limit=1000", t0 + 2 * HOUR),
    )
    .await;
    assert_eq!(objects(&spot).len(), 1000);
    assert!(objects(
        &get(&sim, &format!("/api/v3/aggTrades?symbol=ETHUSDT&startTime={}&endTime={t0}", t0 + 1)).await
    )
    .is_empty());
    // UM rows: no `M`, the symbol's own precision.
    let row = &objects(&get(&sim, &q("limit=1".to_string())).await)[0];
    assert!(row.get("M").is_none());
    assert_eq!(row["q"].as_str().unwrap().split_once('.').unwrap().1.len(), 3);
    let fresh = sim_at(NOW).await;
    assert_eq!(get(&fresh, &q("limit=1".to_string())).await.used_weight(), Some(20));
    for bad in ["limit=0", "limit=1001", "fromId=x"] {
        assert_eq!(get(&sim, &q(bad.to_string())).await.status, 400, "{bad}");
    }
    assert_eq!(get(&sim, "/fapi/v1/aggTrades?symbol=BNBUSDT").await.error().0, -1121);
}

#[tokio::test]
async fn um_agg_trades_keep_one_year_and_nothing_trades_in_the_gap() {
    let sim = sim_at(NOW).await;
    let first = aggs(&get(&sim, "/fapi/v1/aggTrades?symbol=BTCUSDT&fromId=0&limit=1").await);
    assert!(first[0].time >= NOW - 365 * DAY && first[0].time < NOW - 365 * DAY + MIN);
    let spot_first = aggs(&get(&sim, "/api/v3/aggTrades?symbol=BTCUSDT&fromId=0&limit=1").await);
    assert_eq!(spot_first[0].id, 0);
    assert_eq!(spot_first[0].time / HOUR, 1_502_942_400_000 / HOUR, "trading starts at the listing hour");
    // 2020-02-19: the gap hours 11:00-18:00 hold no trades.
    let before_gap = 1_582_110_000_000;
    let rows =
        aggs(&get(&sim, &format!("/api/v3/aggTrades?symbol=ETHUSDT&startTime={before_gap}&limit=2")).await);
    assert_eq!(rows[0].time / HOUR, (1_582_135_200_000) / HOUR, "the first after the gap is at 18:00");
    assert!(binance_agg_trades(SPOT, "ETHUSDT", before_gap, 1_582_135_200_000, NOW).unwrap().is_empty());
}

#[tokio::test]
async fn historical_and_recent_trades() {
    fresh_window(std::time::Duration::from_secs(60), std::time::Duration::from_secs(5)).await;
    let now = NOW + 777;
    let sim = sim_at(now).await;
    let recent = get(&sim, "/api/v3/trades?symbol=SOLUSDT").await;
    assert_eq!(recent.used_weight(), Some(25));
    let recent = trades(&recent);
    assert_eq!(recent.len(), 500);
    let hist = get(&sim, "/api/v3/historicalTrades?symbol=SOLUSDT&limit=1000").await;
    assert_eq!(hist.used_weight(), Some(50));
    let hist = trades(&hist);
    assert_eq!(hist[500..], recent[..]);
    assert!(hist.windows(2).all(|w| w[0].id + 1 == w[1].id && w[0].time <= w[1].time));
    let from = trades(
        &get(&sim, &format!("/api/v3/historicalTrades?symbol=SOLUSDT&fromId={}&limit=5", hist[10].id)).await,
    );
    assert_eq!(from[..], hist[10..15]);
    let oracle = binance_trades(SPOT, "SOLUSDT", hist[0].time, hist[999].time + 1, now).unwrap();
    assert_eq!(
        oracle.iter().filter(|t| t.id >= hist[0].id && t.id <= hist[999].id).cloned().collect::<Vec<_>>(),
        hist
    );
    let row = &objects(&get(&sim, "/api/v3/trades?symbol=SOLUSDT&limit=1").await)[0];
    assert_eq!(row["isBestMatch"], true);
    let quote: f64 = f(&row["quoteQty"]);
    assert!((quote - f(&row["price"]) * f(&row["qty"])).abs() < 1e-6);
    assert_eq!(get(&sim, "/api/v3/historicalTrades?symbol=SOLUSDT&limit=1001").await.error().0, -1130);

    // UM: the API key header is required; default 100, max 500; three months kept.
    let no_key = get(&sim, "/fapi/v1/historicalTrades?symbol=BTCUSDT").await;
    assert_eq!((no_key.status, no_key.error()), (401, (-2014, "API-key format invalid.".to_string())));
    let with_key = get_key(&sim, "/fapi/v1/historicalTrades?symbol=BTCUSDT").await;
    assert_eq!(with_key.used_weight(), Some(20));
    let um = trades(&with_key);
    assert_eq!(um.len(), 100);
    let row = &objects(&with_key)[0];
    assert_eq!(row["isRPITrade"], false);
    assert!(row.get("isBestMatch").is_none());
    assert_eq!(get_key(&sim, "/fapi/v1/historicalTrades?symbol=BTCUSDT&limit=501").await.status, 400);
    let oldest = trades(&get_key(&sim, "/fapi/v1/historicalTrades?symbol=BTCUSDT&fromId=0&limit=1").await);
    assert!(oldest[0].time >= now - 90 * DAY && oldest[0].time < now - 90 * DAY + MIN);
    assert_eq!(trades(&get(&sim, "/fapi/v1/trades?symbol=BTCUSDT&limit=100").await), um);
}

#[tokio::test]
async fn funding_rate_history() {
    fresh_window(std::time::Duration::from_secs(300), std::time::Duration::from_secs(5)).await;
    let sim = sim_at(NOW).await;
    let rows = |q: String| {
        let sim = &sim;
        async move {
            objects(&get(sim, &format!("/fapi/v1/fundingRate?{q}")).await)
                .iter()
                .map(|r| {
                    assert_eq!(r["fundingRate"].as_str().unwrap().split_once('.').unwrap().1.len(), 8);
                    (r["symbol"].as_str().unwrap().to_string(), r["fundingTime"].as_i64().unwrap())
                })
                .collect::<Vec<_>>()
        }
    };
    let btc = rows("symbol=BTCUSDT".into()).await;
    assert_eq!(btc.len(), 100, "default limit");
    assert_eq!(btc[99].1, NOW - 3 * HOUR, "the newest at or before now, 8-hourly");
    assert!(btc.windows(2).all(|w| w[1].1 - w[0].1 == 8 * HOUR));
    let eth = rows(format!("symbol=ETHUSDT&startTime={}&limit=3", NOW - DAY)).await;
    let t = NOW - DAY - 3 * HOUR;
    assert_eq!(
        eth.iter().map(|r| r.1).collect::<Vec<_>>(),
        [t + 4 * HOUR, t + 8 * HOUR, t + 12 * HOUR],
        "4-hourly"
    );
    let sol = rows(format!("symbol=SOLUSDT&startTime={}&endTime={}", NOW - 5 * HOUR, NOW - 2 * HOUR)).await;
    assert_eq!(
        sol.iter().map(|r| r.1).collect::<Vec<_>>(),
        (2..=5).rev().map(|h| NOW - h * HOUR).collect::<Vec<_>>(),
        "hourly, bounds inclusive"
    );
    let end = rows(format!("symbol=BTCUSDT&endTime={}&limit=2", NOW - 3 * HOUR - 1)).await;
    assert_eq!(end.iter().map(|r| r.1).collect::<Vec<_>>(), [NOW - 19 * HOUR, NOW - 11 * HOUR]);
    assert_eq!(rows("symbol=BTCUSDT&limit=1000".into()).await.len(), 1000);
    let first = rows("symbol=BTCUSDT&startTime=0&limit=1".into()).await;
    assert_eq!(first[0].1, 1_568_102_400_000 + 8 * HOUR, "first funding after onboarding");
    let all = rows(format!("startTime={}&endTime={}", NOW - 8 * HOUR, NOW)).await;
    assert_eq!(all.iter().filter(|r| r.0 == "SOLUSDT").count(), 9);
    assert_eq!(all.iter().filter(|r| r.0 == "ETHUSDT").count(), 2);
    assert_eq!(all.iter().filter(|r| r.0 == "BTCUSDT").count(), 1);
    assert!(all.windows(2).all(|w| w[0].1 <= w[1].1));
    let served: Vec<SimFunding> = objects(&get(&sim, "/fapi/v1/fundingRate?symbol=SOLUSDT&limit=50").await)
        .iter()
        .map(|r| SimFunding {
            time: r["fundingTime"].as_i64().unwrap(),
            rate: f(&r["fundingRate"]),
            realized_rate: None,
            mark_price: Some(f(&r["markPrice"])),
        })
        .collect();
    assert_eq!(binance_funding("SOLUSDT", served[0].time, NOW + 1, NOW).unwrap(), served);
    assert_eq!(get(&sim, "/fapi/v1/fundingRate?symbol=NOPEUSDT").await.error().0, -1121);
    let reply = get(&sim, "/fapi/v1/fundingRate?symbol=BTCUSDT&limit=1").await;
    assert_eq!(reply.used_weight(), Some(0), "no request weight: a bucket of its own");
    assert_eq!(sim.stats().max_window_weight.get("binance-um-funding"), Some(&10));
}

#[tokio::test]
async fn depth_levels_weights_and_limits() {
    fresh_window(std::time::Duration::from_secs(60), std::time::Duration::from_secs(5)).await;
    let now = NOW + 250;
    let sim = sim_at(now).await;
    let book = |reply: &Reply| -> SimBook {
        let v = reply.json();
        let side =
            |k: &str| v[k].as_array().unwrap().iter().map(|l| (f(&l[0]), f(&l[1]))).collect::<Vec<_>>();
        SimBook {
            time: now,
            update_id: v["lastUpdateId"].as_i64().unwrap(),
            bids: side("bids"),
            asks: side("asks"),
        }
    };
    let spot = get(&sim, "/api/v3/depth?symbol=BTCUSDT").await;
    assert_eq!(spot.used_weight(), Some(5));
    let b = book(&spot);
    assert_eq!((b.bids.len(), b.asks.len()), (100, 100));
    assert!(b.bids[0].0 < b.asks[0].0);
    assert!(b.bids.windows(2).all(|w| w[0].0 > w[1].0) && b.asks.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(b, binance_book(SPOT, "BTCUSDT", 100, now).unwrap());
    assert!(spot.json().get("E").is_none());
    let big = get(&sim, "/api/v3/depth?symbol=BTCUSDT&limit=6000").await;
    assert_eq!((book(&big).bids.len(), big.used_weight()), (5000, Some(255)));
    let um = get(&sim, "/fapi/v1/depth?symbol=ETHUSDT").await;
    assert_eq!(um.used_weight(), Some(10));
    assert_eq!(um.json()["E"], now);
    assert_eq!(book(&um), binance_book(UM, "ETHUSDT", 500, now).unwrap());
    assert_eq!(get(&sim, "/fapi/v1/depth?symbol=ETHUSDT&limit=5").await.used_weight(), Some(12));
    let bad = get(&sim, "/fapi/v1/depth?symbol=ETHUSDT&limit=7").await;
    assert_eq!(bad.error(), (-1130, "Data sent for paramter 'limit' is not valid.".to_string()));
}
