//! The client's fixed deadlines, gathered in one table so that
//! [`Client::poll_timeout`](super::Client::poll_timeout) and
//! [`Client::on_timer`](super::Client::on_timer) see every one of them in
//! one place. Request timeouts are not here: there can be any number of
//! them, so the request table keeps them in deadline order
//! ([`Requests::next_deadline`](super::requests::Requests::next_deadline)).

/// One named deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Timer {
    /// The pending `connect()` calls give up (they settle with TIMEOUT
    /// while the attempts go on).
    ConnectCall,
    /// The current connection attempt gives up.
    Attempt,
    /// No ping from the server within pingInterval + pingTimeout.
    Heartbeat,
    /// The reconnection backoff is over: the next attempt starts.
    Reconnect,
    /// The upgrade probe gives up; the link stays on polling.
    Probe,
    /// The socket was congested: time to ask how much it still buffers.
    Backpressure,
}

/// When each [`Timer`] fires, in milliseconds on the client's clock.
#[derive(Debug, Default)]
pub(super) struct TimerTable {
    connect_call: Option<u64>,
    attempt: Option<u64>,
    heartbeat: Option<u64>,
    reconnect: Option<u64>,
    probe: Option<u64>,
    backpressure: Option<u64>,
}

impl TimerTable {
    fn slot(&mut self, timer: Timer) -> &mut Option<u64> {
        match timer {
            Timer::ConnectCall => &mut self.connect_call,
            Timer::Attempt => &mut self.attempt,
            Timer::Heartbeat => &mut self.heartbeat,
            Timer::Reconnect => &mut self.reconnect,
            Timer::Probe => &mut self.probe,
            Timer::Backpressure => &mut self.backpressure,
        }
    }

    /// When `timer` fires, if it is armed.
    pub(super) fn get(&self, timer: Timer) -> Option<u64> {
        match timer {
            Timer::ConnectCall => self.connect_call,
            Timer::Attempt => self.attempt,
            Timer::Heartbeat => self.heartbeat,
            Timer::Reconnect => self.reconnect,
            Timer::Probe => self.probe,
            Timer::Backpressure => self.backpressure,
        }
    }

    /// Arms `timer` for `at` (re-arming it if it was).
    pub(super) fn set(&mut self, timer: Timer, at: u64) {
        *self.slot(timer) = Some(at);
    }

    /// Disarms `timer`.
    pub(super) fn stop(&mut self, timer: Timer) {
        *self.slot(timer) = None;
    }

    /// Disarms `timer` and says whether it was due at `now`; a timer that
    /// is not due stays armed.
    pub(super) fn expire(&mut self, timer: Timer, now: u64) -> bool {
        let slot = self.slot(timer);
        if slot.is_some_and(|at| at <= now) {
            *slot = None;
            true
        } else {
            false
        }
    }

    /// The earliest armed deadline.
    pub(super) fn next(&self) -> Option<u64> {
        [
            self.connect_call,
            self.attempt,
            self.heartbeat,
            self.reconnect,
            self.probe,
            self.backpressure,
        ]
        .into_iter()
        .flatten()
        .min()
    }
}
