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
pub fn parse<'a, T: serde::Deserialize<'a>>(text: &'a str, max_depth: usize) -> Result<T, DecodeError> {
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
    serde_json::from_str::<OrderedObject<'_>>(text).ok().map(|o| o.0)
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

struct OrderedObject<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for OrderedObject<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visit<'a> {
            type Value = OrderedObject<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(self, mut m: M) -> Result<Self::Value, M::Error> {
                let mut fields = Vec::new();
                while let Some((k, v)) = m.next_entry::<Cow<'de, str>, &'de RawValue>()? {
                    fields.push((k, v));
                }
                Ok(OrderedObject(fields))
            }
        }
        d.deserialize_map(Visit(std::marker::PhantomData))
    }
}
