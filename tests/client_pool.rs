//! One Engine.IO link shared by several namespaces, driven natively with
//! simulated time: a link client ([`Role::Link`]) and guests
//! ([`Role::Guest`]) wired together as the browser shell's pool wires them,
//! against a scripted server.
#![cfg(not(target_arch = "wasm32"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use frinny_agent::core::{
    AckKey, Client, Config, ErrorCode, Output, Parser, RequestKey, RequestOptions, Role, State,
    Transport,
};
use frinny_agent::protocol::socket_io::{self, Packet, Payload};
use frinny_agent::protocol::{msgpack, Limits};
use std::collections::{BTreeMap, HashMap};

const OPEN: &str = r#"0{"sid":"eio1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

fn config(role: Role, nsp: &str) -> Config {
    config_with(role, nsp, Parser::Json)
}

fn config_with(role: Role, nsp: &str, parser: Parser) -> Config {
    let mut cfg = Config::new("http://127.0.0.1:5001");
    cfg.parser = parser;
    cfg.transports = vec![Transport::WebSocket];
    cfg.namespace = nsp.to_owned();
    cfg.role = role;
    if role == Role::Link {
        // Guests drive reconnection; the link only lives while one wants it.
        cfg.reconnection = false;
    }
    cfg
}

/// What one guest saw.
#[derive(Default)]
struct Seen {
    states: Vec<State>,
    events: Vec<(String, String)>,
    /// Every event's attachments and ack key, in the order of `events`.
    extras: Vec<(Vec<Vec<u8>>, Option<AckKey>)>,
    settled: HashMap<RequestKey, Vec<Result<String, ErrorCode>>>,
    connects: Vec<Result<(), ErrorCode>>,
}

/// A page: the link, its guests by namespace, and what reached the server.
struct Page {
    now: u64,
    link: Client,
    guests: BTreeMap<String, Client>,
    seen: HashMap<String, Seen>,
    attached: Vec<String>,
    /// Sockets the link opened.
    opens: usize,
    /// Text frames the server received, in order.
    server: Vec<String>,
    server_binary: Vec<Vec<u8>>,
    link_up: bool,
}

impl Page {
    fn new(nsps: &[&str]) -> Page {
        Page::with_parser(nsps, Parser::Json)
    }

    /// A page whose link and guests all use `parser`, as the pool keys them.
    fn with_parser(nsps: &[&str], parser: Parser) -> Page {
        let mut guests = BTreeMap::new();
        for (i, nsp) in nsps.iter().enumerate() {
            guests.insert(
                (*nsp).to_owned(),
                Client::new(config_with(Role::Guest, nsp, parser), 7 + i as u64),
            );
        }
        Page {
            now: 0,
            link: Client::new(config_with(Role::Link, "/", parser), 1),
            guests,
            seen: HashMap::new(),
            attached: vec![],
            opens: 0,
            server: vec![],
            server_binary: vec![],
            link_up: false,
        }
    }

    fn guest(&mut self, nsp: &str) -> &mut Client {
        self.guests.get_mut(nsp).unwrap()
    }

    fn seen(&mut self, nsp: &str) -> &mut Seen {
        self.seen.entry(nsp.to_owned()).or_default()
    }

    /// Carries out every output until nothing moves, as the pool does.
    fn pump(&mut self) {
        loop {
            let mut moved = false;
            while let Some(o) = self.link.poll_output() {
                moved = true;
                match o {
                    Output::Open { .. } => self.opens += 1,
                    Output::SendText(t) => self.server.push(t),
                    Output::SendBinary(b) => self.server_binary.push(b),
                    Output::StateChange { state, reason } => {
                        let up = state == State::Connected;
                        if up && !self.link_up {
                            for nsp in self.attached.clone() {
                                let now = self.now;
                                self.guest(&nsp).on_link_open(now);
                            }
                        } else if !up && self.link_up {
                            for nsp in self.attached.clone() {
                                let now = self.now;
                                self.guest(&nsp).on_close(now, &reason);
                            }
                        }
                        self.link_up = up;
                    }
                    Output::Routed(packet) => {
                        let now = self.now;
                        if let Some(g) = self.guests.get_mut(packet.nsp()) {
                            g.on_link_packet(now, packet);
                        }
                    }
                    _ => {}
                }
            }
            let nsps: Vec<String> = self.guests.keys().cloned().collect();
            for nsp in nsps {
                while let Some(o) = self.guest(&nsp).poll_output() {
                    moved = true;
                    let now = self.now;
                    match o {
                        Output::Open { .. } => {
                            self.attached.push(nsp.clone());
                            if self.link_up {
                                self.guest(&nsp).on_link_open(now);
                            } else if self.link.state() != State::Connecting {
                                self.link.connect(now);
                            }
                        }
                        Output::Close => {
                            self.attached.retain(|n| n != &nsp);
                            if self.attached.is_empty() {
                                self.link.disconnect(now);
                            }
                        }
                        Output::Carry {
                            priority,
                            frame,
                            attachments,
                        } => self.link.carry(priority, frame, attachments),
                        Output::StateChange { state, .. } => self.seen(&nsp).states.push(state),
                        Output::Event {
                            name,
                            json,
                            attachments,
                            ack,
                            ..
                        } => {
                            let seen = self.seen(&nsp);
                            seen.events.push((name, json));
                            seen.extras.push((attachments, ack));
                        }
                        Output::Settled { key, result, .. } => self
                            .seen(&nsp)
                            .settled
                            .entry(key)
                            .or_default()
                            .push(result.map_err(|e| e.code)),
                        Output::ConnectSettled(r) => {
                            self.seen(&nsp).connects.push(r.map_err(|e| e.code))
                        }
                        Output::FlushEmits => self.guest(&nsp).flush_emits(),
                        Output::Routed(_) => unreachable!(),
                        _ => {}
                    }
                }
            }
            if !moved {
                return;
            }
        }
    }

    fn at(&mut self, now: u64) {
        self.now = now;
        self.link.on_timer(now);
        for g in self.guests.values_mut() {
            g.on_timer(now);
        }
        self.pump();
    }

    /// The server sends `text` on the link's socket.
    fn server_says(&mut self, text: &str) {
        self.link.on_text(self.now, text);
        self.pump();
    }

    /// The server sends `packet` in socket.io-msgpack-parser's format.
    fn server_sends_msgpack(&mut self, packet: &Packet<'_>) {
        let bytes = msgpack::encode(packet, &Limits::default()).unwrap();
        self.link.on_binary(self.now, &bytes);
        self.pump();
    }

    /// The binary frames the server received since `from`, decoded as msgpack.
    fn server_msgpack(&self, from: usize) -> Vec<Packet<'static>> {
        self.server_binary[from..]
            .iter()
            .map(|b| msgpack::decode(b, &Limits::default()).unwrap())
            .collect()
    }

    fn connect_all(&mut self) {
        let nsps: Vec<String> = self.guests.keys().cloned().collect();
        for nsp in &nsps {
            let now = self.now;
            self.guest(nsp).connect(now);
        }
        self.pump();
        assert_eq!(self.opens, 1, "one socket for every namespace");
        self.link.on_open(self.now);
        self.server_says(OPEN);
        for nsp in &nsps {
            let connect = if nsp == "/" {
                "40".to_owned()
            } else {
                format!("40{nsp},")
            };
            assert!(
                self.server.contains(&connect),
                "{connect} in {:?}",
                self.server
            );
            let reply = if nsp == "/" {
                r#"40{"sid":"a"}"#.to_owned()
            } else {
                format!(r#"40{nsp},{{"sid":"b"}}"#)
            };
            self.server_says(&reply);
        }
        for nsp in &nsps {
            assert_eq!(self.guests[nsp].state(), State::Connected, "{nsp}");
        }
    }
}

#[test]
fn namespaces_join_over_one_link_and_events_reach_their_own_guest() {
    let mut p = Page::new(&["/", "/admin"]);
    p.connect_all();
    assert_eq!(p.link.state(), State::Connected);
    // The link joined no namespace itself.
    assert_eq!(p.server.iter().filter(|t| t.starts_with("40")).count(), 2);

    p.server_says(r#"42["hello",1]"#);
    p.server_says(r#"42/admin,["hello",2]"#);
    p.server_says(r#"42/other,["hello",3]"#);
    assert_eq!(
        p.seen("/").events,
        vec![("hello".into(), r#"["hello",1]"#.into())]
    );
    assert_eq!(
        p.seen("/admin").events,
        vec![("hello".into(), r#"["hello",2]"#.into())]
    );
}

#[test]
fn requests_settle_once_in_the_guest_that_made_them() {
    let mut p = Page::new(&["/", "/admin"]);
    p.connect_all();
    let now = p.now;
    let k = p
        .guest("/admin")
        .request(now, "query", r#"{"q":1}"#, RequestOptions::default())
        .unwrap();
    p.pump();
    let sent = p.server.last().unwrap().clone();
    assert!(sent.starts_with("42/admin,"), "{sent}");
    // The ack id is the guest's own; the ack goes to its namespace only.
    let id: String = sent["42/admin,".len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    p.server_says(&format!(r#"43/admin,{id}[{{"ok":true}}]"#));
    assert_eq!(
        p.seen("/admin").settled[&k],
        vec![Ok(r#"{"ok":true}"#.into())]
    );
    assert!(p.seen("/").settled.is_empty());
}

#[test]
fn binary_packets_reach_their_namespace_whole() {
    let mut p = Page::new(&["/", "/admin"]);
    p.connect_all();
    p.server_says(r#"451-/admin,["blob",{"_placeholder":true,"num":0}]"#);
    let now = p.now;
    p.link.on_binary(now, &[1, 2, 3]);
    p.pump();
    assert_eq!(p.seen("/admin").events.len(), 1);
    assert!(p.seen("/").events.is_empty());
}

#[test]
fn engine_packets_are_handled_once_by_the_link() {
    let mut p = Page::new(&["/", "/admin"]);
    p.connect_all();
    p.server.clear();
    p.server_says("2");
    assert_eq!(p.server, vec!["3".to_owned()], "one pong per ping");
    // Guests keep no heartbeat: only the link's deadline is due in ~45 s.
    assert_eq!(p.guests["/"].poll_timeout(), None);
    assert!(p.link.poll_timeout().is_some());
}

#[test]
fn a_lost_link_drops_every_guest_and_both_rejoin_over_one_new_link() {
    let mut p = Page::new(&["/", "/admin"]);
    p.connect_all();
    let now = p.now;
    let k = p
        .guest("/")
        .request(now, "query", "{}", RequestOptions::default())
        .unwrap();
    let retried = p
        .guest("/")
        .request(
            now,
            "query",
            "{}",
            RequestOptions {
                retry: true,
                ..Default::default()
            },
        )
        .unwrap();
    p.pump();
    p.link.on_close(now, "transport close");
    p.pump();
    for nsp in ["/", "/admin"] {
        assert_eq!(p.guests[nsp].state(), State::Reconnecting, "{nsp}");
    }
    assert_eq!(p.link.state(), State::Disconnected);
    // As over a link of its own: in flight fails, unless it may retry.
    assert_eq!(p.seen("/").settled[&k], vec![Err(ErrorCode::Disconnected)]);
    assert!(!p.seen("/").settled.contains_key(&retried), "re-queued");

    // The guests' backoff ends: one new socket for both.
    p.at(10_000);
    assert_eq!(p.opens, 2);
    p.link.on_open(p.now);
    p.server.clear();
    p.server_says(OPEN);
    p.server_says(r#"40{"sid":"a2"}"#);
    p.server_says(r#"40/admin,{"sid":"b2"}"#);
    assert_eq!(p.guests["/"].state(), State::Connected);
    assert_eq!(p.guests["/admin"].state(), State::Connected);
    assert!(
        p.server
            .iter()
            .any(|t| t.starts_with(r#"42"#) && t.contains("query")),
        "the request went again: {:?}",
        p.server
    );
}

#[test]
fn a_guest_that_leaves_keeps_the_link_for_the_others() {
    let mut p = Page::new(&["/", "/admin"]);
    p.connect_all();
    let now = p.now;
    p.guest("/admin").close(now);
    p.pump();
    assert!(p.server.contains(&"41/admin,".to_owned()));
    assert_eq!(p.link.state(), State::Connected);
    p.server_says(r#"42["still",1]"#);
    assert_eq!(p.seen("/").events.len(), 1);
    // The last one leaving closes the link.
    p.guest("/").disconnect(now);
    p.pump();
    assert_eq!(p.link.state(), State::Disconnected);
}

#[test]
fn a_guest_whose_namespace_never_answers_times_out_from_the_link_opening() {
    let mut p = Page::new(&["/admin"]);
    let now = p.now;
    p.guest("/admin").connect(now);
    p.pump();
    // The link takes long to open: the guest's attempt is not yet timed.
    p.at(15_000);
    p.link.on_open(p.now);
    p.server_says(OPEN);
    p.at(30_000);
    assert_eq!(p.guests["/admin"].state(), State::Connecting);
    // 20 s after the link opened without the namespace's CONNECT.
    p.at(35_001);
    assert_eq!(p.guests["/admin"].state(), State::Reconnecting);
}

#[test]
fn a_refused_namespace_does_not_disturb_the_other() {
    let mut p = Page::new(&["/", "/admin"]);
    let nsps = ["/", "/admin"];
    for nsp in nsps {
        let now = p.now;
        p.guest(nsp).connect(now);
    }
    p.pump();
    p.link.on_open(p.now);
    p.server_says(OPEN);
    p.server_says(r#"44/admin,{"message":"not allowed"}"#);
    p.server_says(r#"40{"sid":"a"}"#);
    assert_eq!(
        p.seen("/admin").connects,
        vec![Err(ErrorCode::ConnectRefused)]
    );
    assert_eq!(p.guests["/"].state(), State::Connected);
    assert_eq!(p.link.state(), State::Connected);
}

#[test]
fn a_link_without_guests_routes_nothing_and_a_guest_packet_before_joining_is_ignored() {
    let mut g = Client::new(config(Role::Guest, "/x"), 3);
    // Not attached: a packet is ignored, a link open too.
    g.on_link_packet(0, socket_io::Packet::disconnect("/x").unwrap());
    g.on_link_open(0);
    assert_eq!(g.state(), State::Disconnected);
    assert!(g.poll_output().is_none());
}

#[test]
fn guests_on_a_msgpack_link_join_hear_events_settle_requests_and_send_binary() {
    let mut p = Page::with_parser(&["/", "/admin"], Parser::Msgpack);
    for nsp in ["/", "/admin"] {
        let now = p.now;
        p.guest(nsp).connect(now);
    }
    p.pump();
    assert_eq!(p.opens, 1, "one socket for every namespace");
    p.link.on_open(p.now);
    p.server_says(OPEN);
    // Each guest's CONNECT went out on the link as one msgpack frame.
    let joins: Vec<String> = p
        .server_msgpack(0)
        .iter()
        .map(|packet| match packet {
            Packet::Connect { nsp, .. } => nsp.to_string(),
            other => panic!("not a CONNECT: {other:?}"),
        })
        .collect();
    assert_eq!(joins, vec!["/".to_owned(), "/admin".to_owned()]);
    assert!(p.server.is_empty(), "no text packet: {:?}", p.server);
    for nsp in ["/", "/admin"] {
        p.server_sends_msgpack(&Packet::connect(nsp, Some(r#"{"sid":"s"}"#)).unwrap());
        assert_eq!(p.guests[nsp].state(), State::Connected, "{nsp}");
    }

    // An event reaches the guest of its namespace only.
    p.server_sends_msgpack(&Packet::event("/admin", "hello", "[2]", None).unwrap());
    assert_eq!(
        p.seen("/admin").events,
        vec![("hello".into(), r#"["hello",2]"#.into())]
    );
    assert!(p.seen("/").events.is_empty());

    // A request: out with the guest's namespace and ack id, settled by the
    // msgpack ACK that names them.
    let now = p.now;
    let from = p.server_binary.len();
    let k = p
        .guest("/admin")
        .request(now, "query", r#"{"q":1}"#, RequestOptions::default())
        .unwrap();
    p.pump();
    let sent = p.server_msgpack(from);
    let id = match sent.as_slice() {
        [Packet::Event {
            nsp,
            id: Some(id),
            event,
            ..
        }] if nsp == "/admin" && event == "query" => *id,
        other => panic!("not the request: {other:?}"),
    };
    p.server_sends_msgpack(&Packet::ack("/admin", id, r#"[{"ok":true}]"#).unwrap());
    assert_eq!(
        p.seen("/admin").settled[&k],
        vec![Ok(r#"{"ok":true}"#.into())]
    );
    assert!(p.seen("/").settled.is_empty());

    // Binary in: the bytes arrive inline and come out as attachments.
    let blob = Payload {
        json: r#"["blob",{"_placeholder":true,"num":0}]"#.into(),
        attachments: vec![vec![1, 2, 3]],
    };
    p.server_sends_msgpack(&Packet::event_from_payload("/admin", blob, None).unwrap());
    assert_eq!(p.seen("/admin").events.len(), 2);
    assert_eq!(p.seen("/admin").extras[1].0, vec![vec![1, 2, 3]]);

    // Binary out: one msgpack frame holding the bytes, no attachment frames.
    let from = p.server_binary.len();
    p.guest("/admin")
        .emit_binary(
            "upload",
            Some(r#"{"_placeholder":true,"num":0}"#),
            vec![vec![9, 9]],
            false,
        )
        .unwrap();
    p.pump();
    match p.server_msgpack(from).as_slice() {
        [Packet::Event {
            nsp, event, data, ..
        }] => {
            assert_eq!((nsp.as_ref(), event.as_ref()), ("/admin", "upload"));
            assert_eq!(data.attachments, vec![vec![9, 9]]);
        }
        other => panic!("not one upload frame: {other:?}"),
    }

    // The server asks the guest: the answer is a msgpack ACK on its namespace.
    p.server_sends_msgpack(&Packet::event("/admin", "ask", "[1]", Some(5)).unwrap());
    let key = p.seen("/admin").extras[2].1.expect("an ack key");
    let from = p.server_binary.len();
    p.guest("/admin")
        .answer_ack(key, r#"["yes"]"#, vec![])
        .unwrap();
    p.pump();
    match p.server_msgpack(from).as_slice() {
        [Packet::Ack { nsp, id: 5, data }] => {
            assert_eq!(nsp, "/admin");
            assert_eq!(data.json, r#"["yes"]"#);
        }
        other => panic!("not the ACK: {other:?}"),
    }
    assert!(p.server.is_empty(), "no text packet: {:?}", p.server);
}

#[test]
fn a_guest_answers_the_servers_ack_on_the_shared_link_once_and_not_after_it_dropped() {
    let mut p = Page::new(&["/", "/admin"]);
    p.connect_all();
    p.server_says(r#"42/admin,17["ask",1]"#);
    let key = p.seen("/admin").extras[0].1.expect("an ack key");
    assert_eq!(p.guests["/admin"].unanswered_acks(), 1);
    assert_eq!(p.guests["/"].unanswered_acks(), 0);
    p.server.clear();
    p.guest("/admin")
        .answer_ack(key, r#"["yes"]"#, vec![])
        .unwrap();
    p.pump();
    assert_eq!(p.server, vec![r#"43/admin,17["yes"]"#.to_owned()]);
    // A second answer is dropped, not sent.
    p.guest("/admin")
        .answer_ack(key, r#"["again"]"#, vec![])
        .unwrap();
    p.pump();
    assert_eq!(p.server.len(), 1);
    assert_eq!(p.guests["/admin"].metrics().acks_dropped, 1);

    // A question kept across a lost link: the table empties with the link,
    // and answering after the guests rejoined a new one sends nothing.
    p.server_says(r#"42/admin,18["ask",2]"#);
    let kept = p.seen("/admin").extras[1].1.expect("an ack key");
    let now = p.now;
    p.link.on_close(now, "transport close");
    p.pump();
    assert_eq!(p.guests["/admin"].state(), State::Reconnecting);
    assert_eq!(p.guests["/admin"].unanswered_acks(), 0);
    p.at(10_000);
    assert_eq!(p.opens, 2);
    p.link.on_open(p.now);
    p.server_says(OPEN);
    p.server_says(r#"40{"sid":"a2"}"#);
    p.server_says(r#"40/admin,{"sid":"b2"}"#);
    assert_eq!(p.guests["/admin"].state(), State::Connected);
    p.server.clear();
    p.guest("/admin")
        .answer_ack(kept, r#"["late"]"#, vec![])
        .unwrap();
    p.pump();
    assert!(p.server.is_empty(), "{:?}", p.server);
    assert_eq!(p.guests["/admin"].metrics().acks_dropped, 2);
}

#[test]
fn a_guest_offered_batching_unpacks_its_envelopes_and_coalesces_its_emits_on_the_link() {
    let mut p = Page::new(&["/", "/admin"]);
    p.connect_all();
    // The offer is per namespace: only `/admin`'s server socket batches.
    p.server_says(
        r#"42/admin,["connection_established",{"status":"connected","endpoints":[],"userId":"u1","sid":"s","timestamp":1,"batch":{"windowMs":5,"maxBytes":65536}}]"#,
    );
    assert!(p.guests["/admin"].batching());
    assert!(!p.guests["/"].batching());
    assert!(!p.link.batching(), "the link joins no namespace");

    p.server_says(r#"42/admin,["batch",[["a",1],["b",{"x":2}]]]"#);
    let admin: Vec<(String, String)> = p.seen("/admin").events.drain(..).collect();
    assert_eq!(
        admin,
        vec![
            ("connection_established".into(), admin[0].1.clone()),
            ("a".into(), r#"["a",1]"#.into()),
            ("b".into(), r#"["b",{"x":2}]"#.into()),
        ]
    );
    // Where nothing was offered, `batch` stays an ordinary event.
    p.server_says(r#"42["batch",[["a",1]]]"#);
    assert_eq!(p.seen("/").events.len(), 1);
    assert_eq!(p.seen("/").events[0].0, "batch");

    // Emits of one tick leave as one envelope of the guest's namespace, at
    // the end of the tick; `/` was offered nothing, so its emit goes at once.
    let sent = p.server.len();
    p.guest("/admin").emit("e1", Some("1"), false).unwrap();
    p.guest("/admin")
        .emit("e2", Some(r#"{"y":2}"#), false)
        .unwrap();
    p.guest("/").emit("plain", Some("3"), false).unwrap();
    p.pump();
    assert_eq!(
        p.server[sent..],
        [
            r#"42["plain",3]"#.to_owned(),
            r#"42/admin,["batch",[["e1",1],["e2",{"y":2}]]]"#.to_owned(),
        ]
    );
}
