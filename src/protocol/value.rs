//! A JSON value that may hold binary data, for the rare binary path.
//!
//! Text packets never come through here: their payloads stay raw JSON text
//! (see the [module doc](super)). A Socket.IO BINARY_EVENT or BINARY_ACK,
//! though, carries `{"_placeholder":true,"num":N}` objects that stand for
//! attachment frames, so turning it into something a caller can use means
//! building a tree and swapping each placeholder for its bytes. That tree is
//! [`Value`]; [`Payload::deconstruct`](super::socket_io::Payload::deconstruct)
//! and [`Payload::reconstruct`](super::socket_io::Payload::reconstruct) move
//! between it and the wire form (socket.io-parser's `deconstructPacket` and
//! `reconstructPacket`).
//!
//! ```
//! use frinny_agent::protocol::value::Value;
//! let v = Value::from(serde_json::json!({"a": [1, "x", null]}));
//! assert_eq!(v.get("a"), Some(&Value::from(serde_json::json!([1, "x", null]))));
//! assert!(!v.has_binary());
//! ```

use super::{json, DecodeError};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Number;
use std::fmt::{self, Write as _};

/// A JSON value that may also hold binary data.
///
/// Objects keep their keys in wire order (and keep duplicate keys), so a
/// reconstructed payload reads exactly as it was sent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Value {
    /// `null`.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A JSON number (integer or finite float).
    Number(Number),
    /// A JSON string.
    String(String),
    /// A JSON array.
    Array(Vec<Value>),
    /// A JSON object, keys in order.
    Object(Vec<(String, Value)>),
    /// Binary data: an attachment frame on the wire.
    Binary(Vec<u8>),
}

impl Value {
    /// Whether any [`Value::Binary`] occurs anywhere in the tree.
    pub fn has_binary(&self) -> bool {
        let mut stack = vec![self];
        while let Some(v) = stack.pop() {
            match v {
                Value::Binary(_) => return true,
                Value::Array(items) => stack.extend(items.iter()),
                Value::Object(fields) => stack.extend(fields.iter().map(|(_, v)| v)),
                _ => {}
            }
        }
        false
    }

    /// How deeply the tree nests: 0 for a scalar or binary data, 1 for an
    /// empty array or object, one more per level of containers (the count
    /// [`Limits::max_depth`](super::Limits) bounds in JSON text). Computed
    /// without recursion, so any tree can be measured.
    ///
    /// ```
    /// use frinny_agent::protocol::value::Value;
    /// let v = Value::from(serde_json::json!({"a": [1, {"b": []}]}));
    /// assert_eq!(v.depth(), 4);
    /// assert_eq!(Value::Binary(vec![1]).depth(), 0);
    /// ```
    pub fn depth(&self) -> usize {
        let mut deepest = 0;
        let mut stack = vec![(self, 0usize)];
        while let Some((v, above)) = stack.pop() {
            match v {
                Value::Array(items) => {
                    deepest = deepest.max(above + 1);
                    stack.extend(items.iter().map(|item| (item, above + 1)));
                }
                Value::Object(fields) => {
                    deepest = deepest.max(above + 1);
                    stack.extend(fields.iter().map(|(_, item)| (item, above + 1)));
                }
                _ => {}
            }
        }
        deepest
    }

    /// The value of the first field named `key`, if this is an object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The JSON text of a value without binary data, or `None` if it holds
    /// some (use [`Payload::deconstruct`](super::socket_io::Payload::deconstruct)
    /// for those).
    pub fn to_json_string(&self) -> Option<String> {
        if self.has_binary() {
            return None;
        }
        let mut out = String::new();
        write_deconstructed(self, &mut out, &mut Vec::new());
        Some(out)
    }
}

impl From<serde_json::Value> for Value {
    fn from(v: serde_json::Value) -> Self {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => Value::Number(n),
            serde_json::Value::String(s) => Value::String(s),
            serde_json::Value::Array(items) => {
                Value::Array(items.into_iter().map(Value::from).collect())
            }
            serde_json::Value::Object(map) => {
                Value::Object(map.into_iter().map(|(k, v)| (k, Value::from(v))).collect())
            }
        }
    }
}

/// The error of converting a [`Value`] that holds binary data into a
/// `serde_json::Value`, which cannot represent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContainsBinary;

impl fmt::Display for ContainsBinary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("value contains binary data, which JSON cannot represent")
    }
}

impl std::error::Error for ContainsBinary {}

impl TryFrom<Value> for serde_json::Value {
    type Error = ContainsBinary;

    /// Fails if the tree holds any [`Value::Binary`]. Duplicate object keys
    /// collapse to the last one, as in `serde_json`.
    fn try_from(v: Value) -> Result<Self, ContainsBinary> {
        Ok(match v {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(b),
            Value::Number(n) => serde_json::Value::Number(n),
            Value::String(s) => serde_json::Value::String(s),
            Value::Array(items) => serde_json::Value::Array(
                items
                    .into_iter()
                    .map(serde_json::Value::try_from)
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(fields) => serde_json::Value::Object(
                fields
                    .into_iter()
                    .map(|(k, v)| serde_json::Value::try_from(v).map(|v| (k, v)))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Binary(_) => return Err(ContainsBinary),
        })
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Number(n.into())
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Self {
        Value::Number(n.into())
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Self {
        Value::Array(items)
    }
}

impl<'de> Deserialize<'de> for Value {
    /// Parses JSON into a tree (never producing [`Value::Binary`]). Callers
    /// on the network path go through [`json::parse`](super::json::parse),
    /// which bounds the nesting first.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(Number::from_f64(n).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(0).min(1024));
        while let Some(entry) = map.next_entry::<String, Value>()? {
            fields.push(entry);
        }
        Ok(Value::Object(fields))
    }
    fn visit_bytes<E: de::Error>(self, b: &[u8]) -> Result<Value, E> {
        Ok(Value::Binary(b.to_vec()))
    }
}

/// Writes `v` as JSON, replacing each [`Value::Binary`] by a placeholder
/// numbered in depth-first order and appending its bytes to `attachments`.
pub(crate) fn write_deconstructed(v: &Value, out: &mut String, attachments: &mut Vec<Vec<u8>>) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => json::push_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_deconstructed(item, out, attachments);
            }
            out.push(']');
        }
        Value::Object(fields) => {
            out.push('{');
            for (i, (k, item)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json::push_string(out, k);
                out.push(':');
                write_deconstructed(item, out, attachments);
            }
            out.push('}');
        }
        Value::Binary(bytes) => {
            let _ = write!(
                out,
                "{{\"_placeholder\":true,\"num\":{}}}",
                attachments.len()
            );
            attachments.push(bytes.clone());
        }
    }
}

/// `None` if `fields` is not a placeholder object (its first `_placeholder`
/// field is not `true`), else its attachment index.
fn placeholder_num(fields: &[(String, Value)]) -> Option<Result<usize, DecodeError>> {
    let flag = fields
        .iter()
        .find(|(k, _)| k == "_placeholder")
        .map(|(_, v)| v);
    if flag != Some(&Value::Bool(true)) {
        return None;
    }
    let num = fields
        .iter()
        .find(|(k, _)| k == "num")
        .and_then(|(_, v)| match v {
            Value::Number(n) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
            _ => None,
        });
    Some(num.ok_or(DecodeError::InvalidAttachments(
        "placeholder num is not a non-negative integer",
    )))
}

/// Checks that the placeholders in `v` are exactly `0..count`, each once.
pub(crate) fn check_placeholders(v: &Value, count: usize) -> Result<(), DecodeError> {
    let mut seen = vec![false; count];
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(items) => stack.extend(items.iter()),
            Value::Object(fields) => match placeholder_num(fields) {
                Some(num) => {
                    let slot = seen.get_mut(num?).ok_or(DecodeError::InvalidAttachments(
                        "placeholder num out of range",
                    ))?;
                    if *slot {
                        return Err(DecodeError::InvalidAttachments("duplicate placeholder num"));
                    }
                    *slot = true;
                }
                None => stack.extend(fields.iter().map(|(_, v)| v)),
            },
            _ => {}
        }
    }
    if seen.iter().all(|s| *s) {
        Ok(())
    } else {
        Err(DecodeError::InvalidAttachments(
            "attachment without a placeholder",
        ))
    }
}

/// Replaces every placeholder in `v` by the attachment it names, taking it
/// out of `slots`; fails on out-of-range or repeated nums and on unused
/// attachments.
pub(crate) fn fill_placeholders(
    v: &mut Value,
    slots: &mut [Option<Vec<u8>>],
) -> Result<(), DecodeError> {
    fill(v, slots)?;
    if slots.iter().any(Option::is_some) {
        return Err(DecodeError::InvalidAttachments(
            "attachment without a placeholder",
        ));
    }
    Ok(())
}

fn fill(v: &mut Value, slots: &mut [Option<Vec<u8>>]) -> Result<(), DecodeError> {
    match v {
        Value::Array(items) => items.iter_mut().try_for_each(|item| fill(item, slots)),
        Value::Object(fields) => match placeholder_num(fields) {
            Some(num) => {
                let slot = slots.get_mut(num?).ok_or(DecodeError::InvalidAttachments(
                    "placeholder num out of range",
                ))?;
                let bytes = slot
                    .take()
                    .ok_or(DecodeError::InvalidAttachments("duplicate placeholder num"))?;
                *v = Value::Binary(bytes);
                Ok(())
            }
            None => fields
                .iter_mut()
                .try_for_each(|(_, item)| fill(item, slots)),
        },
        _ => Ok(()),
    }
}

impl super::socket_io::Payload<'static> {
    /// [`Payload::deconstruct`](super::socket_io::Payload::deconstruct),
    /// unless `value` nests deeper than [`Limits::max_depth`](super::Limits):
    /// then [`DecodeError::TooDeep`], since no peer would accept the packet
    /// (and the walk that writes it is recursive). Use this for trees built
    /// from untrusted input.
    ///
    /// ```
    /// use frinny_agent::protocol::{socket_io::Payload, value::Value, DecodeError, Limits};
    /// let mut v = Value::Binary(vec![1, 2]);
    /// for _ in 0..10 {
    ///     v = Value::Array(vec![v]);
    /// }
    /// let limits = Limits { max_depth: 8, ..Limits::default() };
    /// assert_eq!(Payload::try_deconstruct(&v, &limits), Err(DecodeError::TooDeep { max: 8 }));
    /// let wide = Limits { max_depth: 10, ..Limits::default() };
    /// assert_eq!(Payload::try_deconstruct(&v, &wide).map(|p| p.attachments), Ok(vec![vec![1, 2]]));
    /// ```
    pub fn try_deconstruct(value: &Value, limits: &super::Limits) -> Result<Self, DecodeError> {
        if value.depth() > limits.max_depth {
            return Err(DecodeError::TooDeep {
                max: limits.max_depth,
            });
        }
        Ok(Self::deconstruct(value))
    }
}
