//! Counters: per tier and upstream. Cheap atomics, read as a [`Stats`] snapshot.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;

/// Upper bounds (seconds) of the latency histograms: microsecond memory hits up to
/// multi-second cold fetches.
pub const LATENCY_BUCKETS: [f64; 20] = [
    0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025,
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A latency histogram with [`LATENCY_BUCKETS`]: lock-free counts, sum in nanoseconds.
#[derive(Debug, Default)]
pub struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        if let Some(i) = LATENCY_BUCKETS.iter().position(|&le| secs <= le) {
            self.buckets[i].fetch_add(1, Relaxed);
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_nanos.fetch_add(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX), Relaxed);
    }

    /// Cumulative counts, count and sum now.
    pub fn snapshot(&self) -> HistogramStats {
        let mut cumulative = 0;
        let buckets = LATENCY_BUCKETS
            .iter()
            .zip(&self.buckets)
            .map(|(&le, n)| {
                cumulative += n.load(Relaxed);
                (le, cumulative)
            })
            .collect();
        HistogramStats {
            buckets,
            count: self.count.load(Relaxed),
            sum_seconds: self.sum_nanos.load(Relaxed) as f64 / 1e9,
        }
    }
}

/// A histogram snapshot: cumulative counts per upper bound (seconds), as Prometheus has them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistogramStats {
    /// `(le, observations <= le)`, ascending; `+Inf` is `count`.
    pub buckets: Vec<(f64, u64)>,
    /// Observations.
    pub count: u64,
    /// Sum of all observations, seconds.
    pub sum_seconds: f64,
}

impl HistogramStats {
    /// The Prometheus sample rows (`name` suffix with labels, value) of this histogram,
    /// with `labels` (e.g. `route="/v1/klines"`, or empty) on every row.
    pub fn prometheus_rows(&self, labels: &str) -> Vec<(String, String)> {
        let with = |le: &str| match labels {
            "" => format!("_bucket{{le=\"{le}\"}}"),
            _ => format!("_bucket{{{labels},le=\"{le}\"}}"),
        };
        let plain = |suffix: &str| match labels {
            "" => suffix.to_owned(),
            _ => format!("{suffix}{{{labels}}}"),
        };
        let mut rows: Vec<(String, String)> =
            self.buckets.iter().map(|(le, n)| (with(&le.to_string()), n.to_string())).collect();
        rows.push((with("+Inf"), self.count.to_string()));
        rows.push((plain("_sum"), self.sum_seconds.to_string()));
        rows.push((plain("_count"), self.count.to_string()));
        rows
    }
}

/// Appends one Prometheus metric family (`# HELP`, `# TYPE`, then `name{labels} value`
/// per row) to `out`.
pub fn write_family(out: &mut String, name: &str, kind: &str, help: &str, rows: &[(String, String)]) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    for (labels, value) in rows {
        let _ = writeln!(out, "{name}{labels} {value}");
    }
}

/// Live counters of one tier.
#[derive(Debug, Default)]
pub struct TierCounters {
    hits: AtomicU64,
    misses: AtomicU64,
    corrupt: AtomicU64,
    errors: AtomicU64,
    writes: AtomicU64,
    bytes_read: AtomicU64,
    bytes_written: AtomicU64,
}

impl TierCounters {
    pub(crate) fn hit(&self, bytes: usize) {
        self.hits.fetch_add(1, Relaxed);
        self.bytes_read.fetch_add(bytes as u64, Relaxed);
    }
    pub(crate) fn miss(&self) {
        self.misses.fetch_add(1, Relaxed);
    }
    pub(crate) fn corrupt(&self) {
        self.corrupt.fetch_add(1, Relaxed);
        self.misses.fetch_add(1, Relaxed);
    }
    pub(crate) fn error(&self) {
        self.errors.fetch_add(1, Relaxed);
    }
    pub(crate) fn wrote(&self, bytes: usize) {
        self.writes.fetch_add(1, Relaxed);
        self.bytes_written.fetch_add(bytes as u64, Relaxed);
    }

    fn snapshot(&self, name: &str) -> TierStats {
        TierStats {
            name: name.to_string(),
            hits: self.hits.load(Relaxed),
            misses: self.misses.load(Relaxed),
            corrupt: self.corrupt.load(Relaxed),
            errors: self.errors.load(Relaxed),
            writes: self.writes.load(Relaxed),
            bytes_read: self.bytes_read.load(Relaxed),
            bytes_written: self.bytes_written.load(Relaxed),
            evictions: 0,
        }
    }
}

/// Live upstream counters, shared by the engine and the exchange adapters.
#[derive(Debug, Default)]
pub struct UpstreamCounters {
    requests: AtomicU64,
    retries: AtomicU64,
    rate_limited: AtomicU64,
    errors: AtomicU64,
    weight: AtomicU64,
    bytes: AtomicU64,
    segments_fetched: AtomicU64,
    throttle_waits: AtomicU64,
    archive_disagreements: AtomicU64,
    venues: Mutex<BTreeMap<String, VenueStats>>,
    durations: Histogram,
}

impl UpstreamCounters {
    pub(crate) fn request(&self, venue: &str, weight: u32) {
        self.requests.fetch_add(1, Relaxed);
        self.weight.fetch_add(u64::from(weight), Relaxed);
        self.venue(venue, |v| v.weight += u64::from(weight));
    }
    /// An answer (HTTP status, or `network_error`) from `venue` after `elapsed`.
    pub(crate) fn answered(&self, venue: &str, status: &str, elapsed: Duration) {
        self.durations.observe(elapsed);
        self.venue(venue, |v| *v.requests.entry(status.to_string()).or_default() += 1);
    }
    fn venue(&self, venue: &str, update: impl FnOnce(&mut VenueStats)) {
        let mut venues = self.venues.lock().unwrap_or_else(|e| e.into_inner());
        update(venues.entry(venue.to_string()).or_default());
    }
    pub(crate) fn retry(&self) {
        self.retries.fetch_add(1, Relaxed);
    }
    pub(crate) fn rate_limited(&self, venue: &str) {
        self.rate_limited.fetch_add(1, Relaxed);
        self.venue(venue, |v| v.rate_limited += 1);
    }
    pub(crate) fn error(&self) {
        self.errors.fetch_add(1, Relaxed);
    }
    pub(crate) fn received(&self, bytes: usize) {
        self.bytes.fetch_add(bytes as u64, Relaxed);
    }
    pub(crate) fn segment_fetched(&self) {
        self.segments_fetched.fetch_add(1, Relaxed);
    }
    pub(crate) fn throttle_wait(&self) {
        self.throttle_waits.fetch_add(1, Relaxed);
    }
    pub(crate) fn archive_disagreements(&self, rows: u64) {
        self.archive_disagreements.fetch_add(rows, Relaxed);
    }
}

/// Snapshot of one tier's counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TierStats {
    /// Tier name (`memory`, `disk`, ...).
    pub name: String,
    /// Segments served.
    pub hits: u64,
    /// Segments asked for and not there (including corrupt and expired ones).
    pub misses: u64,
    /// Values that failed their checks (counted in `misses` too), refetched and overwritten.
    pub corrupt: u64,
    /// Operations that failed (the query went on without this tier).
    pub errors: u64,
    /// Segments written.
    pub writes: u64,
    /// Bytes read on hits.
    pub bytes_read: u64,
    /// Bytes written.
    pub bytes_written: u64,
    /// Segments dropped to make room (the memory tier; 0 for the others).
    pub evictions: u64,
}

/// Upstream traffic of one venue (`binance-spot`, `okx`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VenueStats {
    /// Answers per HTTP status (`"200"`, `"429"`, ...; `"network_error"`: none came).
    pub requests: BTreeMap<String, u64>,
    /// Request weight spent (the venue's units).
    pub weight: u64,
    /// Throttling answers (429, 418, 403, 50011, 10028).
    pub rate_limited: u64,
}

/// Snapshot of upstream counters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpstreamStats {
    /// HTTP requests sent (including retries).
    pub requests: u64,
    /// Requests that were retries.
    pub retries: u64,
    /// Throttling answers received (429, 418, ...).
    pub rate_limited: u64,
    /// Requests that failed (any non-success outcome).
    pub errors: u64,
    /// Request weight spent (exchange units).
    pub weight: u64,
    /// Response bytes received.
    pub bytes: u64,
    /// Segments fetched from the exchange.
    pub segments_fetched: u64,
    /// Times the local rate limiter made a request wait.
    pub throttle_waits: u64,
    /// Rows an archive file had for a segment REST then served (the file lacked rows)
    /// that differ from REST's or that REST does not have. REST's rows were kept.
    pub archive_disagreements: u64,
    /// Per venue.
    pub venues: BTreeMap<String, VenueStats>,
    /// Time from sending a request to its answer.
    pub duration: HistogramStats,
}

impl UpstreamStats {
    /// Requests answered by the exchanges' bulk archives (venues named `*-archive`): files
    /// and their CHECKSUMs, which spend no API weight.
    pub fn archive_requests(&self) -> u64 {
        self.venues
            .iter()
            .filter(|(name, _)| name.ends_with("-archive"))
            .map(|(_, v)| v.requests.values().sum::<u64>())
            .sum()
    }

    /// What upstream did, in one line: `529 requests (weight 1076)`, with the archive
    /// files apart when there were any: `1 API request (weight 20), 29 archive files`.
    pub fn summary(&self) -> String {
        let archive = self.archive_requests();
        let api = self.requests.saturating_sub(archive);
        let plural = |n: u64, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        let mut text = format!("{} (weight {})", plural(api, "API request"), self.weight);
        if archive > 0 {
            text.push_str(&format!(
                ", {} ({:.1} MB in all)",
                plural(archive, "archive file request"),
                self.bytes as f64 / 1e6
            ));
        }
        text
    }
}

/// All counters of a cache, as returned by `Cache::stats()`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    /// Queries answered (successfully or not).
    pub queries: u64,
    /// One entry per configured tier, in lookup order.
    pub tiers: Vec<TierStats>,
    /// Exchange traffic.
    pub upstream: UpstreamStats,
    /// Background prefetches started (sequential reads).
    pub prefetches: u64,
    /// Stale segments served while a background refresh replaces them
    /// (stale-while-revalidate).
    pub revalidations: u64,
    /// Time to answer a query (candles, trades, funding), hits and misses alike.
    pub query_duration: HistogramStats,
}

impl Stats {
    /// The tier called `name`, if configured.
    pub fn tier(&self, name: &str) -> Option<&TierStats> {
        self.tiers.iter().find(|t| t.name == name)
    }
}

/// One tier's name, counters and evictions, for a snapshot.
pub(crate) type TierReading<'a> = (&'a str, &'a TierCounters, u64);

pub(crate) fn snapshot(
    queries: u64,
    tiers: &[TierReading<'_>],
    up: &UpstreamCounters,
    queries_took: &Histogram,
) -> Stats {
    Stats {
        queries,
        tiers: tiers
            .iter()
            .map(|(name, c, evictions)| TierStats { evictions: *evictions, ..c.snapshot(name) })
            .collect(),
        upstream: UpstreamStats {
            requests: up.requests.load(Relaxed),
            retries: up.retries.load(Relaxed),
            rate_limited: up.rate_limited.load(Relaxed),
            errors: up.errors.load(Relaxed),
            weight: up.weight.load(Relaxed),
            bytes: up.bytes.load(Relaxed),
            segments_fetched: up.segments_fetched.load(Relaxed),
            throttle_waits: up.throttle_waits.load(Relaxed),
            archive_disagreements: up.archive_disagreements.load(Relaxed),
            venues: up.venues.lock().unwrap_or_else(|e| e.into_inner()).clone(),
            duration: up.durations.snapshot(),
        },
        prefetches: 0,
        revalidations: 0,
        query_duration: queries_took.snapshot(),
    }
}

impl Stats {
    /// The counters in Prometheus text format (0.0.4): `cryptocache_requests_total{tier,
    /// result}`, `cryptocache_evictions_total{tier}`, `cryptocache_corrupt_total{tier}`,
    /// `cryptocache_upstream_requests_total{exchange,status}`,
    /// `cryptocache_upstream_weight_total{exchange}`, `cryptocache_rate_limited_total{exchange}`,
    /// the histograms `cryptocache_query_duration_seconds` and
    /// `cryptocache_upstream_duration_seconds`, and a few more. The hit ratio is
    /// `sum(rate(cryptocache_requests_total{result="hit"}[5m])) / sum(rate(cryptocache_requests_total[5m]))`.
    pub fn prometheus(&self) -> String {
        let mut out = String::new();
        let mut family = |name: &str, kind: &str, help: &str, rows: Vec<(String, String)>| {
            write_family(&mut out, name, kind, help, &rows)
        };
        let tier = |f: fn(&TierStats) -> u64| -> Vec<(String, String)> {
            self.tiers.iter().map(|t| (format!("{{tier=\"{}\"}}", t.name), f(t).to_string())).collect()
        };
        family(
            "cryptocache_queries_total",
            "counter",
            "Queries answered.",
            vec![(String::new(), self.queries.to_string())],
        );
        let mut requests = Vec::new();
        for t in &self.tiers {
            requests.push((format!("{{tier=\"{}\",result=\"hit\"}}", t.name), t.hits.to_string()));
            requests.push((format!("{{tier=\"{}\",result=\"miss\"}}", t.name), t.misses.to_string()));
        }
        family("cryptocache_requests_total", "counter", "Segment lookups per tier and result.", requests);
        family(
            "cryptocache_evictions_total",
            "counter",
            "Segments dropped to make room.",
            tier(|t| t.evictions),
        );
        family(
            "cryptocache_corrupt_total",
            "counter",
            "Values that failed their checks (refetched).",
            tier(|t| t.corrupt),
        );
        family(
            "cryptocache_tier_errors_total",
            "counter",
            "Tier operations that failed.",
            tier(|t| t.errors),
        );
        family("cryptocache_tier_writes_total", "counter", "Segments written.", tier(|t| t.writes));
        family("cryptocache_tier_read_bytes_total", "counter", "Bytes read on hits.", tier(|t| t.bytes_read));
        family(
            "cryptocache_tier_written_bytes_total",
            "counter",
            "Bytes written.",
            tier(|t| t.bytes_written),
        );
        let venues = &self.upstream.venues;
        let by_status = venues
            .iter()
            .flat_map(|(venue, v)| {
                v.requests.iter().map(move |(status, n)| {
                    (format!("{{exchange=\"{venue}\",status=\"{status}\"}}"), n.to_string())
                })
            })
            .collect();
        family(
            "cryptocache_upstream_requests_total",
            "counter",
            "Exchange answers per venue and HTTP status.",
            by_status,
        );
        let per_venue = |f: fn(&VenueStats) -> u64| -> Vec<(String, String)> {
            venues.iter().map(|(venue, v)| (format!("{{exchange=\"{venue}\"}}"), f(v).to_string())).collect()
        };
        family(
            "cryptocache_upstream_weight_total",
            "counter",
            "Request weight spent per venue.",
            per_venue(|v| v.weight),
        );
        family(
            "cryptocache_rate_limited_total",
            "counter",
            "Throttling answers per venue.",
            per_venue(|v| v.rate_limited),
        );
        let up = &self.upstream;
        let one = |v: u64| vec![(String::new(), v.to_string())];
        family(
            "cryptocache_upstream_retries_total",
            "counter",
            "Requests that were retries.",
            one(up.retries),
        );
        family(
            "cryptocache_upstream_received_bytes_total",
            "counter",
            "Response bytes received.",
            one(up.bytes),
        );
        family(
            "cryptocache_segments_fetched_total",
            "counter",
            "Segments fetched from exchanges.",
            one(up.segments_fetched),
        );
        family(
            "cryptocache_throttle_waits_total",
            "counter",
            "Waits imposed by the rate budget.",
            one(up.throttle_waits),
        );
        family(
            "cryptocache_archive_disagreements_total",
            "counter",
            "Archive rows that differed from REST's for the same segment (REST kept).",
            one(up.archive_disagreements),
        );
        family(
            "cryptocache_prefetches_total",
            "counter",
            "Background prefetches started.",
            one(self.prefetches),
        );
        family(
            "cryptocache_revalidations_total",
            "counter",
            "Stale segments served while a background refresh replaces them.",
            one(self.revalidations),
        );
        for (name, help, h) in [
            ("cryptocache_query_duration_seconds", "Time to answer a query.", &self.query_duration),
            (
                "cryptocache_upstream_duration_seconds",
                "Time for an exchange to answer a request.",
                &up.duration,
            ),
        ] {
            family(name, "histogram", help, h.prometheus_rows(""));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_tells_api_requests_from_archive_files() {
        let up = UpstreamCounters::default();
        up.request("binance-spot", 20);
        up.answered("binance-spot", "200", Duration::from_millis(80));
        for _ in 0..2 {
            up.request("binance-archive", 0);
            up.answered("binance-archive", "200", Duration::from_millis(80));
        }
        up.received(2_500_000);
        let stats = snapshot(0, &[], &up, &Histogram::default()).upstream;
        assert_eq!(stats.archive_requests(), 2);
        assert_eq!(stats.summary(), "1 API request (weight 20), 2 archive file requests (2.5 MB in all)");
        let none = snapshot(0, &[], &UpstreamCounters::default(), &Histogram::default()).upstream;
        assert_eq!(none.summary(), "0 API requests (weight 0)");
    }

    #[test]
    fn prometheus_text_has_every_family_and_cumulative_buckets() {
        let tiers = TierCounters::default();
        tiers.hit(100);
        tiers.miss();
        let up = UpstreamCounters::default();
        up.request("okx", 1);
        up.answered("okx", "200", Duration::from_millis(80));
        up.rate_limited("okx");
        let queries = Histogram::default();
        queries.observe(Duration::from_micros(3));
        queries.observe(Duration::from_millis(120));
        let text = snapshot(2, &[("memory", &tiers, 4)], &up, &queries).prometheus();
        for line in [
            "cryptocache_requests_total{tier=\"memory\",result=\"hit\"} 1",
            "cryptocache_requests_total{tier=\"memory\",result=\"miss\"} 1",
            "cryptocache_evictions_total{tier=\"memory\"} 4",
            "cryptocache_upstream_requests_total{exchange=\"okx\",status=\"200\"} 1",
            "cryptocache_upstream_weight_total{exchange=\"okx\"} 1",
            "cryptocache_rate_limited_total{exchange=\"okx\"} 1",
            "cryptocache_query_duration_seconds_bucket{le=\"0.000005\"} 1",
            "cryptocache_query_duration_seconds_bucket{le=\"0.1\"} 1",
            "cryptocache_query_duration_seconds_bucket{le=\"0.25\"} 2",
            "cryptocache_query_duration_seconds_bucket{le=\"+Inf\"} 2",
            "cryptocache_query_duration_seconds_count 2",
            "cryptocache_upstream_duration_seconds_count 1",
            "# TYPE cryptocache_upstream_duration_seconds histogram",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
        // Every sample line is `name{labels} number`.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let value = line.rsplit(' ').next().unwrap_or("");
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }
}
