//! Socket.IO connections: authentication (the connect middleware), rooms, and
//! the `connection_established` greeting (which offers batching to a client
//! that asked, see [`crate::batch`]).

use crate::app::Shared;
use crate::auth::{check_id, now_millis, AuthError, Identity, Role};
use crate::{events, rooms};
use frinny_agent::catalogue::{names, request_events, ConnectionEstablishedPayload};
use serde_json::Value;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{SocketRef, State, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::SocketIo;
use socketioxide_core::adapter::DefinedAdapter;
use std::collections::HashMap;
use std::fmt;

/// Why a connection was refused; the text reaches the client as the
/// `message` of its `CONNECT_ERROR`.
#[derive(Debug)]
pub enum Refused {
    /// No, bad, forged or expired token.
    Auth(AuthError),
    /// Too many connections.
    Full(usize),
    /// The legacy `userId` query was unusable.
    BadLegacyUser(String),
    /// The user already has this many connections open.
    TooManyForUser(usize),
}

/// The code a refusal under `--max-connections-per-user` starts with.
pub const TOO_MANY_CONNECTIONS: &str = "TOO_MANY_CONNECTIONS";

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::Auth(e) => e.fmt(f),
            Refused::Full(max) => {
                write!(f, "server is full ({max} connections); try again later")
            }
            Refused::BadLegacyUser(why) => write!(f, "legacy userId query refused: {why}"),
            // The CONNECT_ERROR carries only a message: it starts with the
            // stable code so clients can tell this refusal apart.
            Refused::TooManyForUser(max) => write!(
                f,
                "{TOO_MANY_CONNECTIONS}: this user already has {max} connections open (the limit); \
                 close one and try again"
            ),
        }
    }
}

/// Registers the default namespace on `io`. The Redis adapter's result is a
/// future (it subscribes to its channels) that the caller awaits.
pub fn register<A: Adapter + DefinedAdapter>(io: &SocketIo<A>) -> A::InitRes {
    io.ns("/", on_connect::<A>.with(authenticate::<A>))
}

fn token_from(auth: &Result<Value, socketioxide::ParserError>) -> Option<String> {
    auth.as_ref()
        .ok()?
        .get("token")?
        .as_str()
        .map(str::to_owned)
}

/// Whether the client asked for batches: `batch=1` in its handshake query.
fn asks_for_batches<A: Adapter>(socket: &SocketRef<A>) -> bool {
    let (key, value) = frinny_agent::protocol::batch::QUERY;
    socket.req_parts().uri.query().is_some_and(|q| {
        q.split('&')
            .any(|pair| pair.split_once('=') == Some((key, value)))
    })
}

fn legacy_user<A: Adapter>(socket: &SocketRef<A>) -> Option<String> {
    let uri = &socket.req_parts().uri;
    let query = axum::extract::Query::<HashMap<String, String>>::try_from_uri(uri).ok()?;
    query.0.get("userId").cloned()
}

/// The connect middleware: checks the token (or, in `--dev`, the legacy
/// `userId` query), the connection limit, then sets the socket up: identity
/// and rate limiter in its extensions, user and world rooms, event handlers.
/// Handlers are registered here rather than in [`on_connect`] so that no event
/// sent right after the CONNECT can miss them.
async fn authenticate<A: Adapter>(
    socket: SocketRef<A>,
    TryData(auth): TryData<Value>,
    State(app): State<Shared>,
) -> Result<(), Refused> {
    let max = app.config.max_connections;
    // Reserved atomically: concurrent handshakes cannot overshoot the limit.
    if !app.metrics.try_reserve(max) {
        tracing::warn!(sid = %socket.id, "connection refused: {max} connections open");
        return Err(Refused::Full(max));
    }
    let identity = identify(&socket, &auth, &app).inspect_err(|_| app.metrics.disconnected())?;
    let per_user = app.config.max_connections_per_user;
    if !app
        .user_connections
        .try_add(&identity.world, &identity.user_id, per_user)
    {
        app.metrics.disconnected();
        app.metrics.error(TOO_MANY_CONNECTIONS);
        tracing::warn!(sid = %socket.id, user = %identity.user_id, "connection refused: {per_user} open for this user");
        return Err(Refused::TooManyForUser(per_user));
    }
    // Joined: the session no longer holds a pending slot (see `handshake`).
    if let Some(ticket) = socket
        .req_parts()
        .extensions
        .get::<crate::handshake::Ticket>()
    {
        ticket.release();
    }
    socket.join([
        rooms::user(&identity.user_id),
        rooms::world(&identity.world),
    ]);
    socket.extensions.insert(app.limits.new_connection());
    socket
        .extensions
        .insert(std::sync::Arc::new(crate::limits::RateNotice::default()));
    socket.extensions.insert(identity);
    socket.on_fallback(events::on_event::<A>);
    socket.on_disconnect(on_disconnect::<A>);
    app.metrics.joined();
    Ok(())
}

/// Who the socket is: its token's identity, or in `--dev` the legacy query.
fn identify<A: Adapter>(
    socket: &SocketRef<A>,
    auth: &Result<Value, socketioxide::ParserError>,
    app: &Shared,
) -> Result<Identity, Refused> {
    let identity = match token_from(auth) {
        Some(token) => app.auth.verify(&token).map_err(|e| {
            tracing::info!(sid = %socket.id, "connection refused: {e}");
            Refused::Auth(e)
        })?,
        None => match legacy_user(socket) {
            Some(user) if app.config.dev => {
                check_id("userId", &user).map_err(Refused::BadLegacyUser)?;
                tracing::warn!(
                    sid = %socket.id, user = %user,
                    "DEV MODE: accepted the legacy unauthenticated `userId` query; anyone can act as \
                     any user this way. Use signed tokens outside development."
                );
                Identity {
                    user_id: user,
                    role: Role::Player,
                    world: "default".to_owned(),
                    expires_at: None,
                }
            }
            _ => return Err(Refused::Auth(AuthError::Missing)),
        },
    };
    Ok(identity)
}

/// Greets the socket once it has joined the namespace.
async fn on_connect<A: Adapter>(socket: SocketRef<A>, State(app): State<Shared>) {
    let Some(identity) = socket.extensions.get::<Identity>() else {
        return;
    };
    tracing::info!(sid = %socket.id, user = %identity.user_id, role = identity.role.as_str(),
        world = %identity.world, "socket connected");
    let greeting = ConnectionEstablishedPayload {
        status: "connected".to_owned(),
        endpoints: request_events().map(|e| e.name.to_owned()).collect(),
        user_id: identity.user_id.clone(),
        sid: socket.id.to_string(),
        timestamp: now_millis(),
        role: Some(identity.role.as_str().to_owned()),
        world: Some(identity.world.clone()),
        custom_events: Some(crate::custom_events::names(&app, &identity.world).await),
        batch: asks_for_batches(&socket)
            .then(|| app.batcher.offer())
            .flatten(),
    };
    if socket
        .emit(names::CONNECTION_ESTABLISHED, &greeting)
        .is_ok()
    {
        app.metrics.event_out(names::CONNECTION_ESTABLISHED);
    }
    if greeting.batch.is_some() {
        // Only now: the client knows what an envelope is before it meets one.
        socket.join(app.batcher.room().to_owned());
        app.batcher.register(socket.id);
        if !socket.connected() {
            // It left meanwhile, before `on_disconnect` could forget it.
            app.batcher.forget(socket.id);
        }
    }
}

async fn on_disconnect<A: Adapter>(socket: SocketRef<A>, State(app): State<Shared>) {
    app.metrics.disconnected();
    app.batcher.forget(socket.id);
    if let Some(identity) = socket.extensions.get::<Identity>() {
        app.user_connections
            .remove(&identity.world, &identity.user_id);
    }
    tracing::info!(sid = %socket.id, "socket disconnected");
}
