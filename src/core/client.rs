//! The client as a sans-IO state machine: it never touches a socket, a timer
//! or JS. The shell feeds it what happened (socket opened, frame received,
//! clock advanced, the user called `emit`) and carries out what it asks
//! through [`Output`]s (open a socket, send a frame, settle a request,
//! deliver an event). Time is plain milliseconds from any monotonic clock, so
//! tests drive it with simulated time.
//!
//! ```
//! use frinny_agent::core::{Client, Config, Output, State};
//! let mut c = Client::new(Config::new("http://127.0.0.1:5001"), 1);
//! c.connect(0);
//! assert!(matches!(c.poll_output(), Some(Output::Open { .. })));
//! c.on_open(5);
//! c.on_text(6, r#"0{"sid":"s","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#);
//! let sent: Vec<Output> = std::iter::from_fn(|| c.poll_output()).collect();
//! assert!(sent.contains(&Output::SendText("40".into())));
//! c.on_text(7, r#"40{"sid":"n"}"#);
//! assert_eq!(c.state(), State::Connected);
//! ```

use super::error::{ClientError, ErrorCode};
use super::metrics::Metrics;
use super::rng::Rng;
use super::sort;
use super::url::websocket_url;
use super::Backoff;
use crate::protocol::engine_io::{self, Data};
use crate::protocol::socket_io;
use crate::protocol::value::{self, Value};
use crate::protocol::{json, json_frame, DecodeError, Limits};
use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};

/// Which framing the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Socket.IO v5 over Engine.IO v4 (the default).
    SocketIo,
    /// One JSON object per frame, routed by its `action` field.
    Json,
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
    /// the client outputs [`Output::NeedAuth`] instead of sending CONNECT,
    /// and sends it once [`Client::on_auth`] answers. It also makes the
    /// server's `TOKEN_EXPIRED` error followed by its DISCONNECT a lost link
    /// (reconnect, asking for a fresh token) rather than a final kick.
    pub auth_per_attempt: bool,
    /// Wire protocol.
    pub protocol: Protocol,
    /// [`Protocol::Json`] only: events sent in the Frinny gateway's
    /// envelope `{"action":"event","payload":{"action":<name>,...}}` (see
    /// [`json_frame::encode_wrapped`]) instead of the plain framing.
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
    /// Most emits and requests held while not connected (default 100).
    pub buffer_size: usize,
    /// Decoder limits.
    pub limits: Limits,
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
            wrap_events: Vec::new(),
            reconnection: true,
            backoff: Backoff::default(),
            connect_timeout_ms: 20_000,
            request_timeout_ms: 30_000,
            buffer_size: 100,
            limits: Limits::default(),
        }
    }

    /// The WebSocket URL this config dials.
    pub fn websocket_url(&self) -> String {
        websocket_url(&self.url, &self.path, &self.query, self.protocol == Protocol::SocketIo)
    }
}

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

/// Identifies one request for its whole life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestKey(pub u64);

/// Per-request options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestOptions {
    /// Overrides [`Config::request_timeout_ms`].
    pub timeout_ms: Option<u64>,
    /// If the link drops while in flight, re-send once after reconnect
    /// instead of rejecting with DISCONNECTED.
    pub retry: bool,
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
    /// Close the WebSocket.
    Close,
    /// Send a text frame.
    SendText(String),
    /// Send a binary frame.
    SendBinary(Vec<u8>),
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
    /// [`Config::auth_per_attempt`]): answer with [`Client::on_auth`] or
    /// [`Client::on_auth_failed`], passing `attempt` back. The attempt's
    /// connect timeout keeps running meanwhile.
    NeedAuth {
        /// Which attempt asks; answers naming an older one are ignored.
        attempt: u64,
    },
}

/// Where the current attempt stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    /// No socket.
    Down,
    /// Socket asked for, not open yet.
    Opening,
    /// Socket open, waiting for the Engine.IO open packet.
    Handshaking,
    /// Handshake done, waiting for the shell to supply the CONNECT auth.
    Authorizing,
    /// Namespace CONNECT sent, waiting for the server's CONNECT.
    Joining,
    /// Joined: events flow.
    Up,
}

#[derive(Debug)]
struct Request {
    event: String,
    /// The payload with `request_id` in it.
    payload: String,
    /// Binary attachments the payload's placeholders refer to.
    attachments: Vec<Vec<u8>>,
    request_id: String,
    deadline: u64,
    retry: bool,
    retried: bool,
    /// Socket.IO ack id while in flight.
    ack: Option<u64>,
    in_flight: bool,
    /// The server acknowledged receipt with an empty ack: it has the
    /// request, and the reply is an event still to come. Never re-sent.
    receipted: bool,
}

#[derive(Debug)]
enum Queued {
    /// An encoded emit, ready to send, with its binary attachments.
    Frame(String, Vec<Vec<u8>>),
    /// A request, encoded when sent (it gets a fresh ack id each time).
    Request(RequestKey),
}

/// The client state machine. See the module docs.
#[derive(Debug)]
pub struct Client {
    cfg: Config,
    state: State,
    link: Link,
    decoder: socket_io::Decoder,
    rng: Rng,
    out: VecDeque<Output>,
    /// The user wants to be connected (connect() called, not disconnect()).
    wanted: bool,
    online: bool,
    attempt: u32,
    ever_joined: bool,
    connect_waiting: bool,
    connect_waiter_deadline: Option<u64>,
    attempt_deadline: Option<u64>,
    ping_deadline: Option<u64>,
    /// pingInterval + pingTimeout from the handshake.
    heartbeat_ms: u64,
    reconnect_at: Option<u64>,
    requests: HashMap<RequestKey, Request>,
    by_request_id: HashMap<String, RequestKey>,
    by_ack: HashMap<u64, RequestKey>,
    /// `(deadline, key)` of every pending request, ascending. A sorted
    /// deque rather than a `BTreeSet` (~5 KB of wasm): requests mostly
    /// arrive and settle in deadline order, so inserts land at the back and
    /// removals at the front.
    deadlines: VecDeque<(u64, RequestKey)>,
    queue: VecDeque<Queued>,
    next_key: u64,
    next_ack: u64,
    id_prefix: String,
    metrics: Metrics,
    /// Number of the latest [`Output::NeedAuth`]; only its answer counts.
    auth_attempt: u64,
    /// The server said `TOKEN_EXPIRED` on this link: its DISCONNECT that
    /// follows is a lost link when the auth is supplied per attempt.
    token_expired: bool,
}

impl Client {
    /// A disconnected client. `seed` feeds the backoff jitter and the
    /// request-id prefix (the shell passes a random one).
    pub fn new(cfg: Config, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let id_prefix = format!("{:08x}", rng.next_u64() as u32);
        Client {
            decoder: socket_io::Decoder::new(cfg.limits),
            cfg,
            state: State::Disconnected,
            link: Link::Down,
            rng,
            out: VecDeque::new(),
            wanted: false,
            online: true,
            attempt: 0,
            ever_joined: false,
            connect_waiting: false,
            connect_waiter_deadline: None,
            attempt_deadline: None,
            ping_deadline: None,
            heartbeat_ms: 0,
            reconnect_at: None,
            requests: HashMap::new(),
            by_request_id: HashMap::new(),
            by_ack: HashMap::new(),
            deadlines: VecDeque::new(),
            queue: VecDeque::new(),
            next_key: 0,
            next_ack: 0,
            id_prefix,
            metrics: Metrics::default(),
            auth_attempt: 0,
            token_expired: false,
        }
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Requests not yet settled (in flight or buffered).
    pub fn pending_count(&self) -> usize {
        self.requests.len()
    }

    /// When the next reconnection attempt starts (on the client's clock),
    /// while it waits out the backoff; `None` otherwise.
    pub fn next_attempt_at(&self) -> Option<u64> {
        self.reconnect_at
    }

    /// Emits and requests waiting for a connection.
    pub fn buffered_count(&self) -> usize {
        self.queue.len()
    }

    /// Counters.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Counters, for the shell to record dispatch times and callback errors.
    pub fn metrics_mut(&mut self) -> &mut Metrics {
        &mut self.metrics
    }

    /// The next thing the shell must do, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// The earliest time [`on_timer`](Self::on_timer) must be called.
    pub fn poll_timeout(&self) -> Option<u64> {
        [
            self.connect_waiter_deadline,
            self.attempt_deadline,
            self.ping_deadline,
            self.reconnect_at,
            self.deadlines.front().map(|(t, _)| *t),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    // ----- user calls -------------------------------------------------------

    /// Starts connecting (or, if already connected, settles at once; while
    /// waiting out a reconnection backoff, tries at once). The outcome
    /// arrives as [`Output::ConnectSettled`].
    pub fn connect(&mut self, now: u64) {
        match self.state {
            State::Closed => {
                self.out.push_back(Output::ConnectSettled(Err(closed_error())));
                return;
            }
            State::Connected => {
                self.out.push_back(Output::ConnectSettled(Ok(())));
                return;
            }
            State::Reconnecting if self.link == Link::Down && self.reconnect_at.is_some() && self.online => {
                // Asked again while waiting out the backoff (a Retry button):
                // try now rather than at the end of the wait.
                self.reconnect_at = None;
                self.start_attempt(now, State::Reconnecting, "io client connect");
            }
            State::Connecting | State::Reconnecting => {}
            State::Disconnected => {
                self.wanted = true;
                self.attempt = 0;
                // A new session: its first join is a connect, not a reconnect.
                self.ever_joined = false;
                if self.online {
                    self.start_attempt(now, State::Connecting, "io client connect");
                } else {
                    // No attempt while offline: `online` starts it.
                    self.set_state(State::Connecting, "waiting for the network");
                }
            }
        }
        if !self.connect_waiting {
            self.connect_waiting = true;
            self.connect_waiter_deadline = Some(now.saturating_add(self.cfg.connect_timeout_ms));
        }
    }

    /// Leaves the namespace and closes the link; no automatic reconnection.
    /// In-flight requests reject with DISCONNECTED; buffered emits and
    /// requests wait for the next `connect()` (requests until their timeout).
    pub fn disconnect(&mut self, now: u64) {
        if self.state == State::Closed {
            return;
        }
        let _ = now;
        self.wanted = false;
        self.reconnect_at = None;
        if self.link == Link::Up && self.cfg.protocol == Protocol::SocketIo {
            let packet = socket_io::Packet::Disconnect { nsp: Cow::Owned(self.cfg.namespace.clone()) };
            self.send_packet(&packet);
        }
        self.drop_link(false);
        self.settle_connect(Err(ClientError::new(ErrorCode::Disconnected, "disconnect() was called")));
        self.fail_in_flight(|_| false, ErrorCode::Disconnected, "disconnect() was called");
        self.set_state(State::Disconnected, "io client disconnect");
    }

    /// Ends the client for good: every pending request (in flight or
    /// buffered) rejects with CLOSED, buffered emits are dropped and the
    /// socket is closed.
    pub fn close(&mut self, now: u64) {
        if self.state == State::Closed {
            return;
        }
        let _ = now;
        self.wanted = false;
        self.reconnect_at = None;
        self.connect_waiter_deadline = None;
        if self.link == Link::Up && self.cfg.protocol == Protocol::SocketIo {
            let packet = socket_io::Packet::Disconnect { nsp: Cow::Owned(self.cfg.namespace.clone()) };
            self.send_packet(&packet);
        }
        self.drop_link(false);
        self.settle_connect(Err(closed_error()));
        let mut keys: Vec<RequestKey> = self.requests.keys().copied().collect();
        sort::sort(&mut keys);
        for key in keys {
            self.settle(key, Err(closed_error()));
        }
        self.queue.clear();
        self.set_state(State::Closed, "closed");
    }

    /// The browser went offline: the link cannot live, so drop it now rather
    /// than wait for the heartbeat, and hold reconnection until online.
    pub fn set_online(&mut self, now: u64, online: bool) {
        if self.online == online {
            return;
        }
        self.online = online;
        if !online {
            if self.link != Link::Down {
                self.lose_link(now, "network offline");
            }
        } else if self.wanted && self.link == Link::Down && matches!(self.state, State::Connecting | State::Reconnecting) {
            // Back online: try at once instead of waiting out the backoff.
            self.reconnect_at = Some(now);
        }
    }

    /// Fire and forget. While not connected a non-volatile emit waits in the
    /// buffer (BUFFER_FULL if it is full); a volatile one is dropped.
    pub fn emit(&mut self, event: &str, payload: Option<&str>, volatile: bool) -> Result<(), ClientError> {
        self.emit_binary(event, payload, Vec::new(), volatile)
    }

    /// [`emit`](Self::emit) with binary attachments: `payload` holds a
    /// `{"_placeholder":true,"num":N}` object for each of `attachments`
    /// (numbered `0..attachments.len()`, each once), and the event goes out
    /// as a BINARY_EVENT: its text frame, then one binary frame per
    /// attachment. Buffered emits keep their attachments.
    pub fn emit_binary(
        &mut self,
        event: &str,
        payload: Option<&str>,
        attachments: Vec<Vec<u8>>,
        volatile: bool,
    ) -> Result<(), ClientError> {
        if self.state == State::Closed {
            return Err(closed_error());
        }
        if self.link != Link::Up && volatile {
            self.metrics.volatile_dropped += 1;
            return Ok(());
        }
        // Encoded now, so a bad event name or payload fails the call itself.
        let frame = self.encode_event(event, payload, &attachments, None)?;
        if self.link == Link::Up {
            self.send_frame(frame, &attachments);
            return Ok(());
        }
        self.check_buffer_room()?;
        self.queue.push_back(Queued::Frame(frame, attachments));
        Ok(())
    }

    /// Sends `event` with `payload` (a JSON object; `request_id` is added)
    /// and waits for the reply: a Socket.IO ack, or a server event carrying
    /// the same `request_id` (`error` rejects with SERVER_ERROR). The outcome
    /// arrives as [`Output::Settled`] with the returned key.
    pub fn request(
        &mut self,
        now: u64,
        event: &str,
        payload: &str,
        opts: RequestOptions,
    ) -> Result<RequestKey, ClientError> {
        self.request_binary(now, event, payload, Vec::new(), opts)
    }

    /// [`request`](Self::request) with binary attachments (see
    /// [`emit_binary`](Self::emit_binary)); they are kept while the request
    /// waits in the buffer and sent again with it on a retry.
    pub fn request_binary(
        &mut self,
        now: u64,
        event: &str,
        payload: &str,
        attachments: Vec<Vec<u8>>,
        opts: RequestOptions,
    ) -> Result<RequestKey, ClientError> {
        if self.state == State::Closed {
            return Err(closed_error());
        }
        let key = RequestKey(self.next_key);
        let request_id = format!("{}-{}", self.id_prefix, self.next_key);
        let payload = with_request_id(payload, &request_id).ok_or_else(|| {
            ClientError::new(ErrorCode::InvalidPayload, "a request payload must be a JSON object")
        })?;
        self.encode_event(event, Some(&payload), &attachments, None)?;
        if self.link != Link::Up {
            self.check_buffer_room()?;
        }
        self.next_key += 1;
        let deadline = now.saturating_add(opts.timeout_ms.unwrap_or(self.cfg.request_timeout_ms));
        self.requests.insert(
            key,
            Request {
                event: event.to_owned(),
                payload,
                attachments,
                request_id: request_id.clone(),
                deadline,
                retry: opts.retry,
                retried: false,
                ack: None,
                in_flight: false,
                receipted: false,
            },
        );
        self.by_request_id.insert(request_id, key);
        let at = self.deadlines.partition_point(|d| *d < (deadline, key));
        self.deadlines.insert(at, (deadline, key));
        if self.link == Link::Up {
            self.send_request(key);
        } else {
            self.queue.push_back(Queued::Request(key));
        }
        Ok(key)
    }

    /// Rejects the request with ABORTED (its AbortSignal fired).
    pub fn abort(&mut self, key: RequestKey) {
        if self.requests.contains_key(&key) {
            self.settle(key, Err(ClientError::new(ErrorCode::Aborted, "the request was aborted")));
        }
    }

    // ----- socket events ----------------------------------------------------

    /// The WebSocket opened.
    pub fn on_open(&mut self, now: u64) {
        if self.link != Link::Opening {
            return;
        }
        match self.cfg.protocol {
            Protocol::SocketIo => self.link = Link::Handshaking,
            Protocol::Json => self.joined(now),
        }
    }

    /// The WebSocket closed or failed.
    pub fn on_close(&mut self, now: u64, reason: &str) {
        if self.link == Link::Down {
            return;
        }
        self.lose_link(now, if reason.is_empty() { "transport close" } else { reason });
    }

    /// The shell's answer to [`Output::NeedAuth`]: `auth`, a JSON object,
    /// goes out with this attempt's namespace CONNECT. Anything else than an
    /// object fails the attempt as [`on_auth_failed`](Self::on_auth_failed)
    /// does. An answer for an attempt that is over (timed out, link lost,
    /// superseded) is ignored.
    pub fn on_auth(&mut self, now: u64, attempt: u64, auth: &str) {
        if !self.awaits_auth(attempt) {
            return;
        }
        if json::object_fields(auth).is_none() {
            return self.auth_failed(now, "auth must yield an object such as { token }".to_owned());
        }
        self.send_connect(Some(auth.to_owned()));
    }

    /// The shell could not supply the auth of `attempt` (the JS function
    /// threw or rejected): reported as AUTH_FAILED, and the attempt ends as a
    /// lost link does, with backoff before the next. Stale answers are
    /// ignored.
    pub fn on_auth_failed(&mut self, now: u64, attempt: u64, message: &str) {
        if self.awaits_auth(attempt) {
            self.auth_failed(now, format!("auth failed: {message}"));
        }
    }

    fn awaits_auth(&self, attempt: u64) -> bool {
        self.link == Link::Authorizing && attempt == self.auth_attempt
    }

    fn auth_failed(&mut self, now: u64, message: String) {
        self.metrics.count_error(ErrorCode::AuthFailed.as_str());
        self.out.push_back(Output::Error(ClientError::new(ErrorCode::AuthFailed, message)));
        self.lose_link(now, "auth failed");
    }

    /// A text frame arrived.
    pub fn on_text(&mut self, now: u64, text: &str) {
        self.metrics.frames_in += 1;
        self.metrics.bytes_in += text.len() as u64;
        if self.link == Link::Down || self.link == Link::Opening {
            return;
        }
        let result = match self.cfg.protocol {
            Protocol::SocketIo => self.on_engine_text(now, text),
            Protocol::Json => self.on_json_frame(text),
        };
        if let Err(e) = result {
            self.protocol_error(now, e);
        }
    }

    /// A binary frame arrived.
    pub fn on_binary(&mut self, now: u64, bytes: &[u8]) {
        self.metrics.frames_in += 1;
        self.metrics.bytes_in += bytes.len() as u64;
        if self.link == Link::Down || self.link == Link::Opening {
            return;
        }
        if self.cfg.protocol == Protocol::Json {
            return self.protocol_error(now, DecodeError::InvalidPayload("binary frame on the JSON protocol"));
        }
        let result = engine_io::Packet::decode_binary(bytes, &self.cfg.limits).and_then(|p| match p {
            engine_io::Packet::Message(Data::Binary(b)) => {
                self.decoder.decode_binary(&b).map(|done| done.map(|p| self.on_socket_packet(now, p)))
            }
            _ => Ok(None),
        });
        if let Err(e) = result {
            self.protocol_error(now, e);
        }
    }

    /// Whether the shell may deliver plain events itself: root-namespace
    /// EVENTs without ack id or attachments (`42["name",...]`) that it parsed
    /// with the engine's own `JSON.parse`, instead of handing the frame to
    /// [`on_text`](Self::on_text). Open only while this client would do
    /// nothing with such an event but count it and hand it to subscribers:
    /// the link is up on the root namespace and no binary packet is half
    /// received; while requests wait, replies stay with the core. Which
    /// names are admitted is [`FastPath::admits`]. The shell asks after
    /// every input (the answer only changes then) and reports what it
    /// delivered with [`on_plain_events`](Self::on_plain_events).
    ///
    /// This is the inbound fast path: it spares copying the frame into
    /// wasm and validating it twice. The depth limit is the engine's
    /// there: it guards Rust's recursion, which this path does not use.
    pub fn fast_path(&self) -> FastPath {
        if self.link != Link::Up
            || self.cfg.protocol != Protocol::SocketIo
            || self.cfg.namespace != "/"
            || self.decoder.pending_attachments().is_some()
        {
            FastPath::Closed
        } else if self.requests.is_empty() {
            FastPath::Open
        } else {
            FastPath::ExceptReplies
        }
    }

    /// Counts `events` plain events in as many frames of `bytes` in all
    /// that the shell delivered itself (see [`fast_path`](Self::fast_path)).
    pub fn on_plain_events(&mut self, events: u64, bytes: u64) {
        self.metrics.frames_in += events;
        self.metrics.bytes_in += bytes;
        self.metrics.events_dispatched += events;
    }

    /// The clock reached `now`: fire every deadline that passed.
    pub fn on_timer(&mut self, now: u64) {
        if self.connect_waiter_deadline.is_some_and(|t| t <= now) {
            self.connect_waiter_deadline = None;
            if self.connect_waiting {
                self.metrics.count_error(ErrorCode::Timeout.as_str());
                self.settle_connect(Err(ClientError::new(
                    ErrorCode::Timeout,
                    format!("not connected within {} ms; still trying", self.cfg.connect_timeout_ms),
                )));
            }
        }
        if self.attempt_deadline.is_some_and(|t| t <= now) {
            self.attempt_deadline = None;
            self.lose_link(now, "connect timeout");
        }
        if self.ping_deadline.is_some_and(|t| t <= now) {
            self.ping_deadline = None;
            self.lose_link(now, "ping timeout");
        }
        while let Some(&(t, key)) = self.deadlines.front() {
            if t > now {
                break;
            }
            let event = self.requests.get(&key).map(|r| r.event.clone()).unwrap_or_default();
            self.metrics.timeouts += 1;
            self.settle(key, Err(ClientError::new(ErrorCode::Timeout, format!("no reply to {event:?} in time"))));
        }
        if self.reconnect_at.is_some_and(|t| t <= now) {
            self.reconnect_at = None;
            if self.wanted && self.online && self.link == Link::Down {
                // A first connect that waited for the network stays `connecting`.
                let state = if self.state == State::Connecting { State::Connecting } else { State::Reconnecting };
                self.start_attempt(now, state, "reconnect attempt");
            }
        }
    }

    // ----- internals: link lifecycle ---------------------------------------

    fn start_attempt(&mut self, now: u64, state: State, reason: &str) {
        self.decoder = socket_io::Decoder::new(self.cfg.limits);
        self.link = Link::Opening;
        self.attempt_deadline = Some(now.saturating_add(self.cfg.connect_timeout_ms));
        self.out.push_back(Output::Open { url: self.cfg.websocket_url() });
        self.set_state(state, reason);
    }

    fn joined(&mut self, now: u64) {
        let was_reconnect = self.ever_joined;
        self.link = Link::Up;
        self.ever_joined = true;
        self.attempt = 0;
        self.attempt_deadline = None;
        self.metrics.connects += 1;
        if was_reconnect {
            self.metrics.reconnects += 1;
        }
        let _ = now;
        self.set_state(State::Connected, if was_reconnect { "reconnected" } else { "connected" });
        self.settle_connect(Ok(()));
        while let Some(item) = self.queue.pop_front() {
            match item {
                Queued::Frame(frame, attachments) => self.send_frame(frame, &attachments),
                Queued::Request(key) => self.send_request(key),
            }
        }
    }

    /// Drops the socket. In-flight state that belongs to it is cleared.
    fn drop_link(&mut self, tell_shell: bool) {
        if self.link != Link::Down || tell_shell {
            self.out.push_back(Output::Close);
        }
        self.link = Link::Down;
        self.attempt_deadline = None;
        self.ping_deadline = None;
        self.token_expired = false;
        self.decoder = socket_io::Decoder::new(self.cfg.limits);
    }

    /// The link died without the user asking: settle or re-queue what was
    /// in flight, then reconnect with backoff.
    fn lose_link(&mut self, now: u64, reason: &str) {
        self.drop_link(false);
        let reconnecting = self.wanted && self.cfg.reconnection;
        self.fail_in_flight(|r| reconnecting && r.retry && !r.retried, ErrorCode::Disconnected, reason);
        if !reconnecting {
            self.wanted = false;
            self.settle_connect(Err(ClientError::new(ErrorCode::Disconnected, reason.to_owned())));
            self.set_state(State::Disconnected, reason);
            return;
        }
        match self.cfg.backoff.delay(self.attempt, self.rng.next_f64()) {
            Some(delay) => {
                self.attempt += 1;
                self.reconnect_at = Some(now.saturating_add(delay));
                self.set_state(State::Reconnecting, reason);
            }
            None => {
                self.wanted = false;
                let msg = format!("gave up after {} reconnection attempts", self.attempt);
                self.settle_connect(Err(ClientError::new(ErrorCode::ReconnectFailed, msg.clone())));
                let queued: Vec<RequestKey> = self
                    .queue
                    .iter()
                    .filter_map(|q| match q {
                        Queued::Request(k) => Some(*k),
                        Queued::Frame(..) => None,
                    })
                    .collect();
                for key in queued {
                    self.settle(key, Err(ClientError::new(ErrorCode::ReconnectFailed, msg.clone())));
                }
                self.metrics.count_error(ErrorCode::ReconnectFailed.as_str());
                self.set_state(State::Disconnected, "reconnect failed");
            }
        }
    }

    /// In-flight requests: those for which `requeue` holds go back to the
    /// front of the queue (marked retried), the rest reject with `code`.
    fn fail_in_flight(&mut self, requeue: impl Fn(&Request) -> bool, code: ErrorCode, reason: &str) {
        self.by_ack.clear();
        // A receipted request stays: the server has it, its reply may still
        // come after the reconnect, and re-sending would run it twice.
        let mut in_flight: Vec<RequestKey> =
            self.requests.iter().filter(|(_, r)| r.in_flight && !r.receipted).map(|(k, _)| *k).collect();
        sort::sort(&mut in_flight);
        let mut again = Vec::new();
        for key in in_flight {
            let Some(req) = self.requests.get_mut(&key) else { continue };
            req.in_flight = false;
            req.ack = None;
            if requeue(req) {
                req.retried = true;
                again.push(key);
            } else {
                self.settle(key, Err(ClientError::new(code, format!("link lost: {reason}"))));
            }
        }
        // Oldest first, ahead of anything buffered later.
        for key in again.into_iter().rev() {
            self.queue.push_front(Queued::Request(key));
        }
    }

    fn refused(&mut self, message: String) {
        self.wanted = false;
        self.drop_link(false);
        let err = ClientError::new(ErrorCode::ConnectRefused, message.clone());
        self.metrics.count_error(ErrorCode::ConnectRefused.as_str());
        self.settle_connect(Err(err.clone()));
        let keys: Vec<RequestKey> = self.requests.keys().copied().collect();
        let mut keys = keys;
        sort::sort(&mut keys);
        for key in keys {
            self.settle(key, Err(err.clone()));
        }
        self.set_state(State::Disconnected, "connect refused");
    }

    fn protocol_error(&mut self, now: u64, e: DecodeError) {
        self.metrics.count_error(e.code());
        self.out.push_back(Output::Error(ClientError::from(e)));
        if self.cfg.protocol == Protocol::Json {
            // Each WebSocket frame is one whole JSON message: a bad one
            // leaves the frames around it intact, so the link and what
            // waits on it stay.
            return;
        }
        // As socket.io-client does on a decode error: drop the link and
        // reconnect, since a packet stream (binary attachments follow their
        // header) can no longer be trusted.
        self.lose_link(now, "parse error");
    }

    fn set_state(&mut self, state: State, reason: &str) {
        if self.state != state {
            self.state = state;
            self.out.push_back(Output::StateChange { state, reason: reason.to_owned() });
        }
    }

    fn settle_connect(&mut self, result: Result<(), ClientError>) {
        if self.connect_waiting {
            self.connect_waiting = false;
            self.connect_waiter_deadline = None;
            self.out.push_back(Output::ConnectSettled(result));
        }
    }

    fn check_buffer_room(&self) -> Result<(), ClientError> {
        if self.queue.len() >= self.cfg.buffer_size {
            return Err(ClientError::new(
                ErrorCode::BufferFull,
                format!("not connected and {} messages already wait", self.queue.len()),
            ));
        }
        Ok(())
    }

    // ----- internals: sending ----------------------------------------------

    /// Sends a Socket.IO packet: its text frame, then any attachments.
    fn send_packet(&mut self, packet: &socket_io::Packet<'_>) {
        let mut frame = String::from("4");
        packet.encode_text_into(&mut frame);
        self.send_frame_text(frame);
        for attachment in packet.attachments() {
            self.metrics.frames_out += 1;
            self.metrics.bytes_out += attachment.len() as u64;
            self.out.push_back(Output::SendBinary(attachment.clone()));
        }
    }

    /// A text frame followed by its binary attachments.
    fn send_frame(&mut self, frame: String, attachments: &[Vec<u8>]) {
        self.send_frame_text(frame);
        for attachment in attachments {
            self.metrics.frames_out += 1;
            self.metrics.bytes_out += attachment.len() as u64;
            self.out.push_back(Output::SendBinary(attachment.clone()));
        }
    }

    fn send_frame_text(&mut self, frame: String) {
        self.metrics.frames_out += 1;
        self.metrics.bytes_out += frame.len() as u64;
        self.out.push_back(Output::SendText(frame));
    }

    /// The whole text frame for an event: `42["event",payload]` (with the
    /// namespace and ack id when needed; `45N-...` with N attachments), or
    /// `{"action":"event",...}`. With attachments the placeholders in
    /// `payload` must be exactly `0..attachments.len()`, each once.
    fn encode_event(
        &self,
        event: &str,
        payload: Option<&str>,
        attachments: &[Vec<u8>],
        ack: Option<u64>,
    ) -> Result<String, ClientError> {
        let invalid = |e: DecodeError| ClientError::new(ErrorCode::InvalidPayload, e.to_string());
        match self.cfg.protocol {
            Protocol::SocketIo => {
                let payload = payload.unwrap_or("");
                let mut args = String::with_capacity(payload.len() + 2);
                args.push('[');
                args.push_str(payload);
                args.push(']');
                let mut packet =
                    socket_io::Packet::event(self.cfg.namespace.as_str(), event, &args, ack).map_err(invalid)?;
                if !attachments.is_empty() {
                    let tree: Value = json::parse(&args, self.cfg.limits.max_depth).map_err(invalid)?;
                    value::check_placeholders(&tree, attachments.len()).map_err(invalid)?;
                    // Only the count goes into the header; the frames follow
                    // from the caller's copy.
                    if let socket_io::Packet::Event { data, .. } = &mut packet {
                        data.attachments = attachments.iter().map(|_| Vec::new()).collect();
                    }
                }
                let mut frame = String::with_capacity(args.len() + event.len() + 12);
                frame.push('4');
                packet.encode_text_into(&mut frame);
                Ok(frame)
            }
            Protocol::Json if !attachments.is_empty() => Err(ClientError::new(
                ErrorCode::InvalidPayload,
                "binary data cannot be sent with the plain-JSON protocol",
            )),
            Protocol::Json => {
                let payload = payload.unwrap_or("{}");
                let frame = if self.cfg.wrap_events.iter().any(|name| name == event) {
                    json_frame::encode_wrapped(event, payload)
                } else {
                    json_frame::encode(event, payload)
                };
                frame.map_err(|e| ClientError::new(ErrorCode::InvalidPayload, e.to_string()))
            }
        }
    }

    fn send_request(&mut self, key: RequestKey) {
        let ack = match self.cfg.protocol {
            Protocol::SocketIo => {
                let id = self.next_ack;
                self.next_ack = self.next_ack.wrapping_add(1);
                Some(id)
            }
            Protocol::Json => None,
        };
        let Some(req) = self.requests.get(&key) else { return };
        match self.encode_event(&req.event, Some(&req.payload), &req.attachments, ack) {
            Ok(frame) => {
                let attachments = match self.requests.get_mut(&key) {
                    Some(req) => {
                        req.in_flight = true;
                        req.ack = ack;
                        req.attachments.clone()
                    }
                    None => Vec::new(),
                };
                if let Some(id) = ack {
                    self.by_ack.insert(id, key);
                }
                self.send_frame(frame, &attachments);
            }
            // Checked when the request was made; settle rather than lose it.
            Err(e) => self.settle(key, Err(e)),
        }
    }

    // ----- internals: receiving --------------------------------------------

    fn on_engine_text(&mut self, now: u64, text: &str) -> Result<(), DecodeError> {
        match engine_io::Packet::decode_text(text, &self.cfg.limits)? {
            engine_io::Packet::Open(hs) => {
                if self.link != Link::Handshaking {
                    return Ok(());
                }
                self.heartbeat_ms = hs.ping_interval.saturating_add(hs.ping_timeout);
                self.ping_deadline = Some(now.saturating_add(self.heartbeat_ms));
                if self.cfg.auth_per_attempt {
                    self.link = Link::Authorizing;
                    self.auth_attempt = self.auth_attempt.wrapping_add(1);
                    self.out.push_back(Output::NeedAuth { attempt: self.auth_attempt });
                } else {
                    let auth = self.cfg.auth.clone();
                    self.send_connect(auth);
                }
            }
            engine_io::Packet::Ping(data) => {
                self.metrics.last_ping_ms = Some(now);
                if let Some(deadline) = self.ping_deadline.as_mut() {
                    // The next ping is due within one interval + timeout of this one.
                    *deadline = now.saturating_add(self.heartbeat_ms);
                }
                let mut pong = String::with_capacity(1 + data.len());
                pong.push('3');
                pong.push_str(&data);
                self.send_frame_text(pong);
            }
            engine_io::Packet::Close => self.lose_link(now, "transport close"),
            engine_io::Packet::Message(Data::Text(t)) => {
                if let Some(packet) = self.decoder.decode_text(&t)? {
                    self.on_socket_packet(now, packet);
                }
            }
            engine_io::Packet::Message(Data::Binary(b)) => {
                if let Some(packet) = self.decoder.decode_binary(&b)? {
                    self.on_socket_packet(now, packet);
                }
            }
            engine_io::Packet::Pong(_) | engine_io::Packet::Upgrade | engine_io::Packet::Noop => {}
        }
        Ok(())
    }

    /// Sends the namespace CONNECT with `auth` and waits for the server's.
    fn send_connect(&mut self, auth: Option<String>) {
        self.link = Link::Joining;
        let nsp = Cow::Owned(self.cfg.namespace.clone());
        let connect = socket_io::Packet::Connect { nsp, auth: auth.map(Cow::Owned) };
        self.send_packet(&connect);
    }

    fn on_socket_packet(&mut self, now: u64, packet: socket_io::Packet<'_>) {
        if packet.nsp() != self.cfg.namespace {
            return;
        }
        match packet {
            socket_io::Packet::Connect { .. } => {
                if self.link == Link::Joining {
                    self.joined(now);
                }
            }
            socket_io::Packet::ConnectError { data, .. } => {
                self.refused(connect_error_message(&data));
            }
            socket_io::Packet::Disconnect { .. } if self.token_expired && self.cfg.auth_per_attempt => {
                // Not a kick: the server ends sockets whose token ran out,
                // and the shell can fetch a fresh one for the next attempt.
                self.lose_link(now, "token expired");
            }
            socket_io::Packet::Disconnect { .. } => {
                // socket.io semantics: the server kicked us; do not reconnect.
                self.wanted = false;
                self.drop_link(false);
                self.fail_in_flight(|_| false, ErrorCode::Disconnected, "io server disconnect");
                self.settle_connect(Err(ClientError::new(ErrorCode::Disconnected, "io server disconnect")));
                self.set_state(State::Disconnected, "io server disconnect");
            }
            socket_io::Packet::Event { event, data, .. } => {
                // Server-to-client acks are not offered: Frinny never asks.
                self.on_event(&event, data.json.into_owned(), ArgsForm::NamedArray, data.attachments);
            }
            socket_io::Packet::Ack { id, data, .. } => {
                if let Some(key) = self.by_ack.remove(&id) {
                    // python-socketio (and so Flask-SocketIO, the Frinny
                    // backend) acks every event that asked for an ack with
                    // the handler's return value, usually None, often before
                    // a background reply. An empty ack is only a receipt:
                    // the reply is then the event carrying our request_id.
                    if data.attachments.is_empty() {
                        match first_arg(&data.json, 0) {
                            Some(reply) if reply != "null" => self.settle(key, Ok(reply)),
                            _ => {
                                if let Some(req) = self.requests.get_mut(&key) {
                                    req.receipted = true;
                                    req.ack = None;
                                }
                            }
                        }
                    } else if let Some((reply, attachments)) = binary_arg(data, 0, &self.cfg.limits) {
                        // BINARY_ACK: the first argument with its own attachments.
                        self.settle_with(key, Ok(reply), attachments);
                    }
                }
            }
        }
    }

    fn on_json_frame(&mut self, text: &str) -> Result<(), DecodeError> {
        let frame = json_frame::decode(text, &self.cfg.limits)?;
        let name = frame.action.into_owned();
        self.on_event(&name, text.to_owned(), ArgsForm::Single, Vec::new());
        Ok(())
    }

    fn on_event(&mut self, name: &str, json: String, form: ArgsForm, attachments: Vec<Vec<u8>>) {
        let first = match form {
            ArgsForm::NamedArray => 1,
            ArgsForm::Single => usize::MAX,
        };
        // Replies to requests carry the request_id; only look when one waits.
        let owner = if self.requests.is_empty() || !is_reply_event(name) {
            None
        } else {
            let arg = if first == usize::MAX {
                Some((json.clone(), Vec::new()))
            } else if attachments.is_empty() {
                first_arg(&json, first).map(|a| (a, Vec::new()))
            } else {
                let payload =
                    socket_io::Payload { json: Cow::Borrowed(json.as_str()), attachments: attachments.clone() };
                binary_arg(payload, first, &self.cfg.limits)
            };
            arg.and_then(|(a, bin)| reply_request_id(&a).map(|id| (id, a, bin)))
                .and_then(|(id, a, bin)| self.by_request_id.get(&id).map(|k| (*k, a, bin)))
        };
        match (owner, name) {
            (Some((key, arg, _)), "error") => {
                let err = ClientError::from_server_payload(&arg);
                self.note_server_error(&err);
                // Counted as it settles.
                self.settle(key, Err(err));
            }
            (Some((key, arg, bin)), _) => self.settle_with(key, Ok(arg), bin),
            (None, "error") => {
                let arg = if first == usize::MAX { Some(json.clone()) } else { first_arg(&json, first) };
                let err = arg
                    .map(|a| ClientError::from_server_payload(&a))
                    .unwrap_or_else(|| ClientError::new(ErrorCode::ServerError, "server error"));
                self.note_server_error(&err);
                self.metrics.count_error(ErrorCode::ServerError.as_str());
                self.out.push_back(Output::Error(err));
            }
            (None, _) => {}
        }
        self.metrics.events_dispatched += 1;
        self.out.push_back(Output::Event { name: name.to_owned(), json, form, attachments });
    }

    /// Remembers a `TOKEN_EXPIRED` from the server on this link (see
    /// [`Config::auth_per_attempt`]).
    fn note_server_error(&mut self, err: &ClientError) {
        if err.server_code.as_deref() == Some(TOKEN_EXPIRED) {
            self.token_expired = true;
        }
    }

    fn settle(&mut self, key: RequestKey, result: Result<String, ClientError>) {
        self.settle_with(key, result, Vec::new());
    }

    fn settle_with(&mut self, key: RequestKey, result: Result<String, ClientError>, attachments: Vec<Vec<u8>>) {
        let Some(req) = self.requests.remove(&key) else { return };
        self.by_request_id.remove(&req.request_id);
        if let Ok(at) = self.deadlines.binary_search(&(req.deadline, key)) {
            self.deadlines.remove(at);
        }
        if let Some(ack) = req.ack {
            self.by_ack.remove(&ack);
        }
        if !req.in_flight {
            self.queue.retain(|q| !matches!(q, Queued::Request(k) if *k == key));
        }
        if let Err(e) = &result {
            self.metrics.count_error(e.code.as_str());
        }
        self.out.push_back(Output::Settled { key, result, attachments });
    }
}

/// The server's `code` for an event sent after the socket's token expired.
const TOKEN_EXPIRED: &str = "TOKEN_EXPIRED";

fn closed_error() -> ClientError {
    ClientError::new(ErrorCode::Closed, "the manager is closed")
}

/// Whether an event named `name` can answer a request: Frinny replies with
/// `<event>_response` (`character_creation_start` gets
/// `character_creation_response`) or `error`. Other events may carry the
/// request_id too (the reference server's `typing_status` does, to say which
/// question is being typed) without being the answer.
fn is_reply_event(name: &str) -> bool {
    name == "error" || name.ends_with("_response")
}

/// When the shell may deliver plain events without the core: see
/// [`Client::fast_path`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FastPath {
    /// Every frame goes to the core.
    Closed,
    /// Plain events with an admitted name may skip the core.
    Open,
    /// As `Open`, but replies (`*_response`) go to the core: a waiting
    /// request may be answered by one.
    ExceptReplies,
}

impl FastPath {
    /// Names never delivered without the core: `error` (it goes to
    /// `onError`) and socket.io's reserved event names.
    pub fn core_names() -> impl Iterator<Item = &'static str> {
        std::iter::once("error").chain(socket_io::RESERVED_EVENTS)
    }

    /// Whether a plain event named `name` may skip the core now.
    pub fn admits(self, name: &str) -> bool {
        let core_name = name == "error" || socket_io::RESERVED_EVENTS.contains(&name);
        match self {
            FastPath::Closed => false,
            FastPath::Open => !core_name,
            FastPath::ExceptReplies => !core_name && !is_reply_event(name),
        }
    }

    /// Its number for the JS side: 0 closed, 1 open, 2 open except replies.
    pub fn as_u8(self) -> u8 {
        match self {
            FastPath::Closed => 0,
            FastPath::Open => 1,
            FastPath::ExceptReplies => 2,
        }
    }
}

/// `payload` (a JSON object) with `"request_id": id` set, keeping the other
/// fields verbatim and in order.
fn with_request_id(payload: &str, id: &str) -> Option<String> {
    let fields = json::object_fields(payload)?;
    let mut out = String::with_capacity(payload.len() + id.len() + 20);
    out.push('{');
    for (k, v) in fields.iter().filter(|(k, _)| k != "request_id") {
        json::push_string(&mut out, k);
        out.push(':');
        out.push_str(v.get());
        out.push(',');
    }
    out.push_str("\"request_id\":");
    json::push_string(&mut out, id);
    out.push('}');
    Some(out)
}

/// The raw JSON of element `index` of the JSON array `array`.
fn first_arg(array: &str, index: usize) -> Option<String> {
    match json::shallow(array).ok()? {
        json::Shallow::Array(items) => items.get(index).map(|v| v.get().to_owned()),
        _ => None,
    }
}

/// Element `index` of a binary packet's argument array, as JSON with its own
/// placeholders (renumbered from 0) and attachments; `None` if the array
/// has no such element or its placeholders do not add up (the decoder has
/// checked them already).
fn binary_arg(payload: socket_io::Payload<'_>, index: usize, limits: &Limits) -> Option<(String, Vec<Vec<u8>>)> {
    match payload.into_value(limits).ok()? {
        Value::Array(items) => {
            let item = items.into_iter().nth(index)?;
            let p = socket_io::Payload::deconstruct(&item);
            Some((p.json.into_owned(), p.attachments))
        }
        _ => None,
    }
}

/// The `request_id` of a reply payload (string or number), if it has one.
fn reply_request_id(arg: &str) -> Option<String> {
    let json::Shallow::Object(fields) = json::shallow(arg).ok()? else { return None };
    let mut ids = fields.iter().filter(|(k, _)| k == "request_id");
    let raw = ids.next()?.1.get();
    if ids.next().is_some() || raw == "null" {
        // A key given twice is unreadable; `null` is no id.
        return None;
    }
    Some(json::unquote(raw).ok().flatten().unwrap_or_else(|| raw.to_owned()))
}

/// CONNECT_ERROR data is `{"message": ...}` (v5) or a bare string (v4 servers).
fn connect_error_message(data: &str) -> String {
    ClientError::from_server_payload(data).message
}
