//! `AgentManager` in headless Chromium against the official Node `socket.io`
//! 4.8 server (tests/servers/node_sio.mjs), which `cargo xtask test browser`
//! starts on 127.0.0.1:28471 before these tests and stops after them.
//!
//! The tests drive the exported class through its Rust methods, which are
//! the very functions the JS glue calls, with JS callbacks made from Rust
//! closures.
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
use js_sys::{Function, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const URL: &str = ports::node_sio::HTTP;

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
    agent
        .subscribe("connection_established", hello.f())
        .unwrap();
    assert_eq!(agent.state(), "disconnected");

    JsFuture::from(agent.connect()).await.unwrap();
    assert_eq!(agent.state(), "connected");
    assert_eq!(
        states.calls(),
        [
            r#"["connecting","io client connect"]"#,
            r#"["connected","connected"]"#
        ]
    );
    assert!(wait_until(2000, || hello.len() == 1).await);
    assert!(
        hello.calls()[0].contains(r#""userId":"u1""#),
        "{:?}",
        hello.calls()
    );

    // connect() while connected resolves at once.
    JsFuture::from(agent.connect()).await.unwrap();

    let m = agent.metrics().unwrap();
    assert_eq!(get(&m, "connects").as_f64(), Some(1.0));
    assert!(
        get(&m, "framesIn").as_f64().unwrap() >= 3.0,
        "{}",
        stringify(&m)
    );
    assert_eq!(get_str(&m, "state"), "connected");

    agent.disconnect();
    assert_eq!(agent.state(), "disconnected");
    assert_eq!(
        states.calls().last().unwrap(),
        r#"["disconnected","io client disconnect"]"#
    );
    agent.close();
    assert_eq!(agent.state(), "closed");
    assert_eq!(agent.held_callbacks(), 0);
}

#[wasm_bindgen_test]
async fn connect_error_from_a_middleware_is_connect_refused() {
    let agent = manager(r#""namespace":"/guarded""#);
    let err = rejection(agent.connect()).await;
    assert_eq!(get_str(&err, "code"), "CONNECT_REFUSED");
    assert!(
        get_str(&err, "message").contains("not authorized"),
        "{}",
        get_str(&err, "message")
    );
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
    assert_eq!(
        states.calls(),
        [r#"["disconnected","io server disconnect"]"#]
    );
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
    assert_eq!(
        get_str(&err, "code"),
        "DISCONNECTED",
        "no retry: the in-flight request rejects"
    );
    assert_eq!(agent.state(), "reconnecting");
    // Buffered while the link is down, sent once after the reconnect.
    let key = unique("reconnect");
    let payload = js(&format!(r#"{{"key":"{key}"}}"#));
    agent.emit("record", Some(payload.clone()), None).unwrap();
    assert!(
        wait_until(5000, || agent.state() == "connected").await,
        "{:?}",
        states.calls()
    );
    assert_eq!(
        states.calls().first().map(String::as_str),
        Some(r#"["reconnecting","transport close"]"#)
    );
    assert_eq!(
        states.calls().last().map(String::as_str),
        Some(r#"["connected","reconnected"]"#)
    );
    let reply = JsFuture::from(agent.request("count", Some(payload), None))
        .await
        .unwrap();
    assert_eq!(get(&reply, "count").as_f64(), Some(1.0));
    assert_eq!(
        get(&agent.metrics().unwrap(), "reconnects").as_f64(),
        Some(1.0)
    );
    agent.close();
}

#[wasm_bindgen_test]
async fn frinny_helpers() {
    let agent = connected("").await;
    let reply = JsFuture::from(agent.send_query(js(r#"{"content":"hello frinny"}"#)))
        .await
        .unwrap();
    assert_eq!(get_str(&reply, "content"), "reply to hello frinny");
    let typing = Recorder::new();
    let off = agent.on_typing_status(typing.f()).unwrap();
    agent
        .emit(
            "trigger",
            Some(js(
                r#"{"event":"typing_status","args":[{"isTyping":true}]}"#,
            )),
            None,
        )
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
    let reply = JsFuture::from(agent.request("echo", Some(js(r#"{"n":1}"#)), None))
        .await
        .unwrap();
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
    let thrower =
        Closure::<dyn Fn() -> Result<(), JsValue>>::new(|| Err(js_sys::Error::new("boom").into()));
    agent
        .subscribe("tick", thrower.as_ref().unchecked_ref::<Function>().clone())
        .unwrap();
    agent.subscribe("tick", b.f()).unwrap();
    agent.once("tick", o.f()).unwrap();
    let off_all = agent.subscribe_all(all.f()).unwrap();
    assert_eq!(agent.subscriber_count(), 5);

    let done = Recorder::new();
    agent.subscribe("trigger_done", done.f()).unwrap();
    agent
        .emit(
            "trigger",
            Some(js(r#"{"event":"tick","args":[1,{"x":2}],"count":2}"#)),
            None,
        )
        .unwrap();
    assert!(wait_until(3000, || done.len() == 1).await);
    assert_eq!(a.calls(), [r#"[1,{"x":2}]"#, r#"[1,{"x":2}]"#]);
    assert_eq!(b.len(), 2);
    assert_eq!(o.calls(), [r#"[1,{"x":2}]"#], "once fires once");
    // (connection_established may or may not have arrived before.)
    let all_calls = |rec: &Recorder| -> Vec<String> {
        rec.calls()
            .into_iter()
            .filter(|c| !c.starts_with(r#"["connection_established""#))
            .collect()
    };
    assert_eq!(
        all_calls(&all),
        [
            r#"["tick",1,{"x":2}]"#,
            r#"["tick",1,{"x":2}]"#,
            r#"["trigger_done",{"count":2}]"#
        ]
    );
    assert_eq!(errors.len(), 2, "{:?}", errors.calls());
    let m = agent.metrics().unwrap();
    assert_eq!(
        get(&get(&m, "errors"), "CALLBACK_ERROR").as_f64(),
        Some(2.0)
    );

    // Unsubscribe by the returned function and by (name, cb).
    off_a.call0(&JsValue::UNDEFINED).unwrap();
    assert!(agent.unsubscribe("tick", &b.f().into()));
    assert!(!agent.unsubscribe("tick", &b.f().into()));
    off_all.call0(&JsValue::UNDEFINED).unwrap();
    agent
        .emit(
            "trigger",
            Some(js(r#"{"event":"tick","args":[3],"count":1}"#)),
            None,
        )
        .unwrap();
    assert!(wait_until(3000, || done.len() == 2).await);
    assert_eq!(a.len(), 2);
    assert_eq!(b.len(), 2);
    assert_eq!(o.len(), 1);
    assert_eq!(all_calls(&all).len(), 3);
    assert_eq!(errors.len(), 3, "the thrower is still subscribed");
    agent.close();
    assert_eq!(agent.held_callbacks(), 0);
}

#[wasm_bindgen_test]
async fn unsubscribe_functions_are_safe_to_call_any_number_of_times() {
    let agent = connected("").await;
    let rec = Recorder::new();
    let off = agent.subscribe("tick", rec.f()).unwrap();
    let off_once = agent.once("tick", rec.f()).unwrap();
    let off_state = agent.on_state_change(rec.f()).unwrap();
    let done = Recorder::new();
    agent.subscribe("trigger_done", done.f()).unwrap();
    agent
        .emit(
            "trigger",
            Some(js(r#"{"event":"tick","args":[1],"count":1}"#)),
            None,
        )
        .unwrap();
    assert!(wait_until(3000, || done.len() == 1).await);
    // After the once fired, twice in a row, and after the manager is gone:
    // no throw, no effect.
    off_once.call0(&JsValue::UNDEFINED).unwrap();
    off.call0(&JsValue::UNDEFINED).unwrap();
    off.call0(&JsValue::UNDEFINED).unwrap();
    agent.close();
    off_state.call0(&JsValue::UNDEFINED).unwrap();
    drop(agent);
    off.call0(&JsValue::UNDEFINED).unwrap();
}

#[wasm_bindgen_test]
fn every_kind_of_listener_is_held_until_its_unsubscribe_or_close() {
    let agent = manager("");
    let rec = Recorder::new();
    let offs = [
        agent.on_state_change(rec.f()).unwrap(),
        agent.on_error(rec.f()).unwrap(),
        agent.subscribe_state("world", rec.f()).unwrap(),
        agent.on_conflict("world", rec.f()).unwrap(),
    ];
    assert_eq!(agent.held_callbacks(), 4);
    assert_eq!(agent.subscriber_count(), 0, "events only");
    offs[2].call0(&JsValue::UNDEFINED).unwrap();
    offs[2].call0(&JsValue::UNDEFINED).unwrap();
    assert_eq!(agent.held_callbacks(), 3);
    agent.subscribe_state("user:u1", rec.f()).unwrap();
    agent.close();
    assert_eq!(agent.held_callbacks(), 0);
    drop(agent);
    for off in &offs {
        off.call0(&JsValue::UNDEFINED).unwrap();
    }
}

#[wasm_bindgen_test]
async fn state_inputs_that_are_not_json_data_are_refused() {
    let agent = manager("");
    // A cycle, and nesting deeper than any document.
    let cyclic = js(r#"{"a":{}}"#);
    Reflect::set(&get(&cyclic, "a"), &JsValue::from_str("back"), &cyclic).unwrap();
    let err = rejection(agent.update_state("world", cyclic.clone(), None)).await;
    assert_eq!(get_str(&err, "code"), "INVALID_PAYLOAD");
    let err = rejection(agent.replace_state("world", cyclic, None)).await;
    assert_eq!(get_str(&err, "code"), "INVALID_PAYLOAD");
    let deep = js(&format!("{}1{}", "[".repeat(200), "]".repeat(200)));
    let err = rejection(agent.update_state("world", deep, None)).await;
    assert_eq!(get_str(&err, "code"), "INVALID_PAYLOAD");
    assert_eq!(agent.held_callbacks(), 0, "nothing waits for them");
    agent.close();
}

#[wasm_bindgen_test]
async fn unsubscribing_and_emitting_inside_a_callback_is_safe() {
    let agent = std::rc::Rc::new(connected("").await);
    let first_calls = Recorder::new();
    let b = Recorder::new();
    let done = Recorder::new();
    agent.subscribe("trigger_done", done.f()).unwrap();
    // The first subscriber ends itself and the next one, then emits through
    // the manager: all from inside the dispatch that called it.
    let holder = js_sys::Object::new();
    let first = Function::new_with_args(
        "holder, log",
        "return (...args) => { log(args[0]); holder.offSelf(); holder.offB(); holder.emitRecord(); }",
    )
    .call2(&JsValue::UNDEFINED, &holder, &first_calls.f())
    .unwrap();
    let off_self = agent.subscribe("tick", first.into()).unwrap();
    let off_b = agent.subscribe("tick", b.f()).unwrap();
    let key = unique("reentrant");
    let emit_record = Closure::<dyn Fn()>::new({
        let agent = agent.clone();
        let payload = format!(r#"{{"key":"{key}"}}"#);
        move || agent.emit("record", Some(js(&payload)), None).unwrap()
    });
    Reflect::set(&holder, &"offSelf".into(), &off_self).unwrap();
    Reflect::set(&holder, &"offB".into(), &off_b).unwrap();
    Reflect::set(&holder, &"emitRecord".into(), emit_record.as_ref()).unwrap();
    agent
        .emit(
            "trigger",
            Some(js(r#"{"event":"tick","args":[1],"count":3}"#)),
            None,
        )
        .unwrap();
    assert!(wait_until(3000, || done.len() == 1).await);
    assert_eq!(
        first_calls.calls(),
        ["[1]"],
        "called once, then it was gone"
    );
    assert_eq!(
        b.len(),
        0,
        "removed by an earlier callback of the same dispatch"
    );
    let count =
        JsFuture::from(agent.request("count", Some(js(&format!(r#"{{"key":"{key}"}}"#))), None))
            .await
            .unwrap();
    assert_eq!(
        get(&count, "count").as_f64(),
        Some(1.0),
        "the emit made inside the callback went out once"
    );
    assert_eq!(agent.subscriber_count(), 1);
    drop(emit_record);
    agent.close();
}

#[wasm_bindgen_test]
async fn events_on_the_fast_path_and_through_the_core_reach_the_same_subscribers() {
    let agent = connected("").await;
    let before = agent.metrics().unwrap();
    let all = Recorder::new();
    let names = Recorder::new();
    // Plain `42["tick",...]` frames take the JS fast path; `binary_data`
    // (attachments) and `query_response` while a request waits go through
    // the core. Both kinds reach catch-all and named subscribers alike.
    agent.subscribe_all(names.f()).unwrap();
    agent.subscribe("tick", all.f()).unwrap();
    agent.subscribe("binary_data", all.f()).unwrap();
    agent.subscribe("query_response", all.f()).unwrap();
    let done = Recorder::new();
    agent.subscribe("trigger_done", done.f()).unwrap();
    agent
        .emit(
            "trigger",
            Some(js(r#"{"event":"tick","args":[1],"count":3}"#)),
            None,
        )
        .unwrap();
    agent
        .emit("binary_push", Some(js(r#"{"bytes":[7],"count":1}"#)), None)
        .unwrap();
    let reply = JsFuture::from(agent.request("query", Some(js(r#"{"content":"hi"}"#)), None))
        .await
        .unwrap();
    assert_eq!(get_str(&reply, "content"), "reply to hi");
    assert!(wait_until(3000, || done.len() == 1 && all.len() >= 4).await);
    let seen: Vec<String> = names
        .calls()
        .into_iter()
        .map(|c| c.split(',').next().unwrap_or("").to_owned())
        .collect();
    for name in [r#"["tick""#, r#"["binary_data""#, r#"["trigger_done""#] {
        assert!(
            seen.iter().any(|s| s == name),
            "{name} missing from {seen:?}"
        );
    }
    assert_eq!(seen.iter().filter(|s| *s == r#"["tick""#).count(), 3);
    let bin = all.arg(3, 0);
    assert!(
        bin.is_object() && buffer_bytes(&get(&bin, "data")) == [7],
        "{:?}",
        all.calls()
    );
    // The fast path's events are counted and timed like the others.
    let m = agent.metrics().unwrap();
    let dispatched = get(&m, "eventsDispatched").as_f64().unwrap()
        - get(&before, "eventsDispatched").as_f64().unwrap();
    assert!(
        dispatched >= 5.0,
        "tick x3, binary_data, trigger_done: {dispatched}"
    );
    let frames = get(&m, "framesIn").as_f64().unwrap() - get(&before, "framesIn").as_f64().unwrap();
    assert!(
        frames >= dispatched,
        "{frames} frames for {dispatched} events"
    );
    assert!(
        get(&m, "dispatchP50Us").as_f64().is_some(),
        "{}",
        stringify(&m)
    );
    agent.close();
}

#[wasm_bindgen_test]
async fn a_subscriber_may_close_the_manager_and_then_throw() {
    let agent = std::rc::Rc::new(connected("").await);
    let after = Recorder::new();
    let close = Closure::<dyn Fn()>::new({
        let agent = agent.clone();
        move || agent.close()
    });
    let closer = Function::new_with_args(
        "close",
        "return () => { close(); throw new Error('after close'); }",
    )
    .call1(&JsValue::UNDEFINED, close.as_ref())
    .unwrap();
    agent.subscribe("tick", closer.into()).unwrap();
    agent.subscribe("tick", after.f()).unwrap();
    agent
        .emit(
            "trigger",
            Some(js(r#"{"event":"tick","args":[1],"count":2}"#)),
            None,
        )
        .unwrap();
    assert!(wait_until(3000, || agent.state() == "closed").await);
    sleep(100).await;
    assert_eq!(after.len(), 0, "the manager closed before the next call");
    assert_eq!(agent.held_callbacks(), 0);
    drop(close);
}

// ----- requests -----------------------------------------------------------------

#[wasm_bindgen_test]
async fn request_settled_by_an_ack() {
    let agent = connected("").await;
    let reply = JsFuture::from(agent.request("echo", Some(js(r#"{"hello":"world"}"#)), None))
        .await
        .unwrap();
    assert_eq!(get_str(&reply, "hello"), "world");
    assert!(
        !get_str(&reply, "request_id").is_empty(),
        "request_id is added: {}",
        stringify(&reply)
    );
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
    assert_eq!(
        errors.len(),
        0,
        "an error with a request_id belongs to its request"
    );

    // Without request_id: onError, nothing else rejects.
    let other = agent.request(
        "query",
        Some(js(r#"{"content":"silent"}"#)),
        Some(js(r#"{"timeout":5000}"#)),
    );
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
    let err = rejection(agent.request(
        "query",
        Some(js(r#"{"content":"silent"}"#)),
        Some(js(r#"{"timeout":50}"#)),
    ))
    .await;
    assert_eq!(get_str(&err, "code"), "TIMEOUT");
    let m = agent.metrics().unwrap();
    assert_eq!(get(&m, "timeouts").as_f64(), Some(2.0));
    assert_eq!(agent.pending_count(), 0);
    agent.close();
}

#[wasm_bindgen_test]
async fn deadlines_fire_on_time_while_the_timer_is_armed_early() {
    // The timer is not re-armed for a later deadline (it fires early and
    // the core fires only what is due). A silent request with 400 ms must
    // time out at 400 ms while answered 5 s requests come and go, and after
    // that early timer fired a later deadline must be armed again.
    let agent = connected(r#""timeout":5000"#).await;
    let started = js_sys::Date::now();
    let silent = agent.request(
        "query",
        Some(js(r#"{"content":"silent"}"#)),
        Some(js(r#"{"timeout":400}"#)),
    );
    for i in 0..5 {
        let reply =
            JsFuture::from(agent.request("echo", Some(js(&format!(r#"{{"i":{i}}}"#))), None))
                .await
                .unwrap();
        assert_eq!(
            get(&reply, "i").as_f64(),
            Some(f64::from(i)),
            "{}",
            stringify(&reply)
        );
    }
    let err = rejection(silent).await;
    assert_eq!(get_str(&err, "code"), "TIMEOUT");
    let waited = js_sys::Date::now() - started;
    assert!(
        (390.0..2000.0).contains(&waited),
        "timed out after {waited} ms"
    );
    let started = js_sys::Date::now();
    let err = rejection(agent.request(
        "query",
        Some(js(r#"{"content":"silent"}"#)),
        Some(js(r#"{"timeout":300}"#)),
    ))
    .await;
    assert_eq!(get_str(&err, "code"), "TIMEOUT");
    let waited = js_sys::Date::now() - started;
    assert!(
        (290.0..2000.0).contains(&waited),
        "timed out after {waited} ms"
    );
    assert_eq!(agent.pending_count(), 0);
    agent.close();
}

#[wasm_bindgen_test]
async fn request_aborted_by_its_signal() {
    let agent = connected("").await;
    let controller = web_sys::AbortController::new().unwrap();
    let opts = js_sys::Object::new();
    Reflect::set(&opts, &"signal".into(), &controller.signal()).unwrap();
    let p = agent.request(
        "query",
        Some(js(r#"{"content":"silent"}"#)),
        Some(opts.clone().into()),
    );
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
        JsFuture::from(agent.broadcast_event("notification", js(r#"{"message":"hello table"}"#)))
            .await
            .unwrap();
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
    agent
        .emit(
            "record",
            Some(payload.clone()),
            Some(js(r#"{"volatile":true}"#)),
        )
        .unwrap();
    assert_eq!(
        get(&agent.metrics().unwrap(), "buffered").as_f64(),
        Some(1.0)
    );
    JsFuture::from(agent.connect()).await.unwrap();
    // Sent in order: the buffered emit arrives before this request.
    let reply = JsFuture::from(agent.request("count", Some(payload.clone()), None))
        .await
        .unwrap();
    assert_eq!(get(&reply, "count").as_f64(), Some(1.0));
    sleep(200).await;
    let reply = JsFuture::from(agent.request("count", Some(payload), None))
        .await
        .unwrap();
    assert_eq!(get(&reply, "count").as_f64(), Some(1.0), "delivered once");
    agent.close();
}

/// The numbers the server got for `key` through `sequence`, in arrival order.
async fn sequence_of(agent: &AgentManager, key: &str) -> Vec<f64> {
    let reply = JsFuture::from(agent.request(
        "sequence_of",
        Some(js(&format!(r#"{{"key":"{key}"}}"#))),
        None,
    ))
    .await
    .unwrap();
    js_sys::Array::from(&get(&reply, "seq"))
        .iter()
        .filter_map(|n| n.as_f64())
        .collect()
}

/// Emits `sequence {key, n}` with `options` (a JS expression, or none).
fn emit_n(agent: &AgentManager, key: &str, n: u32, options: Option<&str>) {
    agent
        .emit(
            "sequence",
            Some(js(&format!(r#"{{"key":"{key}","n":{n}}}"#))),
            options.map(js_expr),
        )
        .unwrap();
}

#[wasm_bindgen_test]
async fn buffered_emits_and_requests_leave_by_priority() {
    let agent = manager("");
    let key = unique("priority");
    emit_n(&agent, &key, 1, Some("({ priority: 'low' })"));
    emit_n(&agent, &key, 2, None);
    emit_n(&agent, &key, 3, Some("({ priority: 'high' })"));
    emit_n(
        &agent,
        &key,
        4,
        Some("({ priority: 'normal', volatile: false })"),
    );
    emit_n(&agent, &key, 5, Some("({ priority: 'low' })"));
    let echo = agent.request(
        "echo",
        Some(js(r#"{"first":true}"#)),
        Some(js_expr("({ priority: 'high', timeout: 5000 })")),
    );
    assert_eq!(
        stringify(&get(&agent.metrics().unwrap(), "bufferedByPriority")),
        r#"{"high":2,"normal":2,"low":2}"#
    );
    JsFuture::from(agent.connect()).await.unwrap();
    assert_eq!(
        get(&JsFuture::from(echo).await.unwrap(), "first").as_bool(),
        Some(true)
    );
    assert_eq!(sequence_of(&agent, &key).await, [3.0, 2.0, 4.0, 1.0, 5.0]);
    // A bad priority is the call's INVALID_OPTIONS.
    let err = agent
        .emit("sequence", None, Some(js_expr("({ priority: 'urgent' })")))
        .unwrap_err();
    assert_eq!(get_str(&err, "code"), "INVALID_OPTIONS");
    assert_eq!(
        get_str(&err, "message"),
        r#"emit option priority must be 'high', 'normal' or 'low', got "urgent""#
    );
    let err =
        rejection(agent.request("echo", Some(js("{}")), Some(js_expr("({ priority: 1 })")))).await;
    assert_eq!(get_str(&err, "code"), "INVALID_OPTIONS");
    agent.close();
}

#[wasm_bindgen_test]
async fn a_congested_socket_holds_emits_and_releases_them_by_priority() {
    // With a mark of 0 the first send congests the socket: the browser
    // counts what it sends in bufferedAmount until the network has it,
    // which is never within the task that sent it.
    let agent = connected(r#""highWaterMark":0"#).await;
    let key = unique("congested");
    emit_n(&agent, &key, 1, None);
    let m = agent.metrics().unwrap();
    assert_eq!(
        get(&m, "congested").as_bool(),
        Some(true),
        "{}",
        stringify(&m)
    );
    emit_n(&agent, &key, 2, Some("({ priority: 'low' })"));
    emit_n(&agent, &key, 3, Some("({ priority: 'high' })"));
    emit_n(&agent, &key, 4, None);
    assert_eq!(
        get(&agent.metrics().unwrap(), "buffered").as_f64(),
        Some(3.0)
    );
    // The core asks again every 50 ms; the socket drains, the buffer leaves.
    assert!(
        wait_until(3000, || get(&agent.metrics().unwrap(), "buffered").as_f64()
            == Some(0.0))
        .await
    );
    assert_eq!(sequence_of(&agent, &key).await, [1.0, 3.0, 4.0, 2.0]);
    agent.close();
    assert_eq!(agent.held_callbacks(), 0);
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
        r#"{"url":"http://x","namespace":"/a,b"}"#,
        r#"[]"#,
        r#""http://x""#,
    ] {
        let err = AgentManager::new(js(bad))
            .err()
            .unwrap_or_else(|| panic!("{bad} was accepted"));
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
    let err =
        rejection(agent.request("echo", Some(js("{}")), Some(js(r#"{"timeout":"x"}"#)))).await;
    assert_eq!(get_str(&err, "code"), "INVALID_OPTIONS");
    let err = rejection(agent.request("echo", Some(js("{}")), Some(js(r#"{"timout":1}"#)))).await;
    assert_eq!(get_str(&err, "code"), "INVALID_OPTIONS");
    let err = rejection(agent.request("echo", Some(js("[1]")), None)).await;
    assert_eq!(
        get_str(&err, "code"),
        "INVALID_PAYLOAD",
        "a request payload must be an object"
    );
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
            let off = agent
                .subscribe(&format!("event-{}", i % 97), f.clone())
                .unwrap();
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
    assert_eq!(
        wasm_memory_bytes(),
        before,
        "wasm memory grew over 100,000 subscribe/unsubscribe cycles"
    );

    // Listeners and subscriptions left in place are released by close().
    agent.subscribe("x", f.clone()).unwrap();
    agent.on_state_change(f.clone()).unwrap();
    agent.on_error(f.clone()).unwrap();
    assert!(agent.held_callbacks() > 0);
    agent.close();
    assert_eq!(agent.held_callbacks(), 0);
    assert!(
        agent.subscribe("x", f).is_err(),
        "a closed manager takes no subscriptions"
    );
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

#[wasm_bindgen_test]
async fn managers_connected_used_and_freed_leave_no_growth() {
    // One connected manager with subscribers, a request and a state
    // listener, then freed: after warm-up, wasm memory stays put.
    async fn cycle() {
        let agent = connected("").await;
        let rec = Recorder::new();
        let _off = agent.subscribe("typing_status", rec.f()).unwrap();
        let _off2 = agent.on_state_change(rec.f()).unwrap();
        let _off3 = agent.on_error(rec.f()).unwrap();
        let reply = JsFuture::from(agent.request("echo", Some(js(r#"{"n":1}"#)), None))
            .await
            .unwrap();
        assert_eq!(get(&reply, "n").as_f64(), Some(1.0));
        agent.disconnect();
        drop(agent); // what JS free() does
    }
    for _ in 0..20 {
        cycle().await;
    }
    let before = wasm_memory_bytes();
    for _ in 0..200 {
        cycle().await;
    }
    assert_eq!(
        wasm_memory_bytes(),
        before,
        "200 connect/use/free cycles grew wasm memory"
    );
}

// ----- binary payloads ------------------------------------------------------------

/// `seen` of a binary_echo reply: path -> hex of every Buffer the server got.
fn seen_by_server(reply: &JsValue) -> Vec<(String, String)> {
    js_sys::Array::from(&get(reply, "seen"))
        .iter()
        .map(|e| (get_str(&e, "path"), get_str(&e, "hex")))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[wasm_bindgen_test]
async fn binary_payloads_round_trip_both_ways() {
    let agent = connected("").await;
    let all: Vec<u8> = (0..=255).collect();
    // An ArrayBuffer, a typed-array window on a bigger buffer, a DataView
    // deep inside, an empty buffer, next to plain JSON.
    let payload = js_expr(
        "(() => { const all = new Uint8Array(256).map((_, i) => i); \
           return { text: 'hi', blob: all.buffer, \
                    view: new Uint8Array(all.buffer, 10, 10), \
                    nested: [1, { dv: new DataView(all.buffer, 250, 6) }], \
                    empty: new ArrayBuffer(0), \
                    u16: new Uint16Array([258, 772]) }; })()",
    );
    let reply = JsFuture::from(agent.request("binary_echo", Some(payload), None))
        .await
        .unwrap();
    // What the server received, byte for byte.
    let mut seen = seen_by_server(&reply);
    seen.sort();
    let mut expected = vec![
        ("$.blob".to_owned(), hex(&all)),
        ("$.view".to_owned(), hex(&all[10..20])),
        ("$.nested[1].dv".to_owned(), hex(&all[250..256])),
        ("$.empty".to_owned(), String::new()),
        ("$.u16".to_owned(), "02010403".to_owned()), // little endian 258, 772
    ];
    expected.sort();
    assert_eq!(seen, expected);
    // What came back: the same bytes, as ArrayBuffers where the Buffers were.
    let echo = get(&reply, "echo");
    assert_eq!(get_str(&echo, "text"), "hi");
    assert!(!get_str(&echo, "request_id").is_empty());
    assert_eq!(buffer_bytes(&get(&echo, "blob")), all);
    assert_eq!(buffer_bytes(&get(&echo, "view")), &all[10..20]);
    let nested = js_sys::Array::from(&get(&echo, "nested"));
    assert_eq!(nested.get(0).as_f64(), Some(1.0));
    assert_eq!(buffer_bytes(&get(&nested.get(1), "dv")), &all[250..256]);
    assert_eq!(buffer_bytes(&get(&echo, "empty")), Vec::<u8>::new());
    assert_eq!(buffer_bytes(&get(&echo, "u16")), [2, 1, 4, 3]);

    // Server to client: BINARY_EVENTs to subscribers, and a reply event
    // with binary data that settles its request with the bytes.
    server_sends_binary(&agent).await;

    // A binary emit (fire and forget) arrives once.
    let key = unique("binary-emit");
    let payload = js_expr(&format!(
        "({{ key: '{key}', data: new Uint8Array([1, 2, 3]) }})"
    ));
    agent.emit("record", Some(payload), None).unwrap();
    let reply =
        JsFuture::from(agent.request("count", Some(js(&format!(r#"{{"key":"{key}"}}"#))), None))
            .await
            .unwrap();
    assert_eq!(get(&reply, "count").as_f64(), Some(1.0));
    agent.close();
}

#[wasm_bindgen_test]
async fn buffered_binary_emits_and_requests_keep_their_bytes() {
    let agent = manager("");
    let key = unique("binary-buffered");
    agent
        .emit(
            "record",
            Some(js_expr(&format!(
                "({{ key: '{key}', data: new Uint8Array([5, 6]).buffer }})"
            ))),
            None,
        )
        .unwrap();
    let pending = agent.request(
        "binary_echo",
        Some(js_expr("({ data: new Uint8Array([42, 43, 44]) })")),
        None,
    );
    assert_eq!(
        get(&agent.metrics().unwrap(), "buffered").as_f64(),
        Some(2.0)
    );
    JsFuture::from(agent.connect()).await.unwrap();
    let reply = JsFuture::from(pending).await.unwrap();
    assert_eq!(
        seen_by_server(&reply),
        [("$.data".to_owned(), "2a2b2c".to_owned())]
    );
    assert_eq!(
        buffer_bytes(&get(&get(&reply, "echo"), "data")),
        [42, 43, 44]
    );
    let reply =
        JsFuture::from(agent.request("count", Some(js(&format!(r#"{{"key":"{key}"}}"#))), None))
            .await
            .unwrap();
    assert_eq!(
        get(&reply, "count").as_f64(),
        Some(1.0),
        "the buffered binary emit arrives once"
    );
    agent.close();
}

// ----- lost links -------------------------------------------------------------------

#[wasm_bindgen_test]
async fn a_retry_request_survives_a_dropped_link() {
    let agent = connected(r#""reconnectionDelay":100,"randomizationFactor":0"#).await;
    let states = Recorder::new();
    agent.on_state_change(states.f()).unwrap();
    let retried = agent.request(
        "slow_echo",
        Some(js(r#"{"delayMs":600,"n":1}"#)),
        Some(js(r#"{"retry":true}"#)),
    );
    let plain = agent.request("slow_echo", Some(js(r#"{"delayMs":600,"n":2}"#)), None);
    agent.emit("drop_link", None, None).unwrap();
    let err = rejection(plain).await;
    assert_eq!(get_str(&err, "code"), "DISCONNECTED");
    // Re-sent once after the reconnect, answered by the server then.
    let reply = JsFuture::from(retried).await.unwrap();
    assert_eq!(get(&reply, "n").as_f64(), Some(1.0));
    assert_eq!(
        states.calls().first().map(String::as_str),
        Some(r#"["reconnecting","transport close"]"#)
    );
    assert_eq!(
        states.calls().last().map(String::as_str),
        Some(r#"["connected","reconnected"]"#)
    );
    assert_eq!(agent.pending_count(), 0);
    agent.close();
}

#[wasm_bindgen_test]
async fn offline_and_online_events_drop_and_restore_the_link() {
    let agent = connected(r#""reconnectionDelay":100,"randomizationFactor":0"#).await;
    let states = Recorder::new();
    agent.on_state_change(states.f()).unwrap();
    let in_flight = agent.request("slow_echo", Some(js(r#"{"delayMs":1000}"#)), None);
    dispatch_window_event("offline");
    assert_eq!(
        agent.state(),
        "reconnecting",
        "offline drops the link at once"
    );
    assert_eq!(states.calls(), [r#"["reconnecting","network offline"]"#]);
    assert_eq!(get_str(&rejection(in_flight).await, "code"), "DISCONNECTED");
    // No attempt while offline, however long.
    let key = unique("offline");
    agent
        .emit("record", Some(js(&format!(r#"{{"key":"{key}"}}"#))), None)
        .unwrap();
    sleep(600).await;
    assert_eq!(agent.state(), "reconnecting");
    assert_eq!(states.len(), 1, "{:?}", states.calls());
    // Online: tries at once, flushes the buffer.
    dispatch_window_event("online");
    assert!(
        wait_until(3000, || agent.state() == "connected").await,
        "{:?}",
        states.calls()
    );
    assert_eq!(
        states.calls().last().map(String::as_str),
        Some(r#"["connected","reconnected"]"#)
    );
    let reply =
        JsFuture::from(agent.request("count", Some(js(&format!(r#"{{"key":"{key}"}}"#))), None))
            .await
            .unwrap();
    assert_eq!(get(&reply, "count").as_f64(), Some(1.0));
    agent.close();
}

// ----- a server killed and restarted, a server that stops pinging ---------------------

/// tests/servers/node_chaos.mjs: control endpoint, restartable socket.io
/// server, Engine.IO server that stops pinging.
const CHAOS_CONTROL: &str = ports::chaos_control::HTTP;
const CHAOS_SIO: &str = ports::chaos_sio::HTTP;
const CHAOS_SILENT: &str = ports::chaos_silent::HTTP;

async fn chaos_count(key: &str) -> f64 {
    get(
        &fetch_json("GET", &format!("{CHAOS_CONTROL}/control/count?key={key}")).await,
        "count",
    )
    .as_f64()
    .unwrap()
}

#[wasm_bindgen_test]
async fn server_killed_and_restarted_mid_traffic() {
    let agent = connected_at(
        CHAOS_SIO,
        r#""reconnectionDelay":100,"reconnectionDelayMax":400,"randomizationFactor":0"#,
    )
    .await;
    let states = Recorder::new();
    agent.on_state_change(states.f()).unwrap();
    let before = unique("before-kill");
    let during = unique("during-kill");
    let record = |key: &str| agent.emit("record", Some(js(&format!(r#"{{"key":"{key}"}}"#))), None);

    // Traffic while up: emits the server has counted, requests in flight.
    for _ in 0..5 {
        record(&before).unwrap();
    }
    let counted =
        JsFuture::from(agent.request("count", Some(js(&format!(r#"{{"key":"{before}"}}"#))), None))
            .await
            .unwrap();
    assert_eq!(get(&counted, "count").as_f64(), Some(5.0));
    let plain = agent.request("slow_echo", Some(js(r#"{"delayMs":1500,"n":1}"#)), None);
    let retried = agent.request(
        "slow_echo",
        Some(js(r#"{"delayMs":300,"n":2}"#)),
        Some(js(r#"{"retry":true}"#)),
    );
    sleep(50).await;

    // Kill: every connection destroyed, the port closed for 800 ms.
    let killed = fetch_json(
        "POST",
        &format!("{CHAOS_CONTROL}/control/restart?downMs=800"),
    )
    .await;
    assert_eq!(get(&killed, "ok").as_bool(), Some(true));
    assert!(
        wait_until(3000, || agent.state() == "reconnecting").await,
        "{:?}",
        states.calls()
    );
    assert_eq!(get_str(&rejection(plain).await, "code"), "DISCONNECTED");

    // Traffic while down: buffered, sent once after the reconnect.
    for _ in 0..5 {
        record(&during).unwrap();
    }
    let buffered = agent.request("echo", Some(js(r#"{"buffered":true}"#)), None);
    assert!(get(&agent.metrics().unwrap(), "buffered").as_f64().unwrap() >= 6.0);

    assert!(
        wait_until(8000, || agent.state() == "connected").await,
        "{:?}",
        states.calls()
    );
    let reply = JsFuture::from(retried).await.unwrap();
    assert_eq!(
        get(&reply, "n").as_f64(),
        Some(2.0),
        "the retry request succeeds after the reconnect"
    );
    let reply = JsFuture::from(buffered).await.unwrap();
    assert_eq!(get(&reply, "buffered").as_bool(), Some(true));
    // Exactly once, counted by the server across its restart.
    sleep(300).await;
    assert_eq!(
        chaos_count(&during).await,
        5.0,
        "buffered emits arrive exactly once"
    );
    assert_eq!(
        chaos_count(&before).await,
        5.0,
        "emits sent before the kill are not sent again"
    );

    let calls = states.calls();
    assert!(
        calls
            .first()
            .is_some_and(|c| c.starts_with(r#"["reconnecting","transport "#)),
        "{calls:?}"
    );
    assert_eq!(
        calls.last().map(String::as_str),
        Some(r#"["connected","reconnected"]"#)
    );
    assert_eq!(
        get(&agent.metrics().unwrap(), "reconnects").as_f64(),
        Some(1.0)
    );
    assert_eq!(
        get(
            &fetch_json("GET", &format!("{CHAOS_CONTROL}/control/status")).await,
            "up"
        )
        .as_bool(),
        Some(true)
    );
    assert_eq!(agent.pending_count(), 0);
    agent.close();
}

#[wasm_bindgen_test]
async fn a_server_that_stops_pinging_is_detected() {
    // pingInterval 300 + pingTimeout 200: two pings, then silence.
    let tag = unique("silent");
    let agent = connected_at(
        CHAOS_SILENT,
        &format!(r#""query":{{"tag":"{tag}","pings":"2"}},"reconnectionDelay":5000,"randomizationFactor":0"#),
    )
    .await;
    let states = Recorder::new();
    agent.on_state_change(states.f()).unwrap();
    let joined_at = js_sys::Date::now();
    assert!(wait_until(5000, || agent.state() != "connected").await);
    let detected_after = js_sys::Date::now() - joined_at;
    assert_eq!(states.calls(), [r#"["reconnecting","ping timeout"]"#]);
    // Two pings (at ~300 and ~600 ms), then pingInterval + pingTimeout.
    assert!(
        (900.0..2500.0).contains(&detected_after),
        "detected after {detected_after} ms"
    );
    assert!(get(&agent.metrics().unwrap(), "lastPingMs")
        .as_f64()
        .is_some());

    // The server's view: both pings answered, the socket closed about
    // pingInterval + pingTimeout (500 ms) after the last ping.
    sleep(100).await;
    let log = js_sys::Array::from(
        &fetch_json("GET", &format!("{CHAOS_CONTROL}/control/silent?tag={tag}")).await,
    );
    assert_eq!(log.length(), 1, "{}", stringify(&log));
    let conn = log.get(0);
    assert_eq!(get(&conn, "joined").as_bool(), Some(true));
    assert_eq!(get(&conn, "pings").as_f64(), Some(2.0));
    assert_eq!(get(&conn, "pongs").as_f64(), Some(2.0));
    let silence =
        get(&conn, "closedAt").as_f64().unwrap() - get(&conn, "lastPingAt").as_f64().unwrap();
    assert!(
        (450.0..1500.0).contains(&silence),
        "closed {silence} ms after the last ping"
    );
    agent.close();
}

#[wasm_bindgen_test]
fn cyclic_payloads_are_invalid_with_or_without_binary_data() {
    let agent = manager("");
    for expr in [
        "(() => { const o = { b: new ArrayBuffer(1) }; o.self = o; return o; })()",
        "(() => { const o = { n: 1 }; o.self = [o]; return o; })()",
    ] {
        let err = agent.emit("record", Some(js_expr(expr)), None).unwrap_err();
        assert_eq!(get_str(&err, "code"), "INVALID_PAYLOAD", "{expr}");
    }
    // The same object twice (not a cycle) is fine, and so are Dates.
    let shared = js_expr(
        "(() => { const b = new Uint8Array([1]); return { a: b, b: [b], d: new Date(0) }; })()",
    );
    agent.emit("record", Some(shared), None).unwrap();
    assert_eq!(
        get(&agent.metrics().unwrap(), "buffered").as_f64(),
        Some(1.0)
    );
    agent.close();
}

/// Binary data past the depth limit used to be missed by the search and
/// sent by `JSON.stringify` as `{}`; it is refused, and shallower it is
/// still sent as an attachment. Far deeper nesting must not overflow the
/// search either.
#[wasm_bindgen_test]
fn binary_data_deeper_than_the_limit_is_refused_not_sent_as_an_empty_object() {
    let agent = manager("");
    let nest = |levels: u32, leaf: &str| {
        js_expr(&format!("(() => {{ let v = {leaf}; for (let i = 0; i < {levels}; i++) v = {{ d: v }}; return v; }})()"))
    };
    // Past the core's JSON depth limit (64) the core refuses; past the
    // search limit (100), the search itself does (where `{}` used to go out).
    for levels in [80, 101, 150, 100_000] {
        let err = agent
            .emit("record", Some(nest(levels, "new Uint8Array([7])")), None)
            .unwrap_err();
        assert_eq!(get_str(&err, "code"), "INVALID_PAYLOAD", "{levels} levels");
    }
    for levels in [101, 100_000] {
        let err = agent
            .emit("record", Some(nest(levels, "new Uint8Array([7])")), None)
            .unwrap_err();
        assert!(
            get_str(&err, "message").contains("binary data nested"),
            "{levels}: {}",
            get_str(&err, "message")
        );
    }
    assert_eq!(
        get(&agent.metrics().unwrap(), "buffered").as_f64(),
        Some(0.0),
        "nothing was queued"
    );
    agent
        .emit("record", Some(nest(50, "new Uint8Array([7])")), None)
        .unwrap();
    assert_eq!(
        get(&agent.metrics().unwrap(), "buffered").as_f64(),
        Some(1.0)
    );
    agent.close();
}

/// While the client waits out a reconnection backoff, `nextReconnectAt`
/// says when (in `Date.now()` ms, for a countdown); `connect()` then tries
/// at once instead of waiting (a Retry button).
#[wasm_bindgen_test]
async fn next_reconnect_at_counts_down_and_connect_skips_the_wait() {
    // Nothing listens on port 9: every attempt fails fast.
    let m = manager_at(
        "http://127.0.0.1:9",
        r#""reconnectionDelay":3000,"reconnectionDelayMax":3000,"randomizationFactor":0,"connectTimeout":2000"#,
    );
    assert!(
        m.next_reconnect_at().is_none(),
        "nothing planned before connect()"
    );
    let _ = m.connect();
    assert!(
        wait_until(3000, || m.state() == "reconnecting"
            && m.next_reconnect_at().is_some())
        .await
    );
    let at = m.next_reconnect_at().unwrap();
    let now = js_sys::Date::now();
    assert!(
        at > now + 1500.0 && at <= now + 3100.0,
        "the next attempt is ~3 s away: {}",
        at - now
    );
    // Retry now: an attempt starts at once, so nothing is planned until it fails.
    let _ = m.connect();
    assert!(m.next_reconnect_at().is_none(), "the attempt runs now");
    assert!(
        wait_until(3000, || m.next_reconnect_at().is_some()).await,
        "it failed and the next one is planned"
    );
    assert!(m.metrics().is_ok());
    m.close();
    assert!(m.next_reconnect_at().is_none());
    assert_eq!(m.held_callbacks(), 0);
}
