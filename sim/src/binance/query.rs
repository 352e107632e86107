//! Query-string validation with Binance's rules and error codes.

use super::error::ApiError;

/// Pattern Binance documents for time and count parameters.
const DIGITS: &str = "^[0-9]{1,20}$";
/// Pattern Binance documents for symbols.
pub(crate) const SYMBOL_PATTERN: &str = "^[A-Z0-9-_.]{1,20}$";

/// The parameters of one request, checked against the names an endpoint reads.
pub(crate) struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Accepts the pairs if every name is one the endpoint reads (-1104
    /// otherwise) and none repeats (-1101).
    pub(crate) fn new(pairs: Vec<(String, String)>, known: &[&str]) -> Result<Params, ApiError> {
        let recognised = pairs.iter().filter(|(k, _)| known.contains(&k.as_str())).count();
        if recognised < pairs.len() {
            return Err(ApiError::too_many(recognised, pairs.len()));
        }
        for (i, (k, _)) in pairs.iter().enumerate() {
            if pairs[..i].iter().any(|(prev, _)| prev == k) {
                return Err(ApiError::duplicate());
            }
        }
        Ok(Params { pairs })
    }

    /// The raw value of a parameter, if sent.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// A mandatory parameter: -1102 if missing or empty.
    pub(crate) fn required(&self, name: &str) -> Result<&str, ApiError> {
        match self.get(name) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(ApiError::mandatory(name)),
        }
    }

    /// An optional unsigned integer: -1100 unless 1–20 ASCII digits
    /// (values beyond `i64::MAX` saturate).
    pub(crate) fn number(&self, name: &str) -> Result<Option<i64>, ApiError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        if v.is_empty() || v.len() > 20 || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::illegal_chars(name, DIGITS));
        }
        let n = v.parse::<u128>().map_err(|_| ApiError::illegal_chars(name, DIGITS))?;
        Ok(Some(i64::try_from(n).unwrap_or(i64::MAX)))
    }
}

/// -1100 unless `symbol` matches Binance's symbol pattern.
pub(crate) fn check_symbol_chars(symbol: &str) -> Result<(), ApiError> {
    let ok = !symbol.is_empty()
        && symbol.len() <= 20
        && symbol.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b"-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ApiError::illegal_chars("symbol", SYMBOL_PATTERN))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn validates_names_values_and_duplicates() {
        let known = ["symbol", "limit"];
        let err = Params::new(pairs(&[("symbol", "X"), ("star_time", "1")]), &known).err();
        assert_eq!(err.map(|e| e.code), Some(-1104));
        let err = Params::new(pairs(&[("limit", "1"), ("limit", "2")]), &known).err();
        assert_eq!(err.map(|e| e.code), Some(-1101));
        let p = Params::new(pairs(&[("symbol", ""), ("limit", "12a")]), &known).map_err(|e| e.code);
        let p = p.as_ref().ok();
        assert_eq!(p.map(|p| p.required("symbol").map_err(|e| e.code)), Some(Err(-1102)));
        assert_eq!(p.map(|p| p.number("limit").map_err(|e| e.code)), Some(Err(-1100)));
        let p = Params::new(pairs(&[("limit", "99999999999999999999")]), &known).ok();
        assert_eq!(p.map(|p| p.number("limit").ok().flatten()), Some(Some(i64::MAX)));
        assert!(check_symbol_chars("BTCUSDT").is_ok());
        assert!(check_symbol_chars("btcusdt").is_err());
    }
}
