#![cfg(not(target_arch = "wasm32"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Property tests of the msgpack codec: every packet type round-trips
//! through encode and decode to the very packet (JSON text and attachments),
//! binary values map to placeholders exactly as the text codec's
//! `Payload::deconstruct` numbers them, and no input panics: random bytes,
//! random MessagePack (every marker, ext types included) and mangled frames
//! all give a packet or a typed error, and whatever decodes re-encodes and
//! decodes to itself.

use frinny_agent::protocol::msgpack;
use frinny_agent::protocol::socket_io::{Packet, Payload, RESERVED_EVENTS};
use frinny_agent::protocol::value::Value;
use frinny_agent::protocol::{json, DecodeError, Limits};
use proptest::prelude::*;
use std::borrow::Cow;

fn limits() -> Limits {
    Limits {
        max_attachments: 1024,
        ..Limits::default()
    }
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

/// Numbers as JavaScript sees them: integers, and floats that are not
/// integral (an integral float is the integer, in notepack as in JS) and
/// that serde_json parses back exactly (see "Floats" in the module doc).
fn number() -> impl Strategy<Value = serde_json::Number> {
    prop_oneof![
        any::<i64>().prop_map(serde_json::Number::from),
        any::<u64>().prop_map(serde_json::Number::from),
        // m / 2^e = m·5^e / 10^e, and |m·5^e| < 2^53 for e <= 9: serde_json's
        // exact fast path.
        (any::<i32>(), 1u32..10).prop_filter_map("integral", |(m, e)| {
            let f = f64::from(m) / f64::from(1u32 << e);
            if f.fract() == 0.0 {
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

fn round_trip(packet: &Packet<'_>) -> Packet<'static> {
    let bytes = msgpack::encode(packet, &limits()).unwrap();
    msgpack::decode(&bytes, &limits()).unwrap()
}

/// One MessagePack value, as bytes, drawn from every marker the format has:
/// the forms notepack writes and those it does not (f32, signed forms of
/// positive numbers, ext of any type, non-string keys, the reserved 0xc1).
fn any_msgpack() -> impl Strategy<Value = Vec<u8>> {
    let leaf = prop_oneof![
        Just(vec![0xc0]),
        Just(vec![0xc1]),
        any::<bool>().prop_map(|b| vec![if b { 0xc3 } else { 0xc2 }]),
        any::<u64>().prop_map(|n| {
            let mut out = Vec::new();
            rmp::encode::write_uint(&mut out, n).unwrap();
            out
        }),
        any::<i64>().prop_map(|n| {
            let mut out = Vec::new();
            rmp::encode::write_sint(&mut out, n).unwrap();
            out
        }),
        any::<i64>().prop_map(|n| {
            let mut out = vec![0xd3];
            out.extend(n.to_be_bytes());
            out
        }),
        any::<f64>().prop_map(|f| {
            let mut out = Vec::new();
            rmp::encode::write_f64(&mut out, f).unwrap();
            out
        }),
        any::<f32>().prop_map(|f| {
            let mut out = Vec::new();
            rmp::encode::write_f32(&mut out, f).unwrap();
            out
        }),
        any::<String>().prop_map(|s| {
            let mut out = Vec::new();
            rmp::encode::write_str(&mut out, &s).unwrap();
            out
        }),
        prop::collection::vec(any::<u8>(), 0..8).prop_map(|b| {
            // a str whose bytes may not be UTF-8
            let mut out = Vec::new();
            rmp::encode::write_str_len(&mut out, b.len() as u32).unwrap();
            out.extend(b);
            out
        }),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(|b| {
            let mut out = Vec::new();
            rmp::encode::write_bin(&mut out, &b).unwrap();
            out
        }),
        (
            prop_oneof![Just(0i8), any::<i8>()],
            prop::collection::vec(any::<u8>(), 0..20)
        )
            .prop_map(|(ty, b)| {
                let mut out = Vec::new();
                rmp::encode::write_ext_meta(&mut out, b.len() as u32, ty).unwrap();
                out.extend(b);
                out
            }),
        (prop_oneof![Just(0i8), any::<i8>()], 0usize..3).prop_map(|(ty, which)| {
            // explicit 8-bit-length ext (what notepack writes for an ArrayBuffer)
            let len = [1u8, 8, 3][which];
            let mut out = vec![0xc7, len, ty as u8];
            out.extend(vec![7; usize::from(len)]);
            out
        }),
    ];
    leaf.prop_recursive(6, 96, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(|items| {
                let mut out = Vec::new();
                rmp::encode::write_array_len(&mut out, items.len() as u32).unwrap();
                out.extend(items.concat());
                out
            }),
            prop::collection::vec((inner.clone(), inner), 0..6).prop_map(|entries| {
                let mut out = Vec::new();
                rmp::encode::write_map_len(&mut out, entries.len() as u32).unwrap();
                for (k, v) in entries {
                    out.extend(k);
                    out.extend(v);
                }
                out
            }),
        ]
    })
}

fn str_bytes(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    rmp::encode::write_str(&mut out, s).unwrap();
    out
}

/// A packet map whose fields are drawn from plausible and implausible values.
fn any_packet_map() -> impl Strategy<Value = Vec<u8>> {
    let ty = prop_oneof![(0u64..6).prop_map(|t| vec![t as u8]), any_msgpack()];
    let nsp = prop_oneof![
        Just(str_bytes("/")),
        Just(str_bytes("/admin")),
        any_msgpack()
    ];
    let id = proptest::option::of(prop_oneof![
        any::<u32>().prop_map(|n| {
            let mut out = Vec::new();
            rmp::encode::write_uint(&mut out, u64::from(n)).unwrap();
            out
        }),
        any_msgpack()
    ]);
    let data = proptest::option::of(prop_oneof![
        // an array led by a string: an event or ack
        (any::<String>(), prop::collection::vec(any_msgpack(), 0..4)).prop_map(|(name, rest)| {
            let mut out = Vec::new();
            rmp::encode::write_array_len(&mut out, rest.len() as u32 + 1).unwrap();
            out.extend(str_bytes(&name));
            out.extend(rest.concat());
            out
        }),
        any_msgpack(),
    ]);
    (ty, nsp, id, data, any::<bool>()).prop_map(|(ty, nsp, id, data, extra)| {
        let mut fields = vec![("type", ty), ("nsp", nsp)];
        fields.extend(id.map(|id| ("id", id)));
        fields.extend(data.map(|d| ("data", d)));
        if extra {
            fields.push(("options", vec![0x81, 0xa1, b'c', 0xc3]));
        }
        let mut out = Vec::new();
        rmp::encode::write_map_len(&mut out, fields.len() as u32).unwrap();
        for (k, v) in fields {
            out.extend(str_bytes(k));
            out.extend(v);
        }
        out
    })
}

/// Whatever decodes is a packet the rest of the client can take: its
/// payload is JSON within the limits, a binary payload reconstructs, and it
/// re-encodes and decodes to itself.
fn check_decoded(bytes: &[u8], limits: &Limits) -> Result<(), TestCaseError> {
    let Ok(packet) = msgpack::decode(bytes, limits) else {
        return Ok(());
    };
    let text = text_of(&packet);
    if let Some(text) = text {
        prop_assert!(
            json::parse::<serde_json::Value>(text, limits.max_depth).is_ok(),
            "not JSON within the limits: {}",
            text
        );
    }
    if let Some(payload) = packet.payload() {
        prop_assert!(payload.attachments.len() <= limits.max_attachments);
        prop_assert!(payload.reconstruct(limits).is_ok());
    }
    let again = msgpack::encode(&packet, limits).expect("a decoded packet encodes");
    let roomy = Limits {
        max_frame_bytes: usize::MAX,
        ..*limits
    };
    let again = msgpack::decode(&again, &roomy).expect("a re-encoded packet decodes");
    if again != packet {
        // Only floats may differ, by an ulp or two (see "Floats" in the
        // module doc).
        prop_assert_eq!(
            (
                again.packet_type(),
                again.nsp(),
                again.id(),
                again.attachments()
            ),
            (
                packet.packet_type(),
                packet.nsp(),
                packet.id(),
                packet.attachments()
            )
        );
        let (a, b) = (text.map(js_value), text_of(&again).map(js_value));
        prop_assert!(
            a.as_ref()
                .zip(b.as_ref())
                .is_some_and(|(a, b)| same_json(a, b)),
            "{:?} became {:?}",
            packet,
            again
        );
    }
    Ok(())
}

fn text_of<'p>(packet: &'p Packet<'_>) -> Option<&'p str> {
    match packet {
        Packet::Connect { auth, .. } => auth.as_deref(),
        Packet::Disconnect { .. } => None,
        Packet::Event { data, .. } | Packet::Ack { data, .. } => Some(&*data.json),
        Packet::ConnectError { data, .. } => Some(&**data),
    }
}

fn js_value(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap()
}

/// Equal JSON, floats within a relative 1e-15.
fn same_json(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (a, b) {
        (J::Number(x), J::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= 1e-15 * x.abs().max(y.abs())
        }
        (J::Array(x), J::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((kx, x), (ky, y))| kx == ky && same_json(x, y))
        }
        _ => a == b,
    }
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

    /// The placeholders and attachments of a decoded packet are those the
    /// text codec's deconstruct makes of the same tree, so the shell hands
    /// binary to JS the same way whichever parser the link speaks.
    #[test]
    fn event_round_trips_with_the_text_codecs_placeholders(
        nsp in nsp(),
        name in event_name(),
        args in prop::collection::vec(value(true), 0..5),
        id in proptest::option::of(any::<u64>()),
    ) {
        let mut whole = vec![Value::String(name.clone())];
        whole.extend(args);
        let tree = Value::Array(whole);
        let payload = Payload::deconstruct(&tree);
        let p = Packet::event_from_payload(nsp.as_str(), payload, id).unwrap();
        let back = round_trip(&p);
        prop_assert_eq!(&back, &p);
        let Packet::Event { event, data, .. } = back else { panic!() };
        prop_assert_eq!(event.as_ref(), name.as_str());
        prop_assert_eq!(data.reconstruct(&limits()).unwrap(), tree);
    }

    #[test]
    fn ack_round_trips(nsp in nsp(), args in prop::collection::vec(value(true), 0..5), id in any::<u64>()) {
        let tree = Value::Array(args);
        let p = Packet::ack(nsp.as_str(), id, Payload::deconstruct(&tree)).unwrap();
        let back = round_trip(&p);
        prop_assert_eq!(&back, &p);
        prop_assert_eq!(back.payload().unwrap().reconstruct(&limits()).unwrap(), tree);
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        check_decoded(&bytes, &limits())?;
    }

    #[test]
    fn random_packet_maps_never_panic(frame in any_packet_map()) {
        check_decoded(&frame, &limits())?;
        let tight = Limits { max_frame_bytes: 512, max_attachments: 2, max_depth: 3 };
        check_decoded(&frame, &tight)?;
    }

    #[test]
    fn mangled_frames_never_panic(
        frame in any_packet_map(),
        cut in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
    ) {
        let mut bytes = frame;
        for (at, byte) in flips {
            if !bytes.is_empty() {
                let i = at.index(bytes.len());
                bytes[i] = byte;
            }
        }
        let end = cut.index(bytes.len() + 1);
        check_decoded(&bytes[..end], &limits())?;
        check_decoded(&bytes, &limits())?;
    }

    #[test]
    fn a_truncated_frame_is_an_error(frame in any_packet_map(), cut in any::<prop::sample::Index>()) {
        if msgpack::decode(&frame, &limits()).is_ok() {
            let end = cut.index(frame.len());
            prop_assert_eq!(
                msgpack::decode(&frame[..end], &limits()),
                Err(DecodeError::InvalidMsgpack("truncated"))
            );
        }
    }
}
