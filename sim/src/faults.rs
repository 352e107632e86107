//! Injected faults: queued, consumed in order by the next exchange requests.

use axum::body::{to_bytes, Body};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;

/// One injected fault. JSON form (for `POST /_sim/faults`), internally tagged:
/// `{"kind":"status","status":429,"retry_after_secs":7}` (`retry_after_secs`
/// optional), `{"kind":"malformed"}`, `{"kind":"truncated"}`, `{"kind":"dropped"}`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Reply with this HTTP status instead of handling the request.
    /// 429/418 get the exchange's throttle body (Binance: -1003); other
    /// statuses get a plain HTML error body such as `<html>502 Bad Gateway</html>`.
    /// Any status carries `Retry-After` when `retry_after_secs` is set.
    Status {
        /// HTTP status code.
        status: u16,
        /// Value of the `Retry-After` header, seconds.
        #[serde(default)]
        retry_after_secs: Option<u64>,
    },
    /// HTTP 200 with a body that is not valid JSON.
    Malformed,
    /// The real reply with its body cut to half its length.
    Truncated,
    /// The real reply, its declared length kept, the connection dropped halfway through
    /// the body (what a reset or an idle timeout does to a big download).
    Dropped,
}

/// Body of the `Malformed` fault.
pub(crate) const MALFORMED_BODY: &str = "{\"this is\": not json";

/// A reply with `status`, a content type and a body.
pub(crate) fn plain(status: StatusCode, content_type: &'static str, body: String) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// The `<html>502 Bad Gateway</html>`-style reply of a non-throttle status
/// fault, with `Retry-After` when given.
pub(crate) fn html_error(status: StatusCode, retry_after: Option<u64>) -> Response {
    let reason = status.canonical_reason().unwrap_or("Error");
    let mut r = plain(status, "text/html", format!("<html>{} {}</html>", status.as_u16(), reason));
    if let Some(secs) = retry_after {
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    r
}

/// The `Malformed` fault's reply.
pub(crate) fn malformed() -> Response {
    plain(StatusCode::OK, "application/json", MALFORMED_BODY.to_string())
}

/// `response` sent with its whole length declared, but only half its body before the
/// connection drops.
pub(crate) async fn drop_halfway(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    let half = bytes.slice(..bytes.len() / 2);
    let pieces = futures_util::stream::iter([Ok(half), Err(std::io::Error::other("connection dropped"))]);
    Response::from_parts(parts, Body::from_stream(pieces))
}

/// `response` with its body cut to half its length (status and headers kept).
pub(crate) async fn truncate(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes.slice(..bytes.len() / 2)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_form() {
        let faults = vec![
            Fault::Status { status: 429, retry_after_secs: Some(7) },
            Fault::Status { status: 502, retry_after_secs: None },
            Fault::Malformed,
            Fault::Truncated,
            Fault::Dropped,
        ];
        let text = serde_json::to_string(&faults).unwrap_or_default();
        assert_eq!(
            text,
            r#"[{"kind":"status","status":429,"retry_after_secs":7},{"kind":"status","status":502,"retry_after_secs":null},{"kind":"malformed"},{"kind":"truncated"},{"kind":"dropped"}]"#
        );
        let back: Vec<Fault> =
            serde_json::from_str(r#"[{"kind":"status","status":503},{"kind":"truncated"}]"#)
                .unwrap_or_default();
        assert_eq!(back, vec![Fault::Status { status: 503, retry_after_secs: None }, Fault::Truncated]);
    }
}
