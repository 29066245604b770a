//! The sans-IO client with `parser: 'msgpack'`, driven natively with
//! simulated time: Engine.IO's own packets stay text (open, ping, pong),
//! every Socket.IO packet is one binary frame in socket.io-msgpack-parser's
//! format (the bytes notepack writes), and everything above the codec
//! behaves as with the text parser: the join, emits, requests settled by
//! acks and by reply events, binary values both ways, the buffer, metrics,
//! and over long-polling (`b<base64>` in the payloads). A frame of the
//! wrong shape, a truncated one, an unsupported extension or a text
//! message is a typed PROTOCOL_ERROR, counted by its decoder code, and the
//! link reconnects, as a malformed text frame does.
#![cfg(not(target_arch = "wasm32"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64::Engine as _;
use frinny_agent::core::{
    Client, ClientError, Config, ErrorCode, FastPath, HttpKind, Output, Parser, RequestKey,
    RequestOptions, State, Transport,
};
use frinny_agent::protocol::socket_io::{Packet, Payload};
use frinny_agent::protocol::{msgpack, Limits};
use std::collections::HashMap;

const OPEN: &str =
    r#"0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

/// `notepack.encode({type: 0, nsp: '/'})`: the CONNECT socket.io-client
/// sends with the msgpack parser and no auth.
const CONNECT_ROOT: &[u8] = b"\x82\xa4type\x00\xa3nsp\xa1/";

/// `notepack.encode({type: 0, data: {sid: 'n1'}, nsp: '/'})`: the server's
/// CONNECT.
const CONNECTED: &[u8] = b"\x83\xa4type\x00\xa4data\x81\xa3sid\xa2n1\xa3nsp\xa1/";

fn limits() -> Limits {
    Limits::default()
}

/// A packet the server writes, as msgpack.
fn server(packet: &Packet<'_>) -> Vec<u8> {
    msgpack::encode(packet, &limits()).unwrap()
}

/// A frame the client wrote, decoded.
fn client(frame: &[u8]) -> Packet<'static> {
    msgpack::decode(frame, &limits()).unwrap()
}

/// How one request settled: the reply or the error's code, and the reply's
/// attachments.
type Settled = (Result<String, ErrorCode>, Vec<Vec<u8>>);

/// A msgpack client and everything it has output so far.
struct H {
    c: Client,
    now: u64,
    text: Vec<String>,
    binary: Vec<Vec<u8>>,
    opens: usize,
    states: Vec<(State, String)>,
    events: Vec<(String, String, Vec<Vec<u8>>)>,
    settled: HashMap<RequestKey, Vec<Settled>>,
    errors: Vec<ClientError>,
}

impl H {
    fn new(mut cfg: Config) -> H {
        cfg.parser = Parser::Msgpack;
        H {
            c: Client::new(cfg, 42),
            now: 0,
            text: vec![],
            binary: vec![],
            opens: 0,
            states: vec![],
            events: vec![],
            settled: HashMap::new(),
            errors: vec![],
        }
    }

    fn websocket() -> H {
        let mut cfg = Config::new("http://127.0.0.1:5001");
        cfg.transports = vec![Transport::WebSocket];
        H::new(cfg)
    }

    fn drain(&mut self) {
        while let Some(o) = self.c.poll_output() {
            match o {
                Output::Open { .. } => self.opens += 1,
                Output::SendText(t) => self.text.push(t),
                Output::SendBinary(b) => self.binary.push(b),
                Output::StateChange { state, reason } => self.states.push((state, reason)),
                Output::Event {
                    name,
                    json,
                    attachments,
                    ..
                } => self.events.push((name, json, attachments)),
                Output::Settled {
                    key,
                    result,
                    attachments,
                } => self
                    .settled
                    .entry(key)
                    .or_default()
                    .push((result.map_err(|e| e.code), attachments)),
                Output::Error(e) => self.errors.push(e),
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

    fn on_text(&mut self, t: &str) {
        self.c.on_text(self.now, t);
        self.drain();
    }

    fn on_binary(&mut self, b: &[u8]) {
        self.c.on_binary(self.now, b);
        self.drain();
    }

    /// Socket opens, the text handshake, the binary CONNECT both ways.
    fn join(&mut self) {
        self.c.on_open(self.now);
        self.drain();
        let sent_before = self.binary.len();
        self.on_text(OPEN);
        assert_eq!(self.binary.len(), sent_before + 1, "one CONNECT frame");
        assert_eq!(self.binary.last().unwrap().as_slice(), CONNECT_ROOT);
        self.on_binary(CONNECTED);
        assert_eq!(self.c.state(), State::Connected);
    }

    fn connect(&mut self) {
        self.c.connect(self.now);
        self.drain();
        self.join();
    }

    fn one(&self, k: RequestKey) -> Settled {
        let s = self.settled.get(&k).expect("settled");
        assert_eq!(s.len(), 1, "settled more than once: {s:?}");
        s[0].clone()
    }

    /// The last binary frame the client sent, decoded.
    fn last_sent(&self) -> Packet<'static> {
        client(self.binary.last().expect("a binary frame"))
    }
}

fn request_id(packet: &Packet<'_>) -> String {
    let Packet::Event { data, .. } = packet else {
        panic!("not an event: {packet:?}")
    };
    let v: serde_json::Value = serde_json::from_str(&data.json).unwrap();
    v[1]["request_id"].as_str().unwrap().to_owned()
}

#[test]
fn joins_with_a_text_handshake_and_binary_connect_packets() {
    let mut h = H::websocket();
    h.connect();
    // Engine.IO's own packets stay text; no Socket.IO text frame went out.
    assert!(h.text.is_empty(), "{:?}", h.text);
    assert_eq!(h.states.last().unwrap().0, State::Connected);
    // The heartbeat is Engine.IO's: a text ping gets a text pong.
    h.on_text("2");
    assert_eq!(h.text, vec!["3".to_owned()]);
    // No text event frame can come on this link, so the shell's fast path
    // (which reads `42[...]` text) stays closed.
    assert_eq!(h.c.fast_path(), FastPath::Closed);
    let m = h.c.metrics();
    assert_eq!(m.frames_out, 2, "CONNECT and the pong");
    assert_eq!(m.bytes_out, CONNECT_ROOT.len() as u64 + 1);
    assert_eq!(m.frames_in, 3, "open, CONNECT, ping");
    assert_eq!(
        m.bytes_in,
        (OPEN.len() + CONNECTED.len() + 1) as u64,
        "bytes of text and binary frames alike"
    );
}

#[test]
fn auth_and_namespace_go_into_the_binary_connect() {
    let mut cfg = Config::new("http://127.0.0.1:5001");
    cfg.transports = vec![Transport::WebSocket];
    cfg.namespace = "/admin".into();
    cfg.auth = Some(r#"{"token":"t"}"#.into());
    let mut h = H::new(cfg);
    h.c.connect(0);
    h.c.on_open(0);
    h.on_text(OPEN);
    // notepack.encode({type: 0, data: {token: 't'}, nsp: '/admin'})
    assert_eq!(
        h.binary.last().unwrap().as_slice(),
        b"\x83\xa4type\x00\xa4data\x81\xa5token\xa1t\xa3nsp\xa6/admin"
    );
    // A CONNECT for another namespace does not join this one.
    h.on_binary(CONNECTED);
    assert_eq!(h.c.state(), State::Connecting);
    h.on_binary(&server(&Packet::Connect {
        nsp: "/admin".into(),
        auth: Some(r#"{"sid":"n2"}"#.into()),
    }));
    assert_eq!(h.c.state(), State::Connected);
    // disconnect() leaves the namespace with a binary DISCONNECT.
    h.c.disconnect(h.now);
    h.drain();
    assert_eq!(
        h.binary.last().unwrap().as_slice(),
        b"\x82\xa4type\x01\xa3nsp\xa6/admin"
    );
}

#[test]
fn emits_requests_acks_and_reply_events() {
    let mut h = H::websocket();
    h.connect();

    h.c.emit("feedback", Some(r#"{"type":"positive"}"#), false)
        .unwrap();
    h.drain();
    // notepack.encode({type: 2, data: ['feedback', {type: 'positive'}], nsp: '/'})
    assert_eq!(
        h.binary.last().unwrap().as_slice(),
        b"\x83\xa4type\x02\xa4data\x92\xa8feedback\x81\xa4type\xa8positive\xa3nsp\xa1/"
    );

    // A request answered by an ack.
    let k =
        h.c.request(h.now, "echo", r#"{"x":1.5}"#, RequestOptions::default())
            .unwrap();
    h.drain();
    let sent = h.last_sent();
    let id = sent.id().expect("an ack id");
    let Packet::Event { event, .. } = &sent else {
        panic!("{sent:?}")
    };
    assert_eq!(event, "echo");
    let rid = request_id(&sent);
    h.on_binary(&server(
        &Packet::ack("/", id, r#"[{"x":1.5,"ok":true}]"#).unwrap(),
    ));
    assert_eq!(h.one(k), (Ok(r#"{"x":1.5,"ok":true}"#.to_owned()), vec![]));
    assert!(!rid.is_empty());

    // A Frinny request answered by a reply event carrying its request_id,
    // after an empty ack (python-socketio's receipt).
    let k =
        h.c.request(
            h.now,
            "query",
            r#"{"content":"hi"}"#,
            RequestOptions::default(),
        )
        .unwrap();
    h.drain();
    let sent = h.last_sent();
    let rid = request_id(&sent);
    h.on_binary(&server(
        &Packet::ack("/", sent.id().unwrap(), "[null]").unwrap(),
    ));
    assert!(!h.settled.contains_key(&k), "a receipt only");
    let reply = format!(r#"["query_response",{{"request_id":"{rid}","content":"hello"}}]"#);
    h.on_binary(&server(
        &Packet::event_from_payload("/", reply.as_str(), None).unwrap(),
    ));
    let (result, _) = h.one(k);
    assert!(result.unwrap().contains(r#""content":"hello""#));
    // The reply is an event too, for subscribers.
    assert_eq!(h.events.last().unwrap().0, "query_response");

    // A server `error` with the request_id rejects it.
    let k =
        h.c.request(
            h.now,
            "query",
            r#"{"content":"x"}"#,
            RequestOptions::default(),
        )
        .unwrap();
    h.drain();
    let rid = request_id(&h.last_sent());
    let error = format!(r#"["error",{{"error":"backend failed","request_id":"{rid}"}}]"#);
    h.on_binary(&server(
        &Packet::event_from_payload("/", error.as_str(), None).unwrap(),
    ));
    assert_eq!(h.one(k).0, Err(ErrorCode::ServerError));
    assert_eq!(h.c.pending_count(), 0);
}

#[test]
fn binary_values_go_inline_both_ways() {
    let mut h = H::websocket();
    h.connect();

    // Out: the placeholder's attachment sits where it was, as `bin`; one
    // frame, not a header and an attachment frame.
    let before = h.binary.len();
    h.c.emit_binary(
        "upload",
        Some(r#"{"name":"a.png","bytes":{"_placeholder":true,"num":0}}"#),
        vec![vec![0x89, 0x50]],
        false,
    )
    .unwrap();
    h.drain();
    assert_eq!(h.binary.len(), before + 1);
    assert_eq!(
        h.binary.last().unwrap().as_slice(),
        b"\x83\xa4type\x02\xa4data\x92\xa6upload\x82\xa4name\xa5a.png\xa5bytes\xc4\x02\x89\x50\xa3nsp\xa1/"
    );
    // Placeholders that do not match the attachments fail the call.
    let e =
        h.c.emit_binary(
            "upload",
            Some(r#"{"bytes":{"_placeholder":true,"num":1}}"#),
            vec![vec![1]],
            false,
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidPayload);

    // In: an event with binary values reaches the subscribers as
    // placeholders and attachments, as from the text parser.
    let payload = Payload {
        json: r#"["binary_data",{"index":0,"data":{"_placeholder":true,"num":0},"parts":[{"_placeholder":true,"num":1}]}]"#.into(),
        attachments: vec![vec![1, 2, 3], vec![255]],
    };
    h.on_binary(&server(
        &Packet::event_from_payload("/", payload.clone(), None).unwrap(),
    ));
    let (name, json, attachments) = h.events.last().unwrap().clone();
    assert_eq!(name, "binary_data");
    assert_eq!(json, payload.json);
    assert_eq!(attachments, payload.attachments);

    // A request with binary, answered by an ack with binary.
    let k =
        h.c.request_binary(
            h.now,
            "binary_echo",
            r#"{"data":{"_placeholder":true,"num":0}}"#,
            vec![vec![42, 43]],
            RequestOptions::default(),
        )
        .unwrap();
    h.drain();
    let sent = h.last_sent();
    assert_eq!(sent.attachments(), [vec![42, 43]]);
    let ack = Packet::ack(
        "/",
        sent.id().unwrap(),
        Payload {
            json: r#"[{"echo":{"_placeholder":true,"num":0}}]"#.into(),
            attachments: vec![vec![42, 43]],
        },
    )
    .unwrap();
    h.on_binary(&server(&ack));
    assert_eq!(
        h.one(k),
        (
            Ok(r#"{"echo":{"_placeholder":true,"num":0}}"#.to_owned()),
            vec![vec![42, 43]]
        )
    );
}

#[test]
fn what_waited_for_the_link_goes_out_in_msgpack() {
    let mut h = H::websocket();
    h.c.emit("feedback", Some(r#"{"n":1}"#), false).unwrap();
    h.c.emit_binary(
        "upload",
        Some(r#"{"b":{"_placeholder":true,"num":0}}"#),
        vec![vec![7]],
        false,
    )
    .unwrap();
    let k =
        h.c.request(0, "echo", r#"{"n":2}"#, RequestOptions::default())
            .unwrap();
    assert_eq!(h.c.buffered_count(), 3);
    h.connect();
    let sent: Vec<Packet<'static>> = h.binary[1..].iter().map(|b| client(b)).collect();
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert!(matches!(&sent[0], Packet::Event { event, .. } if event == "feedback"));
    assert!(matches!(&sent[1], Packet::Event { event, .. } if event == "upload"));
    assert_eq!(sent[1].attachments(), [vec![7]]);
    assert!(matches!(&sent[2], Packet::Event { event, .. } if event == "echo"));
    h.on_binary(&server(
        &Packet::ack("/", sent[2].id().unwrap(), r#"[{"n":2}]"#).unwrap(),
    ));
    assert_eq!(h.one(k).0, Ok(r#"{"n":2}"#.to_owned()));
}

/// A bad frame: the error's code and detail, counted, and the link
/// reconnects with backoff and joins again.
fn assert_bad_frame_recovers(bad: &dyn Fn(&mut H), detail: &str) {
    let mut h = H::websocket();
    h.connect();
    // A request in flight is failed with the link (no retry asked).
    let k =
        h.c.request(h.now, "echo", "{}", RequestOptions::default())
            .unwrap();
    h.drain();
    bad(&mut h);
    let e = h.errors.last().expect("an error for onError").clone();
    assert_eq!(e.code, ErrorCode::ProtocolError, "{e:?}");
    assert_eq!(e.detail, Some(detail), "{e:?}");
    assert_eq!(h.c.metrics().errors.get(detail), Some(&1));
    assert_eq!(h.c.state(), State::Reconnecting);
    assert_eq!(h.states.last().unwrap().1, "parse error");
    assert_eq!(h.one(k).0, Err(ErrorCode::Disconnected));
    let opens = h.opens;
    h.advance(5_000);
    assert_eq!(h.opens, opens + 1, "a new attempt");
    h.join();
    assert_eq!(h.c.metrics().reconnects, 1);
    // And the new link works.
    h.c.emit("feedback", Some("{}"), false).unwrap();
    h.drain();
    assert!(matches!(h.last_sent(), Packet::Event { .. }));
}

#[test]
fn a_truncated_frame_is_invalid_msgpack_and_the_link_recovers() {
    assert_bad_frame_recovers(
        &|h| h.on_binary(&CONNECTED[..CONNECTED.len() - 1]),
        "INVALID_MSGPACK",
    );
}

#[test]
fn a_frame_of_the_wrong_shape_is_invalid_packet_and_the_link_recovers() {
    // An array, not a map.
    assert_bad_frame_recovers(&|h| h.on_binary(b"\x92\x02\xa1/"), "INVALID_PACKET");
    // A map without `type`.
    assert_bad_frame_recovers(&|h| h.on_binary(b"\x81\xa3nsp\xa1/"), "INVALID_PACKET");
    // An EVENT whose data is not an array.
    assert_bad_frame_recovers(
        &|h| h.on_binary(b"\x83\xa4type\x02\xa4data\x01\xa3nsp\xa1/"),
        "INVALID_PAYLOAD",
    );
}

#[test]
fn an_unsupported_extension_is_unsupported_msgpack_and_the_link_recovers() {
    // `fixext 1` of type 5 inside an event's data.
    assert_bad_frame_recovers(
        &|h| h.on_binary(b"\x83\xa4type\x02\xa4data\x92\xa1e\xd4\x05\x00\xa3nsp\xa1/"),
        "UNSUPPORTED_MSGPACK",
    );
}

#[test]
fn a_text_message_on_a_msgpack_link_is_refused_and_the_link_recovers() {
    assert_bad_frame_recovers(&|h| h.on_text(r#"42["tick",1]"#), "INVALID_PACKET");
}

#[test]
fn msgpack_over_long_polling_is_base64_in_the_payloads() {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let mut cfg = Config::new("http://127.0.0.1:5001");
    cfg.transports = vec![Transport::Polling];
    let mut h = H::new(cfg);
    let mut posts = vec![];
    let drain = |h: &mut H, posts: &mut Vec<String>| {
        while let Some(o) = h.c.poll_output() {
            match o {
                Output::HttpPost { body, .. } => posts.push(body),
                Output::Settled { key, result, .. } => h
                    .settled
                    .entry(key)
                    .or_default()
                    .push((result.map_err(|e| e.code), vec![])),
                Output::Event {
                    name,
                    json,
                    attachments,
                    ..
                } => h.events.push((name, json, attachments)),
                _ => {}
            }
        }
    };
    let text = "text/plain; charset=UTF-8";
    h.c.connect(0);
    drain(&mut h, &mut posts);
    h.c.on_http_response(0, HttpKind::Get, 200, text, OPEN);
    drain(&mut h, &mut posts);
    // engine.io writes a binary message in a text payload as `b<base64>`.
    assert_eq!(posts, vec![format!("b{}", b64(CONNECT_ROOT))]);
    h.c.on_http_response(0, HttpKind::Post, 200, text, "ok");
    let joined = format!("b{}", b64(CONNECTED));
    h.c.on_http_response(0, HttpKind::Get, 200, text, &joined);
    drain(&mut h, &mut posts);
    assert_eq!(h.c.state(), State::Connected);

    // A request and its ack, with a ping in the same GET payload.
    let k =
        h.c.request(0, "echo", r#"{"x":1}"#, RequestOptions::default())
            .unwrap();
    drain(&mut h, &mut posts);
    let body = posts.last().unwrap().clone();
    let frame = base64::engine::general_purpose::STANDARD
        .decode(body.strip_prefix('b').unwrap())
        .unwrap();
    let sent = client(&frame);
    let ack = server(&Packet::ack("/", sent.id().unwrap(), r#"[{"x":1}]"#).unwrap());
    h.c.on_http_response(0, HttpKind::Post, 200, text, "ok");
    let payload = format!("2\x1eb{}", b64(&ack));
    h.c.on_http_response(0, HttpKind::Get, 200, text, &payload);
    drain(&mut h, &mut posts);
    assert_eq!(h.one(k).0, Ok(r#"{"x":1}"#.to_owned()));
    assert_eq!(posts.last().unwrap(), "3", "the pong is text");

    // A malformed msgpack packet in a payload: counted, and the link goes.
    let bad = format!("b{}", b64(b"\x92\x01\x02"));
    h.c.on_http_response(0, HttpKind::Get, 200, text, &bad);
    drain(&mut h, &mut posts);
    assert_eq!(h.c.metrics().errors.get("INVALID_PACKET"), Some(&1));
    assert_eq!(h.c.state(), State::Reconnecting);
}
