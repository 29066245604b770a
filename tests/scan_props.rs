//! The hot-path JSON scanner agrees with serde_json on what is valid JSON,
//! and reports the shape and the leading string of arrays correctly.
#![cfg(not(target_arch = "wasm32"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use frinny_agent::protocol::scan::{scan, Shape};
use frinny_agent::protocol::DecodeError;
use proptest::prelude::*;
use serde::de::IgnoredAny;

fn serde_ok(text: &str) -> bool {
    serde_json::from_str::<IgnoredAny>(text).is_ok()
}

/// Arbitrary JSON values, serialised with random whitespace.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| serde_json::json!(f)),
        ".{0,12}".prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::vec((".{0,6}", inner), 0..6)
                .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Text drawn from the characters JSON is made of, to hit every error path.
fn jsonish() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("["),
            Just("]"),
            Just("{"),
            Just("}"),
            Just(","),
            Just(":"),
            Just("\""),
            Just("\\"),
            Just("\\u00e9"),
            Just("\\ud800"),
            Just("\\x"),
            Just("true"),
            Just("fals"),
            Just("null"),
            Just("-"),
            Just("0"),
            Just("01"),
            Just("1.5"),
            Just("1."),
            Just("e7"),
            Just("E-"),
            Just(" "),
            Just("\n"),
            Just("\t"),
            Just("a"),
            Just("é"),
            Just("\u{1}"),
            Just("\"k\":"),
        ],
        0..24,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn agrees_with_serde_on_jsonish_text(text in jsonish()) {
        prop_assert_eq!(scan(&text, 1000).is_ok(), serde_ok(&text), "{:?}", text);
    }

    #[test]
    fn accepts_every_serialised_value(v in json_value(), pretty in any::<bool>()) {
        let text = if pretty { serde_json::to_string_pretty(&v).unwrap() } else { v.to_string() };
        let shape = scan(&text, 1000).unwrap();
        let want = match &v {
            serde_json::Value::Array(a) if a.is_empty() => "empty",
            serde_json::Value::Array(a) if a[0].is_string() => "named",
            serde_json::Value::Array(_) => "array",
            serde_json::Value::Object(_) => "object",
            serde_json::Value::String(_) => "string",
            _ => "other",
        };
        let got = match shape {
            Shape::EmptyArray => "empty",
            Shape::NamedArray { start, end } => {
                // The span is the first element's contents, escapes and all.
                let raw = format!("\"{}\"", &text[start..end]);
                prop_assert_eq!(&serde_json::from_str::<String>(&raw).unwrap(), v[0].as_str().unwrap());
                "named"
            }
            Shape::Array => "array",
            Shape::Object => "object",
            Shape::String => "string",
            Shape::Other => "other",
        };
        prop_assert_eq!(got, want);
    }

    #[test]
    fn agrees_with_serde_on_mutated_values(v in json_value(), edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..4, any::<char>()), 1..4)) {
        let mut chars: Vec<char> = v.to_string().chars().collect();
        for (at, op, c) in edits {
            if chars.is_empty() { chars.push(c); continue; }
            let i = at.index(chars.len());
            match op {
                0 => { chars.remove(i); }
                1 => chars.insert(i, c),
                2 => chars[i] = c,
                _ => chars.truncate(i),
            }
        }
        let text: String = chars.into_iter().collect();
        prop_assert_eq!(scan(&text, 1000).is_ok(), serde_ok(&text), "{:?}", text);
    }

    #[test]
    fn depth_limit_is_exact(depth in 1usize..80, limit in 1usize..80) {
        let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let r = scan(&text, limit);
        if depth > limit {
            prop_assert_eq!(r, Err(DecodeError::TooDeep { max: limit }));
        } else {
            prop_assert!(r.is_ok());
        }
    }
}

#[test]
fn deep_nesting_far_beyond_the_limit_is_refused_without_recursion() {
    let text = "[".repeat(1_000_000);
    assert_eq!(scan(&text, 64), Err(DecodeError::TooDeep { max: 64 }));
    // With no limit to speak of it is still iterative: an unterminated error, no stack overflow.
    assert!(matches!(
        scan(&text, usize::MAX),
        Err(DecodeError::InvalidJson(_))
    ));
}

#[test]
fn examples() {
    assert_eq!(
        scan(r#" ["a\"b", 1] "#, 8),
        Ok(Shape::NamedArray { start: 3, end: 7 })
    );
    assert_eq!(scan("[]", 8), Ok(Shape::EmptyArray));
    assert_eq!(scan("[1,\"a\"]", 8), Ok(Shape::Array));
    assert_eq!(scan("{\"a\":[]}", 8), Ok(Shape::Object));
    assert_eq!(scan("-0.5e+3", 8), Ok(Shape::Other));
    for bad in [
        "",
        "[",
        "[1,]",
        "{\"a\"}",
        "{\"a\":1,}",
        "01",
        "1.",
        "\"\\q\"",
        "[1 2]",
        "nul",
        "{1:2}",
        "\"\u{1}\"",
    ] {
        assert!(
            matches!(scan(bad, 8), Err(DecodeError::InvalidJson(_))),
            "{bad:?}"
        );
    }
}
