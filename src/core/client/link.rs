//! The link to the server and its life: where the current attempt stands,
//! the connection state JS sees, the heartbeat, and reconnection with
//! backoff. A link is one socket; a session (from `connect()` to
//! `disconnect()`) may go through many links.

use super::config::{Protocol, Role};
use super::output::{Output, State};
use super::timers::Timer;
use super::transport::Transport;
use super::Client;
use crate::catalogue::BatchCapability;
use crate::core::error::{ClientError, ErrorCode};
use crate::protocol::engine_io::Handshake;
use crate::protocol::socket_io;
use crate::protocol::DecodeError;
use std::borrow::Cow;

/// Where the current attempt stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// No socket.
    Down,
    /// Socket asked for, not open yet.
    Opening,
    /// Socket open, waiting for the Engine.IO open packet.
    Handshaking,
    /// Handshake done, waiting for the shell to supply the CONNECT auth.
    Authorizing,
    /// Namespace CONNECT sent, waiting for the server's CONNECT.
    Joining,
    /// Joined: events flow.
    Up,
}

/// The link's state, apart from its deadlines (in the client's
/// [`TimerTable`](super::timers::TimerTable)).
#[derive(Debug)]
pub(super) struct Link {
    pub(super) phase: Phase,
    pub(super) state: State,
    /// The user wants to be connected (connect() called, not disconnect()).
    pub(super) wanted: bool,
    pub(super) online: bool,
    /// Attempts since the last join, for the backoff.
    pub(super) attempt: u32,
    /// This session joined once: the next join is a reconnect.
    pub(super) ever_joined: bool,
    /// pingInterval + pingTimeout from the handshake.
    heartbeat_ms: u64,
    /// Number of the latest [`Output::NeedAuth`]; only its answer counts.
    auth_attempt: u64,
    /// The server said `TOKEN_EXPIRED` on this link: its DISCONNECT that
    /// follows is a lost link when the auth is supplied per attempt.
    pub(super) token_expired: bool,
    /// The transport of the current link (or of the last one).
    pub(super) transport: Transport,
    /// This attempt's WebSocket failed to open and it went on over polling.
    pub(super) fell_back: bool,
    /// An attempt fell back to polling and joined there: the WebSocket is
    /// blocked on the way to this server (a proxy), so later attempts start
    /// on polling. A server that was simply down does not count, since its
    /// polling failed too; an upgrade that succeeds clears it.
    pub(super) websocket_failed: bool,
    /// Long-polling requests made by this client, for their cache buster.
    pub(super) http_requests: u64,
    /// The link's WebSocket buffers more than the high-water mark:
    /// emits and requests wait (see `backpressure`).
    pub(super) congested: bool,
    /// What the server offered for batching on this link, once its
    /// `connection_established` said so.
    pub(super) batch: Option<BatchCapability>,
}

impl Link {
    pub(super) fn new() -> Self {
        Link {
            phase: Phase::Down,
            state: State::Disconnected,
            wanted: false,
            online: true,
            attempt: 0,
            ever_joined: false,
            heartbeat_ms: 0,
            auth_attempt: 0,
            token_expired: false,
            transport: Transport::WebSocket,
            fell_back: false,
            websocket_failed: false,
            http_requests: 0,
            congested: false,
            batch: None,
        }
    }
}

impl Client {
    pub(super) fn start_attempt(&mut self, now: u64, state: State, reason: &str) {
        self.decoder = socket_io::Decoder::new(self.cfg.limits);
        // A guest's attempt is timed from when the link opens: until then
        // the link's own attempt (with its fallback) is what runs.
        if self.cfg.role != Role::Guest {
            self.timers.set(
                Timer::Attempt,
                now.saturating_add(self.cfg.connect_timeout_ms),
            );
        }
        self.open_transport();
        self.set_state(state, reason);
    }

    /// The Engine.IO open packet: the heartbeat starts, then the namespace
    /// CONNECT goes out (or waits for its auth).
    pub(super) fn on_handshake(&mut self, now: u64, hs: &Handshake) {
        if self.link.phase != Phase::Handshaking {
            return;
        }
        self.link.heartbeat_ms = hs.ping_interval.saturating_add(hs.ping_timeout);
        self.timers
            .set(Timer::Heartbeat, now.saturating_add(self.link.heartbeat_ms));
        self.maybe_upgrade(now, hs);
        if self.cfg.role == Role::Link {
            // The link is up; namespaces are the guests' to join.
            return self.joined(now);
        }
        self.begin_join();
    }

    /// The namespace CONNECT goes out, or waits for its auth.
    pub(super) fn begin_join(&mut self) {
        if self.cfg.auth_per_attempt {
            self.link.phase = Phase::Authorizing;
            self.link.auth_attempt = self.link.auth_attempt.wrapping_add(1);
            self.out.push_back(Output::NeedAuth {
                attempt: self.link.auth_attempt,
            });
        } else {
            let auth = self.cfg.auth.clone();
            self.send_connect(auth);
        }
    }

    /// A ping from the server: the next one is due within one interval +
    /// timeout of this one.
    pub(super) fn on_ping(&mut self, now: u64, data: &str) {
        self.metrics.last_ping_ms = Some(now);
        if self.timers.get(Timer::Heartbeat).is_some() {
            self.timers
                .set(Timer::Heartbeat, now.saturating_add(self.link.heartbeat_ms));
        }
        let mut pong = String::with_capacity(1 + data.len());
        pong.push('3');
        pong.push_str(data);
        self.send_frame_text(pong);
    }

    pub(super) fn awaits_auth(&self, attempt: u64) -> bool {
        self.link.phase == Phase::Authorizing && attempt == self.link.auth_attempt
    }

    pub(super) fn auth_failed(&mut self, now: u64, message: String) {
        self.metrics.count_error(ErrorCode::AuthFailed.as_str());
        self.out.push_back(Output::Error(ClientError::new(
            ErrorCode::AuthFailed,
            message,
        )));
        self.lose_link(now, "auth failed");
    }

    /// Sends the namespace CONNECT with `auth` and waits for the server's.
    pub(super) fn send_connect(&mut self, auth: Option<String>) {
        self.link.phase = Phase::Joining;
        let nsp = Cow::Owned(self.cfg.namespace.clone());
        let connect = socket_io::Packet::Connect {
            nsp,
            auth: auth.map(Cow::Owned),
        };
        self.send_packet(&connect);
    }

    /// Tells the server this client leaves the namespace (the plain-JSON
    /// wire has no such message: closing the socket says it).
    pub(super) fn leave_namespace(&mut self) {
        if self.link.phase == Phase::Up
            && self.cfg.protocol == Protocol::SocketIo
            && self.cfg.role != Role::Link
        {
            let packet = socket_io::Packet::Disconnect {
                nsp: Cow::Owned(self.cfg.namespace.clone()),
            };
            self.send_packet(&packet);
        }
    }

    pub(super) fn joined(&mut self, now: u64) {
        let was_reconnect = self.link.ever_joined;
        self.link.phase = Phase::Up;
        self.link.ever_joined = true;
        self.link.attempt = 0;
        if self.link.fell_back {
            self.link.websocket_failed = true;
        }
        self.timers.stop(Timer::Attempt);
        self.metrics.connects += 1;
        if was_reconnect {
            self.metrics.reconnects += 1;
        }
        let _ = now;
        self.set_state(
            State::Connected,
            if was_reconnect {
                "reconnected"
            } else {
                "connected"
            },
        );
        self.settle_connect(Ok(()));
        self.flush_outbox();
    }

    /// Drops the socket. In-flight state that belongs to it is cleared.
    pub(super) fn drop_link(&mut self, tell_shell: bool) {
        if self.link.phase != Phase::Down || tell_shell {
            self.out.push_back(Output::Close);
        }
        self.abandon_upgrade();
        self.requeue_coalesced();
        self.link.batch = None;
        self.link.phase = Phase::Down;
        self.polling = Default::default();
        self.timers.stop(Timer::Attempt);
        self.timers.stop(Timer::Heartbeat);
        self.clear_backpressure();
        self.link.token_expired = false;
        self.decoder = socket_io::Decoder::new(self.cfg.limits);
        // The server forgets its questions with the socket.
        self.server_acks.clear();
    }

    /// The link died without the user asking: settle or re-queue what was
    /// in flight, then reconnect with backoff.
    pub(super) fn lose_link(&mut self, now: u64, reason: &str) {
        self.drop_link(false);
        let reconnecting = self.link.wanted && self.cfg.reconnection;
        self.fail_in_flight(reconnecting, ErrorCode::Disconnected, reason);
        if !reconnecting {
            self.link.wanted = false;
            self.settle_connect(Err(ClientError::new(
                ErrorCode::Disconnected,
                reason.to_owned(),
            )));
            self.set_state(State::Disconnected, reason);
            return;
        }
        match self
            .cfg
            .backoff
            .delay(self.link.attempt, self.rng.next_f64())
        {
            Some(delay) => {
                self.link.attempt += 1;
                self.timers.set(Timer::Reconnect, now.saturating_add(delay));
                self.set_state(State::Reconnecting, reason);
            }
            None => {
                self.link.wanted = false;
                let msg = format!("gave up after {} reconnection attempts", self.link.attempt);
                self.settle_connect(Err(ClientError::new(
                    ErrorCode::ReconnectFailed,
                    msg.clone(),
                )));
                for key in self.outbox.requests() {
                    self.settle(
                        key,
                        Err(ClientError::new(ErrorCode::ReconnectFailed, msg.clone())),
                    );
                }
                self.metrics
                    .count_error(ErrorCode::ReconnectFailed.as_str());
                self.set_state(State::Disconnected, "reconnect failed");
            }
        }
    }

    /// The server answered CONNECT with CONNECT_ERROR: nothing would ever
    /// send what waits, so every request rejects.
    pub(super) fn refused(&mut self, message: String) {
        self.link.wanted = false;
        self.drop_link(false);
        let err = ClientError::new(ErrorCode::ConnectRefused, message.clone());
        self.metrics.count_error(ErrorCode::ConnectRefused.as_str());
        self.settle_connect(Err(err.clone()));
        for key in self.requests.keys() {
            self.settle(key, Err(err.clone()));
        }
        self.set_state(State::Disconnected, "connect refused");
    }

    pub(super) fn protocol_error(&mut self, now: u64, e: DecodeError) {
        self.metrics.count_error(e.code());
        self.out.push_back(Output::Error(ClientError::from(e)));
        if self.cfg.protocol == Protocol::Json {
            // Each WebSocket frame is one whole JSON message: a bad one
            // leaves the frames around it intact, so the link and what
            // waits on it stay.
            return;
        }
        // As socket.io-client does on a decode error: drop the link and
        // reconnect, since a packet stream (binary attachments follow their
        // header) can no longer be trusted.
        self.lose_link(now, "parse error");
    }

    pub(super) fn set_state(&mut self, state: State, reason: &str) {
        if self.link.state != state {
            self.link.state = state;
            self.out.push_back(Output::StateChange {
                state,
                reason: reason.to_owned(),
            });
        }
    }

    /// Settles the pending `connect()` calls, if any wait.
    pub(super) fn settle_connect(&mut self, result: Result<(), ClientError>) {
        if self.connect_waiting {
            self.connect_waiting = false;
            self.timers.stop(Timer::ConnectCall);
            self.out.push_back(Output::ConnectSettled(result));
        }
    }
}
