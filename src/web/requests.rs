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
use crate::core::{RequestKey, UpdateId};
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

/// Every Promise the manager has handed out and not settled: requests,
/// `connect()` calls, `syncState` calls (by scope) and `updateState` calls
/// (by update).
#[derive(Default)]
pub(crate) struct Waiting {
    requests: RefCell<HashMap<RequestKey, Pending>>,
    connects: RefCell<Vec<Settler>>,
    syncs: RefCell<HashMap<String, Vec<Settler>>>,
    updates: RefCell<HashMap<UpdateId, Settler>>,
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

    /// Remembers a `syncState(scope)` Promise.
    pub(crate) fn push_sync(&self, scope: &str, settler: Settler) {
        self.syncs
            .borrow_mut()
            .entry(scope.to_owned())
            .or_default()
            .push(settler);
    }

    /// Takes every `syncState` Promise waiting on `scope`.
    pub(crate) fn take_syncs(&self, scope: &str) -> Vec<Settler> {
        self.syncs.borrow_mut().remove(scope).unwrap_or_default()
    }

    /// Remembers an `updateState` Promise.
    pub(crate) fn insert_update(&self, id: UpdateId, settler: Settler) {
        self.updates.borrow_mut().insert(id, settler);
    }

    /// Takes the `updateState` Promise of update `id`.
    pub(crate) fn take_update(&self, id: UpdateId) -> Option<Settler> {
        self.updates.borrow_mut().remove(&id)
    }

    /// How many Promises wait.
    pub(crate) fn len(&self) -> usize {
        self.requests.borrow().len()
            + self.connects.borrow().len()
            + self.syncs.borrow().values().map(Vec::len).sum::<usize>()
            + self.updates.borrow().len()
    }

    /// Every settler still waiting (the manager is ending); requests'
    /// AbortSignal listeners go with them.
    pub(crate) fn drain(&self) -> Vec<Settler> {
        let mut all: Vec<Settler> = self
            .requests
            .borrow_mut()
            .drain()
            .map(|(_, p)| p.settler)
            .collect();
        all.append(&mut self.connects.borrow_mut());
        all.extend(self.syncs.borrow_mut().drain().flat_map(|(_, v)| v));
        all.extend(self.updates.borrow_mut().drain().map(|(_, s)| s));
        all
    }
}
