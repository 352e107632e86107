//! Deterministic order books: levels around the price at "now", on the
//! tick grid, a pure function of the instrument and the instant.

use super::hash::{mix, unit16};
use super::series::SeriesSpec;

/// 1.0 in 16-bit fixed point.
const ONE16: i64 = 65_536;

/// One book snapshot: `(price, quantity)` levels in price and quantity
/// units, bids descending, asks ascending.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Book {
    /// Snapshot time, ms.
    pub time: i64,
    /// An update id that grows with time.
    pub update_id: i64,
    /// Bids, best (highest) first.
    pub bids: Vec<(i64, i64)>,
    /// Asks, best (lowest) first.
    pub asks: Vec<(i64, i64)>,
}

/// The book of `spec`'s instrument at `now`, `levels` per side, level sizes
/// around `qty_per_level` quantity units (0.1–2.0 × it, at least one unit).
/// The spread is one or two ticks around the price at `now`; deeper levels
/// skip a tick now and then.
pub(crate) fn book(spec: &SeriesSpec, qty_per_level: i64, levels: usize, now: i64) -> Book {
    let seed = mix(&[spec.seed, 0x62_6f_6f_6b, now as u64]);
    let tick = spec.price_tick.max(1);
    let price = spec.price_at(now);
    let best_bid = price - tick * (mix(&[seed, 1]) & 1) as i64;
    let best_ask = best_bid + tick * (1 + (mix(&[seed, 2]) & 1) as i64);
    let side = |start: i64, step: i64, tag: u64| -> Vec<(i64, i64)> {
        let mut out = Vec::with_capacity(levels);
        let mut p = start;
        for k in 0..levels {
            if p <= 0 {
                break;
            }
            let u = unit16(&[seed, tag, k as u64]);
            let qty = (qty_per_level * (ONE16 / 10 + u * 19 / 10) / ONE16).max(1);
            out.push((p, qty));
            let skip = i64::from(mix(&[seed, tag, k as u64, 9]).is_multiple_of(4));
            p += step * (1 + skip);
        }
        out
    };
    Book { time: now, update_id: now / 10, bids: side(best_bid, -tick, 3), asks: side(best_ask, tick, 4) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sides_are_ordered_and_apart() {
        let spec = SeriesSpec {
            path_seed: 1,
            seed: 2,
            base_price: 3_000_000,
            price_tick: 5,
            qty_per_min: 1,
            trades_per_min: 1,
            listed_ms: 0,
            until_ms: i64::MAX,
            quiet: None,
        };
        let b = book(&spec, 1000, 500, 1_700_000_000_000);
        assert_eq!((b.bids.len(), b.asks.len()), (500, 500));
        assert!(b.bids[0].0 < b.asks[0].0);
        assert!(b.asks[0].0 - b.bids[0].0 <= 10);
        assert!(b.bids.windows(2).all(|w| w[0].0 > w[1].0));
        assert!(b.asks.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(b.bids.iter().chain(&b.asks).all(|&(p, q)| p % 5 == 0 && (100..=2000).contains(&q)));
        assert_eq!(b, book(&spec, 1000, 500, 1_700_000_000_000));
        assert_ne!(b, book(&spec, 1000, 500, 1_700_000_000_001));
    }
}
