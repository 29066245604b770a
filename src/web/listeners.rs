//! Who listens: the event subscribers (the core's two-phase
//! [`Registry`]), the `onStateChange`, `onError`, `subscribeState` and
//! `onConflict` listeners. A subscription holds only its JS callback, which
//! goes when the subscription ends (its unsubscribe function,
//! `unsubscribe(name, cb)`, a `once` firing, or the manager ending), so any
//! number of subscribe/unsubscribe cycles leaves nothing behind.

use crate::core::{Registry, SubId};
use js_sys::Function;
use std::cell::RefCell;
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

impl Kind {
    /// Its number, to carry it through JS.
    pub(crate) fn index(self) -> u32 {
        match self {
            Kind::Event => 0,
            Kind::State => 1,
            Kind::Error => 2,
            Kind::Doc => 3,
            Kind::Conflict => 4,
        }
    }

    /// The kind of [`index`](Self::index) `i`.
    pub(crate) fn from_index(i: u32) -> Option<Kind> {
        KINDS.iter().copied().find(|k| k.index() == i)
    }
}

/// Every listener of one manager: a registry per kind. (The unsubscribe
/// functions handed out hold no closure of their own: see `unsubscribe`.)
#[derive(Default)]
pub(crate) struct Listeners {
    events: RefCell<Registry<Function>>,
    states: RefCell<Registry<Function>>,
    errors: RefCell<Registry<Function>>,
    docs: RefCell<Registry<Function>>,
    conflicts: RefCell<Registry<Function>>,
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

    /// Adds a subscription and returns its id.
    pub(crate) fn add(&self, kind: Kind, mode: Mode<'_>, callback: Function) -> SubId {
        let mut r = self.registry(kind).borrow_mut();
        match mode {
            Mode::Named(n) => r.subscribe(n, callback),
            Mode::Once(n) => r.once(n, callback),
            Mode::All => r.subscribe_all(callback),
        }
    }

    /// Ends one subscription; false if it had already ended.
    pub(crate) fn remove(&self, kind: Kind, id: SubId) -> bool {
        self.registry(kind).borrow_mut().unsubscribe(id)
    }

    /// `unsubscribe(name, cb)`: ends every subscription of `cb` to `name`;
    /// returns how many.
    pub(crate) fn remove_named(&self, name: &str, callback: &JsValue) -> usize {
        self.registry(Kind::Event).borrow_mut().unsubscribe_where(name, |f| JsValue::from(f) == *callback).len()
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
        let mut r = self.registry(kind).borrow_mut();
        let catch_all = r.is_catch_all(id);
        let (callback, _ended) = r.take_live(id)?;
        Some((callback, catch_all))
    }

    /// Live subscriptions of `kind`.
    pub(crate) fn len(&self, kind: Kind) -> usize {
        self.registry(kind).borrow().len()
    }

    /// JS callbacks and closures held, all kinds together.
    pub(crate) fn held(&self) -> usize {
        KINDS.iter().map(|k| self.registry(*k).borrow().len()).sum::<usize>()
    }

    /// Drops everything (the manager is ending).
    pub(crate) fn clear(&self) {
        let callbacks: Vec<Vec<Function>> = KINDS.iter().map(|k| self.registry(*k).borrow_mut().clear()).collect();
        drop(callbacks);
    }
}
