//! The Engine.IO **v4** codec: the equivalent of the `engine.io-parser` npm
//! package (protocol revision 4, used by Socket.IO v3 and later). Pure: bytes
//! or text in, typed [`Packet`]s or a typed [`DecodeError`] out.
//!
//! # Wire format
//!
//! | packet  | digit | payload                                         |
//! |---------|-------|-------------------------------------------------|
//! | open    | `0`   | the JSON [`Handshake`]                          |
//! | close   | `1`   | none                                            |
//! | ping    | `2`   | optional text (`probe` during an upgrade)       |
//! | pong    | `3`   | optional text (echoes the ping's)               |
//! | message | `4`   | text, or binary (see below)                     |
//! | upgrade | `5`   | none                                            |
//! | noop    | `6`   | none                                            |
//!
//! - **WebSocket**: one packet per frame. A text frame is `<digit>[<data>]`;
//!   a binary frame is a message packet whose bytes are sent as they are,
//!   with no type prefix ([`Packet::decode_text`], [`Packet::decode_binary`],
//!   [`Packet::encode`]).
//! - **HTTP long-polling**: packets joined by the record separator `\x1e`;
//!   a binary message is written `b<base64>` ([`decode_payload`],
//!   [`encode_payload`]).
//!
//! # Strictness
//!
//! Every decoder checks the input length against
//! [`Limits::max_frame_bytes`] before doing anything else, refuses empty
//! input, unknown type characters, bad base64 and malformed handshakes, and
//! never panics. Two liberal choices follow `engine.io-parser`: data after a
//! `close`, `upgrade` or `noop` type digit is ignored (the protocol gives
//! those packets no payload), and an **empty binary frame** is a valid
//! message with zero bytes (Socket.IO sends one for an empty `Buffer`).
//!
//! ```
//! use frinny_agent::protocol::engine_io::{Data, Frame, Packet};
//! use frinny_agent::protocol::Limits;
//!
//! let packet = Packet::decode_text("4hello", &Limits::default())?;
//! assert_eq!(packet, Packet::Message(Data::Text("hello".into())));
//! assert_eq!(packet.encode(), Frame::Text("4hello".to_owned()));
//! # Ok::<(), frinny_agent::protocol::DecodeError>(())
//! ```

use super::{json, scan, DecodeError, Limits};
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt::Write as _;

/// The record separator (`\x1e`) that joins packets in a long-polling payload.
///
/// ```
/// use frinny_agent::protocol::engine_io::{encode_payload, Packet, SEPARATOR};
/// assert_eq!(encode_payload(&[Packet::Ping("".into()), Packet::Noop]), format!("2{SEPARATOR}6"));
/// ```
pub const SEPARATOR: char = '\x1e';

/// The character that marks a base64-encoded binary message in a polling
/// payload (or in a text frame of a transport without binary support).
///
/// ```
/// use frinny_agent::protocol::engine_io::BINARY_PREFIX;
/// assert_eq!(BINARY_PREFIX, 'b');
/// ```
pub const BINARY_PREFIX: char = 'b';

/// Standard alphabet; writes padding, accepts input with or without it (as
/// Node's `Buffer.from(s, "base64")` does), refuses non-zero trailing bits.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The seven Engine.IO packet types, with their wire digits `0`..=`6`.
///
/// ```
/// use frinny_agent::protocol::engine_io::PacketType;
/// assert_eq!(PacketType::Message.as_char(), '4');
/// assert_eq!(PacketType::from_char('2'), Ok(PacketType::Ping));
/// assert!(PacketType::from_char('7').is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketType {
    /// `0`: the server's handshake.
    Open,
    /// `1`: the transport may be closed.
    Close,
    /// `2`: heartbeat request (from the server), or upgrade probe (from the client).
    Ping,
    /// `3`: heartbeat reply, or probe reply.
    Pong,
    /// `4`: application data.
    Message,
    /// `5`: completes a transport upgrade.
    Upgrade,
    /// `6`: no-op, used to end a pending poll during an upgrade.
    Noop,
}

impl PacketType {
    /// Every packet type, in wire order.
    ///
    /// ```
    /// use frinny_agent::protocol::engine_io::PacketType;
    /// assert_eq!(PacketType::ALL.len(), 7);
    /// assert_eq!(PacketType::ALL[6], PacketType::Noop);
    /// ```
    pub const ALL: [PacketType; 7] = [
        PacketType::Open,
        PacketType::Close,
        PacketType::Ping,
        PacketType::Pong,
        PacketType::Message,
        PacketType::Upgrade,
        PacketType::Noop,
    ];

    /// The ASCII digit that starts an encoded packet of this type.
    ///
    /// ```
    /// use frinny_agent::protocol::engine_io::PacketType;
    /// assert_eq!(PacketType::Open.as_char(), '0');
    /// assert_eq!(PacketType::Noop.as_char(), '6');
    /// ```
    pub const fn as_char(self) -> char {
        match self {
            PacketType::Open => '0',
            PacketType::Close => '1',
            PacketType::Ping => '2',
            PacketType::Pong => '3',
            PacketType::Message => '4',
            PacketType::Upgrade => '5',
            PacketType::Noop => '6',
        }
    }

    /// The packet type for a wire digit, or [`DecodeError::UnknownPacketType`].
    ///
    /// ```
    /// use frinny_agent::protocol::{engine_io::PacketType, DecodeError};
    /// assert_eq!(PacketType::from_char('5'), Ok(PacketType::Upgrade));
    /// assert_eq!(PacketType::from_char('x'), Err(DecodeError::UnknownPacketType('x')));
    /// ```
    pub const fn from_char(c: char) -> Result<Self, DecodeError> {
        match c {
            '0' => Ok(PacketType::Open),
            '1' => Ok(PacketType::Close),
            '2' => Ok(PacketType::Ping),
            '3' => Ok(PacketType::Pong),
            '4' => Ok(PacketType::Message),
            '5' => Ok(PacketType::Upgrade),
            '6' => Ok(PacketType::Noop),
            other => Err(DecodeError::UnknownPacketType(other)),
        }
    }
}

/// The payload of a message packet: text, or bytes.
///
/// Borrowed from the frame when decoding allows it (plain text, raw binary
/// frames), owned when it had to be transformed (base64).
///
/// ```
/// use frinny_agent::protocol::engine_io::Data;
/// let text = Data::Text("hi".into());
/// let bytes = Data::Binary(vec![1, 2, 3].into());
/// assert_ne!(text, bytes);
/// assert_eq!(bytes.len(), 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Data<'a> {
    /// A UTF-8 string message.
    Text(Cow<'a, str>),
    /// A binary message.
    Binary(Cow<'a, [u8]>),
}

impl Data<'_> {
    /// Length of the payload in bytes (UTF-8 bytes for text).
    ///
    /// ```
    /// use frinny_agent::protocol::engine_io::Data;
    /// assert_eq!(Data::Text("€".into()).len(), 3);
    /// ```
    pub fn len(&self) -> usize {
        match self {
            Data::Text(t) => t.len(),
            Data::Binary(b) => b.len(),
        }
    }

    /// Whether the payload has no bytes.
    ///
    /// ```
    /// use frinny_agent::protocol::engine_io::Data;
    /// assert!(Data::Binary(Vec::new().into()).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Detaches the payload from the frame it was decoded from.
    ///
    /// ```
    /// use frinny_agent::protocol::engine_io::Data;
    /// let owned: Data<'static> = Data::Text(String::from("x").as_str().into()).into_owned();
    /// assert_eq!(owned, Data::Text("x".into()));
    /// ```
    pub fn into_owned(self) -> Data<'static> {
        match self {
            Data::Text(t) => Data::Text(Cow::Owned(t.into_owned())),
            Data::Binary(b) => Data::Binary(Cow::Owned(b.into_owned())),
        }
    }
}

/// The JSON payload of the `open` packet.
///
/// Wire keys are camelCase. Decoding (through [`Handshake::decode`] or
/// [`Packet::decode_text`]) is strict: `sid` must be a non-empty string,
/// `upgrades` an array of strings, `pingInterval` and `pingTimeout`
/// non-negative integers that fit a `u64`; anything else is
/// [`DecodeError::InvalidHandshake`] naming the field. `maxPayload` may be
/// absent (servers older than engine.io 5 / python-engineio 4 do not send
/// it; `engine.io-client` then applies no limit) but, when present, must be
/// such an integer too. Unknown keys are ignored.
///
/// ```
/// use frinny_agent::protocol::engine_io::Handshake;
/// use frinny_agent::protocol::Limits;
///
/// let json = r#"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
/// let hs = Handshake::decode(json, &Limits::default())?;
/// assert_eq!(hs.sid, "lv_VI97HAXpY6yYWAAAC");
/// assert_eq!(hs.max_payload, Some(1_000_000));
/// assert_eq!(hs.to_json(), json);
/// # Ok::<(), frinny_agent::protocol::DecodeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "WireHandshake")]
pub struct Handshake {
    /// The session id, sent back as the `sid` query parameter.
    pub sid: String,
    /// Transports the connection may upgrade to (e.g. `["websocket"]`).
    pub upgrades: Vec<String>,
    /// Milliseconds between two server pings.
    pub ping_interval: u64,
    /// Milliseconds the peer waits for a pong (or, on the client, beyond
    /// `ping_interval`, for a ping) before it considers the link dead.
    pub ping_timeout: u64,
    /// Most bytes per polling payload the server accepts (`None` when the
    /// server did not say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_payload: Option<u64>,
}

const ERR_NOT_OBJECT: &str = "the handshake is not a JSON object with unique keys";
const ERR_SID: &str = "sid must be a non-empty string";
const ERR_UPGRADES: &str = "upgrades must be an array of strings";
const ERR_PING_INTERVAL: &str = "pingInterval must be a non-negative integer";
const ERR_PING_TIMEOUT: &str = "pingTimeout must be a non-negative integer";
const ERR_MAX_PAYLOAD: &str = "maxPayload must be a non-negative integer";

/// The handshake's fields as the server sent them. Each is read on its own,
/// so that a missing or ill-typed one is named in the error (serde's
/// "invalid type" message does not say which field it was).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireHandshake {
    #[serde(default)]
    sid: WireField<String>,
    #[serde(default)]
    upgrades: WireField<Vec<String>>,
    #[serde(default)]
    ping_interval: WireField<u64>,
    #[serde(default)]
    ping_timeout: WireField<u64>,
    #[serde(default)]
    max_payload: WireField<u64>,
}

/// One field of a [`WireHandshake`]: absent, of type `T`, or present but not
/// a `T` (`null`, another type, a number out of range).
#[derive(Default)]
enum WireField<T> {
    #[default]
    Missing,
    Valid(T),
    Invalid,
}

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for WireField<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Kept as text first, so that a value serde_json cannot read as a
        // `T` (`1e400` for a u64) makes the field invalid, not the handshake
        // unreadable.
        let raw = Box::<RawValue>::deserialize(d)?;
        Ok(serde_json::from_str(raw.get()).map_or(WireField::Invalid, WireField::Valid))
    }
}

impl<T> WireField<T> {
    fn required(self, err: &'static str) -> Result<T, DecodeError> {
        match self {
            WireField::Valid(v) => Ok(v),
            WireField::Missing | WireField::Invalid => Err(DecodeError::InvalidHandshake(err)),
        }
    }

    fn optional(self, err: &'static str) -> Result<Option<T>, DecodeError> {
        match self {
            WireField::Missing => Ok(None),
            WireField::Valid(v) => Ok(Some(v)),
            WireField::Invalid => Err(DecodeError::InvalidHandshake(err)),
        }
    }
}

impl TryFrom<WireHandshake> for Handshake {
    type Error = DecodeError;

    fn try_from(wire: WireHandshake) -> Result<Handshake, DecodeError> {
        let sid = wire.sid.required(ERR_SID)?;
        if sid.is_empty() {
            return Err(DecodeError::InvalidHandshake(ERR_SID));
        }
        Ok(Handshake {
            sid,
            upgrades: wire.upgrades.required(ERR_UPGRADES)?,
            ping_interval: wire.ping_interval.required(ERR_PING_INTERVAL)?,
            ping_timeout: wire.ping_timeout.required(ERR_PING_TIMEOUT)?,
            max_payload: wire.max_payload.optional(ERR_MAX_PAYLOAD)?,
        })
    }
}

impl Handshake {
    /// Decodes the JSON text of an `open` packet (without its `0`).
    ///
    /// Errors: [`DecodeError::TooLarge`] past [`Limits::max_frame_bytes`],
    /// [`DecodeError::TooDeep`] past [`Limits::max_depth`],
    /// [`DecodeError::InvalidJson`] for text that is not JSON, and
    /// [`DecodeError::InvalidHandshake`] for JSON of the wrong shape, naming
    /// the field at fault.
    ///
    /// ```
    /// use frinny_agent::protocol::{engine_io::Handshake, DecodeError, Limits};
    /// let err = Handshake::decode(r#"{"sid":"a","upgrades":[],"pingInterval":"25000","pingTimeout":5000}"#, &Limits::default());
    /// assert!(matches!(err, Err(DecodeError::InvalidHandshake(m)) if m.contains("pingInterval")));
    /// ```
    pub fn decode(json_text: &str, limits: &Limits) -> Result<Handshake, DecodeError> {
        check_len(json_text.len(), limits)?;
        // The scan bounds the depth, and tells an object from an array
        // (which serde's derived struct would also take, positionally).
        if scan::scan(json_text, limits.max_depth)? != scan::Shape::Object {
            return Err(DecodeError::InvalidHandshake(ERR_NOT_OBJECT));
        }
        match serde_json::from_str::<WireHandshake>(json_text) {
            Ok(wire) => Handshake::try_from(wire),
            // A key given twice.
            Err(e) if e.is_data() => Err(DecodeError::InvalidHandshake(ERR_NOT_OBJECT)),
            Err(e) => Err(DecodeError::InvalidJson(e.to_string())),
        }
    }

    /// Appends the handshake as compact JSON (keys in the order the Node
    /// server writes them: `sid`, `upgrades`, `pingInterval`, `pingTimeout`,
    /// `maxPayload`). Byte-for-byte what `serde_json::to_string` writes.
    ///
    /// ```
    /// use frinny_agent::protocol::engine_io::Handshake;
    /// let hs = Handshake { sid: "s".into(), upgrades: vec![], ping_interval: 1, ping_timeout: 2, max_payload: None };
    /// let mut out = String::from("0");
    /// hs.write_json(&mut out);
    /// assert_eq!(out, r#"0{"sid":"s","upgrades":[],"pingInterval":1,"pingTimeout":2}"#);
    /// ```
    pub fn write_json(&self, out: &mut String) {
        out.push_str("{\"sid\":");
        json::push_string(out, &self.sid);
        out.push_str(",\"upgrades\":[");
        for (i, upgrade) in self.upgrades.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json::push_string(out, upgrade);
        }
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            "],\"pingInterval\":{},\"pingTimeout\":{}",
            self.ping_interval, self.ping_timeout
        );
        if let Some(max) = self.max_payload {
            let _ = write!(out, ",\"maxPayload\":{max}");
        }
        out.push('}');
    }

    /// The handshake as compact JSON (see [`Handshake::write_json`]).
    ///
    /// ```
    /// use frinny_agent::protocol::engine_io::Handshake;
    /// let hs = Handshake { sid: "a\"b".into(), upgrades: vec!["websocket".into()], ping_interval: 25000, ping_timeout: 20000, max_payload: Some(1000000) };
    /// assert_eq!(hs.to_json(), r#"{"sid":"a\"b","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#);
    /// ```
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(96 + self.sid.len());
        self.write_json(&mut out);
        out
    }
}

/// One Engine.IO packet.
///
/// Text payloads borrow from the decoded frame where they can; use
/// [`Packet::into_owned`] to keep a packet after the frame is gone.
///
/// ```
/// use frinny_agent::protocol::engine_io::{Data, Frame, Packet};
/// use frinny_agent::protocol::Limits;
///
/// let limits = Limits::default();
/// assert_eq!(Packet::decode_text("2probe", &limits)?, Packet::Ping("probe".into()));
/// assert_eq!(Packet::decode_text("3", &limits)?, Packet::Pong("".into()));
/// assert_eq!(Packet::decode_binary(&[1, 2, 3], &limits)?, Packet::Message(Data::Binary((&[1u8, 2, 3][..]).into())));
/// assert_eq!(Packet::Upgrade.encode(), Frame::Text("5".into()));
/// # Ok::<(), frinny_agent::protocol::DecodeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Packet<'a> {
    /// `0`: the server opened the session.
    Open(Handshake),
    /// `1`: the transport may be closed.
    Close,
    /// `2`: ping, with its optional payload (empty for a heartbeat, `probe`
    /// for an upgrade probe).
    Ping(Cow<'a, str>),
    /// `3`: pong, with the payload of the ping it answers.
    Pong(Cow<'a, str>),
    /// `4`: a message.
    Message(Data<'a>),
    /// `5`: upgrade.
    Upgrade,
    /// `6`: noop.
    Noop,
}

/// An encoded packet, ready for one WebSocket frame.
///
/// ```
/// use frinny_agent::protocol::engine_io::{Data, Frame, Packet};
/// let frame = Packet::Message(Data::Binary(vec![1, 2].into())).encode();
/// assert_eq!(frame, Frame::Binary(vec![1, 2]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Frame {
    /// Send as a WebSocket text frame.
    Text(String),
    /// Send as a WebSocket binary frame.
    Binary(Vec<u8>),
}

fn check_len(len: usize, limits: &Limits) -> Result<(), DecodeError> {
    if len > limits.max_frame_bytes {
        Err(DecodeError::TooLarge {
            len,
            max: limits.max_frame_bytes,
        })
    } else {
        Ok(())
    }
}

/// Decodes one text-encoded packet whose length was already checked.
fn decode_segment<'a>(text: &'a str, limits: &Limits) -> Result<Packet<'a>, DecodeError> {
    let mut chars = text.chars();
    let first = chars.next().ok_or(DecodeError::Empty)?;
    let rest = chars.as_str();
    if first == BINARY_PREFIX {
        let bytes = BASE64
            .decode(rest)
            .map_err(|_| DecodeError::InvalidBase64)?;
        return Ok(Packet::Message(Data::Binary(Cow::Owned(bytes))));
    }
    Ok(match PacketType::from_char(first)? {
        PacketType::Open => Packet::Open(Handshake::decode(rest, limits)?),
        PacketType::Close => Packet::Close,
        PacketType::Ping => Packet::Ping(Cow::Borrowed(rest)),
        PacketType::Pong => Packet::Pong(Cow::Borrowed(rest)),
        PacketType::Message => Packet::Message(Data::Text(Cow::Borrowed(rest))),
        PacketType::Upgrade => Packet::Upgrade,
        PacketType::Noop => Packet::Noop,
    })
}

impl<'a> Packet<'a> {
    /// Decodes a WebSocket **text** frame: `<type digit>[<data>]`.
    ///
    /// Also accepts `b<base64>` (a binary message, as sent by servers to
    /// clients without binary support), like `engine.io-parser` does.
    ///
    /// Errors, checked in this order: [`DecodeError::TooLarge`],
    /// [`DecodeError::Empty`], [`DecodeError::UnknownPacketType`], then
    /// [`DecodeError::InvalidBase64`] or the handshake's errors (see
    /// [`Handshake::decode`]).
    ///
    /// ```
    /// use frinny_agent::protocol::engine_io::{Data, Packet};
    /// use frinny_agent::protocol::{DecodeError, Limits};
    /// let limits = Limits::default();
    /// assert_eq!(Packet::decode_text("4€", &limits)?, Packet::Message(Data::Text("€".into())));
    /// assert_eq!(Packet::decode_text("", &limits), Err(DecodeError::Empty));
    /// assert_eq!(Packet::decode_text("abc", &limits), Err(DecodeError::UnknownPacketType('a')));
    /// # Ok::<(), DecodeError>(())
    /// ```
    pub fn decode_text(text: &'a str, limits: &Limits) -> Result<Packet<'a>, DecodeError> {
        check_len(text.len(), limits)?;
        decode_segment(text, limits)
    }

    /// Decodes a text frame that arrived as raw bytes (e.g. from a native
    /// WebSocket library): checks the size, then that the bytes are UTF-8
    /// ([`DecodeError::InvalidUtf8`]), then as [`Packet::decode_text`].
    ///
    /// ```
    /// use frinny_agent::protocol::engine_io::Packet;
    /// use frinny_agent::protocol::{DecodeError, Limits};
    /// assert_eq!(Packet::decode_text_bytes(b"2probe", &Limits::default())?, Packet::Ping("probe".into()));
    /// assert_eq!(Packet::decode_text_bytes(b"4\xff", &Limits::default()), Err(DecodeError::InvalidUtf8));
    /// # Ok::<(), DecodeError>(())
    /// ```
    pub fn decode_text_bytes(bytes: &'a [u8], limits: &Limits) -> Result<Packet<'a>, DecodeError> {
        check_len(bytes.len(), limits)?;
        let text = std::str::from_utf8(bytes).map_err(|_| DecodeError::InvalidUtf8)?;
        decode_segment(text, limits)
    }

    /// Decodes a WebSocket **binary** frame. In protocol v4 it is always a
    /// message packet whose payload is the whole frame (no type byte); an
    /// empty frame is a message with zero bytes. The only error is
    /// [`DecodeError::TooLarge`].
    ///
    /// ```
    /// use frinny_agent::protocol::engine_io::{Data, Packet};
    /// use frinny_agent::protocol::Limits;
    /// let frame = [4u8, 0, 1];
    /// let packet = Packet::decode_binary(&frame, &Limits::default())?;
    /// assert_eq!(packet, Packet::Message(Data::Binary(frame[..].into())));
    /// # Ok::<(), frinny_agent::protocol::DecodeError>(())
    /// ```
    pub fn decode_binary(bytes: &'a [u8], limits: &Limits) -> Result<Packet<'a>, DecodeError> {
        check_len(bytes.len(), limits)?;
        Ok(Packet::Message(Data::Binary(Cow::Borrowed(bytes))))
    }

    /// This packet's type.
    ///
    /// ```
    /// use frinny_agent::protocol::engine_io::{Packet, PacketType};
    /// assert_eq!(Packet::Close.packet_type(), PacketType::Close);
    /// ```
    pub fn packet_type(&self) -> PacketType {
        match self {
            Packet::Open(_) => PacketType::Open,
            Packet::Close => PacketType::Close,
            Packet::Ping(_) => PacketType::Ping,
            Packet::Pong(_) => PacketType::Pong,
            Packet::Message(_) => PacketType::Message,
            Packet::Upgrade => PacketType::Upgrade,
            Packet::Noop => PacketType::Noop,
        }
    }

    /// Detaches the packet from the frame it was decoded from.
    ///
    /// ```
    /// use frinny_agent::protocol::engine_io::Packet;
    /// use frinny_agent::protocol::Limits;
    /// let frame = String::from("2probe");
    /// let packet: Packet<'static> = Packet::decode_text(&frame, &Limits::default())?.into_owned();
    /// drop(frame);
    /// assert_eq!(packet, Packet::Ping("probe".into()));
    /// # Ok::<(), frinny_agent::protocol::DecodeError>(())
    /// ```
    pub fn into_owned(self) -> Packet<'static> {
        match self {
            Packet::Open(hs) => Packet::Open(hs),
            Packet::Close => Packet::Close,
            Packet::Ping(p) => Packet::Ping(Cow::Owned(p.into_owned())),
            Packet::Pong(p) => Packet::Pong(Cow::Owned(p.into_owned())),
            Packet::Message(d) => Packet::Message(d.into_owned()),
            Packet::Upgrade => Packet::Upgrade,
            Packet::Noop => Packet::Noop,
        }
    }

    /// Encodes the packet for one WebSocket frame: a binary message becomes
    /// a binary frame of its bytes, every other packet a text frame.
    ///
    /// ```
    /// use frinny_agent::protocol::engine_io::{Data, Frame, Packet};
    /// assert_eq!(Packet::Ping("probe".into()).encode(), Frame::Text("2probe".into()));
    /// assert_eq!(Packet::Message(Data::Binary(vec![1, 2, 3].into())).encode(), Frame::Binary(vec![1, 2, 3]));
    /// ```
    pub fn encode(&self) -> Frame {
        match self {
            Packet::Message(Data::Binary(bytes)) => Frame::Binary(bytes.to_vec()),
            other => {
                let mut out = String::new();
                other.encode_text_into(&mut out);
                Frame::Text(out)
            }
        }
    }

    /// Appends the text encoding of the packet to `out` (the hot path: no
    /// allocation when `out` has room). A binary message is written in its
    /// long-polling form, `b<base64>`; for a WebSocket, send binary messages
    /// with [`Packet::encode`] instead.
    ///
    /// ```
    /// use frinny_agent::protocol::engine_io::{Data, Packet};
    /// let mut out = String::new();
    /// Packet::Message(Data::Text("hello".into())).encode_text_into(&mut out);
    /// Packet::Message(Data::Binary(vec![1, 2, 3, 4].into())).encode_text_into(&mut out);
    /// assert_eq!(out, "4hellobAQIDBA==");
    /// ```
    pub fn encode_text_into(&self, out: &mut String) {
        match self {
            Packet::Open(hs) => {
                out.push(PacketType::Open.as_char());
                hs.write_json(out);
            }
            Packet::Ping(data) => {
                out.push(PacketType::Ping.as_char());
                out.push_str(data);
            }
            Packet::Pong(data) => {
                out.push(PacketType::Pong.as_char());
                out.push_str(data);
            }
            Packet::Message(Data::Text(text)) => {
                out.push(PacketType::Message.as_char());
                out.push_str(text);
            }
            Packet::Message(Data::Binary(bytes)) => {
                out.push(BINARY_PREFIX);
                BASE64.encode_string(bytes, out);
            }
            Packet::Close | Packet::Upgrade | Packet::Noop => {
                out.push(self.packet_type().as_char())
            }
        }
    }
}

/// Decodes an HTTP long-polling payload (v4): packets separated by `\x1e`,
/// binary messages as `b<base64>`.
///
/// The whole payload is checked against [`Limits::max_frame_bytes`] first
/// ([`DecodeError::TooLarge`]); an empty payload, or an empty packet
/// between separators, is [`DecodeError::Empty`]; each packet is then
/// decoded as by [`Packet::decode_text`], and the first error wins.
///
/// ```
/// use frinny_agent::protocol::engine_io::{decode_payload, Data, Packet};
/// use frinny_agent::protocol::Limits;
/// let packets = decode_payload("4hello\x1ebAQIDBA==", &Limits::default())?;
/// assert_eq!(packets, vec![
///     Packet::Message(Data::Text("hello".into())),
///     Packet::Message(Data::Binary(vec![1, 2, 3, 4].into())),
/// ]);
/// # Ok::<(), frinny_agent::protocol::DecodeError>(())
/// ```
pub fn decode_payload<'a>(
    payload: &'a str,
    limits: &Limits,
) -> Result<Vec<Packet<'a>>, DecodeError> {
    check_len(payload.len(), limits)?;
    if payload.is_empty() {
        return Err(DecodeError::Empty);
    }
    payload
        .split(SEPARATOR)
        .map(|segment| decode_segment(segment, limits))
        .collect()
}

/// Decodes a long-polling payload that arrived as raw bytes (an HTTP body):
/// checks the size, then UTF-8 ([`DecodeError::InvalidUtf8`]), then as
/// [`decode_payload`].
///
/// ```
/// use frinny_agent::protocol::engine_io::{decode_payload_bytes, Packet};
/// use frinny_agent::protocol::{DecodeError, Limits};
/// assert_eq!(decode_payload_bytes(b"2\x1e6", &Limits::default())?, vec![Packet::Ping("".into()), Packet::Noop]);
/// assert_eq!(decode_payload_bytes(b"4\xc3", &Limits::default()), Err(DecodeError::InvalidUtf8));
/// # Ok::<(), DecodeError>(())
/// ```
pub fn decode_payload_bytes<'a>(
    payload: &'a [u8],
    limits: &Limits,
) -> Result<Vec<Packet<'a>>, DecodeError> {
    check_len(payload.len(), limits)?;
    let text = std::str::from_utf8(payload).map_err(|_| DecodeError::InvalidUtf8)?;
    decode_payload(text, limits)
}

/// Encodes packets as an HTTP long-polling payload (v4): each packet's text
/// encoding (see [`Packet::encode_text_into`]), joined by `\x1e`.
///
/// As the protocol itself assumes, text data must not contain `\x1e`: a
/// message or ping payload that does would be split in two when decoded.
/// An empty slice gives an empty string, which is not a valid payload.
///
/// ```
/// use frinny_agent::protocol::engine_io::{encode_payload, Data, Packet};
/// let payload = encode_payload(&[
///     Packet::Message(Data::Text("hello".into())),
///     Packet::Ping("".into()),
///     Packet::Message(Data::Text("world".into())),
/// ]);
/// assert_eq!(payload, "4hello\x1e2\x1e4world");
/// ```
pub fn encode_payload(packets: &[Packet<'_>]) -> String {
    let mut out = String::new();
    for (i, packet) in packets.iter().enumerate() {
        if i > 0 {
            out.push(SEPARATOR);
        }
        packet.encode_text_into(&mut out);
    }
    out
}
