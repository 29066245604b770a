//! Who listens: the event subscribers (the core's two-phase
//! [`Registry`]), the `onStateChange` and `onError` listeners, and the
//! unsubscribe function handed out for each subscription.
//!
//! Each unsubscribe function is a real `Closure` owned here and dropped the
//! moment its subscription ends, however it ends (the function itself,
//! `unsubscribe(name, cb)`, a `once` firing, or the manager ending). So
//! after any number of subscribe/unsubscribe cycles nothing is left behind.
//! Calling an unsubscribe function after its subscription ended throws
//! (wasm-bindgen's "closure invoked ... after being dropped").

use crate::core::{Registry, SubId};
use js_sys::Function;
use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::prelude::*;

/// Which list a subscription is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    /// `subscribe`, `once`, `subscribeAll`.
    Event,
    /// `onStateChange`.
    State,
    /// `onError`.
    Error,
    /// `subscribeState(scope, cb)`, named by the scope.
    Doc,
    /// `onConflict(scope, fn)`, named by the scope.
    Conflict,
}

const KINDS: [Kind; 5] = [Kind::Event, Kind::State, Kind::Error, Kind::Doc, Kind::Conflict];

/// The unsubscribe function handed out for one subscription.
type Unsubscriber = Closure<dyn Fn()>;

/// Every listener of one manager: a registry per kind, and the unsubscribe
/// closure handed out for each subscription, released when it ends.
#[derive(Default)]
pub(crate) struct Listeners {
    events: RefCell<Registry<Function>>,
    states: RefCell<Registry<Function>>,
    errors: RefCell<Registry<Function>>,
    docs: RefCell<Registry<Function>>,
    conflicts: RefCell<Registry<Function>>,
    unsubscribers: RefCell<HashMap<(Kind, SubId), Unsubscriber>>,
}

/// How a subscription is added.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mode<'a> {
    /// Every `name` event.
    Named(&'a str),
    /// The next `name` event.
    Once(&'a str),
    /// Every event (or every state change / error).
    All,
}

impl Listeners {
    fn registry(&self, kind: Kind) -> &RefCell<Registry<Function>> {
        match kind {
            Kind::Event => &self.events,
            Kind::State => &self.states,
            Kind::Error => &self.errors,
            Kind::Doc => &self.docs,
            Kind::Conflict => &self.conflicts,
        }
    }

    /// Adds a subscription; `make_unsubscribe` builds its unsubscribe
    /// closure from its id. Returns the JS function to hand out.
    pub(crate) fn add(
        &self,
        kind: Kind,
        mode: Mode<'_>,
        callback: Function,
        make_unsubscribe: impl FnOnce(SubId) -> Closure<dyn Fn()>,
    ) -> Function {
        let id = {
            let mut r = self.registry(kind).borrow_mut();
            match mode {
                Mode::Named(n) => r.subscribe(n, callback.clone()),
                Mode::Once(n) => r.once(n, callback.clone()),
                Mode::All => r.subscribe_all(callback.clone()),
            }
        };
        let unsubscribe = make_unsubscribe(id);
        let function: Function = unsubscribe.as_ref().clone().into();
        self.unsubscribers.borrow_mut().insert((kind, id), unsubscribe);
        function
    }

    /// Releases the unsubscribe closure of a subscription that ended. If
    /// this runs inside the closure itself, wasm-bindgen defers the release
    /// until the call returns.
    fn release(&self, kind: Kind, id: SubId) {
        let closure = self.unsubscribers.borrow_mut().remove(&(kind, id));
        drop(closure);
    }

    /// Ends one subscription; false if it had already ended.
    pub(crate) fn remove(&self, kind: Kind, id: SubId) -> bool {
        let removed = self.registry(kind).borrow_mut().unsubscribe(id);
        self.release(kind, id);
        removed
    }

    /// `unsubscribe(name, cb)`: ends every subscription of `cb` to `name`;
    /// returns how many.
    pub(crate) fn remove_named(&self, name: &str, callback: &JsValue) -> usize {
        let ids = self.registry(Kind::Event).borrow_mut().unsubscribe_where(name, |f| JsValue::from(f) == *callback);
        for id in &ids {
            self.release(Kind::Event, *id);
        }
        ids.len()
    }

    /// Phase one of dispatch: who should see an event named `name` now
    /// (for state and error listeners, pass any name).
    pub(crate) fn targets(&self, kind: Kind, name: &str) -> Vec<SubId> {
        self.registry(kind).borrow().targets(name)
    }

    /// Phase two: the callback of `id` if still subscribed, and whether it
    /// is a catch-all. A `once` subscription ends here (and its unsubscribe
    /// closure is released).
    pub(crate) fn take_live(&self, kind: Kind, id: SubId) -> Option<(Function, bool)> {
        let (callback, catch_all, ended) = {
            let mut r = self.registry(kind).borrow_mut();
            let catch_all = r.is_catch_all(id);
            let (callback, ended) = r.take_live(id)?;
            (callback, catch_all, ended)
        };
        if ended {
            self.release(kind, id);
        }
        Some((callback, catch_all))
    }

    /// Live subscriptions of `kind`.
    pub(crate) fn len(&self, kind: Kind) -> usize {
        self.registry(kind).borrow().len()
    }

    /// JS callbacks and closures held, all kinds together.
    pub(crate) fn held(&self) -> usize {
        self.unsubscribers.borrow().len() + KINDS.iter().map(|k| self.registry(*k).borrow().len()).sum::<usize>()
    }

    /// Drops everything (the manager is ending).
    pub(crate) fn clear(&self) {
        let callbacks: Vec<Vec<Function>> = KINDS.iter().map(|k| self.registry(*k).borrow_mut().clear()).collect();
        let closures: Vec<Unsubscriber> = self.unsubscribers.borrow_mut().drain().map(|(_, c)| c).collect();
        drop((callbacks, closures));
    }
}
