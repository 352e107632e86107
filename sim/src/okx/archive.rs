//! OKX's historical market data (spec `archives.md` †; OKX docs "Get historical market
//! data"): an index endpoint on the API host lists files on a static CDN with no
//! directory listing.
//! - `GET /api/v5/public/market-data-history?module=1&instType=&instIdList=|instFamilyList=
//!   &dateAggrType=daily&begin=&end=` → `data[0].details[].groupDetails[]` with `dateTs`,
//!   `filename`, `sizeMB` and an absolute `url`, newest first; every value a string.
//!   `instIdList` for `SPOT`, `instFamilyList` otherwise (at most 10); `begin`/`end` in
//!   ms, both inclusive, only their UTC+8 date counts; at most 20 days a call (more:
//!   50076 †, seen in a downloader's code); its own budget (5 per 2 s, docs). Trades
//!   (module 1), 1-minute candles (module 2) and funding (module 3) by day are modelled:
//!   other modules and monthly files are 51000.
//! - `GET /cdn/okex/traderecords/trades/daily/{YYYYMMDD}/{INST}-trades-{YYYY-MM-DD}.zip`:
//!   one CSV of the day's trades, no checksum file. **Days are UTC+8 days**: a file starts
//!   at 16:00 UTC the day before its date (docs; a real file starting at 16:01 UTC).
//!   Derivatives files: `instrument_name,trade_id,side,price,size,created_time` (ms, sides
//!   `buy`/`sell`). Spot files keep the older bilingual header and order,
//!   `trade_id/交易id,side/交易方向,size/数量,price/价格,created_time/成交时间` †
//!   (seen in BTC-USDT files; the docs say these headers will go).
//! - `GET /cdn/okex/traderecords/candlesticks/daily/{YYYYMMDD}/{INST}-candlesticks-{YYYY-MM-DD}.zip`
//!   (listed with `?v=999` after the name †): one CSV of the UTC+8 day's 1-minute bars,
//!   `instrument_name,open,high,low,close,vol,vol_ccy,vol_quote,open_time,confirm`, the
//!   values of `history-candles` (`vol` contracts for derivatives and base for spot,
//!   `vol_ccy` base for derivatives and quote for spot, `open_time` in ms). Files before
//!   [`quirks::OKX_CANDLE_ARCHIVE_CONFIRMED_FROM_MS`] say `confirm` 0 on every row †, and
//!   one file repeats a row ([`quirks::OKX_CANDLE_ARCHIVE_REPEATED_ROW_MS`] †). Only 1m
//!   bars are published (the docs name no other size).
//! - `GET /cdn/okex/traderecords/swaprate/monthly/{YYYYMM}/allswaprate-swaprate-{YYYY-MM-DD}.zip`
//!   (module 3, swaps only) †: one CSV per UTC+8 day with the funding events of **every**
//!   swap, the same file whatever family the index was asked for. Five columns †:
//!   instrument, contract type, `funding_rate` (the rate predicted before settlement),
//!   `real_funding_rate` (the settled rate, REST's `realizedRate`) and `funding_time`
//!   (ms). The header is bilingual and GBK-encoded † (spec: "some funding files are
//!   GBK-encoded"; readers open them as latin-1). Sources: third-party downloaders that
//!   name these columns (an `okx_dump` tool: `contract_type, funding_rate,
//!   real_funding_rate, funding_time`; a backtest reading the file as `instId, ctype,
//!   funding_rate, real_funding_rate, funding_time` with `header=0, encoding='latin-1'`).
//! - A day is listed and served two days after its UTC+8 date began (docs: "usually two
//!   days later"; modelled); never for days without trades; and one day is missing from
//!   the index and the CDN ([`quirks::OKX_ARCHIVE_MISSING_DAY_MS`]).
//!
//! † third-party facts, marked so in the spec.

use serde_json::json;

use super::catalog::{instruments, InstType};
use super::market::stream;
use super::OkxError;
use crate::data::calendar::{civil_from_days, days_from_civil};
use crate::data::decimal::fmt_trim;
use crate::data::instrument::Instrument;
use crate::params::Query;
use crate::quirks;
use crate::zip::zip_one;

const DAY: i64 = 86_400_000;
/// UTC+8, the clock of OKX's daily files.
const UTC8_MS: i64 = 8 * 3_600_000;
/// Days one index call may span (docs).
const MAX_DAYS: i64 = 20;
/// Where the trade files live under the host.
pub(crate) const TRADES_PATH: &str = "/cdn/okex/traderecords/trades/daily";
/// Where the candle files live under the host.
pub(crate) const CANDLES_PATH: &str = "/cdn/okex/traderecords/candlesticks/daily";
/// Where the funding files live under the host (in month folders).
pub(crate) const FUNDING_PATH: &str = "/cdn/okex/traderecords/swaprate/monthly";
/// The funding files' header: bilingual, its Chinese in GBK (`合约名称`, `合约类型`,
/// `资金费率`, `真实资金费率`, `资金费时间`).
const FUNDING_HEADER: &[u8] = b"instrument_name/\xba\xcf\xd4\xbc\xc3\xfb\xb3\xc6,contract_type/\xba\xcf\xd4\xbc\xc0\xe0\xd0\xcd,funding_rate/\xd7\xca\xbd\xf0\xb7\xd1\xc2\xca,real_funding_rate/\xd5\xe6\xca\xb5\xd7\xca\xbd\xf0\xb7\xd1\xc2\xca,funding_time/\xd7\xca\xbd\xf0\xb7\xd1\xca\xb1\xbc\xe4\n";

/// What an index call lists (its `module`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Module {
    /// `1`: trades.
    Trades,
    /// `2`: 1-minute candles.
    Candles,
    /// `3`: funding rates (swaps).
    Funding,
}

impl Module {
    fn parse(text: &str) -> Option<Module> {
        match text {
            "1" => Some(Module::Trades),
            "2" => Some(Module::Candles),
            "3" => Some(Module::Funding),
            _ => None,
        }
    }

    /// The word in file names.
    fn word(self) -> &'static str {
        match self {
            Module::Trades => "trades",
            Module::Candles => "candlesticks",
            Module::Funding => "swaprate",
        }
    }

    /// The folder of day `day`'s file: a month folder for funding, a day folder otherwise.
    fn folder(self, day: i64) -> String {
        let (y, m, d) = civil_from_days(day);
        let path = match self {
            Module::Trades => TRADES_PATH,
            Module::Candles => CANDLES_PATH,
            Module::Funding => return format!("{FUNDING_PATH}/{y:04}{m:02}"),
        };
        format!("{path}/{y:04}{m:02}{d:02}")
    }

    /// Whether UTC+8 day `day` of `inst` has rows of this kind.
    fn has_rows(self, inst_type: InstType, inst: &'static Instrument, day: i64, now: i64) -> bool {
        match self {
            Module::Trades => day_count(inst_type, inst, day) > 0,
            Module::Candles => !day_bars(inst_type, inst, day, now).1.is_empty(),
            Module::Funding => !day_funding(inst_type, inst, day, now).is_empty(),
        }
    }
}

/// The UTC+8 day (days since 1970-01-01 on that clock) holding `ms`.
fn utc8_day(ms: i64) -> i64 {
    (ms + UTC8_MS).div_euclid(DAY)
}

/// The first UTC millisecond of UTC+8 day `day`.
fn day_start(day: i64) -> i64 {
    day * DAY - UTC8_MS
}

/// When the file of UTC+8 day `day` is published.
fn published_at(day: i64) -> i64 {
    day_start(day) + 2 * DAY
}

/// The instrument family (`BTC-USDT` for `BTC-USDT-SWAP` and `BTC-USDT-250926`).
fn family(inst: &Instrument) -> String {
    format!("{}-{}", inst.base, inst.quote)
}

fn file_name(module: Module, inst: &Instrument, day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    // One funding file holds every swap.
    let prefix = if module == Module::Funding { "allswaprate" } else { inst.name };
    format!("{prefix}-{}-{y:04}-{m:02}-{d:02}.zip", module.word())
}

/// The funding times of UTC+8 day `day` (none for anything but a swap), oldest first.
fn day_funding(inst_type: InstType, inst: &Instrument, day: i64, now: i64) -> Vec<i64> {
    super::market::schedule(inst_type, inst)
        .map(|s| s.oldest(day_start(day), day_start(day + 1) - 1, usize::MAX, now))
        .unwrap_or_default()
}

/// The 1-minute bars of UTC+8 day `day`, oldest first, with their series.
fn day_bars(
    inst_type: InstType,
    inst: &'static Instrument,
    day: i64,
    now: i64,
) -> (super::catalog::Series, Vec<crate::data::series::RawCandle>) {
    let Some(grid) = super::catalog::grid_of("1m") else { unreachable!("1m is one of OKX's bar sizes") };
    let series = super::catalog::Series { inst, bars: inst.bars(inst_type.market_key(), grid, "1m") };
    let bars = series.bars.newest(day_start(day), day_start(day + 1) - 1, usize::MAX, now);
    (series, bars)
}

/// The trades of UTC+8 day `day`, oldest first.
fn day_trades(inst_type: InstType, inst: &Instrument, day: i64, now: i64) -> Vec<crate::data::trades::Trade> {
    let s = stream(inst_type, inst);
    s.trades_from(s.trades_before(day_start(day)), day_start(day + 1) - 1, usize::MAX, now)
}

/// How many trades UTC+8 day `day` holds (computed, not walked).
fn day_count(inst_type: InstType, inst: &Instrument, day: i64) -> i64 {
    let s = stream(inst_type, inst);
    s.trades_before(day_start(day + 1)) - s.trades_before(day_start(day))
}

/// Whether the file of `day` is out at `now` (and has rows).
fn listed(module: Module, inst_type: InstType, inst: &'static Instrument, day: i64, now: i64) -> bool {
    now >= published_at(day)
        && day_start(day) != quirks::OKX_ARCHIVE_MISSING_DAY_MS
        && module.has_rows(inst_type, inst, day, now)
}

/// The `data` of an index call, with file URLs under `base` (this server).
pub(crate) fn index_handler(ctx: &super::Ctx, base: &str, q: &Query) -> Result<String, OkxError> {
    let now = ctx.now;
    let required = |name: &str| q.text(name).filter(|v| !v.is_empty()).ok_or_else(|| OkxError::empty(name));
    let module = Module::parse(required("module")?).ok_or_else(|| OkxError::param("module"))?;
    let inst_type = match InstType::parse(required("instType")?) {
        Ok(Some(t)) => t,
        Ok(None) => return Ok(empty_index(now)),
        Err(()) => return Err(OkxError::param("instType")),
    };
    if required("dateAggrType")? != "daily" {
        return Err(OkxError::param("dateAggrType"));
    }
    let number = |name: &str| -> Result<i64, OkxError> {
        required(name)?.parse::<i64>().map_err(|_| OkxError::param(name))
    };
    let (first, last) = (utc8_day(number("begin")?), utc8_day(number("end")?));
    if last < first {
        return Err(OkxError::param("end"));
    }
    if last - first >= MAX_DAYS {
        return Err(OkxError {
            status: axum::http::StatusCode::BAD_REQUEST,
            code: 50076,
            msg: "The date range exceeds the limit".to_string(),
        });
    }
    let (list_name, names) = if inst_type == InstType::Spot {
        ("instIdList", q.text("instIdList"))
    } else {
        ("instFamilyList", q.text("instFamilyList"))
    };
    let names: Vec<&str> = names.ok_or_else(|| OkxError::empty(list_name))?.split(',').collect();
    if names.len() > 10 {
        return Err(OkxError::param(list_name));
    }
    let wanted = |i: &Instrument| {
        let key = if inst_type == InstType::Spot { i.name.to_string() } else { family(i) };
        names.contains(&key.as_str())
    };
    let mut details = Vec::new();
    let mut total = 0.0;
    for inst in instruments(inst_type).iter().filter(|i| wanted(i)) {
        let mut group = Vec::new();
        let mut group_mb = 0.0;
        for day in (first..=last).rev().filter(|d| listed(module, inst_type, inst, *d, now)) {
            let name = file_name(module, inst, day);
            // An estimate (the file is built when it is downloaded): ~40 bytes a trade,
            // ~100 a candle.
            let mb = match module {
                Module::Trades => day_count(inst_type, inst, day) as f64 * 40.0 / 1e6,
                Module::Candles => 1440.0 * 100.0 / 1e6,
                Module::Funding => 0.01,
            };
            // Candle files are listed with a version query after the name †.
            let version = if module == Module::Candles { "?v=999" } else { "" };
            group_mb += mb;
            group.push(json!({
                "dateTs": day_start(day).to_string(),
                "filename": name,
                "sizeMB": format!("{mb:.2}"),
                "url": format!("{base}{}/{name}{version}", module.folder(day)),
            }));
        }
        if group.is_empty() {
            continue;
        }
        total += group_mb;
        let spot = inst_type == InstType::Spot;
        details.push(json!({
            "instType": inst_type.name(),
            "instId": if spot { inst.name.to_string() } else { String::new() },
            "instFamily": if spot { String::new() } else { family(inst) },
            "dateRangeStart": day_start(first).to_string(),
            "dateRangeEnd": day_start(last).to_string(),
            "groupSizeMB": format!("{group_mb:.2}"),
            "groupDetails": group,
        }));
    }
    Ok(json!([{
        "dateAggrType": "daily",
        "totalSizeMB": format!("{total:.2}"),
        "ts": now.to_string(),
        "details": details,
    }])
    .to_string())
}

fn empty_index(now: i64) -> String {
    json!([{ "dateAggrType": "daily", "totalSizeMB": "0", "ts": now.to_string(), "details": [] }]).to_string()
}

/// The trade zip at `path` (after `/cdn/okex/traderecords/trades/daily/`), or `None`
/// (404).
pub(crate) fn serve_file(path: &str, now: i64) -> Option<Vec<u8>> {
    let (inst_type, inst, day, name) = find_file(Module::Trades, path, now)?;
    let trades = day_trades(inst_type, inst, day, now);
    let mut csv = String::with_capacity(trades.len() * 64);
    if inst_type == InstType::Spot {
        csv.push_str("trade_id/交易id,side/交易方向,size/数量,price/价格,created_time/成交时间\n");
    } else {
        csv.push_str("instrument_name,trade_id,side,price,size,created_time\n");
    }
    for t in &trades {
        let side = if t.buyer_maker { "sell" } else { "buy" };
        let (price, size) = (inst.price_text(t.price), inst.qty_text(t.qty));
        if inst_type == InstType::Spot {
            csv.push_str(&format!("{},{side},{size},{price},{}\n", t.index, t.time));
        } else {
            csv.push_str(&format!("{},{},{side},{price},{size},{}\n", inst.name, t.index, t.time));
        }
    }
    Some(zip_one(&name.replace(".zip", ".csv"), csv.as_bytes()))
}

/// The candle zip at `path` (after `/cdn/okex/traderecords/candlesticks/daily/`), or
/// `None` (404).
pub(crate) fn serve_candles(path: &str, now: i64) -> Option<Vec<u8>> {
    let (inst_type, inst, day, name) = find_file(Module::Candles, path, now)?;
    let (series, bars) = day_bars(inst_type, inst, day, now);
    let confirmed = day_start(day) >= quirks::OKX_CANDLE_ARCHIVE_CONFIRMED_FROM_MS;
    let mut csv =
        String::from("instrument_name,open,high,low,close,vol,vol_ccy,vol_quote,open_time,confirm\n");
    for bar in &bars {
        let [ts, o, h, l, c, vol, vol_ccy, vol_quote, confirm] = series.row(bar, now);
        let confirm = if confirmed { confirm.as_str() } else { "0" };
        let line = format!("{},{o},{h},{l},{c},{vol},{vol_ccy},{vol_quote},{ts},{confirm}\n", inst.name);
        csv.push_str(&line);
        if bar.open_time == quirks::OKX_CANDLE_ARCHIVE_REPEATED_ROW_MS {
            csv.push_str(&line);
        }
    }
    Some(zip_one(&name.replace(".zip", ".csv"), csv.as_bytes()))
}

/// The funding zip at `path` (after `/cdn/okex/traderecords/swaprate/monthly/`): every
/// swap's events of the UTC+8 day, or `None` (404).
pub(crate) fn serve_funding(path: &str, now: i64) -> Option<Vec<u8>> {
    let (prefix, day, name) = file_at(Module::Funding, path)?;
    let swaps = instruments(InstType::Swap);
    if prefix != "allswaprate" || !swaps.iter().any(|i| listed(Module::Funding, InstType::Swap, i, day, now))
    {
        return None;
    }
    let mut csv = FUNDING_HEADER.to_vec();
    for inst in swaps {
        let Some(schedule) = super::market::schedule(InstType::Swap, inst) else { continue };
        for t in day_funding(InstType::Swap, inst, day, now) {
            let predicted = fmt_trim(i128::from(schedule.predicted_rate(t)), 8);
            let settled = fmt_trim(i128::from(schedule.rate(t)), 8);
            csv.extend_from_slice(format!("{},linear,{predicted},{settled},{t}\n", inst.name).as_bytes());
        }
    }
    Some(zip_one(&name.replace(".zip", ".csv"), &csv))
}

/// The instrument, UTC+8 day and file name of a published file at `path`
/// (`YYYYMMDD/INST-word-YYYY-MM-DD.zip`).
fn find_file(module: Module, path: &str, now: i64) -> Option<(InstType, &'static Instrument, i64, String)> {
    let (inst_id, day, name) = file_at(module, path)?;
    let (inst_type, inst) = super::catalog::instrument(None, inst_id)?;
    listed(module, inst_type, inst, day, now).then_some((inst_type, inst, day, name))
}

/// The name prefix (an instrument, or `allswaprate`), UTC+8 day and file name of
/// `FOLDER/PREFIX-word-YYYY-MM-DD.zip`, its folder the module's for that day.
fn file_at(module: Module, path: &str) -> Option<(&str, i64, String)> {
    let (folder, name) = path.rsplit_once('/')?;
    let stem = name.strip_suffix(".zip")?;
    let (prefix, date) = stem.rsplit_once(&format!("-{}-", module.word()))?;
    let parts: Vec<&str> = date.split('-').collect();
    let [y, m, d] = parts.as_slice() else { return None };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d) = (y.parse::<i64>().ok()?, m.parse::<u32>().ok()?, d.parse::<u32>().ok()?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let day = days_from_civil(y, m, d);
    let expected = module.folder(day);
    (expected.rsplit('/').next() == Some(folder)).then(|| (prefix, day, name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_utc8_days() {
        // 2024-01-02 on the UTC+8 clock starts at 2024-01-01 16:00 UTC.
        let day = days_from_civil(2024, 1, 2);
        assert_eq!(day_start(day), 1_704_124_800_000);
        assert_eq!(utc8_day(1_704_124_800_000), day);
        assert_eq!(utc8_day(1_704_124_800_000 - 1), day - 1);
    }
}
