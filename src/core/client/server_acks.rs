//! The server's questions: events that carry an ack id
//! (`42/nsp,17["name",...]`, from `socket.emitWithAck` on a Node server or
//! `call` in python-socketio) wait here for the subscriber's answer, which
//! goes back as an ACK with the same id.
//!
//! A question belongs to the link it came on: the server forgets its acks
//! when the socket ends, and may number the next socket's the same way
//! again (python-socketio and socketioxide count from 1 per socket), so an
//! answer given after the link dropped would answer nothing, or the wrong
//! question. The shell therefore never sees
//! the wire id but an [`AckKey`] unique over the client's life, and the
//! table is emptied with the link. A question is answered at most once:
//! the first answer takes it.

use std::collections::VecDeque;

/// Identifies one question of the server for the client's whole life; see
/// the module docs for why it is not the wire's ack id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AckKey(pub u64);

/// Questions unanswered on one link. A server that asks faster than the
/// page answers (or asks about events nobody subscribes to) must not grow
/// the table without end: past this many the oldest is forgotten, and an
/// answer to it later does nothing.
pub const MAX_UNANSWERED_ACKS: usize = 1024;

/// The questions of the current link, oldest first.
#[derive(Debug, Default)]
pub(super) struct ServerAcks {
    /// The key of the next question.
    next: u64,
    /// `(key, wire id)`, keys ascending (each new one is the largest).
    asked: VecDeque<(u64, u64)>,
}

impl ServerAcks {
    /// Keeps the question with wire id `id` and returns its key.
    pub(super) fn ask(&mut self, id: u64) -> AckKey {
        if self.asked.len() >= MAX_UNANSWERED_ACKS {
            self.asked.pop_front();
        }
        let key = self.next;
        self.next = self.next.wrapping_add(1);
        self.asked.push_back((key, id));
        AckKey(key)
    }

    /// The wire id of the question `key`, if it waits on this link.
    pub(super) fn peek(&self, key: AckKey) -> Option<u64> {
        self.index(key)
            .and_then(|i| self.asked.get(i))
            .map(|&(_, id)| id)
    }

    /// Takes the question `key` (it is answered): its wire id, if it
    /// waited on this link.
    pub(super) fn take(&mut self, key: AckKey) -> Option<u64> {
        let i = self.index(key)?;
        self.asked.remove(i).map(|(_, id)| id)
    }

    /// The link ended: no question can be answered any more.
    pub(super) fn clear(&mut self) {
        self.asked.clear();
    }

    /// Questions waiting.
    pub(super) fn len(&self) -> usize {
        self.asked.len()
    }

    fn index(&self, key: AckKey) -> Option<usize> {
        self.asked.binary_search_by_key(&key.0, |&(k, _)| k).ok()
    }
}
