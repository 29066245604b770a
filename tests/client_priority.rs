//! Priorities of the sans-IO client, driven natively with simulated time:
//! what waits (offline, or while the socket's `bufferedAmount` is over the
//! high-water mark, or for a polling POST) leaves high, then normal, then
//! low, first in first out within one; a full buffer gives up its oldest
//! low item for a more urgent one (a request so given up settles with
//! BUFFER_FULL, once; an emit is reported through `Output::Error`), and
//! everything else still gets BUFFER_FULL; queued requests keep their
//! timeouts; a call without a priority is normal and behaves as before.
#![cfg(not(target_arch = "wasm32"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use frinny_agent::core::{
    Client, ClientError, Config, EmitOptions, ErrorCode, HttpKind, Output, Priority, RequestKey,
    RequestOptions, State, Transport, BACKPRESSURE_RECHECK_MS,
};
use proptest::prelude::*;
use std::collections::HashMap;

const OPEN: &str =
    r#"0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
const MARK: u64 = 1000;
const PH0: &str = r#"{"_placeholder":true,"num":0}"#;

use Priority::{High, Low, Normal};

/// A client over WebSocket and what it has output so far.
struct H {
    c: Client,
    now: u64,
    sent: Vec<String>,
    binary: Vec<Vec<u8>>,
    settled: HashMap<RequestKey, Vec<Result<String, ErrorCode>>>,
    errors: Vec<ClientError>,
    /// How many times the client asked for `bufferedAmount`.
    checks: usize,
}

impl H {
    fn new(buffer_size: usize) -> H {
        let mut cfg = Config::new("http://127.0.0.1:5001");
        cfg.transports = vec![Transport::WebSocket];
        cfg.buffer_size = buffer_size;
        cfg.high_water_mark = MARK;
        H {
            c: Client::new(cfg, 3),
            now: 0,
            sent: vec![],
            binary: vec![],
            settled: HashMap::new(),
            errors: vec![],
            checks: 0,
        }
    }

    fn drain(&mut self) {
        while let Some(o) = self.c.poll_output() {
            match o {
                Output::SendText(t) => self.sent.push(t),
                Output::SendBinary(b) => self.binary.push(b),
                Output::Settled { key, result, .. } => self
                    .settled
                    .entry(key)
                    .or_default()
                    .push(result.map_err(|e| e.code)),
                Output::Error(e) => self.errors.push(e),
                Output::CheckBackpressure => self.checks += 1,
                _ => {}
            }
        }
    }

    fn advance(&mut self, ms: u64) {
        let end = self.now + ms;
        while let Some(t) = self.c.poll_timeout() {
            if t > end {
                break;
            }
            self.now = self.now.max(t);
            self.c.on_timer(self.now);
            self.drain();
        }
        self.now = end;
        self.c.on_timer(self.now);
        self.drain();
    }

    /// connect() and, whatever the state, through to joined (waiting out a
    /// backoff if there is one).
    fn join(&mut self) {
        if self.c.state() == State::Connected {
            return;
        }
        self.c.connect(self.now);
        self.drain();
        if let Some(at) = self.c.next_attempt_at() {
            self.advance(at.saturating_sub(self.now));
        }
        self.c.on_open(self.now);
        self.c.on_text(self.now, OPEN);
        self.c.on_text(self.now, r#"40{"sid":"n1"}"#);
        self.drain();
        assert_eq!(self.c.state(), State::Connected);
    }

    fn lose_link(&mut self) {
        self.c.on_close(self.now, "transport close");
        self.drain();
    }

    /// The shell reports the socket's `bufferedAmount`.
    fn buffered(&mut self, bytes: u64) {
        self.c.on_backpressure(self.now, bytes);
        self.drain();
    }

    fn emit(&mut self, event: &str, priority: Priority) -> Result<(), ErrorCode> {
        let opts = EmitOptions {
            priority,
            ..EmitOptions::default()
        };
        let r = self.c.emit_with(event, Some("1"), vec![], opts);
        self.drain();
        r.map_err(|e| e.code)
    }

    fn request(&mut self, event: &str, priority: Priority) -> Result<RequestKey, ErrorCode> {
        self.request_with(event, priority, None)
    }

    fn request_with(
        &mut self,
        event: &str,
        priority: Priority,
        timeout_ms: Option<u64>,
    ) -> Result<RequestKey, ErrorCode> {
        let opts = RequestOptions {
            priority,
            timeout_ms,
            ..RequestOptions::default()
        };
        let r = self.c.request(self.now, event, "{}", opts);
        self.drain();
        r.map_err(|e| e.code)
    }

    /// The event names sent since frame `from`.
    fn names_since(&self, from: usize) -> Vec<String> {
        self.sent[from..]
            .iter()
            .filter_map(|f| event_name(f))
            .collect()
    }

    fn one(&self, k: RequestKey) -> Result<String, ErrorCode> {
        let s = self.settled.get(&k).expect("settled");
        assert_eq!(s.len(), 1, "settled more than once: {s:?}");
        s[0].clone()
    }
}

/// The event name of an EVENT or BINARY_EVENT frame.
fn event_name(frame: &str) -> Option<String> {
    if !(frame.starts_with("42") || frame.starts_with("45")) {
        return None;
    }
    let start = frame.find('[')?;
    let v: serde_json::Value = serde_json::from_str(&frame[start..]).ok()?;
    v[0].as_str().map(str::to_owned)
}

fn ack_id_of(frame: &str) -> u64 {
    frame[2..frame.find('[').unwrap()].parse().unwrap()
}

#[test]
fn the_offline_queue_leaves_high_then_normal_then_low_first_in_first_out_within_one() {
    let mut h = H::new(100);
    h.emit("l1", Low).unwrap();
    h.emit("n1", Normal).unwrap();
    h.request("rl1", Low).unwrap();
    h.emit("h1", High).unwrap();
    h.request("rn1", Normal).unwrap();
    h.emit("l2", Low).unwrap();
    h.request("rh1", High).unwrap();
    h.emit("h2", High).unwrap();
    h.emit("n2", Normal).unwrap();
    assert_eq!(h.c.buffered_count(), 9);
    assert_eq!(
        [High, Normal, Low].map(|p| h.c.buffered_of(p)),
        [3, 3, 3],
        "by priority"
    );
    h.join();
    assert_eq!(
        h.names_since(0),
        ["h1", "rh1", "h2", "n1", "rn1", "n2", "l1", "rl1", "l2"]
    );
    assert_eq!(h.c.buffered_count(), 0);
}

#[test]
fn without_a_priority_a_call_is_normal_and_keeps_call_order() {
    assert_eq!(RequestOptions::default().priority, Normal);
    assert_eq!(EmitOptions::default().priority, Normal);
    let mut h = H::new(100);
    h.c.emit("a", None, false).unwrap();
    h.emit("b", Normal).unwrap();
    h.c.request(0, "c", "{}", RequestOptions::default())
        .unwrap();
    h.c.emit_binary("d", Some(PH0), vec![vec![9]], false)
        .unwrap();
    h.c.emit("v", None, true).unwrap(); // volatile: dropped, as before
    h.join();
    assert_eq!(h.names_since(0), ["a", "b", "c", "d"]);
    assert_eq!(h.binary, [vec![9]]);
    assert_eq!(h.c.metrics().volatile_dropped, 1);
    assert_eq!(h.c.metrics().low_dropped, 0);
}

#[test]
fn on_a_free_link_calls_go_out_at_once_in_call_order() {
    let mut h = H::new(100);
    h.join();
    let from = h.sent.len();
    h.emit("l", Low).unwrap();
    h.emit("h", High).unwrap();
    h.request("rn", Normal).unwrap();
    assert_eq!(h.names_since(from), ["l", "h", "rn"]);
    assert_eq!(h.c.buffered_count(), 0);
}

#[test]
fn a_congested_socket_queues_and_its_release_flushes_by_priority() {
    let mut h = H::new(100);
    h.join();
    // At the mark the socket still takes more; over it, it is congested.
    h.buffered(MARK);
    assert!(!h.c.congested());
    h.buffered(MARK + 1);
    assert!(h.c.congested());
    let from = h.sent.len();
    h.emit("l1", Low).unwrap();
    h.emit("n1", Normal).unwrap();
    let rl = h.request("rl", Low).unwrap();
    h.emit("h1", High).unwrap();
    let rh = h.request("rh", High).unwrap();
    h.c.emit("v", None, true).unwrap(); // volatile: dropped while congested
    h.drain();
    assert_eq!(h.names_since(from), Vec::<String>::new());
    assert_eq!(h.c.buffered_count(), 5);
    assert_eq!(h.c.metrics().volatile_dropped, 1);
    // The link's own frames never wait: a ping is answered at once.
    h.c.on_text(h.now, "2");
    h.drain();
    assert_eq!(h.sent.last().map(String::as_str), Some("3"));
    // The core asks again every BACKPRESSURE_RECHECK_MS while congested.
    h.advance(BACKPRESSURE_RECHECK_MS - 1);
    assert_eq!(h.checks, 0);
    h.advance(1);
    assert_eq!(h.checks, 1);
    h.buffered(MARK * 5);
    h.advance(BACKPRESSURE_RECHECK_MS);
    assert_eq!(h.checks, 2);
    assert_eq!(h.names_since(from), Vec::<String>::new());
    // Drained: what waited leaves, high first.
    h.buffered(0);
    assert!(!h.c.congested());
    assert_eq!(h.names_since(from), ["h1", "rh", "n1", "l1", "rl"]);
    assert_eq!(h.c.buffered_count(), 0);
    // No more checks once drained, and new calls go straight out.
    h.advance(10 * BACKPRESSURE_RECHECK_MS);
    assert_eq!(h.checks, 2);
    let from = h.sent.len();
    h.emit("after", Low).unwrap();
    assert_eq!(h.names_since(from), ["after"]);
    // The queued requests were sent once and still settle by their ack.
    for frame in h.sent.clone() {
        if event_name(&frame).is_some_and(|n| n == "rh" || n == "rl") {
            h.c.on_text(h.now, &format!("43{}[\"ok\"]", ack_id_of(&frame)));
        }
    }
    h.drain();
    assert_eq!(h.one(rh), Ok(r#""ok""#.to_owned()));
    assert_eq!(h.one(rl), Ok(r#""ok""#.to_owned()));
}

#[test]
fn congestion_ends_with_the_link_and_a_report_off_the_link_is_ignored() {
    let mut h = H::new(100);
    h.buffered(MARK + 1);
    assert!(!h.c.congested(), "not joined: nothing to congest");
    h.join();
    h.buffered(MARK + 1);
    assert!(h.c.congested());
    h.emit("n", Normal).unwrap();
    h.lose_link();
    assert!(!h.c.congested());
    // No check while down, and the queue leaves on the next join.
    h.advance(BACKPRESSURE_RECHECK_MS * 3);
    assert_eq!(h.checks, 0);
    let from = h.sent.len();
    h.join();
    assert_eq!(h.names_since(from), ["n"]);
}

#[test]
fn a_full_buffer_gives_up_its_oldest_low_item_for_a_more_urgent_one() {
    let mut h = H::new(3);
    h.emit("l1", Low).unwrap();
    let rl = h.request("rl", Low).unwrap();
    h.emit("n1", Normal).unwrap();
    assert_eq!(h.c.buffered_count(), 3);

    // A low item into a full buffer: BUFFER_FULL, and nothing given up.
    assert_eq!(h.emit("l3", Low), Err(ErrorCode::BufferFull));
    assert_eq!(h.request("rl3", Low), Err(ErrorCode::BufferFull));
    assert_eq!(h.c.metrics().low_dropped, 0);

    // A high emit: the oldest low item (an emit) makes room, reported.
    h.emit("h1", High).unwrap();
    assert_eq!(h.c.buffered_count(), 3);
    assert_eq!(h.c.metrics().low_dropped, 1);
    assert_eq!(h.errors.len(), 1);
    assert_eq!(h.errors[0].code, ErrorCode::BufferFull);
    assert!(h.errors[0].message.contains("\"l1\""), "{}", h.errors[0]);

    // A normal request: the next low item (a request) makes room and
    // settles with BUFFER_FULL.
    let rn = h.request("rn", Normal).unwrap();
    assert_eq!(h.one(rl), Err(ErrorCode::BufferFull));
    assert_eq!(h.c.metrics().low_dropped, 2);
    assert_eq!(h.c.metrics().errors.get("BUFFER_FULL"), Some(&2));

    // No low item left: everyone gets BUFFER_FULL.
    assert_eq!(h.emit("h2", High), Err(ErrorCode::BufferFull));
    assert_eq!(h.request("rh2", High), Err(ErrorCode::BufferFull));
    assert_eq!(h.emit("n2", Normal), Err(ErrorCode::BufferFull));
    assert_eq!(h.c.metrics().low_dropped, 2);

    h.join();
    assert_eq!(h.names_since(0), ["h1", "n1", "rn"]);
    // The given-up request settled once and stays settled.
    h.advance(60_000);
    assert_eq!(h.one(rl), Err(ErrorCode::BufferFull));
    assert_eq!(h.one(rn), Err(ErrorCode::Timeout));
    assert_eq!(h.c.pending_count(), 0);
}

#[test]
fn a_full_buffer_while_congested_says_so() {
    let mut h = H::new(1);
    h.join();
    h.buffered(MARK + 1);
    h.emit("n1", Normal).unwrap();
    let err =
        h.c.emit_with("n2", None, vec![], EmitOptions::default())
            .unwrap_err();
    assert_eq!(err.code, ErrorCode::BufferFull);
    assert!(err.message.contains("congested"), "{err}");
}

#[test]
fn queued_requests_still_time_out_and_are_then_never_sent() {
    let mut h = H::new(100);
    let low = h.request_with("rl", Low, Some(500)).unwrap();
    let high = h.request_with("rh", High, Some(1000)).unwrap();
    h.advance(500);
    assert_eq!(h.one(low), Err(ErrorCode::Timeout));
    assert!(!h.settled.contains_key(&high));
    assert_eq!(h.c.buffered_count(), 1);
    h.advance(500);
    assert_eq!(h.one(high), Err(ErrorCode::Timeout));
    assert_eq!(h.c.buffered_count(), 0);
    h.join();
    assert_eq!(h.names_since(0), Vec::<String>::new());

    // The same while congested.
    h.buffered(MARK + 1);
    let k = h.request_with("late", Normal, Some(100)).unwrap();
    h.advance(100);
    assert_eq!(h.one(k), Err(ErrorCode::Timeout));
    h.buffered(0);
    assert!(!h.names_since(0).contains(&"late".to_owned()));
    assert_eq!(h.c.metrics().timeouts, 3);
}

#[test]
fn requests_retried_after_a_lost_link_keep_their_priority() {
    let mut h = H::new(100);
    h.join();
    let retry = |priority| RequestOptions {
        retry: true,
        priority,
        ..RequestOptions::default()
    };
    h.c.request(h.now, "rl", "{}", retry(Low)).unwrap();
    h.c.request(h.now, "rh", "{}", retry(High)).unwrap();
    h.drain();
    h.lose_link();
    h.emit("n", Normal).unwrap();
    h.emit("h", High).unwrap();
    let from = h.sent.len();
    h.join();
    // The retried ones go ahead of what their priority buffered since.
    assert_eq!(h.names_since(from), ["rh", "h", "n", "rl"]);
}

#[test]
fn close_settles_every_queued_request_once() {
    let mut h = H::new(100);
    let keys: Vec<_> = [High, Normal, Low]
        .map(|p| h.request("r", p).unwrap())
        .into();
    h.emit("e", Low).unwrap();
    h.c.close(h.now);
    h.drain();
    for k in keys {
        assert_eq!(h.one(k), Err(ErrorCode::Closed));
    }
    assert_eq!(h.c.buffered_count(), 0);
}

// ----- long-polling: the POST queue --------------------------------------------

const TEXT: &str = "text/plain; charset=UTF-8";
const OPEN_POLLING: &str =
    r#"0{"sid":"s1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

fn posts(c: &mut Client) -> Vec<String> {
    std::iter::from_fn(|| c.poll_output())
        .filter_map(|o| match o {
            Output::HttpPost { body, .. } => Some(body),
            _ => None,
        })
        .collect()
}

#[test]
fn what_waits_for_a_polling_post_goes_by_priority_and_keeps_attachments_with_their_packet() {
    let mut cfg = Config::new("http://127.0.0.1:5001");
    cfg.transports = vec![Transport::Polling];
    let mut c = Client::new(cfg, 1);
    c.connect(0);
    c.on_http_response(0, HttpKind::Get, 200, TEXT, OPEN_POLLING);
    assert_eq!(posts(&mut c), ["40"]);
    c.on_http_response(0, HttpKind::Post, 200, TEXT, "ok");
    c.on_http_response(0, HttpKind::Get, 200, TEXT, r#"40{"sid":"n"}"#);
    assert_eq!(c.state(), State::Connected);
    let emit = |c: &mut Client, name: &str, priority, attachments: Vec<Vec<u8>>| {
        let payload = if attachments.is_empty() { "1" } else { PH0 };
        let opts = EmitOptions {
            priority,
            ..EmitOptions::default()
        };
        c.emit_with(name, Some(payload), attachments, opts).unwrap();
    };
    emit(&mut c, "first", Low, vec![]);
    assert_eq!(posts(&mut c), [r#"42["first",1]"#]);
    // A POST is out: what is written meanwhile waits for it.
    emit(&mut c, "bin", Low, vec![vec![1, 2, 3]]);
    emit(&mut c, "l", Low, vec![]);
    emit(&mut c, "n", Normal, vec![]);
    c.on_http_response(0, HttpKind::Get, 200, TEXT, "2"); // a ping: its pong is normal
    emit(&mut c, "h", High, vec![]);
    assert!(posts(&mut c).is_empty(), "a POST is still out");
    c.on_http_response(0, HttpKind::Post, 200, TEXT, "ok");
    assert_eq!(
        posts(&mut c),
        [[
            r#"42["h",1]"#,
            r#"42["n",1]"#,
            "3",
            r#"451-["bin",{"_placeholder":true,"num":0}]"#,
            "bAQID",
            r#"42["l",1]"#,
        ]
        .join("\x1e")]
    );
}

// ----- property: per-priority FIFO, each request settled once ------------------

#[derive(Debug, Clone)]
enum Step {
    Emit(Priority),
    Request(Priority, u64),
    LoseLink,
    Join,
    Congest,
    Drain,
    AckOldest,
    Advance(u64),
}

fn priority() -> impl Strategy<Value = Priority> {
    prop_oneof![Just(High), Just(Normal), Just(Low)]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => priority().prop_map(Step::Emit),
        3 => (priority(), 1u64..3_000).prop_map(|(p, t)| Step::Request(p, t)),
        1 => Just(Step::LoseLink),
        1 => Just(Step::Join),
        1 => Just(Step::Congest),
        1 => Just(Step::Drain),
        1 => Just(Step::AckOldest),
        1 => (0u64..1_000).prop_map(Step::Advance),
    ]
}

fn rank(p: Priority) -> usize {
    match p {
        High => 0,
        Normal => 1,
        Low => 2,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Items are named `<e|r><priority><n>`, `n` counting calls. Whatever
    /// the interleaving: within one priority, items leave in call order,
    /// each at most once; what one flush sends is in priority order; every
    /// request settles exactly once; every emit accepted is sent or
    /// reported given up.
    #[test]
    fn any_interleaving_keeps_per_priority_order_and_settles_each_request_once(
        buffer_size in 1usize..6,
        steps in proptest::collection::vec(step(), 1..80),
    ) {
        let mut h = H::new(buffer_size);
        let mut n = 0u32;
        let mut keys = vec![];
        let mut emits_accepted = 0u64;
        let mut acked = 0usize;
        for s in steps {
            let from = h.sent.len();
            let flush = matches!(s, Step::Join | Step::Drain);
            match s {
                Step::Emit(p) => {
                    n += 1;
                    if h.emit(&format!("e{}{n}", rank(p)), p).is_ok() {
                        emits_accepted += 1;
                    }
                }
                Step::Request(p, timeout) => {
                    n += 1;
                    if let Ok(k) = h.request_with(&format!("r{}{n}", rank(p)), p, Some(timeout)) {
                        keys.push(k);
                    }
                }
                Step::LoseLink => h.lose_link(),
                Step::Join => h.join(),
                Step::Congest => h.buffered(MARK + 1),
                Step::Drain => h.buffered(0),
                Step::AckOldest => {
                    let requests: Vec<String> = h.sent.iter()
                        .filter(|f| event_name(f).is_some_and(|n| n.starts_with('r')))
                        .cloned()
                        .collect();
                    if let Some(f) = requests.get(acked) {
                        acked += 1;
                        h.c.on_text(h.now, &format!("43{}[1]", ack_id_of(f)));
                        h.drain();
                    }
                }
                Step::Advance(ms) => h.advance(ms),
            }
            if flush {
                let ranks: Vec<char> = h.names_since(from).iter()
                    .filter_map(|name| name.chars().nth(1))
                    .collect();
                let mut sorted = ranks.clone();
                sorted.sort_unstable();
                prop_assert_eq!(&ranks, &sorted, "one flush goes in priority order");
            }
            for (k, results) in &h.settled {
                prop_assert_eq!(results.len(), 1, "{:?} settled {:?}", k, results);
            }
        }
        // Everything that waits leaves: joined and not congested.
        h.join();
        h.buffered(0);
        let names = h.names_since(0);
        for p in ["0", "1", "2"] {
            let calls: Vec<u32> = names.iter()
                .filter(|name| &name[1..2] == p)
                .map(|name| name[2..].parse().unwrap())
                .collect();
            prop_assert!(calls.windows(2).all(|w| w[0] < w[1]), "priority {}: {:?}", p, calls);
        }
        let emits_sent = names.iter().filter(|name| name.starts_with('e')).count() as u64;
        let emits_given_up = h.errors.iter().filter(|e| e.code == ErrorCode::BufferFull).count() as u64;
        prop_assert_eq!(emits_sent + emits_given_up, emits_accepted);
        prop_assert_eq!(h.c.buffered_count(), 0);
        // Every request settles exactly once by the end.
        h.advance(10_000);
        for k in &keys {
            prop_assert_eq!(h.settled.get(k).map(Vec::len), Some(1), "{:?} never settled", k);
        }
        let given_up = keys.iter()
            .filter(|k| h.settled[k] == [Err(ErrorCode::BufferFull)])
            .count() as u64;
        prop_assert_eq!(h.c.metrics().low_dropped, emits_given_up + given_up);
    }
}
