//! What the client tells the shell: its state, and the [`Output`]s the
//! shell drains with [`Client::poll_output`](super::Client::poll_output).

use super::outbound::Frame;
use super::priority::Priority;
use super::requests::RequestKey;
use super::server_acks::AckKey;
use crate::core::error::ClientError;
use crate::protocol::socket_io;

/// Connection states, as JS sees them in `agent.state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Not connected and not trying.
    Disconnected,
    /// First attempt under way.
    Connecting,
    /// Joined the namespace.
    Connected,
    /// The link was lost; waiting for, or making, another attempt.
    Reconnecting,
    /// Closed for good; nothing more will happen.
    Closed,
}

impl State {
    /// The name JS sees.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Disconnected => "disconnected",
            State::Connecting => "connecting",
            State::Connected => "connected",
            State::Reconnecting => "reconnecting",
            State::Closed => "closed",
        }
    }
}

/// How an event's JSON text maps to subscriber arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgsForm {
    /// A Socket.IO array `["name", arg1, ...]`: the arguments follow the name.
    NamedArray,
    /// One JSON value that is the single argument (plain-JSON framing).
    Single,
}

/// What the shell must do or deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Open a WebSocket to `url` (closing any previous one first).
    Open {
        /// Where to connect.
        url: String,
    },
    /// Close the link: the WebSocket, or the polling transport (abort its
    /// GET; results of its requests are no longer wanted).
    Close,
    /// Long-polling: send a GET to `url` and report its result with
    /// [`Client::on_http_response`](super::Client::on_http_response) or
    /// [`Client::on_http_failed`](super::Client::on_http_failed) as
    /// [`HttpKind::Get`](super::HttpKind::Get).
    HttpGet {
        /// Where.
        url: String,
    },
    /// Long-polling: POST `body` (`text/plain;charset=UTF-8`) to `url`
    /// and report its result as [`HttpKind::Post`](super::HttpKind::Post).
    HttpPost {
        /// Where.
        url: String,
        /// The payload: packets joined by `\x1e`.
        body: String,
    },
    /// Open the upgrade probe WebSocket to `url`, beside the polling
    /// transport; report its events with
    /// [`Client::on_probe_open`](super::Client::on_probe_open),
    /// [`on_probe_text`](super::Client::on_probe_text) and
    /// [`on_probe_close`](super::Client::on_probe_close).
    OpenProbe {
        /// Where (the session's `sid` in the query).
        url: String,
    },
    /// Send a text frame on the probe WebSocket.
    SendProbe(String),
    /// Close the probe WebSocket (the upgrade failed or the link ended).
    CloseProbe,
    /// The upgrade is done: the probe WebSocket is now the link's socket
    /// (its frames and close are the link's) and polling stops.
    Upgraded,
    /// Call [`Client::flush_emits`](super::Client::flush_emits) once the
    /// current task is done (a microtask in the browser), so that the
    /// emits of this tick go out together. Asked once per tick, by the
    /// first emit held.
    FlushEmits,
    /// Send a text frame.
    SendText(String),
    /// Send a binary frame.
    SendBinary(Vec<u8>),
    /// Read the link's WebSocket `bufferedAmount` and report it with
    /// [`Client::on_backpressure`](super::Client::on_backpressure): the
    /// socket was congested, and the core waits to hear that it drained.
    CheckBackpressure,
    /// The connection state changed.
    StateChange {
        /// The new state.
        state: State,
        /// Why (e.g. `transport close`, `ping timeout`, `io client disconnect`).
        reason: String,
    },
    /// A server event for the subscribers.
    Event {
        /// Event name.
        name: String,
        /// Raw JSON text of the arguments; see `form`.
        json: String,
        /// How `json` maps to arguments.
        form: ArgsForm,
        /// Binary attachments its placeholders refer to.
        attachments: Vec<Vec<u8>>,
        /// The server asks for an answer (the event carried an ack id):
        /// the subscribers get an `ack` function that answers with
        /// [`Client::answer_ack`](super::Client::answer_ack) under this key.
        ack: Option<AckKey>,
    },
    /// A request settled: raw JSON of the reply, or why it failed.
    Settled {
        /// Which request.
        key: RequestKey,
        /// The reply (raw JSON) or the error.
        result: Result<String, ClientError>,
        /// Binary attachments the reply's `{"_placeholder":true,"num":N}`
        /// objects refer to (numbered from 0 within this reply); empty
        /// unless the reply carried binary data.
        attachments: Vec<Vec<u8>>,
    },
    /// The pending `connect()` calls settle.
    ConnectSettled(Result<(), ClientError>),
    /// Something went wrong that no request owns (for `onError`).
    Error(ClientError),
    /// The CONNECT of this attempt waits for its auth payload (only with
    /// [`Config::auth_per_attempt`](super::Config::auth_per_attempt)): answer with [`Client::on_auth`](super::Client::on_auth) or
    /// [`Client::on_auth_failed`](super::Client::on_auth_failed), passing `attempt` back. The attempt's
    /// connect timeout keeps running meanwhile.
    NeedAuth {
        /// Which attempt asks; answers naming an older one are ignored.
        attempt: u64,
    },
    /// A link client ([`Role::Link`](super::Role::Link)) received a
    /// Socket.IO packet, attachments assembled: hand it to the guest of
    /// its namespace with [`Client::on_link_packet`](super::Client::on_link_packet)
    /// (no guest there: drop it, as a server's packet for a namespace this
    /// page never joined).
    Routed(socket_io::Packet<'static>),
    /// A guest ([`Role::Guest`](super::Role::Guest)) sends a packet: hand
    /// it to the link with [`Client::carry`](super::Client::carry).
    Carry {
        /// Where it stands among what waits on the link.
        priority: Priority,
        /// The Engine.IO message, in the guest's parser: a text packet
        /// (`4...`), or one msgpack binary message holding its binary.
        frame: Frame,
        /// The binary messages that follow a text frame (none after a
        /// msgpack one).
        attachments: Vec<Vec<u8>>,
    },
}
