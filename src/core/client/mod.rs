//! The client as a sans-IO state machine: it never touches a socket, a timer
//! or JS. The shell feeds it what happened (socket opened, frame received,
//! clock advanced, the user called `emit`) and carries out what it asks
//! through [`Output`]s (open a socket, send a frame, settle a request,
//! deliver an event). Time is plain milliseconds from any monotonic clock, so
//! tests drive it with simulated time.
//!
//! ```
//! use frinny_agent::core::{Client, Config, Output, State};
//! let mut c = Client::new(Config::new("http://127.0.0.1:5001"), 1);
//! c.connect(0);
//! assert!(matches!(c.poll_output(), Some(Output::Open { .. })));
//! c.on_open(5);
//! c.on_text(6, r#"0{"sid":"s","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#);
//! let sent: Vec<Output> = std::iter::from_fn(|| c.poll_output()).collect();
//! assert!(sent.contains(&Output::SendText("40".into())));
//! c.on_text(7, r#"40{"sid":"n"}"#);
//! assert_eq!(c.state(), State::Connected);
//! ```
//!
//! The client is split by concept, as quinn-proto splits its connection:
//!
//! - `link`: where the current attempt stands, the state JS sees, the
//!   heartbeat, reconnection with backoff;
//! - `timers`: the link's deadlines, in one table;
//! - `requests`: the pending request table, its indexes and settling;
//! - `outbox`: what waits for a link, and `priority`, the order it
//!   leaves in;
//! - `backpressure`: a WebSocket whose send buffer is over the
//!   high-water mark, for which emits and requests wait too;
//! - `transport`: WebSocket or long-polling, the fallback between them,
//!   and the polling loop;
//! - `upgrade`: the probe and switch from polling to WebSocket;
//! - `share`: one link shared by several namespaces (a link client and
//!   its guests);
//! - `inbound` and `outbound`: frames from and to the server;
//! - `server_acks`: the server's events that ask for an answer, until the
//!   subscriber answers or the link ends;
//! - `batch`: the `batch` envelope both ways, once the server offers it;
//! - `config` and `output`: what the client is told, and what it tells;
//! - which events are replies is the crate's
//!   [`reply_policy`](crate::core::reply_policy), shared with the JS hub.
//!
//! This file is the client's face: its inputs, user calls and socket
//! events, each of which updates those parts and queues [`Output`]s.

mod backpressure;
mod batch;
mod config;
mod inbound;
mod link;
mod outbound;
mod outbox;
mod output;
mod priority;
mod requests;
mod server_acks;
mod share;
mod timers;
mod transport;
mod upgrade;

pub use backpressure::BACKPRESSURE_RECHECK_MS;
pub use config::{Config, Parser, Protocol, Role};
pub use outbound::{EmitOptions, Frame};
pub use output::{ArgsForm, Output, State};
pub use priority::Priority;
pub use requests::{RequestKey, RequestOptions};
pub use server_acks::{AckKey, MAX_UNANSWERED_ACKS};
pub use transport::{HttpKind, Transport};

use super::error::{ClientError, ErrorCode};
use super::fast_path::FastPath;
use super::metrics::Metrics;
use super::rng::Rng;
use crate::protocol::engine_io;
use crate::protocol::{json, socket_io, DecodeError};
use batch::Coalesced;
use link::{Link, Phase};
use outbox::Outbox;
use requests::{with_request_id, Request, Requests};
use server_acks::ServerAcks;
use std::collections::VecDeque;
use timers::{Timer, TimerTable};
use transport::Polling;
use upgrade::Probe;

/// The client state machine. See the module docs.
#[derive(Debug)]
pub struct Client {
    cfg: Config,
    link: Link,
    timers: TimerTable,
    /// The Socket.IO decoder of the current link (a binary packet may be
    /// half received).
    decoder: socket_io::Decoder,
    /// Backoff jitter.
    rng: Rng,
    requests: Requests,
    /// The server's events on this link that wait for an answer.
    server_acks: ServerAcks,
    outbox: Outbox,
    /// Emits of this tick waiting to go out together.
    coalesced: Coalesced,
    /// `connect()` calls wait for their [`Output::ConnectSettled`].
    connect_waiting: bool,
    out: VecDeque<Output>,
    metrics: Metrics,
    /// The long-polling transport's requests and queue.
    polling: Polling,
    /// The upgrade to WebSocket under way, if any.
    probe: Probe,
}

impl Client {
    /// A disconnected client. `seed` feeds the backoff jitter and the
    /// request-id prefix (the shell passes a random one).
    pub fn new(cfg: Config, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let id_prefix = format!("{:08x}", rng.next_u64() as u32);
        Client {
            decoder: socket_io::Decoder::new(cfg.limits),
            outbox: Outbox::new(cfg.buffer_size),
            coalesced: Coalesced::default(),
            cfg,
            link: Link::new(),
            timers: TimerTable::default(),
            rng,
            requests: Requests::new(id_prefix),
            server_acks: ServerAcks::default(),
            connect_waiting: false,
            out: VecDeque::new(),
            metrics: Metrics::default(),
            polling: Polling::default(),
            probe: Probe::default(),
        }
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.link.state
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Requests not yet settled (in flight or buffered).
    pub fn pending_count(&self) -> usize {
        self.requests.len()
    }

    /// When the next reconnection attempt starts (on the client's clock),
    /// while it waits out the backoff; `None` otherwise.
    pub fn next_attempt_at(&self) -> Option<u64> {
        self.timers.get(Timer::Reconnect)
    }

    /// Emits and requests waiting for a connection (or for a congested
    /// socket to drain, or, while connected, emits waiting for the end of
    /// the tick to go out together).
    pub fn buffered_count(&self) -> usize {
        self.outbox.len() + self.coalesced.len()
    }

    /// Of [`buffered_count`](Self::buffered_count), those of `priority`.
    pub fn buffered_of(&self, priority: Priority) -> usize {
        self.outbox.len_of(priority)
    }

    /// The server's events on this link that asked for an answer and have
    /// none yet.
    pub fn unanswered_acks(&self) -> usize {
        self.server_acks.len()
    }

    /// Counters.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Counters, for the shell to record dispatch times and callback errors.
    pub fn metrics_mut(&mut self) -> &mut Metrics {
        &mut self.metrics
    }

    /// The next thing the shell must do, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// The earliest time [`on_timer`](Self::on_timer) must be called.
    pub fn poll_timeout(&self) -> Option<u64> {
        match (self.timers.next(), self.requests.next_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    // ----- user calls -------------------------------------------------------

    /// Starts connecting (or, if already connected, settles at once; while
    /// waiting out a reconnection backoff, tries at once). The outcome
    /// arrives as [`Output::ConnectSettled`].
    pub fn connect(&mut self, now: u64) {
        match self.link.state {
            State::Closed => {
                self.out
                    .push_back(Output::ConnectSettled(Err(closed_error())));
                return;
            }
            State::Connected => {
                self.out.push_back(Output::ConnectSettled(Ok(())));
                return;
            }
            State::Reconnecting
                if self.link.phase == Phase::Down
                    && self.timers.get(Timer::Reconnect).is_some()
                    && self.link.online =>
            {
                // Asked again while waiting out the backoff (a Retry button):
                // try now rather than at the end of the wait.
                self.timers.stop(Timer::Reconnect);
                self.start_attempt(now, State::Reconnecting, "io client connect");
            }
            State::Connecting | State::Reconnecting => {}
            State::Disconnected => {
                self.link.wanted = true;
                self.link.attempt = 0;
                // A new session: its first join is a connect, not a reconnect.
                self.link.ever_joined = false;
                if self.link.online {
                    self.start_attempt(now, State::Connecting, "io client connect");
                } else {
                    // No attempt while offline: `online` starts it.
                    self.set_state(State::Connecting, "waiting for the network");
                }
            }
        }
        if !self.connect_waiting {
            self.connect_waiting = true;
            self.timers.set(
                Timer::ConnectCall,
                now.saturating_add(self.cfg.connect_timeout_ms),
            );
        }
    }

    /// Leaves the namespace and closes the link; no automatic reconnection.
    /// In-flight requests reject with DISCONNECTED; buffered emits and
    /// requests wait for the next `connect()` (requests until their timeout).
    pub fn disconnect(&mut self, now: u64) {
        if self.link.state == State::Closed {
            return;
        }
        let _ = now;
        self.link.wanted = false;
        self.timers.stop(Timer::Reconnect);
        self.leave_namespace();
        self.drop_link(false);
        self.settle_connect(Err(ClientError::new(
            ErrorCode::Disconnected,
            "disconnect() was called",
        )));
        self.fail_in_flight(false, ErrorCode::Disconnected, "disconnect() was called");
        self.set_state(State::Disconnected, "io client disconnect");
    }

    /// Ends the client for good: every pending request (in flight or
    /// buffered) rejects with CLOSED, buffered emits are dropped and the
    /// socket is closed.
    pub fn close(&mut self, now: u64) {
        if self.link.state == State::Closed {
            return;
        }
        let _ = now;
        self.link.wanted = false;
        self.timers.stop(Timer::Reconnect);
        self.timers.stop(Timer::ConnectCall);
        self.leave_namespace();
        self.drop_link(false);
        self.settle_connect(Err(closed_error()));
        for key in self.requests.keys() {
            self.settle(key, Err(closed_error()));
        }
        self.outbox.clear();
        self.set_state(State::Closed, "closed");
    }

    /// The browser went offline: the link cannot live, so drop it now rather
    /// than wait for the heartbeat, and hold reconnection until online.
    pub fn set_online(&mut self, now: u64, online: bool) {
        if self.link.online == online {
            return;
        }
        self.link.online = online;
        if !online {
            if self.link.phase != Phase::Down {
                self.lose_link(now, "network offline");
            }
        } else if self.link.wanted
            && self.link.phase == Phase::Down
            && matches!(self.link.state, State::Connecting | State::Reconnecting)
        {
            // Back online: try at once instead of waiting out the backoff.
            self.timers.set(Timer::Reconnect, now);
        }
    }

    /// Fire and forget, with normal priority. While not connected (or the
    /// socket congested) a non-volatile emit waits in the buffer
    /// (BUFFER_FULL if it is full); a volatile one is dropped.
    pub fn emit(
        &mut self,
        event: &str,
        payload: Option<&str>,
        volatile: bool,
    ) -> Result<(), ClientError> {
        let opts = EmitOptions {
            volatile,
            ..EmitOptions::default()
        };
        self.emit_with(event, payload, Vec::new(), opts)
    }

    /// [`emit`](Self::emit) with binary attachments: `payload` holds a
    /// `{"_placeholder":true,"num":N}` object for each of `attachments`
    /// (numbered `0..attachments.len()`, each once), and the event goes out
    /// as a BINARY_EVENT: its text frame, then one binary frame per
    /// attachment (with [`Parser::Msgpack`], one binary frame with each
    /// attachment where its placeholder was). Buffered emits keep their
    /// attachments.
    pub fn emit_binary(
        &mut self,
        event: &str,
        payload: Option<&str>,
        attachments: Vec<Vec<u8>>,
        volatile: bool,
    ) -> Result<(), ClientError> {
        let opts = EmitOptions {
            volatile,
            ..EmitOptions::default()
        };
        self.emit_with(event, payload, attachments, opts)
    }

    /// [`emit_binary`](Self::emit_binary) with every option. While the
    /// emit cannot go out (not connected, or the socket
    /// [congested](Self::on_backpressure)) a volatile one is dropped and
    /// any other waits in the buffer by its priority; when the buffer is
    /// full, the oldest low item waiting makes room for a high or normal
    /// one (a request given up so settles with BUFFER_FULL, an emit is
    /// reported as an [`Output::Error`] BUFFER_FULL), and with none to
    /// give up the call fails with BUFFER_FULL.
    pub fn emit_with(
        &mut self,
        event: &str,
        payload: Option<&str>,
        attachments: Vec<Vec<u8>>,
        opts: EmitOptions,
    ) -> Result<(), ClientError> {
        if self.link.state == State::Closed {
            return Err(closed_error());
        }
        let can_send = self.can_send();
        if !can_send && opts.volatile {
            self.metrics.volatile_dropped += 1;
            return Ok(());
        }
        // Encoded now, so a bad event name or payload fails the call itself.
        let frame = self.encode_event(event, payload, &attachments, None)?;
        // A msgpack frame holds its binary already.
        let attachments = match frame {
            Frame::Text(_) => attachments,
            Frame::Binary(_) => Vec::new(),
        };
        if can_send {
            if let Some(frame) =
                self.coalesce(opts.priority, event, frame, &attachments, opts.volatile)
            {
                self.send_frame(opts.priority, frame, attachments);
            }
            return Ok(());
        }
        self.make_room(opts.priority)?;
        self.outbox
            .push_frame(opts.priority, event, frame, attachments);
        Ok(())
    }

    /// Sends `event` with `payload` (a JSON object; `request_id` is added)
    /// and waits for the reply: a Socket.IO ack, or a server event carrying
    /// the same `request_id` (`error` rejects with SERVER_ERROR). The outcome
    /// arrives as [`Output::Settled`] with the returned key. While it cannot
    /// go out it waits in the buffer by its priority, its timeout running,
    /// as an emit does (see [`emit_with`](Self::emit_with)).
    pub fn request(
        &mut self,
        now: u64,
        event: &str,
        payload: &str,
        opts: RequestOptions,
    ) -> Result<RequestKey, ClientError> {
        self.request_binary(now, event, payload, Vec::new(), opts)
    }

    /// [`request`](Self::request) with binary attachments (see
    /// [`emit_binary`](Self::emit_binary)); they are kept while the request
    /// waits in the buffer and sent again with it on a retry.
    pub fn request_binary(
        &mut self,
        now: u64,
        event: &str,
        payload: &str,
        attachments: Vec<Vec<u8>>,
        opts: RequestOptions,
    ) -> Result<RequestKey, ClientError> {
        if self.link.state == State::Closed {
            return Err(closed_error());
        }
        let (key, request_id) = self.requests.next_ids();
        let payload = with_request_id(payload, &request_id).ok_or_else(|| {
            ClientError::new(
                ErrorCode::InvalidPayload,
                "a request payload must be a JSON object",
            )
        })?;
        self.encode_event(event, Some(&payload), &attachments, None)?;
        let can_send = self.can_send();
        if !can_send {
            self.make_room(opts.priority)?;
        }
        let deadline = now.saturating_add(opts.timeout_ms.unwrap_or(self.cfg.request_timeout_ms));
        self.requests.insert(
            key,
            Request {
                event: event.to_owned(),
                payload,
                attachments,
                request_id,
                deadline,
                priority: opts.priority,
                retry: opts.retry,
                retried: false,
                ack: None,
                in_flight: false,
                receipted: false,
            },
        );
        if can_send {
            self.send_request(key);
        } else {
            self.outbox.push_request(opts.priority, key);
        }
        Ok(key)
    }

    /// Answers the server's event that came out as [`Output::Event`] with
    /// `ack: Some(key)`: an ACK with the event's id and `args`, a JSON array
    /// of the answer's arguments (`[]` for none), goes out on the link it
    /// came on; a BINARY_ACK when `attachments` is not empty (`args` then
    /// holds a `{"_placeholder":true,"num":N}` for each, as in
    /// [`emit_binary`](Self::emit_binary)).
    ///
    /// Only the first answer counts. A second one, or one after the link the
    /// event came on ended (the server has forgotten the question), does
    /// nothing but count in [`Metrics::acks_dropped`], as socket.io-client
    /// ignores it. Args that are not a JSON array, or whose placeholders do
    /// not match the attachments, fail with INVALID_PAYLOAD and leave the
    /// question open.
    ///
    /// The answer never waits in the outbox, which outlives the link: it
    /// goes out at once even on a congested socket, as the link's own
    /// frames do (the server is waiting for it, and it is small).
    pub fn answer_ack(
        &mut self,
        key: AckKey,
        args: &str,
        attachments: Vec<Vec<u8>>,
    ) -> Result<(), ClientError> {
        let Some(id) = self.server_acks.peek(key) else {
            self.metrics.acks_dropped += 1;
            return Ok(());
        };
        let packet = self.encode_ack(id, args, attachments)?;
        self.server_acks.take(key);
        self.send_packet(&packet);
        Ok(())
    }

    /// Rejects the request with ABORTED (its AbortSignal fired).
    pub fn abort(&mut self, key: RequestKey) {
        if self.requests.contains(key) {
            self.settle(
                key,
                Err(ClientError::new(
                    ErrorCode::Aborted,
                    "the request was aborted",
                )),
            );
        }
    }

    // ----- socket events ----------------------------------------------------

    /// The WebSocket opened.
    pub fn on_open(&mut self, now: u64) {
        if self.link.phase != Phase::Opening {
            return;
        }
        match self.cfg.protocol {
            Protocol::SocketIo => self.link.phase = Phase::Handshaking,
            Protocol::Json => self.joined(now),
        }
    }

    /// The WebSocket closed or failed. Before it opened, the attempt falls
    /// back to polling when the options allow it.
    pub fn on_close(&mut self, now: u64, reason: &str) {
        if self.link.phase == Phase::Down || self.link.transport != Transport::WebSocket {
            return;
        }
        if self.fall_back() {
            return;
        }
        self.lose_link(
            now,
            if reason.is_empty() {
                "transport close"
            } else {
                reason
            },
        );
    }

    /// The shell's answer to [`Output::NeedAuth`]: `auth`, a JSON object,
    /// goes out with this attempt's namespace CONNECT. Anything else than an
    /// object fails the attempt as [`on_auth_failed`](Self::on_auth_failed)
    /// does. An answer for an attempt that is over (timed out, link lost,
    /// superseded) is ignored.
    pub fn on_auth(&mut self, now: u64, attempt: u64, auth: &str) {
        if !self.awaits_auth(attempt) {
            return;
        }
        if json::object_fields(auth).is_none() {
            return self.auth_failed(
                now,
                "auth must yield an object such as { token }".to_owned(),
            );
        }
        self.send_connect(Some(auth.to_owned()));
    }

    /// The shell could not supply the auth of `attempt` (the JS function
    /// threw or rejected): reported as AUTH_FAILED, and the attempt ends as a
    /// lost link does, with backoff before the next. Stale answers are
    /// ignored.
    pub fn on_auth_failed(&mut self, now: u64, attempt: u64, message: &str) {
        if self.awaits_auth(attempt) {
            self.auth_failed(now, format!("auth failed: {message}"));
        }
    }

    /// A text frame arrived.
    pub fn on_text(&mut self, now: u64, text: &str) {
        self.metrics.frames_in += 1;
        self.metrics.bytes_in += text.len() as u64;
        if self.link.phase == Phase::Down || self.link.phase == Phase::Opening {
            return;
        }
        let result = match self.cfg.protocol {
            Protocol::SocketIo => self.on_engine_text(now, text),
            Protocol::Json => self.on_json_frame(text),
        };
        if let Err(e) = result {
            self.protocol_error(now, e);
        }
    }

    /// A binary frame arrived.
    pub fn on_binary(&mut self, now: u64, bytes: &[u8]) {
        self.metrics.frames_in += 1;
        self.metrics.bytes_in += bytes.len() as u64;
        if self.link.phase == Phase::Down || self.link.phase == Phase::Opening {
            return;
        }
        if self.cfg.protocol == Protocol::Json {
            return self.protocol_error(
                now,
                DecodeError::InvalidPayload("binary frame on the JSON protocol"),
            );
        }
        let result = engine_io::Packet::decode_binary(bytes, &self.cfg.limits)
            .and_then(|p| self.on_engine_packet(now, p));
        if let Err(e) = result {
            self.protocol_error(now, e);
        }
    }

    /// Whether the shell may deliver plain events itself: root-namespace
    /// EVENTs without ack id or attachments (`42["name",...]`) that it parsed
    /// with the engine's own `JSON.parse`, instead of handing the frame to
    /// [`on_text`](Self::on_text). Open only while this client would do
    /// nothing with such an event but count it and hand it to subscribers:
    /// the link is up on the root namespace, speaks the JSON parser (a
    /// msgpack link has no such text frames) and no binary packet is half
    /// received; while requests wait, replies stay with the core. Which
    /// names are admitted is [`FastPath::admits`]. The shell asks after
    /// every input (the answer only changes then) and reports what it
    /// delivered with [`on_plain_events`](Self::on_plain_events).
    ///
    /// This is the inbound fast path: it spares copying the frame into
    /// wasm and validating it twice. The depth limit is the engine's
    /// there: it guards Rust's recursion, which this path does not use.
    pub fn fast_path(&self) -> FastPath {
        if self.link.phase != Phase::Up
            || self.cfg.role == Role::Link
            || self.cfg.protocol != Protocol::SocketIo
            || self.cfg.parser != Parser::Json
            || self.cfg.namespace != "/"
            || self.decoder.pending_attachments().is_some()
        {
            FastPath::Closed
        } else if self.requests.is_empty() {
            FastPath::Open
        } else {
            FastPath::ExceptReplies
        }
    }

    /// Counts `events` plain events in `frames` frames of `bytes` in all
    /// that the shell delivered itself (see [`fast_path`](Self::fast_path));
    /// more events than frames when it unpacked `batch` envelopes.
    pub fn on_plain_events(&mut self, frames: u64, events: u64, bytes: u64) {
        self.metrics.frames_in += frames;
        self.metrics.bytes_in += bytes;
        self.metrics.events_dispatched += events;
    }

    /// The clock reached `now`: fire every deadline that passed.
    pub fn on_timer(&mut self, now: u64) {
        // The connect() calls give up; the attempts go on.
        if self.timers.expire(Timer::ConnectCall, now) && self.connect_waiting {
            self.metrics.count_error(ErrorCode::Timeout.as_str());
            self.settle_connect(Err(ClientError::new(
                ErrorCode::Timeout,
                format!(
                    "not connected within {} ms; still trying",
                    self.cfg.connect_timeout_ms
                ),
            )));
        }
        if self.timers.expire(Timer::Attempt, now) {
            // A WebSocket that neither opens nor fails (a proxy holding it)
            // gets polling for the rest of the attempt's time.
            if self.fall_back() {
                self.timers.set(
                    Timer::Attempt,
                    now.saturating_add(self.cfg.connect_timeout_ms),
                );
            } else {
                self.lose_link(now, "connect timeout");
            }
        }
        if self.timers.expire(Timer::Heartbeat, now) {
            self.lose_link(now, "ping timeout");
        }
        self.on_probe_timer(now);
        self.recheck_backpressure(now);
        while let Some(key) = self.requests.first_expired(now) {
            let event = self
                .requests
                .get(key)
                .map(|r| r.event.clone())
                .unwrap_or_default();
            self.metrics.timeouts += 1;
            self.settle(
                key,
                Err(ClientError::new(
                    ErrorCode::Timeout,
                    format!("no reply to {event:?} in time"),
                )),
            );
        }
        if self.timers.expire(Timer::Reconnect, now)
            && self.link.wanted
            && self.link.online
            && self.link.phase == Phase::Down
        {
            // A first connect that waited for the network stays `connecting`.
            let state = if self.link.state == State::Connecting {
                State::Connecting
            } else {
                State::Reconnecting
            };
            self.start_attempt(now, state, "reconnect attempt");
        }
    }
}

fn closed_error() -> ClientError {
    ClientError::new(ErrorCode::Closed, "the manager is closed")
}
