//! Counters for `GET /metrics`, rendered in the Prometheus text format by hand
//! (no metrics crate needed for a handful of series).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the reply latency histogram buckets.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Default)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

/// The server's counters. Cheap to update from any task.
#[derive(Debug, Default)]
pub struct Metrics {
    connections: AtomicI64,
    connections_total: AtomicU64,
    rate_limited: AtomicU64,
    events_in: Mutex<BTreeMap<String, u64>>,
    events_out: Mutex<BTreeMap<String, u64>>,
    errors: Mutex<BTreeMap<String, u64>>,
    latency: Mutex<Histogram>,
}

fn bump(map: &Mutex<BTreeMap<String, u64>>, key: &str) {
    let mut m = map.lock().unwrap_or_else(|p| p.into_inner());
    match m.get_mut(key) {
        Some(n) => *n = n.saturating_add(1),
        None => {
            m.insert(key.to_owned(), 1);
        }
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    /// Takes one of `max` connection slots, atomically: false when all are
    /// taken. Give it back with [`disconnected`](Self::disconnected) (on a
    /// refusal too); count the join with [`joined`](Self::joined).
    pub fn try_reserve(&self, max: usize) -> bool {
        let max = i64::try_from(max).unwrap_or(i64::MAX);
        self.connections
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .is_ok()
    }

    /// A socket whose slot was reserved joined.
    pub fn joined(&self) {
        self.connections_total.fetch_add(1, Ordering::Relaxed);
    }

    /// A socket left.
    pub fn disconnected(&self) {
        self.connections.fetch_sub(1, Ordering::Relaxed);
    }

    /// Sockets connected now.
    pub fn connections(&self) -> i64 {
        self.connections.load(Ordering::Relaxed)
    }

    /// An event came in. Use a catalogue name or `_unknown` (bounded labels).
    pub fn event_in(&self, name: &str) {
        bump(&self.events_in, name);
    }

    /// An event went out.
    pub fn event_out(&self, name: &str) {
        bump(&self.events_out, name);
    }

    /// An `error` with `code` was sent.
    pub fn error(&self, code: &str) {
        bump(&self.errors, code);
    }

    /// An event was dropped by the rate limiter.
    pub fn rate_limited(&self) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    /// How many events were rate limited so far.
    pub fn rate_limited_count(&self) -> u64 {
        self.rate_limited.load(Ordering::Relaxed)
    }

    /// A request was answered after `elapsed`.
    pub fn observe_latency(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let mut h = self.latency.lock().unwrap_or_else(|p| p.into_inner());
        if h.counts.len() != LATENCY_BUCKETS.len() {
            h.counts = vec![0; LATENCY_BUCKETS.len()];
        }
        for (bound, count) in LATENCY_BUCKETS.iter().zip(h.counts.iter_mut()) {
            if secs <= *bound {
                *count = count.saturating_add(1);
            }
        }
        h.sum += secs;
        h.count = h.count.saturating_add(1);
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP frinny_connections Socket.IO connections open now."
        );
        let _ = writeln!(out, "# TYPE frinny_connections gauge");
        let _ = writeln!(out, "frinny_connections {}", self.connections());
        let _ = writeln!(
            out,
            "# HELP frinny_connections_total Socket.IO connections accepted."
        );
        let _ = writeln!(out, "# TYPE frinny_connections_total counter");
        let _ = writeln!(
            out,
            "frinny_connections_total {}",
            self.connections_total.load(Ordering::Relaxed)
        );
        for (name, help, map) in [
            (
                "frinny_events_in_total",
                "Events received, by name.",
                &self.events_in,
            ),
            (
                "frinny_events_out_total",
                "Events sent, by name.",
                &self.events_out,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            let m = map.lock().unwrap_or_else(|p| p.into_inner());
            for (event, n) in m.iter() {
                let _ = writeln!(out, "{name}{{event=\"{}\"}} {n}", escape(event));
            }
        }
        let _ = writeln!(
            out,
            "# HELP frinny_errors_total Errors sent to clients, by code."
        );
        let _ = writeln!(out, "# TYPE frinny_errors_total counter");
        {
            let m = self.errors.lock().unwrap_or_else(|p| p.into_inner());
            for (code, n) in m.iter() {
                let _ = writeln!(out, "frinny_errors_total{{code=\"{}\"}} {n}", escape(code));
            }
        }
        let _ = writeln!(
            out,
            "# HELP frinny_rate_limited_total Events dropped by the rate limiter."
        );
        let _ = writeln!(out, "# TYPE frinny_rate_limited_total counter");
        let _ = writeln!(
            out,
            "frinny_rate_limited_total {}",
            self.rate_limited_count()
        );
        let _ = writeln!(
            out,
            "# HELP frinny_reply_latency_seconds Time from request to reply."
        );
        let _ = writeln!(out, "# TYPE frinny_reply_latency_seconds histogram");
        let h = self.latency.lock().unwrap_or_else(|p| p.into_inner());
        for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
            let n = h.counts.get(i).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "frinny_reply_latency_seconds_bucket{{le=\"{bound}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "frinny_reply_latency_seconds_bucket{{le=\"+Inf\"}} {}",
            h.count
        );
        let _ = writeln!(out, "frinny_reply_latency_seconds_sum {}", h.sum);
        let _ = writeln!(out, "frinny_reply_latency_seconds_count {}", h.count);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_all_series() {
        let m = Metrics::default();
        assert!(m.try_reserve(1));
        assert!(!m.try_reserve(1), "one slot only");
        m.joined();
        m.event_in("query");
        m.event_in("query");
        m.event_out("query_response");
        m.error("RATE_LIMITED");
        m.rate_limited();
        m.observe_latency(Duration::from_millis(30));
        let text = m.render();
        assert!(text.contains("frinny_connections 1"));
        assert!(text.contains("frinny_events_in_total{event=\"query\"} 2"));
        assert!(text.contains("frinny_events_out_total{event=\"query_response\"} 1"));
        assert!(text.contains("frinny_errors_total{code=\"RATE_LIMITED\"} 1"));
        assert!(text.contains("frinny_rate_limited_total 1"));
        assert!(text.contains("frinny_reply_latency_seconds_bucket{le=\"0.025\"} 0"));
        assert!(text.contains("frinny_reply_latency_seconds_bucket{le=\"0.05\"} 1"));
        assert!(text.contains("frinny_reply_latency_seconds_count 1"));
    }
}
