//! The gate of the inbound fast path: when the shell may hand a plain
//! event (`42["name",...]`, parsed with the engine's own `JSON.parse`)
//! straight to the subscribers instead of to [`Client::on_text`]. It may
//! when the core would do nothing with the event but count it and deliver
//! it; see [`Client::fast_path`] for when that is.
//!
//! [`Client::on_text`]: super::Client::on_text
//! [`Client::fast_path`]: super::Client::fast_path

use super::reply_policy;
use crate::catalogue::names;
use crate::protocol::socket_io;

/// When the shell may deliver plain events without the core: see
/// [`Client::fast_path`](super::Client::fast_path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FastPath {
    /// Every frame goes to the core.
    Closed,
    /// Plain events with an admitted name may skip the core.
    Open,
    /// As `Open`, but replies ([`reply_policy::is_reply`]) go to the core:
    /// a waiting request may be answered by one.
    ExceptReplies,
}

impl FastPath {
    /// Names never delivered without the core: `error` (it goes to
    /// `onError`), `connection_established` (it says whether the server
    /// batches) and socket.io's reserved event names.
    pub fn core_names() -> impl Iterator<Item = &'static str> {
        [names::ERROR, names::CONNECTION_ESTABLISHED]
            .into_iter()
            .chain(socket_io::RESERVED_EVENTS)
    }

    /// Whether a plain event named `name` may skip the core now.
    pub fn admits(self, name: &str) -> bool {
        let core_name = name == names::ERROR
            || name == names::CONNECTION_ESTABLISHED
            || socket_io::RESERVED_EVENTS.contains(&name);
        match self {
            FastPath::Closed => false,
            FastPath::Open => !core_name,
            FastPath::ExceptReplies => !core_name && !reply_policy::is_reply(name),
        }
    }

    /// Its number for the JS side: 0 closed, 1 open, 2 open except replies.
    pub fn as_u8(self) -> u8 {
        match self {
            FastPath::Closed => 0,
            FastPath::Open => 1,
            FastPath::ExceptReplies => 2,
        }
    }
}
