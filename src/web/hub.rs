//! The event subscribers, kept in JS (`event_hub.js`), with the inbound
//! fast path in front of them. The core still decides when the fast path
//! is open ([`crate::core::Client::fast_path`]); this module is only the
//! Rust face of the JS class.
//!
//! ```ignore
//! let hub = EventHub::create(&thrown, max_units, FastPath::core_names(), REPLY_NAMES, REPLY_SUFFIX);
//! let off = hub.add(Some("combat_update"), &callback, false); // JS unsubscribe function
//! hub.set_gate(FastPath::Open.as_u8());
//! ```

use js_sys::{Array, Float64Array, Function};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/web/event_hub.js")]
extern "C" {
    /// One manager's event subscribers and fast path.
    pub(crate) type EventHub;

    #[wasm_bindgen(constructor)]
    fn new(
        thrown: &Function,
        max_units: u32,
        core_names: &Array,
        reply_names: &Array,
        reply_suffix: &str,
    ) -> EventHub;

    /// Adds a subscription (`name` `None`: every event); returns its
    /// unsubscribe function.
    #[wasm_bindgen(method)]
    pub(crate) fn add(
        this: &EventHub,
        name: Option<&str>,
        callback: &Function,
        once: bool,
    ) -> Function;

    /// `unsubscribe(name, cb)`: how many subscriptions ended.
    #[wasm_bindgen(method, js_name = removeNamed)]
    pub(crate) fn remove_named(this: &EventHub, name: &str, callback: &JsValue) -> u32;

    /// Ends every subscription.
    #[wasm_bindgen(method)]
    pub(crate) fn clear(this: &EventHub);

    /// Live subscriptions.
    #[wasm_bindgen(method, getter)]
    pub(crate) fn count(this: &EventHub) -> u32;

    /// Whether anyone would see a `name` event.
    #[wasm_bindgen(method)]
    pub(crate) fn wants(this: &EventHub, name: &str) -> bool;

    /// Calls `name`'s subscribers with `args` (an event the core decoded).
    #[wasm_bindgen(method)]
    pub(crate) fn deliver(this: &EventHub, name: &str, args: &Array);

    /// 0 closed, 1 open, 2 open except replies ([`crate::core::FastPath::as_u8`]).
    #[wasm_bindgen(method, setter)]
    pub(crate) fn set_gate(this: &EventHub, gate: u8);

    /// The current socket's number; events of others skip the fast path.
    #[wasm_bindgen(method, setter)]
    pub(crate) fn set_generation(this: &EventHub, generation: f64);

    /// The socket's `onmessage`: the fast path, else `slow`.
    #[wasm_bindgen(method)]
    pub(crate) fn onmessage(this: &EventHub, generation: f64, slow: &Function) -> Function;

    /// `[events (= frames), units, ...dispatch micros]` since the last drain.
    #[wasm_bindgen(method)]
    pub(crate) fn drain(this: &EventHub) -> Float64Array;
}

impl EventHub {
    /// A hub whose subscribers' throws go to `thrown(name, error)` and whose
    /// fast path takes frames of at most `max_units` UTF-16 units and leaves
    /// `core_names` to the core, and replies too while requests wait. The
    /// reply rule is the core's ([`crate::core::reply_policy`]): the names
    /// in `reply_names` and those ending in `reply_suffix`.
    pub(crate) fn create<'a>(
        thrown: &Function,
        max_units: u32,
        core_names: impl Iterator<Item = &'a str>,
        reply_names: &[&str],
        reply_suffix: &str,
    ) -> EventHub {
        let core_names: Array = core_names.map(JsValue::from_str).collect();
        let reply_names: Array = reply_names.iter().map(|n| JsValue::from_str(n)).collect();
        EventHub::new(thrown, max_units, &core_names, &reply_names, reply_suffix)
    }
}
