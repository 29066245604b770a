//! The `auth` option as a function, in headless Chromium: against the Node
//! `socket.io` server (tests/servers/node_sio.mjs on 127.0.0.1:28471, whose
//! `auth_seen` acks the auth of the socket's CONNECT) for the forms the
//! function may take, and against the reference server (`frinny-server
//! --dev` on 127.0.0.1:28477, minting tokens at `/dev/token`) for a token
//! that expires mid-session. `cargo xtask test browser` starts both.
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
use js_sys::Reflect;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const NODE: &str = ports::node_sio::HTTP;
const SERVER: &str = ports::reference::HTTP;

/// A manager with `options` (JSON) and `auth` set to the JS value `auth`.
fn with_auth(options: &str, auth: &JsValue) -> AgentManager {
    let o = js(options);
    Reflect::set(&o, &JsValue::from_str("auth"), auth).unwrap();
    AgentManager::new(o).unwrap()
}

/// How many times the test's auth function was called (it counts itself).
fn calls(f: &JsValue) -> f64 {
    get(f, "calls").as_f64().unwrap()
}

/// The auth the Node server saw in this socket's CONNECT.
async fn auth_seen(agent: &AgentManager) -> String {
    stringify(
        &JsFuture::from(agent.request("auth_seen", None, None))
            .await
            .unwrap(),
    )
}

const FAST: &str = r#""reconnectionDelay":50,"reconnectionDelayMax":200,"randomizationFactor":0"#;

#[wasm_bindgen_test]
async fn the_callback_form_is_asked_before_every_attempt() {
    let auth =
        js_expr("(() => { const f = (cb) => { f.calls += 1; cb({ token: `t${f.calls}` }); }; f.calls = 0; return f; })()");
    let agent = with_auth(&format!(r#"{{"url":"{NODE}",{FAST}}}"#), &auth);
    assert_eq!(calls(&auth), 0.0, "not called before connect()");
    JsFuture::from(agent.connect()).await.unwrap();
    assert_eq!(calls(&auth), 1.0);
    assert_eq!(auth_seen(&agent).await, r#"{"token":"t1"}"#);
    agent.emit("drop_link", None, None).unwrap();
    assert!(
        wait_until(5_000, || agent.state() == "connected"
            && calls(&auth) == 2.0)
        .await,
        "{}",
        agent.state()
    );
    assert_eq!(
        auth_seen(&agent).await,
        r#"{"token":"t2"}"#,
        "the reconnect sent the fresh token"
    );
    assert_eq!(
        agent.held_callbacks(),
        1,
        "the auth function is held while the manager lives"
    );
    agent.close();
    assert_eq!(agent.held_callbacks(), 0);
}

#[wasm_bindgen_test]
async fn a_returned_object_or_promise_is_the_auth() {
    for (form, expr) in [
        ("object", "() => ({ token: 'plain' })"),
        ("promise", "async () => { await new Promise((r) => setTimeout(r, 20)); return { token: 'later' }; }"),
        ("then", "() => Promise.resolve({ token: 'resolved' })"),
    ] {
        let agent = with_auth(&format!(r#"{{"url":"{NODE}"}}"#), &js_expr(expr));
        JsFuture::from(agent.connect()).await.unwrap_or_else(|e| panic!("{form}: {}", stringify(&e)));
        let seen = auth_seen(&agent).await;
        assert!(seen.starts_with(r#"{"token":""#), "{form}: {seen}");
        agent.close();
    }
}

#[wasm_bindgen_test]
async fn an_auth_function_that_fails_is_reported_and_retried_with_backoff() {
    // Throws, then rejects, then yields a number, then a token.
    let auth = js_expr(
        "(() => { const f = () => { f.calls += 1; \
           if (f.calls === 1) throw new Error('no token yet'); \
           if (f.calls === 2) return Promise.reject(new Error('token service down')); \
           if (f.calls === 3) return 42; \
           return { token: 'finally' }; }; f.calls = 0; return f; })()",
    );
    let agent = with_auth(&format!(r#"{{"url":"{NODE}",{FAST}}}"#), &auth);
    let errors = Recorder::new();
    let _off = agent.on_error(errors.f()).unwrap();
    let states = Recorder::new();
    let _off2 = agent.on_state_change(states.f()).unwrap();
    JsFuture::from(agent.connect()).await.unwrap();
    assert_eq!(calls(&auth), 4.0);
    assert_eq!(errors.len(), 3, "{:?}", errors.calls());
    let codes: Vec<String> = (0..3).map(|i| get_str(&errors.arg(i, 0), "code")).collect();
    assert_eq!(codes, ["AUTH_FAILED"; 3]);
    let messages: Vec<String> = (0..3)
        .map(|i| get_str(&errors.arg(i, 0), "message"))
        .collect();
    assert!(messages[0].contains("no token yet"), "{messages:?}");
    assert!(messages[1].contains("token service down"), "{messages:?}");
    assert!(messages[2].contains("object"), "{messages:?}");
    assert!(
        states
            .calls()
            .iter()
            .any(|c| c == r#"["reconnecting","auth failed"]"#),
        "{:?}",
        states.calls()
    );
    assert_eq!(auth_seen(&agent).await, r#"{"token":"finally"}"#);
    let metrics = agent.metrics().unwrap();
    assert_eq!(
        get(&get(&metrics, "errors"), "AUTH_FAILED").as_f64(),
        Some(3.0)
    );
    agent.close();
    assert_eq!(agent.held_callbacks(), 0);
}

#[wasm_bindgen_test]
async fn closing_while_the_auth_function_is_pending_lets_it_go() {
    let auth = js_expr(
        "(() => { const f = () => { f.calls += 1; \
           return new Promise((r) => setTimeout(() => { f.done = true; r({ token: 't' }); }, 150)); }; \
           f.calls = 0; return f; })()",
    );
    let agent = with_auth(&format!(r#"{{"url":"{NODE}"}}"#), &auth);
    let connecting = agent.connect();
    assert!(wait_until(3_000, || calls(&auth) == 1.0).await);
    agent.close();
    assert_eq!(get_str(&rejection(connecting).await, "code"), "CLOSED");
    assert_eq!(agent.held_callbacks(), 0);
    // Its late answer finds nobody and disturbs nothing.
    assert!(wait_until(2_000, || get(&auth, "done").as_bool() == Some(true)).await);
    sleep(20).await;
    assert_eq!(agent.state(), "closed");
}

#[wasm_bindgen_test]
async fn an_auth_function_may_close_the_manager() {
    let slot: Rc<RefCell<Option<Rc<AgentManager>>>> = Rc::new(RefCell::new(None));
    let inside = slot.clone();
    let auth = Closure::<dyn FnMut(JsValue)>::new(move |_cb: JsValue| {
        if let Some(agent) = inside.borrow().as_ref() {
            agent.close();
        }
    });
    let agent = Rc::new(with_auth(&format!(r#"{{"url":"{NODE}"}}"#), auth.as_ref()));
    *slot.borrow_mut() = Some(agent.clone());
    assert_eq!(get_str(&rejection(agent.connect()).await, "code"), "CLOSED");
    assert_eq!(agent.state(), "closed");
    assert_eq!(agent.held_callbacks(), 0);
    slot.borrow_mut().take();
}

#[wasm_bindgen_test]
fn auth_of_another_type_is_invalid_options() {
    for bad in [
        JsValue::from_str("token"),
        JsValue::from_f64(1.0),
        JsValue::TRUE,
    ] {
        let o = js(&format!(r#"{{"url":"{NODE}"}}"#));
        Reflect::set(&o, &JsValue::from_str("auth"), &bad).unwrap();
        let err = AgentManager::new(o)
            .err()
            .unwrap_or_else(|| panic!("auth {bad:?} was accepted"));
        assert_eq!(get_str(&err, "code"), "INVALID_OPTIONS");
    }
}

#[wasm_bindgen_test]
async fn an_expired_token_makes_the_client_reconnect_with_a_fresh_one() {
    let world = unique("expiry");
    // The first token lives two seconds (expiry is checked in whole
    // seconds, so a one-second token may already be over at the first
    // request if a second boundary falls in between); later ones the
    // server's default.
    let auth = js_expr(&format!(
        "(() => {{ const f = async () => {{ f.calls += 1; \
           const ttl = f.calls === 1 ? '&ttl=2' : ''; \
           const r = await fetch(`{SERVER}/dev/token?userId=expiring&role=player&world={world}${{ttl}}`); \
           return {{ token: (await r.json()).token }}; }}; f.calls = 0; return f; }})()"
    ));
    let agent = with_auth(&format!(r#"{{"url":"{SERVER}",{FAST}}}"#), &auth);
    let states = Recorder::new();
    let _off = agent.on_state_change(states.f()).unwrap();
    JsFuture::from(agent.connect()).await.unwrap();
    assert_eq!(calls(&auth), 1.0);
    let reply = JsFuture::from(agent.request("query", Some(js(r#"{"content":"before"}"#)), None))
        .await
        .unwrap();
    assert!(!stringify(&reply).is_empty());

    // Past the expiry (whole seconds): the server refuses the next event
    // and ends the socket.
    sleep(3_100).await;
    let err = rejection(agent.request("query", Some(js(r#"{"content":"expired"}"#)), None)).await;
    assert_eq!(
        get_str(&err, "code"),
        "SERVER_ERROR",
        "{}",
        get_str(&err, "message")
    );
    assert_eq!(get_str(&err, "serverCode"), "TOKEN_EXPIRED");

    // The client reconnects by itself with a fresh token.
    assert!(
        wait_until(5_000, || agent.state() == "connected"
            && calls(&auth) == 2.0)
        .await,
        "{} after {} calls: {:?}",
        agent.state(),
        calls(&auth),
        states.calls()
    );
    assert!(
        states
            .calls()
            .iter()
            .any(|c| c == r#"["reconnecting","token expired"]"#),
        "{:?}",
        states.calls()
    );
    assert_eq!(
        states.calls().last().map(String::as_str),
        Some(r#"["connected","reconnected"]"#)
    );
    let reply = JsFuture::from(agent.request("query", Some(js(r#"{"content":"after"}"#)), None))
        .await
        .unwrap();
    assert!(!stringify(&reply).is_empty());
    assert_eq!(
        get(&agent.metrics().unwrap(), "reconnects").as_f64(),
        Some(1.0)
    );
    agent.close();
    assert_eq!(agent.held_callbacks(), 0);
}
