//! The state protocol against a real server: subscribe and snapshots,
//! compare-and-set updates, conflicts, permissions, history catch-up versus
//! snapshot, the size limit, unsubscribe, and the HTTP path.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use frinny_server::auth::Role;
use frinny_server::Config;
use serde_json::{json, Value};
use std::time::Duration;

const QUIET: Duration = Duration::from_millis(300);

async fn call(c: &mut SioClient, event: &str, data: Value) -> Value {
    let id = c.emit_with_ack(event, data).await;
    c.ack(id).await
}

#[tokio::test]
async fn subscribe_update_ack_push_duplicate_and_conflict() {
    let s = TestServer::default().await;
    let mut gm = s.client("g", Role::Gm, "w1").await;
    let mut p1 = s.client("p1", Role::Player, "w1").await;
    let mut far = s.client("p3", Role::Player, "w2").await;

    let snap = call(&mut p1, "state:subscribe", json!({"scope": "world"})).await;
    assert_eq!(
        (snap["version"].as_u64(), &snap["doc"]),
        (Some(0), &json!({}))
    );
    assert!(snap["epoch"].is_string());
    assert!(snap.get("patches").is_none());
    call(&mut gm, "state:subscribe", json!({"scope": "world"})).await;
    call(&mut far, "state:subscribe", json!({"scope": "world"})).await;

    let ack = call(
        &mut gm,
        "state:update",
        json!({"scope": "world", "base": 0, "patch": {"scene": "Ruins", "round": 1}, "id": "g-1-0"}),
    )
    .await;
    assert_eq!(ack, json!({"scope": "world", "base": 0, "version": 1}));
    let push =
        json!({"scope": "world", "base": 0, "version": 1, "patch": {"scene": "Ruins", "round": 1}});
    assert_eq!(p1.event("state:patch").await, push);
    assert_eq!(
        gm.event("state:patch").await,
        push,
        "the writer hears its own patch too"
    );
    assert!(
        far.try_event("state:patch", QUIET).await.is_none(),
        "another world's `world` is another document"
    );

    // A re-sent update (its ack was lost) is acknowledged again, not applied twice.
    let again = call(
        &mut gm,
        "state:update",
        json!({"scope": "world", "base": 0, "patch": {"scene": "Ruins", "round": 1}, "id": "g-1-0"}),
    )
    .await;
    assert_eq!(
        again,
        json!({"scope": "world", "base": 0, "version": 1, "duplicate": true})
    );
    assert!(p1.try_event("state:patch", QUIET).await.is_none());

    // A stale base is refused with the server's document, in the ack only.
    let refused = call(
        &mut gm,
        "state:update",
        json!({"scope": "world", "base": 0, "patch": {"round": 9}, "id": "g-2-0"}),
    )
    .await;
    assert_eq!(refused["code"], "CONFLICT");
    assert_eq!(refused["version"], 1);
    assert_eq!(refused["doc"], json!({"scene": "Ruins", "round": 1}));
    assert!(gm.try_event("error", QUIET).await.is_none());

    let snap = call(&mut far, "state:subscribe", json!({"scope": "world"})).await;
    assert_eq!(
        (snap["version"].as_u64(), &snap["doc"]),
        (Some(0), &json!({}))
    );

    // Unsubscribed: no more pushes.
    assert_eq!(
        call(&mut p1, "state:unsubscribe", json!({"scope": "world"})).await,
        json!({"scope": "world"})
    );
    call(
        &mut gm,
        "state:update",
        json!({"scope": "world", "base": 1, "patch": {"round": 2}}),
    )
    .await;
    assert_eq!(gm.event("state:patch").await["version"], 2);
    assert!(p1.try_event("state:patch", QUIET).await.is_none());
    s.stop().await;
}

#[tokio::test]
async fn permissions_per_scope() {
    let s = TestServer::default().await;
    let mut gm = s.client("g", Role::Gm, "w1").await;
    let mut p1 = s.client("p1", Role::Player, "w1").await;

    let write = |scope: &str| json!({"scope": scope, "base": 0, "patch": {"x": 1}});
    for scope in ["world", "combat:c1", "user:p2", "notes"] {
        let r = call(&mut p1, "state:update", write(scope)).await;
        assert_eq!(
            (r["code"].as_str(), r["field"].as_str()),
            (Some("FORBIDDEN"), Some("scope")),
            "{scope}"
        );
    }
    for scope in ["user:p2", "notes"] {
        let r = call(&mut p1, "state:subscribe", json!({"scope": scope})).await;
        assert_eq!(r["code"], "FORBIDDEN", "{scope}");
    }
    for scope in ["world", "combat:c1", "user:p1"] {
        let r = call(&mut p1, "state:subscribe", json!({"scope": scope})).await;
        assert_eq!(r["version"], 0, "{scope}: {r}");
    }
    assert_eq!(
        call(&mut p1, "state:update", write("user:p1")).await["version"],
        1
    );
    // The GM reads and writes everything, including a player's scope.
    let r = call(&mut gm, "state:subscribe", json!({"scope": "user:p1"})).await;
    assert_eq!(r["doc"], json!({"x": 1}));
    for scope in ["world", "combat:c1", "notes"] {
        let r = call(&mut gm, "state:update", write(scope)).await;
        assert_eq!(r["version"], 1, "{scope}: {r}");
    }
    // Malformed updates are named.
    let r = call(
        &mut gm,
        "state:update",
        json!({"scope": "world", "base": -1, "patch": {}}),
    )
    .await;
    assert_eq!(
        (r["code"].as_str(), r["field"].as_str()),
        (Some("INVALID_PAYLOAD"), Some("base"))
    );
    let r = call(
        &mut gm,
        "state:update",
        json!({"scope": "world", "base": 1, "patch": [1]}),
    )
    .await;
    assert_eq!(
        (r["code"].as_str(), r["field"].as_str()),
        (Some("INVALID_PAYLOAD"), Some("patch"))
    );
    s.stop().await;
}

#[tokio::test]
async fn catch_up_from_history_or_snapshot_beyond_it() {
    let mut config = Config::for_tests(false);
    config.state_history = 3;
    let s = TestServer::start(config).await;
    let mut gm = s.client("g", Role::Gm, "w1").await;
    let mut p1 = s.client("p1", Role::Player, "w1").await;
    let epoch = call(&mut p1, "state:subscribe", json!({"scope": "world"})).await["epoch"].clone();
    for i in 0..5u64 {
        let r = call(
            &mut gm,
            "state:update",
            json!({"scope": "world", "base": i, "patch": {"n": i, format!("k{i}"): true}}),
        )
        .await;
        assert_eq!(r["version"], i + 1);
    }
    let r = call(
        &mut p1,
        "state:subscribe",
        json!({"scope": "world", "since": 3, "epoch": epoch}),
    )
    .await;
    assert!(r.get("doc").is_none(), "{r}");
    assert_eq!(r["version"], 5);
    assert_eq!(
        r["patches"],
        json!([{"base": 3, "version": 4, "patch": {"n": 3, "k3": true}},
               {"base": 4, "version": 5, "patch": {"n": 4, "k4": true}}])
    );
    let r = call(
        &mut p1,
        "state:subscribe",
        json!({"scope": "world", "since": 5}),
    )
    .await;
    assert_eq!(
        (r["version"].as_u64(), &r["patches"]),
        (Some(5), &json!([]))
    );
    // Beyond the history, another epoch, or ahead of the server: a snapshot.
    for payload in [
        json!({"scope": "world", "since": 1}),
        json!({"scope": "world", "since": 4, "epoch": "not-this-run"}),
        json!({"scope": "world", "since": 99}),
    ] {
        let r = call(&mut p1, "state:subscribe", payload.clone()).await;
        assert!(r.get("patches").is_none(), "{payload}: {r}");
        assert_eq!(r["version"], 5);
        assert_eq!(r["doc"]["n"], 4);
        assert_eq!(r["doc"]["k0"], true);
    }
    s.stop().await;
}

#[tokio::test]
async fn document_size_is_limited_on_both_paths() {
    let mut config = Config::for_tests(false);
    config.state_max_doc_bytes = 100;
    let s = TestServer::start(config).await;
    let mut gm = s.client("g", Role::Gm, "w1").await;
    let ok = call(
        &mut gm,
        "state:update",
        json!({"scope": "world", "base": 0, "patch": {"a": "x"}}),
    )
    .await;
    assert_eq!(ok["version"], 1);
    let big = "y".repeat(120);
    let r = call(
        &mut gm,
        "state:update",
        json!({"scope": "world", "base": 1, "patch": {"b": big}}),
    )
    .await;
    assert_eq!(
        (r["code"].as_str(), r["field"].as_str()),
        (Some("STATE_TOO_LARGE"), Some("patch"))
    );
    let body = json!({"world": "w1", "scope": "world", "patch": {"b": big}}).to_string();
    let r = http(s.addr, "POST", "/state/update", Some(ADMIN), Some(&body)).await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert_eq!(r.json()["code"], "STATE_TOO_LARGE");
    let snap = call(&mut gm, "state:subscribe", json!({"scope": "world"})).await;
    assert_eq!(
        (snap["version"].as_u64(), &snap["doc"]),
        (Some(1), &json!({"a": "x"}))
    );
    s.stop().await;
}

#[tokio::test]
async fn http_updates_share_the_path_and_can_skip_the_push() {
    // Outside --dev a silent write is refused: every change reaches its subscribers.
    let prod = TestServer::default().await;
    let silent = json!({"world": "w1", "scope": "combat:c1", "patch": {"round": 1}, "push": false})
        .to_string();
    let r = http(
        prod.addr,
        "POST",
        "/state/update",
        Some(ADMIN),
        Some(&silent),
    )
    .await;
    assert_eq!((r.status, r.json()["field"].as_str()), (422, Some("push")));
    prod.stop().await;

    let s = TestServer::start(Config::for_tests(true)).await;
    let mut p1 = s.client("p1", Role::Player, "w1").await;
    call(&mut p1, "state:subscribe", json!({"scope": "combat:c1"})).await;
    let silent = json!({"world": "w1", "scope": "combat:c1", "patch": {"round": 1}, "push": false})
        .to_string();
    let r = http(s.addr, "POST", "/state/update", Some(ADMIN), Some(&silent)).await;
    assert_eq!(
        (
            r.status,
            r.json()["version"].as_u64(),
            r.json()["recipients"].as_u64()
        ),
        (200, Some(1), Some(0))
    );
    assert!(p1.try_event("state:patch", QUIET).await.is_none());
    // The next push has base 1 while the subscriber holds 0: a gap it can see.
    let body =
        json!({"world": "w1", "scope": "combat:c1", "patch": {"round": 2}, "base": 1}).to_string();
    let r = http(s.addr, "POST", "/state/update", Some(ADMIN), Some(&body)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let p = p1.event("state:patch").await;
    assert_eq!(
        (p["base"].as_u64(), p["version"].as_u64()),
        (Some(1), Some(2))
    );
    let r = call(
        &mut p1,
        "state:subscribe",
        json!({"scope": "combat:c1", "since": 0}),
    )
    .await;
    assert_eq!(r["patches"].as_array().map(Vec::len), Some(2));
    // The socket path sees what HTTP wrote, and conflicts with it.
    let mut gm = s.client("g", Role::Gm, "w1").await;
    let r = call(
        &mut gm,
        "state:update",
        json!({"scope": "combat:c1", "base": 1, "patch": {"round": 3}}),
    )
    .await;
    assert_eq!(
        (r["code"].as_str(), r["version"].as_u64()),
        (Some("CONFLICT"), Some(2))
    );
    s.stop().await;
}

#[tokio::test]
async fn a_connection_follows_a_bounded_number_of_scopes() {
    let s = TestServer::default().await;
    let mut p = s.client("p", Role::Player, "w").await;
    let max = frinny_server::state_sync::MAX_SCOPES_PER_SOCKET;
    for i in 0..max {
        let r = call(
            &mut p,
            "state:subscribe",
            json!({"scope": format!("combat:c{i}")}),
        )
        .await;
        assert!(r.get("code").is_none(), "{r}");
    }
    let refused = call(
        &mut p,
        "state:subscribe",
        json!({"scope": "combat:one-too-many"}),
    )
    .await;
    assert_eq!(refused["code"], "INVALID_PAYLOAD");
    // Already followed: fine. After an unsubscribe: room again.
    let again = call(&mut p, "state:subscribe", json!({"scope": "combat:c0"})).await;
    assert!(again.get("code").is_none(), "{again}");
    call(&mut p, "state:unsubscribe", json!({"scope": "combat:c1"})).await;
    let next = call(
        &mut p,
        "state:subscribe",
        json!({"scope": "combat:one-too-many"}),
    )
    .await;
    assert!(next.get("code").is_none(), "{next}");
    s.stop().await;
}
