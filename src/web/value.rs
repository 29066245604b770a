//! JSON trees (`serde_json::Value`) as JS values and back: state documents
//! handed to `subscribeState` callbacks, `getState`, `syncState` and the
//! `onConflict` resolver go out through serde-wasm-bindgen; the documents
//! and patches `updateState`, `replaceState` and a resolver give are read
//! as `JSON.stringify` sees them. Off the hot path: inbound events stay
//! JSON text for the engine's `JSON.parse` (`convert`).

use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::JsValue;

/// `value` as a plain JS value (objects, arrays, numbers, ...).
///
/// ```ignore
/// let doc = value::to_js(&serde_json::json!({"hp": 3})); // { hp: 3 }
/// ```
pub(crate) fn to_js(value: &Value) -> JsValue {
    let out = serde_wasm_bindgen::Serializer::json_compatible();
    value.serialize(&out).unwrap_or_else(|_| {
        // An integer beyond 2^53, which a JS number cannot hold exactly:
        // the engine's JSON.parse rounds it, as it would have on the wire.
        super::convert::parse(&crate::protocol::json::text(value))
    })
}

/// `value` read as JSON data, as `JSON.stringify` sees it: members that
/// are `undefined` or functions are left out, objects with a `toJSON`
/// (`Date`) give what it returns, `undefined` itself is `null`. Cycles,
/// BigInts and nesting deeper than serde_json reads are refused with a
/// message saying why.
///
/// Not through serde-wasm-bindgen: it reads an `undefined` member as
/// `null`, which in a merge patch deletes the member instead of leaving it
/// alone, and knows nothing of `toJSON`.
pub(crate) fn from_js(value: &JsValue) -> Result<Value, String> {
    match super::convert::to_json(value).map_err(|e| e.message)? {
        None => Ok(Value::Null),
        Some(text) => serde_json::from_str(&text).map_err(|e| e.to_string()),
    }
}
