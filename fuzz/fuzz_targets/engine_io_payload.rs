//! Any bytes as an HTTP long-polling payload: never a panic, and a payload
//! that decodes re-encodes to one that decodes to the same packets.
#![no_main]
use frinny_agent::protocol::engine_io::{decode_payload, decode_payload_bytes, encode_payload};
use frinny_agent::protocol::Limits;
use libfuzzer_sys::fuzz_target;

/// Re-encoding may grow a payload a little (base64 padding), so the second
/// decode must not be limited by size.
const WIDE: Limits = Limits {
    max_frame_bytes: usize::MAX,
    max_attachments: Limits::DEFAULT_MAX_ATTACHMENTS,
    max_depth: Limits::DEFAULT_MAX_DEPTH,
};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_frame_bytes: 64 * 1024,
        max_depth: 16,
        ..Limits::default()
    };

    let from_bytes = decode_payload_bytes(data, &limits);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let decoded = decode_payload(text, &limits);
    assert_eq!(
        decoded, from_bytes,
        "decode_payload and decode_payload_bytes disagree"
    );

    if let Ok(packets) = decoded {
        assert!(
            !packets.is_empty(),
            "a decoded payload has at least one packet"
        );
        let again = encode_payload(&packets);
        let back = decode_payload(&again, &WIDE);
        assert_eq!(back.as_ref(), Ok(&packets), "payload {again:?}");
    }
});
