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

#[test]
fn binance_agg_trades_match_ccxt() {
    let all: Value = serde_json::from_str(include_str!("../../fixtures/binance.json")).unwrap();
    for case in all["fetchTrades"].as_array().unwrap() {
        let body = serde_json::to_vec(&case["httpResponse"]).unwrap();
        let trades = cryptocache::exchange::binance::parse_agg_trades(&body).unwrap();
        let parsed = case["parsedResponse"].as_array().unwrap();
        assert_eq!(trades.len(), parsed.len());
        for (t, want) in trades.iter().zip(parsed) {
            assert_eq!(t.time, want["timestamp"].as_i64().unwrap());
            assert_eq!(t.id.to_string(), want["id"].as_str().unwrap());
            assert_eq!(t.price, want["price"].as_f64().unwrap());
            assert_eq!(t.quantity, want["amount"].as_f64().unwrap());
            let side = match t.side {
                cryptocache::Side::Buy => "buy",
                cryptocache::Side::Sell => "sell",
            };
            assert_eq!(side, want["side"].as_str().unwrap());
        }
    }
}

#[test]
fn binance_order_books_match_ccxt() {
    let all: Value = serde_json::from_str(include_str!("../../fixtures/binance.json")).unwrap();
    for case in all["fetchOrderBook"].as_array().unwrap() {
        let body = serde_json::to_vec(&case["httpResponse"]).unwrap();
        let book = cryptocache::exchange::binance::parse_depth(&body, 42).unwrap();
        let want = &case["parsedResponse"];
        let levels = |side: &Value| -> Vec<(f64, f64)> {
            side.as_array()
                .unwrap()
                .iter()
                .map(|l| (l[0].as_f64().unwrap(), l[1].as_f64().unwrap()))
                .collect()
        };
        assert_eq!(
            book.bids.iter().map(|l| (l.price, l.quantity)).collect::<Vec<_>>(),
            levels(&want["bids"])
        );
        assert_eq!(
            book.asks.iter().map(|l| (l.price, l.quantity)).collect::<Vec<_>>(),
            levels(&want["asks"])
        );
        assert_eq!(book.update_id, want["nonce"].as_i64());
        assert_eq!(book.time, want["timestamp"].as_i64().unwrap_or(42), "{}", case["description"]);
    }
}

#[test]
fn bybit_klines_match_ccxt() {
    let all: Value = serde_json::from_str(include_str!("../../fixtures/bybit.json")).unwrap();
    for case in all["fetchOHLCV"].as_array().unwrap() {
        let body = serde_json::to_vec(&case["httpResponse"]).unwrap();
        let mut candles = cryptocache::exchange::bybit::parse_klines(&body, false).unwrap();
        candles.reverse(); // Bybit sends newest first; CCXT lists ascending
        let parsed = case["parsedResponse"].as_array().unwrap();
        assert_eq!(candles.len(), parsed.len());
        for (c, want) in candles.iter().zip(parsed) {
            let w: Vec<f64> = want.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
            assert_eq!(c.open_time as f64, w[0]);
            assert_eq!([c.open, c.high, c.low, c.close, c.volume], [w[1], w[2], w[3], w[4], w[5]]);
        }
    }
}

#[test]
fn bybit_order_books_match_ccxt() {
    let all: Value = serde_json::from_str(include_str!("../../fixtures/bybit.json")).unwrap();
    for case in all["fetchOrderBook"].as_array().unwrap() {
        let body = serde_json::to_vec(&case["httpResponse"]).unwrap();
        let book = cryptocache::exchange::bybit::parse_order_book(&body).unwrap();
        let want = &case["parsedResponse"];
        let levels = |side: &Value| -> Vec<(f64, f64)> {
            side.as_array()
                .unwrap()
                .iter()
                .map(|l| (l[0].as_f64().unwrap(), l[1].as_f64().unwrap()))
                .collect()
        };
        assert_eq!(
            book.bids.iter().map(|l| (l.price, l.quantity)).collect::<Vec<_>>(),
            levels(&want["bids"])
        );
        assert_eq!(
            book.asks.iter().map(|l| (l.price, l.quantity)).collect::<Vec<_>>(),
            levels(&want["asks"])
        );
        assert_eq!(book.time, want["timestamp"].as_i64().unwrap());
    }
}
