//! Property tests for the Engine.IO v4 codec: every packet survives
//! encode-then-decode on each transport, and no input makes a decoder panic.
#![cfg(not(target_arch = "wasm32"))]
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
use proptest::prelude::*;
use std::borrow::Cow;

/// Limits that never get in the way of a round trip.
const WIDE: Limits = Limits {
    max_frame_bytes: usize::MAX,
    max_attachments: Limits::DEFAULT_MAX_ATTACHMENTS,
    max_depth: Limits::DEFAULT_MAX_DEPTH,
};

fn handshake() -> impl Strategy<Value = Handshake> {
    (
        // Any text, control characters, quotes and backslashes included.
        "\\PC{1,24}|[\\x00-\\x7f]{1,24}",
        prop::collection::vec("[a-z\"\\\\\\x00-\\x1f€]{0,12}", 0..4),
        any::<u64>(),
        any::<u64>(),
        prop::option::of(any::<u64>()),
    )
        .prop_map(
            |(sid, upgrades, ping_interval, ping_timeout, max_payload)| Handshake {
                sid,
                upgrades,
                ping_interval,
                ping_timeout,
                max_payload,
            },
        )
}

/// Any packet. With `polling`, text never contains the record separator
/// (the protocol assumes it does not).
fn packet(polling: bool) -> impl Strategy<Value = Packet<'static>> {
    let text = if polling {
        "[^\\x1e]{0,64}"
    } else {
        "(?s).{0,64}"
    };
    prop_oneof![
        handshake().prop_map(Packet::Open),
        Just(Packet::Close),
        text.prop_map(|s| Packet::Ping(Cow::Owned(s))),
        text.prop_map(|s| Packet::Pong(Cow::Owned(s))),
        text.prop_map(|s| Packet::Message(Data::Text(Cow::Owned(s)))),
        prop::collection::vec(any::<u8>(), 0..64)
            .prop_map(|b| Packet::Message(Data::Binary(Cow::Owned(b)))),
        Just(Packet::Upgrade),
        Just(Packet::Noop),
    ]
}

fn decode_frame(frame: &Frame) -> Result<Packet<'_>, DecodeError> {
    match frame {
        Frame::Text(t) => Packet::decode_text(t, &WIDE),
        Frame::Binary(b) => Packet::decode_binary(b, &WIDE),
    }
}

/// Strings that look like Engine.IO traffic more often than uniform noise.
fn wire_like() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-6b][ -~]{0,40}",
        "[0-6b]([ -~]{0,10}\\x1e[0-6b]){0,6}[ -~]{0,10}",
        "0\\{(\"(sid|upgrades|pingInterval|pingTimeout|maxPayload)\":(\"[a-z]*\"|-?[0-9]{1,22}(\\.[0-9])?|\\[\\]|null|\\[\"websocket\"\\]|\\{\\}),?){0,6}\\}?",
        "b[A-Za-z0-9+/=]{0,20}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// WebSocket: `encode` then decode the frame it chose.
    #[test]
    fn websocket_frame_round_trip(p in packet(false)) {
        let frame = p.encode();
        match (&p, &frame) {
            (Packet::Message(Data::Binary(_)), Frame::Binary(_)) => {}
            (Packet::Message(Data::Binary(_)), Frame::Text(_)) => prop_assert!(false, "binary message as text"),
            (_, Frame::Binary(_)) => prop_assert!(false, "text packet as binary"),
            (_, Frame::Text(t)) => prop_assert!(t.starts_with(p.packet_type().as_char())),
        }
        prop_assert_eq!(decode_frame(&frame)?, p);
    }

    /// The text form (binary as `b<base64>`) decodes back too.
    #[test]
    fn text_encoding_round_trip(p in packet(false)) {
        let mut out = String::from("junk before");
        let start = out.len();
        p.encode_text_into(&mut out);
        prop_assert_eq!(Packet::decode_text(&out[start..], &WIDE)?, p.clone());
        prop_assert_eq!(Packet::decode_text_bytes(&out.as_bytes()[start..], &WIDE)?, p);
    }

    /// Ping and pong payloads come back unchanged and borrowed.
    #[test]
    fn ping_pong_payload_round_trip(s in "(?s).{0,64}", is_ping in any::<bool>()) {
        let p = if is_ping { Packet::Ping(Cow::Borrowed(&s)) } else { Packet::Pong(Cow::Borrowed(&s)) };
        let Frame::Text(frame) = p.encode() else { panic!("ping/pong as binary") };
        let back = Packet::decode_text(&frame, &WIDE)?;
        match &back {
            Packet::Ping(Cow::Borrowed(d)) | Packet::Pong(Cow::Borrowed(d)) => prop_assert_eq!(*d, s.as_str()),
            other => prop_assert!(false, "{other:?}"),
        }
        prop_assert_eq!(back, p);
    }

    /// Handshakes: the hand-written JSON is serde_json's, and decodes back.
    #[test]
    fn handshake_round_trip(hs in handshake()) {
        let json = hs.to_json();
        prop_assert_eq!(&json, &serde_json::to_string(&hs).unwrap());
        prop_assert_eq!(Handshake::decode(&json, &WIDE)?, hs.clone());
        let packet = Packet::Open(hs);
        let frame = packet.encode();
        prop_assert_eq!(decode_frame(&frame)?, packet);
    }

    /// Long-polling payloads of mixed packets.
    #[test]
    fn polling_payload_round_trip(packets in prop::collection::vec(packet(true), 1..8)) {
        let payload = encode_payload(&packets);
        prop_assert_eq!(&decode_payload(&payload, &WIDE)?, &packets);
        prop_assert_eq!(decode_payload_bytes(payload.as_bytes(), &WIDE)?, packets);
    }

    /// A payload is its packets' text encodings joined by `\x1e`.
    #[test]
    fn polling_payload_is_joined_text_encodings(packets in prop::collection::vec(packet(true), 1..8)) {
        let parts: Vec<String> = packets.iter().map(|p| { let mut s = String::new(); p.encode_text_into(&mut s); s }).collect();
        prop_assert_eq!(encode_payload(&packets), parts.join("\x1e"));
    }

    /// Binary frames are always one message, whatever their bytes.
    #[test]
    fn binary_frame_is_a_message(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let p = Packet::decode_binary(&bytes, &WIDE)?;
        prop_assert_eq!(p.encode(), Frame::Binary(bytes.clone()));
        prop_assert_eq!(p.packet_type(), PacketType::Message);
    }

    /// Decoders never panic on arbitrary text, and what they accept
    /// re-encodes to something that decodes to the same packet.
    #[test]
    fn decode_text_never_panics(s in wire_like()) {
        let limits = Limits::default();
        if let Ok(p) = Packet::decode_text(&s, &limits) {
            let frame = p.encode();
            prop_assert_eq!(decode_frame(&frame)?, p.clone());
            let mut t = String::new();
            p.encode_text_into(&mut t);
            prop_assert_eq!(Packet::decode_text(&t, &WIDE)?, p);
        }
        if let Ok(packets) = decode_payload(&s, &limits) {
            prop_assert!(!packets.is_empty());
            let again = encode_payload(&packets);
            prop_assert_eq!(decode_payload(&again, &WIDE)?, packets);
        }
        let _ = Handshake::decode(&s, &limits);
    }

    /// Decoders never panic on arbitrary bytes.
    #[test]
    fn decode_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..128)) {
        let limits = Limits::default();
        let _ = Packet::decode_text_bytes(&bytes, &limits);
        let _ = decode_payload_bytes(&bytes, &limits);
        prop_assert!(Packet::decode_binary(&bytes, &limits).is_ok());
        if std::str::from_utf8(&bytes).is_err() {
            prop_assert_eq!(Packet::decode_text_bytes(&bytes, &limits), Err(DecodeError::InvalidUtf8));
        }
    }

    /// Tight limits: anything longer than the limit is TooLarge, whatever it is.
    #[test]
    fn oversize_is_always_too_large(s in wire_like(), max in 0usize..16) {
        let limits = Limits { max_frame_bytes: max, max_depth: 2, ..Limits::default() };
        let too_large = DecodeError::TooLarge { len: s.len(), max };
        if s.len() > max {
            prop_assert_eq!(Packet::decode_text(&s, &limits), Err(too_large.clone()));
            prop_assert_eq!(decode_payload(&s, &limits), Err(too_large.clone()));
            prop_assert_eq!(Packet::decode_binary(s.as_bytes(), &limits), Err(too_large));
        } else {
            let _ = Packet::decode_text(&s, &limits);
            let _ = decode_payload(&s, &limits);
        }
    }
}
