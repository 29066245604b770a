//! The plain-JSON framing: `{"action": ...}` objects.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use frinny_agent::protocol::json_frame::{self, EncodeError};
use frinny_agent::protocol::{DecodeError, Limits};

fn decode(text: &str) -> Result<json_frame::JsonFrame<'_>, DecodeError> {
    json_frame::decode(text, &Limits::default())
}

#[test]
fn decodes_the_old_raw_websocket_reply() {
    let text = r#"{"action":"query_response","request_id":"1700000000000:u1","content":"Hello"}"#;
    let frame = decode(text).unwrap();
    assert_eq!(frame.action, "query_response");
    assert_eq!(frame.json, text);
}

#[test]
fn action_with_escapes_is_unescaped() {
    let frame = decode(r#"{"action":"a\"b\u0041"}"#).unwrap();
    assert_eq!(frame.action, "a\"bA");
}

#[test]
fn action_may_be_anywhere_in_the_object() {
    assert_eq!(
        decode(r#"{"x":[1,{"action":"no"}],"action":"yes"}"#)
            .unwrap()
            .action,
        "yes"
    );
}

#[test]
fn missing_or_non_string_action_is_refused() {
    assert_eq!(
        decode(r#"{"content":"hi"}"#),
        Err(DecodeError::MissingAction)
    );
    assert_eq!(decode(r#"{"action":7}"#), Err(DecodeError::MissingAction));
    assert_eq!(
        decode(r#"{"action":null}"#),
        Err(DecodeError::MissingAction)
    );
}

#[test]
fn non_objects_are_refused() {
    assert_eq!(decode(""), Err(DecodeError::Empty));
    assert_eq!(decode("  "), Err(DecodeError::Empty));
    assert!(matches!(
        decode(r#"["action","x"]"#),
        Err(DecodeError::InvalidPayload(_))
    ));
    assert!(matches!(decode("42"), Err(DecodeError::InvalidPayload(_))));
}

#[test]
fn malformed_json_is_refused() {
    assert!(matches!(
        decode(r#"{"action":"x""#),
        Err(DecodeError::InvalidJson(_))
    ));
    assert!(matches!(
        decode(r#"{"action":"x"} trailing"#),
        Err(DecodeError::InvalidJson(_))
    ));
    assert!(matches!(
        decode(r#"{"action":"x","action":"y"}"#),
        Err(DecodeError::InvalidJson(_))
    ));
}

#[test]
fn oversized_and_deep_frames_are_refused() {
    let limits = Limits {
        max_frame_bytes: 32,
        ..Limits::default()
    };
    let big = format!(r#"{{"action":"x","pad":"{}"}}"#, "a".repeat(40));
    assert_eq!(
        json_frame::decode(&big, &limits),
        Err(DecodeError::TooLarge {
            len: big.len(),
            max: 32
        })
    );
    let deep = format!(
        r#"{{"action":"x","d":{}{}}}"#,
        "[".repeat(100),
        "]".repeat(100)
    );
    assert_eq!(
        decode(&deep),
        Err(DecodeError::TooDeep {
            max: Limits::DEFAULT_MAX_DEPTH
        })
    );
}

#[test]
fn encode_puts_action_first_and_keeps_fields_verbatim() {
    let out = json_frame::encode(
        "query",
        r#"{"content":"hi","n":1.50,"nested":{"a":[1, 2]}}"#,
    )
    .unwrap();
    assert_eq!(
        out,
        r#"{"action":"query","content":"hi","n":1.50,"nested":{"a":[1, 2]}}"#
    );
}

#[test]
fn encode_replaces_an_action_field_in_the_payload() {
    let out = json_frame::encode("query", r#"{"action":"spoof","content":"hi"}"#).unwrap();
    assert_eq!(out, r#"{"action":"query","content":"hi"}"#);
}

#[test]
fn encode_escapes_the_action() {
    let out = json_frame::encode("we\"ird", "{}").unwrap();
    assert_eq!(decode(&out).unwrap().action, "we\"ird");
}

#[test]
fn encode_refuses_non_objects() {
    assert_eq!(
        json_frame::encode("x", "[1]"),
        Err(EncodeError::NotAnObject)
    );
    assert_eq!(
        json_frame::encode("x", "nope"),
        Err(EncodeError::NotAnObject)
    );
}
