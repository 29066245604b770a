//! Payloads across the boundary. They travel as JSON text (see
//! [`crate::protocol`] for why): `JSON.stringify` on the way out and
//! `JSON.parse` on the way in, one boundary crossing each. Events with
//! binary attachments are the exception: their tree is rebuilt with each
//! attachment as an `ArrayBuffer` where its placeholder was.

use crate::core::{ArgsForm, ClientError, ErrorCode};
use crate::protocol::socket_io::Payload;
use crate::protocol::value::Value;
use crate::protocol::Limits;
use js_sys::{Array, ArrayBuffer, Object, Reflect, Uint8Array, JSON};
use std::borrow::Cow;
use wasm_bindgen::{JsCast, JsValue};

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
        ClientError::new(
            ErrorCode::InvalidPayload,
            format!("payload is not JSON: {why}"),
        )
    })?;
    // JSON.stringify gives undefined for functions and symbols.
    Ok(text.as_string())
}

/// How deep binary data may sit in a payload (and how deep a payload that
/// holds binary data may nest). Deeper or cyclic payloads with binary data
/// fail with INVALID_PAYLOAD; payloads without any are left to
/// `JSON.stringify`, which reports cycles itself.
pub(crate) const MAX_BINARY_DEPTH: usize = 100;

/// A payload for the wire: its JSON text (`None` for `undefined`) and, if it
/// holds binary data (`ArrayBuffer`, a typed array or a `DataView`, at any
/// depth, as socket.io's `hasBinary` finds it), the bytes, each replaced in
/// the JSON by `{"_placeholder":true,"num":N}` (socket.io-parser's
/// `deconstructPacket`).
pub(crate) fn to_wire(value: &JsValue) -> Result<(Option<String>, Vec<Vec<u8>>), ClientError> {
    match binary_depth(value) {
        None => return Ok((to_json(value)?, Vec::new())),
        // `JSON.stringify` would turn it into `{}` and the bytes would be
        // lost without a word: refuse instead.
        Some(depth) if depth > MAX_BINARY_DEPTH => {
            return Err(ClientError::new(
                ErrorCode::InvalidPayload,
                format!("binary data nested {depth} levels deep; the limit is {MAX_BINARY_DEPTH}"),
            ))
        }
        Some(_) => {}
    }
    let mut attachments = Vec::new();
    let clone = deconstruct(value, &mut Vec::new(), &mut attachments)?;
    Ok((to_json(&clone)?, attachments))
}

/// Whether `v` is binary data itself.
fn is_binary(v: &JsValue) -> bool {
    v.is_instance_of::<ArrayBuffer>() || ArrayBuffer::is_view(v)
}

/// Objects that turn themselves into JSON (`Date`, ...) are left to
/// `JSON.stringify` and not searched.
fn has_to_json(v: &JsValue) -> bool {
    Reflect::get(v, &JsValue::from_str("toJSON")).is_ok_and(|f| f.is_function())
}

/// Whether `v` is one of the objects being walked (a cycle).
fn is_ancestor(v: &JsValue, ancestors: &[JsValue]) -> bool {
    ancestors.iter().any(|a| Object::is(a, v))
}

/// The children of an array or plain object, as `(key, value)`.
fn children(v: &JsValue) -> Vec<(JsValue, JsValue)> {
    if Array::is_array(v) {
        return Array::from(v)
            .iter()
            .enumerate()
            .map(|(i, item)| (JsValue::from_f64(i as f64), item))
            .collect();
    }
    match v.dyn_ref::<Object>() {
        Some(obj) => Object::keys(obj)
            .iter()
            .map(|k| {
                let item = Reflect::get(v, &k).unwrap_or(JsValue::UNDEFINED);
                (k, item)
            })
            .collect(),
        None => Vec::new(),
    }
}

/// socket.io's `hasBinary`, to any depth: the depth (0 for `v` itself) of
/// the shallowest binary data in `v`, or `None` if there is none.
///
/// Breadth first over a heap queue rather than recursion, so a payload
/// nested far deeper than [`MAX_BINARY_DEPTH`] neither overflows the stack
/// nor hides binary data below the limit (which `JSON.stringify` would then
/// send as `{}`). Each object is visited once (a `Set` of those seen), which
/// also ends cycles.
fn binary_depth(v: &JsValue) -> Option<usize> {
    let seen = js_sys::Set::new(&JsValue::UNDEFINED);
    let mut queue = std::collections::VecDeque::from([(v.clone(), 0usize)]);
    while let Some((v, depth)) = queue.pop_front() {
        if !v.is_object() || seen.has(&v) {
            continue;
        }
        seen.add(&v);
        if is_binary(&v) {
            return Some(depth);
        }
        if !Array::is_array(&v) && has_to_json(&v) {
            continue;
        }
        queue.extend(children(&v).into_iter().map(|(_, item)| (item, depth + 1)));
    }
    None
}

/// A copy of `v` with every piece of binary data replaced by a placeholder
/// and its bytes appended to `out`, depth first.
fn deconstruct(
    v: &JsValue,
    ancestors: &mut Vec<JsValue>,
    out: &mut Vec<Vec<u8>>,
) -> Result<JsValue, ClientError> {
    if !v.is_object() {
        return Ok(v.clone());
    }
    if ancestors.len() > MAX_BINARY_DEPTH || is_ancestor(v, ancestors) {
        return Err(ClientError::new(
            ErrorCode::InvalidPayload,
            format!("payload is cyclic or nested deeper than {MAX_BINARY_DEPTH} levels"),
        ));
    }
    if is_binary(v) {
        let placeholder = Object::new();
        let _ = Reflect::set(
            &placeholder,
            &JsValue::from_str("_placeholder"),
            &JsValue::TRUE,
        );
        let _ = Reflect::set(
            &placeholder,
            &JsValue::from_str("num"),
            &JsValue::from_f64(out.len() as f64),
        );
        out.push(binary_bytes(v));
        return Ok(placeholder.into());
    }
    let copy: JsValue = if Array::is_array(v) {
        Array::new().into()
    } else if has_to_json(v) {
        return Ok(v.clone());
    } else {
        Object::new().into()
    };
    ancestors.push(v.clone());
    for (key, item) in children(v) {
        let item = deconstruct(&item, ancestors, out);
        match item {
            Ok(item) => {
                let _ = Reflect::set(&copy, &key, &item);
            }
            Err(e) => {
                ancestors.pop();
                return Err(e);
            }
        }
    }
    ancestors.pop();
    Ok(copy)
}

/// The bytes of an `ArrayBuffer` or of the window a typed array or
/// `DataView` has on its buffer.
fn binary_bytes(v: &JsValue) -> Vec<u8> {
    if let Some(buf) = v.dyn_ref::<ArrayBuffer>() {
        return Uint8Array::new(buf).to_vec();
    }
    let field = |name: &str| Reflect::get(v, &JsValue::from_str(name)).ok();
    let number = |name: &str| field(name).and_then(|n| n.as_f64()).unwrap_or(0.0) as u32;
    match field("buffer").and_then(|b| b.dyn_into::<ArrayBuffer>().ok()) {
        Some(buf) => Uint8Array::new_with_byte_offset_and_length(
            &buf,
            number("byteOffset"),
            number("byteLength"),
        )
        .to_vec(),
        None => Vec::new(),
    }
}

/// A request's reply that carried binary data: its tree with each
/// attachment as an `ArrayBuffer` where its placeholder was.
pub(crate) fn reply(json: &str, attachments: Vec<Vec<u8>>, limits: &Limits) -> JsValue {
    let payload = Payload {
        json: Cow::Borrowed(json),
        attachments,
    };
    match payload.into_value(limits) {
        Ok(v) => to_js(&v),
        // The core checked the placeholders; fall back to the text.
        Err(_) => parse(json),
    }
}

/// `JSON.parse(text)` of JSON the core already validated; `undefined` if it
/// somehow is not JSON.
pub(crate) fn parse(text: &str) -> JsValue {
    JSON::parse(text).unwrap_or(JsValue::UNDEFINED)
}

/// The subscriber arguments of an event (without its name); `parse` is the
/// `JSON.parse` to use for plain JSON text.
pub(crate) fn event_args(
    json: &str,
    form: ArgsForm,
    attachments: Vec<Vec<u8>>,
    limits: &Limits,
    parse: impl Fn(&str) -> JsValue,
) -> Array {
    match form {
        ArgsForm::Single => Array::of1(&parse(json)),
        ArgsForm::NamedArray if attachments.is_empty() => match parse(json).dyn_into_array() {
            Some(items) => items.slice_from(1),
            None => Array::new(),
        },
        ArgsForm::NamedArray => {
            let payload = Payload {
                json: Cow::Borrowed(json),
                attachments,
            };
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
        self.dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .or_else(|| self.as_string())
    }
}
