//! OKX v5 `GET /api/v5/market/candles`, `/history-candles` and
//! `/public/instruments` over real HTTP: the envelope, exclusive
//! `after`/`before`, newest-first order, caps, `confirm`, the 1,440-bar
//! window of `candles`, UTC+8 vs `utc` buckets, filler bars, errors, the
//! 429 / 50011 limit, faults, counters, and equality with `venue_klines`.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::time::Duration;

use common::*;
use cryptocache_sim::{
    venue_klines, venue_quiet_windows, Fault, OkxLimits, Sim, SimCandle, SimConfig, Venue,
};
use serde_json::Value;

const CANDLES: &str = "/api/v5/market/candles";
const HISTORY: &str = "/api/v5/market/history-candles";
const INSTRUMENTS: &str = "/api/v5/public/instruments";

/// The `data` rows of a successful reply (asserts the envelope).
fn data(reply: &Reply) -> Vec<Vec<String>> {
    assert_eq!(reply.status, 200, "{}", reply.text());
    let v = reply.json();
    assert_eq!((&v["code"], &v["msg"]), (&Value::from("0"), &Value::from("")), "{v}");
    serde_json::from_value(v["data"].clone()).unwrap()
}

fn ts(reply: &Reply) -> Vec<i64> {
    data(reply).iter().map(|r| r[0].parse().unwrap()).collect()
}

/// A 9-string row parsed as a client would.
fn parse(row: &[String], derivative: bool) -> SimCandle {
    assert_eq!(row.len(), 9, "{row:?}");
    let f = |i: usize| -> f64 { row[i].parse().unwrap() };
    assert!(row[8] == "0" || row[8] == "1");
    SimCandle {
        open_time: row[0].parse().unwrap(),
        open: f(1),
        high: f(2),
        low: f(3),
        close: f(4),
        base_volume: if derivative { f(6) } else { f(5) },
        quote_volume: f(7),
        contracts: derivative.then(|| f(5)),
        confirmed: row[8] == "1",
    }
}

async fn sim_with(limits: OkxLimits) -> Sim {
    Sim::start(SimConfig { now_ms: Some(NOW), okx: limits, ..SimConfig::default() }).await.unwrap()
}

#[tokio::test]
async fn default_page_is_the_newest_100_one_minute_bars_with_the_open_one_first() {
    let now = NOW + 30_000;
    let sim = sim_at(now).await;
    for path in [CANDLES, HISTORY] {
        let reply = get(&sim, &format!("{path}?instId=BTC-USDT")).await;
        assert!(reply.text().starts_with(r#"{"code":"0","msg":"","data":[["#));
        let rows = data(&reply);
        assert_eq!(rows.len(), 100, "{path}");
        let t: Vec<i64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
        assert_eq!(t, (0..100).map(|i| NOW - i * MIN).collect::<Vec<_>>(), "{path}: 1m, newest first");
        assert_eq!(rows[0][8], "0", "the open bar is unconfirmed");
        assert!(rows[1..].iter().all(|r| r[8] == "1"));
    }
}

#[tokio::test]
async fn after_and_before_are_exclusive_and_before_alone_is_the_newest_page() {
    let sim = sim_at(NOW).await;
    let q = |extra: String| format!("{HISTORY}?instId=ETH-USDT-SWAP&bar=1m&{extra}");
    assert_eq!(ts(&get(&sim, &q(format!("after={NOW}&limit=2"))).await), vec![NOW - MIN, NOW - 2 * MIN]);
    assert_eq!(
        ts(&get(&sim, &q(format!("after={}&limit=2", NOW - MIN + 1))).await),
        vec![NOW - MIN, NOW - 2 * MIN]
    );
    assert_eq!(
        ts(&get(&sim, &q(format!("before={}", NOW - 3 * MIN))).await),
        vec![NOW, NOW - MIN, NOW - 2 * MIN],
        "ts > before"
    );
    let both = ts(&get(&sim, &q(format!("after={}&before={}", NOW - 10 * MIN, NOW - 20 * MIN))).await);
    assert_eq!(both, (11..20).map(|i| NOW - i * MIN).collect::<Vec<_>>());
    // `before` alone never pages forward: it is the newest page.
    let old = ts(&get(&sim, &q(format!("before={}&limit=5", NOW - 500 * MIN))).await);
    assert_eq!(old, (0..5).map(|i| NOW - i * MIN).collect::<Vec<_>>());
    // Paging back by lowering `after` to the oldest ts of the last page.
    let page1 = ts(&get(&sim, &q("limit=100".to_string())).await);
    let page2 = ts(&get(&sim, &q(format!("after={}&limit=100", page1[99]))).await);
    assert_eq!(page2[0], page1[99] - MIN);
    let empty = data(&get(&sim, &q(format!("after={}&before={}", NOW - 5 * MIN, NOW - 6 * MIN))).await);
    assert!(empty.is_empty());
}

#[tokio::test]
async fn caps_and_defaults() {
    let sim = sim_at(NOW).await;
    let n = |target: String| {
        let sim = &sim;
        async move { data(&get(sim, &target).await).len() }
    };
    let c = format!("{CANDLES}?instId=BTC-USDT-SWAP&bar=1m");
    let h = format!("{HISTORY}?instId=BTC-USDT-SWAP&bar=1m");
    assert_eq!(n(c.clone()).await, 100);
    assert_eq!(n(format!("{c}&limit=300")).await, 300);
    assert_eq!(n(format!("{c}&limit=1000")).await, 300, "above the cap: the cap");
    assert_eq!(n(h.clone()).await, 100);
    assert_eq!(n(format!("{h}&limit=300")).await, 100, "history-candles: 100");
    assert_eq!(n(format!("{h}&limit=7")).await, 7);
    for target in [format!("{c}&limit=0"), format!("{h}&limit=x")] {
        let reply = get(&sim, &target).await;
        assert_eq!(
            (reply.status, reply.text()),
            (400, r#"{"code":"51000","msg":"Parameter limit error","data":[]}"#.to_string())
        );
    }
}

#[tokio::test]
async fn candles_serves_only_the_newest_1440_bars() {
    let sim = sim_at(NOW + 10_000).await;
    let oldest_kept = NOW - 1439 * MIN;
    let q = |path: &str, after: i64| format!("{path}?instId=BTC-USDT&bar=1m&after={after}&limit=300");
    let tail = ts(&get(&sim, &q(CANDLES, NOW - 1400 * MIN)).await);
    assert_eq!(tail.len(), 39);
    assert_eq!(tail[38], oldest_kept);
    assert!(data(&get(&sim, &q(CANDLES, oldest_kept)).await).is_empty(), "older bars are gone from candles");
    let history = ts(&get(&sim, &q(HISTORY, oldest_kept)).await);
    assert_eq!(
        history,
        (1..=100).map(|i| oldest_kept - i * MIN).collect::<Vec<_>>(),
        "history-candles has them"
    );
    // Per bar size: 1H keeps 1,440 hours.
    let hours =
        ts(&get(&sim, &format!("{CANDLES}?instId=BTC-USDT&bar=1H&after={}&limit=300", NOW - 1438 * HOUR))
            .await);
    assert_eq!(hours, vec![NOW - 1439 * HOUR]);
}

#[tokio::test]
async fn one_second_bars_are_history_only_and_three_months_deep() {
    let sim = sim_at(NOW + 2_500).await;
    let r = get(&sim, &format!("{CANDLES}?instId=BTC-USDT&bar=1s")).await;
    assert_eq!(
        (r.status, r.text()),
        (400, r#"{"code":"51000","msg":"Parameter bar error","data":[]}"#.to_string())
    );
    let t = ts(&get(&sim, &format!("{HISTORY}?instId=BTC-USDT&bar=1s&limit=3")).await);
    assert_eq!(t, vec![NOW + 2_000, NOW + 1_000, NOW]);
    let deep = get(&sim, &format!("{HISTORY}?instId=BTC-USDT&bar=1s&after={}", NOW - 91 * DAY)).await;
    assert!(data(&deep).is_empty());
    let ok = get(&sim, &format!("{HISTORY}?instId=BTC-USDT&bar=1s&after={}&limit=2", NOW - 89 * DAY)).await;
    assert_eq!(data(&ok).len(), 2);
}

#[tokio::test]
async fn utc8_buckets_and_utc_twins() {
    let sim = sim_with(OkxLimits { history_candles: 1000, ..OkxLimits::default() }).await;
    let first = |bar: &'static str| {
        let sim = &sim;
        async move { ts(&get(sim, &format!("{HISTORY}?instId=BTC-USDT&bar={bar}&limit=2")).await) }
    };
    let h = HOUR;
    // NOW is 2024-01-30 19:00 UTC = 2024-01-31 03:00 UTC+8.
    assert_eq!(first("1D").await, vec![NOW - 3 * h, NOW - 3 * h - DAY], "1D opens 16:00 UTC");
    assert_eq!(first("1Dutc").await, vec![NOW - 19 * h, NOW - 19 * h - DAY]);
    assert_eq!(first("6H").await, vec![NOW - 3 * h, NOW - 9 * h]);
    assert_eq!(first("6Hutc").await, vec![NOW - h, NOW - 7 * h]);
    assert_eq!(first("12H").await, vec![NOW - 3 * h, NOW - 15 * h]);
    assert_eq!(first("12Hutc").await, vec![NOW - 7 * h, NOW - 19 * h]);
    assert_eq!(first("1W").await[0], 1_706_457_600_000, "Monday 00:00 UTC+8 = Sunday 16:00 UTC");
    assert_eq!(first("1Wutc").await[0], 1_706_486_400_000);
    assert_eq!(first("1M").await, vec![1_704_038_400_000, 1_701_360_000_000]);
    assert_eq!(first("1Mutc").await, vec![1_704_067_200_000, 1_701_388_800_000]);
    assert_eq!(first("3M").await, vec![1_704_038_400_000, 1_696_089_600_000]);
    assert_eq!(first("3Mutc").await, vec![1_704_067_200_000, 1_696_118_400_000]);
    assert_eq!(first("2Dutc").await[0] % (2 * DAY), 0);
    assert_eq!((first("3D").await[0] + 8 * h) % (3 * DAY), 0);
    assert_eq!(first("4H").await, vec![NOW - 3 * h, NOW - 7 * h]);
    for bad in ["1h", "1d", "1Hutc", "4Hutc", "1mutc", "2W", "", "1Y"] {
        let r = get(&sim, &format!("{HISTORY}?instId=BTC-USDT&bar={bad}")).await;
        if bad.is_empty() {
            assert_eq!(r.status, 200, "empty bar means the default 1m");
            continue;
        }
        assert_eq!((r.status, r.json()["code"].as_str()), (400, Some("51000")), "{bad}");
    }
}

#[tokio::test]
async fn quiet_windows_give_previous_close_filler_bars() {
    let windows = venue_quiet_windows(Venue::OkxSwap, "BTC-USDT-SWAP", NOW - 30 * DAY, NOW).unwrap();
    assert!((3..=4).contains(&windows.len()), "one per ten-day block: {windows:?}");
    let (qs, qe) = windows[1];
    assert_eq!((qe - qs, qs % HOUR), (2 * HOUR, 0));
    let sim = sim_at(NOW).await;
    let rows = data(
        &get(
            &sim,
            &format!(
                "{HISTORY}?instId=BTC-USDT-SWAP&bar=15m&after={}&before={}",
                qe + 30 * MIN,
                qs - 30 * MIN
            ),
        )
        .await,
    );
    assert_eq!(rows.len(), 11);
    let rows: Vec<Vec<String>> = rows.into_iter().rev().collect();
    let prev_close = rows[0][4].clone();
    for r in &rows[1..9] {
        assert_eq!(
            &r[1..5],
            [prev_close.clone(), prev_close.clone(), prev_close.clone(), prev_close.clone()],
            "{r:?}"
        );
        assert_eq!(&r[5..9], ["0", "0", "0", "1"]);
    }
    assert_ne!(rows[9][5], "0", "trading resumes at the window's end");
    // Bars straddling the window keep trading outside it.
    let long = data(
        &get(&sim, &format!("{HISTORY}?instId=BTC-USDT-SWAP&bar=6Hutc&after={}&limit=20", qe + 6 * HOUR))
            .await,
    );
    assert!(long.iter().all(|r| r[5] != "0"));
    // In `candles` too, with the window inside the newest 1,440 minutes.
    sim.set_now(Some(qe + 30 * MIN));
    let live = data(&get(&sim, &format!("{CANDLES}?instId=BTC-USDT-SWAP&after={qe}&limit=120")).await);
    assert_eq!(live.len(), 120);
    assert!(live.iter().all(|r| r[5] == "0" && r[1] == r[4] && r[2] == r[3]));
    // The oracle agrees and knows no windows on Bybit.
    let oracle = venue_klines(Venue::OkxSwap, "BTC-USDT-SWAP", "1m", qs, qe, NOW).unwrap();
    assert!(oracle.iter().all(|c| c.base_volume == 0.0 && c.open == c.close && c.contracts == Some(0.0)));
    assert_eq!(venue_quiet_windows(Venue::BybitLinear, "BTCUSDT", 0, NOW), Ok(vec![]));
}

#[tokio::test]
async fn volume_fields_by_instrument_type() {
    let sim = sim_at(NOW).await;
    let rows = |inst: &'static str| {
        let sim = &sim;
        async move { data(&get(sim, &format!("{HISTORY}?instId={inst}&bar=1H&after={NOW}&limit=5")).await) }
    };
    for r in rows("BTC-USDT").await {
        let (vol, ccy, close): (f64, f64, f64) =
            (r[5].parse().unwrap(), r[6].parse().unwrap(), r[4].parse().unwrap());
        assert_eq!(r[6], r[7], "spot: volCcy is the quote volume");
        assert!((ccy / vol / close - 1.0).abs() < 0.05);
    }
    for r in rows("BTC-USDT-SWAP").await {
        let contracts: u64 = r[5].parse().unwrap();
        let base: f64 = r[6].parse().unwrap();
        assert_eq!(base, contracts as f64 / 100.0, "ctVal 0.01 BTC");
        let (quote, close): (f64, f64) = (r[7].parse().unwrap(), r[4].parse().unwrap());
        assert!((quote / base / close - 1.0).abs() < 0.05);
    }
    for r in rows("BTC-USD-SWAP").await {
        let contracts: u64 = r[5].parse().unwrap();
        assert_eq!(r[7], (contracts * 100).to_string(), "ctVal 100 USD");
        let (base, close): (f64, f64) = (r[6].parse().unwrap(), r[4].parse().unwrap());
        assert!(((contracts * 100) as f64 / base / close - 1.0).abs() < 0.05);
        assert!(r[6].split_once('.').is_none_or(|(_, f)| f.len() <= 8));
    }
}

#[tokio::test]
async fn the_dated_future_lives_between_list_and_expiry() {
    let sim = sim_at(NOW).await;
    let path = format!("{HISTORY}?instId=BTC-USDT-250926&bar=1H");
    assert!(data(&get(&sim, &path).await).is_empty(), "not listed yet");
    let expiry = 1_758_873_600_000;
    sim.set_now(Some(expiry + 40 * DAY));
    let rows = data(&get(&sim, &format!("{path}&limit=2")).await);
    assert_eq!(rows[0][0], (expiry - HOUR).to_string(), "the last bar is the one before expiry");
    assert_eq!(rows[0][8], "1");
    let first = ts(&get(&sim, &format!("{path}&before=0&after=1743152400001&limit=100")).await);
    assert_eq!(first.last(), Some(&1_743_148_800_000), "history starts at listTime");
    let daily = data(&get(&sim, &format!("{CANDLES}?instId=BTC-USDT-250926&bar=1D&limit=300")).await);
    assert_eq!(daily.len(), 183, "every UTC+8 day from listing to expiry");
}

#[tokio::test]
async fn errors_have_okx_codes_and_statuses() {
    let sim = sim_at(NOW).await;
    let cases: [(String, u16, &str); 7] = [
        (
            format!("{CANDLES}?instId=BTC-USDC&bar=1m"),
            200,
            r#"{"code":"51001","msg":"Instrument ID does not exist","data":[]}"#,
        ),
        (
            format!("{HISTORY}?instId=btc-usdt"),
            200,
            r#"{"code":"51001","msg":"Instrument ID does not exist","data":[]}"#,
        ),
        (
            format!("{CANDLES}?instId=BTC-USDT&bar=1h"),
            400,
            r#"{"code":"51000","msg":"Parameter bar error","data":[]}"#,
        ),
        (
            format!("{CANDLES}?bar=1m"),
            400,
            r#"{"code":"50014","msg":"Parameter instId can not be empty","data":[]}"#,
        ),
        (
            format!("{HISTORY}?instId=BTC-USDT&after=yesterday"),
            400,
            r#"{"code":"51000","msg":"Parameter after error","data":[]}"#,
        ),
        (
            INSTRUMENTS.to_string(),
            400,
            r#"{"code":"50014","msg":"Parameter instType can not be empty","data":[]}"#,
        ),
        (
            format!("{INSTRUMENTS}?instType=SWAP&instId=BTC-USDT"),
            200,
            r#"{"code":"51001","msg":"Instrument ID does not exist","data":[]}"#,
        ),
    ];
    for (target, status, body) in &cases {
        let r = get(&sim, target).await;
        assert_eq!((r.status, r.text().as_str()), (*status, *body), "{target}");
        assert!(r.header("content-type").unwrap().starts_with("application/json"));
    }
    let r = get(&sim, &format!("{INSTRUMENTS}?instType=PERP")).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (400, Some("51000")));
}

#[tokio::test]
async fn instruments_list_contract_facts_as_strings() {
    let sim = sim_at(NOW).await;
    let list = |q: &'static str| {
        let sim = &sim;
        async move {
            serde_json::from_value::<Vec<Value>>(
                get(sim, &format!("{INSTRUMENTS}?{q}")).await.json()["data"].clone(),
            )
            .unwrap()
        }
    };
    let spot = list("instType=SPOT").await;
    let names: Vec<&str> = spot.iter().map(|i| i["instId"].as_str().unwrap()).collect();
    assert_eq!(names, ["BTC-USDT", "ETH-USDT"]);
    assert_eq!((spot[0]["baseCcy"].as_str(), spot[0]["quoteCcy"].as_str()), (Some("BTC"), Some("USDT")));
    assert_eq!((spot[0]["ctVal"].as_str(), spot[0]["expTime"].as_str()), (Some(""), Some("")));
    let swap = list("instType=SWAP").await;
    let names: Vec<&str> = swap.iter().map(|i| i["instId"].as_str().unwrap()).collect();
    assert_eq!(names, ["BTC-USDT-SWAP", "ETH-USDT-SWAP", "BTC-USD-SWAP", "SOL-USDT-SWAP"]);
    let btc = &swap[0];
    for (k, v) in [
        ("instType", "SWAP"),
        ("uly", "BTC-USDT"),
        ("instFamily", "BTC-USDT"),
        ("baseCcy", ""),
        ("settleCcy", "USDT"),
        ("ctVal", "0.01"),
        ("ctValCcy", "BTC"),
        ("ctType", "linear"),
        ("listTime", "1611878400000"),
        ("expTime", ""),
        ("state", "live"),
        ("tickSz", "0.1"),
        ("lotSz", "1"),
    ] {
        assert_eq!(btc[k], v, "{k}");
    }
    assert!(btc.as_object().unwrap().values().all(Value::is_string), "every field a string");
    let inverse = &swap[2];
    assert_eq!((inverse["ctVal"].as_str(), inverse["ctValCcy"].as_str()), (Some("100"), Some("USD")));
    assert_eq!((inverse["ctType"].as_str(), inverse["settleCcy"].as_str()), (Some("inverse"), Some("BTC")));
    let futures = list("instType=FUTURES").await;
    assert_eq!(futures[0]["instId"], "BTC-USDT-250926");
    assert_eq!(futures[0]["listTime"], "1743148800000");
    assert_eq!(futures[0]["expTime"], "1758873600000");
    assert_eq!(futures[0]["state"], "preopen");
    assert_eq!(list("instType=SWAP&instId=BTC-USD-SWAP").await.len(), 1);
    assert_eq!(list("instType=SWAP&uly=BTC-USDT").await.len(), 1);
    assert!(list("instType=OPTION").await.is_empty());
    sim.set_now(Some(1_750_000_000_000));
    assert_eq!(list("instType=FUTURES").await[0]["state"], "live");
}

#[tokio::test]
async fn per_endpoint_limits_answer_429_with_50011() {
    let window = Duration::from_secs(3600);
    fresh_window(window, Duration::from_secs(5)).await;
    let sim = sim_with(OkxLimits { window, candles: 3, history_candles: 1, ..OkxLimits::default() }).await;
    let c = format!("{CANDLES}?instId=BTC-USDT&limit=1");
    let h = format!("{HISTORY}?instId=BTC-USDT&limit=1");
    for _ in 0..3 {
        let r = get(&sim, &c).await;
        assert_eq!(r.status, 200);
        assert!(
            r.headers.iter().all(|(k, _)| !k.to_ascii_lowercase().contains("limit")),
            "OKX sends no limit headers"
        );
    }
    let limited = get(&sim, &c).await;
    assert_eq!(limited.status, 429);
    assert_eq!(
        limited.text(),
        r#"{"code":"50011","msg":"Rate limit reached. Please refer to API documentation and throttle requests accordingly.","data":[]}"#
    );
    assert_eq!(get(&sim, &h).await.status, 200, "each endpoint has its own budget");
    assert_eq!(get(&sim, &h).await.status, 429);
    let stats = sim.stats();
    assert_eq!(stats.rate_limited, 2);
    assert_eq!(stats.max_window_weight.get("okx-candles"), Some(&3));
    assert_eq!(stats.max_window_weight.get("okx-history-candles"), Some(&1));
    assert_eq!(stats.endpoints.get(CANDLES), Some(&4));
    assert_eq!(stats.endpoints.get(HISTORY), Some(&2));
}

#[tokio::test]
async fn default_limits_are_the_documented_ones() {
    let window = Duration::from_secs(2);
    fresh_window(window, Duration::from_millis(1200)).await;
    let sim = sim_at(NOW).await;
    let target = format!("{HISTORY}?instId=ETH-USDT&limit=1");
    let mut statuses = Vec::new();
    for _ in 0..21 {
        statuses.push(get(&sim, &target).await.status);
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 20, "{statuses:?}");
    assert_eq!(statuses[20], 429);
    assert_eq!(OkxLimits::default().candles, 40);
}

#[tokio::test]
async fn faults_apply_to_okx_in_its_style() {
    let sim = sim_at(NOW).await;
    let target = format!("{CANDLES}?instId=BTC-USDT&limit=3");
    let normal = get(&sim, &target).await;
    sim.push_faults(vec![
        Fault::Status { status: 429, retry_after_secs: Some(2) },
        Fault::Status { status: 503, retry_after_secs: None },
        Fault::Truncated,
    ]);
    let r = get(&sim, &target).await;
    assert_eq!(
        (r.status, r.json()["code"].as_str(), r.header("retry-after")),
        (429, Some("50011"), Some("2"))
    );
    let r = get(&sim, &target).await;
    assert_eq!((r.status, r.text()), (503, "<html>503 Service Unavailable</html>".to_string()));
    let r = get(&sim, &target).await;
    assert_eq!(&r.body[..], &normal.body[..normal.body.len() / 2]);
    assert_eq!(get(&sim, &target).await.body, normal.body);
    let stats = sim.stats();
    assert_eq!((stats.faults_served, stats.rate_limited), (3, 0));
    assert_eq!(stats.endpoints.get(CANDLES), Some(&5));
}

/// Every (instrument, bar, query) must give exactly the oracle's candles.
#[tokio::test]
async fn http_rows_equal_the_oracle_bit_for_bit() {
    let now = NOW + 17 * MIN + 3_456;
    let sim = sim_at(now).await;
    let cases: [(Venue, &str, &str, &str, &str); 12] = [
        (Venue::OkxSpot, "BTC-USDT", CANDLES, "1m", "limit=300"),
        (Venue::OkxSpot, "ETH-USDT", HISTORY, "1D", "after=1650000000000"),
        (Venue::OkxSwap, "BTC-USDT-SWAP", HISTORY, "1s", "limit=100"),
        (Venue::OkxSwap, "ETH-USDT-SWAP", CANDLES, "4H", "limit=300"),
        (Venue::OkxSwap, "BTC-USD-SWAP", HISTORY, "1Wutc", "before=1600000000000"),
        (Venue::OkxSwap, "BTC-USD-SWAP", CANDLES, "3M", "limit=300"),
        (Venue::OkxSwap, "BTC-USDT-SWAP", HISTORY, "1Mutc", "before=0"),
        (Venue::OkxSpot, "BTC-USDT", HISTORY, "12H", "after=1515700000000"),
        (Venue::OkxSpot, "ETH-USDT", CANDLES, "3Dutc", "limit=300"),
        (Venue::OkxSwap, "ETH-USDT-SWAP", HISTORY, "2D", "after=1700000000000&before=1690000000000"),
        (Venue::OkxSwap, "BTC-USDT-SWAP", HISTORY, "15m", "after=1611900000000"),
        (Venue::OkxSpot, "BTC-USDT", CANDLES, "6Hutc", ""),
    ];
    for (venue, inst, path, bar, query) in cases {
        let reply = get(&sim, &format!("{path}?instId={inst}&bar={bar}&{query}")).await;
        let derivative = venue != Venue::OkxSpot;
        let mut served: Vec<SimCandle> = data(&reply).iter().map(|r| parse(r, derivative)).collect();
        assert!(!served.is_empty(), "{inst} {bar} {query}");
        assert!(served.windows(2).all(|w| w[0].open_time > w[1].open_time), "newest first");
        served.reverse();
        let (first, last) = (served[0].open_time, served[served.len() - 1].open_time);
        let oracle = venue_klines(venue, inst, bar, first, last + 1, now).unwrap();
        assert_eq!(served, oracle, "{inst} {path} {bar} {query}");
    }
}
