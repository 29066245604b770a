//! Any bytes as the JSON of an Engine.IO `open` packet (the handshake a
//! server sends first): never a panic, and a handshake that decodes writes
//! back (`to_json`) to text that decodes to the same handshake.
#![no_main]
use frinny_agent::protocol::engine_io::Handshake;
use frinny_agent::protocol::Limits;
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
    if let Ok(handshake) = Handshake::decode(text, &limits) {
        // Escaping may lengthen the sid, so the second decode is unbounded in size.
        let wide = Limits {
            max_frame_bytes: usize::MAX,
            ..limits
        };
        let again = handshake.to_json();
        assert_eq!(
            Handshake::decode(&again, &wide).as_ref(),
            Ok(&handshake),
            "{again:?}"
        );
    }
});
