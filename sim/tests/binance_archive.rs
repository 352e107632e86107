//! The bulk archive beside the REST endpoints (data.binance.vision layout): zipped CSVs
//! equal to the REST candles, checksums, microsecond spot times from 2025, futures
//! headers, and 404 for what is not published.

mod common;

use std::io::Read;

use common::*;
use cryptocache_sim::{binance_klines, BinanceMarket};

/// 2025-03-10T12:00:00Z.
const NOW: i64 = 1_741_608_000_000;

/// The one file in a zip, inflated.
fn unzip(zip: &[u8]) -> String {
    assert_eq!(&zip[..4], b"PK\x03\x04", "a zip");
    let le16 = |at: usize| u16::from_le_bytes([zip[at], zip[at + 1]]) as usize;
    let le32 = |at: usize| u32::from_le_bytes([zip[at], zip[at + 1], zip[at + 2], zip[at + 3]]) as usize;
    assert_eq!(le16(8), 8, "deflated");
    let (packed, size, name_len) = (le32(18), le32(22), le16(26));
    let data = &zip[30 + name_len..30 + name_len + packed];
    let mut text = String::new();
    flate2::read::DeflateDecoder::new(data).read_to_string(&mut text).unwrap();
    assert_eq!(text.len(), size);
    assert_eq!(crc32fast::hash(text.as_bytes()) as usize, le32(14), "CRC-32");
    text
}

#[tokio::test]
async fn monthly_spot_klines_equal_rest_with_a_checksum() {
    let sim = sim_at(NOW).await;
    let path = "/data/spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2024-01.zip";
    let zip = get(&sim, path).await;
    assert_eq!(zip.status, 200);
    let csv = unzip(&zip.body);
    let want =
        binance_klines(BinanceMarket::Spot, "BTCUSDT", "1h", 1_704_067_200_000, 1_706_745_600_000, NOW)
            .unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), want.len(), "no header in spot files");
    assert_eq!(rows.len(), 744);
    for (row, k) in rows.iter().zip(&want) {
        assert_eq!(row.len(), 12);
        assert_eq!(row[0].parse::<i64>().unwrap(), k.open_time, "milliseconds before 2025");
        assert_eq!(row[4].parse::<f64>().unwrap(), k.close);
        assert_eq!(row[6].parse::<i64>().unwrap(), k.close_time);
        assert_eq!(row[8].parse::<u64>().unwrap(), k.trades);
    }
    let sum = get(&sim, &format!("{path}.CHECKSUM")).await.text();
    let digest = ring::digest::digest(&ring::digest::SHA256, &zip.body);
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(sum, format!("{hex}  BTCUSDT-1h-2024-01.zip"), "two spaces, no newline");
}

#[tokio::test]
async fn spot_times_are_microseconds_from_2025_and_futures_files_have_a_header() {
    let sim = sim_at(NOW).await;
    let daily = unzip(&get(&sim, "/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2025-01-05.zip").await.body);
    let first: Vec<&str> = daily.lines().next().unwrap().split(',').collect();
    let day = 1_736_035_200_000; // 2025-01-05
    assert_eq!(first[0].parse::<i64>().unwrap(), day * 1000, "microseconds");
    assert_eq!(first[6].parse::<i64>().unwrap(), (day + MIN - 1) * 1000 + 999);
    assert_eq!(daily.lines().count(), 1440);
    let um =
        unzip(&get(&sim, "/data/futures/um/monthly/klines/BTCUSDT/1d/BTCUSDT-1d-2023-05.zip").await.body);
    let mut lines = um.lines();
    assert!(lines.next().unwrap().starts_with("open_time,open,high"), "a header line");
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(row[0].parse::<i64>().unwrap(), 1_682_899_200_000, "futures stay in milliseconds");
    assert_eq!(um.lines().count(), 32);
    let monthly = get(&sim, "/data/spot/monthly/klines/BTCUSDT/1mo/BTCUSDT-1mo-2024-01.zip").await;
    assert_eq!(
        (monthly.status, unzip(&monthly.body).lines().count()),
        (200, 1),
        "`1mo` names the 1M interval"
    );
}

#[tokio::test]
async fn what_is_not_published_is_404() {
    let sim = sim_at(NOW).await;
    for path in [
        "/data/spot/daily/klines/BTCUSDT/1h/BTCUSDT-1h-2025-03-10.zip", // today
        "/data/spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2025-03.zip",  // this month
        "/data/spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2010-01.zip",  // before the exchange
        "/data/spot/monthly/klines/NOPEUSDT/1h/NOPEUSDT-1h-2024-01.zip", // no such symbol
        "/data/spot/daily/klines/BTCUSDT/1w/BTCUSDT-1w-2024-01-01.zip", // no daily weeks
        "/data/spot/monthly/klines/BTCUSDT/1M/BTCUSDT-1M-2024-01.zip",  // `1mo`, not `1M`
    ] {
        let reply = get(&sim, path).await;
        assert_eq!((reply.status, reply.body.len()), (404, 0), "{path}");
    }
    // Yesterday's daily file is out by 08:00 UTC.
    assert_eq!(get(&sim, "/data/spot/daily/klines/BTCUSDT/1h/BTCUSDT-1h-2025-03-09.zip").await.status, 200);
}

#[tokio::test]
async fn a_missing_day_and_a_wrong_checksum_as_in_the_real_archive() {
    use cryptocache_sim::quirks::{BINANCE_ARCHIVE_BAD_CHECKSUM_DAY_MS, BINANCE_ARCHIVE_MISSING_DAY_MS};
    let sim = sim_at(NOW).await;
    assert_eq!(BINANCE_ARCHIVE_MISSING_DAY_MS, 1_707_868_800_000);
    let missing = get(&sim, "/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-02-14.zip").await;
    assert_eq!(missing.status, 404, "the day is missing from the archive");
    let rest = binance_klines(
        BinanceMarket::Spot,
        "BTCUSDT",
        "1m",
        BINANCE_ARCHIVE_MISSING_DAY_MS,
        BINANCE_ARCHIVE_MISSING_DAY_MS + DAY,
        NOW,
    );
    assert_eq!(rest.unwrap().len(), 1440, "REST has it");
    let monthly = unzip(&get(&sim, "/data/spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2024-02.zip").await.body);
    assert_eq!(monthly.lines().count(), 29 * 1440, "the monthly file holds it");

    assert_eq!(BINANCE_ARCHIVE_BAD_CHECKSUM_DAY_MS, 1_710_892_800_000);
    let path = "/data/futures/um/daily/klines/BTCUSDT/1h/BTCUSDT-1h-2024-03-20.zip";
    let zip = get(&sim, path).await;
    assert_eq!(unzip(&zip.body).lines().count(), 25, "the file itself is fine (header + 24)");
    let digest = ring::digest::digest(&ring::digest::SHA256, &zip.body);
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    let sum = get(&sim, &format!("{path}.CHECKSUM")).await.text();
    assert!(
        sum.ends_with("  BTCUSDT-1h-2024-03-20.zip") && !sum.starts_with(&hex),
        "the checksum does not match"
    );
}

#[tokio::test]
async fn daily_agg_trades_equal_rest_with_headers_booleans_and_microseconds_by_market_and_date() {
    let sim = sim_at(NOW).await;
    let day = 1_704_153_600_000; // 2024-01-02
    let csv =
        unzip(&get(&sim, "/data/spot/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2024-01-02.zip").await.body);
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    let rest: serde_json::Value = serde_json::from_str(
        &get(&sim, &format!("/api/v3/aggTrades?symbol=BTCUSDT&startTime={day}&limit=1000")).await.text(),
    )
    .unwrap();
    let rest = rest.as_array().unwrap();
    assert!(rows.len() > rest.len(), "a day holds more than one page");
    for (row, r) in rows.iter().zip(rest) {
        assert_eq!(row.len(), 8, "spot: agg id, price, qty, first, last, time, maker, best match");
        assert_eq!(row[0].parse::<i64>().unwrap(), r["a"].as_i64().unwrap());
        assert_eq!(row[1], r["p"].as_str().unwrap());
        assert_eq!(row[2], r["q"].as_str().unwrap());
        assert_eq!(row[5].parse::<i64>().unwrap(), r["T"].as_i64().unwrap(), "ms before 2025");
        assert_eq!(row[6], if r["m"].as_bool().unwrap() { "True" } else { "False" });
        assert_eq!(row[7], "True");
    }
    let ids: Vec<i64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "consecutive aggregate ids");
    let last_time: i64 = rows.last().unwrap()[5].parse().unwrap();
    assert!((day..day + 86_400_000).contains(&last_time));

    let um = unzip(
        &get(&sim, "/data/futures/um/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2024-01-02.zip").await.body,
    );
    let mut lines = um.lines();
    assert_eq!(
        lines.next(),
        Some("agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker")
    );
    let first: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(first.len(), 7);
    assert!(first[6] == "true" || first[6] == "false");
    let spot_2025 =
        unzip(&get(&sim, "/data/spot/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2025-01-05.zip").await.body);
    let time: i64 = spot_2025.lines().next().unwrap().split(',').nth(5).unwrap().parse().unwrap();
    assert!(time > 1_000_000_000_000_000, "microseconds from 2025: {time}");
}

#[tokio::test]
async fn a_monthly_file_lacks_a_row_and_alters_the_next_where_daily_files_are_right() {
    let sim = sim_at(NOW).await;
    let drift = cryptocache_sim::quirks::BINANCE_ARCHIVE_MONTHLY_DRIFT_MS;
    let volume_at = |csv: &str, t: i64| {
        csv.lines()
            .find(|l| l.starts_with(&format!("{t},")))
            .map(|l| l.split(',').nth(5).unwrap().to_string())
    };
    let monthly = unzip(&get(&sim, "/data/spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2023-11.zip").await.body);
    let daily = unzip(&get(&sim, "/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2023-11-15.zip").await.body);
    assert_eq!(volume_at(&monthly, drift), None, "the monthly file lacks the row");
    assert!(volume_at(&daily, drift).is_some(), "the daily file has it");
    let next = drift + 60_000;
    assert_ne!(volume_at(&monthly, next), volume_at(&daily, next), "the monthly file differs after it");
    let rest = binance_klines(BinanceMarket::Spot, "BTCUSDT", "1m", next, next + 60_000, NOW).unwrap();
    assert_eq!(
        volume_at(&daily, next).unwrap().parse::<f64>().unwrap(),
        rest[0].volume,
        "daily matches REST"
    );
    assert_eq!(monthly.lines().count(), 30 * 1440 - 1);
}

#[tokio::test]
async fn monthly_usdm_funding_files_equal_rest_and_months_without_funding_are_404() {
    use cryptocache_sim::binance_funding;
    use cryptocache_sim::quirks::RELISTED_RELISTED_MS;
    let sim = sim_at(NOW).await;
    let jan = 1_704_067_200_000;
    let csv = unzip(
        &get(&sim, "/data/futures/um/monthly/fundingRate/ETHUSDT/ETHUSDT-fundingRate-2024-01.zip").await.body,
    );
    let mut lines = csv.lines();
    assert_eq!(lines.next().unwrap(), "calc_time,funding_interval_hours,last_funding_rate");
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let want = binance_funding("ETHUSDT", jan, 1_706_745_600_000, NOW).unwrap();
    assert_eq!(rows.len(), 31 * 6, "every 4 hours");
    for (row, f) in rows.iter().zip(&want) {
        assert_eq!(row[0].parse::<i64>().unwrap(), f.time);
        assert_eq!(row[1], "4");
        assert_eq!(row[2].parse::<f64>().unwrap(), f.rate);
    }
    let sum =
        get(&sim, "/data/futures/um/monthly/fundingRate/ETHUSDT/ETHUSDT-fundingRate-2024-01.zip.CHECKSUM")
            .await;
    assert_eq!(sum.status, 200);
    // FTTUSDT was delisted for November and most of December 2023.
    for (path, status) in [
        ("/data/futures/um/monthly/fundingRate/FTTUSDT/FTTUSDT-fundingRate-2023-11.zip", 404),
        ("/data/futures/um/monthly/fundingRate/FTTUSDT/FTTUSDT-fundingRate-2023-10.zip", 200),
        ("/data/futures/um/daily/fundingRate/ETHUSDT/ETHUSDT-fundingRate-2024-01-02.zip", 404),
        ("/data/spot/monthly/fundingRate/ETHUSDT/ETHUSDT-fundingRate-2024-01.zip", 404),
        ("/data/futures/um/monthly/fundingRate/ETHUSDT/ETHUSDT-fundingRate-2025-03.zip", 404),
    ] {
        assert_eq!(get(&sim, path).await.status, status, "{path}");
    }
    let december = unzip(
        &get(&sim, "/data/futures/um/monthly/fundingRate/FTTUSDT/FTTUSDT-fundingRate-2023-12.zip").await.body,
    );
    let first: i64 = december.lines().nth(1).unwrap().split(',').next().unwrap().parse().unwrap();
    assert!(first >= RELISTED_RELISTED_MS, "funding again only after the relisting");
}
