//! Feeds a sequence of frames to one Socket.IO `Decoder`.
//!
//! The input is split on `0xFF`; the first byte of each chunk picks the frame
//! kind (even: text, fed as bytes so invalid UTF-8 is exercised; odd: binary
//! attachment) and the rest is the frame. Every packet that decodes must
//! re-encode and re-decode to itself, and a binary payload must
//! reconstruct.
#![no_main]

use frinny_agent::protocol::socket_io::{Decoder, Packet, Payload};
use frinny_agent::protocol::Limits;
use libfuzzer_sys::fuzz_target;

const LIMITS: Limits = Limits {
    max_frame_bytes: 4096,
    max_attachments: 8,
    max_depth: 32,
};

fn check_round_trip(packet: &Packet<'static>) {
    let encoded = packet.encode();
    assert!(
        encoded.text.len() <= LIMITS.max_frame_bytes,
        "re-encoding grew the frame"
    );
    let mut decoder = Decoder::new(LIMITS);
    let mut out = decoder
        .decode_text(&encoded.text)
        .expect("re-encoded text must decode")
        .map(Packet::into_owned);
    for attachment in encoded.attachments {
        assert!(out.is_none(), "packet came out before its last attachment");
        out = decoder
            .decode_binary(attachment)
            .expect("re-encoded attachment must decode");
    }
    assert_eq!(out.as_ref(), Some(packet));
    assert_eq!(decoder.pending_attachments(), None);

    // The decoder checked a binary payload's placeholders (and parsed it
    // into a tree), so it must reconstruct. Text payloads are only
    // validated, and may hold numbers a tree cannot (`1e400`).
    if let Some(payload) = packet.payload().filter(|p| p.is_binary()) {
        let value = payload
            .reconstruct(&LIMITS)
            .expect("decoded payload must reconstruct");
        let again = Payload::deconstruct(&value);
        assert_eq!(again.attachments, payload.attachments);
        assert!(
            again.reconstruct(&LIMITS).is_ok(),
            "deconstructed payload must reconstruct"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let mut decoder = Decoder::new(LIMITS);
    for chunk in data.split(|&b| b == 0xFF) {
        let Some((&kind, frame)) = chunk.split_first() else {
            continue;
        };
        let result = if kind % 2 == 0 {
            decoder
                .decode_text_bytes(frame)
                .map(|p| p.map(Packet::into_owned))
        } else {
            decoder.decode_binary(frame)
        };
        match result {
            Ok(Some(packet)) => check_round_trip(&packet),
            Ok(None) => assert!(decoder.pending_attachments().is_some()),
            Err(_) => assert_eq!(
                decoder.pending_attachments(),
                None,
                "decoder must reset after an error"
            ),
        }
    }
});
