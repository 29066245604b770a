//! One agent: the [`Client`] and the [`SyncStore`] together, behind one
//! stream of [`AgentOutput`]s. The shell feeds it what happened and what the
//! user asked, and carries out its outputs; it never routes between the
//! two parts itself.
//!
//! What the agent routes:
//!
//! - the store's `state:subscribe` and `state:update` frames go out as
//!   client requests with `retry: false` (the store re-sends by itself after
//!   a reconnect), and their replies or failures go back to the store; the
//!   shell never sees those requests settle;
//! - `state:unsubscribe` goes out as a plain emit;
//! - every pushed `state:patch` event is handed to the store (and still
//!   delivered to event subscribers);
//! - the link coming up and going away tells the store to resync or to
//!   forget what is in flight;
//! - one clock: [`Agent::poll_timeout`] is the earlier of the client's
//!   deadlines and the end of the store's re-submit pauses.
//!
//! A compressed snapshot is a job for the shell: [`AgentOutput::Inflate`]
//! hands out its bytes and [`Agent::on_inflated`] takes the text back; the
//! scope's patches that arrive meanwhile wait for it (see `inflate`).
//!
//! A conflict is a question for the shell: [`AgentOutput::ResolveConflict`]
//! asks for a patch to re-submit, and [`Agent::resolve_conflict`] gives it
//! (or `None`: the server wins). The reply waits in the agent meanwhile, so
//! the shell answers with nothing of the agent borrowed and the resolver
//! (a JS function) may call back into it.
//!
//! ```
//! use frinny_agent::core::{Agent, AgentOutput, Config, Output, State};
//! let mut agent = Agent::new(Config::new("http://127.0.0.1:5001"), 1);
//! agent.sync_state("world");
//! agent.connect(0);
//! assert!(matches!(agent.poll_output(), Some(AgentOutput::Client(Output::Open { .. }))));
//! agent.on_open(5);
//! agent.on_text(6, r#"0{"sid":"s","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#);
//! agent.on_text(7, r#"40{"sid":"n"}"#);
//! assert_eq!(agent.client().state(), State::Connected);
//! // Joined: the store asks for its scope, as a request with an ack.
//! let sent: Vec<String> = std::iter::from_fn(|| agent.poll_output())
//!     .filter_map(|o| match o { AgentOutput::Client(Output::SendText(t)) => Some(t), _ => None })
//!     .collect();
//! assert!(sent.iter().any(|t| t.starts_with(r#"420["state:subscribe",{"scope":"world""#)));
//! ```

use super::client::{
    AckKey, Client, Config, EmitOptions, Frame, HttpKind, Output, Priority, Protocol, RequestKey,
    RequestOptions, State,
};
use super::error::{ClientError, ErrorCode};
use super::inflate::{Inflations, Reply};
use super::metrics::Metrics;
use super::sync::{Change, Conflict, SyncError, SyncOutput, SyncStore, UpdateId};
use crate::catalogue::{codes, names, StateConflict, SNAPSHOT_COMPRESSION};
use crate::protocol::{json, socket_io};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};

/// What the shell must do or deliver.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentOutput {
    /// What the client asks: open or close the socket, send a frame, a state
    /// change, an event, a user's request or `connect()` settled, an error,
    /// an auth payload. Never the settling of the store's own requests.
    Client(Output),
    /// The visible document of `scope` changed; read it with
    /// [`Agent::doc`] and call the scope's subscribers with (doc, change).
    DocChanged {
        /// The scope.
        scope: String,
        /// What changed it.
        change: Change,
    },
    /// `scope` holds the server's document at `version` (`syncState`
    /// calls waiting on it resolve).
    Synced {
        /// The scope.
        scope: String,
        /// Its version.
        version: u64,
    },
    /// The server refused to sync `scope`; the scope was dropped.
    SyncFailed {
        /// The scope.
        scope: String,
        /// Why.
        error: SyncError,
    },
    /// An update settled: the version it made, or why it did not land.
    UpdateSettled {
        /// The update.
        id: UpdateId,
        /// The scope.
        scope: String,
        /// The version, or the error (`CONFLICT` when the server won).
        result: Result<u64, SyncError>,
    },
    /// Update `id` of `scope` met a conflict: the server holds `server`,
    /// this client meant `local`. Answer with [`Agent::resolve_conflict`]:
    /// a patch to re-submit against the server's document, or `None` (the
    /// server wins).
    ResolveConflict {
        /// The refused update.
        id: UpdateId,
        /// The scope.
        scope: String,
        /// The document as this client showed it, the refused patch in.
        local: Value,
        /// The server's document.
        server: Value,
    },
    /// Inflate `bytes` (a zlib stream: `DecompressionStream(format)` with
    /// `format` "deflate") into UTF-8 text, stopping with an error past
    /// `max_bytes` of output, and answer with [`Agent::on_inflated`] and
    /// `token`.
    Inflate {
        /// Names this job in the answer.
        token: u64,
        /// The `DecompressionStream` format.
        format: &'static str,
        /// The compressed bytes.
        bytes: Vec<u8>,
        /// The most inflated bytes wanted (the client's payload limit).
        max_bytes: usize,
    },
}

/// What a client request made for the store is for.
#[derive(Debug)]
enum StoreCall {
    Subscribe(String),
    Update(UpdateId),
}

/// The client and the sync store as one state machine. See the module docs.
#[derive(Debug)]
pub struct Agent {
    client: Client,
    store: SyncStore,
    /// The client requests made for the store.
    calls: HashMap<RequestKey, StoreCall>,
    /// Conflict replies waiting for [`Agent::resolve_conflict`].
    conflicts: HashMap<UpdateId, Value>,
    /// Compressed snapshots the shell is inflating.
    inflations: Inflations,
    /// The latest time an input brought (ms): the store's requests are
    /// made at it.
    now: u64,
    out: VecDeque<AgentOutput>,
}

impl Agent {
    /// A disconnected agent with no scope. `seed` feeds the backoff jitter
    /// and the request and update id prefixes (the shell passes a random
    /// one).
    pub fn new(cfg: Config, seed: u64) -> Self {
        Agent {
            client: Client::new(cfg, seed),
            store: SyncStore::new(format!("{:08x}", (seed >> 32) as u32)),
            calls: HashMap::new(),
            conflicts: HashMap::new(),
            inflations: Inflations::default(),
            now: 0,
            out: VecDeque::new(),
        }
    }

    /// The client, to read its state, configuration and counters.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The sync store, to read its scopes.
    pub fn store(&self) -> &SyncStore {
        &self.store
    }

    /// Counters, for the shell to record dispatch times and callback errors.
    pub fn metrics_mut(&mut self) -> &mut Metrics {
        self.client.metrics_mut()
    }

    /// The visible document of `scope` (optimistic updates included);
    /// `None` until it is synced.
    pub fn doc(&self, scope: &str) -> Option<&Value> {
        self.store.doc(scope)
    }

    /// The next thing the shell must do, if any.
    pub fn poll_output(&mut self) -> Option<AgentOutput> {
        self.out.pop_front()
    }

    /// The earliest time [`on_timer`](Self::on_timer) must be called.
    pub fn poll_timeout(&self) -> Option<u64> {
        match (self.client.poll_timeout(), self.store.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    // ----- the client's inputs ----------------------------------------------

    /// [`Client::connect`].
    pub fn connect(&mut self, now: u64) {
        self.tick(now);
        self.client.connect(now);
        self.route();
    }

    /// [`Client::disconnect`].
    pub fn disconnect(&mut self, now: u64) {
        self.tick(now);
        self.client.disconnect(now);
        self.route();
    }

    /// [`Client::close`]: every request rejects with CLOSED, the store's
    /// included, and no conflict waits any more.
    pub fn close(&mut self, now: u64) {
        self.tick(now);
        self.client.close(now);
        self.conflicts.clear();
        self.route();
    }

    /// [`Client::set_online`].
    pub fn set_online(&mut self, now: u64, online: bool) {
        self.tick(now);
        self.client.set_online(now, online);
        self.route();
    }

    /// [`Client::emit_with`] (`attachments` empty for a plain emit).
    pub fn emit(
        &mut self,
        event: &str,
        payload: Option<&str>,
        attachments: Vec<Vec<u8>>,
        opts: EmitOptions,
    ) -> Result<(), ClientError> {
        let sent = self.client.emit_with(event, payload, attachments, opts);
        self.route();
        sent
    }

    /// [`Client::request_binary`] (`attachments` empty for a plain
    /// request): it settles as [`Output::Settled`] with the returned key.
    pub fn request(
        &mut self,
        now: u64,
        event: &str,
        payload: &str,
        attachments: Vec<Vec<u8>>,
        opts: RequestOptions,
    ) -> Result<RequestKey, ClientError> {
        self.tick(now);
        let key = self
            .client
            .request_binary(now, event, payload, attachments, opts);
        self.route();
        key
    }

    /// [`Client::answer_ack`]: the answer to a server event that asked for
    /// one.
    pub fn answer_ack(
        &mut self,
        key: AckKey,
        args: &str,
        attachments: Vec<Vec<u8>>,
    ) -> Result<(), ClientError> {
        let sent = self.client.answer_ack(key, args, attachments);
        self.route();
        sent
    }

    /// [`Client::abort`]. The store's own requests cannot be aborted.
    pub fn abort(&mut self, key: RequestKey) {
        if !self.calls.contains_key(&key) {
            self.client.abort(key);
            self.route();
        }
    }

    /// [`Client::on_open`].
    pub fn on_open(&mut self, now: u64) {
        self.tick(now);
        self.client.on_open(now);
        self.route();
    }

    /// [`Client::on_close`].
    pub fn on_close(&mut self, now: u64, reason: &str) {
        self.tick(now);
        self.client.on_close(now, reason);
        self.route();
    }

    /// [`Client::on_auth`].
    pub fn on_auth(&mut self, now: u64, attempt: u64, auth: &str) {
        self.tick(now);
        self.client.on_auth(now, attempt, auth);
        self.route();
    }

    /// [`Client::on_auth_failed`].
    pub fn on_auth_failed(&mut self, now: u64, attempt: u64, message: &str) {
        self.tick(now);
        self.client.on_auth_failed(now, attempt, message);
        self.route();
    }

    /// [`Client::on_text`].
    pub fn on_text(&mut self, now: u64, text: &str) {
        self.tick(now);
        self.client.on_text(now, text);
        self.route();
    }

    /// [`Client::on_binary`].
    pub fn on_binary(&mut self, now: u64, bytes: &[u8]) {
        self.tick(now);
        self.client.on_binary(now, bytes);
        self.route();
    }

    /// [`Client::on_http_response`].
    pub fn on_http_response(
        &mut self,
        now: u64,
        kind: HttpKind,
        status: u16,
        content_type: &str,
        body: &str,
    ) {
        self.tick(now);
        self.client
            .on_http_response(now, kind, status, content_type, body);
        self.route();
    }

    /// [`Client::on_http_failed`].
    pub fn on_http_failed(&mut self, now: u64, kind: HttpKind, reason: &str) {
        self.tick(now);
        self.client.on_http_failed(now, kind, reason);
        self.route();
    }

    /// [`Client::on_probe_open`].
    pub fn on_probe_open(&mut self, now: u64) {
        self.tick(now);
        self.client.on_probe_open(now);
        self.route();
    }

    /// [`Client::on_probe_text`].
    pub fn on_probe_text(&mut self, now: u64, text: &str) {
        self.tick(now);
        self.client.on_probe_text(now, text);
        self.route();
    }

    /// [`Client::on_probe_close`].
    pub fn on_probe_close(&mut self, now: u64) {
        self.tick(now);
        self.client.on_probe_close(now);
        self.route();
    }

    /// [`Client::on_backpressure`].
    pub fn on_backpressure(&mut self, now: u64, buffered_bytes: u64) {
        self.tick(now);
        self.client.on_backpressure(now, buffered_bytes);
        self.route();
    }

    /// [`Client::on_link_open`].
    pub fn on_link_open(&mut self, now: u64) {
        self.tick(now);
        self.client.on_link_open(now);
        self.route();
    }

    /// [`Client::on_link_packet`].
    pub fn on_link_packet(&mut self, now: u64, packet: socket_io::Packet<'_>) {
        self.tick(now);
        self.client.on_link_packet(now, packet);
        self.route();
    }

    /// [`Client::carry`].
    pub fn carry(&mut self, priority: Priority, frame: Frame, attachments: Vec<Vec<u8>>) {
        self.client.carry(priority, frame, attachments);
        self.route();
    }

    /// [`Client::on_plain_events`].
    pub fn on_plain_events(&mut self, frames: u64, events: u64, bytes: u64) {
        self.client.on_plain_events(frames, events, bytes);
    }

    /// [`Client::flush_emits`]: the answer to [`Output::FlushEmits`].
    pub fn flush_emits(&mut self) {
        self.client.flush_emits();
        self.route();
    }

    /// The clock reached `now`: the client's deadlines that passed fire,
    /// and re-submits whose pause is over go out.
    pub fn on_timer(&mut self, now: u64) {
        self.tick(now);
        self.client.on_timer(now);
        self.store.on_timer(now);
        self.route();
    }

    // ----- the store's inputs -----------------------------------------------

    /// Starts following `scope`, if not already: once joined it is asked
    /// for, and [`AgentOutput::Synced`] says when it is in step.
    pub fn sync_state(&mut self, scope: &str) {
        if !self.store.is_subscribed(scope) {
            self.store.subscribe(scope);
            self.route();
        }
    }

    /// Stops following `scope` ([`SyncStore::unsubscribe`]).
    pub fn unsync_state(&mut self, scope: &str) {
        self.inflations.forget(scope);
        self.store.unsubscribe(scope);
        self.route();
    }

    /// Sends the merge patch `patch` for `scope` ([`SyncStore::update`]);
    /// it settles as [`AgentOutput::UpdateSettled`] with the returned id.
    pub fn update_state(
        &mut self,
        now: u64,
        scope: &str,
        patch: Value,
        optimistic: bool,
    ) -> Result<UpdateId, SyncError> {
        self.tick(now);
        let id = self.store.update(scope, patch, optimistic);
        self.route();
        id
    }

    /// The answer to [`AgentOutput::ResolveConflict`] for update `id`: the
    /// patch to re-submit against the server's document, or `None` for the
    /// server's document to stand (the update then rejects with CONFLICT).
    /// An answer to no question is ignored.
    pub fn resolve_conflict(&mut self, now: u64, id: UpdateId, patch: Option<Value>) {
        let Some(reply) = self.conflicts.remove(&id) else {
            return;
        };
        // The re-submit pause starts now.
        self.tick(now);
        self.store.on_update_reply(id, &reply, answered(patch));
        self.route();
    }

    /// The shell's answer to [`AgentOutput::Inflate`] `token`: the
    /// inflated text, or why there is none. The snapshot then applies as if
    /// it had come uncompressed, and the scope's patches held meanwhile
    /// follow in order. A failure, or text over the payload limit or not a
    /// JSON document, is `INFLATE_FAILED`: counted, reported as
    /// [`Output::Error`], and the scope asks again for a plain snapshot. An
    /// answer for a token not waited for is ignored.
    pub fn on_inflated(&mut self, now: u64, token: u64, result: Result<String, String>) {
        self.tick(now);
        let limits = self.client.config().limits;
        let Some(done) = self.inflations.finish(token, result, &limits) else {
            return;
        };
        match done.reply {
            Ok(reply) => self.store.on_subscribe_reply(&done.scope, &reply),
            Err(e) => self.inflate_failed(&done.scope, e),
        }
        for patch in done.released {
            self.store.on_patch_event(&patch);
        }
        self.route();
    }

    /// A compressed snapshot that could not be used: counted, reported,
    /// and the scope asks again (its next ask goes plain).
    fn inflate_failed(&mut self, scope: &str, e: ClientError) {
        self.client
            .metrics_mut()
            .count_error(ErrorCode::InflateFailed.as_str());
        self.out.push_back(AgentOutput::Client(Output::Error(e)));
        self.store.resubscribe(scope);
    }

    // ----- routing ------------------------------------------------------------

    fn tick(&mut self, now: u64) {
        self.now = self.now.max(now);
        self.store.set_time(now);
    }

    /// Moves everything the two parts queued to the agent's outputs,
    /// carrying out on the spot what they ask of each other.
    fn route(&mut self) {
        loop {
            if let Some(output) = self.client.poll_output() {
                self.route_client_output(output);
            } else if let Some(output) = self.store.poll_output() {
                self.route_store_output(output);
            } else {
                return;
            }
        }
    }

    fn route_client_output(&mut self, output: Output) {
        match output {
            Output::StateChange { state, .. } => {
                self.out.push_back(AgentOutput::Client(output));
                if state == State::Connected {
                    self.store.on_connect();
                } else if self.store.is_connected() {
                    self.store.on_disconnect();
                }
            }
            Output::Event {
                ref name,
                ref json,
                form,
                ..
            } if name == names::STATE_PATCH => {
                if let Some(payload) = patch_payload(json, form) {
                    match payload.get("scope").and_then(Value::as_str) {
                        // Its snapshot is being inflated: the patch waits.
                        Some(scope) if self.inflations.holds(scope) => {
                            let scope = scope.to_owned();
                            self.inflations.hold(&scope, payload);
                        }
                        _ => {
                            self.store.on_patch_event(&payload);
                        }
                    }
                    // Subscribers of the scope see the change before
                    // subscribers of the raw event.
                    self.drain_store();
                }
                self.out.push_back(AgentOutput::Client(output));
            }
            Output::Settled {
                key,
                result,
                attachments,
            } if self.calls.contains_key(&key) => {
                if let Some(call) = self.calls.remove(&key) {
                    self.store_call_settled(call, result, attachments);
                }
            }
            other => self.out.push_back(AgentOutput::Client(other)),
        }
    }

    fn drain_store(&mut self) {
        while let Some(output) = self.store.poll_output() {
            self.route_store_output(output);
        }
    }

    fn route_store_output(&mut self, output: SyncOutput) {
        match output {
            SyncOutput::Subscribe { ref scope, .. } => {
                let call = StoreCall::Subscribe(scope.clone());
                self.send(&output, call);
            }
            SyncOutput::Update { id, .. } => self.send(&output, StoreCall::Update(id)),
            SyncOutput::Unsubscribe { .. } => {
                if let Some((event, payload)) = output.frame() {
                    // Nothing to do if it cannot go: the server forgets a
                    // scope when the link it was followed on ends.
                    let text = json::text(&payload);
                    let _ = self.client.emit(event, Some(&text), false);
                }
            }
            SyncOutput::Changed { scope, change } => {
                self.out
                    .push_back(AgentOutput::DocChanged { scope, change });
            }
            SyncOutput::Synced { scope, version } => {
                self.out.push_back(AgentOutput::Synced { scope, version });
            }
            SyncOutput::Settled { id, scope, result } => {
                self.out
                    .push_back(AgentOutput::UpdateSettled { id, scope, result });
            }
            SyncOutput::SubscribeFailed { scope, error } => {
                self.out.push_back(AgentOutput::SyncFailed { scope, error });
            }
        }
    }

    /// Sends a store frame as a client request (`retry: false`: the store
    /// re-sends by itself after a reconnect).
    fn send(&mut self, output: &SyncOutput, call: StoreCall) {
        let Some((event, mut payload)) = output.frame() else {
            return;
        };
        if let (StoreCall::Subscribe(scope), Value::Object(fields)) = (&call, &mut payload) {
            let cfg = self.client.config();
            // Attachments need Socket.IO; the JSON framing has none.
            let can = cfg.inflate && cfg.protocol == Protocol::SocketIo;
            if can && self.inflations.may_compress(scope) {
                fields.insert("compress".into(), Value::from(SNAPSHOT_COMPRESSION));
            }
        }
        let opts = RequestOptions {
            timeout_ms: None,
            retry: false,
            ..RequestOptions::default()
        };
        match self
            .client
            .request(self.now, event, &json::text(&payload), opts)
        {
            Ok(key) => {
                self.calls.insert(key, call);
            }
            // Could not even be queued (BUFFER_FULL, CLOSED): the store
            // hears of it as a failed call.
            Err(e) => match call {
                StoreCall::Subscribe(scope) => {
                    self.store.on_subscribe_failed(&scope, to_sync_error(&e))
                }
                StoreCall::Update(id) => self.store.on_update_failed(id, to_sync_error(&e)),
            },
        }
    }

    /// A client request made for the store settled.
    fn store_call_settled(
        &mut self,
        call: StoreCall,
        result: Result<String, ClientError>,
        attachments: Vec<Vec<u8>>,
    ) {
        let reply = result.and_then(|json| {
            serde_json::from_str::<Value>(&json)
                .map_err(|e| ClientError::new(ErrorCode::ProtocolError, e.to_string()))
        });
        match (call, reply) {
            (StoreCall::Subscribe(scope), Ok(reply)) => {
                let can_inflate = self.client.config().inflate;
                match self
                    .inflations
                    .on_reply(&scope, reply, attachments, can_inflate)
                {
                    Reply::Plain(reply) => self.store.on_subscribe_reply(&scope, &reply),
                    Reply::Inflate { token, bytes } => {
                        self.out.push_back(AgentOutput::Inflate {
                            token,
                            format: SNAPSHOT_COMPRESSION,
                            bytes,
                            max_bytes: self.client.config().limits.max_frame_bytes,
                        });
                    }
                    Reply::Unusable(e) => {
                        self.inflations.failed_at_once(&scope);
                        self.inflate_failed(&scope, e);
                    }
                }
            }
            (StoreCall::Subscribe(scope), Err(e)) => {
                self.store.on_subscribe_failed(&scope, to_sync_error(&e))
            }
            (StoreCall::Update(id), Ok(reply)) => match self.conflict_question(id, &reply) {
                Some(question) => {
                    self.conflicts.insert(id, reply);
                    self.out.push_back(question);
                }
                None => {
                    self.store.on_update_reply(id, &reply, answered(None));
                }
            },
            (StoreCall::Update(id), Err(e)) => self.store.on_update_failed(id, to_sync_error(&e)),
        }
    }

    /// The question to ask about `reply` to update `id`, if it is a conflict
    /// the store would ask a resolver about: a well-formed `CONFLICT` refusal
    /// for a scope still followed. What the store shows now is what this
    /// client meant: the refused patch is still laid over it.
    fn conflict_question(&self, id: UpdateId, reply: &Value) -> Option<AgentOutput> {
        if reply.get("code").and_then(Value::as_str) != Some(codes::CONFLICT) {
            return None;
        }
        let conflict = StateConflict::deserialize(reply).ok()?;
        let local = self.store.doc(&conflict.scope)?.clone();
        Some(AgentOutput::ResolveConflict {
            id,
            scope: conflict.scope,
            local,
            server: conflict.doc,
        })
    }
}

/// The store's resolver when the agent already holds the answer: a conflict
/// was put to the shell as [`AgentOutput::ResolveConflict`] before its reply
/// reached the store, and any other reply needs none. One function for both
/// calls, so the store's generic conflict path is compiled once.
fn answered(patch: Option<Value>) -> impl FnOnce(&Conflict) -> Option<Value> {
    move |_| patch
}

/// The payload of a `state:patch` event: the argument after the name in a
/// Socket.IO array, or the frame itself on the JSON protocol.
fn patch_payload(json: &str, form: super::ArgsForm) -> Option<Value> {
    let value = serde_json::from_str::<Value>(json).ok()?;
    match form {
        super::ArgsForm::NamedArray => value.get(1).cloned(),
        super::ArgsForm::Single => Some(value),
    }
}

/// A client error as the store sees it: the server's own code when it sent
/// one (FORBIDDEN, STATE_TOO_LARGE), else the transport code (TIMEOUT,
/// DISCONNECTED), which the store handles itself.
fn to_sync_error(e: &ClientError) -> SyncError {
    SyncError::new(
        e.server_code
            .clone()
            .unwrap_or_else(|| e.code.as_str().to_owned()),
        e.message.clone(),
    )
}
