//! Deribit v2 `get_last_trades_by_instrument_and_time`,
//! `get_funding_rate_history` and `get_order_book` over real HTTP: sorting,
//! `count`, `has_more`, the ignored `start_timestamp` of funding, depths,
//! and equality with the oracle functions.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use cryptocache_sim::{venue_book, venue_funding, venue_trades, SimBook, SimFunding, SimTrade, Venue};
use serde_json::{json, Value};

const TRADES: &str = "/api/v2/public/get_last_trades_by_instrument_and_time";
const FUNDING: &str = "/api/v2/public/get_funding_rate_history";
const BOOK: &str = "/api/v2/public/get_order_book";

fn result(reply: &Reply) -> Value {
    assert_eq!(reply.status, 200, "{}", reply.text());
    let v = reply.json();
    assert_eq!(v["jsonrpc"], "2.0");
    v["result"].clone()
}

fn error(reply: &Reply) -> (u16, Value) {
    (reply.status, reply.json()["error"].clone())
}

fn n(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// `(trades, has_more)`.
fn trades(reply: &Reply) -> (Vec<SimTrade>, bool) {
    let r = result(reply);
    let list = r["trades"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| SimTrade {
            id: t["trade_seq"].as_i64().unwrap(),
            time: t["timestamp"].as_i64().unwrap(),
            price: n(&t["price"]),
            qty: n(&t["amount"]),
            buyer_maker: t["direction"] == "sell",
        })
        .collect();
    (list, r["has_more"].as_bool().unwrap())
}

#[tokio::test]
async fn trades_by_time_sorting_count_and_has_more() {
    let sim = sim_at(NOW).await;
    let (t0, t1) = (NOW - 10 * MIN, NOW - 9 * MIN);
    let all = venue_trades(Venue::Deribit, "BTC-PERPETUAL", t0, t1 + 1, NOW).unwrap();
    assert!(all.len() > 20, "{}", all.len());
    let q = |extra: String| format!("{TRADES}?instrument_name=BTC-PERPETUAL&{extra}");
    let (desc, more) = trades(&get(&sim, &q(format!("start_timestamp={t0}&end_timestamp={t1}"))).await);
    assert_eq!(desc.len(), 10, "count defaults to 10");
    assert!(more);
    let mut newest: Vec<SimTrade> = all[all.len() - 10..].to_vec();
    newest.reverse();
    assert_eq!(desc, newest, "default sorting: newest first");
    let (asc, _) =
        trades(&get(&sim, &q(format!("start_timestamp={t0}&end_timestamp={t1}&sorting=asc&count=5"))).await);
    assert_eq!(asc[..], all[..5]);
    let (every, more) = trades(
        &get(&sim, &q(format!("start_timestamp={t0}&end_timestamp={t1}&count=1000&sorting=asc"))).await,
    );
    assert_eq!((every, more), (all.clone(), false));
    let at = all[7].time;
    let (exact, _) =
        trades(&get(&sim, &q(format!("start_timestamp={at}&end_timestamp={at}&count=100"))).await);
    assert!(!exact.is_empty() && exact.iter().all(|t| t.time == at), "both bounds inclusive");
    let (end_only, _) = trades(&get(&sim, &q(format!("end_timestamp={t1}&count=3"))).await);
    assert_eq!(
        end_only.iter().map(|t| t.id).collect::<Vec<_>>(),
        newest[..3].iter().map(|t| t.id).collect::<Vec<_>>()
    );
    let (start_only, more) =
        trades(&get(&sim, &q(format!("start_timestamp={}&sorting=asc&count=2000", NOW - 10 * MIN))).await);
    assert_eq!((start_only.len(), more), (1000, true), "count above 1000 is served as 1000");
    let row = &result(&get(&sim, &q(format!("end_timestamp={t1}&count=1"))).await)["trades"][0];
    assert_eq!(n(&row["amount"]) % 10.0, 0.0, "USD in 10-USD contracts");
    assert_eq!(n(&row["contracts"]) * 10.0, n(&row["amount"]));
    assert_eq!(row["instrument_name"], "BTC-PERPETUAL");
    assert!(row["trade_id"].is_string());
    for (extra, param) in [
        ("count=5", "start_timestamp"),
        ("end_timestamp=1&sorting=up", "sorting"),
        ("end_timestamp=1&count=0", "count"),
    ] {
        let (status, e) = error(&get(&sim, &q(extra.to_string())).await);
        assert_eq!(
            (status, e["code"].as_i64(), e["data"]["param"].as_str()),
            (400, Some(-32602), Some(param)),
            "{extra}"
        );
    }
    // Quiet windows hold no trades.
    let (qs, qe) = cryptocache_sim::venue_quiet_windows(Venue::Deribit, "ETH-PERPETUAL", NOW - 20 * DAY, NOW)
        .unwrap()[0];
    let (quiet, _) = trades(
        &get(
            &sim,
            &format!("{TRADES}?instrument_name=ETH-PERPETUAL&start_timestamp={qs}&end_timestamp={}", qe - 1),
        )
        .await,
    );
    assert!(quiet.is_empty());
}

#[tokio::test]
async fn funding_history_ignores_start_and_reaches_720_hours_back() {
    let sim = sim_at(NOW + 10 * MIN).await;
    let rows = |start: i64, end: i64, name: &'static str| {
        let sim = &sim;
        async move {
            result(
                &get(
                    sim,
                    &format!("{FUNDING}?instrument_name={name}&start_timestamp={start}&end_timestamp={end}"),
                )
                .await,
            )
            .as_array()
            .unwrap()
            .clone()
        }
    };
    let times = |r: &[Value]| r.iter().map(|x| x["timestamp"].as_i64().unwrap()).collect::<Vec<_>>();
    let full = rows(NOW - 2 * HOUR, NOW, "BTC-PERPETUAL").await;
    let t = times(&full);
    assert_eq!(t.len(), 720, "start ignored");
    assert_eq!((t[0], t[719]), (NOW - 719 * HOUR, NOW));
    assert!(t.windows(2).all(|w| w[1] - w[0] == HOUR));
    assert_eq!(
        times(&rows(NOW + DAY, NOW - HOUR, "BTC-PERPETUAL").await)[719],
        NOW - HOUR,
        "start after end: still rows"
    );
    assert_eq!(times(&rows(0, NOW + 5 * DAY, "ETH-PERPETUAL").await)[719], NOW, "end clamps at now");
    let early = times(&rows(0, 1_534_200_000_000, "BTC-PERPETUAL").await);
    assert_eq!(
        early,
        [
            1_534_168_800_000,
            1_534_172_400_000,
            1_534_176_000_000,
            1_534_179_600_000,
            1_534_183_200_000,
            1_534_186_800_000,
            1_534_190_400_000,
            1_534_194_000_000,
            1_534_197_600_000
        ],
        "from the first hour after creation"
    );
    for r in &full {
        let (r8, r1) = (n(&r["interest_8h"]), n(&r["interest_1h"]));
        assert!((r1 * 8.0 - r8).abs() < 1e-12, "{r}");
        assert!(r["index_price"].is_number() && r["prev_index_price"].is_number());
    }
    assert_eq!(full[1]["prev_index_price"], full[0]["index_price"]);
    let oracle =
        venue_funding(Venue::Deribit, "BTC-PERPETUAL", NOW - 719 * HOUR, NOW + 1, NOW + 10 * MIN).unwrap();
    let served: Vec<SimFunding> = full
        .iter()
        .map(|r| SimFunding {
            time: r["timestamp"].as_i64().unwrap(),
            rate: n(&r["interest_8h"]),
            realized_rate: None,
            mark_price: Some(n(&r["index_price"])),
        })
        .collect();
    assert_eq!(oracle, served);
    assert!(rows(0, NOW, "BTC_USDT").await.is_empty(), "spot: no funding");
    let (status, e) =
        error(&get(&sim, &format!("{FUNDING}?instrument_name=BTC-PERPETUAL&end_timestamp={NOW}")).await);
    assert_eq!(
        (status, &e["data"]),
        (400, &json!({"reason": "must be present", "param": "start_timestamp"}))
    );
}

#[tokio::test]
async fn order_book_depths_and_fields() {
    let now = NOW + 5;
    let sim = sim_at(now).await;
    let book = |r: &Value| -> SimBook {
        let side =
            |k: &str| r[k].as_array().unwrap().iter().map(|l| (n(&l[0]), n(&l[1]))).collect::<Vec<_>>();
        SimBook {
            time: r["timestamp"].as_i64().unwrap(),
            update_id: r["change_id"].as_i64().unwrap(),
            bids: side("bids"),
            asks: side("asks"),
        }
    };
    let perp = result(&get(&sim, &format!("{BOOK}?instrument_name=BTC-PERPETUAL")).await);
    let b = book(&perp);
    assert_eq!((b.bids.len(), b.asks.len(), b.time), (20, 20, now), "depth defaults to 20");
    assert_eq!(b, venue_book(Venue::Deribit, "BTC-PERPETUAL", 20, now).unwrap());
    assert_eq!((n(&perp["best_bid_price"]), n(&perp["best_bid_amount"])), b.bids[0]);
    assert_eq!(n(&perp["best_ask_price"]), b.asks[0].0);
    assert!(b.bids.iter().all(|l| l.1 % 10.0 == 0.0), "USD amounts");
    assert!(perp["funding_8h"].is_number() && perp["current_funding"].is_number());
    assert_eq!(
        (perp["state"].as_str(), perp["instrument_name"].as_str()),
        (Some("open"), Some("BTC-PERPETUAL"))
    );
    let spot = result(&get(&sim, &format!("{BOOK}?instrument_name=BTC_USDT&depth=1000")).await);
    assert_eq!(book(&spot).asks.len(), 1000);
    assert!(spot.get("funding_8h").is_none());
    let (status, e) = error(&get(&sim, &format!("{BOOK}?instrument_name=BTC-PERPETUAL&depth=7")).await);
    assert_eq!((status, &e["data"]), (400, &json!({"reason": "wrong format", "param": "depth"})));
    let (status, e) = error(&get(&sim, &format!("{BOOK}?instrument_name=XRP-PERPETUAL")).await);
    assert_eq!((status, e["code"].as_i64()), (400, Some(13020)));
    let stats = sim.stats();
    assert_eq!(stats.endpoints.get(BOOK), Some(&4));
    let peak = *stats.max_window_weight.get("deribit").unwrap();
    assert!((500..=2000).contains(&peak), "{peak}: 500 credits a call, refilled in between");
}
