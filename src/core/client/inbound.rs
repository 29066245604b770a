//! Frames from the server, once the link phase lets them in: Engine.IO
//! packets, Socket.IO packets (in the JSON parser's text or the msgpack
//! parser's binary, decoded to one packet model), plain-JSON frames, and the events they
//! carry, with the matching of acks and reply events to the requests they
//! answer. Events that ask for an answer get a key in `server_acks`.

use super::config::{Parser, Role};
use super::link::Phase;
use super::output::{ArgsForm, Output, State};
use super::server_acks::AckKey;
use super::Client;
use crate::catalogue::names;
use crate::core::error::{ClientError, ErrorCode};
use crate::core::reply_policy;
use crate::protocol::engine_io::{self, Data};
use crate::protocol::socket_io;
use crate::protocol::value::Value;
use crate::protocol::{json, json_frame, msgpack, DecodeError, Limits};
use std::borrow::Cow;

/// The server's `code` for an event sent after the socket's token expired.
const TOKEN_EXPIRED: &str = crate::catalogue::codes::TOKEN_EXPIRED;

impl Client {
    pub(super) fn on_engine_text(&mut self, now: u64, text: &str) -> Result<(), DecodeError> {
        let packet = engine_io::Packet::decode_text(text, &self.cfg.limits)?;
        self.on_engine_packet(now, packet)
    }

    /// One Engine.IO packet, from a WebSocket frame or a polling payload.
    pub(super) fn on_engine_packet(
        &mut self,
        now: u64,
        packet: engine_io::Packet<'_>,
    ) -> Result<(), DecodeError> {
        match packet {
            engine_io::Packet::Open(hs) => self.on_handshake(now, &hs),
            engine_io::Packet::Ping(data) => self.on_ping(now, &data),
            engine_io::Packet::Close => self.lose_link(now, "transport close"),
            engine_io::Packet::Message(Data::Text(t)) => {
                if self.cfg.parser == Parser::Msgpack {
                    // socket.io-msgpack-parser writes every packet as binary;
                    // its decoder refuses a string too.
                    return Err(DecodeError::InvalidPacket(
                        "a text message on a msgpack link",
                    ));
                }
                if let Some(packet) = self.decoder.decode_text(&t)? {
                    self.on_socket_packet(now, packet);
                }
            }
            engine_io::Packet::Message(Data::Binary(b)) => {
                if self.cfg.parser == Parser::Msgpack {
                    let packet = msgpack::decode(&b, &self.cfg.limits)?;
                    self.on_socket_packet(now, packet);
                } else if let Some(packet) = self.decoder.decode_binary(&b)? {
                    self.on_socket_packet(now, packet);
                }
            }
            engine_io::Packet::Pong(_) | engine_io::Packet::Upgrade | engine_io::Packet::Noop => {}
        }
        Ok(())
    }

    pub(super) fn on_socket_packet(&mut self, now: u64, packet: socket_io::Packet<'_>) {
        if self.cfg.role == Role::Link {
            return self.route(packet);
        }
        if packet.nsp() != self.cfg.namespace {
            return;
        }
        match packet {
            socket_io::Packet::Connect { .. } => {
                if self.link.phase == Phase::Joining {
                    self.joined(now);
                }
            }
            socket_io::Packet::ConnectError { data, .. } => {
                self.refused(connect_error_message(&data));
            }
            socket_io::Packet::Disconnect { .. }
                if self.link.token_expired && self.cfg.auth_per_attempt =>
            {
                // Not a kick: the server ends sockets whose token ran out,
                // and the shell can fetch a fresh one for the next attempt.
                self.lose_link(now, "token expired");
            }
            socket_io::Packet::Disconnect { .. } => {
                // socket.io semantics: the server kicked us; do not reconnect.
                self.link.wanted = false;
                self.drop_link(false);
                self.fail_in_flight(false, ErrorCode::Disconnected, "io server disconnect");
                self.settle_connect(Err(ClientError::new(
                    ErrorCode::Disconnected,
                    "io server disconnect",
                )));
                self.set_state(State::Disconnected, "io server disconnect");
            }
            socket_io::Packet::Event {
                event, data, id, ..
            } => {
                let ack = id.map(|id| self.server_acks.ask(id));
                self.on_event(
                    &event,
                    data.json.into_owned(),
                    ArgsForm::NamedArray,
                    data.attachments,
                    ack,
                );
            }
            socket_io::Packet::Ack { id, data, .. } => {
                if let Some(key) = self.requests.take_ack(id) {
                    // python-socketio (and so Flask-SocketIO, the Frinny
                    // backend) acks every event that asked for an ack with
                    // the handler's return value, usually None, often before
                    // a background reply. An empty ack is only a receipt:
                    // the reply is then the event carrying our request_id.
                    if data.attachments.is_empty() {
                        match first_arg(&data.json, 0) {
                            Some(reply) if reply != "null" => self.settle(key, Ok(reply)),
                            _ => self.requests.mark_receipted(key),
                        }
                    } else if let Some((reply, attachments)) = binary_arg(data, 0, &self.cfg.limits)
                    {
                        // BINARY_ACK: the first argument with its own attachments.
                        self.settle_with(key, Ok(reply), attachments);
                    }
                }
            }
        }
    }

    pub(super) fn on_json_frame(&mut self, text: &str) -> Result<(), DecodeError> {
        let frame = json_frame::decode(text, &self.cfg.limits)?;
        let name = frame.action.into_owned();
        self.on_event(&name, text.to_owned(), ArgsForm::Single, Vec::new(), None);
        Ok(())
    }

    pub(super) fn on_event(
        &mut self,
        name: &str,
        json: String,
        form: ArgsForm,
        attachments: Vec<Vec<u8>>,
        ack: Option<AckKey>,
    ) {
        if self.is_envelope(name, form) {
            return self.unpack(&json, &attachments, ack);
        }
        if name == names::CONNECTION_ESTABLISHED {
            self.read_offer(&json, form);
        }
        let first = match form {
            ArgsForm::NamedArray => 1,
            ArgsForm::Single => usize::MAX,
        };
        // Replies to requests carry the request_id; only look when one waits.
        let owner = if self.requests.is_empty() || !reply_policy::is_reply(name) {
            None
        } else {
            let arg = if first == usize::MAX {
                Some((json.clone(), Vec::new()))
            } else if attachments.is_empty() {
                first_arg(&json, first).map(|a| (a, Vec::new()))
            } else {
                let payload = socket_io::Payload {
                    json: Cow::Borrowed(json.as_str()),
                    attachments: attachments.clone(),
                };
                binary_arg(payload, first, &self.cfg.limits)
            };
            arg.and_then(|(a, bin)| reply_request_id(&a).map(|id| (id, a, bin)))
                .and_then(|(id, a, bin)| self.requests.by_request_id(&id).map(|k| (k, a, bin)))
        };
        match (owner, name) {
            (Some((key, arg, _)), "error") => {
                let err = ClientError::from_server_payload(&arg);
                self.note_server_error(&err);
                // Counted as it settles.
                self.settle(key, Err(err));
            }
            (Some((key, arg, bin)), _) => self.settle_with(key, Ok(arg), bin),
            (None, "error") => {
                let arg = if first == usize::MAX {
                    Some(json.clone())
                } else {
                    first_arg(&json, first)
                };
                let err = arg
                    .map(|a| ClientError::from_server_payload(&a))
                    .unwrap_or_else(|| ClientError::new(ErrorCode::ServerError, "server error"));
                self.note_server_error(&err);
                self.metrics.count_error(ErrorCode::ServerError.as_str());
                self.out.push_back(Output::Error(err));
            }
            (None, _) => {}
        }
        self.metrics.events_dispatched += 1;
        self.out.push_back(Output::Event {
            name: name.to_owned(),
            json,
            form,
            attachments,
            ack,
        });
    }

    /// Remembers a `TOKEN_EXPIRED` from the server on this link (see
    /// [`Config::auth_per_attempt`](super::Config::auth_per_attempt)).
    fn note_server_error(&mut self, err: &ClientError) {
        if err.server_code.as_deref() == Some(TOKEN_EXPIRED) {
            self.link.token_expired = true;
        }
    }
}

/// The raw JSON of element `index` of the JSON array `array`.
pub(super) fn first_arg(array: &str, index: usize) -> Option<String> {
    match json::shallow(array).ok()? {
        json::Shallow::Array(items) => items.get(index).map(|v| v.get().to_owned()),
        _ => None,
    }
}

/// Element `index` of a binary packet's argument array, as JSON with its own
/// placeholders (renumbered from 0) and attachments; `None` if the array
/// has no such element or its placeholders do not add up (the decoder has
/// checked them already).
fn binary_arg(
    payload: socket_io::Payload<'_>,
    index: usize,
    limits: &Limits,
) -> Option<(String, Vec<Vec<u8>>)> {
    match payload.into_value(limits).ok()? {
        Value::Array(items) => {
            let item = items.into_iter().nth(index)?;
            let p = socket_io::Payload::deconstruct(&item);
            Some((p.json.into_owned(), p.attachments))
        }
        _ => None,
    }
}

/// The `request_id` of a reply payload (string or number), if it has one.
fn reply_request_id(arg: &str) -> Option<String> {
    let json::Shallow::Object(fields) = json::shallow(arg).ok()? else {
        return None;
    };
    let mut ids = fields.iter().filter(|(k, _)| k == "request_id");
    let raw = ids.next()?.1.get();
    if ids.next().is_some() || raw == "null" {
        // A key given twice is unreadable; `null` is no id.
        return None;
    }
    Some(
        json::unquote(raw)
            .ok()
            .flatten()
            .unwrap_or_else(|| raw.to_owned()),
    )
}

/// CONNECT_ERROR data is `{"message": ...}` (v5) or a bare string (v4 servers).
fn connect_error_message(data: &str) -> String {
    ClientError::from_server_payload(data).message
}
