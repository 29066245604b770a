//! The shared state behind one `AgentManager` and the output pump.
//!
//! Every input goes to the [`Agent`] under a short `RefCell` borrow: what
//! the browser tells ([`Input`], through [`Driver::handle`]) and what the
//! user or the shell itself asks ([`Driver::call`]). Both then pump: drain
//! [`Agent::poll_output`] and carry each output out with no borrow held, so
//! JS callbacks can call back into the manager. The agent is changed
//! nowhere else, so no input can forget the pump. The pump is a
//! trampoline: a call made from inside a callback only feeds the agent;
//! the outermost pump carries out what follows, in order. At the end the
//! fast-path gate is set and the timer re-armed to
//! [`Agent::poll_timeout`].

use super::auth::AuthHook;
use super::convert;
use super::errors;
use super::glue;
use super::guest_tap;
use super::hub::{EventHub, Listener, ERROR, STATE_CHANGE};
use super::input::{Answer, Feed, Input};
use super::link::{LinkHost, LinkWatcher};
use super::network::Network;
use super::polling::{HttpOptions, Polling};
use super::requests::Waiting;
use super::socket::Socket;
use super::timer::Timer;
use crate::core::{
    reply_policy, AckKey, Agent, AgentOutput, ArgsForm, Config, FastPath, HttpKind, Output, State,
    Transport,
};
use js_sys::{Array, Function, JsString};
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// A text frame being handled: the text the core decodes, and the JS
/// string it came from when that is pure ASCII (so byte offsets in one are
/// UTF-16 offsets in the other).
struct Frame {
    text: String,
    js: Option<JsString>,
}

/// The hub's hook for a subscriber that throws: `(name, error)`.
type ThrownHook = Closure<dyn Fn(JsValue, JsValue)>;

/// The hub's hook for an event's `ack` being called: `(key, args)`; throws
/// INVALID_PAYLOAD for args that cannot be sent. One per manager: the `ack`
/// functions themselves are plain JS.
type AnswerHook = Closure<dyn Fn(f64, JsValue) -> Result<(), JsValue>>;

/// The hub's end-of-tick flush of coalesced emits.
type FlushHook = Closure<dyn Fn()>;

/// One manager's state. Owned through `Rc` by the exported class; every
/// closure handed to the browser holds only a `Weak` to it.
pub(crate) struct Driver {
    /// The sans-IO client and sync store; changed only through
    /// [`handle`](Self::handle) and [`call`](Self::call), which pump.
    agent: RefCell<Agent>,
    /// How the leaves hand their inputs to [`handle`](Self::handle).
    feed: Feed,
    /// Event subscribers and the inbound fast path (JS side).
    pub hub: EventHub,
    /// The hub's hook for a subscriber that throws; released at shutdown.
    thrown: RefCell<Option<ThrownHook>>,
    /// The hub's hook for an `ack` call; released at shutdown.
    answer: RefCell<Option<AnswerHook>>,
    /// The hub's end-of-tick flush; released at shutdown.
    flusher: RefCell<Option<FlushHook>>,
    /// Whether the hub unpacks `batch` envelopes, as last handed to it.
    batching: Cell<bool>,
    /// The `auth` option when it is a function; released at shutdown.
    auth: RefCell<Option<AuthHook>>,
    /// The fast-path gate last handed to the hub.
    gate: Cell<u8>,
    /// Promises waiting for the agent.
    pub waiting: Waiting,
    socket: RefCell<Option<Socket>>,
    /// Generation of the current socket; events of older ones are ignored.
    generation: Cell<u64>,
    /// The upgrade probe WebSocket, while one is tried, and its generation.
    probe: RefCell<Option<Socket>>,
    probe_generation: Cell<u64>,
    /// Sockets made so far: each gets the next number as its generation.
    sockets_made: Cell<u64>,
    /// The long-polling transport, while the link uses it, and its
    /// generation (results of a dropped one are ignored).
    polling: RefCell<Option<Polling>>,
    polling_generation: Cell<u64>,
    /// `withCredentials` and `extraHeaders` for the polling requests.
    http: HttpOptions,
    /// The `highWaterMark` option: a send that leaves the socket holding
    /// more is reported to the agent.
    high_water_mark: f64,
    timer: RefCell<Option<Timer>>,
    network: RefCell<Option<Network>>,
    pumping: Cell<bool>,
    /// The text frame whose outputs are being carried out.
    frame: RefCell<Option<Frame>>,
    /// Set while the manager is being freed: settle Promises, call no
    /// listeners.
    quiet: Cell<bool>,
    released: Cell<bool>,
    /// A guest on a shared link: the link, and this guest's number on it.
    /// Its core's Open, Close and sends go there instead of to a socket.
    host: RefCell<Option<(Rc<dyn LinkHost>, u64)>>,
    /// The driver of a shared link: who hears of the link and its packets.
    /// Such a driver calls no listener and never sets the hub's gate (the
    /// hub may be a guest's, lent for the fast path and the inspector).
    watcher: Option<Weak<dyn LinkWatcher>>,
    /// The hub is a guest's, lent to this link's driver: the guest clears it.
    hub_lent: bool,
}

impl Driver {
    /// A driver for `cfg`, listening for the browser's online/offline
    /// events; `auth` is the `auth` option when it is a function (the core
    /// then asks for it per attempt).
    pub(crate) fn new(
        cfg: Config,
        auth: Option<Function>,
        http: HttpOptions,
        seed: u64,
    ) -> Rc<Driver> {
        Self::build(cfg, auth, http, seed, None, None)
    }

    /// The driver of a shared link (its `cfg` in the link role), telling
    /// `watcher` what happens on it. Its sockets go through `hub`, a
    /// root-namespace guest's, so that guest keeps the inbound fast path
    /// and its inspector sees the link's frames; or through a hub of its own.
    pub(crate) fn new_link(
        cfg: Config,
        http: HttpOptions,
        seed: u64,
        hub: Option<EventHub>,
        watcher: Weak<dyn LinkWatcher>,
    ) -> Rc<Driver> {
        Self::build(cfg, None, http, seed, hub, Some(watcher))
    }

    fn build(
        cfg: Config,
        auth: Option<Function>,
        http: HttpOptions,
        seed: u64,
        lent_hub: Option<EventHub>,
        watcher: Option<Weak<dyn LinkWatcher>>,
    ) -> Rc<Driver> {
        // A UTF-16 unit is at most 3 UTF-8 bytes: at most max/3 units is
        // within the byte limit; longer frames take the core path, which
        // measures bytes. (Byte counts in metrics are UTF-16 units there.)
        let max_units = u32::try_from(cfg.limits.max_frame_bytes / 3).unwrap_or(u32::MAX);
        let high_water_mark = cfg.high_water_mark as f64;
        let driver = Rc::new_cyclic(|this: &Weak<Driver>| {
            let weak = this.clone();
            let thrown = ThrownHook::new(move |name: JsValue, error: JsValue| {
                if let Some(d) = weak.upgrade() {
                    d.callback_threw(&name.as_string().unwrap_or_default(), &error);
                }
            });
            let weak = this.clone();
            let answer = AnswerHook::new(move |key: f64, args: JsValue| match weak.upgrade() {
                Some(d) => d.answer_ack(key, &args),
                None => Ok(()),
            });
            let core_names = FastPath::core_names().chain([crate::catalogue::names::STATE_PATCH]);
            let lent = lent_hub.is_some();
            let hub = lent_hub.unwrap_or_else(|| {
                EventHub::create(
                    thrown.as_ref().unchecked_ref(),
                    answer.as_ref().unchecked_ref(),
                    max_units,
                    core_names,
                    reply_policy::REPLY_NAMES,
                    reply_policy::REPLY_SUFFIX,
                )
            });
            // A lent hub keeps its guest's flusher: the guest coalesces its
            // emits, while the link only carries finished frames.
            let flusher = (!lent).then(|| {
                let weak = this.clone();
                let flusher = FlushHook::new(move || {
                    if let Some(d) = weak.upgrade() {
                        d.call(|agent, _| agent.flush_emits());
                    }
                });
                hub.set_flusher(flusher.as_ref().unchecked_ref());
                flusher
            });
            let weak = this.clone();
            let feed: Feed = Rc::new(move |input| {
                if let Some(d) = weak.upgrade() {
                    d.handle(input);
                }
            });
            let auth = auth.map(|function| AuthHook::new(function, feed.clone()));
            Driver {
                agent: RefCell::new(Agent::new(cfg, seed)),
                hub,
                thrown: RefCell::new(Some(thrown)),
                answer: RefCell::new(Some(answer)),
                flusher: RefCell::new(flusher),
                batching: Cell::new(false),
                auth: RefCell::new(auth),
                gate: Cell::new(0),
                waiting: Waiting::default(),
                socket: RefCell::new(None),
                generation: Cell::new(0),
                probe: RefCell::new(None),
                probe_generation: Cell::new(0),
                sockets_made: Cell::new(0),
                polling: RefCell::new(None),
                polling_generation: Cell::new(0),
                http,
                high_water_mark,
                timer: RefCell::new(Some(Timer::new(feed.clone()))),
                network: RefCell::new(Network::listen(feed.clone())),
                pumping: Cell::new(false),
                frame: RefCell::new(None),
                quiet: Cell::new(false),
                released: Cell::new(false),
                host: RefCell::new(None),
                watcher,
                hub_lent: lent,
                feed,
            }
        });
        if !glue::navigator_online() {
            driver.handle(Input::NetworkChanged { online: false });
        }
        driver
    }

    /// Where the leaves hand their inputs (an AbortSignal's, say).
    pub(crate) fn feed(&self) -> Feed {
        self.feed.clone()
    }

    /// Makes this driver guest `id` on the shared link `host`.
    pub(crate) fn set_host(&self, host: Rc<dyn LinkHost>, id: u64) {
        *self.host.borrow_mut() = Some((host, id));
    }

    /// The shared link this driver is a guest on, if any.
    fn host(&self) -> Option<(Rc<dyn LinkHost>, u64)> {
        self.host.borrow().clone()
    }

    /// The link's watcher, for a shared link's driver.
    fn watcher(&self) -> Option<Rc<dyn LinkWatcher>> {
        self.watcher.as_ref().and_then(Weak::upgrade)
    }

    /// What this driver's WebSocket holds unsent, if it has one.
    pub(crate) fn buffered_amount(&self) -> Option<u64> {
        self.socket.borrow().as_ref().map(Socket::buffered_amount)
    }

    /// The transport of the link in use, while joined.
    pub(crate) fn transport(&self) -> Option<Transport> {
        let own = self.agent().client().transport()?;
        match self.host() {
            Some((host, _)) => host.transport(),
            None => Some(own),
        }
    }

    /// Link-wide counters: this driver's, or its shared link's.
    pub(crate) fn link_metrics(&self) -> (u64, Option<u64>) {
        match self.host() {
            Some((host, _)) => host.link_metrics(),
            None => {
                let agent = self.agent();
                let m = agent.client().metrics();
                (m.upgrades, m.last_ping_ms)
            }
        }
    }

    /// True while the manager is being freed: no listener may be called.
    pub(crate) fn is_quiet(&self) -> bool {
        self.quiet.get()
    }

    /// True once the manager has ended and let go of everything.
    pub(crate) fn is_released(&self) -> bool {
        self.released.get()
    }

    // ----- inputs ---------------------------------------------------------------

    /// Feeds the agent one input from the browser, then pumps.
    pub(crate) fn handle(&self, input: Input) {
        if self.released.get() {
            return;
        }
        match input {
            Input::SocketOpened { generation } => {
                if generation == self.generation.get() {
                    self.call(|agent, now| agent.on_open(now));
                } else if self.is_probe(generation) {
                    self.call(|agent, now| agent.on_probe_open(now));
                }
            }
            Input::SocketText { generation, js } => {
                if generation == self.generation.get() {
                    self.text_frame(js);
                } else if self.is_probe(generation) {
                    let text = String::from(&js);
                    self.call(|agent, now| agent.on_probe_text(now, &text));
                }
            }
            Input::SocketBinary { generation, bytes } => {
                if generation == self.generation.get() {
                    self.call(|agent, now| agent.on_binary(now, &bytes));
                }
            }
            Input::SocketClosed { generation, reason } => {
                if generation == self.generation.get() {
                    self.call(|agent, now| agent.on_close(now, reason));
                } else if self.is_probe(generation) {
                    self.call(|agent, now| agent.on_probe_close(now));
                }
            }
            Input::HttpDone {
                generation,
                kind,
                status,
                content_type,
                body,
            } => {
                if generation == self.polling_generation.get() {
                    if kind == HttpKind::Get && (200..300).contains(&status) {
                        self.hub.tap_payload("in", &body);
                    }
                    self.call(|agent, now| {
                        agent.on_http_response(now, kind, status, &content_type, &body)
                    });
                }
            }
            Input::HttpFailed {
                generation,
                kind,
                reason,
            } => {
                if generation == self.polling_generation.get() {
                    self.call(|agent, now| agent.on_http_failed(now, kind, &reason));
                }
            }
            Input::TimerFired => {
                if let Some(t) = self.timer.borrow().as_ref() {
                    t.fired();
                }
                self.call(|agent, now| agent.on_timer(now));
            }
            Input::NetworkChanged { online } => {
                self.call(|agent, now| agent.set_online(now, online));
            }
            Input::Aborted { key } => self.call(|agent, _| agent.abort(key)),
            Input::Inflated { token, result } => {
                self.call(|agent, now| agent.on_inflated(now, token, result))
            }
            Input::LinkOpened => self.call(|agent, now| agent.on_link_open(now)),
            Input::LinkPacket(packet) => {
                if let Some((host, id)) = self.host() {
                    if self.hub.inspecting() && !host.tapped_for(id) {
                        // Read out first: the inspector may call the manager.
                        let (parser, limits) = {
                            let agent = self.agent();
                            let cfg = agent.client().config();
                            (cfg.parser, cfg.limits)
                        };
                        guest_tap::routed(&self.hub, &packet, parser, &limits, host.transport());
                    }
                }
                self.call(|agent, now| agent.on_link_packet(now, packet))
            }
            Input::LinkClosed { reason } => self.call(|agent, now| agent.on_close(now, &reason)),
            Input::LinkError(e) => {
                // Counted as a client with a link of its own counts it: a
                // protocol error under its decoder's code.
                let counted = e.detail.unwrap_or(e.code.as_str());
                self.call(|agent, _| agent.metrics_mut().count_error(counted));
                if !self.quiet.get() {
                    self.report_error(&errors::from_client(&e));
                }
            }
            Input::AuthAnswered { attempt, answer } => self.call(|agent, now| match answer {
                Answer::Json(json) => agent.on_auth(now, attempt, &json),
                Answer::Failed(why) => agent.on_auth_failed(now, attempt, &why),
            }),
        }
    }

    /// Feeds the agent a user's call (or the shell's answer to one of its
    /// outputs) at the current time, then pumps; the only way to change
    /// the agent, so nothing can forget the pump.
    pub(crate) fn call<R>(&self, f: impl FnOnce(&mut Agent, u64) -> R) -> R {
        let result = f(&mut self.agent.borrow_mut(), glue::now_ms());
        self.pump();
        result
    }

    /// The agent, to read.
    pub(crate) fn agent(&self) -> std::cell::Ref<'_, Agent> {
        self.agent.borrow()
    }

    /// A text frame, as Rust text for the agent and as the JS string it came
    /// as: while its outputs are carried out, an event whose JSON is the
    /// tail of an ASCII frame is parsed straight from the JS string, sparing
    /// a UTF-8 copy out of wasm per event.
    fn text_frame(&self, js: JsString) {
        let text = String::from(&js);
        let ascii = js.length() as usize == text.len();
        *self.frame.borrow_mut() = Some(Frame {
            text,
            js: ascii.then_some(js),
        });
        if let Some(frame) = self.frame.borrow().as_ref() {
            self.agent.borrow_mut().on_text(glue::now_ms(), &frame.text);
        }
        self.pump();
        self.frame.borrow_mut().take();
    }

    /// `JSON.parse` of `json`: sliced from the current frame's JS string
    /// when `json` occurs in that (ASCII) frame (an event's arguments are
    /// its tail, an ack's reply sits inside it), else copied out of wasm.
    /// Any occurrence will do: equal text parses to an equal value, and in
    /// an ASCII frame byte offsets are UTF-16 offsets. Only text that is
    /// most of the frame is looked for: the entries of a `batch` envelope
    /// are each a small part of theirs, and searching the frame for every
    /// one of them would cost the frame's length per entry.
    pub(crate) fn parse_json(&self, json: &str) -> JsValue {
        let frame = self.frame.borrow();
        if let Some(Frame { text, js: Some(js) }) = frame.as_ref() {
            let most = !json.is_empty() && json.len().saturating_mul(2) > text.len();
            if let Some(start) = most.then(|| text.rfind(json)).flatten() {
                let (start, end) = (start as u32, (start + json.len()) as u32);
                return glue::json_parse(&js.slice(start, end));
            }
        }
        convert::parse(json)
    }

    /// Calls the `auth` function for `attempt`; the agent only asks when
    /// there is one.
    fn ask_auth(&self, attempt: u64) {
        // Asked before a listener closed the manager in the same pump.
        if self.quiet.get() || self.agent().client().state() == State::Closed {
            return;
        }
        let asker = self.auth.borrow().as_ref().map(AuthHook::asker);
        match asker {
            // A synchronous answer comes back as an input at once.
            Some(asker) => asker.ask(attempt),
            None => self.call(|agent, now| agent.on_auth_failed(now, attempt, "no auth function")),
        }
    }

    // ----- the pump --------------------------------------------------------------

    /// Carries out every output the agent has queued, then sets the gate
    /// and re-arms the timer.
    fn pump(&self) {
        if self.pumping.replace(true) {
            return;
        }
        loop {
            let next = self.agent.borrow_mut().poll_output();
            match next {
                Some(output) => self.carry_out(output),
                None => break,
            }
        }
        self.pumping.set(false);
        if self.watcher.is_some() {
            let deadline = self.agent.borrow().poll_timeout();
            if let Some(t) = self.timer.borrow().as_ref() {
                t.arm(deadline);
            }
            return;
        }
        let gate = if self.quiet.get() {
            0
        } else {
            self.agent().client().fast_path().as_u8()
        };
        if gate != self.gate.replace(gate) {
            self.hub.set_gate(gate);
        }
        let batching = gate != 0 && self.agent().client().batching();
        if batching != self.batching.replace(batching) {
            self.hub.set_batching(batching);
        }
        let deadline = self.agent.borrow().poll_timeout();
        if let Some(t) = self.timer.borrow().as_ref() {
            t.arm(deadline);
        }
    }

    fn carry_out(&self, output: AgentOutput) {
        match output {
            AgentOutput::Client(output) => self.carry_out_client(output),
            AgentOutput::DocChanged { scope, change } => self.doc_changed(&scope, &change),
            AgentOutput::Synced { scope, .. } => self.synced(&scope),
            AgentOutput::SyncFailed { scope, error } => self.sync_failed(&scope, &error),
            AgentOutput::UpdateSettled { id, result, .. } => self.update_settled(id, &result),
            AgentOutput::ResolveConflict {
                id,
                scope,
                local,
                server,
            } => self.resolve_conflict(id, &scope, &local, &server),
            AgentOutput::Inflate {
                token,
                format,
                bytes,
                max_bytes,
            } => super::inflate::start(token, format, &bytes, max_bytes, self.feed.clone()),
        }
    }

    fn carry_out_client(&self, output: Output) {
        if let Some((host, id)) = self.host() {
            match output {
                Output::Open { .. } => return host.attach(id),
                Output::Close => return host.detach(id),
                Output::Carry {
                    priority,
                    frame,
                    attachments,
                } => {
                    if self.hub.inspecting() && !host.tapped_for(id) {
                        guest_tap::sent(&self.hub, &frame, &attachments, host.transport());
                    }
                    host.carry(priority, frame, attachments);
                    return self.sent(host.buffered_amount().map(|b| b as f64));
                }
                Output::CheckBackpressure => {
                    if let Some(bytes) = host.buffered_amount() {
                        self.call(|agent, now| agent.on_backpressure(now, bytes));
                    }
                    return;
                }
                _ => {}
            }
        }
        let output = match (self.watcher(), output) {
            (Some(w), Output::Routed(packet)) => return w.routed(packet),
            (Some(w), Output::StateChange { state, reason }) => {
                return match state {
                    State::Connected => w.link_changed(true, &reason),
                    State::Disconnected | State::Closed => w.link_changed(false, &reason),
                    State::Connecting | State::Reconnecting => {}
                };
            }
            (Some(w), Output::Error(e)) => return w.link_error(e),
            (_, output) => output,
        };
        match output {
            Output::Open { url } => self.open_socket(&url),
            Output::Close => {
                let old = self.socket.borrow_mut().take();
                drop(old);
                self.drop_polling();
            }
            Output::FlushEmits => self.hub.schedule_flush(),
            Output::SendText(text) => {
                let buffered = self.socket.borrow().as_ref().map(|s| s.send_text(&text));
                self.sent(buffered);
            }
            Output::SendBinary(bytes) => {
                let buffered = self.socket.borrow().as_ref().map(|s| s.send_binary(&bytes));
                self.sent(buffered);
            }
            Output::CheckBackpressure => {
                let buffered = self.socket.borrow().as_ref().map(Socket::buffered_amount);
                if let Some(bytes) = buffered {
                    self.call(|agent, now| agent.on_backpressure(now, bytes));
                }
            }
            Output::StateChange { state, reason } => {
                if !self.quiet.get() {
                    let args = Array::of2(
                        &JsValue::from_str(state.as_str()),
                        &JsValue::from_str(&reason),
                    );
                    self.hub.notify(Listener::State, STATE_CHANGE, &args);
                }
            }
            Output::Event {
                name,
                json,
                form,
                attachments,
                ack,
            } => {
                if !self.quiet.get() {
                    self.dispatch(&name, &json, form, attachments, ack);
                }
            }
            Output::Settled {
                key,
                result,
                attachments,
            } => {
                let Some(pending) = self.waiting.take(key) else {
                    return;
                };
                match result {
                    Ok(json) if attachments.is_empty() => {
                        pending.settler.resolve(&self.parse_json(&json))
                    }
                    Ok(json) => {
                        let limits = self.agent().client().config().limits;
                        pending
                            .settler
                            .resolve(&convert::reply(&json, attachments, &limits));
                    }
                    Err(e) => pending.settler.reject(&errors::from_client(&e)),
                }
                // The AbortSignal listener goes with `pending`.
            }
            Output::ConnectSettled(result) => {
                let error = result.err().map(|e| errors::from_client(&e));
                for settler in self.waiting.take_connects() {
                    match &error {
                        None => settler.resolve(&JsValue::UNDEFINED),
                        Some(e) => settler.reject(e),
                    }
                }
            }
            Output::Error(e) => {
                if !self.quiet.get() {
                    self.report_error(&errors::from_client(&e));
                }
            }
            Output::NeedAuth { attempt } => self.ask_auth(attempt),
            // Only a shared link's client routes (it has a watcher), and
            // only a guest carries (it has a host).
            Output::Routed(_) | Output::Carry { .. } => {}
            Output::HttpGet { url } => self.http_request(HttpKind::Get, &url, None),
            Output::HttpPost { url, body } => {
                self.hub.tap_payload("out", &body);
                self.http_request(HttpKind::Post, &url, Some(&body))
            }
            Output::OpenProbe { url } => self.open_probe(&url),
            Output::SendProbe(text) => {
                if let Some(p) = self.probe.borrow().as_ref() {
                    p.send_text(&text);
                }
            }
            Output::CloseProbe => {
                let old = self.probe.borrow_mut().take();
                drop(old);
            }
            Output::Upgraded => {
                // The probe is the link's socket now; polling is over.
                let probe = self.probe.borrow_mut().take();
                let old = std::mem::replace(&mut *self.socket.borrow_mut(), probe);
                drop(old);
                let generation = self.probe_generation.get();
                self.generation.set(generation);
                self.hub.set_generation(generation as f64);
                self.drop_polling();
            }
        }
    }

    /// After a send on the link's socket, which then buffered `buffered`
    /// bytes unsent: over the high-water mark, the agent hears of it (the
    /// link is congested, and the agent asks again on its own timer until
    /// the socket drained). Readings under the mark are not passed on: the
    /// agent's own checks see the drain, and the hot path stays free of a
    /// call into it per send.
    fn sent(&self, buffered: Option<f64>) {
        if let Some(bytes) = buffered.filter(|b| *b > self.high_water_mark) {
            // `as` saturates: a bogus number cannot panic.
            self.call(|agent, now| agent.on_backpressure(now, bytes as u64));
        }
    }

    /// The next socket generation.
    fn next_generation(&self) -> u64 {
        let generation = self.sockets_made.get().wrapping_add(1);
        self.sockets_made.set(generation);
        generation
    }

    /// Whether `generation` is the upgrade probe's, while there is one.
    fn is_probe(&self, generation: u64) -> bool {
        generation == self.probe_generation.get() && self.probe.borrow().is_some()
    }

    /// Sends a long-polling request, making the transport on first use.
    fn http_request(&self, kind: HttpKind, url: &str, body: Option<&str>) {
        if self.polling.borrow().is_none() {
            let generation = self.polling_generation.get().wrapping_add(1);
            self.polling_generation.set(generation);
            *self.polling.borrow_mut() = Some(Polling::new(
                generation,
                self.http.clone(),
                self.feed.clone(),
            ));
        }
        if let Some(p) = self.polling.borrow().as_ref() {
            p.request(kind, url, body);
        }
    }

    /// Aborts the polling transport's requests; their late results are
    /// ignored.
    fn drop_polling(&self) {
        let old = self.polling.borrow_mut().take();
        drop(old);
        self.polling_generation
            .set(self.polling_generation.get().wrapping_add(1));
    }

    /// Opens the upgrade probe beside the polling transport.
    fn open_probe(&self, url: &str) {
        let old = self.probe.borrow_mut().take();
        drop(old);
        let generation = self.next_generation();
        self.probe_generation.set(generation);
        match Socket::open(url, generation, &self.hub, self.feed.clone()) {
            Ok(socket) => *self.probe.borrow_mut() = Some(socket),
            Err(_) => self.call(|agent, now| agent.on_probe_close(now)),
        }
    }

    fn open_socket(&self, url: &str) {
        let old = self.socket.borrow_mut().take();
        drop(old);
        let generation = self.next_generation();
        self.generation.set(generation);
        self.hub.set_generation(generation as f64);
        match Socket::open(url, generation, &self.hub, self.feed.clone()) {
            Ok(socket) => *self.socket.borrow_mut() = Some(socket),
            Err(e) => {
                // e.g. a SyntaxError for a malformed URL: a failed attempt.
                let why = e
                    .dyn_ref_error_message()
                    .unwrap_or_else(|| "the browser refused to open the WebSocket".to_owned());
                self.call(|agent, now| agent.on_close(now, &why));
            }
        }
    }

    /// Hands an event the core decoded to its subscribers (the hub calls
    /// them in order and times one dispatch in 64 for `metrics()`), with an
    /// `ack` function last when the server asks for an answer. The
    /// arguments are only built if someone listens; a question nobody hears
    /// stays unanswered, as with socket.io-client, until its link ends.
    fn dispatch(
        &self,
        name: &str,
        json: &str,
        form: ArgsForm,
        attachments: Vec<Vec<u8>>,
        ack: Option<AckKey>,
    ) {
        if !self.hub.wants(name) {
            return;
        }
        let limits = self.agent().client().config().limits;
        let args = convert::event_args(json, form, attachments, &limits, |text| {
            self.parse_json(text)
        });
        match ack {
            // Keys count up from 0 over the client's life: exact as f64.
            Some(key) => self.hub.deliver_asking(name, &args, key.0 as f64),
            None => self.hub.deliver(name, &args),
        }
    }

    /// An event's `ack` was called with `args` (a JS array): the answer
    /// goes to the server as its JSON, binary data as attachments. Throws
    /// INVALID_PAYLOAD for args that cannot be sent; a second answer or a
    /// stale one is the core's to drop.
    fn answer_ack(&self, key: f64, args: &JsValue) -> Result<(), JsValue> {
        if self.released.get() {
            return Ok(());
        }
        let (json, attachments) = convert::to_wire(args).map_err(|e| errors::from_client(&e))?;
        let json = json.unwrap_or_else(|| "[]".to_owned());
        // `as` saturates: a bogus number is a key never handed out.
        let key = AckKey(key as u64);
        self.call(|agent, _| agent.answer_ack(key, &json, attachments))
            .map_err(|e| errors::from_client(&e))
    }

    /// A subscriber of `name` threw `error`: counted, and `onError` hears.
    fn callback_threw(&self, name: &str, error: &JsValue) {
        self.call(|agent, _| agent.metrics_mut().count_error(errors::CALLBACK_ERROR));
        self.report_error(&errors::callback_error(name, error));
    }

    /// Moves what the fast path counted and timed into the core's metrics.
    pub(crate) fn drain_fast_path(&self) {
        let drained = self.hub.drain().to_vec();
        if let [frames, events, units, samples @ ..] = drained.as_slice() {
            self.call(|agent, _| {
                // `as` saturates: a bogus number cannot panic.
                agent.on_plain_events(*frames as u64, *events as u64, *units as u64);
                for micros in samples {
                    agent.metrics_mut().record_dispatch(*micros as u32);
                }
            });
        }
    }

    /// Hands `error` to every `onError` listener (one that throws is
    /// logged to the console by the hub).
    pub(crate) fn report_error(&self, error: &JsValue) {
        let heard = self.hub.notify(Listener::Error, ERROR, &Array::of1(error));
        if heard == 0 && error_code(error).as_deref() == Some(errors::CALLBACK_ERROR) {
            glue::console_error(
                "frinny-agent: a callback threw and no onError listener is set",
                error,
            );
        }
    }

    // ----- the end -----------------------------------------------------------------

    /// Closes the client for good and lets go of every socket, timer,
    /// listener and closure. With `quiet` (the manager is being freed) no
    /// listener is called, but pending Promises still reject with CLOSED.
    /// Idempotent.
    pub(crate) fn shutdown(&self, quiet: bool) {
        if self.released.get() {
            return;
        }
        if quiet {
            self.quiet.set(true);
        }
        // The agent rejects every pending request with CLOSED. From inside
        // a callback this only queues: the outer pump finishes.
        self.call(|agent, now| agent.close(now));
        self.released.set(true);
        let host = self.host.borrow_mut().take();
        if let Some((host, id)) = host {
            host.leave(id);
        }
        let socket = self.socket.borrow_mut().take();
        let probe = self.probe.borrow_mut().take();
        let polling = self.polling.borrow_mut().take();
        let timer = self.timer.borrow_mut().take();
        let network = self.network.borrow_mut().take();
        drop((socket, probe, polling, timer, network));
        // A Promise the core never heard of (none expected) still settles.
        let closed = errors::js_error("CLOSED", "the manager is closed");
        for settler in self.waiting.drain() {
            settler.reject(&closed);
        }
        if !self.hub_lent {
            self.hub.clear();
            self.gate.set(0);
            self.batching.set(false);
        }
        // The hub no longer calls this driver's hooks (a flush already
        // queued as a microtask finds none), so they can go.
        let thrown = self.thrown.borrow_mut().take();
        drop(thrown);
        let answer = self.answer.borrow_mut().take();
        drop(answer);
        let flusher = self.flusher.borrow_mut().take();
        drop(flusher);
        let auth = self.auth.borrow_mut().take();
        drop(auth);
    }

    /// Promises and listeners still held (for leak checks).
    pub(crate) fn held(&self) -> usize {
        self.hub.held() as usize + self.waiting.len() + usize::from(self.auth.borrow().is_some())
    }
}

/// The `code` property of a JS error, if any.
fn error_code(error: &JsValue) -> Option<String> {
    js_sys::Reflect::get(error, &JsValue::from_str("code"))
        .ok()
        .and_then(|c| c.as_string())
}

trait ErrorMessage {
    fn dyn_ref_error_message(&self) -> Option<String>;
}

impl ErrorMessage for JsValue {
    fn dyn_ref_error_message(&self) -> Option<String> {
        use wasm_bindgen::JsCast;
        self.dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .or_else(|| self.as_string())
    }
}
