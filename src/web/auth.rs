//! The `auth` option as a function (socket.io-client's form): called before
//! every connection attempt's namespace CONNECT, so a reconnect sends a
//! fresh token. The core asks with [`Output::NeedAuth`](crate::core::Output)
//! and this answers with `on_auth` / `on_auth_failed`, naming the attempt so
//! a late answer to an abandoned attempt is ignored.
//!
//! The function may take socket.io-client's callback (`(cb) => cb({token})`),
//! or return the object, or a Promise of it (`async () => ({token})`). The
//! small JS helper below accepts all three and answers once.

use super::input::{Answer, Feed, Input};
use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen(inline_js = r#"
export function frinnyCallAuth(fn, attempt, answer) {
  let done = false;
  const settle = (ok, value) => {
    if (done) return;
    done = true;
    // Once the manager has ended its hook is released: a late answer is moot.
    try { answer(attempt, ok, value); } catch (_) { /* released */ }
  };
  try {
    const r = fn((value) => settle(true, value));
    if (r !== undefined) Promise.resolve(r).then((v) => settle(true, v), (e) => settle(false, e));
  } catch (e) {
    settle(false, e);
  }
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = frinnyCallAuth)]
    fn call_auth(function: &Function, attempt: f64, answer: &Function);
}

/// The caller's `auth` function and the one hook its answers come back
/// through; both released when the manager ends.
pub(crate) struct AuthHook {
    function: Function,
    answer: Closure<dyn Fn(f64, bool, JsValue)>,
}

impl AuthHook {
    /// Wraps `function`; each answer goes to `feed`.
    pub(crate) fn new(function: Function, feed: Feed) -> AuthHook {
        let answer = Closure::<dyn Fn(f64, bool, JsValue)>::new(
            move |attempt: f64, ok: bool, value: JsValue| {
                let answer = if ok {
                    json_of(&value)
                } else {
                    Answer::Failed(message_of(&value))
                };
                // `as` saturates; the helper only ever hands back our own number.
                feed(Input::AuthAnswered {
                    attempt: attempt as u64,
                    answer,
                });
            },
        );
        AuthHook { function, answer }
    }

    /// What it takes to ask, as JS handles, so the caller holds no borrow
    /// of the hook while the function runs (it may close the manager).
    pub(crate) fn asker(&self) -> Asker {
        Asker {
            function: self.function.clone(),
            answer: self.answer.as_ref().unchecked_ref::<Function>().clone(),
        }
    }
}

/// The `auth` function and its answer hook, ready to call.
pub(crate) struct Asker {
    function: Function,
    answer: Function,
}

impl Asker {
    /// Calls the function for `attempt`. Its answer may come at once (a
    /// synchronous callback) or later; it comes at most once.
    pub(crate) fn ask(&self, attempt: u64) {
        call_auth(&self.function, attempt as f64, &self.answer);
    }
}

/// The JSON text of what the function yielded, or why it has none.
fn json_of(value: &JsValue) -> Answer {
    if !value.is_object() {
        // The core refuses non-objects too; this names what came instead.
        let what = if value.is_undefined() {
            "undefined".to_owned()
        } else {
            value.js_typeof().as_string().unwrap_or_default()
        };
        return Answer::Failed(format!(
            "auth must yield an object such as {{ token }}, got {what}"
        ));
    }
    match js_sys::JSON::stringify(value) {
        Ok(text) => match text.as_string() {
            Some(text) => Answer::Json(text),
            None => Answer::Failed("auth yielded a value JSON cannot hold".to_owned()),
        },
        Err(e) => Answer::Failed(format!(
            "auth yielded a value JSON cannot hold: {}",
            message_of(&e)
        )),
    }
}

/// The message of what the function threw or rejected with.
fn message_of(thrown: &JsValue) -> String {
    thrown
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| thrown.as_string())
        .unwrap_or_else(|| "the auth function threw or rejected".to_owned())
}
