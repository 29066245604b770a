#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Every encode/decode example of the Socket.IO v5 protocol specification
//! (github.com/socketio/socket.io-protocol, README "Exchange protocol",
//! "Packet encoding" and "Sample session"), the vectors of its
//! `test-suite/test-suite.js` (`suite_*`) and of socket.io-parser's tests
//! (`parser_*`), then malformed input (`bad_*`).

use frinny_agent::protocol::socket_io::{Decoder, Packet, PacketType, Payload, RESERVED_EVENTS};
use frinny_agent::protocol::value::Value;
use frinny_agent::protocol::{DecodeError, Limits};
use serde_json::json;
use std::borrow::Cow;

fn decoder() -> Decoder {
    Decoder::new(Limits::default())
}

fn ph(n: usize) -> String {
    format!(r#"{{"_placeholder":true,"num":{n}}}"#)
}

/// Decodes a text frame followed by binary frames with a fresh decoder,
/// checking that the packet only comes out with the last frame.
fn decode_frames(text: &str, bins: &[&[u8]]) -> Packet<'static> {
    let mut d = decoder();
    let first = d.decode_text(text).unwrap();
    if bins.is_empty() {
        return first.expect("text packet").into_owned();
    }
    assert!(first.is_none(), "binary packet must wait for attachments");
    let mut out = None;
    for (i, b) in bins.iter().enumerate() {
        let r = d.decode_binary(b).unwrap();
        if i + 1 < bins.len() {
            assert!(r.is_none());
            assert_eq!(d.pending_attachments(), Some((bins.len(), i + 1)));
        } else {
            out = r;
        }
    }
    assert_eq!(d.pending_attachments(), None);
    out.expect("packet after last attachment")
}

/// `packet` encodes to exactly `text` + `bins`, and those decode back to it.
fn check(packet: &Packet<'_>, text: &str, bins: &[&[u8]]) {
    let enc = packet.encode();
    assert_eq!(enc.text, text);
    let enc_bins: Vec<&[u8]> = enc.attachments.iter().map(Vec::as_slice).collect();
    assert_eq!(enc_bins, bins);
    let mut hot = String::from("4"); // as the Engine.IO message prefix would be
    packet.encode_text_into(&mut hot);
    assert_eq!(hot, format!("4{text}"));
    assert_eq!(&decode_frames(text, bins), packet);
}

fn connect(nsp: &'static str, auth: Option<&'static str>) -> Packet<'static> {
    Packet::connect(nsp, auth).unwrap()
}

fn event(nsp: &'static str, json: &'static str, id: Option<u64>) -> Packet<'static> {
    Packet::event_from_payload(nsp, json, id).unwrap()
}

fn binary(nsp: &'static str, json: &str, bins: &[&[u8]]) -> (Cow<'static, str>, Payload<'static>) {
    (
        Cow::Borrowed(nsp),
        Payload {
            json: Cow::Owned(json.to_owned()),
            attachments: bins.iter().map(|b| b.to_vec()).collect(),
        },
    )
}

fn connect_error(nsp: &'static str, data: &'static str) -> Packet<'static> {
    Packet::ConnectError {
        nsp: nsp.into(),
        data: data.into(),
    }
}

/// `text` fails with `err`, and the same decoder then decodes a normal
/// packet (it recovered).
fn bad(text: &str, err: DecodeError) {
    let mut d = decoder();
    assert_eq!(d.decode_text(text), Err(err), "decoding {text:?}");
    assert_eq!(d.pending_attachments(), None);
    assert_recovers(&mut d);
}

fn assert_recovers(d: &mut Decoder) {
    assert_eq!(d.pending_attachments(), None);
    assert_eq!(
        d.decode_text(r#"2["ok"]"#).unwrap(),
        Some(event("/", r#"["ok"]"#, None))
    );
    assert_eq!(
        d.decode_text(&format!("51-[\"ok\",{}]", ph(0))).unwrap(),
        None
    );
    let p = d.decode_binary(&[9]).unwrap().unwrap();
    assert_eq!(p.attachments(), &[vec![9u8]]);
}

// ---------------------------------------------------------------------------
// Packet types table

#[test]
fn spec_packet_types() {
    let all = [
        (PacketType::Connect, '0'),
        (PacketType::Disconnect, '1'),
        (PacketType::Event, '2'),
        (PacketType::Ack, '3'),
        (PacketType::ConnectError, '4'),
        (PacketType::BinaryEvent, '5'),
        (PacketType::BinaryAck, '6'),
    ];
    for (ty, c) in all {
        assert_eq!(ty.as_char(), c);
        assert_eq!(PacketType::from_char(c), Some(ty));
        assert_eq!(ty as u8, c as u8 - b'0');
    }
    assert_eq!(PacketType::from_char('7'), None);
}

// ---------------------------------------------------------------------------
// Packet encoding: connection to a namespace

#[test]
fn spec_connect_main_namespace() {
    check(&connect("/", None), "0", &[]);
}

#[test]
fn spec_connect_main_namespace_response_with_sid() {
    check(
        &connect("/", Some(r#"{"sid":"wZX3oN0bSVIhsaknAAAI"}"#)),
        r#"0{"sid":"wZX3oN0bSVIhsaknAAAI"}"#,
        &[],
    );
}

#[test]
fn spec_connect_custom_namespace() {
    check(&connect("/admin", None), "0/admin,", &[]);
}

#[test]
fn spec_connect_custom_namespace_response_with_sid() {
    check(
        &connect("/admin", Some(r#"{"sid":"oSO0OpakMV_3jnilAAAA"}"#)),
        r#"0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}"#,
        &[],
    );
}

#[test]
fn spec_connect_with_auth() {
    let p = decode_frames(r#"0/admin,{"token":"123"}"#, &[]);
    assert_eq!(
        p,
        Packet::Connect {
            nsp: "/admin".into(),
            auth: Some(r#"{"token":"123"}"#.into())
        }
    );
    check(&p, r#"0/admin,{"token":"123"}"#, &[]);
}

#[test]
fn spec_connect_error_not_authorized() {
    check(
        &connect_error("/", r#"{"message":"Not authorized"}"#),
        r#"4{"message":"Not authorized"}"#,
        &[],
    );
}

// ---------------------------------------------------------------------------
// Packet encoding: sending and receiving data

#[test]
fn spec_event_main_namespace() {
    let p = Packet::event("/", "foo", "[]", None).unwrap();
    check(&p, r#"2["foo"]"#, &[]);
    match decode_frames(r#"2["foo"]"#, &[]) {
        Packet::Event {
            nsp,
            id,
            event,
            data,
        } => {
            assert_eq!(nsp, "/");
            assert_eq!(id, None);
            assert_eq!(event, "foo");
            assert_eq!(data.json, r#"["foo"]"#);
            assert!(data.attachments.is_empty());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn spec_event_custom_namespace() {
    check(
        &Packet::event("/admin", "bar", "[]", None).unwrap(),
        r#"2/admin,["bar"]"#,
        &[],
    );
}

#[test]
fn spec_binary_event() {
    let v = Value::Array(vec!["baz".into(), Value::Binary(vec![1, 2, 3, 4])]);
    let p = Packet::event_from_payload("/", Payload::deconstruct(&v), None).unwrap();
    assert_eq!(p.packet_type(), PacketType::BinaryEvent);
    check(&p, &format!(r#"51-["baz",{}]"#, ph(0)), &[&[1, 2, 3, 4]]);
    let back = decode_frames(&format!(r#"51-["baz",{}]"#, ph(0)), &[&[1, 2, 3, 4]]);
    assert_eq!(
        back.payload()
            .unwrap()
            .reconstruct(&Limits::default())
            .unwrap(),
        v
    );
}

#[test]
fn spec_binary_event_custom_namespace_two_attachments() {
    let text = format!(r#"52-/admin,["baz",{},{}]"#, ph(0), ph(1));
    let (nsp, data) = binary(
        "/admin",
        text.split_once(',').unwrap().1,
        &[&[1, 2], &[3, 4]],
    );
    let p = Packet::event_from_payload(nsp, data, None).unwrap();
    check(&p, &text, &[&[1, 2], &[3, 4]]);
    let v = p
        .payload()
        .unwrap()
        .reconstruct(&Limits::default())
        .unwrap();
    assert_eq!(
        v,
        Value::Array(vec![
            "baz".into(),
            Value::Binary(vec![1, 2]),
            Value::Binary(vec![3, 4])
        ])
    );
}

// ---------------------------------------------------------------------------
// Packet encoding: acknowledgement

#[test]
fn spec_event_with_ack_id() {
    check(
        &Packet::event("/", "foo", "[]", Some(12)).unwrap(),
        r#"212["foo"]"#,
        &[],
    );
}

#[test]
fn spec_ack_empty() {
    let p = Packet::ack("/", 12, "[]").unwrap();
    check(&p, "312[]", &[]);
    assert_eq!(p.id(), Some(12));
}

#[test]
fn spec_event_with_ack_custom_namespace() {
    check(
        &Packet::event("/admin", "foo", "[]", Some(13)).unwrap(),
        r#"2/admin,13["foo"]"#,
        &[],
    );
}

#[test]
fn spec_ack_custom_namespace() {
    check(
        &Packet::ack("/admin", 13, r#"["bar"]"#).unwrap(),
        r#"3/admin,13["bar"]"#,
        &[],
    );
}

#[test]
fn spec_binary_event_with_ack() {
    let v = Value::Array(vec!["foo".into(), Value::Binary(vec![1, 2, 3, 4])]);
    let p = Packet::event_from_payload("/", Payload::deconstruct(&v), Some(14)).unwrap();
    check(&p, &format!(r#"51-14["foo",{}]"#, ph(0)), &[&[1, 2, 3, 4]]);
}

#[test]
fn spec_ack_for_binary_event() {
    check(
        &Packet::ack("/", 14, r#"["bar"]"#).unwrap(),
        r#"314["bar"]"#,
        &[],
    );
}

#[test]
fn spec_event_with_ack_15() {
    check(
        &Packet::event("/", "foo", "[]", Some(15)).unwrap(),
        r#"215["foo"]"#,
        &[],
    );
}

#[test]
fn spec_binary_ack() {
    let v = Value::Array(vec!["bar".into(), Value::Binary(vec![1, 2, 3, 4])]);
    let p = Packet::ack("/", 15, Payload::deconstruct(&v)).unwrap();
    assert_eq!(p.packet_type(), PacketType::BinaryAck);
    check(&p, &format!(r#"61-15["bar",{}]"#, ph(0)), &[&[1, 2, 3, 4]]);
}

// ---------------------------------------------------------------------------
// Packet encoding: disconnection from a namespace

#[test]
fn spec_disconnect_main_namespace() {
    check(&Packet::disconnect("/").unwrap(), "1", &[]);
}

#[test]
fn spec_disconnect_custom_namespace() {
    check(&Packet::disconnect("/admin").unwrap(), "1/admin,", &[]);
}

// ---------------------------------------------------------------------------
// Sample session (Engine.IO's leading "4" stripped)

#[test]
fn spec_sample_session_connect_request() {
    check(&connect("/", None), "0", &[]);
}

#[test]
fn spec_sample_session_connect_approval() {
    check(
        &connect("/", Some(r#"{"sid":"wZX3oN0bSVIhsaknAAAI"}"#)),
        r#"0{"sid":"wZX3oN0bSVIhsaknAAAI"}"#,
        &[],
    );
}

#[test]
fn spec_sample_session_server_emit() {
    check(
        &Packet::event("/", "hey", r#"["Jude"]"#, None).unwrap(),
        r#"2["hey","Jude"]"#,
        &[],
    );
}

#[test]
fn spec_sample_session_client_emits() {
    check(
        &Packet::event("/", "hello", "[]", None).unwrap(),
        r#"2["hello"]"#,
        &[],
    );
    check(
        &Packet::event("/", "world", "[]", None).unwrap(),
        r#"2["world"]"#,
        &[],
    );
}

#[test]
fn spec_sample_session_admin_namespace() {
    check(&connect("/admin", None), "0/admin,", &[]);
    check(
        &connect("/admin", Some(r#"{"sid":"-G5j-67EZFp-q59rADQM"}"#)),
        r#"0/admin,{"sid":"-G5j-67EZFp-q59rADQM"}"#,
        &[],
    );
}

#[test]
fn spec_sample_session_event_with_ack() {
    check(
        &Packet::event("/admin", "tellme", "[]", Some(1)).unwrap(),
        r#"2/admin,1["tellme"]"#,
        &[],
    );
}

#[test]
fn spec_sample_session_binary_ack_with_placeholder() {
    let v = Value::Array(vec![Value::Binary(b"<binary>".to_vec())]);
    let p = Packet::ack("/admin", 1, Payload::deconstruct(&v)).unwrap();
    check(&p, &format!("61-/admin,1[{}]", ph(0)), &[b"<binary>"]);
}

// ---------------------------------------------------------------------------
// socket.io-protocol test-suite vectors

#[test]
fn suite_connect_main_namespace() {
    check(&connect("/", None), "0", &[]);
    check(
        &Packet::event("/", "auth", "[{}]", None).unwrap(),
        r#"2["auth",{}]"#,
        &[],
    );
}

#[test]
fn suite_connect_main_namespace_with_payload() {
    check(
        &connect("/", Some(r#"{"token":"123"}"#)),
        r#"0{"token":"123"}"#,
        &[],
    );
    check(
        &Packet::event("/", "auth", r#"[{"token":"123"}]"#, None).unwrap(),
        r#"2["auth",{"token":"123"}]"#,
        &[],
    );
}

#[test]
fn suite_connect_custom_namespace() {
    check(&connect("/custom", None), "0/custom,", &[]);
    check(
        &Packet::event("/custom", "auth", "[{}]", None).unwrap(),
        r#"2/custom,["auth",{}]"#,
        &[],
    );
}

#[test]
fn suite_connect_custom_namespace_with_payload() {
    check(
        &connect("/custom", Some(r#"{"token":"abc"}"#)),
        r#"0/custom,{"token":"abc"}"#,
        &[],
    );
    check(
        &Packet::event("/custom", "auth", r#"[{"token":"abc"}]"#, None).unwrap(),
        r#"2/custom,["auth",{"token":"abc"}]"#,
        &[],
    );
}

#[test]
fn suite_connect_unknown_namespace_refused() {
    check(
        &connect_error("/random", r#"{"message":"Invalid namespace"}"#),
        r#"4/random,{"message":"Invalid namespace"}"#,
        &[],
    );
}

/// The suite sends `40/random` and `41/custom` (no closing comma); as the
/// reference parser, the namespace then runs to the end of the packet.
#[test]
fn suite_namespace_without_comma_runs_to_the_end() {
    assert_eq!(
        decode_frames("0/random", &[]),
        Packet::connect("/random", None).unwrap().into_owned()
    );
    assert_eq!(
        decode_frames("1/custom", &[]),
        Packet::disconnect("/custom").unwrap().into_owned()
    );
    // Anything else glued to the namespace is not a payload: an EVENT then has none.
    bad(
        r#"2/admin["x"]"#,
        DecodeError::InvalidPayload("EVENT needs a payload"),
    );
}

#[test]
fn suite_invalid_handshake() {
    // "4abc" is Engine.IO message "abc".
    bad("abc", DecodeError::UnknownPacketType('a'));
}

#[test]
fn suite_disconnect_then_message() {
    check(&Packet::disconnect("/").unwrap(), "1", &[]);
    check(&Packet::disconnect("/custom").unwrap(), "1/custom,", &[]);
    check(
        &Packet::event("/", "message", r#"["message to main namespace"]"#, None).unwrap(),
        r#"2["message","message to main namespace"]"#,
        &[],
    );
    check(
        &Packet::event(
            "/",
            "message-back",
            r#"["message to main namespace"]"#,
            None,
        )
        .unwrap(),
        r#"2["message-back","message to main namespace"]"#,
        &[],
    );
}

#[test]
fn suite_plain_text_packet() {
    let p = decode_frames(r#"2["message",1,"2",{"3":[true]}]"#, &[]);
    assert_eq!(
        p,
        Packet::event("/", "message", r#"[1,"2",{"3":[true]}]"#, None).unwrap()
    );
    check(&p, r#"2["message",1,"2",{"3":[true]}]"#, &[]);
    check(
        &Packet::event("/", "message-back", r#"[1,"2",{"3":[true]}]"#, None).unwrap(),
        r#"2["message-back",1,"2",{"3":[true]}]"#,
        &[],
    );
}

#[test]
fn suite_binary_attachments() {
    let text = format!(r#"52-["message",{},{}]"#, ph(0), ph(1));
    let p = decode_frames(&text, &[&[1, 2, 3], &[4, 5, 6]]);
    check(&p, &text, &[&[1, 2, 3], &[4, 5, 6]]);
    let v = Value::Array(vec![
        "message-back".into(),
        Value::Binary(vec![1, 2, 3]),
        Value::Binary(vec![4, 5, 6]),
    ]);
    let back = Packet::event_from_payload("/", Payload::deconstruct(&v), None).unwrap();
    check(
        &back,
        &format!(r#"52-["message-back",{},{}]"#, ph(0), ph(1)),
        &[&[1, 2, 3], &[4, 5, 6]],
    );
}

#[test]
fn suite_plain_text_packet_with_ack() {
    let p = decode_frames(r#"2456["message-with-ack",1,"2",{"3":[false]}]"#, &[]);
    assert_eq!(p.id(), Some(456));
    check(&p, r#"2456["message-with-ack",1,"2",{"3":[false]}]"#, &[]);
    check(
        &Packet::ack("/", 456, r#"[1,"2",{"3":[false]}]"#).unwrap(),
        r#"3456[1,"2",{"3":[false]}]"#,
        &[],
    );
}

#[test]
fn suite_binary_attachments_with_ack() {
    let text = format!(r#"52-789["message-with-ack",{},{}]"#, ph(0), ph(1));
    let p = decode_frames(&text, &[&[1, 2, 3], &[4, 5, 6]]);
    assert_eq!(p.id(), Some(789));
    check(&p, &text, &[&[1, 2, 3], &[4, 5, 6]]);
    let v = Value::Array(vec![
        Value::Binary(vec![1, 2, 3]),
        Value::Binary(vec![4, 5, 6]),
    ]);
    let ack = Packet::ack("/", 789, Payload::deconstruct(&v)).unwrap();
    check(
        &ack,
        &format!("62-789[{},{}]", ph(0), ph(1)),
        &[&[1, 2, 3], &[4, 5, 6]],
    );
}

#[test]
fn suite_invalid_format_unknown_packet_type() {
    bad("abc", DecodeError::UnknownPacketType('a'));
}

#[test]
fn suite_invalid_format_payload() {
    bad(
        "2{}",
        DecodeError::InvalidPayload("EVENT payload must be an array"),
    );
}

#[test]
fn suite_invalid_format_ack_id() {
    let mut d = decoder();
    assert!(matches!(
        d.decode_text(r#"2abc["message-with-ack",1,"2",{"3":[false]}]"#),
        Err(DecodeError::InvalidJson(_))
    ));
    assert_recovers(&mut d);
}

// ---------------------------------------------------------------------------
// socket.io-parser test vectors

#[test]
fn parser_encodes_connection() {
    check(
        &connect("/woot", Some(r#"{"token":"123"}"#)),
        r#"0/woot,{"token":"123"}"#,
        &[],
    );
}

#[test]
fn parser_encodes_disconnection() {
    check(&Packet::disconnect("/woot").unwrap(), "1/woot,", &[]);
}

#[test]
fn parser_encodes_event() {
    check(
        &Packet::event("/", "a", "[1,{}]", None).unwrap(),
        r#"2["a",1,{}]"#,
        &[],
    );
}

/// The reference also accepts a number as the event name; this codec does not.
#[test]
fn parser_event_with_integer_name_is_refused() {
    bad(
        r#"2[1,"a",{}]"#,
        DecodeError::InvalidPayload("event name must be a string"),
    );
}

#[test]
fn parser_encodes_event_with_ack() {
    check(
        &Packet::event("/test", "a", "[1,{}]", Some(1)).unwrap(),
        r#"2/test,1["a",1,{}]"#,
        &[],
    );
}

#[test]
fn parser_encodes_ack() {
    check(
        &Packet::ack("/", 123, r#"["a",1,{}]"#).unwrap(),
        r#"3123["a",1,{}]"#,
        &[],
    );
}

#[test]
fn parser_encodes_connect_error_string() {
    check(
        &connect_error("/", r#""Unauthorized""#),
        r#"4"Unauthorized""#,
        &[],
    );
}

#[test]
fn parser_encodes_connect_error_object() {
    check(
        &connect_error("/", r#"{"message":"Unauthorized"}"#),
        r#"4{"message":"Unauthorized"}"#,
        &[],
    );
}

#[test]
fn parser_decodes_bad_binary_packet() {
    bad(
        "5",
        DecodeError::InvalidAttachments("attachment count not followed by '-'"),
    );
}

#[test]
fn parser_throws_upon_parsing_error() {
    let mut d = decoder();
    assert!(matches!(
        d.decode_text(r#"442["some","data""#),
        Err(DecodeError::InvalidJson(_))
    ));
    assert!(matches!(
        d.decode_text(r#"2/admin,"invalid"#),
        Err(DecodeError::InvalidJson(_))
    ));
    assert_recovers(&mut d);
    bad(
        r#"0/admin,"invalid""#,
        DecodeError::InvalidPayload("CONNECT payload must be an object"),
    );
    bad(
        "0[]",
        DecodeError::InvalidPayload("CONNECT payload must be an object"),
    );
    bad(
        "1/admin,{}",
        DecodeError::InvalidPayload("DISCONNECT carries no payload"),
    );
    bad(
        "2/admin,{}",
        DecodeError::InvalidPayload("EVENT payload must be an array"),
    );
    bad(
        r#"2[{"toString":"foo"}]"#,
        DecodeError::InvalidPayload("event name must be a string"),
    );
    bad(
        r#"2[true,"foo"]"#,
        DecodeError::InvalidPayload("event name must be a string"),
    );
    bad(
        r#"2[null,"bar"]"#,
        DecodeError::InvalidPayload("event name must be a string"),
    );
    bad(
        r#"2["connect"]"#,
        DecodeError::ReservedEventName("connect".into()),
    );
    bad(
        r#"2["disconnect","123"]"#,
        DecodeError::ReservedEventName("disconnect".into()),
    );
    bad("999", DecodeError::UnknownPacketType('9'));
}

#[test]
fn parser_resumes_decoding_after_reset() {
    let mut d = decoder();
    assert_eq!(
        d.decode_text(&format!(r#"51-["hello",{}]"#, ph(0))),
        Ok(None)
    );
    d.reset();
    assert_eq!(
        d.decode_text(r#"2["hello"]"#).unwrap(),
        Some(event("/", r#"["hello"]"#, None))
    );
}

#[test]
fn parser_buffer_encodes_buffer() {
    let v = Value::Array(vec!["a".into(), Value::Binary(b"abc".to_vec())]);
    let p = Packet::event_from_payload("/cool", Payload::deconstruct(&v), Some(23)).unwrap();
    check(&p, &format!(r#"51-/cool,23["a",{}]"#, ph(0)), &[b"abc"]);
}

#[test]
fn parser_buffer_encodes_nested_buffer() {
    let v = Value::Array(vec![
        "a".into(),
        Value::Object(vec![(
            "b".into(),
            Value::Array(vec!["c".into(), Value::Binary(b"abc".to_vec())]),
        )]),
    ]);
    let p = Packet::event_from_payload("/cool", Payload::deconstruct(&v), Some(23)).unwrap();
    let text = format!(r#"51-/cool,23["a",{{"b":["c",{}]}}]"#, ph(0));
    check(&p, &text, &[b"abc"]);
    assert_eq!(
        decode_frames(&text, &[b"abc"])
            .payload()
            .unwrap()
            .reconstruct(&Limits::default())
            .unwrap(),
        v
    );
}

#[test]
fn parser_buffer_encodes_binary_ack() {
    let v = Value::Array(vec![
        "a".into(),
        Value::Binary(b"xxx".to_vec()),
        Value::Object(vec![]),
    ]);
    let p = Packet::ack("/back", 127, Payload::deconstruct(&v)).unwrap();
    check(
        &p,
        &format!(r#"61-/back,127["a",{},{{}}]"#, ph(0)),
        &[b"xxx"],
    );
}

#[test]
fn parser_arraybuffer_deep_in_json() {
    let v = Value::Array(vec![
        "a".into(),
        Value::from(json!({"a": "hi", "b": {"why": null}, "c": {"a": "bye", "b": {"a": null}}})),
    ]);
    // put binaries where the nulls are
    let Value::Array(mut items) = v else {
        unreachable!()
    };
    if let Value::Object(fields) = &mut items[1] {
        for (k, val) in fields.iter_mut() {
            if let Value::Object(inner) = val {
                if k == "b" {
                    inner[0].1 = Value::Binary(vec![0; 3]);
                } else {
                    inner[1].1 = Value::Object(vec![("a".into(), Value::Binary(vec![0; 6]))]);
                }
            }
        }
    }
    let v = Value::Array(items);
    let payload = Payload::deconstruct(&v);
    assert_eq!(payload.attachments, vec![vec![0; 3], vec![0; 6]]);
    let p = Packet::event_from_payload("/deep", payload, Some(999)).unwrap();
    let enc = p.encode();
    assert!(enc.text.starts_with("52-/deep,999[\"a\","));
    let back = decode_frames(&enc.text, &[&[0; 3], &[0; 6]]);
    assert_eq!(back, p);
    assert_eq!(
        back.payload()
            .unwrap()
            .reconstruct(&Limits::default())
            .unwrap(),
        v
    );
}

#[test]
fn parser_arraybuffer_deep_binary_json_with_null_values() {
    let v = Value::Array(vec![
        "a".into(),
        Value::Object(vec![
            ("a".into(), "b".into()),
            ("c".into(), Value::from(4i64)),
            ("e".into(), Value::Object(vec![("g".into(), Value::Null)])),
            ("h".into(), Value::Binary(vec![0; 9])),
        ]),
    ]);
    let p = Packet::event_from_payload("/", Payload::deconstruct(&v), Some(600)).unwrap();
    let text = format!(
        r#"51-600["a",{{"a":"b","c":4,"e":{{"g":null}},"h":{}}}]"#,
        ph(0)
    );
    check(&p, &text, &[&[0; 9]]);
    assert_eq!(
        decode_frames(&text, &[&[0; 9]])
            .payload()
            .unwrap()
            .clone()
            .into_value(&Limits::default())
            .unwrap(),
        v
    );
}

#[test]
fn parser_buffer_placeholder_num_is_string() {
    bad(
        r#"51-["hello",{"_placeholder":true,"num":"splice"}]"#,
        DecodeError::InvalidAttachments("placeholder num is not a non-negative integer"),
    );
}

#[test]
fn parser_buffer_placeholder_num_out_of_bound() {
    bad(
        &format!(r#"51-["hello",{}]"#, ph(1)),
        DecodeError::InvalidAttachments("placeholder num out of range"),
    );
}

#[test]
fn parser_buffer_attachment_without_header() {
    let mut d = decoder();
    assert_eq!(
        d.decode_binary(b"world"),
        Err(DecodeError::UnexpectedBinary)
    );
    assert_recovers(&mut d);
}

#[test]
fn parser_buffer_binary_event_without_attachments() {
    let mut d = decoder();
    assert_eq!(
        d.decode_text(&format!(r#"51-["hello",{}]"#, ph(0))),
        Ok(None)
    );
    assert_eq!(
        d.decode_text(r#"2["hello"]"#),
        Err(DecodeError::MissingAttachments {
            expected: 1,
            received: 0
        })
    );
    assert_recovers(&mut d);
}

// ---------------------------------------------------------------------------
// Constructors and encoding details

#[test]
fn encode_escapes_event_name() {
    let name = "quote\" back\\ nl\n tab\t ctl\u{1} é 😀";
    let p = Packet::event("/", name, "[]", None).unwrap();
    let text = p.encode().text;
    assert_eq!(
        text,
        "2[\"quote\\\" back\\\\ nl\\n tab\\t ctl\\u0001 é 😀\"]"
    );
    let back = decode_frames(&text, &[]);
    match &back {
        Packet::Event { event, .. } => assert_eq!(event, name),
        other => panic!("{other:?}"),
    }
    assert_eq!(back, p);
}

#[test]
fn encode_event_args_whitespace_and_validation() {
    let p = Packet::event("/", "a", " [ 1 , 2 ] ", None).unwrap();
    assert_eq!(p.encode().text, r#"2["a",1 , 2]"#);
    let p = Packet::event("/", "a", " [ ] ", None).unwrap();
    assert_eq!(p.encode().text, r#"2["a"]"#);
    assert_eq!(
        Packet::event("/", "a", "{}", None),
        Err(DecodeError::InvalidPayload(
            "arguments must be a JSON array"
        ))
    );
    assert!(matches!(
        Packet::event("/", "a", "[1]x", None),
        Err(DecodeError::InvalidJson(_))
    ));
    assert!(matches!(
        Packet::event("/", "a", "[1", None),
        Err(DecodeError::InvalidJson(_))
    ));
}

#[test]
fn encode_constructors_refuse_bad_input() {
    for name in RESERVED_EVENTS {
        assert_eq!(
            Packet::event("/", name, "[]", None),
            Err(DecodeError::ReservedEventName(name.into()))
        );
    }
    assert_eq!(
        Packet::event("admin", "a", "[]", None),
        Err(DecodeError::InvalidNamespace)
    );
    assert_eq!(
        Packet::event("/a,b", "a", "[]", None),
        Err(DecodeError::InvalidNamespace)
    );
    assert_eq!(Packet::disconnect(""), Err(DecodeError::InvalidNamespace));
    assert_eq!(
        Packet::connect("/", Some("[]")),
        Err(DecodeError::InvalidPayload(
            "CONNECT payload must be an object"
        ))
    );
    assert_eq!(
        Packet::ack("/", 1, "{}"),
        Err(DecodeError::InvalidPayload("ACK payload must be an array"))
    );
    assert_eq!(
        Packet::event_from_payload("/", r#"["connect_error"]"#, None),
        Err(DecodeError::ReservedEventName("connect_error".into()))
    );
    assert_eq!(
        Packet::event_from_payload("/", "[]", None),
        Err(DecodeError::InvalidPayload(
            "EVENT payload must not be empty"
        ))
    );
}

#[test]
fn encode_explicit_root_namespace_is_omitted() {
    let p = decode_frames(r#"2/,["a"]"#, &[]);
    assert_eq!(p.nsp(), "/");
    assert_eq!(p.encode().text, r#"2["a"]"#);
}

#[test]
fn decode_borrows_from_the_frame() {
    let text = String::from(r#"2/admin,7["plain",{"x":1}]"#);
    let mut d = decoder();
    match d.decode_text(&text).unwrap().unwrap() {
        Packet::Event {
            nsp,
            event,
            data,
            id,
        } => {
            assert!(matches!(nsp, Cow::Borrowed(_)));
            assert!(matches!(event, Cow::Borrowed("plain")));
            assert!(matches!(data.json, Cow::Borrowed(_)));
            assert_eq!(id, Some(7));
        }
        other => panic!("{other:?}"),
    }
    // an escaped name cannot be borrowed, and is decoded
    match d.decode_text(r#"2["a\u0062c"]"#).unwrap().unwrap() {
        Packet::Event { event, data, .. } => {
            assert_eq!(event, "abc");
            assert_eq!(data.json, r#"["a\u0062c"]"#);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn decode_accepts_surrounding_json_whitespace() {
    let p = decode_frames("2 [\"a\" , 1 ]\n", &[]);
    assert_eq!(p.payload().unwrap().json, "[\"a\" , 1 ]");
    let p = decode_frames("0 { } ", &[]);
    assert_eq!(
        p,
        Packet::Connect {
            nsp: "/".into(),
            auth: Some("{ }".into())
        }
    );
}

#[test]
fn decode_binary_count_zero_is_a_plain_packet() {
    let p = decode_frames(r#"50-["a"]"#, &[]);
    assert_eq!(p, event("/", r#"["a"]"#, None));
    let p = decode_frames("60-3[]", &[]);
    assert_eq!(p, Packet::ack("/", 3, "[]").unwrap());
}

#[test]
fn decode_ack_id_limits() {
    let p = decode_frames("318446744073709551615[]", &[]);
    assert_eq!(p.id(), Some(u64::MAX));
    let p = decode_frames(r#"20007["a"]"#, &[]);
    assert_eq!(p.id(), Some(7));
    assert_eq!(p.encode().text, r#"27["a"]"#);
}

#[test]
fn decode_binary_vec_takes_ownership() {
    let mut d = decoder();
    assert_eq!(d.decode_text(&format!("61-/x,5[{}]", ph(0))), Ok(None));
    let p = d.decode_binary_vec(vec![7; 10]).unwrap().unwrap();
    assert_eq!(
        p,
        Packet::Ack {
            nsp: "/x".into(),
            id: 5,
            data: binary("/x", &format!("[{}]", ph(0)), &[&[7; 10]]).1
        }
    );
}

// ---------------------------------------------------------------------------
// Value conversions, deconstruct / reconstruct

#[test]
fn value_json_conversions() {
    let j = json!({"z": 1, "a": [true, null, 1.5, -3, "s"], "m": {}});
    let v = Value::from(j.clone());
    assert!(!v.has_binary());
    assert_eq!(serde_json::Value::try_from(v.clone()).unwrap(), j);
    let text = v.to_json_string().unwrap();
    assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), j);
    let with_bin = Value::Array(vec![Value::Binary(vec![1])]);
    assert!(with_bin.has_binary());
    assert_eq!(with_bin.to_json_string(), None);
    assert!(serde_json::Value::try_from(with_bin).is_err());
}

#[test]
fn value_reconstruct_keeps_key_order() {
    let payload = Payload::from(r#"[{"z":1,"a":2,"z":3}]"#);
    let v = payload.reconstruct(&Limits::default()).unwrap();
    assert_eq!(
        v,
        Value::Array(vec![Value::Object(vec![
            ("z".into(), Value::from(1u64)),
            ("a".into(), Value::from(2u64)),
            ("z".into(), Value::from(3u64)),
        ])])
    );
}

#[test]
fn value_reconstruct_refuses_bad_placeholders() {
    let limits = Limits::default();
    let p = |json: &str, n: usize| Payload {
        json: json.to_owned().into(),
        attachments: vec![vec![1]; n],
    };
    assert_eq!(
        p(&format!("[{}]", ph(1)), 1).reconstruct(&limits),
        Err(DecodeError::InvalidAttachments(
            "placeholder num out of range"
        ))
    );
    assert_eq!(
        p(&format!("[{},{}]", ph(0), ph(0)), 2).reconstruct(&limits),
        Err(DecodeError::InvalidAttachments("duplicate placeholder num"))
    );
    assert_eq!(
        p(&format!("[{}]", ph(0)), 2).reconstruct(&limits),
        Err(DecodeError::InvalidAttachments(
            "attachment without a placeholder"
        ))
    );
    assert_eq!(
        p(r#"[{"_placeholder":true,"num":-1}]"#, 1).reconstruct(&limits),
        Err(DecodeError::InvalidAttachments(
            "placeholder num is not a non-negative integer"
        ))
    );
    assert_eq!(
        p(r#"[{"_placeholder":true}]"#, 1).reconstruct(&limits),
        Err(DecodeError::InvalidAttachments(
            "placeholder num is not a non-negative integer"
        ))
    );
    // without attachments a placeholder-like object is plain data
    let plain = p(&format!("[{}]", ph(0)), 0).reconstruct(&limits).unwrap();
    assert_eq!(
        plain,
        Value::Array(vec![Value::from(json!({"_placeholder": true, "num": 0}))])
    );
    // depth is bounded
    let deep = Payload::from("[[[[[1]]]]]");
    assert_eq!(
        deep.reconstruct(&Limits {
            max_depth: 3,
            ..limits
        }),
        Err(DecodeError::TooDeep { max: 3 })
    );
}

#[test]
fn value_deconstruct_numbers_in_depth_first_order() {
    let v = Value::Array(vec![
        Value::Object(vec![
            ("x".into(), Value::Binary(vec![0])),
            ("y".into(), Value::Array(vec![Value::Binary(vec![1])])),
        ]),
        Value::Binary(vec![2]),
    ]);
    let p = Payload::deconstruct(&v);
    assert_eq!(
        p.json,
        format!(r#"[{{"x":{},"y":[{}]}},{}]"#, ph(0), ph(1), ph(2))
    );
    assert_eq!(p.attachments, vec![vec![0], vec![1], vec![2]]);
    assert_eq!(p.reconstruct(&Limits::default()).unwrap(), v);
}

// ---------------------------------------------------------------------------
// Malformed input

#[test]
fn bad_empty_frame() {
    bad("", DecodeError::Empty);
}

#[test]
fn bad_unknown_packet_types() {
    bad("7", DecodeError::UnknownPacketType('7'));
    bad("9[]", DecodeError::UnknownPacketType('9'));
    bad("x", DecodeError::UnknownPacketType('x'));
    bad("é[]", DecodeError::UnknownPacketType('é'));
    bad("-1", DecodeError::UnknownPacketType('-'));
}

#[test]
fn bad_truncated_frames() {
    for text in [
        r#"2["foo""#,
        r#"2["fo"#,
        "2[",
        r#"2/admin,["a",{"b":"#,
        r#"3/admin,13["bar""#,
        r#"0{"sid":"#,
        r#"4{"message""#,
    ] {
        let mut d = decoder();
        assert!(
            matches!(d.decode_text(text), Err(DecodeError::InvalidJson(_))),
            "{text}"
        );
        assert_recovers(&mut d);
    }
    bad("2", DecodeError::InvalidPayload("EVENT needs a payload"));
    bad("212", DecodeError::InvalidPayload("EVENT needs a payload"));
    bad(
        "2/admin,",
        DecodeError::InvalidPayload("EVENT needs a payload"),
    );
    bad("312", DecodeError::InvalidPayload("ACK needs a payload"));
    bad(
        "4",
        DecodeError::InvalidPayload("CONNECT_ERROR needs a payload"),
    );
    // Without its comma the namespace runs to the end: no payload left.
    bad(
        "2/admin",
        DecodeError::InvalidPayload("EVENT needs a payload"),
    );
    bad(
        r#"2/admin["a"]"#,
        DecodeError::InvalidPayload("EVENT needs a payload"),
    );
    bad(
        "51",
        DecodeError::InvalidAttachments("attachment count not followed by '-'"),
    );
}

#[test]
fn bad_wrong_json_types() {
    bad(
        r#"2"foo""#,
        DecodeError::InvalidPayload("EVENT payload must be an array"),
    );
    bad(
        "2[]",
        DecodeError::InvalidPayload("EVENT payload must not be empty"),
    );
    bad(
        "2[[\"a\"]]",
        DecodeError::InvalidPayload("event name must be a string"),
    );
    bad(
        "2[1.5]",
        DecodeError::InvalidPayload("event name must be a string"),
    );
    bad(
        "312{}",
        DecodeError::InvalidPayload("ACK payload must be an array"),
    );
    bad(
        r#"312"a""#,
        DecodeError::InvalidPayload("ACK payload must be an array"),
    );
    bad(
        "0null",
        DecodeError::InvalidPayload("CONNECT payload must be an object"),
    );
    bad(
        r#"0"tok""#,
        DecodeError::InvalidPayload("CONNECT payload must be an object"),
    );
    bad(
        "4[]",
        DecodeError::InvalidPayload("CONNECT_ERROR payload must be an object or a string"),
    );
    bad(
        "4null",
        DecodeError::InvalidPayload("CONNECT_ERROR payload must be an object or a string"),
    );
    bad(
        "1[]",
        DecodeError::InvalidPayload("DISCONNECT carries no payload"),
    );
    // ids are only read on EVENT / ACK
    bad(
        "012",
        DecodeError::InvalidPayload("CONNECT payload must be an object"),
    );
}

#[test]
fn bad_ack_ids() {
    bad("318446744073709551616[]", DecodeError::InvalidAckId);
    bad(
        r#"2/admin,99999999999999999999999999["a"]"#,
        DecodeError::InvalidAckId,
    );
    bad("3[]", DecodeError::InvalidAckId);
    bad(r#"3/admin,["bar"]"#, DecodeError::InvalidAckId);
    bad(&format!("61-[{}]", ph(0)), DecodeError::InvalidAckId);
}

#[test]
fn bad_attachment_counts() {
    bad(
        &format!(r#"5-["a",{}]"#, ph(0)),
        DecodeError::InvalidAttachments("attachment count is not a number"),
    );
    bad(
        &format!(r#"5a-["a",{}]"#, ph(0)),
        DecodeError::InvalidAttachments("attachment count is not a number"),
    );
    bad(
        r#"5["a-b"]"#,
        DecodeError::InvalidAttachments("attachment count is not a number"),
    );
    bad(
        r#"5+1-["a"]"#,
        DecodeError::InvalidAttachments("attachment count is not a number"),
    );
    bad(
        r#"517-["a"]"#,
        DecodeError::TooManyAttachments { count: 17, max: 16 },
    );
    bad(
        r#"5999999999999999999999999-["a"]"#,
        DecodeError::TooManyAttachments {
            count: usize::MAX,
            max: 16,
        },
    );
    let mut d = Decoder::new(Limits {
        max_attachments: 1,
        ..Limits::default()
    });
    assert_eq!(
        d.decode_text(&format!(r#"52-["a",{},{}]"#, ph(0), ph(1))),
        Err(DecodeError::TooManyAttachments { count: 2, max: 1 })
    );
    assert_recovers(&mut d);
}

#[test]
fn bad_placeholders() {
    bad(
        &format!(r#"51-["a",{}]"#, ph(3)),
        DecodeError::InvalidAttachments("placeholder num out of range"),
    );
    bad(
        &format!(r#"52-["a",{},{}]"#, ph(1), ph(1)),
        DecodeError::InvalidAttachments("duplicate placeholder num"),
    );
    bad(
        &format!(r#"52-["a",{}]"#, ph(0)),
        DecodeError::InvalidAttachments("attachment without a placeholder"),
    );
    bad(
        r#"51-["a"]"#,
        DecodeError::InvalidAttachments("attachment without a placeholder"),
    );
    bad(
        &format!(r#"50-["a",{}]"#, ph(0)),
        DecodeError::InvalidAttachments("placeholder num out of range"),
    );
    bad(
        r#"51-["a",{"_placeholder":true,"num":0.5}]"#,
        DecodeError::InvalidAttachments("placeholder num is not a non-negative integer"),
    );
    // `_placeholder` must be exactly true to count
    bad(
        r#"51-["a",{"_placeholder":1,"num":0}]"#,
        DecodeError::InvalidAttachments("attachment without a placeholder"),
    );
}

#[test]
fn bad_missing_attachments() {
    let mut d = decoder();
    assert_eq!(
        d.decode_text(&format!(r#"52-["a",{},{}]"#, ph(0), ph(1))),
        Ok(None)
    );
    assert_eq!(d.decode_binary(&[1]), Ok(None));
    assert_eq!(d.pending_attachments(), Some((2, 1)));
    assert_eq!(
        d.decode_text(r#"2["b"]"#),
        Err(DecodeError::MissingAttachments {
            expected: 2,
            received: 1
        })
    );
    assert_recovers(&mut d);
}

#[test]
fn bad_extra_attachments() {
    let mut d = decoder();
    assert_eq!(d.decode_text(&format!(r#"51-["a",{}]"#, ph(0))), Ok(None));
    assert!(d.decode_binary(&[1]).unwrap().is_some());
    assert_eq!(d.decode_binary(&[2]), Err(DecodeError::UnexpectedBinary));
    assert_recovers(&mut d);
    // binary after a text packet
    assert_eq!(
        d.decode_text(r#"2["a"]"#).unwrap().map(Packet::into_owned),
        Some(event("/", r#"["a"]"#, None))
    );
    assert_eq!(
        d.decode_binary_vec(vec![3]),
        Err(DecodeError::UnexpectedBinary)
    );
    assert_recovers(&mut d);
}

#[test]
fn bad_utf8_in_text_bytes() {
    let mut d = decoder();
    assert_eq!(
        d.decode_text_bytes(b"2[\"\xff\xfe\"]"),
        Err(DecodeError::InvalidUtf8)
    );
    assert_recovers(&mut d);
    // a held binary packet is dropped too
    assert_eq!(d.decode_text(&format!(r#"51-["a",{}]"#, ph(0))), Ok(None));
    assert_eq!(d.decode_text_bytes(b"\xc3"), Err(DecodeError::InvalidUtf8));
    assert_recovers(&mut d);
    // valid bytes decode like text
    assert_eq!(
        d.decode_text_bytes(br#"2["a"]"#).unwrap(),
        Some(event("/", r#"["a"]"#, None))
    );
    // a lone surrogate escape in the event name is invalid JSON
    assert!(matches!(
        d.decode_text(r#"2["\ud800"]"#),
        Err(DecodeError::InvalidJson(_))
    ));
    assert_recovers(&mut d);
}

#[test]
fn bad_oversized_frames() {
    let limits = Limits {
        max_frame_bytes: 48,
        ..Limits::default()
    };
    let mut d = Decoder::new(limits);
    let big = format!(r#"2["a","{}"]"#, "x".repeat(48));
    assert_eq!(
        d.decode_text(&big),
        Err(DecodeError::TooLarge {
            len: big.len(),
            max: 48
        })
    );
    assert_eq!(
        d.decode_text_bytes(big.as_bytes()),
        Err(DecodeError::TooLarge {
            len: big.len(),
            max: 48
        })
    );
    // size is checked before anything else, even the type or UTF-8
    assert_eq!(
        d.decode_text(&"x".repeat(49)),
        Err(DecodeError::TooLarge { len: 49, max: 48 })
    );
    assert_eq!(
        d.decode_text_bytes(&[0xff; 49]),
        Err(DecodeError::TooLarge { len: 49, max: 48 })
    );
    // exactly at the limit is fine
    let edge = format!(r#"2["{}"]"#, "x".repeat(43));
    assert_eq!(edge.len(), 48);
    assert!(d.decode_text(&edge).unwrap().is_some());
    assert_eq!(d.decode_text(&format!(r#"51-["a",{}]"#, ph(0))), Ok(None));
    assert_eq!(
        d.decode_binary(&[0; 49]),
        Err(DecodeError::TooLarge { len: 49, max: 48 })
    );
    assert_eq!(d.pending_attachments(), None);
    assert_eq!(
        d.decode_binary(&[0; 48]),
        Err(DecodeError::UnexpectedBinary)
    );
    assert_recovers(&mut d);
}

#[test]
fn bad_deeply_nested() {
    let max = Limits::default().max_depth;
    let ok = format!(r#"2["a",{}1{}]"#, "[".repeat(max - 1), "]".repeat(max - 1));
    assert!(decoder().decode_text(&ok).unwrap().is_some());
    let deep = format!(r#"2["a",{}1{}]"#, "[".repeat(max), "]".repeat(max));
    bad(&deep, DecodeError::TooDeep { max });
    let deep = format!("0{}", "{\"a\":".repeat(max + 1));
    bad(&deep, DecodeError::TooDeep { max });
    bad(
        &format!("31{}", "[".repeat(100_000)),
        DecodeError::TooDeep { max },
    );
    let limits = Limits {
        max_depth: 2,
        ..Limits::default()
    };
    let mut d = Decoder::new(limits);
    assert_eq!(
        d.decode_text(&format!(r#"51-["a",[{}]]"#, ph(0))),
        Err(DecodeError::TooDeep { max: 2 })
    );
    assert_recovers(&mut d);
}

#[test]
fn bad_reserved_names() {
    for name in RESERVED_EVENTS {
        bad(
            &format!(r#"2["{name}",1]"#),
            DecodeError::ReservedEventName(name.into()),
        );
        bad(
            &format!(r#"2/admin,5["{name}"]"#),
            DecodeError::ReservedEventName(name.into()),
        );
        bad(
            &format!(r#"51-["{name}",{}]"#, ph(0)),
            DecodeError::ReservedEventName(name.into()),
        );
    }
    // escaped spelling is still reserved
    bad(
        r#"2["con\u006eect"]"#,
        DecodeError::ReservedEventName("connect".into()),
    );
    // similar names are fine
    assert!(decoder().decode_text(r#"2["Connect"]"#).unwrap().is_some());
    assert!(decoder()
        .decode_text(r#"2["connection_established"]"#)
        .unwrap()
        .is_some());
}

#[test]
fn bad_trailing_garbage() {
    for text in [
        r#"2["a"]x"#,
        r#"2["a"]]"#,
        r#"2["a"]["b"]"#,
        r#"0{}{}"#,
        r#"312[]1"#,
        r#"4"a""b""#,
        r#"2["a"],"#,
    ] {
        let mut d = decoder();
        assert!(
            matches!(d.decode_text(text), Err(DecodeError::InvalidJson(_))),
            "{text}"
        );
        assert_recovers(&mut d);
    }
}

#[test]
fn bad_error_codes_are_stable() {
    let mut d = decoder();
    assert_eq!(d.decode_text("").unwrap_err().code(), "EMPTY_FRAME");
    assert_eq!(d.decode_text("3[]").unwrap_err().code(), "INVALID_ACK_ID");
    assert_eq!(
        d.decode_binary(&[1]).unwrap_err().code(),
        "UNEXPECTED_BINARY"
    );
    assert_eq!(
        d.decode_text(r#"2["newListener"]"#).unwrap_err().code(),
        "RESERVED_EVENT_NAME"
    );
}
