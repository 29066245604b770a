//! The transport under the link: a WebSocket, or Engine.IO's HTTP
//! long-polling as socket.io-client does it. Which one an attempt starts
//! on, the fallback to polling when a WebSocket cannot open, and the
//! polling loop: one long-poll GET always waiting for the server's
//! packets, and POSTs of what the client writes, never more than one of
//! each in flight (what is written while a POST is out waits and goes as
//! one payload when it returns, ordered by priority: the POST queue is
//! polling's equivalent of a WebSocket's send buffer).
//!
//! The shell performs the requests ([`Output::HttpGet`],
//! [`Output::HttpPost`]) and reports their results
//! ([`Client::on_http_response`], [`Client::on_http_failed`]); everything
//! else is decided here.

use super::config::{Protocol, Role};
use super::link::Phase;
use super::outbound::Frame;
use super::output::Output;
use super::priority::{Priority, Tiers};
use super::Client;
use crate::core::error::{ClientError, ErrorCode};
use crate::protocol::engine_io::{self, Data};
use std::borrow::Cow;

/// How the link carries Engine.IO packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// One WebSocket, a packet per frame.
    WebSocket,
    /// HTTP long-polling: GETs bring payloads of packets, POSTs carry them.
    Polling,
}

impl Transport {
    /// The name socket.io-client uses (`'websocket'`, `'polling'`).
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::WebSocket => "websocket",
            Transport::Polling => "polling",
        }
    }

    /// The transport named `name`, if it is one.
    pub fn from_name(name: &str) -> Option<Transport> {
        match name {
            "websocket" => Some(Transport::WebSocket),
            "polling" => Some(Transport::Polling),
            _ => None,
        }
    }
}

/// Which long-polling request a result belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpKind {
    /// The long-poll GET.
    Get,
    /// A POST of written packets.
    Post,
}

/// One packet written while on polling, waiting for its POST: an
/// Engine.IO text packet (`42[...]`, `3`, ...) and the binary messages
/// that follow it, or one msgpack packet (binary messages are sent as
/// `b<base64>`). Kept whole so that reordering by priority never puts
/// another packet between a BINARY_EVENT's header and its attachments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Written {
    pub(super) frame: Frame,
    pub(super) attachments: Vec<Vec<u8>>,
}

/// The polling transport's state for the current link.
#[derive(Debug, Default)]
pub(super) struct Polling {
    /// The Engine.IO session, once the handshake gave it.
    pub(super) sid: Option<String>,
    pub(super) get_in_flight: bool,
    pub(super) post_in_flight: bool,
    /// An upgrade is under way: no new GET or POST (what is written waits).
    pub(super) paused: bool,
    /// Written, not yet POSTed, by priority (the link's own packets as
    /// normal ones).
    pub(super) queue: Tiers<Written>,
}

/// Whether an HTTP error body is Engine.IO's `{"code":1,"message":"Session
/// ID unknown"}`: the server has forgotten this session.
fn session_unknown(status: u16, body: &str) -> bool {
    status == 400
        && serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("code").and_then(serde_json::Value::as_u64))
            == Some(1)
}

impl Client {
    /// The transport in use, while joined.
    pub fn transport(&self) -> Option<Transport> {
        (self.link.phase == Phase::Up).then_some(self.link.transport)
    }

    /// The transport a new attempt starts on: the first configured one, or
    /// polling once an attempt joined over polling after its WebSocket
    /// failed to open (so a client behind a proxy that blocks WebSockets
    /// does not wait for one on every reconnection).
    pub(super) fn first_transport(&self) -> Transport {
        if self.cfg.protocol == Protocol::Json {
            return Transport::WebSocket;
        }
        if self.link.websocket_failed && self.cfg.allows(Transport::Polling) {
            return Transport::Polling;
        }
        self.cfg
            .transports
            .first()
            .copied()
            .unwrap_or(Transport::WebSocket)
    }

    /// Starts the transport of a new attempt.
    pub(super) fn open_transport(&mut self) {
        if self.cfg.role == Role::Guest {
            // Attach to the shared link, whatever carries it.
            self.link.transport = Transport::WebSocket;
            self.link.phase = Phase::Opening;
            self.out.push_back(Output::Open {
                url: self.cfg.websocket_url(),
            });
            return;
        }
        self.link.transport = self.first_transport();
        self.link.fell_back = false;
        self.polling = Polling::default();
        match self.link.transport {
            Transport::WebSocket => {
                self.link.phase = Phase::Opening;
                self.out.push_back(Output::Open {
                    url: self.cfg.websocket_url(),
                });
            }
            Transport::Polling => {
                // The handshake is the first GET's answer.
                self.link.phase = Phase::Handshaking;
                self.poll();
            }
        }
    }

    /// The WebSocket of this attempt failed before it opened (an error, or
    /// the attempt's timeout): when polling is allowed, the attempt goes on
    /// over polling at once (and if it joins there, later attempts start on
    /// polling). Says whether it did.
    pub(super) fn fall_back(&mut self) -> bool {
        if self.link.transport != Transport::WebSocket
            || self.link.phase != Phase::Opening
            || self.cfg.role == Role::Guest
            || self.cfg.protocol != Protocol::SocketIo
            || !self.cfg.allows(Transport::Polling)
        {
            return false;
        }
        self.link.fell_back = true;
        self.out.push_back(Output::Close);
        self.link.transport = Transport::Polling;
        self.polling = Polling::default();
        self.link.phase = Phase::Handshaking;
        self.poll();
        true
    }

    /// Writes one Engine.IO packet (text, or a msgpack binary message) and
    /// the binary messages that follow it on the transport in use; on
    /// polling, `priority` orders it among what waits for the POST in
    /// flight.
    pub(super) fn transmit(&mut self, priority: Priority, frame: Frame, attachments: Vec<Vec<u8>>) {
        if self.cfg.role == Role::Guest {
            return self.out.push_back(Output::Carry {
                priority,
                frame,
                attachments,
            });
        }
        match self.link.transport {
            Transport::WebSocket => self.send_on_websocket(frame, attachments),
            Transport::Polling => {
                self.polling
                    .queue
                    .push_back(priority, Written { frame, attachments });
                self.post();
            }
        }
    }

    /// A frame and its attachments as WebSocket messages.
    pub(super) fn send_on_websocket(&mut self, frame: Frame, attachments: Vec<Vec<u8>>) {
        self.out.push_back(match frame {
            Frame::Text(text) => Output::SendText(text),
            Frame::Binary(bytes) => Output::SendBinary(bytes),
        });
        for bytes in attachments {
            self.out.push_back(Output::SendBinary(bytes));
        }
    }

    /// The cache buster of the next request: a counter over the client's
    /// life, so no two requests share a URL.
    fn cache_buster(&mut self) -> String {
        self.link.http_requests = self.link.http_requests.wrapping_add(1);
        format!("{:x}", self.link.http_requests)
    }

    /// Sends the long-poll GET, unless one is out or an upgrade pauses.
    fn poll(&mut self) {
        if self.polling.get_in_flight || self.polling.paused || self.link.phase == Phase::Down {
            return;
        }
        let t = self.cache_buster();
        let url = self.cfg.polling_url(self.polling.sid.as_deref(), &t);
        self.polling.get_in_flight = true;
        self.out.push_back(Output::HttpGet { url });
    }

    /// POSTs everything written as one payload, unless a POST is out, an
    /// upgrade pauses, or there is no session yet.
    fn post(&mut self) {
        if self.polling.post_in_flight
            || self.polling.paused
            || self.polling.queue.is_empty()
            || self.link.phase == Phase::Down
        {
            return;
        }
        let Some(sid) = self.polling.sid.clone() else {
            return;
        };
        let mut body = String::new();
        for written in self.polling.queue.drain() {
            if !body.is_empty() {
                body.push(engine_io::SEPARATOR);
            }
            match written.frame {
                Frame::Text(text) => body.push_str(&text),
                Frame::Binary(bytes) => engine_io::Packet::Message(Data::Binary(Cow::Owned(bytes)))
                    .encode_text_into(&mut body),
            }
            for bytes in written.attachments {
                body.push(engine_io::SEPARATOR);
                engine_io::Packet::Message(Data::Binary(Cow::Owned(bytes)))
                    .encode_text_into(&mut body);
            }
        }
        let t = self.cache_buster();
        let url = self.cfg.polling_url(Some(&sid), &t);
        self.polling.post_in_flight = true;
        self.out.push_back(Output::HttpPost { url, body });
    }

    /// A long-polling request came back with an HTTP response: `status`,
    /// its `Content-Type` and its body as text. A GET's payload is decoded
    /// and its packets handled in order, then the next GET goes out; a
    /// POST's return sends what was written meanwhile. An HTTP error
    /// status, or a GET body that is not `text/plain`, is a
    /// TRANSPORT_ERROR and the link reconnects (400 `Session ID unknown`
    /// says the server forgot the session); a payload that does not decode
    /// is a PROTOCOL_ERROR, likewise. Results of a request that no longer
    /// belongs to the link are ignored.
    pub fn on_http_response(
        &mut self,
        now: u64,
        kind: HttpKind,
        status: u16,
        content_type: &str,
        body: &str,
    ) {
        if !self.owns_request(kind) {
            return;
        }
        match kind {
            HttpKind::Get => self.polling.get_in_flight = false,
            HttpKind::Post => self.polling.post_in_flight = false,
        }
        if !(200..300).contains(&status) {
            let what = match kind {
                HttpKind::Get => "GET",
                HttpKind::Post => "POST",
            };
            let message = if session_unknown(status, body) {
                format!(
                    "polling {what}: HTTP 400 Session ID unknown (the server forgot the session)"
                )
            } else {
                format!("polling {what}: HTTP {status}")
            };
            return self.transport_error(now, message);
        }
        match kind {
            HttpKind::Post => {
                self.post();
                self.try_finish_upgrade(now);
            }
            HttpKind::Get => self.on_poll_payload(now, content_type, body),
        }
    }

    /// A long-polling request failed without an HTTP response (network
    /// error, CORS refusal): the link is lost, as when a WebSocket errors.
    pub fn on_http_failed(&mut self, now: u64, kind: HttpKind, reason: &str) {
        if !self.owns_request(kind) {
            return;
        }
        let _ = reason;
        self.lose_link(now, "transport error");
    }

    /// Whether a request of `kind` of the current polling link is out.
    fn owns_request(&self, kind: HttpKind) -> bool {
        self.link.transport == Transport::Polling
            && self.link.phase != Phase::Down
            && match kind {
                HttpKind::Get => self.polling.get_in_flight,
                HttpKind::Post => self.polling.post_in_flight,
            }
    }

    fn on_poll_payload(&mut self, now: u64, content_type: &str, body: &str) {
        // Engine.IO answers polls with `text/plain; charset=UTF-8`; anything
        // else is a proxy's page or another server.
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if essence != "text/plain" {
            return self.transport_error(
                now,
                format!("polling GET: content type {content_type:?}, not text/plain"),
            );
        }
        self.metrics.bytes_in += body.len() as u64;
        let packets = match engine_io::decode_payload(body, &self.cfg.limits) {
            Ok(packets) => packets,
            Err(e) => return self.protocol_error(now, e),
        };
        for packet in packets {
            self.metrics.frames_in += 1;
            if let engine_io::Packet::Open(hs) = &packet {
                if self.polling.sid.is_none() {
                    self.polling.sid = Some(hs.sid.clone());
                }
            }
            if let Err(e) = self.on_engine_packet(now, packet) {
                return self.protocol_error(now, e);
            }
            // A packet may have ended the link (a close, a kick) or the
            // upgrade may have finished.
            if self.link.phase == Phase::Down || self.link.transport != Transport::Polling {
                return;
            }
        }
        self.poll();
        self.try_finish_upgrade(now);
    }

    /// An answer the polling transport cannot use: reported, counted, and
    /// the link reconnects with backoff.
    fn transport_error(&mut self, now: u64, message: String) {
        self.metrics.count_error(ErrorCode::TransportError.as_str());
        self.out.push_back(Output::Error(ClientError::new(
            ErrorCode::TransportError,
            message,
        )));
        self.lose_link(now, "transport error");
    }

    /// An upgrade resumes polling after its probe failed: the GET and what
    /// waits to be POSTed go out again.
    pub(super) fn resume_polling(&mut self) {
        self.polling.paused = false;
        self.poll();
        self.post();
    }
}
