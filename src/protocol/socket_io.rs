//! Socket.IO v5 packets: the equivalent of the `socket.io-parser` npm package
//! (v4.x), pure and without I/O.
//!
//! Each packet travels inside one Engine.IO `message` packet (this module sees
//! the message contents, without Engine.IO's leading `4`). A packet is one
//! text frame
//!
//! ```text
//! <type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]
//! ```
//!
//! (the namespace is omitted when it is `/`), followed, for BINARY_EVENT and
//! BINARY_ACK, by one binary frame per attachment. Binary data inside the
//! payload is replaced by `{"_placeholder":true,"num":N}` objects.
//!
//! Payloads stay raw JSON text (see the [module doc](super)): decoding checks
//! the shape with one pass of the [`scan`](super::scan) validator and hands
//! out slices of the input.
//!
//! ```
//! use frinny_agent::protocol::socket_io::{Decoder, Packet};
//! use frinny_agent::protocol::Limits;
//!
//! let packet = Packet::event("/admin", "query", r#"[{"content":"hi"}]"#, Some(7)).unwrap();
//! let mut text = String::new();
//! packet.encode_text_into(&mut text);
//! assert_eq!(text, r#"2/admin,7["query",{"content":"hi"}]"#);
//!
//! let mut decoder = Decoder::new(Limits::default());
//! let decoded = decoder.decode_text(&text).unwrap().unwrap();
//! assert_eq!(decoded, packet);
//! match decoded {
//!     Packet::Event { event, data, .. } => {
//!         assert_eq!(event, "query");
//!         assert_eq!(data.json, r#"["query",{"content":"hi"}]"#);
//!     }
//!     _ => unreachable!(),
//! }
//! ```
//!
//! Differences from `socket.io-parser`, all stricter: an event name must be
//! a string (the reference also accepts a number), EVENT, ACK and CONNECT_ERROR must carry a payload, ack ids are only
//! read on EVENT and ACK packets, and the placeholders of a binary packet must
//! be exactly `0..count`, each once.

use super::value::{self, Value};
use super::{json, scan, DecodeError, Limits};
use std::borrow::Cow;
use std::fmt::Write as _;

/// Event names Socket.IO reserves; an EVENT using one is refused
/// ([`DecodeError::ReservedEventName`]).
pub const RESERVED_EVENTS: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// The packet type digit that starts every Socket.IO packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketType {
    /// `0`: join a namespace (client), or accept the join (server).
    Connect = 0,
    /// `1`: leave a namespace.
    Disconnect = 1,
    /// `2`: an event, optionally asking for an ack.
    Event = 2,
    /// `3`: the answer to an event that asked for an ack.
    Ack = 3,
    /// `4`: the server refused the join.
    ConnectError = 4,
    /// `5`: an event followed by binary attachment frames.
    BinaryEvent = 5,
    /// `6`: an ack followed by binary attachment frames.
    BinaryAck = 6,
}

impl PacketType {
    /// The type for a wire digit (`'0'..='6'`).
    pub fn from_char(c: char) -> Option<Self> {
        Some(match c {
            '0' => PacketType::Connect,
            '1' => PacketType::Disconnect,
            '2' => PacketType::Event,
            '3' => PacketType::Ack,
            '4' => PacketType::ConnectError,
            '5' => PacketType::BinaryEvent,
            '6' => PacketType::BinaryAck,
            _ => return None,
        })
    }

    /// The wire digit of this type.
    pub fn as_char(self) -> char {
        match self {
            PacketType::Connect => '0',
            PacketType::Disconnect => '1',
            PacketType::Event => '2',
            PacketType::Ack => '3',
            PacketType::ConnectError => '4',
            PacketType::BinaryEvent => '5',
            PacketType::BinaryAck => '6',
        }
    }

    fn is_binary(self) -> bool {
        matches!(self, PacketType::BinaryEvent | PacketType::BinaryAck)
    }
}

/// The payload of an EVENT or ACK: a JSON array as raw text, plus the binary
/// attachments its placeholders refer to.
///
/// For an EVENT, `json` includes the event name as its first element. A
/// payload with attachments makes the packet a BINARY_EVENT / BINARY_ACK.
///
/// ```
/// use frinny_agent::protocol::{socket_io::Payload, value::Value, Limits};
/// let v = Value::Array(vec!["baz".into(), Value::Binary(vec![1, 2, 3, 4])]);
/// let payload = Payload::deconstruct(&v);
/// assert_eq!(payload.json, r#"["baz",{"_placeholder":true,"num":0}]"#);
/// assert_eq!(payload.attachments, vec![vec![1, 2, 3, 4]]);
/// assert_eq!(payload.reconstruct(&Limits::default()).unwrap(), v);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Payload<'a> {
    /// The JSON array text, as on the wire (without surrounding whitespace).
    pub json: Cow<'a, str>,
    /// Attachment frames, in placeholder order.
    pub attachments: Vec<Vec<u8>>,
}

impl<'a> From<&'a str> for Payload<'a> {
    /// A text-only payload borrowing `json`.
    fn from(json: &'a str) -> Self {
        Payload {
            json: Cow::Borrowed(json),
            attachments: Vec::new(),
        }
    }
}

impl From<String> for Payload<'static> {
    /// A text-only payload owning `json`.
    fn from(json: String) -> Self {
        Payload {
            json: Cow::Owned(json),
            attachments: Vec::new(),
        }
    }
}

impl<'a> Payload<'a> {
    /// Whether this payload has attachments (the packet is BINARY_*).
    pub fn is_binary(&self) -> bool {
        !self.attachments.is_empty()
    }

    /// The same payload, owning its text.
    pub fn into_owned(self) -> Payload<'static> {
        Payload {
            json: Cow::Owned(self.json.into_owned()),
            attachments: self.attachments,
        }
    }

    /// Replaces every [`Value::Binary`] in `value` by a placeholder and
    /// collects the bytes as attachments, in depth-first order
    /// (socket.io-parser's `deconstructPacket`). A value without binary gives
    /// a plain text payload.
    pub fn deconstruct(value: &Value) -> Payload<'static> {
        let mut json = String::new();
        let mut attachments = Vec::new();
        value::write_deconstructed(value, &mut json, &mut attachments);
        Payload {
            json: Cow::Owned(json),
            attachments,
        }
    }

    /// Parses the JSON into a [`Value`] and, if there are attachments, puts
    /// each one where its placeholder was (socket.io-parser's
    /// `reconstructPacket`). Fails with [`DecodeError::InvalidAttachments`] if
    /// a placeholder num is malformed, out of range or repeated, or an
    /// attachment has no placeholder. Without attachments the JSON is parsed
    /// as is (placeholder-like objects stay objects, as in the reference).
    pub fn reconstruct(&self, limits: &Limits) -> Result<Value, DecodeError> {
        build_value(
            &self.json,
            self.attachments.iter().cloned().map(Some).collect(),
            limits,
        )
    }

    /// [`reconstruct`](Self::reconstruct), moving the attachments instead of
    /// copying them.
    pub fn into_value(self, limits: &Limits) -> Result<Value, DecodeError> {
        build_value(
            &self.json,
            self.attachments.into_iter().map(Some).collect(),
            limits,
        )
    }
}

fn build_value(
    json: &str,
    mut slots: Vec<Option<Vec<u8>>>,
    limits: &Limits,
) -> Result<Value, DecodeError> {
    let mut v: Value = json::parse(json, limits.max_depth)?;
    if !slots.is_empty() {
        value::fill_placeholders(&mut v, &mut slots)?;
    }
    Ok(v)
}

/// One Socket.IO packet. Text fields borrow from the decoded frame when they
/// can; [`Packet::into_owned`] detaches them.
///
/// Namespaces start with `/` and contain no `,`; the constructors check it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet<'a> {
    /// CONNECT (`0`). From the client, `auth` is the optional auth object;
    /// from the server, it is `{"sid":"..."}`. Raw JSON object text.
    Connect {
        /// The namespace.
        nsp: Cow<'a, str>,
        /// Raw JSON object text, if any.
        auth: Option<Cow<'a, str>>,
    },
    /// DISCONNECT (`1`).
    Disconnect {
        /// The namespace.
        nsp: Cow<'a, str>,
    },
    /// EVENT (`2`), or BINARY_EVENT (`5`) when `data` has attachments.
    Event {
        /// The namespace.
        nsp: Cow<'a, str>,
        /// The ack id, if the sender wants an ack.
        id: Option<u64>,
        /// The decoded event name. Encoding writes `data.json` only, so this
        /// must equal its first element (the constructors ensure it).
        event: Cow<'a, str>,
        /// The whole array, event name first.
        data: Payload<'a>,
    },
    /// ACK (`3`), or BINARY_ACK (`6`) when `data` has attachments.
    Ack {
        /// The namespace.
        nsp: Cow<'a, str>,
        /// The id of the event being acknowledged.
        id: u64,
        /// The array of ack arguments.
        data: Payload<'a>,
    },
    /// CONNECT_ERROR (`4`).
    ConnectError {
        /// The namespace.
        nsp: Cow<'a, str>,
        /// Raw JSON: an object (`{"message":...}`) or a string.
        data: Cow<'a, str>,
    },
}

/// A packet ready to send: the text frame, then one binary frame per
/// attachment, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded<'p> {
    /// The first frame.
    pub text: String,
    /// The binary frames that follow it (empty for non-binary packets).
    pub attachments: &'p [Vec<u8>],
}

fn check_nsp(nsp: &str) -> Result<(), DecodeError> {
    if nsp.starts_with('/') && !nsp.contains(',') {
        Ok(())
    } else {
        Err(DecodeError::InvalidNamespace)
    }
}

fn check_event_name(name: &str) -> Result<(), DecodeError> {
    if RESERVED_EVENTS.contains(&name) {
        Err(DecodeError::ReservedEventName(name.to_owned()))
    } else {
        Ok(())
    }
}

fn invalid_json(e: serde_json::Error) -> DecodeError {
    DecodeError::InvalidJson(e.to_string())
}

fn trim_json_ws(s: &str) -> &str {
    s.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
}

/// Validates that `args_json` is a JSON array and returns the text between
/// its brackets, trimmed.
fn array_inner(args_json: &str) -> Result<&str, DecodeError> {
    match inspect(args_json, usize::MAX)? {
        Shape::Array(_) => trim_json_ws(args_json)
            .strip_prefix('[')
            .and_then(|s| s.strip_suffix(']'))
            .map(trim_json_ws)
            .ok_or(DecodeError::InvalidPayload(
                "arguments must be a JSON array",
            )),
        _ => Err(DecodeError::InvalidPayload(
            "arguments must be a JSON array",
        )),
    }
}

impl<'a> Packet<'a> {
    /// A CONNECT packet; `auth`, if given, must be a JSON object.
    pub fn connect(
        nsp: impl Into<Cow<'a, str>>,
        auth: Option<&'a str>,
    ) -> Result<Self, DecodeError> {
        let nsp = nsp.into();
        check_nsp(&nsp)?;
        let auth = match auth {
            None => None,
            Some(text) => match inspect(text, usize::MAX)? {
                Shape::Object => Some(Cow::Borrowed(trim_json_ws(text))),
                _ => {
                    return Err(DecodeError::InvalidPayload(
                        "CONNECT payload must be an object",
                    ))
                }
            },
        };
        Ok(Packet::Connect { nsp, auth })
    }

    /// A DISCONNECT packet.
    pub fn disconnect(nsp: impl Into<Cow<'a, str>>) -> Result<Self, DecodeError> {
        let nsp = nsp.into();
        check_nsp(&nsp)?;
        Ok(Packet::Disconnect { nsp })
    }

    /// An EVENT named `name` with the arguments of the JSON array
    /// `args_json` (`"[]"` for none); builds `["name",...args]`, escaping the
    /// name. Refuses reserved names, invalid namespaces and non-array
    /// arguments.
    ///
    /// ```
    /// use frinny_agent::protocol::socket_io::Packet;
    /// let p = Packet::event("/", "say \"hi\"", "[1, 2]", None).unwrap();
    /// assert_eq!(p.encode().text, r#"2["say \"hi\"",1, 2]"#);
    /// ```
    pub fn event(
        nsp: impl Into<Cow<'a, str>>,
        name: impl Into<Cow<'a, str>>,
        args_json: &str,
        id: Option<u64>,
    ) -> Result<Self, DecodeError> {
        let nsp = nsp.into();
        check_nsp(&nsp)?;
        let name = name.into();
        check_event_name(&name)?;
        let inner = array_inner(args_json)?;
        let mut json = String::with_capacity(name.len() + inner.len() + 5);
        json.push('[');
        json::push_string(&mut json, &name);
        if !inner.is_empty() {
            json.push(',');
            json.push_str(inner);
        }
        json.push(']');
        Ok(Packet::Event {
            nsp,
            id,
            event: name,
            data: Payload::from(json),
        })
    }

    /// An EVENT (BINARY_EVENT if `data` has attachments) from a whole payload
    /// whose array starts with the event name, e.g. from
    /// [`Payload::deconstruct`]. The name is checked and copied out.
    pub fn event_from_payload(
        nsp: impl Into<Cow<'a, str>>,
        data: impl Into<Payload<'a>>,
        id: Option<u64>,
    ) -> Result<Self, DecodeError> {
        let nsp = nsp.into();
        check_nsp(&nsp)?;
        let data = data.into();
        let event = event_name(inspect(&data.json, usize::MAX)?)?.into_owned();
        Ok(Packet::Event {
            nsp,
            id,
            event: Cow::Owned(event),
            data,
        })
    }

    /// An ACK (BINARY_ACK if `data` has attachments) for event `id`; `data`
    /// must be a JSON array.
    pub fn ack(
        nsp: impl Into<Cow<'a, str>>,
        id: u64,
        data: impl Into<Payload<'a>>,
    ) -> Result<Self, DecodeError> {
        let nsp = nsp.into();
        check_nsp(&nsp)?;
        let data = data.into();
        match inspect(&data.json, usize::MAX)? {
            Shape::Array(_) => Ok(Packet::Ack { nsp, id, data }),
            _ => Err(DecodeError::InvalidPayload("ACK payload must be an array")),
        }
    }

    /// The wire type: BINARY_EVENT / BINARY_ACK when there are attachments.
    pub fn packet_type(&self) -> PacketType {
        match self {
            Packet::Connect { .. } => PacketType::Connect,
            Packet::Disconnect { .. } => PacketType::Disconnect,
            Packet::Event { data, .. } if data.is_binary() => PacketType::BinaryEvent,
            Packet::Event { .. } => PacketType::Event,
            Packet::Ack { data, .. } if data.is_binary() => PacketType::BinaryAck,
            Packet::Ack { .. } => PacketType::Ack,
            Packet::ConnectError { .. } => PacketType::ConnectError,
        }
    }

    /// The namespace.
    pub fn nsp(&self) -> &str {
        match self {
            Packet::Connect { nsp, .. }
            | Packet::Disconnect { nsp }
            | Packet::Event { nsp, .. }
            | Packet::Ack { nsp, .. }
            | Packet::ConnectError { nsp, .. } => nsp,
        }
    }

    /// The ack id, if any.
    pub fn id(&self) -> Option<u64> {
        match self {
            Packet::Event { id, .. } => *id,
            Packet::Ack { id, .. } => Some(*id),
            _ => None,
        }
    }

    /// The EVENT / ACK payload, if any.
    pub fn payload(&self) -> Option<&Payload<'a>> {
        match self {
            Packet::Event { data, .. } | Packet::Ack { data, .. } => Some(data),
            _ => None,
        }
    }

    fn payload_mut(&mut self) -> Option<&mut Payload<'a>> {
        match self {
            Packet::Event { data, .. } | Packet::Ack { data, .. } => Some(data),
            _ => None,
        }
    }

    /// The attachments (empty unless BINARY_*).
    pub fn attachments(&self) -> &[Vec<u8>] {
        self.payload().map_or(&[], |p| p.attachments.as_slice())
    }

    /// The same packet, owning all its text.
    pub fn into_owned(self) -> Packet<'static> {
        fn own(c: Cow<'_, str>) -> Cow<'static, str> {
            Cow::Owned(c.into_owned())
        }
        match self {
            Packet::Connect { nsp, auth } => Packet::Connect {
                nsp: own(nsp),
                auth: auth.map(own),
            },
            Packet::Disconnect { nsp } => Packet::Disconnect { nsp: own(nsp) },
            Packet::Event {
                nsp,
                id,
                event,
                data,
            } => Packet::Event {
                nsp: own(nsp),
                id,
                event: own(event),
                data: data.into_owned(),
            },
            Packet::Ack { nsp, id, data } => Packet::Ack {
                nsp: own(nsp),
                id,
                data: data.into_owned(),
            },
            Packet::ConnectError { nsp, data } => Packet::ConnectError {
                nsp: own(nsp),
                data: own(data),
            },
        }
    }

    /// The frames to send: the text frame, then the attachments.
    pub fn encode(&self) -> Encoded<'_> {
        let mut text = String::new();
        self.encode_text_into(&mut text);
        Encoded {
            text,
            attachments: self.attachments(),
        }
    }

    /// Appends the text frame to `out` (the hot path: reuse one buffer).
    /// Binary attachments, if any, are sent after it as they are.
    pub fn encode_text_into(&self, out: &mut String) {
        let (nsp, id, json) = match self {
            Packet::Connect { nsp, auth } => (nsp, None, auth.as_deref()),
            Packet::Disconnect { nsp } => (nsp, None, None),
            Packet::Event { nsp, id, data, .. } => (nsp, *id, Some(&*data.json)),
            Packet::Ack { nsp, id, data } => (nsp, Some(*id), Some(&*data.json)),
            Packet::ConnectError { nsp, data } => (nsp, None, Some(&**data)),
        };
        out.reserve(nsp.len() + json.map_or(0, str::len) + 24);
        out.push(self.packet_type().as_char());
        let count = self.attachments().len();
        if count > 0 {
            let _ = write!(out, "{count}-");
        }
        if !nsp.is_empty() && nsp != "/" {
            out.push_str(nsp);
            out.push(',');
        }
        if let Some(id) = id {
            let _ = write!(out, "{id}");
        }
        if let Some(json) = json {
            out.push_str(json);
        }
    }
}

/// What the top-level JSON value is, found by the one-pass
/// [`scan`](super::scan) that validates the whole text without building it;
/// the event name borrows from the text unless it has escapes.
enum Shape<'a> {
    /// An array and its first element (`None` when empty).
    Array(Option<Head<'a>>),
    Object,
    String,
    Other,
}

/// The first element of an array.
enum Head<'a> {
    Name(Cow<'a, str>),
    NotString,
}

fn inspect(text: &str, max_depth: usize) -> Result<Shape<'_>, DecodeError> {
    Ok(match scan::scan(text, max_depth)? {
        scan::Shape::NamedArray { start, end } => {
            let raw = text.get(start..end).unwrap_or_default();
            let name = if raw.contains('\\') {
                // Rare: decode the escapes (and refuse lone surrogates).
                let quoted = text
                    .get(start.saturating_sub(1)..end + 1)
                    .unwrap_or_default();
                Cow::Owned(
                    json::unquote(quoted)
                        .map_err(invalid_json)?
                        .unwrap_or_default(),
                )
            } else {
                Cow::Borrowed(raw)
            };
            Shape::Array(Some(Head::Name(name)))
        }
        scan::Shape::EmptyArray => Shape::Array(None),
        scan::Shape::Array => Shape::Array(Some(Head::NotString)),
        scan::Shape::Object => Shape::Object,
        scan::Shape::String => Shape::String,
        scan::Shape::Other => Shape::Other,
    })
}

fn event_name(shape: Shape<'_>) -> Result<Cow<'_, str>, DecodeError> {
    match shape {
        Shape::Array(Some(Head::Name(name))) => {
            check_event_name(&name)?;
            Ok(name)
        }
        Shape::Array(Some(Head::NotString)) => {
            Err(DecodeError::InvalidPayload("event name must be a string"))
        }
        Shape::Array(None) => Err(DecodeError::InvalidPayload(
            "EVENT payload must not be empty",
        )),
        _ => Err(DecodeError::InvalidPayload(
            "EVENT payload must be an array",
        )),
    }
}

/// Splits the ack id digits off the front of `rest`.
fn parse_id(rest: &str) -> Result<(Option<u64>, &str), DecodeError> {
    let end = rest
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(rest.len());
    match (rest.get(..end), rest.get(end..)) {
        (Some(""), _) => Ok((None, rest)),
        (Some(digits), Some(after)) => {
            let id = digits
                .parse::<u64>()
                .map_err(|_| DecodeError::InvalidAckId)?;
            Ok((Some(id), after))
        }
        _ => Err(DecodeError::InvalidAckId),
    }
}

/// Decodes one text frame into a packet and the number of attachment frames
/// that must follow it.
fn parse_text<'a>(text: &'a str, limits: &Limits) -> Result<(Packet<'a>, usize), DecodeError> {
    if text.len() > limits.max_frame_bytes {
        return Err(DecodeError::TooLarge {
            len: text.len(),
            max: limits.max_frame_bytes,
        });
    }
    let mut chars = text.chars();
    let first = chars.next().ok_or(DecodeError::Empty)?;
    let ty = PacketType::from_char(first).ok_or(DecodeError::UnknownPacketType(first))?;
    let mut rest = chars.as_str();

    let mut count = 0;
    if ty.is_binary() {
        let (digits, after) = rest.split_once('-').ok_or(DecodeError::InvalidAttachments(
            "attachment count not followed by '-'",
        ))?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DecodeError::InvalidAttachments(
                "attachment count is not a number",
            ));
        }
        let max = limits.max_attachments;
        count = digits
            .parse::<usize>()
            .map_err(|_| DecodeError::TooManyAttachments {
                count: usize::MAX,
                max,
            })?;
        if count > max {
            return Err(DecodeError::TooManyAttachments { count, max });
        }
        rest = after;
    }

    let (nsp, rest) = if rest.starts_with('/') {
        // As socket.io-parser: the namespace runs to the comma, or to the end
        // of a packet that carries nothing else (`41/admin`).
        rest.split_once(',').unwrap_or((rest, ""))
    } else {
        ("/", rest)
    };
    let nsp = Cow::Borrowed(nsp);

    let packet = match ty {
        PacketType::Connect => {
            let auth = if rest.is_empty() {
                None
            } else {
                match inspect(rest, limits.max_depth)? {
                    Shape::Object => Some(Cow::Borrowed(trim_json_ws(rest))),
                    _ => {
                        return Err(DecodeError::InvalidPayload(
                            "CONNECT payload must be an object",
                        ))
                    }
                }
            };
            Packet::Connect { nsp, auth }
        }
        PacketType::Disconnect => {
            if !rest.is_empty() {
                return Err(DecodeError::InvalidPayload("DISCONNECT carries no payload"));
            }
            Packet::Disconnect { nsp }
        }
        PacketType::ConnectError => {
            if rest.is_empty() {
                return Err(DecodeError::InvalidPayload("CONNECT_ERROR needs a payload"));
            }
            match inspect(rest, limits.max_depth)? {
                Shape::Object | Shape::String => Packet::ConnectError {
                    nsp,
                    data: Cow::Borrowed(trim_json_ws(rest)),
                },
                _ => {
                    return Err(DecodeError::InvalidPayload(
                        "CONNECT_ERROR payload must be an object or a string",
                    ))
                }
            }
        }
        PacketType::Event | PacketType::BinaryEvent => {
            let (id, rest) = parse_id(rest)?;
            if rest.is_empty() {
                return Err(DecodeError::InvalidPayload("EVENT needs a payload"));
            }
            let event = event_name(inspect(rest, limits.max_depth)?)?;
            Packet::Event {
                nsp,
                id,
                event,
                data: Payload::from(trim_json_ws(rest)),
            }
        }
        PacketType::Ack | PacketType::BinaryAck => {
            let (id, rest) = parse_id(rest)?;
            let id = id.ok_or(DecodeError::InvalidAckId)?;
            if rest.is_empty() {
                return Err(DecodeError::InvalidPayload("ACK needs a payload"));
            }
            match inspect(rest, limits.max_depth)? {
                Shape::Array(_) => Packet::Ack {
                    nsp,
                    id,
                    data: Payload::from(trim_json_ws(rest)),
                },
                _ => return Err(DecodeError::InvalidPayload("ACK payload must be an array")),
            }
        }
    };

    if ty.is_binary() {
        // Rare path: build the tree once to check the placeholders now,
        // before any attachment frame is buffered.
        let json = packet.payload().map_or("", |p| &*p.json);
        let tree: Value = json::parse(json, limits.max_depth)?;
        value::check_placeholders(&tree, count)?;
    }
    Ok((packet, count))
}

/// A binary packet waiting for its attachment frames.
#[derive(Debug, Clone)]
struct Pending {
    packet: Packet<'static>,
    expected: usize,
}

/// Turns a stream of Engine.IO message contents (text and binary frames)
/// into Socket.IO packets.
///
/// Stateful only for binary packets: after a BINARY_EVENT / BINARY_ACK text
/// frame it holds the packet until its attachment frames have arrived. After
/// any error it is reset and ready for the next packet.
///
/// ```
/// use frinny_agent::protocol::socket_io::{Decoder, Packet};
/// use frinny_agent::protocol::{DecodeError, Limits};
///
/// let mut d = Decoder::new(Limits::default());
/// assert_eq!(d.decode_text(r#"51-["baz",{"_placeholder":true,"num":0}]"#), Ok(None));
/// let p = d.decode_binary(&[1, 2, 3, 4]).unwrap().unwrap();
/// assert_eq!(p.attachments(), &[vec![1, 2, 3, 4]]);
/// assert_eq!(d.decode_binary(&[5]), Err(DecodeError::UnexpectedBinary));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Decoder {
    limits: Limits,
    pending: Option<Pending>,
}

impl Decoder {
    /// A decoder enforcing `limits`.
    pub fn new(limits: Limits) -> Self {
        Decoder {
            limits,
            pending: None,
        }
    }

    /// The limits this decoder enforces.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// `(expected, received)` attachment counts while a binary packet waits.
    pub fn pending_attachments(&self) -> Option<(usize, usize)> {
        self.pending
            .as_ref()
            .map(|p| (p.expected, p.packet.attachments().len()))
    }

    /// Drops any half-received binary packet (e.g. when the transport
    /// closes), like socket.io-parser's `destroy()`.
    pub fn reset(&mut self) {
        self.pending = None;
    }

    /// Decodes a text frame. Returns `Ok(None)` when it starts a binary
    /// packet whose attachments must follow (the packet is then held, owned,
    /// until [`decode_binary`](Self::decode_binary) completes it).
    ///
    /// A text frame while attachments are still awaited fails with
    /// [`DecodeError::MissingAttachments`]; the held packet and this frame
    /// are dropped and the decoder is reset.
    pub fn decode_text<'a>(&mut self, text: &'a str) -> Result<Option<Packet<'a>>, DecodeError> {
        if let Some(p) = self.pending.take() {
            return Err(DecodeError::MissingAttachments {
                expected: p.expected,
                received: p.packet.attachments().len(),
            });
        }
        let (packet, count) = parse_text(text, &self.limits)?;
        if count == 0 {
            return Ok(Some(packet));
        }
        self.pending = Some(Pending {
            packet: packet.into_owned(),
            expected: count,
        });
        Ok(None)
    }

    /// [`decode_text`](Self::decode_text) for text that arrived as bytes;
    /// fails with [`DecodeError::InvalidUtf8`] if they are not UTF-8 (the
    /// size limit is checked first).
    pub fn decode_text_bytes<'a>(
        &mut self,
        bytes: &'a [u8],
    ) -> Result<Option<Packet<'a>>, DecodeError> {
        if bytes.len() > self.limits.max_frame_bytes {
            self.pending = None;
            return Err(DecodeError::TooLarge {
                len: bytes.len(),
                max: self.limits.max_frame_bytes,
            });
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => self.decode_text(text),
            Err(_) => {
                self.pending = None;
                Err(DecodeError::InvalidUtf8)
            }
        }
    }

    /// Decodes a binary frame: the next attachment of the held packet.
    /// Returns the packet once its last attachment arrived, `Ok(None)` before.
    /// Fails with [`DecodeError::UnexpectedBinary`] if no packet is waiting.
    pub fn decode_binary(&mut self, bytes: &[u8]) -> Result<Option<Packet<'static>>, DecodeError> {
        if bytes.len() > self.limits.max_frame_bytes {
            self.pending = None;
            return Err(DecodeError::TooLarge {
                len: bytes.len(),
                max: self.limits.max_frame_bytes,
            });
        }
        self.push_attachment(bytes.to_vec())
    }

    /// [`decode_binary`](Self::decode_binary) taking ownership of the frame
    /// (no copy).
    pub fn decode_binary_vec(
        &mut self,
        bytes: Vec<u8>,
    ) -> Result<Option<Packet<'static>>, DecodeError> {
        if bytes.len() > self.limits.max_frame_bytes {
            self.pending = None;
            return Err(DecodeError::TooLarge {
                len: bytes.len(),
                max: self.limits.max_frame_bytes,
            });
        }
        self.push_attachment(bytes)
    }

    fn push_attachment(&mut self, bytes: Vec<u8>) -> Result<Option<Packet<'static>>, DecodeError> {
        let mut pending = self.pending.take().ok_or(DecodeError::UnexpectedBinary)?;
        let payload = pending
            .packet
            .payload_mut()
            .ok_or(DecodeError::UnexpectedBinary)?;
        payload.attachments.push(bytes);
        if payload.attachments.len() >= pending.expected {
            return Ok(Some(pending.packet));
        }
        self.pending = Some(pending);
        Ok(None)
    }
}
