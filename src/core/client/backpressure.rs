//! Backpressure on a WebSocket: when the socket's send buffer (the
//! browser's `bufferedAmount`) is over
//! [`Config::high_water_mark`](super::Config::high_water_mark), writing
//! more only makes everything later, the urgent included. So while it is,
//! the link counts as congested: emits and requests wait in the outbox,
//! where they are ordered by priority (and bounded), and leave, high
//! first, once the socket has drained below the mark.
//!
//! The core cannot see the socket. The shell reports `bufferedAmount` with
//! [`Client::on_backpressure`]: after a send that leaves it over the mark,
//! and whenever the core asks with [`Output::CheckBackpressure`], which it
//! does every [`BACKPRESSURE_RECHECK_MS`] while congested (the browser
//! fires no event when the buffer drains). Frames the link itself needs
//! (pongs, CONNECT, DISCONNECT) never wait: a late pong would lose it.
//!
//! Long-polling has no such buffer: its equivalent is what waits for the
//! POST in flight, ordered by priority in [`transport`](super::transport).

use super::link::Phase;
use super::output::Output;
use super::timers::Timer;
use super::transport::Transport;
use super::Client;

/// How often a congested link asks the shell whether the socket drained.
pub const BACKPRESSURE_RECHECK_MS: u64 = 50;

impl Client {
    /// The WebSocket of the link holds `buffered_bytes` unsent (its
    /// `bufferedAmount`). Over the high-water mark the link is congested
    /// (emits and requests wait, and [`Output::CheckBackpressure`] asks
    /// again in [`BACKPRESSURE_RECHECK_MS`]); at or under it, a congested
    /// link sends what waited, high priority first. Ignored unless joined
    /// over a WebSocket.
    pub fn on_backpressure(&mut self, now: u64, buffered_bytes: u64) {
        if self.link.phase != Phase::Up || self.link.transport != Transport::WebSocket {
            return;
        }
        if buffered_bytes > self.cfg.high_water_mark {
            self.link.congested = true;
            if self.timers.get(Timer::Backpressure).is_none() {
                self.timers.set(
                    Timer::Backpressure,
                    now.saturating_add(BACKPRESSURE_RECHECK_MS),
                );
            }
        } else if self.link.congested {
            self.link.congested = false;
            self.timers.stop(Timer::Backpressure);
            self.flush_outbox();
        }
    }

    /// Whether the link's socket is congested: emits and requests wait.
    pub fn congested(&self) -> bool {
        self.link.congested
    }

    /// Whether a new emit or request may go on the wire now: the link is
    /// up and its socket not congested.
    pub(super) fn can_send(&self) -> bool {
        self.link.phase == Phase::Up && !self.link.congested
    }

    /// Why emits and requests wait, for a BUFFER_FULL message.
    pub(super) fn why_waiting(&self) -> &'static str {
        if self.link.phase == Phase::Up {
            "the socket is congested (bufferedAmount over highWaterMark)"
        } else {
            "not connected"
        }
    }

    /// The recheck is due: ask the shell for the socket's buffer, and
    /// again later until it has drained (so a lost answer cannot leave the
    /// link congested for good).
    pub(super) fn recheck_backpressure(&mut self, now: u64) {
        if self.timers.expire(Timer::Backpressure, now) && self.link.congested {
            self.timers.set(
                Timer::Backpressure,
                now.saturating_add(BACKPRESSURE_RECHECK_MS),
            );
            self.out.push_back(Output::CheckBackpressure);
        }
    }

    /// The link is gone, and its congestion with it.
    pub(super) fn clear_backpressure(&mut self) {
        self.link.congested = false;
        self.timers.stop(Timer::Backpressure);
    }
}
