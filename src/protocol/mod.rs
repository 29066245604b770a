//! Pure codecs for every wire format the client speaks. No I/O, no clocks,
//! no web-sys: bytes in, typed packets or a typed [`DecodeError`] out.
//!
//! Modelled on socket.io's own split: [`engine_io`] is `engine.io-parser`
//! (transport packets, the open handshake, the long-polling payload),
//! [`socket_io`] is `socket.io-parser` (namespaces, acks, binary attachments),
//! [`msgpack`] is `socket.io-msgpack-parser` (the same packets as one
//! MessagePack map per binary frame), and [`json_frame`] is the plain-JSON
//! framing that backends behind API gateways use instead of Socket.IO.
//! [`batch`] is this project's envelope of several events in one Socket.IO
//! EVENT.
//!
//! # Payload representation: raw JSON text
//!
//! Event payloads stay as **raw JSON text** inside the codecs: the decoder
//! validates the structure it must route on (packet type, namespace, ack id,
//! that an EVENT is an array led by a string event name, nesting depth, size)
//! with the one-pass [`scan`] validator (serde_json's borrowed
//! [`RawValue`](serde_json::value::RawValue) where it must keep a value), and
//! hands the payload on as the exact text that came off the wire. It never
//! builds a `serde_json::Value` tree on the hot path.
//!
//! Why: in the browser the payload must end up as a JS object. Building that
//! object from Rust means one boundary crossing per field (serde-wasm-bindgen
//! calls `Reflect.set` for every key), while handing the text to the engine's
//! native `JSON.parse` costs one string copy and runs the fastest JSON parser
//! on the page. Native callers (tests, the reference server) parse the text
//! with serde_json when they want a typed value. Binary packets are the
//! exception: their placeholders must be replaced by buffers, so
//! [`socket_io::Payload::reconstruct`] builds a [`value::Value`] tree.

pub mod batch;
pub mod engine_io;
mod error;
pub mod json;
pub mod json_frame;
mod limits;
pub mod msgpack;
pub mod scan;
pub mod socket_io;
pub mod value;

pub use error::DecodeError;
pub use limits::Limits;
