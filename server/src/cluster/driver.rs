//! The pub/sub driver of socketioxide's Redis adapter, over a reconnecting
//! `ConnectionManager` of the redis crate.
//!
//! The adapter's own redis driver holds a `MultiplexedConnection` that
//! never reconnects, and fails a broadcast when its publish fails (the
//! local sockets then miss the event too). This one reconnects and
//! resubscribes by itself, and treats the cross-instance copy as best
//! effort: while Redis is down or stalled a publish is skipped (counted) so
//! that the adapter goes on to deliver to this instance's sockets.
//!
//! The same connection carries the state patches that the state script
//! publishes on [`STATE_CHANNEL`]; they go to the state pusher.

use super::{Link, Unavailable};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{FromRedisValue, PushInfo, PushKind, Value};
use socketioxide_redis::drivers::{ChanItem, Driver, MessageStream};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, RwLock};
use tokio::sync::mpsc;

/// The channel of state patches (see [`super::state`]).
pub const STATE_CHANNEL: &str = "frinny:state";

/// Patches waiting for the pusher. Past this, a patch is dropped and the
/// pusher fills the gap from the history when the next one arrives.
const STATE_QUEUE: usize = 4096;

type Handlers = Arc<RwLock<HashMap<String, mpsc::Sender<ChanItem>>>>;

/// The driver: cheap to clone, every clone shares the connection.
#[derive(Clone)]
pub struct FrinnyDriver {
    conn: ConnectionManager,
    handlers: Handlers,
    link: Arc<Link>,
}

/// A driver error (the adapter only logs it).
#[derive(Debug)]
pub struct DriverError(pub String);

impl std::fmt::Display for DriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DriverError {}

impl From<Unavailable> for DriverError {
    fn from(e: Unavailable) -> Self {
        Self(e.to_string())
    }
}

/// The (channel, message) of a pub/sub push, if it is one.
fn message(push: PushInfo) -> Option<(String, Vec<u8>)> {
    if !matches!(push.kind, PushKind::Message | PushKind::SMessage) {
        return None;
    }
    let mut data = push.data.into_iter();
    let channel = String::from_redis_value(data.next()?).ok()?;
    let payload = Vec::<u8>::from_redis_value(data.next()?).ok()?;
    Some((channel, payload))
}

fn route(push: PushInfo, handlers: &Handlers, state: &mpsc::Sender<Vec<u8>>) {
    let Some((channel, payload)) = message(push) else {
        return;
    };
    if channel == STATE_CHANNEL {
        if state.try_send(payload).is_err() {
            tracing::warn!(
                "state patch queue full: a patch waits for the next one to be filled in"
            );
        }
        return;
    }
    let handlers = handlers.read().unwrap_or_else(|p| p.into_inner());
    match handlers.get(&channel) {
        Some(tx) => {
            if let Err(e) = tx.try_send((channel, payload)) {
                tracing::warn!("adapter channel full, a cross-instance message is lost: {e}");
            }
        }
        None => tracing::debug!(%channel, "pub/sub message for no handler"),
    }
}

impl FrinnyDriver {
    /// Opens the pub/sub connection with `connect` (given `base` plus the
    /// push routing) and subscribes to [`STATE_CHANNEL`]. Returns the
    /// driver and the receiver of state patches.
    pub async fn connect<F, Fut>(
        link: Arc<Link>,
        base: ConnectionManagerConfig,
        connect: F,
    ) -> Result<(Self, mpsc::Receiver<Vec<u8>>), Unavailable>
    where
        F: FnOnce(ConnectionManagerConfig) -> Fut,
        Fut: Future<Output = Result<ConnectionManager, Unavailable>>,
    {
        let handlers: Handlers = Arc::default();
        let (state_tx, state_rx) = mpsc::channel(STATE_QUEUE);
        let routed = handlers.clone();
        let config = base
            .set_push_sender(move |push: PushInfo| {
                route(push, &routed, &state_tx);
                Ok::<(), std::convert::Infallible>(())
            })
            .set_automatic_resubscription();
        let mut conn = connect(config).await?;
        link.run(conn.subscribe(STATE_CHANNEL)).await?;
        Ok((
            Self {
                conn,
                handlers,
                link,
            },
            state_rx,
        ))
    }

    /// A handle on the pub/sub connection (for the probe).
    pub fn connection(&self) -> ConnectionManager {
        self.conn.clone()
    }
}

impl Driver for FrinnyDriver {
    type Error = DriverError;

    async fn publish(&self, chan: String, val: Vec<u8>) -> Result<(), Self::Error> {
        if !self.link.is_up() {
            // Degraded: the other instances cannot be reached; the adapter
            // still delivers to this instance's sockets after we return.
            self.link.dropped_publish();
            return Ok(());
        }
        let mut conn = self.conn.clone();
        let sent = self
            .link
            .run(async move {
                redis::cmd("PUBLISH")
                    .arg(chan)
                    .arg(val)
                    .query_async::<Value>(&mut conn)
                    .await
            })
            .await;
        if sent.is_err() {
            self.link.dropped_publish();
        }
        Ok(())
    }

    async fn subscribe(
        &self,
        chan: String,
        size: usize,
    ) -> Result<MessageStream<ChanItem>, Self::Error> {
        let mut conn = self.conn.clone();
        let (tx, rx) = mpsc::channel(size.max(1));
        self.handlers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(chan.clone(), tx);
        self.link.run(conn.subscribe(chan)).await?;
        Ok(MessageStream::new(rx))
    }

    async fn unsubscribe(&self, chan: String) -> Result<(), Self::Error> {
        self.handlers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&chan);
        let mut conn = self.conn.clone();
        self.link.run(conn.unsubscribe(chan)).await?;
        Ok(())
    }

    async fn num_serv(&self, chan: &str) -> Result<u16, Self::Error> {
        let mut conn = self.conn.clone();
        let chan = chan.to_owned();
        let (_, count): (String, u16) = self
            .link
            .run(async move {
                redis::cmd("PUBSUB")
                    .arg("NUMSUB")
                    .arg(chan)
                    .query_async(&mut conn)
                    .await
            })
            .await?;
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(channel: &str, payload: &str) -> PushInfo {
        PushInfo {
            kind: PushKind::Message,
            data: vec![
                Value::BulkString(channel.into()),
                Value::BulkString(payload.into()),
            ],
        }
    }

    #[test]
    fn pushes_are_routed_to_their_channel_or_the_state_queue() {
        let handlers: Handlers = Arc::default();
        let (tx, mut rx) = mpsc::channel(4);
        handlers.write().unwrap().insert("a".into(), tx);
        let (state_tx, mut state_rx) = mpsc::channel(4);
        route(push("a", "x"), &handlers, &state_tx);
        route(push(STATE_CHANNEL, "p"), &handlers, &state_tx);
        route(push("unknown", "y"), &handlers, &state_tx);
        route(
            PushInfo {
                kind: PushKind::Message,
                data: vec![],
            },
            &handlers,
            &state_tx,
        );
        assert_eq!(rx.try_recv().unwrap(), ("a".to_owned(), b"x".to_vec()));
        assert_eq!(state_rx.try_recv().unwrap(), b"p".to_vec());
        assert!(rx.try_recv().is_err() && state_rx.try_recv().is_err());
    }
}
