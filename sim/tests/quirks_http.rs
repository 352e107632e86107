//! The exchange quirks of `cryptocache_sim::quirks` over real HTTP:
//! published listings 30 days after the first candle (Binance, OKX, Bybit,
//! Deribit), a relisted Binance symbol, retention windows measured from the
//! simulated clock, Deribit `get_instruments` without `currency`, and a
//! Deribit burst of trades in one millisecond that only paging by
//! `trade_seq` gets whole. Sources: sim/README.md.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use cryptocache_sim::quirks::*;
use cryptocache_sim::{
    binance_funding, binance_klines, binance_symbols, venue_funding, venue_instruments, venue_klines,
    venue_trades, BinanceMarket, DeribitLimits, Sim, SimConfig, SimTrade, Venue,
};
use serde_json::Value;

const UM: BinanceMarket = BinanceMarket::UsdM;
const TRUE: i64 = LATE_LISTING_TRUE_MS;
const PUBLISHED: i64 = LATE_LISTING_PUBLISHED_MS;
const DERIBIT_TRADES: &str = "/api/v2/public/get_last_trades_by_instrument_and_time";
const DERIBIT_BY_SEQ: &str = "/api/v2/public/get_last_trades_by_instrument";

/// A Binance JSON array (asserts 200).
fn array(reply: &Reply) -> Vec<Value> {
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json().as_array().unwrap().clone()
}

/// OKX `data` (asserts code "0").
fn okx(reply: &Reply) -> Vec<Value> {
    let v = reply.json();
    assert_eq!((reply.status, &v["code"]), (200, &Value::from("0")), "{v}");
    v["data"].as_array().unwrap().clone()
}

/// Bybit `result` (asserts retCode 0).
fn bybit(reply: &Reply) -> Value {
    let v = reply.json();
    assert_eq!((reply.status, &v["retCode"]), (200, &Value::from(0)), "{v}");
    v["result"].clone()
}

/// Deribit `result` (asserts 200).
fn deribit(reply: &Reply) -> Value {
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["result"].clone()
}

fn int(v: &Value) -> i64 {
    v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok())).unwrap_or_else(|| panic!("{v}"))
}

/// Deribit `(trades as (trade_seq, timestamp, trade_id), has_more)`.
fn deribit_trades(reply: &Reply) -> (Vec<(i64, i64, String)>, bool) {
    let r = deribit(reply);
    let list = r["trades"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (int(&t["trade_seq"]), int(&t["timestamp"]), t["trade_id"].as_str().unwrap().to_string()))
        .collect();
    (list, r["has_more"].as_bool().unwrap())
}

async fn sim_roomy(now: i64) -> Sim {
    let deribit = DeribitLimits { instruments_burst: 100, ..DeribitLimits::default() };
    Sim::start(SimConfig { now_ms: Some(now), deribit, ..SimConfig::default() }).await.unwrap()
}

// ---------------------------------------------------------------------------
// 1. Published listings 30 days after the first candle

#[tokio::test]
async fn late_listings_publish_thirty_days_after_the_first_candle() {
    let now = PUBLISHED + 20 * DAY;
    let sim = sim_roomy(now).await;
    assert_eq!(PUBLISHED - TRUE, 30 * DAY);

    // Binance USD-M: onboardDate vs the first kline, aggTrade and funding.
    let info = get(&sim, "/fapi/v1/exchangeInfo").await.json();
    let doge =
        info["symbols"].as_array().unwrap().iter().find(|s| s["symbol"] == BINANCE_UM_LATE_LISTED).unwrap();
    assert_eq!(doge["onboardDate"], PUBLISHED);
    let sym = binance_symbols(UM).into_iter().find(|s| s.symbol == BINANCE_UM_LATE_LISTED).unwrap();
    assert_eq!((sym.listed_ms, sym.published_listed_ms), (TRUE, Some(PUBLISHED)));
    let first = array(&get(&sim, "/fapi/v1/klines?symbol=DOGEUSDT&interval=1h&startTime=0&limit=1").await);
    assert_eq!(first[0][0], TRUE, "the first candle opens 30 days before onboardDate");
    let days = array(
        &get(
            &sim,
            &format!("/fapi/v1/klines?symbol=DOGEUSDT&interval=1d&startTime=0&endTime={}", PUBLISHED - 1),
        )
        .await,
    );
    assert_eq!(days.len(), 30);
    let agg =
        array(&get(&sim, &format!("/fapi/v1/aggTrades?symbol=DOGEUSDT&startTime={TRUE}&limit=1")).await);
    assert!(int(&agg[0]["T"]) >= TRUE && int(&agg[0]["T"]) < TRUE + HOUR, "trades from the true listing");
    let funding = array(&get(&sim, "/fapi/v1/fundingRate?symbol=DOGEUSDT&startTime=0&limit=1").await);
    assert_eq!(funding[0]["fundingTime"], TRUE + 8 * HOUR);
    assert_eq!(binance_funding(BINANCE_UM_LATE_LISTED, 0, PUBLISHED, now).unwrap().len(), 89);

    // OKX: listTime.
    let swaps = okx(&get(&sim, "/api/v5/public/instruments?instType=SWAP").await);
    let sol = swaps.iter().find(|i| i["instId"] == OKX_SWAP_LATE_LISTED).unwrap();
    assert_eq!((sol["listTime"].as_str(), sol["state"].as_str()), (Some("1713052800000"), Some("live")));
    let bars = okx(&get(
        &sim,
        &format!("/api/v5/market/history-candles?instId=SOL-USDT-SWAP&bar=1Dutc&after={PUBLISHED}"),
    )
    .await);
    assert_eq!(bars.len(), 30, "30 daily bars before listTime");
    assert_eq!(int(&bars[29][0]), TRUE);
    let trades = okx(&get(
        &sim,
        &format!("/api/v5/market/history-trades?instId=SOL-USDT-SWAP&type=2&after={}", TRUE + HOUR),
    )
    .await);
    assert!(
        !trades.is_empty() && trades.iter().all(|t| int(&t["ts"]) >= TRUE && int(&t["ts"]) < TRUE + HOUR)
    );
    let rates = okx(&get(
        &sim,
        &format!("/api/v5/public/funding-rate-history?instId=SOL-USDT-SWAP&after={PUBLISHED}"),
    )
    .await);
    assert_eq!(rates.len(), 89);
    assert_eq!(int(&rates[88]["fundingTime"]), TRUE + 8 * HOUR);

    // Bybit linear: launchTime.
    let linear = bybit(&get(&sim, "/v5/market/instruments-info?category=linear&symbol=SOLUSDT").await);
    assert_eq!(linear["list"][0]["launchTime"], "1713052800000");
    assert_eq!(linear["list"][0]["status"], "Trading");
    let kline =
        bybit(&get(&sim, "/v5/market/kline?category=linear&symbol=SOLUSDT&interval=D&start=0&limit=1").await);
    assert_eq!(int(&kline["list"][0][0]), TRUE);
    let fund = bybit(
        &get(
            &sim,
            &format!("/v5/market/funding/history?category=linear&symbol=SOLUSDT&endTime={}", PUBLISHED - 1),
        )
        .await,
    );
    let times: Vec<i64> =
        fund["list"].as_array().unwrap().iter().map(|r| int(&r["fundingRateTimestamp"])).collect();
    assert_eq!((times.len(), times.last().copied()), (89, Some(TRUE + 8 * HOUR)), "newest first");

    // Deribit: creation_timestamp.
    let usdc = deribit(&get(&sim, "/api/v2/public/get_instruments?currency=USDC&kind=future").await);
    let perp = usdc.as_array().unwrap().iter().find(|i| i["instrument_name"] == DERIBIT_LATE_LISTED).unwrap();
    assert_eq!(perp["creation_timestamp"], PUBLISHED);
    let chart = deribit(
        &get(
            &sim,
            &format!(
                "/api/v2/public/get_tradingview_chart_data?instrument_name={DERIBIT_LATE_LISTED}&resolution=1D&start_timestamp={}&end_timestamp={}",
                TRUE - 5 * DAY,
                PUBLISHED - 1
            ),
        )
        .await,
    );
    assert_eq!(chart["ticks"].as_array().unwrap().len(), 30);
    assert_eq!(chart["ticks"][0], TRUE);
    let (first_trades, _) = deribit_trades(
        &get(
            &sim,
            &format!(
                "{DERIBIT_TRADES}?instrument_name={DERIBIT_LATE_LISTED}&start_timestamp={TRUE}&end_timestamp={PUBLISHED}&sorting=asc&count=1"
            ),
        )
        .await,
    );
    assert!(first_trades[0].1 >= TRUE && first_trades[0].1 < TRUE + HOUR);
    let rows = deribit(
        &get(
            &sim,
            &format!(
                "/api/v2/public/get_funding_rate_history?instrument_name={DERIBIT_LATE_LISTED}&start_timestamp=0&end_timestamp={}",
                TRUE + 10 * HOUR
            ),
        )
        .await,
    );
    assert_eq!(rows.as_array().unwrap().len(), 10);
    assert_eq!(rows[0]["timestamp"], TRUE + HOUR);

    // The oracle knows both numbers for every venue.
    for (venue, symbol) in [
        (Venue::OkxSwap, OKX_SWAP_LATE_LISTED),
        (Venue::BybitLinear, BYBIT_LINEAR_LATE_LISTED),
        (Venue::Deribit, DERIBIT_LATE_LISTED),
    ] {
        let i = venue_instruments(venue).into_iter().find(|i| i.symbol == symbol).unwrap();
        assert_eq!((i.listed_ms, i.published_listed_ms), (TRUE, Some(PUBLISHED)), "{symbol}");
        let before = venue_klines(venue, symbol, venue_intervals_hour(venue), TRUE, PUBLISHED, now).unwrap();
        assert_eq!(before.len(), 30 * 24, "{symbol}: bars before the published listing");
        assert!(venue_funding(venue, symbol, TRUE, PUBLISHED, now).unwrap().len() >= 89, "{symbol}");
        assert!(!venue_trades(venue, symbol, TRUE, TRUE + HOUR, now).unwrap().is_empty(), "{symbol}");
    }
    // Every other instrument publishes its true listing.
    for venue in Venue::ALL {
        for i in venue_instruments(venue) {
            if i.published_listed_ms.is_some_and(|p| p != i.listed_ms) {
                assert_eq!(i.published_listed_ms, Some(i.listed_ms + LATE_LISTING_LAG_MS), "{}", i.symbol);
            }
        }
    }
}

/// The venue's one-hour interval code.
fn venue_intervals_hour(venue: Venue) -> &'static str {
    match venue {
        Venue::OkxSpot | Venue::OkxSwap | Venue::OkxFutures => "1H",
        _ => "60",
    }
}

// ---------------------------------------------------------------------------
// 2. A relisted symbol

#[tokio::test]
async fn a_relisted_symbol_publishes_its_relisting_and_keeps_both_histories() {
    let (first, delisted, relisted) = (RELISTED_FIRST_LISTING_MS, RELISTED_DELISTED_MS, RELISTED_RELISTED_MS);
    assert_eq!(relisted - delisted, 60 * DAY);
    let sim = sim_at(NOW).await;
    let info = get(&sim, "/fapi/v1/exchangeInfo").await.json();
    let ftt =
        info["symbols"].as_array().unwrap().iter().find(|s| s["symbol"] == BINANCE_UM_RELISTED).unwrap();
    assert_eq!((ftt["onboardDate"].as_i64(), ftt["status"].as_str()), (Some(relisted), Some("TRADING")));
    let sym = binance_symbols(UM).into_iter().find(|s| s.symbol == BINANCE_UM_RELISTED).unwrap();
    assert_eq!(
        (sym.listed_ms, sym.published_listed_ms, sym.delisted),
        (first, Some(relisted), Some((delisted, relisted)))
    );

    // Daily candles: both periods, none in between.
    let days: Vec<i64> =
        array(&get(&sim, "/fapi/v1/klines?symbol=FTTUSDT&interval=1d&startTime=0&limit=1000").await)
            .iter()
            .map(|r| int(&r[0]))
            .collect();
    assert_eq!(days[0], first, "candles from the first listing, before onboardDate");
    assert!(days.iter().all(|&t| t < delisted || t >= relisted));
    let split = days.iter().position(|&t| t >= relisted).unwrap();
    assert_eq!((days[split - 1], days[split]), (delisted - DAY, relisted));
    assert_eq!(split as i64, (delisted - first) / DAY);
    assert_eq!(days.len() as i64, split as i64 + (NOW - relisted) / DAY + 1);
    let hours: Vec<i64> = array(
        &get(
            &sim,
            &format!("/fapi/v1/klines?symbol=FTTUSDT&interval=1h&startTime={}&limit=3", delisted - 2 * HOUR),
        )
        .await,
    )
    .iter()
    .map(|r| int(&r[0]))
    .collect();
    assert_eq!(hours, [delisted - 2 * HOUR, delisted - HOUR, relisted]);
    let back: Vec<i64> = array(
        &get(&sim, &format!("/fapi/v1/klines?symbol=FTTUSDT&interval=1h&endTime={}&limit=2", relisted + 1))
            .await,
    )
    .iter()
    .map(|r| int(&r[0]))
    .collect();
    assert_eq!(back, [delisted - HOUR, relisted]);
    // Weeks reaching into the delisting hold only their traded days.
    let weeks =
        binance_klines(UM, BINANCE_UM_RELISTED, "1w", delisted - 14 * DAY, relisted + 14 * DAY, NOW).unwrap();
    let served: Vec<i64> = array(
        &get(
            &sim,
            &format!(
                "/fapi/v1/klines?symbol=FTTUSDT&interval=1w&startTime={}&endTime={}",
                delisted - 14 * DAY,
                relisted + 14 * DAY - 1
            ),
        )
        .await,
    )
    .iter()
    .map(|r| int(&r[0]))
    .collect();
    assert_eq!(served, weeks.iter().map(|k| k.open_time).collect::<Vec<_>>());
    assert_eq!(weeks.len(), 5, "one before, the delisting's, the relisting's, two after");

    // Trades: none while delisted.
    let around = array(
        &get(
            &sim,
            &format!(
                "/fapi/v1/aggTrades?symbol=FTTUSDT&startTime={}&endTime={}&limit=1000",
                delisted - 10 * MIN,
                delisted + 49 * MIN
            ),
        )
        .await,
    );
    assert!(!around.is_empty() && around.iter().all(|a| int(&a["T"]) < delisted));
    let inside = get(
        &sim,
        &format!(
            "/fapi/v1/aggTrades?symbol=FTTUSDT&startTime={}&endTime={}",
            delisted + DAY,
            delisted + DAY + 30 * MIN
        ),
    )
    .await;
    assert_eq!(array(&inside).len(), 0);
    let resumed =
        array(&get(&sim, &format!("/fapi/v1/aggTrades?symbol=FTTUSDT&startTime={delisted}&limit=1")).await);
    assert!(int(&resumed[0]["T"]) >= relisted && int(&resumed[0]["T"]) < relisted + HOUR);
    assert_eq!(
        int(&resumed[0]["a"]),
        int(&around.last().unwrap()["a"]) + 1,
        "ids continue across the delisting"
    );

    // Funding: none while delisted.
    let times: Vec<i64> = array(
        &get(
            &sim,
            &format!("/fapi/v1/fundingRate?symbol=FTTUSDT&startTime={}&limit=4", delisted - 16 * HOUR),
        )
        .await,
    )
    .iter()
    .map(|r| int(&r["fundingTime"]))
    .collect();
    assert_eq!(times, [delisted - 16 * HOUR, delisted - 8 * HOUR, relisted + 8 * HOUR, relisted + 16 * HOUR]);

    // While delisted, exchangeInfo shows it closed with its first onboardDate.
    sim.set_now(Some(delisted + 10 * DAY));
    let info = get(&sim, "/fapi/v1/exchangeInfo").await.json();
    let ftt =
        info["symbols"].as_array().unwrap().iter().find(|s| s["symbol"] == BINANCE_UM_RELISTED).unwrap();
    assert_eq!((ftt["onboardDate"].as_i64(), ftt["status"].as_str()), (Some(first), Some("CLOSE")));
    let last = array(&get(&sim, "/fapi/v1/klines?symbol=FTTUSDT&interval=1h&limit=1").await);
    assert_eq!(last[0][0], delisted - HOUR, "the newest candle is the last before the delisting");
}

// ---------------------------------------------------------------------------
// 3. Retention windows, measured back from the simulated now

#[tokio::test]
async fn retention_windows_follow_the_simulated_clock() {
    let now = NOW;
    let sim = sim_at(now).await;
    // Binance UM aggTrades: one year.
    let edge = now - BINANCE_UM_AGG_TRADES_KEPT_MS;
    assert_eq!(BINANCE_UM_AGG_TRADES_KEPT_MS, 365 * DAY);
    let window = |s: i64| format!("symbol=BTCUSDT&startTime={s}&endTime={}", s + 30 * MIN);
    let old = get(&sim, &format!("/fapi/v1/aggTrades?{}", window(edge - DAY))).await;
    assert_eq!((old.status, old.text()), (200, "[]".to_string()), "no longer held: an empty list");
    assert!(
        !array(&get(&sim, &format!("/api/v3/aggTrades?{}", window(edge - DAY))).await).is_empty(),
        "spot keeps it"
    );
    let straddle = array(&get(&sim, &format!("/fapi/v1/aggTrades?{}", window(edge - 15 * MIN))).await);
    assert!(
        !straddle.is_empty() && straddle.iter().all(|a| int(&a["T"]) >= edge),
        "only the part still held"
    );
    let end_only = get(&sim, &format!("/fapi/v1/aggTrades?symbol=BTCUSDT&endTime={}", edge - 1)).await;
    assert_eq!(end_only.text(), "[]");
    let from_old = array(&get(&sim, "/fapi/v1/aggTrades?symbol=BTCUSDT&fromId=0&limit=1").await);
    assert!(
        int(&from_old[0]["T"]) >= edge && int(&from_old[0]["T"]) < edge + MIN,
        "fromId starts at the oldest held"
    );
    // The edge moves with the simulated clock.
    sim.set_now(Some(now - 2 * DAY));
    assert!(!array(&get(&sim, &format!("/fapi/v1/aggTrades?{}", window(edge - DAY))).await).is_empty());
    sim.set_now(Some(now));

    // Binance UM historicalTrades: three months.
    let key = |target: String| {
        let sim = &sim;
        async move {
            let host = sim.url();
            let host = host.strip_prefix("http://").unwrap().to_string();
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut stream = tokio::net::TcpStream::connect(&host).await.unwrap();
            let head = format!(
                "GET {target} HTTP/1.1\r\nHost: {host}\r\nX-MBX-APIKEY: k\r\nConnection: close\r\n\r\n"
            );
            stream.write_all(head.as_bytes()).await.unwrap();
            let mut raw = Vec::new();
            stream.read_to_end(&mut raw).await.unwrap();
            let text = String::from_utf8(raw).unwrap();
            let body = text.split_once("\r\n\r\n").unwrap().1.to_string();
            serde_json::from_str::<Vec<Value>>(&body).unwrap()
        }
    };
    for at in [now, now + 10 * DAY] {
        sim.set_now(Some(at));
        let oldest = key("/fapi/v1/historicalTrades?symbol=BTCUSDT&fromId=0&limit=1".to_string()).await;
        let t = int(&oldest[0]["time"]);
        let edge = at - BINANCE_UM_HISTORICAL_TRADES_KEPT_MS;
        assert!(t >= edge && t < edge + MIN, "{at}: three months back from the sim clock");
    }
    sim.set_now(Some(now));

    // OKX: history-trades and funding history three months, 1s candles three months.
    for (path, kept) in [
        ("/api/v5/market/history-trades?instId=BTC-USDT-SWAP&type=2", OKX_HISTORY_TRADES_KEPT_MS),
        ("/api/v5/public/funding-rate-history?instId=BTC-USDT-SWAP", OKX_FUNDING_HISTORY_KEPT_MS),
        ("/api/v5/market/history-candles?instId=BTC-USDT-SWAP&bar=1s", OKX_ONE_SECOND_KEPT_MS),
    ] {
        assert_eq!(kept, 90 * DAY);
        assert!(okx(&get(&sim, &format!("{path}&after={}", now - kept - HOUR)).await).is_empty(), "{path}");
        let held = okx(&get(&sim, &format!("{path}&after={}", now - kept + 9 * HOUR)).await);
        assert!(!held.is_empty(), "{path}");
        sim.set_now(Some(now - 2 * DAY));
        assert!(!okx(&get(&sim, &format!("{path}&after={}", now - kept - HOUR)).await).is_empty(), "{path}");
        sim.set_now(Some(now));
    }
}

// ---------------------------------------------------------------------------
// 4. Deribit get_instruments without currency

#[tokio::test]
async fn deribit_get_instruments_without_currency_lists_every_currency() {
    let sim = sim_roomy(1_740_000_000_000).await; // 2025-02-19: every instrument trades
    let names = |q: &'static str| {
        let sim = &sim;
        async move {
            deribit(&get(sim, &format!("/api/v2/public/get_instruments{q}")).await)
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["instrument_name"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    let all = names("").await;
    assert_eq!(
        all,
        [
            "BTC-PERPETUAL",
            "ETH-PERPETUAL",
            "BTC_USDT-PERPETUAL",
            "BTC-27JUN25",
            "BTC_USDT",
            "SOL_USDC-PERPETUAL",
            "XRP_USDC-PERPETUAL"
        ]
    );
    assert_eq!(names("?currency=any").await, all);
    assert_eq!(names("?kind=spot").await, ["BTC_USDT"]);
    assert_eq!(names("?kind=future").await.len(), 6);
    assert_eq!(names("?kind=option").await, Vec::<String>::new());
    assert_eq!(names("?currency=USDC").await, ["SOL_USDC-PERPETUAL", "XRP_USDC-PERPETUAL"]);
    sim.set_now(Some(1_760_000_000_000)); // after BTC-27JUN25 expired
    assert_eq!(names("?expired=true").await, ["BTC-27JUN25"]);
    assert_eq!(names("?kind=future&expired=false").await.len(), 5);
    let bad = get(&sim, "/api/v2/public/get_instruments?kind=perp").await;
    assert_eq!((bad.status, bad.json()["error"]["code"].as_i64()), (400, Some(-32602)));
}

// ---------------------------------------------------------------------------
// 5. A burst of trades in one millisecond

/// Trades of the burst hour, paged by time alone: `start_timestamp` = the
/// last timestamp + 1, `count=1000`, `sorting=asc`.
async fn page_by_time_plus_one(sim: &Sim, from: i64, to: i64) -> Vec<(i64, i64, String)> {
    let mut out = Vec::new();
    let mut cursor = from;
    for _ in 0..100 {
        let (page, more) = deribit_trades(
            &get(
                sim,
                &format!(
                    "{DERIBIT_TRADES}?instrument_name={DERIBIT_BURST_INSTRUMENT}&start_timestamp={cursor}&end_timestamp={to}&count=1000&sorting=asc"
                ),
            )
            .await,
        );
        let Some(last) = page.last() else { break };
        cursor = last.1 + 1;
        out.extend(page);
        if !more {
            break;
        }
    }
    out
}

/// The same hour paged by sequence number: `start_seq` = the last
/// `trade_seq` + 1.
async fn page_by_seq(sim: &Sim, from: i64, to: i64) -> Vec<(i64, i64, String)> {
    let mut out = Vec::new();
    let mut seq = 0;
    for _ in 0..100 {
        let (page, more) = deribit_trades(
            &get(
                sim,
                &format!(
                    "{DERIBIT_BY_SEQ}?instrument_name={DERIBIT_BURST_INSTRUMENT}&start_seq={seq}&start_timestamp={from}&end_timestamp={to}&count=1000&sorting=asc"
                ),
            )
            .await,
        );
        let Some(last) = page.last() else { break };
        seq = last.0 + 1;
        out.extend(page);
        if !more {
            break;
        }
    }
    out
}

#[tokio::test]
async fn deribit_burst_in_one_millisecond_needs_paging_by_trade_seq() {
    let sim = sim_at(NOW).await;
    let hour = DERIBIT_BURST_MS - DERIBIT_BURST_MS % HOUR;
    let (from, to) = (hour, hour + HOUR - 1);
    let oracle: Vec<SimTrade> =
        venue_trades(Venue::Deribit, DERIBIT_BURST_INSTRUMENT, from, to + 1, NOW).unwrap();
    let seqs = deribit_burst_seqs();
    let burst: Vec<&SimTrade> = oracle.iter().filter(|t| t.time == DERIBIT_BURST_MS).collect();
    assert!(burst.len() >= DERIBIT_BURST_TRADES as usize);
    assert!(oracle.iter().filter(|t| seqs.contains(&t.id)).all(|t| t.time == DERIBIT_BURST_MS));
    assert_eq!(oracle.iter().filter(|t| seqs.contains(&t.id)).count(), 2500);
    assert!(oracle.len() > 5000, "the rest of the hour trades normally: {}", oracle.len());
    assert!(venue_quiet_windows_clear(hour));

    // Inclusive bounds on the burst millisecond: the oldest 1000 (asc) or
    // the newest 1000 (desc), has_more either way.
    let at = |sorting: &str| {
        format!(
            "{DERIBIT_TRADES}?instrument_name={DERIBIT_BURST_INSTRUMENT}&start_timestamp={DERIBIT_BURST_MS}&end_timestamp={DERIBIT_BURST_MS}&count=1000&sorting={sorting}"
        )
    };
    let (asc, more) = deribit_trades(&get(&sim, &at("asc")).await);
    assert!(more && asc.len() == 1000 && asc.iter().all(|t| t.1 == DERIBIT_BURST_MS));
    assert_eq!(asc[0].0, seqs.start);
    assert!(
        asc.windows(2).all(|w| w[0].0 + 1 == w[1].0 && w[0].2 != w[1].2),
        "distinct ascending seqs and ids"
    );
    let (desc, _) = deribit_trades(&get(&sim, &at("desc")).await);
    assert_eq!(desc[0].0, burst.last().unwrap().id, "newest first");

    // Paging by time alone (last timestamp + 1) skips most of the burst.
    let by_time = page_by_time_plus_one(&sim, from, to).await;
    let skipped = oracle.len() - by_time.len();
    assert!(skipped >= 1500, "skipped {skipped}");
    // Paging by time with the last timestamp again never gets past it.
    let again = |start: i64| {
        format!(
            "{DERIBIT_TRADES}?instrument_name={DERIBIT_BURST_INSTRUMENT}&start_timestamp={start}&end_timestamp={to}&count=1000&sorting=asc"
        )
    };
    let (p1, _) = deribit_trades(&get(&sim, &again(DERIBIT_BURST_MS)).await);
    let (p2, _) = deribit_trades(&get(&sim, &again(p1.last().unwrap().1)).await);
    assert_eq!(p1, p2, "stuck on the burst");

    // Paging by trade_seq gets every trade exactly once.
    let by_seq = page_by_seq(&sim, from, to).await;
    assert_eq!(by_seq.len(), oracle.len());
    assert_eq!(
        by_seq.iter().map(|t| (t.0, t.1)).collect::<Vec<_>>(),
        oracle.iter().map(|t| (t.id, t.time)).collect::<Vec<_>>()
    );
    assert!(by_seq.iter().all(|t| t.2 == t.0.to_string()));
}

/// Whether the burst hour is outside the instrument's quiet windows.
fn venue_quiet_windows_clear(hour: i64) -> bool {
    cryptocache_sim::venue_quiet_windows(Venue::Deribit, DERIBIT_BURST_INSTRUMENT, hour, hour + HOUR)
        .unwrap()
        .is_empty()
}

#[tokio::test]
async fn deribit_trades_by_seq_bounds_count_and_sorting() {
    let sim = sim_at(NOW).await;
    let q = |extra: &str| format!("{DERIBIT_BY_SEQ}?instrument_name=BTC-PERPETUAL&{extra}");
    let (newest, more) = deribit_trades(&get(&sim, &q("")).await);
    assert_eq!(newest.len(), 10, "count defaults to 10, newest first");
    assert!(more && newest.windows(2).all(|w| w[0].0 == w[1].0 + 1));
    let oracle = venue_trades(Venue::Deribit, "BTC-PERPETUAL", NOW - MIN, NOW + 1, NOW).unwrap();
    assert_eq!(newest[0].0, oracle.last().unwrap().id);
    let s = newest[9].0 - 100;
    let (asc, more) = deribit_trades(
        &get(&sim, &q(&format!("start_seq={s}&end_seq={}&sorting=asc&count=50", s + 60))).await,
    );
    assert_eq!(asc.iter().map(|t| t.0).collect::<Vec<_>>(), (s..s + 50).collect::<Vec<_>>());
    assert!(more);
    let (all, more) = deribit_trades(
        &get(&sim, &q(&format!("start_seq={s}&end_seq={}&sorting=asc&count=5000", s + 60))).await,
    );
    assert_eq!((all.len(), more), (61, false), "both seq bounds inclusive; count above 1000 served as 1000");
    let (desc, _) = deribit_trades(
        &get(&sim, &q(&format!("start_seq={s}&end_seq={}&sorting=desc&count=3", s + 60))).await,
    );
    assert_eq!(desc.iter().map(|t| t.0).collect::<Vec<_>>(), [s + 60, s + 59, s + 58]);
    let (old, _) = deribit_trades(&get(&sim, &q("start_seq=0&count=2&sorting=asc&include_old=true")).await);
    assert_eq!(old.iter().map(|t| t.0).collect::<Vec<_>>(), [0, 1]);
    for bad in ["sorting=up", "count=0", "start_seq=x"] {
        let r = get(&sim, &q(bad)).await;
        assert_eq!((r.status, r.json()["error"]["code"].as_i64()), (400, Some(-32602)), "{bad}");
    }
    let r = get(&sim, &format!("{DERIBIT_BY_SEQ}?instrument_name=NOPE-PERPETUAL")).await;
    assert_eq!(r.json()["error"]["code"], 13020);
}
