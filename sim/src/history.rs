//! Trades, funding and order books the simulated exchanges hold, computed
//! without HTTP: the oracle functions tests compare fetched data against.
//! Every `f64` is the wire text parsed, as for candles.

use crate::binance::catalog::{symbol_def, trade_stream, BinanceMarket, Decimals, SymbolDef};
use crate::binance::{depth, funding, trades};
use crate::data::calendar::MAX_TIME;
use crate::data::decimal::{fmt_trim, parse_f64};
use crate::data::funding::FundingSchedule;
use crate::data::instrument::Instrument;
use crate::data::trades::TradeStream;
use crate::venue::Venue;
use crate::{bybit, deribit, okx};

/// One trade as a client parses it.
#[derive(Clone, Debug, PartialEq)]
pub struct SimTrade {
    /// Trade id: Binance `id`, Bybit `seq`, OKX `tradeId`, Deribit `trade_seq`
    /// (ids increase by one per trade on every venue).
    pub id: i64,
    /// Time, ms.
    pub time: i64,
    /// Price.
    pub price: f64,
    /// The venue's size field: Binance `qty` (base), Bybit `size` (base;
    /// inverse: USD contracts), OKX `sz` (base; derivatives: contracts),
    /// Deribit `amount` (USD for inverse, base otherwise).
    pub qty: f64,
    /// Whether the buyer was the maker (the taker sold: Bybit `Sell`, OKX
    /// and Deribit `sell`).
    pub buyer_maker: bool,
}

/// One Binance aggregate trade as a client parses it.
#[derive(Clone, Debug, PartialEq)]
pub struct SimAggTrade {
    /// `a`.
    pub id: i64,
    /// `f`.
    pub first_trade_id: i64,
    /// `l`.
    pub last_trade_id: i64,
    /// `T`, ms.
    pub time: i64,
    /// `p`.
    pub price: f64,
    /// `q`: the sum of its trades' quantities.
    pub qty: f64,
    /// `m`.
    pub buyer_maker: bool,
}

/// One funding row as a client parses it.
#[derive(Clone, Debug, PartialEq)]
pub struct SimFunding {
    /// Funding time, ms.
    pub time: i64,
    /// Binance/Bybit `fundingRate`, OKX `fundingRate` (the predicted
    /// rate), Deribit `interest_8h`.
    pub rate: f64,
    /// OKX `realizedRate` (the settled rate); `None` elsewhere.
    pub realized_rate: Option<f64>,
    /// Binance `markPrice`, Deribit `index_price`; `None` elsewhere.
    pub mark_price: Option<f64>,
}

/// One order-book snapshot as a client parses it: `(price, size)` levels,
/// best first; sizes as the venue sends them (see [`SimTrade::qty`]).
#[derive(Clone, Debug, PartialEq)]
pub struct SimBook {
    /// Snapshot time, ms (the simulated now).
    pub time: i64,
    /// Update id (Binance `lastUpdateId`, Bybit `u`, Deribit `change_id`).
    pub update_id: i64,
    /// Bids, highest first.
    pub bids: Vec<(f64, f64)>,
    /// Asks, lowest first.
    pub asks: Vec<(f64, f64)>,
}

/// A Binance symbol, or `"Invalid symbol."`.
fn binance_def(market: BinanceMarket, symbol: &str) -> Result<&'static SymbolDef, String> {
    symbol_def(market, symbol).ok_or_else(|| "Invalid symbol.".to_string())
}

/// Every Binance trade with time in `[start, end)` at `now_ms`, oldest
/// first (no retention limit applied: UM `historicalTrades` serves only
/// the last three months of these). No trades in the hours of the 2020-02-19
/// maintenance gap, nor while the relisted `FTTUSDT` was delisted; trading
/// starts at the first whole hour after the (true, first) listing.
pub fn binance_trades(
    market: BinanceMarket,
    symbol: &str,
    start: i64,
    end: i64,
    now_ms: i64,
) -> Result<Vec<SimTrade>, String> {
    let def = binance_def(market, symbol)?;
    let s = trade_stream(market, def);
    let d = Decimals::of(market, def);
    Ok(in_range(&s, start, end, now_ms)
        .iter()
        .map(|t| {
            let w = trades::wire_trade(&d, t);
            SimTrade {
                id: w.id,
                time: w.time,
                price: parse_f64(&w.price),
                qty: parse_f64(&w.qty),
                buyer_maker: w.buyer_maker,
            }
        })
        .collect())
}

/// Every Binance aggregate trade with time in `[start, end)` at `now_ms`,
/// oldest first (no retention limit applied: UM serves the last year).
pub fn binance_agg_trades(
    market: BinanceMarket,
    symbol: &str,
    start: i64,
    end: i64,
    now_ms: i64,
) -> Result<Vec<SimAggTrade>, String> {
    let def = binance_def(market, symbol)?;
    let s = trade_stream(market, def);
    let d = Decimals::of(market, def);
    if end <= start {
        return Ok(Vec::new());
    }
    Ok(s.aggs_from(s.aggs_before(start), end - 1, usize::MAX, now_ms)
        .iter()
        .map(|a| {
            let w = trades::wire_agg(&d, &s, a);
            SimAggTrade {
                id: w.id,
                first_trade_id: w.first,
                last_trade_id: w.last,
                time: w.time,
                price: parse_f64(&w.price),
                qty: parse_f64(&w.qty),
                buyer_maker: w.buyer_maker,
            }
        })
        .collect())
}

/// Every USDⓈ-M funding row of `symbol` with time in `[start, end)` at
/// `now_ms`, oldest first (`BTCUSDT` every 8 h, `ETHUSDT` 4 h, `SOLUSDT` 1 h,
/// the others 8 h; none while `FTTUSDT` was delisted).
pub fn binance_funding(symbol: &str, start: i64, end: i64, now_ms: i64) -> Result<Vec<SimFunding>, String> {
    let def = binance_def(BinanceMarket::UsdM, symbol)?;
    let s = funding::schedule(def);
    Ok(s.oldest(start, end - 1, usize::MAX, now_ms)
        .into_iter()
        .map(|t| {
            let w = funding::wire(def, &s, t);
            SimFunding {
                time: t,
                rate: parse_f64(&w.rate),
                realized_rate: None,
                mark_price: Some(parse_f64(&w.mark_price)),
            }
        })
        .collect())
}

/// The Binance book of `symbol` at `now_ms`, `depth` levels per side.
pub fn binance_book(
    market: BinanceMarket,
    symbol: &str,
    depth: usize,
    now_ms: i64,
) -> Result<SimBook, String> {
    let def = binance_def(market, symbol)?;
    let b = depth::snapshot(market, def, depth, now_ms);
    let d = Decimals::of(market, def);
    let side =
        |v: &[(i64, i64)]| v.iter().map(|&(p, q)| (parse_f64(&d.price(p)), parse_f64(&d.qty(q)))).collect();
    Ok(SimBook { time: b.time, update_id: b.update_id, bids: side(&b.bids), asks: side(&b.asks) })
}

/// The trades of `[start, end)` (and ≤ `now`), oldest first.
fn in_range(s: &TradeStream, start: i64, end: i64, now: i64) -> Vec<crate::data::trades::Trade> {
    if end <= start {
        return Vec::new();
    }
    s.trades_from(s.trades_before(start.clamp(0, MAX_TIME)), end - 1, usize::MAX, now)
}

/// How a venue prints an instrument's sizes.
#[derive(Clone, Copy)]
enum Sizes {
    /// Quantity units as they are (Bybit, OKX).
    Plain,
    /// Deribit `amount`.
    Deribit,
}

/// A venue's instrument, its model key, and how it prints sizes.
fn venue_instrument(
    venue: Venue,
    symbol: &str,
) -> Result<(&'static Instrument, &'static str, Sizes), String> {
    use bybit::catalog::Category;
    use okx::catalog::InstType;
    let bybit = |c: Category| {
        bybit::catalog::instrument(c, symbol)
            .map(|i| (i, c.market_key(), Sizes::Plain))
            .ok_or_else(|| "Not supported symbols".to_string())
    };
    let okx = |t: InstType| {
        okx::catalog::instrument(Some(t), symbol)
            .map(|(t, i)| (i, t.market_key(), Sizes::Plain))
            .ok_or_else(|| "Instrument ID does not exist".to_string())
    };
    match venue {
        Venue::BybitSpot => bybit(Category::Spot),
        Venue::BybitLinear => bybit(Category::Linear),
        Venue::BybitInverse => bybit(Category::Inverse),
        Venue::OkxSpot => okx(InstType::Spot),
        Venue::OkxSwap => okx(InstType::Swap),
        Venue::OkxFutures => okx(InstType::Futures),
        Venue::Deribit => deribit::catalog::defs()
            .iter()
            .find(|d| d.inst.name == symbol)
            .map(|d| (&d.inst, "deribit", Sizes::Deribit))
            .ok_or_else(|| "not_found".to_string()),
    }
}

/// A size as the venue prints it.
fn size_text(inst: &Instrument, sizes: Sizes, qty: i64) -> String {
    match sizes {
        Sizes::Plain => inst.qty_text(qty),
        Sizes::Deribit => deribit::market::amount_text(inst, qty),
    }
}

/// Every trade of a venue's instrument with time in `[start, end)` at
/// `now_ms`, oldest first (no retention applied: Bybit serves only the
/// newest 1000 (spot 60), OKX's history the last three months). No trades
/// in quiet windows or after expiry; trading starts at the first whole
/// hour after the true listing (the late-listed perpetuals of
/// [`crate::quirks`] trade 30 days before their published listing).
/// Deribit's `XRP_USDC-PERPETUAL` includes the burst of 2,500 trades at
/// [`crate::quirks::DERIBIT_BURST_MS`]; `id` is the `trade_seq`.
pub fn venue_trades(
    venue: Venue,
    symbol: &str,
    start: i64,
    end: i64,
    now_ms: i64,
) -> Result<Vec<SimTrade>, String> {
    let (inst, key, sizes) = venue_instrument(venue, symbol)?;
    let s = inst.trades(key);
    Ok(in_range(&s, start, end, now_ms)
        .iter()
        .map(|t| SimTrade {
            id: t.index,
            time: t.time,
            price: parse_f64(&inst.price_text(t.price)),
            qty: parse_f64(&size_text(inst, sizes, t.qty)),
            buyer_maker: t.buyer_maker,
        })
        .collect())
}

/// The funding schedule of a venue's instrument, if it pays funding.
fn venue_schedule(venue: Venue, inst: &'static Instrument, key: &str) -> Option<FundingSchedule> {
    match venue {
        Venue::OkxSwap => okx::market::schedule(okx::catalog::InstType::Swap, inst),
        Venue::Deribit => deribit::market::schedule(inst),
        _ => inst.funding(key, &[]),
    }
}

/// Every funding row of a venue's perpetual with time in `[start, end)`
/// at `now_ms`, oldest first (empty for spot and dated futures; no
/// retention applied). Intervals: Bybit `BTCUSDT`/`BTCUSD`/`SOLUSDT` 8 h,
/// `ETHUSDT` 4 h, `ETHUSD` 1 h; OKX swaps 8 h, except `ETH-USDT-SWAP` every
/// 4 h from 2024-01-01; Deribit perpetuals every hour. Funding starts after
/// the true listing (also for the late-listed perpetuals of
/// [`crate::quirks`]).
pub fn venue_funding(
    venue: Venue,
    symbol: &str,
    start: i64,
    end: i64,
    now_ms: i64,
) -> Result<Vec<SimFunding>, String> {
    let (inst, key, _) = venue_instrument(venue, symbol)?;
    let Some(s) = venue_schedule(venue, inst, key) else {
        return Ok(Vec::new());
    };
    let spec = inst.spec(key);
    Ok(s.oldest(start, end - 1, usize::MAX, now_ms)
        .into_iter()
        .map(|t| {
            let settled = parse_f64(&fmt_trim(i128::from(s.rate(t)), 8));
            match venue {
                Venue::OkxSwap => SimFunding {
                    time: t,
                    rate: parse_f64(&fmt_trim(i128::from(s.predicted_rate(t)), 8)),
                    realized_rate: Some(settled),
                    mark_price: None,
                },
                Venue::Deribit => SimFunding {
                    time: t,
                    rate: settled,
                    realized_rate: None,
                    mark_price: Some(parse_f64(&inst.price_text(spec.price_at(t)))),
                },
                _ => SimFunding { time: t, rate: settled, realized_rate: None, mark_price: None },
            }
        })
        .collect())
}

/// The book of a venue's instrument at `now_ms`, `depth` levels per side.
pub fn venue_book(venue: Venue, symbol: &str, depth: usize, now_ms: i64) -> Result<SimBook, String> {
    let (inst, key, sizes) = venue_instrument(venue, symbol)?;
    let b = inst.book(key, depth, now_ms);
    let side = |v: &[(i64, i64)]| -> Vec<(f64, f64)> {
        v.iter()
            .map(|&(p, q)| (parse_f64(&inst.price_text(p)), parse_f64(&size_text(inst, sizes, q))))
            .collect()
    };
    Ok(SimBook { time: b.time, update_id: b.update_id, bids: side(&b.bids), asks: side(&b.asks) })
}
