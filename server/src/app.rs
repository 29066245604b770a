//! The state shared by every handler, Socket.IO and HTTP alike.

use crate::auth::Authenticator;
use crate::config::Config;
use crate::limits::RateLimits;
use crate::metrics::Metrics;
use crate::responder::Responder;
use crate::state_store::StateStore;
use std::sync::Arc;
use std::time::Instant;

/// Everything a handler needs. Shared as [`Shared`].
pub struct AppState {
    /// The configuration the server started with.
    pub config: Config,
    /// Checks socket tokens (and mints them in `--dev`).
    pub auth: Authenticator,
    /// The bearer token of the HTTP admin endpoints (`None`: they refuse all).
    pub admin_token: Option<String>,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    /// Per-connection and per-user rate limits.
    pub limits: RateLimits,
    /// Engine.IO sessions before they join: per-address rate, pending cap.
    pub handshakes: crate::handshake::HandshakeLimits,
    /// Connections open per user (`--max-connections-per-user`).
    pub user_connections: crate::limits::UserConnections,
    /// The versioned state store (`state:update` and `POST /state/update`).
    pub store: StateStore,
    /// Held from a state write until its `state:patch` push went out, so
    /// subscribers get pushes in version order (else a later version could
    /// overtake an earlier one and every subscriber would see a gap).
    pub state_writes: tokio::sync::Mutex<()>,
    /// With `--redis`: the Redis shared with the other instances (state,
    /// per-user rate limits, health). `None`: everything in this process.
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
    /// Where answers come from.
    pub responder: Arc<dyn Responder>,
    /// Custom event declarations (`--events`, `events:define`).
    pub custom_events: crate::custom_events::CustomEvents,
    /// The batches waiting for sockets that get them (`--batch-window-ms`).
    pub batcher: Arc<crate::batch::Batcher>,
    /// When the server started.
    pub started: Instant,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The shared handle.
pub type Shared = Arc<AppState>;
