//! Integer hashing: the only source of "randomness" in the simulator.
//!
//! Everything is a pure function of its inputs (no `RandomState`, no global
//! state), so any candle can be recomputed anywhere, in any order.

/// One round of splitmix64: a fast, well-mixed 64-bit permutation.
pub(crate) fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hashes a sequence of words into one (order matters).
pub(crate) fn mix(words: &[u64]) -> u64 {
    words.iter().fold(0x243F_6A88_85A3_08D3, |acc, &w| splitmix64(acc ^ splitmix64(w)))
}

/// FNV-1a of a string, for turning names (symbols, markets, intervals) into seeds.
pub(crate) fn str_seed(s: &str) -> u64 {
    s.bytes().fold(0xCBF2_9CE4_8422_2325, |acc, b| (acc ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3))
}

/// A hash-derived fraction in `[0, 65536)`, i.e. `[0, 1)` in 16-bit fixed point.
pub(crate) fn unit16(words: &[u64]) -> i64 {
    (mix(words) >> 48) as i64
}

/// A hash-derived integer in `[-amp, amp]`.
pub(crate) fn symmetric(words: &[u64], amp: i64) -> i64 {
    if amp <= 0 {
        return 0;
    }
    let span = (2 * amp + 1) as u64;
    (mix(words) % span) as i64 - amp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_stable_and_spread() {
        assert_eq!(splitmix64(0), 0xE220_A839_7B1D_CDAF);
        assert_ne!(mix(&[1, 2]), mix(&[2, 1]));
        assert_ne!(str_seed("BTCUSDT"), str_seed("ETHUSDT"));
        for i in 0..1000 {
            let u = unit16(&[i]);
            assert!((0..65536).contains(&u));
            let s = symmetric(&[i], 7);
            assert!((-7..=7).contains(&s));
        }
    }
}
