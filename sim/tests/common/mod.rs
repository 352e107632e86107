//! Test helpers: a tiny raw HTTP/1.1 client over loopback (no client crate)
//! and kline-row parsing the way a client would do it.

#![allow(dead_code, clippy::unwrap_used, missing_docs)]

use std::time::Duration;

use cryptocache_sim::{Sim, SimConfig, SimKline};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// 2024-01-30 19:00:00 UTC, a fixed simulated "now" for most tests.
pub const NOW: i64 = 1_706_641_200_000;
pub const MIN: i64 = 60_000;
pub const HOUR: i64 = 3_600_000;
pub const DAY: i64 = 86_400_000;

/// One HTTP reply.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// `(code, msg)` of a Binance error body.
    pub fn error(&self) -> (i64, String) {
        let v = self.json();
        (v["code"].as_i64().unwrap(), v["msg"].as_str().unwrap().to_string())
    }

    pub fn used_weight(&self) -> Option<u32> {
        self.header("x-mbx-used-weight-1m").map(|v| v.parse().unwrap())
    }
}

/// Sends one request (`Connection: close`) and reads the whole reply,
/// checking that the body has exactly the announced `Content-Length`.
pub async fn request(base: &str, method: &str, target: &str, body: Option<&str>) -> Reply {
    let host = base.strip_prefix("http://").unwrap();
    let mut stream = TcpStream::connect(host).await.unwrap();
    let body = body.unwrap_or("");
    let head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    parse_reply(&raw)
}

fn parse_reply(raw: &[u8]) -> Reply {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("end of head");
    let head = std::str::from_utf8(&raw[..split]).unwrap();
    let rest = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap();
            (k.trim().to_string(), v.trim().to_string())
        })
        .collect();
    let find =
        |name: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
    let body = if let Some(len) = find("content-length") {
        let len: usize = len.parse().unwrap();
        assert_eq!(rest.len(), len, "body length differs from Content-Length");
        rest.to_vec()
    } else if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    Reply { status, headers, body }
}

fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = rest.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&rest[..eol]).unwrap().trim(), 16).unwrap();
        rest = &rest[eol + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

pub async fn get(sim: &Sim, target: &str) -> Reply {
    request(&sim.url(), "GET", target, None).await
}

pub async fn post(sim: &Sim, target: &str, body: &str) -> Reply {
    request(&sim.url(), "POST", target, Some(body)).await
}

/// A simulator with the clock fixed at [`NOW`].
pub async fn sim_at(now: i64) -> Sim {
    Sim::start(SimConfig { now_ms: Some(now), ..SimConfig::default() }).await.unwrap()
}

/// The rows of a klines reply (asserts 200).
pub fn rows(reply: &Reply) -> Vec<Vec<Value>> {
    assert_eq!(reply.status, 200, "{}", reply.text());
    serde_json::from_value(reply.json()).unwrap()
}

/// A 12-slot kline row parsed as a client would (numbers in 0, 6, 8; strings elsewhere).
pub fn parse_row(row: &[Value]) -> SimKline {
    assert_eq!(row.len(), 12, "{row:?}");
    let s = |i: usize| -> f64 {
        row[i].as_str().unwrap_or_else(|| panic!("slot {i} not a string: {row:?}")).parse().unwrap()
    };
    let n =
        |i: usize| -> i64 { row[i].as_i64().unwrap_or_else(|| panic!("slot {i} not an integer: {row:?}")) };
    assert_eq!(row[11], Value::from("0"));
    SimKline {
        open_time: n(0),
        open: s(1),
        high: s(2),
        low: s(3),
        close: s(4),
        volume: s(5),
        close_time: n(6),
        quote_volume: s(7),
        trades: row[8].as_u64().unwrap(),
        taker_buy_base: s(9),
        taker_buy_quote: s(10),
    }
}

pub fn open_times(reply: &Reply) -> Vec<i64> {
    rows(reply).iter().map(|r| r[0].as_i64().unwrap()).collect()
}

/// Real wall-clock ms.
pub fn wall_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

/// Sleeps into the next weight window if fewer than `margin` remain in the current one.
pub async fn fresh_window(window: Duration, margin: Duration) {
    let w = window.as_millis() as i64;
    let left = w - wall_ms().rem_euclid(w);
    if left < margin.as_millis() as i64 {
        tokio::time::sleep(Duration::from_millis(left as u64 + 20)).await;
    }
}
