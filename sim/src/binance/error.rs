//! Binance error replies: HTTP 4XX with `{"code": <negative int>, "msg": <text>}`.

use axum::http::StatusCode;

/// One Binance API error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApiError {
    /// HTTP status (400 for request errors).
    pub status: StatusCode,
    /// Binance error code, e.g. -1121.
    pub code: i32,
    /// Binance error message.
    pub msg: String,
}

impl ApiError {
    fn bad_request(code: i32, msg: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::BAD_REQUEST, code, msg: msg.into() }
    }

    /// -1100, a parameter that does not match its pattern.
    pub(crate) fn illegal_chars(param: &str, legal: &str) -> ApiError {
        Self::bad_request(
            -1100,
            format!("Illegal characters found in parameter '{param}'; legal range is '{legal}'."),
        )
    }

    /// -1100 without a parameter name (undecodable query string).
    pub(crate) fn illegal_query() -> ApiError {
        Self::bad_request(-1100, "Illegal characters found in a parameter.")
    }

    /// -1101, the same parameter sent twice.
    pub(crate) fn duplicate() -> ApiError {
        Self::bad_request(-1101, "Duplicate values for a parameter detected.")
    }

    /// -1102, a mandatory parameter missing or empty.
    pub(crate) fn mandatory(param: &str) -> ApiError {
        Self::bad_request(
            -1102,
            format!("Mandatory parameter '{param}' was not sent, was empty/null, or malformed."),
        )
    }

    /// -1104, parameters the endpoint does not read.
    pub(crate) fn too_many(expected: usize, received: usize) -> ApiError {
        Self::bad_request(
            -1104,
            format!("Too many parameters; expected '{expected}' and received '{received}'."),
        )
    }

    /// -1120 `Invalid interval.`
    pub(crate) fn interval() -> ApiError {
        Self::bad_request(-1120, "Invalid interval.")
    }

    /// -1121 `Invalid symbol.`
    pub(crate) fn symbol() -> ApiError {
        Self::bad_request(-1121, "Invalid symbol.")
    }

    /// -1127, a time range longer than the endpoint allows.
    pub(crate) fn span_too_long(hours: u32) -> ApiError {
        Self::bad_request(-1127, format!("More than {hours} hours between startTime and endTime."))
    }

    /// -2014 (HTTP 401), the `X-MBX-APIKEY` header missing.
    pub(crate) fn api_key() -> ApiError {
        ApiError { status: StatusCode::UNAUTHORIZED, code: -2014, msg: "API-key format invalid.".to_string() }
    }

    /// -1128, optional parameters that cannot be combined.
    pub(crate) fn combination() -> ApiError {
        Self::bad_request(-1128, "Combination of optional parameters invalid.")
    }

    /// -1130, a parameter value out of range (Binance's own spelling).
    pub(crate) fn invalid_value(param: &str) -> ApiError {
        Self::bad_request(-1130, format!("Data sent for paramter '{param}' is not valid."))
    }

    /// -1023 (UM), `startTime` after `endTime`.
    pub(crate) fn start_after_end() -> ApiError {
        Self::bad_request(-1023, "Start time is greater than end time.")
    }

    /// The JSON body.
    pub(crate) fn body(&self) -> String {
        serde_json::json!({ "code": self.code, "msg": self.msg }).to_string()
    }
}
