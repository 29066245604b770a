//! What the client is told when it is made: the server, the wire protocol,
//! reconnection and buffering.

use super::transport::Transport;
use crate::core::url::{polling_url, websocket_url};
use crate::core::Backoff;
use crate::protocol::{batch, Limits};
use std::borrow::Cow;

/// Which framing the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Socket.IO v5 over Engine.IO v4 (the default).
    SocketIo,
    /// One JSON object per frame, routed by its `action` field.
    Json,
}

/// How Socket.IO packets are written on a [`Protocol::SocketIo`] link
/// (socket.io-client's `parser` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Parser {
    /// socket.io-parser's text format (the default): `42["name",...]` in
    /// text frames, binary as placeholders and attachment frames.
    #[default]
    Json,
    /// socket.io-msgpack-parser's format
    /// ([`msgpack`](crate::protocol::msgpack)): each packet one MessagePack
    /// map in one binary frame, binary inline. Engine.IO's own packets
    /// (open, ping, pong, close, the upgrade probe) stay text, as
    /// engine.io sends them whatever the parser.
    Msgpack,
}

/// The client's part in a link shared by several namespaces (see the
/// `share` module): socket.io-client's Manager holds the Engine.IO link
/// and each of its Sockets one namespace on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    /// Its own link and its namespace on it (the default).
    #[default]
    Whole,
    /// Only the Engine.IO link: transport, heartbeat, upgrade. It joins no
    /// namespace; the Socket.IO packets it receives go out whole as
    /// [`Output::Routed`](super::Output::Routed) for the shell to hand to
    /// the guest of their namespace, and it carries the guests' frames
    /// ([`Client::carry`](super::Client::carry)). It decodes with its own
    /// [`Parser`], so its guests must be made with the same one.
    Link,
    /// A namespace on a link a [`Role::Link`] client holds. It opens no
    /// transport: [`Output::Open`](super::Output::Open) asks the shell to
    /// attach it to the link and [`Output::Close`](super::Output::Close) to
    /// detach it; the shell says when the link is open
    /// ([`Client::on_link_open`](super::Client::on_link_open)), hands it the
    /// packets of its namespace ([`Client::on_link_packet`](super::Client::on_link_packet)),
    /// says when the link is lost ([`Client::on_close`](super::Client::on_close))
    /// and carries its [`Output::Carry`](super::Output::Carry)s on the
    /// link. No heartbeat, upgrade or fallback: those are the link's.
    Guest,
}

/// Everything the client is told when it is made.
#[derive(Debug, Clone)]
pub struct Config {
    /// Server URL; http(s) is mapped to ws(s).
    pub url: String,
    /// Endpoint path (default `/socket.io/`; for [`Protocol::Json`] the URL
    /// is used as given unless a path is set).
    pub path: String,
    /// Extra query parameters (e.g. the legacy `userId`).
    pub query: Vec<(String, String)>,
    /// Socket.IO namespace (default `/`).
    pub namespace: String,
    /// Raw JSON object sent as the CONNECT auth payload.
    pub auth: Option<String>,
    /// The auth payload is supplied afresh for every connection attempt
    /// (the JS `auth` option is a function): after the Engine.IO handshake
    /// the client outputs [`Output::NeedAuth`](super::Output::NeedAuth) instead of sending CONNECT,
    /// and sends it once [`Client::on_auth`](super::Client::on_auth) answers. It also makes the
    /// server's `TOKEN_EXPIRED` error followed by its DISCONNECT a lost link
    /// (reconnect, asking for a fresh token) rather than a final kick.
    pub auth_per_attempt: bool,
    /// Wire protocol.
    pub protocol: Protocol,
    /// [`Protocol::SocketIo`] only: the packet format (default
    /// [`Parser::Json`]).
    pub parser: Parser,
    /// [`Protocol::Json`] only: events sent in the Frinny gateway's
    /// envelope `{"action":"event","payload":{"action":<name>,...}}` (see
    /// [`crate::protocol::json_frame::encode_wrapped`]) instead of the plain framing.
    pub wrap_events: Vec<String>,
    /// Reconnect automatically after a lost link (default true).
    pub reconnection: bool,
    /// Delays between reconnection attempts.
    pub backoff: Backoff,
    /// How long one connection attempt, and the `connect()` call, may take
    /// (default 20 s).
    pub connect_timeout_ms: u64,
    /// Default request timeout (default 30 s).
    pub request_timeout_ms: u64,
    /// Most emits and requests held while they cannot go out: not
    /// connected, or the socket congested (default 100).
    pub buffer_size: usize,
    /// Bytes the WebSocket may buffer unsent (its `bufferedAmount`) before
    /// the socket counts as congested (default 1 MiB): above it, emits and
    /// requests wait in the buffer, by priority, until the socket drains
    /// (see [`Client::on_backpressure`](super::Client::on_backpressure)).
    pub high_water_mark: u64,
    /// Decoder limits.
    pub limits: Limits,
    /// The transports to use, tried in order (socket.io-client's
    /// `transports`; default WebSocket then long-polling). When the first
    /// is a WebSocket that cannot open, the client falls back to polling by
    /// itself and starts later attempts there; when it starts on polling it
    /// upgrades to a WebSocket the server offers (unless `upgrade` is off).
    /// [`Protocol::Json`] only speaks WebSocket.
    pub transports: Vec<Transport>,
    /// Upgrade from polling to WebSocket when the server offers it
    /// (socket.io-client's `upgrade`, default true).
    pub upgrade: bool,
    /// The shell can inflate zlib data (the browser's
    /// `DecompressionStream`): `state:subscribe` then asks for large
    /// snapshots compressed, and the agent hands their attachments out as
    /// [`AgentOutput::Inflate`](crate::core::AgentOutput::Inflate). Default
    /// false: a shell that cannot inflate never sees one.
    pub inflate: bool,
    /// [`Protocol::SocketIo`] only: ask the server to batch (the handshake
    /// query `batch=1`; default true). A server that agrees says so in
    /// `connection_established` (`batch: {windowMs, maxBytes}`); from then
    /// on the client unpacks the `batch` envelopes it sends and coalesces
    /// the emits of one tick into envelopes of its own. Other servers ignore
    /// the query, and an event they name `batch` stays an ordinary event.
    pub batch: bool,
    /// Its part in a shared link ([`Role::Whole`] unless shared).
    pub role: Role,
}

impl Config {
    /// Defaults for a server at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Config {
            url: url.into(),
            path: "/socket.io/".into(),
            query: Vec::new(),
            namespace: "/".into(),
            auth: None,
            auth_per_attempt: false,
            protocol: Protocol::SocketIo,
            parser: Parser::Json,
            wrap_events: Vec::new(),
            reconnection: true,
            backoff: Backoff::default(),
            connect_timeout_ms: 20_000,
            request_timeout_ms: 30_000,
            buffer_size: 100,
            high_water_mark: 1024 * 1024,
            limits: Limits::default(),
            transports: vec![Transport::WebSocket, Transport::Polling],
            upgrade: true,
            inflate: false,
            batch: true,
            role: Role::Whole,
        }
    }

    /// The WebSocket URL this config dials.
    pub fn websocket_url(&self) -> String {
        websocket_url(
            &self.url,
            &self.path,
            &self.handshake_query(),
            self.protocol == Protocol::SocketIo,
        )
    }

    /// The WebSocket URL of an upgrade probe: the session's `sid` joins the
    /// query, so the server attaches the socket to the polling session.
    pub fn probe_url(&self, sid: &str) -> String {
        let mut query = self.handshake_query().into_owned();
        query.push(("sid".to_owned(), sid.to_owned()));
        websocket_url(&self.url, &self.path, &query, true)
    }

    /// The URL of one long-polling request (see [`polling_url`]).
    pub fn polling_url(&self, sid: Option<&str>, t: &str) -> String {
        polling_url(&self.url, &self.path, &self.handshake_query(), sid, t)
    }

    /// The query of every handshake: the caller's, then `batch=1` when
    /// this client asks for batches.
    fn handshake_query(&self) -> Cow<'_, [(String, String)]> {
        if self.batch && self.protocol == Protocol::SocketIo {
            let mut query = self.query.clone();
            query.push((batch::QUERY.0.to_owned(), batch::QUERY.1.to_owned()));
            Cow::Owned(query)
        } else {
            Cow::Borrowed(&self.query)
        }
    }

    /// Whether `transport` is among [`transports`](Self::transports).
    pub fn allows(&self, transport: Transport) -> bool {
        self.transports.contains(&transport)
    }
}
