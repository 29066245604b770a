//! The JS side of pending work: the resolve/reject functions of each
//! request's Promise (with its AbortSignal listener) and of `connect()`
//! calls. The core decides when they settle; this only carries it out.

use super::input::{Feed, Input};
use crate::core::RequestKey;
use js_sys::{Function, Promise};
use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::AbortSignal;

/// Both ends of a Promise made in Rust.
pub(crate) struct Settler {
    resolve: Function,
    reject: Function,
}

impl Settler {
    /// A new pending Promise and its settler, or `None` if the engine did
    /// not run the executor (it always does).
    pub(crate) fn new() -> Option<(Promise, Settler)> {
        let mut ends = None;
        let promise = Promise::new(&mut |resolve, reject| ends = Some(Settler { resolve, reject }));
        ends.map(|s| (promise, s))
    }

    /// Fulfils the Promise with `value`.
    pub(crate) fn resolve(&self, value: &JsValue) {
        let _ = self.resolve.call1(&JsValue::UNDEFINED, value);
    }

    /// Rejects the Promise with `error`.
    pub(crate) fn reject(&self, error: &JsValue) {
        let _ = self.reject.call1(&JsValue::UNDEFINED, error);
    }
}

/// The `abort` listener of one request's AbortSignal; removed on drop.
pub(crate) struct AbortHook {
    signal: AbortSignal,
    closure: Closure<dyn FnMut()>,
}

impl AbortHook {
    /// Listens for `signal`'s abort and then hands `feed` the abort of `key`.
    pub(crate) fn new(signal: AbortSignal, key: RequestKey, feed: Feed) -> AbortHook {
        let closure = Closure::<dyn FnMut()>::new(move || feed(Input::Aborted { key }));
        let _ = signal.add_event_listener_with_callback("abort", closure.as_ref().unchecked_ref());
        AbortHook { signal, closure }
    }
}

impl Drop for AbortHook {
    fn drop(&mut self) {
        let _ = self
            .signal
            .remove_event_listener_with_callback("abort", self.closure.as_ref().unchecked_ref());
    }
}

/// One request waiting for its outcome.
pub(crate) struct Pending {
    /// Settles the Promise returned by `request()`.
    pub settler: Settler,
    /// Its AbortSignal listener, if it has a signal; held for its `Drop`.
    #[allow(dead_code)]
    pub abort: Option<AbortHook>,
}

/// Pending requests and `connect()` calls.
#[derive(Default)]
pub(crate) struct Waiting {
    requests: RefCell<HashMap<RequestKey, Pending>>,
    connects: RefCell<Vec<Settler>>,
}

impl Waiting {
    /// Remembers a request's Promise.
    pub(crate) fn insert(&self, key: RequestKey, pending: Pending) {
        self.requests.borrow_mut().insert(key, pending);
    }

    /// Takes a request's Promise to settle it.
    pub(crate) fn take(&self, key: RequestKey) -> Option<Pending> {
        self.requests.borrow_mut().remove(&key)
    }

    /// Remembers a `connect()` Promise.
    pub(crate) fn push_connect(&self, settler: Settler) {
        self.connects.borrow_mut().push(settler);
    }

    /// Takes every waiting `connect()` Promise.
    pub(crate) fn take_connects(&self) -> Vec<Settler> {
        std::mem::take(&mut *self.connects.borrow_mut())
    }

    /// How many Promises wait.
    pub(crate) fn len(&self) -> usize {
        self.requests.borrow().len() + self.connects.borrow().len()
    }

    /// Every pending request, leaving `connect()` calls.
    pub(crate) fn drain_requests(&self) -> Vec<Pending> {
        self.requests.borrow_mut().drain().map(|(_, p)| p).collect()
    }

    /// Everything still waiting (the manager is ending).
    pub(crate) fn drain(&self) -> (Vec<Pending>, Vec<Settler>) {
        (self.drain_requests(), self.take_connects())
    }
}
