//! Bybit's public trade archive beside the REST endpoints (public.bybit.com layout †):
//! gzipped day files of the same trades REST serves, derivatives timestamps in seconds
//! with four decimals, the UUID `trdMatchID` that REST calls `execId`, spot files with
//! their own ids, and 404 for what is not published.

mod common;

use std::io::Read;

use common::*;
use cryptocache_sim::{venue_trades, Venue};

/// 2024-06-01T00:00:00Z.
const NOW: i64 = 1_717_200_000_000;
/// 2024-01-02T00:00:00Z.
const DAY_START: i64 = 1_704_153_600_000;

fn gunzip(body: &[u8]) -> String {
    assert_eq!(&body[..2], b"\x1f\x8b", "gzip");
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(body).read_to_string(&mut text).unwrap();
    text
}

/// Milliseconds of a `seconds.ffff` timestamp, read as text.
fn ms_of(stamp: &str) -> i64 {
    let (secs, frac) = stamp.split_once('.').unwrap();
    assert_eq!(frac.len(), 4, "four decimals: {stamp}");
    secs.parse::<i64>().unwrap() * 1000 + frac[..3].parse::<i64>().unwrap()
}

#[tokio::test]
async fn a_derivatives_day_holds_the_days_trades_with_rest_ids() {
    let sim = sim_at(NOW).await;
    let reply = get(&sim, "/trading/ETHUSD/ETHUSD2024-01-02.csv.gz").await;
    assert_eq!(reply.status, 200);
    let csv = gunzip(&reply.body);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "timestamp,symbol,side,size,price,tickDirection,trdMatchID,grossValue,homeNotional,foreignNotional"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let want = venue_trades(Venue::BybitInverse, "ETHUSD", DAY_START, DAY_START + DAY, NOW).unwrap();
    assert!(want.len() > 100_000);
    assert_eq!(rows.len(), want.len());
    let mut rounded_wrong = 0;
    for (row, t) in rows.iter().zip(&want) {
        assert_eq!(row.len(), 10);
        assert_eq!(ms_of(row[0]), t.time);
        // The trap: rounded to the millisecond, a fourth decimal of 5 or more is a
        // millisecond late.
        if (row[0].parse::<f64>().unwrap() * 1000.0).round() as i64 != t.time {
            rounded_wrong += 1;
        }
        assert_eq!(row[1], "ETHUSD");
        assert_eq!(row[2], if t.buyer_maker { "Sell" } else { "Buy" });
        assert_eq!(row[3].parse::<f64>().unwrap(), t.qty);
        assert_eq!(row[4].parse::<f64>().unwrap(), t.price);
        assert_eq!(row[6].len(), 36, "a UUID");
    }
    assert!(rounded_wrong > rows.len() / 4, "rounding misreads about half the timestamps");
    let ids: std::collections::HashSet<&str> = rows.iter().map(|r| r[6]).collect();
    assert_eq!(ids.len(), rows.len(), "unique trdMatchIDs");

    // REST's execId of the day's last trades, asked for when they were the newest.
    let at_day_end = sim_at(DAY_START + DAY).await;
    let recent: serde_json::Value = serde_json::from_str(
        &get(&at_day_end, "/v5/market/recent-trade?category=inverse&symbol=ETHUSD&limit=1000").await.text(),
    )
    .unwrap();
    let list = recent["result"]["list"].as_array().unwrap();
    assert_eq!(list.len(), 1000);
    for (rest, row) in list.iter().zip(rows.iter().rev()) {
        assert_eq!(rest["execId"].as_str().unwrap(), row[6], "trdMatchID is REST's execId");
        assert_eq!(rest["time"].as_str().unwrap().parse::<i64>().unwrap(), ms_of(row[0]));
    }
}

#[tokio::test]
async fn spot_days_count_their_own_ids_and_newer_derivatives_files_add_rpi() {
    let sim = sim_at(NOW).await;
    let csv = gunzip(&get(&sim, "/spot/ETHUSDT/ETHUSDT_2024-01-02.csv.gz").await.body);
    let mut lines = csv.lines();
    assert_eq!(lines.next().unwrap(), "id,timestamp,price,volume,side");
    let want = venue_trades(Venue::BybitSpot, "ETHUSDT", DAY_START, DAY_START + DAY, NOW).unwrap();
    let mut n = 0;
    for (i, (line, t)) in lines.zip(&want).enumerate() {
        let row: Vec<&str> = line.split(',').collect();
        assert_eq!(row[0].parse::<usize>().unwrap(), i + 1, "ids count the day's trades from 1");
        assert_eq!(row[1].parse::<i64>().unwrap(), t.time, "milliseconds");
        assert_eq!(row[2].parse::<f64>().unwrap(), t.price);
        assert_eq!(row[3].parse::<f64>().unwrap(), t.qty);
        assert_eq!(row[4], if t.buyer_maker { "sell" } else { "buy" });
        n += 1;
    }
    assert_eq!(n, want.len());

    let later = sim_at(1_740_000_000_000).await; // 2025-02-19
    let csv = gunzip(&get(&later, "/trading/ETHUSD/ETHUSD2025-02-01.csv.gz").await.body);
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().ends_with(",foreignNotional,RPI"));
    assert_eq!(lines.next().unwrap().split(',').count(), 11);
}

#[tokio::test]
async fn what_is_not_published_is_404() {
    use cryptocache_sim::quirks::BYBIT_ARCHIVE_MISSING_DAY_MS;
    let sim = sim_at(NOW).await;
    assert_eq!(BYBIT_ARCHIVE_MISSING_DAY_MS, 1_712_707_200_000);
    for path in [
        "/trading/ETHUSD/ETHUSD2024-06-01.csv.gz",   // today
        "/trading/ETHUSD/ETHUSD2024-05-31.csv.gz",   // yesterday, before 08:00
        "/trading/ETHUSD/ETHUSD2024-04-10.csv.gz",   // the missing day
        "/spot/ETHUSDT/ETHUSDT_2024-04-10.csv.gz",   // the missing day, spot too
        "/trading/ETHUSD/ETHUSD2010-01-01.csv.gz",   // before listing
        "/trading/NOPEUSD/NOPEUSD2024-01-02.csv.gz", // no such symbol
        "/trading/ETHUSD/ETHUSD_2024-01-02.csv.gz",  // the spot spelling
    ] {
        let reply = get(&sim, path).await;
        assert_eq!((reply.status, reply.body.len()), (404, 0), "{path}");
    }
    assert_eq!(get(&sim, "/trading/ETHUSD/ETHUSD2024-04-11.csv.gz").await.status, 200);
}
