//! The adapter that batches: socketioxide's own adapter (the local one, or
//! the Redis one with `--redis`) wrapped so that every event pushed through
//! a room passes by the [`Batcher`]. Broadcasts are where the server pushes
//! events, whichever handler or HTTP endpoint emits them, so this one place
//! covers them all; everything else is handed to the wrapped adapter as is.
//!
//! A broadcast to a room holding batching sockets: a batchable event is
//! added to each of their batches and the plain broadcast leaves their room
//! out; any other event first flushes their batches, then goes to everyone
//! as usual, so it never overtakes what was pushed before it. Without
//! batching (`--batch-window-ms` 0, or no socket that asked) the broadcast
//! goes straight through.

use super::{batchable, Batcher};
use socketioxide::adapter::{Adapter, Emitter};
use socketioxide_core::adapter::errors::BroadcastError;
use socketioxide_core::adapter::{
    BroadcastFlags, BroadcastOptions, CoreAdapter, CoreLocalAdapter, DefinedAdapter,
    RemoteSocketData, Room, RoomParam,
};
use socketioxide_core::packet::Packet;
use socketioxide_core::Sid;
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

/// `A` with batching in front of its broadcasts.
pub struct Batching<A> {
    inner: Arc<A>,
    batcher: Arc<Batcher>,
}

/// What the wrapped adapter needs to be made, and the batcher.
#[derive(Debug, Clone)]
pub struct BatchingState<S> {
    /// The wrapped adapter's own state (`()`, or the Redis constructor).
    pub inner: S,
    /// The batches of this server's sockets.
    pub batcher: Arc<Batcher>,
}

impl<A: Adapter> Batching<A> {
    /// This namespace's sockets that a broadcast with `opts` reaches and
    /// that get batches.
    fn batching_targets(&self, opts: &BroadcastOptions) -> Vec<Sid> {
        self.inner
            .get_local()
            .sockets(opts.clone())
            .into_iter()
            .filter(|sid| self.batcher.batches_for(*sid))
            .collect()
    }
}

impl<A: Adapter + DefinedAdapter> DefinedAdapter for Batching<A> {}

impl<A: Adapter> CoreAdapter<Emitter> for Batching<A> {
    type Error = A::Error;
    type State = BatchingState<A::State>;
    type AckStream = A::AckStream;
    type InitRes = A::InitRes;

    fn new(state: &Self::State, local: CoreLocalAdapter<Emitter>) -> Self {
        let inner = Arc::new(A::new(&state.inner, local));
        if inner.get_local().path().as_str() == "/" {
            let weak = Arc::downgrade(&inner);
            state.batcher.attach(Box::new(move |sid, packet| {
                if let Some(adapter) = weak.upgrade() {
                    // One socket of this instance: never a Redis round trip.
                    let _ = adapter
                        .get_local()
                        .broadcast(packet, BroadcastOptions::new(sid));
                }
            }));
        }
        Batching {
            inner,
            batcher: state.batcher.clone(),
        }
    }

    fn init(self: Arc<Self>, on_success: impl FnOnce() + Send + 'static) -> Self::InitRes {
        self.inner.clone().init(on_success)
    }

    async fn close(&self) -> Result<(), Self::Error> {
        self.inner.close().await
    }

    async fn server_count(&self) -> Result<u16, Self::Error> {
        self.inner.server_count().await
    }

    async fn broadcast(
        &self,
        packet: Packet,
        mut opts: BroadcastOptions,
    ) -> Result<(), BroadcastError> {
        if !self.batcher.enabled() || self.batcher.idle() || opts.has_flag(BroadcastFlags::Volatile)
        {
            return self.inner.broadcast(packet, opts).await;
        }
        let targets = self.batching_targets(&opts);
        if !targets.is_empty() {
            match batchable(&packet) {
                Some(entry) => {
                    for sid in targets {
                        self.batcher.push(sid, &packet, entry);
                    }
                    opts.except.push(Cow::Owned(self.batcher.room().to_owned()));
                }
                None => {
                    for sid in targets {
                        self.batcher.flush(sid);
                    }
                }
            }
        }
        self.inner.broadcast(packet, opts).await
    }

    async fn broadcast_with_ack(
        &self,
        packet: Packet,
        opts: BroadcastOptions,
        timeout: Option<Duration>,
    ) -> Result<Self::AckStream, Self::Error> {
        if self.batcher.enabled() && !self.batcher.idle() {
            for sid in self.batching_targets(&opts) {
                self.batcher.flush(sid);
            }
        }
        self.inner.broadcast_with_ack(packet, opts, timeout).await
    }

    async fn add_sockets(
        &self,
        opts: BroadcastOptions,
        rooms: impl RoomParam,
    ) -> Result<(), Self::Error> {
        self.inner.add_sockets(opts, rooms).await
    }

    async fn del_sockets(
        &self,
        opts: BroadcastOptions,
        rooms: impl RoomParam,
    ) -> Result<(), Self::Error> {
        self.inner.del_sockets(opts, rooms).await
    }

    async fn disconnect_socket(&self, opts: BroadcastOptions) -> Result<(), BroadcastError> {
        self.inner.disconnect_socket(opts).await
    }

    async fn rooms(&self, opts: BroadcastOptions) -> Result<Vec<Room>, Self::Error> {
        self.inner.rooms(opts).await
    }

    async fn fetch_sockets(
        &self,
        opts: BroadcastOptions,
    ) -> Result<Vec<RemoteSocketData>, Self::Error> {
        self.inner.fetch_sockets(opts).await
    }

    fn get_local(&self) -> &CoreLocalAdapter<Emitter> {
        self.inner.get_local()
    }
}
