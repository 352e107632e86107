//! Bulk archive files over HTTP, as the archives' static hosts answer: the bytes with
//! their content type, a strong `ETag` and byte ranges (`Range`, `If-Range`: RFC 9110
//! §13.1.5, §14; S3 and CDNs such as CloudFront, which serve data.binance.vision, honour
//! them), or 404 with an empty body for anything not published.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;

/// Builds a file with `build` off the async workers (building a month of candles or a
/// day of trades is CPU-bound) and answers `request` with it (whole, or the byte range it
/// asks for): `Some((content type, bytes))`, or `None` for 404.
pub(crate) async fn serve_built<F>(request: &HeaderMap, build: F) -> Response
where
    F: FnOnce() -> Option<(&'static str, Vec<u8>)> + Send + 'static,
{
    let Some((content_type, body)) = tokio::task::spawn_blocking(build).await.ok().flatten() else {
        return status(StatusCode::NOT_FOUND);
    };
    let etag = etag_of(&body);
    let text = |name| request.get(name).and_then(|v: &HeaderValue| v.to_str().ok());
    // A validator other than the file's own means the client holds another version.
    let same_version = text(header::IF_RANGE).is_none_or(|v| v == etag);
    let range = text(header::RANGE).filter(|_| same_version).and_then(|r| byte_range(r, body.len()));
    let mut response = match range {
        None => Response::new(Body::from(body)),
        Some(Err(len)) => {
            let mut r = status(StatusCode::RANGE_NOT_SATISFIABLE);
            insert(&mut r, header::CONTENT_RANGE, format!("bytes */{len}"));
            return r;
        }
        Some(Ok((start, end))) => {
            let len = body.len();
            let mut r = Response::new(Body::from(body[start..=end].to_vec()));
            *r.status_mut() = StatusCode::PARTIAL_CONTENT;
            insert(&mut r, header::CONTENT_RANGE, format!("bytes {start}-{end}/{len}"));
            r
        }
    };
    insert(&mut response, header::CONTENT_TYPE, content_type.to_string());
    insert(&mut response, header::ETAG, etag);
    insert(&mut response, header::ACCEPT_RANGES, "bytes".to_string());
    response
}

/// A strong validator: the first 16 bytes of the file's sha256, quoted.
fn etag_of(body: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, body);
    let hex: String = digest.as_ref()[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// One `bytes=FIRST-[LAST]` range of a file of `len` bytes: `Some(Ok((first, last)))`,
/// `Some(Err(len))` when it starts past the end (416), `None` for a header to ignore
/// (several ranges, suffix ranges or nonsense: the whole file is sent).
fn byte_range(value: &str, len: usize) -> Option<Result<(usize, usize), usize>> {
    let (first, last) = value.strip_prefix("bytes=")?.split_once('-')?;
    let first: usize = first.trim().parse().ok()?;
    let last = match last.trim() {
        "" => len.saturating_sub(1),
        last => last.parse::<usize>().ok()?.min(len.saturating_sub(1)),
    };
    if first >= len {
        return Some(Err(len));
    }
    (first <= last).then_some(Ok((first, last)))
}

fn status(code: StatusCode) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = code;
    r
}

fn insert(response: &mut Response, name: header::HeaderName, value: String) {
    if let Ok(value) = HeaderValue::from_str(&value) {
        response.headers_mut().insert(name, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_as_rfc_9110_reads_them() {
        assert_eq!(byte_range("bytes=0-", 10), Some(Ok((0, 9))));
        assert_eq!(byte_range("bytes=4-6", 10), Some(Ok((4, 6))));
        assert_eq!(byte_range("bytes=4-60", 10), Some(Ok((4, 9))));
        assert_eq!(byte_range("bytes=10-", 10), Some(Err(10)));
        assert_eq!(byte_range("bytes=-5", 10), None, "suffix ranges are not used by clients here");
        assert_eq!(byte_range("bytes=0-1,4-5", 10), None);
        assert_eq!(byte_range("bytes=6-4", 10), None);
        assert_eq!(byte_range("items=0-1", 10), None);
    }
}
