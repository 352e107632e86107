//! Rendered answers of final ranges, kept so a repeated request is answered with stored
//! bytes instead of rendering 1000 rows again (JSON decimal strings cost ~0.5 µs a
//! value). Only answers built entirely from final segments are kept (`is_final`: closed
//! and confirmed by the exchange), keyed by the request's route and query string and by
//! the cache's generation, which changes whenever values are invalidated or cleared
//! here or, through Redis, by another process: an invalidated answer is never served.

use axum::body::Bytes;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

/// Bytes of rendered answers kept at most (least recently used go first).
pub const DEFAULT_BODY_CACHE_BYTES: u64 = 64 << 20;

/// What identifies an answer: the route, the raw query string, the cache generation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BodyKey {
    route: &'static str,
    query: String,
    generation: u64,
}

impl BodyKey {
    /// The key of a request to `route` with `query`, under `generation`.
    pub fn new(route: &'static str, query: Option<&str>, generation: u64) -> Self {
        BodyKey { route, query: query.unwrap_or_default().to_owned(), generation }
    }
}

/// One rendered answer: its type, the source namespace of its values, the bytes.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// `Content-Type`.
    pub content_type: &'static str,
    /// `X-Cryptocache-Source`.
    pub source: HeaderValue,
    /// The body.
    pub body: Bytes,
}

impl Rendered {
    /// The HTTP answer (the body is shared, not copied).
    pub fn response(&self) -> Response {
        let mut response =
            ([(header::CONTENT_TYPE, HeaderValue::from_static(self.content_type))], self.body.clone())
                .into_response();
        response.headers_mut().insert(cryptocache::relay::SOURCE_HEADER, self.source.clone());
        response
    }
}

/// The store of rendered answers.
#[derive(Debug, Clone)]
pub struct Bodies {
    cache: moka::sync::Cache<BodyKey, Rendered>,
}

impl Bodies {
    /// A store of at most `max_bytes` of bodies.
    pub fn new(max_bytes: u64) -> Self {
        let cache = moka::sync::Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|key: &BodyKey, r: &Rendered| {
                u32::try_from(r.body.len() + key.query.len() + 64).unwrap_or(u32::MAX)
            })
            .build();
        Bodies { cache }
    }

    /// The answer kept for `key`, if any.
    pub fn get(&self, key: &BodyKey) -> Option<Rendered> {
        self.cache.get(key)
    }

    /// Keeps `rendered` for `key`.
    pub fn insert(&self, key: BodyKey, rendered: Rendered) {
        self.cache.insert(key, rendered);
    }
}
