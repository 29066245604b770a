#![cfg(not(target_arch = "wasm32"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Property tests of the Socket.IO codec: every packet type round-trips
//! through encode and frame-by-frame decode, binary payloads survive
//! deconstruct -> encode -> decode -> reconstruct, and no input panics.

use frinny_agent::protocol::socket_io::{Decoder, Packet, Payload, RESERVED_EVENTS};
use frinny_agent::protocol::value::Value;
use frinny_agent::protocol::{DecodeError, Limits};
use proptest::prelude::*;
use std::borrow::Cow;

fn limits() -> Limits {
    Limits {
        max_attachments: 1024,
        ..Limits::default()
    }
}

/// Encodes `packet`, feeds its frames one by one to a fresh decoder and
/// returns what came out (checking nothing comes out early).
fn round_trip(packet: &Packet<'_>) -> Packet<'static> {
    let enc = packet.encode();
    let mut d = Decoder::new(limits());
    let first = d.decode_text(&enc.text).unwrap().map(Packet::into_owned);
    if enc.attachments.is_empty() {
        return first.expect("text packet decodes at once");
    }
    assert!(first.is_none());
    let mut out = None;
    for (i, a) in enc.attachments.iter().enumerate() {
        let r = d.decode_binary(a).unwrap();
        assert_eq!(r.is_some(), i + 1 == enc.attachments.len());
        out = r;
    }
    out.unwrap()
}

fn nsp() -> impl Strategy<Value = String> {
    prop_oneof![Just("/".to_owned()), "/[^,]{0,12}"]
}

fn event_name() -> impl Strategy<Value = String> {
    any::<String>().prop_filter("reserved", |s| !RESERVED_EVENTS.contains(&s.as_str()))
}

fn key() -> impl Strategy<Value = String> {
    any::<String>().prop_filter("placeholder key", |s| s != "_placeholder")
}

fn number() -> impl Strategy<Value = serde_json::Number> {
    prop_oneof![
        any::<i64>().prop_map(serde_json::Number::from),
        any::<u64>().prop_map(serde_json::Number::from),
        // floats that print and parse back exactly
        (any::<i32>(), 0u32..8).prop_filter_map("finite", |(m, e)| {
            let f = f64::from(m) / f64::from(1u32 << e);
            if f == 0.0 {
                None
            } else {
                serde_json::Number::from_f64(f)
            }
        }),
    ]
}

fn value(binary: bool) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number().prop_map(Value::Number),
        any::<String>().prop_map(Value::String),
        prop::collection::vec(any::<u8>(), 0..24).prop_map(move |b| if binary {
            Value::Binary(b)
        } else {
            Value::Null
        }),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6).prop_map(Value::Object),
        ]
    })
}

fn json_object() -> impl Strategy<Value = String> {
    prop::collection::vec((key(), value(false)), 0..5)
        .prop_map(|fields| Value::Object(fields).to_json_string().unwrap())
}

fn args(binary: bool) -> impl Strategy<Value = Vec<Value>> {
    prop::collection::vec(value(binary), 0..5)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn connect_round_trips(nsp in nsp(), auth in proptest::option::of(json_object())) {
        let p = Packet::connect(nsp.as_str(), auth.as_deref()).unwrap();
        prop_assert_eq!(round_trip(&p), p);
    }

    #[test]
    fn disconnect_round_trips(nsp in nsp()) {
        let p = Packet::disconnect(nsp.as_str()).unwrap();
        prop_assert_eq!(round_trip(&p), p);
    }

    #[test]
    fn connect_error_round_trips(nsp in nsp(), obj in json_object(), msg in any::<String>(), as_string in any::<bool>()) {
        let data = if as_string { Value::String(msg).to_json_string().unwrap() } else { obj };
        let p = Packet::ConnectError { nsp: Cow::Owned(nsp), data: Cow::Owned(data) };
        prop_assert_eq!(round_trip(&p), p);
    }

    #[test]
    fn text_event_round_trips(nsp in nsp(), name in event_name(), args in args(false), id in proptest::option::of(any::<u64>())) {
        let args_json = Value::Array(args.clone()).to_json_string().unwrap();
        let p = Packet::event(nsp.as_str(), name.as_str(), &args_json, id).unwrap();
        let back = round_trip(&p);
        prop_assert_eq!(&back, &p);
        let Packet::Event { event, data, .. } = back else { panic!() };
        prop_assert_eq!(event.as_ref(), name.as_str());
        let mut whole = vec![Value::String(name)];
        whole.extend(args);
        prop_assert_eq!(data.reconstruct(&limits()).unwrap(), Value::Array(whole));
    }

    #[test]
    fn text_ack_round_trips(nsp in nsp(), args in args(false), id in any::<u64>()) {
        let args_json = Value::Array(args.clone()).to_json_string().unwrap();
        let p = Packet::ack(nsp.as_str(), id, args_json.as_str()).unwrap();
        let back = round_trip(&p);
        prop_assert_eq!(&back, &p);
        prop_assert_eq!(back.payload().unwrap().reconstruct(&limits()).unwrap(), Value::Array(args));
    }

    #[test]
    fn binary_event_round_trips(nsp in nsp(), name in event_name(), args in args(true), id in proptest::option::of(any::<u64>())) {
        let mut whole = vec![Value::String(name.clone())];
        whole.extend(args);
        let original = Value::Array(whole);
        let payload = Payload::deconstruct(&original);
        let binary = original.has_binary();
        prop_assert_eq!(payload.is_binary(), binary);
        let p = Packet::event_from_payload(nsp.as_str(), payload, id).unwrap();
        prop_assert_eq!(p.encode().text.starts_with('5'), binary);
        let back = round_trip(&p);
        prop_assert_eq!(&back, &p);
        let Packet::Event { event, data, .. } = back else { panic!() };
        prop_assert_eq!(event.as_ref(), name.as_str());
        prop_assert_eq!(data.clone().into_value(&limits()).unwrap(), original.clone());
        prop_assert_eq!(data.reconstruct(&limits()).unwrap(), original);
    }

    #[test]
    fn binary_ack_round_trips(nsp in nsp(), args in args(true), id in any::<u64>()) {
        let original = Value::Array(args);
        let p = Packet::ack(nsp.as_str(), id, Payload::deconstruct(&original)).unwrap();
        prop_assert_eq!(p.encode().text.starts_with('6'), original.has_binary());
        let back = round_trip(&p);
        prop_assert_eq!(&back, &p);
        prop_assert_eq!(back.payload().unwrap().reconstruct(&limits()).unwrap(), original);
    }

    #[test]
    fn value_json_round_trips(v in value(false)) {
        let text = v.to_json_string().unwrap();
        let j: serde_json::Value = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(&Payload::from(text.as_str()).reconstruct(&limits()).unwrap(), &v);
        // serde_json collapses duplicate keys, so compare through it
        prop_assert_eq!(serde_json::Value::try_from(Value::from(j.clone())).unwrap(), j);
    }

    /// Missing attachments: a text frame cut in between fails with the
    /// counts, and the decoder goes on.
    #[test]
    fn interrupted_binary_packet_recovers(n in 2usize..6, cut in 0usize..6) {
        let cut = cut % n;
        let items: Vec<Value> = (0..n).map(|i| Value::Binary(vec![i as u8])).collect();
        let p = Packet::ack("/", 1, Payload::deconstruct(&Value::Array(items))).unwrap();
        let enc = p.encode();
        let mut d = Decoder::new(limits());
        prop_assert_eq!(d.decode_text(&enc.text).unwrap(), None);
        for a in &enc.attachments[..cut] {
            prop_assert_eq!(d.decode_binary(a).unwrap(), None);
        }
        prop_assert_eq!(
            d.decode_text(r#"2["x"]"#),
            Err(DecodeError::MissingAttachments { expected: n, received: cut })
        );
        prop_assert!(d.decode_text(r#"2["x"]"#).unwrap().is_some());
    }

    #[test]
    fn decode_never_panics_on_text(s in any::<String>()) {
        let mut d = Decoder::new(limits());
        let _ = d.decode_text(&s);
    }

    #[test]
    fn decode_never_panics_on_packet_like_text(
        ty in "[0-9]",
        att in "([0-9]{1,3}-)?",
        nsp in "(/[a-z,\\[\\]\"{}]{0,4},?)?",
        id in "[0-9]{0,22}",
        body in "[\\[\\]{}\",:0-9a-z _\\\\-]{0,40}",
    ) {
        let text = format!("{ty}{att}{nsp}{id}{body}");
        let mut d = Decoder::new(Limits { max_attachments: 4, max_depth: 4, max_frame_bytes: 60 });
        if let Ok(Some(p)) = d.decode_text(&text) {
            let p = p.into_owned();
            prop_assert_eq!(round_trip(&p), p);
        }
    }

    /// Any sequence of text and binary frames: no panic, and every packet
    /// that comes out re-encodes to itself.
    #[test]
    fn decode_never_panics_on_frame_sequences(frames in prop::collection::vec(
        prop_oneof![
            any::<String>().prop_map(Ok),
            "[0-6]([0-3]-)?(/a,)?[0-9]?\\[(\"[a-z]\"|\\{\"_placeholder\":true,\"num\":[0-3]\\}|,|1)*\\]".prop_map(Ok),
            prop::collection::vec(any::<u8>(), 0..8).prop_map(Err),
        ],
        0..12,
    )) {
        let mut d = Decoder::new(limits());
        for f in &frames {
            let out = match f {
                Ok(text) => d.decode_text(text).map(|p| p.map(Packet::into_owned)),
                Err(bytes) => d.decode_binary(bytes),
            };
            if let Ok(Some(p)) = out {
                prop_assert_eq!(round_trip(&p), p.clone());
                if let Some(payload) = p.payload().filter(|p| p.is_binary()) {
                    prop_assert!(payload.reconstruct(&limits()).is_ok());
                }
            }
        }
    }

    #[test]
    fn decode_text_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let mut d = Decoder::new(limits());
        let _ = d.decode_text_bytes(&bytes);
    }
}
