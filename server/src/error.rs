//! Every error the relay answers: JSON `{"code": "...", "message": "..."}` with the HTTP
//! status its code means. The codes are the core's stable ones plus the relay's own. A
//! core error also carries its fields (`Error::to_wire`), so a cache using this relay as
//! its upstream gets back exactly the error the exchange caused.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use cryptocache::Error;

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code (`INVALID_QUERY`, `UNAUTHORIZED`, ...).
    pub code: &'static str,
    /// What went wrong, for a person.
    pub message: String,
    /// Seconds to wait before asking again (sent as `Retry-After`).
    pub retry_after: Option<u64>,
    /// The core error's JSON form, when this is one.
    pub wire: Option<serde_json::Value>,
}

impl ApiError {
    /// An error with `status` and `code`.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), retry_after: None, wire: None }
    }

    /// A 400 `INVALID_QUERY`.
    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "INVALID_QUERY", message)
    }

    /// With a `Retry-After` of `secs`.
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs.max(1));
        self
    }
}

impl From<Error> for ApiError {
    /// The core's errors by code: bad input 400, unknown symbol or nothing the exchange
    /// still serves 404, throttled 429 (with the exchange's wait), the exchange failing
    /// or unreachable 502, a cache tier failing 503.
    fn from(e: Error) -> Self {
        let status = match e.code() {
            "INVALID_QUERY" | "UNSUPPORTED" => StatusCode::BAD_REQUEST,
            "UNKNOWN_SYMBOL" | "OUT_OF_RETENTION" | "NOT_ARCHIVED" => StatusCode::NOT_FOUND,
            "RATE_LIMITED" => StatusCode::TOO_MANY_REQUESTS,
            "CACHE_ERROR" => StatusCode::SERVICE_UNAVAILABLE,
            "CONFIG_ERROR" => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_GATEWAY,
        };
        let retry_after = match &e {
            Error::RateLimited { retry_after, .. } => retry_after.map(|d| d.as_secs_f64().ceil() as u64),
            _ => None,
        };
        ApiError { status, code: e.code(), message: e.to_string(), retry_after, wire: Some(e.to_wire()) }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body =
            self.wire.unwrap_or_else(|| serde_json::json!({ "code": self.code, "message": self.message }));
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn core_errors_map_to_statuses_and_keep_their_codes() {
        let cases = [
            (Error::InvalidQuery("bad".into()), StatusCode::BAD_REQUEST),
            (Error::Cache("down".into()), StatusCode::SERVICE_UNAVAILABLE),
            (
                Error::RateLimited {
                    exchange: "okx".into(),
                    retry_after: Some(Duration::from_millis(1500)),
                    message: "slow".into(),
                },
                StatusCode::TOO_MANY_REQUESTS,
            ),
        ];
        for (error, status) in cases {
            let code = error.code();
            let api = ApiError::from(error);
            assert_eq!((api.status, api.code), (status, code));
        }
        let throttled = ApiError::from(Error::RateLimited {
            exchange: "okx".into(),
            retry_after: Some(Duration::from_millis(1500)),
            message: "slow".into(),
        });
        assert_eq!(throttled.retry_after, Some(2));
    }
}
