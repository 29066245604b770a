//! The ack side of a client event: socketioxide's [`AckSender`] for an
//! event that came alone, nothing for an entry of a `batch` envelope (an
//! entry has no ack id of its own). Either way the handlers answer through
//! the same [`Reply::send`], which first flushes the socket's waiting batch
//! so that an ack never overtakes an event pushed before it.

use crate::batch::Batcher;
use serde::Serialize;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, SocketRef};
use socketioxide::SendError;
use std::sync::Arc;

/// Where a handler's answer goes, once.
pub struct Reply<A: Adapter> {
    ack: Option<AckSender<A>>,
    /// The batcher and the socket whose batch goes first.
    flush: Option<(Arc<Batcher>, SocketRef<A>)>,
}

impl<A: Adapter> Reply<A> {
    /// The ack of an event from `socket` (a no-op if it asked for none).
    pub fn ack(ack: AckSender<A>, batcher: &Arc<Batcher>, socket: &SocketRef<A>) -> Self {
        Reply {
            ack: Some(ack),
            flush: batcher.enabled().then(|| (batcher.clone(), socket.clone())),
        }
    }

    /// No ack: an entry of a `batch` envelope.
    pub fn none() -> Self {
        Reply {
            ack: None,
            flush: None,
        }
    }

    /// Sends `data` as the ack, if one was asked for.
    pub fn send<T: Serialize + ?Sized>(self, data: &T) -> Result<(), SendError> {
        let Some(ack) = self.ack else {
            return Ok(());
        };
        if let Some((batcher, socket)) = self.flush {
            batcher.flush(socket.id);
        }
        ack.send(data)
    }
}
