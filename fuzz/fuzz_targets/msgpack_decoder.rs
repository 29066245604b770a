//! Feeds one binary frame to the msgpack decoder, under tight limits and
//! under the defaults. Whatever decodes must be a packet the rest of the
//! client can take: its payload is JSON within the depth limit, no more
//! attachments than allowed, a payload reconstructs, and the packet
//! re-encodes and decodes to itself (floats within an ulp or two: encoding
//! reads them with serde_json's default parser, see "Floats" in the
//! `msgpack` module doc).
#![no_main]

use frinny_agent::protocol::socket_io::Packet;
use frinny_agent::protocol::{json, msgpack, Limits};
use libfuzzer_sys::fuzz_target;

const TIGHT: Limits = Limits {
    max_frame_bytes: 4096,
    max_attachments: 8,
    max_depth: 32,
};

/// The JSON text of a packet, if it has one.
fn text<'p>(packet: &'p Packet<'_>) -> Option<&'p str> {
    match packet {
        Packet::Connect { auth, .. } => auth.as_deref(),
        Packet::Disconnect { .. } => None,
        Packet::Event { data, .. } | Packet::Ack { data, .. } => Some(&*data.json),
        Packet::ConnectError { data, .. } => Some(&**data),
    }
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

fn same_packet(a: &Packet<'_>, b: &Packet<'_>) -> bool {
    if a == b {
        return true;
    }
    let (Some(ta), Some(tb)) = (text(a), text(b)) else {
        return false;
    };
    let parse = |t| serde_json::from_str::<serde_json::Value>(t).unwrap();
    std::mem::discriminant(a) == std::mem::discriminant(b)
        && a.nsp() == b.nsp()
        && a.id() == b.id()
        && a.attachments() == b.attachments()
        && same_json(&parse(ta), &parse(tb))
}

fn check(data: &[u8], limits: &Limits) {
    let Ok(packet) = msgpack::decode(data, limits) else {
        return;
    };
    if let Some(text) = text(&packet) {
        json::parse::<serde::de::IgnoredAny>(text, limits.max_depth)
            .expect("decoded payload must be JSON within the depth limit");
    }
    if let Some(payload) = packet.payload() {
        assert!(payload.attachments.len() <= limits.max_attachments);
        payload
            .reconstruct(limits)
            .expect("decoded payload must reconstruct");
    }
    let bytes = msgpack::encode(&packet, limits).expect("a decoded packet must encode");
    // Re-encoding may grow a frame (a Date becomes its ISO string).
    let roomy = Limits {
        max_frame_bytes: usize::MAX,
        ..*limits
    };
    let again = msgpack::decode(&bytes, &roomy).expect("a re-encoded packet must decode");
    assert!(
        same_packet(&again, &packet),
        "re-encoded packet must decode to itself: {packet:?} became {again:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    check(data, &TIGHT);
    check(data, &Limits::default());
});
