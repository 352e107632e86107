//! OKX's historical market data beside the REST endpoints: an index call lists the day
//! files (UTC+8 days) with absolute URLs; the zips hold the same trades as REST, spot
//! files with the older bilingual header, derivatives with the newer one.

mod common;

use std::io::Read;

use common::*;
use cryptocache_sim::{venue_trades, Venue};

/// 2024-06-01T00:00:00Z.
const NOW: i64 = 1_717_200_000_000;
/// 2024-01-02 00:00 on the UTC+8 clock = 2024-01-01T16:00:00Z.
const JAN_2_UTC8: i64 = 1_704_124_800_000;

fn unzip_bytes(zip: &[u8]) -> Vec<u8> {
    assert_eq!(&zip[..4], b"PK\x03\x04", "a zip");
    let le16 = |at: usize| u16::from_le_bytes([zip[at], zip[at + 1]]) as usize;
    let le32 = |at: usize| u32::from_le_bytes([zip[at], zip[at + 1], zip[at + 2], zip[at + 3]]) as usize;
    let (packed, name_len) = (le32(18), le16(26));
    let mut bytes = Vec::new();
    flate2::read::DeflateDecoder::new(&zip[30 + name_len..30 + name_len + packed])
        .read_to_end(&mut bytes)
        .unwrap();
    bytes
}

fn unzip(zip: &[u8]) -> String {
    String::from_utf8(unzip_bytes(zip)).expect("UTF-8 text")
}

async fn index(sim: &cryptocache_sim::Sim, query: &str) -> serde_json::Value {
    serde_json::from_str(&get(sim, &format!("/api/v5/public/market-data-history?{query}")).await.text())
        .unwrap()
}

#[tokio::test]
async fn the_index_lists_utc8_day_files_whose_trades_equal_rest() {
    let sim = sim_at(NOW).await;
    let q = format!(
        "module=1&instType=SWAP&instFamilyList=ETH-USDT&dateAggrType=daily&begin={}&end={}",
        JAN_2_UTC8,
        JAN_2_UTC8 + DAY
    );
    let reply = index(&sim, &q).await;
    assert_eq!(reply["code"], "0");
    let details = reply["data"][0]["details"].as_array().unwrap();
    assert_eq!(details.len(), 1);
    assert_eq!(
        (details[0]["instId"].as_str(), details[0]["instFamily"].as_str()),
        (Some(""), Some("ETH-USDT"))
    );
    let files = details[0]["groupDetails"].as_array().unwrap();
    let names: Vec<&str> = files.iter().map(|f| f["filename"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["ETH-USDT-SWAP-trades-2024-01-03.zip", "ETH-USDT-SWAP-trades-2024-01-02.zip"],
        "newest first"
    );
    assert_eq!(files[1]["dateTs"], JAN_2_UTC8.to_string());
    let url = files[1]["url"].as_str().unwrap();
    assert!(url.ends_with("/cdn/okex/traderecords/trades/daily/20240102/ETH-USDT-SWAP-trades-2024-01-02.zip"));
    let path = &url[url.find("/cdn/").unwrap()..];
    let csv = unzip(&get(&sim, path).await.body);
    let mut lines = csv.lines();
    assert_eq!(lines.next().unwrap(), "instrument_name,trade_id,side,price,size,created_time");
    let want = venue_trades(Venue::OkxSwap, "ETH-USDT-SWAP", JAN_2_UTC8, JAN_2_UTC8 + DAY, NOW).unwrap();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), want.len());
    assert!(!want.is_empty());
    for (row, t) in rows.iter().zip(&want) {
        assert_eq!(row[0], "ETH-USDT-SWAP");
        assert_eq!(row[1].parse::<i64>().unwrap(), t.id);
        assert_eq!(row[2], if t.buyer_maker { "sell" } else { "buy" });
        assert_eq!(row[3].parse::<f64>().unwrap(), t.price);
        assert_eq!(row[4].parse::<f64>().unwrap(), t.qty);
        assert_eq!(row[5].parse::<i64>().unwrap(), t.time, "from 16:00 UTC the day before");
    }
}

#[tokio::test]
async fn spot_files_keep_the_bilingual_header_and_what_is_not_out_is_not_listed() {
    use cryptocache_sim::quirks::OKX_ARCHIVE_MISSING_DAY_MS;
    let sim = sim_at(NOW).await;
    let path = "/cdn/okex/traderecords/trades/daily/20240102/BTC-USDT-trades-2024-01-02.zip";
    let csv = unzip(&get(&sim, path).await.body);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "trade_id/交易id,side/交易方向,size/数量,price/价格,created_time/成交时间"
    );
    let want = venue_trades(Venue::OkxSpot, "BTC-USDT", JAN_2_UTC8, JAN_2_UTC8 + DAY, NOW).unwrap();
    let first: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(first[0].parse::<i64>().unwrap(), want[0].id);
    assert_eq!(first[2].parse::<f64>().unwrap(), want[0].qty, "size before price");
    assert_eq!(first[3].parse::<f64>().unwrap(), want[0].price);

    // The index: the missing day and days not out yet are not listed; 404 on the CDN.
    let missing_day = OKX_ARCHIVE_MISSING_DAY_MS;
    let q = |begin: i64, end: i64| {
        format!("module=1&instType=SPOT&instIdList=BTC-USDT&dateAggrType=daily&begin={begin}&end={end}")
    };
    let listed = index(&sim, &q(missing_day - DAY, missing_day + DAY)).await;
    let names: Vec<&str> = listed["data"][0]["details"][0]["groupDetails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["filename"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["BTC-USDT-trades-2024-02-21.zip", "BTC-USDT-trades-2024-02-19.zip"]);
    let gone = "/cdn/okex/traderecords/trades/daily/20240220/BTC-USDT-trades-2024-02-20.zip";
    assert_eq!(get(&sim, gone).await.status, 404);
    let recent = index(&sim, &q(NOW - 3 * DAY, NOW)).await;
    let names: Vec<String> = recent["data"][0]["details"][0]["groupDetails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["filename"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["BTC-USDT-trades-2024-05-30.zip", "BTC-USDT-trades-2024-05-29.zip"], "two days late");
    let too_long = index(&sim, &q(NOW - 30 * DAY, NOW)).await;
    assert_eq!(too_long["code"], "50076");
    let books =
        index(&sim, "module=4&instType=SWAP&instFamilyList=BTC-USDT&dateAggrType=daily&begin=0&end=0").await;
    assert_eq!(books["code"], "51000", "only trades, candles and funding are modelled");
}

/// The file listed for `inst` (family or spot id) on the UTC+8 day starting at `day`.
async fn candle_file(sim: &cryptocache_sim::Sim, inst_type: &str, list: &str, day: i64) -> (String, String) {
    let q = format!("module=2&instType={inst_type}&{list}&dateAggrType=daily&begin={day}&end={day}");
    let reply = index(sim, &q).await;
    assert_eq!(reply["code"], "0", "{reply}");
    let file = &reply["data"][0]["details"][0]["groupDetails"][0];
    let url = file["url"].as_str().unwrap();
    let path = &url[url.find("/cdn/").unwrap()..];
    (path.to_string(), unzip(&get(sim, path).await.body))
}

#[tokio::test]
async fn candle_files_hold_the_utc8_days_1m_bars_of_history_candles() {
    let sim = sim_at(NOW).await;
    let (path, csv) = candle_file(&sim, "SWAP", "instFamilyList=ETH-USDT", JAN_2_UTC8).await;
    assert_eq!(
        path,
        "/cdn/okex/traderecords/candlesticks/daily/20240102/ETH-USDT-SWAP-candlesticks-2024-01-02.zip?v=999"
    );
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "instrument_name,open,high,low,close,vol,vol_ccy,vol_quote,open_time,confirm"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 1440, "every minute of the UTC+8 day");
    assert_eq!(rows[0][8], JAN_2_UTC8.to_string(), "from 16:00 UTC the day before");
    assert!(rows.iter().all(|r| r[0] == "ETH-USDT-SWAP" && r[9] == "0"), "older files say confirm 0");
    // The same values as REST's history-candles, field for field, in the file's order.
    for at in [0usize, 700, 1340] {
        let after = JAN_2_UTC8 + (at as i64 + 100) * 60_000;
        let page = get(
            &sim,
            &format!("/api/v5/market/history-candles?instId=ETH-USDT-SWAP&bar=1m&after={after}&limit=100"),
        )
        .await;
        let page: serde_json::Value = serde_json::from_str(&page.text()).unwrap();
        let mut rest: Vec<Vec<String>> = page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect())
            .collect();
        rest.reverse();
        assert_eq!(rest.len(), 100);
        for (row, rest) in rows[at..at + 100].iter().zip(&rest) {
            // REST: ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm.
            assert_eq!(row[8], rest[0]);
            assert_eq!(&row[1..8], &rest[1..8]);
        }
    }
}

#[tokio::test]
async fn candle_files_repeat_a_row_once_and_say_confirm_1_from_june_2024() {
    use cryptocache_sim::quirks::{OKX_CANDLE_ARCHIVE_CONFIRMED_FROM_MS, OKX_CANDLE_ARCHIVE_REPEATED_ROW_MS};
    let sim = sim_at(NOW + 30 * DAY).await;
    let day = OKX_CANDLE_ARCHIVE_REPEATED_ROW_MS - (OKX_CANDLE_ARCHIVE_REPEATED_ROW_MS + 8 * 3_600_000) % DAY;
    let (_, csv) = candle_file(&sim, "SPOT", "instIdList=BTC-USDT", day).await;
    let times: Vec<&str> = csv.lines().skip(1).map(|l| l.split(',').nth(8).unwrap()).collect();
    assert_eq!(times.len(), 1441);
    let repeated = OKX_CANDLE_ARCHIVE_REPEATED_ROW_MS.to_string();
    assert_eq!(times.iter().filter(|&&t| t == repeated).count(), 2);
    let lines: Vec<&str> = csv.lines().filter(|l| l.contains(&repeated)).collect();
    assert_eq!(lines[0], lines[1], "the same values twice");

    let (_, csv) =
        candle_file(&sim, "SPOT", "instIdList=BTC-USDT", OKX_CANDLE_ARCHIVE_CONFIRMED_FROM_MS).await;
    assert!(csv.lines().skip(1).all(|l| l.ends_with(",1")), "newer files say confirm 1");
}

#[tokio::test]
async fn funding_files_hold_every_swaps_settled_rates_of_the_utc8_day_under_a_gbk_header() {
    use cryptocache_sim::venue_funding;
    let sim = sim_at(NOW).await;
    let q = format!("module=3&instType=SWAP&instFamilyList=ETH-USDT&dateAggrType=daily&begin={JAN_2_UTC8}&end={JAN_2_UTC8}");
    let reply = index(&sim, &q).await;
    assert_eq!(reply["code"], "0", "{reply}");
    let file = &reply["data"][0]["details"][0]["groupDetails"][0];
    assert_eq!(file["filename"], "allswaprate-swaprate-2024-01-02.zip");
    let url = file["url"].as_str().unwrap();
    let path = &url[url.find("/cdn/").unwrap()..];
    assert_eq!(path, "/cdn/okex/traderecords/swaprate/monthly/202401/allswaprate-swaprate-2024-01-02.zip");
    let bytes = unzip_bytes(&get(&sim, path).await.body);
    let newline = bytes.iter().position(|b| *b == b'\n').unwrap();
    assert!(std::str::from_utf8(&bytes[..newline]).is_err(), "the header is GBK, not UTF-8");
    assert!(bytes[..newline].starts_with(b"instrument_name/"));
    let text = std::str::from_utf8(&bytes[newline + 1..]).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
    for symbol in ["ETH-USDT-SWAP", "BTC-USDT-SWAP"] {
        let want = venue_funding(Venue::OkxSwap, symbol, JAN_2_UTC8, JAN_2_UTC8 + DAY, NOW).unwrap();
        let got: Vec<(i64, f64, f64)> = rows
            .iter()
            .filter(|r| r[0] == symbol)
            .map(|r| (r[4].parse().unwrap(), r[2].parse().unwrap(), r[3].parse().unwrap()))
            .collect();
        let want: Vec<(i64, f64, f64)> =
            want.iter().map(|f| (f.time, f.rate, f.realized_rate.unwrap())).collect();
        assert!(!want.is_empty());
        assert_eq!(
            got, want,
            "{symbol}: funding_rate = REST's fundingRate, real_funding_rate = realizedRate"
        );
    }
    // Dated futures and spot have no funding file.
    let futures = format!("module=3&instType=FUTURES&instFamilyList=BTC-USD&dateAggrType=daily&begin={JAN_2_UTC8}&end={JAN_2_UTC8}");
    assert_eq!(index(&sim, &futures).await["data"][0]["details"], serde_json::json!([]));
}
