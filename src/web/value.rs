//! JSON trees (`serde_json::Value`) as JS values and back, through
//! serde-wasm-bindgen: state documents handed to `subscribeState`
//! callbacks, `getState`, `syncState` and the `onConflict` resolver, and the
//! documents and patches `updateState` and `replaceState` are given. Off the
//! hot path: inbound events stay JSON text for the engine's `JSON.parse`
//! (`convert`).

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::Serialize;
use serde_json::{Map, Number, Value};
use std::fmt;
use wasm_bindgen::JsValue;

/// How deep a JS value may nest to be read as JSON. Deeper (or cyclic)
/// values are refused before they could exhaust the stack.
pub(crate) const MAX_DEPTH: usize = 128;

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
        super::convert::parse(&value.to_string())
    })
}

/// `value` read as JSON data: `undefined` and `null` are `null`, objects
/// are read by their own enumerable keys. Binary data, functions, symbols
/// and values nested deeper than [`MAX_DEPTH`] (cycles among them) are
/// refused with a message saying why.
pub(crate) fn from_js(value: &JsValue) -> Result<Value, String> {
    let input = serde_wasm_bindgen::Deserializer::from(value.clone());
    Bounded { depth: MAX_DEPTH }
        .deserialize(input)
        .map_err(|e| e.to_string())
}

/// A JSON value no deeper than `depth`.
struct Bounded {
    depth: usize,
}

impl Bounded {
    /// The seed for the values inside an array or object.
    fn inner<E: de::Error>(&self) -> Result<Bounded, E> {
        match self.depth.checked_sub(1) {
            Some(depth) => Ok(Bounded { depth }),
            None => Err(E::custom(format_args!(
                "nested deeper than {MAX_DEPTH} levels (or cyclic)"
            ))),
        }
    }
}

impl<'de> DeserializeSeed<'de> for Bounded {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Bounded {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON data")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    /// NaN and the infinities are `null`, as `JSON.stringify` has them.
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.inner()?)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut fields = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(self.inner()?)?;
            fields.insert(key, value);
        }
        Ok(Value::Object(fields))
    }
}
