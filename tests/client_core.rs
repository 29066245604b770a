//! The sans-IO client driven natively with simulated time: every state
//! transition, the heartbeat, backoff, the buffer, and every settle path.
#![cfg(not(target_arch = "wasm32"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use frinny_agent::core::{
    ArgsForm, Backoff, Client, Config, ErrorCode, FastPath, Output, Protocol, RequestKey,
    RequestOptions, State, Transport,
};
use proptest::prelude::*;
use std::collections::HashMap;

const OPEN: &str =
    r#"0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

/// A client plus everything it has output so far, split by kind.
struct Harness {
    c: Client,
    now: u64,
    sent: Vec<String>,
    opens: usize,
    closes: usize,
    states: Vec<(State, String)>,
    events: Vec<(String, String)>,
    settled: HashMap<RequestKey, Vec<Result<String, ErrorCode>>>,
    connects: Vec<Result<(), ErrorCode>>,
    errors: Vec<ErrorCode>,
    /// Binary frames, each with the number of text frames sent before it.
    binary: Vec<(usize, Vec<u8>)>,
    /// Attachments of settled replies.
    settled_bin: HashMap<RequestKey, Vec<Vec<u8>>>,
    /// Attachments of delivered events, by event index.
    event_bin: Vec<Vec<Vec<u8>>>,
    /// Attempts that asked for their auth ([`Output::NeedAuth`]).
    auth_asks: Vec<u64>,
}

impl Harness {
    /// A client on `cfg` over WebSocket only: these tests are about the
    /// link over one socket (a socket that fails before it opens is a lost
    /// attempt); the fallback to polling and the polling transport are
    /// tests/client_transport.rs's.
    fn new(mut cfg: Config) -> Self {
        cfg.transports = vec![Transport::WebSocket];
        Harness {
            c: Client::new(cfg, 42),
            now: 0,
            sent: vec![],
            opens: 0,
            closes: 0,
            states: vec![],
            events: vec![],
            settled: HashMap::new(),
            connects: vec![],
            errors: vec![],
            binary: vec![],
            settled_bin: HashMap::new(),
            event_bin: vec![],
            auth_asks: vec![],
        }
    }

    fn default() -> Self {
        Self::new(Config::new("http://127.0.0.1:5001"))
    }

    fn drain(&mut self) {
        while let Some(o) = self.c.poll_output() {
            match o {
                Output::Open { .. } => self.opens += 1,
                Output::Close => self.closes += 1,
                Output::SendText(t) => self.sent.push(t),
                Output::SendBinary(b) => self.binary.push((self.sent.len(), b)),
                Output::StateChange { state, reason } => self.states.push((state, reason)),
                Output::Event {
                    name,
                    json,
                    attachments,
                    ..
                } => {
                    self.events.push((name, json));
                    self.event_bin.push(attachments);
                }
                Output::Settled {
                    key,
                    result,
                    attachments,
                } => {
                    if !attachments.is_empty() {
                        self.settled_bin.insert(key, attachments);
                    }
                    self.settled
                        .entry(key)
                        .or_default()
                        .push(result.map_err(|e| e.code))
                }
                Output::ConnectSettled(r) => self.connects.push(r.map_err(|e| e.code)),
                Output::Error(e) => self.errors.push(e.code),
                Output::NeedAuth { attempt } => self.auth_asks.push(attempt),
                // The polling transport and the upgrade: tests/client_transport.rs;
                // The polling transport and the upgrade: tests/client_transport.rs;
                // backpressure: tests/client_priority.rs; batching:
                // tests/client_batch.rs (these servers offer none).
                Output::CheckBackpressure
                | Output::FlushEmits
                | Output::HttpGet { .. }
                | Output::HttpPost { .. }
                | Output::OpenProbe { .. }
                | Output::SendProbe(_)
                | Output::CloseProbe
                | Output::Upgraded => {}
                // Only a shared link's clients route and carry: tests/client_pool.rs.
                Output::Routed(_) | Output::Carry { .. } => {
                    unreachable!("a client of its own routes and carries nothing")
                }
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

    fn text(&mut self, t: &str) {
        self.c.on_text(self.now, t);
        self.drain();
    }

    /// connect() through open, handshake and namespace CONNECT.
    fn connect(&mut self) {
        self.c.connect(self.now);
        self.drain();
        self.join();
    }

    /// Socket opens, handshake, namespace joined.
    fn join(&mut self) {
        self.c.on_open(self.now);
        self.text(OPEN);
        assert_eq!(self.sent.last().map(String::as_str), Some("40"));
        self.text(r#"40{"sid":"n1"}"#);
        assert_eq!(self.c.state(), State::Connected);
    }

    fn close_socket(&mut self) {
        self.c.on_close(self.now, "transport close");
        self.drain();
    }

    fn request(&mut self, event: &str, payload: &str, opts: RequestOptions) -> RequestKey {
        let k = self.c.request(self.now, event, payload, opts).unwrap();
        self.drain();
        k
    }

    fn one(&self, k: RequestKey) -> Result<String, ErrorCode> {
        let s = self.settled.get(&k).expect("settled");
        assert_eq!(s.len(), 1, "settled more than once: {s:?}");
        s[0].clone()
    }
}

fn request_id_of(frame: &str) -> String {
    let start = frame.find('[').unwrap();
    let v: serde_json::Value = serde_json::from_str(&frame[start..]).unwrap();
    v[1]["request_id"].as_str().unwrap().to_owned()
}

fn ack_id_of(frame: &str) -> u64 {
    let head = &frame[2..frame.find('[').unwrap()];
    // BINARY_EVENT: `<count>-<ack id>`.
    head.rsplit('-').next().unwrap().parse().unwrap()
}

#[test]
fn connect_goes_through_handshake_and_namespace_join() {
    let mut h = Harness::default();
    h.connect();
    assert_eq!(h.opens, 1);
    assert_eq!(h.connects, vec![Ok(())]);
    let states: Vec<State> = h.states.iter().map(|s| s.0).collect();
    assert_eq!(states, [State::Connecting, State::Connected]);
    assert_eq!(h.c.metrics().connects, 1);
}

#[test]
fn url_carries_engine_io_query() {
    let mut cfg = Config::new("https://frinny.example");
    cfg.query = vec![("userId".into(), "u1".into())];
    assert_eq!(
        cfg.websocket_url(),
        "wss://frinny.example/socket.io/?EIO=4&transport=websocket&userId=u1&batch=1"
    );
    // `batch=1` asks the server to batch; a client told not to does not ask.
    cfg.batch = false;
    assert_eq!(
        cfg.websocket_url(),
        "wss://frinny.example/socket.io/?EIO=4&transport=websocket&userId=u1"
    );
}

#[test]
fn auth_and_namespace_go_into_connect() {
    let mut cfg = Config::new("http://h");
    cfg.namespace = "/admin".into();
    cfg.auth = Some(r#"{"token":"t"}"#.into());
    let mut h = Harness::new(cfg);
    h.c.connect(0);
    h.c.on_open(0);
    h.text(OPEN);
    assert_eq!(h.sent.last().unwrap(), r#"40/admin,{"token":"t"}"#);
    h.text(r#"40/admin,{"sid":"x"}"#);
    assert_eq!(h.c.state(), State::Connected);
    // Events of other namespaces are not ours.
    h.text(r#"42["other",1]"#);
    h.text(r#"42/admin,["mine",2]"#);
    assert_eq!(
        h.events,
        vec![("mine".to_owned(), r#"["mine",2]"#.to_owned())]
    );
}

#[test]
fn connect_error_rejects_with_connect_refused_and_does_not_retry() {
    let mut h = Harness::default();
    h.c.connect(0);
    h.c.on_open(0);
    h.text(OPEN);
    h.text(r#"44{"message":"invalid token"}"#);
    assert_eq!(h.connects, vec![Err(ErrorCode::ConnectRefused)]);
    assert_eq!(h.c.state(), State::Disconnected);
    h.advance(60_000);
    assert_eq!(h.opens, 1, "a refusal is not retried");
}

#[test]
fn pings_are_answered_and_silence_kills_the_link() {
    let mut h = Harness::default();
    h.connect();
    h.advance(25_000);
    h.text("2");
    assert_eq!(h.sent.last().unwrap(), "3");
    assert_eq!(h.c.metrics().last_ping_ms, Some(25_000));
    // 25 s + 20 s after the last ping with nothing: dead.
    h.advance(44_999);
    assert_eq!(h.c.state(), State::Connected);
    h.advance(1);
    assert_eq!(h.c.state(), State::Reconnecting);
    assert_eq!(h.states.last().unwrap().1, "ping timeout");
    assert_eq!(h.closes, 1);
}

#[test]
fn probe_ping_is_echoed() {
    let mut h = Harness::default();
    h.connect();
    h.text("2probe");
    assert_eq!(h.sent.last().unwrap(), "3probe");
}

#[test]
fn backoff_schedule_reconnects_and_resets_after_success() {
    let mut cfg = Config::new("http://h");
    cfg.backoff = Backoff {
        randomization_factor: 0.0,
        ..Backoff::default()
    };
    let mut h = Harness::new(cfg);
    h.connect();
    let mut open_times = vec![];
    h.close_socket();
    for _ in 0..4 {
        let before = h.opens;
        let start = h.now;
        while h.opens == before {
            h.advance(100);
        }
        open_times.push(h.now - start);
        h.close_socket(); // attempt fails
    }
    assert_eq!(open_times, [1000, 2000, 4000, 5000]);
    // A success resets the schedule.
    let before = h.opens;
    while h.opens == before {
        h.advance(100);
    }
    h.join();
    assert_eq!(h.c.metrics().reconnects, 1);
    h.close_socket();
    let start = h.now;
    let before = h.opens;
    while h.opens == before {
        h.advance(100);
    }
    assert_eq!(h.now - start, 1000);
}

#[test]
fn the_next_attempt_time_is_known_and_connect_skips_the_wait() {
    let mut cfg = Config::new("http://h");
    cfg.backoff = Backoff {
        randomization_factor: 0.0,
        ..Backoff::default()
    };
    let mut h = Harness::new(cfg);
    h.connect();
    assert_eq!(h.c.next_attempt_at(), None, "no wait while connected");
    h.close_socket();
    assert_eq!(h.c.state(), State::Reconnecting);
    assert_eq!(
        h.c.next_attempt_at(),
        Some(h.now + 1000),
        "the first backoff delay"
    );
    // A second failure waits twice as long.
    h.advance(1000);
    h.close_socket();
    assert_eq!(h.c.next_attempt_at(), Some(h.now + 2000));
    // connect() while waiting (a Retry button) tries at once.
    let before = h.opens;
    h.c.connect(h.now + 10);
    h.drain();
    assert_eq!(h.opens, before + 1, "an attempt started without waiting");
    assert_eq!(h.c.next_attempt_at(), None);
    assert_eq!(h.c.state(), State::Reconnecting);
    // ...and nothing more starts when the old deadline passes.
    h.advance(2500);
    assert_eq!(h.opens, before + 1);
    h.c.on_open(h.now);
    h.text(OPEN);
    h.text("40{\"sid\":\"n\"}");
    assert_eq!(h.c.state(), State::Connected);
    assert_eq!(
        h.connects.last(),
        Some(&Ok(())),
        "the retry's connect() resolved"
    );
}

#[test]
fn gives_up_after_the_configured_attempts() {
    let mut cfg = Config::new("http://h");
    cfg.backoff.attempts = Some(2);
    let mut h = Harness::new(cfg);
    h.connect();
    let k = {
        h.close_socket();
        h.request("query", "{}", RequestOptions::default())
    };
    h.advance(60_000);
    // Two attempts, both fail at once.
    assert!(h.opens <= 3);
    for _ in 0..3 {
        h.close_socket();
        h.advance(10_000);
    }
    assert_eq!(h.c.state(), State::Disconnected);
    assert_eq!(h.states.last().unwrap().1, "reconnect failed");
    assert!(matches!(
        h.one(k),
        Err(ErrorCode::ReconnectFailed) | Err(ErrorCode::Timeout)
    ));
}

#[test]
fn connect_timeout_rejects_connect_but_keeps_trying() {
    let mut h = Harness::default();
    h.c.connect(0);
    h.drain();
    h.advance(20_000);
    assert_eq!(h.connects, vec![Err(ErrorCode::Timeout)]);
    assert_eq!(h.c.state(), State::Reconnecting);
    h.advance(10_000);
    assert!(h.opens >= 2);
    h.join();
    assert_eq!(h.c.state(), State::Connected);
}

#[test]
fn request_settles_by_ack() {
    let mut h = Harness::default();
    h.connect();
    let k = h.request("query", r#"{"content":"hi"}"#, RequestOptions::default());
    let frame = h.sent.last().unwrap().clone();
    assert!(frame.starts_with("420["), "{frame}");
    assert!(frame.contains(r#""content":"hi","request_id":""#));
    h.text(&format!(r#"43{}[{{"ok":true}}]"#, ack_id_of(&frame)));
    assert_eq!(h.one(k), Ok(r#"{"ok":true}"#.to_owned()));
    assert_eq!(h.c.pending_count(), 0);
}

#[test]
fn an_empty_ack_is_a_receipt_and_the_reply_event_settles() {
    let mut h = Harness::default();
    h.connect();
    for empty in ["[]", "[null]"] {
        let k = h.request("query", "{}", RequestOptions::default());
        let frame = h.sent.last().unwrap().clone();
        let rid = request_id_of(&frame);
        h.text(&format!("43{}{empty}", ack_id_of(&frame)));
        assert!(
            !h.settled.contains_key(&k),
            "python-socketio's automatic empty ack is not the reply"
        );
        h.text(&format!(
            r#"42["query_response",{{"request_id":"{rid}","content":"later"}}]"#
        ));
        assert!(h.one(k).unwrap().contains("later"));
    }
}

#[test]
fn a_receipted_request_is_not_sent_again_after_a_lost_link() {
    let mut h = Harness::default();
    h.connect();
    let k = h.request(
        "query",
        "{}",
        RequestOptions {
            retry: true,
            timeout_ms: None,
            ..RequestOptions::default()
        },
    );
    let frame = h.sent.last().unwrap().clone();
    let rid = request_id_of(&frame);
    h.text(&format!("43{}[]", ack_id_of(&frame)));
    h.close_socket();
    assert!(
        !h.settled.contains_key(&k),
        "the server has it: not rejected"
    );
    h.advance(10_000);
    h.join();
    let resent = h.sent.iter().filter(|f| f.contains(&rid)).count();
    assert_eq!(resent, 1, "a receipted request never runs twice");
    h.text(&format!(r#"42["query_response",{{"request_id":"{rid}"}}]"#));
    assert!(h.one(k).is_ok());
}

#[test]
fn retry_does_not_hold_a_request_when_no_reconnect_will_come() {
    let mut cfg = Config::new("http://h");
    cfg.reconnection = false;
    let mut h = Harness::new(cfg);
    h.connect();
    let k = h.request(
        "query",
        "{}",
        RequestOptions {
            retry: true,
            timeout_ms: None,
            ..RequestOptions::default()
        },
    );
    h.close_socket();
    assert_eq!(h.one(k), Err(ErrorCode::Disconnected));
    assert_eq!(h.c.state(), State::Disconnected);
}

#[test]
fn a_server_error_answering_a_request_is_counted_once() {
    let mut h = Harness::default();
    h.connect();
    h.request("query", "{}", RequestOptions::default());
    let rid = request_id_of(h.sent.last().unwrap());
    h.text(&format!(
        r#"42["error",{{"request_id":"{rid}","error":"no"}}]"#
    ));
    assert_eq!(h.c.metrics().errors.get("SERVER_ERROR"), Some(&1));
}

#[test]
fn connect_after_disconnect_is_a_connect_not_a_reconnect() {
    let mut h = Harness::default();
    h.connect();
    h.c.disconnect(h.now);
    h.drain();
    h.connect();
    assert_eq!(h.c.metrics().reconnects, 0);
    assert_eq!(
        h.states.last().unwrap(),
        &(State::Connected, "connected".to_owned())
    );
}

#[test]
fn connect_while_offline_waits_for_the_network() {
    let mut h = Harness::default();
    h.c.set_online(0, false);
    h.c.connect(0);
    h.drain();
    assert_eq!(h.opens, 0, "no attempt while offline");
    assert_eq!(h.c.state(), State::Connecting);
    h.advance(5_000);
    assert_eq!(h.opens, 0);
    h.c.set_online(h.now, true);
    h.advance(0);
    assert_eq!(h.opens, 1);
    assert_eq!(h.c.state(), State::Connecting);
    h.join();
    assert_eq!(h.connects, vec![Ok(())]);
}

#[test]
fn plain_events_may_skip_the_core_only_when_it_would_do_nothing_else() {
    let mut h = Harness::default();
    assert_eq!(h.c.fast_path(), FastPath::Closed, "not connected");
    assert!(!h.c.fast_path().admits("tick"));
    h.connect();
    assert_eq!(h.c.fast_path(), FastPath::Open);
    assert!(h.c.fast_path().admits("tick"));
    assert!(!h.c.fast_path().admits("error"), "errors go to onError");
    assert!(!h.c.fast_path().admits("connect"), "reserved");
    assert!(h.c.fast_path().admits("query_response"), "no request waits");
    assert!(
        !h.c.fast_path().admits("connection_established"),
        "it says whether the server batches"
    );
    let names: Vec<_> = FastPath::core_names().collect();
    assert!(
        names.contains(&"error")
            && names.contains(&"connection_established")
            && names.contains(&"disconnecting")
            && names.len() == 8,
        "{names:?}"
    );
    h.request("query", "{}", RequestOptions::default());
    assert_eq!(h.c.fast_path(), FastPath::ExceptReplies);
    assert!(
        !h.c.fast_path().admits("query_response"),
        "it may answer the request"
    );
    assert!(!h.c.fast_path().admits("error"));
    assert!(h.c.fast_path().admits("tick"));
    // Half a binary packet received: the next text frame is the core's.
    h.text(r#"451-["bin",{"_placeholder":true,"num":0}]"#);
    assert_eq!(h.c.fast_path(), FastPath::Closed);
    h.c.on_binary(h.now, &[1, 2]);
    h.drain();
    assert!(h.c.fast_path().admits("tick"));
    let before = h.c.metrics().clone();
    h.c.on_plain_events(3, 3, 60);
    assert_eq!(
        h.c.metrics().events_dispatched,
        before.events_dispatched + 3
    );
    assert_eq!(h.c.metrics().frames_in, before.frames_in + 3);
    assert_eq!(h.c.metrics().bytes_in, before.bytes_in + 60);
    // A lost link closes it again.
    h.c.on_close(h.now, "transport close");
    h.drain();
    assert_eq!(h.c.fast_path(), FastPath::Closed);
    // Other namespaces and the JSON protocol always go through the core.
    let mut cfg = Config::new("http://h");
    cfg.namespace = "/admin".into();
    let mut admin = Harness::new(cfg);
    admin.c.connect(0);
    admin.c.on_open(0);
    admin.text(OPEN);
    admin.text(r#"40/admin,{"sid":"x"}"#);
    assert_eq!(admin.c.fast_path(), FastPath::Closed);
}

#[test]
fn request_settles_by_response_event_with_its_request_id() {
    let mut h = Harness::default();
    h.connect();
    let k = h.request("query", r#"{"content":"hi"}"#, RequestOptions::default());
    let rid = request_id_of(h.sent.last().unwrap());
    h.text(r#"42["query_response",{"request_id":"someone-else","content":"no"}]"#);
    assert!(h.settled.is_empty());
    h.text(&format!(
        r#"42["query_response",{{"request_id":"{rid}","content":"yes"}}]"#
    ));
    assert_eq!(
        h.one(k),
        Ok(format!(r#"{{"request_id":"{rid}","content":"yes"}}"#))
    );
    // The event still reaches subscribers.
    assert_eq!(h.events.len(), 2);
    // A late ack for the same request settles nothing twice.
    h.text(r#"430[{"late":1}]"#);
    assert!(h.one(k).is_ok());
}

#[test]
fn only_response_and_error_events_answer_a_request() {
    let mut h = Harness::default();
    h.connect();
    let k = h.request("query", "{}", RequestOptions::default());
    let rid = request_id_of(h.sent.last().unwrap());
    h.text(&format!(
        r#"42["typing_status",{{"isTyping":true,"request_id":"{rid}"}}]"#
    ));
    assert!(
        !h.settled.contains_key(&k),
        "typing_status names the request but is not its answer"
    );
    h.text(&format!(
        r#"42["query_response",{{"request_id":"{rid}","content":"ok"}}]"#
    ));
    assert!(h.one(k).unwrap().contains("ok"));
}

#[test]
fn error_event_with_request_id_rejects_with_server_error() {
    let mut h = Harness::default();
    h.connect();
    let k = h.request("query", "{}", RequestOptions::default());
    let rid = request_id_of(h.sent.last().unwrap());
    h.text(&format!(
        r#"42["error",{{"request_id":"{rid}","error":"model overloaded"}}]"#
    ));
    assert_eq!(h.one(k), Err(ErrorCode::ServerError));
    assert!(
        h.errors.is_empty(),
        "a request's own error does not go to onError"
    );
}

#[test]
fn a_server_error_keeps_the_servers_own_code() {
    let mut h = Harness::default();
    h.connect();
    let k = h.request("query", "{}", RequestOptions::default());
    let rid = request_id_of(h.sent.last().unwrap());
    h.c.on_text(
        h.now,
        &format!(r#"42["error",{{"request_id":"{rid}","code":"RATE_LIMITED","message":"slow down","retryAfterMs":250}}]"#),
    );
    let settled = std::iter::from_fn(|| h.c.poll_output()).find_map(|o| match o {
        Output::Settled { key, result, .. } if key == k => Some(result),
        _ => None,
    });
    let err = settled.expect("settled").unwrap_err();
    assert_eq!(err.code, ErrorCode::ServerError);
    assert_eq!(err.message, "slow down");
    assert_eq!(err.server_code.as_deref(), Some("RATE_LIMITED"));
}

#[test]
fn error_event_without_request_id_goes_to_on_error_only() {
    let mut h = Harness::default();
    h.connect();
    let k = h.request("query", "{}", RequestOptions::default());
    h.text(r#"42["error",{"message":"something broke"}]"#);
    assert_eq!(h.errors, vec![ErrorCode::ServerError]);
    assert!(!h.settled.contains_key(&k));
}

#[test]
fn request_times_out() {
    let mut h = Harness::default();
    h.connect();
    let k = h.request(
        "query",
        "{}",
        RequestOptions {
            timeout_ms: Some(500),
            retry: false,
            ..RequestOptions::default()
        },
    );
    h.advance(499);
    assert!(h.settled.is_empty());
    h.advance(1);
    assert_eq!(h.one(k), Err(ErrorCode::Timeout));
    assert_eq!(h.c.metrics().timeouts, 1);
}

#[test]
fn request_aborts() {
    let mut h = Harness::default();
    h.connect();
    let k = h.request("query", "{}", RequestOptions::default());
    h.c.abort(k);
    h.drain();
    assert_eq!(h.one(k), Err(ErrorCode::Aborted));
    h.c.abort(k);
    h.drain();
    assert_eq!(h.settled[&k].len(), 1);
}

#[test]
fn link_loss_rejects_in_flight_with_disconnected_unless_retry() {
    let mut h = Harness::default();
    h.connect();
    let plain = h.request("query", r#"{"n":1}"#, RequestOptions::default());
    let retried = h.request(
        "query",
        r#"{"n":2}"#,
        RequestOptions {
            retry: true,
            timeout_ms: None,
            ..RequestOptions::default()
        },
    );
    h.close_socket();
    assert_eq!(h.one(plain), Err(ErrorCode::Disconnected));
    assert!(!h.settled.contains_key(&retried));
    // Re-sent once after reconnect, with a new ack id and the same request id.
    let first_rid = request_id_of(&h.sent[h.sent.len() - 1]);
    h.advance(10_000);
    h.join();
    let resent = h.sent.last().unwrap().clone();
    assert_eq!(request_id_of(&resent), first_rid);
    // Lost again: this time it rejects.
    h.close_socket();
    assert_eq!(h.one(retried), Err(ErrorCode::Disconnected));
}

#[test]
fn emits_buffer_while_disconnected_and_flush_in_order_once() {
    let mut h = Harness::default();
    h.connect();
    h.close_socket();
    h.c.emit("a", Some("1"), false).unwrap();
    h.c.emit("b", Some("2"), true).unwrap(); // volatile: dropped
    h.c.emit("c", None, false).unwrap();
    assert_eq!(h.c.buffered_count(), 2);
    let before = h.sent.len();
    h.advance(10_000);
    h.join();
    let after: Vec<&str> = h.sent[before..].iter().map(String::as_str).collect();
    assert_eq!(after, ["40", r#"42["a",1]"#, r#"42["c"]"#]);
    assert_eq!(h.c.buffered_count(), 0);
    assert_eq!(h.c.metrics().volatile_dropped, 1);
}

#[test]
fn buffer_overflow_is_buffer_full() {
    let mut cfg = Config::new("http://h");
    cfg.buffer_size = 2;
    let mut h = Harness::new(cfg);
    h.c.emit("a", None, false).unwrap();
    h.c.request(0, "q", "{}", RequestOptions::default())
        .unwrap();
    assert_eq!(
        h.c.emit("b", None, false).unwrap_err().code,
        ErrorCode::BufferFull
    );
    assert_eq!(
        h.c.request(0, "q", "{}", RequestOptions::default())
            .unwrap_err()
            .code,
        ErrorCode::BufferFull
    );
}

#[test]
fn invalid_payloads_fail_the_call() {
    let mut h = Harness::default();
    h.connect();
    assert_eq!(
        h.c.request(0, "q", "[1]", RequestOptions::default())
            .unwrap_err()
            .code,
        ErrorCode::InvalidPayload
    );
    assert_eq!(
        h.c.emit("connect", None, false).unwrap_err().code,
        ErrorCode::InvalidPayload
    );
    assert_eq!(
        h.c.emit("x", Some("{nope"), false).unwrap_err().code,
        ErrorCode::InvalidPayload
    );
    assert_eq!(h.c.pending_count(), 0);
}

#[test]
fn request_id_in_payload_is_replaced_and_ids_are_unique() {
    let mut h = Harness::default();
    h.connect();
    let mut ids = std::collections::HashSet::new();
    for _ in 0..100 {
        h.request("q", r#"{"request_id":"spoof"}"#, RequestOptions::default());
        let rid = request_id_of(h.sent.last().unwrap());
        assert_ne!(rid, "spoof");
        assert!(ids.insert(rid));
    }
}

#[test]
fn malformed_frame_is_reported_counted_and_reconnects() {
    let mut h = Harness::default();
    h.connect();
    h.text(r#"42{"not":"an array"}"#);
    assert_eq!(h.errors, vec![ErrorCode::ProtocolError]);
    assert_eq!(h.c.metrics().errors.get("INVALID_PAYLOAD"), Some(&1));
    assert_eq!(h.c.state(), State::Reconnecting);
    h.advance(10_000);
    h.join();
    assert_eq!(h.c.state(), State::Connected);
}

#[test]
fn server_disconnect_does_not_reconnect() {
    let mut h = Harness::default();
    h.connect();
    h.text("41");
    assert_eq!(h.c.state(), State::Disconnected);
    assert_eq!(h.states.last().unwrap().1, "io server disconnect");
    h.advance(60_000);
    assert_eq!(h.opens, 1);
}

#[test]
fn disconnect_then_connect_again() {
    let mut h = Harness::default();
    h.connect();
    let k = h.request("q", "{}", RequestOptions::default());
    h.c.disconnect(h.now);
    h.drain();
    assert_eq!(h.sent.last().unwrap(), "41");
    assert_eq!(h.one(k), Err(ErrorCode::Disconnected));
    assert_eq!(h.c.state(), State::Disconnected);
    h.advance(60_000);
    assert_eq!(h.opens, 1);
    h.connect();
    assert_eq!(h.opens, 2);
}

#[test]
fn offline_drops_the_link_and_online_retries_at_once() {
    let mut h = Harness::default();
    h.connect();
    h.c.set_online(h.now, false);
    h.drain();
    assert_eq!(h.c.state(), State::Reconnecting);
    h.advance(30_000);
    assert_eq!(h.opens, 1, "no attempts while offline");
    h.c.set_online(h.now, true);
    h.advance(0);
    assert_eq!(h.opens, 2);
}

#[test]
fn close_settles_everything_and_is_final() {
    let mut h = Harness::default();
    h.connect();
    let a = h.request("q", "{}", RequestOptions::default());
    h.close_socket();
    let b = h.request("q", "{}", RequestOptions::default());
    h.c.close(h.now);
    h.drain();
    assert_eq!(
        h.one(a),
        Err(ErrorCode::Disconnected),
        "lost with the link before close()"
    );
    assert_eq!(h.one(b), Err(ErrorCode::Closed));
    assert_eq!(h.c.state(), State::Closed);
    assert_eq!(h.c.state(), State::Closed);
    assert_eq!(
        h.c.emit("x", None, false).unwrap_err().code,
        ErrorCode::Closed
    );
    h.c.connect(h.now);
    h.drain();
    assert_eq!(h.connects.last(), Some(&Err(ErrorCode::Closed)));
}

#[test]
fn close_rejects_in_flight_requests_with_closed() {
    let mut h = Harness::default();
    h.connect();
    let a = h.request("q", "{}", RequestOptions::default());
    h.c.close(h.now);
    h.drain();
    assert_eq!(h.sent.last().unwrap(), "41");
    assert_eq!(h.one(a), Err(ErrorCode::Closed));
    assert_eq!(h.closes, 1);
}

#[test]
fn json_protocol_routes_by_action_and_matches_request_ids() {
    let mut cfg = Config::new("ws://127.0.0.1:9000");
    cfg.protocol = Protocol::Json;
    cfg.path = "/ws".into();
    assert_eq!(cfg.websocket_url(), "ws://127.0.0.1:9000/ws");
    let mut h = Harness::new(cfg);
    h.c.connect(0);
    h.c.on_open(0);
    h.drain();
    assert_eq!(h.c.state(), State::Connected);
    let k = h.request("query", r#"{"content":"hi"}"#, RequestOptions::default());
    let frame = h.sent.last().unwrap().clone();
    let v: serde_json::Value = serde_json::from_str(&frame).unwrap();
    assert_eq!(v["action"], "query");
    let rid = v["request_id"].as_str().unwrap().to_owned();
    h.text(&format!(
        r#"{{"action":"query_response","request_id":"{rid}","content":"yo"}}"#
    ));
    assert!(h.one(k).unwrap().contains("yo"));
    assert_eq!(h.events[0].0, "query_response");
    h.text("[not an object]");
    assert_eq!(h.errors, vec![ErrorCode::ProtocolError]);
}

#[test]
fn events_carry_their_args_form() {
    let mut h = Harness::default();
    h.connect();
    h.c.on_text(h.now, r#"42["typing_status",{"isTyping":true}]"#);
    let mut found = false;
    while let Some(o) = h.c.poll_output() {
        if let Output::Event { name, form, .. } = o {
            assert_eq!(name, "typing_status");
            assert_eq!(form, ArgsForm::NamedArray);
            found = true;
        }
    }
    assert!(found);
}

// ----- property: every request settles exactly once ----------------------

#[derive(Debug, Clone)]
enum Step {
    Request {
        timeout: u64,
        retry: bool,
        binary: bool,
    },
    AckOldest,
    BinaryAckOldest,
    ReplyNewestByEvent,
    ErrorReply,
    Abort(usize),
    Advance(u64),
    DropLink,
    Reconnect,
    Garbage,
    Offline(bool),
    Disconnect,
    Connect,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (1u64..5_000, any::<bool>(), any::<bool>()).prop_map(|(timeout, retry, binary)| {
            Step::Request {
                timeout,
                retry,
                binary,
            }
        }),
        Just(Step::AckOldest),
        Just(Step::BinaryAckOldest),
        Just(Step::ReplyNewestByEvent),
        Just(Step::ErrorReply),
        (0usize..8).prop_map(Step::Abort),
        (0u64..3_000).prop_map(Step::Advance),
        Just(Step::DropLink),
        Just(Step::Reconnect),
        Just(Step::Garbage),
        any::<bool>().prop_map(Step::Offline),
        Just(Step::Disconnect),
        Just(Step::Connect),
    ]
}

/// An EVENT or BINARY_EVENT (with one attachment) frame.
fn is_event(f: &str) -> bool {
    f.starts_with("42") || f.starts_with("451-")
}

/// An EVENT or BINARY_EVENT frame that asks for an ack.
fn has_ack_id(f: &str) -> bool {
    (f.starts_with("42") && f.as_bytes().get(2).is_some_and(u8::is_ascii_digit))
        || (f.starts_with("451-") && f.as_bytes().get(4).is_some_and(u8::is_ascii_digit))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn every_request_settles_exactly_once(steps in proptest::collection::vec(step(), 1..80)) {
        let mut h = Harness::default();
        h.connect();
        let mut keys: Vec<RequestKey> = vec![];
        for s in steps {
            match s {
                Step::Request { timeout, retry, binary } => {
                    let opts = RequestOptions { timeout_ms: Some(timeout), retry, ..RequestOptions::default() };
                    let made = if binary {
                        h.c.request_binary(h.now, "q", &format!(r#"{{"b":{PH0}}}"#), vec![vec![1, 2]], opts)
                    } else {
                        h.c.request(h.now, "q", "{}", opts)
                    };
                    if let Ok(k) = made {
                        keys.push(k);
                    }
                    h.drain();
                }
                Step::AckOldest => {
                    if let Some(f) = h.sent.iter().find(|f| has_ack_id(f)) {
                        let id = ack_id_of(f);
                        h.text(&format!("43{id}[1]"));
                    }
                }
                Step::BinaryAckOldest => {
                    if let Some(f) = h.sent.iter().find(|f| has_ack_id(f)) {
                        let id = ack_id_of(f);
                        h.text(&format!("461-{id}[{PH0}]"));
                        h.c.on_binary(h.now, &[7]);
                        h.drain();
                    }
                }
                Step::ReplyNewestByEvent => {
                    if let Some(f) = h.sent.iter().rev().find(|f| is_event(f)).cloned() {
                        let rid = request_id_of(&f);
                        h.text(&format!(r#"42["q_response",{{"request_id":"{rid}"}}]"#));
                    }
                }
                Step::ErrorReply => {
                    if let Some(f) = h.sent.iter().rev().find(|f| is_event(f)).cloned() {
                        let rid = request_id_of(&f);
                        h.text(&format!(r#"42["error",{{"request_id":"{rid}","message":"no"}}]"#));
                    }
                }
                Step::Abort(i) => {
                    if let Some(k) = keys.get(i) { h.c.abort(*k); h.drain(); }
                }
                Step::Advance(ms) => h.advance(ms),
                Step::DropLink => h.close_socket(),
                Step::Reconnect => {
                    if h.c.state() == State::Reconnecting || h.c.state() == State::Connecting {
                        h.advance(6_000);
                        if h.c.state() != State::Connected && h.c.state() != State::Disconnected {
                            h.c.on_open(h.now);
                            h.text(OPEN);
                            h.text(r#"40{"sid":"x"}"#);
                        }
                    }
                }
                Step::Garbage => h.text("4garbage"),
                Step::Offline(on) => { h.c.set_online(h.now, on); h.drain(); }
                Step::Disconnect => { h.c.disconnect(h.now); h.drain(); }
                Step::Connect => { h.c.connect(h.now); h.drain(); }
            }
            for (k, results) in &h.settled {
                prop_assert_eq!(results.len(), 1, "{:?} settled {:?}", k, results);
            }
        }
        // Everything still pending settles once the clock runs past every timeout.
        h.c.set_online(h.now, true);
        h.advance(10_000);
        for k in &keys {
            prop_assert_eq!(h.settled.get(k).map(Vec::len), Some(1), "{:?} never settled", k);
        }
        prop_assert_eq!(h.c.pending_count(), 0);
    }
}

// ----- binary payloads ------------------------------------------------------------

const PH0: &str = r#"{"_placeholder":true,"num":0}"#;
const PH1: &str = r#"{"_placeholder":true,"num":1}"#;

#[test]
fn binary_emit_goes_out_as_binary_event_then_its_attachments() {
    let mut h = Harness::default();
    h.connect();
    let payload = format!(r#"{{"a":{PH0},"b":[1,{PH1}]}}"#);
    h.c.emit_binary("upload", Some(&payload), vec![vec![1, 2, 3], vec![]], false)
        .unwrap();
    h.drain();
    assert_eq!(
        h.sent.last().unwrap(),
        &format!(r#"452-["upload",{payload}]"#)
    );
    let n = h.sent.len();
    assert_eq!(h.binary, [(n, vec![1, 2, 3]), (n, vec![])]);
    assert_eq!(h.c.metrics().frames_out as usize, n + 2);
}

#[test]
fn binary_payloads_must_match_their_attachments() {
    let mut h = Harness::default();
    h.connect();
    // A placeholder without an attachment, an attachment without one, a repeat.
    for (payload, n) in [
        (format!("[{PH0},{PH1}]"), 1),
        (format!("[{PH0}]"), 2),
        (format!("[{PH0},{PH0}]"), 2),
    ] {
        let err =
            h.c.emit_binary("x", Some(&payload), vec![vec![9]; n], false)
                .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidPayload, "{payload} with {n}");
        let err =
            h.c.request_binary(
                0,
                "x",
                &format!(r#"{{"p":{payload}}}"#),
                vec![vec![9]; n],
                RequestOptions::default(),
            )
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidPayload);
    }
    h.drain();
    assert!(h.binary.is_empty());
    // The plain-JSON framing has no binary frames.
    let mut cfg = Config::new("ws://h/ws");
    cfg.protocol = Protocol::Json;
    let mut j = Harness::new(cfg);
    let err =
        j.c.emit_binary("x", Some(PH0), vec![vec![1]], false)
            .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidPayload);
}

#[test]
fn binary_request_settles_by_a_binary_ack_with_its_attachments() {
    let mut h = Harness::default();
    h.connect();
    let payload = format!(r#"{{"blob":{PH0}}}"#);
    let k =
        h.c.request_binary(
            h.now,
            "binary_echo",
            &payload,
            vec![vec![0, 255, 7]],
            RequestOptions::default(),
        )
        .unwrap();
    h.drain();
    let frame = h.sent.last().unwrap().clone();
    assert!(
        frame.starts_with(
            r#"451-0["binary_echo",{"blob":{"_placeholder":true,"num":0},"request_id":""#
        ),
        "{frame}"
    );
    assert_eq!(h.binary, [(h.sent.len(), vec![0, 255, 7])]);
    // BINARY_ACK whose first argument holds the second attachment only:
    // the reply's placeholders are renumbered from 0.
    h.text(&format!(r#"462-0[{{"x":{PH1}}},{PH0}]"#));
    assert!(h.settled.is_empty(), "waits for its attachments");
    h.c.on_binary(h.now, &[0xaa]);
    h.drain();
    assert!(h.settled.is_empty());
    h.c.on_binary(h.now, &[0xbb, 0xcc]);
    h.drain();
    assert_eq!(h.one(k), Ok(format!(r#"{{"x":{PH0}}}"#)));
    assert_eq!(h.settled_bin[&k], [vec![0xbb, 0xcc]]);
}

#[test]
fn a_binary_event_with_a_request_id_settles_its_request_with_the_bytes() {
    let mut h = Harness::default();
    h.connect();
    let k = h.request("photo", "{}", RequestOptions::default());
    let rid = request_id_of(h.sent.last().unwrap());
    h.text(&format!(
        r#"451-["photo_response",{{"request_id":"{rid}","data":{PH0}}}]"#
    ));
    h.c.on_binary(h.now, &[1, 2]);
    h.drain();
    assert_eq!(
        h.one(k),
        Ok(format!(r#"{{"request_id":"{rid}","data":{PH0}}}"#))
    );
    assert_eq!(h.settled_bin[&k], [vec![1, 2]]);
    // Subscribers get the whole event with its attachments.
    assert_eq!(h.events.last().unwrap().0, "photo_response");
    assert_eq!(h.event_bin.last().unwrap(), &[vec![1, 2]]);
}

#[test]
fn buffered_binary_emits_and_requests_keep_their_attachments() {
    let mut h = Harness::default();
    h.connect();
    h.close_socket();
    h.c.emit_binary("a", Some(PH0), vec![vec![1]], false)
        .unwrap();
    h.c.emit_binary("v", Some(PH0), vec![vec![2]], true)
        .unwrap(); // volatile: dropped
    let k =
        h.c.request_binary(
            h.now,
            "b",
            &format!(r#"{{"f":{PH0}}}"#),
            vec![vec![3, 3]],
            RequestOptions {
                retry: true,
                timeout_ms: None,
                ..RequestOptions::default()
            },
        )
        .unwrap();
    h.c.emit("c", Some("1"), false).unwrap();
    assert_eq!(h.c.buffered_count(), 3);
    h.drain();
    assert!(
        h.binary.is_empty(),
        "nothing goes out while the link is down"
    );
    let before = h.sent.len();
    h.advance(10_000);
    h.join();
    let after: Vec<&str> = h.sent[before..].iter().map(String::as_str).collect();
    assert_eq!(after.len(), 4, "{after:?}");
    assert_eq!(after[1], format!(r#"451-["a",{PH0}]"#));
    assert!(
        after[2].starts_with(r#"451-"#)
            && after[2].contains(r#""f":{"_placeholder":true,"num":0}"#),
        "{}",
        after[2]
    );
    assert_eq!(after[3], r#"42["c",1]"#);
    // Each attachment right after its own text frame, in order, once.
    assert_eq!(h.binary, [(before + 2, vec![1]), (before + 3, vec![3, 3])]);

    // The link drops with the request in flight: retried once, bytes again.
    h.close_socket();
    assert!(!h.settled.contains_key(&k));
    h.advance(10_000);
    h.join();
    assert_eq!(h.binary.len(), 3);
    assert_eq!(h.binary[2], (h.sent.len(), vec![3, 3]));
    let frame = h.sent.last().unwrap().clone();
    h.text(&format!(r#"43{}[{{"ok":true}}]"#, ack_id_of(&frame)));
    assert_eq!(h.one(k), Ok(r#"{"ok":true}"#.to_owned()));
    assert!(!h.settled_bin.contains_key(&k));
}

// ----- plain JSON: the gateway's wrapped game events -----------------------------

/// A connected client on the plain-JSON protocol wrapping `wrap`.
fn json_harness(wrap: &[&str]) -> Harness {
    let mut cfg = Config::new("ws://127.0.0.1:9000");
    cfg.protocol = Protocol::Json;
    cfg.path = String::new();
    cfg.wrap_events = wrap.iter().map(|s| (*s).to_owned()).collect();
    let mut h = Harness::new(cfg);
    h.c.connect(0);
    h.c.on_open(0);
    h.drain();
    assert_eq!(h.c.state(), State::Connected);
    h
}

const GAME_EVENTS: [&str; 5] = [
    "character_creation_start",
    "combat_turn",
    "level_up",
    "combat_start",
    "feedback",
];

fn last_frame(h: &Harness) -> serde_json::Value {
    serde_json::from_str(h.sent.last().unwrap()).unwrap()
}

#[test]
fn wrapped_request_puts_its_fields_and_request_id_inside_the_payload() {
    let mut h = json_harness(&GAME_EVENTS);
    let k = h.request(
        "combat_turn",
        r#"{"actorId":"a1","round":3}"#,
        RequestOptions::default(),
    );
    let wrapped = r#"{"action":"event","payload":{"action":"combat_turn","actorId":"a1","round":3,"request_id":""#;
    assert!(
        h.sent.last().unwrap().starts_with(wrapped),
        "{}",
        h.sent.last().unwrap()
    );
    let v = last_frame(&h);
    assert_eq!(
        v.as_object().unwrap().len(),
        2,
        "only action and payload at the top: {v}"
    );
    assert!(v.get("request_id").is_none());
    let rid = v["payload"]["request_id"].as_str().unwrap().to_owned();
    // The gateway answers with its own action name, matched by request_id.
    h.text(&format!(
        r#"{{"action":"combat_response","request_id":"{rid}","content":"swing"}}"#
    ));
    assert!(h.one(k).unwrap().contains("swing"));
    assert_eq!(h.c.pending_count(), 0);
}

#[test]
fn an_error_with_the_request_id_rejects_a_wrapped_request() {
    let mut h = json_harness(&GAME_EVENTS);
    let k = h.request("level_up", r#"{"level":5}"#, RequestOptions::default());
    let rid = last_frame(&h)["payload"]["request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    h.text(&format!(
        r#"{{"action":"error","request_id":"{rid}","message":"no such actor"}}"#
    ));
    assert_eq!(h.one(k), Err(ErrorCode::ServerError));
    assert!(
        h.errors.is_empty(),
        "an owned error goes to its request only"
    );
}

#[test]
fn only_listed_events_are_wrapped_and_emits_are_wrapped_too() {
    let mut h = json_harness(&GAME_EVENTS);
    h.request("query", r#"{"content":"hi"}"#, RequestOptions::default());
    let v = last_frame(&h);
    assert_eq!(v["action"], "query");
    assert!(
        v["request_id"].is_string(),
        "plain framing keeps request_id at the top: {v}"
    );
    h.c.emit("chat", Some(r#"{"text":"hello"}"#), false)
        .unwrap();
    h.drain();
    assert_eq!(
        h.sent.last().unwrap(),
        r#"{"action":"chat","text":"hello"}"#
    );
    h.c.emit(
        "feedback",
        Some(r#"{"messageId":"m1","type":"positive"}"#),
        false,
    )
    .unwrap();
    h.drain();
    assert_eq!(
        h.sent.last().unwrap(),
        r#"{"action":"event","payload":{"action":"feedback","messageId":"m1","type":"positive"}}"#
    );
    // An emit without payload is wrapped as an empty one.
    h.c.emit("combat_start", None, false).unwrap();
    h.drain();
    assert_eq!(
        h.sent.last().unwrap(),
        r#"{"action":"event","payload":{"action":"combat_start"}}"#
    );
}

#[test]
fn buffered_wrapped_requests_go_out_wrapped_after_connect() {
    let mut cfg = Config::new("ws://127.0.0.1:9000");
    cfg.protocol = Protocol::Json;
    cfg.wrap_events = vec!["level_up".into()];
    let mut h = Harness::new(cfg);
    let k = h.request("level_up", r#"{"level":2}"#, RequestOptions::default());
    assert!(h.sent.is_empty());
    h.c.connect(0);
    h.c.on_open(0);
    h.drain();
    let v = last_frame(&h);
    assert_eq!(v["payload"]["action"], "level_up");
    let rid = v["payload"]["request_id"].as_str().unwrap().to_owned();
    h.text(&format!(
        r#"{{"action":"level_up_response","request_id":"{rid}"}}"#
    ));
    assert!(h.one(k).is_ok());
}

// ----- plain JSON: a malformed frame keeps the link ---------------------------------

#[test]
fn json_malformed_frames_keep_the_link_and_pending_requests() {
    let mut h = json_harness(&[]);
    let k = h.request("query", r#"{"content":"hi"}"#, RequestOptions::default());
    let rid = last_frame(&h)["request_id"].as_str().unwrap().to_owned();
    for bad in [
        "this is not json",
        "[1,2]",
        r#"{"no":"action"}"#,
        r#"{"action":5}"#,
        "{",
    ] {
        h.text(bad);
    }
    h.c.on_binary(h.now, &[1, 2, 3]);
    h.drain();
    assert_eq!(h.errors, vec![ErrorCode::ProtocolError; 6]);
    let errors = &h.c.metrics().errors;
    assert_eq!(errors.get("INVALID_PAYLOAD"), Some(&3), "{errors:?}");
    assert_eq!(errors.get("MISSING_ACTION"), Some(&2), "{errors:?}");
    assert_eq!(errors.get("INVALID_JSON"), Some(&1), "{errors:?}");
    assert_eq!(h.c.state(), State::Connected);
    assert_eq!((h.opens, h.closes), (1, 0), "the link stays");
    assert_eq!(
        h.states.last().map(|s| s.0),
        Some(State::Connected),
        "{:?}",
        h.states
    );
    assert_eq!(
        h.states.len(),
        2,
        "no state change after connecting: {:?}",
        h.states
    );
    assert_eq!(h.c.pending_count(), 1);
    h.text(&format!(
        r#"{{"action":"query_response","request_id":"{rid}","content":"still here"}}"#
    ));
    assert!(h.one(k).unwrap().contains("still here"));
}

// ----- auth supplied per attempt ----------------------------------------------------

fn auth_harness() -> Harness {
    let mut cfg = Config::new("http://127.0.0.1:5001");
    cfg.auth_per_attempt = true;
    cfg.backoff = Backoff {
        delay_ms: 1_000,
        delay_max_ms: 5_000,
        randomization_factor: 0.0,
        attempts: None,
    };
    cfg.connect_timeout_ms = 5_000;
    Harness::new(cfg)
}

/// Opens the socket and finishes the Engine.IO handshake of the current
/// attempt; returns the attempt number it asked auth for.
fn handshake_asking_auth(h: &mut Harness) -> u64 {
    h.c.on_open(h.now);
    let sent = h.sent.len();
    h.text(OPEN);
    assert_eq!(
        h.sent.len(),
        sent,
        "no CONNECT before the auth: {:?}",
        &h.sent[sent..]
    );
    *h.auth_asks.last().expect("NeedAuth")
}

#[test]
fn auth_is_asked_for_every_attempt_and_goes_into_its_connect() {
    let mut h = auth_harness();
    h.c.connect(0);
    h.drain();
    let first = handshake_asking_auth(&mut h);
    assert_eq!(h.c.state(), State::Connecting);
    h.c.on_auth(h.now, first, r#"{"token":"t1"}"#);
    h.drain();
    assert_eq!(h.sent.last().unwrap(), r#"40{"token":"t1"}"#);
    h.text(r#"40{"sid":"n1"}"#);
    assert_eq!(h.c.state(), State::Connected);
    assert_eq!(h.connects, vec![Ok(())]);

    h.close_socket();
    h.advance(1_000);
    assert_eq!(h.opens, 2);
    let second = handshake_asking_auth(&mut h);
    assert_ne!(first, second);
    // The first attempt's answer, arriving late, is not this one's.
    h.c.on_auth(h.now, first, r#"{"token":"stale"}"#);
    h.drain();
    assert!(!h.sent.iter().any(|f| f.contains("stale")));
    h.c.on_auth(h.now, second, r#"{"token":"t2"}"#);
    h.drain();
    assert_eq!(h.sent.last().unwrap(), r#"40{"token":"t2"}"#);
    // A second answer for the same attempt changes nothing.
    h.c.on_auth(h.now, second, r#"{"token":"again"}"#);
    h.c.on_auth_failed(h.now, second, "late");
    h.drain();
    assert_eq!(h.sent.iter().filter(|f| f.starts_with("40")).count(), 2);
    assert!(h.errors.is_empty());
    h.text(r#"40{"sid":"n2"}"#);
    assert_eq!(h.c.state(), State::Connected);
    assert_eq!(h.states.last().unwrap().1, "reconnected");
}

#[test]
fn the_connect_timeout_covers_the_wait_for_auth_and_a_late_answer_is_ignored() {
    let mut h = auth_harness();
    h.c.connect(0);
    h.drain();
    let first = handshake_asking_auth(&mut h);
    // Pings are still answered while the auth is awaited.
    h.text("2");
    assert_eq!(h.sent.last().unwrap(), "3");
    h.advance(5_000);
    assert_eq!(h.c.state(), State::Reconnecting);
    assert_eq!(h.states.last().unwrap().1, "connect timeout");
    assert_eq!(h.connects, vec![Err(ErrorCode::Timeout)]);
    h.c.on_auth(h.now, first, r#"{"token":"late"}"#);
    h.drain();
    assert!(!h.sent.iter().any(|f| f.starts_with("40")), "{:?}", h.sent);
    h.advance(1_000);
    let second = handshake_asking_auth(&mut h);
    h.c.on_auth(h.now, second, r#"{"token":"t"}"#);
    h.drain();
    h.text("40");
    assert_eq!(h.c.state(), State::Connected);
}

#[test]
fn a_failed_auth_is_reported_and_backs_off_like_a_lost_link() {
    let mut h = auth_harness();
    let k = h.request("query", "{}", RequestOptions::default());
    h.c.connect(0);
    h.drain();
    let first = handshake_asking_auth(&mut h);
    h.c.on_auth_failed(h.now, first, "token service down");
    h.drain();
    assert_eq!(h.errors, vec![ErrorCode::AuthFailed]);
    assert_eq!(h.c.metrics().errors.get("AUTH_FAILED"), Some(&1));
    assert_eq!(h.c.state(), State::Reconnecting);
    assert_eq!(h.states.last().unwrap().1, "auth failed");
    assert_eq!(h.closes, 1);
    h.advance(999);
    assert_eq!(h.opens, 1, "backoff before the next attempt");
    h.advance(1);
    assert_eq!(h.opens, 2);
    // A non-object fails the attempt too; the delay doubles.
    let second = handshake_asking_auth(&mut h);
    h.c.on_auth(h.now, second, r#"["not","an","object"]"#);
    h.drain();
    assert_eq!(h.errors, vec![ErrorCode::AuthFailed; 2]);
    h.advance(1_999);
    assert_eq!(h.opens, 2);
    h.advance(1);
    let third = handshake_asking_auth(&mut h);
    h.c.on_auth(h.now, third, r#"{"token":"ok"}"#);
    h.drain();
    h.text("40");
    assert_eq!(h.c.state(), State::Connected);
    // The request waited in the buffer all along and goes out now.
    let rid = request_id_of(h.sent.last().unwrap());
    h.text(&format!(r#"42["query_response",{{"request_id":"{rid}"}}]"#));
    assert!(h.one(k).is_ok());
}

#[test]
fn failed_auth_without_reconnection_ends_the_attempt() {
    let mut cfg = Config::new("http://h");
    cfg.auth_per_attempt = true;
    cfg.reconnection = false;
    let mut h = Harness::new(cfg);
    h.c.connect(0);
    h.drain();
    let first = handshake_asking_auth(&mut h);
    h.c.on_auth_failed(h.now, first, "no");
    h.drain();
    assert_eq!(h.c.state(), State::Disconnected);
    assert_eq!(h.connects, vec![Err(ErrorCode::Disconnected)]);
    h.advance(60_000);
    assert_eq!(h.opens, 1);
}

/// Connected through an auth answer.
fn connect_with_auth(h: &mut Harness) {
    h.c.connect(h.now);
    h.drain();
    let attempt = handshake_asking_auth(h);
    h.c.on_auth(h.now, attempt, r#"{"token":"t"}"#);
    h.drain();
    h.text("40");
    assert_eq!(h.c.state(), State::Connected);
}

#[test]
fn token_expired_then_server_disconnect_reconnects_with_a_fresh_auth() {
    let mut h = auth_harness();
    connect_with_auth(&mut h);
    let k = h.request("query", "{}", RequestOptions::default());
    let rid = request_id_of(h.sent.last().unwrap());
    h.text(&format!(
        r#"42["error",{{"request_id":"{rid}","code":"TOKEN_EXPIRED","message":"token expired"}}]"#
    ));
    assert_eq!(h.one(k), Err(ErrorCode::ServerError));
    h.text("41");
    assert_eq!(h.c.state(), State::Reconnecting);
    assert_eq!(h.states.last().unwrap().1, "token expired");
    h.advance(1_000);
    assert_eq!(h.opens, 2);
    let asks = h.auth_asks.len();
    let attempt = handshake_asking_auth(&mut h);
    assert_eq!(
        h.auth_asks.len(),
        asks + 1,
        "asked again for the new attempt"
    );
    h.c.on_auth(h.now, attempt, r#"{"token":"fresh"}"#);
    h.drain();
    assert_eq!(h.sent.last().unwrap(), r#"40{"token":"fresh"}"#);
    h.text("40");
    assert_eq!(h.c.state(), State::Connected);
}

#[test]
fn token_expired_without_a_request_id_also_leads_to_a_reconnect() {
    let mut h = auth_harness();
    connect_with_auth(&mut h);
    h.text(r#"42["error",{"code":"TOKEN_EXPIRED","message":"token expired"}]"#);
    assert_eq!(h.errors, vec![ErrorCode::ServerError]);
    h.text("41");
    assert_eq!(h.c.state(), State::Reconnecting);
}

#[test]
fn a_server_disconnect_stays_final_without_token_expiry_or_without_an_auth_function() {
    // Auth function, but a plain kick.
    let mut h = auth_harness();
    connect_with_auth(&mut h);
    h.text(r#"42["error",{"code":"RATE_LIMITED"}]"#);
    h.text("41");
    assert_eq!(h.c.state(), State::Disconnected);
    h.advance(60_000);
    assert_eq!(h.opens, 1);

    // Token expired, but the auth is a fixed object: as socket.io does.
    let mut cfg = Config::new("http://h");
    cfg.auth = Some(r#"{"token":"t"}"#.into());
    let mut h = Harness::new(cfg);
    h.connect_with(r#"40{"token":"t"}"#);
    h.text(r#"42["error",{"code":"TOKEN_EXPIRED"}]"#);
    h.text("41");
    assert_eq!(h.c.state(), State::Disconnected);
    assert_eq!(h.states.last().unwrap().1, "io server disconnect");
    h.advance(60_000);
    assert_eq!(h.opens, 1);

    // An expiry on an earlier link does not make a later kick a reconnect.
    let mut h = auth_harness();
    connect_with_auth(&mut h);
    h.text(r#"42["error",{"code":"TOKEN_EXPIRED"}]"#);
    h.close_socket();
    h.advance(1_000);
    let attempt = handshake_asking_auth(&mut h);
    h.c.on_auth(h.now, attempt, r#"{"token":"t"}"#);
    h.drain();
    h.text("40");
    h.text("41");
    assert_eq!(h.c.state(), State::Disconnected);
}

impl Harness {
    /// connect() with a fixed auth: the CONNECT sent must be `connect`.
    fn connect_with(&mut self, connect: &str) {
        self.c.connect(self.now);
        self.drain();
        self.c.on_open(self.now);
        self.text(OPEN);
        assert_eq!(self.sent.last().unwrap(), connect);
        self.text("40");
        assert_eq!(self.c.state(), State::Connected);
    }
}
