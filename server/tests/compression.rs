//! Compressed `state:subscribe` snapshots against a real server: above
//! `--compress-threshold-bytes` and asked for with `compress: "deflate"`,
//! the snapshot comes as a BINARY_ACK whose attachment inflates to the
//! document; below it, without the ask, or with the flag at 0, it is plain
//! JSON. Catch-up replies (patches) are never compressed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use flate2::read::ZlibDecoder;
use frinny_server::auth::Role;
use frinny_server::Config;
use serde_json::{json, Value};
use std::io::Read;

/// A world document of about `actors` KiB (each actor ~1 KiB of JSON).
fn world(actors: usize) -> Value {
    let actors: serde_json::Map<String, Value> = (0..actors)
        .map(|i| {
            (
                format!("actor{i:04}"),
                json!({
                    "name": format!("Goblin warrior {i}"),
                    "type": "npc",
                    "system": {"attributes": {"hp": {"value": 15 + i % 7, "max": 22}, "ac": {"value": 16}},
                               "abilities": {"str": 2, "dex": 3, "con": 1, "int": 0, "wis": -1, "cha": 1}},
                    "items": (0..6).map(|k| json!({"name": format!("Item {k}"), "type": "weapon", "damage": "1d6"})).collect::<Vec<_>>(),
                    "flags": {"core": {"sheetClass": ""}, "frinny": {"notes": "lurks near the ruins"}},
                }),
            )
        })
        .collect();
    json!({ "actors": actors, "scene": "Ruins" })
}

async fn started(threshold: usize) -> TestServer {
    let mut config = Config::for_tests(false);
    config.compress_threshold_bytes = threshold;
    TestServer::start(config).await
}

/// Puts `doc` as world `w1`'s `world` scope.
fn seed(s: &TestServer, doc: &Value) {
    s.server
        .app()
        .store
        .apply("w1", "world", doc, None, None)
        .unwrap();
}

fn inflate(bytes: &[u8]) -> Value {
    let mut text = String::new();
    ZlibDecoder::new(bytes).read_to_string(&mut text).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn a_large_snapshot_asked_compressed_comes_deflated_as_an_attachment() {
    let s = started(16 * 1024).await;
    let doc = world(150);
    let size = doc.to_string().len();
    assert!(size > 64 * 1024, "{size}");
    seed(&s, &doc);
    let mut c = s.client("p1", Role::Player, "w1").await;
    let id = c
        .emit_with_ack(
            "state:subscribe",
            json!({"scope": "world", "compress": "deflate"}),
        )
        .await;
    let (reply, attachments) = c.ack_with_attachments(id).await;
    assert_eq!(reply["compressed"], "deflate");
    assert_eq!(reply["doc"], json!({"_placeholder": true, "num": 0}));
    assert_eq!(reply["version"], 1);
    assert!(reply["epoch"].is_string());
    assert_eq!(attachments.len(), 1);
    assert!(
        attachments[0].len() * 5 < size,
        "{} of {size}",
        attachments[0].len()
    );
    assert_eq!(inflate(&attachments[0]), doc);
    s.stop().await;
}

#[tokio::test]
async fn below_the_threshold_or_without_the_ask_the_snapshot_is_plain_json() {
    let s = started(16 * 1024).await;
    let doc = world(40);
    seed(&s, &doc);
    let mut c = s.client("p1", Role::Player, "w1").await;
    // Without the capability: plain, however large.
    let id = c
        .emit_with_ack("state:subscribe", json!({"scope": "world"}))
        .await;
    let (reply, attachments) = c.ack_with_attachments(id).await;
    assert!(attachments.is_empty());
    assert!(reply.get("compressed").is_none());
    assert_eq!(reply["doc"], doc);
    // An encoding the server does not speak: plain.
    let id = c
        .emit_with_ack(
            "state:subscribe",
            json!({"scope": "world", "compress": "br"}),
        )
        .await;
    let (reply, attachments) = c.ack_with_attachments(id).await;
    assert!(attachments.is_empty());
    assert_eq!(reply["doc"], doc);
    // Below the threshold: plain.
    let id = c
        .emit_with_ack(
            "state:subscribe",
            json!({"scope": "user:p1", "compress": "deflate"}),
        )
        .await;
    let (reply, attachments) = c.ack_with_attachments(id).await;
    assert!(attachments.is_empty());
    assert_eq!(reply["doc"], json!({}));
    // A catch-up (patches) is never compressed.
    let id = c
        .emit_with_ack(
            "state:subscribe",
            json!({"scope": "world", "since": 1, "epoch": reply["epoch"], "compress": "deflate"}),
        )
        .await;
    let (reply, attachments) = c.ack_with_attachments(id).await;
    assert!(attachments.is_empty());
    assert_eq!(reply["patches"], json!([]));
    // A capability that is not a string is refused like any bad field.
    let id = c
        .emit_with_ack("state:subscribe", json!({"scope": "world", "compress": 1}))
        .await;
    let (reply, _) = c.ack_with_attachments(id).await;
    assert_eq!(reply["code"], "INVALID_PAYLOAD");
    s.stop().await;
}

#[tokio::test]
async fn a_threshold_of_zero_turns_compression_off() {
    let s = started(0).await;
    let doc = world(150);
    seed(&s, &doc);
    let mut c = s.client("p1", Role::Player, "w1").await;
    let id = c
        .emit_with_ack(
            "state:subscribe",
            json!({"scope": "world", "compress": "deflate"}),
        )
        .await;
    let (reply, attachments) = c.ack_with_attachments(id).await;
    assert!(attachments.is_empty());
    assert_eq!(reply["doc"], doc);
    s.stop().await;
}
