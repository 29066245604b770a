//! The one error type every decoder returns.
//!
//! Each variant has a stable [`DecodeError::code`] so that the client can count
//! malformed input by kind in its metrics and report it through `onError`
//! without matching on prose.

use std::fmt;

/// Why a frame, packet or payload was refused.
///
/// Decoders never panic: every violation of the wire format or of the
/// configured [`Limits`](super::Limits) is one of these values.
///
/// ```
/// use frinny_agent::protocol::{engine_io, DecodeError, Limits};
/// let err = engine_io::Packet::decode_text("9", &Limits::default()).unwrap_err();
/// assert_eq!(err.code(), "UNKNOWN_PACKET_TYPE");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The frame had no bytes at all (not even a packet type).
    Empty,
    /// The frame is bigger than [`Limits::max_frame_bytes`](super::Limits::max_frame_bytes).
    TooLarge {
        /// The frame's size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A text frame or text field is not valid UTF-8.
    InvalidUtf8,
    /// The packet type digit is not one the protocol defines.
    UnknownPacketType(char),
    /// A Socket.IO namespace that does not start with `/` or is not closed by `,`.
    InvalidNamespace,
    /// An ack id that is not a non-negative integer that fits in a `u64`.
    InvalidAckId,
    /// A binary packet's attachment count is missing, malformed or does not
    /// match its placeholders.
    InvalidAttachments(&'static str),
    /// More binary attachments than [`Limits::max_attachments`](super::Limits::max_attachments).
    TooManyAttachments {
        /// Attachments announced.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A binary frame arrived while no binary packet was waiting for one.
    UnexpectedBinary,
    /// A text packet arrived while a binary packet still waited for attachments.
    MissingAttachments {
        /// Attachments announced.
        expected: usize,
        /// Attachments that arrived.
        received: usize,
    },
    /// The JSON text does not parse. The string is the parser's message.
    InvalidJson(String),
    /// JSON nested deeper than [`Limits::max_depth`](super::Limits::max_depth).
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// The JSON parsed but has the wrong shape for this packet type
    /// (e.g. an EVENT whose payload is not a non-empty array led by a string).
    InvalidPayload(&'static str),
    /// An EVENT used a name reserved by Socket.IO (`connect`, `disconnect`, ...).
    ReservedEventName(String),
    /// A base64 body (long-polling binary packet) is not valid base64.
    InvalidBase64,
    /// The Engine.IO open packet lacks a field or has one of the wrong type.
    InvalidHandshake(&'static str),
    /// A plain-JSON frame has no string `action` field.
    MissingAction,
    /// A binary frame is not well-formed MessagePack (truncated, a reserved
    /// marker, bytes left after the packet).
    InvalidMsgpack(&'static str),
    /// Well-formed MessagePack with no JSON form the client can hand on (an
    /// extension type other than notepack's, a map key that is neither a
    /// string nor an integer).
    UnsupportedMsgpack(&'static str),
    /// A msgpack frame that is not a Socket.IO packet map: not a map, or its
    /// `type` is missing or not an integer from 0 to 4.
    InvalidPacket(&'static str),
    /// A [`batch`](super::batch) envelope, or one of its entries, is not
    /// `[["name", payload], …]`. The frame around it was sound, so the link
    /// stays up.
    InvalidBatch(&'static str),
}

impl DecodeError {
    /// A stable, SCREAMING_SNAKE_CASE code for metrics and for the `code` of
    /// errors that reach JS. Codes never change once released.
    pub fn code(&self) -> &'static str {
        match self {
            DecodeError::Empty => "EMPTY_FRAME",
            DecodeError::TooLarge { .. } => "FRAME_TOO_LARGE",
            DecodeError::InvalidUtf8 => "INVALID_UTF8",
            DecodeError::UnknownPacketType(_) => "UNKNOWN_PACKET_TYPE",
            DecodeError::InvalidNamespace => "INVALID_NAMESPACE",
            DecodeError::InvalidAckId => "INVALID_ACK_ID",
            DecodeError::InvalidAttachments(_) => "INVALID_ATTACHMENTS",
            DecodeError::TooManyAttachments { .. } => "TOO_MANY_ATTACHMENTS",
            DecodeError::UnexpectedBinary => "UNEXPECTED_BINARY",
            DecodeError::MissingAttachments { .. } => "MISSING_ATTACHMENTS",
            DecodeError::InvalidJson(_) => "INVALID_JSON",
            DecodeError::TooDeep { .. } => "JSON_TOO_DEEP",
            DecodeError::InvalidPayload(_) => "INVALID_PAYLOAD",
            DecodeError::ReservedEventName(_) => "RESERVED_EVENT_NAME",
            DecodeError::InvalidBase64 => "INVALID_BASE64",
            DecodeError::InvalidHandshake(_) => "INVALID_HANDSHAKE",
            DecodeError::MissingAction => "MISSING_ACTION",
            DecodeError::InvalidMsgpack(_) => "INVALID_MSGPACK",
            DecodeError::UnsupportedMsgpack(_) => "UNSUPPORTED_MSGPACK",
            DecodeError::InvalidPacket(_) => "INVALID_PACKET",
            DecodeError::InvalidBatch(_) => "INVALID_BATCH",
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Empty => write!(f, "empty frame"),
            DecodeError::TooLarge { len, max } => {
                write!(f, "frame of {len} bytes exceeds the limit of {max} bytes")
            }
            DecodeError::InvalidUtf8 => write!(f, "text is not valid UTF-8"),
            DecodeError::UnknownPacketType(c) => write!(f, "unknown packet type {c:?}"),
            DecodeError::InvalidNamespace => write!(f, "invalid namespace"),
            DecodeError::InvalidAckId => {
                write!(f, "ack id is not a non-negative integer that fits")
            }
            DecodeError::InvalidAttachments(why) => write!(f, "invalid binary attachments: {why}"),
            DecodeError::TooManyAttachments { count, max } => {
                write!(f, "{count} binary attachments exceed the limit of {max}")
            }
            DecodeError::UnexpectedBinary => {
                write!(
                    f,
                    "binary frame received while no binary packet was waiting"
                )
            }
            DecodeError::MissingAttachments { expected, received } => write!(
                f,
                "packet interrupted after {received} of {expected} binary attachments"
            ),
            DecodeError::InvalidJson(msg) => write!(f, "invalid JSON: {msg}"),
            DecodeError::TooDeep { max } => write!(f, "JSON nested deeper than {max} levels"),
            DecodeError::InvalidPayload(why) => write!(f, "invalid payload: {why}"),
            DecodeError::ReservedEventName(name) => write!(f, "reserved event name {name:?}"),
            DecodeError::InvalidBase64 => write!(f, "invalid base64"),
            DecodeError::InvalidHandshake(why) => write!(f, "invalid handshake: {why}"),
            DecodeError::MissingAction => write!(f, "JSON frame has no string \"action\" field"),
            DecodeError::InvalidMsgpack(why) => write!(f, "invalid MessagePack: {why}"),
            DecodeError::UnsupportedMsgpack(why) => {
                write!(f, "MessagePack without a JSON form: {why}")
            }
            DecodeError::InvalidPacket(why) => write!(f, "invalid Socket.IO packet: {why}"),
            DecodeError::InvalidBatch(why) => write!(f, "invalid batch: {why}"),
        }
    }
}

impl std::error::Error for DecodeError {}
