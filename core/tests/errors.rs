//! Bad input gives a typed error with a clear message, before or from the exchange.

mod common;

use common::*;
use cryptocache::{Error, Exchange, KlineQuery, Market};

async fn err(w: &World, q: &KlineQuery) -> Error {
    w.cache().await.klines(q).await.expect_err("query must fail")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_queries_fail_before_any_request() {
    let w = World::new().await;
    let jan = 1_704_067_200_000;

    let e = "7x".parse::<cryptocache::Interval>().unwrap_err();
    assert!(matches!(e, Error::InvalidQuery(ref m) if m.contains("unknown interval \"7x\"")), "{e}");

    let e = err(&w, &query("BTCUSDT", "7m", jan, jan + DAY)).await;
    assert!(matches!(e, Error::InvalidQuery(ref m) if m.contains("no 7m klines")), "{e}");

    let e = err(&w, &query("BTCUSDT", "1s", jan, jan + HOUR).market(Market::Linear)).await;
    assert!(matches!(e, Error::InvalidQuery(ref m) if m.contains("binance-usdm has no 1s")), "{e}");

    let e = err(&w, &query("BTCUSDT", "1h", jan, jan)).await;
    assert!(matches!(e, Error::InvalidQuery(ref m) if m.contains("start must be before end")), "{e}");

    let e = err(&w, &query("BTCUSDT", "1h", jan + DAY, jan)).await;
    assert_eq!(e.code(), "INVALID_QUERY");

    let e = err(&w, &query("BTCUSDT", "1h", jan, jan * 1000)).await;
    assert!(matches!(e, Error::InvalidQuery(ref m) if m.contains("microseconds")), "{e}");

    let e = err(&w, &query("BTCUSDT", "1s", 0, jan)).await;
    assert!(matches!(e, Error::InvalidQuery(ref m) if m.contains("more than the limit")), "{e}");

    let e = err(&w, &query("BTCUSDT", "1h", -5, jan)).await;
    assert!(matches!(e, Error::InvalidQuery(ref m) if m.contains("negative")), "{e}");

    let e = err(&w, &query("BTC/USDT", "1h", jan, jan + DAY)).await;
    assert!(matches!(e, Error::InvalidQuery(ref m) if m.contains("not valid")), "{e}");

    let e = err(&w, &query("../../etc", "1h", jan, jan + DAY)).await;
    assert_eq!(e.code(), "INVALID_QUERY");

    let e = err(&w, &query("BTCUSD", "1h", jan, jan + DAY).market(Market::Inverse)).await;
    assert!(matches!(e, Error::Unsupported(_)), "{e}");

    let bybit = KlineQuery::new(Exchange::Bybit, "BTCUSDT", "1h".parse().unwrap(), jan, jan + DAY);
    assert!(matches!(err(&w, &bybit.market(Market::Option)).await, Error::Unsupported(_)));

    let okx = KlineQuery::new(Exchange::Okx, "BTC-USDT-SWAP", "1h".parse().unwrap(), jan, jan + DAY);
    let e = err(&w, &okx.clone().market(Market::Spot)).await;
    assert!(
        matches!(e, Error::InvalidQuery(ref m) if m.contains("is in the linear market, not spot")),
        "{e}"
    );
    let e = err(&w, &KlineQuery { symbol: "BTCUSDT".into(), ..okx.clone() }).await;
    assert!(matches!(e, Error::InvalidQuery(ref m) if m.contains("instrument id")), "{e}");
    let e = err(&w, &KlineQuery { interval: "8h".parse().unwrap(), ..okx }).await;
    assert!(matches!(e, Error::InvalidQuery(ref m) if m.contains("okx has no 8h klines")), "{e}");

    let deribit = KlineQuery::new(Exchange::Deribit, "BTC-PERPETUAL", "1h".parse().unwrap(), jan, jan + DAY);
    let e = err(&w, &deribit.market(Market::Linear)).await;
    assert!(
        matches!(e, Error::InvalidQuery(ref m) if m.contains("is in the inverse market, not linear")),
        "{e}"
    );

    assert_eq!(w.sim.stats().total, 0, "nothing was sent upstream");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_symbol_is_typed_as_the_exchange_answers() {
    let w = World::new().await;
    let jan = 1_704_067_200_000;
    for market in [Market::Spot, Market::Linear] {
        let e = err(&w, &query("NOPEUSDT", "1h", jan, jan + DAY).market(market)).await;
        match &e {
            Error::UnknownSymbol { symbol, .. } => assert_eq!(symbol, "NOPEUSDT"),
            other => panic!("expected UnknownSymbol, got {other:?}"),
        }
        assert_eq!(e.code(), "UNKNOWN_SYMBOL");
        assert!(e.to_string().contains("unknown symbol \"NOPEUSDT\""), "{e}");
    }
    assert_eq!(w.kline_requests(), 0, "the instruments list rejected it before any data request");
    // Lower case is the same symbol to Binance: normalised, not an error.
    let got = w.cache().await.klines(&query("btcusdt", "1h", jan, jan + DAY)).await.unwrap();
    assert_eq!(got.len(), 24);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_disk_path_is_a_clear_build_error() {
    let w = World::new().await;
    let file = w.dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let e = w.builder().disk(&file).build().await.unwrap_err();
    assert!(matches!(e, Error::Config(ref m) if m.contains("cannot create disk cache directory")), "{e}");
}
