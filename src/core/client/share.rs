//! One Engine.IO link shared by several namespaces, as socket.io-client's
//! Manager shares its engine among its Sockets. A [`Role::Link`] client
//! holds the link: transport, heartbeat, upgrade; it joins no namespace and
//! hands every Socket.IO packet it decodes to the shell
//! ([`Output::Routed`]), which gives it to the [`Role::Guest`] client of
//! that namespace. Guests join and leave their namespaces, keep their own
//! requests, buffer and backoff, and send on the link through the shell
//! ([`Client::carry`]). Engine-level packets (ping, pong, close,
//! upgrade) are the link's alone, so each is handled once per link.

use super::config::Role;
use super::link::Phase;
use super::outbound::Frame;
use super::output::Output;
use super::priority::Priority;
use super::timers::Timer;
use super::Client;
use crate::protocol::socket_io;

impl Client {
    /// Guest: the shared link is open (its Engine.IO handshake is done), so
    /// this attempt joins its namespace, within the connect timeout. Ignored
    /// unless the guest is waiting for the link.
    pub fn on_link_open(&mut self, now: u64) {
        if self.cfg.role != Role::Guest || self.link.phase != Phase::Opening {
            return;
        }
        self.link.phase = Phase::Handshaking;
        // The link's Engine.IO open, handed to this guest.
        self.metrics.frames_in += 1;
        self.timers.set(
            Timer::Attempt,
            now.saturating_add(self.cfg.connect_timeout_ms),
        );
        self.begin_join();
    }

    /// Guest: a packet of its namespace arrived on the shared link.
    pub fn on_link_packet(&mut self, now: u64, packet: socket_io::Packet<'_>) {
        if self.cfg.role != Role::Guest || matches!(self.link.phase, Phase::Down | Phase::Opening) {
            return;
        }
        let attachments = packet.attachments();
        self.metrics.frames_in += 1 + attachments.len() as u64;
        self.metrics.bytes_in += attachments.iter().map(|a| a.len() as u64).sum::<u64>()
            + packet.payload().map_or(0, |p| p.json.len() as u64);
        self.on_socket_packet(now, packet);
    }

    /// Link: sends a guest's packet (an Engine.IO text packet, `4...`, and
    /// the attachments that follow it, or one msgpack binary message) on
    /// the link as its own would go, at the guest's priority. Dropped while
    /// the link is not up: the guest hears of the loss and re-sends what it
    /// must once it rejoins.
    pub fn carry(&mut self, priority: Priority, frame: Frame, attachments: Vec<Vec<u8>>) {
        if self.cfg.role == Role::Link && self.link.phase == Phase::Up {
            self.send_frame(priority, frame, attachments);
        }
    }

    /// Link: a decoded packet goes to the shell for its namespace's guest.
    pub(super) fn route(&mut self, packet: socket_io::Packet<'_>) {
        self.out.push_back(Output::Routed(packet.into_owned()));
    }
}
