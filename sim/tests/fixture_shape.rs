//! The real captured Binance replies (`fixtures/binance.json`, copied from the shared fixtures) against
//! what the simulator serves: same slot count, JSON types per slot, and
//! decimal style (spot: 8 decimals everywhere; UM: the symbol's precision).

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
