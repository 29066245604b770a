//! What the inspector (`inspect`, `debug`, `<frinny-devtools>`) of a pooled
//! guest sees. A manager multiplexed on a shared link (`pool.rs`) that did
//! not lend the link its hub has no socket of its own to tap, so its frames
//! are shown here as the link carried them: what it sent, and the packets
//! routed to its namespace. The link's own traffic (handshake, pings,
//! upgrade) stays with the lender's inspector.
//!
//! ```ignore
//! if hub.inspecting() {
//!     guest_tap::sent(&hub, &frame, &attachments, host.transport());
//! }
//! ```

use super::hub::EventHub;
use crate::core::{Frame, Parser, Transport};
use crate::protocol::{msgpack, socket_io, Limits};

/// `'polling'` for records of a polling link, as the link's own tap marks
/// them; nothing for a WebSocket.
fn marked(transport: Option<Transport>) -> Option<&'static str> {
    (transport == Some(Transport::Polling)).then_some("polling")
}

fn show(
    hub: &EventHub,
    direction: &str,
    frame: &Frame,
    attachments: &[Vec<u8>],
    mark: Option<&str>,
) {
    match frame {
        Frame::Text(text) => hub.tap_text(direction, text, mark),
        Frame::Binary(bytes) => hub.tap_bytes(direction, bytes, mark),
    }
    for bytes in attachments {
        hub.tap_bytes(direction, bytes, mark);
    }
}

/// A frame the guest handed the link, and its attachments.
pub(crate) fn sent(
    hub: &EventHub,
    frame: &Frame,
    attachments: &[Vec<u8>],
    transport: Option<Transport>,
) {
    show(hub, "out", frame, attachments, marked(transport));
}

/// A packet the link routed to the guest, encoded again as the wire had it:
/// an Engine.IO message (`4` and the Socket.IO packet) and its attachments,
/// or one msgpack message. A packet that cannot be written again is not
/// shown (the guest still gets it).
pub(crate) fn routed(
    hub: &EventHub,
    packet: &socket_io::Packet<'_>,
    parser: Parser,
    limits: &Limits,
    transport: Option<Transport>,
) {
    let mark = marked(transport);
    match parser {
        Parser::Json => {
            let mut text = String::from("4");
            packet.encode_text_into(&mut text);
            show(hub, "in", &Frame::Text(text), packet.attachments(), mark);
        }
        Parser::Msgpack => {
            if let Ok(bytes) = msgpack::encode(packet, limits) {
                show(hub, "in", &Frame::Binary(bytes), &[], mark);
            }
        }
    }
}
