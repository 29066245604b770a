//! Counters the client keeps about itself, for `metrics()`.

/// How many dispatch durations the percentile window keeps.
const WINDOW: usize = 1024;

/// What the client has done since it was made. Cheap to update on the hot
/// path (plain integer adds); percentiles are computed only when read.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    /// Namespace joins that succeeded.
    pub connects: u64,
    /// Of those, joins after a lost link.
    pub reconnects: u64,
    /// WebSocket frames received / sent.
    pub frames_in: u64,
    /// WebSocket frames sent.
    pub frames_out: u64,
    /// Bytes received (text frames counted as UTF-8).
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Events handed to subscribers.
    pub events_dispatched: u64,
    /// Requests that timed out.
    pub timeouts: u64,
    /// Volatile emits dropped while not connected (or the socket
    /// congested).
    pub volatile_dropped: u64,
    /// Low-priority emits and requests given up from a full buffer to make
    /// room for more urgent ones.
    pub low_dropped: u64,
    /// Answers to the server's acks that went nowhere: a second answer to
    /// one event, or one after the link the event came on ended.
    pub acks_dropped: u64,
    /// Upgrades from long-polling to WebSocket.
    pub upgrades: u64,
    /// Errors by stable code (protocol errors by the decoder's code).
    pub errors: ErrorCounts,
    /// When the server last pinged us, in the client's clock (ms).
    pub last_ping_ms: Option<u64>,
    dispatch_us: Vec<u32>,
    dispatch_next: usize,
}

/// Error counts by stable code, in code order (an object in `metrics()`).
/// A sorted list rather than a `BTreeMap`: there are a handful of codes,
/// and a `BTreeMap` of this type cost ~6 KB of wasm.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorCounts(Vec<(String, u64)>);

impl ErrorCounts {
    /// How many errors of `code` were counted, if any.
    pub fn get(&self, code: &str) -> Option<&u64> {
        self.0.iter().find(|(c, _)| c == code).map(|(_, n)| n)
    }

    /// `(code, count)` in code order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.0.iter().map(|(c, n)| (c.as_str(), *n))
    }

    /// True if no error was counted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Metrics {
    /// Counts one error under `code`.
    pub fn count_error(&mut self, code: &str) {
        self.count_errors(code, 1);
    }

    /// Counts `n` errors under `code`.
    pub fn count_errors(&mut self, code: &str, n: u64) {
        match self
            .errors
            .0
            .binary_search_by(|(c, _)| c.as_str().cmp(code))
        {
            Ok(i) => {
                if let Some((_, count)) = self.errors.0.get_mut(i) {
                    *count += n;
                }
            }
            Err(i) => self.errors.0.insert(i, (code.to_owned(), n)),
        }
    }

    /// Records how long one dispatch took, in microseconds. Keeps the last
    /// 1024 samples, so memory stays fixed however long the page lives.
    pub fn record_dispatch(&mut self, micros: u32) {
        if self.dispatch_us.len() < WINDOW {
            self.dispatch_us.push(micros);
        } else if let Some(slot) = self.dispatch_us.get_mut(self.dispatch_next) {
            *slot = micros;
        }
        self.dispatch_next = (self.dispatch_next + 1) % WINDOW;
    }

    /// The `p`th percentile (0–100) of recent dispatch times, in µs.
    ///
    /// ```
    /// let mut m = frinny_agent::core::Metrics::default();
    /// for us in 1..=100 { m.record_dispatch(us); }
    /// assert_eq!(m.dispatch_percentile(50.0), Some(50));
    /// assert_eq!(m.dispatch_percentile(99.0), Some(99));
    /// ```
    pub fn dispatch_percentile(&self, p: f64) -> Option<u32> {
        let mut sorted = self.dispatch_us.clone();
        super::sort::sort(&mut sorted);
        let n = sorted.len();
        if n == 0 {
            return None;
        }
        let rank = ((p.clamp(0.0, 100.0) / 100.0) * n as f64).ceil() as usize;
        sorted.get(rank.clamp(1, n) - 1).copied()
    }
}
