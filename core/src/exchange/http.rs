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
    /// Whole-request timeout (natively also set on the client).
    timeout: Duration,
}

impl HttpClient {
    pub(crate) fn new(config: &HttpConfig) -> Result<Self> {
        #[cfg(not(target_arch = "wasm32"))]
        let builder = {
            // reqwest is built without a default crypto provider (ring is lighter than
            // aws-lc); installing fails harmlessly when the application already chose one.
            let _ = rustls::crypto::ring::default_provider().install_default();
            reqwest::Client::builder()
                .timeout(config.timeout)
                .connect_timeout(config.connect_timeout)
                .user_agent(concat!("cryptocache/", env!("CARGO_PKG_VERSION")))
        };
        // On WebAssembly the host's `fetch` does the HTTP (and a browser sets the user
        // agent itself); each request carries the timeout instead.
        #[cfg(target_arch = "wasm32")]
        let builder = reqwest::Client::builder();
        let client = builder.build().map_err(|e| Error::Config(format!("cannot build HTTP client: {e}")))?;
        Ok(HttpClient { client, timeout: config.timeout })
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
        let mut request = self.client.get(url).timeout(self.timeout);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        crate::rt::assert_send(async move {
            let resp = request.send().await.map_err(describe)?;
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let body = resp.bytes().await.map_err(describe)?.to_vec();
            Ok(Reply { status, headers, body })
        })
        .await
    }
}

/// A reply whose body is read chunk by chunk (archive files of a gigabyte are never held
/// whole): see [`HttpClient::stream`].
#[cfg(not(target_arch = "wasm32"))]
pub(crate) struct Streaming {
    pub status: u16,
    pub headers: HeaderMap,
    response: reqwest::Response,
    /// How long one chunk may take to arrive.
    idle: Duration,
}

#[cfg(not(target_arch = "wasm32"))]
impl Streaming {
    /// A header as text, if present and readable.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The next chunk of the body (`None` at its end); `Err` describes a transport error or
    /// a chunk that took longer than the client's timeout.
    pub(crate) async fn chunk(&mut self) -> std::result::Result<Option<impl AsRef<[u8]>>, String> {
        match tokio::time::timeout(self.idle, self.response.chunk()).await {
            Ok(chunk) => chunk.map_err(describe),
            Err(_) => Err(format!("timeout: no data for {:?}", self.idle)),
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl HttpClient {
    /// GET `url` with extra request headers, its body to be read chunk by chunk. The
    /// client's timeout bounds each chunk rather than the whole transfer, which may be
    /// long for a big file; `transfer_limit` bounds the whole.
    pub(crate) async fn stream(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        transfer_limit: Duration,
    ) -> std::result::Result<Streaming, String> {
        let mut request = self.client.get(url).timeout(transfer_limit);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let send = request.send();
        let response = match tokio::time::timeout(self.timeout, send).await {
            Ok(response) => response.map_err(describe)?,
            Err(_) => return Err(format!("timeout: no answer in {:?}", self.timeout)),
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        Ok(Streaming { status, headers, response, idle: self.timeout })
    }
}

fn describe(e: reqwest::Error) -> String {
    #[cfg(not(target_arch = "wasm32"))]
    let connect = e.is_connect();
    #[cfg(target_arch = "wasm32")]
    let connect = false;
    let kind = if e.is_timeout() {
        "timeout"
    } else if connect {
        "connect failed"
    } else {
        "request failed"
    };
    // Strip the URL: it is in our logs already and may one day carry credentials.
    format!("{kind}: {}", e.without_url())
}
