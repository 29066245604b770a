//! The upgrade from long-polling to a WebSocket, as socket.io-client does
//! it: when the handshake offers `websocket`, a probe WebSocket opens with
//! the session's `sid` and sends `2probe`; on `3probe` the polling
//! transport pauses (the GET and POST in flight finish, no new ones go
//! out), then `5` (upgrade) goes on the probe, which becomes the link's
//! socket, and what was written meanwhile follows on it, by priority and
//! in order within one. If the probe fails, or has not switched within the
//! connect timeout (a proxy that holds WebSockets open but passes nothing),
//! the client stays on polling, which resumes.
//!
//! The shell opens the probe ([`Output::OpenProbe`]), sends on it
//! ([`Output::SendProbe`]), closes it ([`Output::CloseProbe`]) or makes it
//! the link's socket ([`Output::Upgraded`]), and reports its events
//! ([`Client::on_probe_open`], [`Client::on_probe_text`],
//! [`Client::on_probe_close`]).

use super::link::Phase;
use super::output::Output;
use super::timers::Timer;
use super::transport::Transport;
use super::Client;
use crate::protocol::engine_io::Handshake;

/// Where the upgrade of the current link stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Probe {
    /// No upgrade under way (none offered, done, or failed).
    #[default]
    None,
    /// The probe WebSocket is opening.
    Opening,
    /// `2probe` sent, waiting for `3probe`.
    Pinged,
    /// `3probe` came: polling pauses; the upgrade finishes once its
    /// requests in flight are back.
    Pausing,
}

impl Client {
    /// After a handshake on polling: probe a WebSocket if the server offers
    /// one and the options allow it.
    pub(super) fn maybe_upgrade(&mut self, now: u64, hs: &Handshake) {
        if self.link.transport != Transport::Polling
            || !self.cfg.upgrade
            || !self.cfg.allows(Transport::WebSocket)
            || !hs.upgrades.iter().any(|u| u == "websocket")
        {
            return;
        }
        self.probe = Probe::Opening;
        self.timers.set(
            Timer::Probe,
            now.saturating_add(self.cfg.connect_timeout_ms),
        );
        self.out.push_back(Output::OpenProbe {
            url: self.cfg.probe_url(&hs.sid),
        });
    }

    /// The probe WebSocket opened: ping it.
    pub fn on_probe_open(&mut self, now: u64) {
        let _ = now;
        if self.probe == Probe::Opening {
            self.probe = Probe::Pinged;
            self.out.push_back(Output::SendProbe("2probe".to_owned()));
        }
    }

    /// A text frame on the probe WebSocket: `3probe` pauses polling;
    /// anything else fails the probe.
    pub fn on_probe_text(&mut self, now: u64, text: &str) {
        match self.probe {
            Probe::Pinged if text == "3probe" => {
                self.probe = Probe::Pausing;
                self.polling.paused = true;
                self.try_finish_upgrade(now);
            }
            Probe::None => {}
            _ => self.probe_failed(),
        }
    }

    /// The probe WebSocket closed or failed before the switch: stay on
    /// polling.
    pub fn on_probe_close(&mut self, now: u64) {
        let _ = now;
        if self.probe != Probe::None {
            self.probe_failed();
        }
    }

    /// The probe's time is up: unless it already switched, it failed.
    pub(super) fn on_probe_timer(&mut self, now: u64) {
        if self.timers.expire(Timer::Probe, now) && self.probe != Probe::None {
            self.probe_failed();
        }
    }

    fn probe_failed(&mut self) {
        self.probe = Probe::None;
        self.timers.stop(Timer::Probe);
        self.out.push_back(Output::CloseProbe);
        if self.link.phase != Phase::Down && self.link.transport == Transport::Polling {
            self.resume_polling();
        }
    }

    /// Switches to the probe once polling is paused and idle: `5` on the
    /// probe, the probe becomes the link's socket, and what was written
    /// during the pause goes out on it as a POST would have carried it.
    pub(super) fn try_finish_upgrade(&mut self, now: u64) {
        let _ = now;
        if self.probe != Probe::Pausing
            || self.polling.get_in_flight
            || self.polling.post_in_flight
            || self.link.phase == Phase::Down
        {
            return;
        }
        self.probe = Probe::None;
        self.timers.stop(Timer::Probe);
        self.out.push_back(Output::SendProbe("5".to_owned()));
        self.out.push_back(Output::Upgraded);
        self.link.transport = Transport::WebSocket;
        // WebSockets get through after all: the next attempt starts on one.
        self.link.websocket_failed = false;
        self.metrics.upgrades += 1;
        for written in self.polling.queue.drain() {
            self.send_on_websocket(written.frame, written.attachments);
        }
        self.polling = Default::default();
    }

    /// The link is dropped: an upgrade under way ends with it.
    pub(super) fn abandon_upgrade(&mut self) {
        self.timers.stop(Timer::Probe);
        if self.probe != Probe::None {
            self.probe = Probe::None;
            self.out.push_back(Output::CloseProbe);
        }
    }
}
