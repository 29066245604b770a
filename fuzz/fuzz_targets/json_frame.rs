//! Any bytes through the plain-JSON frame decoder: never a panic, and a frame
//! that decodes re-encodes to one with the same action.
#![no_main]
use frinny_agent::protocol::{json_frame, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_frame_bytes: 4096,
        max_depth: 16,
        ..Limits::default()
    };
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(frame) = json_frame::decode(text, &limits) {
        let again =
            json_frame::encode(&frame.action, frame.json).expect("a decoded frame is an object");
        let back =
            json_frame::decode(&again, &Limits::default()).expect("re-encoded frame decodes");
        assert_eq!(back.action, frame.action);
    }
});
