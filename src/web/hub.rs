//! Every listener of a manager, kept in JS (`event_hub.js`): the event
//! subscribers with the inbound fast path in front of them, and the
//! `onStateChange`, `onError`, `subscribeState` and `onConflict` listeners.
//! The hub holds the functions and hands out the unsubscribe functions;
//! Rust decides what to deliver, and the core when the fast path is open
//! ([`crate::core::Client::fast_path`]). This module is only the Rust face
//! of the JS class.
//!
//! ```ignore
//! let hub = EventHub::create(&thrown, &answer, max_units, FastPath::core_names(), REPLY_NAMES, REPLY_SUFFIX);
//! let off = hub.add("combat_update", &callback, false, &options)?; // JS unsubscribe function
//! let off_doc = hub.listen(Listener::Doc, "world", &on_doc);
//! hub.notify(Listener::Doc, "world", &Array::of2(&doc, &change));
//! hub.set_gate(FastPath::Open.as_u8());
//! ```

use js_sys::{Array, Float64Array, Function};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/web/event_hub.js")]
extern "C" {
    /// One manager's event subscribers and fast path.
    #[derive(Clone)]
    pub(crate) type EventHub;

    #[wasm_bindgen(constructor)]
    fn new(
        thrown: &Function,
        max_units: u32,
        core_names: &Array,
        reply_names: &Array,
        reply_suffix: &str,
        answer: &Function,
    ) -> EventHub;

    /// Adds a subscription to `name` with `options` (`{filter}`); returns
    /// its unsubscribe function. Throws INVALID_OPTIONS for a bad filter.
    #[wasm_bindgen(method, catch)]
    pub(crate) fn add(
        this: &EventHub,
        name: &str,
        callback: &Function,
        once: bool,
        options: &JsValue,
    ) -> Result<Function, JsValue>;

    /// `subscribeAll(callback)` or `subscribeAll(pattern, callback)`;
    /// returns the unsubscribe function. Throws INVALID_OPTIONS for a bad
    /// pattern or callback.
    #[wasm_bindgen(method, catch, js_name = addAll)]
    pub(crate) fn add_all(
        this: &EventHub,
        pattern: &JsValue,
        callback: &JsValue,
    ) -> Result<Function, JsValue>;

    /// Adds an inspector (frames in and out, state changes); returns its
    /// unsubscribe function. Throws INVALID_OPTIONS for a non-function.
    #[wasm_bindgen(method, catch)]
    pub(crate) fn inspect(this: &EventHub, callback: &JsValue) -> Result<Function, JsValue>;

    /// Whether the built-in console inspector logs.
    #[wasm_bindgen(method, getter)]
    pub(crate) fn debug(this: &EventHub) -> bool;

    /// Turns the built-in console inspector on or off.
    #[wasm_bindgen(method, setter)]
    pub(crate) fn set_debug(this: &EventHub, on: bool);

    /// Sends a text frame on `ws`, through the inspector tap; returns the
    /// socket's `bufferedAmount` after it.
    #[wasm_bindgen(method, js_name = send)]
    pub(crate) fn send_text(this: &EventHub, ws: &web_sys::WebSocket, data: &str) -> f64;

    /// Sends a binary frame on `ws`, through the inspector tap; returns the
    /// socket's `bufferedAmount` after it.
    #[wasm_bindgen(method, js_name = send)]
    pub(crate) fn send_bytes(this: &EventHub, ws: &web_sys::WebSocket, data: &[u8]) -> f64;

    /// Whether an inspector (or `debug`) would see frames.
    #[wasm_bindgen(method, getter)]
    pub(crate) fn inspecting(this: &EventHub) -> bool;

    /// Shows a text frame of a shared link to the inspector
    /// (`guest_tap.rs`); `transport` marks a polling link.
    #[wasm_bindgen(method, js_name = tapFrame)]
    pub(crate) fn tap_text(this: &EventHub, direction: &str, data: &str, transport: Option<&str>);

    /// Shows a binary frame of a shared link to the inspector.
    #[wasm_bindgen(method, js_name = tapFrame)]
    pub(crate) fn tap_bytes(this: &EventHub, direction: &str, data: &[u8], transport: Option<&str>);

    /// Shows a long-polling payload to the inspector tap, packet by packet.
    #[wasm_bindgen(method, js_name = tapPayload)]
    pub(crate) fn tap_payload(this: &EventHub, direction: &str, payload: &str);

    /// `unsubscribe(name, cb)`: how many subscriptions ended.
    #[wasm_bindgen(method, js_name = removeNamed)]
    pub(crate) fn remove_named(this: &EventHub, name: &str, callback: &JsValue) -> u32;

    /// Ends every subscription and listener.
    #[wasm_bindgen(method)]
    pub(crate) fn clear(this: &EventHub);

    /// Live event subscriptions.
    #[wasm_bindgen(method, getter)]
    pub(crate) fn count(this: &EventHub) -> u32;

    /// Live event subscriptions and listeners of every kind.
    #[wasm_bindgen(method, getter)]
    pub(crate) fn held(this: &EventHub) -> u32;

    #[wasm_bindgen(method, js_name = listen)]
    fn listen_js(this: &EventHub, kind: &str, key: &str, callback: &Function) -> Function;

    #[wasm_bindgen(method, js_name = notify)]
    fn notify_js(this: &EventHub, kind: &str, key: &str, args: &Array) -> u32;

    #[wasm_bindgen(method, js_name = latest)]
    fn latest_js(this: &EventHub, kind: &str, key: &str) -> Option<Function>;

    /// Whether anyone would see a `name` event.
    #[wasm_bindgen(method)]
    pub(crate) fn wants(this: &EventHub, name: &str) -> bool;

    /// Calls `name`'s subscribers with `args` (an event the core decoded).
    #[wasm_bindgen(method)]
    pub(crate) fn deliver(this: &EventHub, name: &str, args: &Array);

    /// As [`deliver`](EventHub::deliver), for an event that asks for an
    /// answer: the subscribers get an `ack` function last, which hands
    /// `key` and its arguments to the hub's `answer` hook.
    #[wasm_bindgen(method, js_name = deliverAsking)]
    pub(crate) fn deliver_asking(this: &EventHub, name: &str, args: &Array, key: f64);

    /// 0 closed, 1 open, 2 open except replies ([`crate::core::FastPath::as_u8`]).
    #[wasm_bindgen(method, setter)]
    pub(crate) fn set_gate(this: &EventHub, gate: u8);

    /// The current socket's number; events of others skip the fast path.
    #[wasm_bindgen(method, setter)]
    pub(crate) fn set_generation(this: &EventHub, generation: f64);

    /// The socket's `onmessage`: the fast path, else `slow`.
    #[wasm_bindgen(method)]
    pub(crate) fn onmessage(this: &EventHub, generation: f64, slow: &Function) -> Function;

    /// `[frames, events, units, ...dispatch micros]` since the last drain.
    #[wasm_bindgen(method)]
    pub(crate) fn drain(this: &EventHub) -> Float64Array;

    /// Whether `batch` envelopes are unpacked ([`crate::core::Client::batching`]).
    #[wasm_bindgen(method, setter)]
    pub(crate) fn set_batching(this: &EventHub, on: bool);

    /// The function the end-of-tick flush calls (until [`clear`](EventHub::clear)).
    #[wasm_bindgen(method, setter)]
    pub(crate) fn set_flusher(this: &EventHub, flusher: &Function);

    /// Calls the flusher once the current task is done (once per tick).
    #[wasm_bindgen(method, js_name = scheduleFlush)]
    pub(crate) fn schedule_flush(this: &EventHub);
}

/// The listeners besides event subscribers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Listener {
    /// `onStateChange(cb)`, kept under [`STATE_CHANGE`].
    State,
    /// `onError(cb)`, kept under [`ERROR`].
    Error,
    /// `subscribeState(scope, cb)`, kept under the scope.
    Doc,
    /// `onConflict(scope, resolver)`, kept under the scope.
    Conflict,
}

/// The key of the `onStateChange` listeners (and the name a throwing one
/// is reported under).
pub(crate) const STATE_CHANGE: &str = "stateChange";

/// The key of the `onError` listeners.
pub(crate) const ERROR: &str = "error";

impl Listener {
    /// The kind's name in `event_hub.js`.
    fn as_str(self) -> &'static str {
        match self {
            Listener::State => "state",
            Listener::Error => "error",
            Listener::Doc => "doc",
            Listener::Conflict => "conflict",
        }
    }
}

impl EventHub {
    /// Adds a listener of `kind` for `key`; returns its unsubscribe
    /// function (idempotent, callable after the manager ended).
    pub(crate) fn listen(&self, kind: Listener, key: &str, callback: &Function) -> Function {
        self.listen_js(kind.as_str(), key, callback)
    }

    /// Calls the listeners of `kind` for `key` with `args`, in the order
    /// they were added (one ended by an earlier one is skipped, one that
    /// throws is reported to the `thrown` hook, an `onError` one to the
    /// console); returns how many there were.
    pub(crate) fn notify(&self, kind: Listener, key: &str, args: &Array) -> u32 {
        self.notify_js(kind.as_str(), key, args)
    }

    /// The latest live listener of `kind` for `key` (the resolver that
    /// `onConflict` set last).
    pub(crate) fn latest(&self, kind: Listener, key: &str) -> Option<Function> {
        self.latest_js(kind.as_str(), key)
    }

    /// A hub whose subscribers' throws go to `thrown(name, error)`, whose
    /// `ack` functions call `answer(key, args)`, and whose fast path takes
    /// frames of at most `max_units` UTF-16 units and leaves `core_names` to
    /// the core, and replies too while requests wait. The reply rule is the
    /// core's ([`crate::core::reply_policy`]): the names in `reply_names`
    /// and those ending in `reply_suffix`.
    pub(crate) fn create<'a>(
        thrown: &Function,
        answer: &Function,
        max_units: u32,
        core_names: impl Iterator<Item = &'a str>,
        reply_names: &[&str],
        reply_suffix: &str,
    ) -> EventHub {
        let core_names: Array = core_names.map(JsValue::from_str).collect();
        let reply_names: Array = reply_names.iter().map(|n| JsValue::from_str(n)).collect();
        EventHub::new(
            thrown,
            max_units,
            &core_names,
            &reply_names,
            reply_suffix,
            answer,
        )
    }
}
