//! Compressed `state:subscribe` snapshots through the [`Agent`], natively
//! with simulated time: the reply's attachment goes out to be inflated, the
//! inflated text applies as the snapshot, the scope's patches that arrive
//! meanwhile wait and then apply in order, and a snapshot that does not
//! inflate (or inflates too large, or to no JSON) is `INFLATE_FAILED`,
//! counted and reported, after which the scope asks again for a plain one.
//! flate2 plays the server's deflate and the shell's `DecompressionStream`.
#![cfg(not(target_arch = "wasm32"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use flate2::Compression;
use frinny_agent::core::{Agent, AgentOutput, Change, Config, Output, State};
use serde_json::{json, Value};
use std::io::{Read, Write};

const OPEN: &str =
    r#"0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

/// An agent, what it has output, and the inflations it asked for.
struct Harness {
    agent: Agent,
    now: u64,
    sent: Vec<String>,
    outputs: Vec<AgentOutput>,
    /// (token, format, bytes, max_bytes) of each `Inflate`.
    inflations: Vec<(u64, &'static str, Vec<u8>, usize)>,
}

impl Harness {
    fn new(inflate: bool, max_frame_bytes: usize) -> Self {
        let mut cfg = Config::new("http://127.0.0.1:5001");
        cfg.inflate = inflate;
        cfg.limits.max_frame_bytes = max_frame_bytes;
        let mut h = Harness {
            agent: Agent::new(cfg, 7),
            now: 0,
            sent: vec![],
            outputs: vec![],
            inflations: vec![],
        };
        h.agent.connect(0);
        h.agent.on_open(0);
        h.text(OPEN);
        h.text(r#"40{"sid":"n"}"#);
        assert_eq!(h.agent.client().state(), State::Connected);
        h
    }

    fn drain(&mut self) {
        while let Some(o) = self.agent.poll_output() {
            match o {
                AgentOutput::Client(Output::SendText(t)) => self.sent.push(t),
                AgentOutput::Inflate {
                    token,
                    format,
                    bytes,
                    max_bytes,
                } => self.inflations.push((token, format, bytes, max_bytes)),
                other => self.outputs.push(other),
            }
        }
    }

    fn text(&mut self, frame: &str) {
        self.now += 1;
        self.agent.on_text(self.now, frame);
        self.drain();
    }

    fn binary(&mut self, bytes: &[u8]) {
        self.now += 1;
        self.agent.on_binary(self.now, bytes);
        self.drain();
    }

    /// The ack id and payload of the last `state:subscribe` sent; forgets
    /// the frames sent so far.
    fn take_subscribe(&mut self) -> (u64, Value) {
        let found = self
            .sent
            .iter()
            .filter_map(|t| {
                let rest = t.strip_prefix("42")?;
                let bracket = rest.find('[')?;
                let id: u64 = rest[..bracket].parse().ok()?;
                let items: Value = serde_json::from_str(&rest[bracket..]).ok()?;
                (items[0] == "state:subscribe").then(|| (id, items[1].clone()))
            })
            .next_back();
        let sent = format!("{:?}", self.sent);
        self.sent.clear();
        found.unwrap_or_else(|| panic!("no state:subscribe in {sent}"))
    }

    /// A BINARY_ACK of `id` carrying `doc` compressed, as the server sends it.
    fn compressed_ack(&mut self, id: u64, version: u64, attachment: &[u8]) {
        self.text(&format!(
            r#"461-{id}[{{"scope":"world","version":{version},"compressed":"deflate","doc":{{"_placeholder":true,"num":0}},"epoch":"e1"}}]"#
        ));
        self.binary(attachment);
    }

    fn patch(&mut self, base: u64, version: u64, patch: Value) {
        let push = json!(["state:patch", {"scope": "world", "base": base, "version": version, "patch": patch}]);
        self.text(&format!("42{push}"));
    }

    /// The shell's side: inflates the one waiting job with flate2.
    fn take_inflation(&mut self) -> (u64, String) {
        assert_eq!(self.inflations.len(), 1, "one inflation asked");
        let (token, format, bytes, _) = self.inflations.remove(0);
        assert_eq!(format, "deflate");
        let mut text = String::new();
        ZlibDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .unwrap();
        (token, text)
    }

    fn inflated(&mut self, token: u64, result: Result<String, String>) {
        self.now += 1;
        self.agent.on_inflated(self.now, token, result);
        self.drain();
    }

    fn errors(&self) -> Vec<(String, String)> {
        self.outputs
            .iter()
            .filter_map(|o| match o {
                AgentOutput::Client(Output::Error(e)) => {
                    Some((e.code.as_str().to_owned(), e.message.clone()))
                }
                _ => None,
            })
            .collect()
    }

    fn inflate_failures(&self) -> u64 {
        self.agent
            .client()
            .metrics()
            .errors
            .get("INFLATE_FAILED")
            .copied()
            .unwrap_or(0)
    }
}

fn deflate(bytes: &[u8]) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn world() -> Value {
    json!({"scene": "Ruins", "actors": {"a1": {"name": "Valeros", "hp": 20}}, "round": 0})
}

#[test]
fn a_shell_that_inflates_asks_for_compression_and_one_that_cannot_does_not() {
    let mut h = Harness::new(true, 1_000_000);
    h.agent.sync_state("world");
    h.drain();
    assert_eq!(h.take_subscribe().1["compress"], "deflate");
    let mut plain = Harness::new(false, 1_000_000);
    plain.agent.sync_state("world");
    plain.drain();
    assert!(plain.take_subscribe().1.get("compress").is_none());
}

#[test]
fn a_compressed_snapshot_is_inflated_by_the_shell_and_applies_as_a_snapshot() {
    let mut h = Harness::new(true, 1_000_000);
    h.agent.sync_state("world");
    h.drain();
    let (id, _) = h.take_subscribe();
    h.compressed_ack(id, 4, &deflate(world().to_string().as_bytes()));
    assert_eq!(
        h.agent.doc("world"),
        None,
        "not applied before it is inflated"
    );
    assert_eq!(h.inflations[0].3, 1_000_000, "capped at the payload limit");
    let (token, text) = h.take_inflation();
    h.inflated(token, Ok(text));
    assert_eq!(h.agent.doc("world"), Some(&world()));
    let store: Vec<_> = h
        .outputs
        .iter()
        .filter(|o| !matches!(o, AgentOutput::Client(_)))
        .cloned()
        .collect();
    assert_eq!(
        store,
        [
            AgentOutput::DocChanged {
                scope: "world".into(),
                change: Change::Snapshot { version: 4 }
            },
            AgentOutput::Synced {
                scope: "world".into(),
                version: 4
            },
        ]
    );
    assert!(h.errors().is_empty());
    // A late or repeated answer is ignored.
    h.inflated(token, Ok("{}".into()));
    assert_eq!(h.agent.doc("world"), Some(&world()));
}

#[test]
fn patches_arriving_while_inflating_apply_after_the_snapshot_in_order() {
    let mut h = Harness::new(true, 1_000_000);
    h.agent.sync_state("world");
    h.drain();
    let (id, _) = h.take_subscribe();
    h.compressed_ack(id, 4, &deflate(world().to_string().as_bytes()));
    // The server moves on while the shell inflates.
    h.patch(4, 5, json!({"round": 1}));
    h.patch(5, 6, json!({"round": 2, "scene": "Keep"}));
    h.patch(6, 7, json!({"round": 3}));
    assert_eq!(h.agent.doc("world"), None);
    assert!(h.sent.is_empty(), "no resync asked: nothing is missing");
    let (token, text) = h.take_inflation();
    h.inflated(token, Ok(text));
    let mut expected = world();
    expected["round"] = json!(3);
    expected["scene"] = json!("Keep");
    assert_eq!(h.agent.doc("world"), Some(&expected));
    assert_eq!(h.agent.store().version("world"), Some(7));
    assert_eq!(h.agent.store().counters().gaps, 0);
    assert!(h.sent.is_empty());
}

#[test]
fn a_resync_snapshot_of_a_new_epoch_holds_patches_that_would_land_on_the_old_document() {
    let mut h = Harness::new(true, 1_000_000);
    h.agent.sync_state("world");
    h.drain();
    let (id, _) = h.take_subscribe();
    h.text(&format!(
        r#"43{id}[{{"scope":"world","version":2,"doc":{{"old":true}},"epoch":"e1"}}]"#
    ));
    // A gap: the store asks from version 2 of epoch e1. The server has
    // restarted: its answer is a compressed snapshot of epoch e2, which is
    // at version 2 too.
    h.patch(5, 6, json!({"x": 1}));
    let (id, payload) = h.take_subscribe();
    assert_eq!(
        (&payload["since"], &payload["epoch"]),
        (&json!(2), &json!("e1"))
    );
    assert_eq!(payload["compress"], "deflate");
    h.text(&format!(
        r#"461-{id}[{{"scope":"world","version":2,"compressed":"deflate","doc":{{"_placeholder":true,"num":0}},"epoch":"e2"}}]"#
    ));
    h.binary(&deflate(world().to_string().as_bytes()));
    // Made after the snapshot, at its version: handed to the store now it
    // would be laid over the old document, then wiped by the new epoch.
    h.patch(2, 3, json!({"round": 1}));
    assert_eq!(h.agent.doc("world"), Some(&json!({"old": true})));
    let (token, text) = h.take_inflation();
    h.inflated(token, Ok(text));
    let mut expected = world();
    expected["round"] = json!(1);
    assert_eq!(h.agent.doc("world"), Some(&expected));
    assert_eq!(h.agent.store().version("world"), Some(3));
    assert!(h.sent.is_empty(), "{:?}", h.sent);
}

#[test]
fn a_snapshot_that_does_not_inflate_is_a_counted_error_and_the_scope_asks_again_plain() {
    let mut h = Harness::new(true, 1_000_000);
    h.agent.sync_state("world");
    h.drain();
    let (id, _) = h.take_subscribe();
    h.compressed_ack(id, 4, b"this is not zlib");
    h.patch(4, 5, json!({"round": 1}));
    let (token, _, _, _) = h.inflations.remove(0);
    // What DecompressionStream says of bad data.
    h.inflated(token, Err("The compressed data was not valid".into()));
    let errors = h.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, "INFLATE_FAILED");
    assert!(errors[0].1.contains("world"), "{}", errors[0].1);
    assert_eq!(h.inflate_failures(), 1);
    assert_eq!(h.agent.doc("world"), None);
    // Asked again, plain this once.
    let (id, payload) = h.take_subscribe();
    assert!(payload.get("compress").is_none(), "{payload}");
    h.text(&format!(
        r#"43{id}[{{"scope":"world","version":4,"doc":{},"epoch":"e1"}}]"#,
        world()
    ));
    let mut expected = world();
    expected["round"] = json!(1);
    assert_eq!(
        h.agent.doc("world"),
        Some(&expected),
        "the patch held meanwhile applies too"
    );
    assert!(h
        .outputs
        .iter()
        .any(|o| matches!(o, AgentOutput::Synced { version: 5, .. })));
    // The plain ask was for that once: later resyncs may be compressed again.
    h.patch(7, 8, json!({"gap": true}));
    assert_eq!(h.take_subscribe().1["compress"], "deflate");
}

#[test]
fn an_inflated_snapshot_over_the_limit_or_not_json_is_refused() {
    let mut h = Harness::new(true, 300);
    h.agent.sync_state("world");
    h.drain();
    let (id, _) = h.take_subscribe();
    let big = json!({"filler": "x".repeat(500)}).to_string();
    h.compressed_ack(id, 4, &deflate(big.as_bytes()));
    let (token, text) = h.take_inflation();
    // A shell that did not stop at `max_bytes` is still refused.
    h.inflated(token, Ok(text));
    assert_eq!(h.agent.doc("world"), None);
    let errors = h.errors();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].0, "INFLATE_FAILED");
    assert!(errors[0].1.contains("over the limit"), "{}", errors[0].1);

    let (id, payload) = h.take_subscribe();
    assert!(payload.get("compress").is_none());
    // The server compresses all the same (a peer that ignores the ask): an
    // inflated text that is no JSON is refused too.
    h.compressed_ack(id, 4, &deflate(b"{not json"));
    let (token, text) = h.take_inflation();
    h.inflated(token, Ok(text));
    assert_eq!(h.inflate_failures(), 2);
    assert!(h.errors()[1].1.contains("not JSON"), "{:?}", h.errors());
    assert_eq!(h.agent.doc("world"), None);
    let (_, payload) = h.take_subscribe();
    assert!(payload.get("compress").is_none());
}

#[test]
fn a_compressed_reply_this_client_cannot_use_fails_at_once_and_asks_plain() {
    // A shell without DecompressionStream never asks, but a server may
    // compress anyway: nothing is handed out to inflate.
    let mut h = Harness::new(false, 1_000_000);
    h.agent.sync_state("world");
    h.drain();
    let (id, _) = h.take_subscribe();
    h.compressed_ack(id, 4, &deflate(world().to_string().as_bytes()));
    assert!(h.inflations.is_empty());
    assert_eq!(h.inflate_failures(), 1);
    let (id, payload) = h.take_subscribe();
    assert!(payload.get("compress").is_none());
    // A marker without its attachment.
    let mut h = Harness::new(true, 1_000_000);
    h.agent.sync_state("world");
    h.drain();
    let (first, _) = h.take_subscribe();
    h.text(&format!(
        r#"43{first}[{{"scope":"world","version":4,"compressed":"deflate","doc":"eJw=","epoch":"e1"}}]"#
    ));
    assert!(h.inflations.is_empty());
    assert_eq!(h.errors()[0].0, "INFLATE_FAILED");
    let _ = id;
    let (_, payload) = h.take_subscribe();
    assert!(payload.get("compress").is_none());
}

#[test]
fn unsubscribing_while_inflating_drops_the_late_snapshot() {
    let mut h = Harness::new(true, 1_000_000);
    h.agent.sync_state("world");
    h.drain();
    let (id, _) = h.take_subscribe();
    h.compressed_ack(id, 4, &deflate(world().to_string().as_bytes()));
    h.agent.unsync_state("world");
    h.drain();
    let (token, text) = h.take_inflation();
    h.inflated(token, Ok(text));
    assert_eq!(h.agent.doc("world"), None);
    assert!(h.errors().is_empty());
}
