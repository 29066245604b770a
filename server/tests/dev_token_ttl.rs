//! `GET /dev/token?ttl=secs`: a short-lived token, so the browser tests can
//! watch a token expire and the client reconnect with a fresh one.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{http, Incoming, SioClient, TestServer};
use frinny_server::auth::now_secs;
use frinny_server::config::Config;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn a_dev_token_with_a_ttl_expires_and_the_socket_is_ended() {
    let s = TestServer::start(Config::for_tests(true)).await;
    let r = http(s.addr, "GET", "/dev/token?userId=u1&ttl=1", None, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let t = r.json();
    let expires = t["expiresAt"].as_u64().unwrap();
    assert!(
        expires <= now_secs() + 1,
        "expiresAt {expires} is ttl=1 from now"
    );

    let mut c = SioClient::connect(s.addr, Some(json!({"token": t["token"]})), "")
        .await
        .unwrap();
    c.event("connection_established").await;
    // Whole seconds: two of them are past a one-second expiry.
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    c.emit("query", json!({"content": "late", "request_id": "r1"}))
        .await;
    let err = c.event("error").await;
    assert_eq!(
        (err["code"].as_str(), err["request_id"].as_str()),
        (Some("TOKEN_EXPIRED"), Some("r1"))
    );
    let rest = c.collect_for(Duration::from_secs(2)).await;
    assert!(rest.contains(&Incoming::Disconnected), "{rest:?}");
    s.stop().await;
}

#[tokio::test]
async fn the_ttl_is_bounded() {
    let s = TestServer::start(Config::for_tests(true)).await;
    for bad in ["0", "86401", "-1", "soon"] {
        let r = http(
            s.addr,
            "GET",
            &format!("/dev/token?userId=u1&ttl={bad}"),
            None,
            None,
        )
        .await;
        assert_ne!(r.status, 200, "ttl={bad}: {}", r.body);
    }
    let r = http(s.addr, "GET", "/dev/token?userId=u1&ttl=0", None, None).await;
    assert_eq!((r.status, r.json()["field"].as_str()), (422, Some("ttl")));
    let r = http(s.addr, "GET", "/dev/token?userId=u1&ttl=86400", None, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    s.stop().await;
}
