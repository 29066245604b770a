//! The `batch` envelope in the core, natively with simulated time: an
//! envelope is unpacked in order into the outputs its entries would have
//! made alone (subscribers, replies, the sync store); bad envelopes and
//! entries are typed, counted errors that leave the link up; and the emits
//! of one tick go out together only once the server offered batching.
#![cfg(not(target_arch = "wasm32"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use frinny_agent::core::{
    Agent, AgentOutput, ArgsForm, Change, ClientError, Config, EmitOptions, ErrorCode, Output,
    Priority, RequestOptions, State,
};
use serde_json::{json, Value};

const OPEN: &str =
    r#"0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

/// The greeting of a server that batches for this client.
fn offering(max_bytes: u64) -> String {
    format!(
        r#"42["connection_established",{{"status":"connected","endpoints":[],"userId":"u1","sid":"s","timestamp":1,"batch":{{"windowMs":5,"maxBytes":{max_bytes}}}}}]"#
    )
}

/// The greeting of a server that does not.
const PLAIN_GREETING: &str = r#"42["connection_established",{"status":"connected","endpoints":[],"userId":"u1","sid":"s","timestamp":1}]"#;

/// An event frame.
fn frame(name: &str, payload: Value) -> String {
    format!("42{}", json!([name, payload]))
}

/// A batch frame of `entries`.
fn batch(entries: Value) -> String {
    format!("42{}", json!(["batch", entries]))
}

struct Harness {
    agent: Agent,
    now: u64,
    sent: Vec<String>,
    /// Every output but the frames sent and the flush requests, in order.
    outputs: Vec<AgentOutput>,
    /// How many times the agent asked for an end-of-tick flush.
    flush_asks: usize,
}

impl Harness {
    fn new(cfg: Config) -> Self {
        Harness {
            agent: Agent::new(cfg, 7),
            now: 0,
            sent: vec![],
            outputs: vec![],
            flush_asks: 0,
        }
    }

    fn drain(&mut self) {
        while let Some(o) = self.agent.poll_output() {
            match o {
                AgentOutput::Client(Output::SendText(t)) => self.sent.push(t),
                AgentOutput::Client(Output::FlushEmits) => self.flush_asks += 1,
                other => self.outputs.push(other),
            }
        }
    }

    fn text(&mut self, frame: &str) {
        self.now += 1;
        self.agent.on_text(self.now, frame);
        self.drain();
    }

    /// Joins, then the server greets with `greeting`; forgets what that output.
    fn connect(&mut self, greeting: &str) {
        self.agent.connect(self.now);
        self.agent.on_open(self.now);
        self.text(OPEN);
        self.text(r#"40{"sid":"n"}"#);
        assert_eq!(self.agent.client().state(), State::Connected);
        self.text(greeting);
        self.sent.clear();
        self.outputs.clear();
    }

    fn emit(&mut self, event: &str, payload: Value, volatile: bool) {
        let opts = EmitOptions {
            volatile,
            ..EmitOptions::default()
        };
        self.emit_with(event, payload, opts);
    }

    fn emit_with(&mut self, event: &str, payload: Value, opts: EmitOptions) {
        self.agent
            .emit(event, Some(&payload.to_string()), vec![], opts)
            .unwrap();
        self.drain();
    }

    /// The end of the tick: what the shell does on `FlushEmits`.
    fn flush(&mut self) {
        self.agent.flush_emits();
        self.drain();
    }

    /// The events delivered, as `(name, json, form)`, forgetting every output.
    fn take_events(&mut self) -> Vec<(String, String, ArgsForm)> {
        std::mem::take(&mut self.outputs)
            .into_iter()
            .filter_map(|o| match o {
                AgentOutput::Client(Output::Event {
                    name, json, form, ..
                }) => Some((name, json, form)),
                _ => None,
            })
            .collect()
    }

    /// The errors reported to `onError`, forgetting them.
    fn take_errors(&mut self) -> Vec<ClientError> {
        let (errors, rest) = std::mem::take(&mut self.outputs)
            .into_iter()
            .partition(|o| matches!(o, AgentOutput::Client(Output::Error(_))));
        self.outputs = rest;
        errors
            .into_iter()
            .filter_map(|o| match o {
                AgentOutput::Client(Output::Error(e)) => Some(e),
                _ => None,
            })
            .collect()
    }

    fn invalid_batches(&self) -> u64 {
        self.agent
            .client()
            .metrics()
            .errors
            .get("INVALID_BATCH")
            .copied()
            .unwrap_or(0)
    }
}

fn offered() -> Harness {
    let mut h = Harness::new(Config::new("http://127.0.0.1:5001"));
    h.connect(&offering(65536));
    assert!(h.agent.client().batching());
    h
}

fn plain() -> Harness {
    let mut h = Harness::new(Config::new("http://127.0.0.1:5001"));
    h.connect(PLAIN_GREETING);
    assert!(!h.agent.client().batching());
    h
}

fn entries() -> Vec<Value> {
    vec![
        json!(["typing_status", {"isTyping": true}]),
        json!(["combat_update", {"combatId": "c", "round": 1, "turn": 0, "combatant": {"name": "Valeros"}}]),
        json!(["notification", {"message": "é \"quoted\""}]),
        json!(["x-mod:ping"]),
        json!(["two_args", 1, {"b": [2]}]),
    ]
}

#[test]
fn a_batch_is_unpacked_in_order_into_what_each_entry_makes_alone() {
    let mut batched = offered();
    let mut single = offered();
    let before = batched.agent.client().metrics().clone();
    batched.text(&batch(Value::Array(entries())));
    for e in entries() {
        single.text(&format!("42{e}"));
    }
    let got = batched.take_events();
    assert_eq!(got, single.take_events());
    let names: Vec<&str> = got.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "typing_status",
            "combat_update",
            "notification",
            "x-mod:ping",
            "two_args"
        ]
    );
    assert!(got.iter().all(|(_, _, form)| *form == ArgsForm::NamedArray));
    assert!(batched.take_errors().is_empty());
    let after = batched.agent.client().metrics();
    assert_eq!(after.frames_in, before.frames_in + 1, "one frame");
    assert_eq!(
        after.events_dispatched,
        before.events_dispatched + 5,
        "five events, the envelope itself is none"
    );
}

#[test]
fn a_reply_inside_a_batch_answers_its_request() {
    let mut h = offered();
    let key = h
        .agent
        .request(
            h.now,
            "query",
            r#"{"content":"hi"}"#,
            vec![],
            RequestOptions::default(),
        )
        .unwrap();
    h.drain();
    let sent: Value = serde_json::from_str(&h.sent.pop().unwrap()[3..]).unwrap();
    let request_id = sent[1]["request_id"].clone();
    h.text(&batch(json!([
        ["typing_status", {"isTyping": true, "request_id": request_id}],
        ["query_response", {"request_id": request_id, "content": "hello"}],
        ["typing_status", {"isTyping": false, "request_id": request_id}],
    ])));
    let settled: Vec<_> = h
        .outputs
        .iter()
        .filter_map(|o| match o {
            AgentOutput::Client(Output::Settled { key: k, result, .. }) if *k == key => {
                Some(result.clone())
            }
            _ => None,
        })
        .collect();
    assert_eq!(settled.len(), 1, "settles once");
    let reply: Value = serde_json::from_str(settled[0].as_ref().unwrap()).unwrap();
    assert_eq!(reply["content"], "hello");
    assert_eq!(h.agent.client().pending_count(), 0);
}

#[test]
fn state_patches_inside_a_batch_reach_the_sync_store() {
    let mut h = offered();
    h.agent.sync_state("world");
    h.drain();
    let sent = h.sent.pop().unwrap();
    let ack: u64 = sent[2..sent.find('[').unwrap()].parse().unwrap();
    h.text(&format!(
        "43{ack}[{}]",
        json!({"scope": "world", "version": 1, "doc": {"hp": 9}, "epoch": "e1"})
    ));
    h.outputs.clear();
    h.text(&batch(json!([
        ["state:patch", {"scope": "world", "base": 1, "version": 2, "patch": {"hp": 8}}],
        ["combat_update", {"combatId": "c", "round": 2, "turn": 0, "combatant": {"name": "Ezren"}}],
        ["state:patch", {"scope": "world", "base": 2, "version": 3, "patch": {"ac": 18}}],
    ])));
    assert_eq!(h.agent.doc("world"), Some(&json!({"hp": 8, "ac": 18})));
    assert_eq!(h.agent.store().version("world"), Some(3));
    // Each patch as it would alone: the scope's subscribers, then the raw event.
    let order: Vec<String> = h
        .outputs
        .iter()
        .filter_map(|o| match o {
            AgentOutput::DocChanged {
                change: Change::Patch { version, .. },
                ..
            } => Some(format!("doc v{version}")),
            AgentOutput::Client(Output::Event { name, .. }) => Some(name.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        order,
        [
            "doc v2",
            "state:patch",
            "combat_update",
            "doc v3",
            "state:patch"
        ]
    );
}

#[test]
fn a_batch_that_is_not_an_array_is_a_typed_counted_error_and_the_link_stays() {
    let mut h = offered();
    for bad in [
        batch(json!({"typing_status": {"isTyping": true}})),
        batch(json!("typing_status")),
        r#"42["batch"]"#.to_owned(),
        r#"42["batch",[],[]]"#.to_owned(),
    ] {
        h.text(&bad);
        let errors = h.take_errors();
        assert_eq!(errors.len(), 1, "{bad}");
        assert_eq!(errors[0].code, ErrorCode::ProtocolError, "{bad}");
        assert_eq!(errors[0].detail, Some("INVALID_BATCH"), "{bad}");
        assert!(h.take_events().is_empty(), "{bad}");
    }
    assert_eq!(h.invalid_batches(), 4);
    assert_eq!(h.agent.client().state(), State::Connected);
    // The link carries on: the next envelope is unpacked as usual.
    h.text(&batch(json!([["typing_status", {"isTyping": false}]])));
    assert_eq!(h.take_events().len(), 1);
}

#[test]
fn bad_entries_are_reported_and_counted_and_the_good_ones_still_delivered_in_order() {
    let mut h = offered();
    h.text(&batch(json!([
        ["a", 1],
        7,
        ["b", 2],
        [],
        [3, "numeric name"],
        {"name": "c"},
        ["connect", {}],
        ["batch", [["d", 4]]],
        ["e", 5],
    ])));
    let errors = h.take_errors();
    let names: Vec<String> = h.take_events().into_iter().map(|(n, _, _)| n).collect();
    assert_eq!(names, ["a", "b", "e"]);
    assert_eq!(errors.len(), 1, "one report per envelope");
    assert_eq!(
        (errors[0].code, errors[0].detail),
        (ErrorCode::ProtocolError, Some("INVALID_BATCH"))
    );
    assert!(
        errors[0].message.contains("entry 1") && errors[0].message.contains("6 of its 9"),
        "{}",
        errors[0].message
    );
    assert_eq!(h.invalid_batches(), 6, "one count per bad entry");
    assert_eq!(h.agent.client().state(), State::Connected);
}

#[test]
fn without_the_offer_batch_is_an_ordinary_event() {
    let envelope = batch(json!([["typing_status", {"isTyping": true}]]));
    let mut h = plain();
    h.text(&envelope);
    let events = h.take_events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0, "batch");
    // A client that did not ask ignores an offer it did not ask for.
    let mut cfg = Config::new("http://127.0.0.1:5001");
    cfg.batch = false;
    let mut h = Harness::new(cfg);
    h.connect(&offering(65536));
    assert!(!h.agent.client().batching());
    h.text(&envelope);
    assert_eq!(h.take_events()[0].0, "batch");
}

#[test]
fn the_offer_lasts_one_link() {
    let mut h = offered();
    h.agent.on_close(h.now, "transport close");
    h.drain();
    assert!(!h.agent.client().batching());
    let at = h.agent.poll_timeout().unwrap();
    h.now = at;
    h.agent.on_timer(at);
    h.agent.on_open(h.now);
    h.text(OPEN);
    h.text(r#"40{"sid":"n2"}"#);
    h.text(PLAIN_GREETING);
    assert!(!h.agent.client().batching());
}

#[test]
fn emits_of_one_tick_go_out_alone_without_the_offer() {
    let mut h = plain();
    h.emit("a", json!({"i": 1}), false);
    h.emit("b", json!({"i": 2}), false);
    assert_eq!(
        h.sent,
        [frame("a", json!({"i": 1})), frame("b", json!({"i": 2}))]
    );
    assert_eq!(h.flush_asks, 0);
}

#[test]
fn emits_of_one_tick_are_coalesced_once_the_server_offered() {
    let mut h = offered();
    h.emit("a", json!({"i": 1}), false);
    h.emit("b", json!({"i": 2}), true);
    h.emit("c", json!({"s": "é"}), false);
    assert!(h.sent.is_empty(), "held until the end of the tick");
    assert_eq!(h.flush_asks, 1, "one flush asked per tick");
    assert_eq!(h.agent.client().buffered_count(), 3);
    h.flush();
    assert_eq!(
        h.sent,
        [batch(
            json!([["a", {"i": 1}], ["b", {"i": 2}], ["c", {"s": "é"}]])
        )]
    );
    assert_eq!(h.agent.client().buffered_count(), 0);
    // A flush with nothing held does nothing; one emit goes out plain.
    h.flush();
    h.emit("d", json!({}), false);
    assert_eq!(h.flush_asks, 2);
    h.flush();
    assert_eq!(h.sent[1..], [frame("d", json!({}))]);
}

#[test]
fn anything_else_sent_first_flushes_the_held_emits_so_nothing_overtakes_them() {
    let mut h = offered();
    h.emit("a", json!({"i": 1}), false);
    h.emit("b", json!({"i": 2}), false);
    h.agent
        .request(
            h.now,
            "query",
            r#"{"content":"hi"}"#,
            vec![],
            RequestOptions::default(),
        )
        .unwrap();
    h.drain();
    assert_eq!(h.sent.len(), 2);
    assert_eq!(h.sent[0], batch(json!([["a", {"i": 1}], ["b", {"i": 2}]])));
    assert!(h.sent[1].starts_with(r#"420["query","#), "{}", h.sent[1]);
    // The flush the shell still makes at the end of the tick finds nothing.
    h.flush();
    assert_eq!(h.sent.len(), 2);
    // A binary emit is never held, and goes after what was.
    h.emit("c", json!({}), false);
    h.agent
        .emit(
            "bin",
            Some(r#"{"_placeholder":true,"num":0}"#),
            vec![vec![1, 2]],
            EmitOptions::default(),
        )
        .unwrap();
    h.drain();
    assert_eq!(h.sent[2], frame("c", json!({})));
    assert!(h.sent[3].starts_with("451-"), "{}", h.sent[3]);
    // Leaving sends what was held before the DISCONNECT.
    h.emit("last", json!({}), false);
    h.agent.disconnect(h.now);
    h.drain();
    assert_eq!(h.sent[4..], [frame("last", json!({})), "41".to_owned()]);
}

#[test]
fn an_envelope_holds_emits_of_one_priority_and_call_order_is_kept() {
    let mut h = offered();
    let with = |priority| EmitOptions {
        priority,
        ..EmitOptions::default()
    };
    h.emit_with("a", json!(1), with(Priority::Normal));
    h.emit_with("b", json!(2), with(Priority::Normal));
    h.emit_with("urgent", json!(3), with(Priority::High));
    h.emit_with("c", json!(4), with(Priority::Normal));
    h.flush();
    assert_eq!(
        h.sent,
        [
            batch(json!([["a", 1], ["b", 2]])),
            frame("urgent", json!(3)),
            frame("c", json!(4)),
        ]
    );
}

#[test]
fn envelopes_stay_within_the_offered_size() {
    let mut h = Harness::new(Config::new("http://127.0.0.1:5001"));
    h.connect(&offering(48));
    for i in 0..5 {
        h.emit("e", json!({"i": i}), false);
    }
    h.emit("big", json!({"text": "x".repeat(60)}), false);
    h.emit("f", json!({}), false);
    h.flush();
    // `["batch",[...]]` around entries of 14 bytes: two fit in 48 bytes.
    assert_eq!(
        h.sent,
        [
            batch(json!([["e", {"i": 0}], ["e", {"i": 1}]])),
            batch(json!([["e", {"i": 2}], ["e", {"i": 3}]])),
            frame("e", json!({"i": 4})),
            frame("big", json!({"text": "x".repeat(60)})),
            frame("f", json!({})),
        ]
    );
    for sent in &h.sent {
        if sent.contains("\"batch\"") {
            assert!(sent.len() - 2 <= 48, "{sent}");
        }
    }
}

#[test]
fn emits_held_when_the_link_drops_wait_in_the_buffer_and_volatile_ones_are_dropped() {
    let mut h = offered();
    h.emit("kept", json!({"i": 1}), false);
    h.emit("fleeting", json!({"i": 2}), true);
    h.emit("kept", json!({"i": 3}), false);
    h.agent.on_close(h.now, "transport close");
    h.drain();
    assert!(h.sent.is_empty());
    assert_eq!(h.agent.client().metrics().volatile_dropped, 1);
    assert_eq!(h.agent.client().buffered_count(), 2);
    // The shell's flush after the drop finds nothing held.
    h.flush();
    let at = h.agent.poll_timeout().unwrap();
    h.now = at;
    h.agent.on_timer(at);
    h.agent.on_open(h.now);
    h.text(OPEN);
    h.sent.clear();
    h.text(r#"40{"sid":"n2"}"#);
    // Sent on the join, before any offer of the new link: alone, in order.
    assert_eq!(
        h.sent,
        [
            frame("kept", json!({"i": 1})),
            frame("kept", json!({"i": 3}))
        ]
    );
}

#[test]
fn a_malformed_offer_leaves_batching_off() {
    for batch in [
        json!(true),
        json!({"windowMs": 5}),
        json!({"windowMs": "5", "maxBytes": 1024}),
        json!({"windowMs": 5, "maxBytes": -1}),
        json!(null),
    ] {
        let mut h = Harness::new(Config::new("http://127.0.0.1:5001"));
        let greeting = json!(["connection_established", {"status": "connected", "endpoints": [],
            "userId": "u1", "sid": "s", "timestamp": 1, "batch": batch}]);
        h.connect(&format!("42{greeting}"));
        assert!(!h.agent.client().batching(), "{batch}");
        assert!(h.take_errors().is_empty());
    }
}

#[test]
fn with_the_msgpack_parser_envelopes_are_unpacked_and_emits_go_out_alone() {
    use frinny_agent::core::Parser;
    use frinny_agent::protocol::socket_io::Packet;
    use frinny_agent::protocol::{msgpack, Limits};
    let packet = |name: &str, payload: Value| {
        let args = json!([payload]).to_string();
        msgpack::encode(
            &Packet::event("/", name, &args, None).unwrap(),
            &Limits::default(),
        )
        .unwrap()
    };
    let mut cfg = Config::new("http://127.0.0.1:5001");
    cfg.parser = Parser::Msgpack;
    let mut h = Harness::new(cfg);
    h.agent.connect(h.now);
    h.agent.on_open(h.now);
    h.text(OPEN);
    // `notepack.encode({type: 0, data: {sid: 'n1'}, nsp: '/'})`
    h.agent.on_binary(
        h.now,
        b"\x83\xa4type\x00\xa4data\x81\xa3sid\xa2n1\xa3nsp\xa1/",
    );
    h.drain();
    assert_eq!(h.agent.client().state(), State::Connected);
    let greeting = json!(["connection_established", {"status": "connected", "endpoints": [],
        "userId": "u1", "sid": "s", "timestamp": 1, "batch": {"windowMs": 5, "maxBytes": 65536}}]);
    h.agent.on_binary(
        h.now,
        &packet("connection_established", greeting[1].clone()),
    );
    h.drain();
    assert!(h.agent.client().batching());
    h.outputs.clear();
    h.agent.on_binary(
        h.now,
        &packet("batch", json!([["a", {"i": 1}], ["b", {"i": 2}]])),
    );
    h.drain();
    let names: Vec<String> = h.take_events().into_iter().map(|(n, _, _)| n).collect();
    assert_eq!(names, ["a", "b"]);
    // A msgpack frame is not text: each emit goes out alone, at once.
    h.emit("x", json!({}), false);
    h.emit("y", json!({}), false);
    let binary_sends = h
        .outputs
        .iter()
        .filter(|o| matches!(o, AgentOutput::Client(Output::SendBinary(_))))
        .count();
    assert_eq!((binary_sends, h.flush_asks), (2, 0));
}

#[test]
fn an_envelope_that_asks_for_an_answer_is_refused_and_its_question_dropped() {
    let mut h = offered();
    h.text(r#"427["batch",[["a",1]]]"#);
    let errors = h.take_errors();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].detail, Some("INVALID_BATCH"));
    assert!(h.take_events().is_empty());
    assert_eq!(h.agent.client().state(), State::Connected);
    // An ordinary event that asks is still answered as before.
    h.text(r#"428["ask",{"q":1}]"#);
    assert_eq!(h.take_events().len(), 1);
}
