//! The JS side of pending work: the Promise of each request (with its
//! AbortSignal listener), of each `connect()` call and of the state calls.
//! The agent decides when they settle; this only carries it out.
//!
//! Each Promise is a future (`future_to_promise`) waiting on a `futures`
//! oneshot channel whose sending end, the [`Settler`], the driver keeps. A
//! settler is used up by settling, so a Promise settles at most once; and a
//! settler dropped unused (the manager freed in the middle of a pump)
//! rejects its Promise with CLOSED, so it settles at least once.

use super::errors;
use super::input::{Feed, Input};
use crate::core::RequestKey;
use futures::channel::oneshot;
use js_sys::Promise;
use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::future_to_promise;
use web_sys::AbortSignal;

/// The sending end of a Promise made in Rust.
pub(crate) struct Settler(oneshot::Sender<Result<JsValue, JsValue>>);

impl Settler {
    /// A new pending Promise and its settler.
    ///
    /// ```ignore
    /// let (promise, settler) = Settler::new();
    /// settler.resolve(&JsValue::from(42)); // the Promise fulfils with 42
    /// ```
    pub(crate) fn new() -> (Promise, Settler) {
        let (sender, outcome) = oneshot::channel();
        let promise = future_to_promise(async move {
            outcome
                .await
                .unwrap_or_else(|_dropped| Err(errors::js_error("CLOSED", "the manager is closed")))
        });
        (promise, Settler(sender))
    }

    /// Fulfils the Promise with `value`.
    pub(crate) fn resolve(self, value: &JsValue) {
        // The Promise's future is gone only if the page dropped it: moot.
        let _ = self.0.send(Ok(value.clone()));
    }

    /// Rejects the Promise with `error`.
    pub(crate) fn reject(self, error: &JsValue) {
        let _ = self.0.send(Err(error.clone()));
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
