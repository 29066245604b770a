//! The nesting-depth limit on inbound frames, end to end through the sans-IO
//! client: a frame nested deeper than `Limits::max_depth` is refused with the
//! typed `JSON_TOO_DEEP` error before any parser recurses into it, counted
//! in the metrics, and the link recovers.
#![cfg(not(target_arch = "wasm32"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use frinny_agent::core::{Client, ClientError, Config, ErrorCode, Output, Protocol, State};
use frinny_agent::protocol::Limits;

const OPEN: &str =
    r#"0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
const MAX_DEPTH: usize = 8;

/// A client with a small depth limit, and what it has said so far.
struct Link {
    c: Client,
    now: u64,
    errors: Vec<ClientError>,
    events: Vec<(String, String)>,
}

impl Link {
    fn new(protocol: Protocol) -> Link {
        let mut cfg = Config::new("http://127.0.0.1:5001");
        cfg.protocol = protocol;
        if protocol == Protocol::Json {
            cfg.path = String::new();
        }
        cfg.limits = Limits {
            max_depth: MAX_DEPTH,
            ..Limits::default()
        };
        Link {
            c: Client::new(cfg, 7),
            now: 0,
            errors: vec![],
            events: vec![],
        }
    }

    fn drain(&mut self) {
        while let Some(o) = self.c.poll_output() {
            match o {
                Output::Error(e) => self.errors.push(e),
                Output::Event { name, json, .. } => self.events.push((name, json)),
                _ => {}
            }
        }
    }

    fn text(&mut self, t: &str) {
        self.c.on_text(self.now, t);
        self.drain();
    }

    /// Through the socket, the handshake and (for Socket.IO) the namespace.
    fn join(&mut self) {
        self.c.on_open(self.now);
        self.drain();
        if self.c.state() != State::Connected {
            self.text(OPEN);
            self.text(r#"40{"sid":"n1"}"#);
        }
        assert_eq!(self.c.state(), State::Connected);
    }

    fn connect(&mut self) {
        self.c.connect(self.now);
        self.drain();
        self.join();
    }

    /// Lets the reconnection backoff run, then joins again.
    fn recover(&mut self) {
        assert_eq!(self.c.state(), State::Reconnecting);
        self.now += 10_000;
        self.c.on_timer(self.now);
        self.drain();
        self.join();
    }

    fn too_deep_count(&self) -> Option<u64> {
        self.c.metrics().errors.get("JSON_TOO_DEEP").copied()
    }
}

fn nested(depth: usize) -> String {
    format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
}

fn assert_too_deep(e: &ClientError) {
    assert_eq!(e.code, ErrorCode::ProtocolError);
    assert_eq!(e.detail, Some("JSON_TOO_DEEP"), "{e}");
}

#[test]
fn a_too_deep_event_is_refused_counted_and_the_link_recovers() {
    let mut link = Link::new(Protocol::SocketIo);
    link.connect();
    // At the limit: delivered (the args array is one level).
    let ok = format!(r#"42["deep",{}]"#, nested(MAX_DEPTH - 1));
    link.text(&ok);
    assert_eq!(link.events.len(), 1);
    assert!(link.errors.is_empty());
    // One past it, and far past serde_json's own recursion limit.
    for depth in [MAX_DEPTH, 10_000] {
        link.text(&format!(r#"42["deep",{}]"#, nested(depth)));
        assert_too_deep(link.errors.last().unwrap());
        link.recover();
    }
    assert_eq!(link.too_deep_count(), Some(2));
    assert_eq!(link.events.len(), 1);
    // The recovered link delivers again.
    link.text(r#"42["after",{"ok":true}]"#);
    assert_eq!(link.events.last().unwrap().0, "after");
}

#[test]
fn a_too_deep_binary_event_or_handshake_is_refused_and_counted() {
    let mut link = Link::new(Protocol::SocketIo);
    link.connect();
    link.text(&format!(
        r#"451-["bin",{{"_placeholder":true,"num":0}},{}]"#,
        nested(MAX_DEPTH)
    ));
    assert_too_deep(link.errors.last().unwrap());
    link.now += 10_000;
    link.c.on_timer(link.now);
    link.drain();
    link.c.on_open(link.now);
    link.drain();
    // The handshake of the next attempt is as deep-limited as the rest.
    link.text(&format!(
        r#"0{{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"x":{}}}"#,
        nested(MAX_DEPTH)
    ));
    assert_too_deep(link.errors.last().unwrap());
    assert_eq!(link.too_deep_count(), Some(2));
    link.recover();
}

#[test]
fn a_too_deep_plain_json_frame_is_refused_counted_and_the_link_stays() {
    let mut link = Link::new(Protocol::Json);
    link.connect();
    link.text(&format!(r#"{{"action":"deep","x":{}}}"#, nested(MAX_DEPTH)));
    assert_too_deep(link.errors.last().unwrap());
    assert_eq!(link.too_deep_count(), Some(1));
    assert_eq!(link.c.state(), State::Connected);
    link.text(r#"{"action":"after"}"#);
    assert_eq!(link.events.last().unwrap().0, "after");
}
