//! Lenient number parsing for exchange JSON: exchanges (and captured fixtures) send
//! numbers sometimes as JSON numbers, sometimes as strings. Strings are parsed with
//! Rust's correctly rounded `str::parse`, so "43519.34" becomes exactly the nearest f64.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// An `f64` from a JSON number or numeric string.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Float(pub f64);

/// An `i64` from a JSON integer or integer string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Int(pub i64);

struct FloatVisitor;

impl Visitor<'_> for FloatVisitor {
    type Value = Float;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number or a numeric string")
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Float, E> {
        Ok(Float(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Float, E> {
        Ok(Float(v as f64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Float, E> {
        Ok(Float(v as f64))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Float, E> {
        match v.trim().parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Float(x)),
            _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Float {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FloatVisitor)
    }
}

struct IntVisitor;

impl Visitor<'_> for IntVisitor {
    type Value = Int;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer or an integer string")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Int, E> {
        Ok(Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Int, E> {
        i64::try_from(v).map(Int).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Int, E> {
        if v.fract() == 0.0 && v.abs() < 9.0e15 {
            Ok(Int(v as i64))
        } else {
            Err(E::invalid_value(de::Unexpected::Float(v), &self))
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Int, E> {
        v.trim().parse::<i64>().map(Int).map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

impl<'de> serde::Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(IntVisitor)
    }
}

/// Parses an exchange's JSON body as `T`; a body that does not fit is the exchange's
/// malformed response.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(exchange: &str, body: &[u8]) -> crate::Result<T> {
    serde_json::from_slice(body)
        .map_err(|e| crate::Error::MalformedResponse { exchange: exchange.into(), message: e.to_string() })
}

/// An optional [`Int`] where the venue sends `""` or `null` for "none".
pub(crate) fn optional_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Int>, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Int(Int),
        Text(String),
    }
    Ok(match Option::<Raw>::deserialize(d)? {
        Some(Raw::Int(i)) => Some(i),
        Some(Raw::Text(t)) if t.trim().is_empty() => None,
        Some(Raw::Text(t)) => {
            Some(Int(t.trim().parse().map_err(|_| de::Error::custom(format!("not an integer: {t:?}")))?))
        }
        None => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_strings() {
        let v: Vec<Float> = serde_json::from_str(r#"["43519.34000000", 1.5, 7, " 2 "]"#).unwrap();
        assert_eq!(v, [Float(43519.34), Float(1.5), Float(7.0), Float(2.0)]);
        let v: Vec<Int> = serde_json::from_str(r#"["1706630400000", 1706630400000, 3.0]"#).unwrap();
        assert_eq!(v, [Int(1_706_630_400_000), Int(1_706_630_400_000), Int(3)]);
        assert!(serde_json::from_str::<Float>(r#""abc""#).is_err());
        assert!(serde_json::from_str::<Float>(r#""NaN""#).is_err());
        assert!(serde_json::from_str::<Int>("1.5").is_err());
    }
}
