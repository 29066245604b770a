//! The Socket.IO handle of either mode, for the HTTP handlers: the
//! embedded default (socketioxide's in-process `LocalAdapter`) or, with
//! `--redis`, socketioxide's Redis adapter, whose rooms and broadcasts span
//! every instance. Either is wrapped in [`Batching`], which batches what is
//! pushed to the sockets that asked for it (a pass-through otherwise).

use crate::batch::adapter::Batching;
use crate::cluster::driver::FrinnyDriver;
use serde::Serialize;
use socketioxide::adapter::{Emitter, LocalAdapter};
use socketioxide::SocketIo;
use socketioxide_redis::CustomRedisAdapter;

/// socketioxide's Redis adapter over our reconnecting driver.
pub type ClusterAdapter = CustomRedisAdapter<Emitter, FrinnyDriver>;

/// The adapter of the embedded default.
pub type LocalIoAdapter = Batching<LocalAdapter>;

/// The adapter with `--redis`.
pub type ClusterIoAdapter = Batching<ClusterAdapter>;

/// Whom an HTTP-triggered event goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Every socket.
    All,
    /// The sockets in one room.
    Room(String),
}

/// The Socket.IO handle.
#[derive(Clone)]
pub enum Io {
    /// Everything in this process.
    Local(SocketIo<LocalIoAdapter>),
    /// Shared through Redis.
    Cluster(SocketIo<ClusterIoAdapter>),
}

impl std::fmt::Debug for Io {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Io::Local(_) => "Io::Local",
            Io::Cluster(_) => "Io::Cluster",
        })
    }
}

macro_rules! with_io {
    ($io:expr, $name:ident => $body:expr) => {
        match $io {
            Io::Local($name) => $body,
            Io::Cluster($name) => $body,
        }
    };
}

impl Io {
    /// Emits `event` to `target` on every instance; answers how many of
    /// the recipients are connected to this instance (counting the others
    /// would need a round trip to each instance).
    pub async fn emit<T: Serialize + ?Sized>(
        &self,
        target: &Target,
        event: &str,
        payload: &T,
    ) -> Result<usize, String> {
        with_io!(self, io => {
            let op = match target {
                Target::All => io.broadcast(),
                Target::Room(room) => io.to(room.clone()),
            };
            let here = op.clone().sockets().len();
            op.emit(event, payload).await.map_err(|e| e.to_string())?;
            Ok(here)
        })
    }

    /// How many sockets of `room` are connected to this instance.
    pub fn local_count(&self, room: &str) -> usize {
        with_io!(self, io => io.local().to(room.to_owned()).sockets().len())
    }

    /// Sends `event` to this instance's sockets, then closes them.
    pub async fn close_local<T: Serialize + ?Sized>(
        &self,
        event: &str,
        payload: &T,
        grace: std::time::Duration,
    ) {
        with_io!(self, io => {
            let _ = io.local().emit(event, payload).await;
            // Give the notice a moment to leave before the sockets close.
            tokio::time::sleep(grace).await;
            io.close().await;
        })
    }
}
