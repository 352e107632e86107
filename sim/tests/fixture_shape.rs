//! The real captured Binance and Bybit replies (`fixtures/binance.json`,
//! `fixtures/bybit.json`, copied from the shared fixtures) against what the
//! simulator serves: same slot count, JSON types per slot, and decimal
//! style (Binance spot: 8 decimals everywhere; UM: the symbol's precision;
//! Bybit: trimmed decimals within the symbol's precision).

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/binance.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn captured(description: &str) -> Vec<Vec<Value>> {
    let fixture = fixture();
    let entry =
        fixture["fetchOHLCV"].as_array().unwrap().iter().find(|e| e["description"] == description).unwrap();
    serde_json::from_value(entry["httpResponse"].clone()).unwrap()
}

/// The JSON type of each slot, plus the number of decimals of string slots.
fn shape(row: &[Value]) -> Vec<(char, Option<usize>)> {
    row.iter()
        .map(|v| match v {
            Value::Number(n) => {
                assert!(n.is_u64(), "numbers are non-negative integers: {v}");
                ('n', None)
            }
            Value::String(s) => ('s', s.split_once('.').map(|(_, frac)| frac.len())),
            other => panic!("unexpected slot {other}"),
        })
        .collect()
}

#[tokio::test]
async fn spot_rows_have_the_captured_shape() {
    let real = captured("Spot OHLCV with since and limit");
    let sim = sim_at(NOW).await;
    // The very request CCXT made for the capture.
    let reply = get(&sim, "/api/v3/klines?interval=1h&limit=3&symbol=BTCUSDT&startTime=1706628191000").await;
    let served = rows(&reply);
    assert_eq!(served.len(), real.len());
    for (s, r) in served.iter().zip(&real) {
        assert_eq!(shape(s), shape(r));
        assert_eq!(s[0], r[0], "same open times as the capture");
        assert_eq!(s[6], r[6], "same close times as the capture");
        assert_eq!(s[11], r[11]);
    }
}

#[tokio::test]
async fn um_rows_have_the_captured_shape() {
    let real = captured("swap ohlcv");
    let sim = sim_at(NOW).await;
    let reply = get(&sim, "/fapi/v1/klines?interval=1m&limit=3&symbol=BTCUSDT").await;
    let served = rows(&reply);
    assert_eq!(served.len(), real.len());
    for (s, r) in served.iter().zip(&real) {
        assert_eq!(shape(s), shape(r), "served {s:?} vs captured {r:?}");
        assert_eq!(
            r[6].as_i64().unwrap() - r[0].as_i64().unwrap(),
            s[6].as_i64().unwrap() - s[0].as_i64().unwrap()
        );
    }
}

#[tokio::test]
async fn parsing_the_wire_gives_ccxts_numbers_for_the_capture() {
    // Sanity of the parse path used by the tests: the capture's own
    // parsedResponse equals parsing its httpResponse strings.
    let fixture = fixture();
    for entry in fixture["fetchOHLCV"].as_array().unwrap() {
        let http: Vec<Vec<Value>> = serde_json::from_value(entry["httpResponse"].clone()).unwrap();
        let parsed: Vec<Vec<f64>> = serde_json::from_value(entry["parsedResponse"].clone()).unwrap();
        for (h, p) in http.iter().zip(&parsed) {
            let k = parse_row(h);
            assert_eq!([k.open_time as f64, k.open, k.high, k.low, k.close, k.volume], p[..]);
        }
    }
}

fn bybit_fixture() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/bybit.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// A JSON value as a number, whether sent as a number or a string (the
/// fixtures store some numbers as strings).
fn number(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap(),
        Value::String(s) => s.parse().unwrap(),
        other => panic!("not a number: {other}"),
    }
}

/// Object keys, sorted.
fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

/// Decimals of a decimal string (0 for an integer).
fn decimals(s: &Value) -> usize {
    let s = s.as_str().unwrap_or_else(|| panic!("not a string: {s}"));
    let _: f64 = s.parse().unwrap();
    s.split_once('.').map_or(0, |(_, frac)| frac.len())
}

#[tokio::test]
async fn bybit_kline_rows_have_the_captured_shape() {
    let fixture = bybit_fixture();
    let entry = &fixture["fetchOHLCV"][0];
    assert_eq!(entry["description"], "swap ohlcv with since and limit");
    let real = &entry["httpResponse"];
    let sim = sim_at(NOW).await;
    // The request CCXT made for the capture (linear BTCUSDT, 1h, since 15:23:11Z, limit 3).
    let served =
        get(&sim, "/v5/market/kline?category=linear&symbol=BTCUSDT&interval=60&start=1706628191000&limit=3")
            .await
            .json();
    assert_eq!(keys(&served), keys(real));
    assert_eq!(keys(&served["result"]), keys(&real["result"]));
    assert_eq!(number(&served["retCode"]), number(&real["retCode"]));
    assert_eq!(served["retMsg"], real["retMsg"]);
    assert_eq!(served["retExtInfo"], real["retExtInfo"]);
    assert_eq!(served["result"]["symbol"], real["result"]["symbol"]);
    assert_eq!(served["result"]["category"], real["result"]["category"]);
    assert!(number(&served["time"]) > 1e12);
    let (s_rows, r_rows) =
        (served["result"]["list"].as_array().unwrap(), real["result"]["list"].as_array().unwrap());
    assert_eq!(s_rows.len(), r_rows.len());
    // Decimals allowed per slot for linear BTCUSDT: tick 0.1, qty step 0.001, turnover = their product.
    let max_decimals = [0, 1, 1, 1, 1, 3, 4];
    for (s, r) in s_rows.iter().zip(r_rows) {
        let (s, r) = (s.as_array().unwrap(), r.as_array().unwrap());
        assert_eq!(s.len(), 7);
        assert_eq!(s.len(), r.len());
        assert_eq!(s[0], r[0], "same open times as the capture");
        for i in 0..7 {
            assert!(decimals(&s[i]) <= max_decimals[i], "served slot {i}: {}", s[i]);
            assert!(decimals(&r[i]) <= max_decimals[i], "captured slot {i}: {}", r[i]);
        }
    }
    // The parse path: CCXT's parsedResponse is [ts, o, h, l, c, volume] of
    // the strings, sorted oldest first (the wire is newest first).
    let parsed: Vec<Vec<f64>> = serde_json::from_value(entry["parsedResponse"].clone()).unwrap();
    for (row, p) in r_rows.iter().rev().zip(&parsed) {
        let nums: Vec<f64> = row.as_array().unwrap()[..6].iter().map(number).collect();
        assert_eq!(nums, p[..]);
    }
}
