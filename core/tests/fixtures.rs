//! The real captured Binance kline responses parse field for field to CCXT's values.

use cryptocache::exchange::binance::parse_klines;
use serde_json::Value;

#[test]
fn binance_klines_match_ccxt() {
    let text = include_str!("../../fixtures/binance.json");
    let all: Value = serde_json::from_str(text).unwrap();
    let cases = all["fetchOHLCV"].as_array().unwrap();
    assert!(!cases.is_empty());
    for case in cases {
        let body = serde_json::to_vec(&case["httpResponse"]).unwrap();
        let candles = parse_klines(&body).unwrap();
        let parsed = case["parsedResponse"].as_array().unwrap();
        assert_eq!(candles.len(), parsed.len(), "{}", case["description"]);
        for (c, want) in candles.iter().zip(parsed) {
            let w: Vec<f64> = want.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
            assert_eq!(c.open_time as f64, w[0], "{}", case["description"]);
            assert_eq!(
                [c.open, c.high, c.low, c.close, c.volume],
                [w[1], w[2], w[3], w[4], w[5]],
                "{}",
                case["description"]
            );
        }
        // Fields CCXT does not parse, read straight from the raw row.
        for (c, raw) in candles.iter().zip(case["httpResponse"].as_array().unwrap()) {
            let quote: f64 = raw[7].as_str().unwrap().parse().unwrap();
            assert_eq!(c.quote_volume, quote);
            assert_eq!(c.trades, raw[8].as_u64());
        }
    }
}
