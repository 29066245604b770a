//! Helpers shared by the browser test files (`tests/browser_*.rs`): JSON
//! and property access, sleeping and polling, managers, and a recording
//! JS callback. Not a test target itself (a directory module).
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod ports;

use frinny_agent::web::AgentManager;
use js_sys::{Array, Function, Promise, Reflect, JSON};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    pub fn set_timeout(handler: &Function, ms: f64) -> JsValue;
}

pub fn js(text: &str) -> JsValue {
    JSON::parse(text).unwrap()
}

pub fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap()
}

pub fn get_str(v: &JsValue, key: &str) -> String {
    get(v, key).as_string().unwrap_or_default()
}

pub fn stringify(v: &JsValue) -> String {
    JSON::stringify(v)
        .map(String::from)
        .unwrap_or_else(|_| "<not json>".into())
}

pub async fn sleep(ms: u32) {
    let p = Promise::new(&mut |resolve, _| {
        set_timeout(&resolve, f64::from(ms));
    });
    JsFuture::from(p).await.unwrap();
}

/// Polls `cond` every 10 ms for up to `ms`.
pub async fn wait_until(ms: u32, mut cond: impl FnMut() -> bool) -> bool {
    for _ in 0..(ms / 10).max(1) {
        if cond() {
            return true;
        }
        sleep(10).await;
    }
    cond()
}

/// A manager for the server at `url`, with `extra` JSON members in its options.
pub fn manager_at(url: &str, extra: &str) -> AgentManager {
    let text = if extra.is_empty() {
        format!(r#"{{"url":"{url}"}}"#)
    } else {
        format!(r#"{{"url":"{url}",{extra}}}"#)
    };
    AgentManager::new(js(&text)).unwrap()
}

/// A manager for `url`, connected.
pub async fn connected_at(url: &str, extra: &str) -> AgentManager {
    let agent = manager_at(url, extra);
    JsFuture::from(agent.connect()).await.unwrap();
    assert_eq!(agent.state(), "connected");
    agent
}

/// A JS callback recording each call's arguments: as a JSON array string
/// taken at the call, and as the JS values themselves (for payloads JSON
/// cannot show, such as ArrayBuffers).
pub struct Recorder {
    pub calls: Rc<RefCell<Vec<(String, Array)>>>,
    pub closure: Closure<dyn FnMut(JsValue, JsValue, JsValue)>,
}

impl Recorder {
    pub fn new() -> Recorder {
        let calls = Rc::new(RefCell::new(Vec::new()));
        let c = calls.clone();
        let closure = Closure::<dyn FnMut(JsValue, JsValue, JsValue)>::new(
            move |a: JsValue, b: JsValue, c2: JsValue| {
                let args = Array::new();
                for v in [a, b, c2] {
                    if !v.is_undefined() {
                        args.push(&v);
                    }
                }
                c.borrow_mut().push((stringify(&args), args));
            },
        );
        Recorder { calls, closure }
    }

    pub fn f(&self) -> Function {
        self.closure.as_ref().unchecked_ref::<Function>().clone()
    }

    pub fn calls(&self) -> Vec<String> {
        self.calls
            .borrow()
            .iter()
            .map(|(text, _)| text.clone())
            .collect()
    }

    pub fn len(&self) -> usize {
        self.calls.borrow().len()
    }

    /// Argument `arg` of call `call`, as the JS value itself.
    pub fn arg(&self, call: usize, arg: u32) -> JsValue {
        self.calls.borrow()[call].1.get(arg)
    }
}

pub async fn rejection(p: Promise) -> JsValue {
    match JsFuture::from(p).await {
        Ok(v) => panic!("expected a rejection, got {}", stringify(&v)),
        Err(e) => {
            assert!(
                e.is_instance_of::<js_sys::Error>(),
                "rejections are Error objects"
            );
            e
        }
    }
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", (js_sys::Math::random() * 1e12) as u64)
}

/// `fetch(url, {method})` and the response's JSON (for the test servers'
/// HTTP control endpoints).
pub async fn fetch_json(method: &str, url: &str) -> JsValue {
    let f = Function::new_with_args(
        "method, url",
        "return fetch(url, { method }).then((r) => r.json())",
    );
    let p: Promise = f
        .call2(
            &JsValue::UNDEFINED,
            &JsValue::from_str(method),
            &JsValue::from_str(url),
        )
        .unwrap()
        .into();
    JsFuture::from(p).await.unwrap()
}

/// `window.dispatchEvent(new Event(name))`, e.g. `offline` / `online`.
pub fn dispatch_window_event(name: &str) {
    let f = Function::new_with_args("name", "window.dispatchEvent(new Event(name))");
    f.call1(&JsValue::UNDEFINED, &JsValue::from_str(name))
        .unwrap();
}

/// Evaluates a JS expression (for building typed arrays and the like).
pub fn js_expr(expr: &str) -> JsValue {
    Function::new_no_args(&format!("return ({expr});"))
        .call0(&JsValue::UNDEFINED)
        .unwrap()
}

/// The bytes of an `ArrayBuffer`; panics on anything else.
pub fn buffer_bytes(v: &JsValue) -> Vec<u8> {
    let buf = v
        .dyn_ref::<js_sys::ArrayBuffer>()
        .unwrap_or_else(|| panic!("not an ArrayBuffer: {}", stringify(v)));
    js_sys::Uint8Array::new(buf).to_vec()
}

/// `POST url` with a JSON body and a bearer token; resolves with
/// `{status, body}` (body parsed as JSON).
pub async fn post_json(url: &str, bearer: &str, body: &str) -> JsValue {
    let f = Function::new_with_args(
        "url, bearer, body",
        "return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', \
         authorization: `Bearer ${bearer}` }, body }).then(async (r) => ({ status: r.status, body: await r.json() }))",
    );
    let p: Promise = f
        .call3(
            &JsValue::UNDEFINED,
            &url.into(),
            &bearer.into(),
            &body.into(),
        )
        .unwrap()
        .into();
    JsFuture::from(p).await.unwrap()
}

/// Has the test server ask the client a question and waits for its report:
/// emits `ask` with `options` ({event, args, ...}), a hook the Node and the
/// python test servers both have, and returns the payload of the
/// `answered` event they send back ({answer, error, ...}).
pub async fn server_asks(agent: &AgentManager, options: &str) -> JsValue {
    let answered = Recorder::new();
    let off = agent.once("answered", answered.f()).unwrap();
    agent.emit("ask", Some(js(options)), None).unwrap();
    assert!(
        wait_until(10_000, || answered.len() == 1).await,
        "no answered report for {options}"
    );
    drop(off);
    answered.arg(0, 0)
}

/// The Node socket.io test server's binary pushes reach `agent` whole: two
/// `binary_data` events (asked for with `binary_push`), each with its bytes
/// and parts, and a `binary_query` whose reply carries bytes.
pub async fn server_sends_binary(agent: &AgentManager) {
    let got = Recorder::new();
    agent.subscribe("binary_data", got.f()).unwrap();
    agent
        .emit(
            "binary_push",
            Some(js(r#"{"bytes":[0,1,127,128,255],"count":2}"#)),
            None,
        )
        .unwrap();
    assert!(wait_until(3000, || got.len() == 2).await);
    for i in 0..2u8 {
        let data = got.arg(usize::from(i), 0);
        assert_eq!(get(&data, "index").as_f64(), Some(f64::from(i)));
        assert_eq!(buffer_bytes(&get(&data, "data")), [0, 1, 127, 128, 255]);
        let parts = js_sys::Array::from(&get(&data, "parts"));
        assert_eq!(buffer_bytes(&parts.get(0)), [i]);
        assert_eq!(buffer_bytes(&parts.get(1)), [255 - i]);
    }
    let reply =
        JsFuture::from(agent.request("binary_query", Some(js(r#"{"bytes":[9,8,7]}"#)), None))
            .await
            .unwrap();
    assert_eq!(buffer_bytes(&get(&reply, "data")), [9, 8, 7]);
}
