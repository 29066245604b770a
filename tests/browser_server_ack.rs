//! Answering the server's acks in the browser (Chromium and Firefox)
//! against the Node `socket.io` 4.8 server that `cargo xtask test browser`
//! starts (both transports on 127.0.0.1:28471, long-polling only on
//! 127.0.0.1:28478). Its `ask` handler asks with
//! `socket.timeout(ms).emitWithAck(event, ...args)` and then reports, as
//! `answered`, the answer and every ACK packet the socket sent, so an
//! answer sent twice would show even though socket.io runs its callback
//! once.
//!
//! - a subscriber gets `ack` last; the answer arrives once, with all its
//!   arguments, though the subscriber calls `ack` twice;
//! - every subscriber (`subscribe`, `once`, `subscribeAll`) gets the same
//!   `ack` and the first call wins;
//! - binary data both ways: a question carrying bytes, an answer carrying
//!   bytes (a BINARY_ACK);
//! - an `ack` kept across a reconnect does nothing;
//! - over long-polling too;
//! - a question nobody subscribes to stays unanswered (the server times
//!   out) and nothing is held.
#![cfg(target_arch = "wasm32")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod browser_support;

use browser_support::*;
use js_sys::{Array, Function};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const BOTH: &str = ports::node_sio::HTTP;
const POLLING_ONLY: &str = ports::node_sio_polling::HTTP;

/// A JS function `(params) => { body }`, for subscribers that call `ack`.
fn js_fn(params: &str, body: &str) -> Function {
    Function::new_with_args(params, body)
}

/// The ACK packets of a report, as text.
fn acks(report: &JsValue) -> Vec<String> {
    Array::from(&get(report, "acks"))
        .iter()
        .map(|a| a.as_string().unwrap())
        .collect()
}

fn number(v: &JsValue, key: &str) -> f64 {
    get(v, key).as_f64().unwrap()
}

#[wasm_bindgen_test]
async fn the_answer_arrives_once_though_the_subscriber_calls_ack_twice() {
    let agent = connected_at(BOTH, "").await;
    let calls = unique("twice");
    agent
        .subscribe(
            "question",
            js_fn(
                "payload, ack",
                &format!(
                    "globalThis['{calls}'] = (globalThis['{calls}'] || 0) + 1; \
                     ack({{ got: payload }}, 'second arg'); ack('again');"
                ),
            ),
        )
        .unwrap();
    let report = server_asks(&agent, r#"{"event":"question","args":[{"n":1}]}"#).await;
    assert_eq!(stringify(&get(&report, "error")), "null");
    assert_eq!(
        stringify(&get(&report, "answer")),
        r#"{"got":{"n":1}}"#,
        "{}",
        stringify(&report)
    );
    let sent = acks(&report);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0].ends_with(r#"[{"got":{"n":1}},"second arg"]"#),
        "{sent:?}"
    );
    assert_eq!(
        js_expr(&format!("globalThis['{calls}']")).as_f64(),
        Some(1.0)
    );
    let m = agent.metrics().unwrap();
    assert_eq!(number(&m, "acksDropped"), 1.0);
    agent.close();
    assert_eq!(agent.held_callbacks(), 0);
}

#[wasm_bindgen_test]
async fn every_subscriber_gets_the_same_ack_and_the_first_call_wins() {
    let agent = connected_at(BOTH, "").await;
    let seen = unique("shared");
    js_expr(&format!("globalThis['{seen}'] = []"));
    let keep = |tag: &str| {
        js_fn(
            "...args",
            &format!("const ack = args.at(-1); globalThis['{seen}'].push(ack); ack('{tag}');"),
        )
    };
    agent.subscribe("question", keep("first")).unwrap();
    agent.subscribe("question", keep("second")).unwrap();
    agent.once("question", keep("once")).unwrap();
    agent
        .subscribe_matching(JsValue::from_str("quest*"), Some(keep("all")))
        .unwrap();
    let report = server_asks(&agent, r#"{"event":"question","args":[1]}"#).await;
    assert_eq!(get(&report, "answer").as_string().as_deref(), Some("first"));
    assert_eq!(acks(&report).len(), 1, "{:?}", acks(&report));
    let same = js_expr(&format!(
        "globalThis['{seen}'].length === 4 && globalThis['{seen}'].every((f) => typeof f === 'function' && f === globalThis['{seen}'][0])"
    ));
    assert_eq!(same.as_bool(), Some(true), "one ack for all four");
    assert_eq!(number(&agent.metrics().unwrap(), "acksDropped"), 3.0);
    // The `once` ended; the others answer the next question the same way.
    let report = server_asks(&agent, r#"{"event":"question","args":[2]}"#).await;
    assert_eq!(get(&report, "answer").as_string().as_deref(), Some("first"));
    assert_eq!(acks(&report).len(), 1);
    agent.close();
}

#[wasm_bindgen_test]
async fn binary_questions_and_binary_answers() {
    let agent = connected_at(BOTH, "").await;
    agent
        .subscribe(
            "question",
            js_fn(
                "tag, payload, ack",
                "ack({ tag, length: payload.data.byteLength, first: new Uint8Array(payload.data)[0], \
                 back: new Uint8Array([1, 2, 3]) });",
            ),
        )
        .unwrap();
    let report = server_asks(
        &agent,
        r#"{"event":"question","args":["bytes"],"bytes":[9,8]}"#,
    )
    .await;
    let answer = get(&report, "answer");
    assert_eq!(get_str(&answer, "tag"), "bytes");
    assert_eq!(number(&answer, "length"), 2.0);
    assert_eq!(number(&answer, "first"), 9.0);
    let seen = Array::from(&get(&report, "seen"));
    assert_eq!(seen.length(), 1, "{}", stringify(&report));
    assert_eq!(get_str(&seen.get(0), "path"), "$.back");
    assert_eq!(get_str(&seen.get(0), "hex"), "010203");
    let sent = acks(&report);
    assert_eq!(sent.len(), 1);
    assert!(sent[0].starts_with("61-"), "a BINARY_ACK: {sent:?}");
    agent.close();
}

#[wasm_bindgen_test]
async fn an_ack_kept_across_a_reconnect_does_nothing() {
    let agent = connected_at(BOTH, r#""reconnectionDelay":100,"randomizationFactor":0"#).await;
    let kept = unique("kept");
    agent
        .subscribe(
            "question_kept",
            js_fn("payload, ack", &format!("globalThis['{kept}'] = ack;")),
        )
        .unwrap();
    agent
        .subscribe("question", js_fn("payload, ack", "ack('fresh');"))
        .unwrap();
    agent
        .emit(
            "ask",
            Some(js(
                r#"{"event":"question_kept","args":[1],"timeoutMs":500}"#,
            )),
            None,
        )
        .unwrap();
    assert!(
        wait_until(5000, || {
            js_expr(&format!("typeof globalThis['{kept}']"))
                .as_string()
                .as_deref()
                == Some("function")
        })
        .await
    );
    agent.emit("drop_link", None, None).unwrap();
    assert!(wait_until(3000, || agent.state() == "reconnecting").await);
    assert!(wait_until(10_000, || agent.state() == "connected").await);
    // Answering the old socket's question now goes nowhere, and throws not.
    js_expr(&format!("globalThis['{kept}']('stale')"));
    let report = server_asks(&agent, r#"{"event":"question","args":[2]}"#).await;
    assert_eq!(get(&report, "answer").as_string().as_deref(), Some("fresh"));
    assert_eq!(
        number(&report, "total"),
        1.0,
        "only the fresh answer on this socket: {}",
        stringify(&report)
    );
    assert_eq!(number(&agent.metrics().unwrap(), "acksDropped"), 1.0);
    agent.close();
}

#[wasm_bindgen_test]
async fn over_long_polling_too() {
    let agent = connected_at(POLLING_ONLY, r#""transports":["polling"]"#).await;
    assert_eq!(agent.transport().as_deref(), Some("polling"));
    agent
        .subscribe(
            "question",
            js_fn("a, b, ack", "ack(a + b, { sum: a + b }); ack('again');"),
        )
        .unwrap();
    let report = server_asks(&agent, r#"{"event":"question","args":[2,3]}"#).await;
    assert_eq!(get(&report, "answer").as_f64(), Some(5.0));
    let sent = acks(&report);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].ends_with(r#"[5,{"sum":5}]"#), "{sent:?}");
    // Binary over polling (base64 in the POST).
    agent
        .subscribe(
            "question_bytes",
            js_fn("ack", "ack({ back: new Uint8Array([255, 0]) });"),
        )
        .unwrap();
    let report = server_asks(&agent, r#"{"event":"question_bytes"}"#).await;
    let seen = Array::from(&get(&report, "seen"));
    assert_eq!(
        get_str(&seen.get(0), "hex"),
        "ff00",
        "{}",
        stringify(&report)
    );
    agent.close();
}

#[wasm_bindgen_test]
async fn a_question_nobody_hears_stays_unanswered_and_nothing_is_held() {
    let agent = connected_at(BOTH, "").await;
    let report = server_asks(&agent, r#"{"event":"nobody_listens","timeoutMs":300}"#).await;
    assert_eq!(get(&report, "answer"), JsValue::NULL);
    assert!(!get(&report, "error").is_null(), "{}", stringify(&report));
    assert_eq!(acks(&report).len(), 0);
    // An ack whose args cannot be sent throws INVALID_PAYLOAD and leaves
    // the question open for a good answer.
    agent
        .subscribe(
            "question",
            js_fn(
                "ack",
                "const cyclic = {}; cyclic.self = cyclic; \
                 try { ack(cyclic); } catch (e) { ack({ refused: e.code }); }",
            ),
        )
        .unwrap();
    let report = server_asks(&agent, r#"{"event":"question"}"#).await;
    assert_eq!(
        get_str(&get(&report, "answer"), "refused"),
        "INVALID_PAYLOAD"
    );
    assert_eq!(acks(&report).len(), 1);
    assert_eq!(number(&agent.metrics().unwrap(), "acksDropped"), 0.0);
    agent.close();
    assert_eq!(agent.held_callbacks(), 0);
}
