//! Custom events (`x-<module>:<event>`) end to end: a GM declares them with
//! `events:define` (a player may not), the server validates them like
//! catalogue events and relays them within the world, `broadcast` carries
//! the broadcastable ones, the bounds hold, the `--events` file of the
//! integration guide loads (and a bad one stops the start-up, naming the
//! entry), and with `--redis` a declaration made on one instance holds on
//! the other.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{http, SioClient, TestCluster, TestServer, ADMIN};
use frinny_server::auth::Role;
use frinny_server::Config;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;

const QUIET: Duration = Duration::from_millis(300);

fn roll_request() -> Value {
    json!({"name": "x-my-module:roll-request", "direction": "both",
           "fields": [{"name": "formula", "kind": "non_empty_string", "required": true},
                      {"name": "actorId", "kind": "string"}]})
}

fn weather() -> Value {
    json!({"name": "x-my-module:weather", "direction": "server_to_client", "broadcastable": true,
           "fields": [{"name": "sky", "kind": "string", "required": true}]})
}

/// `events:define` with an ack; the ack.
async fn define(c: &mut SioClient, events: Value) -> Value {
    let id = c
        .emit_with_ack("events:define", json!({ "events": events }))
        .await;
    c.ack(id).await
}

/// Emits with an ack; the ack.
async fn send(c: &mut SioClient, event: &str, payload: Value) -> Value {
    let id = c.emit_with_ack(event, payload).await;
    c.ack(id).await
}

fn code_and_field(v: &Value) -> (Option<&str>, Option<&str>) {
    (v["code"].as_str(), v["field"].as_str())
}

#[tokio::test]
async fn a_gm_declares_a_player_may_not() {
    let s = TestServer::default().await;
    let mut gm = s.client("gm", Role::Gm, "w1").await;
    let mut p1 = s.client("p1", Role::Player, "w1").await;

    let ack = define(&mut p1, json!([roll_request()])).await;
    assert_eq!(ack["code"], "FORBIDDEN", "{ack}");
    assert_eq!(p1.event("error").await["code"], "FORBIDDEN");

    let ack = define(&mut gm, json!([roll_request(), weather()])).await;
    assert_eq!(
        ack,
        json!({"ok": true, "defined": ["x-my-module:roll-request", "x-my-module:weather"], "count": 2})
    );
    // Declaring a name again replaces it (the count stays).
    let stricter = json!({"name": "x-my-module:roll-request", "direction": "both",
        "fields": [{"name": "formula", "kind": "non_empty_string", "required": true},
                   {"name": "reason", "kind": "string", "required": true}]});
    let ack = define(&mut gm, json!([stricter])).await;
    assert_eq!(ack["count"], 2);
    // connection_established lists the world's custom events.
    let token = s.token("p2", Role::Player, "w1");
    let mut p2 = SioClient::connect(s.addr, Some(json!({ "token": token })), "")
        .await
        .unwrap();
    assert_eq!(
        p2.event("connection_established").await["customEvents"],
        json!(["x-my-module:roll-request", "x-my-module:weather"])
    );
    let ack = send(
        &mut p1,
        "x-my-module:roll-request",
        json!({"formula": "1d20"}),
    )
    .await;
    assert_eq!(
        code_and_field(&ack),
        (Some("INVALID_PAYLOAD"), Some("reason"))
    );
    s.stop().await;
}

#[tokio::test]
async fn custom_events_are_validated_like_catalogue_events() {
    let s = TestServer::default().await;
    let mut gm = s.client("gm", Role::Gm, "w1").await;
    define(&mut gm, json!([roll_request(), weather()])).await;
    let mut p1 = s.client("p1", Role::Player, "w1").await;

    // Unknown: never declared, or declared in another world only.
    let ack = send(&mut p1, "x-my-module:nope", json!({})).await;
    assert_eq!(code_and_field(&ack), (Some("INVALID_EVENT"), None));
    let e = p1.event("error").await;
    assert!(
        e["message"].as_str().unwrap().contains("not declared"),
        "{e}"
    );
    let mut elsewhere = s.client("p9", Role::Player, "w2").await;
    let ack = send(
        &mut elsewhere,
        "x-my-module:roll-request",
        json!({"formula": "1d20"}),
    )
    .await;
    assert_eq!(ack["code"], "INVALID_EVENT");

    // A payload that does not fit, naming the field; a request's id comes back.
    p1.emit(
        "x-my-module:roll-request",
        json!({"formula": 20, "request_id": "r1"}),
    )
    .await;
    let e = p1.event("error").await;
    assert_eq!(
        code_and_field(&e),
        (Some("INVALID_PAYLOAD"), Some("formula"))
    );
    assert_eq!(e["request_id"], "r1");
    let ack = send(&mut p1, "x-my-module:roll-request", json!("text")).await;
    assert_eq!(code_and_field(&ack), (Some("INVALID_PAYLOAD"), None));

    // Declared server to client: a client may not send it.
    let ack = send(&mut p1, "x-my-module:weather", json!({"sky": "rain"})).await;
    assert_eq!(ack["code"], "INVALID_EVENT");
    assert!(ack["message"]
        .as_str()
        .unwrap()
        .contains("server_to_client"));

    // The connection is fine afterwards, and counted the custom events.
    let ok = send(
        &mut p1,
        "x-my-module:roll-request",
        json!({"formula": "1d20"}),
    )
    .await;
    assert_eq!(ok["ok"], true);
    let metrics = http(s.addr, "GET", "/metrics", None, None).await.body;
    assert!(metrics.contains("_custom"), "{metrics}");
    s.stop().await;
}

#[tokio::test]
async fn a_both_way_event_reaches_the_rest_of_the_world_only() {
    let s = TestServer::default().await;
    let mut gm = s.client("gm", Role::Gm, "w1").await;
    define(&mut gm, json!([roll_request()])).await;
    let mut p1 = s.client("p1", Role::Player, "w1").await;
    let mut p2 = s.client("p2", Role::Player, "w1").await;
    let mut elsewhere = s.client("p3", Role::Player, "w2").await;

    let payload = json!({"formula": "2d6+3", "actorId": "a1", "extra": [1]});
    let ack = send(&mut p1, "x-my-module:roll-request", payload.clone()).await;
    assert_eq!(
        ack,
        json!({"ok": true, "event": "x-my-module:roll-request", "recipients": 2})
    );
    assert_eq!(gm.event("x-my-module:roll-request").await, payload);
    assert_eq!(p2.event("x-my-module:roll-request").await, payload);
    assert!(p1
        .try_event("x-my-module:roll-request", QUIET)
        .await
        .is_none());
    assert!(elsewhere
        .try_event("x-my-module:roll-request", Duration::from_millis(50))
        .await
        .is_none());
    s.stop().await;
}

#[tokio::test]
async fn a_gm_broadcasts_a_broadcastable_custom_event() {
    let s = TestServer::default().await;
    let mut gm = s.client("gm", Role::Gm, "w1").await;
    define(&mut gm, json!([roll_request(), weather()])).await;
    let mut p1 = s.client("p1", Role::Player, "w1").await;

    let id = gm
        .emit_with_ack(
            "broadcast",
            json!({"event": "x-my-module:weather", "payload": {"sky": "storm"}}),
        )
        .await;
    assert_eq!(
        gm.ack(id).await,
        json!({"ok": true, "event": "x-my-module:weather", "recipients": 1})
    );
    assert_eq!(
        p1.event("x-my-module:weather").await,
        json!({"sky": "storm"})
    );

    // A player may not; a GM only what is declared broadcastable, fitting.
    let ack = send(
        &mut p1,
        "broadcast",
        json!({"event": "x-my-module:weather", "payload": {"sky": "x"}}),
    )
    .await;
    assert_eq!(ack["code"], "FORBIDDEN");
    let ack = send(
        &mut gm,
        "broadcast",
        json!({"event": "x-my-module:roll-request", "payload": {"formula": "1d4"}}),
    )
    .await;
    assert_eq!(code_and_field(&ack), (Some("INVALID_EVENT"), Some("event")));
    let ack = send(
        &mut gm,
        "broadcast",
        json!({"event": "x-my-module:weather", "payload": {"sky": 3}}),
    )
    .await;
    assert_eq!(
        code_and_field(&ack),
        (Some("INVALID_PAYLOAD"), Some("payload.sky"))
    );
    let ack = send(
        &mut gm,
        "broadcast",
        json!({"event": "x-other:thing", "payload": {}}),
    )
    .await;
    assert_eq!(code_and_field(&ack), (Some("INVALID_EVENT"), Some("event")));

    // The admin endpoint checks a declared custom event too.
    let r = http(
        s.addr,
        "POST",
        "/broadcast",
        Some(ADMIN),
        Some(r#"{"event": "x-my-module:weather", "world": "w1", "payload": {"wind": 1}}"#),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.json()["field"], "payload.sky");
    let r = http(
        s.addr,
        "POST",
        "/broadcast",
        Some(ADMIN),
        Some(r#"{"event": "x-my-module:weather", "world": "w1", "payload": {"sky": "clear"}}"#),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(p1.event("x-my-module:weather").await["sky"], "clear");
    s.stop().await;
}

#[tokio::test]
async fn the_bounds_hold() {
    let mut config = Config::for_tests(false);
    config.max_custom_events = 2;
    config.max_custom_payload_bytes = 200;
    let s = TestServer::start(config).await;
    let mut gm = s.client("gm", Role::Gm, "w1").await;

    // Count: all or nothing.
    assert_eq!(define(&mut gm, json!([roll_request()])).await["count"], 1);
    let third = json!({"name": "x-other:c", "direction": "both"});
    let ack = define(&mut gm, json!([weather(), third])).await;
    assert_eq!(ack["code"], "TOO_MANY_EVENTS", "{ack}");
    let ack = send(&mut gm, "x-my-module:weather", json!({"sky": "x"})).await;
    assert_eq!(
        ack["code"], "INVALID_EVENT",
        "nothing of the refused define holds"
    );
    assert_eq!(define(&mut gm, json!([weather()])).await["count"], 2);
    // Another world has its own room for declarations.
    let mut gm2 = s.client("gm2", Role::Gm, "w2").await;
    assert_eq!(define(&mut gm2, json!([third])).await["count"], 1);

    // Payload size.
    let big = "d".repeat(300);
    let ack = send(&mut gm, "x-my-module:roll-request", json!({"formula": big})).await;
    assert_eq!(ack["code"], "PAYLOAD_TOO_LARGE", "{ack}");

    // Size and grammar of a declaration, naming the entry.
    let fields: Vec<Value> = (0..33)
        .map(|i| json!({"name": format!("f{i}"), "kind": "any"}))
        .collect();
    let ack = define(
        &mut gm,
        json!([roll_request(), {"name": "x-my-module:wide", "direction": "both", "fields": fields}]),
    )
    .await;
    assert_eq!(
        code_and_field(&ack),
        (Some("SPEC_TOO_LARGE"), Some("events[1].fields"))
    );
    for bad in ["X-mod:a", "x-mod", "query", "x-My-Module:a", "x-mod:a:b"] {
        let ack = define(&mut gm, json!([{"name": bad, "direction": "both"}])).await;
        assert_eq!(
            code_and_field(&ack),
            (Some("INVALID_PAYLOAD"), Some("events[0].name")),
            "{bad}"
        );
    }
    let ack = define(
        &mut gm,
        json!([{"name": "x-m:a", "direction": "both", "fields": [{"name": "f", "kind": "float"}]}]),
    )
    .await;
    assert_eq!(
        code_and_field(&ack),
        (Some("INVALID_PAYLOAD"), Some("events[0]"))
    );
    let ack = send(&mut gm, "events:define", json!({"events": "x"})).await;
    assert_eq!(
        code_and_field(&ack),
        (Some("INVALID_PAYLOAD"), Some("events"))
    );
    s.stop().await;
}

/// The `events.json` block of docs/integration-guide.md (the first ```json
/// block after a line that names `events.json`).
fn guide_events_json() -> String {
    let guide = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/integration-guide.md");
    let text = std::fs::read_to_string(&guide).unwrap();
    let at = text
        .find("events.json")
        .expect("the guide names events.json");
    let rest = &text[at..];
    let open = rest.find("```json\n").expect("a json block follows") + "```json\n".len();
    let close = rest[open..].find("```").unwrap();
    rest[open..open + close].to_owned()
}

fn temp_file(tag: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("frinny-custom-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("events.json");
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn the_guides_events_file_declares_for_every_world() {
    let path = temp_file("guide", &guide_events_json());
    let mut config = Config::for_tests(false);
    config.events_file = Some(path);
    let s = TestServer::start(config).await;
    let mut gm = s.client("gm", Role::Gm, "w1").await;
    let mut p1 = s.client("p1", Role::Player, "w1").await;
    let mut p2 = s.client("p2", Role::Player, "w2").await;
    let token = s.token("p3", Role::Player, "w2");
    let mut p3 = SioClient::connect(s.addr, Some(json!({ "token": token })), "")
        .await
        .unwrap();
    assert_eq!(
        p3.event("connection_established").await["customEvents"],
        json!(["x-my-module:roll-request", "x-my-module:weather"])
    );

    // Declared in every world, with no define.
    let ack = send(
        &mut p2,
        "x-my-module:roll-request",
        json!({"formula": "1d20"}),
    )
    .await;
    assert_eq!(ack["ok"], true, "{ack}");
    assert_eq!(
        p3.event("x-my-module:roll-request").await["formula"],
        "1d20"
    );
    let ack = send(&mut p1, "x-my-module:roll-request", json!({})).await;
    assert_eq!(
        code_and_field(&ack),
        (Some("INVALID_PAYLOAD"), Some("formula"))
    );
    // The operator's declarations are not redefined at run time.
    let ack = define(
        &mut gm,
        json!([{"name": "x-my-module:roll-request", "direction": "both"}]),
    )
    .await;
    assert_eq!(
        code_and_field(&ack),
        (Some("FORBIDDEN"), Some("events[0].name"))
    );
    s.stop().await;
}

#[tokio::test]
async fn a_bad_events_file_stops_the_start_naming_the_entry() {
    let path = temp_file(
        "bad",
        r#"[{"name": "x-my-module:ok", "direction": "both"},
            {"name": "x-my-module:oops", "direction": "both", "fields": [{"name": "n", "kind": "integer"}]}]"#,
    );
    let mut config = Config::for_tests(false);
    config.events_file = Some(path.clone());
    let err = frinny_server::start(config, None).await.err().unwrap();
    let text = err.to_string();
    assert!(
        text.contains("events[1]")
            && text.contains("x-my-module:oops")
            && text.contains("events.json"),
        "{text}"
    );

    // The binary says so on stderr and exits non-zero.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_frinny-server"))
        .args(["--dev", "--port", "0", "--events"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("events[1]"), "{stderr}");

    let mut config = Config::for_tests(false);
    config.events_file = Some(path.with_file_name("missing.json"));
    let err = frinny_server::start(config, None).await.err().unwrap();
    assert!(err.to_string().contains("cannot read"), "{err}");
}

#[tokio::test]
async fn with_redis_a_declaration_on_one_instance_holds_on_the_other() {
    let c = TestCluster::start_with(|config| config.max_custom_events = 2).await;
    let mut gm = c.a.client("gm", Role::Gm, "w1").await;
    let mut p1 = c.b.client("p1", Role::Player, "w1").await;
    let mut p2 = c.a.client("p2", Role::Player, "w1").await;

    assert_eq!(define(&mut gm, json!([roll_request()])).await["count"], 1);
    let token = c.b.token("p9", Role::Player, "w1");
    let mut p9 = SioClient::connect(c.b.addr, Some(json!({ "token": token })), "")
        .await
        .unwrap();
    assert_eq!(
        p9.event("connection_established").await["customEvents"],
        json!(["x-my-module:roll-request"])
    );
    // Instance b never saw the define: it reads the declaration from Redis.
    let ack = send(
        &mut p1,
        "x-my-module:roll-request",
        json!({"formula": "1d8"}),
    )
    .await;
    assert_eq!(ack["ok"], true, "{ack}");
    assert_eq!(p2.event("x-my-module:roll-request").await["formula"], "1d8");
    let ack = send(&mut p1, "x-my-module:roll-request", json!({"formula": 8})).await;
    assert_eq!(
        code_and_field(&ack),
        (Some("INVALID_PAYLOAD"), Some("formula"))
    );

    // The bound is the world's, over both instances.
    let mut gm_b = c.b.client("gm-b", Role::Gm, "w1").await;
    assert_eq!(define(&mut gm_b, json!([weather()])).await["count"], 2);
    let ack = define(&mut gm, json!([{"name": "x-other:c", "direction": "both"}])).await;
    assert_eq!(ack["code"], "TOO_MANY_EVENTS", "{ack}");
    c.stop().await;
}

/// Records the custom events the server hands it.
#[derive(Default)]
struct CustomRecorder(std::sync::Mutex<Vec<frinny_server::responder::Request>>);

impl frinny_server::responder::Responder for CustomRecorder {
    fn respond(
        &self,
        _request: frinny_server::responder::Request,
    ) -> frinny_server::responder::ReplyFuture<'_> {
        Box::pin(async { Err(frinny_server::responder::ResponderError("not used".into())) })
    }

    fn custom_event(&self, request: &frinny_server::responder::Request) {
        self.0.lock().unwrap().push(request.clone());
    }
}

#[tokio::test]
async fn a_client_to_server_event_goes_to_the_responder_not_to_the_table() {
    let recorder = std::sync::Arc::new(CustomRecorder::default());
    let server = frinny_server::start(Config::for_tests(false), Some(recorder.clone()))
        .await
        .unwrap();
    let s = TestServer {
        addr: server.local_addr(),
        server,
    };
    let mut gm = s.client("gm", Role::Gm, "w1").await;
    let rate = json!({"name": "x-my-module:rate", "direction": "client_to_server",
        "fields": [{"name": "stars", "kind": "number"}, {"name": "text", "kind": "string"}],
        "anyOf": ["stars", "text"]});
    define(&mut gm, json!([rate])).await;
    let mut p1 = s.client("p1", Role::Player, "w1").await;

    let ack = send(&mut p1, "x-my-module:rate", json!({"stars": 5})).await;
    assert_eq!(
        ack,
        json!({"ok": true, "event": "x-my-module:rate", "recipients": 0})
    );
    let ack = send(&mut p1, "x-my-module:rate", json!({"other": 1})).await;
    assert_eq!(
        code_and_field(&ack),
        (Some("INVALID_PAYLOAD"), Some("stars"))
    );
    assert!(gm.try_event("x-my-module:rate", QUIET).await.is_none());
    let seen = recorder.0.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].event, "x-my-module:rate");
    assert_eq!(seen[0].payload, json!({"stars": 5}));
    assert_eq!(seen[0].identity.user_id, "p1");
    s.stop().await;
}
