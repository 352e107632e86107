//! Fuzz targets: every place cryptocache reads bytes it did not write itself — cached
//! segment values (from disk or a shared Redis), the exchanges' replies, their bulk
//! archive files, time strings, the relay's query strings and the C API's strings.
//!
//! Each target takes arbitrary bytes and must neither panic nor hang; where a parser
//! accepts its input, the target also checks a property of the result (a decoded segment
//! re-encodes to a value that decodes to the same segment; a parsed time formats and parses
//! back to itself). `fuzz_targets/` wraps each for cargo-fuzz (coverage-guided, nightly:
//! `scripts/fuzz.sh`); `tests/targets.rs` runs each over its corpus, the kept regression
//! inputs and seeded mutations of them on stable, in CI.

use std::io::Write as _;
use std::sync::Arc;

use cryptocache::codec;
use cryptocache::exchange::{binance, bybit, deribit, okx};
use cryptocache::segment::{Origin, Payload, Segment, SegmentKey};
use cryptocache::{
    Candle, CandleColumns, DataKind, Exchange, FundingColumns, FundingRate, Market, SeriesKey, Side,
    TimeRange, Trade, TradeColumns,
};

/// A fuzz target: arbitrary bytes in, a panic on a bug.
pub type Target = fn(&[u8]);

/// Every target, by the name of its corpus directory and cargo-fuzz binary.
pub const TARGETS: [(&str, Target); 9] = [
    ("segment_decode", segment_decode),
    ("binance_response", binance_response),
    ("bybit_response", bybit_response),
    ("okx_response", okx_response),
    ("deribit_response", deribit_response),
    ("archive_files", archive_files),
    ("time_parse", time_parse),
    ("relay_query", relay_query),
    ("c_api_strings", c_api_strings),
];

/// The segment keys a fuzzed value is decoded as: candles, trades and funding.
fn segment_keys() -> [SegmentKey; 3] {
    let series = |kind: DataKind, market: Market| {
        Arc::new(SeriesKey {
            source: "fuzz".into(),
            exchange: Exchange::Binance,
            market,
            kind,
            interval: "1m".parse().expect("1m is an interval"),
            symbol: "BTCUSDT".into(),
        })
    };
    let at = 1_704_067_200_000; // 2024-01-01
    [
        SegmentKey::containing(&series(DataKind::Klines, Market::Spot), at),
        SegmentKey::containing(&series(DataKind::Trades, Market::Spot), at),
        SegmentKey::containing(&series(DataKind::Funding, Market::Linear), at),
    ]
}

/// A stored segment value, decoded as each key: a value is whole and describes exactly
/// the segment asked for, or it is a miss. One that decodes re-encodes to a value that
/// decodes to the same rows, span and provenance.
pub fn segment_decode(data: &[u8]) {
    for key in segment_keys() {
        if let Ok(segment) = codec::decode(&key, data) {
            let again = codec::decode(&key, &codec::encode(&segment)).expect("a decoded segment re-encodes");
            assert_eq!(codec::encode(&again), codec::encode(&segment), "round trip changed the segment");
            if let Some(covered) = segment.partial {
                let span = key.span();
                assert!(span.start <= covered.start && covered.end <= span.end && covered != span);
            }
        }
    }
}

/// Seed values for [`segment_decode`]: whole and partial segments of each kind.
pub fn segment_seeds() -> Vec<Vec<u8>> {
    let [klines, trades, funding] = segment_keys();
    let start = klines.span().start;
    let mut candles = CandleColumns::with_capacity(3, true);
    for i in 0..3 {
        let price = 42_000.0 + f64::from(i);
        candles.push(&Candle {
            open_time: start + i64::from(i) * 60_000,
            open: price,
            high: price + 5.5,
            low: price - 1.25,
            close: price + 1.0,
            volume: 1.5,
            quote_volume: 63_000.75,
            trades: Some(17),
        });
    }
    let mut ticks = TradeColumns::default();
    for i in 0..3 {
        ticks.push(&Trade {
            time: trades.span().start + i * 7,
            id: 100 + i,
            price: 42_000.5,
            quantity: 0.001,
            side: if i % 2 == 0 { Side::Buy } else { Side::Sell },
        });
    }
    let mut events = FundingColumns::default();
    events.push(&FundingRate { time: funding.span().start, rate: 0.0001 });
    let segment = |key: &SegmentKey, payload: Payload, partial: Option<TimeRange>| Segment {
        key: key.clone(),
        payload,
        fetched_at: 1_704_100_000_000,
        expires_at: None,
        origin: Origin::Api,
        partial,
    };
    let candles = Payload::Candles(Arc::new(candles));
    let part = TimeRange::new(start, start + 180_000);
    [
        segment(&klines, candles.clone(), None),
        segment(&klines, candles, Some(part)),
        segment(&trades, Payload::Trades(Arc::new(ticks)), None),
        segment(&funding, Payload::Funding(Arc::new(events)), None),
    ]
    .iter()
    .map(codec::encode)
    .collect()
}

/// A Binance REST reply read as each body the adapter parses.
pub fn binance_response(data: &[u8]) {
    let _ = binance::parse_klines(data);
    let _ = binance::parse_agg_trades(data);
    let _ = binance::parse_depth(data, 1_704_067_200_000);
    let _ = binance::parse_funding(data);
    let _ = binance::parse_exchange_info(data);
}

/// A Bybit v5 reply read as each body the adapter parses.
pub fn bybit_response(data: &[u8]) {
    let _ = bybit::parse_klines(data, false);
    let _ = bybit::parse_klines(data, true);
    let _ = bybit::parse_order_book(data);
    let _ = bybit::parse_funding(data);
    let _ = bybit::parse_instruments(data);
}

/// An OKX v5 reply read as each body the adapter parses.
pub fn okx_response(data: &[u8]) {
    let _ = okx::parse_candles(data, true);
    let _ = okx::parse_candles(data, false);
    let _ = okx::parse_trades(data);
    let _ = okx::parse_funding(data);
    let _ = okx::parse_book(data);
    let _ = okx::parse_instruments(data);
}

/// A Deribit v2 reply read as each body the adapter parses.
pub fn deribit_response(data: &[u8]) {
    let _ = deribit::parse_chart(data);
    let _ = deribit::parse_trades(data);
    let _ = deribit::parse_funding(data);
    let _ = deribit::parse_book(data);
    let _ = deribit::parse_instruments(data);
}

/// An archive file: the first byte picks the format (see [`cryptocache::archive::formats`]),
/// the rest is the file.
pub fn archive_files(data: &[u8]) {
    use cryptocache::archive::formats;
    let Some((&which, file)) = data.split_first() else { return };
    match which % 8 {
        0 => drop(formats::binance_klines(file)),
        1 => drop(formats::binance_funding(file)),
        2 => drop(formats::binance_agg_trades(file)),
        3 => drop(formats::bybit_trades(file, Market::Spot)),
        4 => drop(formats::bybit_trades(file, Market::Linear)),
        5 => drop(formats::okx_candles(file, "BTC-USDT", true)),
        6 => drop(formats::okx_trades(file, "BTC-USDT")),
        _ => drop(formats::okx_funding(file)),
    }
}

/// A time as a user writes it (CLI, relay, bindings). One that parses, inside the years
/// queries accept, formats (to whole seconds) and parses back to the same second;
/// intervals, exchanges and markets parse or refuse.
pub fn time_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(ms) = cryptocache::time::parse_time(text) {
        if (0..cryptocache::model::LATEST_MS).contains(&ms) {
            let formatted = cryptocache::time::format_time(ms);
            let second = ms - ms.rem_euclid(1000);
            assert_eq!(
                cryptocache::time::parse_time(&formatted).ok(),
                Some(second),
                "{text:?} -> {formatted}"
            );
        }
    }
    let _ = text.parse::<cryptocache::Interval>();
    let _ = text.parse::<Exchange>();
    let _ = text.parse::<Market>();
}

/// A relay query string, read as the relay reads every parameter.
pub fn relay_query(data: &[u8]) {
    use axum::extract::Query;
    use cryptocache_server::params::Params;
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(uri) = format!("/v1/klines?{text}").parse::<axum::http::Uri>() else { return };
    let Ok(params) = Params::new(Query::try_from_uri(&uri)) else { return };
    let _ = params.exchange();
    let _ = params.market();
    let _ = params.symbol();
    let _ = params.interval("interval");
    let _ = params.time("start");
    let _ = params.time("end");
    let _ = params.format();
}

/// Strings handed to the C API: NUL-separated fields `exchange, market, symbol,
/// interval, dataset, source, archives`, each passed where C callers pass it (queries
/// against a cache whose exchange is a closed port, so nothing leaves the machine).
pub fn c_api_strings(data: &[u8]) {
    let mut fields = data.split(|&b| b == 0).map(|f| {
        let mut owned = f.to_vec();
        owned.push(0);
        owned
    });
    let mut next = || fields.next().unwrap_or_else(|| vec![0]);
    let (exchange, market, symbol, interval) = (next(), next(), next(), next());
    let (dataset, source, archives) = (next(), next(), next());
    c_api::run(&c_api::Strings { exchange, market, symbol, interval, dataset, source, archives });
}

mod c_api;

/// Writes `seeds` into `dir` as `seed-<n>` files (for cargo-fuzz's corpus).
pub fn write_seeds(dir: &std::path::Path, seeds: &[Vec<u8>]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (n, seed) in seeds.iter().enumerate() {
        std::fs::File::create(dir.join(format!("seed-{n}")))?.write_all(seed)?;
    }
    Ok(())
}
