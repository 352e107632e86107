//! Binance's bulk archive (data.binance.vision), served beside the REST endpoints:
//! `GET /data/{spot|futures/um}/{monthly|daily}/klines/{SYMBOL}/{INTERVAL}/{SYMBOL}-{INTERVAL}-{DATE}.zip`
//! and its `.zip.CHECKSUM`. Written from `spec/archives.md` (binance/binance-public-data),
//! with the traps that break clients:
//! - a zip of one CSV with the 12 kline columns; `1mo` in paths and names, not `1M`;
//!   daily files only for intervals up to `1d` (README);
//! - spot open and close times in **microseconds** from 2025-01-01 (README note; issues
//!   #386, #387, #474); futures stay in milliseconds;
//! - no header in spot files; futures files carry one from 2022 on (issues #177, #246,
//!   #283: the exact date varies by data type; 2022-01-01 is modelled here);
//! - `.zip.CHECKSUM` = `<sha256 hex>  <file name>`, two spaces, no trailing newline;
//! - publication lags: a daily file appears the next day (modelled: 08:00 UTC), a monthly
//!   one in the first days of the next month (modelled: the 3rd); before that, and for
//!   periods with no candle (before listing), the answer is 404, never an empty file;
//! - a missing day and a day with wrong checksums (`quirks::BINANCE_ARCHIVE_*`).
//!
//! And the aggregate trades, `/data/{market}/{period}/aggTrades/{SYMBOL}/{SYMBOL}-aggTrades-{DATE}.zip`,
//! from the same stream as REST `aggTrades`: spot columns agg id, price, qty, first id,
//! last id, time, is_buyer_maker, is_best_match; UM without the last, with a header line
//! from 2022-08-11 (spec: issues #177, #246, #283); spot times in microseconds from 2025.
//! Booleans are written `True`/`False` in spot files and `true`/`false` in UM files †
//! (as seen in published files; not in the spec: clients must accept both).
//!
//! And USD-M funding rates, monthly only:
//! `/data/futures/um/monthly/fundingRate/{SYMBOL}/{SYMBOL}-fundingRate-{YYYY-MM}.zip`, a
//! header line, then `calc_time, funding_interval_hours, last_funding_rate` † (the REST
//! `fundingRate` rows: time, the symbol's funding interval, rate); 404 for a month with no
//! funding (before listing, while delisted).

use super::catalog::{symbol_def, trade_stream, BinanceMarket, Decimals, Series};
use super::trades::wire_agg;
use crate::data::calendar::days_from_civil;
use crate::quirks;
use crate::zip::zip_one;

const DAY: i64 = 86_400_000;

/// The CSV header futures files carry from [`FUTURES_HEADER_FROM`] on.
const HEADER: &str = "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore";
/// 2022-01-01: futures files from here on have a header line (modelled date).
const FUTURES_HEADER_FROM: i64 = 1_640_995_200_000;
/// The CSV header UM aggTrades files carry from [`UM_AGG_HEADER_FROM`] on.
const AGG_HEADER: &str =
    "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker";
/// 2022-08-11: UM aggTrades files from here on have a header line (spec).
const UM_AGG_HEADER_FROM: i64 = 1_660_176_000_000;
/// The CSV header of funding files †.
const FUNDING_HEADER: &str = "calc_time,funding_interval_hours,last_funding_rate";
/// 2025-01-01: spot files from here on give times in microseconds.
const SPOT_MICROS_FROM: i64 = 1_735_689_600_000;

/// What an archive path asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ArchiveFile {
    market: BinanceMarket,
    symbol: String,
    /// The REST spelling (`1M` for the archive's `1mo`); `aggTrades` for trade files.
    interval: String,
    /// The period's first and last-plus-one milliseconds.
    start: i64,
    end: i64,
    daily: bool,
    name: String,
    checksum: bool,
}

/// The file an archive path names, if it is one of Binance's kline files.
fn parse(path: &str) -> Option<ArchiveFile> {
    let (market, rest) = if let Some(rest) = path.strip_prefix("spot/") {
        (BinanceMarket::Spot, rest)
    } else {
        (BinanceMarket::UsdM, path.strip_prefix("futures/um/")?)
    };
    let parts: Vec<&str> = rest.split('/').collect();
    let (period, symbol, interval, file) = match parts.as_slice() {
        [period, "klines", symbol, interval, file] => (period, symbol, *interval, file),
        [period, "aggTrades", symbol, file] => (period, symbol, "aggTrades", file),
        // Funding files exist for USD-M only, by month (spec).
        ["monthly", "fundingRate", symbol, file] if market == BinanceMarket::UsdM => {
            (&"monthly", symbol, "fundingRate", file)
        }
        _ => return None,
    };
    let (name, checksum) = match file.strip_suffix(".CHECKSUM") {
        Some(name) => (name, true),
        None => (*file, false),
    };
    let date = name.strip_suffix(".zip")?.strip_prefix(&format!("{symbol}-{interval}-"))?;
    let number = |s: &str| s.parse::<i64>().ok();
    let (daily, start, end) = match (*period, date.split('-').collect::<Vec<_>>().as_slice()) {
        ("monthly", [y, m]) if m.len() == 2 => {
            let (y, m) = (number(y)?, u32::try_from(number(m)?).ok().filter(|m| (1..=12).contains(m))?);
            let start = days_from_civil(y, m, 1) * DAY;
            let next = if m == 12 { days_from_civil(y + 1, 1, 1) } else { days_from_civil(y, m + 1, 1) };
            (false, start, next * DAY)
        }
        ("daily", [y, m, d]) if m.len() == 2 && d.len() == 2 => {
            let (m, d) = (u32::try_from(number(m)?).ok()?, u32::try_from(number(d)?).ok()?);
            if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
                return None;
            }
            let start = days_from_civil(number(y)?, m, d) * DAY;
            (true, start, start + DAY)
        }
        _ => return None,
    };
    let rest_interval = if interval == "1mo" { "1M".to_owned() } else { interval.to_owned() };
    if interval == "1M"
        || (daily
            && !matches!(
                interval,
                "1s" | "1m"
                    | "3m"
                    | "5m"
                    | "15m"
                    | "30m"
                    | "1h"
                    | "2h"
                    | "4h"
                    | "6h"
                    | "8h"
                    | "12h"
                    | "1d"
                    | "aggTrades"
            ))
    {
        return None;
    }
    Some(ArchiveFile {
        market,
        symbol: (*symbol).to_owned(),
        interval: rest_interval,
        start,
        end,
        daily,
        name: name.to_owned(),
        checksum,
    })
}

/// When the file for `[start, end)` is published.
fn published_at(daily: bool, end: i64) -> i64 {
    if daily {
        end + 8 * 3_600_000
    } else {
        end + 2 * DAY
    }
}

/// The body for an archive path at simulated `now`: `Some((content type, bytes))`, or
/// `None` for 404 (not a kline file, unknown symbol, not published yet, no candle).
pub(crate) fn serve(path: &str, now: i64) -> Option<(&'static str, Vec<u8>)> {
    let file = parse(path)?;
    if now < published_at(file.daily, file.end) {
        return None;
    }
    if file.daily && file.start == quirks::BINANCE_ARCHIVE_MISSING_DAY_MS {
        return None;
    }
    let zip = built_zip(&file, now)?;
    if file.checksum {
        let mut hashed = zip.to_vec();
        if file.daily && file.start == quirks::BINANCE_ARCHIVE_BAD_CHECKSUM_DAY_MS {
            hashed.push(0); // the published hash is of other bytes
        }
        let digest = ring::digest::digest(&ring::digest::SHA256, &hashed);
        let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        return Some(("text/plain", format!("{hex}  {}", file.name).into_bytes()));
    }
    Some(("application/zip", zip.to_vec()))
}

/// Zips built lately, by file name and market: a `.CHECKSUM` request right after its zip
/// (what clients do) does not build the file again. Only published, closed periods are
/// served, so a file's bytes never change.
static BUILT: std::sync::Mutex<Vec<(String, std::sync::Arc<Vec<u8>>)>> = std::sync::Mutex::new(Vec::new());
const BUILT_KEPT: usize = 48;

fn built_zip(file: &ArchiveFile, now: i64) -> Option<std::sync::Arc<Vec<u8>>> {
    let key = format!("{:?}/{}", file.market, file.name);
    let lock = || BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, zip)) = lock().iter().find(|(k, _)| *k == key) {
        return Some(std::sync::Arc::clone(zip));
    }
    let zip = std::sync::Arc::new(zip_file(file, now)?);
    let mut built = lock();
    if built.len() >= BUILT_KEPT {
        built.remove(0);
    }
    built.push((key, std::sync::Arc::clone(&zip)));
    Some(zip)
}

/// The zip of one period's candles, aggregate trades or funding rates, or `None` when
/// the period has none.
fn zip_file(file: &ArchiveFile, now: i64) -> Option<Vec<u8>> {
    match file.interval.as_str() {
        "aggTrades" => return agg_trades_zip(file, now),
        "fundingRate" => return funding_zip(file, now),
        _ => {}
    }
    let series = Series::lookup(file.market, &file.symbol, &file.interval).ok()?;
    let candles = series.forward(file.start, file.end - 1, usize::MAX, now);
    if candles.is_empty() {
        return None;
    }
    let micros = file.market == BinanceMarket::Spot && file.start >= SPOT_MICROS_FROM;
    let time = |ms: i64, last: bool| if micros { ms * 1000 + if last { 999 } else { 0 } } else { ms };
    let mut csv = String::with_capacity(candles.len() * 120);
    if file.market == BinanceMarket::UsdM && file.start >= FUTURES_HEADER_FROM {
        csv.push_str(HEADER);
        csv.push('\n');
    }
    let drift = quirks::BINANCE_ARCHIVE_MONTHLY_DRIFT_MS;
    let drifting = !file.daily && (file.start..file.end).contains(&drift);
    let mut after_missing = false;
    for c in &candles {
        let row = series.wire(c);
        if drifting && row.open_time == drift {
            after_missing = true;
            continue; // the missing row
        }
        // The row after it carries another base volume (a digit more).
        let volume =
            if std::mem::take(&mut after_missing) { altered(&row.text[4]) } else { row.text[4].clone() };
        let t = &row.text;
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},0\n",
            time(row.open_time, false),
            t[0],
            t[1],
            t[2],
            t[3],
            volume,
            time(row.close_time, true),
            t[5],
            row.trades,
            t[6],
            t[7]
        ));
    }
    Some(zip_one(&file.name.replace(".zip", ".csv"), csv.as_bytes()))
}

/// A decimal string with one more digit: another value, still a valid decimal.
fn altered(decimal: &str) -> String {
    if decimal.contains('.') {
        format!("{decimal}7")
    } else {
        format!("{decimal}.7")
    }
}

/// The zip of one period's aggregate trades (the REST `aggTrades` stream).
fn agg_trades_zip(file: &ArchiveFile, now: i64) -> Option<Vec<u8>> {
    let def = symbol_def(file.market, &file.symbol)?;
    let stream = trade_stream(file.market, def);
    let aggs = stream.aggs_from(stream.aggs_before(file.start), file.end - 1, usize::MAX, now);
    if aggs.is_empty() {
        return None;
    }
    let spot = file.market == BinanceMarket::Spot;
    let micros = spot && file.start >= SPOT_MICROS_FROM;
    let d = Decimals::of(file.market, def);
    let mut csv = String::with_capacity(aggs.len() * 64);
    if !spot && file.start >= UM_AGG_HEADER_FROM {
        csv.push_str(AGG_HEADER);
        csv.push('\n');
    }
    for a in &aggs {
        let w = wire_agg(&d, &stream, a);
        let time = if micros { w.time * 1000 } else { w.time };
        let (maker, best) = match (spot, w.buyer_maker) {
            (true, m) => (if m { "True" } else { "False" }, ",True"),
            (false, m) => (if m { "true" } else { "false" }, ""),
        };
        csv.push_str(&format!(
            "{},{},{},{},{},{time},{maker}{best}\n",
            w.id, w.price, w.qty, w.first, w.last
        ));
    }
    Some(zip_one(&file.name.replace(".zip", ".csv"), csv.as_bytes()))
}

/// The zip of one month's funding rates (the REST `fundingRate` stream): a header, then
/// `calc_time, funding_interval_hours, last_funding_rate` †.
fn funding_zip(file: &ArchiveFile, now: i64) -> Option<Vec<u8>> {
    let def = symbol_def(file.market, &file.symbol)?;
    let schedule = super::funding::schedule(def);
    let times = schedule.oldest(file.start, file.end - 1, usize::MAX, now);
    if times.is_empty() {
        return None;
    }
    let hours = super::catalog::funding_hours(def.symbol);
    let mut csv = String::from(FUNDING_HEADER);
    csv.push('\n');
    for t in times {
        let w = super::funding::wire(def, &schedule, t);
        csv.push_str(&format!("{},{hours},{}\n", w.time, w.rate));
    }
    Some(zip_one(&file.name.replace(".zip", ".csv"), csv.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_paths_are_parsed_like_binances() {
        let f = parse("spot/monthly/klines/BTCUSDT/1mo/BTCUSDT-1mo-2024-01.zip").unwrap();
        assert_eq!((f.interval.as_str(), f.start, f.daily), ("1M", 1_704_067_200_000, false));
        assert_eq!(f.end, 1_706_745_600_000);
        let d = parse("futures/um/daily/klines/ETHUSDT/1h/ETHUSDT-1h-2023-10-27.zip.CHECKSUM").unwrap();
        assert!(d.checksum && d.daily && d.market == BinanceMarket::UsdM && d.end - d.start == DAY);
        let t = parse("spot/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2024-01-02.zip").unwrap();
        assert_eq!((t.interval.as_str(), t.start, t.daily), ("aggTrades", 1_704_153_600_000, true));
        for bad in [
            "spot/daily/aggTrades/BTCUSDT/1m/BTCUSDT-aggTrades-2024-01-02.zip",
            "spot/daily/klines/BTCUSDT/1w/BTCUSDT-1w-2024-01-01.zip",
            "spot/monthly/klines/BTCUSDT/1M/BTCUSDT-1M-2024-01.zip",
            "spot/monthly/klines/BTCUSDT/1h/ETHUSDT-1h-2024-01.zip",
            "spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2024-13.zip",
            "options/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2024-01.zip",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }
}
