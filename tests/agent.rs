//! The [`Agent`] natively with simulated time: the store's frames go out as
//! client requests, their replies come back to the store, pushed patches
//! reach it, conflicts are asked of the shell and answered, and the link
//! coming and going makes the store resync. A fake server answers by hand.
#![cfg(not(target_arch = "wasm32"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use frinny_agent::core::{
    Agent, AgentOutput, Change, Config, Output, RequestOptions, State, SyncError,
    RESUBMIT_PAUSE_MAX_MS,
};
use serde_json::{json, Value};

const OPEN: &str =
    r#"0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

/// An agent and what it has output, outputs for the client kept whole.
struct Harness {
    agent: Agent,
    now: u64,
    /// Text frames sent, in order.
    sent: Vec<String>,
    /// Every output but the sent frames, in order.
    outputs: Vec<AgentOutput>,
}

impl Harness {
    fn new() -> Self {
        Harness {
            agent: Agent::new(Config::new("http://127.0.0.1:5001"), 7),
            now: 0,
            sent: vec![],
            outputs: vec![],
        }
    }

    fn drain(&mut self) {
        while let Some(o) = self.agent.poll_output() {
            match o {
                AgentOutput::Client(Output::SendText(t)) => self.sent.push(t),
                other => self.outputs.push(other),
            }
        }
    }

    fn text(&mut self, frame: &str) {
        self.now += 1;
        self.agent.on_text(self.now, frame);
        self.drain();
    }

    /// Connects through the handshake and the namespace join.
    fn connect(&mut self) {
        self.agent.connect(self.now);
        self.agent.on_open(self.now);
        self.text(OPEN);
        self.text(r#"40{"sid":"n"}"#);
        assert_eq!(self.agent.client().state(), State::Connected);
    }

    /// The link is lost, then comes back (the backoff waited out).
    fn reconnect(&mut self) {
        self.agent.on_close(self.now, "transport close");
        self.drain();
        assert_eq!(self.agent.client().state(), State::Reconnecting);
        let at = self.agent.poll_timeout().unwrap();
        self.now = at;
        self.agent.on_timer(at);
        self.agent.on_open(self.now);
        self.text(OPEN);
        self.text(r#"40{"sid":"n2"}"#);
        assert_eq!(self.agent.client().state(), State::Connected);
    }

    /// The ack id and payload of every request sent for `event`, in order,
    /// and forgets the frames sent so far.
    fn take_requests(&mut self, event: &str) -> Vec<(u64, Value)> {
        let found = self
            .sent
            .iter()
            .filter_map(|t| {
                let rest = t.strip_prefix("42")?;
                let bracket = rest.find('[')?;
                let id: u64 = rest[..bracket].parse().ok()?;
                let items: Value = serde_json::from_str(&rest[bracket..]).ok()?;
                (items[0] == event).then(|| (id, items[1].clone()))
            })
            .collect();
        self.sent.clear();
        found
    }

    /// The ack id and payload of the last request sent for `event`, and
    /// forgets the frames sent so far.
    fn take_request(&mut self, event: &str) -> (u64, Value) {
        let sent = format!("{:?}", self.sent);
        self.take_requests(event)
            .pop()
            .unwrap_or_else(|| panic!("no {event} request in {sent}"))
    }

    /// The server's ack of request `id`.
    fn ack(&mut self, id: u64, reply: Value) {
        self.text(&format!("43{id}[{reply}]"));
    }

    /// The outputs that are not the client's, forgetting every output.
    fn take_store_outputs(&mut self) -> Vec<AgentOutput> {
        std::mem::take(&mut self.outputs)
            .into_iter()
            .filter(|o| !matches!(o, AgentOutput::Client(_)))
            .collect()
    }

    /// `scope` synced at `version` with `doc`.
    fn synced(&mut self, scope: &str, version: u64, doc: Value) {
        self.agent.sync_state(scope);
        self.drain();
        let (id, _) = self.take_request("state:subscribe");
        self.ack(
            id,
            json!({"scope": scope, "version": version, "doc": doc, "epoch": "e1"}),
        );
        self.outputs.clear();
    }
}

#[test]
fn subscribe_reply_changes_the_doc_and_syncs_the_scope() {
    let mut h = Harness::new();
    h.agent.sync_state("world");
    h.drain();
    assert!(h.sent.is_empty(), "nothing goes out before the link is up");
    h.connect();
    let (id, payload) = h.take_request("state:subscribe");
    assert_eq!(payload["scope"], "world");
    assert!(payload["request_id"].is_string(), "a client request");
    h.ack(
        id,
        json!({"scope": "world", "version": 3, "doc": {"scene": "Ruins"}, "epoch": "e1"}),
    );
    assert_eq!(h.agent.doc("world"), Some(&json!({"scene": "Ruins"})));
    assert_eq!(
        h.take_store_outputs(),
        [
            AgentOutput::DocChanged {
                scope: "world".into(),
                change: Change::Snapshot { version: 3 }
            },
            AgentOutput::Synced {
                scope: "world".into(),
                version: 3
            },
        ]
    );
    assert_eq!(h.agent.client().pending_count(), 0);
}

#[test]
fn the_stores_requests_never_settle_to_the_shell() {
    let mut h = Harness::new();
    h.connect();
    h.synced("world", 1, json!({}));
    assert!(!h
        .outputs
        .iter()
        .any(|o| matches!(o, AgentOutput::Client(Output::Settled { .. }))));
    // A user's request does.
    let key = h
        .agent
        .request(
            h.now,
            "query",
            "{}",
            vec![],
            RequestOptions {
                timeout_ms: None,
                retry: false,
                ..RequestOptions::default()
            },
        )
        .unwrap();
    h.drain();
    let (id, _) = h.take_request("query");
    h.ack(id, json!({"ok": true}));
    assert!(h.outputs.iter().any(
        |o| matches!(o, AgentOutput::Client(Output::Settled { key: k, result: Ok(_), .. }) if *k == key)
    ));
}

#[test]
fn an_update_is_acked_and_settles_with_its_version() {
    let mut h = Harness::new();
    h.connect();
    h.synced("world", 1, json!({"hp": 9}));
    let id = h
        .agent
        .update_state(h.now, "world", json!({"hp": 5}), true)
        .unwrap();
    h.drain();
    assert_eq!(h.agent.doc("world"), Some(&json!({"hp": 5})), "optimistic");
    let (ack, payload) = h.take_request("state:update");
    assert_eq!(payload["base"], 1);
    assert_eq!(payload["patch"], json!({"hp": 5}));
    h.outputs.clear();
    h.ack(ack, json!({"scope": "world", "base": 1, "version": 2}));
    let outs = h.take_store_outputs();
    assert!(outs.contains(&AgentOutput::UpdateSettled {
        id,
        scope: "world".into(),
        result: Ok(2)
    }));
    assert_eq!(h.agent.store().version("world"), Some(2));
}

#[test]
fn a_conflict_asks_the_shell_and_the_answer_is_resubmitted_after_a_pause() {
    let mut h = Harness::new();
    h.connect();
    h.synced("world", 1, json!({"notes": "a"}));
    let id = h
        .agent
        .update_state(h.now, "world", json!({"notes": "ab"}), true)
        .unwrap();
    h.drain();
    let (ack, _) = h.take_request("state:update");
    h.outputs.clear();
    h.ack(
        ack,
        json!({"code": "CONFLICT", "message": "stale", "scope": "world", "version": 2, "doc": {"notes": "ac"}}),
    );
    // The question, with what this client meant and what the server holds;
    // nothing is decided until it is answered.
    assert_eq!(
        h.take_store_outputs(),
        [AgentOutput::ResolveConflict {
            id,
            scope: "world".into(),
            local: json!({"notes": "ab"}),
            server: json!({"notes": "ac"}),
        }]
    );
    assert_eq!(h.agent.doc("world"), Some(&json!({"notes": "ab"})));
    h.agent
        .resolve_conflict(h.now, id, Some(json!({"notes": "acb"})));
    h.drain();
    assert!(h.take_store_outputs().contains(&AgentOutput::DocChanged {
        scope: "world".into(),
        change: Change::Conflict { id, version: 2 }
    }));
    assert_eq!(h.agent.doc("world"), Some(&json!({"notes": "acb"})));
    // A second answer to the same question is ignored.
    h.agent.resolve_conflict(h.now, id, None);
    h.drain();
    assert!(h.take_store_outputs().is_empty());
    // The re-submit waits out a jittered pause on the agent's one clock.
    assert!(h.sent.is_empty(), "{:?}", h.sent);
    let at = h.agent.poll_timeout().unwrap();
    assert!(at > h.now && at <= h.now + RESUBMIT_PAUSE_MAX_MS);
    h.now = at;
    h.agent.on_timer(at);
    h.drain();
    let (ack, payload) = h.take_request("state:update");
    assert_eq!(payload["base"], 2);
    assert_eq!(payload["patch"], json!({"notes": "acb"}));
    h.ack(ack, json!({"scope": "world", "base": 2, "version": 3}));
    assert!(h
        .take_store_outputs()
        .contains(&AgentOutput::UpdateSettled {
            id,
            scope: "world".into(),
            result: Ok(3)
        }));
}

#[test]
fn a_conflict_answered_with_nothing_lets_the_server_win() {
    let mut h = Harness::new();
    h.connect();
    h.synced("world", 1, json!({"hp": 1}));
    let id = h
        .agent
        .update_state(h.now, "world", json!({"hp": 2}), false)
        .unwrap();
    h.drain();
    let (ack, _) = h.take_request("state:update");
    h.ack(
        ack,
        json!({"code": "CONFLICT", "scope": "world", "version": 4, "doc": {"hp": 7}}),
    );
    assert!(matches!(
        h.take_store_outputs().as_slice(),
        [AgentOutput::ResolveConflict { .. }]
    ));
    h.agent.resolve_conflict(h.now, id, None);
    h.drain();
    let outs = h.take_store_outputs();
    assert!(outs.iter().any(|o| matches!(o,
        AgentOutput::UpdateSettled { id: i, result: Err(SyncError { code, .. }), .. }
            if *i == id && code == "CONFLICT")));
    assert_eq!(h.agent.doc("world"), Some(&json!({"hp": 7})));
}

#[test]
fn a_lost_link_resyncs_every_scope_and_resends_the_update_on_reconnect() {
    let mut h = Harness::new();
    h.connect();
    h.synced("world", 5, json!({"a": 1}));
    h.synced("user:u1", 2, json!({"hp": 3}));
    let id = h
        .agent
        .update_state(h.now, "world", json!({"a": 2}), true)
        .unwrap();
    h.drain();
    let (_, first) = h.take_request("state:update");
    h.reconnect();
    // The request the link lost did not settle to anyone...
    assert!(!h.outputs.iter().any(|o| matches!(
        o,
        AgentOutput::UpdateSettled { .. } | AgentOutput::Client(Output::Settled { .. })
    )));
    // ...every scope resumes from the version it holds, in its epoch...
    let subscribes = h.take_requests("state:subscribe");
    assert_eq!(subscribes.len(), 2);
    for (ack, payload) in subscribes {
        let scope = payload["scope"].as_str().unwrap().to_owned();
        let version = if scope == "world" { 5 } else { 2 };
        assert_eq!(payload["since"], version);
        assert_eq!(payload["epoch"], "e1");
        h.ack(
            ack,
            json!({"scope": scope, "version": version, "epoch": "e1", "patches": []}),
        );
    }
    // ...and once resynced, the update goes again with its base and id.
    let (ack, again) = h.take_request("state:update");
    assert_eq!(again["base"], first["base"]);
    assert_eq!(again["id"], first["id"]);
    h.ack(ack, json!({"scope": "world", "base": 5, "version": 6}));
    assert!(h
        .take_store_outputs()
        .contains(&AgentOutput::UpdateSettled {
            id,
            scope: "world".into(),
            result: Ok(6)
        }));
}

#[test]
fn a_pushed_patch_with_a_gap_asks_for_the_missing_range() {
    let mut h = Harness::new();
    h.connect();
    h.synced("world", 3, json!({"round": 0}));
    h.text(r#"42["state:patch",{"scope":"world","base":3,"version":4,"patch":{"round":1}}]"#);
    let outs = std::mem::take(&mut h.outputs);
    // The scope's subscribers hear first, then the raw event's.
    assert!(matches!(
        outs.as_slice(),
        [
            AgentOutput::DocChanged {
                change: Change::Patch { version: 4, .. },
                ..
            },
            AgentOutput::Client(Output::Event { .. })
        ]
    ));
    assert!(h.sent.is_empty());
    // 5 -> 6 arrives before 4 -> 5: kept aside, and the gap is asked for.
    h.text(r#"42["state:patch",{"scope":"world","base":5,"version":6,"patch":{"round":3}}]"#);
    let (ack, payload) = h.take_request("state:subscribe");
    assert_eq!(payload["since"], 4);
    assert_eq!(h.agent.doc("world"), Some(&json!({"round": 1})));
    h.ack(
        ack,
        json!({"scope": "world", "version": 5, "epoch": "e1",
               "patches": [{"base": 4, "version": 5, "patch": {"round": 2}}]}),
    );
    // The missed patch, then the one kept aside.
    assert_eq!(h.agent.doc("world"), Some(&json!({"round": 3})));
    assert_eq!(h.agent.store().version("world"), Some(6));
}

#[test]
fn close_forgets_a_conflict_waiting_for_its_answer() {
    let mut h = Harness::new();
    h.connect();
    h.synced("world", 1, json!({}));
    let id = h
        .agent
        .update_state(h.now, "world", json!({"x": 1}), false)
        .unwrap();
    h.drain();
    let (ack, _) = h.take_request("state:update");
    h.ack(
        ack,
        json!({"code": "CONFLICT", "scope": "world", "version": 2, "doc": {"x": 2}}),
    );
    h.outputs.clear();
    h.agent.close(h.now);
    h.drain();
    h.agent.resolve_conflict(h.now, id, Some(json!({"x": 3})));
    h.drain();
    assert!(!h
        .outputs
        .iter()
        .any(|o| matches!(o, AgentOutput::DocChanged { .. })));
    assert_eq!(h.agent.client().state(), State::Closed);
}

#[test]
fn a_store_request_that_times_out_is_made_again_and_never_settles_to_the_shell() {
    let mut h = Harness::new();
    h.connect();
    h.agent.sync_state("world");
    h.drain();
    let (first, _) = h.take_request("state:subscribe");
    // No reply: the client's request deadline passes.
    let at = h.agent.poll_timeout().unwrap();
    h.now = at;
    h.agent.on_timer(at);
    h.drain();
    let (again, payload) = h.take_request("state:subscribe");
    assert_ne!(again, first, "a new request");
    assert_eq!(payload["scope"], "world");
    assert!(!h.outputs.iter().any(|o| matches!(
        o,
        AgentOutput::Client(Output::Settled { .. }) | AgentOutput::SyncFailed { .. }
    )));
    // The late reply to the first is ignored; the second's lands.
    h.ack(
        first,
        json!({"scope": "world", "version": 9, "doc": {"late": true}}),
    );
    assert_eq!(h.agent.doc("world"), None);
    h.ack(
        again,
        json!({"scope": "world", "version": 9, "doc": {"on": "time"}}),
    );
    assert_eq!(h.agent.doc("world"), Some(&json!({"on": "time"})));
}

#[test]
fn a_refused_subscription_fails_the_scope() {
    let mut h = Harness::new();
    h.connect();
    h.agent.sync_state("gm:notes");
    h.drain();
    let (ack, _) = h.take_request("state:subscribe");
    h.ack(ack, json!({"code": "FORBIDDEN", "message": "not yours"}));
    assert!(h.take_store_outputs().iter().any(|o| matches!(o,
        AgentOutput::SyncFailed { scope, error } if scope == "gm:notes" && error.code == "FORBIDDEN")));
    assert!(!h.agent.store().is_subscribed("gm:notes"));
}
