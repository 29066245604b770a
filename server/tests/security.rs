//! The limits of issue 16: connections per user, Engine.IO handshakes before
//! a join (per address and pending), sessions that never join, one
//! `RATE_LIMITED` per window, and clear refusals of bad HTTP bodies.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{http, Incoming, SioClient, TestServer, ADMIN};
use frinny_server::auth::Role;
use frinny_server::config::Config;
use serde_json::{json, Value};
use std::time::Duration;

/// Opens an Engine.IO session by long-polling and never joins it.
async fn polling_handshake(s: &TestServer) -> common::HttpResponse {
    http(
        s.addr,
        "GET",
        "/socket.io/?EIO=4&transport=polling",
        None,
        None,
    )
    .await
}

async fn until(mut ok: impl FnMut() -> bool) {
    for _ in 0..250 {
        if ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("condition not met within 5 s");
}

#[tokio::test]
async fn a_user_past_the_cap_is_refused_with_too_many_connections() {
    let mut config = Config::for_tests(false);
    config.max_connections_per_user = 3;
    let s = TestServer::start(config).await;
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(s.client("u1", Role::Player, "w").await);
    }
    let token = s.token("u1", Role::Player, "w");
    let refused = SioClient::connect(s.addr, Some(json!({ "token": token })), "")
        .await
        .err()
        .unwrap();
    assert!(refused.starts_with("TOO_MANY_CONNECTIONS"), "{refused}");
    // The cap is per user (and per world): others still join.
    let _other = s.client("u2", Role::Player, "w").await;
    let _elsewhere = s.client("u1", Role::Player, "w2").await;
    assert_eq!(s.server.app().user_connections.count("w", "u1"), 3);
    // A refusal holds no slot, and a closed connection gives its slot back.
    open.pop().unwrap().close().await;
    until(|| s.server.app().user_connections.count("w", "u1") == 2).await;
    let _again = s.client("u1", Role::Player, "w").await;
    let metrics = http(s.addr, "GET", "/metrics", None, None).await.body;
    assert!(
        metrics.contains("frinny_errors_total{code=\"TOO_MANY_CONNECTIONS\"} 1"),
        "{metrics}"
    );
    s.stop().await;
}

#[tokio::test]
async fn handshakes_that_never_join_are_capped_then_closed() {
    let mut config = Config::for_tests(false);
    config.max_pending_sessions = 4;
    config.join_timeout_ms = 600;
    let s = TestServer::start(config).await;
    for _ in 0..4 {
        let r = polling_handshake(&s).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.body.starts_with('0'), "an open packet: {}", r.body);
    }
    assert_eq!(s.server.app().handshakes.pending(), 4);
    let busy = polling_handshake(&s).await;
    assert_eq!(busy.status, 503, "{}", busy.body);
    assert_eq!(busy.json()["code"], "SERVER_BUSY");
    // A WebSocket handshake is refused the same way, before any session.
    let token = s.token("u1", Role::Player, "w");
    assert!(
        SioClient::connect(s.addr, Some(json!({ "token": token.clone() })), "")
            .await
            .is_err()
    );
    // Past the join timeout the idle sessions are closed and their slots free.
    until(|| s.server.app().handshakes.pending() == 0).await;
    let mut c = SioClient::connect(s.addr, Some(json!({ "token": token })), "")
        .await
        .unwrap();
    assert_eq!(c.event("connection_established").await["userId"], "u1");
    // A joined session holds no pending slot, whatever its age.
    assert_eq!(s.server.app().handshakes.pending(), 0);
    tokio::time::sleep(Duration::from_millis(900)).await;
    let id = c
        .emit_with_ack("state:subscribe", json!({"scope": "world"}))
        .await;
    assert_eq!(
        c.ack(id).await["version"],
        0,
        "still connected after the join timeout"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_session_whose_connect_was_refused_is_closed_after_the_join_timeout() {
    let mut config = Config::for_tests(false);
    config.join_timeout_ms = 400;
    let s = TestServer::start(config).await;
    assert!(
        SioClient::connect(s.addr, Some(json!({ "token": "forged" })), "")
            .await
            .is_err()
    );
    // The refused session held a slot until the server closed it.
    until(|| s.server.app().handshakes.pending() == 0).await;
    s.stop().await;
}

#[tokio::test]
async fn handshakes_from_one_address_are_rate_limited() {
    let mut config = Config::for_tests(false);
    config.handshake_rate_per_ip = 1;
    config.handshake_burst_per_ip = 3;
    let s = TestServer::start(config).await;
    for _ in 0..3 {
        assert_eq!(polling_handshake(&s).await.status, 200);
    }
    let r = polling_handshake(&s).await;
    assert_eq!(r.status, 429, "{}", r.body);
    let body = r.json();
    assert_eq!(body["code"], "RATE_LIMITED");
    assert!(body["retryAfterMs"].as_u64().unwrap() >= 1);
    assert!(
        r.headers.to_ascii_lowercase().contains("retry-after:"),
        "{}",
        r.headers
    );
    // Requests of existing sessions and plain HTTP are not handshakes.
    assert_eq!(
        http(s.addr, "GET", "/healthz", None, None).await.status,
        200
    );
    s.stop().await;
}

#[tokio::test]
async fn rate_limited_is_sent_once_per_window() {
    let mut config = Config::for_tests(false);
    config.rate_per_connection = 2;
    config.burst_per_connection = 3;
    let s = TestServer::start(config).await;
    let mut c = s.client("u1", Role::Player, "w").await;
    for i in 0..20 {
        c.emit(
            "feedback",
            json!({"type": "up", "request_id": format!("f{i}")}),
        )
        .await;
    }
    let got = c.collect_for(Duration::from_millis(600)).await;
    let named = |want: &str| -> Vec<Value> {
        got.iter()
            .filter_map(|i| match i {
                Incoming::Event(n, v) if n == want => Some(v.clone()),
                _ => None,
            })
            .collect()
    };
    assert_eq!(named("feedback_response").len(), 3, "the burst");
    let errors = named("error");
    assert_eq!(
        errors.len(),
        1,
        "one notice for 17 dropped events: {errors:?}"
    );
    assert_eq!(errors[0]["code"], "RATE_LIMITED");
    assert_eq!(errors[0]["request_id"], "f3", "the first dropped one");
    let metrics = http(s.addr, "GET", "/metrics", None, None).await.body;
    assert!(
        metrics.contains("frinny_rate_limited_total 17"),
        "{metrics}"
    );
    assert!(
        metrics.contains("frinny_errors_total{code=\"RATE_LIMITED\"} 1"),
        "{metrics}"
    );
    // After the window, the next dropped event is answered again, and the
    // bucket has refilled enough for one event.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let ok = c
        .emit_with_ack("feedback", json!({"type": "up", "request_id": "later"}))
        .await;
    assert_eq!(c.ack(ok).await["request_id"], "later");
    for i in 0..5 {
        c.emit(
            "feedback",
            json!({"type": "up", "request_id": format!("g{i}")}),
        )
        .await;
    }
    let again = c.events_named("error", Duration::from_millis(300)).await;
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(again[0]["code"], "RATE_LIMITED");
    s.stop().await;
}

#[tokio::test]
async fn bad_http_bodies_are_refused_clearly_on_every_admin_endpoint() {
    let mut config = Config::for_tests(false);
    config.max_payload_bytes = 1024;
    let s = TestServer::start(config).await;
    let big = format!(r#"{{"event":"x","payload":"{}"}}"#, "a".repeat(4000));
    for path in ["/broadcast", "/notify", "/state/update"] {
        let r = http(s.addr, "POST", path, Some(ADMIN), Some(&big)).await;
        assert_eq!(r.status, 413, "{path}: {}", r.body);
        let body = r.json();
        assert_eq!(body["code"], "PAYLOAD_TOO_LARGE", "{path}");
        assert_eq!(body["limit"], 1024, "{path}");
        assert!(body["error"].as_str().unwrap().contains("1024"), "{path}");

        for (bad, why) in [
            ("{\"event\":", "not valid JSON"),
            ("", "empty"),
            ("   ", "empty"),
            ("[1]", "JSON object"),
        ] {
            let r = http(s.addr, "POST", path, Some(ADMIN), Some(bad)).await;
            assert_eq!(r.status, 400, "{path} {bad:?}: {}", r.body);
            let body = r.json();
            assert_eq!(body["code"], "BAD_JSON", "{path} {bad:?}");
            assert!(
                body["error"].as_str().unwrap().contains(why),
                "{path} {bad:?}: {body}"
            );
        }
        // Without the token nothing is parsed: 401 first.
        let r = http(s.addr, "POST", path, None, Some("{")).await;
        assert_eq!(r.status, 401, "{path}");
    }
    // Invalid UTF-8 inside a string is malformed JSON too.
    let r = http(
        s.addr,
        "POST",
        "/notify",
        Some(ADMIN),
        Some("{\"level\":\"info\",\"title\":\"\u{fffd}"),
    )
    .await;
    assert_eq!(r.status, 400);
    s.stop().await;
}

#[tokio::test]
async fn a_negative_or_fractional_version_is_refused_not_answered_with_a_snapshot() {
    let s = TestServer::default().await;
    let mut c = s.client("u1", Role::Player, "w").await;
    for since in [json!(-1), json!(1.5), json!("3"), json!(1e300)] {
        let id = c
            .emit_with_ack("state:subscribe", json!({"scope": "world", "since": since}))
            .await;
        let reply = c.ack(id).await;
        assert_eq!(reply["code"], "INVALID_PAYLOAD", "since {since}: {reply}");
        assert_eq!(reply["field"], "since", "since {since}");
        assert!(reply.get("doc").is_none(), "no snapshot for since {since}");
    }
    let id = c
        .emit_with_ack(
            "state:update",
            json!({"scope": "user:u1", "base": -1, "patch": {"a": 1}}),
        )
        .await;
    let reply = c.ack(id).await;
    assert_eq!(
        (reply["code"].as_str(), reply["field"].as_str()),
        (Some("INVALID_PAYLOAD"), Some("base"))
    );
    // A proper `since` still catches up.
    let id = c
        .emit_with_ack("state:subscribe", json!({"scope": "world", "since": 0}))
        .await;
    assert_eq!(c.ack(id).await["version"], 0);
    s.stop().await;
}
