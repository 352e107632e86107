//! Bulk archive files over HTTP, as the archives' static hosts answer: the bytes with
//! their content type, or 404 with an empty body for anything not published.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;

/// Builds a file with `build` off the async workers (building a month of candles or a
/// day of trades is CPU-bound) and answers with it: `Some((content type, bytes))`, or
/// `None` for 404.
pub(crate) async fn serve_built<F>(build: F) -> Response
where
    F: FnOnce() -> Option<(&'static str, Vec<u8>)> + Send + 'static,
{
    match tokio::task::spawn_blocking(build).await.ok().flatten() {
        Some((content_type, body)) => {
            let mut r = Response::new(Body::from(body));
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            r
        }
        None => {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::NOT_FOUND;
            r
        }
    }
}
