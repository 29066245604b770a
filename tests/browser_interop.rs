//! `AgentManager` in headless Chromium against servers whose protocol side
//! nobody here wrote:
//!
//! - a python-socketio server speaking the existing Frinny backend contract
//!   (tests/servers/frinny_backend.py on 127.0.0.1:28472): userId query,
//!   replies to the user's room with request_id, typing_status around each
//!   reply, `error` with and without request_id, character_update; and the
//!   server asking the client with `sio.call`, answered by a subscriber's
//!   `ack`;
//! - a plain WebSocket server speaking the action-routed JSON framing
//!   (tests/servers/json_server.mjs on 127.0.0.1:28473) for
//!   `protocol: 'json'`.
//!
//! `cargo xtask test browser` starts both before these tests and stops them.
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
use js_sys::Function;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const PYTHON: &str = ports::python_frinny::HTTP;
const JSON_WS: &str = ports::json_ws::WS;

async fn python_agent(user: &str) -> AgentManager {
    connected_at(PYTHON, &format!(r#""query":{{"userId":"{user}"}}"#)).await
}

async fn json_agent() -> AgentManager {
    connected_at(JSON_WS, r#""protocol":"json""#).await
}

// ----- python-socketio, the Frinny backend contract --------------------------------

#[wasm_bindgen_test]
async fn python_connection_established_names_the_user() {
    let hello = Recorder::new();
    let agent = manager_at(PYTHON, r#""query":{"userId":"alice"}"#);
    agent
        .subscribe("connection_established", hello.f())
        .unwrap();
    JsFuture::from(agent.connect()).await.unwrap();
    assert!(wait_until(2_000, || hello.len() == 1).await);
    let payload = js(&hello.calls()[0]);
    let first = js_sys::Reflect::get_u32(&payload, 0).unwrap();
    assert_eq!(get_str(&first, "userId"), "alice");
    assert_eq!(get_str(&first, "status"), "connected");
    agent.close();
}

#[wasm_bindgen_test]
async fn python_refuses_a_connection_without_user_id() {
    let agent = manager_at(PYTHON, "");
    let err = rejection(agent.connect()).await;
    assert_eq!(get_str(&err, "code"), "CONNECT_REFUSED");
    assert!(
        get_str(&err, "message").contains("userId is required"),
        "{}",
        get_str(&err, "message")
    );
    assert_eq!(agent.state(), "disconnected");
    agent.close();
}

#[wasm_bindgen_test]
async fn python_query_reply_comes_to_the_room_between_typing_statuses() {
    let agent = python_agent(&unique("u")).await;
    let seen = Recorder::new();
    let _off = agent.subscribe_all(seen.f()).unwrap();
    let payload = js(
        r#"{"content":"What is flat-footed?","conversation_history":[{"role":"user","content":"hi"}],"is_public_chat":false}"#,
    );
    let reply = JsFuture::from(agent.send_query(payload)).await.unwrap();
    assert_eq!(get_str(&reply, "content"), "[query] What is flat-footed?");
    assert_eq!(get(&reply, "history_length").as_f64(), Some(1.0));
    assert!(
        !get_str(&reply, "request_id").is_empty(),
        "the reply carries our request_id"
    );
    // typing true, the reply, typing false: in that order.
    assert!(wait_until(2_000, || seen.len() >= 3).await);
    let names: Vec<String> = seen.calls().iter().map(|c| get_str(&js(c), "0")).collect();
    let typing_on = names.iter().position(|n| n == "typing_status").unwrap();
    let reply_at = names.iter().position(|n| n == "query_response").unwrap();
    let typing_off = names.iter().rposition(|n| n == "typing_status").unwrap();
    assert!(typing_on < reply_at && reply_at < typing_off, "{names:?}");
    assert!(seen.calls()[typing_on].contains("true"));
    assert!(seen.calls()[typing_off].contains("false"));
    assert_eq!(agent.pending_count(), 0);
    agent.close();
}

#[wasm_bindgen_test]
async fn python_every_frinny_helper_gets_its_response_event() {
    let agent = python_agent(&unique("u")).await;
    let ctx = || js(r#"{"actorId":"a1","content":"ctx"}"#);
    let cases = [
        (
            agent.notify_character_creation(ctx()),
            "[character_creation_start] ctx",
        ),
        (agent.notify_level_up(ctx()), "[level_up] ctx"),
        (agent.notify_combat_turn(ctx()), "[combat_turn] ctx"),
        (agent.notify_combat_start(ctx()), "[combat_start] ctx"),
    ];
    for (promise, want) in cases {
        let reply = JsFuture::from(promise).await.unwrap();
        assert_eq!(get_str(&reply, "content"), want);
    }
    let feedback = JsFuture::from(agent.submit_feedback("m-1".into(), "positive".into()))
        .await
        .unwrap();
    assert!(get_str(&feedback, "content").starts_with("[feedback]"));
    agent.close();
}

#[wasm_bindgen_test]
async fn python_error_with_request_id_rejects_that_request() {
    let agent = python_agent(&unique("u")).await;
    let errors = Recorder::new();
    let _off = agent.on_error(errors.f()).unwrap();
    let err = rejection(agent.send_query(js(r#"{"content":"fail"}"#))).await;
    assert_eq!(get_str(&err, "code"), "SERVER_ERROR");
    assert_eq!(get_str(&err, "message"), "the model is unavailable");
    assert_eq!(errors.len(), 0, "a request's own error is not an onError");
    agent.close();
}

#[wasm_bindgen_test]
async fn python_error_without_request_id_goes_to_on_error_and_rejects_nothing() {
    let agent = python_agent(&unique("u")).await;
    let errors = Recorder::new();
    let _off = agent.on_error(errors.f()).unwrap();
    let pending = agent.request(
        "query",
        Some(js(r#"{"content":"fail-anonymous"}"#)),
        Some(js(r#"{"timeout":600}"#)),
    );
    assert!(wait_until(2_000, || errors.len() == 1).await);
    assert!(
        errors.calls()[0].contains("SERVER_ERROR") || errors.calls()[0].contains("backend hiccup"),
        "{:?}",
        errors.calls()
    );
    // The request was not the error's (python-socketio's automatic empty ack
    // is only a receipt): it runs into its own timeout.
    let err = rejection(pending).await;
    assert_eq!(get_str(&err, "code"), "TIMEOUT");
    agent.close();
}

#[wasm_bindgen_test]
async fn python_character_update_reaches_subscribers() {
    let agent = python_agent(&unique("u")).await;
    let updates = Recorder::new();
    agent.subscribe("character_update", updates.f()).unwrap();
    JsFuture::from(agent.send_query(js(r#"{"content":"level me"}"#)))
        .await
        .unwrap();
    assert!(wait_until(2_000, || updates.len() == 1).await);
    let update = js_sys::Reflect::get_u32(&js(&updates.calls()[0]), 0).unwrap();
    assert_eq!(get_str(&update, "actorId"), "a1");
    let skills = get(&get(&update, "updates"), "skills");
    assert_eq!(get(&skills, "athletics").as_f64(), Some(2.0));
    agent.close();
}

#[wasm_bindgen_test]
async fn python_replies_only_reach_the_asking_user() {
    let alice = python_agent(&unique("alice")).await;
    let bob = python_agent(&unique("bob")).await;
    let bob_saw = Recorder::new();
    bob.subscribe("query_response", bob_saw.f()).unwrap();
    JsFuture::from(alice.send_query(js(r#"{"content":"private"}"#)))
        .await
        .unwrap();
    sleep(100).await;
    assert_eq!(bob_saw.len(), 0);
    alice.close();
    bob.close();
}

#[wasm_bindgen_test]
async fn python_call_gets_the_subscribers_answer_once() {
    let agent = python_agent(&unique("caller")).await;
    agent
        .subscribe(
            "confirm",
            Function::new_with_args(
                "payload, ack",
                "ack({ sure: payload.question }); ack('again');",
            ),
        )
        .unwrap();
    let report = server_asks(
        &agent,
        r#"{"event":"confirm","args":[{"question":"rest?"}]}"#,
    )
    .await;
    assert_eq!(stringify(&get(&report, "error")), "null");
    assert_eq!(stringify(&get(&report, "answer")), r#"{"sure":"rest?"}"#);
    // The second call sent nothing; it is counted.
    let m = agent.metrics().unwrap();
    assert_eq!(get(&m, "acksDropped").as_f64(), Some(1.0));

    // Several arguments each way.
    agent
        .subscribe(
            "pair",
            Function::new_with_args("a, b, ack", "ack(b, a, 'third');"),
        )
        .unwrap();
    let report = server_asks(&agent, r#"{"event":"pair","args":["x",2]}"#).await;
    assert_eq!(stringify(&get(&report, "answer")), r#"[2,"x","third"]"#);
    agent.close();
    assert_eq!(agent.held_callbacks(), 0);
}

#[wasm_bindgen_test]
async fn python_call_nobody_answers_times_out_and_nothing_is_held() {
    let agent = python_agent(&unique("unanswered")).await;
    let report = server_asks(
        &agent,
        r#"{"event":"nobody_listens","args":[1],"timeoutMs":300}"#,
    )
    .await;
    assert_eq!(get_str(&report, "error"), "timeout");
    agent.close();
    assert_eq!(agent.held_callbacks(), 0);
}

// ----- plain JSON framing ----------------------------------------------------------

#[wasm_bindgen_test]
async fn json_request_matches_the_reply_by_request_id() {
    let agent = json_agent().await;
    let typing = Recorder::new();
    agent.subscribe("typing_status", typing.f()).unwrap();
    let reply = JsFuture::from(agent.request("query", Some(js(r#"{"content":"hi"}"#)), None))
        .await
        .unwrap();
    assert_eq!(get_str(&reply, "action"), "query_response");
    assert_eq!(get_str(&reply, "content"), "echo: hi");
    assert!(wait_until(1_000, || typing.len() == 2).await);
    assert!(typing.calls()[0].contains(r#""isTyping":true"#));
    assert!(typing.calls()[1].contains(r#""isTyping":false"#));
    agent.close();
}

#[wasm_bindgen_test]
async fn json_error_action_rejects_with_server_error() {
    let agent = json_agent().await;
    let err = rejection(agent.request("query", Some(js(r#"{"content":"fail"}"#)), None)).await;
    assert_eq!(get_str(&err, "code"), "SERVER_ERROR");
    assert_eq!(get_str(&err, "message"), "refused by test server");
    agent.close();
}

#[wasm_bindgen_test]
async fn json_emit_fans_out_through_the_server() {
    let a = json_agent().await;
    let b = json_agent().await;
    let heard = Recorder::new();
    b.subscribe("table_note", heard.f()).unwrap();
    a.emit(
        "broadcast",
        Some(js(
            r#"{"event":"table_note","payload":{"text":"roll initiative"}}"#,
        )),
        None,
    )
    .unwrap();
    assert!(wait_until(2_000, || heard.len() == 1).await);
    assert!(heard.calls()[0].contains("roll initiative"));
    a.close();
    b.close();
}

#[wasm_bindgen_test]
async fn json_malformed_frames_are_reported_and_the_link_and_request_stay() {
    let agent = json_agent().await;
    let errors = Recorder::new();
    let _off = agent.on_error(errors.f()).unwrap();
    let states = Recorder::new();
    let _off2 = agent.on_state_change(states.f()).unwrap();
    // The server answers this one with a frame that is not JSON, then an
    // object without `action`, then the reply: one WebSocket message each.
    let reply = JsFuture::from(agent.request("query", Some(js(r#"{"content":"garbage"}"#)), None))
        .await
        .unwrap();
    assert_eq!(get_str(&reply, "content"), "after garbage");
    assert_eq!(errors.len(), 2, "{:?}", errors.calls());
    let details: Vec<String> = (0..2)
        .map(|i| get_str(&errors.arg(i, 0), "detail"))
        .collect();
    assert_eq!(details, ["INVALID_PAYLOAD", "MISSING_ACTION"]);
    assert!((0..2).all(|i| get_str(&errors.arg(i, 0), "code") == "PROTOCOL_ERROR"));
    assert!(
        states.calls().is_empty(),
        "the link never dropped: {:?}",
        states.calls()
    );
    assert_eq!(agent.state(), "connected");
    let metrics = agent.metrics().unwrap();
    assert_eq!(
        get(&get(&metrics, "errors"), "INVALID_PAYLOAD").as_f64(),
        Some(1.0)
    );
    assert_eq!(
        get(&get(&metrics, "errors"), "MISSING_ACTION").as_f64(),
        Some(1.0)
    );
    assert_eq!(get(&metrics, "connects").as_f64(), Some(1.0));
    let reply = JsFuture::from(agent.request("query", Some(js(r#"{"content":"again"}"#)), None))
        .await
        .unwrap();
    assert_eq!(get_str(&reply, "content"), "echo: again");
    agent.close();
    assert_eq!(agent.held_callbacks(), 0);
}

// ----- plain JSON: the Frinny gateway's wrapped game events --------------------------

const WRAPPED: &str = r#""wrapEvents":["character_creation_start","combat_turn","level_up","combat_start","feedback"]"#;

#[wasm_bindgen_test]
async fn json_wrapped_events_go_out_in_the_gateway_envelope() {
    let agent = connected_at(JSON_WS, &format!(r#""protocol":"json",{WRAPPED}"#)).await;
    let reply = JsFuture::from(agent.request(
        "combat_turn",
        Some(js(r#"{"actorId":"a1","round":2}"#)),
        None,
    ))
    .await
    .unwrap();
    assert_eq!(get_str(&reply, "action"), "combat_response");
    // What the server received: the request_id inside payload, none on top.
    let received = get(&reply, "received");
    let keys = js_sys::Object::keys(received.unchecked_ref::<js_sys::Object>());
    assert_eq!(keys.length(), 2, "{}", stringify(&received));
    assert_eq!(get_str(&received, "action"), "event");
    let payload = get(&received, "payload");
    assert_eq!(get_str(&payload, "action"), "combat_turn");
    assert_eq!(get_str(&payload, "actorId"), "a1");
    assert_eq!(
        get_str(&payload, "request_id"),
        get_str(&reply, "request_id")
    );
    assert!(!get_str(&payload, "request_id").is_empty());

    let err = rejection(agent.request("level_up", Some(js(r#"{"content":"fail"}"#)), None)).await;
    assert_eq!(get_str(&err, "code"), "SERVER_ERROR");
    assert_eq!(get_str(&err, "message"), "refused level_up");

    // Events not listed keep the plain framing.
    let reply = JsFuture::from(agent.request("query", Some(js(r#"{"content":"plain"}"#)), None))
        .await
        .unwrap();
    assert_eq!(get_str(&reply, "content"), "echo: plain");
    agent.close();
}

#[wasm_bindgen_test]
fn wrap_events_is_checked() {
    for bad in [
        format!(r#"{{"url":"{JSON_WS}","protocol":"json","wrapEvents":"level_up"}}"#),
        format!(r#"{{"url":"{JSON_WS}","protocol":"json","wrapEvents":["level_up",5]}}"#),
        format!(r#"{{"url":"{JSON_WS}",{WRAPPED}}}"#),
        format!(r#"{{"url":"{JSON_WS}","protocol":"socket.io","wrapEvents":[]}}"#),
    ] {
        let err = AgentManager::new(js(&bad))
            .err()
            .unwrap_or_else(|| panic!("{bad} was accepted"));
        assert_eq!(get_str(&err, "code"), "INVALID_OPTIONS", "{bad}");
    }
    // Listed before `protocol` is as good as after.
    let ok = AgentManager::new(js(&format!(
        r#"{{"url":"{JSON_WS}",{WRAPPED},"protocol":"json"}}"#
    )));
    assert!(ok.is_ok());
}
