//! The exported JS class `AgentManager`: the JS surface fixed in
//! DESIGN.md. Each method is a thin translation: parse the JS arguments,
//! make one call into the agent through the driver, which pumps its outputs.

use super::convert;
use super::driver::Driver;
use super::errors;
use super::glue;
use super::hub::{Listener, ERROR, STATE_CHANGE};
use super::options;
use super::pool;
use super::requests::{AbortHook, Pending, Settler};
use crate::core::{ClientError, ErrorCode, RequestOptions};
use js_sys::{Function, Object, Promise, Reflect};
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// The realtime link to a Frinny backend (Socket.IO v5, or plain JSON
/// frames), as a drop-in for the old hand-written JS class.
#[wasm_bindgen]
pub struct AgentManager {
    pub(super) driver: Rc<Driver>,
}

fn throw(e: &ClientError) -> JsValue {
    errors::from_client(e)
}

fn closed() -> ClientError {
    ClientError::new(ErrorCode::Closed, "the manager is closed")
}

/// A random seed for backoff jitter and request-id prefixes.
fn seed() -> u64 {
    let hi = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    let lo = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    (hi << 32) ^ lo ^ glue::now_ms()
}

#[wasm_bindgen]
impl AgentManager {
    /// `new AgentManager({ url, path, query, namespace, auth, protocol,
    /// wrapEvents, reconnection, reconnectionDelay, reconnectionDelayMax,
    /// randomizationFactor, reconnectionAttempts, connectTimeout, timeout,
    /// bufferSize, highWaterMark, debug, transports, upgrade, withCredentials,
    /// extraHeaders, forceNew, multiplex })`. Managers of one page for the
    /// same endpoint and different namespaces share one connection unless
    /// `forceNew` (see `pool`).
    /// Throws an `Error` with code `INVALID_OPTIONS` for
    /// unknown or ill-typed options. `auth` may be a function, called before
    /// every connection attempt's CONNECT (see `AgentManagerOptions`).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "AgentManagerOptions")] options: JsValue,
    ) -> Result<AgentManager, JsValue> {
        let (cfg, shell) = options::parse(&options).map_err(|e| throw(&e))?;
        let driver = pool::driver_for(cfg, shell.auth, shell.http, seed(), shell.force_new);
        if shell.debug {
            driver.hub.set_debug(true);
        }
        Ok(AgentManager { driver })
    }

    /// Connects (or waits for the connection under way). Resolves once the
    /// namespace is joined; rejects with CONNECT_REFUSED (the server's
    /// CONNECT_ERROR), TIMEOUT (connectTimeout; reconnection goes on),
    /// DISCONNECTED or CLOSED.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn connect(&self) -> Promise {
        let (promise, settler) = Settler::new();
        self.driver.waiting.push_connect(settler);
        self.driver.call(|agent, now| agent.connect(now));
        promise
    }

    /// Leaves the namespace and closes the link; no automatic reconnection.
    /// In-flight requests reject with DISCONNECTED; buffered emits wait for
    /// the next `connect()`.
    pub fn disconnect(&self) {
        self.driver.call(|agent, now| agent.disconnect(now));
    }

    /// Ends the manager for good: pending requests reject with CLOSED and
    /// every socket, timer, listener and callback is released. `free()`
    /// does the same without calling listeners.
    pub fn close(&self) {
        self.driver.shutdown(false);
    }

    /// `'disconnected' | 'connecting' | 'connected' | 'reconnecting' | 'closed'`.
    #[wasm_bindgen(getter, unchecked_return_type = "AgentState")]
    pub fn state(&self) -> String {
        self.driver.agent().client().state().as_str().to_owned()
    }

    /// The transport the connected link uses: `'websocket'` or `'polling'`
    /// (a fallback from a WebSocket that could not open, or before an
    /// upgrade); `undefined` while not connected.
    #[wasm_bindgen(getter, unchecked_return_type = "'websocket' | 'polling' | undefined")]
    pub fn transport(&self) -> Option<String> {
        let transport = self.driver.transport()?;
        Some(transport.as_str().to_owned())
    }

    /// When the next reconnection attempt starts, in `Date.now()`
    /// milliseconds, while the client waits out its backoff; `null`
    /// otherwise. For a countdown; `connect()` tries at once instead.
    #[wasm_bindgen(getter = nextReconnectAt)]
    pub fn next_reconnect_at(&self) -> Option<f64> {
        let at = self.driver.agent().client().next_attempt_at()?;
        let wait = at.saturating_sub(glue::now_ms());
        Some(js_sys::Date::now() + wait as f64)
    }

    /// Requests not yet settled (in flight or buffered).
    #[wasm_bindgen(getter = pendingCount)]
    pub fn pending_count(&self) -> usize {
        self.driver.agent().client().pending_count()
    }

    /// Live event subscriptions (`subscribe`, `once`, `subscribeAll`).
    #[wasm_bindgen(getter = subscriberCount)]
    pub fn subscriber_count(&self) -> usize {
        self.driver.hub.count() as usize
    }

    /// JS callbacks and Promises the manager holds (subscriptions with their
    /// unsubscribe functions, listeners, pending Promises, an `auth`
    /// function); 0 after `close()`. For leak checks.
    #[wasm_bindgen(getter = heldCallbacks)]
    pub fn held_callbacks(&self) -> usize {
        self.driver.held()
    }

    /// A listener of `kind` for `key`, kept by the JS event hub; returns
    /// its unsubscribe function.
    pub(super) fn listen(
        &self,
        kind: Listener,
        key: &str,
        callback: &Function,
    ) -> Result<Function, JsValue> {
        if self.driver.is_released() {
            return Err(throw(&closed()));
        }
        Ok(self.driver.hub.listen(kind, key, callback))
    }

    /// An event subscription to `name`, kept by the JS event hub.
    fn add_event(
        &self,
        name: &str,
        callback: Function,
        once: bool,
        options: Option<JsValue>,
    ) -> Result<Function, JsValue> {
        if self.driver.is_released() {
            return Err(throw(&closed()));
        }
        let options = options.unwrap_or(JsValue::UNDEFINED);
        self.driver.hub.add(name, &callback, once, &options)
    }

    /// Calls `callback(...args)` for every `name` event, in subscription
    /// order; with `{filter}`, only for events whose payload (first
    /// argument) `filter` accepts (a filter that throws is reported like a
    /// subscriber that throws). Returns the unsubscribe function.
    #[wasm_bindgen(js_name = subscribe, unchecked_return_type = "() => void")]
    pub fn subscribe_with(
        &self,
        name: &str,
        #[wasm_bindgen(unchecked_param_type = "(...args: any[]) => void")] callback: Function,
        options: Option<JsValue>,
    ) -> Result<Function, JsValue> {
        self.add_event(name, callback, false, options)
    }

    /// Removes every subscription of `callback` to `name`; returns whether
    /// there was one.
    pub fn unsubscribe(&self, name: &str, callback: &JsValue) -> bool {
        self.driver.hub.remove_named(name, callback) > 0
    }

    /// Calls `callback(...args)` for the next `name` event only (with
    /// `{filter}`: the next one the filter accepts). Returns the
    /// unsubscribe function.
    #[wasm_bindgen(js_name = once, unchecked_return_type = "() => void")]
    pub fn once_with(
        &self,
        name: &str,
        #[wasm_bindgen(unchecked_param_type = "(...args: any[]) => void")] callback: Function,
        options: Option<JsValue>,
    ) -> Result<Function, JsValue> {
        self.add_event(name, callback, true, options)
    }

    /// `subscribeAll(callback)`: calls `callback(name, ...args)` for every
    /// event. `subscribeAll(pattern, callback)`: only for names matching
    /// `pattern`, a string where `*` stands for any run of characters
    /// (`'x-my-module:*'`) or a RegExp. Returns the unsubscribe function.
    #[wasm_bindgen(js_name = subscribeAll, unchecked_return_type = "() => void")]
    pub fn subscribe_matching(
        &self,
        pattern_or_callback: JsValue,
        callback: Option<Function>,
    ) -> Result<Function, JsValue> {
        if self.driver.is_released() {
            return Err(throw(&closed()));
        }
        let callback = callback.map_or(JsValue::UNDEFINED, JsValue::from);
        self.driver.hub.add_all(&pattern_or_callback, &callback)
    }

    /// Calls `listener(record)` for every frame in and out
    /// (`{type: 'frame', direction: 'in' | 'out', data, time}`, `data` the
    /// frame's text or an ArrayBuffer) and every state change (`{type:
    /// 'state', state, reason, time}`): what `<frinny-devtools>` and
    /// `debug` show. While no listener is set this costs nothing. Returns
    /// the unsubscribe function.
    #[wasm_bindgen(unchecked_return_type = "() => void")]
    pub fn inspect(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(record: InspectRecord) => void")] listener: JsValue,
    ) -> Result<Function, JsValue> {
        if self.driver.is_released() {
            return Err(throw(&closed()));
        }
        self.driver.hub.inspect(&listener)
    }

    /// Whether every frame and state change is logged to the console (one
    /// collapsed group each). Also the `debug` option.
    #[wasm_bindgen(getter)]
    pub fn debug(&self) -> bool {
        self.driver.hub.debug()
    }

    /// Turns console logging of frames and state changes on or off.
    #[wasm_bindgen(setter)]
    pub fn set_debug(&self, on: bool) {
        if !self.driver.is_released() {
            self.driver.hub.set_debug(on);
        }
    }

    /// Calls `callback(state, reason)` on every state change. Returns the
    /// unsubscribe function.
    #[wasm_bindgen(js_name = onStateChange, unchecked_return_type = "() => void")]
    pub fn on_state_change(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(state: AgentState, reason: string) => void")]
        callback: Function,
    ) -> Result<Function, JsValue> {
        self.listen(Listener::State, STATE_CHANGE, &callback)
    }

    /// Calls `callback(error)` for errors no request owns: an `error` event
    /// without request_id, a malformed frame, a subscriber that threw
    /// (code CALLBACK_ERROR, the thrown value as `cause`). Returns the
    /// unsubscribe function.
    #[wasm_bindgen(js_name = onError, unchecked_return_type = "() => void")]
    pub fn on_error(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(error: AgentError) => void")] callback: Function,
    ) -> Result<Function, JsValue> {
        self.listen(Listener::Error, ERROR, &callback)
    }

    /// Sends `event` with `payload` (an object; `request_id` is added) and
    /// resolves with the reply: a Socket.IO ack, or a server event carrying
    /// the same `request_id`. Rejects with TIMEOUT, ABORTED, DISCONNECTED,
    /// SERVER_ERROR, BUFFER_FULL, INVALID_PAYLOAD or CLOSED. Binary data in
    /// the payload is sent as attachments; binary data in the reply arrives
    /// as `ArrayBuffer`s. Options: `{timeout, signal, retry, priority}`;
    /// `priority` (`'high' | 'normal' | 'low'`) orders it among what waits
    /// while not connected or the socket is congested.
    #[wasm_bindgen(unchecked_return_type = "Promise<any>")]
    pub fn request(
        &self,
        event: &str,
        payload: Option<JsValue>,
        options: Option<JsValue>,
    ) -> Promise {
        let payload = payload.unwrap_or(JsValue::UNDEFINED);
        let options = options.unwrap_or(JsValue::UNDEFINED);
        match self.try_request(event, &payload, &options) {
            Ok(p) => p,
            Err(e) => Promise::reject(&e),
        }
    }

    fn try_request(
        &self,
        event: &str,
        payload: &JsValue,
        options: &JsValue,
    ) -> Result<Promise, JsValue> {
        let opts = options::request_opts(options).map_err(|e| throw(&e))?;
        if opts.signal.as_ref().is_some_and(|s| s.aborted()) {
            return Err(throw(&ClientError::new(
                ErrorCode::Aborted,
                "the request was aborted",
            )));
        }
        let (json, attachments) = convert::to_wire(payload).map_err(|e| throw(&e))?;
        let json = json.unwrap_or_else(|| "{}".to_owned());
        let request = RequestOptions {
            timeout_ms: opts.timeout_ms,
            retry: opts.retry,
            priority: opts.priority,
        };
        let feed = self.driver.feed();
        self.driver
            .call(|agent, now| {
                let key = agent.request(now, event, &json, attachments, request)?;
                // Made only for a request that is on its way (a settler
                // dropped unused would reject with no one listening), and
                // waiting before the pump carries out anything of it.
                let (promise, settler) = Settler::new();
                let abort = opts.signal.map(|s| AbortHook::new(s, key, feed));
                self.driver.waiting.insert(key, Pending { settler, abort });
                Ok(promise)
            })
            .map_err(|e| throw(&e))
    }

    /// Fire and forget. While not connected (or the socket congested) a
    /// non-volatile emit waits in the outgoing buffer (throws BUFFER_FULL
    /// when it is full) and is sent once it can be; a volatile one is
    /// dropped. Options: `{volatile, priority}`; what waits leaves by
    /// `priority` (`'high' | 'normal' | 'low'`), and a full buffer gives up
    /// its oldest `'low'` item for a more urgent one (reported to `onError`
    /// as BUFFER_FULL). Binary data anywhere in `payload` (`ArrayBuffer`,
    /// typed arrays, `DataView`) goes out as Socket.IO attachments, as
    /// socket.io-client sends it.
    pub fn emit(
        &self,
        event: &str,
        payload: Option<JsValue>,
        options: Option<JsValue>,
    ) -> Result<(), JsValue> {
        let opts =
            options::emit_opts(&options.unwrap_or(JsValue::UNDEFINED)).map_err(|e| throw(&e))?;
        let (json, attachments) =
            convert::to_wire(&payload.unwrap_or(JsValue::UNDEFINED)).map_err(|e| throw(&e))?;
        self.driver
            .call(|agent, _| agent.emit(event, json.as_deref(), attachments, opts))
            .map_err(|e| throw(&e))
    }

    /// Asks the server to fan `event` with `payload` out to every client of
    /// the table: a `broadcast` request `{event, payload}`, resolved by the
    /// server's ack.
    #[wasm_bindgen(js_name = broadcastEvent, unchecked_return_type = "Promise<any>")]
    pub fn broadcast_event(&self, event: &str, payload: JsValue) -> Promise {
        let body = Object::new();
        let _ = Reflect::set(
            &body,
            &JsValue::from_str("event"),
            &JsValue::from_str(event),
        );
        let _ = Reflect::set(&body, &JsValue::from_str("payload"), &payload);
        self.request(crate::catalogue::names::BROADCAST, Some(body.into()), None)
    }

    /// A snapshot of the counters, as a plain object.
    #[wasm_bindgen(unchecked_return_type = "AgentMetrics")]
    pub fn metrics(&self) -> Result<JsValue, JsValue> {
        self.driver.metrics()
    }
}

/// The subscription methods as Rust callers (the browser tests) use them:
/// without options, every event for `subscribe_all`.
impl AgentManager {
    /// `subscribe(name, callback)`.
    pub fn subscribe(&self, name: &str, callback: Function) -> Result<Function, JsValue> {
        self.subscribe_with(name, callback, None)
    }

    /// `once(name, callback)`.
    pub fn once(&self, name: &str, callback: Function) -> Result<Function, JsValue> {
        self.once_with(name, callback, None)
    }

    /// `subscribeAll(callback)`.
    pub fn subscribe_all(&self, callback: Function) -> Result<Function, JsValue> {
        self.subscribe_matching(callback.into(), None)
    }
}

impl Drop for AgentManager {
    /// `free()`: settle what waits, release everything, call no listener.
    fn drop(&mut self) {
        self.driver.shutdown(true);
    }
}
