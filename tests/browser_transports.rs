//! The transports in the browser (Chromium and Firefox) against the Node
//! `socket.io` 4.8 server, which `cargo xtask test browser` starts twice:
//! accepting only long-polling on 127.0.0.1:28478 (`SIO_TRANSPORTS=polling`)
//! and with both transports on 127.0.0.1:28471.
//!
//! - polling only: events, requests (acks), binary both ways, and a
//!   reconnect after the server drops the link, all over polling; the
//!   inspector tap sees the payloads packet by packet; `extraHeaders` go
//!   on every request and cookies only with `withCredentials`;
//! - default transports against the polling-only server: the WebSocket
//!   cannot open and the client falls back to polling by itself;
//! - `['polling', 'websocket']` against both: the upgrade happens and 100
//!   emits made across it arrive exactly once, in order.
#![cfg(target_arch = "wasm32")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod browser_support;

use browser_support::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const POLLING_ONLY: &str = ports::node_sio_polling::HTTP;
const BOTH: &str = ports::node_sio::HTTP;

#[wasm_bindgen_test]
async fn polling_only_carries_events_requests_binary_and_reconnects() {
    let agent = connected_at(
        POLLING_ONLY,
        r#""transports":["polling"],"reconnectionDelay":200,"randomizationFactor":0"#,
    )
    .await;
    assert_eq!(agent.transport().as_deref(), Some("polling"));
    let m = agent.metrics().unwrap();
    assert_eq!(get_str(&m, "transport"), "polling");

    // A request answered by an ack, seen by the inspector tap packet by
    // packet as on a WebSocket.
    let frames = Recorder::new();
    let stop_inspecting = agent.inspect(frames.f().into()).unwrap();
    let reply = JsFuture::from(agent.request("echo", Some(js(r#"{"hello":"polling"}"#)), None))
        .await
        .unwrap();
    assert_eq!(get_str(&reply, "hello"), "polling");
    let seen = frames.calls();
    assert!(
        seen.iter()
            .any(|f| f.contains(r#""direction":"out","data":"42"#)
                && f.contains(r#""transport":"polling""#)),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|f| f.contains(r#""direction":"in","data":"43"#)),
        "{seen:?}"
    );

    // Server events.
    let ticks = Recorder::new();
    agent.subscribe("tick", ticks.f()).unwrap();
    agent
        .emit(
            "trigger",
            Some(js(r#"{"event":"tick","args":[1],"count":3}"#)),
            None,
        )
        .unwrap();
    assert!(
        wait_until(5000, || ticks.len() == 3).await,
        "{:?}",
        ticks.calls()
    );

    // Binary to the server (b+base64 in the POST) and back (in the GET).
    let reply = JsFuture::from(agent.request(
        "binary_echo",
        Some(js_expr("({ data: new Uint8Array([42, 43, 44]) })")),
        None,
    ))
    .await
    .unwrap();
    let seen = js_sys::Array::from(&get(&reply, "seen"));
    assert_eq!(get_str(&seen.get(0), "hex"), "2a2b2c");
    // The `b<base64>` packets reach the inspector as their bytes.
    let binary_frames = (0..frames.len())
        .filter(|&i| get(&frames.arg(i, 0), "data").is_instance_of::<js_sys::ArrayBuffer>())
        .count();
    assert!(binary_frames >= 2, "{:?}", frames.calls());
    stop_inspecting.call0(&JsValue::NULL).unwrap();

    // The server drops the link: the client reconnects, still on polling.
    agent.emit("drop_link", None, None).unwrap();
    assert!(wait_until(3000, || agent.state() == "reconnecting").await);
    assert!(wait_until(10_000, || agent.state() == "connected").await);
    assert_eq!(agent.transport().as_deref(), Some("polling"));
    let key = unique("polling");
    let payload = js(&format!(r#"{{"key":"{key}"}}"#));
    agent.emit("record", Some(payload.clone()), None).unwrap();
    let count = JsFuture::from(agent.request("count", Some(payload), None))
        .await
        .unwrap();
    assert_eq!(get(&count, "count").as_f64(), Some(1.0));
    agent.close();
}

#[wasm_bindgen_test]
async fn polling_sends_extra_headers_and_cookies_only_with_credentials() {
    // The server sets a cookie on every handshake and reports what the
    // polling requests of the session carried.
    let with = connected_at(
        POLLING_ONLY,
        r#""transports":["polling"],"withCredentials":true,"extraHeaders":{"x-frinny-test":"on"}"#,
    )
    .await;
    let seen = JsFuture::from(with.request("http_seen", None, None))
        .await
        .unwrap();
    assert_eq!(get_str(&seen, "extraHeader"), "on", "{}", stringify(&seen));
    assert_eq!(get_str(&seen, "cookie"), "1", "{}", stringify(&seen));
    with.close();

    // Without withCredentials a cross-origin fetch neither keeps nor sends
    // the cookie, even though the browser holds one for the server now.
    let without = connected_at(POLLING_ONLY, r#""transports":["polling"]"#).await;
    let seen = JsFuture::from(without.request("http_seen", None, None))
        .await
        .unwrap();
    assert!(get(&seen, "cookie").is_null(), "{}", stringify(&seen));
    assert!(get(&seen, "extraHeader").is_null(), "{}", stringify(&seen));
    without.close();
}

#[wasm_bindgen_test]
async fn default_transports_fall_back_to_polling_by_themselves() {
    let agent = connected_at(POLLING_ONLY, "").await;
    assert_eq!(agent.state(), "connected");
    assert_eq!(agent.transport().as_deref(), Some("polling"));
    let reply = JsFuture::from(agent.request("echo", Some(js(r#"{"x":1}"#)), None))
        .await
        .unwrap();
    assert_eq!(get(&reply, "x").as_f64(), Some(1.0));
    agent.close();
    assert_eq!(agent.transport(), None);
}

#[wasm_bindgen_test]
async fn polling_upgrades_to_websocket_and_emits_across_it_arrive_once_in_order() {
    let agent = manager_at(BOTH, r#""transports":["polling","websocket"]"#);
    let key = unique("upgrade");
    let connecting = agent.connect();
    // Emits before, during and after the upgrade.
    for n in 0..100 {
        agent
            .emit(
                "sequence",
                Some(js(&format!(r#"{{"key":"{key}","n":{n}}}"#))),
                None,
            )
            .unwrap();
        if n % 5 == 4 {
            sleep(20).await;
        }
    }
    JsFuture::from(connecting).await.unwrap();
    assert!(
        wait_until(10_000, || agent.transport().as_deref() == Some("websocket")).await,
        "{:?}",
        agent.transport()
    );
    assert_eq!(
        get(&agent.metrics().unwrap(), "upgrades").as_f64(),
        Some(1.0)
    );
    let reply = JsFuture::from(agent.request(
        "sequence_of",
        Some(js(&format!(r#"{{"key":"{key}"}}"#))),
        None,
    ))
    .await
    .unwrap();
    let seq: Vec<f64> = js_sys::Array::from(&get(&reply, "seq"))
        .iter()
        .filter_map(|v| v.as_f64())
        .collect();
    let expected: Vec<f64> = (0..100).map(f64::from).collect();
    assert_eq!(seq, expected);
    agent.close();
}

#[wasm_bindgen_test]
fn the_json_protocol_refuses_transports_without_websocket() {
    let err = frinny_agent::web::AgentManager::new(js(
        r#"{"url":"ws://127.0.0.1:1","protocol":"json","transports":["polling"]}"#,
    ))
    .err()
    .unwrap();
    assert_eq!(get_str(&err, "code"), "INVALID_OPTIONS");
}
