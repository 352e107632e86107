//! The HTTP client every adapter uses (reqwest on rustls with ring).

use std::time::Duration;

use reqwest::header::HeaderMap;

use crate::error::{Error, Result};

/// HTTP settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Connect timeout.
    pub connect_timeout: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig { timeout: Duration::from_secs(30), connect_timeout: Duration::from_secs(10) }
    }
}

/// One HTTP answer, read whole.
pub(crate) struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    /// A header as text, if present and readable.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Shared connection pool.
#[derive(Debug, Clone)]
pub(crate) struct HttpClient {
    client: reqwest::Client,
}

impl HttpClient {
    pub(crate) fn new(config: &HttpConfig) -> Result<Self> {
        // reqwest is built without a default crypto provider (ring is lighter than aws-lc);
        // installing fails harmlessly when the application already chose one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .user_agent(concat!("cryptocache/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Config(format!("cannot build HTTP client: {e}")))?;
        Ok(HttpClient { client })
    }

    /// GET `url`; `Err` carries a transport error description (connect, timeout, reset).
    pub(crate) async fn get(&self, url: &str) -> std::result::Result<Reply, String> {
        self.get_with(url, &[]).await
    }

    /// GET `url` with extra request headers (e.g. a relay's API key).
    pub(crate) async fn get_with(
        &self,
        url: &str,
        headers: &[(&str, &str)],
    ) -> std::result::Result<Reply, String> {
        let mut request = self.client.get(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let resp = request.send().await.map_err(describe)?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(describe)?.to_vec();
        Ok(Reply { status, headers, body })
    }
}

fn describe(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect failed"
    } else {
        "request failed"
    };
    // Strip the URL: it is in our logs already and may one day carry credentials.
    format!("{kind}: {}", e.without_url())
}
