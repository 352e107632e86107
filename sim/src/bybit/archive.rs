//! Bybit's public trade archive (public.bybit.com †), served beside the REST endpoints:
//! - derivatives (linear and inverse): `GET /trading/{SYMBOL}/{SYMBOL}{YYYY-MM-DD}.csv.gz`,
//!   a header line, then `timestamp, symbol, side, size, price, tickDirection,
//!   trdMatchID, grossValue, homeNotional, foreignNotional` (files from
//!   [`RPI_FROM_MS`] add a last `RPI` column);
//! - spot: `GET /spot/{SYMBOL}/{SYMBOL}_{YYYY-MM-DD}.csv.gz`, a header line, then
//!   `id, timestamp, price, volume, side`.
//!
//! Written from `spec/archives.md`, with the traps that break clients:
//! - derivatives timestamps are **seconds with four decimals** (`1755648000.1385`): the
//!   millisecond is the first three decimals (REST's `time`), the fourth is finer:
//!   rounded to the millisecond, `….1385` is a millisecond late. Truncate;
//! - `trdMatchID` is a UUID: the same `execId` REST's `recent-trade` gives the trade;
//! - sides are `Buy`/`Sell` in derivatives files, `buy`/`sell` in spot files †;
//! - the spot `id` counts the day's trades from 1 † (not REST's `execId`);
//! - gzip with no published checksum: the gzip CRC-32 is all a client can check;
//! - one file per UTC day, published the next day (modelled: 08:00 UTC †); 404 before
//!   that, for days without trades, and for the missing day
//!   ([`quirks::BYBIT_ARCHIVE_MISSING_DAY_MS`]).
//!
//! † third-party facts, marked so in the spec.

use std::io::Write as _;

use flate2::write::GzEncoder;
use flate2::Compression;

use super::catalog::{instrument, Category};
use super::market::exec_id;
use crate::data::calendar::days_from_civil;
use crate::data::instrument::Instrument;
use crate::data::trades::Trade;
use crate::quirks;

const DAY: i64 = 86_400_000;
/// Derivatives files from 2025-01-01 on carry an `RPI` column (modelled date; the spec
/// says only "newer files").
const RPI_FROM_MS: i64 = 1_735_689_600_000;
const DERIVATIVES_HEADER: &str =
    "timestamp,symbol,side,size,price,tickDirection,trdMatchID,grossValue,homeNotional,foreignNotional";
const SPOT_HEADER: &str = "id,timestamp,price,volume,side";

/// What an archive path asks for.
#[derive(Clone, Copy)]
struct DayFile {
    category: Category,
    inst: &'static Instrument,
    /// The day's first millisecond.
    start: i64,
}

/// The file a path (after the leading `/`) names, if it is one of Bybit's trade files.
fn parse(path: &str) -> Option<DayFile> {
    let (folder, symbol, file) = match path.split('/').collect::<Vec<_>>().as_slice() {
        [folder, symbol, file] => (*folder, *symbol, *file),
        _ => return None,
    };
    let stem = file.strip_suffix(".csv.gz")?;
    let (category, date) = match folder {
        "spot" => (Category::Spot, stem.strip_prefix(symbol)?.strip_prefix('_')?),
        "trading" => {
            let category = if instrument(Category::Linear, symbol).is_some() {
                Category::Linear
            } else {
                Category::Inverse
            };
            (category, stem.strip_prefix(symbol)?)
        }
        _ => return None,
    };
    let inst = instrument(category, symbol)?;
    let parts: Vec<&str> = date.split('-').collect();
    let [y, m, d] = parts.as_slice() else { return None };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d) = (y.parse::<i64>().ok()?, m.parse::<u32>().ok()?, d.parse::<u32>().ok()?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    Some(DayFile { category, inst, start: days_from_civil(y, m, d) * DAY })
}

/// When the file of the day starting at `start` is published.
fn published_at(start: i64) -> i64 {
    start + DAY + 8 * 3_600_000
}

/// The body for an archive path (after the leading `/`) at simulated `now`:
/// `Some(gzip bytes)`, or `None` for 404.
pub(crate) fn serve(path: &str, now: i64) -> Option<Vec<u8>> {
    let file = parse(path)?;
    if now < published_at(file.start) || file.start == quirks::BYBIT_ARCHIVE_MISSING_DAY_MS {
        return None;
    }
    let stream = file.inst.trades(file.category.market_key());
    let trades = stream.trades_from(stream.trades_before(file.start), file.start + DAY - 1, usize::MAX, now);
    if trades.is_empty() {
        return None;
    }
    let csv = match file.category {
        Category::Spot => spot_csv(file.inst, &trades),
        Category::Linear | Category::Inverse => derivatives_csv(&file, &trades),
    };
    let mut gz = GzEncoder::new(Vec::with_capacity(csv.len() / 4), Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = gz.write_all(csv.as_bytes());
    gz.finish().ok()
}

fn spot_csv(inst: &Instrument, trades: &[Trade]) -> String {
    let mut csv = String::with_capacity(trades.len() * 48);
    csv.push_str(SPOT_HEADER);
    csv.push('\n');
    for (n, t) in trades.iter().enumerate() {
        let side = if t.buyer_maker { "sell" } else { "buy" };
        csv.push_str(&format!(
            "{},{},{},{},{side}\n",
            n + 1,
            t.time,
            inst.price_text(t.price),
            inst.qty_text(t.qty)
        ));
    }
    csv
}

fn derivatives_csv(file: &DayFile, trades: &[Trade]) -> String {
    let inst = file.inst;
    let rpi = file.start >= RPI_FROM_MS;
    let mut csv = String::with_capacity(trades.len() * 160);
    csv.push_str(DERIVATIVES_HEADER);
    csv.push_str(if rpi { ",RPI\n" } else { "\n" });
    let mut previous: Option<(i64, &str)> = None;
    for t in trades {
        let tick = match previous {
            Some((p, _)) if t.price > p => "PlusTick",
            Some((p, _)) if t.price < p => "MinusTick",
            Some((_, "MinusTick" | "ZeroMinusTick")) => "ZeroMinusTick",
            _ => "ZeroPlusTick",
        };
        previous = Some((t.price, tick));
        let price = inst.price_text(t.price).parse::<f64>().unwrap_or(0.0);
        let size = inst.qty_text(t.qty).parse::<f64>().unwrap_or(0.0);
        // Inverse sizes are USD contracts: the coin side is size / price.
        let (home, foreign) =
            if file.category == Category::Inverse { (size, size / price) } else { (size, size * price) };
        let gross = (foreign * 1e8).round();
        csv.push_str(&format!(
            "{}.{:03}{},{},{},{},{},{tick},{},{gross},{home},{foreign}{}\n",
            t.time.div_euclid(1000),
            t.time.rem_euclid(1000),
            t.index.rem_euclid(10),
            inst.name,
            if t.buyer_maker { "Sell" } else { "Buy" },
            inst.qty_text(t.qty),
            inst.price_text(t.price),
            exec_id(inst, t.index),
            if rpi { ",0" } else { "" },
        ));
    }
    csv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_parsed_like_bybits() {
        let f = parse("trading/BTCUSDT/BTCUSDT2024-01-02.csv.gz").unwrap();
        assert_eq!((f.category, f.inst.name, f.start), (Category::Linear, "BTCUSDT", 1_704_153_600_000));
        let f = parse("trading/BTCUSD/BTCUSD2024-01-02.csv.gz").unwrap();
        assert_eq!(f.category, Category::Inverse);
        let f = parse("spot/BTCUSDT/BTCUSDT_2024-01-02.csv.gz").unwrap();
        assert_eq!(f.category, Category::Spot);
        for bad in [
            "trading/BTCUSDT/BTCUSDT_2024-01-02.csv.gz",
            "spot/BTCUSDT/BTCUSDT2024-01-02.csv.gz",
            "trading/BTCUSDT/ETHUSDT2024-01-02.csv.gz",
            "trading/NOPEUSDT/NOPEUSDT2024-01-02.csv.gz",
            "trading/BTCUSDT/BTCUSDT2024-13-02.csv.gz",
            "trading/BTCUSDT/BTCUSDT2024-01-02.csv",
            "trading/BTCUSDT/2024/BTCUSDT2024-01-02.csv.gz",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }
}
