//! A subscriber registry: who listens to which name, in subscription order.
//! The browser shell keeps its `onStateChange`, `onError`, `subscribeState`
//! and `onConflict` listeners in one each; event subscribers (the roadmap's
//! `eventSubscribers`) follow the same rules in JS, next to the inbound fast
//! path (`src/web/event_hub.js`).
//!
//! Generic over the callback type so the core never touches JS: the browser
//! shell stores `js_sys::Function`s, native tests store closures or ids.
//! Dispatch is two-phase so callbacks can run with no borrow of the registry
//! held (they may subscribe, unsubscribe or emit re-entrantly):
//! [`Registry::targets`] snapshots who is subscribed when the event arrives,
//! then [`Registry::take_live`] is asked before each call, so a callback
//! removed by an earlier one in the same dispatch is not called.
//!
//! ```
//! use frinny_agent::core::Registry;
//! let mut r = Registry::new();
//! let a = r.subscribe("typing_status", "a");
//! r.subscribe_all("log");
//! let mut called = Vec::new();
//! for id in r.targets("typing_status") {
//!     if let Some((cb, _ended)) = r.take_live(id) { called.push(cb); }
//! }
//! assert_eq!(called, ["a", "log"]);
//! r.unsubscribe(a);
//! assert_eq!(r.len(), 1);
//! ```

use std::collections::HashMap;

/// A subscription handle, unique for the registry's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubId(u64);

impl SubId {
    /// The handle as a number (to carry it through JS; below 2^53 for any
    /// realistic number of subscriptions).
    pub fn to_raw(self) -> u64 {
        self.0
    }

    /// A handle from [`to_raw`](Self::to_raw). An unknown one simply
    /// matches no subscription.
    pub fn from_raw(raw: u64) -> Self {
        SubId(raw)
    }
}

#[derive(Debug)]
struct Entry<C> {
    /// `None` for catch-all subscriptions.
    name: Option<String>,
    callback: C,
    once: bool,
}

/// Event name → callbacks, plus catch-all callbacks that see every event.
#[derive(Debug)]
pub struct Registry<C> {
    entries: HashMap<SubId, Entry<C>>,
    by_name: HashMap<String, Vec<SubId>>,
    all: Vec<SubId>,
    next: u64,
}

impl<C> Default for Registry<C> {
    fn default() -> Self {
        Registry {
            entries: HashMap::new(),
            by_name: HashMap::new(),
            all: Vec::new(),
            next: 0,
        }
    }
}

impl<C: Clone> Registry<C> {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn add(&mut self, name: Option<&str>, callback: C, once: bool) -> SubId {
        let id = SubId(self.next);
        self.next += 1;
        match name {
            Some(n) => self.by_name.entry(n.to_owned()).or_default().push(id),
            None => self.all.push(id),
        }
        self.entries.insert(
            id,
            Entry {
                name: name.map(str::to_owned),
                callback,
                once,
            },
        );
        id
    }

    /// Calls `callback` for every `name` event until unsubscribed.
    pub fn subscribe(&mut self, name: &str, callback: C) -> SubId {
        self.add(Some(name), callback, false)
    }

    /// Calls `callback` for the next `name` event only.
    pub fn once(&mut self, name: &str, callback: C) -> SubId {
        self.add(Some(name), callback, true)
    }

    /// Calls `callback` for every event, whatever its name (event debugging).
    pub fn subscribe_all(&mut self, callback: C) -> SubId {
        self.add(None, callback, false)
    }

    /// Removes one subscription; false if it was already gone.
    pub fn unsubscribe(&mut self, id: SubId) -> bool {
        let Some(entry) = self.entries.remove(&id) else {
            return false;
        };
        match entry.name {
            Some(name) => {
                if let Some(ids) = self.by_name.get_mut(&name) {
                    ids.retain(|x| *x != id);
                    if ids.is_empty() {
                        // Keep the map from growing with names nobody listens to.
                        self.by_name.remove(&name);
                    }
                }
            }
            None => self.all.retain(|x| *x != id),
        }
        true
    }

    /// Removes every subscription to `name` whose callback `matches`
    /// (the JS `unsubscribe(name, cb)`); returns the ids that went, so the
    /// caller can release what it keeps per subscription.
    pub fn unsubscribe_where(&mut self, name: &str, matches: impl Fn(&C) -> bool) -> Vec<SubId> {
        let ids: Vec<SubId> = self
            .by_name
            .get(name)
            .map(|ids| {
                ids.iter()
                    .copied()
                    .filter(|id| self.entries.get(id).is_some_and(|e| matches(&e.callback)))
                    .collect()
            })
            .unwrap_or_default();
        ids.into_iter().filter(|id| self.unsubscribe(*id)).collect()
    }

    /// Who should see a `name` event now: its subscribers in order, then the
    /// catch-all ones. Call [`take_live`](Self::take_live) before each call.
    pub fn targets(&self, name: &str) -> Vec<SubId> {
        let mut ids = self.by_name.get(name).cloned().unwrap_or_default();
        ids.extend_from_slice(&self.all);
        ids
    }

    /// The callback of `id` if it is still subscribed, and whether the
    /// subscription ended with this call: a `once` subscription is removed
    /// as it is taken, so it fires exactly once.
    pub fn take_live(&mut self, id: SubId) -> Option<(C, bool)> {
        let entry = self.entries.get(&id)?;
        let callback = entry.callback.clone();
        let ended = entry.once;
        if ended {
            self.unsubscribe(id);
        }
        Some((callback, ended))
    }

    /// Number of live subscriptions.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if nobody is subscribed to anything.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Drops every subscription (the manager is ending), returning the
    /// callbacks so the shell can release them.
    pub fn clear(&mut self) -> Vec<C> {
        self.by_name.clear();
        self.all.clear();
        let mut entries: Vec<_> = self.entries.drain().collect();
        super::sort::sort_by_key(&mut entries, |(id, _)| *id);
        entries.into_iter().map(|(_, e)| e.callback).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fire(r: &mut Registry<&'static str>, name: &str) -> Vec<&'static str> {
        let mut out = Vec::new();
        for id in r.targets(name) {
            if let Some((cb, _)) = r.take_live(id) {
                out.push(cb);
            }
        }
        out
    }

    #[test]
    fn dispatch_is_in_subscription_order_then_catch_all() {
        let mut r = Registry::new();
        r.subscribe_all("all");
        r.subscribe("e", "a");
        r.subscribe("other", "x");
        r.subscribe("e", "b");
        assert_eq!(fire(&mut r, "e"), ["a", "b", "all"]);
        assert_eq!(fire(&mut r, "nobody"), ["all"]);
    }

    #[test]
    fn once_fires_once() {
        let mut r = Registry::new();
        let first = r.once("e", "first");
        assert_eq!(
            r.take_live(first),
            Some(("first", true)),
            "taking a once subscription ends it"
        );
        assert_eq!(r.take_live(first), None);
        r.once("e", "o");
        r.subscribe("e", "s");
        assert_eq!(fire(&mut r, "e"), ["o", "s"]);
        assert_eq!(fire(&mut r, "e"), ["s"]);
    }

    #[test]
    fn unsubscribe_during_dispatch_skips_the_removed() {
        let mut r = Registry::new();
        let _a = r.subscribe("e", "a");
        let b = r.subscribe("e", "b");
        let targets = r.targets("e");
        assert_eq!(r.take_live(targets[0]), Some(("a", false)));
        // "a"'s callback unsubscribes "b".
        assert!(r.unsubscribe(b));
        assert_eq!(r.take_live(targets[1]), None);
        assert!(!r.unsubscribe(b));
    }

    #[test]
    fn unsubscribe_where_removes_matching_callbacks_of_that_name() {
        let mut r = Registry::new();
        r.subscribe("e", "a");
        r.subscribe("e", "b");
        r.subscribe("e", "a");
        r.subscribe("f", "a");
        assert_eq!(r.unsubscribe_where("e", |c| *c == "a").len(), 2);
        assert_eq!(fire(&mut r, "e"), ["b"]);
        assert_eq!(fire(&mut r, "f"), ["a"]);
    }

    #[test]
    fn churn_leaves_nothing_behind() {
        let mut r = Registry::new();
        for i in 0..100_000u32 {
            let id = r.subscribe(&format!("event-{}", i % 97), "cb");
            assert!(r.unsubscribe(id));
        }
        assert!(r.is_empty());
        assert!(r.by_name.is_empty());
        assert!(r.all.is_empty());
    }

    #[test]
    fn clear_returns_every_callback() {
        let mut r = Registry::new();
        r.subscribe("e", "a");
        r.subscribe_all("b");
        assert_eq!(r.clear(), ["a", "b"]);
        assert!(r.is_empty());
    }
}
