//! Small JSON helpers shared by the codecs: a nesting-depth check that runs
//! before parsing, and parsing that maps errors to [`DecodeError`].

use super::DecodeError;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt::Write as _;

/// Fails with [`DecodeError::TooDeep`] if `text` nests arrays or objects
/// deeper than `max`. One linear pass over the bytes, skipping strings, so a
/// hostile `[[[[...` is refused before serde_json recurses into it.
///
/// ```
/// use frinny_agent::protocol::json::check_depth;
/// assert!(check_depth(r#"{"a":[1,{"b":"[[["}]}"#, 3).is_ok());
/// assert!(check_depth("[[[[1]]]]", 3).is_err());
/// ```
pub fn check_depth(text: &str, max: usize) -> Result<(), DecodeError> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in text.as_bytes() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Err(DecodeError::TooDeep { max });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Parses `text` as one JSON value of type `T` after the depth check.
pub fn parse<'a, T: serde::Deserialize<'a>>(
    text: &'a str,
    max_depth: usize,
) -> Result<T, DecodeError> {
    check_depth(text, max_depth)?;
    serde_json::from_str(text).map_err(|e| DecodeError::InvalidJson(e.to_string()))
}

/// Validates `text` as one JSON value without building it, returning it
/// borrowed as a [`RawValue`] (the zero-copy path for payloads that JS will
/// `JSON.parse` itself).
pub fn parse_raw(text: &str, max_depth: usize) -> Result<&RawValue, DecodeError> {
    parse::<&RawValue>(text, max_depth)
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

/// Parses `text` into a `serde_json::Value`, through the codecs' own
/// [`Value`](super::value::Value) tree. Same result as
/// `serde_json::from_str::<serde_json::Value>` (a repeated key keeps its
/// last value; only serde_json's private raw-value marker key, which its
/// reader refuses, is read as a plain key), but without serde_json's own `Value` reader, a second
/// full JSON-to-tree instance in the wasm (~5 KB).
pub fn parse_value(text: &str) -> Result<serde_json::Value, serde_json::Error> {
    serde_json::from_str::<super::value::Value>(text).map(into_serde)
}

fn into_serde(v: super::value::Value) -> serde_json::Value {
    use super::value::Value;
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(b),
        Value::Number(n) => serde_json::Value::Number(n),
        Value::String(s) => serde_json::Value::String(s),
        Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(into_serde).collect())
        }
        Value::Object(fields) => {
            // One insert at a time (not `collect`, which sorts in bulk).
            let mut map = serde_json::Map::new();
            for (k, v) in fields {
                map.insert(k, into_serde(v));
            }
            serde_json::Value::Object(map)
        }
        // Parsing text never yields binary data.
        Value::Binary(_) => serde_json::Value::Null,
    }
}

/// `v` as compact JSON text: what `v.to_string()` gives. `Display` for
/// `serde_json::Value` brings both the compact and the pretty printer
/// (`{:#}`) into the wasm; every caller going through `to_string` keeps
/// one printer (~2 KB less).
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
/// Why the codecs read JSON through this rather than serde's typed readers
/// (`String`, `Vec<&RawValue>`, derived structs): each typed read brings
/// its own visitor and "invalid type" error paths into the wasm; one shallow
/// reader shared by every caller is ~4 KB smaller. `Shallow` takes any JSON
/// (it only asks serde_json for `deserialize_any`), and each caller checks
/// the shape it needs.
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
    fn parse_value_matches_serde_json() {
        for text in [
            "null",
            "true",
            "0",
            "-0",
            "-12",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775809",
            "1.5e300",
            "1e-400",
            "2.50",
            r#""a\u00e9\ud83d\ude00\n""#,
            "[]",
            "{}",
            r#"{"b":1,"a":[1,{"x":null}],"b":2}"#,
            r#"[1,"two",[3,[4,[5]]],{"k":{"k":{"k":false}}}]"#,
            " [ 1 , 2 ] ",
        ] {
            let ours = parse_value(text).map_err(|e| e.to_string());
            let theirs = serde_json::from_str::<serde_json::Value>(text).map_err(|e| e.to_string());
            assert_eq!(ours, theirs, "{text}");
        }
        for bad in ["", "[1,", "{\"a\"}", "nul", r#""\ud800""#, "1 2"] {
            assert!(parse_value(bad).is_err(), "{bad}");
            assert!(
                serde_json::from_str::<serde_json::Value>(bad).is_err(),
                "{bad}"
            );
        }
        // The one difference: serde_json's reader treats this key as its
        // private raw-value marker and fails; here it is a key like any other.
        let marker = r#"{"$serde_json::private::RawValue":"x"}"#;
        assert!(serde_json::from_str::<serde_json::Value>(marker).is_err());
        assert_eq!(
            parse_value(marker).ok(),
            Some(serde_json::json!({"$serde_json::private::RawValue": "x"}))
        );
    }
}
