//! Custom events in headless Chromium and Firefox against the reference
//! server (`frinny-server --dev` on 127.0.0.1:28477, started by `cargo xtask
//! test browser`): a GM's `defineEvents` declares them for the world (a
//! player's is refused with FORBIDDEN), then one manager's `emit` reaches
//! another's `subscribe`, a payload that does not fit is refused with the
//! field named, and the GM's `broadcastEvent` carries a broadcastable one.
//! Each test uses its own world.
#![cfg(target_arch = "wasm32")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod browser_support;

use browser_support::*;
use frinny_agent::web::AgentManager;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const SERVER: &str = ports::reference::HTTP;

/// A manager joined to the reference server as `user` with `role` in `world`.
async fn agent(user: &str, role: &str, world: &str) -> AgentManager {
    let minted = fetch_json(
        "GET",
        &format!("{SERVER}/dev/token?userId={user}&role={role}&world={world}"),
    )
    .await;
    let token = get_str(&minted, "token");
    assert!(!token.is_empty(), "no token: {}", stringify(&minted));
    connected_at(SERVER, &format!(r#""auth":{{"token":"{token}"}}"#)).await
}

const SPECS: &str = r#"[
  {"name": "x-browser-test:roll-request", "direction": "both",
   "fields": [{"name": "formula", "kind": "non_empty_string", "required": true}]},
  {"name": "x-browser-test:weather", "direction": "server_to_client", "broadcastable": true,
   "fields": [{"name": "sky", "kind": "string", "required": true}]}
]"#;

#[wasm_bindgen_test]
async fn a_gm_declares_then_one_manager_emits_and_another_receives() {
    let world = unique("custom");
    let gm = agent("gm", "gm", &world).await;
    let player = agent("p1", "player", &world).await;

    // A player may not declare.
    let err = rejection(player.define_events(js(SPECS))).await;
    assert_eq!(get_str(&err, "code"), "SERVER_ERROR");
    assert_eq!(get_str(&err, "serverCode"), "FORBIDDEN");
    // Not an array: refused before anything is sent.
    let err = rejection(gm.define_events(js(r#"{"name": "x-a:b"}"#))).await;
    assert_eq!(get_str(&err, "code"), "INVALID_PAYLOAD");

    let declared = JsFuture::from(gm.define_events(js(SPECS))).await.unwrap();
    assert_eq!(
        stringify(&declared),
        r#"{"ok":true,"defined":["x-browser-test:roll-request","x-browser-test:weather"],"count":2}"#
    );

    // emit on one manager, subscribe on the other.
    let rolls = Recorder::new();
    let _off = gm
        .subscribe("x-browser-test:roll-request", rolls.f())
        .unwrap();
    player
        .emit(
            "x-browser-test:roll-request",
            Some(js(r#"{"formula": "1d20+4"}"#)),
            None,
        )
        .unwrap();
    assert!(wait_until(3_000, || rolls.len() == 1).await);
    assert_eq!(rolls.calls()[0], r#"[{"formula":"1d20+4"}]"#);

    // A request of a custom event resolves with the server's ack, or is
    // refused naming the field.
    let ack = JsFuture::from(player.request(
        "x-browser-test:roll-request",
        Some(js(r#"{"formula": "2d6"}"#)),
        None,
    ))
    .await
    .unwrap();
    assert_eq!(get(&ack, "ok").as_bool(), Some(true));
    assert_eq!(get(&ack, "recipients").as_f64(), Some(1.0));
    let err = rejection(player.request(
        "x-browser-test:roll-request",
        Some(js(r#"{"formula": 7}"#)),
        None,
    ))
    .await;
    assert_eq!(get_str(&err, "serverCode"), "INVALID_PAYLOAD");
    let err = rejection(player.request("x-browser-test:undeclared", Some(js("{}")), None)).await;
    assert_eq!(get_str(&err, "serverCode"), "INVALID_EVENT");

    // The GM broadcasts the broadcastable one to the table.
    let weather = Recorder::new();
    let _off_weather = player
        .subscribe("x-browser-test:weather", weather.f())
        .unwrap();
    let ack =
        JsFuture::from(gm.broadcast_event("x-browser-test:weather", js(r#"{"sky": "storm"}"#)))
            .await
            .unwrap();
    assert_eq!(get_str(&ack, "event"), "x-browser-test:weather");
    assert!(wait_until(3_000, || weather.len() == 1).await);
    assert_eq!(weather.calls()[0], r#"[{"sky":"storm"}]"#);
    assert_eq!(rolls.len(), 2, "the request's event was relayed too");

    gm.close();
    player.close();
}
