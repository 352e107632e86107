//! Deribit v2 `public/get_tradingview_chart_data` and `public/get_instruments`
//! over real HTTP: the JSON-RPC envelope, bars overlapping the range, the
//! 5,000-bar cap, `no_data`, filler bars, errors, the credit limiter
//! (10028), faults, counters, and equality with `venue_klines`.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::time::Duration;

use common::*;
use cryptocache_sim::{
    venue_klines, venue_quiet_windows, DeribitLimits, Fault, Sim, SimCandle, SimConfig, Venue,
};
use serde_json::{json, Value};

const CHART: &str = "/api/v2/public/get_tradingview_chart_data";
const INSTRUMENTS: &str = "/api/v2/public/get_instruments";

fn chart(name: &str, start: i64, end: i64, resolution: &str) -> String {
    format!(
        "{CHART}?instrument_name={name}&start_timestamp={start}&end_timestamp={end}&resolution={resolution}"
    )
}

/// The `result` of a successful reply (asserts the envelope).
fn result(reply: &Reply) -> Value {
    assert_eq!(reply.status, 200, "{}", reply.text());
    let v = reply.json();
    assert_eq!(v["jsonrpc"], "2.0");
    assert_eq!(v["testnet"], false);
    let (us_in, us_out, diff) =
        (v["usIn"].as_i64().unwrap(), v["usOut"].as_i64().unwrap(), v["usDiff"].as_i64().unwrap());
    assert!(diff > 0 && us_out - us_in == diff, "{v}");
    v["result"].clone()
}

/// The bars of a chart reply, parsed as a client would (Deribit does not
/// flag the open bar: `confirmed` is left false).
fn bars(reply: &Reply) -> Vec<SimCandle> {
    let r = result(reply);
    let col = |k: &str| -> Vec<f64> {
        r[k].as_array().unwrap_or_else(|| panic!("{k}: {r}")).iter().map(|x| x.as_f64().unwrap()).collect()
    };
    let ticks: Vec<i64> = r["ticks"].as_array().unwrap().iter().map(|t| t.as_i64().unwrap()).collect();
    let (o, h, l, c, v, q) = (col("open"), col("high"), col("low"), col("close"), col("volume"), col("cost"));
    for k in [&o, &h, &l, &c, &v, &q] {
        assert_eq!(k.len(), ticks.len());
    }
    assert_eq!(r["status"], if ticks.is_empty() { "no_data" } else { "ok" });
    (0..ticks.len())
        .map(|i| SimCandle {
            open_time: ticks[i],
            open: o[i],
            high: h[i],
            low: l[i],
            close: c[i],
            base_volume: v[i],
            quote_volume: q[i],
            contracts: None,
            confirmed: false,
        })
        .collect()
}

fn ticks(reply: &Reply) -> Vec<i64> {
    bars(reply).iter().map(|b| b.open_time).collect()
}

/// `(http status, error object)` of an error reply.
fn error(reply: &Reply) -> (u16, Value) {
    let v = reply.json();
    assert_eq!(v["jsonrpc"], "2.0");
    assert!(v.get("result").is_none());
    assert!(v["usIn"].is_i64() && v["usDiff"].is_i64() && v["testnet"] == false);
    (reply.status, v["error"].clone())
}

async fn sim_with(limits: DeribitLimits) -> Sim {
    Sim::start(SimConfig { now_ms: Some(NOW), deribit: limits, ..SimConfig::default() }).await.unwrap()
}

#[tokio::test]
async fn bars_overlapping_the_range_are_returned_ascending() {
    let sim = sim_at(NOW).await;
    // Like the docs example: 30-minute bars, start 10:30, end 11:20 gives 10:30 and 11:00.
    let t1030 = NOW - 8 * HOUR - 30 * MIN;
    let reply = get(&sim, &chart("BTC-PERPETUAL", t1030, t1030 + 50 * MIN, "30")).await;
    assert_eq!(ticks(&reply), vec![t1030, t1030 + 30 * MIN]);
    let v = reply.json();
    assert_eq!(v["usIn"], NOW * 1000);
    for k in ["open", "high", "low", "close", "volume", "cost"] {
        assert!(v["result"][k].as_array().unwrap().iter().all(Value::is_number), "{k} are numbers");
    }
    assert!(reply.text().starts_with(r#"{"jsonrpc":"2.0","result":{"status":"ok","ticks":["#));
    // A mid-bar start includes the bar containing it; an end on a bar open includes that bar.
    let reply = get(&sim, &chart("BTC-PERPETUAL", t1030 + 15 * MIN, t1030 + 60 * MIN, "30")).await;
    assert_eq!(ticks(&reply), vec![t1030, t1030 + 30 * MIN, t1030 + 60 * MIN]);
    // start = end = now: just the open bar.
    let now = NOW + 7 * MIN;
    sim.set_now(Some(now));
    let open = bars(&get(&sim, &chart("ETH-PERPETUAL", now, now, "60")).await);
    assert_eq!(open.len(), 1);
    let oracle = venue_klines(Venue::Deribit, "ETH-PERPETUAL", "60", NOW, NOW + 1, now).unwrap();
    assert!(!oracle[0].confirmed);
    assert_eq!(open[0], SimCandle { confirmed: false, ..oracle[0].clone() });
    // Never past now; nothing before creation.
    let future = get(&sim, &chart("ETH-PERPETUAL", now + HOUR, now + DAY, "60")).await;
    assert_eq!(
        result(&future),
        json!({"status":"no_data","ticks":[],"open":[],"high":[],"low":[],"close":[],"volume":[],"cost":[]})
    );
    assert!(ticks(&get(&sim, &chart("BTC-PERPETUAL", 0, 1_534_000_000_000, "1D")).await).is_empty());
    let first = ticks(&get(&sim, &chart("BTC-PERPETUAL", 0, 1_534_200_000_000, "1")).await);
    assert_eq!(first[0], 1_534_167_720_000, "the minute containing the creation");
}

#[tokio::test]
async fn at_most_5000_bars_the_first_of_the_range() {
    let sim = sim_at(NOW).await;
    let start = NOW - 6000 * MIN;
    let t = ticks(&get(&sim, &chart("BTC-PERPETUAL", start, NOW, "1")).await);
    assert_eq!(t.len(), 5000);
    assert_eq!((t[0], t[4999]), (start, start + 4999 * MIN));
    let rest = ticks(&get(&sim, &chart("BTC-PERPETUAL", t[4999] + 1, NOW, "1")).await);
    assert_eq!(
        (rest.len(), rest[0], rest[rest.len() - 1]),
        (1002, t[4999], NOW),
        "paging from the last tick"
    );
}

#[tokio::test]
async fn resolutions_and_daily_bars() {
    let sim = sim_at(NOW).await;
    for (res, len) in
        [("1", MIN), ("3", 3 * MIN), ("10", 10 * MIN), ("180", 3 * HOUR), ("720", 12 * HOUR), ("1D", DAY)]
    {
        let t = ticks(&get(&sim, &chart("BTC_USDT-PERPETUAL", NOW - 10 * len, NOW, res)).await);
        assert_eq!(t.len(), 11, "{res}");
        assert!(t.windows(2).all(|w| w[1] - w[0] == len), "{res}");
        assert_eq!(t[10], NOW - NOW % len, "{res}");
    }
}

#[tokio::test]
async fn quiet_windows_give_filler_bars() {
    let windows = venue_quiet_windows(Venue::Deribit, "BTC-PERPETUAL", NOW - 30 * DAY, NOW).unwrap();
    let (qs, qe) = windows[1];
    let sim = sim_at(NOW).await;
    let b = bars(&get(&sim, &chart("BTC-PERPETUAL", qs - HOUR, qe, "60")).await);
    assert_eq!(b.len(), 4);
    let prev = b[0].close;
    for f in &b[1..3] {
        assert_eq!(
            (f.open, f.high, f.low, f.close, f.base_volume, f.quote_volume),
            (prev, prev, prev, prev, 0.0, 0.0)
        );
    }
    assert!(b[3].base_volume > 0.0);
}

#[tokio::test]
async fn volumes_follow_the_contract() {
    let sim = sim_at(NOW).await;
    for c in bars(&get(&sim, &chart("BTC-PERPETUAL", NOW - 5 * HOUR, NOW - HOUR, "60")).await) {
        assert_eq!(c.quote_volume % 10.0, 0.0, "cost in 10-USD contracts");
        assert!((c.quote_volume / c.base_volume / c.close - 1.0).abs() < 0.05);
        assert_eq!(c.close % 0.5, 0.0, "tick 0.5");
    }
    for c in bars(&get(&sim, &chart("BTC_USDT-PERPETUAL", NOW - 5 * HOUR, NOW - HOUR, "60")).await) {
        assert_eq!((c.base_volume * 1000.0).round() / 1000.0, c.base_volume, "0.001 BTC steps");
        assert!((c.quote_volume / c.base_volume / c.close - 1.0).abs() < 0.05);
    }
}

#[tokio::test]
async fn the_dated_future_ends_at_expiry() {
    let expiry = 1_751_011_200_000;
    let sim = sim_at(expiry + 3 * DAY).await;
    let t = ticks(&get(&sim, &chart("BTC-27JUN25", expiry - 3 * HOUR, expiry + DAY, "60")).await);
    assert_eq!(t, vec![expiry - 3 * HOUR, expiry - 2 * HOUR, expiry - HOUR]);
    let t = ticks(&get(&sim, &chart("BTC-27JUN25", 0, 1_727_450_000_000, "1D")).await);
    assert_eq!(t, vec![1_727_395_200_000], "the day containing the creation");
}

#[tokio::test]
async fn errors_are_json_rpc_with_http_400() {
    let sim = sim_at(NOW).await;
    let wrong = get(&sim, &chart("btc-perpetual", NOW - HOUR, NOW, "60")).await;
    assert_eq!(
        error(&wrong),
        (
            400,
            json!({"code":-32602,"data":{"reason":"wrong format","param":"instrument_name"},"message":"Invalid params"})
        )
    );
    let v = wrong.json();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(keys, ["error", "jsonrpc", "testnet", "usDiff", "usIn", "usOut"]);
    let unknown = get(&sim, &chart("DOGE-PERPETUAL", NOW - HOUR, NOW, "60")).await;
    let (status, e) = error(&unknown);
    assert_eq!((status, &e["code"], &e["message"]), (400, &json!(13020), &json!("not_found")));
    let cases = [
        (
            format!("{CHART}?start_timestamp=1&end_timestamp=2&resolution=60"),
            "instrument_name",
            "must be present",
        ),
        (
            format!("{CHART}?instrument_name=BTC-PERPETUAL&end_timestamp=2&resolution=60"),
            "start_timestamp",
            "must be present",
        ),
        (
            format!("{CHART}?instrument_name=BTC-PERPETUAL&start_timestamp=1&resolution=60"),
            "end_timestamp",
            "must be present",
        ),
        (
            format!("{CHART}?instrument_name=BTC-PERPETUAL&start_timestamp=1&end_timestamp=2"),
            "resolution",
            "must be present",
        ),
        (chart("BTC-PERPETUAL", 1, 2, "2"), "resolution", "wrong format"),
        (chart("BTC-PERPETUAL", 1, 2, "1h"), "resolution", "wrong format"),
        (
            format!("{CHART}?instrument_name=BTC-PERPETUAL&start_timestamp=x&end_timestamp=2&resolution=60"),
            "start_timestamp",
            "wrong format",
        ),
    ];
    for (target, param, reason) in &cases {
        let (status, e) = error(&get(&sim, target).await);
        assert_eq!(status, 400, "{target}");
        assert_eq!(
            e,
            json!({"code":-32602,"message":"Invalid params","data":{"reason":reason,"param":param}}),
            "{target}"
        );
    }
}

#[tokio::test]
async fn get_instruments_by_currency_kind_and_expiry() {
    let sim = sim_with(DeribitLimits { instruments_burst: 100, ..DeribitLimits::default() }).await;
    let names = |q: String| {
        let sim = &sim;
        async move {
            let r = result(&get(sim, &format!("{INSTRUMENTS}?{q}")).await);
            r.as_array()
                .unwrap()
                .iter()
                .map(|i| i["instrument_name"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(names("currency=BTC&kind=future".into()).await, ["BTC-PERPETUAL", "BTC_USDT-PERPETUAL"]);
    assert_eq!(names("currency=BTC&kind=spot".into()).await, ["BTC_USDT"]);
    assert_eq!(names("currency=ETH".into()).await, ["ETH-PERPETUAL"]);
    sim.set_now(Some(1_740_000_000_000));
    assert_eq!(
        names("currency=BTC&kind=future".into()).await,
        ["BTC-PERPETUAL", "BTC_USDT-PERPETUAL", "BTC-27JUN25"]
    );
    assert_eq!(names("currency=USDT".into()).await, ["BTC_USDT-PERPETUAL", "BTC_USDT"]);
    let all = result(&get(&sim, &format!("{INSTRUMENTS}?currency=any")).await);
    let perp = &all[0];
    assert_eq!(perp["instrument_name"], "BTC-PERPETUAL");
    assert_eq!(perp["kind"], "future");
    assert_eq!(perp["creation_timestamp"], 1_534_167_754_000i64);
    assert_eq!(perp["expiration_timestamp"], 32_503_708_800_000i64);
    assert_eq!(perp["contract_size"], 10);
    assert_eq!(perp["settlement_period"], "perpetual");
    assert_eq!(perp["instrument_type"], "reversed");
    assert_eq!(perp["tick_size"], 0.5);
    let fut = &all[3];
    assert_eq!(
        (fut["instrument_name"].as_str(), fut["settlement_period"].as_str()),
        (Some("BTC-27JUN25"), Some("month"))
    );
    assert_eq!(fut["expiration_timestamp"], 1_751_011_200_000i64);
    assert_eq!(all[2]["contract_size"], 0.001);
    assert_eq!(all[4]["kind"], "spot");
    sim.set_now(Some(1_760_000_000_000));
    assert_eq!(names("currency=BTC&expired=true".into()).await, ["BTC-27JUN25"]);
    assert_eq!(names("currency=BTC&kind=future".into()).await, ["BTC-PERPETUAL", "BTC_USDT-PERPETUAL"]);
    // Without `currency`: every currency (tests/quirks_http.rs).
    for (q, param, reason) in
        [("currency=XRP", "currency", "wrong format"), ("currency=BTC&kind=perp", "kind", "wrong format")]
    {
        let (status, e) = error(&get(&sim, &format!("{INSTRUMENTS}?{q}")).await);
        assert_eq!((status, &e["data"]), (400, &json!({"reason": reason, "param": param})), "{q}");
    }
}

#[tokio::test]
async fn get_instruments_has_its_own_burst_limit() {
    let sim = sim_at(NOW).await;
    for _ in 0..5 {
        assert_eq!(get(&sim, &format!("{INSTRUMENTS}?currency=BTC")).await.status, 200);
    }
    let limited = get(&sim, &format!("{INSTRUMENTS}?currency=BTC")).await;
    assert_eq!(error(&limited), (429, json!({"code":10028,"message":"too_many_requests"})));
    assert_eq!(
        get(&sim, &chart("BTC-PERPETUAL", NOW - HOUR, NOW, "60")).await.status,
        200,
        "the credit pool is separate"
    );
    let stats = sim.stats();
    assert_eq!(stats.rate_limited, 1);
    assert_eq!(stats.max_window_weight.get("deribit-instruments"), Some(&50));
    assert_eq!(stats.max_window_weight.get("deribit"), Some(&500));
}

#[tokio::test]
async fn the_credit_pool_answers_10028_when_empty() {
    let sim =
        sim_with(DeribitLimits { pool: 1500, refill_per_sec: 1, call_cost: 500, ..DeribitLimits::default() })
            .await;
    let target = chart("BTC-PERPETUAL", NOW - HOUR, NOW, "60");
    for _ in 0..3 {
        assert_eq!(get(&sim, &target).await.status, 200);
    }
    for _ in 0..2 {
        let r = get(&sim, &target).await;
        assert_eq!(error(&r), (429, json!({"code":10028,"message":"too_many_requests"})));
    }
    let stats = sim.stats();
    assert_eq!((stats.rate_limited, stats.statuses.get(&429)), (2, Some(&2)));
    assert_eq!(stats.max_window_weight.get("deribit"), Some(&1500));
    // A fast refill restores service within the second.
    let sim = sim_with(DeribitLimits {
        pool: 1000,
        refill_per_sec: 5000,
        call_cost: 500,
        ..DeribitLimits::default()
    })
    .await;
    assert_eq!(get(&sim, &target).await.status, 200);
    assert_eq!(get(&sim, &target).await.status, 200);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(get(&sim, &target).await.status, 200);
}

#[tokio::test]
async fn default_pool_allows_a_burst_of_100_calls() {
    let sim = sim_at(NOW).await;
    let target = chart("BTC_USDT", NOW - HOUR, NOW, "60");
    let mut ok = 0;
    for _ in 0..140 {
        if get(&sim, &target).await.status == 200 {
            ok += 1;
        }
    }
    // 100 from the pool plus what refilled while the calls ran (20 per second).
    assert!((100..140).contains(&ok), "{ok}");
    assert_eq!(DeribitLimits::default().pool, 50_000);
}

#[tokio::test]
async fn faults_apply_to_deribit_in_its_style() {
    let sim = sim_at(NOW).await;
    let target = chart("ETH-PERPETUAL", NOW - DAY, NOW, "60");
    sim.push_faults(vec![
        Fault::Status { status: 429, retry_after_secs: None },
        Fault::Status { status: 502, retry_after_secs: None },
        Fault::Malformed,
    ]);
    let (status, e) = error(&get(&sim, &target).await);
    assert_eq!((status, e["code"].as_i64()), (429, Some(10028)));
    assert_eq!(get(&sim, &target).await.text(), "<html>502 Bad Gateway</html>");
    assert_eq!(get(&sim, &target).await.text(), "{\"this is\": not json");
    assert_eq!(ticks(&get(&sim, &target).await).len(), 25);
    let stats = sim.stats();
    assert_eq!((stats.total, stats.faults_served, stats.rate_limited), (4, 3, 0));
    assert_eq!(stats.endpoints.get(CHART), Some(&4));
}

/// Every (instrument, resolution, range) must give exactly the oracle's bars.
#[tokio::test]
async fn http_bars_equal_the_oracle_bit_for_bit() {
    let now = NOW + 17 * MIN + 3_456;
    let sim = sim_at(now).await;
    let cases: [(&str, &str, i64, i64); 8] = [
        ("BTC-PERPETUAL", "1", now - 4000 * MIN, now),
        ("ETH-PERPETUAL", "1D", 0, now),
        ("BTC_USDT-PERPETUAL", "360", 1_669_000_000_000, 1_700_000_000_000),
        ("BTC_USDT", "5", now - 3 * DAY, now + DAY),
        ("BTC-PERPETUAL", "720", 1_534_000_000_000, 1_600_000_000_000),
        ("ETH-PERPETUAL", "15", 1_650_000_000_123, 1_650_100_000_000),
        ("BTC-PERPETUAL", "120", now - 300 * DAY, now),
        ("BTC_USDT", "1D", 0, now),
    ];
    for (name, res, start, end) in cases {
        let served = bars(&get(&sim, &chart(name, start, end, res)).await);
        assert!(!served.is_empty(), "{name} {res}");
        let (first, last) = (served[0].open_time, served[served.len() - 1].open_time);
        let oracle: Vec<SimCandle> = venue_klines(Venue::Deribit, name, res, first, last + 1, now)
            .unwrap()
            .into_iter()
            .map(|c| SimCandle { confirmed: false, ..c })
            .collect();
        assert_eq!(served, oracle, "{name} {res}");
    }
}
