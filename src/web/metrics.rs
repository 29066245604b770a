//! `metrics()`: the agent's counters as the plain JS object `AgentMetrics`
//! (`types.rs`), made by serde-wasm-bindgen from a view of them.

use super::driver::Driver;
use crate::core::{ErrorCounts, Priority};
use serde::ser::{Serialize, Serializer};
use wasm_bindgen::JsValue;

/// `AgentMetrics`, field for field, in its order. Counters are `f64`: a JS
/// number is what the page gets.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct MetricsView<'a> {
    state: &'static str,
    connects: f64,
    reconnects: f64,
    frames_in: f64,
    frames_out: f64,
    bytes_in: f64,
    bytes_out: f64,
    events_dispatched: f64,
    pending_requests: usize,
    buffered: usize,
    timeouts: f64,
    volatile_dropped: f64,
    errors: Errors<'a>,
    last_ping_ms: Option<f64>,
    dispatch_p50_us: Option<u32>,
    dispatch_p99_us: Option<u32>,
    subscribers: u32,
    state_sync: StateSync,
    transport: Option<&'static str>,
    upgrades: f64,
    buffered_by_priority: ByPriority,
    low_dropped: f64,
    congested: bool,
    acks_dropped: f64,
}

/// `AgentMetrics.bufferedByPriority`: of `buffered`, how many of each
/// priority.
#[derive(serde::Serialize)]
struct ByPriority {
    high: usize,
    normal: usize,
    low: usize,
}

/// `AgentMetrics.stateSync`: the sync store's counters.
#[derive(serde::Serialize)]
struct StateSync {
    gaps: f64,
    resyncs: f64,
    rollbacks: f64,
    conflicts: f64,
}

/// A counter as a JS number (the nearest one beyond 2^53, which no counter
/// reaches in practice, rather than an error).
fn number(n: u64) -> f64 {
    n as f64
}

/// The errors by code, as an object in the order they were first counted.
struct Errors<'a>(&'a ErrorCounts);

impl Serialize for Errors<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(code, n)| (code, number(n))))
    }
}

impl Driver {
    /// A snapshot of the counters, the fast path's included.
    pub(crate) fn metrics(&self) -> Result<JsValue, JsValue> {
        self.drain_fast_path();
        let (upgrades, last_ping_ms) = self.link_metrics();
        let transport = self.transport();
        let agent = self.agent();
        let client = agent.client();
        let m = client.metrics();
        let view = MetricsView {
            state: client.state().as_str(),
            connects: number(m.connects),
            reconnects: number(m.reconnects),
            frames_in: number(m.frames_in),
            frames_out: number(m.frames_out),
            bytes_in: number(m.bytes_in),
            bytes_out: number(m.bytes_out),
            events_dispatched: number(m.events_dispatched),
            pending_requests: client.pending_count(),
            buffered: client.buffered_count(),
            timeouts: number(m.timeouts),
            volatile_dropped: number(m.volatile_dropped),
            errors: Errors(&m.errors),
            last_ping_ms: last_ping_ms.map(number),
            dispatch_p50_us: m.dispatch_percentile(50.0),
            dispatch_p99_us: m.dispatch_percentile(99.0),
            subscribers: self.hub.count(),
            state_sync: {
                let c = agent.store().counters();
                StateSync {
                    gaps: number(c.gaps),
                    resyncs: number(c.resyncs),
                    rollbacks: number(c.rollbacks),
                    conflicts: number(c.conflicts),
                }
            },
            transport: transport.map(|t| t.as_str()),
            upgrades: number(upgrades),
            buffered_by_priority: ByPriority {
                high: client.buffered_of(Priority::High),
                normal: client.buffered_of(Priority::Normal),
                low: client.buffered_of(Priority::Low),
            },
            low_dropped: number(m.low_dropped),
            congested: client.congested(),
            acks_dropped: number(m.acks_dropped),
        };
        // Plain objects, and `null` for what is not known yet.
        let out = serde_wasm_bindgen::Serializer::new()
            .serialize_maps_as_objects(true)
            .serialize_missing_as_null(true);
        view.serialize(&out).map_err(JsValue::from)
    }
}
