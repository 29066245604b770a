//! Connection pooling in the browser (Chromium and Firefox) against the
//! Node `socket.io` 4.8 server on 127.0.0.1:28471, which reports the
//! Engine.IO session under each namespace socket (`engine_id`):
//!
//! - managers for `/` and `/admin` on one URL share one Engine.IO session;
//!   with `forceNew: true` they do not, nor two managers for one namespace;
//! - events and requests work in both namespaces over the shared link;
//! - closing one manager leaves the other working;
//! - a dropped link reconnects both;
//! - the inspector of the manager that did not make the link sees its own
//!   namespace's frames; the one that did sees the link's, each once;
//! - with `parser: 'msgpack'` (the msgpack Node server on 127.0.0.1:28479)
//!   the namespaces share one session too, and each answers the server's
//!   acks over it.
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

const SERVER: &str = ports::node_sio::HTTP;
const MSGPACK_SERVER: &str = ports::node_sio_msgpack::HTTP;
const FAST_RECONNECT: &str = r#""reconnectionDelay":100,"randomizationFactor":0"#;

async fn engine_id(agent: &AgentManager) -> String {
    let reply = JsFuture::from(agent.request("engine_id", Some(js("{}")), None))
        .await
        .unwrap();
    get_str(&reply, "eio")
}

/// A connected manager on `namespace` of the test server.
async fn on(namespace: &str, extra: &str) -> AgentManager {
    let more = if extra.is_empty() {
        String::new()
    } else {
        format!(",{extra}")
    };
    connected_at(SERVER, &format!(r#""namespace":"{namespace}"{more}"#)).await
}

#[wasm_bindgen_test]
async fn two_namespaces_share_one_engine_io_session() {
    let root = on("/", FAST_RECONNECT).await;
    let admin = on("/admin", FAST_RECONNECT).await;
    let (a, b) = (engine_id(&root).await, engine_id(&admin).await);
    assert!(!a.is_empty());
    assert_eq!(a, b, "one Engine.IO session for both namespaces");

    // Events in both namespaces reach their own manager only.
    let root_ticks = Recorder::new();
    let admin_ticks = Recorder::new();
    root.subscribe("tick", root_ticks.f()).unwrap();
    admin.subscribe("tick", admin_ticks.f()).unwrap();
    root.emit(
        "trigger",
        Some(js(r#"{"event":"tick","args":["root"],"count":2}"#)),
        None,
    )
    .unwrap();
    admin
        .emit(
            "trigger",
            Some(js(r#"{"event":"tick","args":["admin"],"count":3}"#)),
            None,
        )
        .unwrap();
    assert!(wait_until(5000, || root_ticks.len() == 2 && admin_ticks.len() == 3).await);
    assert!(root_ticks.calls().iter().all(|c| c.contains("root")));
    assert!(admin_ticks.calls().iter().all(|c| c.contains("admin")));

    // Requests (acks) in both.
    let reply = JsFuture::from(admin.request("echo", Some(js(r#"{"n":1}"#)), None))
        .await
        .unwrap();
    assert_eq!(get_str(&reply, "nsp"), "/admin");
    let reply = JsFuture::from(root.request("echo", Some(js(r#"{"n":2}"#)), None))
        .await
        .unwrap();
    assert_eq!(stringify(&get(&reply, "n")), "2");
    root.close();
    admin.close();
}

#[wasm_bindgen_test]
async fn a_guest_inspects_its_own_frames_and_the_lender_each_frame_of_the_link_once() {
    // The root manager makes the link and lends it its hub: its inspector
    // taps the link. The /admin manager's sees what it sent and what was
    // routed to it.
    let root = on("/", "").await;
    let admin = on("/admin", "").await;
    let root_frames = Recorder::new();
    let admin_frames = Recorder::new();
    let _off_root = root.inspect(root_frames.f().into()).unwrap();
    let _off_admin = admin.inspect(admin_frames.f().into()).unwrap();
    let reply = JsFuture::from(admin.request("echo", Some(js(r#"{"n":"from admin"}"#)), None))
        .await
        .unwrap();
    assert_eq!(get_str(&reply, "nsp"), "/admin");
    JsFuture::from(root.request("echo", Some(js(r#"{"n":"from root"}"#)), None))
        .await
        .unwrap();

    let frames = |r: &Recorder, direction: &str, text: &str| {
        r.calls()
            .into_iter()
            .filter(|c| c.contains(&format!(r#""direction":"{direction}""#)) && c.contains(text))
            .collect::<Vec<_>>()
    };
    let sent = frames(&admin_frames, "out", "from admin");
    assert_eq!(sent.len(), 1, "{:?}", admin_frames.calls());
    assert!(
        sent[0].contains("42/admin,"),
        "as the wire has it: {sent:?}"
    );
    let answer = frames(&admin_frames, "in", "from admin");
    assert_eq!(answer.len(), 1, "{:?}", admin_frames.calls());
    assert!(
        answer[0].contains("43/admin,"),
        "the ack, as the wire has it: {answer:?}"
    );
    assert!(
        frames(&admin_frames, "out", "from root").is_empty(),
        "not the other namespace's"
    );
    for text in ["from admin", "from root"] {
        assert_eq!(
            frames(&root_frames, "out", text).len(),
            1,
            "the link's tap sees {text:?} once: {:?}",
            root_frames.calls()
        );
    }
    root.close();
    admin.close();
}

#[wasm_bindgen_test]
async fn force_new_and_a_second_manager_for_one_namespace_get_their_own_session() {
    let root = on("/", "").await;
    let admin = on("/admin", r#""forceNew":true"#).await;
    let twin = on("/", "").await;
    let not_multiplexed = on("/admin", r#""multiplex":false"#).await;
    let root_id = engine_id(&root).await;
    assert_ne!(root_id, engine_id(&admin).await, "forceNew");
    assert_ne!(root_id, engine_id(&twin).await, "the same namespace");
    assert_ne!(
        root_id,
        engine_id(&not_multiplexed).await,
        "multiplex: false"
    );
    for m in [root, admin, twin, not_multiplexed] {
        m.close();
    }
}

#[wasm_bindgen_test]
async fn closing_one_manager_leaves_the_other_working() {
    // The first manager made the link; it goes first.
    let root = on("/", "").await;
    let admin = on("/admin", "").await;
    let before = engine_id(&admin).await;
    root.close();
    assert_eq!(root.state(), "closed");
    assert_eq!(admin.state(), "connected");
    sleep(100).await;
    let reply = JsFuture::from(admin.request("echo", Some(js(r#"{"n":3}"#)), None))
        .await
        .unwrap();
    assert_eq!(get_str(&reply, "nsp"), "/admin");
    assert_eq!(engine_id(&admin).await, before, "the same link");
    let hello = Recorder::new();
    admin.subscribe("tick", hello.f()).unwrap();
    admin
        .emit(
            "trigger",
            Some(js(r#"{"event":"tick","args":[1],"count":1}"#)),
            None,
        )
        .unwrap();
    assert!(wait_until(5000, || hello.len() == 1).await);

    // A manager that comes later joins the same link again.
    let again = on("/", "").await;
    assert_eq!(engine_id(&again).await, before);
    again.close();
    admin.close();
    assert_eq!(admin.held_callbacks(), 0);
}

#[wasm_bindgen_test]
async fn a_dropped_link_reconnects_both_namespaces_over_one_new_session() {
    let root = on("/", FAST_RECONNECT).await;
    let admin = on("/admin", FAST_RECONNECT).await;
    let before = engine_id(&root).await;
    let admin_states = Recorder::new();
    admin.on_state_change(admin_states.f()).unwrap();
    root.emit("drop_link", None, None).unwrap();
    assert!(
        wait_until(5000, || admin_states
            .calls()
            .iter()
            .any(|c| c.contains("reconnecting")))
        .await,
        "{:?}",
        admin_states.calls()
    );
    assert!(
        wait_until(10_000, || root.state() == "connected"
            && admin.state() == "connected")
        .await
    );
    let (a, b) = (engine_id(&root).await, engine_id(&admin).await);
    assert_ne!(a, before, "a new session");
    assert_eq!(a, b, "shared again");
    root.close();
    admin.close();
}

#[wasm_bindgen_test]
async fn the_shared_link_can_be_polling_and_upgrades_once() {
    let opts = r#""transports":["polling","websocket"]"#;
    let root = on("/", opts).await;
    let admin = on("/admin", opts).await;
    assert!(
        wait_until(10_000, || root.transport().as_deref() == Some("websocket")
            && admin.transport().as_deref() == Some("websocket"))
        .await
    );
    assert_eq!(engine_id(&root).await, engine_id(&admin).await);
    assert_eq!(stringify(&get(&admin.metrics().unwrap(), "upgrades")), "1");
    root.close();
    admin.close();
}

/// Has the server ask `agent` (`ask`), answered by a `question` subscriber
/// with `{got, nsp}`; returns the server's `answered` report.
async fn answered(agent: &AgentManager, nsp: &str, n: u32) -> wasm_bindgen::JsValue {
    let question = agent
        .subscribe(
            "question",
            js_sys::Function::new_with_args("n, ack", &format!("ack({{ got: n, nsp: '{nsp}' }})")),
        )
        .unwrap();
    let report = Recorder::new();
    let off = agent.once("answered", report.f()).unwrap();
    agent
        .emit(
            "ask",
            Some(js(&format!(r#"{{"event":"question","args":[{n}]}}"#))),
            None,
        )
        .unwrap();
    assert!(
        wait_until(10_000, || report.len() == 1).await,
        "no report from {nsp}"
    );
    drop((off, question));
    report.arg(0, 0)
}

#[wasm_bindgen_test]
async fn msgpack_namespaces_share_one_session_and_answer_the_servers_acks_on_it() {
    let opts = r#""parser":"msgpack""#;
    let root = connected_at(MSGPACK_SERVER, &format!(r#""namespace":"/",{opts}"#)).await;
    let admin = connected_at(MSGPACK_SERVER, &format!(r#""namespace":"/admin",{opts}"#)).await;
    let id = engine_id(&root).await;
    assert!(!id.is_empty());
    assert_eq!(id, engine_id(&admin).await, "one Engine.IO session");

    let reply = JsFuture::from(admin.request("echo", Some(js(r#"{"n":4}"#)), None))
        .await
        .unwrap();
    assert_eq!(get_str(&reply, "nsp"), "/admin");

    for (agent, nsp, n) in [(&admin, "/admin", 1), (&root, "/", 2)] {
        let report = answered(agent, nsp, n).await;
        assert_eq!(stringify(&get(&report, "error")), "null", "{nsp}");
        assert_eq!(
            stringify(&get(&report, "answer")),
            format!(r#"{{"got":{n},"nsp":"{nsp}"}}"#),
            "{nsp}"
        );
    }
    root.close();
    admin.close();
    assert_eq!(admin.held_callbacks(), 0);
}
