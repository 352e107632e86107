//! Bybit v5 `GET /v5/market/kline` and `/v5/market/instruments-info` over
//! real HTTP: the envelope, bound cases, newest-first order, caps, the open
//! bar, categories, errors, the 403 IP limit, faults, counters, and equality
//! with the `venue_klines` oracle.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::time::Duration;

use common::*;
use cryptocache_sim::{venue_klines, BybitLimits, Fault, Sim, SimCandle, SimConfig, Venue};
use serde_json::{json, Value};

const KLINE: &str = "/v5/market/kline";

/// The `result.list` rows of a successful kline reply (asserts the envelope).
fn list(reply: &Reply) -> Vec<Vec<String>> {
    assert_eq!(reply.status, 200, "{}", reply.text());
    let v = reply.json();
    assert_eq!(v["retCode"], 0, "{v}");
    assert_eq!(v["retMsg"], "OK");
    assert_eq!(v["retExtInfo"], json!({}));
    assert!(v["time"].is_i64());
    serde_json::from_value(v["result"]["list"].clone()).unwrap()
}

fn opens(reply: &Reply) -> Vec<i64> {
    list(reply).iter().map(|r| r[0].parse().unwrap()).collect()
}

/// A row parsed as a client would; Bybit does not flag the open bar, so
/// `confirmed` is left false and compared separately.
fn parse(row: &[String], inverse: bool) -> SimCandle {
    assert_eq!(row.len(), 7, "{row:?}");
    let f = |i: usize| -> f64 { row[i].parse().unwrap() };
    let (base, quote) = if inverse { (f(6), f(5)) } else { (f(5), f(6)) };
    SimCandle {
        open_time: row[0].parse().unwrap(),
        open: f(1),
        high: f(2),
        low: f(3),
        close: f(4),
        base_volume: base,
        quote_volume: quote,
        contracts: None,
        confirmed: false,
    }
}

/// `(retCode, retMsg)` of a business error, checking the rest of its envelope.
fn error(reply: &Reply) -> (i64, String) {
    assert_eq!(reply.status, 200, "Bybit business errors are HTTP 200");
    let v = reply.json();
    assert_eq!(v["result"], json!({}), "{v}");
    assert_eq!(v["retExtInfo"], json!({}));
    (v["retCode"].as_i64().unwrap(), v["retMsg"].as_str().unwrap().to_string())
}

async fn sim_with(limits: BybitLimits) -> Sim {
    Sim::start(SimConfig { now_ms: Some(NOW), bybit: limits, ..SimConfig::default() }).await.unwrap()
}

#[tokio::test]
async fn envelope_and_row_shape() {
    let sim = sim_at(NOW).await;
    let reply = get(&sim, &format!("{KLINE}?category=linear&symbol=BTCUSDT&interval=60&limit=2")).await;
    assert_eq!(reply.header("content-type"), Some("application/json; charset=utf-8"));
    let v = reply.json();
    assert_eq!(v["time"], NOW);
    assert_eq!(v["result"]["symbol"], "BTCUSDT");
    assert_eq!(v["result"]["category"], "linear");
    let text = reply.text();
    assert!(text.starts_with(r#"{"retCode":0,"retMsg":"OK","result":{"#), "{text}");
    for row in list(&reply) {
        assert_eq!(row.len(), 7);
        for cell in &row[1..] {
            assert!(!cell.ends_with('0') || !cell.contains('.'), "trailing zeros are trimmed: {cell}");
            let _: f64 = cell.parse().unwrap();
        }
    }
}

#[tokio::test]
async fn start_only_gives_the_oldest_rows_listed_newest_first() {
    let sim = sim_at(NOW).await;
    // The captured CCXT request: 15:23:11Z, 1h, limit 3 skips 15:00.
    let reply =
        get(&sim, &format!("{KLINE}?category=linear&symbol=BTCUSDT&interval=60&start=1706628191000&limit=3"))
            .await;
    assert_eq!(opens(&reply), vec![1_706_637_600_000, 1_706_634_000_000, 1_706_630_400_000]);
    // An aligned start is inclusive; with no limit, 200 rows from it.
    let t = NOW - 300 * HOUR;
    let reply = get(&sim, &format!("{KLINE}?symbol=BTCUSDT&interval=60&start={t}")).await;
    let o = opens(&reply);
    assert_eq!(o.len(), 200);
    assert_eq!((o[199], o[0]), (t, t + 199 * HOUR));
}

#[tokio::test]
async fn end_only_and_both_bounds_give_the_newest_rows_up_to_end() {
    let sim = sim_at(NOW).await;
    // The docs example: start 16:00, end 18:00 (2022-12-09), both inclusive.
    let reply = get(
        &sim,
        &format!("{KLINE}?category=inverse&symbol=BTCUSD&interval=60&start=1670601600000&end=1670608800000"),
    )
    .await;
    assert_eq!(opens(&reply), vec![1_670_608_800_000, 1_670_605_200_000, 1_670_601_600_000]);
    let t = NOW - 10 * HOUR;
    let reply = get(&sim, &format!("{KLINE}?symbol=ETHUSDT&interval=60&start={t}&end={NOW}&limit=3")).await;
    assert_eq!(opens(&reply), vec![NOW, NOW - HOUR, NOW - 2 * HOUR], "more than limit: the newest ones");
    let reply = get(&sim, &format!("{KLINE}?symbol=ETHUSDT&interval=60&end={}&limit=3", t - 1)).await;
    assert_eq!(opens(&reply), vec![t - HOUR, t - 2 * HOUR, t - 3 * HOUR], "end-only, open <= end");
    let reply = get(&sim, &format!("{KLINE}?symbol=ETHUSDT&interval=60&start={t}&end={t}")).await;
    assert_eq!(opens(&reply), vec![t]);
    let reply = get(&sim, &format!("{KLINE}?symbol=ETHUSDT&interval=60&start={}&end={t}", t + 1)).await;
    assert!(list(&reply).is_empty(), "start after end: nothing");
}

#[tokio::test]
async fn no_bounds_gives_the_newest_rows_with_the_open_bar_first() {
    let now = NOW + 25 * MIN;
    let sim = sim_at(now).await;
    let reply = get(&sim, &format!("{KLINE}?category=spot&symbol=BTCUSDT&interval=60&limit=3")).await;
    assert_eq!(opens(&reply), vec![NOW, NOW - HOUR, NOW - 2 * HOUR]);
    let rows = list(&reply);
    let oracle = venue_klines(Venue::BybitSpot, "BTCUSDT", "60", NOW, NOW + HOUR, now).unwrap();
    assert!(!oracle[0].confirmed);
    assert_eq!(parse(&rows[0], false), SimCandle { confirmed: false, ..oracle[0].clone() });
    // The open bar moves with the clock; the closed one does not.
    sim.set_now(Some(now + 10 * MIN));
    let later = list(&get(&sim, &format!("{KLINE}?category=spot&symbol=BTCUSDT&interval=60&limit=3")).await);
    assert_eq!(later[1], rows[1]);
    assert_ne!(later[0][4], rows[0][4]);
    // Never past now.
    let future = get(&sim, &format!("{KLINE}?symbol=BTCUSDT&interval=1&start={}", now + 11 * MIN)).await;
    assert!(list(&future).is_empty());
}

#[tokio::test]
async fn category_defaults_to_linear_and_keys_the_symbol() {
    let sim = sim_at(NOW).await;
    let q = "symbol=BTCUSDT&interval=15&limit=5";
    let plain = get(&sim, &format!("{KLINE}?{q}")).await;
    let linear = get(&sim, &format!("{KLINE}?category=linear&{q}")).await;
    let spot = get(&sim, &format!("{KLINE}?category=spot&{q}")).await;
    assert_eq!(list(&plain), list(&linear));
    assert_eq!(plain.json()["result"]["category"], "linear");
    assert_eq!(opens(&spot), opens(&linear));
    assert_ne!(list(&spot), list(&linear), "BTCUSDT spot and linear are different markets");
}

#[tokio::test]
async fn default_limit_is_200_and_cap_is_1000() {
    let sim = sim_at(NOW).await;
    let base = format!("{KLINE}?symbol=BTCUSDT&interval=1");
    assert_eq!(list(&get(&sim, &base).await).len(), 200);
    assert_eq!(list(&get(&sim, &format!("{base}&limit=1000")).await).len(), 1000);
    assert_eq!(list(&get(&sim, &format!("{base}&limit=5000")).await).len(), 1000, "larger limits are capped");
    assert_eq!(list(&get(&sim, &format!("{base}&limit=1")).await).len(), 1);
    assert_eq!(error(&get(&sim, &format!("{base}&limit=0")).await).0, 10001);
}

#[tokio::test]
async fn weeks_open_on_monday_months_on_the_first_and_history_at_launch() {
    let sim = sim_at(NOW).await;
    let w = opens(&get(&sim, &format!("{KLINE}?symbol=BTCUSDT&interval=W&limit=2")).await);
    assert_eq!(w, vec![1_706_486_400_000, 1_706_486_400_000 - 7 * DAY]);
    let m = opens(&get(&sim, &format!("{KLINE}?symbol=BTCUSDT&interval=M&limit=2")).await);
    assert_eq!(m, vec![1_704_067_200_000, 1_701_388_800_000]);
    let d = opens(&get(&sim, &format!("{KLINE}?symbol=BTCUSDT&interval=D&limit=1")).await);
    assert_eq!(d, vec![NOW - 19 * HOUR]);
    let first = |category: &'static str, symbol: &'static str| {
        let sim = &sim;
        async move {
            opens(
                &get(sim, &format!("{KLINE}?category={category}&symbol={symbol}&interval=1&start=0&limit=1"))
                    .await,
            )
        }
    };
    assert_eq!(first("linear", "BTCUSDT").await, vec![1_585_526_400_000]);
    assert_eq!(first("spot", "BTCUSDT").await, vec![1_625_443_200_000]);
    assert_eq!(first("inverse", "BTCUSD").await, vec![1_542_153_600_000]);
    let before =
        get(&sim, &format!("{KLINE}?symbol=BTCUSDT&interval=1&end={}", 1_585_526_400_000i64 - 1)).await;
    assert!(list(&before).is_empty());
}

#[tokio::test]
async fn inverse_volume_is_usd_and_turnover_is_coin() {
    let sim = sim_at(NOW).await;
    let rows = list(
        &get(&sim, &format!("{KLINE}?category=inverse&symbol=BTCUSD&interval=60&end={}&limit=5", NOW - HOUR))
            .await,
    );
    for row in &rows {
        assert!(!row[5].contains('.'), "USD contracts are whole: {}", row[5]);
        let (usd, coin, close): (f64, f64, f64) =
            (row[5].parse().unwrap(), row[6].parse().unwrap(), row[4].parse().unwrap());
        assert!(row[6].split_once('.').is_none_or(|(_, f)| f.len() <= 8));
        let implied = usd / coin;
        assert!((implied / close - 1.0).abs() < 0.05, "{implied} vs {close}");
        assert!(row[1].ends_with(".5") || !row[1].contains('.'), "tick 0.5: {}", row[1]);
    }
    let oracle = venue_klines(Venue::BybitInverse, "BTCUSD", "60", NOW - 5 * HOUR, NOW, NOW).unwrap();
    let served: Vec<SimCandle> = rows.iter().rev().map(|r| parse(r, true)).collect();
    let oracle: Vec<SimCandle> = oracle.into_iter().map(|c| SimCandle { confirmed: false, ..c }).collect();
    assert_eq!(served, oracle);
}

#[tokio::test]
async fn errors_are_http_200_with_ret_code_10001() {
    let sim = sim_at(NOW).await;
    let cases = [
        ("category=linear&symbol=DOGEUSDT&interval=60", "Not supported symbols"),
        ("category=linear&symbol=BTCUSD&interval=60", "Not supported symbols"),
        ("category=inverse&symbol=BTCUSDT&interval=60", "Not supported symbols"),
        ("category=spot&symbol=btcusdt&interval=60", "Not supported symbols"),
        ("category=option&symbol=BTCUSDT&interval=60", "params error: Category is invalid"),
        ("category=futures&symbol=BTCUSDT&interval=60", "params error: Category is invalid"),
        ("symbol=BTCUSDT&interval=2", "params error: Invalid period"),
        ("symbol=BTCUSDT&interval=1h", "params error: Invalid period"),
        ("symbol=BTCUSDT", "params error: Invalid period"),
        ("interval=60", "params error: symbol is required"),
        ("symbol=BTCUSDT&interval=60&start=yesterday", "params error: start is invalid"),
        ("symbol=BTCUSDT&interval=60&end=1.5", "params error: end is invalid"),
    ];
    for (q, msg) in cases {
        let reply = get(&sim, &format!("{KLINE}?{q}")).await;
        assert_eq!(error(&reply), (10001, msg.to_string()), "{q}");
        assert_eq!(reply.json()["time"], NOW);
    }
    let stats = sim.stats();
    assert_eq!(stats.statuses.get(&200), Some(&(cases.len() as u64)));
    assert_eq!(stats.endpoints.get(KLINE), Some(&(cases.len() as u64)));
}

#[tokio::test]
async fn instruments_info_lists_symbols_launch_times_and_funding_intervals() {
    let sim = sim_at(NOW).await;
    let info = |q: &'static str| {
        let sim = &sim;
        async move {
            let reply = get(sim, &format!("/v5/market/instruments-info?{q}")).await;
            assert_eq!(reply.status, 200);
            reply.json()
        }
    };
    let linear = info("category=linear").await;
    assert_eq!(linear["retCode"], 0);
    assert_eq!(linear["result"]["category"], "linear");
    let list = linear["result"]["list"].as_array().unwrap().clone();
    let names: Vec<&str> = list.iter().map(|s| s["symbol"].as_str().unwrap()).collect();
    assert_eq!(names, ["BTCUSDT", "ETHUSDT"]);
    assert_eq!(list[0]["launchTime"], "1585526400000");
    assert_eq!(list[0]["status"], "Trading");
    assert_eq!((list[0]["baseCoin"].as_str(), list[0]["quoteCoin"].as_str()), (Some("BTC"), Some("USDT")));
    assert_eq!(list[0]["fundingInterval"], 480);
    assert_eq!(list[1]["fundingInterval"], 240);
    assert_eq!(list[0]["priceFilter"]["tickSize"], "0.1");
    assert_eq!(list[0]["lotSizeFilter"]["qtyStep"], "0.001");

    let inverse = info("category=inverse").await;
    let inv: Vec<(String, Value)> = inverse["result"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["symbol"].as_str().unwrap().to_string(), s["fundingInterval"].clone()))
        .collect();
    assert_eq!(inv, vec![("BTCUSD".to_string(), json!(480)), ("ETHUSD".to_string(), json!(60))]);

    let spot = info("category=spot").await;
    for s in spot["result"]["list"].as_array().unwrap() {
        assert!(s.get("launchTime").is_none() && s.get("fundingInterval").is_none(), "{s}");
        assert_eq!(s["status"], "Trading");
    }
    let one = info("category=spot&symbol=ETHUSDT").await;
    assert_eq!(one["result"]["list"].as_array().unwrap().len(), 1);
    assert_eq!(info("category=option").await["result"]["list"], json!([]));
    let pre = info("category=linear&status=PreLaunch").await;
    assert_eq!(pre["result"]["list"][0]["symbol"], "SOLUSDT", "not trading before 2024-03-15");
    assert_eq!(pre["result"]["list"].as_array().unwrap().len(), 1);
    let missing = info("").await;
    assert_eq!((missing["retCode"].as_i64(), &missing["result"]), (Some(10001), &json!({})));

    // Before ETHUSDT's launch it is PreLaunch, hidden by the default filter.
    sim.set_now(Some(1_600_000_000_000));
    let early = info("category=linear").await;
    assert_eq!(early["result"]["list"].as_array().unwrap().len(), 1);
    assert_eq!(info("category=linear&status=PreLaunch").await["result"]["list"][0]["symbol"], "ETHUSDT");
}

#[tokio::test]
async fn over_the_ip_limit_gives_403_access_too_frequent() {
    let window = Duration::from_secs(3600);
    fresh_window(window, Duration::from_secs(5)).await;
    let sim = sim_with(BybitLimits { requests: 5, window, limit_headers: true }).await;
    let target = format!("{KLINE}?symbol=BTCUSDT&interval=60&limit=1");
    for i in 1..=4u32 {
        let reply = get(&sim, &target).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("x-bapi-limit"), Some("5"));
        assert_eq!(reply.header("x-bapi-limit-status"), Some((5 - i).to_string().as_str()));
        let reset: i64 = reply.header("x-bapi-limit-reset-timestamp").unwrap().parse().unwrap();
        assert_eq!(reset % 3_600_000, 0);
        assert!(reset > wall_ms() && reset <= wall_ms() + 3_600_000);
    }
    // Every /v5/ path shares the budget.
    assert_eq!(get(&sim, "/v5/market/instruments-info?category=spot").await.status, 200);
    for _ in 0..3 {
        let reply = get(&sim, &target).await;
        assert_eq!(reply.status, 403);
        assert_eq!(reply.text(), "access too frequent");
        assert!(reply.header("content-type").unwrap().starts_with("text/plain"));
    }
    // Other exchanges are not affected.
    assert_eq!(get(&sim, "/api/v3/time").await.status, 200);
    let stats = sim.stats();
    assert_eq!(stats.rate_limited, 3);
    assert_eq!(stats.statuses.get(&403), Some(&3));
    assert_eq!(stats.max_window_weight.get("bybit"), Some(&5));
    sim.reset();
    assert_eq!(get(&sim, &target).await.status, 200);
}

#[tokio::test]
async fn limit_headers_are_off_by_default_and_windows_roll() {
    let window = Duration::from_secs(2);
    fresh_window(window, Duration::from_millis(1500)).await;
    let sim = sim_with(BybitLimits { requests: 2, window, ..BybitLimits::default() }).await;
    let target = format!("{KLINE}?symbol=BTCUSDT&interval=60&limit=1");
    let ok = get(&sim, &target).await;
    assert!(ok.header("x-bapi-limit").is_none());
    assert_eq!(get(&sim, &target).await.status, 200);
    assert_eq!(get(&sim, &target).await.status, 403);
    let left = 2000 - wall_ms().rem_euclid(2000);
    tokio::time::sleep(Duration::from_millis(left as u64 + 20)).await;
    assert_eq!(get(&sim, &target).await.status, 200);
    assert_eq!(
        BybitLimits::default(),
        BybitLimits { requests: 600, window: Duration::from_secs(5), limit_headers: false }
    );
}

#[tokio::test]
async fn faults_and_delay_apply_to_bybit_too() {
    let sim = sim_at(NOW).await;
    let target = format!("{KLINE}?symbol=BTCUSDT&interval=60&limit=10");
    let normal = get(&sim, &target).await;
    sim.push_faults(vec![
        Fault::Status { status: 403, retry_after_secs: Some(600) },
        Fault::Status { status: 429, retry_after_secs: None },
        Fault::Malformed,
        Fault::Truncated,
    ]);
    let r = get(&sim, &target).await;
    assert_eq!(
        (r.status, r.text(), r.header("retry-after")),
        (403, "access too frequent".to_string(), Some("600"))
    );
    let r = get(&sim, &target).await;
    assert_eq!((r.status, r.text()), (429, "<html>429 Too Many Requests</html>".to_string()));
    let r = get(&sim, &target).await;
    assert_eq!((r.status, r.text()), (200, "{\"this is\": not json".to_string()));
    let r = get(&sim, &target).await;
    assert_eq!(&r.body[..], &normal.body[..normal.body.len() / 2]);
    assert_eq!(get(&sim, &target).await.body, normal.body);
    let stats = sim.stats();
    assert_eq!((stats.total, stats.faults_served, stats.rate_limited), (6, 4, 0));
    assert_eq!(stats.endpoints.get(KLINE), Some(&6));
    // The delay applies to every venue's paths.
    sim.set_delay(Duration::from_millis(120));
    for target in [
        target.as_str(),
        "/api/v5/market/candles?instId=BTC-USDT",
        "/api/v2/public/get_order_book?instrument_name=BTC-PERPETUAL",
    ] {
        let started = std::time::Instant::now();
        assert_eq!(get(&sim, target).await.status, 200, "{target}");
        assert!(started.elapsed() >= Duration::from_millis(120), "{target}");
    }
}

/// Every (category, symbol, interval, query) must give exactly the oracle's
/// candles, f64 for f64.
#[tokio::test]
async fn http_rows_equal_the_oracle_bit_for_bit() {
    let now = NOW + 17 * MIN + 3_456;
    let sim = sim_at(now).await;
    let cases: [(Venue, &str, &str, &str); 10] = [
        (Venue::BybitLinear, "BTCUSDT", "60", "limit=50"),
        (Venue::BybitLinear, "ETHUSDT", "1", "limit=1000"),
        (Venue::BybitSpot, "BTCUSDT", "D", "start=0&limit=1000"),
        (Venue::BybitSpot, "ETHUSDT", "W", "end=1700000000000&limit=100"),
        (Venue::BybitInverse, "BTCUSD", "M", "limit=1000"),
        (Venue::BybitInverse, "ETHUSD", "720", "start=1600000000000&end=1610000000000&limit=1000"),
        (Venue::BybitLinear, "BTCUSDT", "3", "start=1585500000000&limit=77"),
        (Venue::BybitSpot, "BTCUSDT", "240", "end=1650000000000"),
        (Venue::BybitLinear, "ETHUSDT", "360", "limit=999"),
        (Venue::BybitInverse, "BTCUSD", "5", "limit=300"),
    ];
    for (venue, symbol, interval, query) in cases {
        let category = match venue {
            Venue::BybitSpot => "spot",
            Venue::BybitLinear => "linear",
            _ => "inverse",
        };
        let reply =
            get(&sim, &format!("{KLINE}?category={category}&symbol={symbol}&interval={interval}&{query}"))
                .await;
        let mut served: Vec<SimCandle> =
            list(&reply).iter().map(|r| parse(r, venue == Venue::BybitInverse)).collect();
        assert!(!served.is_empty(), "{symbol} {interval} {query}");
        assert!(served.windows(2).all(|w| w[0].open_time > w[1].open_time), "newest first");
        served.reverse();
        let (first, last) = (served[0].open_time, served[served.len() - 1].open_time);
        let oracle = venue_klines(venue, symbol, interval, first, last + 1, now).unwrap();
        assert!(oracle.iter().rev().skip(1).all(|c| c.confirmed), "only the newest bar can be open");
        let oracle: Vec<SimCandle> =
            oracle.into_iter().map(|c| SimCandle { confirmed: false, ..c }).collect();
        assert_eq!(served, oracle, "{venue:?} {symbol} {interval} {query}");
        for (s, o) in served.iter().zip(&oracle) {
            assert_eq!(s.close.to_bits(), o.close.to_bits());
            assert_eq!(s.quote_volume.to_bits(), o.quote_volume.to_bits());
        }
    }
}
