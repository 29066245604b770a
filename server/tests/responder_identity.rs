//! A responder (the seam where a real AI backend plugs in) sees the
//! authenticated user, never a `userId` the client wrote into its payload:
//! the old backend's impersonation flaw must not come back through it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{Incoming, SioClient};
use frinny_server::auth::Role;
use frinny_server::config::Config;
use frinny_server::responder::{Reply, ReplyFuture, Request, Responder};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Records every request it answers.
#[derive(Default)]
struct Recording(Mutex<Vec<Request>>);

impl Responder for Recording {
    fn respond(&self, request: Request) -> ReplyFuture<'_> {
        self.0.lock().unwrap().push(request);
        Box::pin(async {
            Ok(Reply {
                content: "ok".into(),
                demo: true,
            })
        })
    }
}

#[tokio::test]
async fn a_spoofed_user_id_in_the_payload_never_reaches_the_responder() {
    let recording = Arc::new(Recording::default());
    let server = frinny_server::start(Config::for_tests(false), Some(recording.clone()))
        .await
        .unwrap();
    let addr = server.local_addr();
    let token = server
        .app()
        .auth
        .issue("alice", Role::Player, "w", 600)
        .unwrap();
    let mut c = SioClient::connect(addr, Some(json!({ "token": token })), "")
        .await
        .unwrap();
    c.event("connection_established").await;
    c.emit(
        "query",
        json!({"content": "hi", "request_id": "r1", "userId": "the-gm"}),
    )
    .await;
    let reply = c.event("query_response").await;
    assert_eq!(reply["request_id"], "r1");
    let seen = recording.0.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].identity.user_id, "alice");
    assert_eq!(
        seen[0].payload["userId"],
        Value::from("alice"),
        "the payload's userId is the authenticated one"
    );
    // Nothing else arrived for anyone else's name.
    while let Some(p) = c.next(Duration::from_millis(50)).await {
        assert!(
            !matches!(p, Incoming::Event(ref n, _) if n == "error"),
            "{p:?}"
        );
    }
    tokio::time::timeout(Duration::from_secs(10), server.shutdown())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_socket_does_not_outlive_its_token() {
    let server = frinny_server::start(Config::for_tests(false), None)
        .await
        .unwrap();
    let addr = server.local_addr();
    // Valid for one second.
    let token = server
        .app()
        .auth
        .issue("bob", Role::Player, "w", 1)
        .unwrap();
    let mut c = SioClient::connect(addr, Some(json!({ "token": token })), "")
        .await
        .unwrap();
    c.event("connection_established").await;
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    c.emit(
        "query",
        json!({"content": "still there?", "request_id": "r2"}),
    )
    .await;
    let mut saw_error = false;
    let mut disconnected = false;
    while let Some(p) = c.next(Duration::from_secs(2)).await {
        match p {
            Incoming::Event(name, body) if name == "error" => {
                assert_eq!(body["code"], "TOKEN_EXPIRED");
                assert_eq!(body["request_id"], "r2");
                saw_error = true;
            }
            Incoming::Event(name, _) => {
                assert_ne!(name, "query_response", "answered on an expired token")
            }
            Incoming::Disconnected => {
                disconnected = true;
                break;
            }
            Incoming::Ack(..) | Incoming::BinaryAck(..) => {}
        }
    }
    assert!(
        saw_error && disconnected,
        "error {saw_error}, disconnected {disconnected}"
    );
    tokio::time::timeout(Duration::from_secs(10), server.shutdown())
        .await
        .unwrap();
}
