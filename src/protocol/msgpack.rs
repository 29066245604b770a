//! Socket.IO packets in MessagePack: the format of the npm
//! `socket.io-msgpack-parser` 3.x (and its encoder `notepack.io` 2.x), pure
//! and without I/O.
//!
//! Each Socket.IO packet is one MessagePack map in one binary frame (the
//! contents of one Engine.IO `message`):
//!
//! ```text
//! {"type": 0..=4, "data": <payload>, "nsp": "/admin", "id": 7}
//! ```
//!
//! `data` is absent when there is none and `id` when no ack is asked; other
//! keys (socket.io-client adds `options`) are ignored. There are no
//! BINARY_EVENT / BINARY_ACK types and no attachment frames: binary values
//! sit inside `data` as MessagePack `bin`.
//!
//! # One packet model for both parsers
//!
//! [`decode`] returns the same [`Packet`] as the text
//! [`socket_io::Decoder`](super::socket_io::Decoder), so the rest of the
//! client does not know which parser the link speaks: `data` becomes JSON
//! text, and every binary value becomes a Socket.IO placeholder
//! `{"_placeholder":true,"num":i}` with its bytes in
//! [`Payload::attachments`] at index `i` (depth first, as socket.io-parser's
//! `deconstructPacket` numbers them). [`encode`] does the reverse: it puts
//! each attachment back where its placeholder is, as `bin`.
//!
//! ```
//! use frinny_agent::protocol::msgpack;
//! use frinny_agent::protocol::socket_io::{Packet, Payload};
//! use frinny_agent::protocol::Limits;
//!
//! let limits = Limits::default();
//! let payload = Payload {
//!     json: r#"["upload",{"name":"a.png","bytes":{"_placeholder":true,"num":0}}]"#.into(),
//!     attachments: vec![vec![0x89, 0x50]],
//! };
//! let packet = Packet::event_from_payload("/", payload, Some(3)).unwrap();
//! let bytes = msgpack::encode(&packet, &limits).unwrap();
//! assert_eq!(msgpack::decode(&bytes, &limits).unwrap(), packet);
//! ```
//!
//! # MessagePack without a JSON form
//!
//! The decoded payload must read the same as if the server had used the
//! default parser, which sends `JSON.stringify` of the same value. So values
//! JSON cannot hold are converted the way `JSON.stringify` converts what
//! notepack decodes them to, and the rest is refused:
//!
//! | MessagePack | notepack gives | decoded as |
//! | --- | --- | --- |
//! | `bin`; `ext 8/16/32` of type 0 | `Buffer`; `ArrayBuffer` | placeholder + attachment |
//! | `fixext 1` of type 0 | `undefined` | `null` in an array, entry left out of a map, no `data` / `id` at the top |
//! | `fixext 8` of type 0 | `Date` | its ISO 8601 string (`"2024-01-02T03:04:05.678Z"`), `null` if out of `Date`'s range |
//! | `float 32/64` NaN or ±infinity | `NaN`, `Infinity` | `null` |
//! | `float` with an integral value in -2<sup>63</sup>..2<sup>64</sup> | a number | an integer (`3`, not `3.0`) |
//! | `uint 64` above 2<sup>53</sup> | a rounded number | the exact integer (`JSON.parse` rounds it the same way) |
//! | integer map key | a property name | its decimal string |
//! | any other `ext`, or a map key of another type | `[type, Buffer]`, a property name | [`DecodeError::UnsupportedMsgpack`] |
//! | `str` that is not UTF-8 | U+FFFD replacements | [`DecodeError::InvalidUtf8`] |
//!
//! # Refused frames
//!
//! Every refusal is a [`DecodeError`]; nothing here panics:
//!
//! - bigger than [`Limits::max_frame_bytes`]: [`DecodeError::TooLarge`];
//! - truncated, the reserved marker `0xc1`, bytes after the map:
//!   [`DecodeError::InvalidMsgpack`];
//! - not a map, `type` missing or not an integer 0 to 4:
//!   [`DecodeError::InvalidPacket`];
//! - `nsp` missing, not a string, not starting with `/` or holding a `,`
//!   (which the text format could not carry): [`DecodeError::InvalidNamespace`];
//! - `id` not a non-negative integer, or missing on an ACK:
//!   [`DecodeError::InvalidAckId`];
//! - `data` of the wrong shape for the type (CONNECT: absent or a map;
//!   DISCONNECT: absent; EVENT: an array led by a string; ACK: an array;
//!   CONNECT_ERROR: a map or a string), or binary outside EVENT and ACK:
//!   [`DecodeError::InvalidPayload`]; a reserved event name:
//!   [`DecodeError::ReservedEventName`];
//! - nesting deeper than [`Limits::max_depth`] (counted as in the JSON text,
//!   where a placeholder is one more level): [`DecodeError::TooDeep`];
//! - more binary values than [`Limits::max_attachments`]:
//!   [`DecodeError::TooManyAttachments`];
//! - binary values beside a map of the payload's own with
//!   `"_placeholder": true`, which the placeholders would be mistaken for:
//!   [`DecodeError::InvalidAttachments`] (without binary it is plain data,
//!   as in the text codec).
//!
//! Like the text decoder it is stricter than the reference: it refuses a
//! numeric event name and an ACK without id, where socket.io-msgpack-parser
//! lets them through.
//!
//! # Encoding
//!
//! [`encode`] writes the keys in the order `type`, `data`, `nsp`, `id` and
//! numbers in notepack's forms (the smallest integer form; a non-integral
//! number as `float 64`), so a packet encodes to the same bytes as
//! `notepack.encode({type, data, nsp, id})` with Node `Buffer`s for binary.
//!
//! # Floats
//!
//! Encoding reads the payload's numbers with serde_json, whose default float
//! parser is exact when the decimal digits fit in 2<sup>53</sup> and the
//! exponent is small (`1.5`, `0.1`, `8388607.99609375`) but may land one ulp
//! off beyond (`90080.54052734375` reads as `90080.54052734376`; results of
//! float arithmetic often print with 17 digits), where `JSON.parse` is exact.
//! The text codec's binary path ([`Payload::reconstruct`]) reads floats the
//! same way. serde_json's `float_roundtrip` feature makes both exact, for
//! about 9 KiB more gzipped wasm. Decoding is exact: a float is printed in
//! its shortest form, which `JSON.parse` reads back to the same number.

use super::socket_io::{Packet, Payload, RESERVED_EVENTS};
use super::value::Value;
use super::{json, DecodeError, Limits};
use rmp::Marker;
use std::borrow::Cow;
use std::fmt::Write as _;

/// The deepest the decoder recurses whatever [`Limits::max_depth`] says:
/// serde_json's own recursion limit, which already binds the text parser and
/// [`encode`], so both parsers refuse the same payloads.
const MAX_NESTING: usize = 128;

/// notepack's extension type for `ArrayBuffer`, `undefined` and `Date`.
const NOTEPACK_EXT: i8 = 0;

/// `JSON.stringify` writes `null` for a `Date` beyond ±8.64e15 ms.
const MAX_DATE_MS: i64 = 8_640_000_000_000_000;

/// Packet type numbers of the msgpack parser: those of socket.io-parser
/// without the BINARY_* types.
const CONNECT: u64 = 0;
const DISCONNECT: u64 = 1;
const EVENT: u64 = 2;
const ACK: u64 = 3;
const CONNECT_ERROR: u64 = 4;

/// Decodes one binary frame into a packet, its payload as JSON text with
/// placeholders and its binary values as attachments (see the
/// [module doc](self) for the mapping and for every error).
///
/// ```
/// use frinny_agent::protocol::{msgpack, socket_io::Packet, DecodeError, Limits};
/// // notepack.encode({type: 2, data: ["hi", Buffer.from([1, 2])], nsp: "/"})
/// let bytes = b"\x83\xa4type\x02\xa4data\x92\xa2hi\xc4\x02\x01\x02\xa3nsp\xa1/";
/// let packet = msgpack::decode(bytes, &Limits::default())?;
/// let Packet::Event { event, data, .. } = &packet else { unreachable!() };
/// assert_eq!(event, "hi");
/// assert_eq!(data.json, r#"["hi",{"_placeholder":true,"num":0}]"#);
/// assert_eq!(data.attachments, [vec![1, 2]]);
///
/// assert_eq!(msgpack::decode(b"\x92\x01\x02", &Limits::default()),
///            Err(DecodeError::InvalidPacket("not a map")));
/// # Ok::<(), DecodeError>(())
/// ```
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Packet<'static>, DecodeError> {
    if bytes.len() > limits.max_frame_bytes {
        return Err(DecodeError::TooLarge {
            len: bytes.len(),
            max: limits.max_frame_bytes,
        });
    }
    let mut transcoder = Transcoder {
        rd: Reader { rest: bytes },
        max_depth: limits.max_depth.min(MAX_NESTING),
        reported_depth: limits.max_depth,
        max_attachments: limits.max_attachments,
    };
    let fields = transcoder.packet_fields()?;
    if !transcoder.rd.rest.is_empty() {
        return Err(DecodeError::InvalidMsgpack("bytes after the packet"));
    }
    fields.into_packet()
}

/// Encodes `packet` as one MessagePack map, binary values inline (see the
/// [module doc](self)).
///
/// Fails if the packet's JSON text does not parse, nests deeper than
/// [`Limits::max_depth`], or its placeholders do not match its attachments
/// (each attachment exactly once), so a packet that came out of a decoder
/// always encodes.
///
/// ```
/// use frinny_agent::protocol::{msgpack, socket_io::Packet, Limits};
/// let packet = Packet::ack("/", 7, r#"[{"ok":true}]"#).unwrap();
/// assert_eq!(
///     msgpack::encode(&packet, &Limits::default()).unwrap(),
///     b"\x84\xa4type\x03\xa4data\x91\x81\xa2ok\xc3\xa3nsp\xa1/\xa2id\x07"
/// );
/// ```
pub fn encode(packet: &Packet<'_>, limits: &Limits) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    encode_into(packet, limits, &mut out)?;
    Ok(out)
}

/// [`encode`], appending to `out` (reuse one buffer on a hot path). On error
/// `out` is left as it was.
pub fn encode_into(
    packet: &Packet<'_>,
    limits: &Limits,
    out: &mut Vec<u8>,
) -> Result<(), DecodeError> {
    let (ty, data) = match packet {
        Packet::Connect { auth, .. } => (CONNECT, parse_text(auth.as_deref(), limits)?),
        Packet::Disconnect { .. } => (DISCONNECT, None),
        Packet::Event { data, .. } => (EVENT, Some(data.reconstruct(limits)?)),
        Packet::Ack { data, .. } => (ACK, Some(data.reconstruct(limits)?)),
        Packet::ConnectError { data, .. } => (CONNECT_ERROR, parse_text(Some(data), limits)?),
    };
    let id = packet.id();
    let start = out.len();
    let fields = 2 + u32::from(data.is_some()) + u32::from(id.is_some());
    let written = write_packet(out, fields, ty, data.as_ref(), packet.nsp(), id);
    if written.is_err() {
        out.truncate(start);
    }
    written
}

fn parse_text(text: Option<&str>, limits: &Limits) -> Result<Option<Value>, DecodeError> {
    text.map(|t| json::parse::<Value>(t, limits.max_depth))
        .transpose()
}

fn write_packet(
    out: &mut Vec<u8>,
    fields: u32,
    ty: u64,
    data: Option<&Value>,
    nsp: &str,
    id: Option<u64>,
) -> Result<(), DecodeError> {
    // Writing to a Vec cannot fail; the only errors are lengths that do not
    // fit MessagePack's 32-bit counts.
    let _ = rmp::encode::write_map_len(out, fields);
    write_str(out, "type")?;
    let _ = rmp::encode::write_uint(out, ty);
    if let Some(data) = data {
        write_str(out, "data")?;
        write_value(out, data)?;
    }
    write_str(out, "nsp")?;
    write_str(out, nsp)?;
    if let Some(id) = id {
        write_str(out, "id")?;
        let _ = rmp::encode::write_uint(out, id);
    }
    Ok(())
}

fn too_large(len: usize) -> DecodeError {
    DecodeError::TooLarge {
        len,
        max: u32::MAX as usize,
    }
}

fn len32(len: usize) -> Result<u32, DecodeError> {
    u32::try_from(len).map_err(|_| too_large(len))
}

fn write_str(out: &mut Vec<u8>, s: &str) -> Result<(), DecodeError> {
    len32(s.len())?;
    let _ = rmp::encode::write_str(out, s);
    Ok(())
}

/// Writes `v` as notepack would write the JS value `JSON.parse` gives for it.
fn write_value(out: &mut Vec<u8>, v: &Value) -> Result<(), DecodeError> {
    match v {
        Value::Null => {
            let _ = rmp::encode::write_nil(out);
        }
        Value::Bool(b) => {
            let _ = rmp::encode::write_bool(out, *b);
        }
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_str(out, s)?,
        Value::Binary(bytes) => {
            len32(bytes.len())?;
            let _ = rmp::encode::write_bin(out, bytes);
        }
        Value::Array(items) => {
            let _ = rmp::encode::write_array_len(out, len32(items.len())?);
            for item in items {
                write_value(out, item)?;
            }
        }
        Value::Object(fields) => {
            let _ = rmp::encode::write_map_len(out, len32(fields.len())?);
            for (key, item) in fields {
                write_str(out, key)?;
                write_value(out, item)?;
            }
        }
    }
    Ok(())
}

/// JavaScript has one number type, and notepack picks the form from the
/// value: an integral value takes the smallest integer form, anything else
/// `float 64`. So `3.0` and `3` are the same bytes, as in Node.
fn write_number(out: &mut Vec<u8>, n: &serde_json::Number) {
    if let Some(u) = n.as_u64() {
        let _ = rmp::encode::write_uint(out, u);
    } else if let Some(i) = n.as_i64() {
        let _ = rmp::encode::write_sint(out, i);
    } else {
        let f = n.as_f64().unwrap_or(f64::NAN);
        match integral(f) {
            Some(Integral::Unsigned(u)) => {
                let _ = rmp::encode::write_uint(out, u);
            }
            Some(Integral::Negative(i)) => {
                let _ = rmp::encode::write_sint(out, i);
            }
            None => {
                let _ = rmp::encode::write_f64(out, f);
            }
        }
    }
}

/// A float with an integral value that fits an integer form.
enum Integral {
    Unsigned(u64),
    Negative(i64),
}

/// 2^63 and 2^64 as floats: the integral values in `-2^63..2^64` convert
/// exactly to `i64` / `u64` (and notepack writes them correctly; beyond, it
/// writes a wrong integer, where we keep the float).
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;

fn integral(f: f64) -> Option<Integral> {
    if f.fract() != 0.0 || !(-TWO_POW_63..TWO_POW_64).contains(&f) {
        None
    } else if f >= 0.0 {
        // -0.0 lands here too, and is 0 (as notepack writes it).
        Some(Integral::Unsigned(f as u64))
    } else {
        Some(Integral::Negative(f as i64))
    }
}

/// The bytes not yet read; every read checks the length first.
struct Reader<'a> {
    rest: &'a [u8],
}

const TRUNCATED: DecodeError = DecodeError::InvalidMsgpack("truncated");

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let (head, tail) = self.rest.split_at_checked(n).ok_or(TRUNCATED)?;
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        self.take(N)?.try_into().map_err(|_| TRUNCATED)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(u8::from_be_bytes(self.array()?))
    }

    fn i8(&mut self) -> Result<i8, DecodeError> {
        Ok(i8::from_be_bytes(self.array()?))
    }

    fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// A 32-bit length, as a `usize` (wasm32's is 32 bits too).
    fn len32(&mut self) -> Result<usize, DecodeError> {
        usize::try_from(self.u32()?).map_err(|_| TRUNCATED)
    }
}

/// What one transcoded value was, for the checks the packet map needs.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind<'a> {
    /// notepack's `undefined`; written as `null`.
    Undefined,
    Null,
    Bool(bool),
    Unsigned(u64),
    Negative(i64),
    /// A float that is not integral (written as a JSON number or `null`).
    Float,
    /// A string, borrowed from the frame.
    Str(&'a str),
    /// notepack's `Date`, written as its ISO string (or `null`).
    Date,
    /// An array and what its first element is.
    Array(Head<'a>),
    Map,
    Binary,
}

/// A MessagePack integer, by sign.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Int {
    Unsigned(u64),
    Negative(i64),
}

impl From<Int> for Kind<'_> {
    fn from(int: Int) -> Self {
        match int {
            Int::Unsigned(u) => Kind::Unsigned(u),
            Int::Negative(i) => Kind::Negative(i),
        }
    }
}

/// A map key JSON can name.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Key<'a> {
    Str(&'a str),
    Int(Int),
}

impl Key<'_> {
    /// Writes the key as a JSON string.
    fn push_json(self, out: &mut String) {
        let _ = match self {
            Key::Str(s) => {
                json::push_string(out, s);
                Ok(())
            }
            Key::Int(Int::Unsigned(u)) => write!(out, "\"{u}\""),
            Key::Int(Int::Negative(i)) => write!(out, "\"{i}\""),
        };
    }
}

/// The first element of an array: an EVENT's name.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Head<'a> {
    Empty,
    Name(&'a str),
    NotString,
}

/// JSON text and attachments being written.
#[derive(Debug, Default)]
struct Out {
    json: String,
    attachments: Vec<Vec<u8>>,
    /// Whether a map of the payload itself has `"_placeholder": true`.
    lookalike: bool,
}

/// Reads MessagePack and writes the JSON text and attachments it stands for,
/// in one pass without building a tree.
struct Transcoder<'a> {
    rd: Reader<'a>,
    /// The nesting actually allowed (`max_depth`, capped at [`MAX_NESTING`]).
    max_depth: usize,
    /// The limit named in [`DecodeError::TooDeep`].
    reported_depth: usize,
    max_attachments: usize,
}

/// The fields of the packet map, each already transcoded.
#[derive(Debug, Default)]
struct Fields<'a> {
    ty: Option<Kind<'a>>,
    nsp: Option<Kind<'a>>,
    id: Option<Kind<'a>>,
    data: Option<(Kind<'a>, Out)>,
}

impl<'a> Transcoder<'a> {
    /// Reads the top-level map. A repeated key keeps its last value, as in
    /// notepack; unknown keys are read (so they must be well-formed) and
    /// dropped.
    fn packet_fields(&mut self) -> Result<Fields<'a>, DecodeError> {
        let len = match Marker::from_u8(self.rd.u8()?) {
            Marker::FixMap(n) => usize::from(n),
            Marker::Map16 => usize::from(self.rd.u16()?),
            Marker::Map32 => self.rd.len32()?,
            _ => return Err(DecodeError::InvalidPacket("not a map")),
        };
        let mut fields = Fields::default();
        for _ in 0..len {
            let key = self.key()?;
            let mut out = Out::default();
            // The packet map is level 0: `data` counts from 1 when it is a
            // container, as the JSON text of the same payload would.
            let kind = self.value(&mut out, 0)?;
            let slot = match key {
                Key::Str("type") => &mut fields.ty,
                Key::Str("nsp") => &mut fields.nsp,
                Key::Str("id") => &mut fields.id,
                Key::Str("data") => {
                    fields.data = Some((kind, out));
                    continue;
                }
                _ => continue,
            };
            *slot = Some(kind);
        }
        Ok(fields)
    }

    /// Reads a map key: a string, or an integer (JavaScript makes it the
    /// property name of its decimal digits).
    fn key(&mut self) -> Result<Key<'a>, DecodeError> {
        let marker = Marker::from_u8(self.rd.u8()?);
        if let Some(s) = self.str(marker)? {
            return Ok(Key::Str(s));
        }
        match self.integer(marker)? {
            Some(int) => Ok(Key::Int(int)),
            None => Err(DecodeError::UnsupportedMsgpack(
                "a map key that is neither a string nor an integer",
            )),
        }
    }

    /// The string a `str` marker starts, if it is one.
    fn str(&mut self, marker: Marker) -> Result<Option<&'a str>, DecodeError> {
        let len = match marker {
            Marker::FixStr(n) => usize::from(n),
            Marker::Str8 => usize::from(self.rd.u8()?),
            Marker::Str16 => usize::from(self.rd.u16()?),
            Marker::Str32 => self.rd.len32()?,
            _ => return Ok(None),
        };
        let bytes = self.rd.take(len)?;
        std::str::from_utf8(bytes)
            .map(Some)
            .map_err(|_| DecodeError::InvalidUtf8)
    }

    /// The integer an integer marker starts, if it is one.
    fn integer(&mut self, marker: Marker) -> Result<Option<Int>, DecodeError> {
        let rd = &mut self.rd;
        // A signed form may hold a non-negative value; it is the same number.
        let signed = |i: i64| match u64::try_from(i) {
            Ok(u) => Int::Unsigned(u),
            Err(_) => Int::Negative(i),
        };
        Ok(Some(match marker {
            Marker::FixPos(n) => Int::Unsigned(u64::from(n)),
            Marker::U8 => Int::Unsigned(u64::from(rd.u8()?)),
            Marker::U16 => Int::Unsigned(u64::from(rd.u16()?)),
            Marker::U32 => Int::Unsigned(u64::from(rd.u32()?)),
            Marker::U64 => Int::Unsigned(u64::from_be_bytes(rd.array()?)),
            Marker::FixNeg(n) => signed(i64::from(n)),
            Marker::I8 => signed(i64::from(rd.i8()?)),
            Marker::I16 => signed(i64::from(i16::from_be_bytes(rd.array()?))),
            Marker::I32 => signed(i64::from(i32::from_be_bytes(rd.array()?))),
            Marker::I64 => signed(i64::from_be_bytes(rd.array()?)),
            _ => return Ok(None),
        }))
    }

    /// Transcodes one value at nesting `depth` (the containers around it).
    fn value(&mut self, out: &mut Out, depth: usize) -> Result<Kind<'a>, DecodeError> {
        let marker = Marker::from_u8(self.rd.u8()?);
        if let Some(s) = self.str(marker)? {
            json::push_string(&mut out.json, s);
            return Ok(Kind::Str(s));
        }
        if let Some(int) = self.integer(marker)? {
            let _ = match int {
                Int::Unsigned(u) => write!(out.json, "{u}"),
                Int::Negative(i) => write!(out.json, "{i}"),
            };
            return Ok(int.into());
        }
        let kind = match marker {
            Marker::Null => {
                out.json.push_str("null");
                Kind::Null
            }
            Marker::True | Marker::False => {
                let b = marker == Marker::True;
                out.json.push_str(if b { "true" } else { "false" });
                Kind::Bool(b)
            }
            Marker::F32 => float(out, f64::from(f32::from_be_bytes(self.rd.array()?))),
            Marker::F64 => float(out, f64::from_be_bytes(self.rd.array()?)),
            Marker::Bin8 => {
                let len = usize::from(self.rd.u8()?);
                self.binary(out, len, depth)?
            }
            Marker::Bin16 => {
                let len = usize::from(self.rd.u16()?);
                self.binary(out, len, depth)?
            }
            Marker::Bin32 => {
                let len = self.rd.len32()?;
                self.binary(out, len, depth)?
            }
            Marker::Ext8 => {
                let len = usize::from(self.rd.u8()?);
                self.array_buffer(out, len, depth)?
            }
            Marker::Ext16 => {
                let len = usize::from(self.rd.u16()?);
                self.array_buffer(out, len, depth)?
            }
            Marker::Ext32 => {
                let len = self.rd.len32()?;
                self.array_buffer(out, len, depth)?
            }
            Marker::FixExt1 => {
                let [ty, _] = self.rd.array()?;
                if ty != NOTEPACK_EXT as u8 {
                    return Err(unsupported_ext());
                }
                out.json.push_str("null");
                Kind::Undefined
            }
            Marker::FixExt8 => {
                let ty = self.rd.i8()?;
                let ms = i64::from_be_bytes(self.rd.array()?);
                if ty != NOTEPACK_EXT {
                    return Err(unsupported_ext());
                }
                push_date(&mut out.json, ms);
                Kind::Date
            }
            Marker::FixExt2 | Marker::FixExt4 | Marker::FixExt16 => {
                return Err(unsupported_ext());
            }
            Marker::FixArray(n) => self.array(out, usize::from(n), depth)?,
            Marker::Array16 => {
                let len = usize::from(self.rd.u16()?);
                self.array(out, len, depth)?
            }
            Marker::Array32 => {
                let len = self.rd.len32()?;
                self.array(out, len, depth)?
            }
            Marker::FixMap(n) => self.map(out, usize::from(n), depth)?,
            Marker::Map16 => {
                let len = usize::from(self.rd.u16()?);
                self.map(out, len, depth)?
            }
            Marker::Map32 => {
                let len = self.rd.len32()?;
                self.map(out, len, depth)?
            }
            _ => return Err(DecodeError::InvalidMsgpack("reserved marker 0xc1")),
        };
        Ok(kind)
    }

    fn nest(&self, depth: usize) -> Result<usize, DecodeError> {
        let inner = depth.saturating_add(1);
        if inner > self.max_depth {
            return Err(DecodeError::TooDeep {
                max: self.reported_depth,
            });
        }
        Ok(inner)
    }

    /// `len` bytes of binary data: a placeholder (an object, one level
    /// deeper in the text) and an attachment.
    fn binary(&mut self, out: &mut Out, len: usize, depth: usize) -> Result<Kind<'a>, DecodeError> {
        self.nest(depth)?;
        let bytes = self.rd.take(len)?;
        let num = out.attachments.len();
        if num >= self.max_attachments {
            return Err(DecodeError::TooManyAttachments {
                count: num.saturating_add(1),
                max: self.max_attachments,
            });
        }
        let _ = write!(out.json, "{{\"_placeholder\":true,\"num\":{num}}}");
        out.attachments.push(bytes.to_vec());
        Ok(Kind::Binary)
    }

    /// An `ext 8/16/32` body: notepack's `ArrayBuffer` when of type 0.
    fn array_buffer(
        &mut self,
        out: &mut Out,
        len: usize,
        depth: usize,
    ) -> Result<Kind<'a>, DecodeError> {
        if self.rd.i8()? != NOTEPACK_EXT {
            return Err(unsupported_ext());
        }
        self.binary(out, len, depth)
    }

    fn array(&mut self, out: &mut Out, len: usize, depth: usize) -> Result<Kind<'a>, DecodeError> {
        let inner = self.nest(depth)?;
        out.json.push('[');
        let mut head = Head::Empty;
        // `len` comes off the wire: nothing is reserved for it, and a short
        // frame ends the loop with `truncated` after at most one element per
        // byte.
        for i in 0..len {
            if i > 0 {
                out.json.push(',');
            }
            let kind = self.value(out, inner)?;
            if i == 0 {
                head = match kind {
                    Kind::Str(name) => Head::Name(name),
                    _ => Head::NotString,
                };
            }
        }
        out.json.push(']');
        Ok(Kind::Array(head))
    }

    fn map(&mut self, out: &mut Out, len: usize, depth: usize) -> Result<Kind<'a>, DecodeError> {
        let inner = self.nest(depth)?;
        out.json.push('{');
        let mut first = true;
        for _ in 0..len {
            let entry = out.json.len();
            if !first {
                out.json.push(',');
            }
            let key = self.key()?;
            key.push_json(&mut out.json);
            out.json.push(':');
            match self.value(out, inner)? {
                // JSON.stringify leaves out a property that is undefined.
                Kind::Undefined => out.json.truncate(entry),
                kind => {
                    first = false;
                    out.lookalike |= key == Key::Str("_placeholder") && kind == Kind::Bool(true);
                }
            }
        }
        out.json.push('}');
        Ok(Kind::Map)
    }
}

fn unsupported_ext() -> DecodeError {
    DecodeError::UnsupportedMsgpack("an extension type other than notepack's")
}

/// Writes a float as `JSON.stringify` would write the JS number: integral
/// values as integers, NaN and infinities as `null`.
fn float(out: &mut Out, f: f64) -> Kind<'static> {
    match integral(f) {
        Some(Integral::Unsigned(u)) => {
            let _ = write!(out.json, "{u}");
            Kind::Unsigned(u)
        }
        Some(Integral::Negative(i)) => {
            let _ = write!(out.json, "{i}");
            Kind::Negative(i)
        }
        None => {
            match serde_json::Number::from_f64(f) {
                Some(n) => {
                    let _ = write!(out.json, "{n}");
                }
                None => out.json.push_str("null"),
            }
            Kind::Float
        }
    }
}

/// Writes `Date.prototype.toJSON` of the date `ms` milliseconds after the
/// epoch: its ISO 8601 string, or `null` outside the range of a JS `Date`.
fn push_date(out: &mut String, ms: i64) {
    if !(-MAX_DATE_MS..=MAX_DATE_MS).contains(&ms) {
        out.push_str("null");
        return;
    }
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    let (h, m, s, milli) = (
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000,
    );
    // Years outside 0..=9999 take the six-digit signed form, as in JS.
    let _ = match year {
        0..=9999 => write!(out, "\"{year:04}"),
        y if y < 0 => write!(out, "\"-{:06}", -y),
        y => write!(out, "\"+{y:06}"),
    };
    let _ = write!(
        out,
        "-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z\""
    );
}

/// The proleptic Gregorian (year, month, day) of a day count from
/// 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl Fields<'_> {
    fn into_packet(self) -> Result<Packet<'static>, DecodeError> {
        let ty = match self.ty {
            None | Some(Kind::Undefined) => return Err(DecodeError::InvalidPacket("no type")),
            Some(Kind::Unsigned(ty)) if ty <= CONNECT_ERROR => ty,
            Some(_) => {
                return Err(DecodeError::InvalidPacket(
                    "type is not an integer from 0 to 4",
                ))
            }
        };
        let nsp = match self.nsp {
            Some(Kind::Str(nsp)) if nsp.starts_with('/') && !nsp.contains(',') => {
                Cow::Owned(nsp.to_owned())
            }
            _ => return Err(DecodeError::InvalidNamespace),
        };
        let id = match self.id {
            None | Some(Kind::Undefined) => None,
            Some(Kind::Unsigned(id)) => Some(id),
            Some(_) => return Err(DecodeError::InvalidAckId),
        };
        let (kind, out) = match self.data {
            Some((Kind::Undefined, _)) | None => (None, Out::default()),
            Some((kind, out)) => (Some(kind), out),
        };
        if ty != EVENT && ty != ACK && !out.attachments.is_empty() {
            return Err(DecodeError::InvalidPayload(
                "binary data outside EVENT and ACK arguments",
            ));
        }
        let Out {
            json,
            attachments,
            lookalike,
        } = out;
        if lookalike && !attachments.is_empty() {
            // Downstream, every `_placeholder` object of a binary payload is
            // taken for an attachment (socket.io-parser's reconstructPacket);
            // one that was data would be replaced or refused there.
            return Err(DecodeError::InvalidAttachments(
                "a map of the payload looks like a placeholder",
            ));
        }
        Ok(match (ty, kind) {
            (CONNECT, None) => Packet::Connect { nsp, auth: None },
            (CONNECT, Some(Kind::Map)) => Packet::Connect {
                nsp,
                auth: Some(Cow::Owned(json)),
            },
            (CONNECT, _) => {
                return Err(DecodeError::InvalidPayload(
                    "CONNECT payload must be an object",
                ))
            }
            (DISCONNECT, None) => Packet::Disconnect { nsp },
            (DISCONNECT, _) => {
                return Err(DecodeError::InvalidPayload("DISCONNECT carries no payload"))
            }
            (EVENT, Some(Kind::Array(Head::Name(name)))) => {
                if RESERVED_EVENTS.contains(&name) {
                    return Err(DecodeError::ReservedEventName(name.to_owned()));
                }
                Packet::Event {
                    nsp,
                    id,
                    event: Cow::Owned(name.to_owned()),
                    data: Payload {
                        json: Cow::Owned(json),
                        attachments,
                    },
                }
            }
            (EVENT, Some(Kind::Array(Head::NotString))) => {
                return Err(DecodeError::InvalidPayload("event name must be a string"))
            }
            (EVENT, Some(Kind::Array(Head::Empty))) => {
                return Err(DecodeError::InvalidPayload(
                    "EVENT payload must not be empty",
                ))
            }
            (EVENT, _) => {
                return Err(DecodeError::InvalidPayload(
                    "EVENT payload must be an array",
                ))
            }
            (ACK, Some(Kind::Array(_))) => Packet::Ack {
                nsp,
                id: id.ok_or(DecodeError::InvalidAckId)?,
                data: Payload {
                    json: Cow::Owned(json),
                    attachments,
                },
            },
            (ACK, _) => return Err(DecodeError::InvalidPayload("ACK payload must be an array")),
            (_, Some(Kind::Map | Kind::Str(_))) => Packet::ConnectError {
                nsp,
                data: Cow::Owned(json),
            },
            _ => {
                return Err(DecodeError::InvalidPayload(
                    "CONNECT_ERROR payload must be an object or a string",
                ))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits::default()
    }

    /// A msgpack string.
    fn s(text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        rmp::encode::write_str(&mut out, text).unwrap();
        out
    }

    /// A map of `(key, value)` byte strings.
    fn map(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut out = Vec::new();
        rmp::encode::write_map_len(&mut out, entries.len() as u32).unwrap();
        for (k, v) in entries {
            out.extend(s(k));
            out.extend(v);
        }
        out
    }

    fn array(items: &[Vec<u8>]) -> Vec<u8> {
        let mut out = Vec::new();
        rmp::encode::write_array_len(&mut out, items.len() as u32).unwrap();
        for item in items {
            out.extend(item);
        }
        out
    }

    fn bin(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        rmp::encode::write_bin(&mut out, bytes).unwrap();
        out
    }

    fn uint(n: u64) -> Vec<u8> {
        let mut out = Vec::new();
        rmp::encode::write_uint(&mut out, n).unwrap();
        out
    }

    /// An EVENT on `/` whose data is `data`.
    fn event(data: Vec<u8>) -> Vec<u8> {
        map(&[("type", uint(2)), ("data", data), ("nsp", s("/"))])
    }

    fn event_json(data: Vec<u8>) -> (String, Vec<Vec<u8>>) {
        match decode(&event(data), &limits()).unwrap() {
            Packet::Event { data, .. } => (data.json.into_owned(), data.attachments),
            other => panic!("not an event: {other:?}"),
        }
    }

    #[test]
    fn binary_becomes_placeholders_numbered_depth_first() {
        let data = array(&[
            s("up"),
            bin(&[1]),
            map(&[("a", array(&[bin(&[2]), bin(&[])]))]),
            bin(&[3, 3]),
        ]);
        let (json, attachments) = event_json(data);
        assert_eq!(
            json,
            r#"["up",{"_placeholder":true,"num":0},{"a":[{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]},{"_placeholder":true,"num":3}]"#
        );
        assert_eq!(attachments, [vec![1], vec![2], vec![], vec![3, 3]]);
    }

    #[test]
    fn a_placeholder_lookalike_beside_binary_is_refused() {
        let lookalike = map(&[("_placeholder", vec![0xc3]), ("num", uint(0))]);
        assert_eq!(
            decode(
                &event(array(&[s("e"), lookalike.clone(), bin(&[1])])),
                &limits()
            ),
            Err(DecodeError::InvalidAttachments(
                "a map of the payload looks like a placeholder"
            ))
        );
        // Without binary it is plain data, as in the text codec.
        assert_eq!(
            event_json(array(&[s("e"), lookalike])).0,
            r#"["e",{"_placeholder":true,"num":0}]"#
        );
        let not_true = map(&[("_placeholder", uint(1))]);
        assert!(decode(&event(array(&[s("e"), not_true, bin(&[1])])), &limits()).is_ok());
    }

    #[test]
    fn notepack_array_buffer_is_binary() {
        // notepack writes an ArrayBuffer / Uint8Array as ext 8 of type 0.
        let (json, attachments) = event_json(array(&[s("e"), vec![0xc7, 2, 0, 9, 8]]));
        assert_eq!(json, r#"["e",{"_placeholder":true,"num":0}]"#);
        assert_eq!(attachments, [vec![9, 8]]);
    }

    #[test]
    fn undefined_reads_as_json_stringify_writes_it() {
        let undefined = vec![0xd4, 0, 0];
        let data = array(&[
            s("e"),
            undefined.clone(),
            map(&[
                ("a", undefined.clone()),
                ("b", uint(1)),
                ("c", undefined.clone()),
            ]),
            map(&[("a", undefined.clone())]),
        ]);
        assert_eq!(event_json(data).0, r#"["e",null,{"b":1},{}]"#);
        // Top-level `data: undefined` (socket.io-client's CONNECT without
        // auth) and `id: undefined` are absent.
        let connect = map(&[
            ("type", uint(0)),
            ("data", undefined.clone()),
            ("nsp", s("/")),
            ("id", undefined),
        ]);
        assert_eq!(
            decode(&connect, &limits()),
            Ok(Packet::Connect {
                nsp: "/".into(),
                auth: None
            })
        );
    }

    #[test]
    fn dates_read_as_iso_strings() {
        let date = |ms: i64| {
            let mut out = vec![0xd7, 0];
            out.extend(ms.to_be_bytes());
            out
        };
        let data = array(&[
            s("e"),
            date(0),
            date(1_704_164_645_678),
            date(-1),
            date(-62_198_755_200_000),
            date(253_402_300_800_000),
            date(MAX_DATE_MS),
            date(MAX_DATE_MS + 1),
        ]);
        assert_eq!(
            event_json(data).0,
            concat!(
                r#"["e","1970-01-01T00:00:00.000Z","2024-01-02T03:04:05.678Z","1969-12-31T23:59:59.999Z","#,
                r#""-000001-01-01T00:00:00.000Z","+010000-01-01T00:00:00.000Z","+275760-09-13T00:00:00.000Z",null]"#
            )
        );
    }

    #[test]
    fn numbers_read_as_javascript_prints_them() {
        let f64b = |f: f64| {
            let mut out = vec![0xcb];
            out.extend(f.to_be_bytes());
            out
        };
        let mut f32b = vec![0xca];
        f32b.extend(0.1f32.to_be_bytes());
        let data = array(&[
            s("e"),
            f64b(1.5),
            f64b(3.0),
            f64b(-0.0),
            f64b(-2.0),
            f64b(f64::NAN),
            f64b(f64::INFINITY),
            f64b(1e300),
            f32b,
            uint(u64::MAX),
            vec![0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0],
            vec![0xd0, 5],
            vec![0xff],
        ]);
        assert_eq!(
            event_json(data).0,
            r#"["e",1.5,3,0,-2,null,null,1e+300,0.10000000149011612,18446744073709551615,-9223372036854775808,5,-1]"#
        );
    }

    #[test]
    fn integer_keys_become_strings_and_other_keys_are_refused() {
        let mut m = vec![0x82, 0x07, 0xc3, 0xff, 0xc2];
        assert_eq!(
            event_json(array(&[s("e"), m.clone()])).0,
            r#"["e",{"7":true,"-1":false}]"#
        );
        m[1] = 0xc0;
        assert!(matches!(
            decode(&event(array(&[s("e"), m])), &limits()),
            Err(DecodeError::UnsupportedMsgpack(_))
        ));
    }

    #[test]
    fn other_extensions_are_refused() {
        for ext in [
            vec![0xd4, 5, 0],
            vec![0xd5, 0, 1, 2],
            vec![0xd6, 0, 1, 2, 3, 4],
            vec![0xd7, 1, 0, 0, 0, 0, 0, 0, 0, 0],
            vec![0xc7, 1, 0xff, 0],
        ] {
            assert_eq!(
                decode(&event(array(&[s("e"), ext.clone()])), &limits()),
                Err(unsupported_ext()),
                "{ext:x?}"
            );
        }
    }

    #[test]
    fn unknown_keys_are_ignored_and_a_repeated_key_keeps_its_last_value() {
        // socket.io-client adds `options: {compress: true}`; the server
        // writes `id` before `nsp`.
        let frame = map(&[
            ("type", uint(2)),
            ("data", array(&[s("old")])),
            ("options", map(&[("compress", vec![0xc3])])),
            ("id", uint(9)),
            ("nsp", s("/admin")),
            ("data", array(&[s("new"), uint(1)])),
        ]);
        assert_eq!(
            decode(&frame, &limits()),
            Packet::event("/admin", "new", "[1]", Some(9))
        );
    }

    #[test]
    fn wrong_shapes_get_typed_errors() {
        let base = |ty: Vec<u8>, data: Option<Vec<u8>>, id: Option<Vec<u8>>| {
            let mut entries = vec![("type", ty), ("nsp", s("/"))];
            entries.extend(data.map(|d| ("data", d)));
            entries.extend(id.map(|i| ("id", i)));
            map(&entries)
        };
        let payload = |why| Err(DecodeError::InvalidPayload(why));
        let ev = || Some(array(&[s("e")]));
        let cases: Vec<(Vec<u8>, Result<Packet<'static>, DecodeError>)> = vec![
            (
                array(&[uint(2)]),
                Err(DecodeError::InvalidPacket("not a map")),
            ),
            (s("2"), Err(DecodeError::InvalidPacket("not a map"))),
            (
                map(&[("nsp", s("/"))]),
                Err(DecodeError::InvalidPacket("no type")),
            ),
            (
                base(uint(5), ev(), None),
                Err(DecodeError::InvalidPacket(
                    "type is not an integer from 0 to 4",
                )),
            ),
            (
                base(s("2"), ev(), None),
                Err(DecodeError::InvalidPacket(
                    "type is not an integer from 0 to 4",
                )),
            ),
            (
                base(vec![0xff], ev(), None),
                Err(DecodeError::InvalidPacket(
                    "type is not an integer from 0 to 4",
                )),
            ),
            (
                map(&[("type", uint(1))]),
                Err(DecodeError::InvalidNamespace),
            ),
            (
                map(&[("type", uint(1)), ("nsp", uint(1))]),
                Err(DecodeError::InvalidNamespace),
            ),
            (
                map(&[("type", uint(1)), ("nsp", s("admin"))]),
                Err(DecodeError::InvalidNamespace),
            ),
            (
                map(&[("type", uint(1)), ("nsp", s("/a,b"))]),
                Err(DecodeError::InvalidNamespace),
            ),
            (
                base(uint(2), ev(), Some(s("1"))),
                Err(DecodeError::InvalidAckId),
            ),
            (
                base(uint(2), ev(), Some(vec![0xff])),
                Err(DecodeError::InvalidAckId),
            ),
            (
                base(uint(2), ev(), Some(vec![0xc0])),
                Err(DecodeError::InvalidAckId),
            ),
            (
                base(uint(3), Some(array(&[])), None),
                Err(DecodeError::InvalidAckId),
            ),
            (
                base(uint(2), Some(map(&[])), None),
                payload("EVENT payload must be an array"),
            ),
            (
                base(uint(2), None, None),
                payload("EVENT payload must be an array"),
            ),
            (
                base(uint(2), Some(array(&[])), None),
                payload("EVENT payload must not be empty"),
            ),
            (
                base(uint(2), Some(array(&[uint(1)])), None),
                payload("event name must be a string"),
            ),
            (
                base(uint(2), Some(array(&[s("connect")])), None),
                Err(DecodeError::ReservedEventName("connect".into())),
            ),
            (
                base(uint(3), Some(s("x")), Some(uint(1))),
                payload("ACK payload must be an array"),
            ),
            (
                base(uint(0), Some(array(&[])), None),
                payload("CONNECT payload must be an object"),
            ),
            (
                base(uint(0), Some(vec![0xc0]), None),
                payload("CONNECT payload must be an object"),
            ),
            (
                base(uint(0), Some(map(&[("k", bin(&[1]))])), None),
                payload("binary data outside EVENT and ACK arguments"),
            ),
            (
                base(uint(1), Some(map(&[])), None),
                payload("DISCONNECT carries no payload"),
            ),
            (
                base(uint(4), Some(uint(1)), None),
                payload("CONNECT_ERROR payload must be an object or a string"),
            ),
            (
                base(uint(4), Some(vec![0xd7, 0, 0, 0, 0, 0, 0, 0, 0, 0]), None),
                payload("CONNECT_ERROR payload must be an object or a string"),
            ),
            (
                base(uint(2), Some(array(&[vec![0xa2, 0xc3, 0x28]])), None),
                Err(DecodeError::InvalidUtf8),
            ),
            (
                base(uint(2), Some(array(&[s("e"), vec![0xc1]])), None),
                Err(DecodeError::InvalidMsgpack("reserved marker 0xc1")),
            ),
            (
                [event(array(&[s("e")])), vec![0xc0]].concat(),
                Err(DecodeError::InvalidMsgpack("bytes after the packet")),
            ),
            (vec![], Err(TRUNCATED)),
        ];
        for (bytes, expected) in cases {
            assert_eq!(decode(&bytes, &limits()), expected, "{bytes:x?}");
        }
    }

    #[test]
    fn every_truncation_is_an_error() {
        let frame = map(&[
            ("type", uint(3)),
            (
                "data",
                array(&[
                    map(&[("k", s("a longer string than a fixstr holds, surely"))]),
                    bin(&[1, 2, 3]),
                    vec![0xcb, 0, 0, 0, 0, 0, 0, 0, 0],
                    vec![0xd7, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                ]),
            ),
            ("nsp", s("/")),
            ("id", uint(300)),
        ]);
        assert!(decode(&frame, &limits()).is_ok());
        for end in 0..frame.len() {
            assert_eq!(decode(&frame[..end], &limits()), Err(TRUNCATED), "{end}");
        }
    }

    #[test]
    fn a_huge_announced_length_fails_fast() {
        // array 32 of 4 billion elements in a 20-byte frame.
        let frame = event(vec![0xdd, 0xff, 0xff, 0xff, 0xff, 0xa1, b'e']);
        assert_eq!(decode(&frame, &limits()), Err(TRUNCATED));
        let frame = event(array(&[s("e"), vec![0xc6, 0xff, 0xff, 0xff, 0xff]]));
        assert_eq!(decode(&frame, &limits()), Err(TRUNCATED));
    }

    #[test]
    fn limits_are_enforced() {
        let small = Limits {
            max_frame_bytes: 64,
            max_attachments: 2,
            max_depth: 3,
        };
        let nested = |levels: usize| {
            let mut v = s("x");
            for _ in 0..levels {
                v = array(&[v]);
            }
            event(array(&[s("e"), v]))
        };
        // The data array is level 1, as in the JSON text.
        assert!(decode(&nested(2), &small).is_ok());
        assert_eq!(
            decode(&nested(3), &small),
            Err(DecodeError::TooDeep { max: 3 })
        );
        // A placeholder is an object: one level more.
        let placeholder_at = |levels: usize| {
            let mut v = bin(&[1]);
            for _ in 0..levels {
                v = array(&[v]);
            }
            event(array(&[s("e"), v]))
        };
        assert!(decode(&placeholder_at(1), &small).is_ok());
        assert_eq!(
            decode(&placeholder_at(2), &small),
            Err(DecodeError::TooDeep { max: 3 })
        );
        let three = event(array(&[s("e"), bin(&[]), bin(&[]), bin(&[])]));
        assert_eq!(
            decode(&three, &small),
            Err(DecodeError::TooManyAttachments { count: 3, max: 2 })
        );
        let big = event(array(&[s("e"), bin(&[0; 64])]));
        assert_eq!(
            decode(&big, &small),
            Err(DecodeError::TooLarge {
                len: big.len(),
                max: 64
            })
        );
        // A limit above serde_json's recursion limit is capped, and the
        // error names the configured one.
        let deep = Limits {
            max_depth: usize::MAX,
            ..Limits::default()
        };
        assert!(decode(&nested(MAX_NESTING - 1), &deep).is_ok());
        assert_eq!(
            decode(&nested(MAX_NESTING), &deep),
            Err(DecodeError::TooDeep { max: usize::MAX })
        );
    }

    #[test]
    fn encode_writes_notepack_bytes() {
        let connect = Packet::connect("/", None).unwrap();
        assert_eq!(
            encode(&connect, &limits()).unwrap(),
            map(&[("type", uint(0)), ("nsp", s("/"))])
        );
        let payload = Payload {
            json: r#"["e", 3.0, -2.0, 1.5, {"_placeholder":true,"num":0}, -40]"#.into(),
            attachments: vec![vec![7]],
        };
        let ev = Packet::event_from_payload("/x", payload, Some(70_000)).unwrap();
        let mut f = vec![0xcb];
        f.extend(1.5f64.to_be_bytes());
        assert_eq!(
            encode(&ev, &limits()).unwrap(),
            map(&[
                ("type", uint(2)),
                (
                    "data",
                    array(&[s("e"), uint(3), vec![0xfe], f, bin(&[7]), vec![0xd0, 0xd8]])
                ),
                ("nsp", s("/x")),
                ("id", uint(70_000)),
            ])
        );
        let err = Packet::ConnectError {
            nsp: "/".into(),
            data: r#"{"message":"no"}"#.into(),
        };
        assert_eq!(
            encode(&err, &limits()).unwrap(),
            map(&[
                ("type", uint(4)),
                ("data", map(&[("message", s("no"))])),
                ("nsp", s("/")),
            ])
        );
    }

    #[test]
    fn encode_refuses_placeholders_that_do_not_match() {
        let mut out = vec![1, 2];
        for (json, attachments) in [
            (r#"["e",{"_placeholder":true,"num":1}]"#, vec![vec![1]]),
            (r#"["e"]"#, vec![vec![1]]),
            (
                r#"["e",{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}]"#,
                vec![vec![1]],
            ),
        ] {
            let packet = Packet::Event {
                nsp: "/".into(),
                id: None,
                event: "e".into(),
                data: Payload {
                    json: json.into(),
                    attachments,
                },
            };
            assert!(matches!(
                encode_into(&packet, &limits(), &mut out),
                Err(DecodeError::InvalidAttachments(_))
            ));
            assert_eq!(out, [1, 2]);
        }
    }
}
