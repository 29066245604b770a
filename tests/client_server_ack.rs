//! Answering the server's acks in the sans-IO client, driven natively with
//! simulated time: an event that carries an ack id comes out with a key;
//! answering under that key sends the ACK (BINARY_ACK with binary data) on
//! the link the event came on, over WebSocket and long-polling alike; a
//! second answer, or one after that link ended, sends nothing and is
//! counted; a bad answer fails and leaves the question open.
#![cfg(not(target_arch = "wasm32"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use frinny_agent::core::{
    AckKey, Agent, AgentOutput, Client, Config, ErrorCode, HttpKind, Output, Protocol, State,
    Transport, MAX_UNANSWERED_ACKS,
};

const OPEN: &str =
    r#"0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
const TEXT: &str = "text/plain; charset=UTF-8";

/// A client and everything it output since the last [`H::take`].
struct H {
    c: Client,
    now: u64,
    out: Vec<Output>,
}

impl H {
    fn new(mut cfg: Config, transports: &[Transport]) -> H {
        cfg.transports = transports.to_vec();
        H {
            c: Client::new(cfg, 9),
            now: 0,
            out: vec![],
        }
    }

    /// A client joined over a WebSocket to the root namespace.
    fn joined() -> H {
        let mut h = H::new(
            Config::new("http://127.0.0.1:5001"),
            &[Transport::WebSocket],
        );
        h.c.connect(h.now);
        h.join();
        h
    }

    fn join(&mut self) {
        self.c.on_open(self.now);
        self.c.on_text(self.now, OPEN);
        self.c.on_text(self.now, r#"40{"sid":"n1"}"#);
        assert_eq!(self.c.state(), State::Connected);
        self.take();
    }

    fn take(&mut self) -> Vec<Output> {
        while let Some(o) = self.c.poll_output() {
            self.out.push(o);
        }
        std::mem::take(&mut self.out)
    }

    fn text(&mut self, t: &str) -> Vec<Output> {
        self.c.on_text(self.now, t);
        self.take()
    }

    fn advance(&mut self, ms: u64) {
        let end = self.now + ms;
        while let Some(t) = self.c.poll_timeout() {
            if t > end {
                break;
            }
            self.now = self.now.max(t);
            self.c.on_timer(self.now);
        }
        self.now = end;
        self.c.on_timer(self.now);
    }

    /// Answers `key` with `args` and returns what went out.
    fn answer(&mut self, key: AckKey, args: &str) -> Vec<Output> {
        self.c.answer_ack(key, args, vec![]).unwrap();
        self.take()
    }
}

/// The one event in `out`: its name, JSON and ack key.
fn event(out: &[Output]) -> (String, String, Option<AckKey>) {
    let events: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            Output::Event {
                name, json, ack, ..
            } => Some((name.clone(), json.clone(), *ack)),
            _ => None,
        })
        .collect();
    assert_eq!(events.len(), 1, "{out:?}");
    events[0].clone()
}

fn texts(out: &[Output]) -> Vec<String> {
    out.iter()
        .filter_map(|o| match o {
            Output::SendText(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

fn posts(out: &[Output]) -> Vec<String> {
    out.iter()
        .filter_map(|o| match o {
            Output::HttpPost { body, .. } => Some(body.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn an_event_with_an_ack_id_comes_out_with_a_key_and_the_answer_goes_out_as_an_ack() {
    let mut h = H::joined();
    let (name, json, ack) = event(&h.text(r#"4217["ask",{"q":1}]"#));
    assert_eq!(name, "ask");
    assert_eq!(json, r#"["ask",{"q":1}]"#);
    let key = ack.expect("the event asks for an answer");
    assert_eq!(h.c.unanswered_acks(), 1);
    assert_eq!(
        texts(&h.answer(key, r#"[{"a":2},"two"]"#)),
        [r#"4317[{"a":2},"two"]"#]
    );
    assert_eq!(h.c.unanswered_acks(), 0);
    assert_eq!(h.c.metrics().acks_dropped, 0);

    // No arguments at all is an answer too (`ack()`).
    let (_, _, ack) = event(&h.text(r#"420["ask"]"#));
    assert_eq!(texts(&h.answer(ack.unwrap(), "[]")), ["430[]"]);

    // An event that does not ask has no key, and counts as any event.
    let (_, _, ack) = event(&h.text(r#"42["tell",1]"#));
    assert_eq!(ack, None);
    assert_eq!(h.c.unanswered_acks(), 0);
    assert_eq!(h.c.metrics().events_dispatched, 3);
}

#[test]
fn the_answer_goes_to_the_namespace_the_event_came_on() {
    let mut cfg = Config::new("http://127.0.0.1:5001");
    cfg.namespace = "/admin".into();
    let mut h = H::new(cfg, &[Transport::WebSocket]);
    h.c.connect(0);
    h.c.on_open(0);
    h.c.on_text(0, OPEN);
    h.c.on_text(0, r#"40/admin,{"sid":"n1"}"#);
    assert_eq!(h.c.state(), State::Connected);
    h.take();
    // Another namespace's question is not ours.
    assert!(h.text(r#"425["ask",1]"#).is_empty());
    let (_, _, ack) = event(&h.text(r#"42/admin,5["ask",1]"#));
    assert_eq!(
        texts(&h.answer(ack.unwrap(), "[true]")),
        ["43/admin,5[true]"]
    );
}

#[test]
fn binary_questions_and_binary_answers() {
    let mut h = H::joined();
    // A BINARY_EVENT asking: the key comes once the attachment is in.
    assert!(h
        .text(r#"451-8["ask",{"_placeholder":true,"num":0}]"#)
        .is_empty());
    h.c.on_binary(h.now, &[1, 2]);
    let out = h.take();
    let (name, _, ack) = event(&out);
    assert_eq!(name, "ask");
    let attachments = out.iter().find_map(|o| match o {
        Output::Event { attachments, .. } => Some(attachments.clone()),
        _ => None,
    });
    assert_eq!(attachments, Some(vec![vec![1, 2]]));

    // The answer with binary data: a BINARY_ACK, then its attachment.
    h.c.answer_ack(
        ack.unwrap(),
        r#"[{"data":{"_placeholder":true,"num":0}}]"#,
        vec![vec![7, 8, 9]],
    )
    .unwrap();
    let out = h.take();
    assert_eq!(
        out,
        [
            Output::SendText(r#"461-8[{"data":{"_placeholder":true,"num":0}}]"#.into()),
            Output::SendBinary(vec![7, 8, 9]),
        ]
    );
    assert_eq!(
        h.c.metrics().frames_out,
        3,
        "the join's 40, the ACK and its attachment"
    );
}

#[test]
fn a_second_answer_does_nothing_but_count() {
    let mut h = H::joined();
    let (_, _, ack) = event(&h.text(r#"423["ask"]"#));
    let key = ack.unwrap();
    assert_eq!(texts(&h.answer(key, r#"["first"]"#)), [r#"433["first"]"#]);
    assert!(h.answer(key, r#"["second"]"#).is_empty());
    assert!(h.answer(key, "[]").is_empty());
    assert_eq!(h.c.metrics().acks_dropped, 2);
    // A key never handed out is no question either.
    assert!(h.answer(AckKey(12_345), "[]").is_empty());
    assert_eq!(h.c.metrics().acks_dropped, 3);
}

#[test]
fn each_question_is_answered_on_its_own() {
    let mut h = H::joined();
    let (_, _, a) = event(&h.text(r#"421["ask","a"]"#));
    let (_, _, b) = event(&h.text(r#"422["ask","b"]"#));
    assert_ne!(a, b);
    assert_eq!(texts(&h.answer(b.unwrap(), r#"["b"]"#)), [r#"432["b"]"#]);
    assert_eq!(texts(&h.answer(a.unwrap(), r#"["a"]"#)), [r#"431["a"]"#]);
}

#[test]
fn a_bad_answer_fails_and_leaves_the_question_open() {
    let mut h = H::joined();
    let (_, _, ack) = event(&h.text(r#"424["ask"]"#));
    let key = ack.unwrap();
    for bad in [r#"{"not":"an array"}"#, "[1,", "", "1"] {
        let err = h.c.answer_ack(key, bad, vec![]).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidPayload, "{bad:?}");
    }
    // Placeholders that do not match the attachments.
    let err =
        h.c.answer_ack(key, r#"[{"_placeholder":true,"num":1}]"#, vec![vec![1]])
            .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidPayload);
    assert!(h.take().is_empty());
    assert_eq!(h.c.unanswered_acks(), 1);
    assert_eq!(h.c.metrics().acks_dropped, 0);
    assert_eq!(texts(&h.answer(key, " [1] ")), ["434[1]"]);
}

#[test]
fn an_answer_after_the_link_dropped_and_came_back_does_nothing() {
    let mut h = H::joined();
    let (_, _, old) = event(&h.text(r#"420["ask","first link"]"#));
    let old = old.unwrap();
    h.c.on_close(h.now, "transport close");
    h.take();
    assert_eq!(h.c.state(), State::Reconnecting);
    assert_eq!(
        h.c.unanswered_acks(),
        0,
        "the server forgot it with the socket"
    );
    // Answered while the link is down: nothing goes, nothing waits.
    assert!(h.answer(old, r#"["late"]"#).is_empty());
    assert_eq!(h.c.buffered_count(), 0);
    h.advance(10_000);
    assert!(h.take().iter().any(|o| matches!(o, Output::Open { .. })));
    h.join();
    // The new socket numbers its questions from 0 again: the old answer
    // must not answer the new question.
    let (_, _, new) = event(&h.text(r#"420["ask","second link"]"#));
    let new = new.unwrap();
    assert_ne!(new, old);
    assert!(h.answer(old, r#"["late"]"#).is_empty());
    assert_eq!(texts(&h.answer(new, r#"["fresh"]"#)), [r#"430["fresh"]"#]);
    assert_eq!(h.c.metrics().acks_dropped, 2);
}

#[test]
fn an_answer_after_disconnect_or_close_does_nothing() {
    let mut h = H::joined();
    let (_, _, a) = event(&h.text(r#"421["ask"]"#));
    let (_, _, b) = event(&h.text(r#"422["ask"]"#));
    h.c.disconnect(h.now);
    h.take();
    assert!(h.answer(a.unwrap(), "[]").is_empty());
    h.c.close(h.now);
    h.take();
    assert!(h.answer(b.unwrap(), "[]").is_empty());
    assert_eq!(h.c.metrics().acks_dropped, 2);
}

#[test]
fn unanswered_questions_are_bounded_and_the_oldest_goes_first() {
    let mut h = H::joined();
    let mut keys = Vec::new();
    for id in 0..=MAX_UNANSWERED_ACKS {
        let (_, _, ack) = event(&h.text(&format!(r#"42{id}["ask"]"#)));
        keys.push(ack.unwrap());
    }
    assert_eq!(h.c.unanswered_acks(), MAX_UNANSWERED_ACKS);
    assert!(
        h.answer(keys[0], "[]").is_empty(),
        "the oldest was forgotten"
    );
    assert_eq!(texts(&h.answer(keys[1], "[]")), ["431[]"]);
    let last = MAX_UNANSWERED_ACKS;
    assert_eq!(texts(&h.answer(keys[last], "[]")), [format!("43{last}[]")]);
}

#[test]
fn the_json_protocol_has_no_acks() {
    let mut cfg = Config::new("ws://127.0.0.1:5001/ws");
    cfg.protocol = Protocol::Json;
    let mut h = H::new(cfg, &[Transport::WebSocket]);
    h.c.connect(0);
    h.c.on_open(0);
    h.take();
    let (_, _, ack) = event(&h.text(r#"{"action":"ask","id":17}"#));
    assert_eq!(ack, None);
    assert!(h.answer(AckKey(0), "[]").is_empty());
}

#[test]
fn over_long_polling_the_answer_is_posted() {
    let mut h = H::new(Config::new("http://127.0.0.1:5001"), &[Transport::Polling]);
    h.c.connect(0);
    h.take();
    let get = |h: &mut H, body: &str| {
        h.c.on_http_response(h.now, HttpKind::Get, 200, TEXT, body);
        h.take()
    };
    let post_ok = |h: &mut H| {
        h.c.on_http_response(h.now, HttpKind::Post, 200, "text/html", "ok");
        h.take()
    };
    assert_eq!(posts(&get(&mut h, OPEN)), ["40"]);
    post_ok(&mut h);
    get(&mut h, r#"40{"sid":"n1"}"#);
    assert_eq!(h.c.transport(), Some(Transport::Polling));

    // Two questions in one payload, one of them binary.
    let out = get(
        &mut h,
        "4217[\"ask\",1]\x1e451-18[\"ask\",{\"_placeholder\":true,\"num\":0}]\x1ebAQID",
    );
    let keys: Vec<AckKey> = out
        .iter()
        .filter_map(|o| match o {
            Output::Event { ack, .. } => *ack,
            _ => None,
        })
        .collect();
    assert_eq!(keys.len(), 2, "{out:?}");
    assert_eq!(posts(&h.answer(keys[0], r#"["ok"]"#)), [r#"4317["ok"]"#]);
    // Written while the POST is out: it goes with the next one.
    h.c.answer_ack(
        keys[1],
        r#"[{"_placeholder":true,"num":0}]"#,
        vec![vec![1, 2, 3]],
    )
    .unwrap();
    assert!(posts(&h.take()).is_empty());
    assert_eq!(
        posts(&post_ok(&mut h)),
        ["461-18[{\"_placeholder\":true,\"num\":0}]\x1ebAQID"]
    );
    // Answered twice: nothing more is posted.
    post_ok(&mut h);
    assert!(h.answer(keys[0], r#"["again"]"#).is_empty());
    assert_eq!(h.c.metrics().acks_dropped, 1);
}

#[test]
fn the_agent_passes_the_key_and_the_answer_through() {
    let mut agent = Agent::new(Config::new("http://127.0.0.1:5001"), 3);
    agent.connect(0);
    agent.on_open(1);
    agent.on_text(2, OPEN);
    agent.on_text(3, r#"40{"sid":"n1"}"#);
    while agent.poll_output().is_some() {}
    agent.on_text(4, r#"429["state:patch",{"scope":"nobody"}]"#);
    let key = std::iter::from_fn(|| agent.poll_output())
        .find_map(|o| match o {
            AgentOutput::Client(Output::Event { ack, .. }) => ack,
            _ => None,
        })
        .expect("the event comes out with its key");
    agent.answer_ack(key, r#"["seen"]"#, vec![]).unwrap();
    let sent: Vec<_> = std::iter::from_fn(|| agent.poll_output()).collect();
    assert_eq!(
        sent,
        [AgentOutput::Client(Output::SendText(
            r#"439["seen"]"#.into()
        ))]
    );
}

#[test]
fn a_question_asked_over_polling_is_answered_across_the_upgrade() {
    const OPEN_UPGRADE: &str = r#"0{"sid":"s1","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
    let mut h = H::new(
        Config::new("http://127.0.0.1:5001"),
        &[Transport::Polling, Transport::WebSocket],
    );
    h.c.connect(0);
    h.take();
    let get = |h: &mut H, body: &str| {
        h.c.on_http_response(h.now, HttpKind::Get, 200, TEXT, body);
        h.take()
    };
    get(&mut h, OPEN_UPGRADE);
    h.c.on_http_response(h.now, HttpKind::Post, 200, "text/html", "ok");
    get(&mut h, r#"40{"sid":"n1"}"#);
    let keys: Vec<AckKey> = get(&mut h, "421[\"ask\",1]\x1e422[\"ask\",2]")
        .iter()
        .filter_map(|o| match o {
            Output::Event { ack, .. } => *ack,
            _ => None,
        })
        .collect();
    assert_eq!(keys.len(), 2);
    h.c.on_probe_open(h.now);
    h.c.on_probe_text(h.now, "3probe");
    h.take();
    // Answered while the upgrade pauses polling: kept for the WebSocket.
    assert!(h.answer(keys[0], "[1]").is_empty());
    let out = get(&mut h, "6");
    assert!(out.contains(&Output::Upgraded), "{out:?}");
    assert!(out.contains(&Output::SendText("431[1]".into())), "{out:?}");
    // The same session: a question from before the upgrade still counts.
    assert_eq!(texts(&h.answer(keys[1], "[2]")), ["432[2]"]);
    assert_eq!(h.c.metrics().acks_dropped, 0);
}

#[test]
fn the_answer_goes_out_at_once_on_a_congested_socket() {
    let mut h = H::joined();
    let (_, _, ack) = event(&h.text(r#"426["ask"]"#));
    h.c.on_backpressure(h.now, u64::MAX);
    assert!(h.c.congested());
    h.c.emit("later", Some("1"), false).unwrap();
    assert_eq!(
        h.c.buffered_count(),
        1,
        "emits wait for the socket to drain"
    );
    h.take();
    // The answer belongs to this link: it cannot wait in the outbox, which
    // outlives it.
    assert_eq!(texts(&h.answer(ack.unwrap(), "[1]")), ["436[1]"]);
    assert_eq!(h.c.buffered_count(), 1);
}
