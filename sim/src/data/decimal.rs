//! Fixed-point decimals: values are integers counted in `10^-scale` units and
//! only become text (and, for the Rust oracle, `f64`) at the wire.

/// Formats `units × 10^-scale` with exactly `shown` decimals (`shown >= scale`
/// pads with zeros, e.g. `fmt(4351934, 2, 8)` is `"43519.34000000"`);
/// `shown == 0` prints a bare integer.
pub(crate) fn fmt(units: i128, scale: u32, shown: u32) -> String {
    let shown = shown.max(scale);
    let sign = if units < 0 { "-" } else { "" };
    let abs = units.unsigned_abs();
    let pow = 10u128.pow(scale);
    let int = abs / pow;
    if shown == 0 {
        return format!("{sign}{int}");
    }
    let frac =
        if scale == 0 { String::new() } else { format!("{:0width$}", abs % pow, width = scale as usize) };
    let zeros = "0".repeat((shown - scale) as usize);
    format!("{sign}{int}.{frac}{zeros}")
}

/// Formats `units × 10^-scale` with trailing zeros (and a bare trailing
/// point) removed, the style of Bybit, OKX and Deribit: `fmt_trim(4348800, 2)`
/// is `"43488"`, `fmt_trim(4337610, 2)` is `"43376.1"`.
pub(crate) fn fmt_trim(units: i128, scale: u32) -> String {
    let text = fmt(units, scale, scale);
    if !text.contains('.') {
        return text;
    }
    let trimmed = text.trim_end_matches('0').trim_end_matches('.');
    if trimmed == "-0" {
        "0".to_string()
    } else {
        trimmed.to_string()
    }
}

/// The `f64` a client gets by parsing a wire decimal (`NaN` if it is not one).
pub(crate) fn parse_f64(text: &str) -> f64 {
    text.parse::<f64>().unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_binance() {
        assert_eq!(fmt(4_351_934, 2, 8), "43519.34000000");
        assert_eq!(fmt(2_055_495, 5, 8), "20.55495000");
        assert_eq!(fmt(714_819, 1, 2), "71481.90");
        assert_eq!(fmt(2, 3, 3), "0.002");
        assert_eq!(fmt(14_296_380, 5, 5), "142.96380");
        assert_eq!(fmt(0, 8, 8), "0.00000000");
        assert_eq!(fmt(42, 0, 0), "42");
        assert_eq!(fmt(42, 0, 2), "42.00");
        assert_eq!(fmt(-5, 2, 2), "-0.05");
        assert_eq!(parse_f64("43519.34000000"), 43519.34);
        assert_eq!(fmt_trim(4_348_800, 2), "43488");
        assert_eq!(fmt_trim(4_337_610, 2), "43376.1");
        assert_eq!(fmt_trim(683_458_981_407, 4), "68345898.1407");
        assert_eq!(fmt_trim(0, 8), "0");
        assert_eq!(fmt_trim(1_000, 0), "1000");
        assert_eq!(fmt_trim(-50, 2), "-0.5");
    }
}
