//! What waits for a link: emits, already encoded, and requests, encoded
//! when they go out (each send gets a fresh ack id). Bounded by
//! [`Config::buffer_size`](super::Config::buffer_size) so that a client
//! that never connects cannot grow without end.

use super::requests::RequestKey;
use crate::core::error::{ClientError, ErrorCode};
use std::collections::VecDeque;

/// One item waiting for a link.
#[derive(Debug)]
pub(super) enum Queued {
    /// An encoded emit, ready to send, with its binary attachments.
    Frame(String, Vec<Vec<u8>>),
    /// A request, still in the request table.
    Request(RequestKey),
}

/// The buffer, oldest first.
#[derive(Debug)]
pub(super) struct Outbox {
    queue: VecDeque<Queued>,
    capacity: usize,
}

impl Outbox {
    /// An empty outbox that holds at most `capacity` items.
    pub(super) fn new(capacity: usize) -> Self {
        Outbox {
            queue: VecDeque::new(),
            capacity,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.queue.len()
    }

    /// BUFFER_FULL when one more item would not fit.
    pub(super) fn check_room(&self) -> Result<(), ClientError> {
        if self.queue.len() >= self.capacity {
            return Err(ClientError::new(
                ErrorCode::BufferFull,
                format!(
                    "not connected and {} messages already wait",
                    self.queue.len()
                ),
            ));
        }
        Ok(())
    }

    /// Buffers an emit (room checked by the caller).
    pub(super) fn push_frame(&mut self, frame: String, attachments: Vec<Vec<u8>>) {
        self.queue.push_back(Queued::Frame(frame, attachments));
    }

    /// Buffers a request (room checked by the caller).
    pub(super) fn push_request(&mut self, key: RequestKey) {
        self.queue.push_back(Queued::Request(key));
    }

    /// Puts requests whose link died back in front of everything buffered
    /// later, in the order given (oldest first). They were counted when
    /// first buffered or sent, so they go in whatever the room.
    pub(super) fn requeue_front(&mut self, keys: Vec<RequestKey>) {
        for key in keys.into_iter().rev() {
            self.queue.push_front(Queued::Request(key));
        }
    }

    /// Drops a buffered request (it settled before it could be sent).
    pub(super) fn forget_request(&mut self, key: RequestKey) {
        self.queue
            .retain(|q| !matches!(q, Queued::Request(k) if *k == key));
    }

    /// The oldest item, taken out.
    pub(super) fn pop_front(&mut self) -> Option<Queued> {
        self.queue.pop_front()
    }

    /// The buffered requests, oldest first.
    pub(super) fn requests(&self) -> Vec<RequestKey> {
        self.queue
            .iter()
            .filter_map(|q| match q {
                Queued::Request(k) => Some(*k),
                Queued::Frame(..) => None,
            })
            .collect()
    }

    /// Drops everything.
    pub(super) fn clear(&mut self) {
        self.queue.clear();
    }
}
