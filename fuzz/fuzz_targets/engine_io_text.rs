//! Any bytes as one WebSocket frame, text or binary: never a panic, and a
//! packet that decodes re-encodes to a frame that decodes to the same packet
//! (both through `encode` and through the text form `encode_text_into`).
#![no_main]
use frinny_agent::protocol::engine_io::{Frame, Packet};
use frinny_agent::protocol::Limits;
use libfuzzer_sys::fuzz_target;

/// Re-encoding may grow a packet a little (base64 padding), so the second
/// decode must not be limited by size.
const WIDE: Limits = Limits {
    max_frame_bytes: usize::MAX,
    max_attachments: Limits::DEFAULT_MAX_ATTACHMENTS,
    max_depth: Limits::DEFAULT_MAX_DEPTH,
};

fn check_round_trip(packet: &Packet<'_>) {
    let frame = packet.encode();
    let again = match &frame {
        Frame::Text(text) => Packet::decode_text(text, &WIDE),
        Frame::Binary(bytes) => Packet::decode_binary(bytes, &WIDE),
    };
    assert_eq!(again.as_ref(), Ok(packet), "frame {frame:?}");

    let mut text = String::new();
    packet.encode_text_into(&mut text);
    assert_eq!(
        Packet::decode_text(&text, &WIDE).as_ref(),
        Ok(packet),
        "text {text:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_frame_bytes: 64 * 1024,
        max_depth: 16,
        ..Limits::default()
    };

    if let Ok(packet) = Packet::decode_binary(data, &limits) {
        check_round_trip(&packet);
    }
    let from_bytes = Packet::decode_text_bytes(data, &limits);
    if let Ok(text) = std::str::from_utf8(data) {
        let decoded = Packet::decode_text(text, &limits);
        assert_eq!(
            decoded, from_bytes,
            "decode_text and decode_text_bytes disagree"
        );
        if let Ok(packet) = decoded {
            check_round_trip(&packet);
        }
    } else if data.len() <= limits.max_frame_bytes {
        assert_eq!(
            from_bytes,
            Err(frinny_agent::protocol::DecodeError::InvalidUtf8)
        );
    }
});
