//! Payloads across the boundary. They travel as JSON text (see
//! [`crate::protocol`] for why): `JSON.stringify` on the way out and
//! `JSON.parse` on the way in, one boundary crossing each. Events with
//! binary attachments are the exception: their tree is rebuilt with each
//! attachment as an `ArrayBuffer` where its placeholder was.

use crate::core::{ArgsForm, ClientError, ErrorCode};
use crate::protocol::socket_io::Payload;
use crate::protocol::value::Value;
use crate::protocol::Limits;
use js_sys::{Array, Object, Reflect, Uint8Array, JSON};
use std::borrow::Cow;
use wasm_bindgen::JsValue;

/// `JSON.stringify(value)`; `None` for `undefined` (no argument at all).
/// Cycles, BigInts and the like fail with INVALID_PAYLOAD.
pub(crate) fn to_json(value: &JsValue) -> Result<Option<String>, ClientError> {
    if value.is_undefined() {
        return Ok(None);
    }
    let text = JSON::stringify(value).map_err(|e| {
        let why = e
            .dyn_into_error_message()
            .unwrap_or_else(|| "JSON.stringify failed".to_owned());
        ClientError::new(ErrorCode::InvalidPayload, format!("payload is not JSON: {why}"))
    })?;
    // JSON.stringify gives undefined for functions and symbols.
    Ok(text.as_string())
}

/// `JSON.parse(text)` of JSON the core already validated; `undefined` if it
/// somehow is not JSON.
pub(crate) fn parse(text: &str) -> JsValue {
    JSON::parse(text).unwrap_or(JsValue::UNDEFINED)
}

/// The subscriber arguments of an event (without its name).
pub(crate) fn event_args(json: &str, form: ArgsForm, attachments: Vec<Vec<u8>>, limits: &Limits) -> Array {
    match form {
        ArgsForm::Single => Array::of1(&parse(json)),
        ArgsForm::NamedArray if attachments.is_empty() => match parse(json).dyn_into_array() {
            Some(items) => items.slice_from(1),
            None => Array::new(),
        },
        ArgsForm::NamedArray => {
            let payload = Payload { json: Cow::Borrowed(json), attachments };
            match payload.into_value(limits) {
                Ok(Value::Array(items)) => items.into_iter().skip(1).map(|v| to_js(&v)).collect(),
                // The decoder checked the placeholders; fall back to the text.
                _ => match parse(json).dyn_into_array() {
                    Some(items) => items.slice_from(1),
                    None => Array::new(),
                },
            }
        }
    }
}

/// A [`Value`] tree as a JS value; binary data becomes an `ArrayBuffer`
/// (as socket.io-client delivers it in browsers).
pub(crate) fn to_js(value: &Value) -> JsValue {
    match value {
        Value::Null => JsValue::NULL,
        Value::Bool(b) => JsValue::from_bool(*b),
        Value::Number(n) => n.as_f64().map(JsValue::from_f64).unwrap_or(JsValue::NULL),
        Value::String(s) => JsValue::from_str(s),
        Value::Array(items) => items.iter().map(to_js).collect::<Array>().into(),
        Value::Object(fields) => {
            let obj = Object::new();
            for (k, v) in fields {
                let _ = Reflect::set(&obj, &JsValue::from_str(k), &to_js(v));
            }
            obj.into()
        }
        Value::Binary(bytes) => Uint8Array::from(bytes.as_slice()).buffer().into(),
    }
}

/// Small casts without pulling `JsCast` generics into every caller.
trait Casts {
    fn dyn_into_array(self) -> Option<Array>;
    fn dyn_into_error_message(&self) -> Option<String>;
}

impl Casts for JsValue {
    fn dyn_into_array(self) -> Option<Array> {
        if Array::is_array(&self) {
            Some(Array::from(&self))
        } else {
            None
        }
    }

    fn dyn_into_error_message(&self) -> Option<String> {
        use wasm_bindgen::JsCast;
        self.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).or_else(|| self.as_string())
    }
}
