//! The one binary segment encoding shared by every byte-storing tier and every language.
//!
//! ```text
//! magic "CCSG" | version u8 | flags u8 | exchange u8 | market u8 | kind u8
//! interval (len-prefixed utf8) | symbol (len-prefixed utf8) | source (len-prefixed utf8)
//! segment index, fetched_at, [expires_at]   zigzag varints
//! [covered start, covered end]              zigzag varints from the span's start; version 3 only
//! candle count                              varint
//! presence bitmap                           SEGMENT_SLOTS bits (omitted when empty)
//! [open-time offsets from slot start]       zigzag varints, only if some candle is off-grid
//! prices: mode u8 [scale u8]                per candle: Δopen (vs previous close), Δclose
//!                                           (vs open), high − max(o,c), min(o,c) − low
//! volume, quote volume: mode u8 [scale u8]  one zigzag varint per candle
//! [trades]                                  varint per candle, if the exchange reports them
//! crc32 (LE) of everything above
//! ```
//! A whole segment is version 2; a partial one (holding only the rows of `covered`, a
//! part of its span) is version 3, so a decoder that predates partial segments refuses
//! it (a corrupt value: refetched) instead of taking it for a whole one.
//! Flags: 1 trade counts present, 2 off-grid open times, 4 `expires_at` present, 8 the
//! rows came from the exchange's archive files (the segment's origin; unset = its API).
//! Timestamps are implied by the segment start plus the bitmap, so a gap costs one bit.
//! Decimal columns are stored as integers at the smallest power-of-ten scale that gives
//! back every `f64` bit for bit; a column where that fails is stored raw. Decoding is
//! therefore exact: what the exchange sent is what every language reads.

use std::sync::Arc;

use crate::candles::CandleColumns;
use crate::funding::FundingColumns;
use crate::model::{DataKind, TimeRange};
use crate::segment::{Origin, Payload, Segment, SegmentKey, SEGMENT_SLOTS};
use crate::table::Table;
use crate::trades::{Side, TradeColumns};

/// Version of this format; part of every key, so a format change never reads old bytes.
/// Version 2 added the source namespace (version-1 values are never read: their keys and
/// directories differ, and a decoder refuses any other version).
pub const FORMAT_VERSION: u8 = 2;
/// The version byte of a partial segment's value (same keys as [`FORMAT_VERSION`]).
const PARTIAL_VERSION: u8 = 3;
/// Every flag a decoder knows: a value with any other is refused.
const KNOWN_FLAGS: u8 = FLAG_TRADES | FLAG_OFF_GRID | FLAG_EXPIRES | FLAG_ARCHIVE;
const MAGIC: &[u8; 4] = b"CCSG";
const FLAG_TRADES: u8 = 1;
const FLAG_OFF_GRID: u8 = 2;
const FLAG_EXPIRES: u8 = 4;
/// The rows came from the exchange's bulk archive files, not its API.
const FLAG_ARCHIVE: u8 = 8;
const MODE_SCALED: u8 = 0;
const MODE_RAW: u8 = 1;
const MAX_SCALE: usize = 15;
const POW10: [f64; MAX_SCALE + 1] =
    [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
const BITMAP_BYTES: usize = (SEGMENT_SLOTS as usize).div_ceil(8);
/// Most rows a segment may hold (an hour of trades on the busiest market is far less).
const MAX_ROWS: usize = 50_000_000;

/// Why bytes could not be decoded. Tiers turn it into a counted miss.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("corrupt segment: {0}")]
pub struct CorruptSegment(pub String);

fn corrupt(what: impl Into<String>) -> CorruptSegment {
    CorruptSegment(what.into())
}

/// Encodes a segment. Infallible: every `f64` has a (raw) representation.
pub fn encode(segment: &Segment) -> Vec<u8> {
    let key = &segment.key;
    let mut flags = 0;
    if segment.expires_at.is_some() {
        flags |= FLAG_EXPIRES;
    }
    if segment.origin == Origin::Archive {
        flags |= FLAG_ARCHIVE;
    }
    let mut body = Vec::with_capacity(64 + segment.payload.len() * 24);
    match &segment.payload {
        Payload::Candles(cols) => flags |= encode_candles(&mut body, key, cols),
        Payload::Trades(trades) => encode_trades(&mut body, key, trades),
        Payload::Funding(funding) => encode_funding(&mut body, key, funding),
    }
    let mut out = Vec::with_capacity(64 + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[
        if segment.partial.is_some() { PARTIAL_VERSION } else { FORMAT_VERSION },
        flags,
        key.series.exchange.tag(),
        key.series.market.tag(),
        key.series.kind.tag(),
    ]);
    put_str(&mut out, &key.series.interval.to_string());
    put_str(&mut out, &key.series.symbol);
    put_str(&mut out, &key.series.source);
    put_signed(&mut out, key.index);
    put_signed(&mut out, segment.fetched_at);
    if let Some(t) = segment.expires_at {
        put_signed(&mut out, t);
    }
    if let Some(covered) = segment.partial {
        let start = key.span().start;
        put_signed(&mut out, covered.start - start);
        put_signed(&mut out, covered.end - start);
    }
    put_varint(&mut out, segment.payload.len() as u64);
    out.extend_from_slice(&body);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Writes the candle body; returns the flags it needs.
fn encode_candles(out: &mut Vec<u8>, key: &SegmentKey, cols: &CandleColumns) -> u8 {
    let iv = key.series.interval;
    let first_slot = key.index * SEGMENT_SLOTS;
    let slots: Vec<i64> = cols.open_time.iter().map(|&t| iv.slot_of(t) - first_slot).collect();
    let off_grid = cols.open_time.iter().zip(&slots).any(|(&t, &s)| t != iv.slot_start(first_slot + s));
    let mut flags = 0;
    if cols.trades.is_some() {
        flags |= FLAG_TRADES;
    }
    if off_grid {
        flags |= FLAG_OFF_GRID;
    }
    if cols.is_empty() {
        return flags;
    }
    let mut bitmap = [0u8; BITMAP_BYTES];
    for &s in &slots {
        // Candles outside the span are dropped by `normalize` before a segment is built.
        let s = s.clamp(0, SEGMENT_SLOTS - 1) as usize;
        bitmap[s / 8] |= 1 << (s % 8);
    }
    out.extend_from_slice(&bitmap);
    if off_grid {
        for (&t, &s) in cols.open_time.iter().zip(&slots) {
            put_signed(out, t - iv.slot_start(first_slot + s));
        }
    }
    encode_prices(out, cols);
    encode_column(out, &cols.volume, false);
    encode_column(out, &cols.quote_volume, false);
    if let Some(trades) = &cols.trades {
        for &t in trades {
            put_varint(out, t);
        }
    }
    flags
}

/// Trades: Δtime (vs previous, the first vs the span start), Δid, Δprice, quantity,
/// then one bit per trade for the taker side (1 = sell).
fn encode_trades(out: &mut Vec<u8>, key: &SegmentKey, t: &TradeColumns) {
    if t.is_empty() {
        return;
    }
    put_deltas(out, &t.time, key.span().start);
    put_deltas(out, &t.id, 0);
    encode_column(out, &t.price, true);
    encode_column(out, &t.quantity, false);
    let mut bits = vec![0u8; t.len().div_ceil(8)];
    for (i, side) in t.side.iter().enumerate() {
        if *side == Side::Sell {
            bits[i / 8] |= 1 << (i % 8);
        }
    }
    out.extend_from_slice(&bits);
}

/// Funding: Δtime, then the rates.
fn encode_funding(out: &mut Vec<u8>, key: &SegmentKey, f: &FundingColumns) {
    if f.is_empty() {
        return;
    }
    put_deltas(out, &f.time, key.span().start);
    encode_column(out, &f.rate, false);
}

/// Decodes bytes stored for `key`, checking magic, version, checksum, length and that
/// the bytes describe exactly this segment (a misplaced value is corrupt too).
pub fn decode(key: &SegmentKey, bytes: &[u8]) -> Result<Segment, CorruptSegment> {
    if bytes.len() < MAGIC.len() + 5 + 4 {
        return Err(corrupt(format!("{} bytes is too short", bytes.len())));
    }
    let (body, crc) = bytes.split_at(bytes.len() - 4);
    let stored = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
    if &body[..4] != MAGIC {
        return Err(corrupt("bad magic"));
    }
    let version = body[4];
    if version != FORMAT_VERSION && version != PARTIAL_VERSION {
        return Err(corrupt(format!(
            "format version {version} (expected {FORMAT_VERSION} or {PARTIAL_VERSION})"
        )));
    }
    if crc32fast::hash(body) != stored {
        return Err(corrupt("checksum mismatch"));
    }
    let mut r = Reader { buf: body, pos: 5 };
    let flags = r.byte()?;
    if flags & !KNOWN_FLAGS != 0 {
        return Err(corrupt(format!("unknown flags {flags:#04x}")));
    }
    let series = &key.series;
    let tags = [r.byte()?, r.byte()?, r.byte()?];
    if tags != [series.exchange.tag(), series.market.tag(), series.kind.tag()]
        || r.str()? != series.interval.to_string()
        || r.str()? != &*series.symbol
        || r.str()? != &*series.source
        || r.signed()? != key.index
    {
        return Err(corrupt("value belongs to another segment"));
    }
    let fetched_at = r.signed()?;
    let expires_at = if flags & FLAG_EXPIRES != 0 { Some(r.signed()?) } else { None };
    let partial = if version == PARTIAL_VERSION { Some(decode_covered(&mut r, key)?) } else { None };
    let count = usize::try_from(r.varint()?).map_err(|_| corrupt("count"))?;
    if count > MAX_ROWS {
        return Err(corrupt(format!("{count} rows in one segment")));
    }
    let payload = match series.kind {
        DataKind::Klines => Payload::Candles(Arc::new(decode_candles(&mut r, key, count, flags)?)),
        DataKind::Trades => Payload::Trades(Arc::new(decode_trades(&mut r, key, count)?)),
        DataKind::Funding => Payload::Funding(Arc::new(decode_funding(&mut r, key, count)?)),
    };
    if r.pos != body.len() {
        return Err(corrupt("trailing bytes"));
    }
    let origin = if flags & FLAG_ARCHIVE != 0 { Origin::Archive } else { Origin::Api };
    let segment = Segment { key: key.clone(), payload, fetched_at, expires_at, origin, partial };
    if partial.is_some() && !rows_inside(&segment.payload, segment.covered()) {
        return Err(corrupt("a partial segment holds rows outside the span it covers"));
    }
    Ok(segment)
}

/// A partial segment's covered span: non-empty, inside the segment's span, and not the
/// whole of it (that would be a whole segment, version 2).
fn decode_covered(r: &mut Reader<'_>, key: &SegmentKey) -> Result<TimeRange, CorruptSegment> {
    let span = key.span();
    let (start, end) = (r.signed()?, r.signed()?);
    let covered = TimeRange::new(span.start.saturating_add(start), span.start.saturating_add(end));
    let inside = span.start <= covered.start && covered.start < covered.end && covered.end <= span.end;
    if !inside || covered == span {
        return Err(corrupt(format!("covered span {start}..{end} does not fit a partial segment")));
    }
    Ok(covered)
}

/// Whether every row's time lies in `covered`.
fn rows_inside(payload: &Payload, covered: TimeRange) -> bool {
    let times = match payload {
        Payload::Candles(c) => c.times(),
        Payload::Trades(t) => t.times(),
        Payload::Funding(f) => f.times(),
    };
    times.first().is_none_or(|&t| covered.contains(t)) && times.last().is_none_or(|&t| covered.contains(t))
}

fn decode_candles(
    r: &mut Reader<'_>,
    key: &SegmentKey,
    count: usize,
    flags: u8,
) -> Result<CandleColumns, CorruptSegment> {
    if count > SEGMENT_SLOTS as usize {
        return Err(corrupt(format!("{count} candles in one segment")));
    }
    let mut cols = CandleColumns::with_capacity(count, flags & FLAG_TRADES != 0);
    if count > 0 {
        decode_times(r, key, count, flags & FLAG_OFF_GRID != 0, &mut cols.open_time)?;
        decode_prices(r, count, &mut cols)?;
        decode_column(r, count, false, &mut cols.volume)?;
        decode_column(r, count, false, &mut cols.quote_volume)?;
        if let Some(trades) = cols.trades.as_mut() {
            for _ in 0..count {
                trades.push(r.varint()?);
            }
        }
    }
    Ok(cols)
}

fn decode_trades(r: &mut Reader<'_>, key: &SegmentKey, count: usize) -> Result<TradeColumns, CorruptSegment> {
    let mut t = TradeColumns::default().empty_like(count);
    if count == 0 {
        return Ok(t);
    }
    get_deltas(r, count, key.span().start, &mut t.time)?;
    get_deltas(r, count, 0, &mut t.id)?;
    decode_column(r, count, true, &mut t.price)?;
    decode_column(r, count, false, &mut t.quantity)?;
    let bits = r.take(count.div_ceil(8))?;
    t.side.extend((0..count).map(|i| if bits[i / 8] & (1 << (i % 8)) != 0 { Side::Sell } else { Side::Buy }));
    Ok(t)
}

fn decode_funding(
    r: &mut Reader<'_>,
    key: &SegmentKey,
    count: usize,
) -> Result<FundingColumns, CorruptSegment> {
    let mut f = FundingColumns::default().empty_like(count);
    if count == 0 {
        return Ok(f);
    }
    get_deltas(r, count, key.span().start, &mut f.time)?;
    decode_column(r, count, false, &mut f.rate)?;
    Ok(f)
}

/// Each value as a zigzag varint difference from the one before (the first from `base`).
fn put_deltas(out: &mut Vec<u8>, values: &[i64], base: i64) {
    let mut prev = base;
    for &v in values {
        put_signed(out, v.wrapping_sub(prev));
        prev = v;
    }
}

fn get_deltas(r: &mut Reader<'_>, n: usize, base: i64, out: &mut Vec<i64>) -> Result<(), CorruptSegment> {
    let mut prev = base;
    for _ in 0..n {
        prev = prev.wrapping_add(r.signed()?);
        out.push(prev);
    }
    Ok(())
}

fn decode_times(
    r: &mut Reader<'_>,
    key: &SegmentKey,
    count: usize,
    off_grid: bool,
    out: &mut Vec<i64>,
) -> Result<(), CorruptSegment> {
    let iv = key.series.interval;
    let first_slot = key.index * SEGMENT_SLOTS;
    let bitmap = r.take(BITMAP_BYTES)?;
    for (byte_at, &byte) in bitmap.iter().enumerate() {
        let mut bits = byte;
        while bits != 0 {
            let bit = bits.trailing_zeros() as i64;
            bits &= bits - 1;
            out.push(iv.slot_start(first_slot + byte_at as i64 * 8 + bit));
        }
    }
    if out.len() != count {
        return Err(corrupt(format!("bitmap holds {} candles, header says {count}", out.len())));
    }
    if off_grid {
        for t in out.iter_mut() {
            *t += r.signed()?;
        }
    }
    Ok(())
}

/// The smallest decimal scale at which `v` is an exact integer, if any.
fn scale_of(v: f64) -> Option<usize> {
    (0..=MAX_SCALE).find(|&k| exact_at(v, k).is_some())
}

/// `v` as an integer at scale `k`, if that gives back `v` bit for bit.
fn exact_at(v: f64, k: usize) -> Option<i64> {
    let m = (v * POW10[k]).round();
    (m.abs() < 9.007_199_254_740_992e15 && (m / POW10[k]).to_bits() == v.to_bits()).then_some(m as i64)
}

/// One scale that represents every value exactly, if there is one.
fn common_scale<'a>(values: impl Iterator<Item = &'a f64> + Clone) -> Option<usize> {
    let mut k = 0;
    for &v in values.clone() {
        k = k.max(scale_of(v)?);
    }
    values.into_iter().all(|&v| exact_at(v, k).is_some()).then_some(k)
}

fn encode_prices(out: &mut Vec<u8>, c: &CandleColumns) {
    let all = c.open.iter().chain(&c.high).chain(&c.low).chain(&c.close);
    let Some(k) = common_scale(all) else {
        out.push(MODE_RAW);
        for i in 0..c.len() {
            for v in [c.open[i], c.high[i], c.low[i], c.close[i]] {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        return;
    };
    out.extend_from_slice(&[MODE_SCALED, k as u8]);
    let int = |v: f64| exact_at(v, k).unwrap_or(0);
    let mut prev_close = 0i64;
    for i in 0..c.len() {
        let (o, h, l, cl) = (int(c.open[i]), int(c.high[i]), int(c.low[i]), int(c.close[i]));
        put_signed(out, o.wrapping_sub(prev_close));
        put_signed(out, cl.wrapping_sub(o));
        put_signed(out, h.wrapping_sub(o.max(cl)));
        put_signed(out, o.min(cl).wrapping_sub(l));
        prev_close = cl;
    }
}

fn decode_prices(r: &mut Reader<'_>, n: usize, c: &mut CandleColumns) -> Result<(), CorruptSegment> {
    match r.byte()? {
        MODE_RAW => {
            for _ in 0..n {
                c.open.push(r.f64()?);
                c.high.push(r.f64()?);
                c.low.push(r.f64()?);
                c.close.push(r.f64()?);
            }
        }
        MODE_SCALED => {
            let p = scale(r)?;
            let mut prev_close = 0i64;
            for _ in 0..n {
                let o = prev_close.wrapping_add(r.signed()?);
                let cl = o.wrapping_add(r.signed()?);
                let h = o.max(cl).wrapping_add(r.signed()?);
                let l = o.min(cl).wrapping_sub(r.signed()?);
                c.open.push(o as f64 / p);
                c.high.push(h as f64 / p);
                c.low.push(l as f64 / p);
                c.close.push(cl as f64 / p);
                prev_close = cl;
            }
        }
        m => return Err(corrupt(format!("price mode {m}"))),
    }
    Ok(())
}

/// A decimal column at its common exact scale (each value, or with `delta` each
/// difference from the previous one), else raw `f64`s.
fn encode_column(out: &mut Vec<u8>, values: &[f64], delta: bool) {
    match common_scale(values.iter()) {
        Some(k) => {
            out.extend_from_slice(&[MODE_SCALED, k as u8]);
            let mut prev = 0i64;
            for &v in values {
                let int = exact_at(v, k).unwrap_or(0);
                put_signed(out, if delta { int.wrapping_sub(prev) } else { int });
                prev = int;
            }
        }
        None => {
            out.push(MODE_RAW);
            for v in values {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
    }
}

fn decode_column(
    r: &mut Reader<'_>,
    n: usize,
    delta: bool,
    out: &mut Vec<f64>,
) -> Result<(), CorruptSegment> {
    match r.byte()? {
        MODE_RAW => {
            for _ in 0..n {
                out.push(r.f64()?);
            }
        }
        MODE_SCALED => {
            let p = scale(r)?;
            let mut prev = 0i64;
            for _ in 0..n {
                let v = r.signed()?;
                let int = if delta { prev.wrapping_add(v) } else { v };
                out.push(int as f64 / p);
                prev = int;
            }
        }
        m => return Err(corrupt(format!("column mode {m}"))),
    }
    Ok(())
}

fn scale(r: &mut Reader<'_>) -> Result<f64, CorruptSegment> {
    let k = usize::from(r.byte()?);
    POW10.get(k).copied().ok_or_else(|| corrupt(format!("scale {k}")))
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_signed(out: &mut Vec<u8>, v: i64) {
    put_varint(out, ((v << 1) ^ (v >> 63)) as u64);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CorruptSegment> {
        let end =
            self.pos.checked_add(n).filter(|&e| e <= self.buf.len()).ok_or_else(|| corrupt("truncated"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn byte(&mut self) -> Result<u8, CorruptSegment> {
        Ok(self.take(1)?[0])
    }

    fn f64(&mut self) -> Result<f64, CorruptSegment> {
        let b = self.take(8)?;
        Ok(f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
    }

    #[inline]
    fn varint(&mut self) -> Result<u64, CorruptSegment> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.buf.get(self.pos).ok_or_else(|| corrupt("truncated varint"))?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(corrupt("varint too long"))
    }

    #[inline]
    fn signed(&mut self) -> Result<i64, CorruptSegment> {
        let z = self.varint()?;
        Ok((z >> 1) as i64 ^ -((z & 1) as i64))
    }

    fn str(&mut self) -> Result<&'a str, CorruptSegment> {
        let n = usize::try_from(self.varint()?).map_err(|_| corrupt("string length"))?;
        std::str::from_utf8(self.take(n)?).map_err(|_| corrupt("string is not utf-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::candles::Candle;
    use crate::model::{DataKind, Exchange, Market, SeriesKey};

    fn key(interval: &str, index: i64) -> SegmentKey {
        SegmentKey {
            series: Arc::new(SeriesKey {
                source: crate::source::LIVE.into(),
                exchange: Exchange::Binance,
                market: Market::Spot,
                kind: DataKind::Klines,
                interval: interval.parse().unwrap(),
                symbol: "BTCUSDT".into(),
            }),
            index,
        }
    }

    fn segment(key: SegmentKey, rows: &[Candle], with_trades: bool) -> Segment {
        let mut cols = CandleColumns::with_capacity(rows.len(), with_trades);
        rows.iter().for_each(|c| cols.push(c));
        Segment {
            key,
            payload: Payload::Candles(Arc::new(cols)),
            fetched_at: 1_700_000_000_123,
            expires_at: None,
            origin: Origin::Api,
            partial: None,
        }
    }

    /// A realistic 1m series: a random walk in 0.01 ticks with 5-decimal volumes.
    fn walk(key: &SegmentKey, n: usize, seed: u64) -> Vec<Candle> {
        let mut rng = fastrand::Rng::with_seed(seed);
        let start = key.span().start;
        let step = key.series.interval.fixed_ms().unwrap();
        let mut price = 4_351_934i64;
        (0..n)
            .map(|i| {
                let open = price;
                price += rng.i64(-2500..2500);
                let (hi, lo) = (open.max(price) + rng.i64(0..900), open.min(price) - rng.i64(0..900));
                let vol = rng.i64(1..5_000_000);
                Candle {
                    open_time: start + i as i64 * step,
                    open: format!("{}.{:02}", open / 100, open % 100).parse().unwrap(),
                    high: format!("{}.{:02}", hi / 100, hi % 100).parse().unwrap(),
                    low: format!("{}.{:02}", lo / 100, lo % 100).parse().unwrap(),
                    close: format!("{}.{:02}", price / 100, price % 100).parse().unwrap(),
                    volume: format!("{}.{:05}", vol / 100_000, vol % 100_000).parse().unwrap(),
                    quote_volume: format!("{:.8}", vol as f64 * price as f64 / 1e7).parse().unwrap(),
                    trades: Some(rng.u64(1..9000)),
                }
            })
            .collect()
    }

    fn candles(seg: &Segment) -> &CandleColumns {
        match &seg.payload {
            Payload::Candles(c) => c,
            other => panic!("not candles: {other:?}"),
        }
    }

    fn bits(c: &CandleColumns) -> Vec<u64> {
        c.open
            .iter()
            .chain(&c.high)
            .chain(&c.low)
            .chain(&c.close)
            .chain(&c.volume)
            .chain(&c.quote_volume)
            .map(|v| v.to_bits())
            .collect()
    }

    #[test]
    fn round_trips_bit_for_bit() {
        let k = key("1m", 28_443);
        let seg = segment(k.clone(), &walk(&k, 1000, 7), true);
        let bytes = encode(&seg);
        let back = decode(&k, &bytes).unwrap();
        assert_eq!(back, seg);
        assert_eq!(bits(candles(&back)), bits(candles(&seg)));
        assert!(bytes.len() < 25 * 1000, "{} bytes per candle", bytes.len() / 1000);
    }

    #[test]
    fn gaps_off_grid_raw_values_and_expiry() {
        let k = key("1h", 400);
        let mut rows = walk(&k, 1000, 3);
        rows.retain(|c| (c.open_time / 3_600_000) % 7 != 3); // holes
        assert!(rows.len() > 800);
        rows[5].open_time += 15_000; // off-grid, still in its slot
        rows[9].close = std::f64::consts::PI; // not a short decimal: raw mode
        rows[10].volume = 1e-300;
        let mut seg = segment(k.clone(), &rows, false);
        seg.expires_at = Some(1_800_000_000_000);
        let back = decode(&k, &encode(&seg)).unwrap();
        assert_eq!(back, seg);
        assert_eq!(bits(candles(&back)), bits(candles(&seg)));
    }

    #[test]
    fn trades_and_funding_round_trip() {
        let mut k = key("1h", 475_000);
        Arc::make_mut(&mut k.series).kind = DataKind::Trades;
        let start = k.span().start;
        let mut rng = fastrand::Rng::with_seed(9);
        let mut t = TradeColumns::default();
        let (mut time, mut id, mut price) = (start, 9_000_000_000i64, 6_712_345i64);
        for _ in 0..5000 {
            time += rng.i64(0..700);
            id += 1;
            price += rng.i64(-30..30);
            t.push(&crate::trades::Trade {
                time,
                id,
                price: format!("{}.{:02}", price / 100, price % 100).parse().unwrap(),
                quantity: format!("0.{:05}", rng.u32(1..99_999)).parse().unwrap(),
                side: if rng.bool() { Side::Buy } else { Side::Sell },
            });
        }
        let seg = Segment {
            key: k.clone(),
            payload: Payload::Trades(Arc::new(t)),
            fetched_at: 1,
            expires_at: Some(2),
            origin: Origin::Api,
            partial: None,
        };
        let bytes = encode(&seg);
        assert_eq!(decode(&k, &bytes).unwrap(), seg);
        assert!(bytes.len() < 5000 * 10, "{} bytes per trade", bytes.len() / 5000);

        let mut k = key("1h", 475);
        Arc::make_mut(&mut k.series).kind = DataKind::Funding;
        let start = k.span().start;
        let mut f = FundingColumns::default();
        for i in 0..125 {
            f.push(&crate::funding::FundingRate {
                time: start + i * 8 * 3_600_000,
                rate: format!("0.000{:05}", rng.u32(0..99_999)).parse().unwrap(),
            });
        }
        let seg = Segment {
            key: k.clone(),
            payload: Payload::Funding(Arc::new(f)),
            fetched_at: 1,
            expires_at: None,
            origin: Origin::Archive,
            partial: None,
        };
        assert_eq!(decode(&k, &encode(&seg)).unwrap(), seg);
        // A trades value read as funding is another segment.
        assert!(decode(&k, &bytes).is_err());
    }

    #[test]
    fn empty_segment_is_known_empty() {
        let k = key("1d", 17);
        let seg = segment(k.clone(), &[], true);
        let back = decode(&k, &encode(&seg)).unwrap();
        assert!(back.is_known_empty());
    }

    #[test]
    fn partial_segment_keeps_its_covered_span_and_older_decoders_refuse_it() {
        let k = key("1m", 28_443);
        let start = k.span().start;
        let rows = walk(&k, 1000, 3);
        let covered = TimeRange::new(start + 100 * 60_000, start + 250 * 60_000);
        let mut seg = segment(k.clone(), &rows[100..250], true);
        seg.partial = Some(covered);
        let bytes = encode(&seg);
        let back = decode(&k, &bytes).unwrap();
        assert_eq!(back, seg);
        assert!(!back.is_complete() && back.covers(covered) && !back.covers(k.span()));
        // Its version byte is one a decoder from before partial segments refuses.
        assert_eq!(bytes[4], PARTIAL_VERSION);
        // An empty partial segment is not known-empty: the rest of its span is unknown.
        let mut empty = segment(k.clone(), &[], true);
        empty.partial = Some(covered);
        let back = decode(&k, &encode(&empty)).unwrap();
        assert!(back.payload.is_empty() && !back.is_known_empty());
        // Rows outside the covered span, a covered span outside the segment or equal to
        // it: corrupt.
        let mut outside = segment(k.clone(), &rows[90..250], true);
        outside.partial = Some(covered);
        assert!(decode(&k, &encode(&outside)).is_err());
        for bad in
            [TimeRange::new(start - 60_000, start + 60_000), k.span(), TimeRange::new(start + 5, start + 5)]
        {
            let mut seg = segment(k.clone(), &[], true);
            seg.partial = Some(bad);
            assert!(decode(&k, &encode(&seg)).is_err(), "covered {bad:?}");
        }
    }

    #[test]
    fn unknown_flags_are_refused() {
        let k = key("1m", 28_443);
        let mut bytes = encode(&segment(k.clone(), &walk(&k, 10, 1), true));
        bytes[5] |= 0x40;
        let body = bytes.len() - 4;
        let crc = crc32fast::hash(&bytes[..body]).to_le_bytes();
        bytes[body..].copy_from_slice(&crc);
        assert!(decode(&k, &bytes).unwrap_err().0.contains("unknown flags"));
    }

    #[test]
    fn every_damage_is_detected() {
        let k = key("1m", 28_443);
        let bytes = encode(&segment(k.clone(), &walk(&k, 1000, 1), true));
        for cut in [0, 3, 10, bytes.len() / 2, bytes.len() - 1] {
            assert!(decode(&k, &bytes[..cut]).is_err(), "truncated at {cut}");
        }
        for at in [0, 4, 6, 20, bytes.len() / 2, bytes.len() - 2] {
            let mut bad = bytes.clone();
            bad[at] ^= 0x10;
            assert!(decode(&k, &bad).is_err(), "flipped byte {at}");
        }
        let other = key("1m", 28_444);
        assert_eq!(decode(&other, &bytes).unwrap_err().0, "value belongs to another segment");
        // The same segment from another source (a simulator's value under a live key).
        let mut series = (*k.series).clone();
        series.source = "127.0.0.1-8080-0badc0de".into();
        let elsewhere = SegmentKey { series: Arc::new(series), index: k.index };
        assert_eq!(decode(&elsewhere, &bytes).unwrap_err().0, "value belongs to another segment");
        // A format-1 value is refused by its version, never misread.
        let mut old = bytes.clone();
        old[4] = 1;
        assert!(decode(&k, &old).unwrap_err().0.contains("format version 1"));
    }
}
