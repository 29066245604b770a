//! Test vectors for the Engine.IO v4 codec.
//!
//! - `spec_*`: every encode/decode example of the protocol specification
//!   (README of `socketio/engine.io-protocol`, 4th version), named after its
//!   section. `spec_rev4_draft_*` come from the earlier text of the same v4
//!   README ("This is revision 4", with the sample sessions).
//! - `test_suite_*`: the bodies and frames of `test-suite/test-suite.js` (v4).
//! - `parser_*`: vectors of `engine.io-parser` (its tests and its 4.0.0
//!   changelog, which lists the v3 -> v4 encoding changes).
//! - `malformed_*`: hostile or broken input, each with its exact error.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use frinny_agent::protocol::engine_io::{
    decode_payload, decode_payload_bytes, encode_payload, Data, Frame, Handshake, Packet,
    PacketType,
};
use frinny_agent::protocol::{DecodeError, Limits};
use std::borrow::Cow;

const L: Limits = Limits {
    max_frame_bytes: Limits::DEFAULT_MAX_FRAME_BYTES,
    max_attachments: Limits::DEFAULT_MAX_ATTACHMENTS,
    max_depth: Limits::DEFAULT_MAX_DEPTH,
};

fn text(s: &str) -> Packet<'_> {
    Packet::Message(Data::Text(Cow::Borrowed(s)))
}

fn binary(b: &[u8]) -> Packet<'static> {
    Packet::Message(Data::Binary(Cow::Owned(b.to_vec())))
}

fn ping(s: &str) -> Packet<'_> {
    Packet::Ping(Cow::Borrowed(s))
}

fn pong(s: &str) -> Packet<'_> {
    Packet::Pong(Cow::Borrowed(s))
}

/// Decodes `frame` as a WebSocket text frame, checks it is `expected`, and
/// that encoding `expected` gives `frame` back.
fn text_frame_both_ways(frame: &str, expected: &Packet<'_>) {
    assert_eq!(
        &Packet::decode_text(frame, &L).unwrap(),
        expected,
        "decoding {frame:?}"
    );
    assert_eq!(
        expected.encode(),
        Frame::Text(frame.to_owned()),
        "encoding {expected:?}"
    );
}

/// Same for a long-polling payload.
fn payload_both_ways(payload: &str, expected: &[Packet<'_>]) {
    assert_eq!(
        decode_payload(payload, &L).unwrap(),
        expected,
        "decoding {payload:?}"
    );
    assert_eq!(encode_payload(expected), payload, "encoding {expected:?}");
}

fn spec_handshake() -> Handshake {
    Handshake {
        sid: "lv_VI97HAXpY6yYWAAAC".into(),
        upgrades: vec!["websocket".into()],
        ping_interval: 25000,
        ping_timeout: 20000,
        max_payload: Some(1_000_000),
    }
}

fn handshake_error(json: &str) -> DecodeError {
    Packet::decode_text(&format!("0{json}"), &L).unwrap_err()
}

const VALID_HANDSHAKE: &str = r#"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

// ---------------------------------------------------------------------------
// Specification, section "Protocol"
// ---------------------------------------------------------------------------

#[test]
fn spec_protocol_packet_type_table() {
    let table = [
        ('0', PacketType::Open),
        ('1', PacketType::Close),
        ('2', PacketType::Ping),
        ('3', PacketType::Pong),
        ('4', PacketType::Message),
        ('5', PacketType::Upgrade),
        ('6', PacketType::Noop),
    ];
    for (digit, ty) in table {
        assert_eq!(ty.as_char(), digit);
        assert_eq!(PacketType::from_char(digit), Ok(ty));
    }
    assert_eq!(
        PacketType::ALL.map(PacketType::as_char),
        ['0', '1', '2', '3', '4', '5', '6']
    );
    assert_eq!(
        PacketType::from_char('7'),
        Err(DecodeError::UnknownPacketType('7'))
    );
}

#[test]
fn spec_protocol_packets_without_payload() {
    text_frame_both_ways("1", &Packet::Close);
    text_frame_both_ways("2", &ping(""));
    text_frame_both_ways("3", &pong(""));
    text_frame_both_ways("4", &text(""));
    text_frame_both_ways("5", &Packet::Upgrade);
    text_frame_both_ways("6", &Packet::Noop);
    for (packet, ty) in [
        (Packet::Close, PacketType::Close),
        (ping(""), PacketType::Ping),
        (pong(""), PacketType::Pong),
        (text(""), PacketType::Message),
        (Packet::Upgrade, PacketType::Upgrade),
        (Packet::Noop, PacketType::Noop),
        (Packet::Open(spec_handshake()), PacketType::Open),
    ] {
        assert_eq!(packet.packet_type(), ty);
    }
}

// Section "Protocol > Handshake": the example open packet payload, exactly as
// printed (pretty JSON) and in the compact form servers send.
#[test]
fn spec_protocol_handshake_example() {
    let pretty = "0{\n  \"sid\": \"lv_VI97HAXpY6yYWAAAC\",\n  \"upgrades\": [\"websocket\"],\n  \"pingInterval\": 25000,\n  \"pingTimeout\": 20000,\n  \"maxPayload\": 1000000\n}";
    assert_eq!(
        Packet::decode_text(pretty, &L).unwrap(),
        Packet::Open(spec_handshake())
    );
    text_frame_both_ways(
        &format!("0{VALID_HANDSHAKE}"),
        &Packet::Open(spec_handshake()),
    );
    assert_eq!(spec_handshake().to_json(), VALID_HANDSHAKE);
    assert_eq!(
        Handshake::decode(VALID_HANDSHAKE, &L).unwrap(),
        spec_handshake()
    );
}

// Section "Protocol > Handshake": the handshake sent over HTTP long-polling
// is a one-packet payload.
#[test]
fn spec_protocol_handshake_over_polling() {
    let body = format!("0{VALID_HANDSHAKE}");
    payload_both_ways(&body, &[Packet::Open(spec_handshake())]);
}

// The handshake table types the fields; derive(Serialize) agrees with the
// hand-written encoder.
#[test]
fn spec_protocol_handshake_serde_camel_case() {
    assert_eq!(
        serde_json::to_string(&spec_handshake()).unwrap(),
        VALID_HANDSHAKE
    );
    let back: Handshake = serde_json::from_str(VALID_HANDSHAKE).unwrap();
    assert_eq!(back, spec_handshake());
}

// Section "Protocol > Heartbeat": the server sends `2`, the client answers `3`.
#[test]
fn spec_protocol_heartbeat() {
    text_frame_both_ways("2", &ping(""));
    text_frame_both_ways("3", &pong(""));
}

// Section "Protocol > Upgrade": `2probe`, `3probe`, then `5`; the server ends
// a pending GET with a `noop`.
#[test]
fn spec_protocol_upgrade() {
    text_frame_both_ways("2probe", &ping("probe"));
    text_frame_both_ways("3probe", &pong("probe"));
    text_frame_both_ways("5", &Packet::Upgrade);
    payload_both_ways("6", &[Packet::Noop]);
}

// Section "Protocol > Message".
#[test]
fn spec_protocol_message() {
    text_frame_both_ways("4hello", &text("hello"));
}

// ---------------------------------------------------------------------------
// Specification, section "Packet encoding"
// ---------------------------------------------------------------------------

// "Packet encoding > HTTP long-polling", first example.
#[test]
fn spec_packet_encoding_http_long_polling_example() {
    payload_both_ways(
        "4hello\x1e2\x1e4world",
        &[text("hello"), ping(""), text("world")],
    );
}

// "Packet encoding > HTTP long-polling", binary example.
#[test]
fn spec_packet_encoding_http_long_polling_binary_example() {
    payload_both_ways(
        "4hello\x1ebAQIDBA==",
        &[text("hello"), binary(&[1, 2, 3, 4])],
    );
}

// "Packet encoding > WebSocket": text example.
#[test]
fn spec_packet_encoding_websocket_example() {
    text_frame_both_ways("4hello", &text("hello"));
    // "UTF-8 encoded": the same frame as bytes.
    assert_eq!(
        Packet::decode_text_bytes(b"4hello", &L).unwrap(),
        text("hello")
    );
}

// "Packet encoding > WebSocket": "Binary payloads are sent as is".
#[test]
fn spec_packet_encoding_websocket_binary_as_is() {
    let bytes = [1u8, 2, 3, 4];
    assert_eq!(Packet::decode_binary(&bytes, &L).unwrap(), binary(&bytes));
    assert_eq!(binary(&bytes).encode(), Frame::Binary(bytes.to_vec()));
    // A first byte that looks like a type digit is still data.
    assert_eq!(Packet::decode_binary(b"4abc", &L).unwrap(), binary(b"4abc"));
}

// "History > From v3 to v4": the record separator replaces character
// counting; `€` is one packet whatever its byte length.
#[test]
fn spec_history_v3_to_v4_record_separator() {
    payload_both_ways("4€", &[text("€")]);
    assert_eq!(decode_payload("4€", &L).unwrap().len(), 1);
}

// "History > From v3 to v4": binary data in a payload is always base64.
#[test]
fn spec_history_v3_to_v4_always_base64_in_payloads() {
    assert_eq!(encode_payload(&[binary(&[1, 2, 3, 4])]), "bAQIDBA==");
    let mut out = String::new();
    binary(&[1, 2, 3, 4]).encode_text_into(&mut out);
    assert_eq!(out, "bAQIDBA==");
}

// ---------------------------------------------------------------------------
// Earlier text of the v4 README ("This is revision 4"): sample sessions and
// payload examples.
// ---------------------------------------------------------------------------

// "Sample session", request n°1: a handshake without maxPayload.
#[test]
fn spec_rev4_draft_sample_session_open_packet() {
    let body = r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}"#;
    let expected = Handshake {
        sid: "lv_VI97HAXpY6yYWAAAC".into(),
        upgrades: vec!["websocket".into()],
        ping_interval: 25000,
        ping_timeout: 5000,
        max_payload: None,
    };
    payload_both_ways(body, &[Packet::Open(expected)]);
}

// "Sample session", requests n°2 and n°3.
#[test]
fn spec_rev4_draft_sample_session_messages() {
    payload_both_ways("4hey", &[text("hey")]);
    payload_both_ways("4hello\x1e4world", &[text("hello"), text("world")]);
}

// "Sample session", request n°4: the WebSocket frames after the upgrade.
#[test]
fn spec_rev4_draft_sample_session_websocket_frames() {
    text_frame_both_ways("2probe", &ping("probe"));
    text_frame_both_ways("3probe", &pong("probe"));
    text_frame_both_ways("5", &Packet::Upgrade);
    text_frame_both_ways("4hello", &text("hello"));
    text_frame_both_ways("4world", &text("world"));
    text_frame_both_ways("2", &ping(""));
    text_frame_both_ways("3", &pong(""));
    text_frame_both_ways("1", &Packet::Close);
}

// "Sample session with WebSocket only": that handshake has no `upgrades`
// key. The current spec's table makes it mandatory and engine.io-client
// fails on it (`upgrades.filter` of undefined), so it is refused.
#[test]
fn spec_rev4_draft_websocket_only_handshake_without_upgrades_is_refused() {
    let frame = r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","pingInterval":25000,"pingTimeout":5000}"#;
    assert!(matches!(
        Packet::decode_text(frame, &L),
        Err(DecodeError::InvalidHandshake(m)) if m.contains("upgrades")
    ));
    text_frame_both_ways("4hey", &text("hey"));
}

// "Encoding > Packet" (`4hello`), "2 ping" (`2` / `3`), "4 message" examples 1
// and 2 (`4HelloWorld`), "6 noop" example (`2probe`, `3probe`, `5`).
#[test]
fn spec_rev4_draft_packet_examples() {
    text_frame_both_ways("4hello", &text("hello"));
    text_frame_both_ways("2", &ping(""));
    text_frame_both_ways("3", &pong(""));
    text_frame_both_ways("4HelloWorld", &text("HelloWorld"));
    text_frame_both_ways("2probe", &ping("probe"));
    text_frame_both_ways("3probe", &pong("probe"));
    text_frame_both_ways("5", &Packet::Upgrade);
}

// "Encoding > Payload": example without binary.
#[test]
fn spec_rev4_draft_payload_example_without_binary() {
    payload_both_ways("4hello\x1e4€", &[text("hello"), text("€")]);
}

// "Encoding > Payload": example with binary.
#[test]
fn spec_rev4_draft_payload_example_with_binary() {
    payload_both_ways("4€\x1ebAQIDBA==", &[text("€"), binary(&[1, 2, 3, 4])]);
}

// ---------------------------------------------------------------------------
// test-suite/test-suite.js (v4)
// ---------------------------------------------------------------------------

#[test]
fn test_suite_handshake_has_all_keys() {
    let polling = r#"0{"sid":"s1","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#;
    let hs = match &decode_payload(polling, &L).unwrap()[..] {
        [Packet::Open(hs)] => hs.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        (
            hs.upgrades.as_slice(),
            hs.ping_interval,
            hs.ping_timeout,
            hs.max_payload
        ),
        (&["websocket".to_owned()][..], 300, 200, Some(1_000_000))
    );
    let websocket =
        r#"0{"sid":"s2","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#;
    match Packet::decode_text(websocket, &L).unwrap() {
        Packet::Open(hs) => assert!(hs.upgrades.is_empty()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn test_suite_message_polling_bodies() {
    payload_both_ways("4hello", &[text("hello")]);
    payload_both_ways(
        "4test1\x1e4test2\x1e4test3",
        &[text("test1"), text("test2"), text("test3")],
    );
    payload_both_ways(
        "4hello\x1ebAQIDBA==",
        &[text("hello"), binary(&[1, 2, 3, 4])],
    );
}

#[test]
fn test_suite_message_websocket_frames() {
    text_frame_both_ways("4hello", &text("hello"));
    assert_eq!(
        Packet::decode_binary(&[1, 2, 3, 4], &L).unwrap(),
        binary(&[1, 2, 3, 4])
    );
}

#[test]
fn test_suite_invalid_packet_format_abc() {
    assert_eq!(
        decode_payload("abc", &L),
        Err(DecodeError::UnknownPacketType('a'))
    );
    assert_eq!(
        Packet::decode_text("abc", &L),
        Err(DecodeError::UnknownPacketType('a'))
    );
}

#[test]
fn test_suite_heartbeat_close_and_noop_bodies() {
    payload_both_ways("2", &[ping("")]);
    payload_both_ways("3", &[pong("")]);
    payload_both_ways("1", &[Packet::Close]);
    payload_both_ways("6", &[Packet::Noop]);
    text_frame_both_ways("1", &Packet::Close);
}

// ---------------------------------------------------------------------------
// engine.io-parser
// ---------------------------------------------------------------------------

// CHANGELOG 4.0.0, "Encoding changes between v3 and v4".
#[test]
fn parser_changelog_v4_encoding_changes() {
    text_frame_both_ways("4hello", &text("hello"));
    assert_eq!(binary(&[1, 2, 3]).encode(), Frame::Binary(vec![1, 2, 3]));
    payload_both_ways("4hello\x1e4€€€", &[text("hello"), text("€€€")]);
    payload_both_ways("4hello\x1ebAQID", &[text("hello"), binary(&[1, 2, 3])]);
}

#[test]
fn parser_single_packets() {
    text_frame_both_ways("4", &text(""));
    text_frame_both_ways("1", &Packet::Close);
    text_frame_both_ways("21", &ping("1"));
    text_frame_both_ways("31", &pong("1"));
    text_frame_both_ways("4aaa", &text("aaa"));
    text_frame_both_ways("4utf8 — string", &text("utf8 — string"));
    text_frame_both_ways("4€€€", &text("€€€"));
    text_frame_both_ways("41", &text("1"));
    text_frame_both_ways("5", &Packet::Upgrade);
}

// `{ type: "open", data: '{"some":"json"}' }`: engine.io-parser keeps the
// open payload opaque; this codec reads it as the handshake, which it is not.
#[test]
fn parser_open_packet_with_other_json_is_not_a_handshake() {
    assert!(
        matches!(handshake_error(r#"{"some":"json"}"#), DecodeError::InvalidHandshake(m) if m.contains("sid"))
    );
}

#[test]
fn parser_binary_as_base64() {
    assert_eq!(
        Packet::decode_text("bAQIDBA==", &L).unwrap(),
        binary(&[1, 2, 3, 4])
    );
    let mut out = String::new();
    binary(&[1, 2, 3, 4]).encode_text_into(&mut out);
    assert_eq!(out, "bAQIDBA==");
    // Blob(["1234", <01 02 03 04>]) as base64.
    assert_eq!(
        Packet::decode_text("bMTIzNAECAwQ=", &L).unwrap(),
        binary(b"1234\x01\x02\x03\x04")
    );
}

#[test]
fn parser_payload_string_and_binary() {
    payload_both_ways("4test\x1ebAQIDBA==", &[text("test"), binary(&[1, 2, 3, 4])]);
    payload_both_ways("4test\x1eb", &[text("test"), binary(&[])]);
    payload_both_ways(
        "2probe\x1e4hello\x1e1",
        &[ping("probe"), text("hello"), Packet::Close],
    );
}

// encodePacketToBinary of the text message "1€": the UTF-8 bytes.
#[test]
fn parser_plaintext_packet_as_bytes() {
    assert_eq!(
        Packet::decode_text_bytes(&[52, 49, 226, 130, 172], &L).unwrap(),
        text("1€")
    );
}

#[test]
fn parser_decoding_errors() {
    assert_eq!(Packet::decode_text("", &L), Err(DecodeError::Empty));
    assert_eq!(
        Packet::decode_text(":::", &L),
        Err(DecodeError::UnknownPacketType(':'))
    );
    assert_eq!(
        Packet::decode_text("94103", &L),
        Err(DecodeError::UnknownPacketType('9'))
    );
    assert_eq!(decode_payload("", &L), Err(DecodeError::Empty));
    assert_eq!(
        decode_payload("))", &L),
        Err(DecodeError::UnknownPacketType(')'))
    );
}

// Data after a type that carries none is ignored, as engine.io-parser
// passes it on but nothing reads it.
#[test]
fn parser_data_after_close_upgrade_noop_is_ignored() {
    assert_eq!(Packet::decode_text("1!", &L).unwrap(), Packet::Close);
    assert_eq!(Packet::decode_text("5x", &L).unwrap(), Packet::Upgrade);
    assert_eq!(Packet::decode_text("6probe", &L).unwrap(), Packet::Noop);
    assert_eq!(decode_payload("1!", &L).unwrap(), vec![Packet::Close]);
}

// ---------------------------------------------------------------------------
// Malformed input
// ---------------------------------------------------------------------------

#[test]
fn malformed_empty_inputs() {
    assert_eq!(Packet::decode_text("", &L), Err(DecodeError::Empty));
    assert_eq!(Packet::decode_text_bytes(b"", &L), Err(DecodeError::Empty));
    assert_eq!(decode_payload("", &L), Err(DecodeError::Empty));
    assert_eq!(decode_payload_bytes(b"", &L), Err(DecodeError::Empty));
    // An empty binary frame is an empty binary message, not an error.
    assert_eq!(Packet::decode_binary(&[], &L).unwrap(), binary(&[]));
}

#[test]
fn malformed_payload_with_empty_packets() {
    for payload in ["\x1e", "4a\x1e", "\x1e4a", "4a\x1e\x1e4b"] {
        assert_eq!(
            decode_payload(payload, &L),
            Err(DecodeError::Empty),
            "{payload:?}"
        );
    }
}

#[test]
fn malformed_truncated_handshake() {
    for json in [
        "",
        "{",
        r#"{"sid":"abc","upgrades":["websocket"],"pingInterval":25000"#,
        r#"{"sid":"abc"#,
        r#"{"sid":"abc","upgrades":["#,
    ] {
        assert!(
            matches!(handshake_error(json), DecodeError::InvalidJson(_)),
            "{json:?}"
        );
    }
}

#[test]
fn malformed_handshake_trailing_data() {
    assert!(matches!(
        handshake_error(&format!("{VALID_HANDSHAKE}x")),
        DecodeError::InvalidJson(_)
    ));
    assert!(matches!(
        handshake_error(&format!("{VALID_HANDSHAKE}{{}}")),
        DecodeError::InvalidJson(_)
    ));
    // Whitespace around the object is JSON.
    assert_eq!(
        Packet::decode_text(&format!("0 {VALID_HANDSHAKE} \n"), &L).unwrap(),
        Packet::Open(spec_handshake())
    );
}

#[test]
fn malformed_handshake_not_an_object() {
    for json in [
        "[]",
        "null",
        "\"sid\"",
        "42",
        "true",
        r#"["lv_VI97HAXpY6yYWAAAC"]"#,
    ] {
        assert_eq!(
            handshake_error(json),
            DecodeError::InvalidHandshake("the handshake is not a JSON object with unique keys"),
            "{json:?}"
        );
    }
}

#[test]
fn malformed_handshake_duplicate_key() {
    let json = r#"{"sid":"a","sid":"b","upgrades":[],"pingInterval":1,"pingTimeout":1}"#;
    assert_eq!(
        handshake_error(json),
        DecodeError::InvalidHandshake("the handshake is not a JSON object with unique keys")
    );
}

/// `VALID_HANDSHAKE` with `key`'s value replaced by `value` (or the key
/// removed when `value` is `None`).
fn with_field(key: &str, value: Option<&str>) -> String {
    let mut map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(VALID_HANDSHAKE).unwrap();
    map.remove(key);
    let mut json = serde_json::to_string(&map).unwrap();
    if let Some(value) = value {
        json.pop();
        json.push_str(&format!(",\"{key}\":{value}}}"));
    }
    json
}

#[test]
fn malformed_handshake_missing_fields() {
    for (key, message) in [
        ("sid", "sid must be a non-empty string"),
        ("upgrades", "upgrades must be an array of strings"),
        (
            "pingInterval",
            "pingInterval must be a non-negative integer",
        ),
        ("pingTimeout", "pingTimeout must be a non-negative integer"),
    ] {
        assert_eq!(
            handshake_error(&with_field(key, None)),
            DecodeError::InvalidHandshake(message),
            "{key}"
        );
        assert_eq!(
            handshake_error(&with_field(key, Some("null"))),
            DecodeError::InvalidHandshake(message),
            "{key}"
        );
    }
    // maxPayload is optional (older servers), but null is not a number.
    match Packet::decode_text(&format!("0{}", with_field("maxPayload", None)), &L).unwrap() {
        Packet::Open(hs) => assert_eq!(hs.max_payload, None),
        other => panic!("{other:?}"),
    }
}

#[test]
fn malformed_handshake_wrong_json_types() {
    let cases: &[(&str, &str, &str)] = &[
        ("sid", "42", "sid must be a non-empty string"),
        ("sid", "\"\"", "sid must be a non-empty string"),
        ("sid", "[\"a\"]", "sid must be a non-empty string"),
        ("sid", "{}", "sid must be a non-empty string"),
        (
            "upgrades",
            "\"websocket\"",
            "upgrades must be an array of strings",
        ),
        ("upgrades", "[1]", "upgrades must be an array of strings"),
        (
            "upgrades",
            "[\"websocket\",null]",
            "upgrades must be an array of strings",
        ),
        ("upgrades", "{}", "upgrades must be an array of strings"),
        (
            "pingInterval",
            "\"25000\"",
            "pingInterval must be a non-negative integer",
        ),
        (
            "pingInterval",
            "25000.5",
            "pingInterval must be a non-negative integer",
        ),
        (
            "pingInterval",
            "25000.0",
            "pingInterval must be a non-negative integer",
        ),
        (
            "pingInterval",
            "2.5e4",
            "pingInterval must be a non-negative integer",
        ),
        (
            "pingInterval",
            "-1",
            "pingInterval must be a non-negative integer",
        ),
        (
            "pingInterval",
            "true",
            "pingInterval must be a non-negative integer",
        ),
        (
            "pingTimeout",
            "[]",
            "pingTimeout must be a non-negative integer",
        ),
        (
            "pingTimeout",
            "-20000",
            "pingTimeout must be a non-negative integer",
        ),
        (
            "maxPayload",
            "\"1000000\"",
            "maxPayload must be a non-negative integer",
        ),
        (
            "maxPayload",
            "null",
            "maxPayload must be a non-negative integer",
        ),
        (
            "maxPayload",
            "1e6",
            "maxPayload must be a non-negative integer",
        ),
    ];
    for (key, value, message) in cases {
        assert_eq!(
            handshake_error(&with_field(key, Some(value))),
            DecodeError::InvalidHandshake(message),
            "{key}: {value}"
        );
    }
}

#[test]
fn malformed_handshake_huge_numbers() {
    let too_big = "18446744073709551616"; // u64::MAX + 1
    for (key, message) in [
        (
            "pingInterval",
            "pingInterval must be a non-negative integer",
        ),
        ("pingTimeout", "pingTimeout must be a non-negative integer"),
        ("maxPayload", "maxPayload must be a non-negative integer"),
    ] {
        for value in [
            too_big,
            "99999999999999999999999999999999999999",
            "1e400",
            "-9223372036854775809",
        ] {
            assert_eq!(
                handshake_error(&with_field(key, Some(value))),
                DecodeError::InvalidHandshake(message),
                "{key}: {value}"
            );
        }
    }
    // The largest u64 is fine.
    let json = with_field("pingInterval", Some("18446744073709551615"));
    match Packet::decode_text(&format!("0{json}"), &L).unwrap() {
        Packet::Open(hs) => assert_eq!(hs.ping_interval, u64::MAX),
        other => panic!("{other:?}"),
    }
}

#[test]
fn malformed_handshake_deeply_nested() {
    let deep = format!("{}1{}", "[".repeat(100), "]".repeat(100));
    let json = with_field("extra", Some(&deep));
    assert_eq!(
        handshake_error(&json),
        DecodeError::TooDeep {
            max: Limits::DEFAULT_MAX_DEPTH
        }
    );
    // The depth check runs before serde_json's own recursion limit (128).
    let deeper = format!("{{\"sid\":{}", "{\"a\":".repeat(10_000));
    assert_eq!(
        handshake_error(&deeper),
        DecodeError::TooDeep {
            max: Limits::DEFAULT_MAX_DEPTH
        }
    );
    // A tight limit refuses even the spec's handshake (object + array = 2).
    let tight = Limits { max_depth: 1, ..L };
    assert_eq!(
        Packet::decode_text(&format!("0{VALID_HANDSHAKE}"), &tight),
        Err(DecodeError::TooDeep { max: 1 })
    );
}

#[test]
fn malformed_handshake_unknown_keys_are_ignored() {
    let json = with_field("extra", Some(r#"{"nested":[1,2,3]}"#));
    assert_eq!(
        Packet::decode_text(&format!("0{json}"), &L).unwrap(),
        Packet::Open(spec_handshake())
    );
}

#[test]
fn malformed_handshake_escapes() {
    let json = with_field("sid", Some(r#""a\"b\\c\u00e9\n""#));
    match Packet::decode_text(&format!("0{json}"), &L).unwrap() {
        Packet::Open(hs) => {
            assert_eq!(hs.sid, "a\"b\\cé\n");
            let again = Packet::Open(hs.clone()).encode();
            let Frame::Text(again) = again else { panic!() };
            assert_eq!(Packet::decode_text(&again, &L).unwrap(), Packet::Open(hs));
        }
        other => panic!("{other:?}"),
    }
    // A lone surrogate escape is not a string serde_json accepts as UTF-8.
    let json = with_field("sid", Some(r#""\ud800""#));
    assert!(matches!(
        handshake_error(&json),
        DecodeError::InvalidJson(_) | DecodeError::InvalidHandshake(_)
    ));
}

#[test]
fn malformed_unknown_packet_types() {
    for (frame, c) in [
        ("7", '7'),
        ("8hello", '8'),
        ("9", '9'),
        ("x", 'x'),
        (" 4", ' '),
        ("€4", '€'),
        ("B", 'B'),
        ("\x1e", '\x1e'),
    ] {
        assert_eq!(
            Packet::decode_text(frame, &L),
            Err(DecodeError::UnknownPacketType(c)),
            "{frame:?}"
        );
    }
    assert_eq!(
        decode_payload("4a\x1e7b", &L),
        Err(DecodeError::UnknownPacketType('7'))
    );
    assert_eq!(
        decode_payload("4a\x1e-", &L),
        Err(DecodeError::UnknownPacketType('-'))
    );
}

#[test]
fn malformed_bad_utf8() {
    for bytes in [
        &b"4\xff"[..],
        b"\xff",
        b"4\xc3",
        b"4\xc3\x28",
        b"2\xed\xa0\x80",
        b"\xe2\x82",
    ] {
        assert_eq!(
            Packet::decode_text_bytes(bytes, &L),
            Err(DecodeError::InvalidUtf8),
            "{bytes:?}"
        );
    }
    assert_eq!(
        decode_payload_bytes(b"4a\x1e4\xc3\x28", &L),
        Err(DecodeError::InvalidUtf8)
    );
    // Non-UTF-8 is fine in a binary frame: it is binary data.
    assert_eq!(
        Packet::decode_binary(b"4\xff", &L).unwrap(),
        binary(b"4\xff")
    );
}

#[test]
fn malformed_bad_base64() {
    for frame in [
        "b!!!!",
        "bA",
        "bAQIDBA===",
        "bAQ=D",
        "bAR",
        "bAQIDBA=x",
        "bAQID BA==",
        "b€",
    ] {
        assert_eq!(
            Packet::decode_text(frame, &L),
            Err(DecodeError::InvalidBase64),
            "{frame:?}"
        );
    }
    assert_eq!(
        decode_payload("4hello\x1ebA", &L),
        Err(DecodeError::InvalidBase64)
    );
    // Padding is optional, as Node's Buffer.from(s, "base64") allows.
    assert_eq!(
        Packet::decode_text("bAQIDBA", &L).unwrap(),
        binary(&[1, 2, 3, 4])
    );
}

#[test]
fn malformed_oversized_is_checked_first() {
    let small = Limits {
        max_frame_bytes: 4,
        ..L
    };
    let too_large = DecodeError::TooLarge { len: 5, max: 4 };
    // Refused on size even though the content is also invalid.
    assert_eq!(Packet::decode_text("9xxxx", &small), Err(too_large.clone()));
    assert_eq!(Packet::decode_text("4abcd", &small), Err(too_large.clone()));
    assert_eq!(
        Packet::decode_text_bytes(b"4\xff\xff\xff\xff", &small),
        Err(too_large.clone())
    );
    assert_eq!(
        Packet::decode_binary(&[0; 5], &small),
        Err(too_large.clone())
    );
    assert_eq!(
        decode_payload("\x1e\x1e\x1e\x1e\x1e", &small),
        Err(too_large.clone())
    );
    assert_eq!(
        decode_payload_bytes(b"\xff\xff\xff\xff\xff", &small),
        Err(too_large.clone())
    );
    assert_eq!(Handshake::decode("[[[[[", &small), Err(too_large));
    // At the limit is fine.
    assert_eq!(Packet::decode_text("4abc", &small).unwrap(), text("abc"));
    assert_eq!(
        Packet::decode_binary(&[0; 4], &small).unwrap(),
        binary(&[0; 4])
    );
    assert_eq!(
        decode_payload("4\x1e4", &small).unwrap(),
        vec![text(""), text("")]
    );
}

#[test]
fn malformed_oversized_default_limit() {
    let big = format!("4{}", "a".repeat(Limits::DEFAULT_MAX_FRAME_BYTES));
    assert_eq!(
        Packet::decode_text(&big, &L),
        Err(DecodeError::TooLarge {
            len: Limits::DEFAULT_MAX_FRAME_BYTES + 1,
            max: Limits::DEFAULT_MAX_FRAME_BYTES
        })
    );
    assert!(matches!(
        decode_payload(&big, &L),
        Err(DecodeError::TooLarge { .. })
    ));
}

#[test]
fn malformed_errors_have_stable_codes() {
    assert_eq!(
        Packet::decode_text("", &L).unwrap_err().code(),
        "EMPTY_FRAME"
    );
    assert_eq!(
        Packet::decode_text("9", &L).unwrap_err().code(),
        "UNKNOWN_PACKET_TYPE"
    );
    assert_eq!(
        Packet::decode_text("b!", &L).unwrap_err().code(),
        "INVALID_BASE64"
    );
    assert_eq!(handshake_error("[]").code(), "INVALID_HANDSHAKE");
    assert_eq!(handshake_error("{").code(), "INVALID_JSON");
}

#[test]
fn decoded_text_borrows_from_the_frame() {
    let frame = String::from("4hello");
    match Packet::decode_text(&frame, &L).unwrap() {
        Packet::Message(Data::Text(Cow::Borrowed(s))) => {
            assert_eq!(s.as_ptr(), frame[1..].as_ptr())
        }
        other => panic!("not borrowed: {other:?}"),
    }
    let bytes = [1u8, 2, 3];
    assert!(matches!(
        Packet::decode_binary(&bytes, &L).unwrap(),
        Packet::Message(Data::Binary(Cow::Borrowed(_)))
    ));
}
