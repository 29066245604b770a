//! The global JS functions the shell uses, bound directly so they work in a
//! window and in a worker alike: the clock, `JSON.parse` of a JS string,
//! and console output. (Timers are `gloo-timers`'.)

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;

    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error2(a: &JsValue, b: &JsValue);

    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    fn json_parse_js(text: &js_sys::JsString) -> Result<JsValue, JsValue>;
}

/// `JSON.parse` of a JS string that never crossed into wasm; `undefined` if
/// it is not JSON.
pub(crate) fn json_parse(text: &js_sys::JsString) -> JsValue {
    json_parse_js(text).unwrap_or(JsValue::UNDEFINED)
}

/// The monotonic clock the core runs on: `performance.now()` in whole ms.
pub(crate) fn now_ms() -> u64 {
    let t = performance_now();
    if t.is_finite() && t > 0.0 {
        // `as` saturates; no panic for any input.
        t as u64
    } else {
        0
    }
}

/// `console.error(message, value)`: for errors nobody else can be told
/// about (an `onError` listener that throws).
pub(crate) fn console_error(message: &str, value: &JsValue) {
    console_error2(&JsValue::from_str(message), value);
}

/// `navigator.onLine`, or true where there is no navigator.
pub(crate) fn navigator_online() -> bool {
    let global = js_sys::global();
    js_sys::Reflect::get(&global, &JsValue::from_str("navigator"))
        .ok()
        .filter(|n| n.is_object())
        .and_then(|n| js_sys::Reflect::get(&n, &JsValue::from_str("onLine")).ok())
        .and_then(|v| v.as_bool())
        .unwrap_or(true)
}
