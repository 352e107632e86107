//! Query strings of the Bybit, OKX and Deribit endpoints: read leniently
//! like those exchanges do (unknown names ignored, the first of repeated
//! names wins); each endpoint turns a bad value into its own error.

/// The decoded query of one request.
pub(crate) struct Query {
    pairs: Vec<(String, String)>,
}

/// A parameter that is present but not an integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NotInteger;

impl Query {
    /// Wraps decoded name/value pairs.
    pub(crate) fn new(pairs: Vec<(String, String)>) -> Query {
        Query { pairs }
    }

    /// The first value sent for `name`, empty or not.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The first value sent for `name`, if present and not empty.
    pub(crate) fn text(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// An optional integer (`-?[0-9]+`, saturating beyond `i64`); absent or
    /// empty is `Ok(None)`.
    pub(crate) fn int(&self, name: &str) -> Result<Option<i64>, NotInteger> {
        let Some(v) = self.text(name) else {
            return Ok(None);
        };
        let (negative, digits) = match v.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, v),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(NotInteger);
        }
        let magnitude = digits.trim_start_matches('0');
        let n = match magnitude {
            "" => 0,
            m if m.len() > 19 => i64::MAX,
            m => m.parse::<i64>().unwrap_or(i64::MAX),
        };
        Ok(Some(if negative { -n } else { n }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(list: &[(&str, &str)]) -> Query {
        Query::new(list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn reads_leniently() {
        let q = q(&[
            ("a", "1"),
            ("a", "2"),
            ("e", ""),
            ("n", "-17"),
            ("big", "123456789012345678901"),
            ("x", "1e3"),
            ("z", "000"),
        ]);
        assert_eq!(q.get("a"), Some("1"));
        assert_eq!(q.text("e"), None);
        assert_eq!(q.get("e"), Some(""));
        assert_eq!(q.int("a"), Ok(Some(1)));
        assert_eq!(q.int("n"), Ok(Some(-17)));
        assert_eq!(q.int("big"), Ok(Some(i64::MAX)));
        assert_eq!(q.int("x"), Err(NotInteger));
        assert_eq!(q.int("z"), Ok(Some(0)));
        assert_eq!(q.int("e"), Ok(None));
        assert_eq!(q.int("missing"), Ok(None));
    }
}
