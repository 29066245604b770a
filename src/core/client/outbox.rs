//! What waits for a link that can take it (none yet, or a socket whose
//! send buffer is over the high-water mark): emits, already encoded, and
//! requests, encoded when they go out (each send gets a fresh ack id).
//! Items leave by [`Priority`], first in first out within one. Bounded by
//! [`Config::buffer_size`](super::Config::buffer_size) so that a client
//! that never connects cannot grow without end; when it is full, the
//! oldest low item makes room for a more urgent one.

use super::outbound::Frame;
use super::output::Output;
use super::priority::{Priority, Tiers};
use super::requests::RequestKey;
use super::Client;
use crate::core::error::{ClientError, ErrorCode};

/// One item waiting for a link.
#[derive(Debug)]
pub(super) enum Queued {
    /// An encoded emit, ready to send, with the binary attachments that
    /// follow a text frame; the event name says which one it was if it is
    /// given up.
    Frame {
        event: String,
        frame: Frame,
        attachments: Vec<Vec<u8>>,
    },
    /// A request, still in the request table.
    Request(RequestKey),
}

/// The buffer.
#[derive(Debug)]
pub(super) struct Outbox {
    queue: Tiers<Queued>,
    capacity: usize,
}

impl Outbox {
    /// An empty outbox that holds at most `capacity` items.
    pub(super) fn new(capacity: usize) -> Self {
        Outbox {
            queue: Tiers::default(),
            capacity,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.queue.len()
    }

    /// Items of `priority`.
    pub(super) fn len_of(&self, priority: Priority) -> usize {
        self.queue.len_of(priority)
    }

    /// Makes room for one more item of `priority`. When the buffer is full
    /// the oldest low item is taken out and returned (for the caller to
    /// settle or report) to make room for a high or normal one; with no
    /// low item to give up, or for a low one, BUFFER_FULL, its message
    /// starting with `why` (why items wait at all).
    ///
    /// One item out for one in: requests put back after a lost link may
    /// have pushed the buffer past its size, and making room never drops
    /// more than the one item the new one replaces.
    pub(super) fn make_room(
        &mut self,
        priority: Priority,
        why: &str,
    ) -> Result<Option<Queued>, ClientError> {
        if self.queue.len() < self.capacity {
            return Ok(None);
        }
        if priority != Priority::Low {
            if let Some(oldest_low) = self.queue.pop_front_of(Priority::Low) {
                return Ok(Some(oldest_low));
            }
        }
        Err(ClientError::new(
            ErrorCode::BufferFull,
            format!("{why} and {} messages already wait", self.queue.len()),
        ))
    }

    /// Buffers an emit (room made by the caller).
    pub(super) fn push_frame(
        &mut self,
        priority: Priority,
        event: &str,
        frame: Frame,
        attachments: Vec<Vec<u8>>,
    ) {
        self.queue.push_back(
            priority,
            Queued::Frame {
                event: event.to_owned(),
                frame,
                attachments,
            },
        );
    }

    /// Buffers a request (room made by the caller).
    pub(super) fn push_request(&mut self, priority: Priority, key: RequestKey) {
        self.queue.push_back(priority, Queued::Request(key));
    }

    /// Puts requests whose link died back in front of everything of their
    /// priority buffered later, in the order given (oldest first). They
    /// were counted when first buffered or sent, so they go in whatever
    /// the room.
    pub(super) fn requeue_front(&mut self, keys: Vec<(RequestKey, Priority)>) {
        for (key, priority) in keys.into_iter().rev() {
            self.queue.push_front(priority, Queued::Request(key));
        }
    }

    /// Drops a buffered request of `priority` (it settled before it could
    /// be sent).
    pub(super) fn forget_request(&mut self, key: RequestKey, priority: Priority) {
        self.queue
            .retain_in(priority, |q| !matches!(q, Queued::Request(k) if *k == key));
    }

    /// The next item to send, taken out with its priority: the oldest of
    /// the most urgent priority.
    pub(super) fn pop_front(&mut self) -> Option<(Priority, Queued)> {
        self.queue.pop_front()
    }

    /// The buffered requests, oldest first.
    pub(super) fn requests(&self) -> Vec<RequestKey> {
        let mut keys: Vec<RequestKey> = self
            .queue
            .iter()
            .filter_map(|q| match q {
                Queued::Request(k) => Some(*k),
                Queued::Frame { .. } => None,
            })
            .collect();
        // Keys are handed out in call order.
        crate::core::sort::sort(&mut keys);
        keys
    }

    /// Drops everything.
    pub(super) fn clear(&mut self) {
        self.queue.clear();
    }
}

impl Client {
    /// Makes room in the outbox for one more item of `priority`
    /// ([`Outbox::make_room`]). What is given up for it is not dropped
    /// silently: a request settles with BUFFER_FULL, an emit (which has no
    /// one to answer) is reported as an [`Output::Error`] BUFFER_FULL;
    /// both are counted in `low_dropped`.
    pub(super) fn make_room(&mut self, priority: Priority) -> Result<(), ClientError> {
        let why = self.why_waiting();
        let Some(given_up) = self.outbox.make_room(priority, why)? else {
            return Ok(());
        };
        self.metrics.low_dropped += 1;
        let message = |what: &str| {
            format!(
                "the buffer is full ({why}): {what} was dropped to make room for a more urgent one"
            )
        };
        match given_up {
            Queued::Request(key) => {
                let error =
                    ClientError::new(ErrorCode::BufferFull, message("this low-priority request"));
                self.settle(key, Err(error));
            }
            Queued::Frame { event, .. } => {
                let error = ClientError::new(
                    ErrorCode::BufferFull,
                    message(&format!("the low-priority emit of {event:?}")),
                );
                self.metrics.count_error(ErrorCode::BufferFull.as_str());
                self.out.push_back(Output::Error(error));
            }
        }
        Ok(())
    }
}
