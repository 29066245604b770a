//! The connection limit holds under concurrent handshakes, and refused
//! handshakes give their slot back.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{SioClient, TestServer};
use frinny_server::auth::Role;
use frinny_server::config::Config;
use serde_json::json;

#[tokio::test]
async fn concurrent_connects_cannot_overshoot_the_limit() {
    let mut config = Config::for_tests(false);
    config.max_connections = 5;
    let s = TestServer::start(config).await;
    let attempts = (0..20).map(|i| {
        let token = s.token(&format!("u{i}"), Role::Player, "w");
        let addr = s.addr;
        tokio::spawn(
            async move { SioClient::connect(addr, Some(json!({ "token": token })), "").await },
        )
    });
    let mut joined = Vec::new();
    for a in attempts {
        if let Ok(client) = a.await.unwrap() {
            joined.push(client);
        }
    }
    assert_eq!(joined.len(), 5);
    assert_eq!(s.server.app().metrics.connections(), 5);
    // A refused (forged) handshake does not keep a slot.
    for c in joined.drain(..) {
        c.close().await;
    }
    for _ in 0..100 {
        if s.server.app().metrics.connections() == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        SioClient::connect(s.addr, Some(json!({ "token": "forged" })), "")
            .await
            .is_err()
    );
    assert_eq!(s.server.app().metrics.connections(), 0);
    s.stop().await;
}
