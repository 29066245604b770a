//! `--parser msgpack`: the server speaks socket.io-msgpack-parser's format
//! through socketioxide's msgpack parser, to a client that writes and reads
//! its frames with the client crate's codec (byte-compatible with the npm
//! parser). Everything above the parser is unchanged: the token join, the
//! Frinny request/reply contract, validation errors, state sync, and, with
//! `--redis`, broadcasts and replies across instances. A malformed frame
//! costs only its own connection; a text-parser client is not served.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use frinny_server::auth::Role;
use frinny_server::config::WireParser;
use frinny_server::Config;
use serde_json::{json, Value};
use std::time::Duration;

const QUIET: Duration = Duration::from_millis(400);

async fn call(c: &mut SioClient, event: &str, data: Value) -> Value {
    let id = c.emit_with_ack(event, data).await;
    c.ack(id).await
}

fn msgpack_config() -> Config {
    let mut c = Config::for_tests(false);
    c.parser = WireParser::Msgpack;
    c
}

#[tokio::test]
async fn a_msgpack_client_joins_requests_syncs_state_and_gets_errors() {
    let s = TestServer::start(msgpack_config()).await;
    // `client` speaks the server's parser and waits for connection_established.
    let mut p1 = s.client("p1", Role::Player, "w1").await;
    assert!(!p1.sid.is_empty());

    // A Frinny request: acked, and the reply event carries the request_id.
    let ack = call(
        &mut p1,
        "query",
        json!({"content": "What does Shield Block do?", "request_id": "r-1",
               "conversation_history": [], "is_public_chat": false}),
    )
    .await;
    assert_eq!(ack["request_id"], "r-1", "{ack}");
    let reply = p1.event("query_response").await;
    assert_eq!(reply["request_id"], "r-1");
    assert!(reply["content"].is_string(), "{reply}");

    // State sync, numbers and nesting through msgpack both ways.
    let mut gm = s.client("g", Role::Gm, "w1").await;
    let snap = call(&mut p1, "state:subscribe", json!({"scope": "world"})).await;
    assert_eq!(snap["version"], 0, "{snap}");
    let ack = call(
        &mut gm,
        "state:update",
        json!({"scope": "world", "base": 0, "patch": {"round": 1, "hp": -3.5, "tags": ["a", {"b": null}]}}),
    )
    .await;
    assert_eq!(ack["version"], 1, "{ack}");
    let push = p1.event("state:patch").await;
    assert_eq!(
        push["patch"],
        json!({"round": 1, "hp": -3.5, "tags": ["a", {"b": null}]})
    );

    // A bad payload is answered with a typed error, as with the text parser.
    let err = call(&mut p1, "query", json!({"request_id": "r-2"})).await;
    assert_eq!(err["code"], "INVALID_PAYLOAD", "{err}");
    assert_eq!(err["request_id"], "r-2");
    p1.close().await;
    gm.close().await;
    s.stop().await;
}

#[tokio::test]
async fn refusals_and_malformed_frames_cost_only_that_connection() {
    let s = TestServer::start(msgpack_config()).await;
    // No token: CONNECT_ERROR, in msgpack.
    let refused = SioClient::connect_msgpack(s.addr, None, "").await;
    assert!(refused.is_err(), "joined without a token");

    // A frame that is not a msgpack packet closes its connection only.
    let mut bad = s.client("p1", Role::Player, "w1").await;
    bad.send_binary(vec![0x92, 0x01, 0x02]).await;
    let after = bad.collect_for(Duration::from_secs(3)).await;
    assert_eq!(after.last(), Some(&Incoming::Disconnected), "{after:?}");

    // A text-parser client is not served by a msgpack server.
    let token = s.token("p2", Role::Player, "w1");
    let text = SioClient::connect(s.addr, Some(json!({ "token": token })), "").await;
    assert!(text.is_err(), "a text CONNECT was accepted");

    // The server still serves msgpack clients.
    let mut ok = s.client("p3", Role::Player, "w1").await;
    let ack = call(
        &mut ok,
        "query",
        json!({"content": "hi", "request_id": "r-3"}),
    )
    .await;
    assert_eq!(ack["request_id"], "r-3", "{ack}");
    ok.close().await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_broadcasts_and_replies_cross_instances_in_msgpack() {
    tokio::time::timeout(Duration::from_secs(30), async {
        let c = TestCluster::start_with(|cfg| cfg.parser = WireParser::Msgpack).await;
        let mut on_a = c.a.client("p1", Role::Player, "w1").await;
        let mut tab_b = c.b.client("p1", Role::Player, "w1").await;

        let body = json!({"event": "notification", "world": "w1",
            "payload": {"level": "info", "title": "Table", "message": "hello table"}})
        .to_string();
        let r = http(c.b.addr, "POST", "/broadcast", Some(ADMIN), Some(&body)).await;
        assert_eq!(r.status, 200, "{}", r.body);
        for client in [&mut on_a, &mut tab_b] {
            let got = client.events_named("notification", QUIET).await;
            assert_eq!(got.len(), 1, "exactly once: {got:?}");
            assert_eq!(got[0]["message"], "hello table");
        }

        // A reply to the user's room reaches their tab on the other instance.
        on_a.emit(
            "query",
            json!({"content": "hi", "request_id": "r-9", "conversation_history": [], "is_public_chat": false}),
        )
        .await;
        for tab in [&mut on_a, &mut tab_b] {
            let replies = tab
                .events_named("query_response", Duration::from_millis(800))
                .await;
            assert_eq!(replies.len(), 1, "exactly once per tab: {replies:?}");
            assert_eq!(replies[0]["request_id"], "r-9");
        }
        c.stop().await;
    })
    .await
    .expect("the test finishes within 30 s");
}
