//! Errors as JS sees them: `Error` objects with a stable `code` property
//! (`TIMEOUT`, `ABORTED`, `CONNECT_REFUSED`, ...).

use crate::core::ClientError;
use wasm_bindgen::{JsCast, JsValue};

/// Code of the error reported to `onError` when a subscriber throws.
pub(crate) const CALLBACK_ERROR: &str = "CALLBACK_ERROR";

/// A JS `Error` with `message` and `code`.
pub(crate) fn js_error(code: &str, message: &str) -> JsValue {
    let err = js_sys::Error::new(message);
    set(&err, "code", &JsValue::from_str(code));
    err.into()
}

/// The JS form of a core error; protocol errors also carry the decoder's
/// own code as `detail` (e.g. `INVALID_JSON`), server errors the server's
/// own code as `serverCode` (e.g. `RATE_LIMITED`).
pub(crate) fn from_client(e: &ClientError) -> JsValue {
    let err = js_error(e.code.as_str(), &e.message);
    if let Some(detail) = e.detail {
        set(&err, "detail", &JsValue::from_str(detail));
    }
    if let Some(server_code) = &e.server_code {
        set(&err, "serverCode", &JsValue::from_str(server_code));
    }
    err
}

/// An error for `onError` saying that a subscriber of `event` threw
/// `thrown` (kept as `cause`).
pub(crate) fn callback_error(event: &str, thrown: &JsValue) -> JsValue {
    let text = thrown
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| thrown.as_string())
        .unwrap_or_else(|| "a non-Error value was thrown".to_owned());
    let err = js_error(
        CALLBACK_ERROR,
        &format!("a callback for {event:?} threw: {text}"),
    );
    set(&err, "event", &JsValue::from_str(event));
    set(&err, "cause", thrown);
    err
}

fn set(target: &JsValue, key: &str, value: &JsValue) {
    // Only fails on frozen objects or throwing setters; ours are fresh Errors.
    let _ = js_sys::Reflect::set(target, &JsValue::from_str(key), value);
}
