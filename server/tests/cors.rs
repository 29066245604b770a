//! Cross-origin access: a page on another origin (a Foundry server, the
//! browser tests' page) may call the HTTP endpoints only where allowed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::TestServer;
use frinny_server::config::Config;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A CORS preflight for `POST /notify` from `origin`; returns the response head.
async fn preflight(addr: SocketAddr, origin: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "OPTIONS /notify HTTP/1.1\r\nHost: {addr}\r\nOrigin: {origin}\r\n\
         Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: authorization, content-type\r\n\
         Connection: close\r\n\r\n"
    );
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut raw),
    )
    .await
    .unwrap()
    .unwrap();
    let raw = String::from_utf8_lossy(&raw).to_ascii_lowercase();
    raw.split("\r\n\r\n").next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn no_cross_origin_access_by_default() {
    let s = TestServer::start(Config::for_tests(false)).await;
    let head = preflight(s.addr, "http://127.0.0.1:30000").await;
    assert!(!head.contains("access-control-allow-origin"), "{head}");
    s.stop().await;
}

#[tokio::test]
async fn listed_origins_only() {
    let mut config = Config::for_tests(false);
    config.allow_origins = vec!["http://127.0.0.1:30000".into()];
    let s = TestServer::start(config).await;
    let head = preflight(s.addr, "http://127.0.0.1:30000").await;
    assert!(
        head.contains("access-control-allow-origin: http://127.0.0.1:30000"),
        "{head}"
    );
    let other = preflight(s.addr, "http://evil.invalid").await;
    assert!(!other.contains("access-control-allow-origin"), "{other}");
    s.stop().await;
}

#[tokio::test]
async fn dev_mode_allows_loopback_pages_only() {
    let s = TestServer::start(Config::for_tests(true)).await;
    let head = preflight(s.addr, "http://127.0.0.1:41234").await;
    assert!(
        head.contains("access-control-allow-origin: http://127.0.0.1:41234"),
        "{head}"
    );
    let other = preflight(s.addr, "https://evil.example").await;
    assert!(!other.contains("access-control-allow-origin"), "{other}");
    s.stop().await;
}

/// `GET /dev/token` with the given Host and Origin; returns the status.
async fn dev_token_status(addr: SocketAddr, host: &str, origin: Option<&str>) -> u16 {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let origin = origin
        .map(|o| format!("Origin: {o}\r\n"))
        .unwrap_or_default();
    let req = format!("GET /dev/token?userId=u&role=gm HTTP/1.1\r\nHost: {host}\r\n{origin}Connection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut raw),
    )
    .await
    .unwrap()
    .unwrap();
    let raw = String::from_utf8_lossy(&raw).to_string();
    raw.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap()
}

#[tokio::test]
async fn dev_tokens_only_for_loopback_pages() {
    let s = TestServer::start(Config::for_tests(true)).await;
    let host = s.addr.to_string();
    assert_eq!(dev_token_status(s.addr, &host, None).await, 200);
    assert_eq!(
        dev_token_status(s.addr, &host, Some("http://localhost:3000")).await,
        200
    );
    // A cross-site page, and a rebinding name pointing at 127.0.0.1.
    assert_eq!(
        dev_token_status(s.addr, &host, Some("https://evil.example")).await,
        403
    );
    assert_eq!(
        dev_token_status(s.addr, "evil.example:5001", None).await,
        403
    );
    s.stop().await;
}
