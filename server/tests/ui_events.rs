//! The events of the Phase 2 UI: `combat_update` relayed by a GM's client,
//! `suggestion` after a combat turn, and `suggestion_feedback` acked.
// Test code: panicking on a broken expectation is the point.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::TestServer;
use frinny_server::auth::Role;
use serde_json::json;
use std::time::Duration;

const QUIET: Duration = Duration::from_millis(300);

#[tokio::test]
async fn a_gm_relays_combat_updates_to_the_table_and_a_bad_one_is_refused() {
    let s = TestServer::default().await;
    let mut gm = s.client("gm", Role::Gm, "w1").await;
    let mut p1 = s.client("p1", Role::Player, "w1").await;
    let update = json!({
        "combatId": "c1", "round": 2, "turn": 1,
        "combatant": {"name": "Valeros", "actorId": "a1"},
        "changes": [{"name": "Goblin", "hp": {"value": 3, "max": 12}, "conditions": ["frightened 1"]}],
    });
    let id = gm
        .emit_with_ack(
            "broadcast",
            json!({"event": "combat_update", "payload": update}),
        )
        .await;
    assert_eq!(
        gm.ack(id).await,
        json!({"ok": true, "event": "combat_update", "recipients": 1})
    );
    let got = p1.event("combat_update").await;
    assert_eq!(got["round"], 2);
    assert_eq!(got["combatant"]["name"], "Valeros");
    assert_eq!(got["changes"][0]["hp"]["value"], 3);

    let id = gm
        .emit_with_ack(
            "broadcast",
            json!({"event": "combat_update", "payload": {"combatId": "c1", "round": 2, "turn": 1}}),
        )
        .await;
    let ack = gm.ack(id).await;
    assert_eq!(ack["code"], "INVALID_PAYLOAD", "{ack}");
    assert!(p1.try_event("combat_update", QUIET).await.is_none());

    // A player may not relay it.
    let id = p1
        .emit_with_ack(
            "broadcast",
            json!({"event": "combat_update", "payload": update}),
        )
        .await;
    assert_eq!(p1.ack(id).await["code"], "FORBIDDEN");
    s.stop().await;
}

#[tokio::test]
async fn suggestion_feedback_is_acked_and_checked() {
    let s = TestServer::default().await;
    let mut c = s.client("u1", Role::Player, "w").await;
    let id = c
        .emit_with_ack(
            "suggestion_feedback",
            json!({"id": "turn-1", "accepted": true, "action": "stride"}),
        )
        .await;
    assert_eq!(c.ack(id).await, json!({"received": true, "id": "turn-1"}));
    // Fire and forget: no error comes back.
    c.emit("suggestion_feedback", json!({"id": 7, "accepted": false}))
        .await;
    assert!(c.try_event("error", QUIET).await.is_none());
    // A malformed one is refused, naming the field.
    c.emit("suggestion_feedback", json!({"id": "x"})).await;
    let e = c.event("error").await;
    assert_eq!(e["code"], "INVALID_PAYLOAD");
    assert_eq!(e["field"], "accepted");
    s.stop().await;
}

#[tokio::test]
async fn a_combat_turn_is_followed_by_a_suggestion_for_the_acting_combatant() {
    let s = TestServer::default().await;
    let mut c = s.client("u1", Role::Player, "w").await;
    c.emit(
        "combat_turn",
        json!({"request_id": "t1", "actorId": "a1", "combatant": {"name": "Kyra"}}),
    )
    .await;
    let reply = c.event("combat_turn_response").await;
    assert_eq!(reply["request_id"], "t1");
    let suggestion = c.event("suggestion").await;
    assert_eq!(suggestion["id"], "turn-t1");
    assert_eq!(suggestion["actorId"], "a1");
    assert!(suggestion["text"].as_str().unwrap().starts_with("Kyra:"));
    assert_eq!(
        suggestion["actions"][0],
        json!({"label": "Raise a Shield", "value": "raise-shield"})
    );
    s.stop().await;
}
