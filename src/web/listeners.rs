//! Who listens besides the event subscribers (those are in the JS event
//! hub, see `hub`): the `onStateChange`, `onError`, `subscribeState` and
//! `onConflict` listeners, each kind in the core's two-phase [`Registry`].
//! A subscription holds only its JS callback, which goes when the
//! subscription ends (its unsubscribe function or the manager ending), so
//! any number of subscribe/unsubscribe cycles leaves nothing behind.

use crate::core::{Registry, SubId};
use js_sys::Function;
use std::cell::RefCell;

/// Which list a subscription is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    /// `onStateChange`.
    State,
    /// `onError`.
    Error,
    /// `subscribeState(scope, cb)`, named by the scope.
    Doc,
    /// `onConflict(scope, fn)`, named by the scope.
    Conflict,
}

const KINDS: [Kind; 4] = [Kind::State, Kind::Error, Kind::Doc, Kind::Conflict];

impl Kind {
    /// Its number, to carry it through JS.
    pub(crate) fn index(self) -> u32 {
        match self {
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
    states: RefCell<Registry<Function>>,
    errors: RefCell<Registry<Function>>,
    docs: RefCell<Registry<Function>>,
    conflicts: RefCell<Registry<Function>>,
}

/// How a subscription is added.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mode<'a> {
    /// Everything about `name` (a scope).
    Named(&'a str),
    /// Every state change / error.
    All,
}

impl Listeners {
    fn registry(&self, kind: Kind) -> &RefCell<Registry<Function>> {
        match kind {
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
            Mode::All => r.subscribe_all(callback),
        }
    }

    /// Ends one subscription; false if it had already ended.
    pub(crate) fn remove(&self, kind: Kind, id: SubId) -> bool {
        self.registry(kind).borrow_mut().unsubscribe(id)
    }

    /// Phase one of dispatch: who should see an event named `name` now
    /// (for state and error listeners, pass any name).
    pub(crate) fn targets(&self, kind: Kind, name: &str) -> Vec<SubId> {
        self.registry(kind).borrow().targets(name)
    }

    /// Phase two: the callback of `id` if still subscribed.
    pub(crate) fn take_live(&self, kind: Kind, id: SubId) -> Option<Function> {
        self.registry(kind)
            .borrow_mut()
            .take_live(id)
            .map(|(callback, _ended)| callback)
    }

    /// JS callbacks and closures held, all kinds together.
    pub(crate) fn held(&self) -> usize {
        KINDS
            .iter()
            .map(|k| self.registry(*k).borrow().len())
            .sum::<usize>()
    }

    /// Drops everything (the manager is ending).
    pub(crate) fn clear(&self) {
        let callbacks: Vec<Vec<Function>> = KINDS
            .iter()
            .map(|k| self.registry(*k).borrow_mut().clear())
            .collect();
        drop(callbacks);
    }
}
