//! End-to-end tests: a real server on an ephemeral 127.0.0.1 port, driven by
//! a real Socket.IO v5 client over WebSocket and by raw HTTP requests.
// Test code: panicking on a broken expectation is the point.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{http, Incoming, SioClient, TestServer, ADMIN, WAIT};
use frinny_agent::catalogue::validate;
use frinny_server::auth::{Authenticator, Claims, Role};
use frinny_server::Config;
use serde_json::{json, Value};
use std::time::Duration;

const QUIET: Duration = Duration::from_millis(300);

// ---------------------------------------------------------------- identity

#[tokio::test]
async fn good_token_joins_and_gets_connection_established() {
    let s = TestServer::default().await;
    let token = s.token("u1", Role::Gm, "w1");
    let mut c = SioClient::connect(s.addr, Some(json!({ "token": token })), "")
        .await
        .unwrap();
    let hello = c.event("connection_established").await;
    assert_eq!(hello["status"], "connected");
    assert_eq!(hello["userId"], "u1");
    assert_eq!(hello["role"], "gm");
    assert_eq!(hello["world"], "w1");
    assert_eq!(hello["sid"], c.sid.as_str());
    assert!(hello["timestamp"].as_u64().unwrap() > 0);
    let endpoints: Vec<&str> = hello["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for e in [
        "query",
        "character_creation_start",
        "level_up",
        "combat_turn",
        "combat_start",
        "feedback",
    ] {
        assert!(endpoints.contains(&e), "{e} missing from {endpoints:?}");
    }
    s.stop().await;
}

#[tokio::test]
async fn forged_expired_and_missing_tokens_get_connect_error() {
    let s = TestServer::default().await;
    let forged = Authenticator::new(b"some-other-secret-entirely")
        .issue("u1", Role::Gm, "w", 600)
        .unwrap();
    let err = SioClient::connect(s.addr, Some(json!({ "token": forged })), "")
        .await
        .err()
        .unwrap();
    assert!(err.contains("signature is invalid"), "{err}");

    let expired = s
        .server
        .app()
        .auth
        .sign(&Claims {
            sub: "u1".into(),
            role: Role::Player,
            world: "w".into(),
            exp: 1_000,
        })
        .unwrap();
    let err = SioClient::connect(s.addr, Some(json!({ "token": expired })), "")
        .await
        .err()
        .unwrap();
    assert!(err.contains("expired"), "{err}");

    let err = SioClient::connect(s.addr, Some(json!({ "token": "not.a.jwt" })), "")
        .await
        .err()
        .unwrap();
    assert!(err.contains("malformed"), "{err}");

    let err = SioClient::connect(s.addr, None, "").await.err().unwrap();
    assert!(err.contains("authentication required"), "{err}");

    // Outside --dev the legacy userId query is not an identity.
    let err = SioClient::connect(s.addr, None, "&userId=u1")
        .await
        .err()
        .unwrap();
    assert!(err.contains("authentication required"), "{err}");

    // The refused attempts left the server healthy and counted nothing.
    let health = http(s.addr, "GET", "/healthz", None, None).await.json();
    assert_eq!(health["connections"], 0);
    s.stop().await;
}

#[tokio::test]
async fn dev_mode_accepts_legacy_user_id_and_mints_tokens() {
    let s = TestServer::start(Config::for_tests(true)).await;
    let mut legacy = SioClient::connect(s.addr, None, "&userId=foundry-user")
        .await
        .unwrap();
    let hello = legacy.event("connection_established").await;
    assert_eq!(hello["userId"], "foundry-user");
    assert_eq!(hello["role"], "player");

    let r = http(
        s.addr,
        "GET",
        "/dev/token?userId=gm1&role=gm&world=w9",
        None,
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let t = r.json();
    assert_eq!(t["role"], "gm");
    let mut c = SioClient::connect(s.addr, Some(json!({"token": t["token"]})), "")
        .await
        .unwrap();
    let hello = c.event("connection_established").await;
    assert_eq!(
        (hello["userId"].as_str(), hello["world"].as_str()),
        (Some("gm1"), Some("w9"))
    );

    let r = http(s.addr, "GET", "/dev/token?userId=x&role=king", None, None).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["field"], "role");
    let r = http(s.addr, "GET", "/dev/token", None, None).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["field"], "userId");
    s.stop().await;
}

#[tokio::test]
async fn dev_token_endpoint_is_absent_outside_dev() {
    let s = TestServer::default().await;
    let r = http(s.addr, "GET", "/dev/token?userId=u1", None, None).await;
    assert_eq!(r.status, 404);
    s.stop().await;
}

#[tokio::test]
async fn max_connections_is_enforced() {
    let mut config = Config::for_tests(false);
    config.max_connections = 2;
    let s = TestServer::start(config).await;
    let a = s.client("a", Role::Player, "w").await;
    let _b = s.client("b", Role::Player, "w").await;
    let token = s.token("c", Role::Player, "w");
    let err = SioClient::connect(s.addr, Some(json!({ "token": token })), "")
        .await
        .err()
        .unwrap();
    assert!(err.contains("server is full"), "{err}");
    a.close().await;
    // The slot frees up once a client leaves.
    let mut ok = false;
    for _ in 0..50 {
        let token = s.token("c", Role::Player, "w");
        if SioClient::connect(s.addr, Some(json!({ "token": token })), "")
            .await
            .is_ok()
        {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ok, "a freed slot is reusable");
    s.stop().await;
}

// ---------------------------------------------------------------- frinny events

fn request_cases() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            "query",
            "query_response",
            json!({"content": "How does flanking work?", "actorId": "a1",
            "conversation_history": [], "is_public_chat": false, "userId": "u1"}),
        ),
        (
            "character_creation_start",
            "character_creation_response",
            json!({"actorId": "a1"}),
        ),
        (
            "level_up",
            "level_up_response",
            json!({"actorId": "a1", "newLevel": 2}),
        ),
        (
            "combat_turn",
            "combat_turn_response",
            json!({"actorId": "a1", "round": 1}),
        ),
        (
            "combat_start",
            "combat_start_response",
            json!({"combatants": ["a1", "b2"]}),
        ),
        (
            "feedback",
            "feedback_response",
            json!({"rating": 5, "comment": "nice"}),
        ),
    ]
}

#[tokio::test]
async fn every_frinny_event_is_answered_with_request_id_and_typing_status() {
    let s = TestServer::default().await;
    let mut c = s.client("u1", Role::Player, "w").await;
    for (i, (event, reply, mut payload)) in request_cases().into_iter().enumerate() {
        let id = format!("{i}:u1");
        payload["request_id"] = json!(id);
        c.emit(event, payload).await;
        // In order: typing true, the reply, typing false.
        let mut seen = Vec::new();
        while let Some(packet) = c.next(WAIT).await {
            if let Incoming::Event(name, body) = packet {
                let done = name == "typing_status" && body["isTyping"] == false;
                seen.push((name, body));
                if done {
                    break;
                }
            }
        }
        // Nothing else follows.
        assert!(c
            .try_event(reply, Duration::from_millis(50))
            .await
            .is_none());
        // The demo responder follows a combat turn with a suggestion for
        // the acting combatant, before typing stops.
        if event == "combat_turn" {
            let (name, suggestion) = seen.remove(2);
            assert_eq!(name, "suggestion");
            assert_eq!(suggestion["id"], format!("turn-{id}"));
            assert!(validate("suggestion", &suggestion).is_ok(), "{suggestion}");
        }
        let names: Vec<&str> = seen.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["typing_status", reply, "typing_status"], "{event}");
        assert_eq!(seen[0].1, json!({"isTyping": true, "request_id": id}));
        assert_eq!(seen[2].1, json!({"isTyping": false, "request_id": id}));
        let body = &seen[1].1;
        assert_eq!(body["request_id"], id, "{event}");
        assert!(
            body["content"].as_str().unwrap().contains("demo responder"),
            "{body}"
        );
        assert_eq!(body["demo"], true);
    }
    // Numeric request ids (old timestamp ids) come back as numbers.
    c.emit(
        "query",
        json!({"content": "hi", "request_id": 1712345678901_u64}),
    )
    .await;
    assert_eq!(
        c.event("query_response").await["request_id"],
        1712345678901_u64
    );
    s.stop().await;
}

#[tokio::test]
async fn a_request_with_an_ack_is_acked_too() {
    let s = TestServer::default().await;
    let mut c = s.client("u1", Role::Player, "w").await;
    let id = c
        .emit_with_ack("query", json!({"content": "crit?", "request_id": "r-ack"}))
        .await;
    let ack = c.ack(id).await;
    assert_eq!(ack["request_id"], "r-ack");
    assert!(ack["content"].as_str().unwrap().contains("crit?"));
    assert_eq!(c.event("query_response").await["request_id"], "r-ack");
    // An ack that reports an error carries the code.
    let id = c
        .emit_with_ack("query", json!({"request_id": "r-bad"}))
        .await;
    let ack = c.ack(id).await;
    assert_eq!(ack["code"], "INVALID_PAYLOAD");
    assert_eq!(ack["request_id"], "r-bad");
    s.stop().await;
}

#[tokio::test]
async fn replies_reach_every_tab_of_the_user_and_nobody_else() {
    let s = TestServer::default().await;
    let mut tab1 = s.client("u1", Role::Player, "w").await;
    let mut tab2 = s.client("u1", Role::Player, "w").await;
    let mut other = s.client("u2", Role::Player, "w").await;
    tab1.emit("query", json!({"content": "hello", "request_id": "r1"}))
        .await;
    assert_eq!(tab1.event("query_response").await["request_id"], "r1");
    assert_eq!(tab2.event("query_response").await["request_id"], "r1");
    assert!(other.try_event("query_response", QUIET).await.is_none());
    assert!(other
        .try_event("typing_status", Duration::from_millis(50))
        .await
        .is_none());
    s.stop().await;
}

#[tokio::test]
async fn responder_failure_gives_error_with_request_id() {
    let s = TestServer::default().await;
    let mut c = s.client("u1", Role::Player, "w").await;
    c.emit("query", json!({"content": "/fail", "request_id": "r-fail"}))
        .await;
    let err = c.event("error").await;
    assert_eq!(err["request_id"], "r-fail");
    assert_eq!(err["code"], "RESPONDER_FAILED");
    assert!(err["message"].as_str().unwrap().contains("fail"));
    assert_eq!(err["message"], err["error"]);
    // The typing indicator is switched off even so.
    let mut last = None;
    while let Some(t) = c.try_event("typing_status", QUIET).await {
        last = Some(t);
    }
    assert_eq!(last.unwrap()["isTyping"], false);
    s.stop().await;
}

#[tokio::test]
async fn invalid_events_and_payloads_are_refused_naming_the_field() {
    let s = TestServer::default().await;
    let mut c = s.client("u1", Role::Player, "w").await;

    c.emit("summon_dragon", json!({"request_id": "r1"})).await;
    let e = c.event("error").await;
    assert_eq!(
        (e["code"].as_str(), e["request_id"].as_str()),
        (Some("INVALID_EVENT"), Some("r1"))
    );
    assert!(e["message"].as_str().unwrap().contains("summon_dragon"));

    c.emit("query", json!({"request_id": "r2"})).await;
    let e = c.event("error").await;
    assert_eq!(e["code"], "INVALID_PAYLOAD");
    assert_eq!(e["field"], "content");
    assert!(e["message"].as_str().unwrap().contains("`content`"));

    c.emit(
        "query",
        json!({"content": "x", "is_public_chat": "yes", "request_id": "r3"}),
    )
    .await;
    let e = c.event("error").await;
    assert_eq!(e["field"], "is_public_chat");

    c.emit("feedback", json!({"request_id": "r4"})).await;
    let e = c.event("error").await;
    assert_eq!(
        (e["code"].as_str(), e["field"].as_str()),
        (Some("INVALID_PAYLOAD"), Some("rating"))
    );

    c.emit("query", json!("just a string")).await;
    assert_eq!(c.event("error").await["code"], "INVALID_PAYLOAD");

    // A server-to-client event sent by a client is not accepted.
    c.emit("query_response", json!({"content": "fake"})).await;
    assert_eq!(c.event("error").await["code"], "INVALID_EVENT");

    // None of it was processed, and the connection still works.
    assert!(c
        .try_event("query_response", Duration::from_millis(100))
        .await
        .is_none());
    c.emit(
        "query",
        json!({"content": "still here?", "request_id": "r5"}),
    )
    .await;
    assert_eq!(c.event("query_response").await["request_id"], "r5");
    s.stop().await;
}

// ---------------------------------------------------------------- broadcast

#[tokio::test]
async fn a_players_broadcast_is_refused_and_a_gms_reaches_the_others() {
    let s = TestServer::default().await;
    let mut gm = s.client("gm", Role::Gm, "w1").await;
    let mut p1 = s.client("p1", Role::Player, "w1").await;
    let mut p2 = s.client("p2", Role::Player, "w1").await;
    let mut elsewhere = s.client("p3", Role::Player, "w2").await;

    let id = p1
        .emit_with_ack(
            "broadcast",
            json!({"event": "notification", "payload": {"message": "hi all"}}),
        )
        .await;
    let ack = p1.ack(id).await;
    assert_eq!(ack["code"], "FORBIDDEN");
    assert_eq!(p1.event("error").await["code"], "FORBIDDEN");
    assert!(p2.try_event("notification", QUIET).await.is_none());

    let id = gm
        .emit_with_ack(
            "broadcast",
            json!({"event": "notification", "payload": {"message": "Roll initiative"}}),
        )
        .await;
    let ack = gm.ack(id).await;
    assert_eq!(
        ack,
        json!({"ok": true, "event": "notification", "recipients": 2})
    );
    for p in [&mut p1, &mut p2] {
        let n = p.event("notification").await;
        assert_eq!(n["message"], "Roll initiative");
        assert_eq!(n["from"], "gm");
    }
    assert!(elsewhere.try_event("notification", QUIET).await.is_none());
    assert!(gm
        .try_event("notification", Duration::from_millis(50))
        .await
        .is_none());

    // Only broadcastable events, with payloads that fit.
    gm.emit(
        "broadcast",
        json!({"event": "query_response", "payload": {"content": "x"}}),
    )
    .await;
    let e = gm.event("error").await;
    assert_eq!(
        (e["code"].as_str(), e["field"].as_str()),
        (Some("INVALID_EVENT"), Some("event"))
    );
    gm.emit(
        "broadcast",
        json!({"event": "notification", "payload": {"title": "no message"}}),
    )
    .await;
    let e = gm.event("error").await;
    assert_eq!(
        (e["code"].as_str(), e["field"].as_str()),
        (Some("INVALID_PAYLOAD"), Some("payload.message"))
    );
    gm.emit("broadcast", json!({"event": "notification"})).await;
    assert_eq!(gm.event("error").await["field"], "payload");
    s.stop().await;
}

// ---------------------------------------------------------------- limits

#[tokio::test]
async fn rate_limit_triggers_and_recovers() {
    let mut config = Config::for_tests(false);
    config.rate_per_connection = 10;
    config.burst_per_connection = 3;
    let s = TestServer::start(config).await;
    let mut c = s.client("u1", Role::Player, "w").await;
    for i in 0..8 {
        c.emit(
            "feedback",
            json!({"type": "up", "request_id": format!("f{i}")}),
        )
        .await;
    }
    // The burst is answered; of the dropped ones only the first gets an
    // answer within the window (one notice, not one per event).
    let (mut replies, mut errors) = (Vec::new(), Vec::new());
    for i in c.collect_for(Duration::from_millis(500)).await {
        match i {
            Incoming::Event(name, body) if name == "feedback_response" => replies.push(body),
            Incoming::Event(name, body) if name == "error" => errors.push(body),
            Incoming::Event(..) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(
        replies.len() >= 3 && replies.len() < 8,
        "{} replies",
        replies.len()
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    let retry = errors
        .iter()
        .map(|e| {
            assert_eq!(e["code"], "RATE_LIMITED");
            assert!(e["request_id"].as_str().unwrap().starts_with('f'));
            e["retryAfterMs"].as_u64().unwrap()
        })
        .max()
        .unwrap();
    assert!((1..=1000).contains(&retry), "{retry}");
    tokio::time::sleep(Duration::from_millis(400)).await;
    c.emit("feedback", json!({"type": "up", "request_id": "after"}))
        .await;
    let r = c.event("feedback_response").await;
    assert_eq!(r["request_id"], "after");
    let metrics = http(s.addr, "GET", "/metrics", None, None).await.body;
    assert!(
        metrics.contains("frinny_errors_total{code=\"RATE_LIMITED\"}"),
        "{metrics}"
    );
    assert!(
        !metrics.contains("frinny_rate_limited_total 0"),
        "{metrics}"
    );
    s.stop().await;
}

#[tokio::test]
async fn the_user_limit_spans_connections() {
    let mut config = Config::for_tests(false);
    config.rate_per_user = 1;
    config.burst_per_user = 2;
    let s = TestServer::start(config).await;
    let mut a = s.client("u1", Role::Player, "w").await;
    let mut b = s.client("u1", Role::Player, "w").await;
    let mut other = s.client("u2", Role::Player, "w").await;
    a.emit("feedback", json!({"type": "up"})).await;
    b.emit("feedback", json!({"type": "up"})).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    a.emit("feedback", json!({"type": "up", "request_id": "third"}))
        .await;
    let e = a.event("error").await;
    assert_eq!(
        (e["code"].as_str(), e["request_id"].as_str()),
        (Some("RATE_LIMITED"), Some("third"))
    );
    other
        .emit("feedback", json!({"type": "up", "request_id": "o"}))
        .await;
    assert_eq!(other.event("feedback_response").await["request_id"], "o");
    s.stop().await;
}

#[tokio::test]
async fn an_oversized_payload_is_refused_and_the_connection_lives() {
    let mut config = Config::for_tests(false);
    config.max_payload_bytes = 1024;
    let s = TestServer::start(config).await;
    let mut c = s.client("u1", Role::Player, "w").await;
    c.emit(
        "query",
        json!({"content": "x".repeat(8 * 1024), "request_id": "big"}),
    )
    .await;
    let e = c.event("error").await;
    assert_eq!(
        (e["code"].as_str(), e["request_id"].as_str()),
        (Some("PAYLOAD_TOO_LARGE"), Some("big"))
    );
    assert!(e["message"].as_str().unwrap().contains("1024"));
    assert!(c.try_event("query_response", QUIET).await.is_none());
    c.emit("query", json!({"content": "small", "request_id": "small"}))
        .await;
    assert_eq!(c.event("query_response").await["request_id"], "small");
    let r = http(s.addr, "GET", "/healthz", None, None).await;
    assert_eq!(r.json()["connections"], 1);
    // An HTTP body over the limit is refused too.
    let big = json!({"level": "info", "title": "t", "message": "x".repeat(4096)}).to_string();
    let r = http(s.addr, "POST", "/notify", Some(ADMIN), Some(&big)).await;
    assert_eq!(r.status, 413);
    s.stop().await;
}

#[tokio::test]
async fn a_payload_just_under_the_limit_arrives_whole() {
    // The server reads WebSocket frames through a 1 KiB buffer; the largest
    // legal event, 64 times that, must still arrive whole and be answered.
    let config = Config::for_tests(false);
    let limit = config.max_payload_bytes;
    let s = TestServer::start(config).await;
    let mut c = s.client("u1", Role::Player, "w").await;
    let content = "x".repeat(limit - 64);
    c.emit("query", json!({"content": content, "request_id": "big"}))
        .await;
    assert_eq!(c.event("query_response").await["request_id"], "big");
    c.emit("query", json!({"content": "small", "request_id": "small"}))
        .await;
    assert_eq!(c.event("query_response").await["request_id"], "small");
    s.stop().await;
}

// ---------------------------------------------------------------- HTTP endpoints

#[tokio::test]
async fn http_endpoints_require_the_admin_token() {
    let s = TestServer::default().await;
    for path in ["/broadcast", "/notify", "/state/update"] {
        let r = http(s.addr, "POST", path, None, Some("{}")).await;
        assert_eq!(r.status, 401, "{path}");
        assert_eq!(r.json()["code"], "UNAUTHORIZED");
        let r = http(s.addr, "POST", path, Some("wrong"), Some("{}")).await;
        assert_eq!(r.status, 401, "{path}");
    }
    s.stop().await;
}

#[tokio::test]
async fn post_broadcast_delivers_to_all_or_one_world() {
    let s = TestServer::default().await;
    let mut a = s.client("a", Role::Player, "w1").await;
    let mut b = s.client("b", Role::Player, "w2").await;

    let body = json!({"event": "notification", "payload": {"message": "hello table"}}).to_string();
    let r = http(s.addr, "POST", "/broadcast", Some(ADMIN), Some(&body)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["recipients"], 2);
    assert_eq!(a.event("notification").await["message"], "hello table");
    assert_eq!(b.event("notification").await["message"], "hello table");

    let update = json!({"combatId": "c1", "round": 3, "turn": 0, "combatant": {"name": "Valeros"}});
    let body = json!({"event": "combat_update", "payload": update, "world": "w2"}).to_string();
    let r = http(s.addr, "POST", "/broadcast", Some(ADMIN), Some(&body)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["recipients"], 1);
    assert_eq!(b.event("combat_update").await, update);
    assert!(a.try_event("combat_update", QUIET).await.is_none());

    let bad = [
        ("{not json", 400, None),
        ("[1, 2]", 400, None),
        (r#"{"payload": {}}"#, 422, Some("event")),
        (r#"{"event": 5, "payload": {}}"#, 422, Some("event")),
        (
            r#"{"event": "bad name!", "payload": {}}"#,
            422,
            Some("event"),
        ),
        (
            r#"{"event": "disconnect", "payload": {}}"#,
            422,
            Some("event"),
        ),
        (r#"{"event": "query", "payload": {}}"#, 422, Some("event")),
        (r#"{"event": "custom"}"#, 422, Some("payload")),
        (
            r#"{"event": "notification", "payload": {"title": "x"}}"#,
            422,
            Some("payload.message"),
        ),
        (
            r#"{"event": "custom", "payload": {}, "world": 7}"#,
            422,
            Some("world"),
        ),
    ];
    for (body, status, field) in bad {
        let r = http(s.addr, "POST", "/broadcast", Some(ADMIN), Some(body)).await;
        assert_eq!(r.status, status, "{body}: {}", r.body);
        let j = r.json();
        assert!(j["error"].as_str().is_some_and(|m| !m.is_empty()));
        if let Some(f) = field {
            assert_eq!(j["field"], f, "{body}");
            assert!(
                j["error"]
                    .as_str()
                    .unwrap()
                    .contains(f.trim_start_matches("payload.")),
                "{j}"
            );
        }
    }
    s.stop().await;
}

#[tokio::test]
async fn post_notify_reaches_one_user_or_everyone() {
    let s = TestServer::default().await;
    let mut a = s.client("a", Role::Player, "w").await;
    let mut b = s.client("b", Role::Player, "w").await;

    let body = json!({"userId": "a", "level": "warning", "title": "Careful", "message": "Low HP"})
        .to_string();
    let r = http(s.addr, "POST", "/notify", Some(ADMIN), Some(&body)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["recipients"], 1);
    let n = a.event("notification").await;
    assert_eq!(
        (
            n["level"].as_str(),
            n["title"].as_str(),
            n["message"].as_str()
        ),
        (Some("warning"), Some("Careful"), Some("Low HP"))
    );
    assert!(b.try_event("notification", QUIET).await.is_none());

    let body = json!({"level": "info", "title": "All", "message": "Session starts"}).to_string();
    let r = http(s.addr, "POST", "/notify", Some(ADMIN), Some(&body)).await;
    assert_eq!(r.status, 200);
    assert_eq!(a.event("notification").await["message"], "Session starts");
    assert_eq!(b.event("notification").await["message"], "Session starts");

    let bad = [
        ("nope", 400, None),
        (r#"{"title": "t", "message": "m"}"#, 422, Some("level")),
        (
            r#"{"level": "loud", "title": "t", "message": "m"}"#,
            422,
            Some("level"),
        ),
        (r#"{"level": "info", "message": "m"}"#, 422, Some("title")),
        (
            r#"{"level": "info", "title": "t", "message": ""}"#,
            422,
            Some("message"),
        ),
        (
            r#"{"level": "info", "title": "t", "message": "m", "userId": 3}"#,
            422,
            Some("userId"),
        ),
    ];
    for (body, status, field) in bad {
        let r = http(s.addr, "POST", "/notify", Some(ADMIN), Some(body)).await;
        assert_eq!(r.status, status, "{body}: {}", r.body);
        if let Some(f) = field {
            assert_eq!(r.json()["field"], f, "{body}");
        }
    }
    s.stop().await;
}

#[tokio::test]
async fn post_state_update_patches_versions_and_pushes() {
    let s = TestServer::default().await;
    let mut sub = s.client("u1", Role::Player, "w1").await;
    let mut not_sub = s.client("u2", Role::Player, "w1").await;

    let id = sub
        .emit_with_ack("state:subscribe", json!({"scope": "world"}))
        .await;
    let snap = sub.ack(id).await;
    assert_eq!(
        (&snap["scope"], &snap["version"], &snap["doc"]),
        (&json!("world"), &json!(0), &json!({}))
    );

    let body = json!({"world": "w1", "scope": "world", "patch": {"combat": {"round": 1}, "scene": "Ruins"}})
        .to_string();
    let r = http(s.addr, "POST", "/state/update", Some(ADMIN), Some(&body)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json(),
        json!({"world": "w1", "scope": "world", "base": 0, "version": 1, "recipients": 1,
        "doc": {"combat": {"round": 1}, "scene": "Ruins"}})
    );
    let p = sub.event("state:patch").await;
    assert_eq!(
        p,
        json!({"scope": "world", "base": 0, "version": 1, "patch": {"combat": {"round": 1}, "scene": "Ruins"}})
    );
    assert!(not_sub.try_event("state:patch", QUIET).await.is_none());

    let body = json!({"world": "w1", "scope": "world", "patch": {"combat": {"round": 2}, "scene": null}, "baseVersion": 1}).to_string();
    let r = http(s.addr, "POST", "/state/update", Some(ADMIN), Some(&body)).await;
    assert_eq!(r.json()["doc"], json!({"combat": {"round": 2}}));
    assert_eq!(sub.event("state:patch").await["version"], 2);

    let body = json!({"world": "w1", "scope": "world", "patch": {}, "base": 1}).to_string();
    let r = http(s.addr, "POST", "/state/update", Some(ADMIN), Some(&body)).await;
    assert_eq!(r.status, 409);
    assert_eq!(
        (
            r.json()["code"].as_str(),
            r.json()["version"].as_u64(),
            r.json()["currentVersion"].as_u64()
        ),
        (Some("CONFLICT"), Some(2), Some(2))
    );
    assert_eq!(r.json()["doc"], json!({"combat": {"round": 2}}));

    let bad = [
        ("{", 400, None),
        (r#"{"patch": {}}"#, 422, Some("scope")),
        (r#"{"scope": "g"}"#, 422, Some("patch")),
        (r#"{"scope": "g", "patch": 3}"#, 422, Some("patch")),
        (
            r#"{"scope": "g", "patch": {}, "baseVersion": -1}"#,
            422,
            Some("baseVersion"),
        ),
        (
            r#"{"scope": "g", "patch": {}, "base": "1"}"#,
            422,
            Some("base"),
        ),
        (
            r#"{"scope": "g", "patch": {}, "push": 1}"#,
            422,
            Some("push"),
        ),
    ];
    for (body, status, field) in bad {
        let r = http(s.addr, "POST", "/state/update", Some(ADMIN), Some(body)).await;
        assert_eq!(r.status, status, "{body}: {}", r.body);
        if let Some(f) = field {
            assert_eq!(r.json()["field"], f, "{body}");
        }
    }

    // Scopes of other users cannot be subscribed to.
    not_sub
        .emit("state:subscribe", json!({"scope": "user:u1"}))
        .await;
    let e = not_sub.event("error").await;
    assert_eq!(
        (e["code"].as_str(), e["field"].as_str()),
        (Some("FORBIDDEN"), Some("scope"))
    );
    s.stop().await;
}

#[tokio::test]
async fn healthz_metrics_and_static_files() {
    let s = TestServer::default().await;
    let mut c = s.client("u1", Role::Player, "w").await;
    c.emit("query", json!({"content": "hi", "request_id": "m1"}))
        .await;
    c.event("query_response").await;
    c.emit("nope", json!({})).await;
    c.event("error").await;

    let h = http(s.addr, "GET", "/healthz", None, None).await;
    assert_eq!(h.status, 200);
    assert_eq!(h.json()["status"], "ok");
    assert_eq!(h.json()["connections"], 1);

    let m = http(s.addr, "GET", "/metrics", None, None).await;
    assert_eq!(m.status, 200);
    assert!(m
        .headers
        .to_ascii_lowercase()
        .contains("content-type: text/plain; version=0.0.4"));
    for needle in [
        "frinny_connections 1",
        "frinny_events_in_total{event=\"query\"} 1",
        "frinny_events_in_total{event=\"_unknown\"} 1",
        "frinny_events_out_total{event=\"query_response\"} 1",
        "frinny_events_out_total{event=\"typing_status\"} 2",
        "frinny_errors_total{code=\"INVALID_EVENT\"} 1",
        "frinny_rate_limited_total 0",
        "frinny_reply_latency_seconds_count 1",
        "# TYPE frinny_reply_latency_seconds histogram",
    ] {
        assert!(m.body.contains(needle), "missing {needle}:\n{}", m.body);
    }

    let page = http(s.addr, "GET", "/", None, None).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Frinny"), "{}", page.body);
    let js = http(s.addr, "GET", "/app.js", None, None).await;
    assert_eq!(js.status, 200);
    assert!(js.headers.to_ascii_lowercase().contains("javascript"));
    let entry = http(s.addr, "GET", "/js/index.js", None, None).await;
    assert_eq!(entry.status, 200, "the package entry is served beside /pkg");
    assert!(
        entry.body.contains("../pkg/frinny_agent.js"),
        "{}",
        entry.body
    );
    let missing = http(s.addr, "GET", "/pkg/definitely-missing.js", None, None).await;
    assert_eq!(missing.status, 404);
    s.stop().await;
}

#[tokio::test]
async fn shutdown_tells_clients_and_finishes() {
    let s = TestServer::default().await;
    let mut c = s.client("u1", Role::Player, "w").await;
    let addr = s.addr;
    let stopping = tokio::spawn(s.stop());
    let notice = c.event("server_shutdown").await;
    assert_eq!(notice["reason"], "server shutting down");
    let rest = c.collect_for(WAIT).await;
    assert!(rest.contains(&Incoming::Disconnected), "{rest:?}");
    tokio::time::timeout(WAIT * 2, stopping)
        .await
        .expect("shutdown bounded")
        .unwrap();
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "listener closed"
    );
}
