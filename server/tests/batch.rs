//! Batching (`--batch-window-ms`): what a server pushes to a socket that
//! asked (`batch=1`) arrives in `batch` envelopes, in order; nothing changes
//! without the flag or for a client that did not ask; replies are never
//! held and never overtake what was pushed before them; and an envelope a
//! client sends is handled entry by entry with the usual checks. Also with
//! two instances on Redis. Every wait is bounded.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use frinny_server::auth::Role;
use frinny_server::bus::Target;
use frinny_server::{rooms, Config};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const QUIET: Duration = Duration::from_millis(400);
const TEST_LIMIT: Duration = Duration::from_secs(30);

async fn bounded<F: std::future::Future<Output = ()>>(f: F) {
    tokio::time::timeout(TEST_LIMIT, f)
        .await
        .expect("the test finishes within 30 s");
}

fn with_window(ms: u64) -> Config {
    let mut c = Config::for_tests(false);
    c.batch_window_ms = ms;
    c
}

/// Connects `user` to `server`, asking for batches when `asks`; returns the
/// client and its `connection_established`.
async fn join(server: &TestServer, user: &str, role: Role, asks: bool) -> (SioClient, Value) {
    let token = server.token(user, role, "w1");
    let query = if asks { "&batch=1" } else { "" };
    let mut c = SioClient::connect(server.addr, Some(json!({ "token": token })), query)
        .await
        .unwrap();
    let hello = c.event("connection_established").await;
    (c, hello)
}

/// What arrived, one line per frame: `name` for an event alone,
/// `batch[name, name, …]` for an envelope. And the events in order, each
/// envelope unpacked.
fn frames(incoming: &[Incoming]) -> (Vec<String>, Vec<(String, Value)>) {
    let mut lines = Vec::new();
    let mut events = Vec::new();
    for i in incoming {
        match i {
            Incoming::Event(name, entries) if name == "batch" => {
                let entries = entries.as_array().expect("an array of entries");
                let names: Vec<&str> = entries.iter().map(|e| e[0].as_str().unwrap()).collect();
                lines.push(format!("batch[{}]", names.join(", ")));
                events.extend(
                    entries
                        .iter()
                        .map(|e| (e[0].as_str().unwrap().to_owned(), e[1].clone())),
                );
            }
            Incoming::Event(name, payload) => {
                lines.push(name.clone());
                events.push((name.clone(), payload.clone()));
            }
            Incoming::Ack(id, _) | Incoming::BinaryAck(id, _, _) => lines.push(format!("ack {id}")),
            Incoming::Disconnected => lines.push("disconnected".into()),
        }
    }
    (lines, events)
}

async fn push_notifications(server: &TestServer, from: usize, n: usize) {
    for i in from..from + n {
        server
            .server
            .io()
            .emit(
                &Target::Room(rooms::world("w1")),
                "notification",
                &json!({"message": format!("n{i}"), "level": "info"}),
            )
            .await
            .unwrap();
    }
}

fn messages(events: &[(String, Value)]) -> Vec<String> {
    events
        .iter()
        .filter(|(n, _)| n == "notification")
        .map(|(_, p)| p["message"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_to_a_client_that_asked_arrives_in_batches_in_order() {
    bounded(async {
        let s = TestServer::start(with_window(50)).await;
        let (mut asked, hello) = join(&s, "p1", Role::Player, true).await;
        assert_eq!(hello["batch"], json!({"windowMs": 50, "maxBytes": 65536}));
        let (mut plain, hello) = join(&s, "p2", Role::Player, false).await;
        assert!(
            hello.get("batch").is_none(),
            "not offered to a client that did not ask: {hello}"
        );

        // 100: within the plain client's outgoing queue (128 packets) even
        // if its socket drains none of it during the burst.
        push_notifications(&s, 0, 100).await;
        let (lines, events) = frames(&asked.collect_for(QUIET).await);
        let expected: Vec<String> = (0..100).map(|i| format!("n{i}")).collect();
        assert_eq!(messages(&events), expected, "every event, once, in order");
        assert!(lines.iter().all(|l| l.starts_with("batch[")), "{lines:?}");
        assert!(
            lines.len() < 10,
            "a burst takes a few frames, not 200: {}",
            lines.len()
        );

        let (lines, events) = frames(&plain.collect_for(QUIET).await);
        assert_eq!(messages(&events), expected);
        assert_eq!(lines.len(), 100, "one frame each, as before");
        assert!(lines.iter().all(|l| l == "notification"));
        s.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_stay_within_the_payload_limit() {
    bounded(async {
        let mut config = with_window(50);
        config.max_payload_bytes = 2048;
        let s = TestServer::start(config).await;
        let (mut asked, hello) = join(&s, "p1", Role::Player, true).await;
        assert_eq!(hello["batch"]["maxBytes"], 2048);
        push_notifications(&s, 0, 100).await;
        let incoming = asked.collect_for(QUIET).await;
        for i in &incoming {
            if let Incoming::Event(name, entries) = i {
                let size = json!([name, entries]).to_string().len();
                assert!(size <= 2048, "{size} bytes");
            }
        }
        let (lines, events) = frames(&incoming);
        assert_eq!(messages(&events).len(), 100);
        assert!(lines.len() > 1, "split by size: {lines:?}");
        s.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_flag_nothing_changes() {
    bounded(async {
        let s = TestServer::start(with_window(0)).await;
        let (mut asked, hello) = join(&s, "p1", Role::Player, true).await;
        assert!(hello.get("batch").is_none(), "{hello}");
        push_notifications(&s, 0, 20).await;
        let (lines, events) = frames(&asked.collect_for(QUIET).await);
        assert_eq!(lines.len(), 20);
        assert_eq!(messages(&events).len(), 20);
        // An envelope from a client is still read, entry by entry.
        let (mut gm, _) = join(&s, "g", Role::Gm, false).await;
        gm.emit(
            "batch",
            json!([["broadcast", {"event": "notification", "payload": {"message": "via batch"}}]]),
        )
        .await;
        let got = asked.events_named("notification", QUIET).await;
        assert_eq!(got.len(), 1);
        assert_eq!(got[0]["message"], "via batch");
        s.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_is_never_held_and_never_overtakes_what_was_pushed_before_it() {
    bounded(async {
        // A long window: anything held would show.
        let s = TestServer::start(with_window(800)).await;
        let (mut c, _) = join(&s, "p1", Role::Player, true).await;
        push_notifications(&s, 0, 2).await;
        let started = Instant::now();
        let id = c
            .emit_with_ack("query", json!({"content": "crit?", "request_id": "r1"}))
            .await;
        let reply = c.ack(id).await;
        assert_eq!(reply["request_id"], "r1");
        assert!(
            started.elapsed() < Duration::from_millis(600),
            "the answer did not wait for the window: {:?}",
            started.elapsed()
        );
        let (lines, _) = frames(&c.collect_for(Duration::from_millis(1200)).await);
        // What was pushed first (two notifications and `typing_status`
        // true) went out ahead of the reply, in one envelope; the
        // `typing_status` false after it waits for its own window.
        assert_eq!(
            lines,
            [
                "batch[notification, notification, typing_status]",
                "query_response",
                "typing_status"
            ],
            "the ack itself was taken by c.ack()"
        );
        // A refusal (`error`, sent straight to the socket) flushes first too.
        push_notifications(&s, 2, 1).await;
        let id = c.emit_with_ack("query", json!({"request_id": "r2"})).await;
        let refusal = c.ack(id).await;
        assert_eq!(refusal["code"], "INVALID_PAYLOAD");
        let (lines, _) = frames(&c.collect_for(QUIET).await);
        assert_eq!(lines, ["notification", "error"]);
        s.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_envelope_from_a_client_is_handled_entry_by_entry() {
    bounded(async {
        let s = TestServer::start(with_window(20)).await;
        let (mut gm, _) = join(&s, "g", Role::Gm, true).await;
        let (mut player, _) = join(&s, "p", Role::Player, false).await;
        let note =
            |m: &str| json!(["broadcast", {"event": "notification", "payload": {"message": m}}]);
        gm.emit(
            "batch",
            json!([
                note("first"),
                7,
                ["broadcast", {"event": "nope", "payload": {}}],
                [],
                ["query", {"request_id": "rq"}],
                note("last"),
            ]),
        )
        .await;
        let got = player.events_named("notification", QUIET).await;
        let got: Vec<&str> = got.iter().map(|p| p["message"].as_str().unwrap()).collect();
        assert_eq!(got, ["first", "last"], "the good entries, each as if alone");
        let (_, events) = frames(&gm.collect_for(QUIET).await);
        let errors: Vec<&Value> = events
            .iter()
            .filter(|(n, _)| n == "error")
            .map(|(_, p)| p)
            .collect();
        let codes: Vec<&str> = errors.iter().map(|e| e["code"].as_str().unwrap()).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            ["INVALID_BATCH", "INVALID_EVENT", "INVALID_PAYLOAD"],
            "one refusal for the bad entries, and each bad event's own: {errors:?}"
        );
        let batch_error = errors
            .iter()
            .find(|e| e["code"] == "INVALID_BATCH")
            .unwrap();
        let message = batch_error["message"].as_str().unwrap();
        assert!(
            message.contains("entry 1") && message.contains("2 of its 6"),
            "{message}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e["code"] == "INVALID_PAYLOAD" && e["request_id"] == "rq"),
            "validated as if it came alone: {errors:?}"
        );

        // Not an array: refused whole.
        gm.emit("batch", json!({"broadcast": {}})).await;
        let error = gm.event("error").await;
        assert_eq!(error["code"], "INVALID_BATCH");

        let r = http(s.addr, "GET", "/metrics", Some(ADMIN), None).await;
        assert!(
            r.body
                .contains(r#"frinny_errors_total{code="INVALID_BATCH"} 3"#),
            "{}",
            r.body
        );
        s.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_are_rate_limited_and_size_checked_one_by_one() {
    bounded(async {
        let mut config = with_window(20);
        config.rate_per_connection = 1;
        config.burst_per_connection = 2;
        config.max_payload_bytes = 4096;
        let s = TestServer::start(config).await;
        let (mut gm, _) = join(&s, "g", Role::Gm, true).await;
        let (mut player, _) = join(&s, "p", Role::Player, false).await;
        let entries: Vec<Value> = (0..5)
            .map(|i| json!(["broadcast", {"event": "notification", "payload": {"message": format!("m{i}")}}]))
            .collect();
        gm.emit("batch", Value::Array(entries)).await;
        let got = player.events_named("notification", QUIET).await;
        assert_eq!(got.len(), 2, "the burst of 2, as five single events would: {got:?}");
        let error = gm.event("error").await;
        assert_eq!(error["code"], "RATE_LIMITED");

        // An envelope bigger than --max-payload-bytes is refused whole.
        let big = json!([["broadcast", {"event": "notification", "payload": {"message": "x".repeat(5000)}}]]);
        gm.emit("batch", big).await;
        let error = gm.event("error").await;
        assert_eq!(error["code"], "PAYLOAD_TOO_LARGE");
        s.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_redis_every_event_arrives_once_batched_by_the_instance_that_pushes_it() {
    bounded(async {
        let c = TestCluster::start_with(|config| config.batch_window_ms = 50).await;
        let (mut on_a, hello) = join(&c.a, "p1", Role::Player, true).await;
        assert_eq!(hello["batch"]["windowMs"], 50);
        // Pushed by A, where the socket is: batched there.
        push_notifications(&c.a, 0, 30).await;
        let (lines, events) = frames(&on_a.collect_for(QUIET).await);
        assert_eq!(
            messages(&events),
            (0..30).map(|i| format!("n{i}")).collect::<Vec<_>>()
        );
        assert!(lines.len() < 30, "{lines:?}");
        // Pushed by B: relayed through Redis and delivered by A's adapter,
        // one frame each, every one once and in order.
        push_notifications(&c.b, 30, 10).await;
        let (_, events) = frames(&on_a.collect_for(QUIET).await);
        assert_eq!(
            messages(&events),
            (30..40).map(|i| format!("n{i}")).collect::<Vec<_>>()
        );
        c.stop().await;
    })
    .await;
}
