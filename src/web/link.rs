//! What a shared Engine.IO link and the managers on it say to each other,
//! as two traits, so the driver can be either side without knowing the
//! pool ([`pool`](super::pool)) that wires them.
//!
//! - A guest's driver asks its [`LinkHost`] to attach it to the link (its
//!   core's `Open`), to detach it (`Close`), and to carry its frames.
//! - The link's driver tells its [`LinkWatcher`] when the link comes up or
//!   goes down, hands it every Socket.IO packet it decoded, and the errors
//!   of the link (a transport or protocol error) that every guest hears.

use crate::core::{ClientError, Frame, Priority, Transport};
use crate::protocol::socket_io;

/// The link as a guest's driver sees it.
pub(crate) trait LinkHost {
    /// Guest `guest` wants the link: it hears `LinkOpened` once it is up.
    fn attach(&self, guest: u64);
    /// Guest `guest` no longer uses the link (the last one closes it).
    fn detach(&self, guest: u64);
    /// Sends a guest's packet on the link: a text frame and its
    /// attachments, or one msgpack binary frame.
    fn carry(&self, priority: Priority, frame: Frame, attachments: Vec<Vec<u8>>);
    /// What the link's WebSocket holds unsent (`bufferedAmount`), if it is
    /// on one: a guest's backpressure is the link's.
    fn buffered_amount(&self) -> Option<u64>;
    /// The transport of the link, while it is up.
    fn transport(&self) -> Option<Transport>;
    /// Link-wide counters a guest's `metrics()` shows: upgrades, and when
    /// the last ping came.
    fn link_metrics(&self) -> (u64, Option<u64>);
    /// Guest `guest` has ended: it is forgotten, and the link with it when
    /// it was the last.
    fn leave(&self, guest: u64);
    /// Whether the link's inspector tap is guest `guest`'s hub (it lent
    /// the link its hub): its inspector sees the link's frames already.
    fn tapped_for(&self, guest: u64) -> bool;
}

/// The pool as the link's driver sees it.
pub(crate) trait LinkWatcher {
    /// The link came up (`true`) or the attempt or link ended (`false`).
    fn link_changed(&self, up: bool, reason: &str);
    /// A packet arrived for the namespace it names.
    fn routed(&self, packet: socket_io::Packet<'static>);
    /// The link met an error no namespace owns.
    fn link_error(&self, error: ClientError);
}
