//! Counters and gauges, rendered in the Prometheus text format at `/metrics`. Plain atomics: the
//! proxy needs a dozen numbers, not a metrics framework.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use postbag_protocol::tunnel::ErrorKind;

/// Upper bounds (seconds) of the connect-latency histogram buckets.
const LATENCY_BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Debug, Default)]
pub struct Metrics {
    pub tunnels_open: AtomicU64,
    pub tunnels_total: AtomicU64,
    pub bytes_to_upstream: AtomicU64,
    pub bytes_to_client: AtomicU64,
    /// Of `bytes_to_client`, those moved by splice(2), never copied through the proxy.
    pub bytes_to_client_spliced: AtomicU64,
    pub connects_ok: AtomicU64,
    errors: [AtomicU64; ErrorKind::ALL.len()],
    latency_buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
    /// Bytes read from mail servers and not yet written to browsers, over all tunnels.
    pub buffered_bytes: AtomicU64,
    /// The highest `buffered_bytes` seen since start.
    pub buffered_bytes_high_water: AtomicU64,
}

impl Metrics {
    pub fn error(&self, kind: ErrorKind) {
        let i = ErrorKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
        self.errors[i].fetch_add(1, Relaxed);
    }

    pub fn connect_latency(&self, secs: f64) {
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.latency_buckets) {
            if secs <= *bound {
                bucket.fetch_add(1, Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Relaxed);
        self.latency_sum_micros
            .fetch_add((secs * 1e6) as u64, Relaxed);
    }

    pub fn buffer_add(&self, n: usize) {
        let now = self.buffered_bytes.fetch_add(n as u64, Relaxed) + n as u64;
        self.buffered_bytes_high_water.fetch_max(now, Relaxed);
    }

    pub fn buffer_sub(&self, n: usize) {
        self.buffered_bytes.fetch_sub(n as u64, Relaxed);
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut one = |name: &str, kind: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        one(
            "postbag_tunnels_open",
            "gauge",
            "Open tunnels.",
            self.tunnels_open.load(Relaxed),
        );
        one(
            "postbag_tunnels_total",
            "counter",
            "Tunnels accepted.",
            self.tunnels_total.load(Relaxed),
        );
        one(
            "postbag_bytes_to_upstream_total",
            "counter",
            "Bytes relayed from browsers to mail servers.",
            self.bytes_to_upstream.load(Relaxed),
        );
        one(
            "postbag_bytes_to_client_total",
            "counter",
            "Bytes relayed from mail servers to browsers.",
            self.bytes_to_client.load(Relaxed),
        );
        one(
            "postbag_bytes_to_client_spliced_total",
            "counter",
            "Of the bytes to browsers, those moved by splice(2) without a copy (Linux, plain upstreams).",
            self.bytes_to_client_spliced.load(Relaxed),
        );
        one(
            "postbag_connects_total",
            "counter",
            "Upstream connections opened.",
            self.connects_ok.load(Relaxed),
        );
        one(
            "postbag_buffered_bytes",
            "gauge",
            "Bytes read from mail servers not yet written to browsers.",
            self.buffered_bytes.load(Relaxed),
        );
        one(
            "postbag_buffered_bytes_high_water",
            "gauge",
            "Highest postbag_buffered_bytes since start.",
            self.buffered_bytes_high_water.load(Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP postbag_errors_total Tunnel errors by kind.\n# TYPE postbag_errors_total counter"
        );
        for (kind, n) in ErrorKind::ALL.iter().zip(&self.errors) {
            let _ = writeln!(
                out,
                "postbag_errors_total{{kind=\"{}\"}} {}",
                kind.as_str(),
                n.load(Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP postbag_connect_seconds DNS + TCP + TLS time of upstream connects.\n\
             # TYPE postbag_connect_seconds histogram"
        );
        for (bound, n) in LATENCY_BUCKETS.iter().zip(&self.latency_buckets) {
            let _ = writeln!(
                out,
                "postbag_connect_seconds_bucket{{le=\"{bound}\"}} {}",
                n.load(Relaxed)
            );
        }
        let count = self.latency_count.load(Relaxed);
        let _ = writeln!(out, "postbag_connect_seconds_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.latency_sum_micros.load(Relaxed) as f64 / 1e6;
        let _ = writeln!(
            out,
            "postbag_connect_seconds_sum {sum}\npostbag_connect_seconds_count {count}"
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_series() {
        let m = Metrics::default();
        m.error(ErrorKind::ForbiddenTarget);
        m.connect_latency(0.02);
        m.buffer_add(100);
        m.buffer_sub(60);
        m.buffer_add(10);
        let text = m.render();
        assert!(text.contains("postbag_errors_total{kind=\"forbidden_target\"} 1\n"));
        assert!(text.contains("postbag_errors_total{kind=\"refused\"} 0\n"));
        assert!(text.contains("postbag_connect_seconds_bucket{le=\"0.01\"} 0\n"));
        assert!(text.contains("postbag_connect_seconds_bucket{le=\"0.025\"} 1\n"));
        assert!(text.contains("postbag_connect_seconds_count 1\n"));
        assert!(text.contains("postbag_buffered_bytes 50\n"));
        assert!(text.contains("postbag_buffered_bytes_high_water 100\n"));
    }
}
