//! `AgentManager` in headless Chromium against the official Node `socket.io`
//! 4.8 server (tests/servers/node_sio.mjs), which `cargo xtask test browser`
//! starts on 127.0.0.1:38471 before these tests and stops after them.
//!
//! The tests drive the exported class through its Rust methods, which are
//! the very functions the JS glue calls, with JS callbacks made from Rust
//! closures.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod browser_support;

use browser_support::*;
use frinny_agent::web::AgentManager;
use js_sys::{Function, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const URL: &str = "http://127.0.0.1:38471";

fn manager(extra: &str) -> AgentManager {
    manager_at(URL, extra)
}

async fn connected(extra: &str) -> AgentManager {
    connected_at(URL, extra).await
}

// ----- connection ---------------------------------------------------------------

#[wasm_bindgen_test]
async fn connects_and_reports_state_changes() {
    let agent = manager(r#""query":{"userId":"u1"}"#);
    let states = Recorder::new();
    let _off = agent.on_state_change(states.f()).unwrap();
    let hello = Recorder::new();
    agent.subscribe("connection_established", hello.f()).unwrap();
    assert_eq!(agent.state(), "disconnected");

    JsFuture::from(agent.connect()).await.unwrap();
    assert_eq!(agent.state(), "connected");
    assert_eq!(states.calls(), [r#"["connecting","io client connect"]"#, r#"["connected","connected"]"#]);
    assert!(wait_until(2000, || hello.len() == 1).await);
    assert!(hello.calls()[0].contains(r#""userId":"u1""#), "{:?}", hello.calls());

    // connect() while connected resolves at once.
    JsFuture::from(agent.connect()).await.unwrap();

    let m = agent.metrics().unwrap();
    assert_eq!(get(&m, "connects").as_f64(), Some(1.0));
    assert!(get(&m, "framesIn").as_f64().unwrap() >= 3.0, "{}", stringify(&m));
    assert_eq!(get_str(&m, "state"), "connected");

    agent.disconnect();
    assert_eq!(agent.state(), "disconnected");
    assert_eq!(states.calls().last().unwrap(), r#"["disconnected","io client disconnect"]"#);
    agent.close();
    assert_eq!(agent.state(), "closed");
    assert_eq!(agent.held_callbacks(), 0);
}

#[wasm_bindgen_test]
async fn connect_error_from_a_middleware_is_connect_refused() {
    let agent = manager(r#""namespace":"/guarded""#);
    let err = rejection(agent.connect()).await;
    assert_eq!(get_str(&err, "code"), "CONNECT_REFUSED");
    assert!(get_str(&err, "message").contains("not authorized"), "{}", get_str(&err, "message"));
    // A refusal is not retried.
    sleep(300).await;
    assert_eq!(agent.state(), "disconnected");
    agent.close();

    // With the right auth the same namespace lets us in.
    let agent = manager(r#""namespace":"/guarded","auth":{"token":"secret"}"#);
    let welcome = Recorder::new();
    agent.subscribe("welcome", welcome.f()).unwrap();
    JsFuture::from(agent.connect()).await.unwrap();
    assert!(wait_until(2000, || welcome.len() == 1).await);
    agent.close();
}

#[wasm_bindgen_test]
async fn server_side_disconnect_is_final() {
    let agent = connected("").await;
    let states = Recorder::new();
    agent.on_state_change(states.f()).unwrap();
    agent.emit("kick", None, None).unwrap();
    assert!(wait_until(3000, || agent.state() == "disconnected").await);
    assert_eq!(states.calls(), [r#"["disconnected","io server disconnect"]"#]);
    // socket.io semantics: no automatic reconnection after a kick.
    sleep(1500).await;
    assert_eq!(agent.state(), "disconnected");
    // connect() again works.
    JsFuture::from(agent.connect()).await.unwrap();
    assert_eq!(agent.state(), "connected");
    agent.close();
}

#[wasm_bindgen_test]
async fn lost_link_reconnects_and_delivers_buffered_emits_once() {
    let agent = connected(r#""reconnectionDelay":200,"randomizationFactor":0"#).await;
    let states = Recorder::new();
    agent.on_state_change(states.f()).unwrap();
    let in_flight = agent.request("query", Some(js(r#"{"content":"silent"}"#)), None);
    agent.emit("drop_link", None, None).unwrap();
    let err = rejection(in_flight).await;
    assert_eq!(get_str(&err, "code"), "DISCONNECTED", "no retry: the in-flight request rejects");
    assert_eq!(agent.state(), "reconnecting");
    // Buffered while the link is down, sent once after the reconnect.
    let key = unique("reconnect");
    let payload = js(&format!(r#"{{"key":"{key}"}}"#));
    agent.emit("record", Some(payload.clone()), None).unwrap();
    assert!(wait_until(5000, || agent.state() == "connected").await, "{:?}", states.calls());
    assert_eq!(states.calls().first().map(String::as_str), Some(r#"["reconnecting","transport close"]"#));
    assert_eq!(states.calls().last().map(String::as_str), Some(r#"["connected","reconnected"]"#));
    let reply = JsFuture::from(agent.request("count", Some(payload), None)).await.unwrap();
    assert_eq!(get(&reply, "count").as_f64(), Some(1.0));
    assert_eq!(get(&agent.metrics().unwrap(), "reconnects").as_f64(), Some(1.0));
    agent.close();
}

#[wasm_bindgen_test]
async fn frinny_helpers() {
    let agent = connected("").await;
    let reply = JsFuture::from(agent.send_query(js(r#"{"content":"hello frinny"}"#))).await.unwrap();
    assert_eq!(get_str(&reply, "content"), "reply to hello frinny");
    let typing = Recorder::new();
    let off = agent.on_typing_status(typing.f()).unwrap();
    agent
        .emit("trigger", Some(js(r#"{"event":"typing_status","args":[{"isTyping":true}]}"#)), None)
        .unwrap();
    assert!(wait_until(2000, || typing.len() == 1).await);
    assert_eq!(typing.calls(), [r#"[{"isTyping":true}]"#]);
    off.call0(&JsValue::UNDEFINED).unwrap();
    assert_eq!(agent.subscriber_count(), 0);
    agent.close();
}

#[wasm_bindgen_test]
async fn a_second_namespace() {
    let agent = manager(r#""namespace":"/admin""#);
    let hello = Recorder::new();
    agent.subscribe("admin_hello", hello.f()).unwrap();
    JsFuture::from(agent.connect()).await.unwrap();
    assert!(wait_until(2000, || hello.len() == 1).await);
    assert_eq!(hello.calls(), [r#"[{"nsp":"/admin"}]"#]);
    let reply = JsFuture::from(agent.request("echo", Some(js(r#"{"n":1}"#)), None)).await.unwrap();
    assert_eq!(get_str(&reply, "nsp"), "/admin");
    assert_eq!(get(&get(&reply, "payload"), "n").as_f64(), Some(1.0));
    agent.close();
}

// ----- subscribers --------------------------------------------------------------

#[wasm_bindgen_test]
async fn subscribe_unsubscribe_once_and_subscribe_all() {
    let agent = connected("").await;
    let a = Recorder::new();
    let b = Recorder::new();
    let o = Recorder::new();
    let all = Recorder::new();
    let errors = Recorder::new();
    agent.on_error(errors.f()).unwrap();
    let off_a = agent.subscribe("tick", a.f()).unwrap();
    // A subscriber that throws: reported to onError, the others still run.
    let thrower = Closure::<dyn Fn() -> Result<(), JsValue>>::new(|| Err(js_sys::Error::new("boom").into()));
    agent.subscribe("tick", thrower.as_ref().unchecked_ref::<Function>().clone()).unwrap();
    agent.subscribe("tick", b.f()).unwrap();
    agent.once("tick", o.f()).unwrap();
    let off_all = agent.subscribe_all(all.f()).unwrap();
    assert_eq!(agent.subscriber_count(), 5);

    let done = Recorder::new();
    agent.subscribe("trigger_done", done.f()).unwrap();
    agent.emit("trigger", Some(js(r#"{"event":"tick","args":[1,{"x":2}],"count":2}"#)), None).unwrap();
    assert!(wait_until(3000, || done.len() == 1).await);
    assert_eq!(a.calls(), [r#"[1,{"x":2}]"#, r#"[1,{"x":2}]"#]);
    assert_eq!(b.len(), 2);
    assert_eq!(o.calls(), [r#"[1,{"x":2}]"#], "once fires once");
    // (connection_established may or may not have arrived before.)
    let all_calls = |rec: &Recorder| -> Vec<String> {
        rec.calls().into_iter().filter(|c| !c.starts_with(r#"["connection_established""#)).collect()
    };
    assert_eq!(
        all_calls(&all),
        [r#"["tick",1,{"x":2}]"#, r#"["tick",1,{"x":2}]"#, r#"["trigger_done",{"count":2}]"#]
    );
    assert_eq!(errors.len(), 2, "{:?}", errors.calls());
    let m = agent.metrics().unwrap();
    assert_eq!(get(&get(&m, "errors"), "CALLBACK_ERROR").as_f64(), Some(2.0));

    // Unsubscribe by the returned function and by (name, cb).
    off_a.call0(&JsValue::UNDEFINED).unwrap();
    assert!(agent.unsubscribe("tick", &b.f().into()));
    assert!(!agent.unsubscribe("tick", &b.f().into()));
    off_all.call0(&JsValue::UNDEFINED).unwrap();
    agent.emit("trigger", Some(js(r#"{"event":"tick","args":[3],"count":1}"#)), None).unwrap();
    assert!(wait_until(3000, || done.len() == 2).await);
    assert_eq!(a.len(), 2);
    assert_eq!(b.len(), 2);
    assert_eq!(o.len(), 1);
    assert_eq!(all_calls(&all).len(), 3);
    assert_eq!(errors.len(), 3, "the thrower is still subscribed");
    agent.close();
    assert_eq!(agent.held_callbacks(), 0);
}

// ----- requests -----------------------------------------------------------------

#[wasm_bindgen_test]
async fn request_settled_by_an_ack() {
    let agent = connected("").await;
    let reply =
        JsFuture::from(agent.request("echo", Some(js(r#"{"hello":"world"}"#)), None)).await.unwrap();
    assert_eq!(get_str(&reply, "hello"), "world");
    assert!(!get_str(&reply, "request_id").is_empty(), "request_id is added: {}", stringify(&reply));
    assert_eq!(agent.pending_count(), 0);
    agent.close();
}

#[wasm_bindgen_test]
async fn request_settled_by_a_response_event_with_its_request_id() {
    let agent = connected(r#""query":{"userId":"u-resp"}"#).await;
    let seen = Recorder::new();
    agent.subscribe("query_response", seen.f()).unwrap();
    let p1 = agent.request("query", Some(js(r#"{"content":"one"}"#)), None);
    let p2 = agent.request("query", Some(js(r#"{"content":"two"}"#)), None);
    assert_eq!(agent.pending_count(), 2);
    let r2 = JsFuture::from(p2).await.unwrap();
    let r1 = JsFuture::from(p1).await.unwrap();
    assert_eq!(get_str(&r1, "content"), "reply to one");
    assert_eq!(get_str(&r2, "content"), "reply to two");
    assert_ne!(get_str(&r1, "request_id"), get_str(&r2, "request_id"));
    // Subscribers still see the reply events.
    assert_eq!(seen.len(), 2);
    assert_eq!(agent.pending_count(), 0);
    agent.close();
}

#[wasm_bindgen_test]
async fn server_error_event_rejects_its_request_only() {
    let agent = connected("").await;
    let errors = Recorder::new();
    agent.on_error(errors.f()).unwrap();
    let err = rejection(agent.request("query", Some(js(r#"{"content":"fail"}"#)), None)).await;
    assert_eq!(get_str(&err, "code"), "SERVER_ERROR");
    assert_eq!(get_str(&err, "message"), "the backend failed");
    assert_eq!(errors.len(), 0, "an error with a request_id belongs to its request");

    // Without request_id: onError, nothing else rejects.
    let other = agent.request("query", Some(js(r#"{"content":"silent"}"#)), Some(js(r#"{"timeout":5000}"#)));
    agent.emit("error_no_id", None, None).unwrap();
    assert!(wait_until(3000, || errors.len() == 1).await);
    assert_eq!(errors.calls(), [r#"[{"code":"SERVER_ERROR"}]"#]);
    assert_eq!(agent.pending_count(), 1);
    agent.close();
    let err = rejection(other).await;
    assert_eq!(get_str(&err, "code"), "CLOSED");
}

#[wasm_bindgen_test]
async fn request_timeout() {
    let agent = connected(r#""timeout":250"#).await;
    let started = js_sys::Date::now();
    let err = rejection(agent.request("query", Some(js(r#"{"content":"silent"}"#)), None)).await;
    assert_eq!(get_str(&err, "code"), "TIMEOUT");
    assert!(js_sys::Date::now() - started >= 240.0);
    // Per-request timeout overrides the default.
    let err = rejection(agent.request("query", Some(js(r#"{"content":"silent"}"#)), Some(js(r#"{"timeout":50}"#)))).await;
    assert_eq!(get_str(&err, "code"), "TIMEOUT");
    let m = agent.metrics().unwrap();
    assert_eq!(get(&m, "timeouts").as_f64(), Some(2.0));
    assert_eq!(agent.pending_count(), 0);
    agent.close();
}

#[wasm_bindgen_test]
async fn request_aborted_by_its_signal() {
    let agent = connected("").await;
    let controller = web_sys::AbortController::new().unwrap();
    let opts = js_sys::Object::new();
    Reflect::set(&opts, &"signal".into(), &controller.signal()).unwrap();
    let p = agent.request("query", Some(js(r#"{"content":"silent"}"#)), Some(opts.clone().into()));
    sleep(50).await;
    assert_eq!(agent.pending_count(), 1);
    controller.abort();
    let err = rejection(p).await;
    assert_eq!(get_str(&err, "code"), "ABORTED");
    assert_eq!(agent.pending_count(), 0);
    assert_eq!(agent.held_callbacks(), 0, "the abort listener is released");

    // An already aborted signal rejects at once.
    let err = rejection(agent.request("echo", Some(js("{}")), Some(opts.into()))).await;
    assert_eq!(get_str(&err, "code"), "ABORTED");
    agent.close();
}

#[wasm_bindgen_test]
async fn broadcast_event_is_acked_and_fanned_out() {
    let agent = connected("").await;
    let seen = Recorder::new();
    agent.subscribe("notification", seen.f()).unwrap();
    let reply =
        JsFuture::from(agent.broadcast_event("notification", js(r#"{"message":"hello table"}"#))).await.unwrap();
    assert_eq!(get(&reply, "ok").as_bool(), Some(true));
    assert!(wait_until(2000, || seen.len() == 1).await);
    assert_eq!(seen.calls(), [r#"[{"message":"hello table"}]"#]);
    agent.close();
}

// ----- buffering ------------------------------------------------------------------

#[wasm_bindgen_test]
async fn emit_while_disconnected_is_delivered_once_after_connect() {
    let agent = manager("");
    let key = unique("buffered");
    let payload = js(&format!(r#"{{"key":"{key}"}}"#));
    agent.emit("record", Some(payload.clone()), None).unwrap();
    // A volatile emit is dropped, not buffered.
    agent.emit("record", Some(payload.clone()), Some(js(r#"{"volatile":true}"#))).unwrap();
    assert_eq!(get(&agent.metrics().unwrap(), "buffered").as_f64(), Some(1.0));
    JsFuture::from(agent.connect()).await.unwrap();
    // Sent in order: the buffered emit arrives before this request.
    let reply = JsFuture::from(agent.request("count", Some(payload.clone()), None)).await.unwrap();
    assert_eq!(get(&reply, "count").as_f64(), Some(1.0));
    sleep(200).await;
    let reply = JsFuture::from(agent.request("count", Some(payload), None)).await.unwrap();
    assert_eq!(get(&reply, "count").as_f64(), Some(1.0), "delivered once");
    agent.close();
}

#[wasm_bindgen_test]
fn buffer_full_throws() {
    let agent = manager(r#""bufferSize":2"#);
    agent.emit("record", Some(js("{}")), None).unwrap();
    agent.emit("record", Some(js("{}")), None).unwrap();
    let err = agent.emit("record", Some(js("{}")), None).unwrap_err();
    assert_eq!(get_str(&err, "code"), "BUFFER_FULL");
    agent.close();
}

// ----- options ------------------------------------------------------------------

#[wasm_bindgen_test]
async fn invalid_options_throw_invalid_options() {
    for bad in [
        r#"{"url":"http://x","reconectionDelay":5}"#,
        r#"{"url":"http://x","timeout":"soon"}"#,
        r#"{"url":"http://x","timeout":-1}"#,
        r#"{"url":"http://x","protocol":"carrier-pigeon"}"#,
        r#"{"url":"http://x","query":{"a":{"nested":1}}}"#,
        r#"{"url":"http://x","auth":"token"}"#,
        r#"{"url":"http://x","randomizationFactor":2}"#,
        r#"{"path":"/socket.io/"}"#,
        r#"[]"#,
        r#""http://x""#,
    ] {
        let err = AgentManager::new(js(bad)).err().unwrap_or_else(|| panic!("{bad} was accepted"));
        assert!(err.is_instance_of::<js_sys::Error>());
        assert_eq!(get_str(&err, "code"), "INVALID_OPTIONS", "{bad}");
        assert!(!get_str(&err, "message").is_empty());
    }
    assert!(AgentManager::new(JsValue::UNDEFINED).is_err());
    // Every documented option, well typed, is accepted.
    let ok = AgentManager::new(js(&format!(
        r#"{{"url":"{URL}","path":"/socket.io/","query":{{"userId":"u","n":1,"b":true}},"namespace":"/",
        "auth":{{"token":"t"}},"protocol":"socket.io","reconnection":true,"reconnectionDelay":100,
        "delayMax":1000,"randomizationFactor":0.5,"attempts":3,"connectTimeout":5000,"timeout":1000,
        "bufferSize":10}}"#
    )));
    assert!(ok.is_ok());
    let agent = AgentManager::new(js(&format!(r#"{{"url":"{URL}"}}"#))).unwrap();
    let err = rejection(agent.request("echo", Some(js("{}")), Some(js(r#"{"timeout":"x"}"#)))).await;
    assert_eq!(get_str(&err, "code"), "INVALID_OPTIONS");
    let err = rejection(agent.request("echo", Some(js("{}")), Some(js(r#"{"timout":1}"#)))).await;
    assert_eq!(get_str(&err, "code"), "INVALID_OPTIONS");
    let err = rejection(agent.request("echo", Some(js("[1]")), None)).await;
    assert_eq!(get_str(&err, "code"), "INVALID_PAYLOAD", "a request payload must be an object");
    agent.close();
}

// ----- leaks --------------------------------------------------------------------

fn wasm_memory_bytes() -> f64 {
    let buffer = get(&wasm_bindgen::memory(), "buffer");
    get(&buffer, "byteLength").as_f64().unwrap()
}

#[wasm_bindgen_test]
fn subscription_churn_leaves_nothing_behind() {
    let agent = manager("");
    let cb = Recorder::new();
    let f = cb.f();
    let f_value: JsValue = f.clone().into();
    let cycle = |i: u32| match i % 3 {
        0 => {
            let off = agent.subscribe(&format!("event-{}", i % 97), f.clone()).unwrap();
            off.call0(&JsValue::UNDEFINED).unwrap();
        }
        1 => {
            let name = format!("event-{}", i % 89);
            agent.once(&name, f.clone()).unwrap();
            assert!(agent.unsubscribe(&name, &f_value));
        }
        _ => {
            let off = agent.subscribe_all(f.clone()).unwrap();
            off.call0(&JsValue::UNDEFINED).unwrap();
        }
    };
    for i in 0..10_000 {
        cycle(i);
    }
    let before = wasm_memory_bytes();
    for i in 0..100_000 {
        cycle(i);
    }
    assert_eq!(agent.subscriber_count(), 0);
    assert_eq!(agent.held_callbacks(), 0);
    assert_eq!(wasm_memory_bytes(), before, "wasm memory grew over 100,000 subscribe/unsubscribe cycles");

    // Listeners and subscriptions left in place are released by close().
    agent.subscribe("x", f.clone()).unwrap();
    agent.on_state_change(f.clone()).unwrap();
    agent.on_error(f.clone()).unwrap();
    assert!(agent.held_callbacks() > 0);
    agent.close();
    assert_eq!(agent.held_callbacks(), 0);
    assert!(agent.subscribe("x", f).is_err(), "a closed manager takes no subscriptions");
}

#[wasm_bindgen_test]
async fn freeing_a_connected_manager_rejects_pending_requests() {
    let agent = connected("").await;
    let p = agent.request("query", Some(js(r#"{"content":"silent"}"#)), None);
    let states = Recorder::new();
    agent.on_state_change(states.f()).unwrap();
    drop(agent); // what JS free() does
    let err = rejection(p).await;
    assert_eq!(get_str(&err, "code"), "CLOSED");
    assert_eq!(states.len(), 0, "free() calls no listener");
}
