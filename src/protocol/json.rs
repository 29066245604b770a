//! JSON helpers shared by the codecs, off the hot path: parsing bounded by
//! the nesting limit, the raw fields of an object in wire order, and the one
//! JSON string writer.
//!
//! The hot inbound path does not come here: event frames are validated by
//! [`scan`](super::scan) and stay raw text. What does come here is read once
//! per connection or per call (the handshake, binary packets, replies), where
//! a typed serde read or a `serde_json::Value` tree is the clearer tool.

use super::{scan, DecodeError};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt::Write as _;

/// Parses `text` as one JSON value of type `T`, refusing nesting deeper than
/// `max_depth` with [`DecodeError::TooDeep`] before serde_json recurses into
/// it (the [`scan`](super::scan) validator measures the depth without
/// recursion), and any other failure as [`DecodeError::InvalidJson`].
///
/// ```
/// use frinny_agent::protocol::{json, DecodeError};
/// let v: Vec<u8> = json::parse("[1,2]", 4)?;
/// assert_eq!(v, [1, 2]);
/// assert_eq!(json::parse::<serde_json::Value>("[[[[1]]]]", 3), Err(DecodeError::TooDeep { max: 3 }));
/// assert!(matches!(json::parse::<u8>("[", 3), Err(DecodeError::InvalidJson(_))));
/// # Ok::<(), DecodeError>(())
/// ```
pub fn parse<'a, T: Deserialize<'a>>(text: &'a str, max_depth: usize) -> Result<T, DecodeError> {
    scan::scan(text, max_depth)?;
    serde_json::from_str(text).map_err(|e| DecodeError::InvalidJson(e.to_string()))
}

/// The fields of a JSON object in wire order, values left as raw text;
/// `None` if `text` is not one JSON object.
///
/// ```
/// use frinny_agent::protocol::json::object_fields;
/// let fields = object_fields(r#"{"b":1,"a":[2, 3]}"#).unwrap();
/// assert_eq!(fields[0].0, "b");
/// assert_eq!(fields[1].1.get(), "[2, 3]");
/// assert!(object_fields("[1]").is_none());
/// ```
pub fn object_fields(text: &str) -> Option<Vec<(Cow<'_, str>, &RawValue)>> {
    match shallow(text) {
        Ok(Shallow::Object(fields)) => Some(fields),
        _ => None,
    }
}

/// Parses `text` into a `serde_json::Value`, for the callers that need a
/// tree (state documents, error payloads). Payloads that reach it come
/// through a decoder, which has bounded their nesting already.
pub fn parse_value(text: &str) -> Result<serde_json::Value, serde_json::Error> {
    serde_json::from_str(text)
}

/// `v` as compact JSON text, for the callers that hand a tree on as text.
pub fn text(v: &serde_json::Value) -> String {
    // Serializing a `Value` cannot fail: its keys are strings.
    serde_json::to_string(v).unwrap_or_default()
}

/// The JSON string literal `quoted` (quotes included) unescaped; `Err` for
/// text that is not JSON (a lone surrogate escape, say), `Ok(None)` for
/// JSON that is not a string.
pub fn unquote(quoted: &str) -> Result<Option<String>, serde_json::Error> {
    Ok(match shallow(quoted)? {
        Shallow::String(s) => Some(s.into_owned()),
        _ => None,
    })
}

/// Appends `s` as a JSON string literal (quoted and escaped) to `out`,
/// copying unescaped runs whole; the one JSON string writer of the codecs.
///
/// ```
/// let mut out = String::new();
/// frinny_agent::protocol::json::push_string(&mut out, "say \"hi\"\n\u{1}é");
/// assert_eq!(out, r#""say \"hi\"\n\u0001é""#);
/// ```
pub fn push_string(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        // `i` is at an ASCII byte, so both ends are char boundaries.
        if let Some(chunk) = s.get(start..i) {
            out.push_str(chunk);
        }
        if escape.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    if let Some(chunk) = s.get(start..) {
        out.push_str(chunk);
    }
    out.push('"');
}

/// One JSON value, one level deep: an object's fields in wire order or an
/// array's items, both as raw JSON; a string, unescaped; anything else only
/// as [`Shallow::Other`].
///
/// This is for the codec boundary, where JSON is passed on as text rather
/// than read: re-framing a payload (`json_frame::encode`, adding a
/// `request_id`) must keep its fields verbatim, in wire order, duplicates
/// included, which `serde_json::Map` (sorted, one value per key) cannot.
/// Anything that wants typed fields uses a derive or a `serde_json::Value`.
///
/// ```
/// use frinny_agent::protocol::json::{shallow, Shallow};
/// let Ok(Shallow::Object(fields)) = shallow(r#"{"a":[1, 2],"b\u0021":"x"}"#) else { panic!() };
/// assert_eq!((fields[0].0.as_ref(), fields[0].1.get()), ("a", "[1, 2]"));
/// assert_eq!(fields[1].0, "b!");
/// assert!(matches!(shallow(r#""a\nb""#), Ok(Shallow::String(s)) if s == "a\nb"));
/// assert!(matches!(shallow("[1,true]"), Ok(Shallow::Array(items)) if items.len() == 2));
/// assert!(matches!(shallow("null"), Ok(Shallow::Other)));
/// assert!(shallow("[1,").is_err());
/// ```
pub enum Shallow<'a> {
    /// An object's fields, in wire order (duplicate keys kept).
    Object(Vec<(Cow<'a, str>, &'a RawValue)>),
    /// An array's items.
    Array(Vec<&'a RawValue>),
    /// A string, its escapes decoded (borrowed when it has none).
    String(Cow<'a, str>),
    /// A number, a boolean or `null`.
    Other,
}

/// Parses `text` as one JSON value, one level deep (see [`Shallow`]). Fails
/// only for text that is not JSON.
pub fn shallow(text: &str) -> Result<Shallow<'_>, serde_json::Error> {
    serde_json::from_str(text)
}

impl<'de: 'a, 'a> Deserialize<'de> for Shallow<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ShallowVisitor(std::marker::PhantomData))
    }
}

struct ShallowVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> serde::de::Visitor<'de> for ShallowVisitor<'a> {
    type Value = Shallow<'a>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Shallow::Other)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Shallow::Other)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Shallow::Other)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Shallow::Other)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Shallow::Other)
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Shallow::String(Cow::Borrowed(s)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Shallow::String(Cow::Owned(s.to_owned())))
    }
    fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
        Ok(Shallow::String(Cow::Owned(s)))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<&'de RawValue>()? {
            items.push(item);
        }
        Ok(Shallow::Array(items))
    }
    fn visit_map<M: serde::de::MapAccess<'de>>(self, mut m: M) -> Result<Self::Value, M::Error> {
        let mut fields = Vec::new();
        while let Some((Key(k), v)) = m.next_entry::<Key<'a>, &'de RawValue>()? {
            fields.push((k, v));
        }
        Ok(Shallow::Object(fields))
    }
}

/// An object key, borrowed from the text when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Key<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = Key<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'a>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Key<'a>, E> {
                Ok(Key(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Key<'a>, E> {
                Ok(Key(Cow::Owned(s)))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_bounds_depth_before_serde_json_recurses() {
        // Far past serde_json's own recursion limit (128): refused by depth,
        // not by a stack overflow or serde_json's generic error.
        let deep = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(
            parse::<serde_json::Value>(&deep, 64),
            Err(DecodeError::TooDeep { max: 64 })
        );
        // Strings that look like nesting do not count.
        assert_eq!(
            parse::<serde_json::Value>(r#"{"a":"[[[[[["}"#, 1),
            Ok(serde_json::json!({"a": "[[[[[["}))
        );
        // Depth is counted over the whole text, not just its first value.
        assert_eq!(
            parse::<serde_json::Value>("[[1],[[2]]]", 2),
            Err(DecodeError::TooDeep { max: 2 })
        );
        for bad in ["", "[1,", "{\"a\"}", "nul", "1 2"] {
            assert!(
                matches!(
                    parse::<serde_json::Value>(bad, 8),
                    Err(DecodeError::InvalidJson(_))
                ),
                "{bad}"
            );
        }
        // What the validator lets through but serde_json refuses (a lone
        // surrogate) is still InvalidJson.
        assert!(matches!(
            parse::<String>(r#""\ud800""#, 8),
            Err(DecodeError::InvalidJson(_))
        ));
    }
}
