//! Frames to the server: encoding events and requests for the wire in use,
//! sending them, and counting what was sent.

use super::config::{Parser, Protocol};
use super::outbox::Queued;
use super::priority::Priority;
use super::requests::RequestKey;
use super::Client;
use crate::core::error::{ClientError, ErrorCode};
use crate::protocol::value::{self, Value};
use crate::protocol::{json, json_frame, msgpack, socket_io, DecodeError};

/// An encoded event or packet, ready for the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// An Engine.IO text message (`42[...]`, `45N-...`, a pong, or a
    /// plain-JSON frame); binary attachments follow it as messages of
    /// their own.
    Text(String),
    /// A msgpack packet: one binary message with the binary values inline.
    Binary(Vec<u8>),
}

impl Frame {
    /// Its size on the wire (UTF-8 bytes of a text frame).
    pub(super) fn len(&self) -> usize {
        match self {
            Frame::Text(text) => text.len(),
            Frame::Binary(bytes) => bytes.len(),
        }
    }
}

/// Per-emit options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EmitOptions {
    /// Dropped, rather than buffered, while it cannot go out (not
    /// connected, or the socket congested).
    pub volatile: bool,
    /// Where the emit stands among what waits (see [`Priority`]).
    pub priority: Priority,
}

impl Client {
    /// Sends what waited, most urgent first and oldest first within a
    /// priority.
    pub(super) fn flush_outbox(&mut self) {
        while let Some((priority, item)) = self.outbox.pop_front() {
            match item {
                Queued::Frame {
                    frame, attachments, ..
                } => self.send_frame(priority, frame, attachments),
                Queued::Request(key) => self.send_request(key),
            }
        }
    }

    /// Sends a pending request, with a fresh ack id on Socket.IO.
    pub(super) fn send_request(&mut self, key: RequestKey) {
        let ack = match self.cfg.protocol {
            Protocol::SocketIo => Some(self.requests.next_ack()),
            Protocol::Json => None,
        };
        let Some(req) = self.requests.get(key) else {
            return;
        };
        match self.encode_event(&req.event, Some(&req.payload), &req.attachments, ack) {
            Ok(frame) => {
                // The request keeps its own for a re-send after a lost link;
                // a msgpack frame holds them already.
                let attachments = match frame {
                    Frame::Text(_) => req.attachments.clone(),
                    Frame::Binary(_) => Vec::new(),
                };
                let priority = req.priority;
                self.requests.mark_sent(key, ack);
                self.send_frame(priority, frame, attachments);
            }
            // Checked when the request was made; settle rather than lose it.
            Err(e) => self.settle(key, Err(e)),
        }
    }

    /// Sends a Socket.IO packet of the link's own (CONNECT, DISCONNECT, an
    /// ACK answering the server): its text frame then any attachments, or
    /// one msgpack frame.
    pub(super) fn send_packet(&mut self, packet: &socket_io::Packet<'_>) {
        if self.cfg.parser == Parser::Msgpack {
            // Only an auth payload that is not JSON, or nests too deep, could
            // fail (the shell checks it is an object). A packet that cannot
            // be written is reported and not sent, rather than sent in the
            // other parser's format; the attempt then times out and retries.
            match msgpack::encode(packet, &self.cfg.limits) {
                Ok(bytes) => self.send_frame(Priority::Normal, Frame::Binary(bytes), Vec::new()),
                Err(e) => {
                    self.metrics.count_error(ErrorCode::InvalidPayload.as_str());
                    self.out.push_back(super::Output::Error(ClientError::new(
                        ErrorCode::InvalidPayload,
                        format!("cannot encode a {:?} packet: {e}", packet.packet_type()),
                    )));
                }
            }
            return;
        }
        let mut frame = String::from("4");
        packet.encode_text_into(&mut frame);
        self.send_frame(
            Priority::Normal,
            Frame::Text(frame),
            packet.attachments().to_vec(),
        );
    }

    /// A frame followed by its binary attachments (none after a msgpack
    /// frame, which holds them), counted. On polling, `priority` orders it
    /// among what waits for the POST.
    pub(super) fn send_frame(
        &mut self,
        priority: Priority,
        frame: Frame,
        attachments: Vec<Vec<u8>>,
    ) {
        // Emits held for the end of the tick were made first.
        if !self.coalesced.is_empty() {
            self.flush_emits();
        }
        self.metrics.frames_out += 1 + attachments.len() as u64;
        self.metrics.bytes_out += frame.len() as u64;
        for attachment in &attachments {
            self.metrics.bytes_out += attachment.len() as u64;
        }
        self.transmit(priority, frame, attachments);
    }

    /// A text frame of the link's own (a pong).
    pub(super) fn send_frame_text(&mut self, frame: String) {
        self.send_frame(Priority::Normal, Frame::Text(frame), Vec::new());
    }

    /// The whole frame for an event: `42["event",payload]` (with the
    /// namespace and ack id when needed; `45N-...` with N attachments),
    /// `{"action":"event",...}`, or the msgpack packet with the attachments
    /// inline. With attachments the placeholders in `payload` must be
    /// exactly `0..attachments.len()`, each once.
    pub(super) fn encode_event(
        &self,
        event: &str,
        payload: Option<&str>,
        attachments: &[Vec<u8>],
        ack: Option<u64>,
    ) -> Result<Frame, ClientError> {
        let invalid = |e: DecodeError| ClientError::new(ErrorCode::InvalidPayload, e.to_string());
        match self.cfg.protocol {
            Protocol::SocketIo => {
                let payload = payload.unwrap_or("");
                let mut args = String::with_capacity(payload.len() + 2);
                args.push('[');
                args.push_str(payload);
                args.push(']');
                let mut packet =
                    socket_io::Packet::event(self.cfg.namespace.as_str(), event, &args, ack)
                        .map_err(invalid)?;
                if self.cfg.parser == Parser::Msgpack {
                    if let socket_io::Packet::Event { data, .. } = &mut packet {
                        // The encoder puts each one where its placeholder
                        // is, and refuses placeholders that do not match.
                        data.attachments = attachments.to_vec();
                    }
                    return msgpack::encode(&packet, &self.cfg.limits)
                        .map(Frame::Binary)
                        .map_err(invalid);
                }
                if !attachments.is_empty() {
                    self.check_placeholders(&args, attachments.len())
                        .map_err(invalid)?;
                    // Only the count goes into the header; the frames follow
                    // from the caller's copy.
                    if let socket_io::Packet::Event { data, .. } = &mut packet {
                        data.attachments = attachments.iter().map(|_| Vec::new()).collect();
                    }
                }
                let mut frame = String::with_capacity(args.len() + event.len() + 12);
                frame.push('4');
                packet.encode_text_into(&mut frame);
                Ok(Frame::Text(frame))
            }
            Protocol::Json if !attachments.is_empty() => Err(ClientError::new(
                ErrorCode::InvalidPayload,
                "binary data cannot be sent with the plain-JSON protocol",
            )),
            Protocol::Json => {
                let payload = payload.unwrap_or("{}");
                let frame = if self.cfg.wrap_events.iter().any(|name| name == event) {
                    json_frame::encode_wrapped(event, payload)
                } else {
                    json_frame::encode(event, payload)
                };
                frame
                    .map(Frame::Text)
                    .map_err(|e| ClientError::new(ErrorCode::InvalidPayload, e.to_string()))
            }
        }
    }

    /// The ACK (BINARY_ACK with attachments) answering the server's event
    /// `id` with the JSON array `args`, whose placeholders must be exactly
    /// `0..attachments.len()`, each once.
    pub(super) fn encode_ack(
        &self,
        id: u64,
        args: &str,
        attachments: Vec<Vec<u8>>,
    ) -> Result<socket_io::Packet<'static>, ClientError> {
        let invalid = |e: DecodeError| ClientError::new(ErrorCode::InvalidPayload, e.to_string());
        if !attachments.is_empty() {
            self.check_placeholders(args, attachments.len())
                .map_err(invalid)?;
        }
        let data = socket_io::Payload {
            json: args
                .trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
                .to_owned()
                .into(),
            attachments,
        };
        socket_io::Packet::ack(self.cfg.namespace.clone(), id, data).map_err(invalid)
    }

    /// Whether the JSON array `args` holds a placeholder for each of
    /// `count` attachments: exactly `0..count`, each once.
    fn check_placeholders(&self, args: &str, count: usize) -> Result<(), DecodeError> {
        let tree: Value = json::parse(args, self.cfg.limits.max_depth)?;
        value::check_placeholders(&tree, count)
    }
}
